import { assert, assertEquals } from "../testing/assert.ts";
import { progressDisplay } from "./progress_display.ts";

interface Sent {
  type: string;
  content: { data: Record<string, string>; transient: { display_id: string } };
}

Deno.test("progressDisplay() shows one display and updates it in place, the final state last", async () => {
  const sent: Sent[] = [];
  const progress = progressDisplay({
    broadcast: (type, content) => {
      sent.push({ type, content: content as unknown as Sent["content"] });
      return Promise.resolve();
    },
  }, { minIntervalMs: 10_000 });
  progress.log("sweep 'x': 1 model×dtype×device groups, 2 cells");
  progress.log("[############............] 50% · 1s elapsed · ETA 1s · FAILED a|q4: out of memory");
  progress.worker("perplexity 3/8\rperplexity 8/8\r");
  progress.log("[########################] 100% · 2s elapsed · ETA 0s · b|q4");
  await progress.close();
  // Throttled: the first line shows at once, the rest only in the final redraw.
  assertEquals(sent.map((s) => s.type), ["display_data", "update_display_data"]);
  const ids = new Set(sent.map((s) => s.content.transient.display_id));
  assertEquals(ids.size, 1, "one display id");
  const last = sent.at(-1)!.content.data["text/plain"]!;
  assert(last.startsWith("sweep 'x'") && last.includes("100%"), last);
  assert(!last.includes("50%"), "the progress line is replaced, not appended");
  assert(last.includes("failed: a|q4: out of memory"), "failures are kept");
  assert(!last.includes("worker:"), "the worker line is dropped once done");
  assert(sent.at(-1)!.content.data["text/html"]!.includes("color:#b00020"), "failures in red");
});

Deno.test("progressDisplay() shows a dtype the device cannot run as one grey line, paths shortened", async () => {
  const sent: Sent[] = [];
  const progress = progressDisplay({
    broadcast: (type, content) => {
      sent.push({ type, content: content as unknown as Sent["content"] });
      return Promise.resolve();
    },
  }, { minIntervalMs: 10_000 });
  progress.log("sweep 'default': 4 cells");
  for (const ctx of [128, 256]) {
    progress.log(
      `[######.....] 50% · 1s elapsed · ETA 1s · FAILED m|bf16|cpu|cache=on|ctx=${ctx}|b=1: ` +
        `cannot load m (bf16) on cpu: Cannot create session from '/home/u/repo/.cache/models/` +
        `import-m-0123/onnx/model_bf16.onnx' on cpu: Could not find an implementation for Mul(14)`,
    );
  }
  progress.log(
    "[####.] 75% · 2s elapsed · ETA 1s · FAILED m|q4|cpu|cache=on|ctx=128|b=1: " +
      "Cannot open '/home/u/repo/.cache/x/model_q4.onnx'",
  );
  await progress.close();
  const last = sent.at(-1)!.content.data;
  const text = last["text/plain"]!;
  assert(text.includes("bf16 on cpu: unsupported here (no kernels for this dtype), 2 cells"), text);
  assertEquals(text.match(/failed:/g)?.length, 1, "only the real failure is listed as failed");
  assert(
    text.includes("failed: m|q4|cpu|cache=on|ctx=128|b=1: Cannot open '…/model_q4.onnx'"),
    text,
  );
  assert(!text.includes("/home/u"), "no full paths");
  assert(!text.includes("Could not find"), "the unsupported cells' loader message is not shown");
  assert(last["text/html"]!.includes('<span style="color:#777">bf16 on cpu'), "grey");
});

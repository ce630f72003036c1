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

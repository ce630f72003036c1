import { assert, assertEquals } from "../testing/assert.ts";

const root = new URL("../../", import.meta.url).pathname;

async function doctor(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "lib/cli/doctor.ts", ...args],
    cwd: root,
    env: { HF_HUB_OFFLINE: "1", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

Deno.test("deno task doctor on this machine: cpu opens, exit code follows the fails", async () => {
  const r = await doctor("--json");
  const results = JSON.parse(r.stdout) as { name: string; status: string }[];
  assertEquals(results.find((x) => x.name === "execution provider: cpu")?.status, "pass");
  assertEquals(r.code, results.some((x) => x.status === "fail") ? 1 : 0);
});

Deno.test("deno task doctor --model PATH that does not exist fails as not found; no Dawn lines", async () => {
  const r = await doctor("--model", "/nonexistent/m", "--dtype", "fp32");
  assertEquals(r.code, 1, r.stderr);
  assert(
    /FAIL +model \/nonexistent\/m \(fp32\) +'\/nonexistent\/m' not found/.test(r.stdout),
    r.stdout,
  );
  const modelLines = r.stdout.slice(r.stdout.indexOf("FAIL  model")).split("\n").slice(0, 2);
  assert(!modelLines.join(" ").includes("downloaded"), r.stdout);
  // ORT's WebGPU provider (Dawn) prints native lines when probed; the doctor keeps them out.
  assert(!/BackendVk|Couldn't load Vulkan/.test(r.stderr + r.stdout), r.stderr);
});

Deno.test("deno task doctor --device cuda fails without the CUDA EP (exit 1), naming the check", async () => {
  const r = await doctor("--device", "cuda", "--model", "preset:tiny", "--dtype", "q4");
  const cudaReady = !r.stdout.includes("FAIL  execution provider: cuda");
  if (cudaReady) return; // the GPU image: nothing to fail here (the check itself is unit-tested)
  assertEquals(r.code, 1);
  assert(/model preset:tiny \(q4\)/.test(r.stdout));
});

Deno.test("deno task doctor rejects bad flags with one line naming the flag", async () => {
  for (
    const [args, flag] of [
      [["--device", "tpu"], "--device"],
      [["--model", "preset:tiny", "--dtype", "q3"], "--dtype"],
      [["--context", "-5"], "--context"],
      [["--dtype", "q4"], "--model"],
    ] as const
  ) {
    const r = await doctor(...args);
    assertEquals(r.code, 1, args.join(" "));
    assert(r.stderr.startsWith("error: ") && r.stderr.includes(flag), r.stderr);
    assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
});

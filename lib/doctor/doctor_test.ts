import { assert, assertEquals } from "../testing/assert.ts";
import { type CheckResult, doctorExitCode, formatDoctorTable } from "./check.ts";
import { runDoctor } from "./doctor.ts";
import { planRun } from "./plan.ts";
import { scriptedProbe } from "./_scripted_probe.ts";
import type { DoctorProbe } from "./probe.ts";
import type { RunPlan } from "./plan.ts";

async function check(
  name: string,
  overrides: Partial<DoctorProbe> = {},
  options: Parameters<typeof runDoctor>[1] = {},
): Promise<CheckResult> {
  const results = await runDoctor(scriptedProbe(overrides), options);
  const found = results.find((r) => r.name.startsWith(name));
  assert(found !== undefined, `no check named ${name}: ${results.map((r) => r.name).join(", ")}`);
  return found;
}

const plan = (over: Partial<RunPlan> = {}): RunPlan => ({
  ref: "preset:llama-3-8b",
  dtype: "fp16",
  modelBytes: 16e9,
  estimated: false,
  needsFiles: false,
  kvBytes: 0.27e9,
  context: 2048,
  note: null,
  ...over,
});

const gpu = (freeBytes: number) => () => ({
  available: true as const,
  name: "NVIDIA H200",
  driver: "570.1",
  totalBytes: 141e9,
  freeBytes,
});

Deno.test("doctor: deno version passes when pinned, warns otherwise", async () => {
  assertEquals((await check("deno")).status, "pass");
  const c = await check("deno", { denoVersion: () => "2.1.0" });
  assertEquals(c.status, "warn");
  assert(c.detail.includes("2.9.6"));
});

Deno.test("doctor: a pinned npm package that is not installed fails, naming it", async () => {
  assertEquals((await check("npm packages")).status, "pass");
  const c = await check("npm packages", { packageInstalled: (n) => n !== "onnxruntime-node" });
  assertEquals(c.status, "fail");
  assert(c.detail.includes("onnxruntime-node@1.30.0"));
});

Deno.test("doctor: an execution provider that does not open warns, and fails when the run asks for it", async () => {
  assertEquals((await check("execution provider: cpu")).status, "pass");
  assertEquals((await check("execution provider: cuda")).status, "warn");
  const asked = await check("execution provider: cuda", {}, { device: "cuda" });
  assertEquals(asked.status, "fail");
  assert(asked.detail.includes("not on this machine"));
  const cpuBroken = await check("execution provider: cpu", {
    executionProviderError: () => Promise.resolve("libonnxruntime.so: cannot open"),
  });
  assertEquals(cpuBroken.status, "fail");
});

Deno.test("doctor: GPU passes without one on cpu, fails without one on cuda, fails when VRAM is short", async () => {
  assertEquals((await check("GPU")).status, "pass");
  assertEquals((await check("GPU", {}, { device: "cuda" })).status, "fail");
  assertEquals((await check("GPU", {}, { device: "webgpu" })).status, "warn");
  assertEquals(
    (await check("GPU", { gpu: gpu(100e9) }, { device: "cuda", plan: plan() })).status,
    "pass",
  );
  const short = await check("GPU", { gpu: gpu(10e9) }, { device: "cuda", plan: plan() });
  assertEquals(short.status, "fail");
  assert(short.detail.includes("needs 16.27 GB"));
  assertEquals(
    (await check("GPU", { gpu: gpu(17e9) }, { device: "cuda", plan: plan() })).status,
    "warn",
  );
});

Deno.test("doctor: RAM counts weights + KV cache + overhead on the CPU", async () => {
  assertEquals((await check("RAM", {}, { plan: plan({ modelBytes: 1e9 }) })).status, "pass");
  const fail = await check("RAM", {}, { plan: plan({ modelBytes: 30e9 }) });
  assertEquals(fail.status, "fail");
  assert(fail.detail.includes("KV cache 0.27 GB at 2048 tokens"));
  assertEquals((await check("RAM", {}, { plan: plan({ modelBytes: 16e9 }) })).status, "warn");
  assertEquals((await check("RAM", { memory: () => null })).status, "warn");
});

Deno.test("doctor: disk fails when a model to build does not fit, warns under 2 GB", async () => {
  assertEquals((await check("disk")).status, "pass");
  const build = plan({ needsFiles: true, estimated: true, modelBytes: 30e9 });
  assertEquals((await check("disk", {}, { plan: build })).status, "fail");
  assertEquals((await check("disk", { diskFreeBytes: () => 1e9 })).status, "warn");
  assertEquals((await check("disk", { diskFreeBytes: () => null })).status, "warn");
});

Deno.test("doctor: governor, background load, WikiText and Hub each have a warning path", async () => {
  assertEquals((await check("CPU governor", { cpuGovernor: () => "powersave" })).status, "warn");
  assertEquals((await check("CPU governor", { cpuGovernor: () => null })).status, "pass");
  assertEquals(
    (await check("background load", { load: () => ({ load1: 1.5, cores: 2 }) })).status,
    "warn",
  );
  assertEquals((await check("background load")).status, "pass");
  assertEquals((await check("WikiText-2", { wikitextSource: () => null })).status, "warn");
  assertEquals((await check("WikiText-2")).status, "pass");
  const hub = await check("Hugging Face Hub", {
    hubReachable: () => Promise.resolve({ error: "dns error" }),
  });
  assertEquals(hub.status, "warn");
  assertEquals(
    (await check("Hugging Face Hub", { hubReachable: () => Promise.resolve("reachable" as const) }))
      .status,
    "pass",
  );
});

Deno.test("doctor: a local model without the dtype's file fails; a preset is estimated and passes", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/config.json`,
    JSON.stringify({
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      hidden_size: 64,
    }),
  );
  const missing = await check("model", {}, { plan: planRun(dir, "q4", { context: 128 }) });
  assertEquals(missing.status, "fail");
  assert(missing.detail.includes("model_q4.onnx is missing"));
  await Deno.mkdir(`${dir}/onnx`);
  await Deno.writeFile(`${dir}/onnx/model_q4.onnx`, new Uint8Array(1000));
  const p = planRun(dir, "q4", { context: 128 });
  assertEquals([p.modelBytes, p.kvBytes], [1000, 2 * 2 * 2 * 16 * 128 * 4]);
  assertEquals((await check("model", {}, { plan: p })).status, "pass");
  const preset = await check("model", {}, {
    plan: planRun("preset:tiny", "fp32", { context: 64, cacheDir: dir }),
  });
  assertEquals(preset.status, "pass");
  assert(preset.detail.includes("estimated"));
});

Deno.test("doctorExitCode() and formatDoctorTable() over a run with one failure", async () => {
  const results = await runDoctor(scriptedProbe(), { device: "cuda" });
  assertEquals(doctorExitCode(results), 1);
  const table = formatDoctorTable(results);
  assert(/^FAIL\s+execution provider: cuda/m.test(table));
  assert(/\d+ pass, \d+ warn, [1-9]\d* fail$/.test(table));
});

Deno.test("doctor: a Hugging Face checkpoint directory is sized from its shape, converted on first use", async () => {
  const root = new URL("../../models/wikitext-llama", import.meta.url).pathname;
  const plan = planRun(root, "q4", { context: 2048, cacheDir: "/nonexistent" });
  assert(plan.estimated && plan.needsFiles && plan.modelBytes! > 1e6, JSON.stringify(plan));
  assertEquals((await check("model", {}, { plan })).status, "pass");
});

Deno.test("doctor: a model path that does not exist, or a file, fails; only owner/name may be downloaded", async () => {
  const file = await Deno.makeTempFile();
  for (
    const [ref, says] of [
      ["/nonexistent/m", "not found"],
      ["./nonexistent-model", "not found"],
      ["a/b/c", "not found"],
      [file, "is a file"],
    ]
  ) {
    const r = await check("model", {}, { plan: planRun(ref!, "fp32", { context: 128 }) });
    assertEquals(r.status, "fail", ref);
    assert(r.detail.includes(says!) && !r.advice?.includes("downloaded"), r.detail);
  }
  const hub = await check("model", {}, { plan: planRun("owner/name", "fp32", { context: 128 }) });
  assertEquals(hub.status, "warn");
});

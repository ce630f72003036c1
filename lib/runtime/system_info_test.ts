import { assert, assertEquals } from "../testing/assert.ts";
import { gitCommit, systemInfo, TRANSFORMERS_VERSION } from "./system_info.ts";

Deno.test("systemInfo() reports versions, CPU and memory of this machine", async () => {
  const info = await systemInfo();
  assertEquals(info.deno, Deno.version.deno);
  assert(/^\d+\.\d+\.\d+/.test(info.onnxruntime), info.onnxruntime);
  assert(info.cpuCores >= 1);
  assert(info.totalMemoryBytes > 0);
  assert((info.gpu === null) !== (info.gpuReason === null), "either a GPU or a reason");
});

Deno.test("TRANSFORMERS_VERSION matches the pin in deno.json", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
  assertEquals(
    config.imports["@huggingface/transformers"],
    `npm:@huggingface/transformers@${TRANSFORMERS_VERSION}`,
  );
});

Deno.test("gitCommit() is 'unknown' outside a checkout", async () => {
  const dir = await Deno.makeTempDir();
  assertEquals(await gitCommit(dir), "unknown");
});

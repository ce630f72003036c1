import { join } from "node:path";
import { assert, assertEquals } from "../testing/assert.ts";
import { writeFixtureModel } from "../quantize/_test_graph.ts";
import { DEFAULT_ACCURACY_LEVEL } from "../quantize/quantize_model.ts";
import { quantizationLabel, readQuantizationMetadata } from "../quantize/quantization_metadata.ts";

const CLI = new URL("./quantize.ts", import.meta.url).pathname;

async function quantizeCli(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test("quantize CLI writes Hub-layout variants, one JSON line each, and refuses to overwrite", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(join(dir, "onnx"));
  await writeFixtureModel(join(dir, "onnx"));
  const ok = await quantizeCli(["--model", dir, "--dtypes", "q4,q8", "--keep-lm-head"]);
  assertEquals(ok.code, 0, ok.stderr);
  const lines = ok.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assertEquals(lines.map((l) => [l.dtype, l.matmulsRewritten]), [["q4", 3], ["q8", 3]]);
  assert((await Deno.stat(join(dir, "onnx", "model_quantized.onnx"))).isFile);
  const again = await quantizeCli(["--model", dir, "--dtypes", "q4"]);
  assertEquals(again.code, 1);
  assert(again.stderr.includes("already exists"), again.stderr);
  const bad = await quantizeCli(["--model", dir, "--dtypes", "q4", "--block-size", "0"]);
  assertEquals(bad.code, 1);
  assert(bad.stderr.includes("'--block-size' must be an integer >= 16, got \"0\""), bad.stderr);
  const forced = await quantizeCli([
    "--model",
    dir,
    "--dtypes",
    "q4",
    "--force",
    "--block-size",
    "64",
  ]);
  assertEquals(forced.code, 0, forced.stderr);
  const kind = await quantizeCli(["--model", dir, "--dtypes", "q8", "--int8-kind", "fast"]);
  assertEquals(kind.code, 1);
  assert(
    kind.stderr.includes("--int8-kind must be one of dynamic, nbits, got 'fast'"),
    kind.stderr,
  );
  const nbits = await quantizeCli([
    "--model",
    dir,
    "--dtypes",
    "q8",
    "--int8-kind",
    "nbits",
    "--force",
  ]);
  assertEquals(nbits.code, 0, nbits.stderr);
  const label = quantizationLabel(
    await readQuantizationMetadata(join(dir, "onnx", "model_quantized.onnx")),
  );
  assertEquals(label, `q8 nbits b32 acc${DEFAULT_ACCURACY_LEVEL}`);
});

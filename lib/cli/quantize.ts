/**
 * `deno task quantize --model DIR --dtypes q8,q4,q4f16 [--block-size 32] [--accuracy-level 4]
 * [--keep-lm-head] [--symmetric] [--force]` — writes quantised variants of `DIR/onnx/model.onnx` next to it
 * (Hub layout). One JSON line per variant on stdout; progress on stderr.
 *
 * @module
 */
import "./_quiet.ts"; // first: silences DEP0040 before any dependency loads
import { join } from "node:path";
import { parseDtypes } from "../dtypes.ts";
import { quantizeModel } from "../quantize/mod.ts";
import { intFlag, parseFlags, runCli } from "./_cli.ts";

const USAGE = "Usage: deno task quantize --model DIR --dtypes q8,q4,q4f16 [--block-size 32] " +
  "[--accuracy-level 0..4] [--keep-lm-head] [--symmetric] [--force]\n" +
  "Reads DIR/onnx/model.onnx (fp32) and writes model_fp16.onnx, model_quantized.onnx (q8), " +
  "model_q4.onnx, model_q4f16.onnx next to it.";

if (import.meta.main) {
  await runCli(async () => {
    const { values } = parseFlags(Deno.args, {
      model: { type: "string" },
      dtypes: { type: "string", default: "q8,q4,q4f16" },
      "block-size": { type: "string" },
      "accuracy-level": { type: "string" },
      "keep-lm-head": { type: "boolean", default: false },
      symmetric: { type: "boolean", default: false },
      force: { type: "boolean", default: false },
    });
    if (values.help) {
      console.log(USAGE);
      return;
    }
    if (!values.model) throw new TypeError("missing required flag --model (a Hub-layout folder)");
    const source = join(values.model, "onnx", "model.onnx");
    const dtypes = parseDtypes(values.dtypes, "--dtypes");
    const blockSize = intFlag(values["block-size"], "--block-size", { min: 16, fallback: 32 });
    if ((blockSize & (blockSize - 1)) !== 0) {
      throw new RangeError(`'--block-size' must be a power of two >= 16, got ${blockSize}`);
    }
    console.error(`quantizing ${source} → ${dtypes.join(", ")}`);
    const reports = await quantizeModel(source, dtypes, {
      blockSize,
      accuracyLevel: intFlag(values["accuracy-level"], "--accuracy-level", { min: 0, fallback: 0 }),
      keepLmHead: values["keep-lm-head"],
      symmetric: values.symmetric,
      force: values.force,
    });
    for (const r of reports) console.log(JSON.stringify(r));
  });
}

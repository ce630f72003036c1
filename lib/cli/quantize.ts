/**
 * `deno task quantize --model DIR --dtypes q8,q4,q4f16 [--block-size 32] [--accuracy-level 4]
 * [--int8-kind dynamic|nbits] [--keep-lm-head] [--symmetric] [--force]` — writes quantised variants of `DIR/onnx/model.onnx` next to it
 * (Hub layout). One JSON line per variant on stdout; progress on stderr.
 *
 * @module
 */
import "./_quiet.ts"; // first: silences DEP0040 before any dependency loads
import { join } from "node:path";
import { parseDtypes } from "../dtypes.ts";
import {
  DEFAULT_ACCURACY_LEVEL,
  DEFAULT_BLOCK_SIZE,
  DEFAULT_INT8_KIND,
  INT8_KINDS,
  type Int8Kind,
  quantizeModel,
} from "../quantize/mod.ts";
import { intFlag, parseFlags, runCli } from "./_cli.ts";

const USAGE = "Usage: deno task quantize --model DIR --dtypes q8,q4,q4f16 [--block-size 32] " +
  `[--accuracy-level 0..4 (default ${DEFAULT_ACCURACY_LEVEL})] ` +
  `[--int8-kind ${INT8_KINDS.join("|")} (default ${DEFAULT_INT8_KIND})] ` +
  "[--keep-lm-head] [--symmetric] [--force]\n" +
  "Reads DIR/onnx/model.onnx (fp32) and writes model_fp16.onnx, model_quantized.onnx (q8), " +
  "model_q4.onnx, model_q4f16.onnx next to it.";

if (import.meta.main) {
  await runCli(async () => {
    const { values } = parseFlags(Deno.args, {
      model: { type: "string" },
      dtypes: { type: "string", default: "q8,q4,q4f16" },
      "block-size": { type: "string" },
      "accuracy-level": { type: "string" },
      "int8-kind": { type: "string", default: DEFAULT_INT8_KIND },
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
    const int8Kind = values["int8-kind"];
    if (!(INT8_KINDS as readonly string[]).includes(int8Kind)) {
      throw new RangeError(
        `--int8-kind must be one of ${INT8_KINDS.join(", ")}, got '${int8Kind}'`,
      );
    }
    const blockSize = intFlag(values["block-size"], "--block-size", {
      min: 16,
      fallback: DEFAULT_BLOCK_SIZE,
    });
    if ((blockSize & (blockSize - 1)) !== 0) {
      throw new RangeError(`'--block-size' must be a power of two >= 16, got ${blockSize}`);
    }
    console.error(`quantizing ${source} → ${dtypes.join(", ")}`);
    const reports = await quantizeModel(source, dtypes, {
      blockSize,
      accuracyLevel: intFlag(values["accuracy-level"], "--accuracy-level", {
        min: 0,
        fallback: DEFAULT_ACCURACY_LEVEL,
      }),
      int8Kind: int8Kind as Int8Kind,
      keepLmHead: values["keep-lm-head"],
      symmetric: values.symmetric,
      force: values.force,
    });
    for (const r of reports) console.log(JSON.stringify(r));
  });
}

/**
 * `deno task gguf --model REF --output FILE.gguf` — converts a Llama model (a preset, a built
 * model folder or a Hugging Face checkpoint folder) to a float32 GGUF file that llama.cpp loads,
 * so its speed can be compared on the same weights. One JSON line on stdout; errors as one line.
 *
 * @module
 */
import "./_quiet.ts"; // first: silences DEP0040 before any dependency loads
import { resolveModel } from "../engine/resolve.ts";
import { convertToGguf } from "../llamacpp/convert.ts";
import { checkWritable, parseFlags, runCli } from "./_cli.ts";

const USAGE = `Usage: deno task gguf --model REF --output FILE.gguf

Writes the model's weights as a float32 GGUF file (architecture llama) for llama.cpp; quantise it
with llama.cpp's own llama-quantize (Q8_0, Q4_0).

  --model REF      preset:NAME[@SEED] (built on first use), a model folder with config.json,
                   model.safetensors and tokenizer.json (models/wikitext-llama), or a Hub id in
                   the local cache (required)
  --output FILE    the .gguf file to write (required)`;

if (import.meta.main) {
  await runCli(async () => {
    const { values } = parseFlags(Deno.args, {
      model: { type: "string" },
      output: { type: "string" },
    });
    if (values.help) {
      console.log(USAGE);
      return;
    }
    if (!values.model) throw new TypeError("missing required flag --model (preset:NAME or DIR)");
    if (!values.output) throw new TypeError("missing required flag --output (FILE.gguf)");
    await checkWritable(values.output, "--output");
    const dir = await modelFolder(values.model);
    console.error(`converting ${dir} → ${values.output}`);
    const result = convertToGguf(dir, values.output);
    console.log(JSON.stringify({ model: values.model, dir, ...result }));
  });
}

/** A folder to convert: an existing directory as is, else what the reference resolves to. */
async function modelFolder(ref: string): Promise<string> {
  const stat = await Deno.stat(ref).catch(() => null);
  if (stat?.isDirectory) return ref;
  if (!ref.startsWith("preset:") && !/^[\w.-]+\/[\w.-]+$/.test(ref)) {
    throw new Error(`'--model' ${ref} is neither a folder, preset:NAME nor a Hub id`);
  }
  // Presets are built with their fp32 ONNX model; only the safetensors beside it are read.
  return (await resolveModel(ref, { dtypes: ["fp32"] })).dir;
}

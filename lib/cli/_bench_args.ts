/**
 * `deno task bench`'s command line: its usage text and the validation of its flags into
 * {@linkcode BenchSettings}. Private to lib/cli (bench.ts).
 *
 * @module
 */
import { DEVICES, type Dtype, DTYPES, isDevice, isDtype } from "../dtypes.ts";
import { PROMPT_FAMILIES, type PromptFamily } from "../engine/prompts.ts";
import { telemetryIntervalFlag } from "./_bench_telemetry.ts";
import { boolFlag, intFlag, parseFlags } from "./_cli.ts";

/** The usage text `--help` prints. */
export const BENCH_USAGE =
  `Usage: deno task bench --model REF [--dtype fp32] [--device cpu] [--use-cache true]
  [--prompt-tokens 512] [--max-new-tokens 100] [--warmup 3] [--runs 10] [--batch 1]
  (aliases: --quantization for --dtype, --max-tokens for --max-new-tokens)
  [--family conversational] [--prompt TEXT [--chat true]] [--threads N] [--output out.json]
  [--telemetry-interval 100]  (ms; telemetry.csv goes beside --output, its summary into the JSON)

REF: a Hub id, a local directory in Hub layout, or preset:NAME[@seed].
dtypes: ${DTYPES.join(", ")}; devices: ${DEVICES.join(", ")}; families: ${
    PROMPT_FAMILIES.join(", ")
  }`;

const FLAGS = {
  model: { type: "string" },
  dtype: { type: "string" },
  quantization: { type: "string" },
  device: { type: "string", default: "cpu" },
  "use-cache": { type: "string" },
  "prompt-tokens": { type: "string" },
  "max-new-tokens": { type: "string" },
  "max-tokens": { type: "string" },
  warmup: { type: "string" },
  runs: { type: "string" },
  batch: { type: "string" },
  family: { type: "string", default: "conversational" },
  prompt: { type: "string" },
  chat: { type: "string" },
  threads: { type: "string" },
  output: { type: "string" },
  "telemetry-interval": { type: "string" },
} as const;

/** Validated command-line settings. */
export interface BenchSettings {
  model: string;
  dtype: Dtype;
  device: typeof DEVICES[number];
  useCache: boolean;
  promptTokens: number;
  maxNewTokens: number;
  warmup: number;
  runs: number;
  batch: number;
  family: PromptFamily;
  prompt: string | undefined;
  chat: boolean;
  threads: number;
  output: string | undefined;
  telemetryIntervalMs: number;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * Validates `deno task bench`'s arguments.
 *
 * @param args The command-line arguments.
 * @returns The settings, or null for `--help`.
 * @throws {TypeError | RangeError} one line naming the flag and what is wrong.
 */
export function benchSettings(args: readonly string[]): BenchSettings | null {
  const { values } = parseFlags(args, FLAGS);
  if (values.help) return null;
  if (values.model === undefined) throw new TypeError("missing required flag --model");
  if (isFile(values.model)) {
    throw new TypeError(
      `'--model' ${values.model} is a file, not a model directory (give the folder holding config.json)`,
    );
  }
  const dtype = alias(values.dtype, "--dtype", values.quantization, "--quantization") ?? "fp32";
  if (!isDtype(dtype)) {
    throw new RangeError(`'--dtype' is unknown: '${dtype}' (known: ${DTYPES.join(", ")})`);
  }
  const maxNewTokens = alias(
    values["max-new-tokens"],
    "--max-new-tokens",
    values["max-tokens"],
    "--max-tokens",
  );
  if (!isDevice(values.device)) {
    throw new RangeError(
      `'--device' is unknown: '${values.device}' (known: ${DEVICES.join(", ")})`,
    );
  }
  const families = [...new Set(values.family.split(",").map((f) => f.trim()))];
  for (const f of families) {
    if (!(PROMPT_FAMILIES as readonly string[]).includes(f)) {
      throw new RangeError(`'--family' is unknown: '${f}' (known: ${PROMPT_FAMILIES.join(", ")})`);
    }
  }
  if (families.length > 1) {
    throw new RangeError(
      `'--family': the prompts of one batch must share one family, got ${families.join(", ")}`,
    );
  }
  return {
    model: values.model,
    dtype,
    device: values.device,
    useCache: boolFlag(values["use-cache"], "--use-cache", true),
    promptTokens: intFlag(values["prompt-tokens"], "--prompt-tokens", { min: 1, fallback: 512 }),
    maxNewTokens: intFlag(maxNewTokens, "--max-new-tokens", { min: 1, fallback: 100 }),
    warmup: intFlag(values.warmup, "--warmup", { min: 0, fallback: 3 }),
    runs: intFlag(values.runs, "--runs", { min: 1, fallback: 10 }),
    batch: intFlag(values.batch, "--batch", { min: 1, fallback: 1 }),
    family: families[0] as PromptFamily,
    prompt: values.prompt,
    chat: chatFlag(values.chat, values.prompt),
    threads: intFlag(values.threads, "--threads", { min: 0, fallback: 0 }),
    output: values.output,
    telemetryIntervalMs: telemetryIntervalFlag(values["telemetry-interval"]),
  };
}

/** A flag and its alias (the neighbouring tools' name): at most one of them. */
function alias(
  value: string | undefined,
  flag: string,
  other: string | undefined,
  otherFlag: string,
): string | undefined {
  if (value !== undefined && other !== undefined) {
    throw new TypeError(`'${flag}' and its alias '${otherFlag}' are both given; keep one`);
  }
  return value ?? other;
}

function chatFlag(value: string | undefined, prompt: string | undefined): boolean {
  const chat = boolFlag(value, "--chat", false);
  if (chat && prompt === undefined) {
    throw new RangeError(
      "'--chat true' applies the chat template to --prompt TEXT, which is missing",
    );
  }
  return chat;
}

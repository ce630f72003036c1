/**
 * `deno task ppl --model REF [--dtypes fp32,fp16,q8,q4] [--device cpu] [--wikitext PATH]
 * [--split test|validation] [--window N] [--stride N] [--max-tokens N] [--method hf|llama-cpp]
 * [--batch N] [--baseline DTYPE] [--pairwise] [--output ppl.json]` — perplexity on WikiText-2 and the quality
 * of each dtype against a baseline. Progress on stderr; a table on stdout, and the JSON report
 * written to `--output` (or printed on stdout without it).
 *
 * @module
 */
import "./_quiet.ts"; // first: silences DEP0040 before any dependency loads
import { isDevice, parseDtypes } from "../dtypes.ts";
import {
  evaluatePerplexity,
  isPerplexityMethod,
  isWikitextSplit,
  PERPLEXITY_METHODS,
  type PerplexityReport,
  WIKITEXT_SPLITS,
} from "../eval/mod.ts";
import { checkWritable, intFlag, parseFlags, runCli, writeTextAtomic } from "./_cli.ts";

const HELP = `Usage: deno task ppl --model REF [options]

Perplexity of a model on WikiText-2 in several dtypes, and each dtype's quality against a
baseline (fp32, else fp16): ΔPPL %, mean KL(base ‖ dtype), top-1 agreement %.

  --model REF          Hub id, local directory in Hub layout, or preset:NAME (required)
  --dtypes LIST        comma-separated dtypes (default fp32,fp16,q8,q4)
  --device NAME        cpu | cuda | webgpu (default cpu)
  --wikitext PATH      WikiText .txt (used as is) or .parquet (column text); default
                       WIKITEXT_PATH, else the Hub's Salesforce/wikitext parquet
  --split NAME         ${
  WIKITEXT_SPLITS.join(" | ")
} (default test: vendored in data/; validation from the Hub)
  --window N           tokens per window (default min(model max positions, 1024))
  --stride N           step between windows, hf only (default window/2)
  --max-tokens N       keep the first N tokens of the text
  --method NAME        ${PERPLEXITY_METHODS.join(" | ")} (default hf)
  --batch N            windows per forward call (default 1)
  --baseline DTYPE     dtype the others are compared with (default fp32, else fp16)
  --threads N          intra-op threads per session (default 0: ONNX Runtime's choice)
  --pairwise           hold two models at once (the baseline and one other dtype) instead of all
                       of them; the baseline then runs once per other dtype
  --output PATH        write the JSON report there (default: print it on stdout)`;

if (import.meta.main) {
  await runCli(async () => {
    const { values } = parseFlags(Deno.args, {
      model: { type: "string" },
      dtypes: { type: "string", default: "fp32,fp16,q8,q4" },
      device: { type: "string", default: "cpu" },
      wikitext: { type: "string" },
      split: { type: "string", default: "test" },
      window: { type: "string" },
      stride: { type: "string" },
      "max-tokens": { type: "string" },
      method: { type: "string", default: "hf" },
      batch: { type: "string" },
      baseline: { type: "string" },
      threads: { type: "string" },
      pairwise: { type: "boolean", default: false },
      output: { type: "string" },
    });
    if (values.help) {
      console.log(HELP);
      return;
    }
    if (values.model === undefined) throw new TypeError("missing required flag --model");
    const { device, split, method } = values;
    if (!isDevice(device!)) {
      throw new RangeError(`'--device' must be cpu, cuda or webgpu, got ${JSON.stringify(device)}`);
    }
    if (!isWikitextSplit(split!)) {
      throw new RangeError(
        `'--split' must be one of ${WIKITEXT_SPLITS.join(", ")}, got ${JSON.stringify(split)}`,
      );
    }
    if (!isPerplexityMethod(method!)) {
      throw new RangeError(
        `'--method' must be one of ${PERPLEXITY_METHODS.join(", ")}, got ${JSON.stringify(method)}`,
      );
    }
    const baseline = values.baseline === undefined
      ? undefined
      : parseDtypes(values.baseline, "--baseline")[0]!;
    const optional = (flag: string, value: string | undefined, min: number) =>
      value === undefined ? undefined : intFlag(value, flag, { min });
    const window = optional("--window", values.window, 2);
    const stride = optional("--stride", values.stride, 1);
    const maxTokens = optional("--max-tokens", values["max-tokens"], 2);
    // Before any model loads: an unwritable --output or a binary --wikitext fails at once.
    if (values.output !== undefined) await checkWritable(values.output, "--output");
    if (values.wikitext !== undefined) await checkWikitextFile(values.wikitext);
    const report = await evaluatePerplexity({
      model: values.model,
      dtypes: parseDtypes(values.dtypes!, "--dtypes"),
      device,
      split,
      method,
      batch: intFlag(values.batch, "--batch", { min: 1, fallback: 1 }),
      threads: intFlag(values.threads, "--threads", { min: 0, fallback: 0 }),
      pairwise: values.pairwise!,
      maxTokens: maxTokens ?? null,
      ...(values.wikitext === undefined ? {} : { wikitextPath: values.wikitext }),
      ...(window === undefined ? {} : { window }),
      ...(stride === undefined ? {} : { stride }),
      ...(baseline === undefined ? {} : { baseline }),
      onProgress: (line) => Deno.stderr.writeSync(new TextEncoder().encode(line)),
    });
    const json = JSON.stringify(report, null, 2) + "\n";
    if (values.output === undefined) {
      console.log(json);
    } else {
      await writeTextAtomic(values.output, json);
      console.log(formatTable(report));
      console.log(`wrote ${values.output}`);
    }
    return report.results.some((r) => r.status !== "ok") ? 1 : 0;
  });
}

/** `--wikitext` must be an existing `.parquet` file or UTF-8 text without NUL bytes. */
async function checkWikitextFile(path: string): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "does not exist"
      : (error as Error).message.split("\n")[0];
    throw new Error(`'--wikitext' ${path} ${reason}`);
  }
  if (path.endsWith(".parquet")) return;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new SyntaxError(`'--wikitext' ${path} is not UTF-8 text (a binary file?)`);
  }
  if (text.includes("\0")) {
    throw new SyntaxError(`'--wikitext' ${path} is not text: it contains NUL bytes`);
  }
  if (text.trim() === "") throw new SyntaxError(`'--wikitext' ${path} is empty`);
}

/** A plain-text table of a report, one line per dtype. */
function formatTable(report: PerplexityReport): string {
  const num = (v: number | null, digits: number) => (v === null ? "—" : v.toFixed(digits));
  const header =
    `${report.model} · ${report.method} · window ${report.window} · stride ${report.stride} · ` +
    `${report.text_tokens} tokens · baseline ${report.baseline}`;
  const lines = report.results.map((r) =>
    r.status !== "ok" ? `${r.dtype.padEnd(6)} error: ${r.error}` : [
      r.dtype.padEnd(6),
      `ppl ${num(r.ppl, 3)} ± ${num(r.stderr, 3)}`,
      `bpb ${num(r.bits_per_byte, 4)}`,
      `Δppl ${num(r.delta_ppl_pct, 2)} %`,
      `KL ${num(r.kl, 5)}`,
      `top-1 ${num(r.top1_agreement, 2)} %`,
      `${num(r.tokens_per_s, 1)} tok/s`,
      r.execution_provider,
    ].join("  ")
  );
  return [header, ...lines].join("\n");
}

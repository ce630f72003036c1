/**
 * The perplexity evaluation of one model in several dtypes: resolve the model, load the text,
 * tokenise it once, load one decoder per dtype, score them all on the same windows against a
 * baseline dtype (`compareQuality`), and report the result in the shape of `ppl.json`.
 *
 * The baseline is fp32 when the model has it (or it is asked for), else fp16, else the first
 * dtype asked for; it is evaluated even when not asked for. A dtype that fails to resolve, load
 * or run becomes a result with `status: "error"`; the others go on. All decoders are loaded at
 * once (the baseline's logits stay while each other dtype runs on the same windows), or with
 * `pairwise` two at a time: the baseline and one other dtype.
 *
 * @module
 */
import { type Device, type Dtype, isDtype } from "../dtypes.ts";
import { type DecoderModel, loadDecoder, resolveModel } from "../engine/mod.ts";
import { progressLine } from "../measure/progress.ts";
import type { Logits, WindowLogits } from "./logits.ts";
import { compareQuality, type QualityResult } from "./quality.ts";
import { effectiveStride, type PerplexityMethod, planWindows } from "./windows.ts";
import { loadWikitext, type WikitextSplit } from "./wikitext.ts";
import { tokenizePrefix } from "./_tokenize.ts";

/** Options of {@linkcode evaluatePerplexity}. */
export interface EvaluatePerplexityOptions {
  /** Model reference (Hub id, local directory, `preset:NAME`). */
  model: string;
  /** Dtypes to evaluate. */
  dtypes: readonly Dtype[];
  /** Device. @default "cpu" */
  device?: Device;
  /** The text; when absent, WikiText-2 from `wikitextPath`, WIKITEXT_PATH or the Hub. @default none */
  text?: string;
  /**
   * A WikiText `.txt` / `.parquet` file; `null` for none (WIKITEXT_PATH is then not read: the
   * vendored test split, else the Hub). @default WIKITEXT_PATH, else the vendored test split, else
   * the Hub
   */
  wikitextPath?: string | null;
  /** Never download the WikiText text. @default HF_HUB_OFFLINE=1 */
  offline?: boolean;
  /** Cache directory for the WikiText download. @default the engine's Hub cache */
  wikitextCacheDir?: string;
  /** WikiText split fetched from the Hub. @default "test" */
  split?: WikitextSplit;
  /** Window in tokens. @default min(model max positions, 1024) */
  window?: number;
  /** Stride in tokens (`hf`). @default window / 2 */
  stride?: number;
  /** Keep only the first N tokens. @default null (the whole text) */
  maxTokens?: number | null;
  /** `hf` or `llama-cpp`. @default "hf" */
  method?: PerplexityMethod;
  /** Windows per forward call. @default 1 */
  batch?: number;
  /** Dtype the others are compared with. @default fp32, else fp16, else the first dtype */
  baseline?: Dtype;
  /**
   * Hold at most two models at once: the baseline stays loaded and each other dtype is loaded,
   * compared with it on every window and released in turn (the baseline runs once per other
   * dtype; its own result comes from the first pass). For models whose dtypes do not all fit in
   * memory together. @default false (all dtypes loaded at once, the baseline runs once)
   */
  pairwise?: boolean;
  /** Intra-op threads per session (0 = ONNX Runtime's default). @default 0 */
  threads?: number;
  /** Progress lines (a bar with ETA); `\r`-terminated while running. @default none */
  onProgress?: (line: string) => void;
}

/** One dtype's result, as `ppl.json` lists it. */
export interface PerplexityReportResult {
  /** Weight dtype. */
  dtype: string;
  /** exp(mean NLL), or null on error. */
  ppl: number | null;
  /** Tokens whose NLL was summed. */
  scored_tokens: number | null;
  /** Standard error of the PPL (llama-perplexity's). */
  stderr: number | null;
  /** Σ NLL / ln 2 / UTF-8 bytes of the scored text. */
  bits_per_byte: number | null;
  /** (ppl / baseline ppl − 1) × 100. */
  delta_ppl_pct: number | null;
  /** Mean KL(baseline ‖ dtype), nats. */
  kl: number | null;
  /** Positions whose arg-max agrees with the baseline's, percent. */
  top1_agreement: number | null;
  /** Seconds in forward calls and scoring. */
  seconds: number | null;
  /** scored_tokens / seconds. */
  tokens_per_s: number | null;
  /** Execution provider that ran, or empty when none did. */
  execution_provider: string;
  /** `ok` or `error`. */
  status: "ok" | "error";
  /** The reason when status is `error`, else empty. */
  error: string;
}

/** The content of `ppl.json`. */
export interface PerplexityReport {
  /** Model reference. */
  model: string;
  /** `hf` or `llama-cpp`. */
  method: PerplexityMethod;
  /** Window in tokens. */
  window: number;
  /** Stride in tokens. */
  stride: number;
  /** Token cap, or null. */
  max_tokens: number | null;
  /** The baseline dtype. */
  baseline: string;
  /** RFC 3339 start time. */
  started_at: string;
  /** Device asked for. */
  device: Device;
  /** Tokens of the (capped) text. */
  text_tokens: number;
  /** One entry per dtype, the baseline first. */
  results: PerplexityReportResult[];
}

/**
 * Evaluates the perplexity of a model in several dtypes and their quality against a baseline.
 *
 * @param options Model, dtypes, device, text, window plan.
 * @returns The `ppl.json` report.
 * @throws {RangeError} for a bad window plan or a text shorter than one window; the model's or the
 * text's loading errors. Per-dtype failures do not throw: they become `status: "error"` results.
 * @example
 * ```ts ignore
 * import { evaluatePerplexity } from "./perplexity_report.ts";
 * const report = await evaluatePerplexity({
 *   model: "preset:tiny", dtypes: ["fp32", "q4"], maxTokens: 2000, window: 256,
 * });
 * console.log(report.results.map((r) => `${r.dtype} ${r.ppl}`));
 * ```
 */
export async function evaluatePerplexity(
  options: EvaluatePerplexityOptions,
): Promise<PerplexityReport> {
  const startedAt = new Date().toISOString();
  const device = options.device ?? "cpu";
  const method = options.method ?? "hf";
  for (const dtype of options.dtypes) {
    if (!isDtype(dtype)) throw new RangeError(`'dtypes' has unknown dtype '${dtype}'`);
  }
  if (options.dtypes.length === 0) throw new RangeError("'dtypes' must name at least one dtype");
  const maxTokens = options.maxTokens ?? null;
  if (maxTokens !== null && (!Number.isInteger(maxTokens) || maxTokens < 2)) {
    throw new RangeError(`'maxTokens' must be an integer >= 2, got ${maxTokens}`);
  }
  const resolved = await resolveModel(options.model);
  const { config, tokenizer } = resolved;
  const window = options.window ?? Math.min(config.maxPositions, 1024);
  const plan = {
    window,
    method,
    maxPositions: config.maxPositions,
    ...(options.stride === undefined ? {} : { stride: options.stride }),
  };
  const stride = effectiveStride(plan);
  const text = options.text ??
    await loadWikitext({
      ...(options.wikitextPath === undefined ? {} : { path: options.wikitextPath }),
      ...(options.split === undefined ? {} : { split: options.split }),
      ...(options.offline === undefined ? {} : { offline: options.offline }),
      ...(options.wikitextCacheDir === undefined ? {} : { cacheDir: options.wikitextCacheDir }),
    });
  const tokens = tokenizePrefix((t) => tokenizer.encode(t), text, maxTokens);
  // Reject a bad plan (window, stride, text length) before loading any model.
  planWindows(tokens.length, plan);
  const baseline = options.baseline ?? pickBaseline(options.dtypes, resolved.availableDtypes);
  const order = [baseline, ...options.dtypes.filter((d) => d !== baseline)];

  const groups: Dtype[][] = options.pairwise && order.length > 1
    ? order.slice(1).map((dtype) => [baseline, dtype])
    : [order];
  const failures = new Map<Dtype, string>();
  const models = new Map<Dtype, DecoderModel>();
  const providers = new Map<Dtype, string>();
  const outcomes = new Map<string, QualityResult>();
  const load = async (dtype: Dtype) => {
    if (models.has(dtype) || failures.has(dtype)) return;
    try {
      const forDtype = await resolveModel(options.model, { dtypes: [dtype] });
      const model = await loadDecoder(forDtype, { dtype, device, threads: options.threads ?? 0 });
      models.set(dtype, model);
      providers.set(dtype, model.executionProvider);
    } catch (error) {
      failures.set(dtype, oneLine(error));
    }
  };
  try {
    for (const [g, group] of groups.entries()) {
      for (const dtype of group) await load(dtype);
      if (group.some((dtype) => models.has(dtype))) {
        const scorers: Record<string, WindowLogits> = {};
        for (const dtype of group) {
          const model = models.get(dtype);
          scorers[dtype] = model ? scorerOf(model) : failing(failures.get(dtype));
        }
        const label = `${group.join(" vs ")}${
          groups.length > 1 ? ` (${g + 1}/${groups.length})` : ""
        }`;
        const started = performance.now();
        const onProgress = options.onProgress;
        const quality = await compareQuality(scorers, tokens, {
          ...plan,
          batch: options.batch ?? 1,
          ...(method === "llama-cpp" && config.bosTokenId !== null &&
              tokens[0] === config.bosTokenId
            ? { bosTokenId: config.bosTokenId }
            : {}),
          decode: (ids) => tokenizer.decode(ids, { skip_special_tokens: true }),
          baseline,
          ...(onProgress
            ? {
              onProgress: (done: number, total: number) =>
                onProgress(
                  `${
                    progressLine(done, total, (performance.now() - started) / 1000, label)
                  } ${done}/${total} windows${done === total ? "\n" : "\r"}`,
                ),
            }
            : {}),
        });
        for (const q of quality) if (!outcomes.has(q.name)) outcomes.set(q.name, q);
      }
      if (options.pairwise) {
        for (const dtype of group.slice(1)) {
          await models.get(dtype)?.dispose();
          models.delete(dtype);
        }
      }
    }
    const results = order.map((dtype): PerplexityReportResult => {
      const q = outcomes.get(dtype);
      const error = failures.get(dtype) ?? (q?.error ? oneLine(q.error) : undefined);
      const r = q?.result ?? null;
      return {
        dtype,
        ppl: r?.ppl ?? null,
        scored_tokens: r?.scoredTokens ?? null,
        stderr: r?.stderr ?? null,
        bits_per_byte: r?.bitsPerByte ?? null,
        delta_ppl_pct: q?.deltaPplPct ?? null,
        kl: q?.kl ?? null,
        top1_agreement: q?.top1Agreement ?? null,
        seconds: r?.seconds ?? null,
        tokens_per_s: r?.tokensPerS ?? null,
        execution_provider: providers.get(dtype) ?? "",
        status: error === undefined && r !== null ? "ok" : "error",
        error: error ?? (r === null ? "not evaluated" : ""),
      };
    });
    return {
      model: options.model,
      method,
      window,
      stride,
      max_tokens: maxTokens,
      baseline,
      started_at: startedAt,
      device,
      text_tokens: tokens.length,
      results,
    };
  } finally {
    for (const model of models.values()) await model.dispose();
  }
}

/** fp32 when present, else fp16, else the first dtype asked for. */
function pickBaseline(wanted: readonly Dtype[], available: readonly Dtype[]): Dtype {
  for (const dtype of ["fp32", "fp16"] as const) {
    if (wanted.includes(dtype) || available.includes(dtype)) return dtype;
  }
  return wanted[0]!;
}

/** The decoder as a scorer: its logits for a batch of windows (empty past). */
function scorerOf(model: DecoderModel): WindowLogits {
  return async (rows) => {
    const logits = await model.forward(rows);
    return { data: logits.data, dims: logits.dims } as Logits;
  };
}

/** A scorer that fails with the load error (keeps the baseline slot when its load failed). */
function failing(reason: string | undefined): WindowLogits {
  return () => Promise.reject(new Error(reason ?? "baseline not loaded"));
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
}

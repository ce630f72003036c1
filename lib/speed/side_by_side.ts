/**
 * The same model at several speed settings, measured side by side in one process: every setting
 * is loaded once, then each round runs one greedy generation per setting in turn (the order
 * rotating every round; the same round loop as the sweep's blocks, lib/measure/rounds.ts), so
 * load from other processes hits all settings alike and the result is a ratio to the first
 * setting. The ratio is the sweep's paired comparison (lib/analysis/compare.ts): the geometric
 * mean of the per-round ratios of decode rates, with a t interval over rounds (Bonferroni over
 * the settings compared with the first) and a verdict. Decode tokens/s = (new tokens − 1) /
 * decode time (tokens 2..N), as everywhere; a generation without a decode step has no rate and
 * its round drops out of that setting's comparison.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { loadDecoder } from "../engine/decoder.ts";
import { generate } from "../engine/generate.ts";
import { promptIds } from "../engine/prompts.ts";
import { resolveModel } from "../engine/resolve.ts";
import { summarize } from "../measure/stats.ts";
import { runRounds } from "../measure/rounds.ts";
import { pooledRate, type RepRow } from "../analysis/cell.ts";
import { compare, type Comparison } from "../analysis/compare.ts";
import { quantizeModel, variantPath } from "../quantize/quantize_model.ts";
import { quantizationLabel, readQuantizationMetadata } from "../quantize/quantization_metadata.ts";
import { type SpeedSetting, variantKey } from "./setting.ts";
import { exists } from "../_fs.ts";
import { existsSync } from "node:fs";
import { DEFAULT_ATTENTION } from "../model/build.ts";
import { importCheckpoint } from "../model/import/import_checkpoint.ts";

/** Options of {@linkcode runSideBySide}. */
export interface SideBySideOptions {
  /** Prompt length in tokens. @default 128 */
  contextTokens?: number;
  /** New tokens per generation (decode speed covers tokens 2..N). @default 32 */
  newTokens?: number;
  /** Measured rounds. @default 5 */
  rounds?: number;
  /** Unrecorded rounds first. @default 1 */
  warmup?: number;
  /** Where variant folders are cached. @default `<repo>/.cache/speed` */
  cacheDir?: string;
  /** Progress lines. */
  onProgress?: (line: string) => void;
}

/** One setting's result. */
export interface SideBySideRow {
  /** The setting as written. */
  setting: string;
  /** What the ONNX file says it was quantised with (`q4 b32 acc4`; `""` for float). */
  quantization: string;
  /** Session threading. */
  tuning: string;
  /** Median over the measured rounds of the round's decode tokens/s (NaN when none decoded). */
  decodeTokensPerSMedian: number;
  /** Mean of the same (NaN when none decoded). */
  decodeTokensPerSMean: number;
  /** Decode tokens/s of every measured round, raw; null for a round without a decode step. */
  decodeTokensPerS: (number | null)[];
  /**
   * This ÷ the first setting: the geometric mean of the per-round ratios (1 for the first
   * setting itself; null when the two share no round with a decode step).
   */
  ratioToFirst: number | null;
  /**
   * The paired comparison with the first setting (lib/analysis `compare`: ratio, 95 % interval
   * Bonferroni-corrected over the settings compared, rounds, verdict); null for the first.
   */
  comparison: Comparison | null;
  /** Whether its tokens equal the first setting's in the first round. */
  sameTokensAsFirst: boolean;
}

/**
 * Builds (once, cached) the ONNX variant a setting needs next to a copy-free view of the model:
 * `<cacheDir>/<model>/<variantKey>/` holds symlinks to the model's config, tokenizer and fp32
 * ONNX, and the quantised file written by `quantizeModel` with the setting's options. A `fused`
 * setting instead rebuilds the fp32 graph with fused norms from the model's safetensors (a
 * converted checkpoint's source folder; same weights, same attention kind) into that folder,
 * then quantises it the same way.
 *
 * @param modelDir A Hub-layout folder with `onnx/model.onnx` (fp32).
 * @param setting The setting.
 * @param cacheDir Cache root.
 * @returns The folder to resolve (the model itself for fp32).
 * @example
 * ```ts ignore
 * const dir = await prepareVariant(".cache/models/small-s42", parseSpeedSetting("q4:acc4"), ".cache/speed");
 * ```
 */
export async function prepareVariant(
  modelDir: string,
  setting: SpeedSetting,
  cacheDir: string,
): Promise<string> {
  if (setting.dtype === "fp32" && !setting.fusedNorms) return modelDir;
  const dir = join(cacheDir, basename(modelDir), variantKey(setting));
  const source = join(dir, "onnx", "model.onnx");
  const dtype = setting.dtype;
  const target = dtype === "fp32" ? source : variantPath(source, dtype);
  // Reused unless the model was rebuilt since (its fp32 graph is newer) or the variant was written
  // before MatMulNBits packing existed (or with the other choice).
  if (await exists(target)) {
    const built = (await Deno.stat(join(modelDir, "onnx", "model.onnx"))).mtime?.getTime() ?? 0;
    const written = (await Deno.stat(target)).mtime?.getTime() ?? 0;
    const meta = dtype === "fp32" ? null : await readQuantizationMetadata(target);
    const packingAsAsked = meta === null || meta.block_size === null ||
      (meta.packed === true) === !setting.unpacked;
    if (written >= built && packingAsAsked) return dir;
  }
  if (setting.fusedNorms) {
    const config = JSON.parse(await Deno.readTextFile(join(modelDir, "config.json")));
    // A built preset keeps its safetensors; a converted checkpoint records where it came from.
    const weights = ["model.safetensors", "model.safetensors.index.json"];
    const from = weights.some((f) => existsSync(join(modelDir, f)))
      ? modelDir
      : config.turbo_inference?.source;
    if (typeof from !== "string") {
      throw new RangeError(
        `--settings: '${setting.name}' needs the model's safetensors, and '${modelDir}' has none`,
      );
    }
    await importCheckpoint({
      from,
      outDir: dir,
      norms: "fused",
      attention: config.turbo_inference?.attention ?? DEFAULT_ATTENTION,
      force: true,
    });
    if (dtype === "fp32") return dir;
  } else {
    await Deno.mkdir(join(dir, "onnx"), { recursive: true });
    for (const entry of Deno.readDirSync(modelDir)) {
      if (entry.isFile && /\.json$/.test(entry.name)) await link(join(modelDir, entry.name), dir);
    }
    for (const entry of Deno.readDirSync(join(modelDir, "onnx"))) {
      if (/^model\.onnx(_data.*)?$/.test(entry.name)) {
        await link(join(modelDir, "onnx", entry.name), join(dir, "onnx"));
      }
    }
  }
  await quantizeModel(source, [dtype], {
    accuracyLevel: setting.accuracyLevel,
    blockSize: setting.blockSize,
    int8Kind: setting.int8Kind,
    symmetric: setting.symmetric,
    packMatMuls: !setting.unpacked,
    force: true,
  });
  return dir;
}

/**
 * Loads the model at every setting and measures them in interleaved rounds.
 *
 * @param modelDir A Hub-layout folder with `onnx/model.onnx` (fp32).
 * @param settings The settings; the first is the baseline of the ratios.
 * @param options Context, tokens, rounds.
 * @returns One row per setting, in order.
 * @throws {RangeError} for no settings or bad counts.
 * @example
 * ```ts ignore
 * const rows = await runSideBySide(dir, ["q4:acc0", "q4:acc4"].map(parseSpeedSetting));
 * ```
 */
export async function runSideBySide(
  modelDir: string,
  settings: readonly SpeedSetting[],
  options: SideBySideOptions = {},
): Promise<SideBySideRow[]> {
  const context = options.contextTokens ?? 128;
  const newTokens = options.newTokens ?? 32;
  const rounds = options.rounds ?? 5;
  const warmup = options.warmup ?? 1;
  const cacheDir = options.cacheDir ?? join(dirname(dirname(modelDir)), "speed");
  const log = options.onProgress ?? (() => {});
  if (settings.length === 0) throw new RangeError("--settings: at least one setting is needed");
  for (
    const [name, v, min] of [["rounds", rounds, 1], ["warmup", warmup, 0], [
      "new-tokens",
      newTokens,
      2,
    ], ["context", context, 1]] as const
  ) {
    if (!Number.isInteger(v) || v < min) {
      throw new RangeError(`--${name} must be an integer >= ${min}, got ${v}`);
    }
  }
  const loaded = [];
  for (const setting of settings) {
    log(`preparing ${setting.name}`);
    const dir = await prepareVariant(modelDir, setting, cacheDir);
    const resolved = await resolveModel(dir, { dtypes: [setting.dtype] });
    const decoder = await loadDecoder(resolved, { dtype: setting.dtype, tuning: setting.tuning });
    const meta = await readQuantizationMetadata(resolved.onnxPath(setting.dtype));
    loaded.push({ setting, decoder, quantization: quantizationLabel(meta) });
  }
  try {
    const prompt = promptIds(loaded[0]!.decoder.resolved.tokenizer, "conversational", context);
    const reps: RepRow[][] = settings.map(() => []);
    const firstTokens: number[][] = [];
    // The sweep's round loop (lib/measure/rounds.ts): every setting live, one generation each
    // per round, the first setting moving on by one every round; the first `warmup` rounds
    // are not recorded.
    const arms = loaded.map(({ decoder }, i) => ({
      id: String(i),
      turn: async ({ round }: { round: number }) => {
        const r = await generate(decoder, [prompt], { maxNewTokens: newTokens });
        if (round === 1) firstTokens[i] = r.tokens[0]!;
        const rep: RepRow = {
          round,
          new_tokens: r.newTokens,
          batch: r.batch,
          decode_ms: Number.isFinite(r.decodeMs) ? r.decodeMs : null,
          status: "ok",
        };
        return [rep];
      },
    }));
    const { records } = await runRounds(arms, {
      minRounds: warmup + rounds,
      maxRounds: warmup + rounds,
      order: "rotate",
      onArmError: (_, error) => {
        throw error; // a setting that fails fails the comparison
      },
      onRound: (round) =>
        log(`round ${round}/${warmup + rounds}${round <= warmup ? " (warmup)" : ""}`),
    });
    for (const r of records) if (r.round > warmup) reps[Number(r.armId)]!.push(r.result);
    // Every setting after the first is compared with it: one family for the interval's level.
    const comparisons = Math.max(1, settings.length - 1);
    return loaded.map(({ setting, quantization }, i) => {
      const perRound = reps[i]!.map((rep) => pooledRate([rep]));
      const rates = perRound.filter((x): x is number => x !== null);
      const summary = rates.length > 0 ? summarize(rates) : null;
      const comparison = i === 0 ? null : compare(reps[i]!, reps[0]!, { comparisons });
      return {
        setting: setting.name,
        quantization,
        tuning: setting.tuning,
        decodeTokensPerSMedian: summary?.p50 ?? NaN,
        decodeTokensPerSMean: summary?.mean ?? NaN,
        decodeTokensPerS: perRound,
        ratioToFirst: i === 0 ? 1 : comparison!.ratio,
        comparison,
        sameTokensAsFirst: JSON.stringify(firstTokens[i]) === JSON.stringify(firstTokens[0]),
      };
    });
  } finally {
    for (const { decoder } of loaded) await decoder.dispose();
  }
}

/**
 * A Markdown table of side-by-side rows, each column saying what it is: the median over rounds
 * of the decode rate, the geometric mean of the per-round ratios to the first setting with its
 * 95 % interval (Bonferroni over the settings compared), the rounds that ratio rests on, and the
 * verdict of `compare`.
 *
 * @param rows The rows (the first is the baseline).
 * @returns The table, one line per setting.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { speedTable } from "./side_by_side.ts";
 * const base = { setting: "q4:acc0", quantization: "q4 b32 acc0", tuning: "decode",
 *   decodeTokensPerSMedian: 300, decodeTokensPerSMean: 301, decodeTokensPerS: [300, 302],
 *   ratioToFirst: 1, comparison: null, sameTokensAsFirst: true };
 * const acc4 = { ...base, setting: "q4:acc4", quantization: "q4 b32 acc4",
 *   decodeTokensPerSMedian: 400, ratioToFirst: 1.33, comparison: { ratio: 1.33,
 *   ci95: [1.2, 1.47] as [number, number], rounds: 2, round_ratios: [1.3, 1.36], aa_floor: null,
 *   comparisons: 1, verdict: "faster" as const, settled: true, reason: "" } };
 * const t = speedTable([base, acc4]);
 * assert(t.includes("geometric mean of per-round ratios"));
 * assert(t.includes("| q4:acc0 | q4 b32 acc0 | decode | 300.0 | 1 (baseline) | — | 2 | — | yes |"));
 * assert(t.includes("| q4:acc4 | q4 b32 acc4 | decode | 400.0 | 1.33 | 1.20–1.47 | 2 | faster | yes |"));
 * ```
 */
export function speedTable(rows: readonly SideBySideRow[]): string {
  const m = rows[1]?.comparison?.comparisons ?? 1;
  const lines = [
    "| setting | file says | threading | decode tok/s (median over rounds) | " +
    "× first (geometric mean of per-round ratios) | 95 % interval" +
    (m > 1 ? ` (Bonferroni, ${m} comparisons)` : "") +
    " | rounds | verdict vs first | same tokens |",
    "|---|---|---|---:|---:|---:|---:|---|---|",
  ];
  const num = (x: number | null | undefined, digits: number) =>
    x === null || x === undefined || !Number.isFinite(x) ? "—" : x.toFixed(digits);
  for (const r of rows) {
    const c = r.comparison;
    const rounds = c ? c.rounds : r.decodeTokensPerS.filter((x) => x !== null).length;
    lines.push(
      `| ${r.setting} | ${r.quantization || "—"} | ${r.tuning} | ${
        num(r.decodeTokensPerSMedian, 1)
      } | ${c ? num(c.ratio, 2) : "1 (baseline)"} | ${
        c?.ci95 ? `${c.ci95[0].toFixed(2)}–${c.ci95[1].toFixed(2)}` : "—"
      } | ${rounds} | ${c ? c.verdict : "—"} | ${r.sameTokensAsFirst ? "yes" : "no"} |`,
    );
  }
  return lines.join("\n");
}

async function link(target: string, intoDir: string): Promise<void> {
  const path = join(intoDir, basename(target));
  try {
    await Deno.remove(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  await Deno.symlink(await Deno.realPath(target), path);
}

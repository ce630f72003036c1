/**
 * What a load run writes: every request (`requests.jsonl`), the summary per setting
 * (`summary.json`, `summary.csv`) and a figure of latency percentiles against the request rate or
 * concurrency (`latency_vs_load.vl.json` / `.svg` / `.png`). Every file goes through a temp name
 * and a rename.
 *
 * @module
 */
import pl from "nodejs-polars";
import { join } from "node:path";
import { renderSpec, type VegaLiteSpec } from "../report/render.ts";
import type { LoadSampling, RequestRecord } from "./client.ts";
import type { LatencyStats, LoadSummary } from "./metrics.ts";
import type { LoadMode, StaggerUsed } from "./runner.ts";

/** One setting of a load run (one rate or one concurrency) and what it measured. */
export interface LoadSetting {
  /** `rate 4/s`, `concurrency 2`, … */
  label: string;
  /** How requests arrived. */
  mode: LoadMode;
  /** Every request, warmups included (marked). */
  records: RequestRecord[];
  /** Their summary. */
  summary: LoadSummary;
  /** Constant concurrency: how the workers started (`null`/absent for arrival rates). */
  stagger?: StaggerUsed | null;
}

/** What the run was, for the summary's header. */
export interface LoadRunMeta {
  /** Base URL. */
  url: string;
  /** Model name sent. */
  model: string;
  /** `completions` or `chat`. */
  api: string;
  /** Input tokens asked for (synthetic prompts), `null` with a prompts file. */
  inputTokens: number | null;
  /** `max_tokens`. */
  outputTokens: number;
  /** Measured requests per setting. */
  numRequests: number;
  /** Warmup requests per setting. */
  warmup: number;
  /** Arrival seed. */
  seed: number;
  /** Whether prompt token counts are exact for the target's tokenizer. */
  tokenizer: string | null;
  /** Where prompts came from. */
  prompts: string;
  /** Start, RFC 3339. */
  startedAt: string;
  /** Sampling asked for (`temperature: 0` = greedy). @default greedy */
  sampling?: LoadSampling;
}

const STATS = ["mean", "median", "p90", "p95", "p99"] as const;
const LATENCIES = [["ttft", "ttftMs"], ["tpot", "tpotMs"], ["itl", "itlMs"], [
  "e2e",
  "e2eMs",
]] as const;

/**
 * One flat CSV row of a setting's summary: counts, throughputs, then `<latency>_<stat>_ms`.
 *
 * @param s The setting.
 * @returns Column → value (`null` where not measured).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { summaryRow } from "./output.ts";
 * import { summarizeLoad } from "./metrics.ts";
 * const row = summaryRow({ label: "concurrency 1", mode: { kind: "concurrency", concurrency: 1 }, records: [], summary: summarizeLoad([]) });
 * assert(row.setting === "concurrency 1" && row.ttft_p99_ms === null && row.concurrency === 1);
 * ```
 */
export function summaryRow(s: LoadSetting): Record<string, string | number | null> {
  const m = s.summary;
  const row: Record<string, string | number | null> = {
    setting: s.label,
    request_rate: s.mode.kind === "rate" ? (s.mode.rate === Infinity ? null : s.mode.rate) : null,
    burstiness: s.mode.kind === "rate" ? (s.mode.burstiness ?? 1) : null,
    concurrency: s.mode.kind === "concurrency" ? s.mode.concurrency : null,
    stagger: s.stagger?.label ?? null,
    completed: m.completed,
    failed: m.failed,
    duration_s: m.durationS,
    total_input_tokens: m.totalInputTokens,
    total_output_tokens: m.totalOutputTokens,
    request_throughput: m.requestThroughput,
    output_throughput: m.outputThroughput,
    total_token_throughput: m.totalTokenThroughput,
    goodput_requests_per_s: m.goodput?.requestsPerS ?? null,
    peak_concurrency: m.peakConcurrency,
  };
  for (const [name, key] of LATENCIES) {
    const l = m[key] as LatencyStats | null;
    for (const stat of STATS) row[`${name}_${stat}_ms`] = l ? l[stat] : null;
  }
  return row;
}

/**
 * The latency figure: median, p90 and p99 of TTFT, TPOT and E2E against the request rate or the
 * concurrency (one panel per latency).
 *
 * @param settings The run's settings.
 * @returns The Vega-Lite spec.
 */
export function loadFigure(settings: readonly LoadSetting[]): VegaLiteSpec {
  const byRate = settings.every((s) => s.mode.kind === "rate");
  const values = settings.flatMap((s) => {
    const x = s.mode.kind === "rate" ? s.mode.rate : s.mode.concurrency;
    return (["ttftMs", "tpotMs", "e2eMs"] as const).flatMap((key) => {
      const l = s.summary[key];
      return l === null ? [] : (["median", "p90", "p99"] as const).map((stat) => ({
        x: x === Infinity ? null : x,
        setting: s.label,
        latency: { ttftMs: "TTFT", tpotMs: "TPOT", e2eMs: "E2E latency" }[key],
        stat,
        ms: l[stat],
      }));
    });
  }).filter((v) => v.x !== null);
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: {
      text: `Latency percentiles vs ${byRate ? "request rate" : "concurrency"}`,
      subtitle: "median, p90 and p99 per request (TPOT = (E2E − TTFT)/(output tokens − 1))",
    },
    data: { values },
    facet: {
      column: {
        field: "latency",
        type: "nominal",
        title: null,
        sort: ["TTFT", "TPOT", "E2E latency"],
      },
    },
    spec: {
      width: 240,
      height: 220,
      mark: { type: "line", point: true },
      encoding: {
        x: {
          field: "x",
          type: "quantitative",
          title: byRate ? "request rate (req/s)" : "concurrency",
        },
        y: { field: "ms", type: "quantitative", title: "ms" },
        color: {
          field: "stat",
          type: "nominal",
          title: "percentile",
          sort: ["median", "p90", "p99"],
        },
        tooltip: [{ field: "setting" }, { field: "stat" }, { field: "ms", format: ".1f" }],
      },
    },
    resolve: { scale: { y: "independent" } },
    config: { font: "DejaVu Sans", background: "white" },
  } as unknown as VegaLiteSpec;
}

async function atomicWrite(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.${Deno.pid}.tmp`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}

/**
 * Writes every output of a load run into `dir`.
 *
 * @param dir Output directory (created).
 * @param meta What the run was.
 * @param settings Each setting's records and summary.
 * @returns The paths written.
 */
export async function writeLoadOutputs(
  dir: string,
  meta: LoadRunMeta,
  settings: readonly LoadSetting[],
): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const written: string[] = [];
  const put = async (name: string, data: string | Uint8Array) => {
    await atomicWrite(join(dir, name), data);
    written.push(join(dir, name));
  };
  const lines = settings.flatMap((s) =>
    s.records.map((r) => JSON.stringify({ setting: s.label, ...r }))
  );
  await put("requests.jsonl", lines.join("\n") + (lines.length ? "\n" : ""));
  await put(
    "summary.json",
    JSON.stringify(
      {
        ...meta,
        sampling: meta.sampling ?? { temperature: 0 },
        note: "each prompt begins with a unique prefix, so no server's prefix cache reuses work " +
          "across requests; warmup requests are excluded from every metric",
        definitions: {
          ttft: "send → first chunk with generated text, per request",
          tpot: "(E2E − TTFT) / (output tokens − 1), per request with ≥ 2 output tokens",
          itl: "every gap between successive text chunks, pooled over requests",
          e2e: "send → end of the stream, per request",
          duration: "first send → last end of the measured requests",
          percentiles: "linear interpolation (numpy's default)",
        },
        settings: settings.map((s) => ({
          label: s.label,
          mode: {
            ...s.mode,
            ...(s.mode.kind === "rate" && s.mode.rate === Infinity ? { rate: "inf" } : {}),
          },
          stagger: s.stagger ?? null,
          ...s.summary,
        })),
      },
      null,
      2,
    ) + "\n",
  );
  const rows = settings.map(summaryRow);
  const columns = Object.keys(rows[0] ?? {});
  const df = pl.DataFrame(
    columns.map((c) =>
      pl.Series(
        c,
        rows.map((r) => r[c] ?? null),
        c === "setting" || c === "stagger" ? pl.Utf8 : pl.Float64,
      )
    ),
  );
  const csvTmp = join(dir, `summary.csv.${Deno.pid}.tmp`);
  df.writeCSV(csvTmp);
  await Deno.rename(csvTmp, join(dir, "summary.csv"));
  written.push(join(dir, "summary.csv"));
  const spec = loadFigure(settings);
  await put("latency_vs_load.vl.json", JSON.stringify(spec, null, 2) + "\n");
  const { svg, png } = await renderSpec(spec);
  await put("latency_vs_load.svg", svg);
  await put("latency_vs_load.png", png);
  return written;
}

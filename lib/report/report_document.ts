/**
 * `metrics/report.md` and the self-contained `metrics/report.html`: the brief's three questions
 * (KV-cache gain in decoding; is 4-bit worth it; the sweet spot) answered with numbers from the
 * results, then the comparison table, the figures, the environment and the failures. One list of
 * blocks, two renderers.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { tableCells, tableHtml, tableMarkdown } from "./_table_html.ts";
import { compareDtypes, escapeHtml, fmt, reportLabel, setupRows, setupsOf } from "./_util.ts";
import type { ComparisonTable } from "./comparison_table.ts";
import type { DtypeEntry, FinalReport, SetupExtended } from "./final_report.ts";
import { referenceLabel } from "./_checks.ts";
import { NOISY_CV_PCT } from "./verdicts.ts";
import { DELTA_PPL_BUDGET_PCT } from "./ppl_degradation.ts";
import { ratioWords, SPEED_WORDS } from "./ratio_words.ts";
import type { ReportData } from "./report_data.ts";
import { batchScalingLines } from "./batch_scaling.ts";

/** A figure the report shows: its path stem (e.g. `figures/ppl_degradation`) and PNG bytes. */
export interface ReportFigure {
  /** Path stem relative to the output root. */
  stem: string;
  /** PNG bytes (embedded in the HTML). */
  png: Uint8Array;
}

/** What the report is made of. */
export interface ReportInputs {
  /** The report tables. */
  data: ReportData;
  /** From `finalReport`. */
  report: FinalReport;
  /** From `comparisonTable`. */
  table: ComparisonTable;
  /** Rendered figures, in display order. */
  figures: readonly ReportFigure[];
}

type Block =
  | { kind: "h"; level: number; text: string }
  | { kind: "p"; text: string }
  | { kind: "list"; items: string[] }
  | { kind: "table"; rows: string[][] }
  | { kind: "comparison" }
  | { kind: "figure"; stem: string; png: Uint8Array };

/**
 * The report as Markdown; figures are linked relative to `metrics/` (`../figures/…png`).
 *
 * @param inputs Tables, final report, comparison table and figures.
 * @returns Markdown text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { comparisonTable, finalReport, parseResultsCsv, reportData, reportMarkdown } from "./mod.ts";
 * import { BENCH_FIELDS } from "../results/schema.ts";
 * const data = reportData(parseResultsCsv(BENCH_FIELDS.join(",") + "\n"), null);
 * const md = reportMarkdown({ data, report: finalReport(data), table: comparisonTable(data), figures: [] });
 * assert(md.startsWith("# Turbo Inference"));
 * ```
 */
export function reportMarkdown(inputs: ReportInputs): string {
  return blocks(inputs).map((b) => {
    switch (b.kind) {
      case "h":
        return `${"#".repeat(b.level)} ${b.text}`;
      case "p":
        return b.text;
      case "list":
        return b.items.map((i) => `- ${i}`).join("\n");
      case "table":
        return tableMarkdown(b.rows);
      case "comparison":
        return tableMarkdown(tableCells(inputs.table));
      case "figure":
        return `![${b.stem}](../${b.stem}.png)`;
      default:
        return unreachable(b);
    }
  }).join("\n\n") + "\n";
}

/**
 * The report as one self-contained HTML page (figures embedded as PNG data URIs, the comparison
 * table coloured).
 *
 * @param inputs Tables, final report, comparison table and figures.
 * @returns HTML text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { comparisonTable, finalReport, parseResultsCsv, reportData, reportHtml } from "./mod.ts";
 * import { BENCH_FIELDS } from "../results/schema.ts";
 * const data = reportData(parseResultsCsv(BENCH_FIELDS.join(",") + "\n"), null);
 * const html = reportHtml({ data, report: finalReport(data), table: comparisonTable(data), figures: [] });
 * assert(html.startsWith("<!doctype html>"));
 * ```
 */
export function reportHtml(inputs: ReportInputs): string {
  const body = blocks(inputs).map((b) => {
    switch (b.kind) {
      case "h":
        return `<h${b.level}>${inline(b.text)}</h${b.level}>`;
      case "p":
        return `<p>${inline(b.text)}</p>`;
      case "list":
        return `<ul>${b.items.map((i) => `<li>${inline(i)}</li>`).join("")}</ul>`;
      case "table": {
        const [head = [], ...rows] = b.rows;
        return `<table class="plain"><thead><tr>${
          head.map((h) => `<th>${inline(h)}</th>`).join("")
        }</tr></thead><tbody>${
          rows.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join("")}</tr>`).join("")
        }</tbody></table>`;
      }
      case "comparison":
        return tableHtml(inputs.table);
      case "figure":
        return `<figure><img alt="${escapeHtml(b.stem)}"${
          cssWidth(b.png)
        } src="data:image/png;base64,${Buffer.from(b.png).toString("base64")}"><figcaption>${
          escapeHtml(b.stem)
        }.png</figcaption></figure>`;
      default:
        return unreachable(b);
    }
  }).join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Turbo Inference report</title>
<style>
body{font-family:'DejaVu Sans',sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
img{max-width:100%;height:auto;border:1px solid #ddd}figure{margin:1.5em 0}figcaption{color:#666;font-size:12px}
table.plain{border-collapse:collapse;font-size:13px}table.plain td,table.plain th{border:1px solid #ccc;padding:4px 10px;text-align:right}
table.plain td:first-child,table.plain th:first-child{text-align:left}code{background:#f3f3f3;padding:0 3px}
</style></head>
<body>
${body}
</body></html>
`;
}

function unreachable(b: never): never {
  throw new TypeError(`unknown report block ${JSON.stringify(b)}`);
}

/** `**bold**` and `` `code` `` in report text → HTML. */
function inline(text: string): string {
  return escapeHtml(text)
    .replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>")
    .replace(/`(.+?)`/g, "<code>$1</code>");
}

function blocks({ data, report, table, figures }: ReportInputs): Block[] {
  const out: Block[] = [{ kind: "h", level: 1, text: "Turbo Inference — benchmark report" }];
  const setups = Object.keys(report.by_model);
  const env = report.environment;
  out.push({
    kind: "p",
    text: setups.length === 0
      ? "No successful benchmark run is in the results yet."
      : `Measured ${setups.map((s) => `\`${s}\``).join(", ")} on ${
        env.device_name.join(", ") || "an unnamed device"
      } (${
        env.execution_provider.join(", ") || "no provider recorded"
      }). Every number comes from the measured runs of a cell (warmups excluded): decode ` +
        `tokens/s pooled (all decode tokens ÷ all decode time), latencies as means, memory as ` +
        `the peak of the cell's own fresh worker; read from \`benchmarks/results.csv\` and ` +
        `\`benchmarks/perplexity.csv\` only (method: docs/measurement.md).`,
  });
  for (const key of setups) {
    const ext = report.extended[key]!;
    const entries = report.by_model[key]!;
    if (setups.length > 1) out.push({ kind: "h", level: 2, text: `Setup \`${key}\`` });
    const level = setups.length > 1 ? 3 : 2;
    if (ext.weights === "random") {
      out.push({
        kind: "p",
        text: `**Random weights.** \`${ext.model}\` is a preset build with seeded random ` +
          `weights: its speed and memory are real, but it has no language quality, so its ` +
          `perplexity only shows how closely each dtype agrees with the baseline and the ` +
          `quality verdicts (4-bit within ${DELTA_PPL_BUDGET_PCT} %, sweet spot) are withheld.`,
      });
    }
    out.push(
      { kind: "h", level, text: "1. How much does the KV cache gain in decoding?" },
      ...cacheAnswer(data, ext, entries),
      { kind: "h", level, text: "2. Is 4-bit worth it in production?" },
      ...fourBitAnswer(report, ext, entries),
      { kind: "h", level, text: "3. Where is the sweet spot between speed and quality?" },
      ...sweetSpotAnswer(report, ext, entries),
    );
    if (ext.batch_scaling) {
      out.push(...batchScalingBlocks(ext.batch_scaling, ext.device, env, level));
    }
  }
  out.push({ kind: "h", level: 2, text: "Noise" });
  const noisy = Object.values(report.extended).flatMap((e) =>
    e.noisy_cells.map((c) => ({ model: e.model, ...c }))
  );
  out.push(
    noisy.length === 0
      ? {
        kind: "p",
        text: `No cell's runs vary by more than ${NOISY_CV_PCT} % (coefficient of variation of ` +
          `decode tokens/s and of prefill).`,
      }
      : {
        kind: "p",
        text: `${noisy.length} cell(s) vary by more than ${NOISY_CV_PCT} % across runs ` +
          `(coefficient of variation): read their means with care.`,
      },
  );
  if (noisy.length > 0) {
    out.push({
      kind: "table",
      rows: [
        ["model", "dtype", "cache", "context", "runs", "decode CV %", "prefill CV %", "max load"],
        ...noisy.map((c) => [
          c.model,
          c.dtype,
          c.use_cache ? "on" : "off",
          String(c.context),
          String(c.runs),
          fmt(c.decode_cv_pct, 1),
          fmt(c.prefill_cv_pct, 1),
          fmt(c.load1_max, 2),
        ]),
      ],
    });
  }
  out.push({ kind: "h", level: 2, text: "Comparison table" });
  if (table.rows.length > 0) {
    out.push({
      kind: "p",
      text: `Decode speed and prefill at the longest context measured with the KV cache on; ` +
        `memory is the peak ${table.memoryKind} there (GB = 10⁹ bytes). Colours rank each column ` +
        `within a model: green best, red worst.`,
    }, { kind: "comparison" });
  } else out.push({ kind: "p", text: "No data." });
  if (figures.length > 0) {
    out.push({ kind: "h", level: 2, text: "Figures" });
    for (const f of figures) out.push({ kind: "figure", stem: f.stem, png: f.png });
  }
  out.push(
    { kind: "h", level: 2, text: "Environment" },
    {
      kind: "list",
      items: [
        `git commit: ${env.git_commit.join(", ") || "—"}`,
        `Deno ${env.deno_version.join(", ") || "—"}, onnxruntime-node ${
          env.ort_version.join(", ") || "—"
        }, transformers.js ${env.transformers_version.join(", ") || "—"}`,
        `device: ${env.device_name.join(", ") || "—"}; execution providers: ${
          env.execution_provider.join(", ") || "—"
        }`,
        `runs from ${env.first_run ?? "—"} to ${env.last_run ?? "—"}`,
      ],
    },
    { kind: "h", level: 2, text: "Failed cells" },
  );
  const failed = report.failed_cells;
  if (failed.runs === 0) out.push({ kind: "p", text: "None: every run succeeded." });
  else {
    out.push(
      {
        kind: "p",
        text: `${failed.count} cell(s) had ${failed.runs} failed run(s); they are excluded from ` +
          `every number above.`,
      },
      {
        kind: "table",
        rows: [
          ["reason", "runs", "cells"],
          ...failed.reasons.map((r) => [r.reason, String(r.runs), String(r.cells)]),
        ],
      },
    );
  }
  return out;
}

function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  return a && b ? a / b : null;
}

function cacheAnswer(
  data: ReportData,
  ext: SetupExtended,
  entries: Record<string, DtypeEntry>,
): Block[] {
  const ref = referenceLabel(entries);
  const speed = ref === undefined ? {} : ext.kv_cache_speedup[ref] ?? {};
  const measured = Object.entries(speed).filter((e): e is [string, number] => e[1] !== null);
  const check = ext.checks.cache_faster_at_every_length;
  if (ref === undefined || measured.length === 0) {
    return [{
      kind: "p",
      text: "Not measured: no context was run both with and without the KV cache.",
    }];
  }
  const [firstCtx, firstX] = measured[0]!;
  const [lastCtx, lastX] = measured.at(-1)!;
  const setup = setupsOf(data.summary).find((s) =>
    s.model === ext.model && s.device === ext.device
  );
  const cells = setup ? setupRows(data.summary, setup) : [];
  const refDtype = entries[ref]!.dtype;
  const cell = (cache: boolean, ctx: string) =>
    cells.find((c) =>
      c.dtype === refDtype && c.use_cache === cache && String(c.context_tokens) === ctx
    );
  const text =
    `With the KV cache, **${ref}** decodes **${
      fmt(cell(true, lastCtx)?.decode_tokens_per_s_mean)
    } tokens/s** ` +
    `at ${lastCtx} tokens of context against ${
      fmt(cell(false, lastCtx)?.decode_tokens_per_s_mean)
    } ` +
    `without it: **${ratioWords(lastX, SPEED_WORDS)}** (${
      ratioWords(firstX, SPEED_WORDS)
    } at ${firstCtx} tokens). ` +
    `The per-token decode latency (median) with the cache goes from ${
      fmt(cell(true, firstCtx)?.token_p50_ms_mean, 2)
    } ms at ${firstCtx} tokens to ${
      fmt(cell(true, lastCtx)?.token_p50_ms_mean, 2)
    } ms at ${lastCtx}; ` +
    `without it, from ${fmt(cell(false, firstCtx)?.token_p50_ms_mean, 2)} ms to ${
      fmt(cell(false, lastCtx)?.token_p50_ms_mean, 2)
    } ms, because every step recomputes the whole prompt.`;
  const verdict = check.value === null
    ? "Whether the cache is faster at every length cannot be decided (no pairs)."
    : check.value
    ? `The cache is faster for every dtype at every length (${check.details.pairs} pairs; smallest speedup ${
      fmt(check.details.min_speedup, 2)
    }×).`
    : `The cache is **not** faster everywhere: ${
      check.details.slower.map((s) => `${s.label} at ${s.context} (${fmt(s.speedup, 2)}×)`).join(
        ", ",
      )
    }.`;
  const contexts = [...new Set(Object.values(ext.kv_cache_speedup).flatMap(Object.keys))]
    .sort((a, b) => Number(a) - Number(b));
  const rows = [
    ["speedup (cache on ÷ off)", ...contexts.map((c) => `${c} tok`)],
    ...Object.entries(ext.kv_cache_speedup).map(([label, byCtx]) => [
      label,
      ...contexts.map((
        c,
      ) => (byCtx[c] === null || byCtx[c] === undefined ? "—" : `${fmt(byCtx[c], 2)}×`)),
    ]),
  ];
  return [{ kind: "p", text }, { kind: "p", text: verdict }, { kind: "table", rows }];
}

/** ` (skipped: reason)` for a (model, dtype) whose perplexity was not measured, else empty. */
function whyNoPerplexity(report: FinalReport, model: string, dtype?: string): string {
  const issue = report.perplexity_not_measured.find((i) =>
    i.model === model && (dtype === undefined || i.dtype === dtype)
  );
  return issue ? ` (${issue.status}: ${issue.reason})` : "";
}

function fourBitAnswer(
  report: FinalReport,
  ext: SetupExtended,
  entries: Record<string, DtypeEntry>,
): Block[] {
  const fourDtype = ["q4", "q4f16", "bnb4"].find((d) => entries[reportLabel(d)] !== undefined);
  const ref = referenceLabel(entries);
  if (fourDtype === undefined || ref === undefined) {
    return [{ kind: "p", text: "No 4-bit dtype was measured." }];
  }
  const fourLabel = reportLabel(fourDtype);
  const four = entries[fourLabel]!;
  const base = entries[ref]!;
  const q = ext.quality[fourLabel];
  // The verdict and the numbers it rests on come from final_report.json, so the prose and the
  // JSON cannot disagree.
  const check = ext.checks.four_bit_verdict;
  const speed = check.details.speed_ratio;
  const memKind = four.vram_gb !== null ? "VRAM" : "RSS";
  const mem = check.details.memory_ratio;
  const prefill = ratio(base.prefill_ms_longest, four.prefill_ms_longest);
  const delta = q?.delta_ppl_pct ?? null;
  const facts =
    `At ${four.longest_context ?? "—"} tokens with the cache, **${fourLabel}** decodes ` +
    `${fmt(four.tokens_s_longest)} tokens/s against ${fmt(base.tokens_s_longest)} for ${ref} ` +
    `(**${fmt(speed, 2)}×**), prefills ${fmt(prefill, 2)}× as fast, and ${
      memoryPhrase(mem, memKind)
    } (${fmt(memKind === "VRAM" ? four.vram_gb : four.rss_gb, 2)} GB vs ${
      fmt(memKind === "VRAM" ? base.vram_gb : base.rss_gb, 2)
    } GB). ` +
    (q
      ? `Its perplexity is ${fmt(q.ppl, 3)} (ΔPPL **${fmt(delta, 2)} %** vs ${q.baseline}, KL ${
        fmt(q.kl, 4)
      } nats, top-1 agreement ${fmt(q.top1_agreement, 1)} %).`
      : `Its perplexity was not measured${whyNoPerplexity(report, ext.model, fourDtype)}.`);
  const verdict = ext.weights === "random"
    ? `**No quality verdict**: ${ext.quality_verdicts_note}. The speed and memory figures above ` +
      `stand; whether 4-bit is worth it needs a trained model.`
    : check.value === "undecided" && delta !== null && check.details.context === null
    ? `**Undecided**: the quality cost is within the ${DELTA_PPL_BUDGET_PCT} % budget, but ` +
      `${fourLabel} and ${ref} were not measured at the same longest context ` +
      `(${four.longest_context ?? "—"} vs ${base.longest_context ?? "—"} tokens).`
    : check.value === null || check.value === "undecided"
    ? `**Undecided**: ${check.details.reason}.`
    : check.value === "no"
    ? `**No**: ΔPPL ${fmt(delta, 2)} % is over the ${DELTA_PPL_BUDGET_PCT} % budget.`
    : check.value === "within_noise"
    ? `**Within noise here**: the quality cost is within the ${DELTA_PPL_BUDGET_PCT} % budget, ` +
      `but the 95 % intervals of the two decode speeds overlap (too few runs to tell ` +
      `${fmt(speed, 2)}× from 1×); rerun with more runs.`
    : check.value === "only_for_memory"
    ? `**Only for memory**: the quality cost is within the ${DELTA_PPL_BUDGET_PCT} % budget and ` +
      `it needs less ${memKind}, but on this device 4-bit decodes slower than ${ref}.`
    : check.value === "not_on_this_device"
    ? `**Not on this device**: the quality cost is within the ${DELTA_PPL_BUDGET_PCT} % budget, ` +
      `but 4-bit decodes slower than ${ref} and does not lower the peak ${memKind} here.`
    : `**Yes**: the quality cost is within the ${DELTA_PPL_BUDGET_PCT} % budget and decoding is ` +
      `${fmt(speed, 2)}× faster.`;
  return [{ kind: "p", text: facts }, { kind: "p", text: verdict }];
}

/** "needs 1.3× less peak VRAM" or "needs 1.2× more peak RSS", by the ratio base ÷ 4-bit. */
/**
 * ` width="N"`: half the PNG's pixel width, since figures are rendered at scale 2, so every figure
 * shows at its design size (and `max-width: 100%` still shrinks it to the page); empty for bytes
 * that are not a PNG.
 */
function cssWidth(png: Uint8Array): string {
  if (png.length < 24 || png[1] !== 0x50 || png[2] !== 0x4e || png[3] !== 0x47) return "";
  const width = new DataView(png.buffer, png.byteOffset + 16, 4).getUint32(0);
  return width > 0 ? ` width="${Math.round(width / 2)}"` : "";
}

function memoryPhrase(mem: number | null, kind: string): string {
  if (mem === null) return `peak ${kind} was not compared`;
  return `needs ${ratioWords(mem, { more: "less", less: "more", same: "the same" })} peak ${kind}`;
}

function sweetSpotAnswer(
  report: FinalReport,
  ext: SetupExtended,
  entries: Record<string, DtypeEntry>,
): Block[] {
  const spot = ext.sweet_spot;
  // Runners-up within the budget whose speed cannot be told from the sweet spot's.
  const ties = ext.sweet_spot_ties;
  const first = spot === null
    ? `No sweet spot: ${ext.sweet_spot_note}${whyNoPerplexity(report, ext.model)}.`
    : `The sweet spot is **${spot.label}**: the fastest dtype whose ΔPPL stays within ` +
      `${DELTA_PPL_BUDGET_PCT} % — ${fmt(spot.tokens_s)} tokens/s at ${spot.context} tokens ` +
      `with the cache, ΔPPL ${fmt(spot.delta_ppl_pct, 2)} %.` +
      (ties.length > 0
        ? ` Its lead is within the runs' 95 % intervals of ${ties.join(", ")}: with these ` +
          `runs the ranking is not settled.`
        : "");
  const rows = [
    ["dtype", "decode tok/s (longest, cache on)", "ΔPPL %", `within ${DELTA_PPL_BUDGET_PCT} %`],
    ...Object.entries(entries)
      .toSorted((a, b) => compareDtypes(a[1].dtype, b[1].dtype))
      .map(([label, e]) => {
        const d = ext.quality[label]?.delta_ppl_pct ?? null;
        return [
          label,
          fmt(e.tokens_s_longest),
          fmt(d, 2),
          d === null ? "not measured" : d <= DELTA_PPL_BUDGET_PCT ? "yes" : "no",
        ];
      }),
  ];
  return [{ kind: "p", text: first }, { kind: "table", rows }];
}

function batchScalingBlocks(
  scaling: NonNullable<SetupExtended["batch_scaling"]>,
  device: string,
  env: FinalReport["environment"],
  level: number,
): Block[] {
  const where = env.device_name.length > 0 ? `${device} (${env.device_name.join(", ")})` : device;
  return [
    { kind: "h", level, text: "4. Where does batching stop paying?" },
    {
      kind: "p",
      text: `Rule: ${scaling.rule}. Decode tokens/s are the mean of a cell's measured runs, ` +
        `summed over the batch; per sequence = total ÷ batch (docs/batching.md).`,
    },
    { kind: "list", items: batchScalingLines(scaling.entries, where) },
  ];
}

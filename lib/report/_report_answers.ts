/**
 * The report's three answers (KV cache, 4-bit, sweet spot) and its batch-scaling section, as
 * blocks that report_document.ts renders to Markdown and HTML.
 *
 * @module
 */
import { compareDtypes, fmt, reportLabel, setupRows, setupsOf } from "./_util.ts";
import type { DtypeEntry, FinalReport, SetupExtended } from "./final_report.ts";
import { referenceLabel } from "./_checks.ts";
import { DELTA_PPL_BUDGET_PCT } from "./ppl_degradation.ts";
import { ratioWords, SPEED_WORDS } from "./ratio_words.ts";
import type { ReportData } from "./report_data.ts";
import { batchScalingLines } from "./batch_scaling.ts";

/** One block of the report. */
export type Block =
  | { kind: "h"; level: number; text: string }
  | { kind: "p"; text: string }
  | { kind: "list"; items: string[] }
  | { kind: "table"; rows: string[][] }
  | { kind: "comparison" }
  | { kind: "figure"; stem: string; png: Uint8Array };

function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  return a && b ? a / b : null;
}

/** See the module doc. */
export function cacheAnswer(
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
      check.details.slower.map((s) =>
        `${s.label} at ${s.context} (${ratioWords(s.speedup, SPEED_WORDS)} with it)`
      ).join(", ")
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

/** See the module doc. */
export function fourBitAnswer(
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
    `(**${ratioWords(speed, SPEED_WORDS)}**), prefills ${ratioWords(prefill, SPEED_WORDS)}, and ${
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
function memoryPhrase(mem: number | null, kind: string): string {
  if (mem === null) return `peak ${kind} was not compared`;
  // Within 5 % the two peaks are "about the same", not "1.01× less".
  return `needs ${
    ratioWords(mem, { more: "less", less: "more", same: "about the same" }, { noise: 0.05 })
  } peak ${kind}`;
}

/** See the module doc. */
export function sweetSpotAnswer(
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

/** See the module doc. */
export function batchScalingBlocks(
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

/**
 * The report's three answers (KV cache, 4-bit, sweet spot) and its batch-scaling section, as
 * blocks that report_document.ts renders to Markdown and HTML.
 *
 * @module
 */
import { compareDtypes, fmt, reportLabel } from "./_util.ts";
import type { DtypeEntry, FinalReport, SetupExtended } from "./final_report_types.ts";
import { referenceLabel } from "./_checks.ts";
import { DELTA_PPL_BUDGET_PCT, withinPplBudget } from "../analysis/mod.ts";
import { ratioWords, SPEED_WORDS } from "./ratio_words.ts";
import { batchScalingLines } from "./batch_scaling.ts";

/** One block of the report. */
export type Block =
  | { kind: "h"; level: number; text: string }
  | { kind: "p"; text: string }
  | { kind: "list"; items: string[] }
  | { kind: "table"; rows: string[][] }
  | { kind: "comparison" }
  | { kind: "figure"; stem: string; png: Uint8Array };

/** See the module doc. */
export function cacheAnswer(
  ext: SetupExtended,
  entries: Record<string, DtypeEntry>,
): Block[] {
  const ref = referenceLabel(entries);
  const speed = ref === undefined ? {} : ext.kv_cache_speedup[ref] ?? {};
  const measured = Object.entries(speed).filter((e): e is [string, number] => e[1] !== null);
  const check = ext.checks.cache_faster_at_every_length;
  const detail = ext.kv_cache_reference?.by_context ?? {};
  if (ref === undefined || measured.length === 0) {
    return [{
      kind: "p",
      text: "Not measured: no context was run both with and without the KV cache.",
    }];
  }
  const [firstCtx, firstX] = measured[0]!;
  const [lastCtx, lastX] = measured.at(-1)!;
  const first = detail[firstCtx];
  const last = detail[lastCtx];
  const text = `With the KV cache, **${ref}** decodes **${fmt(last?.tokens_s_on)} tokens/s** ` +
    `at ${lastCtx} tokens of context against ${fmt(last?.tokens_s_off)} ` +
    `without it: **${ratioWords(lastX, SPEED_WORDS)}** (${
      ratioWords(firstX, SPEED_WORDS)
    } at ${firstCtx} tokens). ` +
    `The per-token decode latency (median) with the cache goes from ${
      fmt(first?.token_p50_ms_on, 2)
    } ms at ${firstCtx} tokens to ${fmt(last?.token_p50_ms_on, 2)} ms at ${lastCtx}; ` +
    `without it, from ${offLatency(first)} to ${offLatency(last)}, because every step ` +
    `recomputes the whole prompt.`;
  const open = check.details.not_established;
  const verdict = check.details.pairs === 0
    ? "Whether the cache is faster at every length cannot be decided (no pairs)."
    : check.value === true
    ? `The cache is faster for every dtype at every length (${check.details.pairs} pairs, each ` +
      `established over rounds; smallest speedup ${fmt(check.details.min_speedup, 2)}×).`
    : check.value === false
    ? `The cache is **not** faster everywhere: ${
      check.details.slower.map((s) =>
        `${s.label} at ${s.context} (${ratioWords(s.speedup, SPEED_WORDS)} with it)`
      ).join(", ")
    }.`
    : `Not established at every length: for ${open.length} of ${check.details.pairs} pairs the ` +
      `paired comparison over rounds does not establish the gain (one round gives no interval; ` +
      `otherwise the interval must clear 1 and the ${fmt(ext.min_effect_pct, 0)} % minimum). ${
        open.every((p) => p.speedup > 1) ? "Every point estimate favours the cache; the " : "The "
      }smallest speedup is ${fmt(check.details.min_speedup, 2)}×.`;
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
  const prefill = check.details.prefill_ratio;
  const delta = q?.delta_ppl_pct ?? null;
  const facts =
    `At ${four.longest_context ?? "—"} tokens with the cache, **${fourLabel}** decodes ` +
    `${fmt(four.tokens_s_longest)} tokens/s against ${fmt(base.tokens_s_longest)} for ${ref} ` +
    `(**${ratioWords(speed, SPEED_WORDS)}**${speedInterval(check.details)}), prefills ${
      ratioWords(prefill, SPEED_WORDS)
    }, and ${memoryPhrase(mem, memKind)}${memoryFigures(check.details.memory_gb)}. ` +
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
      `but the paired comparison over ${check.details.speed_rounds} round(s) does not establish ` +
      `a speed difference (${fmt(speed, 2)}×: ${
        check.details.speed_reason || speedNote(check.details.speed_rounds)
      }).`
    : check.value === "only_for_memory"
    ? `**Only for memory**: the quality cost is within the ${DELTA_PPL_BUDGET_PCT} % budget and ` +
      `it needs less ${memKind}, but on this device 4-bit decodes slower than ${ref}.`
    : check.value === "not_on_this_device"
    ? `**Not on this device**: the quality cost is within the ${DELTA_PPL_BUDGET_PCT} % budget, ` +
      `but 4-bit decodes slower than ${ref} and a lower peak ${memKind} is not established ` +
      `here (${check.details.memory_reason}).`
    : `**Yes**: the quality cost is within the ${DELTA_PPL_BUDGET_PCT} % budget and decoding is ` +
      `${fmt(speed, 2)}× faster.`;
  return [{ kind: "p", text: facts }, { kind: "p", text: verdict }];
}

/** ` [0.91–1.12× over 5 rounds]`, or ` (one round: no interval)`. */
function speedInterval(d: SetupExtended["checks"]["four_bit_verdict"]["details"]): string {
  if (d.speed_ci95 === null) return d.speed_rounds > 0 ? `, ${speedNote(d.speed_rounds)}` : "";
  return `, 95 % interval ${fmt(d.speed_ci95[0], 3)}–${fmt(d.speed_ci95[1], 3)}× over ` +
    `${d.speed_rounds} rounds, this one comparison`;
}

function speedNote(rounds: number): string {
  return rounds < 2
    ? "one round per arm, so no interval between rounds exists"
    : "its interval contains 1, lies inside the A/A interval or the effect is under the minimum";
}

/** A cache-off median step latency, or why there is none (a run of one decode step has no median). */
function offLatency(d: { token_p50_ms_off?: number | null } | undefined): string {
  return d?.token_p50_ms_off != null
    ? `${fmt(d.token_p50_ms_off, 2)} ms`
    : "no median (its runs made one decode step each)";
}

/** " (median per-round peak 0.55 GB vs 0.60 GB)": the very numbers the memory ratio divides. */
function memoryFigures(gb: [number, number] | null): string {
  return gb === null ? "" : ` (median per-round peak ${fmt(gb[0], 2)} GB vs ${fmt(gb[1], 2)} GB)`;
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
    : `The sweet spot is **${spot.label}**: the fastest dtype whose ΔPPL stays under ` +
      `${DELTA_PPL_BUDGET_PCT} % — ${fmt(spot.tokens_s)} tokens/s at ${spot.context} tokens ` +
      `with the cache, ΔPPL ${fmt(spot.delta_ppl_pct, 2)} %.` +
      (ties.length > 0
        ? ` Its lead over ${ties.join(", ")} is not established by the paired comparison ` +
          `over rounds: the ranking is not settled.`
        : "");
  const rows = [
    ["dtype", "decode tok/s (longest, cache on)", "ΔPPL %", `under ${DELTA_PPL_BUDGET_PCT} %`],
    ...Object.entries(entries)
      .toSorted((a, b) => compareDtypes(a[1].dtype, b[1].dtype))
      .map(([label, e]) => {
        const d = ext.quality[label]?.delta_ppl_pct ?? null;
        return [
          label,
          fmt(e.tokens_s_longest),
          fmt(d, 2),
          d === null ? "not measured" : withinPplBudget(d) ? "yes" : "no",
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
      text: `Rule: ${scaling.rule}. Decode tokens/s are a cell's pooled rate (all decode ` +
        `tokens ÷ all decode time), summed over the batch; per sequence = total ÷ batch ` +
        `(docs/batching.md).`,
    },
    { kind: "list", items: batchScalingLines(scaling.entries, where) },
  ];
}

/** Every block's A/A control and verdicts, then the drift warnings. */
export function speedVerdictBlocks(ext: SetupExtended, level: number): Block[] {
  const out: Block[] = [
    { kind: "h", level, text: "Speed verdicts, block by block" },
    {
      kind: "p",
      text: `Each arm (dtype × cache mode) against its block's baseline: the geometric mean of ` +
        `the per-round ratios of pooled decode rates, with its 95 % interval over rounds ` +
        `(Bonferroni over the block's arms). The \`~aa\` row is the A/A control, a second ` +
        `worker of the baseline arm. A verdict needs its interval clear of 1, an effect of at ` +
        `least ${fmt(ext.min_effect_pct, 0)} % and an effect larger, either way, than the A/A ` +
        `interval's reach from 1; it is ` +
        `settled when its interval lies clear of the ±${fmt(ext.min_effect_pct, 0)} % band or ` +
        `inside it.`,
    },
  ];
  if (ext.blocks.every((b) => b.verdicts.every((v) => v.rounds < 2))) {
    out.push({
      kind: "p",
      text: "These results hold one round per arm (written before rounds existed, or stopped " +
        "after the first round): no interval between rounds exists, so no speed verdict is " +
        "established; the ratios below are point estimates.",
    });
  }
  const rows = [[
    "context",
    "family",
    "batch",
    "arm",
    "÷ baseline",
    "95 % interval",
    "rounds",
    "verdict",
    "settled",
  ]];
  for (const b of ext.blocks) {
    for (const v of b.verdicts) {
      rows.push([
        String(b.context),
        b.family,
        String(b.batch),
        `${v.arm} ÷ ${b.baseline}`,
        fmt(v.ratio, 3),
        v.ci95 === null ? "—" : `${fmt(v.ci95[0], 3)}–${fmt(v.ci95[1], 3)}`,
        String(v.rounds),
        v.verdict,
        v.settled ? "yes" : "no",
      ]);
    }
  }
  if (rows.length > 1) out.push({ kind: "table", rows });
  const aa = ext.blocks.filter((b) => b.aa_ratio !== null);
  out.push({
    kind: "p",
    text: aa.length === 0
      ? "No block has an A/A control in these results (A/A ratio and interval: —)."
      : `A/A control ÷ baseline: ${
        aa.map((b) =>
          `${b.context} tokens ${b.family} ${fmt(b.aa_ratio, 3)}× (${
            b.aa_ci95 === null ? "no interval" : `${fmt(b.aa_ci95[0], 3)}–${fmt(b.aa_ci95[1], 3)}`
          })`
        ).join("; ")
      }.`,
  });
  if (ext.drift_warnings.length > 0) {
    out.push(
      {
        kind: "p",
        text: "**Drift.** With the cache on or off, a longer context cannot decode faster; " +
          "these arms did, so the machine changed between their blocks:",
      },
      { kind: "list", items: ext.drift_warnings.map((w) => w.message) },
    );
  }
  return out;
}

/** What the memory numbers contain, and the model's own weight and KV-cache bytes beside them. */
export function memoryBlocks(
  ext: SetupExtended,
  entries: Record<string, DtypeEntry>,
  level: number,
): Block[] {
  const rows = [[
    "dtype",
    "largest peak RSS GB",
    "peak at longest context GB (median)",
    "range GB",
    "rounds",
    "weights GB (nominal)",
    "KV cache GB (longest context)",
  ]];
  for (const [label, e] of Object.entries(entries)) {
    const m = e.memory_longest;
    rows.push([
      label,
      fmt(e.rss_gb, 3),
      `${fmt(m.median_gb, 3)} ${m.kind}`,
      m.range_gb === null ? "—" : `${fmt(m.range_gb[0], 3)}–${fmt(m.range_gb[1], 3)}`,
      String(m.rounds),
      fmt(e.weights_gb, 3),
      fmt(e.kv_cache_gb_longest, 3),
    ]);
  }
  return [
    { kind: "h", level, text: "Memory" },
    {
      kind: "p",
      text: `Peak RSS is the ${ext.memory_contains}. A memory difference counts only when ` +
        `every round's peak of one arm lies below every round's peak of the other (two rounds ` +
        `or more each).`,
    },
    { kind: "table", rows },
  ];
}

/**
 * The conversation figure (`chat_ttft_per_turn`): time to first token per turn with and without
 * prefix reuse, RAG injection and removal marked, and the cumulative token hit rate per turn, one
 * panel per conversation. A function from rows to a Vega-Lite spec; rendering (SVG, PNG) is the
 * shared step of `lib/report`.
 *
 * @module
 */
import { renderSpec, type VegaLiteSpec } from "../report/render.ts";
import { FONT_FAMILY } from "../report/font_metrics.ts";
import type { ChatTurnRow } from "./rows.ts";
import { writeAtomically } from "./rows.ts";

/** File stem of the figure. */
export const CHAT_FIGURE_STEM = "chat_ttft_per_turn";

const MODE_LABEL = { on: "prefix reuse on", off: "prefix reuse off" } as const;
const MARKS = { rag_data: "RAG injected", rag_removal: "RAG removed" } as const;
const PANEL = { width: 260, height: 170 };

/**
 * Vega-Lite spec of TTFT per turn (reuse on vs off, RAG turns marked by vertical rules) over the
 * cumulative token hit rate, a column per conversation (wrapped by three).
 *
 * @param rows Per-turn rows (error rows are left out).
 * @param options `title` subtitle line (model, dtype, machine).
 * @returns The spec, data inline.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chatFigureSpec } from "./figure.ts";
 * const spec = chatFigureSpec([]);
 * assert(JSON.stringify(spec).includes("no conversation turns"));
 * ```
 */
export function chatFigureSpec(
  rows: readonly ChatTurnRow[],
  options: { subtitle?: string } = {},
): VegaLiteSpec {
  const heading = "Time to first token per turn, with and without prefix reuse";
  const config = {
    font: FONT_FAMILY,
    background: "white",
    padding: 12,
    title: { fontSize: 15, anchor: "start", subtitleFontSize: 11, subtitleColor: "#555" },
    axis: { labelFontSize: 11, titleFontSize: 12, gridColor: "#e6e6e6" },
    legend: { labelFontSize: 11, titleFontSize: 12 },
    header: { labelFontSize: 12, labelFontWeight: "bold" },
    view: { stroke: "#ccc" },
  };
  const ok = rows.filter((r) => r.status === "ok");
  if (ok.length === 0) {
    return {
      $schema: "https://vega.github.io/schema/vega-lite/v5.json",
      title: heading,
      data: { values: [{ message: "no conversation turns" }] },
      mark: { type: "text", fontSize: 16, color: "#666" },
      encoding: { text: { field: "message", type: "nominal" } },
      width: PANEL.width,
      height: 100,
      config,
    } as unknown as VegaLiteSpec;
  }
  const order = [...new Set(ok.map((r) => r.conversation))];
  const values = ok.map((r) => ({
    conversation: r.conversation,
    turn: r.turn,
    kind: r.kind,
    mode: MODE_LABEL[r.prefix_cache],
    ttft_ms: r.ttft_ms,
    prompt_tokens: r.prompt_tokens,
    reused_tokens: r.reused_tokens,
    cut_tokens: r.cut_tokens,
    cumulative_hit_rate: r.prefix_cache === "on" ? r.cumulative_hit_rate : null,
    marker: (MARKS as Record<string, string>)[r.kind] ?? null,
  }));
  const facet = { field: "conversation", type: "nominal", title: null, sort: order };
  const x = {
    field: "turn",
    type: "quantitative",
    title: "turn",
    scale: { zero: false, nice: false, padding: 10 },
    axis: { tickMinStep: 1, format: "d" },
  };
  const rule = (marker: string, color: string) => ({
    transform: [{ filter: `datum.marker === '${marker}' && datum.mode === '${MODE_LABEL.on}'` }],
    mark: { type: "rule", strokeDash: [4, 3], strokeWidth: 1.5, color },
    encoding: { x },
  });
  const rules = [rule(MARKS.rag_data, "#2ca02c"), rule(MARKS.rag_removal, "#d62728")];
  const ttft = {
    facet,
    columns: 3,
    spec: {
      ...PANEL,
      layer: [
        ...rules,
        {
          mark: { type: "line", point: { filled: true, size: 35 } },
          encoding: {
            x,
            y: { field: "ttft_ms", type: "quantitative", title: "TTFT, ms" },
            color: {
              field: "mode",
              type: "nominal",
              title: null,
              scale: { domain: Object.values(MODE_LABEL), range: ["#1f77b4", "#ff7f0e"] },
            },
            strokeDash: {
              field: "mode",
              type: "nominal",
              title: null,
              scale: { domain: Object.values(MODE_LABEL), range: [[1, 0], [5, 3]] },
            },
            tooltip: [
              { field: "conversation" },
              { field: "turn" },
              { field: "kind" },
              { field: "mode" },
              { field: "ttft_ms", title: "TTFT ms", format: ".1f" },
              { field: "prompt_tokens", title: "prompt tokens" },
              { field: "reused_tokens", title: "reused tokens" },
              { field: "cut_tokens", title: "cut tokens" },
            ],
          },
        },
      ],
    },
    resolve: { scale: { x: "independent", y: "independent" } },
  };
  const hit = {
    transform: [{ filter: "datum.mode === 'prefix reuse on'" }],
    facet,
    columns: 3,
    resolve: { scale: { x: "independent" } },
    spec: {
      ...PANEL,
      height: 110,
      layer: [
        ...rules,
        {
          mark: { type: "line", point: { filled: true, size: 30 }, color: "#1f77b4" },
          encoding: {
            x,
            y: {
              field: "cumulative_hit_rate",
              type: "quantitative",
              title: "cumulative hit rate",
              scale: { domain: [0, 1] },
              axis: { format: ".0%" },
            },
          },
        },
      ],
    },
  };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: {
      text: heading,
      subtitle: [
        "dashed vertical lines: RAG data injected (green) or removed (red); lower row: reused prompt tokens / prompt tokens so far",
        ...(options.subtitle ? [options.subtitle] : []),
      ],
    },
    data: { values },
    vconcat: [ttft, hit],
    config,
  } as unknown as VegaLiteSpec;
}

/**
 * Renders the figure and writes `<stem>.vl.json`, `.svg` and `.png` into `dir`.
 *
 * @param rows Per-turn rows.
 * @param dir Output directory.
 * @param options Subtitle.
 * @returns The paths written.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeChatFigure } from "./figure.ts";
 * const files = await writeChatFigure([], await Deno.makeTempDir());
 * assert.deepEqual(files.map((f) => f.split(".").slice(1).join(".")), ["vl.json", "svg", "png"]);
 * ```
 */
export async function writeChatFigure(
  rows: readonly ChatTurnRow[],
  dir: string,
  options: { subtitle?: string } = {},
): Promise<string[]> {
  const spec = chatFigureSpec(rows, options);
  const { svg, png } = await renderSpec(spec);
  const stem = `${dir}/${CHAT_FIGURE_STEM}`;
  const files = [`${stem}.vl.json`, `${stem}.svg`, `${stem}.png`];
  await writeAtomically(files[0]!, (tmp) => Deno.writeTextFile(tmp, JSON.stringify(spec, null, 2)));
  await writeAtomically(files[1]!, (tmp) => Deno.writeTextFile(tmp, svg));
  await writeAtomically(files[2]!, (tmp) => Deno.writeFile(tmp, png));
  return files;
}

/**
 * Private pieces the figure specs share: the config (DejaVu Sans, sizes), the dtype colour scale,
 * the context axis, per-cell records and the facet wrapper. Never re-exported.
 *
 * @module
 */
import type { SummaryRow } from "./summary.ts";
import type { VegaLiteSpec } from "./render.ts";
import { FONT_FAMILY } from "./font_metrics.ts";
import { compareDtypes, displayLabel, setupsOf, wrapText } from "./_util.ts";

/** Vega-Lite `$schema` of every spec. */
export const SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";

/** Width and height of one panel, pixels. */
export const PANEL = { width: 380, height: 260 } as const;

/** Config shared by every figure. */
export const CONFIG = {
  font: FONT_FAMILY,
  background: "white",
  padding: 12,
  title: { fontSize: 15, anchor: "start", offset: 10, subtitleFontSize: 11, subtitleColor: "#555" },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: "#e6e6e6" },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260 },
  header: { labelFontSize: 12, titleFontSize: 12, labelFontWeight: "bold" },
  view: { stroke: "#ccc" },
} as const;

/** A point selection bound to the dtype legend: click a dtype to highlight its curves. */
export const LEGEND_PICK = [
  { name: "pick", select: { type: "point", fields: ["dtype_label"] }, bind: "legend" },
] as const;

/** Opacity that fades the curves the legend selection leaves out. */
export const PICK_OPACITY = { condition: { param: "pick", value: 1, empty: true }, value: 0.15 };

/** Label shown for a cache mode. */
export function cacheLabel(useCache: boolean): string {
  return useCache ? "KV cache on" : "KV cache off";
}

/** One summary cell as figure data (labels resolved, only the fields figures use). */
export interface CellDatum {
  setup: string;
  model: string;
  device: string;
  dtype: string;
  dtype_label: string;
  cache: string;
  context_tokens: number;
  batch: number;
  [field: string]: string | number | boolean | null;
}

/** Figure records from summary rows, sorted by dtype, cache and context. */
export function cellData(summary: readonly SummaryRow[], fields: readonly (keyof SummaryRow)[]) {
  const minBatch = Math.min(...summary.map((r) => r.batch));
  const setups = setupsOf(summary);
  return summary
    .filter((r) => r.batch === minBatch)
    .toSorted((a, b) =>
      compareDtypes(a.dtype, b.dtype) || Number(b.use_cache) - Number(a.use_cache) ||
      a.context_tokens - b.context_tokens
    )
    .map((r) => {
      const out: CellDatum = {
        setup: setups.find((s) => s.model === r.model && s.device === r.device)?.key ?? r.model,
        model: r.model,
        device: r.device,
        dtype: r.dtype,
        dtype_label: displayLabel(r.dtype),
        cache: cacheLabel(r.use_cache),
        context_tokens: r.context_tokens,
        batch: r.batch,
      };
      for (const f of fields) out[f as string] = r[f];
      return out;
    });
}

/** Colour encoding by dtype, in DTYPES order, the same colours in every figure. */
export function dtypeColor(dtypes: readonly string[]) {
  const sorted = [...new Set(dtypes)].sort(compareDtypes);
  return {
    field: "dtype_label",
    type: "nominal",
    title: "dtype",
    scale: { domain: sorted.map(displayLabel), scheme: "tableau10" },
  } as const;
}

/** The x encoding of context length: log base 2, ticks at the measured lengths. */
export function contextX(contexts: readonly number[]) {
  const values = [...new Set(contexts)].sort((a, b) => a - b);
  return {
    field: "context_tokens",
    type: "quantitative",
    title: "context (prompt tokens, log scale)",
    scale: { type: "log", base: 2, nice: false, padding: 12 },
    axis: { values, format: "d", grid: true },
  } as const;
}

/** Whether the records hold more than one setup (then figures facet by `setup`). */
export function manySetups(records: readonly { setup: string }[]): boolean {
  return new Set(records.map((r) => r.setup)).size > 1;
}

/** A title with an optional subtitle, wrapped to lines of at most 80 characters. */
export function title(text: string, subtitle?: string) {
  return subtitle === undefined ? { text } : { text, subtitle: wrapText(subtitle, 80) };
}

/**
 * Wraps an inner (unit or layer) spec: faceted by `column` / `row` fields when given, else a plain
 * top-level spec. Data goes on the top level.
 */
export function wrap(
  inner: Record<string, unknown>,
  options: {
    values: readonly object[];
    title: ReturnType<typeof title>;
    column?: { field: string; title: string | null; sort?: string[] };
    row?: { field: string; title: string | null; sort?: string[] };
  },
): VegaLiteSpec {
  const top = {
    $schema: SCHEMA,
    title: options.title,
    data: { values: options.values },
    config: CONFIG,
  };
  if (!options.column && !options.row) {
    return { ...top, ...inner, ...PANEL } as unknown as VegaLiteSpec;
  }
  const facet: Record<string, unknown> = {};
  if (options.column) {
    facet.column = { ...options.column, type: "nominal", header: { title: options.column.title } };
  }
  if (options.row) {
    facet.row = { ...options.row, type: "nominal", header: { title: options.row.title } };
  }
  return {
    ...top,
    facet,
    spec: { ...inner, ...PANEL },
    resolve: { axis: { x: "independent", y: "independent" } },
  } as unknown as VegaLiteSpec;
}

/** A spec that only says `message` (used when there is nothing to plot), with an optional why. */
export function emptyFigure(heading: string, message: string, subtitle?: string): VegaLiteSpec {
  return {
    $schema: SCHEMA,
    title: title(heading, subtitle),
    data: { values: [{ message }] },
    mark: { type: "text", fontSize: 16, color: "#666" },
    encoding: { text: { field: "message", type: "nominal" } },
    width: PANEL.width,
    height: 120,
    config: CONFIG,
  } as unknown as VegaLiteSpec;
}

/** What {@linkcode curvesByContext} plots. */
export interface CurvesByContext {
  /** Figure heading. */
  heading: string;
  /** Subtitle under the heading. */
  subtitle: string;
  /** Summary field on the y axis (one statistic per cell). */
  field: keyof SummaryRow;
  /** Summary field shown beside it in the tooltip. */
  spreadField: keyof SummaryRow;
  /** Tooltip title of the two fields. */
  tooltipTitles: [string, string];
  /** Further summary fields shown in the tooltip after those two. */
  moreTooltip?: { field: keyof SummaryRow; title: string }[];
  /** Tooltip number format. */
  format: string;
  /** y axis title. */
  yTitle: string;
  /** y scale settings beside `type: "log"` (e.g. `nice: false`). @default none */
  yScale?: Record<string, unknown>;
}

/**
 * A log-scale curve per dtype against context length, KV cache on solid and off dashed, with a
 * column per setup when several models ran: the shape of the latency and throughput figures.
 *
 * @param summary The summary rows.
 * @param options Fields, titles and formats.
 * @returns The spec, data inline (an empty figure when nothing is positive).
 */
export function curvesByContext(
  summary: readonly SummaryRow[],
  options: CurvesByContext,
): VegaLiteSpec {
  const more = options.moreTooltip ?? [];
  const values = cellData(summary, [
    options.field,
    options.spreadField,
    ...more.map((m) => m.field),
  ])
    .filter((v) => typeof v[options.field] === "number" && (v[options.field] as number) > 0);
  if (values.length === 0) return emptyFigure(options.heading, "no benchmark runs");
  return wrap(
    {
      layer: [
        {
          mark: { type: "line", strokeWidth: 2 },
          params: LEGEND_PICK,
          encoding: {
            strokeDash: {
              field: "cache",
              type: "nominal",
              title: "KV cache",
              sort: ["KV cache on", "KV cache off"],
              legend: { symbolType: "stroke", symbolStrokeWidth: 2, symbolSize: 500 },
            },
          },
        },
        { mark: { type: "point", filled: true, size: 45 } },
      ],
      encoding: {
        x: contextX(values.map((v) => v.context_tokens)),
        y: {
          field: options.field,
          type: "quantitative",
          title: options.yTitle,
          scale: { type: "log", ...options.yScale },
        },
        color: dtypeColor(values.map((v) => v.dtype)),
        opacity: PICK_OPACITY,
        tooltip: [
          { field: "dtype_label", title: "dtype" },
          { field: "cache" },
          { field: "context_tokens", title: "context" },
          { field: options.field, title: options.tooltipTitles[0], format: options.format },
          { field: options.spreadField, title: options.tooltipTitles[1], format: options.format },
          ...more.map((m) => ({ field: m.field, title: m.title, format: options.format })),
        ],
      },
    },
    {
      values,
      title: title(options.heading, options.subtitle),
      ...(manySetups(values) ? { column: { field: "setup", title: null } } : {}),
    },
  );
}

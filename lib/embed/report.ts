/**
 * The embedding report section (Markdown): throughput by dtype × device × batch size, the
 * transformers.js pipeline beside the ORT loop, quality against fp32, and the failed cells with
 * their reasons — every number read from the cell rows.
 *
 * @module
 */
import type { EmbedRow } from "./schema.ts";

/**
 * A Markdown table of texts/s: one line per engine × device × dtype, one column per batch size,
 * then peak RSS and 1 − the cosine with fp32 of the worst text over the line's cells.
 *
 * @param rows Cell rows.
 * @returns The table (header, separator, lines), or a sentence when no cell succeeded.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { embedThroughputTable } from "./report.ts";
 * assert.equal(embedThroughputTable([]), "No embedding cell succeeded.");
 * ```
 */
export function embedThroughputTable(rows: readonly EmbedRow[]): string {
  const ok = rows.filter((r) => r.status === "ok");
  if (ok.length === 0) return "No embedding cell succeeded.";
  const batches = [...new Set(ok.map((r) => r.batch))].sort((a, b) => a - b);
  const keys = [...new Set(ok.map((r) => `${r.engine}\u0000${r.device}\u0000${r.dtype}`))];
  const header = [
    "engine",
    "device",
    "dtype",
    ...batches.map((b) => `texts/s @ batch ${b}`),
    "p50 ms/batch @ largest",
    "peak RSS GB",
    "1 − cos vs fp32 (worst text)",
  ];
  const lines = keys.map((key) => {
    const [engine, device, dtype] = key.split("\u0000") as [string, string, string];
    const cells = ok.filter((r) => r.engine === engine && r.device === device && r.dtype === dtype);
    const at = (b: number) => cells.find((r) => r.batch === b);
    const largest = cells.reduce((a, b) => (b.batch > a.batch ? b : a));
    const rss = Math.max(...cells.map((r) => r.peak_rss_bytes ?? 0));
    const cos = cells.map((r) => r.cos_vs_fp32_min).filter((c): c is number => c !== null);
    return [
      engine === "ort" ? "ORT loop" : "transformers.js pipeline",
      device,
      dtype,
      ...batches.map((b) => fmt(at(b)?.texts_per_s, 1)),
      fmt(largest.batch_p50_ms, 1),
      rss > 0 ? (rss / 1e9).toFixed(2) : "–",
      cos.length ? oneMinus(Math.min(...cos)) : "–",
    ];
  });
  const align = header.map((_, i) => (i < 3 ? "---" : "---:"));
  return [header, align, ...lines].map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}

/**
 * The report section: setup, the throughput table, the pipeline comparison and the failures.
 *
 * @param rows Cell rows (one model, one sequence length).
 * @returns Markdown starting with a `## Embeddings` heading.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { embedReportMarkdown } from "./report.ts";
 * assert(embedReportMarkdown([]).startsWith("## Embeddings"));
 * ```
 */
export function embedReportMarkdown(rows: readonly EmbedRow[]): string {
  const out = ["## Embeddings", ""];
  const first = rows[0];
  if (first) {
    out.push(
      `Model \`${first.model}\`, ${first.seq_len} tokens per text, ${first.texts} texts; ` +
        `${first.device_name || "unknown CPU"}, onnxruntime-node ${first.ort_version}, ` +
        `transformers.js ${first.transformers_version}, commit ${first.git_commit}. ` +
        "Throughput counts the measured batches only (warmups dropped), from raw texts to " +
        "mean-pooled, L2-normalised embeddings, tokenisation included. The cosine compares each " +
        "text's embedding with the fp32 ORT embedding on the CPU.",
      "",
    );
  }
  out.push(embedThroughputTable(rows), "");
  const ratios: string[] = [];
  for (const r of rows) {
    if (r.engine !== "transformers.js" || r.status !== "ok") continue;
    const ort = rows.find((o) =>
      o.engine === "ort" && o.status === "ok" && o.device === r.device && o.dtype === r.dtype &&
      o.batch === r.batch
    );
    if (ort?.texts_per_s && r.texts_per_s) {
      ratios.push(
        `${r.device} ${r.dtype} @ ${r.batch}: ${(ort.texts_per_s / r.texts_per_s).toFixed(2)}×`,
      );
    }
  }
  if (ratios.length > 0) {
    out.push(`ORT loop vs transformers.js pipeline (texts/s ratio): ${ratios.join("; ")}.`, "");
  }
  const failed = rows.filter((r) => r.status === "error");
  if (failed.length > 0) {
    // Reason → "engine device dtype" → batch sizes.
    const reasons = new Map<string, Map<string, number[]>>();
    for (const r of failed) {
      const lines = reasons.get(r.error) ?? new Map<string, number[]>();
      const key = `${r.engine} ${r.device} ${r.dtype}`;
      lines.set(key, [...(lines.get(key) ?? []), r.batch]);
      reasons.set(r.error, lines);
    }
    out.push(`Failed cells (${failed.length}):`, "");
    for (const [reason, lines] of reasons) {
      const cells = [...lines].map(([key, batches]) => `${key} @ ${batches.join(", ")}`);
      out.push(`- ${cells.join("; ")}: ${reason}`);
    }
    out.push("");
  }
  return out.join("\n");
}

/** `1 − cos` in scientific notation; 0 when the embeddings are identical to float precision. */
function oneMinus(cos: number): string {
  const d = 1 - cos;
  return Math.abs(d) < 1e-12 ? "0" : d.toExponential(1);
}

function fmt(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined ? "–" : value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/**
 * Writing a checked merge (merge.ts): the merged `results.csv`, `results.parquet` and
 * `perplexity.csv`, every summary, figure and report rebuilt by the report writers,
 * `benchmarks/merge.json` (shards, hosts, cells per shard, missing cells), and a per-host section
 * appended to `metrics/report.md` when more than one host measured.
 *
 * @module
 */
import { mergePreflight, mergeTelemetry, type ShardFiles } from "./merge_extras.ts";
import { join, resolve } from "node:path";
import type { BenchRow } from "../results/schema.ts";
import { writeParquet, writeTable } from "../results/table.ts";
import { summarize } from "../measure/stats.ts";
import type { MergePlan } from "./merge.ts";
import { exists } from "../_fs.ts";

/** Cells and decode speed of one host in a merge. */
export interface HostSummary {
  /** Host name. */
  host: string;
  /** Cells it measured. */
  cells: number;
  /** Median decode tokens/s over its ok runs, or null without any. */
  median_decode_tokens_per_s: number | null;
}

/**
 * Per-host cells and median decode tokens/s, hosts sorted by name.
 *
 * @param rows Merged rows.
 * @returns One entry per host (`""` for rows without a host).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hostSummaries } from "./merge_write.ts";
 * const row = (host: string, cell: string, v: number) =>
 *   ({ host, cell_id: cell, status: "ok", decode_tokens_per_s: v }) as never;
 * const s = hostSummaries([row("b", "c1", 10), row("b", "c1", 30), row("a", "c2", 5)]);
 * assert.deepEqual(s.map((h) => [h.host, h.cells, h.median_decode_tokens_per_s]), [["a", 1, 5], ["b", 1, 20]]);
 * ```
 */
export function hostSummaries(rows: readonly BenchRow[]): HostSummary[] {
  const by = new Map<string, BenchRow[]>();
  for (const r of rows) by.set(r.host ?? "", [...(by.get(r.host ?? "") ?? []), r]);
  return [...by.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([host, rs]) => {
    const rates = rs.flatMap((r) =>
      r.status === "ok" && r.decode_tokens_per_s !== null ? [r.decode_tokens_per_s] : []
    );
    return {
      host,
      cells: new Set(rs.map((r) => r.cell_id)).size,
      median_decode_tokens_per_s: rates.length > 0 ? summarize(rates).p50 : null,
    };
  });
}

/**
 * The report section comparing hosts (for a merge measured on more than one).
 *
 * @param hosts From {@linkcode hostSummaries}.
 * @returns Markdown.
 */
export function hostSection(hosts: readonly HostSummary[]): string {
  const lines = [
    "",
    "## Per host",
    "",
    "Cells each host measured and the median decode tokens/s over its ok runs (hosts ran " +
    "different cells, so a difference here mixes the machine with the cells it got).",
    "",
    "| host | cells | median decode tok/s |",
    "| --- | ---: | ---: |",
    ...hosts.map((h) =>
      `| ${h.host || "(unknown)"} | ${h.cells} | ${
        h.median_decode_tokens_per_s?.toFixed(1) ?? "—"
      } |`
    ),
    "",
  ];
  return lines.join("\n");
}

/** Options of {@linkcode writeMerged}. */
export interface WriteMergedOptions {
  /** Output root (`benchmarks/`, `figures/`, `metrics/` go under it). */
  outDir: string;
  /** Skip summary, figures and reports. @default false */
  skipOutputs?: boolean;
}

/**
 * Writes a merge.
 *
 * @param plan A checked merge.
 * @param options Where to write.
 * @returns The files written.
 * @throws {Error} when the output directory is one of the shard directories.
 */
export async function writeMerged(plan: MergePlan, options: WriteMergedOptions): Promise<string[]> {
  const out = resolve(options.outDir);
  for (const o of plan.outputs) {
    if (resolve(o.dir) === out || resolve(o.dir, "benchmarks") === out) {
      throw new Error(`merge: --out '${options.outDir}' is the shard directory '${o.dir}'`);
    }
  }
  const bench = join(options.outDir, "benchmarks");
  await Deno.mkdir(bench, { recursive: true });
  const files = [
    join(bench, "results.csv"),
    join(bench, "results.parquet"),
    join(bench, "perplexity.csv"),
  ];
  await writeTable(files[0]!, "bench", plan.rows);
  await writeParquet(files[1]!, "bench", plan.rows);
  await writeTable(files[2]!, "perplexity", plan.perplexity);
  files.push(...await writeMergedExtras(plan, bench));
  const hosts = hostSummaries(plan.rows);
  if (!options.skipOutputs && plan.rows.length > 0) {
    const { writeAllOutputs } = await import("../report/mod.ts");
    const written = await writeAllOutputs({
      resultsCsv: files[0]!,
      perplexityCsv: plan.perplexity.length > 0 ? files[2]! : null,
      outDir: options.outDir,
    });
    files.push(...written.files);
    const report = join(options.outDir, "metrics", "report.md");
    if (hosts.length > 1 && written.files.some((f) => resolve(f) === resolve(report))) {
      await Deno.writeTextFile(report, hostSection(hosts), { append: true });
    }
  }
  const merge = {
    spec_name: plan.spec.name,
    spec_hash: plan.specHash,
    shards: plan.outputs.map((o) => ({
      dir: o.dir,
      shard: o.manifest?.shard ?? o.rows[0]?.shard ?? "",
      hosts: [...new Set(o.rows.map((r) => r.host ?? ""))],
      cells: new Set(o.rows.map((r) => r.cell_id)).size,
      rows: o.rows.length,
      perplexity_rows: o.perplexity.length,
    })),
    hosts,
    cells_in_grid: plan.rows.length === 0 && plan.missingCells.length === 0
      ? 0
      : new Set(plan.rows.map((r) => r.cell_id)).size + plan.missingCells.length,
    cells_merged: new Set(plan.rows.map((r) => r.cell_id)).size,
    failed_cells: plan.failedCells,
    missing_cells: plan.missingCells,
    missing_perplexity_models: plan.missingPerplexity,
  };
  const mergeJson = join(bench, "merge.json");
  await Deno.writeTextFile(mergeJson, JSON.stringify(merge, null, 2) + "\n");
  files.push(mergeJson);
  return files;
}

/**
 * Writes the shards' merged `telemetry.csv` and `preflight.json` into `bench` (and removes stale
 * copies there when no shard has them), so the merged report reads every shard's and no other's.
 */
async function writeMergedExtras(plan: MergePlan, bench: string): Promise<string[]> {
  const shards: ShardFiles[] = [];
  for (const o of plan.outputs) {
    const nested = join(o.dir, "benchmarks");
    const benchDir = await exists(join(nested, "results.csv")) ? nested : o.dir;
    shards.push({
      benchDir,
      label: o.manifest?.shard ?? o.rows[0]?.shard ?? o.dir,
      host: o.manifest?.host ?? o.rows[0]?.host ?? "",
    });
  }
  const written: string[] = [];
  const telemetry = await mergeTelemetry(shards);
  const telemetryCsv = join(bench, "telemetry.csv");
  if (telemetry.cells().length > 0) {
    await telemetry.write(telemetryCsv);
    written.push(telemetryCsv);
  } else await Deno.remove(telemetryCsv).catch(() => {});
  const preflight = await mergePreflight(shards);
  const preflightJson = join(bench, "preflight.json");
  if (preflight !== null) {
    await Deno.writeTextFile(preflightJson, JSON.stringify(preflight, null, 2) + "\n");
    written.push(preflightJson);
  } else await Deno.remove(preflightJson).catch(() => {});
  return written;
}

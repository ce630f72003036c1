/**
 * Merging the outputs of a sharded sweep: every shard's `results.csv` and `perplexity.csv` are
 * read strictly and checked before anything is written — one spec (`spec_hash`) across all rows,
 * no cell in two shard outputs (a duplicated shard, or a conflict when the two copies differ in
 * spec hash or host), no cell outside the spec's grid — then the cells the grid still lacks are
 * listed. {@linkcode writeMerged} (merge_write.ts) writes the merged tables and rebuilds the
 * reports.
 *
 * @module
 */
import { join } from "node:path";
import type { BenchRow, PerplexityRow } from "../results/schema.ts";
import { readTable } from "../results/table.ts";
import { expandGrid } from "./grid.ts";
import { groupBlocks } from "./blocks.ts";
import { SHARD_MANIFEST, specHash } from "./shard.ts";
import { parseSweepSpec, type SweepSpec } from "./spec.ts";
import { exists } from "../_fs.ts";

/** One shard output as read. */
export interface ShardOutput {
  /** The directory given. */
  dir: string;
  /** Its rows. */
  rows: BenchRow[];
  /** Its perplexity rows (empty without a perplexity.csv). */
  perplexity: PerplexityRow[];
  /** Its `shard.json`, when it has one. */
  manifest: { shard?: string; host?: string; spec_hash?: string; spec?: unknown } | null;
}

/** The checked merge, ready to write. */
export interface MergePlan {
  /** The spec every shard ran. */
  spec: SweepSpec;
  /** Its hash. */
  specHash: string;
  /** The shard outputs, in the order given. */
  outputs: ShardOutput[];
  /** Merged rows, cells in grid order. */
  rows: BenchRow[];
  /** Merged perplexity rows. */
  perplexity: PerplexityRow[];
  /** Grid cells no shard has. */
  missingCells: string[];
  /** Cells whose rows are errors. */
  failedCells: string[];
  /** Models of the spec's perplexity step without any perplexity row. */
  missingPerplexity: string[];
}

/**
 * Reads one shard output: `DIR/benchmarks/results.csv` (a sweep's `--out`), else
 * `DIR/results.csv`.
 *
 * @param dir The directory.
 * @returns Its rows and manifest.
 * @throws {Error} naming the directory when it has no results.csv; `SyntaxError` when a table
 * is corrupt.
 */
export async function readShardOutput(dir: string): Promise<ShardOutput> {
  let bench = join(dir, "benchmarks");
  if (!await exists(join(bench, "results.csv"))) bench = dir;
  const results = join(bench, "results.csv");
  if (!await exists(results)) {
    throw new Error(`'${dir}' holds no benchmarks/results.csv (is it a sweep's --out directory?)`);
  }
  const ppl = join(bench, "perplexity.csv");
  const manifestPath = join(bench, SHARD_MANIFEST);
  return {
    dir,
    rows: await readTable(results, "bench", { anyOrder: true }),
    perplexity: await exists(ppl) ? await readTable(ppl, "perplexity", { anyOrder: true }) : [],
    manifest: await exists(manifestPath) ? JSON.parse(await Deno.readTextFile(manifestPath)) : null,
  };
}

/**
 * Checks shard outputs against each other and the spec.
 *
 * @param outputs The shard outputs.
 * @param spec The spec, or null to take it from the first `shard.json`.
 * @returns The merge.
 * @throws {Error} naming the cells (and directories) that are duplicated or conflict, rows of
 * another spec, cells outside the grid, or a missing spec.
 */
export function planMerge(outputs: readonly ShardOutput[], spec: SweepSpec | null): MergePlan {
  if (outputs.length === 0) throw new Error("merge: no shard directories given");
  const fromManifest = outputs.find((o) => o.manifest?.spec !== undefined);
  const theSpec = spec ??
    (fromManifest
      ? parseSweepSpec(fromManifest.manifest!.spec, `${fromManifest.dir}/${SHARD_MANIFEST}`)
      : null);
  if (!theSpec) {
    throw new Error("merge: no shard has a shard.json with its spec; pass --config SPEC");
  }
  const hash = specHash(theSpec);
  const problems: string[] = [];
  for (const o of outputs) {
    const other = [...o.rows, ...o.perplexity].filter((r) => r.spec_hash !== hash);
    if (other.length > 0) {
      const seen = [...new Set(other.map((r) => r.spec_hash || "(none)"))].join(", ");
      problems.push(
        `'${o.dir}': ${other.length} rows have spec_hash ${seen}, not the spec's ${hash} ` +
          `(another spec, or written before rows recorded it)`,
      );
    }
  }
  if (problems.length > 0) throw new Error(`merge: spec mismatch: ${problems.join("; ")}`);

  const owner = new Map<string, { dir: string; host: string; hash: string }>();
  const byCell = new Map<string, BenchRow[]>();
  const clashes: string[] = [];
  for (const o of outputs) {
    const mine = new Map<string, BenchRow[]>();
    for (const r of o.rows) mine.set(r.cell_id, [...(mine.get(r.cell_id) ?? []), r]);
    for (const [id, rows] of mine) {
      const first = rows[0]!;
      const prev = owner.get(id);
      if (prev) {
        const what = prev.host !== (first.host ?? "") || prev.hash !== (first.spec_hash ?? "")
          ? `conflicting cell ${id} (${prev.dir} on host ${prev.host}, ${o.dir} on host ${first.host})`
          : `duplicated cell ${id} (in ${prev.dir} and ${o.dir})`;
        clashes.push(what);
        continue;
      }
      owner.set(id, { dir: o.dir, host: first.host ?? "", hash: first.spec_hash ?? "" });
      byCell.set(id, rows);
    }
  }
  if (clashes.length > 0) {
    throw new Error(
      `merge: ${clashes.length} cells are in more than one shard output (a shard given twice, ` +
        `or shards of different plans): ${clashes.slice(0, 10).join("; ")}` +
        (clashes.length > 10 ? `; … ${clashes.length - 10} more` : ""),
    );
  }
  // An empty shard given twice has no cells to clash: its manifest still names the shard.
  const labels = new Map<string, string>();
  for (const o of outputs) {
    const label = o.manifest?.shard;
    if (!label) continue;
    const prev = labels.get(label);
    if (prev !== undefined) clashes.push(`shard ${label} (${prev} and ${o.dir})`);
    labels.set(label, o.dir);
  }
  const counts = new Set([...labels.keys()].map((l) => l.split("/")[1]));
  if (counts.size > 1) {
    clashes.push(`shards of different counts (${[...labels.keys()].join(", ")})`);
  }
  if (clashes.length > 0) throw new Error(`merge: duplicated shards: ${clashes.join("; ")}`);
  // Every arm of every block, the A/A controls included.
  const grid = groupBlocks(theSpec, expandGrid(theSpec)).flatMap((b) => b.arms).map((c) => c.id);
  const inGrid = new Set(grid);
  const extra = [...byCell.keys()].filter((id) => !inGrid.has(id));
  if (extra.length > 0) {
    throw new Error(`merge: cells not in the spec's grid: ${extra.slice(0, 10).join(", ")}`);
  }
  const pplOwner = new Map<string, string>();
  const perplexity: PerplexityRow[] = [];
  for (const o of outputs) {
    const mine = new Set<string>();
    for (const r of o.perplexity) {
      const key = `${r.model}|${r.dtype}`;
      const prev = pplOwner.get(key);
      if (prev !== undefined && !mine.has(key)) clashes.push(`${key} (in ${prev} and ${o.dir})`);
      pplOwner.set(key, o.dir);
      mine.add(key);
      perplexity.push(r);
    }
  }
  if (clashes.length > 0) {
    throw new Error(`merge: duplicated perplexity rows: ${clashes.slice(0, 10).join("; ")}`);
  }
  const rows = grid.flatMap((id) => byCell.get(id) ?? []);
  return {
    spec: theSpec,
    specHash: hash,
    outputs: [...outputs],
    rows,
    perplexity,
    missingCells: grid.filter((id) => !byCell.has(id)),
    failedCells: grid.filter((id) => byCell.get(id)?.some((r) => r.status !== "ok") ?? false),
    missingPerplexity: theSpec.perplexity === null
      ? []
      : theSpec.models.filter((m) => !perplexity.some((r) => r.model === m)),
  };
}

/**
 * Which shard of a sweep this process runs: `--shard I/N` (0-based), else the index a cluster
 * scheduler sets — `JOB_COMPLETION_INDEX` (Kubernetes Indexed Job, with `--shards N` or
 * `TURBO_SHARDS`) or `SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN` (Slurm job array, with
 * `SLURM_ARRAY_TASK_COUNT` as N) — and where a row says it ran (`shard`, `host`, `spec_hash`).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { hostname } from "node:os";
import type { SweepSpec } from "./spec.ts";

/** One shard of N: `index` in `[0, count)`. */
export interface ShardSelection {
  /** 0-based shard index. */
  index: number;
  /** Number of shards. */
  count: number;
  /** Where the index came from (`--shard`, `JOB_COMPLETION_INDEX`, `SLURM_ARRAY_TASK_ID`). */
  source: string;
}

/** The flags that select a shard. */
export interface ShardFlags {
  /** `I/N`. */
  shard?: string | undefined;
  /** `N` (with an index from the environment). */
  shards?: string | undefined;
}

/**
 * Resolves the shard from the flags, then the schedulers' environment variables; null when
 * nothing asks for sharding.
 *
 * @param flags `--shard` and `--shards` as given.
 * @param env The environment (a plain object, so tests need not touch the process's).
 * @returns The shard, or null for an unsharded run.
 * @throws {RangeError} naming the flag or variable when a value is not an integer, the index is
 * not below the count, or the count is missing or disagrees between sources.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveShard } from "./shard.ts";
 * assert.deepEqual(resolveShard({ shard: "1/3" }, {}), { index: 1, count: 3, source: "--shard" });
 * const slurm = { SLURM_ARRAY_TASK_ID: "12", SLURM_ARRAY_TASK_MIN: "10", SLURM_ARRAY_TASK_COUNT: "3" };
 * assert.equal(resolveShard({}, slurm)?.index, 2);
 * assert.throws(() => resolveShard({ shards: "3" }, { JOB_COMPLETION_INDEX: "3" }), /JOB_COMPLETION_INDEX=3/);
 * assert.throws(() => resolveShard({ shards: "3" }, { JOB_COMPLETION_INDEX: "1", ...slurm }), /both set/);
 * assert.equal(resolveShard({}, {}), null);
 * ```
 */
export function resolveShard(
  flags: ShardFlags,
  env: Readonly<Record<string, string | undefined>>,
): ShardSelection | null {
  const flagCount = flags.shards === undefined ? null : count(flags.shards, "--shards");
  const check = (index: number, n: number, source: string, shown: string): ShardSelection => {
    if (flagCount !== null && flagCount !== n) {
      throw new RangeError(`${shown} says ${n} shards but --shards says ${flagCount}`);
    }
    if (index >= n) {
      throw new RangeError(
        `${shown}: shard index ${index} must be below the shard count ${n} (indices are 0-based)`,
      );
    }
    return { index, count: n, source };
  };
  if (flags.shard !== undefined) {
    const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(flags.shard);
    if (!m) throw new RangeError(`--shard must be I/N (0-based, e.g. 0/4), got '${flags.shard}'`);
    return check(Number(m[1]), count(m[2]!, "--shard's N"), "--shard", `--shard ${flags.shard}`);
  }
  const k8s = env.JOB_COMPLETION_INDEX;
  const slurmSet = env.SLURM_ARRAY_TASK_ID !== undefined && env.SLURM_ARRAY_TASK_ID !== "";
  if (k8s !== undefined && k8s !== "" && slurmSet) {
    // Two schedulers claim this process: picking one would run some cells twice, others never.
    throw new RangeError(
      `JOB_COMPLETION_INDEX=${k8s} (Kubernetes) and SLURM_ARRAY_TASK_ID=${env.SLURM_ARRAY_TASK_ID} ` +
        `(Slurm) are both set: unset one, or pass --shard I/N`,
    );
  }
  if (k8s !== undefined && k8s !== "") {
    const index = integer(k8s, "JOB_COMPLETION_INDEX");
    const total = env.TURBO_SHARDS;
    const n = flagCount ?? (total ? count(total, "TURBO_SHARDS") : null);
    if (n === null) {
      throw new RangeError(
        `JOB_COMPLETION_INDEX=${k8s} is set but not the shard count: pass --shards N or set ` +
          `TURBO_SHARDS (the Job's completions)`,
      );
    }
    return check(index, n, "JOB_COMPLETION_INDEX", `JOB_COMPLETION_INDEX=${k8s}`);
  }
  const slurm = env.SLURM_ARRAY_TASK_ID;
  if (slurm !== undefined && slurm !== "") {
    const id = integer(slurm, "SLURM_ARRAY_TASK_ID");
    const min = env.SLURM_ARRAY_TASK_MIN
      ? integer(env.SLURM_ARRAY_TASK_MIN, "SLURM_ARRAY_TASK_MIN")
      : 0;
    if (id < min) {
      throw new RangeError(`SLURM_ARRAY_TASK_ID=${id} is below SLURM_ARRAY_TASK_MIN=${min}`);
    }
    const total = env.SLURM_ARRAY_TASK_COUNT;
    const n = total ? count(total, "SLURM_ARRAY_TASK_COUNT") : flagCount;
    if (n === null) {
      throw new RangeError(
        `SLURM_ARRAY_TASK_ID=${slurm} is set but not SLURM_ARRAY_TASK_COUNT: pass --shards N`,
      );
    }
    return check(id - min, n, "SLURM_ARRAY_TASK_ID", `SLURM_ARRAY_TASK_ID=${id} (min ${min})`);
  }
  if (flagCount !== null) {
    throw new RangeError(
      `--shards ${flagCount} needs a shard index: --shard I/N, JOB_COMPLETION_INDEX or ` +
        `SLURM_ARRAY_TASK_ID`,
    );
  }
  return null;
}

function integer(text: string, name: string): number {
  if (!/^\s*\d+\s*$/.test(text)) {
    throw new RangeError(`${name} must be a non-negative integer, got '${text}'`);
  }
  return Number(text);
}

function count(text: string, name: string): number {
  const n = integer(text, name);
  if (n < 1) throw new RangeError(`${name} must be at least 1, got '${text}'`);
  return n;
}

/** The `shard` column's value: `I/N`, or empty for an unsharded run. */
export function shardLabel(shard: ShardSelection | null | undefined): string {
  return shard ? `${shard.index}/${shard.count}` : "";
}

/**
 * The host a row records: `$TURBO_HOST` when set (a pod's node name, say), else the hostname.
 *
 * @param env The environment.
 * @returns A non-empty name.
 */
export function hostName(env: Readonly<Record<string, string | undefined>>): string {
  return env.TURBO_HOST || hostname() || "unknown";
}

/** Spec fields that do not change what a cell measures, left out of {@linkcode specHash}. */
export const SPEC_HASH_IGNORED: readonly string[] = ["name", "time_budget_s", "cell_timeout_s"];

/**
 * A spec's identity for merging: sha256 (first 16 hex digits) of its canonical JSON (keys
 * sorted, defaults filled) without {@linkcode SPEC_HASH_IGNORED}. Shards of one grid agree on
 * it; rows measured under another spec do not.
 *
 * @param spec A validated spec.
 * @returns 16 lowercase hex digits.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { specHash } from "./shard.ts";
 * import { parseSweepSpec } from "./spec.ts";
 * const a = parseSweepSpec({ name: "a", models: ["m"], dtypes: ["q4"], context_lengths: [8] });
 * const b = parseSweepSpec({ name: "b", models: ["m"], dtypes: ["q4"], context_lengths: [8], time_budget_s: 60 });
 * const c = parseSweepSpec({ models: ["m"], dtypes: ["q4"], context_lengths: [8], runs: 3 });
 * assert.equal(specHash(a), specHash(b));
 * assert.notEqual(specHash(a), specHash(c));
 * assert.match(specHash(a), /^[0-9a-f]{16}$/);
 * ```
 */
export function specHash(spec: SweepSpec): string {
  const kept = Object.fromEntries(
    Object.entries(spec).filter(([key]) => !SPEC_HASH_IGNORED.includes(key)),
  );
  return createHash("sha256").update(canonicalJson(kept)).digest("hex").slice(0, 16);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The columns every row of a sweep carries: where and under which spec it was measured. */
export interface RowStamp {
  /** `I/N`, or empty when unsharded. */
  shard: string;
  /** See {@linkcode hostName}. */
  host: string;
  /** See {@linkcode specHash}. */
  spec_hash: string;
}

/**
 * The stamp of a sweep's rows.
 *
 * @param spec The spec.
 * @param shard The shard, or null.
 * @param env The environment (for `TURBO_HOST`).
 * @returns `shard`, `host` and `spec_hash`.
 */
export function rowStamp(
  spec: SweepSpec,
  shard: ShardSelection | null,
  env: Readonly<Record<string, string | undefined>>,
): RowStamp {
  return { shard: shardLabel(shard), host: hostName(env), spec_hash: specHash(spec) };
}

/** Name of the manifest a sharded run writes beside its `results.csv`. */
export const SHARD_MANIFEST = "shard.json";

/**
 * Writes `<benchDir>/shard.json`: the shard, host, spec hash, the validated spec itself (so a
 * merge can list missing cells without the spec file) and the cells and perplexity models this
 * shard owns.
 *
 * @param benchDir The run's `benchmarks/` directory.
 * @param spec The spec.
 * @param shard The shard.
 * @param stamp Its row stamp.
 * @param cells The cells it owns.
 * @param perplexityModels The models whose perplexity it measures.
 */
export async function writeShardManifest(
  benchDir: string,
  spec: SweepSpec,
  shard: ShardSelection,
  stamp: RowStamp,
  cells: readonly { id: string }[],
  perplexityModels: readonly string[],
): Promise<void> {
  const manifest = {
    ...stamp,
    index: shard.index,
    count: shard.count,
    source: shard.source,
    written: new Date().toISOString(),
    cells: cells.map((c) => c.id),
    perplexity_models: perplexityModels,
    spec,
  };
  const path = `${benchDir}/${SHARD_MANIFEST}`;
  await Deno.writeTextFile(`${path}.tmp`, JSON.stringify(manifest, null, 2) + "\n");
  await Deno.rename(`${path}.tmp`, path);
}

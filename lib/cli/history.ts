/**
 * `deno task history`: the benchmark history kept in SQLite (every service job, every
 * `deno task bench --output`, every sweep cell).
 *
 * ```
 * deno task history [--model M] [--dtype D] [--device cpu] [--since 2026-01-01] [--commit C]
 *   [--source job|bench|sweep] [--limit 50] [--json]
 * deno task history --compare A B [--test mwu|welch] [--min-effect 0.1] [--alpha 0.05] [--json]
 * ```
 *
 * `--compare` takes two git commits (prefixes) or two job ids; it exits with code 1 when any
 * metric got worse (significant and at least the minimum effect), so CI can use it.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { HistoryDb, historyPath, RUN_SOURCES, type RunSource } from "../history/mod.ts";
import { compareRuns, type Comparison } from "../history/compare.ts";
import { TESTS } from "../history/significance.ts";
import { intFlag, parseFlags, runCli } from "./_cli.ts";

const USAGE = `Usage: deno task history [--db PATH] [--model M] [--dtype D] [--device D]
  [--since RFC3339] [--commit C] [--source job|bench|sweep] [--limit 50] [--offset 0] [--json]
       deno task history --compare A B [--test mwu|welch] [--min-effect 0.1] [--alpha 0.05]

A and B: git commits (prefixes, 4+ characters) or service job ids. Exit code 1 on a regression.
Database: --db, else $TURBO_HISTORY_DB, else benchmarks/history.sqlite.`;

const FLAGS = {
  db: { type: "string" },
  model: { type: "string" },
  dtype: { type: "string" },
  device: { type: "string" },
  since: { type: "string" },
  commit: { type: "string" },
  source: { type: "string" },
  limit: { type: "string" },
  offset: { type: "string" },
  test: { type: "string", default: "mwu" },
  "min-effect": { type: "string" },
  alpha: { type: "string" },
  json: { type: "boolean", default: false },
} as const;

/** Splits `--compare A B` off the arguments (parseArgs takes one value per flag). */
function compareArgs(args: readonly string[]): { rest: string[]; refs: [string, string] | null } {
  const at = args.indexOf("--compare");
  if (at < 0) return { rest: [...args], refs: null };
  const a = args[at + 1];
  const b = args[at + 2];
  if (a === undefined || b === undefined || a.startsWith("--") || b.startsWith("--")) {
    throw new TypeError("'--compare' needs two references: --compare A B");
  }
  return { rest: [...args.slice(0, at), ...args.slice(at + 3)], refs: [a, b] };
}

function fraction(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n >= 1) {
    throw new RangeError(`'${flag}' must be a number in [0, 1), got ${JSON.stringify(value)}`);
  }
  return n;
}

function main(): number {
  const { rest, refs } = compareArgs(Deno.args);
  const { values } = parseFlags(rest, FLAGS);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const path = values.db ?? historyPath();
  if (path === null) {
    throw new TypeError("the history is off (TURBO_HISTORY_DB=off); pass --db PATH");
  }
  if (!existsSync(path)) throw new RangeError(`no history database at '${path}' (--db)`);
  if (!(TESTS as readonly string[]).includes(values.test)) {
    throw new RangeError(`'--test' must be one of ${TESTS.join(", ")}, got '${values.test}'`);
  }
  if (values.source !== undefined && !(RUN_SOURCES as readonly string[]).includes(values.source)) {
    throw new RangeError(
      `'--source' must be one of ${RUN_SOURCES.join(", ")}, got '${values.source}'`,
    );
  }
  if (values.since !== undefined && Number.isNaN(Date.parse(values.since))) {
    throw new RangeError(`'--since' must be an RFC 3339 time, got '${values.since}'`);
  }
  // Read only: a listing never creates, migrates or stamps the file it is pointed at.
  const db = HistoryDb.open(path, { readOnly: true });
  try {
    if (refs === null) {
      list(db, values);
      return 0;
    }
    const [a, b] = refs.map((ref, i) => {
      const runs = db.runsFor(ref);
      if (runs.length === 0) {
        throw new RangeError(
          `'--compare' ${
            i === 0 ? "A" : "B"
          } ('${ref}') matches no finished job and no commit's ok runs in ${path}`,
        );
      }
      return runs;
    }) as [ReturnType<HistoryDb["runsFor"]>, ReturnType<HistoryDb["runsFor"]>];
    const result = compareRuns(a, b, {
      test: values.test as typeof TESTS[number],
      minEffect: fraction(values["min-effect"], "--min-effect", 0.1),
      alpha: fraction(values.alpha, "--alpha", 0.05),
    });
    console.log(values.json ? JSON.stringify(result, null, 2) : formatComparison(refs, result));
    return result.regression ? 1 : 0;
  } finally {
    db.close();
  }
}

function list(db: HistoryDb, values: Record<string, string | boolean | undefined>): void {
  const str = (k: string) => values[k] as string | undefined;
  const page = db.listRuns({
    ...(str("model") === undefined ? {} : { model: str("model")! }),
    ...(str("dtype") === undefined ? {} : { dtype: str("dtype")! }),
    ...(str("device") === undefined ? {} : { device: str("device")! }),
    ...(str("since") === undefined ? {} : { since: str("since")! }),
    ...(str("commit") === undefined ? {} : { commit: str("commit")! }),
    ...(str("source") === undefined ? {} : { source: str("source") as RunSource }),
    limit: intFlag(str("limit"), "--limit", { min: 1, fallback: 50 }),
    offset: intFlag(str("offset"), "--offset", { min: 0, fallback: 0 }),
  });
  if (values.json) {
    console.log(JSON.stringify(page, null, 2));
    return;
  }
  const fmt = (x: number | null, digits = 1) => x === null ? "-" : x.toFixed(digits);
  const rows = [
    [
      "id",
      "time",
      "source",
      "job",
      "commit",
      "model",
      "dtype",
      "device",
      "cache",
      "prompt",
      "new",
      "runs",
      "decode tok/s",
      "prefill ms",
      "status",
    ],
    ...page.items.map((r) => [
      String(r.id),
      r.created_at.slice(0, 19),
      r.source,
      r.job_id ?? "-",
      r.git_commit.slice(0, 10),
      r.model,
      r.dtype,
      r.device,
      r.use_cache ? "on" : "off",
      String(r.prompt_tokens),
      String(r.max_new_tokens),
      String(r.samples.prefill_ms.length),
      fmt(r.decode_tokens_per_s),
      fmt(r.prefill_ms, 2),
      r.status === "ok" ? "ok" : `error: ${r.error.slice(0, 60)}`,
    ]),
  ];
  console.log(table(rows));
  console.error(
    `${page.items.length} of ${page.total} runs (offset ${page.offset}) in ${db.path}`,
  );
}

/**
 * Plain-text report of a comparison.
 *
 * @param refs The two references.
 * @param c The comparison.
 * @returns Lines for stdout.
 */
function formatComparison(refs: [string, string], c: Comparison): string {
  const rows = [
    ["config", "metric", "A", "B", "change", "p", "n A/B", "verdict"],
    ...c.metrics.map((m) => [
      m.config,
      m.metric,
      m.centerA.toFixed(2),
      m.centerB.toFixed(2),
      `${m.change >= 0 ? "+" : ""}${(m.change * 100).toFixed(1)} %`,
      m.p === null ? "-" : m.p < 0.001 ? m.p.toExponential(1) : m.p.toFixed(3),
      `${m.nA}/${m.nB}`,
      m.verdict + (m.verdict === "inconclusive" ? ` (${m.note})` : ""),
    ]),
  ];
  const lines = [`A = ${refs[0]}, B = ${refs[1]}`, table(rows)];
  for (const u of c.unmatched) lines.push(`only in ${u.side}: ${u.config}`);
  lines.push(c.regression ? "REGRESSION: at least one metric got worse" : "no regression");
  return lines.join("\n");
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join("  ").trimEnd())
    .join("\n");
}

if (import.meta.main) await runCli(main);

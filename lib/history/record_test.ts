import assert from "node:assert/strict";
import { join } from "node:path";
import { HistoryDb } from "./db.ts";
import { REPO_ROOT, runFromSweepCell } from "./record.ts";
import type { BenchRow } from "../results/schema.ts";

async function deno(args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...args],
    cwd: REPO_ROOT,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("deno task bench --output writes one history run (source bench) with its samples and report", async () => {
  const dir = await Deno.makeTempDir();
  const db = join(dir, "history.sqlite");
  const args = [
    "lib/cli/bench.ts",
    "--model",
    "preset:tiny",
    "--prompt-tokens",
    "16",
    "--max-new-tokens",
    "4",
    "--warmup",
    "0",
    "--runs",
    "3",
    "--output",
    join(dir, "out.json"),
  ];
  const r = await deno(args, { TURBO_HISTORY_DB: db });
  assert.equal(r.code, 0, r.stderr);
  const h = HistoryDb.open(db);
  const runs = h.listRuns();
  assert.equal(runs.total, 1);
  const run = h.getRun(runs.items[0]!.id)!;
  h.close();
  const report = JSON.parse(await Deno.readTextFile(join(dir, "out.json")));
  assert.equal(run.source, "bench");
  assert.equal(run.samples.prefill_ms.length, 3);
  assert.deepEqual(
    run.samples.prefill_ms,
    report.results.individual_runs.map((x: { prefill_ms: number }) => x.prefill_ms),
  );
  assert.deepEqual(run.result, report);
  assert.equal(run.git_commit, report.system_info.gitCommit);

  // A second bench --output is a second run, not merged into the first.
  const r2 = await deno(args, { TURBO_HISTORY_DB: db });
  assert.equal(r2.code, 0, r2.stderr);
  const again = HistoryDb.open(db);
  assert.equal(again.listRuns().total, 2);
  again.close();
});

Deno.test("every sweep cell becomes one history run (source sweep)", async () => {
  const dir = await Deno.makeTempDir();
  const db = join(dir, "history.sqlite");
  const spec = join(dir, "spec.json");
  await Deno.writeTextFile(
    spec,
    JSON.stringify({
      name: "history-hook",
      models: ["preset:tiny"],
      dtypes: ["fp32"],
      use_cache: [true, false],
      context_lengths: [16],
      prompts_per_length: 1,
      max_new_tokens: 3,
      warmup: 0,
      runs: 2,
      perplexity: null,
    }),
  );
  const r = await deno(
    ["lib/cli/sweep.ts", "--config", spec, "--out", join(dir, "out"), "--no-probe"],
    { TURBO_HISTORY_DB: db },
  );
  assert.equal(r.code, 0, r.stderr);
  const h = HistoryDb.open(db);
  const runs = h.listRuns({ source: "sweep" }).items;
  h.close();
  assert.equal(runs.length, 2);
  assert.deepEqual(runs.map((x) => x.use_cache).sort(), [false, true]);
  assert(runs.every((x) => x.status === "ok" && x.samples.decode_tokens_per_s.length === 2));
});

Deno.test("runFromSweepCell(): an error row becomes a run with status error and its reason", () => {
  const row = {
    run_id: "c#error",
    cell_id: "c",
    timestamp: "2026-01-01T00:00:00Z",
    model: "preset:tiny",
    dtype: "q4",
    device: "cuda",
    execution_provider: "",
    use_cache: true,
    batch: 1,
    context_tokens: 16,
    family: "",
    prompt_id: 0,
    run_index: 0,
    new_tokens: 0,
    prefill_ms: null,
    decode_ms: null,
    decode_tokens_per_s: null,
    token_p50_ms: null,
    token_p95_ms: null,
    total_ms: null,
    peak_rss_bytes: null,
    peak_vram_bytes: null,
    status: "error",
    error: "CUDA EP unavailable",
    git_commit: "abc",
    deno_version: "2",
    ort_version: "1.30.0",
    transformers_version: "4",
    device_name: "",
  } satisfies BenchRow;
  const run = runFromSweepCell([row]);
  assert.equal(run.status, "error");
  assert.equal(run.error, "CUDA EP unavailable");
  assert.deepEqual(run.samples.decode_tokens_per_s, []);
  assert.equal(run.key, "sweep:c:2026-01-01T00:00:00Z");
});

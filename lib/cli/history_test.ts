import assert from "node:assert/strict";
import { join } from "node:path";
import { HistoryDb } from "../history/db.ts";
import type { NewRun } from "../history/schema.ts";

function run(key: string, commit: string, tps: number[]): NewRun {
  return {
    key,
    source: "sweep",
    job_id: null,
    created_at: new Date().toISOString(),
    model: "preset:tiny",
    dtype: "q4",
    device: "cpu",
    execution_provider: "CPUExecutionProvider",
    use_cache: true,
    batch: 1,
    prompt_tokens: 16,
    max_new_tokens: 4,
    git_commit: commit,
    hardware: "Test CPU",
    status: "ok",
    error: "",
    samples: { decode_tokens_per_s: tps, prefill_ms: tps.map((x) => 1000 / x), total_ms: [] },
    peak_rss_bytes: null,
    result: null,
  };
}

async function history(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "lib/cli/history.ts", ...args],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

const fast = [100, 102, 98, 101, 99, 100, 103, 97, 100, 101];
const slow = fast.map((x) => x * 0.75);

Deno.test("deno task history lists runs and --compare exits 1 on a regression, 0 otherwise", async () => {
  const db = join(await Deno.makeTempDir(), "history.sqlite");
  const h = HistoryDb.open(db);
  h.insertRun(run("a", "aaaa1111", fast));
  h.insertRun(run("b", "bbbb2222", slow));
  h.close();

  const list = await history(["--db", db]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /aaaa1111/);
  assert.match(list.stderr, /2 of 2 runs/);

  const worse = await history(["--db", db, "--compare", "aaaa", "bbbb"]);
  assert.equal(worse.code, 1, worse.stderr);
  assert.match(worse.stdout, /decode_tokens_per_s .* worse/);
  assert.match(worse.stdout, /REGRESSION/);

  const better = await history(["--db", db, "--compare", "bbbb", "aaaa", "--json"]);
  assert.equal(better.code, 0, better.stderr);
  const json = JSON.parse(better.stdout);
  assert.equal(json.regression, false);
  assert(json.metrics.every((m: { verdict: string }) => m.verdict === "better"));
});

Deno.test("deno task history: bad input is one line naming the flag, exit code 1", async () => {
  const db = join(await Deno.makeTempDir(), "history.sqlite");
  HistoryDb.open(db).close();
  for (
    const [args, pattern] of [
      [["--db", db, "--compare", "aaaa"], /--compare/],
      [["--db", db, "--compare", "aaaa", "bbbb"], /'--compare' A \('aaaa'\) matches no/],
      [["--db", db, "--test", "ttest"], /'--test'/],
      [["--db", db, "--since", "yesterday"], /'--since'/],
      [["--db", join(db, "missing.sqlite")], /--db/],
    ] as [string[], RegExp][]
  ) {
    const r = await history(args);
    assert.equal(r.code, 1, args.join(" "));
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
});

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { HistoryDb } from "./db.ts";
import type { JobRecord, NewRun } from "./schema.ts";

function newRun(key: string, overrides: Partial<NewRun> = {}): NewRun {
  return {
    key,
    source: "bench",
    job_id: null,
    created_at: "2026-01-01T00:00:00.000Z",
    model: "preset:tiny",
    dtype: "fp32",
    device: "cpu",
    execution_provider: "CPUExecutionProvider",
    use_cache: true,
    batch: 1,
    prompt_tokens: 16,
    max_new_tokens: 4,
    git_commit: "abcdef123456",
    hardware: "Test CPU",
    status: "ok",
    error: "",
    samples: { decode_tokens_per_s: [10, 20], prefill_ms: [1, 3], total_ms: [5, 7] },
    peak_rss_bytes: 1024,
    result: { any: "json" },
    ...overrides,
  };
}

function newJob(id: string): JobRecord {
  return {
    id,
    status: "running",
    request: { model: "preset:tiny" },
    model: "preset:tiny",
    dtype: "fp32",
    device: "cpu",
    created_at: new Date().toISOString(),
    started_at: null,
    finished_at: null,
    progress: 0,
    phase: "",
    error: "",
    worker_pid: 123,
    run_id: null,
  };
}

Deno.test("HistoryDb: WAL mode, both tables, a run key written once, means of the samples", () => {
  const path = join(Deno.makeTempDirSync(), "sub", "history.sqlite");
  const db = HistoryDb.open(path, { createDir: true });
  const id = db.insertRun(newRun("k1"));
  assert.equal(db.insertRun(newRun("k1")), null);
  const run = db.getRun(id!)!;
  assert.deepEqual([run.decode_tokens_per_s, run.prefill_ms, run.total_ms], [15, 2, 6]);
  assert.deepEqual(run.result, { any: "json" });
  assert.equal(run.use_cache, true);
  db.close();
  const raw = new DatabaseSync(path);
  assert.equal(
    (raw.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode,
    "wal",
  );
  const tables = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .all()
    .map((r) => (r as { name: string }).name);
  assert(tables.includes("runs") && tables.includes("jobs"));
  raw.close();
});

Deno.test("HistoryDb.listRuns() filters by model, dtype, device, since, source, commit and pages newest first", () => {
  const db = HistoryDb.open(join(Deno.makeTempDirSync(), "h.sqlite"));
  for (let i = 0; i < 5; i++) {
    db.insertRun(newRun(`r${i}`, {
      created_at: `2026-01-0${i + 1}T00:00:00.000Z`,
      dtype: i % 2 ? "q4" : "fp32",
      source: i === 4 ? "sweep" : "bench",
      git_commit: i < 2 ? "aaaa1111" : "bbbb2222",
    }));
  }
  assert.equal(db.listRuns().total, 5);
  assert.equal(db.listRuns({ dtype: "q4" }).total, 2);
  assert.equal(db.listRuns({ since: "2026-01-04T00:00:00.000Z" }).total, 2);
  assert.equal(db.listRuns({ source: "sweep" }).total, 1);
  assert.equal(db.listRuns({ commit: "aaaa" }).total, 2);
  assert.equal(db.listRuns({ model: "other" }).total, 0);
  const page = db.listRuns({ limit: 2, offset: 1 });
  assert.deepEqual(page.items.map((r) => r.key), ["r3", "r2"]);
  assert.equal(page.items[0]!.result, null, "lists leave out the full result");
  assert.deepEqual(db.runsFor("aaaa").map((r) => r.key), ["r0", "r1"]);
  assert.deepEqual(db.runsFor("aa"), [], "a commit prefix needs 4 characters");
  db.close();
});

Deno.test("HistoryDb.finishJob() writes the run and marks the job done together, once", () => {
  const db = HistoryDb.open(join(Deno.makeTempDirSync(), "h.sqlite"));
  db.insertJob(newJob("j1"));
  const done = db.finishJob("j1", newRun("job:j1", { source: "job", job_id: "j1" }))!;
  assert.equal(done.status, "done");
  assert.equal(done.worker_pid, null);
  assert.equal(db.runsFor("j1").length, 1);
  // A second finish (a retried write) reuses the run: nothing duplicated.
  assert.equal(
    db.finishJob("j1", newRun("job:j1", { source: "job", job_id: "j1" }))!.run_id,
    done.run_id,
  );
  assert.equal(db.listRuns().total, 1);
  // A job whose run cannot be written stays as it was.
  db.insertJob(newJob("j2"));
  assert.throws(() =>
    db.finishJob("j2", newRun("job:j2", { samples: null as unknown as NewRun["samples"] }))
  );
  assert.equal(db.getJob("j2")!.status, "running");
  assert.equal(db.listRuns().total, 1);
  db.close();
});

Deno.test("HistoryDb.open() refuses a file that is not this project's history, changing nothing", () => {
  const dir = Deno.makeTempDirSync();
  const other = join(dir, "other.sqlite");
  const foreign = new DatabaseSync(other);
  foreign.exec("CREATE TABLE t (a)");
  foreign.close();
  const before = Deno.readFileSync(other);
  for (const readOnly of [true, false]) {
    assert.throws(
      () => HistoryDb.open(other, { readOnly }),
      /'.*other\.sqlite': it is not a Turbo Inference history \(its tables: t\)/,
    );
  }
  assert.deepEqual(Deno.readFileSync(other), before);
  const text = join(dir, "text.sqlite");
  Deno.writeTextFileSync(text, "hello\n");
  assert.throws(() => HistoryDb.open(text), /text\.sqlite': it is not a SQLite database/);
  const cut = join(dir, "cut.sqlite");
  Deno.writeFileSync(cut, before.slice(0, 3000));
  assert.throws(() => HistoryDb.open(cut), /cut\.sqlite': it is corrupt or truncated/);
  assert.throws(
    () => HistoryDb.open(join(dir, "none", "deeper", "h.sqlite")),
    /its directory '.*none\/deeper' does not exist/,
  );
  assert.throws(() => Deno.statSync(join(dir, "none")), Deno.errors.NotFound);
  assert.throws(() => HistoryDb.open(join(dir, "absent.sqlite"), { readOnly: true }), /not exist/);
  assert.throws(() => Deno.statSync(join(dir, "absent.sqlite")), Deno.errors.NotFound);
});

Deno.test("HistoryDb.open() takes a history written before the application id, stamping it on write", () => {
  const path = join(Deno.makeTempDirSync(), "old.sqlite");
  HistoryDb.open(path).close();
  const raw = new DatabaseSync(path);
  raw.exec("PRAGMA application_id = 0");
  raw.close();
  const read = HistoryDb.open(path, { readOnly: true });
  assert.equal(read.listRuns().total, 0);
  read.close();
  const id = () => {
    const db = new DatabaseSync(path);
    const row = db.prepare("PRAGMA application_id").get() as { application_id: number };
    db.close();
    return row.application_id;
  };
  assert.equal(id(), 0, "a read-only open changed nothing");
  HistoryDb.open(path).close();
  assert.notEqual(id(), 0);
});

Deno.test("HistoryDb.open() fails within seconds on a database another process locked", () => {
  const path = join(Deno.makeTempDirSync(), "locked.sqlite");
  HistoryDb.open(path).close();
  const holder = new DatabaseSync(path);
  holder.exec("PRAGMA locking_mode = EXCLUSIVE");
  holder.exec("BEGIN EXCLUSIVE");
  try {
    const started = performance.now();
    assert.throws(() => HistoryDb.open(path), /locked\.sqlite': it is locked by another process/);
    assert(performance.now() - started < 5000, "failed fast, not after the 10 s busy wait");
  } finally {
    holder.exec("COMMIT");
    holder.close();
  }
});

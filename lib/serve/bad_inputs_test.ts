/**
 * Bad inputs a hostile user tries on the service: each is one line naming the setting or path
 * (exit 1) at start, or a 4xx naming the field over HTTP. Every case runs the real server.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { REPO_ROOT } from "../history/record.ts";
import { HistoryDb } from "../history/db.ts";
import { startTestServer, waitForJob } from "./_test_server.ts";

/** Starts `deno task serve` expecting it to refuse: its exit code and stderr. */
async function refused(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(REPO_ROOT, "lib/cli/serve.ts"), "--port", "0", ...args],
    cwd: REPO_ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const guard = setTimeout(() => child.kill("SIGKILL"), 60_000);
  try {
    const out = await child.output();
    return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
  } finally {
    clearTimeout(guard);
  }
}

function assertOneLine(r: { code: number; stderr: string }, ...parts: string[]): void {
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert(lines[0]!.startsWith("error: "), r.stderr);
  for (const part of parts) assert(lines[0]!.includes(part), `${part} in ${r.stderr}`);
}

Deno.test("serve: a --db that is not a usable history is one line naming the path", async () => {
  const dir = await Deno.makeTempDir();
  const text = join(dir, "text.sqlite");
  await Deno.writeTextFile(text, "just text\n");
  assertOneLine(await refused(["--db", text]), text, "not a SQLite database");
  const good = join(dir, "good.sqlite");
  HistoryDb.open(good).close();
  const cut = join(dir, "cut.sqlite");
  await Deno.writeFile(cut, (await Deno.readFile(good)).slice(0, 2000));
  assertOneLine(await refused(["--db", cut]), cut, "corrupt or truncated");
  const foreign = join(dir, "foreign.sqlite");
  const other = new DatabaseSync(foreign);
  other.exec("CREATE TABLE notes (a)");
  other.close();
  assertOneLine(await refused(["--db", foreign]), foreign, "not a Turbo Inference history");
  const holder = new DatabaseSync(good);
  holder.exec("PRAGMA locking_mode = EXCLUSIVE");
  holder.exec("BEGIN EXCLUSIVE");
  try {
    assertOneLine(await refused(["--db", good]), good, "locked by another process");
  } finally {
    holder.exec("COMMIT");
    holder.close();
  }
  const missing = "/nonexistent-turbo-dir/sub/h.sqlite";
  assertOneLine(
    await refused([], { TURBO_HISTORY_DB: missing }),
    missing,
    "directory '/nonexistent-turbo-dir/sub' does not exist",
  );
  await assert.rejects(() => Deno.stat("/nonexistent-turbo-dir"), Deno.errors.NotFound);
});

Deno.test("serve: a busy port is one line naming the port", async () => {
  const dir = await Deno.makeTempDir();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (listener.addr as Deno.NetAddr).port;
    const r = await refused(["--db", join(dir, "h.sqlite"), "--port", String(port)]);
    assertOneLine(r, `port ${port}`, "already in use");
  } finally {
    listener.close();
  }
});

Deno.test("service: model null, an out-of-vocabulary token and DELETE of a running job answer plainly", async () => {
  const dir = await Deno.makeTempDir();
  const server = await startTestServer(join(dir, "history.sqlite"));
  const { url } = server;
  const post = async (path: string, body: unknown) => {
    const r = await fetch(`${url}${path}`, { method: "POST", body: JSON.stringify(body) });
    return [r.status, await r.json()] as const;
  };
  try {
    const [s1, b1] = await post("/benchmarks", { model: null });
    assert.equal(s1, 400);
    assert.equal(b1.error.param, "model");
    assert.match(b1.error.message, /'model' must be a non-empty string, got null/);
    const [s2, b2] = await post("/v1/completions", { model: null, prompt: "Hi" });
    assert.equal(s2, 400);
    assert.match(b2.error.message, /'model' must be a string, got null/);
    const [s3, b3] = await post("/v1/completions", {
      model: "preset:tiny",
      prompt: [999999],
      max_tokens: 2,
    });
    assert.equal(s3, 400);
    assert.equal(b3.error.param, "prompt");
    assert.match(b3.error.message, /token id 999999, out of the vocabulary/);
    const [, job] = await post("/benchmarks", {
      model: "preset:tiny",
      prompt_tokens: 16,
      max_new_tokens: 64,
      warmup: 0,
      runs: 1000,
    });
    await waitForJob(url, job.id, (j) => j.status === "running" && (j.progress as number) > 0);
    const cancel = await fetch(`${url}/benchmarks/${job.id}`, { method: "DELETE" });
    const answer = await cancel.json();
    assert(
      (cancel.status === 200 && answer.status === "cancelled") ||
        (cancel.status === 202 && answer.status === "cancelling"),
      JSON.stringify(answer),
    );
  } finally {
    await server.stop();
  }
});

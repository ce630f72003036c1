import assert from "node:assert/strict";
import { join } from "node:path";
import { BENCH_DEFAULTS } from "./validate.ts";
import { startTestServer, waitForJob } from "./_test_server.ts";

const TINY = { model: "preset:tiny", prompt_tokens: 16, max_new_tokens: 4, warmup: 1, runs: 3 };
/** A job long enough to be cancelled or killed mid-run (~1000 runs of 64 tokens on tiny). */
const LONG = { model: "preset:tiny", prompt_tokens: 16, max_new_tokens: 64, warmup: 0, runs: 1000 };

async function post(url: string, body: unknown): Promise<[number, Record<string, unknown>]> {
  const r = await fetch(`${url}/benchmarks`, { method: "POST", body: JSON.stringify(body) });
  return [r.status, await r.json()];
}

async function total(url: string, path = "/benchmarks"): Promise<number> {
  return (await (await fetch(`${url}${path}`)).json()).total;
}

/** Reads an SSE stream to its end: [event, data] pairs. */
async function readEvents(response: Response): Promise<[string, Record<string, unknown>][]> {
  const text = await response.text();
  return text.split("\n\n").filter((b) => b.startsWith("event: ")).map((block) => {
    const [event, data] = block.split("\n") as [string, string];
    return [event.slice(7), JSON.parse(data.slice(6))];
  });
}

Deno.test("server: a tiny benchmark job runs in a worker, streams progress and returns bench's result", async (t) => {
  const dir = await Deno.makeTempDir();
  const server = await startTestServer(join(dir, "history.sqlite"));
  const { url } = server;
  try {
    await t.step("GET /health, /models, /system, /openapi.json", async () => {
      assert.equal((await (await fetch(`${url}/health`)).json()).status, "ok");
      const models = (await (await fetch(`${url}/models`)).json()).models;
      assert(models.some((m: { id: string }) => m.id === "preset:tiny"));
      const system = await (await fetch(`${url}/system`)).json();
      assert(system.cpuCores > 0 && typeof system.gitCommit === "string");
      const doc = await (await fetch(`${url}/openapi.json`)).json();
      for (const path of ["/benchmarks", "/benchmarks/{id}/events", "/v1/chat/completions"]) {
        assert(path in doc.paths, `${path} missing from openapi.json`);
      }
    });

    let id = "";
    await t.step(
      "POST /benchmarks → 202 with an id; a queued job's events show every run",
      async () => {
        const [status, first] = await post(url, TINY);
        assert.equal(status, 202);
        const [, job] = await post(url, TINY);
        id = job.id as string;
        assert.equal(job.status, "queued"); // the first job holds the cpu
        assert.equal((job.request as { warmup: number }).warmup, 1);
        assert.equal((job.request as { batch: number }).batch, BENCH_DEFAULTS.batch);
        // Subscribed while queued, the stream sees the whole job: state, runs 1..3, end.
        const events = await readEvents(await fetch(`${url}/benchmarks/${id}/events`));
        assert.equal(events[0]![0], "state");
        const runs = events.filter(([e]) => e === "run").map(([, d]) =>
          d.run as {
            index: number;
            prefill_ms: number;
            decode_tokens_per_s: number;
          }
        );
        assert.deepEqual(runs.map((r) => r.index), [1, 2, 3]);
        assert(runs.every((r) => r.prefill_ms > 0 && r.decode_tokens_per_s > 0));
        const progress = events.map(([, d]) => d.progress as number);
        assert(progress.every((p, i) => i === 0 || p >= progress[i - 1]!), "progress went back");
        assert.equal(events.at(-1)![0], "end");
        assert.equal(events.at(-1)![1].status, "done", JSON.stringify(events.at(-1)));
        const before = await (await fetch(`${url}/benchmarks/${first.id}`)).json();
        assert.equal(before.status, "done");
        const second = events.at(-1)![1] as { started_at: string };
        assert(before.finished_at <= second.started_at, "two jobs ran at once on cpu");
      },
    );

    await t.step("GET /benchmarks/{id} has bench's --output shape", async () => {
      const job = await (await fetch(`${url}/benchmarks/${id}`)).json();
      assert.equal(job.status, "done");
      assert.equal(job.progress, 1);
      const result = job.result;
      for (
        const key of [
          "model",
          "quantization",
          "use_cache",
          "prompt_tokens",
          "results",
          "system_info",
        ]
      ) {
        assert(key in result, `result lacks ${key}`);
      }
      assert.equal(result.results.individual_runs.length, 3);
      // The job's telemetry: bench's summary, and its series kept with the job.
      assert.equal(result.telemetry.available, true);
      assert.equal(result.telemetry.series.length, result.telemetry.telemetry_samples);
      assert.equal(result.telemetry.gpu_util_pct_mean, null); // a cpu job: missing, never 0
      assert.equal(result.prompt_tokens, 16);
      assert.equal(result.execution_provider, "CPUExecutionProvider");
      assert(result.results.stats.decode_tokens_per_s_mean > 0);
      assert.equal(job.summary.runs, 3);
      // A finished job's stream answers at once: its state, then the end with the result.
      const again = await readEvents(await fetch(`${url}/benchmarks/${id}/events`));
      assert.deepEqual(again.map(([e]) => e), ["state", "end"]);
      assert.deepEqual((again[1]![1] as { result: unknown }).result, result);
    });

    await t.step("the dashboard and its vega bundles are served by the server itself", async () => {
      for (
        const path of [
          "/",
          "/assets/app.js",
          "/assets/vega.min.js",
          "/assets/vega-lite.min.js",
          "/assets/vega-embed.min.js",
        ]
      ) {
        const r = await fetch(`${url}${path}`);
        assert.equal(r.status, 200, path);
        assert((await r.arrayBuffer()).byteLength > 1000, path);
      }
      const ref = await (await fetch(`${url}/reference`)).json();
      assert(Array.isArray(ref.figures));
      const missing = await fetch(`${url}/assets/..%2F..%2Fdeno.json`);
      assert.equal(missing.status, 404);
      await missing.body?.cancel();
    });

    await t.step("GET /benchmarks and /history filter and page", async () => {
      const page = await (await fetch(`${url}/benchmarks?model=preset:tiny&limit=1`)).json();
      assert.equal(page.total, 2);
      assert.equal(page.items.length, 1);
      assert.equal(page.items[0].id, id); // newest first
      const next = await (await fetch(`${url}/benchmarks?limit=1&offset=1`)).json();
      assert.notEqual(next.items[0].id, id);
      assert.equal((await (await fetch(`${url}/benchmarks?dtype=q4`)).json()).total, 0);
      const future = await (await fetch(`${url}/benchmarks?since=2999-01-01T00:00:00Z`)).json();
      assert.equal(future.total, 0);
      const runs = await (await fetch(`${url}/history?source=job`)).json();
      assert.equal(runs.total, 2);
      assert.equal(runs.items[0].job_id, id);
      const compare = await (await fetch(`${url}/history/compare?a=${id}&b=${id}`)).json();
      assert.equal(compare.regression, false);
      assert(compare.metrics.every((m: { verdict: string }) => m.verdict !== "worse"));
    });
  } finally {
    await server.stop();
  }
});

Deno.test("server: rejected requests answer 400 naming the field (404 for unknown ids, 413 for an oversized body) and queue nothing", async () => {
  const dir = await Deno.makeTempDir();
  const server = await startTestServer(join(dir, "history.sqlite"));
  const { url } = server;
  try {
    const cases: [string, string, string][] = [
      ["malformed JSON", '{"model": "preset:tiny",', "body"],
      ["not an object", "[1, 2]", "body"],
      [
        "oversized body",
        JSON.stringify({ model: "preset:tiny", prompt: "x".repeat(100_000) }),
        "body",
      ],
      ["unknown field", JSON.stringify({ ...TINY, rnus: 3 }), "rnus"],
      ["wrong type", JSON.stringify({ ...TINY, runs: "3" }), "runs"],
      ["wrong type (bool)", JSON.stringify({ ...TINY, use_cache: "yes" }), "use_cache"],
      ["out of range", JSON.stringify({ ...TINY, runs: 0 }), "runs"],
      ["missing model", JSON.stringify({ runs: 3 }), "model"],
      ["unknown model", JSON.stringify({ ...TINY, model: "preset:nope" }), "model"],
      ["unknown dtype", JSON.stringify({ ...TINY, dtype: "q3" }), "dtype"],
      ["dtype the model lacks", JSON.stringify({ ...TINY, dtype: "bnb4" }), "dtype"],
      ["unknown device", JSON.stringify({ ...TINY, device: "tpu" }), "device"],
      ["prompt and prompt_tokens", JSON.stringify({ ...TINY, prompt: "hi" }), "prompt"],
      ["too long for the model", JSON.stringify({ ...TINY, prompt_tokens: 510 }), "max_new_tokens"],
    ];
    for (const [name, body, param] of cases) {
      const r = await fetch(`${url}/benchmarks`, { method: "POST", body });
      const json = await r.json();
      const status = name === "oversized body" ? 413 : 400;
      assert.equal(r.status, status, `${name}: ${JSON.stringify(json)}`);
      assert.equal(json.error.param, param, `${name}: ${json.error.message}`);
      assert(json.error.message.length > 0 && !json.error.message.includes("\n"));
    }
    const missing: [string, string][] = [
      ["GET", "/benchmarks/nope"],
      ["DELETE", "/benchmarks/nope"],
      ["GET", "/benchmarks/nope/events"],
      ["GET", "/nowhere"],
    ];
    for (const [method, path] of missing) {
      const r = await fetch(`${url}${path}`, { method });
      assert.equal(r.status, 404, `${method} ${path}`);
      await r.body?.cancel();
    }
    const q = await fetch(`${url}/benchmarks?colour=red`);
    assert.equal(q.status, 400);
    assert.equal((await q.json()).error.param, "colour");
    const bad = await fetch(`${url}/benchmarks?dtype=q3`);
    assert.equal((await bad.json()).error.param, "dtype");
    const wrongMethod = await fetch(`${url}/health`, { method: "POST" });
    assert.equal(wrongMethod.status, 405);
    await wrongMethod.body?.cancel();
    assert.equal(await total(url), 0, "a rejected request queued a job");
    assert.equal(await total(url, "/history"), 0, "a rejected request wrote a run");
  } finally {
    await server.stop();
  }
});

Deno.test("server: jobs queue one at a time per device; DELETE cancels queued and running jobs; a killed worker fails its job", async () => {
  const dir = await Deno.makeTempDir();
  const server = await startTestServer(join(dir, "history.sqlite"));
  const { url } = server;
  try {
    const [, a] = await post(url, LONG);
    const [, b] = await post(url, TINY);
    const [, c] = await post(url, LONG);
    assert.equal(b.status, "queued");
    assert.equal(b.queue_position, 0);
    assert.equal(c.queue_position, 1);
    // Cancel the queued job: it never starts.
    const cancelB = await fetch(`${url}/benchmarks/${b.id}`, { method: "DELETE" });
    assert.equal(cancelB.status, 200);
    assert.equal((await cancelB.json()).status, "cancelled");
    // Cancel the running job once it is measuring.
    await waitForJob(
      url,
      a.id as string,
      (j) => j.status === "running" && (j.progress as number) > 0,
    );
    const cancelA = await fetch(`${url}/benchmarks/${a.id}`, { method: "DELETE" });
    // The answer says what was done: the worker is stopped before it comes.
    assert.equal(cancelA.status, 200);
    assert.equal((await cancelA.json()).status, "cancelled");
    const doneA = await waitForJob(url, a.id as string, (j) => j.status !== "running");
    assert.equal(doneA.status, "cancelled");
    const again = await fetch(`${url}/benchmarks/${a.id}`, { method: "DELETE" });
    assert.equal(again.status, 409);
    await again.body?.cancel();
    // C starts next; kill its worker as a crash would.
    const running = await waitForJob(url, c.id as string, (j) => (j.progress as number) > 0);
    Deno.kill(running.worker_pid as number, "SIGKILL");
    const failed = await waitForJob(url, c.id as string, (j) => j.status !== "running");
    assert.equal(failed.status, "failed");
    assert.match(failed.error as string, /SIGKILL/);
    const jobB = await (await fetch(`${url}/benchmarks/${b.id}`)).json();
    assert.equal(jobB.started_at, null);
    assert.equal(
      await total(url, "/history"),
      0,
      "no run is written for a cancelled or failed job",
    );
  } finally {
    await server.stop();
  }
});

Deno.test("server: killed with -9 mid-job, a restart marks the job interrupted and runs the queue; no row lost or duplicated", async () => {
  const dir = await Deno.makeTempDir();
  const db = join(dir, "history.sqlite");
  const first = await startTestServer(db);
  let workerPid = 0;
  let a = "";
  let b = "";
  try {
    a = (await post(first.url, LONG))[1].id as string;
    b = (await post(first.url, TINY))[1].id as string;
    const running = await waitForJob(first.url, a, (j) => (j.progress as number) > 0);
    workerPid = running.worker_pid as number;
  } finally {
    await first.kill9();
  }
  const second = await startTestServer(db);
  try {
    const jobA = await (await fetch(`${second.url}/benchmarks/${a}`)).json();
    assert.equal(jobA.status, "interrupted");
    assert.match(jobA.error, /server stopped/);
    // The orphaned worker was killed, not left measuring.
    let alive = true;
    for (let i = 0; i < 50 && alive; i++) {
      try {
        alive = !Deno.readTextFileSync(`/proc/${workerPid}/stat`).includes(") Z ");
      } catch {
        alive = false;
      }
      if (alive) await new Promise((r) => setTimeout(r, 100));
    }
    assert(!alive, `worker ${workerPid} still runs`);
    const jobB = await waitForJob(
      second.url,
      b,
      (j) => j.status === "done" || j.status === "failed",
    );
    assert.equal(jobB.status, "done", JSON.stringify(jobB));
    assert.equal(await total(second.url), 2, "jobs lost or duplicated");
    const runs = await (await fetch(`${second.url}/history`)).json();
    assert.equal(runs.total, 1);
    assert.equal(runs.items[0].job_id, b);
  } finally {
    await second.stop();
  }
});

Deno.test("serve CLI: a non-loopback host needs --allow-remote and a token; then requests need the bearer token", async () => {
  const dir = await Deno.makeTempDir();
  const refused = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "lib/cli/serve.ts",
      "--host",
      "0.0.0.0",
      "--port",
      "0",
      "--db",
      join(dir, "h.sqlite"),
    ],
    env: { TURBO_API_TOKEN: "" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(refused.code, 1);
  const line = new TextDecoder().decode(refused.stderr).trim();
  assert.match(line, /^error: .*--allow-remote/);
  assert.equal(line.split("\n").length, 1);

  const noToken = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "lib/cli/serve.ts",
      "--host",
      "0.0.0.0",
      "--allow-remote",
      "--port",
      "0",
      "--db",
      join(dir, "h.sqlite"),
    ],
    env: { TURBO_API_TOKEN: "" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(noToken.code, 1);
  assert.match(new TextDecoder().decode(noToken.stderr), /TURBO_API_TOKEN/);

  const server = await startTestServer(join(dir, "h.sqlite"), {
    args: ["--host", "0.0.0.0", "--allow-remote"],
    env: { TURBO_API_TOKEN: "s3cret" },
  });
  try {
    assert.match(server.log(), /warning: serving on 0\.0\.0\.0/);
    const port = new URL(server.url).port;
    const denied = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(denied.status, 401);
    await denied.body?.cancel();
    const ok = await fetch(`http://127.0.0.1:${port}/health`, {
      headers: { authorization: "Bearer s3cret" },
    });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
  } finally {
    await server.stop();
  }
});

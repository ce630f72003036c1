import { join } from "node:path";
import { readTelemetry } from "../results/telemetry_table.ts";
import { assert, assertEquals } from "../testing/assert.ts";
import { fakeServer } from "../load/_fake_server.ts";

const root = new URL("../../", import.meta.url).pathname;

async function load(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "lib/cli/load.ts", ...args],
    cwd: root,
    env: { NO_COLOR: "1", HF_HUB_OFFLINE: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const t = new TextDecoder();
  // Node's punycode deprecation notice (a transformers.js dependency) is not ours to print.
  const stderr = t.decode(out.stderr).split("\n").filter((l) => !l.includes("DEP0040")).join("\n");
  return { code: out.code, stdout: t.decode(out.stdout), stderr };
}

Deno.test({
  name:
    "deno task load sweeps concurrency 1,2 against a server and writes JSONL, JSON, CSV and a figure",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const server = fakeServer({ ttftMs: 10, itlMs: 3, tokens: 4 });
    const dir = await Deno.makeTempDir();
    try {
      const r = await load(
        "--url",
        server.baseUrl,
        "--model",
        "preset:tiny",
        "--input-tokens",
        "32",
        "--output-tokens",
        "4",
        "--num-requests",
        "4",
        "--warmup",
        "1",
        "--concurrency",
        "1,2",
        "--goodput",
        "ttft:5000,tpot:1000",
        "--output",
        dir,
      );
      assertEquals(r.code, 0, r.stderr);
      assert(r.stdout.includes("concurrency 1: 4 ok, 0 failed"), r.stdout);
      assert(r.stdout.includes("concurrency 2: 4 ok, 0 failed"), r.stdout);
      const lines = (await Deno.readTextFile(`${dir}/requests.jsonl`)).trim().split("\n");
      assertEquals(lines.length, 2 * 5);
      const summary = JSON.parse(await Deno.readTextFile(`${dir}/summary.json`));
      assertEquals(summary.tokenizer, "preset:tiny"); // exact prompt lengths for the tiny tokenizer
      assertEquals(summary.settings.map((s: { completed: number }) => s.completed), [4, 4]);
      assertEquals(summary.settings[1].goodput.requests, 4);
      const csv = (await Deno.readTextFile(`${dir}/summary.csv`)).trim().split("\n");
      assertEquals(csv.length, 3);
      assert(csv[0]!.includes("ttft_p99_ms") && csv[0]!.includes("tpot_median_ms"));
      assert((await Deno.readTextFile(`${dir}/latency_vs_load.svg`)).includes("<svg"));
      assert((await Deno.stat(`${dir}/latency_vs_load.png`)).size > 1000);
      // This machine's telemetry per setting, every sample tagged with its setting.
      const tel = await readTelemetry(`${dir}/telemetry_concurrency_2.csv`);
      assert(
        tel.length >= 1 && tel.every((row) => row.cell === "concurrency 2"),
        tel.length.toString(),
      );
      // The tokenizer made each prompt exactly 32 tokens; bodies carry the model name asked for.
      assertEquals(server.bodies[0]!.model, "preset:tiny");
    } finally {
      await server.close();
    }
  },
});

Deno.test("deno task load exits 1 when every request failed, saying why (an HTML page is no stream)", async () => {
  const html = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () =>
      new Response("<html><body>hello</body></html>", { headers: { "content-type": "text/html" } }),
  );
  const url = `http://127.0.0.1:${html.addr.port}/v1`;
  const dir = await Deno.makeTempDir();
  const r = await load(
    "--url",
    url,
    "--model",
    "m",
    "--num-requests",
    "2",
    "--warmup",
    "0",
    "--timeout",
    "5",
    "--output",
    dir,
  );
  await html.shutdown();
  assertEquals(r.code, 1);
  assert(r.stdout.includes("0 ok, 2 failed") && r.stdout.includes("failed ×2"), r.stdout);
  assert(r.stdout.includes("text/html: not an OpenAI-compatible stream"), r.stdout);
});

Deno.test("deno task load against a closed port is one line naming the URL, writing nothing", async () => {
  const server = fakeServer({ ttftMs: 1, itlMs: 1, tokens: 1 });
  const url = server.baseUrl;
  await server.close();
  const dir = join(await Deno.makeTempDir(), "out");
  const r = await load("--url", url, "--model", "m", "--num-requests", "2", "--output", dir);
  assertEquals(r.code, 1, r.stderr);
  assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert(r.stderr.startsWith(`error: '--url' ${url} cannot be reached`), r.stderr);
  assert(!(await Deno.stat(dir).then(() => true, () => false)), "no --output directory left");
});

Deno.test("deno task load rejects bad flags with one line naming the flag, before sending anything", async () => {
  const dir = await Deno.makeTempDir();
  const cases: [string[], string][] = [
    [
      ["--model", "m", "--output", dir, "--request-rate", "2", "--concurrency", "2"],
      "--request-rate",
    ],
    [["--model", "m", "--output", dir, "--url", "ftp://x"], "--url"],
    [["--output", dir], "--model"],
    [["--model", "m"], "--output"],
    [["--model", "m", "--output", dir, "--goodput", "latency:5"], "--goodput"],
    [["--model", "m", "--output", dir, "--num-requests", "0"], "--num-requests"],
    [["--model", "m", "--output", dir, "--request-rate", "-1"], "--request-rate"],
    [["--model", "m", "--output", dir, "--burstiness", "2"], "--burstiness"],
    [["--model", "m", "--output", dir, "--prompts", "/nonexistent.jsonl"], "--prompts"],
    [["--model", "m", "--output", "/proc/nope"], "--output"],
    [["--model", "m", "--output", dir, "--tokenizer", "/nonexistent-model"], "--tokenizer"],
  ];
  for (const [args, flag] of cases) {
    const r = await load(...args);
    assertEquals(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
    assert(
      r.stderr.startsWith("error: ") && r.stderr.includes(flag),
      `${args.join(" ")}: ${r.stderr}`,
    );
    assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
  assertEquals([...Deno.readDirSync(dir)].length, 0);
});

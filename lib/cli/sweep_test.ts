import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const CLI = fileURLToPath(new URL("./sweep.ts", import.meta.url));

async function sweep(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("sweep CLI: a spec naming a model that does not exist exits 1 before any cell, one line, nothing written", async () => {
  const dir = await Deno.makeTempDir();
  const spec = join(dir, "spec.json");
  const missing = join(dir, "no-such-model");
  await Deno.writeTextFile(
    spec,
    JSON.stringify({ models: [missing], dtypes: ["fp32"], context_lengths: [16], runs: 1 }),
  );
  const r = await sweep(["--config", spec, "--out", dir, "--no-probe"]);
  assertEquals(r.code, 1, r.stderr);
  // The one line, first: before any pre-flight warning ("will be downloaded") or cell.
  const lines = r.stderr.trim().split("\n");
  assertEquals(lines.length, 1, r.stderr);
  assert(lines[0]!.includes(`$.models[0] ('${missing}') not found`), lines[0]);
  await assertRejects(() => Deno.stat(join(dir, "benchmarks")), Deno.errors.NotFound);
  await assertRejects(
    () => Deno.stat(join(dir, "benchmarks", "results.csv")),
    Deno.errors.NotFound,
  );
  await assertRejects(() => Deno.stat(join(dir, "metrics")), Deno.errors.NotFound);
});

/** Exit code 1 and exactly one stderr line `error: …` containing every part. */
function assertOneLine(r: { code: number; stderr: string }, ...parts: string[]): void {
  assertEquals(r.code, 1, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assertEquals(lines.length, 1, r.stderr);
  assert(lines[0]!.startsWith("error: "), r.stderr);
  for (const part of parts) assert(lines[0]!.includes(part), `${part} in ${r.stderr}`);
}

Deno.test("sweep CLI: spec problems are one line before anything is written", async () => {
  const dir = await Deno.makeTempDir();
  const base = { models: ["preset:tiny"], dtypes: ["fp32"], context_lengths: [16], runs: 1 };
  const wide = join(dir, "wide.json");
  await Deno.writeTextFile(
    wide,
    JSON.stringify({ ...base, perplexity: { dtypes: ["fp32"], window: 4096 } }),
  );
  assertOneLine(
    await sweep(["--config", wide, "--out", dir, "--dry-run"]),
    "$.perplexity.window (4096) exceeds the 512 positions of $.models[0] (preset:tiny)",
  );
  assertOneLine(await sweep(["--config", dir, "--out", dir]), `'${dir}'`, "is a directory");
  const bom = join(dir, "bom.json");
  await Deno.writeTextFile(bom, "\uFEFF" + JSON.stringify({ ...base, runs: 0 }));
  // The mark is dropped: the answer is about the spec's content, not an invisible character.
  assertOneLine(await sweep(["--config", bom, "--out", dir]), "$.runs");
  assertEquals((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort(), [
    "bom.json",
    "wide.json",
  ]);
});

Deno.test("sweep CLI: Kubernetes and Slurm shard indices both set are refused, naming both", async () => {
  const dir = await Deno.makeTempDir();
  const spec = join(dir, "s.json");
  await Deno.writeTextFile(
    spec,
    JSON.stringify({ models: ["preset:tiny"], dtypes: ["fp32"], context_lengths: [16], runs: 1 }),
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "--config", spec, "--out", join(dir, "o"), "--shards", "2"],
    env: { JOB_COMPLETION_INDEX: "0", SLURM_ARRAY_TASK_ID: "1", SLURM_ARRAY_TASK_COUNT: "2" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const r = { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
  assertOneLine(r, "JOB_COMPLETION_INDEX=0", "SLURM_ARRAY_TASK_ID=1", "both set");
  assertEquals((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name), ["s.json"]);
});

Deno.test("diskFull() names the output directory of an out-of-space error, and passes others on", async () => {
  const { diskFull } = await import("./sweep.ts");
  const full = diskFull(new Error("No space left on device (os error 28)"), "out") as Error;
  assert(
    full.message.includes("'out' is full") && full.message.includes("out/benchmarks/results.csv"),
  );
  const other = new Error("something else");
  assertEquals(diskFull(other, "out"), other);
});

Deno.test("sweep CLI: SIGINT says what was kept and how to resume in one line, exit 130", async () => {
  const dir = await Deno.makeTempDir();
  const spec = join(dir, "s.json");
  await Deno.writeTextFile(
    spec,
    JSON.stringify({
      models: ["preset:tiny"],
      dtypes: ["fp32"],
      context_lengths: [16, 32],
      runs: 1,
    }),
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "--config", spec, "--out", dir, "--no-probe", "--no-preflight"],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const guard = setTimeout(() => child.kill("SIGKILL"), 120_000);
  let stderr = "";
  try {
    const decoder = new TextDecoder();
    const reader = child.stderr.getReader();
    let sent = false;
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      stderr += decoder.decode(value);
      if (!sent && stderr.includes(`sweep '`)) {
        child.kill("SIGINT");
        sent = true;
      }
    }
    const status = await child.status;
    assertEquals(status.code, 130, stderr);
    const last = stderr.trim().split("\n").pop()!;
    assert(last.startsWith("interrupted: finished cells are kept in "), stderr);
    assert(last.includes("run the same command again to resume"), last);
    await assertRejects(
      () => Deno.stat(join(dir, "benchmarks", ".sweep.lock")),
      Deno.errors.NotFound,
    );
  } finally {
    clearTimeout(guard);
  }
});

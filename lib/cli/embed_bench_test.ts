import assert from "node:assert/strict";
import pl from "nodejs-polars";

const CLI = new URL("./embed_bench.ts", import.meta.url).pathname;

async function embedBench(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** Exit code 1 and exactly one stderr line, `error: …` containing `includes`. */
function assertOneLineError(r: { code: number; stderr: string }, includes: string): void {
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert(lines[0]!.startsWith("error: ") && lines[0]!.includes(includes), r.stderr);
}

const TINY = ["--model", "preset:minilm-tiny", "--seq-len", "16", "--texts", "4"];

Deno.test("embed-bench CLI: a tiny run writes the tables, the figure and the report, with error rows for a missing device", async () => {
  const out = `${await Deno.makeTempDir()}/run`;
  const r = await embedBench([
    ...TINY,
    "--dtypes",
    "fp32,q8",
    "--devices",
    "cpu,cuda",
    "--batch-sizes",
    "1,4",
    "--output",
    out,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert(r.stdout.startsWith("## Embeddings"), r.stdout);
  for (const f of ["embeddings.csv", "embedding_batches.csv", "embeddings.md"]) {
    assert((await Deno.stat(`${out}/${f}`)).size > 0, f);
  }
  for (const ext of ["vl.json", "svg", "png"]) {
    assert((await Deno.stat(`${out}/embeddings_texts_per_s_vs_batch.${ext}`)).size > 0, ext);
  }
  const rows = pl.readCSV(await Deno.readTextFile(`${out}/embeddings.csv`)).toRecords() as Record<
    string,
    unknown
  >[];
  // 2 engines × 2 dtypes × 2 devices × 2 batch sizes.
  assert.equal(rows.length, 16);
  const cpu = rows.filter((row) => row.device === "cpu");
  assert(
    cpu.every((row) => row.status === "ok" && (row.texts_per_s as number) > 0),
    "cpu cells ok",
  );
  assert.deepEqual(new Set(cpu.map((row) => row.engine)), new Set(["ort", "transformers.js"]));
  for (const row of cpu) {
    // Every text has exactly --seq-len tokens: tokens/s = texts/s × 16.
    assert(Math.abs((row.tokens_per_s as number) - 16 * (row.texts_per_s as number)) < 1e-6);
    // fp32 through either engine gives the fp32 embeddings; q8 stays close.
    assert(
      (row.cos_vs_fp32_min as number) > (row.dtype === "fp32" ? 0.99999 : 0.99),
      `${row.cell_id}`,
    );
    assert((row.batches as number) >= 3);
  }
  for (const row of rows.filter((row) => row.device === "cuda")) {
    assert(row.status === "ok" || String(row.error).includes("cuda"), String(row.error));
  }
  const raw = pl.readCSV(await Deno.readTextFile(`${out}/embedding_batches.csv`));
  assert.equal(raw.height, cpu.reduce((s, row) => s + (row.batches as number), 0));
});

Deno.test("embed-bench CLI: bad input is one line naming the flag, exit 1, nothing written", async () => {
  const out = `${await Deno.makeTempDir()}/never`;
  assertOneLineError(await embedBench([...TINY, "--output", out, "--speed", "9"]), "--speed");
  assertOneLineError(
    await embedBench([...TINY, "--output", out, "--devices", "cpu,tpu"]),
    "'--devices'",
  );
  assertOneLineError(await embedBench([...TINY, "--output", out, "--dtypes", "fp8"]), "'--dtypes'");
  assertOneLineError(
    await embedBench([...TINY, "--output", out, "--batch-sizes", "1,0"]),
    "'--batch-sizes'",
  );
  assertOneLineError(await embedBench([...TINY, "--output", out, "--texts", "0"]), "'--texts'");
  assertOneLineError(await embedBench([...TINY]), "--output");
  assertOneLineError(
    await embedBench(["--model", "preset:minilm-tiny", "--seq-len", "129", "--output", out]),
    "'--seq-len' (129) exceeds the 128 positions",
  );
  assertOneLineError(
    await embedBench(["--model", "preset:bert-huge", "--output", out]),
    "bert-huge",
  );
  const file = await Deno.makeTempFile();
  assertOneLineError(await embedBench([...TINY, "--output", file]), "'--output'");
  await assert.rejects(Deno.stat(out), Deno.errors.NotFound);
});

Deno.test("embed-bench CLI: a Hub id offline and not cached is one line suggesting a local model", async () => {
  const r = await embedBench(
    [
      "--model",
      "sentence-transformers/all-MiniLM-L6-v2",
      "--output",
      `${await Deno.makeTempDir()}/o`,
    ],
    { HF_HUB_OFFLINE: "1", HF_HOME: await Deno.makeTempDir() },
  );
  assertOneLineError(r, "offline and not in the cache");
  assert(r.stderr.includes("preset:minilm-l6"), r.stderr);
});

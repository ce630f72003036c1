/**
 * Bad inputs a hostile user tries on the CLIs (issue 10): each gets one stderr line naming the
 * flag or the field, exit code 1, and nothing half-written. Every case runs the real CLI in a
 * subprocess.
 */
import { assert, assertEquals } from "../testing/assert.ts";
import { join } from "node:path";
import { ensureModel } from "../model/mod.ts";
import { syntheticPerplexityCsv, syntheticResultsCsv } from "../report/_fixture.ts";

const CLI = (name: string) => new URL(`./${name}.ts`, import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(name: string, args: string[], cwd?: string): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI(name), ...args],
    ...(cwd ? { cwd } : {}),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** Exit code 1 and exactly one stderr line, `error: …`, containing every `includes`. */
function assertOneLine(r: Run, ...includes: string[]): void {
  assertEquals(r.code, 1, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assertEquals(lines.length, 1, r.stderr);
  assert(lines[0]!.startsWith("error: "), r.stderr);
  for (const part of includes) assert(lines[0]!.includes(part), `${part} in ${r.stderr}`);
}

async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    out.push(entry.name);
    if (entry.isDirectory) {
      for (const child of await listTree(join(dir, entry.name))) out.push(`${entry.name}/${child}`);
    }
  }
  return out.sort();
}

function tinyDir(): Promise<string> {
  return ensureModel("tiny", { dtypes: ["fp32"] });
}

Deno.test("figures and report reject a results.csv whose last row is cut, writing nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bad_cut_" });
  const text = syntheticResultsCsv();
  await Deno.writeTextFile(join(dir, "results.csv"), text.slice(0, text.length - 30));
  for (const name of ["figures", "report"]) {
    const r = await cli(name, ["--results", join(dir, "results.csv"), "--out", join(dir, "out")]);
    assertOneLine(r, "results.csv is corrupt", "last row is cut");
  }
  assertEquals(await listTree(dir), ["results.csv"]);
});

Deno.test("report rejects a negative value in a CSV naming the column, writing nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bad_neg_" });
  const [header, first, ...rest] = syntheticResultsCsv().trim().split("\n");
  const column = header!.split(",").indexOf("prefill_ms");
  const cells = first!.split(",");
  cells[column] = "-5";
  await Deno.writeTextFile(
    join(dir, "r.csv"),
    [header, cells.join(","), ...rest].join("\n") + "\n",
  );
  const r = await cli("report", ["--results", join(dir, "r.csv"), "--out", join(dir, "out")]);
  assertOneLine(r, "row 1", "'prefill_ms'", "-5");
  const absurd = syntheticPerplexityCsv().trim().split("\n");
  const pplColumn = absurd[0]!.split(",").indexOf("top1_agreement");
  const row = absurd[1]!.split(",");
  row[pplColumn] = "250";
  absurd[1] = row.join(",");
  await Deno.writeTextFile(join(dir, "p.csv"), absurd.join("\n") + "\n");
  await Deno.writeTextFile(join(dir, "ok.csv"), syntheticResultsCsv());
  const p = await cli("report", [
    "--results",
    join(dir, "ok.csv"),
    "--perplexity",
    join(dir, "p.csv"),
    "--out",
    join(dir, "out"),
  ]);
  assertOneLine(p, "'top1_agreement'", "250");
  assertEquals(await listTree(dir), ["ok.csv", "p.csv", "r.csv"]);
});

Deno.test("report writes all or nothing: an unwritable figures/ leaves the old summary whole", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bad_atomic_" });
  await Deno.writeTextFile(join(dir, "results.csv"), syntheticResultsCsv());
  const out = join(dir, "out");
  await Deno.mkdir(join(out, "benchmarks"), { recursive: true });
  await Deno.writeTextFile(join(out, "benchmarks", "summary.csv"), "old summary\n");
  await Deno.writeTextFile(join(out, "figures"), "a file where the figures directory goes\n");
  const r = await cli("report", ["--results", join(dir, "results.csv"), "--out", out]);
  assertOneLine(r, "figures", "nothing was replaced");
  assertEquals(await Deno.readTextFile(join(out, "benchmarks", "summary.csv")), "old summary\n");
  assertEquals(await listTree(out), ["benchmarks", "benchmarks/summary.csv", "figures"]);
});

Deno.test("report --results OTHER.csv takes perplexity.csv beside it, never the cwd's", async () => {
  const cwd = await Deno.makeTempDir({ prefix: "bad_cwd_" });
  await Deno.mkdir(join(cwd, "benchmarks"));
  // A cwd perplexity.csv that would fail the run if it were read.
  await Deno.writeTextFile(join(cwd, "benchmarks", "perplexity.csv"), "not,a,perplexity,table\n");
  const other = await Deno.makeTempDir({ prefix: "bad_other_" });
  await Deno.writeTextFile(join(other, "OTHER.csv"), syntheticResultsCsv());
  const alone = await cli("report", ["--results", join(other, "OTHER.csv"), "--out", other], cwd);
  assertEquals(alone.code, 0, alone.stderr);
  assert(alone.stderr.includes(`${join(other, "perplexity.csv")} not found`), alone.stderr);
  await Deno.writeTextFile(join(other, "perplexity.csv"), syntheticPerplexityCsv());
  const beside = await cli("report", ["--results", join(other, "OTHER.csv"), "--out", other], cwd);
  assertEquals(beside.code, 0, beside.stderr);
  const report = JSON.parse(await Deno.readTextFile(join(other, "metrics", "final_report.json")));
  assert(JSON.stringify(report).includes("ppl"), "perplexity beside --results was used");
});

Deno.test("bench and ppl check --output before running anything", async () => {
  const dir = await tinyDir();
  const missing = "/nonexistent-dir/out.json";
  const b = await cli("bench", ["--model", dir, "--runs", "1", "--output", missing]);
  assertOneLine(b, "'--output'", missing, "directory does not exist");
  const p = await cli("ppl", ["--model", dir, "--dtypes", "fp32", "--output", missing]);
  assertOneLine(p, "'--output'", missing);
  const tmp = await Deno.makeTempDir();
  const d = await cli("bench", ["--model", dir, "--output", tmp]);
  assertOneLine(d, "'--output'", "is a directory");
  assertEquals(await listTree(tmp), []);
});

Deno.test("ppl --wikitext rejects a binary file", async () => {
  const dir = await Deno.makeTempDir();
  const binary = join(dir, "text.txt");
  await Deno.writeFile(binary, Uint8Array.from({ length: 512 }, (_, i) => (i * 37) % 256));
  const r = await cli("ppl", ["--model", "preset:tiny", "--dtypes", "fp32", "--wikitext", binary]);
  assertOneLine(r, "'--wikitext'", binary, "not UTF-8 text");
});

Deno.test("a negative --runs names the flag and the value", async () => {
  const r = await cli("bench", ["--model", "preset:tiny", "--runs", "-1"]);
  assertOneLine(r, "'--runs' must be an integer >= 1", '"-1"');
  assert(!r.stderr.includes("ambiguous"), r.stderr);
});

Deno.test("quantize names --block-size, never the option 'blockSize'", async () => {
  const out = await Deno.makeTempDir();
  for (const value of ["3", "48"]) {
    const r = await cli("quantize", ["--model", out, "--dtypes", "q4", "--block-size", value]);
    assertOneLine(r, "'--block-size'", value);
    assert(!r.stderr.includes("blockSize"), r.stderr);
  }
  assertEquals(await listTree(out), []);
});

Deno.test("a model directory without tokenizer.json fails in one line naming the file", async () => {
  const tiny = await tinyDir();
  const dir = await Deno.makeTempDir({ prefix: "bad_tok_" });
  for (const f of ["config.json", "generation_config.json", "tokenizer_config.json"]) {
    await Deno.copyFile(join(tiny, f), join(dir, f));
  }
  await Deno.symlink(join(tiny, "onnx"), join(dir, "onnx"));
  const r = await cli("bench", ["--model", dir, "--runs", "1"]);
  assertOneLine(r, join(dir, "tokenizer.json"), "does not exist");
  assert(!r.stderr.includes("local_files_only"), r.stderr);
});

Deno.test("the CLI entry silences the punycode deprecation (DEP0040) and nothing else", async () => {
  const dir = await Deno.makeTempDir();
  const script = join(dir, "entry.ts");
  await Deno.writeTextFile(
    script,
    `import ${JSON.stringify(new URL("./_quiet.ts", import.meta.url).href)};
import { createRequire } from "node:module";
import process from "node:process";
createRequire(import.meta.url)("punycode");
await new Promise((resolve) => setTimeout(resolve, 50));
if (Deno.args[0] === "other") process.emitWarning("kept", "DeprecationWarning", "DEP9999");
await new Promise((resolve) => setTimeout(resolve, 50));
console.error("error: the one line");
Deno.exit(1);
`,
  );
  const run = async (...args: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: out.code, stdout: "", stderr: new TextDecoder().decode(out.stderr) };
  };
  assertOneLine(await run(), "the one line");
  const other = await run("other");
  assert(other.stderr.includes("DEP9999") && !other.stderr.includes("DEP0040"), other.stderr);
});

/** The synthetic results.csv with `edit` applied to its lines (header first). */
function editedResults(edit: (lines: string[]) => string[]): string {
  return edit(syntheticResultsCsv().trim().split("\n")).join("\n") + "\n";
}

/** Sets column `name` of data row `row` (1-based) to `value`. */
function setCell(lines: string[], row: number, name: string, value: string): string[] {
  const column = lines[0]!.split(",").indexOf(name);
  const cells = lines[row]!.split(",");
  cells[column] = value;
  return lines.map((line, i) => i === row ? cells.join(",") : line);
}

Deno.test("report refuses a bad results.csv in one line naming the row, column or file", async () => {
  const cases: [string, string | Uint8Array, string[]][] = [
    ["dtype.csv", editedResults((l) => setCell(l, 1, "dtype", "fp8")), ["row 1", "'dtype'", "fp8"]],
    [
      "blank.csv",
      editedResults((l) => setCell(l, 1, "decode_tokens_per_s", "")),
      ["row 1", "'decode_tokens_per_s'", "blank"],
    ],
    [
      "extra.csv",
      editedResults((l) => l.map((line, i) => `${line},${i === 0 ? "extra" : "1"}`)),
      ["unknown column 'extra'"],
    ],
    [
      "dup.csv",
      editedResults((l) => l.map((line, i) => `${line},${i === 0 ? "model" : "m"}`)),
      ["column 'model' twice"],
    ],
    ["header.csv", editedResults((l) => l.slice(0, 1)), ["'--results'", "no rows"]],
    ["binary.csv", Uint8Array.from({ length: 512 }, (_, i) => (i * 37) % 256), ["not a CSV"]],
  ];
  const dir = await Deno.makeTempDir({ prefix: "bad_report_" });
  for (const [name, content] of cases) {
    const path = join(dir, name);
    if (typeof content === "string") await Deno.writeTextFile(path, content);
    else await Deno.writeFile(path, content);
  }
  for (const [name, , includes] of cases) {
    const r = await cli("report", [
      "--results",
      join(dir, name),
      "--no-perplexity",
      "--out",
      join(dir, "out"),
    ]);
    assertOneLine(r, name, ...includes);
  }
  assertEquals(await listTree(dir), cases.map(([name]) => name).sort());
});

Deno.test("report takes the columns in another order; --out naming a file names the flag", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bad_order_" });
  const swapped = editedResults((lines) =>
    lines.map((line) => {
      const [a, b, ...rest] = line.split(",");
      return [b, a, ...rest].join(",");
    })
  );
  await Deno.writeTextFile(join(dir, "r.csv"), swapped);
  await Deno.writeTextFile(join(dir, "file"), "a file\n");
  const bad = await cli("report", ["--results", join(dir, "r.csv"), "--out", join(dir, "file")]);
  assertOneLine(bad, "'--out'", "is a file, not a directory");
  const merge = await cli("merge", [dir, "--out", join(dir, "file")]);
  assertOneLine(merge, "'--out'", "is a file, not a directory");
  const ok = await cli("report", ["--results", join(dir, "r.csv"), "--out", join(dir, "out")]);
  assertEquals(ok.code, 0, ok.stderr);
  assert((await listTree(join(dir, "out"))).includes("metrics/final_report.json"));
});

Deno.test("history --db on another program's SQLite file refuses it and leaves it unchanged", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bad_hist_" });
  const other = join(dir, "other.sqlite");
  const { DatabaseSync } = await import("node:sqlite");
  const foreign = new DatabaseSync(other);
  foreign.exec("CREATE TABLE notes (a)");
  foreign.close();
  const before = await Deno.readFile(other);
  const r = await cli("history", ["--db", other]);
  assertOneLine(r, other, "not a Turbo Inference history");
  assertEquals(await Deno.readFile(other), before);
  assertEquals(await listTree(dir), ["other.sqlite"]);
});

Deno.test("build-model --out naming a file is refused (with --force too); a dead build's staging folder is removed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bad_build_" });
  const file = join(dir, "file");
  await Deno.writeTextFile(file, "not a model\n");
  for (const force of [[], ["--force"]]) {
    const r = await cli("build_model", ["--preset", "tiny", "--out", file, ...force]);
    assertOneLine(r, "'--out'", file, "is a file, not a directory");
  }
  assertEquals(await Deno.readTextFile(file), "not a model\n");
  // A staging folder of a process that no longer exists (what kill -9 leaves).
  const dead = new Deno.Command("true").spawn();
  await dead.status;
  const stale = join(dir, `o.tmp-${dead.pid}-abc123`);
  await Deno.mkdir(join(stale, "onnx"), { recursive: true });
  const ok = await cli("build_model", ["--preset", "tiny", "--out", join(dir, "o")]);
  assertEquals(ok.code, 0, ok.stderr);
  assert(ok.stderr.includes(`removed ${stale}`), ok.stderr);
  assertEquals((await listTree(dir)).filter((p) => !p.includes("/")), ["file", "o"]);
});

Deno.test("build-model on SIGINT removes its partial build, says so in one line, exits 130", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bad_sigint_" });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI("build_model"), "--preset", "small", "--out", join(dir, "o")],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const guard = setTimeout(() => child.kill("SIGKILL"), 120_000);
  try {
    while ((await listTree(dir)).length === 0) await new Promise((r) => setTimeout(r, 50));
    child.kill("SIGINT");
    const out = await child.output();
    const r = { code: out.code, stdout: "", stderr: new TextDecoder().decode(out.stderr) };
    assertEquals(r.code, 130, r.stderr);
    const lines = r.stderr.trim().split("\n");
    assertEquals(lines.length, 1, r.stderr);
    assert(lines[0]!.startsWith("interrupted: ") && lines[0]!.includes("run the same command"));
    assertEquals(await listTree(dir), []);
  } finally {
    clearTimeout(guard);
  }
});

Deno.test("bench --model naming a file says so; a garbage ONNX fails without ORT's EndProfiling line", async () => {
  const tiny = await tinyDir();
  const file = join(tiny, "config.json");
  assertOneLine(
    await cli("bench", ["--model", file, "--runs", "1"]),
    "'--model'",
    file,
    "is a file",
  );
  const dir = await Deno.makeTempDir({ prefix: "bad_onnx_" });
  for (
    const f of ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"]
  ) {
    await Deno.copyFile(join(tiny, f), join(dir, f));
  }
  await Deno.mkdir(join(dir, "onnx"));
  await Deno.writeFile(
    join(dir, "onnx", "model.onnx"),
    Uint8Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) % 256),
  );
  const r = await cli("bench", ["--model", dir, "--runs", "1", "--prompt-tokens", "16"]);
  assertEquals(r.code, 1, r.stderr);
  assert(!r.stderr.includes("EndProfiling"), r.stderr);
  const errors = r.stderr.trim().split("\n").filter((l) => l.startsWith("error: "));
  assertEquals(errors.length, 1, r.stderr);
  assert(errors[0]!.includes("is not a readable ONNX model"), r.stderr);
});

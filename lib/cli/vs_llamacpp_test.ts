import assert from "node:assert/strict";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { fakeLlamaCpp } from "../llamacpp/_fake_tools.ts";
import { parseCsv } from "../llamacpp/files.ts";

const CLI = new URL("./vs_llamacpp.ts", import.meta.url).pathname;

/** Runs the CLI with `args`, without LLAMA_CPP_BIN unless given. */
async function vs(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    env: { HF_HUB_OFFLINE: "1", LLAMA_CPP_BIN: "", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("vs-llamacpp CLI: table on stdout, cells.csv, turns.csv and run.json in --output", async () => {
  const fake = await fakeLlamaCpp({ tgSeconds: 0.004 });
  try {
    const out = join(fake.dir, "out");
    const r = await vs([
      "--model",
      "preset:tiny",
      "--contexts",
      "8",
      "--new-tokens",
      "4",
      "--rounds",
      "2",
      "--warmup",
      "0",
      "--threads",
      "1",
      "--target",
      "0.8",
      "--output",
      out,
    ], { LLAMA_CPP_BIN: fake.dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\| preset:tiny \| q4 \(q4 b32 acc4\) \| Q4_0 \| 8 \| 2 \|/);
    const cells = parseCsv(await Deno.readTextFile(join(out, "cells.csv")));
    assert.equal(cells.length, 1);
    assert.equal(cells[0]!.llamacpp_median_tok_s, "750");
    assert.equal(cells[0]!.target, "0.8");
    const run = JSON.parse(await Deno.readTextFile(join(out, "run.json")));
    assert.equal(run.llama_cpp_version, "42 (fake)");
    assert.equal(run.llama_cpp_threads, 1);
    assert.equal(run.load_average_before.length, 3);
    // The read-bandwidth probe ran once, and every cell has both sides against it.
    assert(run.read_bandwidth.read_gb_s > 0, JSON.stringify(run.read_bandwidth));
    for (const side of ["ours", "llamacpp"]) {
      const fraction = Number(cells[0]![`${side}_bandwidth_fraction`]);
      const gbs = Number(cells[0]![`${side}_effective_gb_s`]);
      assert(fraction > 0 && Math.abs(fraction - gbs / run.read_bandwidth.read_gb_s) < 1e-9, side);
    }
    assert.match(
      r.stdout,
      /\| [0-9.]+ \/ [0-9.]+ \| [0-9.]+ \/ [0-9.]+ \([0-9]+ % \/ [0-9]+ %\) \|$/m,
    );
  } finally {
    await Deno.remove(fake.dir, { recursive: true });
  }
});

Deno.test("vs-llamacpp CLI: bad input is one line naming the flag, exit 1, nothing written", async () => {
  const fake = await fakeLlamaCpp();
  try {
    const out = join(fake.dir, "out");
    const cases: [string[], RegExp][] = [
      [[], /--llama-cpp: give the folder/],
      [
        ["--llama-cpp", join(fake.dir, "none")],
        /--llama-cpp: '.*llama-batched-bench' does not exist/,
      ],
      [["--llama-cpp", fake.dir, "--target", "fast"], /--target must be a positive number/],
      [["--llama-cpp", fake.dir, "--contexts", "128,x"], /--contexts/],
      [
        ["--llama-cpp", fake.dir, "--model", "preset:tiny", "--dtypes", "q4f16"],
        /--dtypes: 'q4f16'/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await vs([...args, "--output", out]);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert(!existsSync(out));
    }
  } finally {
    await Deno.remove(fake.dir, { recursive: true });
  }
});

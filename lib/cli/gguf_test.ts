import assert from "node:assert/strict";
import { join } from "node:path";
import { readGgufHeader } from "../llamacpp/gguf_read.ts";

const CLI = new URL("./gguf.ts", import.meta.url).pathname;

/** Runs the CLI with `args`, the Hub off. */
async function gguf(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    env: { HF_HUB_OFFLINE: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("gguf CLI converts preset:tiny and prints one JSON line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gguf-cli-" });
  try {
    const output = join(dir, "tiny.gguf");
    const run = await gguf(["--model", "preset:tiny", "--output", output]);
    assert.equal(run.code, 0, run.stderr);
    const line = JSON.parse(run.stdout.trim());
    assert.equal(line.path, output);
    assert.equal(line.bytes, (await Deno.stat(output)).size);
    assert.equal(readGgufHeader(output).metadata.get("general.architecture"), "llama");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("gguf CLI: bad input is one line naming the flag or file, exit 1, nothing written", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gguf-cli-" });
  try {
    const output = join(dir, "x.gguf");
    const empty = join(dir, "empty");
    await Deno.mkdir(empty);
    for (
      const [args, pattern] of [
        [["--output", output], /missing required flag --model/],
        [["--model", "preset:tiny"], /missing required flag --output/],
        [["--model", empty, "--output", output], /empty\/config\.json' does not exist/],
        [
          ["--model", "preset:tiny", "--output", join(dir, "no", "x.gguf")],
          /'--output' .* cannot be written/,
        ],
        [["--model", "not a model", "--output", output], /'--model' not a model is neither/],
      ] as const
    ) {
      const run = await gguf([...args]);
      assert.equal(run.code, 1, args.join(" "));
      assert.match(run.stderr.trim().split("\n").at(-1)!, pattern);
      // Progress may precede it; the error itself is one line, last.
      const lines = run.stderr.trim().split("\n");
      assert.match(lines.at(-1)!, /^error: /);
      assert.equal(lines.filter((l) => l.startsWith("error")).length, 1, run.stderr);
    }
    assert.deepEqual((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name), ["empty"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

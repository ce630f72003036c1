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
  const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
  assertEquals(errors.length, 1, r.stderr);
  assert(errors[0]!.includes(`$.models[0] (${missing}) cannot be loaded`), errors[0]);
  assert(!r.stderr.includes("FAILED"), "no cell ran");
  await assertRejects(
    () => Deno.stat(join(dir, "benchmarks", "results.csv")),
    Deno.errors.NotFound,
  );
  await assertRejects(() => Deno.stat(join(dir, "metrics")), Deno.errors.NotFound);
});

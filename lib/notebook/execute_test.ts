import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { join } from "node:path";
import { executeNotebook, findNotebookPython } from "./execute.ts";
import { installKernel } from "./kernel.ts";

const python = await findNotebookPython();
const ignore = python === null;

function notebook(cells: string[]): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "deno", display_name: "Deno", language: "typescript" } },
    cells: cells.map((source, i) => ({
      id: `c${i}`,
      cell_type: "code",
      metadata: {},
      execution_count: null,
      outputs: [],
      source,
    })),
  });
}

Deno.test({
  name: "installKernel() is idempotent: twice leaves one kernelspec for this Deno",
  async fn() {
    const data = await Deno.makeTempDir();
    const env = { XDG_DATA_HOME: data };
    await installKernel(env);
    const dir = await installKernel(env);
    const spec = JSON.parse(await Deno.readTextFile(join(dir, "kernel.json")));
    assertEquals(spec.argv[0], Deno.execPath());
    assertEquals([...Deno.readDirSync(join(data, "jupyter", "kernels"))].map((e) => e.name), [
      "deno",
    ]);
  },
});

Deno.test({
  name: "executeNotebook() runs cells on the Deno kernel and keeps their outputs",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir();
    const path = join(dir, "ok.ipynb");
    await Deno.writeTextFile(path, notebook(["const x = 6 * 7;\nx", "Deno.env.get('NB_PARAM')"]));
    const out = await executeNotebook(path, { outDir: join(dir, "out"), env: { NB_PARAM: "p1" } });
    const executed = JSON.parse(await Deno.readTextFile(out));
    const outputs = JSON.stringify(executed.cells.map((c: { outputs: unknown }) => c.outputs));
    assert(JSON.stringify(executed.cells[0].outputs).includes("42"), outputs);
    assert(JSON.stringify(executed.cells[1].outputs).includes("p1"), outputs);
  },
});

Deno.test({
  name: "executeNotebook() fails on a deliberately failing cell, naming the error",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir();
    const path = join(dir, "bad.ipynb");
    await Deno.writeTextFile(path, notebook(["1 + 1", "throw new Error('deliberate failure')"]));
    await assertRejects(
      () => executeNotebook(path, { outDir: join(dir, "out") }),
      Error,
      "deliberate failure",
    );
  },
});

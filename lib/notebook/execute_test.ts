import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { join } from "node:path";
import { executeNotebook, findNotebookPython } from "./execute.ts";
import { skipIf } from "../testing/skip.ts";
import { installKernel } from "./kernel.ts";

const python = await findNotebookPython();
/** Why the three executeNotebook() tests cannot run here (printed once per test), or null. */
const why = python === null
  ? "no Python with nbclient and nbformat (apt-get install python3-nbclient python3-nbformat " +
    "python3-jupyter-client, or make venv)"
  : null;

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
  name: "installKernel() is idempotent: twice leaves one kernelspec for this Deno, nothing else",
  async fn() {
    const data = await Deno.makeTempDir();
    await Promise.all([installKernel(data), installKernel(data)]);
    const dir = await installKernel(data);
    const spec = JSON.parse(await Deno.readTextFile(join(dir, "kernel.json")));
    assertEquals(spec.argv[0], Deno.execPath());
    assertEquals([...Deno.readDirSync(join(data, "kernels"))].map((e) => e.name), ["deno"]);
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["kernel.json"]);
  },
});

Deno.test({
  name: "executeNotebook() signs the executed copy so Jupyter opens it trusted",
  ignore: skipIf("executeNotebook() signs the executed copy so Jupyter opens it trusted", why),
  async fn() {
    const dir = await Deno.makeTempDir();
    const path = join(dir, "signed.ipynb");
    await Deno.writeTextFile(path, notebook(["'<b>x</b>'"]));
    const out = await executeNotebook(path, { outDir: join(dir, "out") });
    const check = await new Deno.Command(python!, {
      args: [
        "-c",
        "import sys, nbformat; from nbformat.sign import NotebookNotary\n" +
        "sys.exit(0 if NotebookNotary().check_signature(nbformat.read(sys.argv[1], 4)) else 5)",
        out,
      ],
    }).output();
    assertEquals(check.code, 0, "the executed notebook's signature checks");
  },
});

Deno.test({
  name: "executeNotebook() runs cells on the Deno kernel and keeps their outputs",
  ignore: skipIf("executeNotebook() runs cells on the Deno kernel and keeps their outputs", why),
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
  ignore: skipIf("executeNotebook() fails on a deliberately failing cell, naming the error", why),
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

Deno.test({
  name:
    "the notebook's first cell runs twice in one kernel (its import does not depend on the kernel's folder)",
  ignore: skipIf("the notebook's first cell runs twice in one kernel", why),
  async fn() {
    // The first cell moves the kernel to the repository root (atProjectRoot); a relative import
    // ("../lib/mod.ts") then resolved against the new folder when the cell ran again (Run All
    // after running it once): "Module not found". Run from a folder one level below the
    // checkout's root, as notebooks/ is.
    const root = join(import.meta.dirname!, "..", "..");
    const dir = await Deno.makeTempDir({ dir: root, prefix: ".nb_twice_" });
    try {
      const nb = JSON.parse(
        await Deno.readTextFile(join(root, "notebooks", "turbo_inference.ipynb")),
      ) as { cells: { cell_type: string; source: string[] }[] };
      const first = nb.cells.find((c) => c.cell_type === "code")!.source.join("")
        .split("\n").filter((l) => /import \* as ti|ti\.atProjectRoot\(\)/.test(l)).join("\n");
      assert(first.includes("atProjectRoot"), first);
      const path = join(dir, "twice.ipynb");
      await Deno.writeTextFile(path, notebook([first, first, "typeof ti.cell"]));
      const out = await executeNotebook(path, { outDir: join(dir, "out") });
      const executed = JSON.parse(await Deno.readTextFile(out));
      assert(JSON.stringify(executed.cells[2].outputs).includes("function"));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/**
 * `deno task notebook [--out notebooks/executed] [FILES…]` — execute notebooks headless on the
 * Deno kernel with quick settings (tiny preset unless the environment says otherwise). A cell
 * error fails the command.
 *
 * @module
 */
import "./_quiet.ts"; // first: silences DEP0040 before any dependency loads
import { executeNotebook } from "../notebook/mod.ts";
import { parseFlags, runCli } from "./_cli.ts";

if (import.meta.main) {
  await runCli(async () => {
    const { values } = parseFlags(Deno.args, {
      out: { type: "string", default: "notebooks/executed" },
      file: { type: "string", multiple: true },
      "cell-timeout": { type: "string", default: "1200" },
    });
    if (values.help) {
      console.log(
        "Usage: deno task notebook [--out notebooks/executed] [--file X.ipynb …] " +
          "[--cell-timeout SECONDS]\n\nQuick mode unless TURBO_QUICK is set (TURBO_QUICK=0: the " +
          "default spec, as make sweep; give its run cell time: --cell-timeout 7200).",
      );
      return;
    }
    const cellTimeoutS = Number(values["cell-timeout"]);
    if (!Number.isInteger(cellTimeoutS) || cellTimeoutS <= 0) {
      throw new TypeError(
        `--cell-timeout must be a positive whole number of seconds, got '${
          values["cell-timeout"]
        }'`,
      );
    }
    const files = values.file?.length ? values.file : [...Deno.readDirSync("notebooks")]
      .filter((e) => e.isFile && e.name.endsWith(".ipynb"))
      .map((e) => `notebooks/${e.name}`)
      .sort();
    if (files.length === 0) throw new Error("no notebooks found in notebooks/");
    const env = { TURBO_QUICK: Deno.env.get("TURBO_QUICK") ?? "1" };
    for (const file of files) {
      const started = performance.now();
      console.error(`executing ${file} …`);
      const out = await executeNotebook(file, { outDir: values.out!, env, cellTimeoutS });
      console.log(`${out} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    }
  });
}

/**
 * `deno run -A lib/cli/gpu_cells.ts --config SPEC --results results.csv --rows rows.json
 * [--deadline-ms EPOCH_MS]` — the GPU check's sweep step (lib/gpu/cells.ts): every cell of the
 * spec in a fresh worker, `results.csv` in the sweep's columns, and the rows as JSON.
 *
 * @module
 */
import "./_quiet.ts"; // first: silences DEP0040 before any dependency loads
import { runSweepCells } from "../gpu/cells.ts";
import { loadSweepSpec } from "../sweep/spec.ts";
import { intFlag, parseFlags, runCli } from "./_cli.ts";

if (import.meta.main) {
  await runCli(async () => {
    const { values } = parseFlags(Deno.args, {
      config: { type: "string" },
      results: { type: "string" },
      rows: { type: "string" },
      "deadline-ms": { type: "string" },
    });
    if (values.help) {
      console.log(
        "Usage: deno run -A lib/cli/gpu_cells.ts --config SPEC --results CSV --rows JSON " +
          "[--deadline-ms EPOCH_MS]",
      );
      return 0;
    }
    if (!values.config) throw new TypeError("missing required flag --config");
    if (!values.results) throw new TypeError("missing required flag --results");
    if (!values.rows) throw new TypeError("missing required flag --rows");
    const spec = await loadSweepSpec(values.config);
    const deadlineMs = intFlag(values["deadline-ms"], "--deadline-ms", {
      min: 0,
      fallback: Date.now() + (spec.time_budget_s ?? 600) * 1000,
    });
    const { rows, cellsLeft } = await runSweepCells(spec, {
      resultsPath: values.results,
      rowsPath: values.rows,
      deadlineMs,
    });
    const failed = new Set(rows.filter((r) => r.status !== "ok").map((r) => r.cell_id)).size;
    console.error(
      `gpu-cells: ${
        new Set(rows.map((r) => r.cell_id)).size
      } cells, ${failed} failed, ${cellsLeft} not started`,
    );
    return failed === 0 && cellsLeft === 0 ? 0 : 1;
  });
}

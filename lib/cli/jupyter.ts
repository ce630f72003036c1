/**
 * `deno task jupyter [--port 8888] [--stop]` — start (or stop) Jupyter with the Deno kernel.
 *
 * @module
 */
import "./_quiet.ts"; // first: silences DEP0040 before any dependency loads
import { startJupyter, stopJupyter } from "../notebook/mod.ts";
import { intFlag, parseFlags, runCli } from "./_cli.ts";

if (import.meta.main) {
  await runCli(async () => {
    const { values } = parseFlags(Deno.args, {
      port: { type: "string" },
      stop: { type: "boolean", default: false },
    });
    if (values.help) {
      console.log("Usage: deno task jupyter [--port 8888] [--stop]");
      return;
    }
    if (values.stop) {
      console.log(await stopJupyter() ? "Jupyter stopped" : "no Jupyter server was running");
      return;
    }
    const url = await startJupyter({
      port: intFlag(values.port, "--port", { min: 1, fallback: 8888 }),
    });
    console.log(
      `Jupyter (Deno kernel) on ${url}\nopen notebooks/turbo_inference.ipynb; 'make stop' ends it`,
    );
  });
}

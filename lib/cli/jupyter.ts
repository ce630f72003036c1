/**
 * `deno task jupyter [--port 8888] [--stop] [--setup] [--no-install]` — start (or stop) the
 * project's Jupyter: JupyterLab from `.venv/` (built on first use, `--setup` builds it only), else
 * Debian's classic Notebook; 127.0.0.1 only, a generated token, the Deno kernel registered in the
 * project (never over the user's kernelspec).
 *
 * @module
 */
import "./_quiet.ts"; // first: silences DEP0040 before any dependency loads
import { ensureJupyterLab, JUPYTERLAB_VERSION } from "../notebook/jupyter_env.ts";
import { startJupyter, stopJupyter } from "../notebook/server.ts";
import { intFlag, parseFlags, runCli } from "./_cli.ts";

if (import.meta.main) {
  await runCli(async () => {
    const { values } = parseFlags(Deno.args, {
      port: { type: "string" },
      stop: { type: "boolean", default: false },
      setup: { type: "boolean", default: false },
      "no-install": { type: "boolean", default: false },
    });
    if (values.help) {
      console.log("Usage: deno task jupyter [--port 8888] [--stop] [--setup] [--no-install]");
      return;
    }
    if (values.stop) {
      console.log(await stopJupyter() ? "Jupyter stopped" : "no Jupyter server was running");
      return;
    }
    const log = (line: string) => console.error(line);
    if (values.setup) {
      const lab = await ensureJupyterLab({ log });
      if (!lab.ok) throw new Error(`Cannot build the JupyterLab venv: ${lab.reason}`);
      console.log(`${lab.venv}: JupyterLab ${JUPYTERLAB_VERSION} with the Deno kernel`);
      return;
    }
    const port = intFlag(values.port, "--port", { min: 1, fallback: 8888 });
    const { url, kind } = await startJupyter({ port, install: !values["no-install"], log });
    console.log(
      `${kind === "lab" ? "JupyterLab" : "Jupyter Notebook"} (Deno kernel): ${url}\n` +
        "open it in a browser; 'make stop' ends the server",
    );
  });
}

/**
 * Notebook tooling: the project's JupyterLab (venv, kernel), headless execution, a local Jupyter
 * server, and what the notebook calls (parameters, run or load, displays, progress).
 *
 * @module
 */
export * from "./cell_guard.ts";
export * from "./execute.ts";
export * from "./jupyter_env.ts";
export * from "./kernel.ts";
export * from "./markdown_html.ts";
export * from "./notebook_displays.ts";
export * from "./progress_display.ts";
export * from "./run_estimate.ts";
export * from "./server.ts";
export * from "./session.ts";

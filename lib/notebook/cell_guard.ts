/**
 * "Run All" that stops at the first failing cell. JupyterLab sends every cell at once and leaves
 * it to the kernel to drop the rest after an error; Deno's kernel runs them all, so one failure
 * became a column of red `x is not defined` errors. A notebook cell wrapped in
 * {@linkcode cell} throws its own error once (one clear message); every later wrapped cell then
 * shows one quiet line naming that failure instead of running. {@linkcode startRun} (the
 * parameters cell, first in Run All) clears it.
 *
 * @module
 */
import { type Displayable, JUPYTER_DISPLAY } from "../report/display.ts";

/** The failure that stops the cells after it: its first line, or null. */
let stopped: string | null = null;

/** The first line of an error's message, with its name when it is not a plain `Error`. */
function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = message.split("\n").find((l) => l.trim() !== "")?.trim() ?? "unknown error";
  return error instanceof Error && error.name !== "Error" ? `${error.name}: ${line}` : line;
}

/**
 * Clears a recorded failure: call it in the first cell, so a new Run All starts afresh.
 *
 * @example
 * ```ts
 * import { startRun } from "./cell_guard.ts";
 * startRun();
 * ```
 */
export function startRun(): void {
  stopped = null;
}

/**
 * The failure that stops later cells, or null.
 *
 * @returns Its first line.
 */
export function stoppedBy(): string | null {
  return stopped;
}

/**
 * Runs one notebook cell's body. When an earlier wrapped cell failed, it does not run and returns
 * one quiet line naming that failure; when it throws, the failure is recorded and rethrown, so
 * the cell shows its error (and a headless run stops there).
 *
 * @param body The cell's code, as a function (so the names it uses are only read when it runs).
 * @returns What the body returns; a cell that does not run returns the quiet "not run" line in
 * its place (typed as the body's result: the cells after it do not run either, so none reads it).
 * @throws What the body throws.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cell, startRun } from "./cell_guard.ts";
 * import { JUPYTER_DISPLAY } from "../report/display.ts";
 * startRun();
 * assert.equal(await cell(() => 42), 42);
 * await assert.rejects(cell(() => { throw new Error("model not found"); }), /model not found/);
 * const skipped = await cell(() => 1) as unknown as { [JUPYTER_DISPLAY](): Record<string, string> };
 * assert.match(skipped[JUPYTER_DISPLAY]()["text/plain"]!, /not run: an earlier cell failed/);
 * startRun();
 * ```
 */
export async function cell<T>(body: () => T | Promise<T>): Promise<T> {
  if (stopped !== null) {
    const text = `not run: an earlier cell failed (${stopped}); fix it and Run All again`;
    const bundle = {
      "text/html": `<div style="color:#777;font-size:12px">${escapeHtml(text)}</div>`,
      "text/plain": text,
    };
    const note: Displayable = { [JUPYTER_DISPLAY]: () => bundle };
    return note as T;
  }
  try {
    return await body();
  } catch (error) {
    stopped = firstLine(error);
    throw error;
  }
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

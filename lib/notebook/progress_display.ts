/**
 * A sweep's progress in a notebook: one output, updated in place (a Jupyter display id), instead
 * of one stderr line per cell. It keeps the plan and the estimate, the current progress line, the
 * failed cells and the workers' last line, and redraws at most every 250 ms.
 *
 * @module
 */
import type { Displayable } from "../report/display.ts";
import { JUPYTER_DISPLAY } from "../report/display.ts";

/** What `Deno.jupyter` offers that the notebook helpers use. */
export interface JupyterBroadcaster {
  /** Sends a Jupyter IOPub message (`display_data`, `update_display_data`). */
  broadcast(msgType: string, content: Record<string, unknown>): Promise<void>;
}

/** Where a sweep's progress goes (see `runOrLoad`). */
export interface SweepProgress {
  /** A line of the orchestrator's log (plan, estimate, progress, failures). */
  log(line: string): void;
  /** Output a worker process wrote to stderr (perplexity progress, warnings). */
  worker(text: string): void;
  /** Draws the final state; call once the sweep is over. */
  close(): Promise<void>;
}

/** The state a progress display shows. */
export interface ProgressState {
  /** Plan and estimate lines, in order. */
  notes: string[];
  /** The latest progress bar line. */
  current: string | null;
  /** Lines about failed cells. */
  failures: string[];
  /** The last non-empty line a worker wrote. */
  worker: string | null;
  /** Whether the sweep is over. */
  done: boolean;
}

/**
 * Folds one log line into the state: progress-bar lines replace the current one (a failed cell's
 * line is also kept in `failures`), other lines (plan, estimate, perplexity) are notes.
 *
 * @param state The state (changed in place).
 * @param line A log line.
 * @returns The state.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { foldLogLine, type ProgressState } from "./progress_display.ts";
 * const s: ProgressState = { notes: [], current: null, failures: [], worker: null, done: false };
 * foldLogLine(s, "[##..] 50% · 2s elapsed · ETA 2s · FAILED a: boom");
 * foldLogLine(s, "[####] 100% · 4s elapsed · ETA 0s · b");
 * assert.equal(s.failures.length, 1);
 * assert(s.current?.endsWith(" b"));
 * ```
 */
export function foldLogLine(state: ProgressState, line: string): ProgressState {
  const text = line.trimEnd();
  if (text === "") return state;
  if (/^\[[#.]+\] /.test(text)) {
    state.current = text;
    if (text.includes("· FAILED ")) state.failures.push(text.replace(/^.*· FAILED /, ""));
  } else {
    state.notes.push(text);
  }
  return state;
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * The state as a display: HTML (a monospace box, failures in red) and plain text.
 *
 * @param state The progress state.
 * @returns A displayable.
 */
export function progressView(state: ProgressState): Displayable {
  const lines = [
    ...state.notes,
    ...(state.current ? [state.current] : []),
    ...(state.worker && !state.done ? [`worker: ${state.worker}`] : []),
  ];
  const failures = state.failures.map((f) => `failed: ${f}`);
  const html = `<div style="font-family:monospace;font-size:12px;white-space:pre-wrap;` +
    `background:#f6f8fa;border:1px solid #ddd;padding:6px 10px">` +
    lines.map(escape).join("\n") +
    (failures.length
      ? `\n<span style="color:#b00020">${failures.map(escape).join("\n")}</span>`
      : "") +
    `</div>`;
  const bundle = { "text/html": html, "text/plain": [...lines, ...failures].join("\n") };
  return { [JUPYTER_DISPLAY]: () => bundle };
}

/**
 * A progress display for a notebook cell: `display_data` with a display id once, then
 * `update_display_data` as lines arrive (throttled), the final state on `close()`.
 *
 * @param jupyter `Deno.jupyter` (anything with `broadcast`).
 * @param options `minIntervalMs` between redraws (default 250).
 * @returns The sink to pass to `runOrLoad`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { progressDisplay } from "./progress_display.ts";
 * const sent: string[] = [];
 * const p = progressDisplay({ broadcast: async (type) => { sent.push(type); } });
 * p.log("sweep 'x': 1 cells");
 * await p.close();
 * assert.deepEqual(sent, ["display_data", "update_display_data"]);
 * ```
 */
export function progressDisplay(
  jupyter: JupyterBroadcaster,
  options: { minIntervalMs?: number } = {},
): SweepProgress {
  const id = `turbo-progress-${crypto.randomUUID()}`;
  const state: ProgressState = {
    notes: [],
    current: null,
    failures: [],
    worker: null,
    done: false,
  };
  const minInterval = options.minIntervalMs ?? 250;
  let shown = false;
  let last = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let chain = Promise.resolve();
  const send = () => {
    clearTimeout(timer);
    timer = undefined;
    last = Date.now();
    const type = shown ? "update_display_data" : "display_data";
    shown = true;
    const data = progressView(state)[JUPYTER_DISPLAY]();
    chain = chain.then(() =>
      jupyter.broadcast(type, { data, metadata: {}, transient: { display_id: id } })
    ).catch(() => {});
  };
  const schedule = () => {
    if (!shown || Date.now() - last >= minInterval) send();
    else timer ??= setTimeout(send, minInterval - (Date.now() - last));
  };
  return {
    log(line) {
      foldLogLine(state, line);
      schedule();
    },
    worker(text) {
      const line = text.split(/[\r\n]/).map((l) => l.trim()).filter(Boolean).pop();
      if (line) {
        state.worker = line;
        schedule();
      }
    },
    async close() {
      state.done = true;
      send();
      await chain;
    },
  };
}

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
  /** Lines about failed cells (paths shortened). */
  failures: string[];
  /**
   * Cells that failed because the device cannot run the dtype at all (bf16 on a CPU without
   * bfloat16 kernels), counted per `dtype on device`: expected, so shown as one quiet line.
   */
  unsupported?: Record<string, number>;
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
  const text = shortenPaths(line.trimEnd());
  if (text === "") return state;
  if (/^\[[#.]+\] /.test(text)) {
    const failed = text.includes("· FAILED ") ? text.replace(/^.*· FAILED /, "") : null;
    const kind = failed === null ? null : unsupportedKind(failed);
    if (kind !== null) {
      state.unsupported ??= {};
      state.unsupported[kind] = (state.unsupported[kind] ?? 0) + 1;
      // The bar line names the cell only, not the loader's message.
      state.current = text.replace(/· FAILED (\S+): .*$/, "· $1: unsupported here");
    } else {
      state.current = text;
      if (failed !== null) state.failures.push(failed);
    }
  } else {
    state.notes.push(text);
  }
  return state;
}

/**
 * `dtype on device` when a failed cell's error says the runtime has no kernel for the dtype on
 * that device (ONNX Runtime: "Could not find an implementation for …"), else null.
 *
 * @param failure `cell id: error`, the cell id `model|dtype|device|…`.
 * @returns The key, or null for any other failure.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unsupportedKind } from "./progress_display.ts";
 * const e = "m|bf16|cpu|cache=on|ctx=128|b=1: cannot load m (bf16) on cpu: Could not find an implementation for Mul(14)";
 * assert.equal(unsupportedKind(e), "bf16 on cpu");
 * assert.equal(unsupportedKind("m|q4|cpu|cache=on|ctx=128|b=1: out of memory"), null);
 * ```
 */
export function unsupportedKind(failure: string): string | null {
  if (!/Could not find an implementation for|NOT_IMPLEMENTED|is not supported on/i.test(failure)) {
    return null;
  }
  const [, dtype, device] = failure.split(": ")[0]!.split("|");
  return dtype && device ? `${dtype} on ${device}` : null;
}

/**
 * Absolute paths shortened to `…/` and their last part (a progress box is no place for a cache
 * folder's full path).
 *
 * @param text A log line.
 * @returns The line with `/a/b/c.onnx` as `…/c.onnx`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shortenPaths } from "./progress_display.ts";
 * assert.equal(shortenPaths("from '/w/.cache/models/import-x/onnx/m.onnx' on cpu"), "from '…/m.onnx' on cpu");
 * ```
 */
export function shortenPaths(text: string): string {
  return text.replace(/(?<=^|[\s'"(])\/(?:[^\s'"/]+\/)+([^\s'"/]+)/g, "…/$1");
}

/** Failed cells listed one by one; the rest are counted. */
const MAX_FAILURES = 5;

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
  const shown = state.failures.slice(0, MAX_FAILURES).map((f) => `failed: ${f}`);
  const more = state.failures.length - shown.length;
  const failures = more > 0 ? [...shown, `failed: ${more} more (see results.csv)`] : shown;
  const unsupported = Object.entries(state.unsupported ?? {}).map(([kind, n]) =>
    `${kind}: unsupported here (no kernels for this dtype), ${n} cell${n === 1 ? "" : "s"} ` +
    `recorded as such`
  );
  const html = `<div style="font-family:monospace;font-size:12px;white-space:pre-wrap;` +
    `background:#f6f8fa;border:1px solid #ddd;padding:6px 10px">` +
    lines.map(escape).join("\n") +
    (unsupported.length
      ? `\n<span style="color:#777">${unsupported.map(escape).join("\n")}</span>`
      : "") +
    (failures.length
      ? `\n<span style="color:#b00020">${failures.map(escape).join("\n")}</span>`
      : "") +
    `</div>`;
  const bundle = {
    "text/html": html,
    "text/plain": [...lines, ...unsupported, ...failures].join("\n"),
  };
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
        state.worker = shortenPaths(line);
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

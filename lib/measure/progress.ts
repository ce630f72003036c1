/**
 * A progress bar with ETA on stderr (data goes to stdout, progress to stderr).
 *
 * @module
 */

/**
 * Formats seconds as `1h02m`, `3m12s` or `42s`.
 *
 * @param seconds A duration.
 * @returns A short human string.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDuration } from "./progress.ts";
 * assert(formatDuration(192) === "3m12s");
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s >= 3600) {
    return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  }
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

/**
 * One progress line: bar, done/total, elapsed and ETA.
 *
 * @param done Units finished (weighted by estimated cost).
 * @param total Units in all.
 * @param elapsedS Seconds since the start.
 * @param label What is running now.
 * @returns The line (no newline).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { progressLine } from "./progress.ts";
 * assert(progressLine(1, 4, 10, "x").includes("ETA 30s"));
 * ```
 */
export function progressLine(done: number, total: number, elapsedS: number, label: string): string {
  const width = 24;
  const frac = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(frac * width);
  const eta = done > 0 ? (elapsedS / done) * (total - done) : NaN;
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${(frac * 100).toFixed(0)}% · ${
    formatDuration(elapsedS)
  } elapsed · ETA ${formatDuration(eta)} · ${label}`;
}

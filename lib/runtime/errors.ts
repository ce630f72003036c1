/**
 * Named errors that callers catch.
 *
 * @module
 */

/**
 * The requested execution provider cannot run here (libraries absent, no GPU adapter). Raised
 * instead of silently falling back to another provider.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ExecutionProviderUnavailableError } from "./errors.ts";
 * const e = new ExecutionProviderUnavailableError("cuda", "libraries absent");
 * assert(e.device === "cuda" && e.message.includes("cuda"));
 * ```
 */
export class ExecutionProviderUnavailableError extends Error {
  /** The device that was asked for. */
  readonly device: string;
  /**
   * Builds the error with a one-line message naming the device and the reason.
   *
   * @param device The device that was asked for (`cuda`, `webgpu`).
   * @param detail Why it is unavailable and how to fix that.
   */
  constructor(device: string, detail: string) {
    super(`Execution provider '${device}' is unavailable: ${detail}`);
    this.name = "ExecutionProviderUnavailableError";
    this.device = device;
  }
}

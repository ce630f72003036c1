/**
 * One doctor check's verdict, and how verdicts combine into an exit code and a table.
 *
 * @module
 */

/** A check's outcome: `fail` stops a run, `warn` weakens its numbers, `pass` is fine. */
export type CheckStatus = "pass" | "warn" | "fail";

/** One line of the doctor's table. */
export interface CheckResult {
  /** What was checked, e.g. `execution provider: webgpu`. */
  name: string;
  /** The verdict. */
  status: CheckStatus;
  /** What was found, with the numbers. */
  detail: string;
  /** One line of advice (empty when the check passes). */
  advice: string;
}

/**
 * The exit code of a doctor run: 1 when any check failed, else 0.
 *
 * @param results The checks.
 * @returns 0 or 1.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { doctorExitCode } from "./check.ts";
 * assert(doctorExitCode([{ name: "a", status: "warn", detail: "", advice: "" }]) === 0);
 * assert(doctorExitCode([{ name: "a", status: "fail", detail: "", advice: "" }]) === 1);
 * ```
 */
export function doctorExitCode(results: readonly CheckResult[]): 0 | 1 {
  return results.some((r) => r.status === "fail") ? 1 : 0;
}

/**
 * The results as a plain-text table (status, check, detail cut at 160 characters: `--json` has
 * it whole) with advice lines under warnings and failures, and a closing count.
 *
 * @param results The checks.
 * @returns The table.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDoctorTable } from "./check.ts";
 * const t = formatDoctorTable([{ name: "disk", status: "warn", detail: "3 GB free", advice: "free space" }]);
 * assert(t.includes("WARN") && t.includes("→ free space") && t.includes("0 pass, 1 warn, 0 fail"));
 * ```
 */
export function formatDoctorTable(results: readonly CheckResult[]): string {
  const width = Math.max(5, ...results.map((r) => r.name.length));
  const lines = results.flatMap((r) => {
    const detail = r.detail.length > 160 ? `${r.detail.slice(0, 157)}...` : r.detail;
    const head = `${r.status.toUpperCase().padEnd(4)}  ${r.name.padEnd(width)}  ${detail}`;
    return r.status === "pass" || r.advice === ""
      ? [head]
      : [head, `${" ".repeat(6 + width)}  → ${r.advice}`];
  });
  const count = (s: CheckStatus) => results.filter((r) => r.status === s).length;
  lines.push(`${count("pass")} pass, ${count("warn")} warn, ${count("fail")} fail`);
  return lines.join("\n");
}

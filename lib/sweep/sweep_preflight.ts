/**
 * The sweep's pre-flight: the doctor's checks (lib/doctor) for the spec's models and devices,
 * run before the first worker starts. Only the spec's devices' execution providers are probed,
 * the Hub is not (the sweep is offline), WikiText-2 only when the spec measures perplexity, and
 * each model is sized at its largest dtype with the longest context plus the new tokens. The
 * verdicts go to `benchmarks/preflight.json` and into the run's provenance
 * (`metrics/final_report.json`); any `fail` stops the sweep unless `--no-preflight`.
 *
 * @module
 */
import { dirname } from "node:path";
import type { Device } from "../dtypes.ts";
import {
  type CheckResult,
  type DoctorProbe,
  planRun,
  runDoctor,
  type RunPlan,
} from "../doctor/mod.ts";
import type { SweepSpec } from "./spec.ts";

/** What `benchmarks/preflight.json` holds. */
export interface PreflightRecord {
  /** When the checks ran, RFC 3339. */
  checked_at: string;
  /** The spec's name. */
  spec: string;
  /** Every distinct verdict, in table order. */
  checks: CheckResult[];
  /** Counts by status. */
  counts: { pass: number; warn: number; fail: number };
}

/** Options of {@linkcode sweepPreflight}. */
export interface SweepPreflightOptions {
  /** What to read (tests script it). */
  probe: DoctorProbe;
  /** Where models are cached or built. @default ".cache/models" */
  cacheDir?: string;
}

/** A probe that asks each execution provider once (one check runs per model and device). */
function memoized(probe: DoctorProbe): DoctorProbe {
  const eps = new Map<Device, Promise<string | null>>();
  return {
    ...probe,
    executionProviderError(device) {
      let hit = eps.get(device);
      if (hit === undefined) eps.set(device, hit = probe.executionProviderError(device));
      return hit;
    },
  };
}

/** The plan of a model at the dtype whose files are largest. */
function largestPlan(spec: SweepSpec, model: string, cacheDir: string): RunPlan {
  const context = Math.max(...spec.context_lengths) + spec.max_new_tokens;
  const batch = Math.max(...spec.batch_sizes);
  const plans = spec.dtypes.map((d) => planRun(model, d, { context, batch, cacheDir }));
  return plans.reduce((a, b) => ((b.modelBytes ?? 0) > (a.modelBytes ?? 0) ? b : a));
}

/**
 * Runs the doctor's checks for a sweep.
 *
 * @param spec A validated spec.
 * @param options The probe and the model cache.
 * @returns The record (write it with {@linkcode writePreflight}).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSweepSpec } from "./spec.ts";
 * import { sweepPreflight } from "./sweep_preflight.ts";
 * import { scriptedProbe } from "../doctor/_scripted_probe.ts";
 * const spec = parseSweepSpec({ models: ["preset:tiny"], dtypes: ["q4"], context_lengths: [128] });
 * const r = await sweepPreflight(spec, { probe: scriptedProbe() });
 * // only cpu's provider is probed, no Hub, no WikiText-2 without perplexity
 * const names = r.checks.map((c) => c.name);
 * assert(names.includes("execution provider: cpu") && !names.includes("execution provider: cuda"));
 * assert(!names.includes("Hugging Face Hub") && !names.includes("WikiText-2") && r.counts.fail === 0);
 * ```
 */
export async function sweepPreflight(
  spec: SweepSpec,
  options: SweepPreflightOptions,
): Promise<PreflightRecord> {
  const probe = memoized(options.probe);
  const cacheDir = options.cacheDir ?? ".cache/models";
  const seen = new Set<string>();
  const checks: CheckResult[] = [];
  for (const model of spec.models) {
    const plan = largestPlan(spec, model, cacheDir);
    for (const device of spec.devices) {
      const results = await runDoctor(probe, {
        device,
        providers: spec.devices,
        hub: false,
        plan,
        cacheDir,
      });
      for (const r of results) {
        if (r.name === "WikiText-2" && spec.perplexity === null) continue;
        // A dtype a model lacks is that dtype's cells' error, not the sweep's.
        const check = r.name.startsWith("model ") && r.status === "fail"
          ? { ...r, status: "warn" as const, advice: `its cells will be error rows: ${r.advice}` }
          : r;
        const key = JSON.stringify(check);
        if (!seen.has(key)) {
          seen.add(key);
          checks.push(check);
        }
      }
    }
  }
  const count = (s: CheckResult["status"]) => checks.filter((c) => c.status === s).length;
  return {
    checked_at: new Date().toISOString(),
    spec: spec.name,
    checks,
    counts: { pass: count("pass"), warn: count("warn"), fail: count("fail") },
  };
}

/**
 * Writes `benchmarks/preflight.json` (temp file + rename).
 *
 * @param path Destination.
 * @param record The checks.
 */
export async function writePreflight(path: string, record: PreflightRecord): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${Deno.pid}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(record, null, 2) + "\n");
  await Deno.rename(tmp, path);
}

/**
 * Reads `preflight.json`, or `null` when there is none or it is not one.
 *
 * @param path The file.
 * @returns The record or null.
 */
export async function readPreflight(path: string): Promise<PreflightRecord | null> {
  try {
    const value = JSON.parse(await Deno.readTextFile(path)) as PreflightRecord;
    return Array.isArray(value.checks) ? value : null;
  } catch {
    return null;
  }
}

/**
 * One line per warning or failure, for the sweep's log.
 *
 * @param record The checks.
 * @returns Lines like `preflight warn: background load: … → advice`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { preflightLines } from "./sweep_preflight.ts";
 * const lines = preflightLines({ checked_at: "", spec: "s", counts: { pass: 1, warn: 1, fail: 0 }, checks: [
 *   { name: "disk", status: "pass", detail: "", advice: "" },
 *   { name: "RAM", status: "warn", detail: "1 GB", advice: "free memory" },
 * ] });
 * assert.deepEqual(lines, ["preflight warn: RAM: 1 GB → free memory"]);
 * ```
 */
export function preflightLines(record: PreflightRecord): string[] {
  return record.checks.filter((c) => c.status !== "pass").map((c) =>
    `preflight ${c.status}: ${c.name}: ${c.detail}${c.advice ? ` → ${c.advice}` : ""}`
  );
}

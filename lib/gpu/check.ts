/**
 * The GPU check, run by `gpu/check.sh` from the unpacked bundle: each step is one of the
 * project's own commands in a child process with its own time limit (so a hang costs that step,
 * not the call), and the results land in one output folder of at most 8 files:
 * `sysinfo.json`, `doctor.json`, `spec.json` (the generated sweep spec), `results.csv` (the
 * sweep's rows: `deno task report --results` and `deno task merge DIR --config DIR/spec.json`
 * read it), `<device>.json` and `<device>.md` (this check's report), and check.sh's `check.log`.
 *
 * @module
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import type { BenchRow } from "../results/schema.ts";
import { exists } from "../_fs.ts";
import type { Dtype } from "../dtypes.ts";
import { PRESETS } from "../model/presets.ts";
import { type Bandwidth, hostCopyBandwidth, parseBandwidthJson } from "./bandwidth.ts";
import { decodeBytes, modelFileBytes } from "./decode_bound.ts";
import type { CheckPlan } from "./plan.ts";
import { sweepSpec } from "./plan.ts";
import {
  cellResults,
  type CheckReport,
  comparePerplexity,
  deviceSlug,
  renderCheckMarkdown,
  type StepResult,
} from "./report.ts";
import { runStep } from "./step.ts";

/** Options of {@linkcode runCheck}. */
export interface CheckOptions {
  /** Output folder (created). */
  out: string;
  /** The plan. */
  plan: CheckPlan;
  /** When check.sh started, epoch milliseconds (the deadline counts from there). */
  startedAtMs: number;
  /** Folder of `bandwidth.py` (the bundle). */
  bundleDir: string;
  /** What check.sh did about Vulkan, one line. @default "" */
  vulkan?: string;
  /** The bundle's commit. @default "unknown" */
  gitCommit?: string;
  /** Scratch folder. @default ".cache/gpu-check" */
  workDir?: string;
}

/** What {@linkcode runCheck} returns. */
export interface CheckOutcome {
  /** The report written. */
  report: CheckReport;
  /** Files written into the output folder. */
  files: string[];
  /** Whether every step, cell and the perplexity comparison passed. */
  ok: boolean;
}

async function readJsonValue(path: string): Promise<unknown> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch {
    return null;
  }
}

async function readJson(path: string): Promise<Record<string, unknown> | null> {
  const value = await readJsonValue(path);
  return value !== null && typeof value === "object" ? value as Record<string, unknown> : null;
}

/** The first result of a `deno task ppl --output` report: its perplexity and provider. */
function pplOf(report: Record<string, unknown> | null): { ppl: number | null; provider: string } {
  const first = (report?.results as Array<Record<string, unknown>> | undefined)?.[0];
  return {
    ppl: typeof first?.ppl === "number" ? first.ppl : null,
    provider: typeof first?.execution_provider === "string" ? first.execution_provider : "",
  };
}

/**
 * Runs the whole check and writes its outputs.
 *
 * @param options Output folder, plan, start time, bundle folder.
 * @returns The report, the files written, and whether everything passed.
 * @example
 * ```ts ignore
 * import { runCheck } from "./check.ts";
 * import { checkPlan } from "./plan.ts";
 * await runCheck({ out: "out", plan: checkPlan("cpu", 600), startedAtMs: Date.now(), bundleDir: "." });
 * ```
 */
export async function runCheck(options: CheckOptions): Promise<CheckOutcome> {
  const { out, plan } = options;
  const work = options.workDir ?? ".cache/gpu-check";
  await mkdir(out, { recursive: true });
  await mkdir(work, { recursive: true });
  const deno = Deno.execPath();
  const remaining = () => plan.deadlineS - (Date.now() - options.startedAtMs) / 1000;
  const steps: StepResult[] = [];
  const log = (line: string) => console.error(`gpu-check: ${line}`);
  const limit = (wanted: number, reserve = 0) =>
    Math.max(0, Math.min(wanted, remaining() - reserve));
  const run = async (
    name: string,
    cmd: string,
    args: string[],
    timeoutS: number,
    stdoutPath?: string,
  ) => {
    log(`${name} (limit ${timeoutS.toFixed(0)} s, ${remaining().toFixed(0)} s left)`);
    const result = await runStep(name, cmd, args, {
      timeoutS,
      ...(stdoutPath ? { stdoutPath } : {}),
    });
    steps.push(result.step);
    log(
      `${name}: ${result.step.status} in ${result.step.seconds.toFixed(1)} s ${result.step.error}`,
    );
    return result;
  };

  const files: string[] = [];
  const sysinfoPath = join(out, "sysinfo.json");
  await run("sysinfo", deno, ["run", "-A", "lib/cli/sysinfo.ts"], limit(60), sysinfoPath);
  files.push(sysinfoPath);
  const doctorPath = join(out, "doctor.json");
  // The doctor exits 1 when a check fails; its JSON is the result either way.
  const doctor = await run(
    "doctor",
    deno,
    ["run", "-A", "lib/cli/doctor.ts", "--device", plan.device, "--json"],
    limit(90),
    doctorPath,
  );
  if (doctor.step.status === "failed" && doctor.step.exit_code === 1) {
    doctor.step.status = "ok";
    doctor.step.error = "exit 1: the doctor reported a failed check (see doctor.json)";
  }
  files.push(doctorPath);
  const sysinfo = await readJson(sysinfoPath);

  // Backends the native binding says it has (`bundled: false` = a provider library it would
  // load from beside itself, e.g. the CUDA EP fetched at install time).
  const backends: Record<string, boolean> = {};
  const list =
    (ort as unknown as { listSupportedBackends?: () => { name: string; bundled: boolean }[] })
      .listSupportedBackends;
  for (const b of list?.() ?? []) backends[b.name] = b.bundled;

  let bandwidth: Bandwidth | null = null;
  if (plan.mode === "gpu") {
    const bw = await run(
      "bandwidth",
      "python3",
      [join(options.bundleDir, "bandwidth.py")],
      limit(90),
    );
    try {
      bandwidth = parseBandwidthJson(bw.stdout);
    } catch (error) {
      const step = steps[steps.length - 1]!;
      step.status = "failed";
      step.error = (error as Error).message + (step.error ? ` (${step.error})` : "");
    }
  } else {
    const t0 = performance.now();
    bandwidth = hostCopyBandwidth({ bytes: 64 * 1024 * 1024, rounds: 5 });
    steps.push({
      name: "bandwidth",
      status: "ok",
      seconds: (performance.now() - t0) / 1000,
      exit_code: null,
      error: "",
    });
  }

  const pplArgs = (device: string, output: string) => [
    "run",
    "-A",
    "lib/cli/ppl.ts",
    "--model",
    plan.pplModel,
    "--dtypes",
    "fp32",
    "--device",
    device,
    "--window",
    String(plan.pplWindow),
    "--stride",
    String(plan.pplStride),
    "--max-tokens",
    String(plan.pplMaxTokens),
    "--output",
    output,
  ];
  const pplCpuPath = join(work, "ppl-cpu.json");
  const pplDevPath = join(work, `ppl-${plan.device}.json`);
  await run("ppl-reference-cpu", deno, pplArgs("cpu", pplCpuPath), limit(180, 60));
  await run(`ppl-${plan.device}`, deno, pplArgs(plan.device, pplDevPath), limit(180, 60));
  const perplexity = comparePerplexity(
    plan.pplModel,
    pplOf(await readJson(pplCpuPath)).ppl,
    pplOf(await readJson(pplDevPath)),
    plan.pplTolerance,
  );

  // Build the preset's variants first, as a step of its own, so its time is on record.
  const build = `import { ensureModel } from "./lib/model/ensure.ts";\n` +
    `await ensureModel(${JSON.stringify(plan.preset)}, { dtypes: ${
      JSON.stringify(plan.dtypes)
    } });`;
  await run(`build ${plan.preset}`, deno, ["eval", build], limit(420, 90));

  const specPath = join(out, "spec.json");
  const rowsPath = join(work, "rows.json");
  const resultsPath = join(out, "results.csv");
  const budget = remaining() - 45;
  if (budget > 10) {
    const spec = sweepSpec(plan, budget);
    await writeFile(specPath, JSON.stringify(spec, null, 2) + "\n");
    files.push(specPath);
    await rm(rowsPath, { force: true });
    await run(
      "sweep cells",
      deno,
      [
        "run",
        "-A",
        "lib/cli/gpu_cells.ts",
        "--config",
        specPath,
        "--results",
        resultsPath,
        "--rows",
        rowsPath,
        "--deadline-ms",
        String(Math.round(Date.now() + budget * 1000)),
      ],
      limit(budget + 30, 10),
    );
    if (await exists(resultsPath)) files.push(resultsPath);
  } else {
    steps.push({
      name: "sweep cells",
      status: "skipped",
      seconds: 0,
      exit_code: null,
      error: `${remaining().toFixed(0)} s left before the deadline`,
    });
  }

  const rows = ((await readJsonValue(rowsPath)) ?? []) as BenchRow[];
  const shape = PRESETS[plan.preset]!;
  const modelDir = join(".cache", "models", `${plan.preset}-s42`);
  const cells = cellResults(rows, (dtype: Dtype, context: number, newTokens: number) => {
    const fileBytes = modelFileBytes(modelDir, dtype);
    return fileBytes === null ? null : decodeBytes({
      layers: shape.num_hidden_layers,
      kvHeads: shape.num_key_value_heads,
      headDim: shape.head_dim,
      hidden: shape.hidden_size,
      vocab: shape.vocab_size,
    }, { fileBytes, dtype, context, newTokens });
  }, bandwidth);

  const gpu = sysinfo?.gpu as Record<string, unknown> | null | undefined;
  const cpuModel = typeof sysinfo?.cpuModel === "string" ? sysinfo.cpuModel : "cpu";
  const deviceName = plan.mode === "gpu"
    ? (typeof gpu?.name === "string" ? gpu.name : bandwidth?.device_name || "gpu")
    : cpuModel;
  const slug = plan.mode === "gpu" ? deviceSlug(deviceName) : `cpu-${deviceSlug(cpuModel)}`;
  const providers = new Set<string>();
  for (const r of rows) if (r.execution_provider) providers.add(r.execution_provider);
  if (perplexity.device_provider) providers.add(perplexity.device_provider);
  const report: CheckReport = {
    mode: plan.mode,
    device_slug: slug,
    device: plan.device,
    device_name: deviceName,
    started_at: new Date(options.startedAtMs).toISOString(),
    seconds: (Date.now() - options.startedAtMs) / 1000,
    git_commit: options.gitCommit ?? "unknown",
    backends,
    providers_loaded: [...providers].sort(),
    vulkan: options.vulkan ?? "",
    bandwidth,
    perplexity,
    cells_planned: plan.dtypes.length * plan.contexts.length * 2,
    cells,
    steps,
  };
  const jsonPath = join(out, `${slug}.json`);
  const mdPath = join(out, `${slug}.md`);
  await writeFile(jsonPath, JSON.stringify(report, null, 2) + "\n");
  await writeFile(mdPath, renderCheckMarkdown(report));
  files.push(jsonPath, mdPath);
  const ok = steps.every((s) => s.status === "ok") && perplexity.pass === true &&
    cells.length === report.cells_planned && cells.every((c) => c.status === "ok");
  return { report, files, ok };
}

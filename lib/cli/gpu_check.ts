/**
 * `deno run -A lib/cli/gpu_check.ts --out DIR [--cpu] [--deadline-s 420] [--started-at MS]
 * [--bundle DIR]` — the GPU check's steps (lib/gpu/check.ts), as `gpu/check.sh` runs them from
 * the unpacked bundle. Exit code 1 when a step, a cell or the perplexity comparison failed; the
 * outputs are written either way.
 *
 * @module
 */
import "./_quiet.ts"; // first: silences DEP0040 before any dependency loads
import { runCheck } from "../gpu/check.ts";
import { checkPlan } from "../gpu/plan.ts";
import { intFlag, parseFlags, runCli } from "./_cli.ts";

const HELP = `Usage: deno run -A lib/cli/gpu_check.ts --out DIR [--cpu] [--deadline-s 420]
                        [--started-at EPOCH_MS] [--bundle DIR]

Runs the GPU check (docs/gpu.md) into DIR: sysinfo.json, doctor.json, spec.json, results.csv,
<device>.json, <device>.md. --cpu is the dry run: preset:tiny on the CPU, the same steps.
Normally started by gpu/check.sh from the unpacked bundle.`;

if (import.meta.main) {
  await runCli(async () => {
    const { values } = parseFlags(Deno.args, {
      out: { type: "string" },
      cpu: { type: "boolean", default: false },
      "deadline-s": { type: "string" },
      "started-at": { type: "string" },
      bundle: { type: "string", default: "gpu" },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (!values.out) throw new TypeError("missing required flag --out");
    const deadline = intFlag(values["deadline-s"], "--deadline-s", { min: 1, fallback: 420 });
    const startedAtMs = intFlag(values["started-at"], "--started-at", {
      min: 0,
      fallback: Date.now(),
    });
    const commit = await Deno.readTextFile("gpu/COMMIT").then((s) => s.trim()).catch(() =>
      "unknown"
    );
    const outcome = await runCheck({
      out: values.out,
      plan: checkPlan(values.cpu ? "cpu" : "gpu", deadline),
      startedAtMs,
      bundleDir: values.bundle!,
      vulkan: Deno.env.get("GPU_CHECK_VULKAN") ?? "",
      gitCommit: commit,
    });
    for (const file of outcome.files) console.log(file);
    console.error(
      `gpu-check: ${outcome.ok ? "passed" : "FAILED"} in ${outcome.report.seconds.toFixed(0)} s`,
    );
    return outcome.ok ? 0 : 1;
  });
}

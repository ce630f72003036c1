/**
 * `deno task doctor [--model REF --dtype D] [--device DEV] [--device-id N] [--context N]
 * [--batch N] [--json]` — checks the machine before a run and prints a table of pass / warn /
 * fail with one line of advice each (or JSON with `--json`); exit code 1 on any fail.
 *
 * @module
 */
import "./_quiet.ts"; // first: silences DEP0040 before any dependency loads
import { isDevice, isDtype } from "../dtypes.ts";
import {
  doctorExitCode,
  formatDoctorTable,
  planRun,
  runDoctor,
  systemProbe,
} from "../doctor/mod.ts";
import { intFlag, parseFlags, runCli } from "./_cli.ts";

const USAGE =
  `Usage: deno task doctor [--model REF --dtype D] [--device cpu|cuda|webgpu] [--device-id N]
                        [--context TOKENS] [--batch N] [--cache-dir DIR] [--json]

Checks Deno and packages, which execution providers load, the GPU and free VRAM, free RAM and
disk against the model and the KV cache the context needs, the CPU governor, background load,
WikiText-2 and the Hub (HF_HUB_OFFLINE=1 skips the network). Exit code 1 on any fail.`;

if (import.meta.main) {
  await runCli(async () => {
    const { values } = parseFlags(Deno.args, {
      model: { type: "string" },
      dtype: { type: "string" },
      device: { type: "string" },
      "device-id": { type: "string" },
      context: { type: "string" },
      batch: { type: "string" },
      "cache-dir": { type: "string" },
      json: { type: "boolean", default: false },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const device = values.device ?? "cpu";
    if (!isDevice(device)) {
      throw new RangeError(`'--device' must be cpu, cuda or webgpu, got ${JSON.stringify(device)}`);
    }
    const dtype = values.dtype ?? "fp32";
    if (!isDtype(dtype)) {
      throw new RangeError(`'--dtype' is not a known dtype, got ${JSON.stringify(dtype)}`);
    }
    if (values.dtype !== undefined && values.model === undefined) {
      throw new TypeError("'--dtype' needs '--model'");
    }
    const context = intFlag(values.context, "--context", { min: 1, fallback: 2048 });
    const batch = intFlag(values.batch, "--batch", { min: 1, fallback: 1 });
    const deviceId = intFlag(values["device-id"], "--device-id", { min: 0, fallback: 0 });
    const cacheDir = values["cache-dir"] ?? ".cache/models";
    const plan = values.model === undefined
      ? undefined
      : planRun(values.model, dtype, { context, batch, cacheDir });
    const results = await runDoctor(systemProbe(), {
      device,
      deviceId,
      cacheDir,
      ...(plan ? { plan } : {}),
    });
    console.log(values.json ? JSON.stringify(results, null, 2) : formatDoctorTable(results));
    return doctorExitCode(results);
  });
}

/**
 * `deno task sysinfo` — the machine and software every result row records (JSON on stdout), and
 * which execution providers can run here.
 *
 * @module
 */
import "./_quiet.ts"; // first: silences DEP0040 before any dependency loads
import { DEVICES } from "../dtypes.ts";
import { deviceUnavailableReason, systemInfo } from "../runtime/mod.ts";
import { parseFlags, runCli } from "./_cli.ts";

if (import.meta.main) {
  await runCli(async () => {
    const { values } = parseFlags(Deno.args, {});
    if (values.help) {
      console.log("Usage: deno task sysinfo");
      return;
    }
    const devices = Object.fromEntries(
      DEVICES.map((
        d,
      ) => [d, deviceUnavailableReason(d) ?? "not ruled out (tried at session creation)"]),
    );
    console.log(JSON.stringify({ ...(await systemInfo()), devices }, null, 2));
  });
}

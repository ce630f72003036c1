import { assert, assertEquals } from "../testing/assert.ts";
import { join } from "node:path";
import { ensureModel } from "../model/mod.ts";
import { readTelemetry } from "../results/telemetry_table.ts";

const BENCH = new URL("./bench.ts", import.meta.url).pathname;

async function bench(args: string[]): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", BENCH, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("bench CLI writes telemetry.csv beside --output and the telemetry summary into its JSON", async () => {
  const dir = await ensureModel("tiny", { dtypes: ["fp32"] });
  const outDir = await Deno.makeTempDir();
  const output = join(outDir, "out.json");
  const r = await bench([
    "--model",
    dir,
    "--prompt-tokens",
    "24",
    "--max-new-tokens",
    "5",
    "--warmup",
    "1",
    "--runs",
    "2",
    "--threads",
    "1",
    "--telemetry-interval",
    "20",
    "--output",
    output,
  ]);
  assertEquals(r.code, 0, r.stderr);
  const t = JSON.parse(await Deno.readTextFile(output)).telemetry;
  assertEquals([t.available, t.interval_ms, t.file], [true, 20, join(outDir, "telemetry.csv")]);
  assert(t.telemetry_samples >= 1 && typeof t.cpu_process_pct_mean === "number");
  // A cpu run reads no GPU: missing, never 0; tokens per joule null with the reason.
  assertEquals([t.gpu_util_pct_mean, t.gpu_energy_j, t.tokens_per_joule], [null, null, null]);
  assert(t.tokens_per_joule_reason.includes("no GPU energy"));
  const rows = await readTelemetry(t.file);
  assertEquals(rows.length, t.telemetry_samples);
  assert(rows.every((row) => row.cell === "bench" && row.gpu_util_pct === null));
});

Deno.test("bench CLI rejects a --telemetry-interval outside 10-1000 ms in one line naming the flag", async () => {
  const r = await bench(["--model", "x/y", "--telemetry-interval", "5"]);
  assert(r.code !== 0);
  const lines = r.stderr.trim().split("\n");
  assertEquals(lines.length, 1, r.stderr);
  assert(lines[0]!.includes("'--telemetry-interval' must be an integer between 10 and 1000"));
});

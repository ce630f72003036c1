import assert from "node:assert/strict";
import { join } from "node:path";
import { runStep } from "./step.ts";

Deno.test("runStep() kills the whole process group at the limit, a background child included", async () => {
  const t0 = performance.now();
  // The background sleep keeps stdout open: only a group kill lets the step return.
  const run = await runStep("hang", "sh", ["-c", "sleep 30 & sleep 30"], { timeoutS: 0.5 });
  assert.equal(run.step.status, "timeout");
  assert(performance.now() - t0 < 10_000, "returned long after the limit");
});

Deno.test("runStep() writes stdout to a file and reports a failing exit code", async () => {
  const path = join(await Deno.makeTempDir(), "out.json");
  const ok = await runStep("echo", "sh", ["-c", "echo '{}'"], { timeoutS: 10, stdoutPath: path });
  assert.equal(ok.step.status, "ok");
  assert.equal(await Deno.readTextFile(path), "{}\n");
  const bad = await runStep("fail", "sh", ["-c", "exit 3"], { timeoutS: 10 });
  assert.equal(bad.step.status, "failed");
  assert.equal(bad.step.exit_code, 3);
});

Deno.test("runStep() with no time left skips without starting anything", async () => {
  const run = await runStep("late", "definitely-not-a-program", [], { timeoutS: 0 });
  assert.equal(run.step.status, "skipped");
});

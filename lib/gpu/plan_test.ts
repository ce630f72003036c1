import assert from "node:assert/strict";
import { checkPlan, sweepSpec } from "./plan.ts";
import { parseSweepSpec } from "../sweep/spec.ts";
import { expandGrid } from "../sweep/grid.ts";

Deno.test("sweepSpec() of the gpu plan is a valid spec: 4 dtypes × 2 lengths × cache on/off on webgpu", () => {
  const plan = checkPlan("gpu", 480);
  const spec = parseSweepSpec(JSON.parse(JSON.stringify(sweepSpec(plan, 300))), "gpu spec");
  assert.deepEqual(spec.models, ["preset:llama-3.2-1b"]);
  assert.deepEqual(spec.dtypes, ["fp32", "fp16", "q4", "q4f16"]);
  assert.deepEqual(spec.devices, ["webgpu"]);
  assert.deepEqual(spec.context_lengths, [128, 2048]);
  assert.equal(spec.time_budget_s, 300);
  assert.equal(expandGrid(spec).length, 16);
});

Deno.test("sweepSpec() of the dry run keeps the grid's shape on the CPU with preset:tiny", () => {
  const spec = parseSweepSpec(sweepSpec(checkPlan("cpu", 480), 60) as never, "cpu spec");
  assert.deepEqual(spec.devices, ["cpu"]);
  assert.deepEqual(spec.models, ["preset:tiny"]);
  assert.equal(expandGrid(spec).length, 16);
});

Deno.test("checkPlan() rejects a non-positive deadline naming the field", () => {
  assert.throws(() => checkPlan("gpu", 0), /'deadlineS' must be positive, got 0/);
});

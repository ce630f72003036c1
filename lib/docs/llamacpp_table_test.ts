import assert from "node:assert/strict";
import { renderLlamaCpp, renderLlamaCppSummary } from "./llamacpp_table.ts";

const cell = {
  model: "preset:small",
  dtype: "q4",
  quantization: "q4 b32 acc4",
  llama_type: "Q4_0",
  context: "128",
  rounds: "6",
  ours_median_tok_s: "1400",
  llamacpp_median_tok_s: "2000",
  ratio_of_medians: "0.7",
  ratio_geomean: "0.71",
  ratio_ci_low: "0.654",
  ratio_ci_high: "0.761",
  verdict: "slower",
  aa_ci_low: "0.97",
  aa_ci_high: "1.03",
  target: "0.8",
  target_verdict: "missed",
  ours_bytes_per_token: "9000000",
  llamacpp_bytes_per_token: "7500000",
  ours_effective_gb_s: "12.6",
  llamacpp_effective_gb_s: "15",
  ours_bandwidth_fraction: "0.45",
  llamacpp_bandwidth_fraction: "0.536",
};

Deno.test("renderLlamaCpp: the table from cells.csv lines, stamped with the run's load and read bandwidth", () => {
  const text = renderLlamaCpp([{
    folder: "benchmarks/llamacpp/small-q4",
    cells: [cell],
    run: {
      llama_cpp_version: "0 (unknown)",
      llama_cpp_threads: 2,
      git_commit: "0123456789abcdef",
      started: "2026-12-07T12:00:00Z",
      load_average_before: [0.41, 0.3, 0.2],
      load_average_after: [1.02, 0.5, 0.3],
      read_bandwidth: { read_gb_s: 27.52, method: "ReduceSum over 256 MiB" },
    },
  }]);
  assert.match(text, /\| 9\.00 \/ 7\.50 \| 12\.6 \/ 15\.0 \(45 % \/ 54 %\) \|/);
  assert.match(
    text,
    /commit 0123456789, 2026-12-07, load average 0\.41 before and 1\.02 after; read bandwidth 27\.5 GB\/s \(ReduceSum over 256 MiB\)\._/,
  );
  // A run recorded without a probe says nothing of a bound.
  const old = renderLlamaCpp([{ folder: "f", cells: [cell], run: { load_average_before: [1] } }]);
  assert(!old.includes("; read bandwidth"));
  // The README's short form: the interval rounded outward.
  assert.match(
    renderLlamaCppSummary([{ folder: "f", cells: [cell], run: {} }]),
    /0\.71 \(0\.65–0\.77\)/,
  );
});

import { assert, assertRejects } from "../testing/assert.ts";
import { syntheticResultsCsv } from "../report/_fixture.ts";
import { reportCommand } from "./report.ts";

Deno.test("reportCommand() rebuilds figures from --results into --out", async () => {
  const dir = await Deno.makeTempDir({ prefix: "turbo_cli_" });
  try {
    await Deno.writeTextFile(`${dir}/results.csv`, syntheticResultsCsv());
    await assertRejects(
      () =>
        reportCommand(
          ["--results", `${dir}/results.csv`, "--perplexity", `${dir}/results.csv`, "--out", dir],
          "figures",
        ),
      SyntaxError,
      "is corrupt: its header has no column 'method'",
    );
    await reportCommand(["--results", `${dir}/results.csv`, "--out", dir], "figures");
    assert((await Deno.stat(`${dir}/figures/tokens_per_s_vs_length.png`)).size > 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("reportCommand() rejects an unknown flag and a missing CSV in one line", async () => {
  await assertRejects(() => reportCommand(["--bogus"], "all"), TypeError, "'--bogus'");
  await assertRejects(
    () => reportCommand(["--results", "/nonexistent/results.csv", "--perplexity", "/x.csv"], "all"),
    Deno.errors.NotFound,
    "does not exist",
  );
});

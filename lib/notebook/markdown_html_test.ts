import { assertEquals } from "../testing/assert.ts";
import { inlineHtml, markdownHtml } from "./markdown_html.ts";

Deno.test("markdownHtml() renders the report's subset: heading, paragraph, list, table", () => {
  const md = "### 2. Is 4-bit worth it?\nAt 2048 tokens **q4** decodes.\n\n- one\n- _two_\n\n" +
    "| dtype | tok/s |\n| --- | ---: |\n| 4bit (\\| q4) | 1.0 |";
  assertEquals(
    markdownHtml(md).split("\n"),
    [
      "<h3>2. Is 4-bit worth it?</h3>",
      "<p>At 2048 tokens <strong>q4</strong> decodes.</p>",
      "<ul><li>one</li><li><em>two</em></li></ul>",
      '<table><thead><tr><th style="text-align:left">dtype</th><th style="text-align:right">tok/s</th></tr></thead>' +
      '<tbody><tr><td style="text-align:left">4bit (| q4)</td><td style="text-align:right">1.0</td></tr></tbody></table>',
    ],
  );
});

Deno.test("inlineHtml() escapes HTML, and code spans stay literal", () => {
  assertEquals(inlineHtml("<script>x</script>"), "&lt;script&gt;x&lt;/script&gt;");
  assertEquals(inlineHtml("`**a** <b>`"), "<code>**a** &lt;b&gt;</code>");
  assertEquals(inlineHtml("snake_case_name"), "snake_case_name");
});

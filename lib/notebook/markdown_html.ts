/**
 * The Markdown the report and the notebook write, as HTML: headings, paragraphs, `- ` lists, pipe
 * tables, `**bold**`, `_italic_`, `` `code` `` and `[links](url)`. Notebook outputs carry both, so
 * the answers render as HTML even where a viewer shows Markdown outputs as source (the classic
 * Notebook, untrusted).
 *
 * @module
 */

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
};

function escape(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ESCAPES[c]!);
}

/**
 * Inline Markdown → HTML: escapes the text, then bold, italic, code and links.
 *
 * @param text One line or paragraph of Markdown.
 * @returns HTML.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inlineHtml } from "./markdown_html.ts";
 * assert.equal(inlineHtml("**a** < `b` [c](d.html)"), '<strong>a</strong> &lt; <code>b</code> <a href="d.html">c</a>');
 * ```
 */
export function inlineHtml(text: string): string {
  const codes: string[] = [];
  const held = text.replace(/`([^`]+)`/g, (_, code: string) => {
    codes.push(`<code>${escape(code)}</code>`);
    return `\uE000${codes.length - 1}\uE000`;
  });
  return escape(held)
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, '<a href="$2">$1</a>')
    .replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>")
    .replace(/(^|[\s(])_([^_]+?)_(?=$|[\s).,;:])/g, "$1<em>$2</em>")
    .replace(/\uE000(\d+)\uE000/g, (_, i: string) => codes[Number(i)]!);
}

function cells(line: string): string[] {
  return line.trim().replace(/^\|/, "").replace(/\|$/, "").split(/(?<!\\)\|/)
    .map((c) => c.trim().replace(/\\\|/g, "|"));
}

function table(lines: string[]): string {
  const [head = "", rule = "", ...body] = lines;
  const align = cells(rule).map((c) => (c.endsWith(":") ? "right" : "left"));
  const cell = (tag: string, text: string, i: number) =>
    `<${tag} style="text-align:${align[i] ?? "left"}">${inlineHtml(text)}</${tag}>`;
  return `<table><thead><tr>${cells(head).map((c, i) => cell("th", c, i)).join("")}</tr></thead>` +
    `<tbody>${
      body.map((l) => `<tr>${cells(l).map((c, i) => cell("td", c, i)).join("")}</tr>`).join("")
    }</tbody></table>`;
}

/**
 * Block Markdown → HTML (the subset the report writes).
 *
 * @param markdown Markdown text.
 * @returns HTML.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { markdownHtml } from "./markdown_html.ts";
 * const html = markdownHtml("## 1. Q\n\nfp16 is **fast**.\n\n| a | b |\n|---|---:|\n| x | 1 |");
 * assert(html.startsWith("<h2>1. Q</h2>") && html.includes("<strong>fast</strong>"));
 * assert(html.includes('<td style="text-align:right">1</td>'));
 * ```
 */
export function markdownHtml(markdown: string): string {
  const out: string[] = [];
  const blocks = markdown.replace(/\r\n/g, "\n").split(/\n\s*\n/);
  for (const block of blocks) {
    const lines = block.split("\n").filter((l) => l.trim() !== "");
    if (lines.length === 0) continue;
    const heading = lines[0]!.match(/^(#{1,6})\s+(.*)$/);
    if (heading && lines.length === 1) {
      const level = heading[1]!.length;
      out.push(`<h${level}>${inlineHtml(heading[2]!)}</h${level}>`);
    } else if (heading) {
      out.push(markdownHtml(lines[0]!), markdownHtml(lines.slice(1).join("\n")));
    } else if (lines.every((l) => l.trim().startsWith("|")) && lines.length >= 2) {
      out.push(table(lines));
    } else if (lines.every((l) => /^\s*[-*] /.test(l))) {
      out.push(
        `<ul>${
          lines.map((l) => `<li>${inlineHtml(l.replace(/^\s*[-*] /, ""))}</li>`).join("")
        }</ul>`,
      );
    } else {
      out.push(`<p>${inlineHtml(lines.join(" "))}</p>`);
    }
  }
  return out.join("\n");
}

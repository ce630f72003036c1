import assert from "node:assert/strict";
import { Resvg } from "@resvg/resvg-js";
import { DEJAVU_SANS_FILES, FONT_FAMILY } from "../report/font_metrics.ts";
import { fitChart, svgSize } from "../report/display.ts";
import { renderSpec, type VegaLiteSpec } from "../report/render.ts";
import { chatFigureSpec } from "./figure.ts";
import type { ChatTurnRow } from "./rows.ts";

/** Box around everything drawn in a vega SVG (text included), its white background left out. */
function drawnBox(svg: string): { x1: number; y1: number; x2: number; y2: number } {
  const bare = svg.replace(/<rect width="[\d.]+" height="[\d.]+" fill="white"\/>/, "");
  const box = new Resvg(bare, {
    font: {
      fontFiles: [DEJAVU_SANS_FILES.regular, DEJAVU_SANS_FILES.bold],
      loadSystemFonts: false,
      defaultFontFamily: FONT_FAMILY,
    },
  }).getBBox();
  assert(box, "the SVG draws something");
  return { x1: box.x, y1: box.y, x2: box.x + box.width, y2: box.y + box.height };
}

function assertInside(svg: string, what: string): void {
  const { width, height } = svgSize(svg);
  const box = drawnBox(svg);
  assert(
    box.x1 >= 0 && box.y1 >= 0 && box.x2 <= width && box.y2 <= height,
    `${what}: drawn ${JSON.stringify(box)} outside its ${width} × ${height} box`,
  );
}

/** A RAG conversation's turns, reuse on and off (the fields the figure reads). */
function rows(conversations: string[]): ChatTurnRow[] {
  const kinds = ["user", "rag_data", "user", "rag_removal", "user"];
  return conversations.flatMap((conversation) =>
    (["on", "off"] as const).flatMap((mode) =>
      kinds.map((kind, i) =>
        ({
          conversation,
          prefix_cache: mode,
          turn: i + 1,
          kind,
          status: "ok",
          ttft_ms: mode === "on" ? 2 + i : 3 + 4 * i,
          prompt_tokens: 40 * (i + 1),
          reused_tokens: mode === "on" && i > 0 ? 30 * i : 0,
          cut_tokens: kind === "rag_removal" ? 60 : 0,
          cumulative_hit_rate: mode === "on" ? i / (i + 2) : null,
        }) as unknown as ChatTurnRow
      )
    )
  );
}

Deno.test("chat figure: every title, axis and mark lies inside the chart's box as the notebook shows it", async () => {
  // The check itself catches an escape: with no autosize the y axis and its title fall left of 0.
  const escaping = {
    autosize: "none",
    padding: 0,
    width: 200,
    height: 100,
    data: { values: [{ turn: 1, ms: 3 }] },
    mark: "point",
    encoding: {
      x: { field: "turn", type: "quantitative" },
      y: { field: "ms", type: "quantitative", title: "TTFT, ms" },
    },
  } as unknown as VegaLiteSpec;
  const { svg: escaped } = await renderSpec(escaping);
  assert.throws(() => assertInside(escaped, "autosize none"), /outside its 200 × 100 box/);

  for (const names of [["rag-short"], ["rag-short", "rag-long", "chat"]]) {
    const spec = chatFigureSpec(rows(names), { subtitle: "preset:tiny, fp32 on CPU" });
    const { svg } = await fitChart(spec); // what chartDisplay shows (900 px column)
    assertInside(svg, `${names.length} conversation(s)`);
  }
  assertInside((await renderSpec(chatFigureSpec([]))).svg, "no turns");
});

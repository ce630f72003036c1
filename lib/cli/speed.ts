/**
 * `deno task speed --model REF [--settings q4:acc0:ort,q4:acc0,q4:acc4,…] [--context 128]
 * [--new-tokens 32] [--rounds 5] [--warmup 1] [--quality] [--max-tokens 4096] [--output F]` —
 * the same model at each speed setting, side by side in one process, as ratios to the first
 * setting; `--quality` adds ΔPPL / KL / top-1 of each quantised variant against fp32 on
 * WikiText-2. A Markdown table on stdout, progress on stderr, JSON to `--output`.
 *
 * @module
 */
import { join } from "node:path";
import { evaluatePerplexity } from "../eval/perplexity_report.ts";
import { resolveModel } from "../engine/resolve.ts";
import { parseSpeedSetting, variantKey } from "../speed/setting.ts";
import { prepareVariant, runSideBySide, speedTable } from "../speed/side_by_side.ts";
import { intFlag, parseFlags, runCli } from "./_cli.ts";

/** Before → after of each change: threading, accuracy level, block size, int8 kind. */
const DEFAULT_SETTINGS = "q4:acc0:ort,q4:acc0,q4:acc4,q4:acc4:b128,q8:dynamic,q8:nbits:acc4,fp32";

const HELP = `Usage: deno task speed --model REF [options]

Decode tokens/s of one model at several settings, measured side by side in one process
(interleaved rounds), printed as ratios to the first setting: the geometric mean of the per-round
ratios with its 95 % interval and a verdict (faster, slower, not established).

  --model REF        preset:NAME[+copy_kv], a checkpoint folder (models/wikitext-llama), or a
                     Hub-layout folder with onnx/model.onnx (fp32) (required)
  --settings LIST    comma-separated DTYPE[:accN][:bN][:dynamic|nbits][:sym][:fused][:unpacked][:ort]
                     (default ${DEFAULT_SETTINGS})
                     accN: MatMulNBits accuracy level; bN: block size; dynamic|nbits: int8 kind;
                     sym: symmetric weights (no zero points);
                     fused: the graph with fused norms (SkipSimplifiedLayerNormalization);
                     unpacked: MatMulNBits sharing an input left apart (default: packed);
                     ort: ONNX Runtime's threading defaults instead of the decode tuning
  --context N        prompt tokens (default 128)
  --new-tokens N     tokens generated per run; decode speed covers tokens 2..N (default 32)
  --rounds N         measured rounds (default 5)     --warmup N   unrecorded rounds (default 1)
  --quality          also ΔPPL / KL / top-1 vs fp32 of each quantised variant (WikiText-2 from
                     --wikitext or WIKITEXT_PATH; --max-tokens N, default 4096; --window N)
  --output FILE      write the JSON report there`;

if (import.meta.main) {
  await runCli(async () => {
    const { values } = parseFlags(Deno.args, {
      model: { type: "string" },
      settings: { type: "string", default: DEFAULT_SETTINGS },
      context: { type: "string" },
      "new-tokens": { type: "string" },
      rounds: { type: "string" },
      warmup: { type: "string" },
      quality: { type: "boolean", default: false },
      wikitext: { type: "string" },
      "max-tokens": { type: "string" },
      window: { type: "string" },
      output: { type: "string" },
    });
    if (values.help) {
      console.log(HELP);
      return;
    }
    if (!values.model) throw new TypeError("missing required flag --model (preset:NAME or DIR)");
    const settings = values.settings.split(",").filter((s) => s.trim() !== "").map(
      parseSpeedSetting,
    );
    // Presets (`+GRAPH` included) and checkpoint folders are built / converted on first use.
    const modelDir = (await resolveModel(values.model, { dtypes: ["fp32"] })).dir;
    const cacheDir = join(Deno.cwd(), ".cache", "speed");
    const progress = (line: string) => console.error(line);
    const rows = await runSideBySide(modelDir, settings, {
      contextTokens: intFlag(values.context, "--context", { min: 1, fallback: 128 }),
      newTokens: intFlag(values["new-tokens"], "--new-tokens", { min: 2, fallback: 32 }),
      rounds: intFlag(values.rounds, "--rounds", { min: 1, fallback: 5 }),
      warmup: intFlag(values.warmup, "--warmup", { min: 0, fallback: 1 }),
      cacheDir,
      onProgress: progress,
    });
    console.log(speedTable(rows));
    const quality = [];
    if (values.quality) {
      const wikitextPath = values.wikitext ?? Deno.env.get("WIKITEXT_PATH");
      const maxTokens = intFlag(values["max-tokens"], "--max-tokens", { min: 2, fallback: 4096 });
      const window = values.window === undefined
        ? {}
        : { window: intFlag(values.window, "--window", { min: 2, fallback: 1024 }) };
      const seen = new Set<string>();
      for (const setting of settings) {
        const key = variantKey(setting);
        if (setting.dtype === "fp32" || seen.has(key)) continue;
        seen.add(key);
        progress(`quality of ${key}`);
        const dir = await prepareVariant(modelDir, setting, cacheDir);
        const report = await evaluatePerplexity({
          model: dir,
          dtypes: ["fp32", setting.dtype],
          maxTokens,
          ...window,
          ...(wikitextPath ? { wikitextPath } : {}),
        });
        const r = report.results.find((x) => x.dtype === setting.dtype)!;
        quality.push({ variant: key, ...r });
      }
      console.log("\n| variant | ppl | ΔPPL % vs fp32 | KL (nats) | top-1 % | scored tokens |");
      console.log("|---|---:|---:|---:|---:|---:|");
      for (const q of quality) {
        console.log(
          `| ${q.variant} | ${q.ppl?.toFixed(3)} | ${q.delta_ppl_pct?.toFixed(3)} | ${
            q.kl?.toFixed(5)
          } | ${q.top1_agreement?.toFixed(2)} | ${q.scored_tokens} |`,
        );
      }
    }
    if (values.output) {
      await Deno.writeTextFile(
        values.output,
        JSON.stringify({ model: values.model, modelDir, rows, quality }, null, 2) + "\n",
      );
    }
  });
}

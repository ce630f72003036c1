/**
 * Deterministic English-like and code filler text that the tokenizer's merges are learned from.
 * Private to lib/model.
 *
 * @module
 */
import { mulberry32 } from "../_rng.ts";

const WORDS = (
  "the of and to a in is it you that he was for on are with as I his they be at one have this " +
  "from or had by hot word but what some we can out other were all there when up use your how " +
  "said an each she which do their time if will way about many then them write would like so " +
  "these her long make thing see him two has look more day could go come did number sound no " +
  "most people my over know water than call first who may down side been now find any new work " +
  "part take get place made live where after back little only round man year came show every " +
  "good me give our under name very through just form sentence great think say help low line " +
  "differ turn cause much mean before move right boy old too same tell does set three want air " +
  "well also play small end put home read hand port large spell add even land here must big " +
  "high such follow act why ask men change went light kind off need house picture try us again " +
  "animal point mother world near build self earth father head stand own page should country " +
  "found answer school grow study still learn plant cover food sun four between state keep eye " +
  "never last let thought city tree cross farm hard start might story saw far sea draw left late " +
  "run while press close night real life few north open seem together next white children begin " +
  "model token cache latency memory quantization inference prompt context decode prefill layer " +
  "attention matrix vector weight tensor batch sequence length benchmark throughput explain " +
  "summarize article history science government market energy system network data value result"
).split(" ");

const TOPICS = [
  "the history of the printing press",
  "how a KV cache speeds up decoding",
  "why quantization makes models smaller",
  "the water cycle",
  "how neural networks learn",
  "the causes of the industrial revolution",
];

const IDENTIFIERS = [
  "quicksort",
  "items",
  "pivot",
  "left",
  "right",
  "result",
  "value",
  "index",
  "count",
  "buffer",
  "tokens",
  "model",
  "cache",
  "config",
  "session",
  "logits",
];

const CODE = [
  "def {f}({a}):\n    if len({a}) <= 1:\n        return {a}\n    {b} = {a}[0]\n    return {b}\n",
  "function {f}({a}, {b}) {\n  const {c} = {a}.map((x) => x * {n});\n  return {c};\n}\n",
  "for {a} in range({n}):\n    {b} += {a} * {n}\nprint({b})\n",
  "const {a} = await {f}({b}, { {c}: {n} });\nconsole.log({a}.{c});\n",
  "class {F}:\n    def __init__(self, {a}):\n        self.{a} = {a}\n",
  "if ({a} > {n}) {\n  {b} = [{a}, {c}];\n} else {\n  {b} = null;\n}\n",
];

const SYLLABLES = (
  "ka lo mi ne ra tu sel vor an ex pri dis con ter ment ion ing ly al ous ive ist ure bra " +
  "cho dra fle gri ple sta tro que zen wyn"
).split(" ");

/**
 * Filler text of about `words` words: English-like sentences (Zipf-distributed common words and
 * invented words), chat turns, summaries and code snippets, separated by newlines.
 */
export function fillerText(words: number, seed = 1234): string {
  const rand = mulberry32(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const invented = Array.from({ length: Math.max(64, Math.floor(words / 40)) }, () => {
    const n = 2 + Math.floor(rand() * 3);
    return Array.from({ length: n }, () => pick(SYLLABLES)).join("");
  });
  // Zipf over the common words, uniform over invented ones.
  const zipf = (): string => {
    const r = Math.floor(WORDS.length ** rand()) - 1;
    return WORDS[Math.min(WORDS.length - 1, Math.max(0, r))]!;
  };
  const word = (): string => (rand() < 0.85 ? zipf() : pick(invented));
  const sentence = (): string => {
    const n = 4 + Math.floor(rand() * 14);
    const parts = Array.from({ length: n }, word);
    parts[0] = parts[0]!.charAt(0).toUpperCase() + parts[0]!.slice(1);
    if (rand() < 0.2) {
      parts.splice(1 + Math.floor(rand() * (n - 1)), 0, String(Math.floor(rand() * 2048)));
    }
    return parts.join(" ") + pick([".", ".", ".", "?", "!", ";", ","]);
  };
  const fill = (template: string): string =>
    template.replace(/\{(\w)\}/g, (_, k: string) => {
      if (k === "n") return String(Math.floor(rand() * 100));
      if (k === "F") {
        const id = pick(IDENTIFIERS);
        return id.charAt(0).toUpperCase() + id.slice(1);
      }
      return pick(IDENTIFIERS);
    });
  const out: string[] = [];
  let count = 0;
  while (count < words) {
    const kind = rand();
    let piece: string;
    if (kind < 0.55) {
      piece = Array.from({ length: 1 + Math.floor(rand() * 4) }, sentence).join(" ");
    } else if (kind < 0.7) {
      piece = `User: Explain ${pick(TOPICS)}. Assistant: ${sentence()} ${sentence()}`;
    } else if (kind < 0.8) {
      piece =
        `Summarize the following article: ${sentence()} ${sentence()}\nSummary: ${sentence()}`;
    } else {
      piece = fill(pick(CODE));
    }
    out.push(piece);
    count += piece.split(/\s+/).length;
  }
  return out.join("\n");
}

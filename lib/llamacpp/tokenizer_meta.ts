/**
 * The `tokenizer.ggml.*` metadata of a byte-level BPE tokenizer (GPT-2 style `tokenizer.json`),
 * as llama.cpp's `gpt2` vocabulary type reads it: tokens in id order (padded to the model's
 * vocabulary), token types, merges, special ids and whether a BOS token is added.
 *
 * @module
 */
import { join } from "node:path";
import type { GgufValue } from "./gguf_write.ts";

/** llama.cpp token types (`llama_token_type`). */
export const TOKEN_TYPE = Object.freeze({
  normal: 1,
  unknown: 2,
  control: 3,
  userDefined: 4,
  unused: 5,
  byte: 6,
});

/**
 * The pre-tokenizer name written to `tokenizer.ggml.pre`: llama.cpp's `gpt-2` splits with
 * exactly the GPT-2 regex that a `ByteLevel` pre-tokenizer with `use_regex: true` applies.
 */
export const PRE_TOKENIZER = "gpt-2";

/** Special ids taken from `config.json`. */
export interface SpecialIds {
  /** BOS id, or null. */
  bos: number | null;
  /** EOS id, or null. */
  eos: number | null;
  /** Padding id, or null. */
  pad: number | null;
}

/**
 * Builds the tokenizer metadata of a model folder.
 *
 * @param dir Folder with `tokenizer.json` (and optionally `tokenizer_config.json`).
 * @param vocabSize The model's vocabulary (rows of the embedding); missing ids become `[PAD<i>]`
 * tokens of type unused.
 * @param special Special ids from `config.json`.
 * @returns Key/values in file order.
 * @throws {Error} naming the file and field for a missing file, a tokenizer that is not byte-level
 * BPE, or a token id at or beyond `vocabSize`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tokenizerMetadata } from "./tokenizer_meta.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/tokenizer.json`, JSON.stringify({
 *   pre_tokenizer: { type: "ByteLevel", use_regex: true },
 *   model: { type: "BPE", vocab: { a: 0, b: 1, ab: 2 }, merges: ["a b"] },
 *   added_tokens: [],
 * }));
 * const meta = new Map(tokenizerMetadata(dir, 4, { bos: null, eos: null, pad: null }));
 * assert.deepEqual(meta.get("tokenizer.ggml.tokens")!.value, ["a", "b", "ab", "[PAD3]"]);
 * ```
 */
export function tokenizerMetadata(
  dir: string,
  vocabSize: number,
  special: SpecialIds,
): Array<[string, GgufValue]> {
  const path = join(dir, "tokenizer.json");
  const json = readJson(path) as Record<string, unknown>;
  const fail = (field: string, why: string): never => {
    throw new Error(`'${path}': '${field}' ${why}`);
  };
  const model = json.model as Record<string, unknown> | undefined;
  if (model?.type !== "BPE") fail("model.type", `is '${model?.type}', only 'BPE' converts`);
  const pre = json.pre_tokenizer as Record<string, unknown> | null | undefined;
  if (pre?.type !== "ByteLevel" || pre.use_regex === false) {
    fail(
      "pre_tokenizer",
      `is ${JSON.stringify(pre?.type ?? null)}; only a ByteLevel pre-tokenizer with the GPT-2 ` +
        `regex converts (tokenizer.ggml.pre '${PRE_TOKENIZER}')`,
    );
  }
  const vocab = model!.vocab as Record<string, number> | undefined;
  if (!vocab || typeof vocab !== "object") fail("model.vocab", "is missing");
  const tokens: (string | undefined)[] = new Array(vocabSize);
  const types = new Int32Array(vocabSize);
  const put = (token: string, id: unknown, type: number, field: string) => {
    if (!Number.isInteger(id) || (id as number) < 0) fail(field, `has id ${id} for '${token}'`);
    if ((id as number) >= vocabSize) {
      fail(field, `has id ${id} for '${token}', beyond the model's vocab_size ${vocabSize}`);
    }
    tokens[id as number] = token;
    types[id as number] = type;
  };
  for (const [token, id] of Object.entries(vocab!)) {
    put(token, id, TOKEN_TYPE.normal, "model.vocab");
  }
  for (const added of (json.added_tokens as Array<Record<string, unknown>> | undefined) ?? []) {
    put(
      String(added.content),
      added.id,
      added.special ? TOKEN_TYPE.control : TOKEN_TYPE.userDefined,
      "added_tokens",
    );
  }
  const seen = new Set<string>();
  for (let i = 0; i < vocabSize; i++) {
    if (tokens[i] === undefined) {
      tokens[i] = `[PAD${i}]`;
      types[i] = TOKEN_TYPE.unused;
    }
    // llama.cpp maps text → id: two ids with one text would break its vocabulary.
    if (seen.has(tokens[i]!)) fail("model.vocab", `has the token '${tokens[i]}' twice`);
    seen.add(tokens[i]!);
  }
  const merges = ((model!.merges as unknown[] | undefined) ?? []).map((m, i) => {
    if (typeof m === "string") return m;
    if (Array.isArray(m) && m.length === 2) return `${m[0]} ${m[1]}`;
    return fail(`model.merges[${i}]`, "is neither 'a b' nor ['a', 'b']");
  });
  const out: Array<[string, GgufValue]> = [
    ["tokenizer.ggml.model", { type: "string", value: "gpt2" }],
    ["tokenizer.ggml.pre", { type: "string", value: PRE_TOKENIZER }],
    ["tokenizer.ggml.tokens", { type: "string[]", value: tokens as string[] }],
    ["tokenizer.ggml.token_type", { type: "int32[]", value: types }],
    ["tokenizer.ggml.merges", { type: "string[]", value: merges }],
  ];
  if (special.bos !== null) {
    out.push(["tokenizer.ggml.bos_token_id", { type: "uint32", value: special.bos }]);
  }
  if (special.eos !== null) {
    out.push(["tokenizer.ggml.eos_token_id", { type: "uint32", value: special.eos }]);
  }
  if (special.pad !== null) {
    out.push(["tokenizer.ggml.padding_token_id", { type: "uint32", value: special.pad }]);
  }
  const flags = addsSpecialTokens(dir, json, special.bos === null ? null : tokens[special.bos]!);
  out.push(["tokenizer.ggml.add_bos_token", { type: "bool", value: flags.bos }]);
  out.push(["tokenizer.ggml.add_eos_token", { type: "bool", value: flags.eos }]);
  return out;
}

/**
 * Whether encoding adds BOS / EOS: `tokenizer_config.json`'s `add_bos_token` / `add_eos_token`
 * when set, else whether the post-processor's single-sequence template starts with the BOS token
 * (ends with EOS is not inferred: false).
 */
function addsSpecialTokens(
  dir: string,
  json: Record<string, unknown>,
  bosToken: string | null,
): { bos: boolean; eos: boolean } {
  let config: Record<string, unknown> = {};
  const configPath = join(dir, "tokenizer_config.json");
  try {
    config = readJson(configPath) as Record<string, unknown>;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const eos = config.add_eos_token === true;
  if (typeof config.add_bos_token === "boolean") return { bos: config.add_bos_token, eos };
  const post = json.post_processor as { type?: string; single?: unknown[] } | null | undefined;
  const first = post?.type === "TemplateProcessing"
    ? (post.single?.[0] as { SpecialToken?: { id?: string } } | undefined)
    : undefined;
  return { bos: bosToken !== null && first?.SpecialToken?.id === bosToken, eos };
}

/**
 * Parses a JSON file; a missing file rethrows `NotFound` naming it, bad JSON a one-line error.
 *
 * @param path The file.
 * @returns The parsed value.
 */
export function readJson(path: string): unknown {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`'${path}' does not exist`);
    }
    throw error;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SyntaxError(`'${path}' is not valid JSON: ${(error as Error).message}`);
  }
}

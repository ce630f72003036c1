import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { createSession } from "../runtime/session.ts";
import { toFloat32 } from "../runtime/tensors.ts";
import { buildEncoder, ensureEncoder } from "./build.ts";
import { loadEncoderReference, referenceEncode } from "./reference.ts";
import { sentenceEmbeddings } from "./pooling.ts";
import { cosineSimilarity } from "./pooling.ts";

const dir = await ensureEncoder("minilm-tiny", { dtypes: ["fp32", "fp16", "q8", "q4"] });
const reference = loadEncoderReference(dir);
const H = reference.config.hidden_size;

/** Two right-padded rows: 12 tokens with a second segment, and 7 tokens + 5 padding. */
const ROWS = [
  {
    ids: [101, 300, 301, 302, 303, 102, 304, 305, 306, 307, 308, 102],
    types: [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1],
  },
  { ids: [101, 410, 411, 412, 413, 414, 102], types: [0, 0, 0, 0, 0, 0, 0] },
];
const S = 12;

async function run(file: string) {
  const session = await createSession(`${dir}/onnx/${file}`);
  const flat = (f: (r: typeof ROWS[number], t: number) => number) =>
    BigInt64Array.from(ROWS.flatMap((r) => Array.from({ length: S }, (_, t) => BigInt(f(r, t)))));
  const feeds = {
    input_ids: new ort.Tensor("int64", flat((r, t) => r.ids[t] ?? 0), [2, S]),
    attention_mask: new ort.Tensor("int64", flat((r, t) => (t < r.ids.length ? 1 : 0)), [2, S]),
    token_type_ids: new ort.Tensor("int64", flat((r, t) => r.types[t] ?? 0), [2, S]),
  };
  const out = await session.session.run(feeds);
  const hidden = toFloat32(out.last_hidden_state!);
  return { hidden, mask: feeds.attention_mask.data as BigInt64Array };
}

Deno.test("the fp32 encoder ONNX matches the float64 reference on every real token, padded rows included", async () => {
  const { hidden } = await run("model.onnx");
  let worst = 0, scale = 0;
  ROWS.forEach((row, b) => {
    const want = referenceEncode(reference, { ids: row.ids, typeIds: row.types });
    for (let t = 0; t < row.ids.length; t++) {
      for (let j = 0; j < H; j++) {
        const got = hidden[(b * S + t) * H + j]!;
        worst = Math.max(worst, Math.abs(got - want[t * H + j]!));
        scale = Math.max(scale, Math.abs(want[t * H + j]!));
      }
    }
  });
  assert(scale > 0.5, `outputs are not trivially small (${scale})`);
  assert(worst / scale < 1e-5, `max error ${worst} relative to max ${scale}`);
});

Deno.test("referenceEncode() honours a padding mask like an unpadded row", () => {
  const row = ROWS[1]!;
  const padded = referenceEncode(reference, {
    ids: [...row.ids, 0, 0],
    mask: [...row.ids.map(() => 1), 0, 0],
  });
  const plain = referenceEncode(reference, { ids: row.ids });
  for (let i = 0; i < plain.length; i++) assert(Math.abs(padded[i]! - plain[i]!) < 1e-12);
});

Deno.test("quantized encoder variants load and keep sentence embeddings close to fp32's", async () => {
  const base = await run("model.onnx");
  const dims = { batch: 2, sequence: S, hidden: H };
  const fp32 = sentenceEmbeddings(base.hidden, base.mask, dims);
  const floors = {
    "model_fp16.onnx": 0.9999,
    "model_quantized.onnx": 0.999,
    "model_q4.onnx": 0.99,
  };
  for (const [file, floor] of Object.entries(floors)) {
    const { hidden, mask } = await run(file);
    const emb = sentenceEmbeddings(hidden, mask, dims);
    for (let b = 0; b < 2; b++) {
      const cos = cosineSimilarity(fp32, emb, H, b);
      assert(cos > floor && cos < 1 + 1e-6, `${file} row ${b}: cosine ${cos}`);
    }
  }
});

Deno.test("buildEncoder() refuses an existing directory and an unknown dtype, leaving nothing behind", async () => {
  const root = await Deno.makeTempDir();
  await Deno.mkdir(`${root}/x`);
  await assert.rejects(
    buildEncoder({ preset: "minilm-tiny", outDir: `${root}/x` }),
    /already exists/,
  );
  await assert.rejects(
    buildEncoder({ preset: "minilm-tiny", outDir: `${root}/y`, dtypes: ["bnb4"] }),
    /dtype 'bnb4'/,
  );
  await assert.rejects(
    buildEncoder({ preset: "nope", outDir: `${root}/z` }),
    /Unknown encoder preset/,
  );
  assert.deepEqual([...Deno.readDirSync(root)].map((e) => e.name), ["x"]);
});

Deno.test("the built directory is in Hub layout with a BERT config", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
  assert.equal(config.model_type, "bert");
  for (
    const f of ["tokenizer.json", "tokenizer_config.json", "model.safetensors", "onnx/model.onnx"]
  ) {
    assert((await Deno.stat(`${dir}/${f}`)).isFile, f);
  }
});

Deno.test("minilm-l6 (all-MiniLM-L6-v2's shape) matches the float64 reference on a short sequence", async () => {
  const l6 = await ensureEncoder("minilm-l6");
  const ref = loadEncoderReference(l6);
  const ids = [101, 2000, 2001, 2002, 5000, 7000, 9000, 12000, 15000, 20000, 25000, 30000, 102];
  const session = await createSession(`${l6}/onnx/model.onnx`);
  const n = ids.length;
  const out = await session.session.run({
    input_ids: new ort.Tensor("int64", BigInt64Array.from(ids.map(BigInt)), [1, n]),
    attention_mask: new ort.Tensor("int64", new BigInt64Array(n).fill(1n), [1, n]),
    token_type_ids: new ort.Tensor("int64", new BigInt64Array(n), [1, n]),
  });
  const got = toFloat32(out.last_hidden_state!);
  assert.deepEqual(out.last_hidden_state!.dims, [1, n, 384]);
  const want = referenceEncode(ref, { ids });
  let worst = 0, scale = 0;
  for (let i = 0; i < want.length; i++) {
    worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  assert(worst / scale < 1e-5, `max error ${worst} relative to max ${scale}`);
});

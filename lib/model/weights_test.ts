import { assert, assertEquals } from "../testing/assert.ts";
import { PRESETS } from "./presets.ts";
import { CHUNK_ELEMENTS, parameterSpecs, weightChunks, weightValues } from "./weights.ts";

const spec = (shape: [number, number]) => ({ name: "w", shape, init: "normal" as const });

Deno.test("weightValues() is a function of the seed: same seed equal, other seed different", () => {
  const a = weightValues(spec([8, 32]), { seed: 42, std: 0.02 });
  const b = weightValues(spec([8, 32]), { seed: 42, std: 0.02 });
  const c = weightValues(spec([8, 32]), { seed: 43, std: 0.02 });
  const d = weightValues({ ...spec([8, 32]), name: "v" }, { seed: 42, std: 0.02 });
  assertEquals(Array.from(a), Array.from(b));
  assert(a.some((x, i) => x !== c[i]), "another seed changes the weights");
  assert(a.some((x, i) => x !== d[i]), "another name changes the weights");
});

Deno.test("weightValues() draws N(0, std): sample mean and stdev close to 0 and 0.02", () => {
  const v = weightValues(spec([400, 500]), { seed: 1, std: 0.02 });
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  const sd = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length);
  assert(Math.abs(mean) < 2e-4, `mean ${mean}`);
  assert(Math.abs(sd - 0.02) < 4e-4, `stdev ${sd}`);
  const beyond3 = v.filter((x) => Math.abs(x) > 0.06).length / v.length;
  assert(beyond3 > 0.001 && beyond3 < 0.005, `P(|z| > 3) = ${beyond3}`);
});

Deno.test("weightChunks() transposed is the exact transpose, across chunk boundaries", () => {
  const rows = 1100, cols = 1000; // > CHUNK_ELEMENTS: several chunks both ways
  assert(rows * cols > CHUNK_ELEMENTS);
  const s = spec([rows, cols]);
  const plain = weightValues(s, { seed: 5, std: 1 });
  const chunks = [...weightChunks(s, { seed: 5, std: 1, transposed: true })];
  assert(chunks.length > 1);
  const t = new Float32Array(rows * cols);
  let offset = 0;
  for (const c of chunks) t.set(c, (offset += c.length) - c.length);
  for (const [r, c] of [[0, 0], [1, 0], [0, 1], [rows - 1, cols - 1], [537, 911], [1099, 3]]) {
    assertEquals(t[c! * rows + r!], plain[r! * cols + c!]);
  }
  let mismatches = 0;
  for (let r = 0; r < rows; r += 7) {
    for (let c = 0; c < cols; c += 3) if (t[c * rows + r] !== plain[r * cols + c]) mismatches++;
  }
  assertEquals(mismatches, 0);
});

Deno.test("weightChunks() of a norm weight yields ones", () => {
  const ones = weightValues({ name: "n", shape: [70], init: "ones" }, { seed: 3, std: 0.02 });
  assert(ones.every((x) => x === 1) && ones.length === 70);
});

Deno.test("parameterSpecs() lists Hugging Face names and torch [out, in] shapes", () => {
  const tiny = PRESETS.tiny!;
  const specs = parameterSpecs(tiny);
  const byName = new Map(specs.map((s) => [s.name, s.shape]));
  assertEquals(byName.get("model.layers.1.self_attn.q_proj.weight"), [64, 64]);
  assertEquals(byName.get("model.layers.1.self_attn.k_proj.weight"), [32, 64]);
  assertEquals(byName.get("model.layers.0.mlp.down_proj.weight"), [64, 128]);
  assertEquals(byName.get("model.norm.weight"), [64]);
  assertEquals(byName.has("lm_head.weight"), false, "tiny ties its head");
  assert(
    parameterSpecs({ ...tiny, tie_word_embeddings: false }).some((s) =>
      s.name === "lm_head.weight"
    ),
  );
  assertEquals(specs.length, 1 + 9 * tiny.num_hidden_layers + 1);
});

import assert from "node:assert/strict";
import { readGgufHeader } from "./gguf_read.ts";
import { writeGguf } from "./gguf_write.ts";
import { ggufStoredWeights, ggufTensorBytes } from "./step_bytes.ts";

Deno.test("ggufStoredWeights: a written GGUF's tensor sizes match the gaps between their data offsets", () => {
  const path = Deno.makeTempFileSync({ suffix: ".gguf" });
  try {
    const shapes: [string, number[]][] = [
      ["token_embd.weight", [10, 32]],
      ["blk.0.attn_q.weight", [32, 32]],
      ["output_norm.weight", [32]],
    ];
    writeGguf(path, {
      metadata: [["general.name", { type: "string", value: "x" }]],
      tensors: shapes.map(([name, shape]) => ({
        name,
        shape,
        chunks: () => [new Float32Array(shape.reduce((a, b) => a * b, 1))],
      })),
    });
    const header = readGgufHeader(path);
    const size = Deno.statSync(path).size;
    const ends = [...header.tensors.slice(1).map((t) => t.offset), size - header.dataOffset];
    header.tensors.forEach((t, i) => {
      const { bytes } = ggufTensorBytes(t);
      const gap = ends[i]! - t.offset;
      // The data of each tensor fills its gap up to the alignment padding.
      assert(bytes <= gap && gap - bytes < header.alignment, `${t.name}: ${bytes} in ${gap}`);
    });
    // Tied (no output.weight): the embedding is the output matrix too, so read whole.
    const w = ggufStoredWeights(header);
    assert.deepEqual(w, { wholeBytes: (320 + 1024 + 32) * 4, rowBytes: 0, storedBytes: 1376 * 4 });
  } finally {
    Deno.removeSync(path);
  }
});

Deno.test("ggufTensorBytes: an unknown GGML type or a partial block names the tensor", () => {
  assert.throws(
    () => ggufTensorBytes({ name: "blk.3.ffn_up.weight", dims: [256, 4], type: 99, offset: 0 }),
    /'blk\.3\.ffn_up\.weight': GGML type 99/,
  );
  assert.throws(
    () => ggufTensorBytes({ name: "w", dims: [48, 4], type: 2, offset: 0 }),
    /'w': a row of 48 is not a whole number of 32-element blocks/,
  );
  // Q6_K: 210 bytes per 256 weights; Q8_0: 34 per 32.
  assert.deepEqual(ggufTensorBytes({ name: "o", dims: [512, 3], type: 14, offset: 0 }), {
    bytes: 1260,
    rowBytes: 420,
  });
  assert.equal(ggufTensorBytes({ name: "e", dims: [64, 10], type: 8, offset: 0 }).bytes, 680);
});

import { assert, assertEquals } from "../testing/assert.ts";
import { PRESETS } from "./presets.ts";
import { inverseFrequencies, ropeCaches, ropeHalfCaches } from "./rope.ts";

Deno.test("inverseFrequencies() without scaling is theta^(-2i/d)", () => {
  const f = inverseFrequencies(PRESETS.tiny!);
  assertEquals(f.length, 8);
  f.forEach((x, i) => assert(Math.abs(x - 10000 ** (-(2 * i) / 16)) < 1e-15));
});

Deno.test("inverseFrequencies() with llama3 scaling keeps short, divides long, blends the band", () => {
  const config = PRESETS["llama-3.2-1b"]!;
  const scaled = inverseFrequencies(config);
  const plain = inverseFrequencies({ ...config, rope_scaling: null });
  const factor = config.rope_scaling!.factor;
  let kept = 0, divided = 0, blended = 0;
  scaled.forEach((x, i) => {
    const p = plain[i]!;
    const wavelen = (2 * Math.PI) / p;
    if (wavelen < 8192 / 4) {
      assertEquals(x, p);
      kept++;
    } else if (wavelen > 8192) {
      assert(Math.abs(x - p / factor) < 1e-18);
      divided++;
    } else {
      assert(x > p / factor && x < p, `blend at ${i}`);
      blended++;
    }
  });
  assert(kept > 0 && divided > 0 && blended > 0, `${kept}/${divided}/${blended}`);
});

Deno.test("ropeCaches() rows are cat(freqs, freqs) and ropeHalfCaches() their first half", () => {
  const tiny = PRESETS.tiny!;
  const { cos, sin } = ropeCaches(tiny);
  const half = ropeHalfCaches(tiny);
  const pos = 37, d = 16;
  for (let i = 0; i < d / 2; i++) {
    assertEquals(cos[pos * d + i], cos[pos * d + d / 2 + i]);
    assertEquals(half.sin[pos * (d / 2) + i], sin[pos * d + i]);
  }
  assert(Math.abs(sin[pos * d]! - Math.sin(pos)) < 1e-6);
});

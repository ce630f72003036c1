import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { effectiveBandwidth, lastLevelCacheBytes, measureReadBandwidth } from "./bandwidth.ts";

Deno.test("measureReadBandwidth() sums the whole buffer and reports positive GB/s with its method", async () => {
  const r = await measureReadBandwidth({ threads: 1, bytes: 2 ** 23, warmup: 0, runs: 3 });
  assertEquals(r.buffer_bytes, 2 ** 23);
  assertEquals([r.threads, r.runs], [1, 3]);
  assert(r.read_gb_s > 0 && r.read_gb_s <= r.read_gb_s_best, JSON.stringify(r));
  assert(r.method.includes("ReduceSum over 8 MiB"), r.method);
});

Deno.test("measureReadBandwidth() names a bad option", async () => {
  await assertRejects(() => measureReadBandwidth({ runs: 0 }), RangeError, "'runs'");
  await assertRejects(() => measureReadBandwidth({ threads: -1 }), RangeError, "'threads'");
});

Deno.test("the default buffer is at least 8 × the last-level cache", () => {
  const llc = lastLevelCacheBytes();
  if (llc === null) {
    console.log("skipped: no sysfs cache sizes on this machine");
    return;
  }
  assert(llc > 0 && Math.max(2 ** 28, 8 * llc) >= 8 * llc);
});

Deno.test("effectiveBandwidth() is bytes ÷ step time, as a fraction of the bound", () => {
  assertEquals(effectiveBandwidth(2e9, 1000, 4), { effective_gb_s: 2, bandwidth_fraction: 0.5 });
  assertEquals(effectiveBandwidth(2e9, 1000, null), {
    effective_gb_s: 2,
    bandwidth_fraction: null,
  });
  assertEquals(effectiveBandwidth(2e9, null, 4), {
    effective_gb_s: null,
    bandwidth_fraction: null,
  });
});

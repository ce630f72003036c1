import * as ort from "onnxruntime-node";
import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import { kvBytes, kvLength, sliceKv } from "./kv.ts";
import { PrefixCache } from "./prefix_cache.ts";

/** A fake one-layer KV cache whose values encode their position (value = position). */
function kv(n: number): ort.Tensor[] {
  const data = Float32Array.from({ length: n * 2 }, (_, i) => Math.floor(i / 2));
  const t = new ort.Tensor("float32", data, [1, 1, n, 2]);
  return [t, t];
}

const seq = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

Deno.test("PrefixCache.lookup() returns the longest common prefix, its KV cut to that length", () => {
  const cache = new PrefixCache();
  cache.insert(seq(0, 10), kv(10));
  cache.insert([0, 1, 2, 50, 51], kv(5));
  const m = cache.lookup([0, 1, 2, 3, 4, 5, 99]);
  assertEquals(m.length, 6);
  assertEquals(kvLength(m.past!), 6);
  assertEquals(Array.from(m.past![0]!.data as Float32Array).at(-1), 5);
  assertEquals(cache.lookup([7, 7]).length, 0);
  assertEquals(cache.lookup(seq(0, 10), { limit: 9 }).length, 9);
});

Deno.test("PrefixCache counts its hit rate in tokens, with hits and misses per lookup", () => {
  const cache = new PrefixCache();
  cache.insert(seq(0, 8), kv(8));
  cache.lookup([...seq(0, 8), 100, 101]); // 8 of 10 reused
  cache.lookup([200, 201, 202, 203, 204, 205, 206, 207, 208, 209]); // 0 of 10
  cache.lookup(seq(0, 4)); // 4 of 4
  const s = cache.stats();
  assertEquals(s.promptTokens, 24);
  assertEquals(s.reusedTokens, 12);
  assertEquals(s.hitRate, 0.5);
  assertEquals([s.lookups, s.hits, s.misses], [3, 2, 1]);
});

Deno.test("PrefixCache evicts the least recently used entry when over its token capacity", () => {
  const cache = new PrefixCache({ capacityTokens: 20 });
  cache.insert(seq(0, 8), kv(8)); // A
  cache.insert(seq(100, 8), kv(8)); // B
  cache.lookup(seq(0, 3)); // A used: B is now the least recently used
  cache.insert(seq(200, 8), kv(8)); // C: 24 tokens > 20, evict B
  assertEquals(cache.sequences().map((s) => s[0]), [0, 200]);
  assertEquals(cache.stats().evictions, 1);
  assertEquals(cache.lookup(seq(100, 8)).length, 0);
  assertEquals(cache.stats().tokens, 16);
});

Deno.test("PrefixCache respects a byte capacity and cuts a sequence larger than all of it", () => {
  const perToken = kvBytes(kv(1)); // 2 tensors × 2 floats × 4 bytes
  const cache = new PrefixCache({ capacityBytes: 10 * perToken });
  assertEquals(cache.insert(seq(0, 6), kv(6)), 6);
  assertEquals(cache.insert(seq(50, 6), kv(6)), 6); // 12 tokens > 10: the first goes
  assertEquals(cache.stats().evictions, 1);
  assertEquals(cache.insert(seq(300, 25), kv(25)), 10); // alone too big: its first 10 kept
  const s = cache.stats();
  assertEquals([s.entries, s.tokens, s.bytes], [1, 10, 10 * perToken]);
  assertEquals(s.evictions, 2);
});

Deno.test("PrefixCache replaces an entry by a longer sequence that starts with it (no eviction)", () => {
  const cache = new PrefixCache({ capacityTokens: 12 });
  cache.insert(seq(0, 5), kv(5));
  cache.insert(seq(0, 9), kv(9));
  cache.insert(seq(0, 4), kv(4)); // already held inside the 9-token entry
  assertEquals(cache.sequences(), [seq(0, 9)]);
  assertEquals(cache.stats().evictions, 0);
});

Deno.test("PrefixCache rejects bad capacities and a KV cache of the wrong length", () => {
  assertThrows(() => new PrefixCache({ capacityTokens: 0 }), RangeError, "'capacityTokens'");
  assertThrows(() => new PrefixCache({ capacityBytes: -1 }), RangeError, "'capacityBytes'");
  assertThrows(() => new PrefixCache().insert([1, 2, 3], kv(2)), RangeError, "2 positions");
  assertThrows(() => sliceKv(kv(3), 4), RangeError, "'length'");
  assert(new PrefixCache().stats().hitRate === 0);
});

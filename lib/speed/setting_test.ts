import { assertEquals, assertThrows } from "../testing/assert.ts";
import {
  DEFAULT_ACCURACY_LEVEL,
  DEFAULT_BLOCK_SIZE,
  DEFAULT_INT8_KIND,
} from "../quantize/quantize_model.ts";
import { parseSpeedSetting, variantKey } from "./setting.ts";

Deno.test("parseSpeedSetting() fills unnamed parts with the quantizer's defaults", () => {
  assertEquals(parseSpeedSetting(" q4 "), {
    name: "q4",
    dtype: "q4",
    accuracyLevel: DEFAULT_ACCURACY_LEVEL,
    blockSize: DEFAULT_BLOCK_SIZE,
    int8Kind: DEFAULT_INT8_KIND,
    tuning: "decode",
    symmetric: false,
    fusedNorms: false,
    unpacked: false,
  });
  assertEquals(variantKey(parseSpeedSetting("q8:nbits:b128:acc0")), "q8-nbits-b128-acc0");
  assertEquals(variantKey(parseSpeedSetting("q8:dynamic:acc0")), "q8-dynamic");
  assertEquals(variantKey(parseSpeedSetting("fp16:ort")), "fp16");
  assertEquals(variantKey(parseSpeedSetting("q4f16:acc0:b16")), "q4f16-b16-acc0");
  // Symmetric weights are another file; threading is not.
  assertEquals(variantKey(parseSpeedSetting("q4:sym:ort")), "q4-b32-acc4-sym");
  assertEquals(variantKey(parseSpeedSetting("fp32:sym")), "fp32");
  // The fused-norms graph is another file, fp32 included.
  assertEquals(variantKey(parseSpeedSetting("q4:sym:fused")), "q4-b32-acc4-sym-fused");
  assertEquals(variantKey(parseSpeedSetting("fp32:fused")), "fp32-fused");
  // Unpacked MatMulNBits nodes are another file; float and dynamic int8 have none to pack.
  assertEquals(variantKey(parseSpeedSetting("q4:unpacked")), "q4-b32-acc4-unpacked");
  assertEquals(variantKey(parseSpeedSetting("q8:unpacked")), "q8-nbits-b32-acc4-unpacked");
  assertEquals(variantKey(parseSpeedSetting("q8:dynamic:unpacked")), "q8-dynamic");
  assertEquals(variantKey(parseSpeedSetting("fp32:unpacked")), "fp32");
});

Deno.test("parseSpeedSetting() names what it does not understand", () => {
  assertThrows(() => parseSpeedSetting("int4"), RangeError, "must start with one of");
  assertThrows(() => parseSpeedSetting("q4:acc7"), RangeError, "has 'acc7'");
});

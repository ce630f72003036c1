import { assertEquals, assertThrows } from "../testing/assert.ts";
import { nvmlTarget } from "./gpu_index.ts";

Deno.test("nvmlTarget() follows CUDA_VISIBLE_DEVICES order, stops at an invalid entry, hides on empty", () => {
  assertEquals(nvmlTarget(1, "3, 1"), { kind: "index", index: 1 });
  assertEquals(nvmlTarget(0, "3, 1"), { kind: "index", index: 3 });
  assertEquals(nvmlTarget(1, "0,x,2").kind, "hidden"); // CUDA sees only GPU 0
  assertEquals(nvmlTarget(0, "").kind, "hidden");
  assertEquals(nvmlTarget(0, "MIG-4b5c-0e1f"), { kind: "uuid", uuid: "MIG-4b5c-0e1f" });
  assertThrows(() => nvmlTarget(-1, undefined), RangeError, "'deviceId'");
});

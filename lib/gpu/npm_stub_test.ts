import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

Deno.test("gpu/npm_stub.cjs imports and reads like a package, and throws naming it when called", async () => {
  const template = await Deno.readTextFile(
    fileURLToPath(new URL("../../gpu/npm_stub.cjs", import.meta.url)),
  );
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/stub.cjs`, template.replace("@@NAME@@", "nodejs-polars"));
  const pl = createRequire(`${dir}/`)("./stub.cjs");
  // Module-level uses the project's modules make at import time: property reads, truthiness.
  assert.ok(pl.Float64);
  assert.ok(pl.DataType.Utf8);
  assert.equal(pl.then, undefined); // not mistaken for a promise
  assert.throws(() => pl.readCSV("x.csv"), /nodejs-polars is not in the GPU bundle.*readCSV\(\)/);
  assert.throws(() => new pl.DataFrame({}), /new nodejs-polars\.DataFrame\(\)/);
});

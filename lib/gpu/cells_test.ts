import assert from "node:assert/strict";
import { join } from "node:path";
import { csvField, resultsCsv } from "./cells.ts";
import { readTable } from "../results/table.ts";
import { syntheticRows } from "../report/_fixture.ts";
import { benchRowFixture } from "./_fixture.ts";

Deno.test("resultsCsv() is read back by readTable() field for field (the sweep's reader)", async () => {
  const rows = [
    ...syntheticRows({ dtypes: ["fp32", "q4"], contexts: [128], runs: 2 }),
    benchRowFixture({
      error: 'a "quoted", comma\nline',
      status: "error",
      decode_tokens_per_s: null,
    }),
  ];
  const path = join(await Deno.makeTempDir(), "results.csv");
  await Deno.writeTextFile(path, resultsCsv(rows));
  const back = await readTable(path, "bench");
  assert.equal(back.length, rows.length);
  for (const [i, row] of rows.entries()) {
    const got = back[i]! as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(row)) {
      assert.deepEqual(got[key], value ?? null, `row ${i} field ${key}`);
    }
  }
});

Deno.test("csvField() writes null as empty and quotes only when needed", () => {
  assert.equal(csvField(undefined), "");
  assert.equal(csvField(1.5e-7), "1.5e-7");
  assert.equal(csvField("plain"), "plain");
  assert.equal(csvField("a\nb"), '"a\nb"');
});

import { assertEquals, assertRejects } from "../testing/assert.ts";
import { checkWritable, flagNames, parseFlags, writeTextAtomic } from "./_cli.ts";

Deno.test("parseFlags() hands a negative number to the flag instead of failing as ambiguous", () => {
  const { values } = parseFlags(["--runs", "-1", "--warmup", "-0.5"], {
    runs: { type: "string" },
    warmup: { type: "string" },
  });
  assertEquals(values.runs, "-1");
  assertEquals(values.warmup, "-0.5");
});

Deno.test("flagNames() shows a declared option as its flag and leaves other names alone", () => {
  parseFlags([], { "block-size": { type: "string" } });
  assertEquals(
    flagNames("'blockSize' must be a power of two, 'accuracyLevel' too"),
    "'--block-size' must be a power of two, 'accuracyLevel' too",
  );
});

Deno.test("checkWritable() names the flag for a missing directory or a directory path", async () => {
  const dir = await Deno.makeTempDir();
  await checkWritable(`${dir}/out.json`, "--output");
  assertEquals([...Deno.readDirSync(dir)], [], "the probe is removed");
  await assertRejects(
    () => checkWritable(`${dir}/no/out.json`, "--output"),
    Error,
    "'--output' " + `${dir}/no/out.json cannot be written: its directory does not exist`,
  );
  await assertRejects(
    () => checkWritable(dir, "--out"),
    Error,
    "'--out' " + `${dir} is a directory`,
  );
});

Deno.test("writeTextAtomic() replaces a file whole and leaves no temp file", async () => {
  const dir = await Deno.makeTempDir();
  await writeTextAtomic(`${dir}/a.json`, "old");
  await writeTextAtomic(`${dir}/a.json`, "new");
  assertEquals(await Deno.readTextFile(`${dir}/a.json`), "new");
  assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["a.json"]);
});

import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { join } from "node:path";
import { writeParquetColumn } from "./_fakes.ts";
import {
  loadWikitext,
  readVendoredWikitext,
  readWikitextFile,
  VENDORED_WIKITEXT_TEST,
  wikitextPathFromEnv,
} from "./wikitext.ts";

Deno.test("loadWikitext() reads a .txt file as is", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "wiki.test.raw");
  const text = " \n = Title = \n\n Some text .\n";
  await Deno.writeTextFile(path, text);
  assertEquals(await loadWikitext({ path, split: "validation" }), text);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadWikitext() joins the rows of a parquet file with blank lines", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "test-00000-of-00001.parquet");
  writeParquetColumn(path, "text", ["", " = Title = \n", " Body .\n"]);
  assertEquals(await loadWikitext({ path }), "\n\n = Title = \n\n\n Body .\n");
  writeParquetColumn(path, "body", ["x"]);
  await assertRejects(() => readWikitextFile(path), TypeError, "no 'text' column");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadWikitext() rejects a missing or empty file, naming it", async () => {
  const dir = await Deno.makeTempDir();
  const missing = join(dir, "nope.txt");
  await assertRejects(
    () => loadWikitext({ path: missing }),
    RangeError,
    `'${missing}' does not exist`,
  );
  const empty = join(dir, "empty.txt");
  await Deno.writeTextFile(empty, "\n \n");
  await assertRejects(() => loadWikitext({ path: empty }), RangeError, `'${empty}' is empty`);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadWikitext() rejects an unknown split", async () => {
  await assertRejects(
    () => loadWikitext({ split: "train2" as "test" }),
    RangeError,
    `'split' must be one of test, validation, got "train2"`,
  );
});

Deno.test("loadWikitext() offline without a file names the flag and the variable", async () => {
  const cacheDir = await Deno.makeTempDir();
  const error = await assertRejects(
    () => loadWikitext({ path: null, offline: true, cacheDir, split: "validation" }),
    Error,
  );
  assert(error.message.includes("--wikitext") && error.message.includes("WIKITEXT_PATH"));
  assert(!error.message.includes("\n"));
  await Deno.remove(cacheDir, { recursive: true });
});

Deno.test("wikitextPathFromEnv() reads an empty WIKITEXT_PATH as unset", () => {
  assertEquals(wikitextPathFromEnv(undefined), undefined);
  assertEquals(wikitextPathFromEnv(""), undefined);
  assertEquals(wikitextPathFromEnv("/data/wiki.test.raw"), "/data/wiki.test.raw");
});

Deno.test("loadWikitext() reads the vendored test split when no file is given", async () => {
  const text = await loadWikitext({ path: null, offline: true, cacheDir: "/nonexistent" });
  assertEquals(new TextEncoder().encode(text).byteLength, VENDORED_WIKITEXT_TEST.bytes);
  assert(text.startsWith("\n\n = Robert Boulter = \n"));
  assertEquals(text, await readVendoredWikitext());
});

Deno.test("readVendoredWikitext() rejects a file whose text has another checksum", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "test.txt.gz");
  const gz = new Response(
    new Blob([new TextEncoder().encode(" = Not WikiText = \n")]).stream()
      .pipeThrough(new CompressionStream("gzip")),
  );
  await Deno.writeFile(path, new Uint8Array(await gz.arrayBuffer()));
  await assertRejects(
    () => readVendoredWikitext(path),
    RangeError,
    "is not the vendored test split",
  );
  await Deno.remove(dir, { recursive: true });
});

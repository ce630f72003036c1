import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

/** Every `.ts` file under `lib/`, recursively. */
async function* sources(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* sources(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

Deno.test("doc examples assert with throwing assertions, never console.assert (which only prints)", async () => {
  const root = fileURLToPath(new URL(".", import.meta.url)).replace(/\/$/, "");
  const offenders: string[] = [];
  const needle = ["console", "assert("].join(".");
  for await (const path of sources(root)) {
    const text = await Deno.readTextFile(path);
    text.split("\n").forEach((line, i) => {
      if (line.includes(needle)) offenders.push(`${path}:${i + 1}`);
    });
  }
  assert(offenders.length === 0, `console.assert in: ${offenders.join(", ")}`);
});

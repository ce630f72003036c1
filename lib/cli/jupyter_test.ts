import { assert, assertEquals } from "../testing/assert.ts";

const CLI = new URL("./jupyter.ts", import.meta.url).pathname;

async function run(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr).trim() };
}

Deno.test("deno task jupyter rejects a bad --port and an unknown flag in one line, exit 1", async () => {
  const port = await run(["--port", "http"]);
  assertEquals(port.code, 1);
  assertEquals(port.stderr, `error: '--port' must be an integer >= 1, got "http"`);
  const flag = await run(["--bogus"]);
  assertEquals(flag.code, 1);
  assert(flag.stderr.startsWith("error: ") && flag.stderr.includes("--bogus"), flag.stderr);
  assertEquals(flag.stderr.split("\n").length, 1);
});

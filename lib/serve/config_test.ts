import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig, parseDotenv } from "./config.ts";

function dotenv(text: string): string {
  const path = join(Deno.makeTempDirSync(), ".env");
  Deno.writeTextFileSync(path, text);
  return path;
}

Deno.test("loadConfig(): flags beat the environment, which beats .env, which beats the defaults", () => {
  const path = dotenv(
    "TURBO_HOST=127.0.0.2\nTURBO_PORT=9001\nTURBO_LOG_LEVEL=warn\nTURBO_HISTORY_DB=/tmp/dotenv.sqlite\nTURBO_MODEL_CACHE=/tmp/models\n",
  );
  const fromDotenv = loadConfig({ flags: {}, env: {}, dotenvPath: path });
  assert.deepEqual(
    [fromDotenv.host, fromDotenv.port, fromDotenv.logLevel, fromDotenv.db, fromDotenv.modelCache],
    ["127.0.0.2", 9001, "warn", "/tmp/dotenv.sqlite", "/tmp/models"],
  );
  const fromEnv = loadConfig({ flags: {}, env: { TURBO_PORT: "9002" }, dotenvPath: path });
  assert.equal(fromEnv.port, 9002);
  const fromFlag = loadConfig({
    flags: { port: "9003" },
    env: { TURBO_PORT: "9002" },
    dotenvPath: path,
  });
  assert.equal(fromFlag.port, 9003);
  const defaults = loadConfig({ flags: {}, env: {}, dotenvPath: "/nonexistent/.env" });
  assert.deepEqual([defaults.host, defaults.port, defaults.logLevel, defaults.token], [
    "127.0.0.1",
    8000,
    "info",
    null,
  ]);
  assert.match(defaults.db, /benchmarks\/history\.sqlite$/);
});

Deno.test("loadConfig(): bad values name the flag or the variable and where it came from", () => {
  const none = "/nonexistent/.env";
  assert.throws(
    () => loadConfig({ flags: { port: "http" }, env: {}, dotenvPath: none }),
    /'--port'/,
  );
  assert.throws(
    () => loadConfig({ flags: {}, env: { TURBO_PORT: "70000" }, dotenvPath: none }),
    /TURBO_PORT/,
  );
  assert.throws(
    () => loadConfig({ flags: {}, env: {}, dotenvPath: dotenv("TURBO_LOG_LEVEL=loud\n") }),
    /TURBO_LOG_LEVEL in \.env/,
  );
  assert.throws(() => parseDotenv("just words\n"), /\.env line 1/);
});

Deno.test("loadConfig(): a non-loopback host needs --allow-remote, then a token (env or .env)", () => {
  const none = "/nonexistent/.env";
  assert.throws(
    () => loadConfig({ flags: { host: "0.0.0.0" }, env: {}, dotenvPath: none }),
    /--allow-remote/,
  );
  assert.throws(
    () => loadConfig({ flags: { host: "0.0.0.0", allowRemote: true }, env: {}, dotenvPath: none }),
    /TURBO_API_TOKEN/,
  );
  const ok = loadConfig({
    flags: { host: "0.0.0.0", allowRemote: true },
    env: {},
    dotenvPath: dotenv("TURBO_API_TOKEN=abc\n"),
  });
  assert.equal(ok.token, "abc");
  assert.equal(loadConfig({ flags: { host: "::1" }, env: {}, dotenvPath: none }).token, null);
  assert.throws(
    () => loadConfig({ flags: {}, env: {}, dotenvPath: dotenv("TURBO_HOST=0.0.0.0\n") }),
    /^RangeError: TURBO_HOST in \.env 0\.0\.0\.0 is not a loopback address/,
  );
  assert.throws(
    () => loadConfig({ flags: {}, env: { TURBO_HOST: "10.0.0.1" }, dotenvPath: none }),
    /^RangeError: TURBO_HOST 10\.0\.0\.1 is not a loopback address/,
  );
});

Deno.test(".env.example parses and names every setting", () => {
  const example = parseDotenv(
    Deno.readTextFileSync(new URL("../../.env.example", import.meta.url)),
  );
  for (
    const key of [
      "TURBO_HOST",
      "TURBO_PORT",
      "TURBO_HISTORY_DB",
      "TURBO_MODEL_CACHE",
      "TURBO_LOG_LEVEL",
    ]
  ) {
    assert(key in example, `${key} missing from .env.example`);
  }
  const config = loadConfig({ flags: {}, env: example, dotenvPath: "/nonexistent/.env" });
  assert.equal(config.port, 8000);
});

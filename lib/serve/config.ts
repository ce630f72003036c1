/**
 * The service's settings: host, port, history database, model cache, log level and the bearer
 * token, from flags, environment variables and a `.env` file, in that order of precedence
 * (flags beat the environment, which beats `.env`, which beats the defaults). Binding to a
 * non-loopback address needs `--allow-remote` and a token in `TURBO_API_TOKEN`.
 *
 * @module
 */
import { join } from "node:path";
import { readDotenv } from "../_dotenv.ts";
import type { ChatTemplates } from "./chat_template.ts";
import { DEFAULT_HISTORY_PATH, REPO_ROOT } from "../history/record.ts";

export { parseDotenv } from "../_dotenv.ts";

/** Log levels, least to most severe. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/** One of {@linkcode LOG_LEVELS}. */
export type LogLevel = typeof LOG_LEVELS[number];

/** The service's settings. */
export interface ServeConfig {
  /** Address to bind. @default "127.0.0.1" */
  host: string;
  /** Port (0 = any free port). @default 8000 */
  port: number;
  /** History database. @default "<repo>/benchmarks/history.sqlite" */
  db: string;
  /** Where presets are built and models cached. @default "<repo>/.cache/models" */
  modelCache: string;
  /** Request and job log level (stderr). @default "info" */
  logLevel: LogLevel;
  /** Binding to a non-loopback address was asked for explicitly (`--allow-remote`). */
  allowRemote: boolean;
  /** Bearer token every request must carry; `null` = none (loopback only). */
  token: string | null;
  /** Chat templates given with `--chat-template` (chat_template.ts). @default none */
  chatTemplates?: ChatTemplates;
}

/** Each setting's flag, environment variable and default. */
export const SETTINGS = Object.freeze({
  host: { flag: "--host", env: "TURBO_HOST", fallback: "127.0.0.1" },
  port: { flag: "--port", env: "TURBO_PORT", fallback: "8000" },
  db: { flag: "--db", env: "TURBO_HISTORY_DB", fallback: DEFAULT_HISTORY_PATH },
  modelCache: {
    flag: "--model-cache",
    env: "TURBO_MODEL_CACHE",
    fallback: join(REPO_ROOT, ".cache", "models"),
  },
  logLevel: { flag: "--log-level", env: "TURBO_LOG_LEVEL", fallback: "info" },
});

/** The environment variable holding the bearer token (never a flag: flags show in `ps`). */
export const TOKEN_ENV = "TURBO_API_TOKEN";

/** Where {@linkcode loadConfig} reads from. */
export interface ConfigSources {
  /** Flag values by setting (already parsed from the command line). */
  flags: Partial<Record<keyof typeof SETTINGS, string>> & { allowRemote?: boolean };
  /** The environment. @default Deno.env.toObject() */
  env?: Record<string, string>;
  /** The `.env` file's path (missing = none). @default "<repo>/.env" */
  dotenvPath?: string;
}

/**
 * Resolves the settings: flags, then the environment, then `.env`, then defaults.
 *
 * @param sources Flags, environment, `.env` path.
 * @returns The settings.
 * @throws {RangeError} naming the flag and variable of a bad value, or when a non-loopback host
 * lacks `--allow-remote` or the token.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfig } from "./config.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/.env`, "TURBO_PORT=9001\nTURBO_LOG_LEVEL=warn\n");
 * const config = loadConfig({
 *   flags: { port: "9002" }, env: { TURBO_LOG_LEVEL: "debug" }, dotenvPath: `${dir}/.env`,
 * });
 * assert.equal(config.port, 9002); // flag beats .env
 * assert.equal(config.logLevel, "debug"); // environment beats .env
 * assert.equal(config.host, "127.0.0.1");
 * ```
 */
export function loadConfig(sources: ConfigSources): ServeConfig {
  const env = sources.env ?? Deno.env.toObject();
  const dotenvPath = sources.dotenvPath ?? join(REPO_ROOT, ".env");
  const dotenv = readDotenv(dotenvPath);
  const pick = (key: keyof typeof SETTINGS): { value: string; from: string } => {
    const s = SETTINGS[key];
    const flag = sources.flags[key];
    if (flag !== undefined) return { value: flag, from: `'${s.flag}'` };
    if (env[s.env] !== undefined) return { value: env[s.env]!, from: `${s.env}` };
    if (dotenv[s.env] !== undefined) return { value: dotenv[s.env]!, from: `${s.env} in .env` };
    return { value: s.fallback, from: `default ${s.flag}` };
  };
  const port = pick("port");
  const portNumber = Number(port.value);
  if (!/^\d+$/.test(port.value) || portNumber > 65535) {
    throw new RangeError(`${port.from} must be a port 0..65535, got ${JSON.stringify(port.value)}`);
  }
  const level = pick("logLevel");
  if (!(LOG_LEVELS as readonly string[]).includes(level.value)) {
    throw new RangeError(
      `${level.from} must be one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(level.value)}`,
    );
  }
  const hostSetting = pick("host");
  const host = hostSetting.value;
  // Name where the host came from: a TURBO_HOST in .env is not a --host the user typed.
  const hostFrom = hostSetting.from.startsWith("default") ? "'--host'" : hostSetting.from;
  const db = pick("db");
  if (db.value === "" || db.value === "off") {
    throw new RangeError(`${db.from} must be a database path, got ${JSON.stringify(db.value)}`);
  }
  const tokenValue = env[TOKEN_ENV] ?? dotenv[TOKEN_ENV];
  const token = tokenValue === undefined || tokenValue === "" ? null : tokenValue;
  const allowRemote = sources.flags.allowRemote ?? false;
  if (!isLoopback(host)) {
    if (!allowRemote) {
      throw new RangeError(
        `${hostFrom} ${host} is not a loopback address: pass --allow-remote to expose the service`,
      );
    }
    if (token === null) {
      throw new RangeError(
        `${hostFrom} ${host} is not a loopback address: set ${TOKEN_ENV} (environment or .env) so requests need a bearer token`,
      );
    }
  }
  return {
    host,
    port: portNumber,
    db: db.value,
    modelCache: pick("modelCache").value,
    logLevel: level.value as LogLevel,
    allowRemote,
    token,
  };
}

/**
 * Whether an address is loopback (`127.0.0.0/8`, `::1`, `localhost`).
 *
 * @param host A host name or address.
 * @returns `true` for loopback.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isLoopback } from "./config.ts";
 * assert(isLoopback("127.0.0.1") && isLoopback("::1") && !isLoopback("0.0.0.0"));
 * ```
 */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\./.test(host);
}

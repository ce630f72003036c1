/**
 * `deno task serve`: the benchmark service (REST API, OpenAI-compatible endpoint, dashboard,
 * SQLite history) on http://127.0.0.1:8000 by default.
 *
 * ```
 * deno task serve [--host 127.0.0.1] [--port 8000] [--db benchmarks/history.sqlite]
 *   [--model-cache .cache/models] [--log-level info] [--allow-remote]
 *   [--chat-template FILE | MODEL=FILE]...
 * ```
 *
 * Flags beat environment variables (`TURBO_HOST`, `TURBO_PORT`, `TURBO_HISTORY_DB`,
 * `TURBO_MODEL_CACHE`, `TURBO_LOG_LEVEL`), which beat `.env`, which beats the defaults. A
 * non-loopback `--host` needs `--allow-remote` and `TURBO_API_TOKEN` (every API request then
 * carries `Authorization: Bearer …`).
 *
 * @module
 */
import { loadChatTemplates } from "../serve/chat_template.ts";
import { loadConfig } from "../serve/config.ts";
import { startServer } from "../serve/server.ts";
import { parseFlags, runCli } from "./_cli.ts";

const USAGE = `Usage: deno task serve [--host 127.0.0.1] [--port 8000] [--db PATH]
  [--model-cache DIR] [--log-level debug|info|warn|error] [--allow-remote]
  [--chat-template FILE | MODEL=FILE]...

--chat-template FILE        Jinja chat template for models without one of their own
--chat-template MODEL=FILE  the template of one model (overrides its own); repeatable

Environment / .env: TURBO_HOST, TURBO_PORT, TURBO_HISTORY_DB, TURBO_MODEL_CACHE, TURBO_LOG_LEVEL,
TURBO_API_TOKEN (required with --allow-remote). Flags beat the environment, which beats .env.`;

const FLAGS = {
  host: { type: "string" },
  port: { type: "string" },
  db: { type: "string" },
  "model-cache": { type: "string" },
  "log-level": { type: "string" },
  "allow-remote": { type: "boolean", default: false },
  "chat-template": { type: "string", multiple: true },
} as const;

async function main(): Promise<number> {
  const { values } = parseFlags(Deno.args, FLAGS);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const config = loadConfig({
    flags: {
      ...(values.host === undefined ? {} : { host: values.host }),
      ...(values.port === undefined ? {} : { port: values.port }),
      ...(values.db === undefined ? {} : { db: values.db }),
      ...(values["model-cache"] === undefined ? {} : { modelCache: values["model-cache"] }),
      ...(values["log-level"] === undefined ? {} : { logLevel: values["log-level"] }),
      allowRemote: values["allow-remote"],
    },
  });
  if (config.allowRemote) {
    console.error(
      `warning: serving on ${config.host}, reachable from other machines; every API request needs the bearer token`,
    );
  }
  const chatTemplates = loadChatTemplates(values["chat-template"] ?? []);
  const server = await startServer({ ...config, chatTemplates });
  console.error(`serving on ${server.url} (history: ${config.db})`);
  const { promise: stop, resolve } = Promise.withResolvers<void>();
  for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, resolve);
  await stop;
  console.error("stopping: running jobs are marked interrupted");
  await server.close();
  return 0;
}

if (import.meta.main) await runCli(main);

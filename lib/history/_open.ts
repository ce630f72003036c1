/**
 * Opening the history database safely, private to lib/history: a file that is not this project's
 * history (another program's SQLite file, a text file, a truncated or corrupt one) is refused
 * naming the path, before anything is written to it; a read-only open never creates or migrates;
 * a database locked by another process fails within a second instead of waiting.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { dirname } from "node:path";
import { SCHEMA } from "./_sql.ts";

/** `PRAGMA application_id` of a Turbo Inference history ("TRBH"). */
export const HISTORY_APPLICATION_ID = 0x54524248;

/** Options of {@linkcode openHistoryDatabase}. */
export interface OpenHistoryOptions {
  /** Read only: never create the file, its tables or its directory. @default false */
  readOnly?: boolean;
  /** Create the file's directory when it is missing (the default location only). @default false */
  createDir?: boolean;
}

/** The tables a history has; a file with others belongs to something else. */
const TABLES = ["runs", "jobs"];
/** Columns of `runs` that only this project's history has together. */
const RUN_COLUMNS = ["key", "source", "samples", "decode_tokens_per_s", "hardware"];

/** How long the first read waits for a lock before the open fails. */
const OPEN_BUSY_MS = 1000;
/** How long later statements wait for a writer (several processes share the file). */
const BUSY_MS = 10000;

class HistoryOpenError extends Error {}

/**
 * Opens `path` as the project's history: checks it is one (or a new, empty file), then, unless
 * read-only, switches it to WAL, creates the tables and stamps its application id.
 *
 * @param path The database file.
 * @param options Read-only, and whether its directory may be created.
 * @returns The open connection.
 * @throws {Error} `Cannot open the history database '<path>': …` saying what is wrong.
 */
export function openHistoryDatabase(path: string, options: OpenHistoryOptions = {}): DatabaseSync {
  const fail = (why: string) =>
    new HistoryOpenError(`Cannot open the history database '${path}': ${why}`);
  const stat = statOrNull(path);
  if (stat === null) {
    if (options.readOnly) throw fail("it does not exist");
    const dir = dirname(path);
    if (!statOrNull(dir)?.isDirectory) {
      if (!options.createDir) throw fail(`its directory '${dir}' does not exist`);
      Deno.mkdirSync(dir, { recursive: true });
    }
  } else if (!stat.isFile) {
    throw fail("it is not a file (a directory?)");
  } else if (stat.size > 0 && !isSqliteFile(path)) {
    throw fail("it is not a SQLite database (a text file or another format)");
  }
  let db: DatabaseSync | null = null;
  try {
    db = new DatabaseSync(path, options.readOnly ? { readOnly: true } : {});
    db.exec(`PRAGMA busy_timeout = ${OPEN_BUSY_MS}`);
    const fresh = checkOwner(db, fail, options.readOnly ?? false);
    db.exec(`PRAGMA busy_timeout = ${BUSY_MS}`);
    if (!options.readOnly) {
      db.exec("PRAGMA journal_mode = WAL");
      db.exec("PRAGMA synchronous = NORMAL");
      db.exec("PRAGMA foreign_keys = ON");
      db.exec(SCHEMA);
      if (fresh || applicationId(db) === 0) {
        db.exec(`PRAGMA application_id = ${HISTORY_APPLICATION_ID}`);
      }
    }
    return db;
  } catch (error) {
    db?.close();
    if (error instanceof HistoryOpenError) throw error;
    const message = (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
    if (/locked|busy/i.test(message)) {
      throw fail(`it is locked by another process (SQLite: ${message})`);
    }
    if (/malformed|not a database|corrupt|disk I\/O/i.test(message)) {
      throw fail(`it is corrupt or truncated (SQLite: ${message})`);
    }
    throw fail(message);
  }
}

/**
 * Whether the open database is this project's history: the application id says so, or (a
 * history written before the id) its tables are exactly ours. Returns true for a new, empty file.
 */
function checkOwner(db: DatabaseSync, fail: (why: string) => Error, readOnly: boolean): boolean {
  const id = applicationId(db);
  if (id === HISTORY_APPLICATION_ID) return false;
  if (id !== 0) {
    throw fail(`it is not a Turbo Inference history (application_id ${id}); nothing was changed`);
  }
  const tables = (db.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
  ).all() as { name: string }[]).map((t) => t.name);
  if (tables.length === 0) {
    if (readOnly) throw fail("it is an empty SQLite file, not a Turbo Inference history");
    return true;
  }
  const columns = tables.includes("runs")
    ? (db.prepare("SELECT name FROM pragma_table_info('runs')").all() as { name: string }[])
      .map((c) => c.name)
    : [];
  const foreign = tables.filter((t) => !TABLES.includes(t));
  if (foreign.length > 0 || !RUN_COLUMNS.every((c) => columns.includes(c))) {
    throw fail(
      `it is not a Turbo Inference history (its tables: ${
        tables.slice(0, 5).join(", ")
      }); nothing was changed`,
    );
  }
  return false;
}

function applicationId(db: DatabaseSync): number {
  const row = db.prepare("PRAGMA application_id").get() as { application_id: number } | undefined;
  return Number(row?.application_id ?? 0);
}

function statOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.statSync(path);
  } catch {
    return null;
  }
}

/** Whether the file starts with SQLite's 16-byte magic. */
function isSqliteFile(path: string): boolean {
  const file = Deno.openSync(path, { read: true });
  try {
    const head = new Uint8Array(16);
    const n = file.readSync(head) ?? 0;
    return n === 16 && new TextDecoder().decode(head) === "SQLite format 3\u0000";
  } finally {
    file.close();
  }
}

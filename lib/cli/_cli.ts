/**
 * Shared CLI plumbing: flag parsing that rejects unknown flags, and one-line errors with exit
 * code 1 (stack traces only with `--verbose`). Private to lib/cli.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { dirname } from "node:path";

/** Flag definitions as `node:util` parseArgs takes them. */
export type FlagSpec = NonNullable<ParseArgsConfig["options"]>;

/**
 * Parses `args` strictly: an unknown flag or a missing value throws a `TypeError` naming it.
 * `--verbose` and `--help` are always accepted.
 *
 * @param args Command-line arguments (`Deno.args`).
 * @param spec Flag definitions.
 * @returns The parsed values (strings/booleans) and positionals.
 */
export function parseFlags<T extends FlagSpec>(args: readonly string[], spec: T) {
  for (const name of Object.keys(spec)) declaredFlags.add(name);
  try {
    return parseArgs({
      args: joinNegativeValues(args, spec),
      options: {
        ...spec,
        verbose: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new TypeError(message.split("\n")[0]!.replace(/\. To specify a positional.*$/, ""));
  }
}

/** Flags declared by the running command (for {@linkcode flagNames}). */
const declaredFlags = new Set<string>(["verbose", "help"]);

/**
 * `--runs -1` → `--runs=-1` for string flags, so a negative number reaches the flag's own check
 * (which names the flag and the value) instead of node's "argument is ambiguous".
 */
function joinNegativeValues(args: readonly string[], spec: FlagSpec): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    const name = arg.startsWith("--") ? arg.slice(2) : null;
    if (
      name !== null && spec[name]?.type === "string" && next !== undefined &&
      /^-(\d|\.\d|Infinity)/.test(next)
    ) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/**
 * Rewrites library option names quoted in a message (`'blockSize'`) as the flag the user typed
 * (`'--block-size'`), for the flags the running command declared.
 *
 * @param message An error message.
 * @returns The message with declared options named as flags.
 */
export function flagNames(message: string): string {
  return message.replace(/'([a-z]+(?:[A-Z][a-z0-9]*)+)'/g, (whole, name: string) => {
    const flag = name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    return declaredFlags.has(flag) ? `'--${flag}'` : whole;
  });
}

/**
 * Checks, before any work, that `path` can be written: its directory exists and is writable and
 * the path is not a directory. Probes with a temp file that is removed at once.
 *
 * @param path The output path.
 * @param flag The flag that named it, for the message (`--output`).
 * @throws {Error} naming the flag and the path.
 */
export async function checkWritable(path: string, flag: string): Promise<void> {
  const stat = await Deno.stat(path).catch(() => null);
  if (stat?.isDirectory) throw new Error(`'${flag}' ${path} is a directory, not a file`);
  const probe = `${dirname(path) || "."}/.${Deno.pid}.write-probe`;
  try {
    await Deno.writeTextFile(probe, "");
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "its directory does not exist"
      : (error as Error).message.split("\n")[0];
    throw new Error(`'${flag}' ${path} cannot be written: ${reason}`);
  }
  await Deno.remove(probe).catch(() => {});
}

/**
 * Checks, before any work, that an output directory flag does not name something that is not a
 * directory (a regular file, or a path through one).
 *
 * @param path The directory (it may not exist yet).
 * @param flag The flag that named it, for the message (`--out`).
 * @throws {Error} `'--out' PATH is a file, not a directory`.
 */
export async function checkOutDir(path: string, flag: string): Promise<void> {
  let stat: Deno.FileInfo | null;
  try {
    stat = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    if (error instanceof Deno.errors.NotADirectory) {
      throw new Error(`'${flag}' ${path} goes through a file, not a directory`);
    }
    throw new Error(`'${flag}' ${path} cannot be used: ${(error as Error).message.split("\n")[0]}`);
  }
  if (!stat.isDirectory) throw new Error(`'${flag}' ${path} is a file, not a directory`);
}

/**
 * Writes `text` to `path` through a temp file in the same directory and a rename, so a failure
 * leaves the old file or none, never half of one.
 *
 * @param path Destination.
 * @param text Contents.
 */
export async function writeTextAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${Deno.pid}.tmp`;
  try {
    await Deno.writeTextFile(tmp, text);
    await Deno.rename(tmp, path);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}

/**
 * Runs a CLI entry point: on failure prints `error: <message>` (one line) to stderr and exits
 * with code 1; with `--verbose` in the arguments the stack follows.
 *
 * @param main The command body; it may return an exit code.
 */
export async function runCli(main: () => Promise<number | void> | number | void): Promise<void> {
  try {
    const code = await main();
    if (typeof code === "number" && code !== 0) Deno.exit(code);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`error: ${flagNames(message.split("\n")[0]!)}`);
    if (Deno.args.includes("--verbose") && error instanceof Error && error.stack) {
      console.error(error.stack);
    }
    Deno.exit(1);
  }
}

/**
 * Parses an integer flag, with a message naming the flag and the value on failure.
 *
 * @param value The raw string (or undefined → `fallback`).
 * @param flag The flag name for the message, e.g. `--runs`.
 * @param options `min` (inclusive) and a `fallback` when the flag is absent.
 * @returns The integer.
 */
export function intFlag(
  value: string | undefined,
  flag: string,
  options: { min?: number; fallback?: number } = {},
): number {
  if (value === undefined) {
    if (options.fallback === undefined) throw new TypeError(`missing required flag ${flag}`);
    return options.fallback;
  }
  const n = Number(value);
  const min = options.min ?? Number.MIN_SAFE_INTEGER;
  if (!Number.isInteger(n) || n < min) {
    throw new RangeError(
      `'${flag}' must be an integer${min > Number.MIN_SAFE_INTEGER ? ` >= ${min}` : ""}, got ${
        JSON.stringify(value)
      }`,
    );
  }
  return n;
}

/**
 * Parses a boolean flag written as `true|false` (e.g. `--use-cache false`).
 *
 * @param value The raw string (or undefined → `fallback`).
 * @param flag The flag name for the message.
 * @param fallback Value when absent.
 * @returns The boolean.
 */
export function boolFlag(value: string | undefined, flag: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw new RangeError(`'${flag}' must be true or false, got ${JSON.stringify(value)}`);
}

/**
 * Shared CLI plumbing: flag parsing that rejects unknown flags, and one-line errors with exit
 * code 1 (stack traces only with `--verbose`). Private to lib/cli.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

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
  try {
    return parseArgs({
      args: [...args],
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
    console.error(`error: ${message.split("\n")[0]}`);
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

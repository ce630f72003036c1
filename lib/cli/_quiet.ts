/**
 * Imported first by every CLI entry: drops exactly one warning, Node's DEP0040 ("the `punycode`
 * module is deprecated"), which vega's node-fetch → whatwg-url chain triggers when it loads and
 * which would otherwise precede a CLI's one-line error. Every other warning still prints.
 * Private to lib/cli.
 *
 * @module
 */
import process from "node:process";

const emitWarning = process.emitWarning.bind(process);

/** Whether an `emitWarning` call is DEP0040 (code as a string argument or in the options). */
function isPunycode(warning: unknown, rest: unknown[]): boolean {
  const [typeOrOptions, code] = rest;
  const found = typeof typeOrOptions === "object" && typeOrOptions !== null
    ? (typeOrOptions as { code?: unknown }).code
    : code;
  return found === "DEP0040" ||
    (warning instanceof Error && (warning as { code?: unknown }).code === "DEP0040");
}

process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  if (isPunycode(warning, rest)) return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

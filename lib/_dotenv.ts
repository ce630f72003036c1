/**
 * `.env` files, shared by the service's settings and the history hooks (private to lib/).
 *
 * @module
 */

/**
 * Parses a `.env` file: `KEY=value` lines, `#` comments, optional `export `, values optionally
 * in single or double quotes (double quotes understand `\n`).
 *
 * @param text The file's text.
 * @returns The variables.
 * @throws {SyntaxError} naming the line of a line that is not `KEY=value`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDotenv } from "./_dotenv.ts";
 * assert.deepEqual(parseDotenv("# c\nTURBO_PORT=9000\nexport A='x y'\nB=\"1\\n2\" # note\n"), {
 *   TURBO_PORT: "9000", A: "x y", B: "1\n2",
 * });
 * ```
 */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new SyntaxError(`.env line ${i + 1} is not KEY=value: ${JSON.stringify(raw)}`);
    let value = m[2]!;
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.indexOf(quote, 1) > 0) {
      const body = value.slice(1, value.indexOf(quote, 1));
      value = quote === '"' ? body.replace(/\\n/g, "\n").replace(/\\"/g, '"') : body;
    } else {
      value = value.replace(/\s+#.*$/, "").trim();
    }
    out[m[1]!] = value;
  });
  return out;
}

/**
 * Reads and parses a `.env` file; a missing file is an empty one.
 *
 * @param path The file.
 * @returns The variables.
 * @throws {SyntaxError} for a malformed line.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readDotenv } from "./_dotenv.ts";
 * assert.deepEqual(readDotenv("/nonexistent/.env"), {});
 * ```
 */
export function readDotenv(path: string): Record<string, string> {
  try {
    return parseDotenv(Deno.readTextFileSync(path));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return {};
    throw error;
  }
}

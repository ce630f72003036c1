/**
 * A small Dockerfile reader: instructions with their arguments, line continuations joined and
 * comments dropped. Docker cannot run on the development machines, so `Dockerfile.gpu` is checked
 * structurally by tests instead of being built there.
 *
 * @module
 */

/** One instruction, e.g. `{ keyword: "FROM", args: "nvidia/cuda:…" }`. */
export interface DockerInstruction {
  /** Upper-case keyword. */
  keyword: string;
  /** Everything after the keyword, continuations joined with a space. */
  args: string;
  /** 1-based line where the instruction starts. */
  line: number;
}

/**
 * Parses Dockerfile text into instructions.
 *
 * @param text The Dockerfile.
 * @returns Its instructions in order.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDockerfile } from "./dockerfile.ts";
 * const ins = parseDockerfile("FROM a:1\n# c\nRUN x \\\n  && y\n");
 * assert(ins.length === 2 && ins[1]!.args === "x && y");
 * ```
 */
export function parseDockerfile(text: string): DockerInstruction[] {
  const out: DockerInstruction[] = [];
  let current: DockerInstruction | null = null;
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (current === null && (line === "" || line.startsWith("#"))) return;
    if (current !== null && line.startsWith("#")) return;
    const continued = line.endsWith("\\");
    const body = continued ? line.slice(0, -1).trim() : line;
    if (current === null) {
      const match = body.match(/^([A-Za-z]+)\s*(.*)$/);
      if (!match) throw new SyntaxError(`Dockerfile line ${i + 1}: cannot parse '${line}'`);
      current = { keyword: match[1]!.toUpperCase(), args: match[2]!, line: i + 1 };
    } else if (body) {
      current.args = current.args ? `${current.args} ${body}` : body;
    }
    if (!continued) {
      out.push(current);
      current = null;
    }
  });
  if (current !== null) out.push(current);
  return out;
}

/**
 * The shell commands of a Markdown page (fenced `sh`/`bash`/`shell` blocks) and how a test runs
 * each one: `./deno task NAME …` with `--help` appended (the task must exist and accept every flag
 * written), `make TARGET` as `make -n TARGET` (the target must exist), a short real run for a few
 * cheap commands, and a stated reason for a command a test cannot run (a server, docker, a
 * cluster).
 *
 * @module
 */

/** One command of a page. */
export interface ShellCommand {
  /** 1-based line of the command's first line in the page. */
  line: number;
  /** The command, continuation lines joined, comment removed. */
  text: string;
}

/** How a test runs a command: the argv and environment, why it does not, or what is wrong. */
export type CommandPlan =
  | { argv: string[]; env: Record<string, string>; service?: true }
  | { skip: string }
  | { error: string };

/**
 * The commands of every `sh`, `bash` or `shell` block of `markdown`.
 *
 * @param markdown A Markdown page.
 * @returns The commands in order (blank and comment-only lines left out).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shellCommands } from "./shell_blocks.ts";
 * const fence = "`".repeat(3);
 * const md = `x\n${fence}sh\nmake test   # the tests\n./deno task bench \\\n  --help\n${fence}\n`;
 * assert.deepEqual(shellCommands(md), [
 *   { line: 3, text: "make test" },
 *   { line: 4, text: "./deno task bench --help" },
 * ]);
 * ```
 */
export function shellCommands(markdown: string): ShellCommand[] {
  const out: ShellCommand[] = [];
  const lines = markdown.split("\n");
  let inBlock = false;
  let shell = false;
  let pending: ShellCommand | null = null;
  lines.forEach((raw, i) => {
    const fence = /^\s*```(\w*)/.exec(raw);
    if (fence) {
      if (!inBlock) shell = ["sh", "bash", "shell"].includes(fence[1]!);
      inBlock = !inBlock;
      pending = null;
      return;
    }
    if (!inBlock || !shell) return;
    const text = stripComment(raw).trim();
    const joined: string = pending ? `${pending.text} ${text}` : text;
    const command = { line: pending?.line ?? i + 1, text: joined };
    if (joined.endsWith("\\")) {
      pending = { ...command, text: joined.slice(0, -1).trim() };
      return;
    }
    if (openQuote(joined)) { // a quoted argument that goes on over the next lines
      pending = command;
      return;
    }
    pending = null;
    if (joined !== "") out.push(command);
  });
  return out;
}

/** The line without a trailing `# comment` (a `#` outside quotes, after whitespace). */
function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]!))) {
      return line.slice(0, i);
    }
  }
  return line;
}

/** Whether `text` ends inside a quoted string. */
function openQuote(text: string): boolean {
  let quote: string | null = null;
  for (const c of text) {
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
  }
  return quote !== null;
}

/** Splits a command into words (single and double quotes, no expansion). */
export function words(command: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|"([^"]*)"|(\S+)/g;
  for (const m of command.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

/** The address the service examples use (`./deno task serve`'s default). */
export const SERVICE_ADDRESS = "localhost:8000";

/** Tasks that run the test suite or a long-running server: the test checks they exist only. */
const EXISTS_ONLY = new Set(["test", "ok"]);

/**
 * How to run `command` in a test.
 *
 * @param command One command of a page.
 * @param tasks The `deno.json` task names.
 * @returns The argv (and environment) to run, why it is not run, or what is wrong with it.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planCommand } from "./shell_blocks.ts";
 * assert.deepEqual(planCommand("HF_HUB_OFFLINE=1 ./deno task doctor", ["doctor"]), {
 *   argv: ["./deno", "task", "doctor", "--help"], env: { HF_HUB_OFFLINE: "1" },
 * });
 * assert.deepEqual(planCommand("make sweep RESUME=1", []), {
 *   argv: ["make", "-n", "sweep", "RESUME=1"], env: {},
 * });
 * assert("skip" in planCommand("docker run x", []));
 * ```
 */
export function planCommand(command: string, tasks: readonly string[]): CommandPlan {
  if (/[|;&<>`$]/.test(command.replace(/'[^']*'|"[^"]*"/g, ""))) {
    return { skip: "a pipeline or compound command: run its parts" };
  }
  const argv = words(command);
  const env: Record<string, string> = {};
  while (argv.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(argv[0]!)) {
    const [name, ...value] = argv.shift()!.split("=");
    env[name!] = value.join("=");
  }
  const [program, ...args] = argv;
  if (program === "deno") {
    return { error: "examples run Deno as ./deno (the pinned version; no deno on PATH needed)" };
  }
  if (program === "./deno") {
    if (args[0] !== "task") return { argv: ["./deno", ...args.slice(0, 1), "--help"], env };
    const help = args.includes("--help") || args.includes("-h") ? [] : ["--help"];
    const task = args[1];
    if (task === undefined || !tasks.includes(task)) {
      return { error: `deno.json has no task '${task ?? ""}'` };
    }
    if (EXISTS_ONLY.has(task)) return { skip: `'${task}' runs the test suite itself` };
    return { argv: ["./deno", "task", task, ...args.slice(2), ...help], env };
  }
  if (program === "make") {
    return { argv: ["make", ...(args.includes("-n") ? [] : ["-n"]), ...args], env };
  }
  if (program === "curl" && command.includes(SERVICE_ADDRESS)) {
    if (command.includes("…")) return { skip: "an example id (…) a real job would replace" };
    // Against a service the test starts; an HTTP error fails the command.
    return { argv: ["curl", "--fail-with-body", "--max-time", "60", ...args], env, service: true };
  }
  if (program === "du" || program === "git") {
    return { skip: `'${program}' inspects a checkout; not a project command` };
  }
  return { skip: `'${program}' needs a running service, a container runtime or a cluster` };
}

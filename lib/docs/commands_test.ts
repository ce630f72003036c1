/**
 * Every shell command of README.md and docs/*.md runs as written: each `./deno task …` with
 * `--help` appended (the task exists and takes every flag shown), each `make …` as `make -n …`.
 * One test per page, each command under its own time limit (its process group killed past it).
 */
import { assertEquals } from "../testing/assert.ts";
import { planCommand, shellCommands } from "./shell_blocks.ts";

const root = new URL("../..", import.meta.url).pathname;
const tasks = Object.keys(
  (JSON.parse(Deno.readTextFileSync(`${root}/deno.json`)) as { tasks: Record<string, string> })
    .tasks,
);
const pages = [
  "README.md",
  ...[...Deno.readDirSync(`${root}/docs`)].filter((e) => e.isFile && e.name.endsWith(".md"))
    .map((e) => `docs/${e.name}`).sort(),
];
const LIMIT_MS = 120_000;

/** Runs argv in its own process group; kills the group past the limit. Returns a failure or null. */
async function run(argv: string[], env: Record<string, string>): Promise<string | null> {
  const child = new Deno.Command("setsid", {
    args: argv,
    cwd: root,
    env: { ...env, NO_COLOR: "1", TURBO_HISTORY_DB: "off" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      Deno.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }, LIMIT_MS);
  const out = await child.output();
  clearTimeout(timer);
  if (timedOut) return `killed after ${LIMIT_MS / 1000} s`;
  if (out.code === 0) return null;
  const stderr = new TextDecoder().decode(out.stderr).trim().split("\n");
  return `exit ${out.code}: ${stderr.filter((l) => !l.startsWith("Task ")).at(-1) ?? ""}`;
}

for (const page of pages) {
  const commands = shellCommands(Deno.readTextFileSync(`${root}/${page}`));
  if (commands.length === 0) continue;
  Deno.test(`every shell command in ${page} runs as written`, async () => {
    const failures: string[] = [];
    for (const command of commands) {
      const plan = planCommand(command.text, tasks);
      const where = `${page}:${command.line} ${command.text}`;
      if ("skip" in plan) {
        console.error(`not run: ${where}: ${plan.skip}`);
      } else if ("error" in plan) {
        failures.push(`${where}: ${plan.error}`);
      } else {
        const failure = await run(plan.argv, plan.env);
        if (failure !== null) failures.push(`${where} (ran: ${plan.argv.join(" ")}): ${failure}`);
      }
    }
    assertEquals(failures, []);
  });
}

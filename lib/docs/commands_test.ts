/**
 * Every shell command of README.md and docs/*.md runs as written: each `./deno task …` with
 * `--help` appended (the task exists and takes every flag shown), each `make …` as `make -n …`,
 * each `curl localhost:8000/…` against a real service the test starts (`./deno task serve` on a
 * free port, a temporary history database). One test per page, each command under its own time
 * limit (its process group killed past it).
 */
import { assertEquals } from "../testing/assert.ts";
import { planCommand, SERVICE_ADDRESS, shellCommands } from "./shell_blocks.ts";

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
async function run(
  argv: string[],
  env: Record<string, string>,
  cwd = root,
): Promise<string | null> {
  const child = new Deno.Command("setsid", {
    args: argv,
    cwd,
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
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes).trim().split("\n");
  const said = text(out.stderr).filter((l) => l !== "" && !l.startsWith("Task ")).at(-1) ??
    text(out.stdout).join(" ").slice(0, 300);
  return `exit ${out.code}: ${said}`;
}

/** A free TCP port on 127.0.0.1. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** `./deno task serve` on a free port with a temporary history; stop() kills its process group. */
async function startService(): Promise<{ address: string; dir: string; stop(): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "docs-service-" });
  const port = freePort();
  const child = new Deno.Command("setsid", {
    args: ["./deno", "task", "serve", "--port", String(port), "--db", `${dir}/history.sqlite`],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const stop = async () => {
    try {
      Deno.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
    await child.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const deadline = Date.now() + LIMIT_MS;
  while (Date.now() < deadline) {
    const up = await fetch(`http://127.0.0.1:${port}/health`).then(async (r) => {
      await r.body?.cancel();
      return r.ok;
    }).catch(() => false);
    if (up) return { address: `127.0.0.1:${port}`, dir, stop };
    await new Promise((r) => setTimeout(r, 500));
  }
  await stop();
  throw new Error(`the service did not answer /health within ${LIMIT_MS / 1000} s`);
}

for (const page of pages) {
  const commands = shellCommands(Deno.readTextFileSync(`${root}/${page}`));
  if (commands.length === 0) continue;
  Deno.test(`every shell command in ${page} runs as written`, async () => {
    const failures: string[] = [];
    let service: Awaited<ReturnType<typeof startService>> | null = null;
    try {
      for (const command of commands) {
        const plan = planCommand(command.text, tasks);
        const where = `${page}:${command.line} ${command.text}`;
        if ("skip" in plan) {
          console.error(`not run: ${where}: ${plan.skip}`);
        } else if ("error" in plan) {
          failures.push(`${where}: ${plan.error}`);
        } else if (plan.service) {
          service ??= await startService();
          const address = service.address;
          const argv = plan.argv.map((a) => a.replaceAll(SERVICE_ADDRESS, address));
          const failure = await run(argv, plan.env, service.dir);
          if (failure !== null) failures.push(`${where} (ran: ${argv.join(" ")}): ${failure}`);
        } else {
          const failure = await run(plan.argv, plan.env);
          if (failure !== null) failures.push(`${where} (ran: ${plan.argv.join(" ")}): ${failure}`);
        }
      }
    } finally {
      await service?.stop();
    }
    assertEquals(failures, []);
  });
}

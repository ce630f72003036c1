/**
 * Process-group helpers for the servers this folder starts: kill what we started, by its id.
 *
 * @module
 */
/**
 * Signals a process group (a session leader's pid), else the process alone; a process already
 * gone is no error.
 *
 * @param pid The leader's process id.
 * @param signal The signal.
 */
export function killGroup(pid: number, signal: Deno.Signal): void {
  for (const target of [-pid, pid]) {
    try {
      Deno.kill(target, signal);
      return;
    } catch { /* gone, or not a group leader */ }
  }
}

/**
 * Process ids whose command line mentions `text` (Linux `/proc`; empty elsewhere), this process
 * excepted.
 *
 * @param text E.g. a runtime folder only the processes we started name.
 * @returns The ids.
 */
export async function pidsMentioning(text: string): Promise<number[]> {
  const pids: number[] = [];
  try {
    for await (const entry of Deno.readDir("/proc")) {
      if (!/^\d+$/.test(entry.name) || Number(entry.name) === Deno.pid) continue;
      const cmdline = await Deno.readTextFile(`/proc/${entry.name}/cmdline`).catch(() => "");
      if (cmdline.includes(text)) pids.push(Number(entry.name));
    }
  } catch { /* no /proc */ }
  return pids;
}

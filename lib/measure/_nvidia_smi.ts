/**
 * Parsers of `nvidia-smi --format=csv,noheader,nounits` output, private to lib/measure.
 *
 * @module
 */

const MIB = 1024 * 1024;

/**
 * Parses the first line of `--query-gpu=name,driver_version,memory.total,memory.used`.
 *
 * @param text The command's stdout (values in MiB).
 * @returns Name, driver and memory in bytes.
 */
export function parseNvidiaSmiGpu(
  text: string,
): { name: string; driverVersion: string; totalBytes: number; usedBytes: number } {
  const line = text.split("\n").find((l) => l.trim() !== "");
  const cells = line?.split(",").map((c) => c.trim()) ?? [];
  const total = Number(cells[2]);
  const used = Number(cells[3]);
  if (cells.length < 4 || !Number.isFinite(total) || !Number.isFinite(used)) {
    throw new SyntaxError(`nvidia-smi: cannot parse GPU line ${JSON.stringify(line ?? "")}`);
  }
  return {
    name: cells[0]!,
    driverVersion: cells[1]!,
    totalBytes: total * MIB,
    usedBytes: used * MIB,
  };
}

/**
 * Parses `--query-compute-apps=pid,used_memory` (lines with `[N/A]` memory give `null`).
 *
 * @param text The command's stdout (values in MiB).
 * @returns One entry per process.
 */
export function parseNvidiaSmiApps(text: string): { pid: number; usedBytes: number | null }[] {
  return text.split("\n").filter((l) => l.trim() !== "").map((line) => {
    const [pid, used] = line.split(",").map((c) => c.trim());
    const mib = Number(used);
    return { pid: Number(pid), usedBytes: Number.isFinite(mib) ? mib * MIB : null };
  });
}

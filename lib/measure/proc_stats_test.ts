import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import {
  cpuBusyPercent,
  parseLoadavg,
  parseMeminfo,
  parseProcSelfStat,
  parseProcStat,
  readProcStat,
} from "./proc_stats.ts";

const fixture = (name: string) =>
  Deno.readTextFileSync(new URL(`./fixtures/${name}`, import.meta.url));

Deno.test("parseProcStat() reads the all-CPU line and every core of a recorded /proc/stat", () => {
  const s = parseProcStat(fixture("proc_stat.txt"));
  assertEquals(s.cores.length, 2);
  assertEquals(s.all, { busy: 7977 + 4640 + 52 + 11, total: 7977 + 4640 + 52 + 11 + 59702 + 181 });
  assertEquals(s.cores[1], {
    busy: 4314 + 2364 + 40 + 6,
    total: 4314 + 2364 + 40 + 6 + 29406 + 156,
  });
});

Deno.test("parseProcStat() rejects a file with no cpu line or a non-integer field", () => {
  assertThrows(() => parseProcStat("intr 1 2 3\n"), SyntaxError, "no 'cpu' line");
  assertThrows(() => parseProcStat("cpu 1 x 3 4\n"), SyntaxError, "/proc/stat");
});

Deno.test("cpuBusyPercent() is null when no tick passed and clamps to 0–100", () => {
  assertEquals(cpuBusyPercent({ busy: 5, total: 10 }, { busy: 5, total: 10 }), null);
  assertEquals(cpuBusyPercent({ busy: 0, total: 0 }, { busy: 10, total: 10 }), 100);
});

Deno.test("parseProcSelfStat() finds utime+stime past a command name with spaces and parentheses", () => {
  const line = fixture("proc_self_stat.txt").replace("(deno)", "(we(ird) name)");
  assertEquals(parseProcSelfStat(line), 1234 + 567);
  assertThrows(() => parseProcSelfStat("garbage"), SyntaxError);
});

Deno.test("parseMeminfo() and parseLoadavg() read recorded files and name what is missing", () => {
  const m = parseMeminfo(fixture("meminfo.txt"));
  assertEquals(m.totalBytes, 24631400 * 1024);
  assertEquals(m.availableBytes, 23912344 * 1024);
  assertThrows(() => parseMeminfo("MemTotal: 1 kB\n"), SyntaxError, "MemAvailable");
  assertEquals(parseLoadavg("0.14 0.37 0.19 1/96 10725\n"), 0.14);
  assertThrows(() => parseLoadavg("x"), SyntaxError);
});

Deno.test({
  name: "readProcStat() reads this machine's /proc/stat",
  ignore: Deno.build.os !== "linux",
  fn() {
    const s = readProcStat();
    assert(s !== null && s.cores.length >= 1 && s.all.total > 0);
  },
});

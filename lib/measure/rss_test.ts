import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import { skipIf } from "../testing/skip.ts";
import { currentRssBytes, parseProcStatus, peakRssBytes, resetPeakRss } from "./rss.ts";

const STATUS = `Name:\tdeno
VmPeak:\t 4000000 kB
VmHWM:\t  123456 kB
VmRSS:\t  100000 kB
Threads:\t8
`;

Deno.test("parseProcStatus() reads VmHWM and VmRSS in bytes", () => {
  assertEquals(parseProcStatus(STATUS), {
    vmHwmBytes: 123456 * 1024,
    vmRssBytes: 100000 * 1024,
  });
});

Deno.test("parseProcStatus() gives null for absent lines and rejects malformed ones", () => {
  assertEquals(parseProcStatus("Name:\tx\n"), { vmHwmBytes: null, vmRssBytes: null });
  assertThrows(() => parseProcStatus("VmHWM:\t12 MB\n"), SyntaxError, "'VmHWM'");
});

const NOT_LINUX = Deno.build.os === "linux" ? null : `no /proc/self/status on ${Deno.build.os}`;

Deno.test({
  name: "peakRssBytes() is at least currentRssBytes() and grows with an allocation",
  ignore: skipIf("peakRssBytes()", NOT_LINUX),
  fn: () => {
    const before = peakRssBytes()!;
    assert(before >= currentRssBytes()! * 0.9);
    const block = new Uint8Array(64 * 1024 * 1024).fill(1);
    assert(peakRssBytes()! >= before);
    assert(peakRssBytes()! >= 64 * 1024 * 1024, `peak ${peakRssBytes()} after touching 64 MiB`);
    assertEquals(block[block.length - 1], 1);
  },
});

Deno.test({
  name: "resetPeakRss() brings the peak down to the current RSS",
  ignore: skipIf("resetPeakRss()", NOT_LINUX),
  fn: () => {
    // Raise the peak well above the current RSS first: touch 64 MiB then drop it.
    (() => new Uint8Array(64 * 1024 * 1024).fill(1))();
    // A Linux kernel without clear_refs support fails here: the reset is what is under test.
    assert(resetPeakRss(), "resetPeakRss() could not write /proc/self/clear_refs");
    // One snapshot, so both values are read at the same instant.
    const { vmHwmBytes, vmRssBytes } = parseProcStatus(Deno.readTextFileSync("/proc/self/status"));
    assert(vmHwmBytes! >= vmRssBytes!);
    assert(vmHwmBytes! - vmRssBytes! < 8 * 1024 * 1024, `peak ${vmHwmBytes} vs rss ${vmRssBytes}`);
  },
});

/**
 * The telemetry sampler's worker thread. onnxruntime-node runs a graph synchronously on the
 * main JS thread, so a timer there fires only between steps; this worker keeps its own event
 * loop and samples on time while the model runs. `/proc/self` is the whole process, so the
 * readings cover every thread (ORT's pool included).
 *
 * Protocol: `{ type: "start", intervalMs, gpu }` → `{ type: "ready", gpuSource, gpuReason }`, then
 * `{ type: "sample", sample }` per interval; `{ type: "stop" }` → one last sample and
 * `{ type: "stopped" }`.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { systemReader, type SystemReaderOptions } from "./_telemetry_read.ts";

let timer: ReturnType<typeof setInterval> | undefined;
let reader: ReturnType<typeof systemReader> | undefined;

self.onmessage = (event: MessageEvent) => {
  const message = event.data as
    | { type: "start"; intervalMs: number; gpu: SystemReaderOptions["gpu"] }
    | { type: "stop" };
  if (message.type === "start") {
    reader = systemReader({ gpu: message.gpu });
    reader.read(); // primes the CPU deltas
    self.postMessage({ type: "ready", gpuSource: reader.gpuSource, gpuReason: reader.gpuReason });
    timer = setInterval(
      () => self.postMessage({ type: "sample", sample: reader!.read() }),
      message.intervalMs,
    );
  } else {
    clearInterval(timer);
    if (reader) self.postMessage({ type: "sample", sample: reader.read() });
    self.postMessage({ type: "stopped" });
    self.close();
  }
};

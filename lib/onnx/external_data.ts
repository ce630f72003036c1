/**
 * Streams initializer bytes to an ONNX external-data file (`model.onnx_data`) as they are made,
 * so a multi-gigabyte model is never held in memory.
 *
 * @module
 */
import { basename } from "node:path";
import type { ExternalDataRef } from "./graph.ts";

/**
 * Initializer bytes above which a model's weights go to an external-data file instead of the
 * `.onnx` protobuf (which cannot pass 2 GB); the builder and the quantizer both use it.
 */
export const EXTERNAL_DATA_THRESHOLD_BYTES = 1_800_000_000;

/** Alignment of each tensor in the external-data file, in bytes. */
export const EXTERNAL_DATA_ALIGNMENT = 64;

/**
 * An append-only external-data file; each tensor starts on a 64-byte boundary.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ExternalDataWriter } from "./external_data.ts";
 * const dir = Deno.makeTempDirSync();
 * const sink = new ExternalDataWriter(`${dir}/model.onnx_data`);
 * const ref = sink.append([new Uint8Array(3), new Uint8Array(5)]);
 * const next = sink.append([new Uint8Array(1)]);
 * sink.close();
 * assert(ref.length === 8 && next.offset === 64);
 * ```
 */
export class ExternalDataWriter {
  readonly #file: Deno.FsFile;
  readonly #location: string;
  #offset = 0;

  /**
   * Creates (truncates) the file.
   *
   * @param path Path of the external-data file; its base name becomes the `location`.
   */
  constructor(path: string) {
    this.#file = Deno.openSync(path, { write: true, create: true, truncate: true });
    this.#location = basename(path);
  }

  /** Bytes written so far, padding included. */
  get bytesWritten(): number {
    return this.#offset;
  }

  /**
   * Appends one tensor's bytes, given as chunks in order.
   *
   * @param chunks The tensor's bytes (typed arrays are written as their raw bytes).
   * @returns Where the tensor lies, for `GraphBuilder.externalInitializer`.
   */
  append(chunks: Iterable<ArrayBufferView>): ExternalDataRef {
    const pad = (EXTERNAL_DATA_ALIGNMENT - (this.#offset % EXTERNAL_DATA_ALIGNMENT)) %
      EXTERNAL_DATA_ALIGNMENT;
    if (pad) this.#write(new Uint8Array(pad));
    const offset = this.#offset;
    for (const chunk of chunks) {
      this.#write(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    }
    return { location: this.#location, offset, length: this.#offset - offset };
  }

  /** Flushes and closes the file. */
  close(): void {
    this.#file.syncSync();
    this.#file.close();
  }

  #write(bytes: Uint8Array): void {
    let written = 0;
    while (written < bytes.byteLength) written += this.#file.writeSync(bytes.subarray(written));
    this.#offset += bytes.byteLength;
  }
}

/**
 * Writes an ONNX model whose initializers are {@linkcode LazyTensor}s: inline when the model
 * stays small, otherwise in an external-data file next to it (`model_q4.onnx_data`, as Hub
 * exports do), streamed tensor by tensor. Files are written under temporary names and renamed
 * at the end, so nothing half-written is ever left under the final name.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { type ModelProto, onnx, type TensorProto } from "./_proto.ts";
import type { LazyTensor } from "./lazy_tensor.ts";
import { EXTERNAL_DATA_THRESHOLD_BYTES } from "../onnx/external_data.ts";

/** Options of {@linkcode writeOnnxModel}. */
export interface WriteOnnxOptions {
  /**
   * Total initializer bytes above which data is written externally.
   * @default EXTERNAL_DATA_THRESHOLD_BYTES
   */
  externalDataThresholdBytes?: number;
  /** Tensors smaller than this stay inline even in external mode. @default 1024 */
  inlineBelowBytes?: number;
}

/** What {@linkcode writeOnnxModel} wrote. */
export interface WrittenVariant {
  /** The model file. */
  path: string;
  /** The external-data file, or `null` when all data is inline. */
  externalDataPath: string | null;
  /** Model plus external-data bytes on disk. */
  bytes: number;
}

/**
 * Writes `model` with `tensors` as its main graph's initializers (replacing any it had).
 *
 * @param path Destination `.onnx` path; external data goes to `${path}_data`.
 * @param model The model (its `graph.initializer` is overwritten).
 * @param tensors The initializers, loaded one at a time while writing.
 * @param options Threshold settings.
 * @returns Where it was written and how many bytes.
 * @example
 * ```ts ignore
 * import { writeOnnxModel } from "./onnx_writer.ts";
 * await writeOnnxModel("out/model_q4.onnx", model, tensors);
 * ```
 */
export async function writeOnnxModel(
  path: string,
  model: ModelProto,
  tensors: readonly LazyTensor[],
  options: WriteOnnxOptions = {},
): Promise<WrittenVariant> {
  const threshold = options.externalDataThresholdBytes ?? EXTERNAL_DATA_THRESHOLD_BYTES;
  const inlineBelow = options.inlineBelowBytes ?? 1024;
  const total = tensors.reduce((sum, t) => sum + t.byteLength, 0);
  const external = total > threshold;
  const dataName = `${basename(path)}_data`;
  const dataPath = join(dirname(path), dataName);
  const tmpModel = `${path}.tmp-${Deno.pid}`;
  const tmpData = `${dataPath}.tmp-${Deno.pid}`;
  try {
    const protos: TensorProto[] = [];
    let dataBytes = 0;
    if (external) {
      const file = await Deno.open(tmpData, { write: true, create: true, truncate: true });
      try {
        for (const t of tensors) {
          const bytes = await loadChecked(t);
          if (t.byteLength < inlineBelow) {
            protos.push(inlineProto(t, bytes));
            continue;
          }
          const pad = (64 - (dataBytes % 64)) % 64;
          if (pad) await writeAll(file, new Uint8Array(pad));
          dataBytes += pad;
          await writeAll(file, bytes);
          protos.push({
            name: t.name,
            dataType: t.dataType,
            dims: [...t.dims],
            dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
            externalData: [
              { key: "location", value: dataName },
              { key: "offset", value: String(dataBytes) },
              { key: "length", value: String(t.byteLength) },
            ],
          });
          dataBytes += t.byteLength;
        }
      } finally {
        file.close();
      }
    } else {
      for (const t of tensors) protos.push(inlineProto(t, await loadChecked(t)));
    }
    model.graph!.initializer = protos;
    const encoded = onnx.ModelProto.encode(model).finish();
    model.graph!.initializer = [];
    await Deno.writeFile(tmpModel, encoded);
    if (external) await Deno.rename(tmpData, dataPath);
    else await removeIfExists(dataPath);
    await Deno.rename(tmpModel, path);
    return {
      path,
      externalDataPath: external ? dataPath : null,
      bytes: encoded.byteLength + (external ? dataBytes : 0),
    };
  } catch (error) {
    await removeIfExists(tmpModel);
    await removeIfExists(tmpData);
    throw error;
  }
}

async function loadChecked(t: LazyTensor): Promise<Uint8Array> {
  const bytes = await t.load();
  if (bytes.byteLength !== t.byteLength) {
    throw new RangeError(
      `Tensor '${t.name}' [${t.dims}] produced ${bytes.byteLength} bytes, expected ${t.byteLength}`,
    );
  }
  return bytes;
}

function inlineProto(t: LazyTensor, bytes: Uint8Array): TensorProto {
  return { name: t.name, dataType: t.dataType, dims: [...t.dims], rawData: bytes };
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.byteLength) written += await file.write(bytes.subarray(written));
}

async function removeIfExists(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

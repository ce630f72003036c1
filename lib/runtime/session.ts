/**
 * The one place where ONNX Runtime sessions are created. Every session in the project (engine,
 * perplexity, tests) comes from {@linkcode createSession}, which picks the execution provider by
 * name and never falls back silently to another device. Which provider each node really ran on is
 * read from ORT's own profile ({@linkcode OnnxSession.placement}, with `profilePlacement`): a CUDA
 * session still runs the operators the CUDA EP lacks on the CPU.
 *
 * @module
 */
import * as ort from "onnxruntime-node";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { type Device, DEVICE_EXECUTION_PROVIDER, DEVICES, isDevice } from "../dtypes.ts";
import { ExecutionProviderUnavailableError } from "./errors.ts";
import { type Placement, readPlacementProfile } from "./placement.ts";
import { installFloat16Fix } from "./float16.ts";
import { type SessionTuning, tunedSessionOptions } from "./session_options.ts";

installFloat16Fix();

/** Graph optimisation levels, as ONNX Runtime names them. */
export const GRAPH_OPTIMIZATION_LEVELS = ["disabled", "basic", "extended", "all"] as const;

/** One of {@linkcode GRAPH_OPTIMIZATION_LEVELS}. */
export type GraphOptimizationLevel = typeof GRAPH_OPTIMIZATION_LEVELS[number];

/** Where an output tensor is placed. */
export type OutputLocation = "cpu" | "gpu-buffer";

/** Options of {@linkcode createSession}. */
export interface SessionOptions {
  /** Device whose execution provider runs the graph. @default "cpu" */
  device?: Device;
  /** GPU ordinal for `cuda` / `webgpu`. @default 0 */
  deviceId?: number;
  /** Graph optimisation level. @default "all" */
  graphOptimizationLevel?: GraphOptimizationLevel;
  /** Threads inside one operator (0 = ONNX Runtime's default: one per physical core). @default 0 */
  intraOpNumThreads?: number;
  /** Threads across operators (used only in parallel execution mode). @default 0 */
  interOpNumThreads?: number;
  /**
   * Where outputs live: one location for all, or one per output name. `"gpu-buffer"` keeps
   * `present.*` KV tensors on the GPU with `webgpu` so they can be fed back without a round trip
   * through host memory (`{ logits: "cpu", "present.0.key": "gpu-buffer", … }`). @default "cpu"
   */
  preferredOutputLocation?: OutputLocation | Readonly<Record<string, OutputLocation>>;
  /** CPU memory arena: faster repeated runs, higher RSS. @default true */
  enableCpuMemArena?: boolean;
  /** Memory-pattern planning; off suits dynamic shapes (growing KV cache). @default false */
  enableMemPattern?: boolean;
  /** ORT log severity, 0 (verbose) … 4 (fatal). @default 3 */
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  /** Extra ORT session config entries (`session.*` keys). */
  extra?: Record<string, string>;
  /**
   * Profile the session from its creation until {@linkcode OnnxSession.placement} is called, so
   * the placement of every node that ran can be read. Run it at least once first. @default false
   */
  profilePlacement?: boolean;
  /** Write the graph as optimised for this session to this path (to count fused ops). */
  optimizedModelFilePath?: string;
  /**
   * Threading: `decode` (cpu: threads = physical cores, spinning, sequential; see
   * session_options.ts) or `ort-default` (only what is set here). @default "decode"
   */
  tuning?: SessionTuning;
}

/** A created session and what it really runs on. */
export interface OnnxSession {
  /** The ONNX Runtime session. */
  session: ort.InferenceSession;
  /** Absolute path of the model file. */
  modelPath: string;
  /** The device asked for. */
  device: Device;
  /**
   * The execution provider asked for (e.g. `CPUExecutionProvider`); creation fails rather than
   * falling back to another device, but single nodes may still run elsewhere: see `placement()`.
   */
  executionProvider: string;
  /** External-data files found next to the model (`model.onnx_data`, …). */
  externalDataFiles: string[];
  /** Wall time of session creation in milliseconds. */
  createMs: number;
  /** Input names in graph order. */
  inputNames: readonly string[];
  /** Output names in graph order. */
  outputNames: readonly string[];
  /**
   * Ends the profiling of a session created with `profilePlacement` and reads where its nodes ran
   * (the same result on later calls). Call it after at least one run.
   *
   * @returns The placement of the nodes that ran.
   * @throws {Error} when the session was created without `profilePlacement`; `SyntaxError` when
   * nothing ran while it was profiled.
   */
  placement(): Promise<Placement>;
}

/**
 * Directory that holds onnxruntime-node's native libraries (binding and EP plug-ins).
 *
 * @returns An absolute path.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ortBinaryDir } from "./session.ts";
 * assert(ortBinaryDir().includes("onnxruntime-node"));
 * ```
 */
export function ortBinaryDir(): string {
  const entry = createRequire(import.meta.url).resolve("onnxruntime-node");
  return join(dirname(entry), "..", "bin", "napi-v6", Deno.build.os, arch());
}

function arch(): string {
  return Deno.build.arch === "x86_64" ? "x64" : "arm64";
}

/**
 * Why a device cannot run here, or `null` when nothing rules it out before trying. `cpu` is
 * always available; `cuda` needs the CUDA EP libraries next to the binding; `webgpu` is bundled
 * and can only be known by creating a session (it needs a GPU adapter).
 *
 * @param device The device to check.
 * @returns `null`, or a sentence saying what is missing and how to install it.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deviceUnavailableReason } from "./session.ts";
 * assert(deviceUnavailableReason("cpu") === null);
 * ```
 */
export function deviceUnavailableReason(device: Device): string | null {
  switch (device) {
    case "cpu":
    case "webgpu":
      return null;
    case "cuda": {
      const lib = join(ortBinaryDir(), "libonnxruntime_providers_cuda.so");
      if (Deno.build.os === "linux" && exists(lib)) return null;
      return `libonnxruntime_providers_cuda.so is not in ${ortBinaryDir()}. onnxruntime-node ` +
        `fetches it at install time (CUDA 12 + cuDNN 9, network needed): run ` +
        `'ONNXRUNTIME_NODE_INSTALL=cuda12 deno install --allow-scripts=npm:onnxruntime-node@1.30.0' ` +
        `(with npm: 'npm install onnxruntime-node@1.30.0 --onnxruntime-node-install=cuda12'), or ` +
        `use Dockerfile.gpu ('make build')`;
    }
    default: {
      const never: never = device;
      throw new TypeError(`unhandled device ${never}`);
    }
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates an ONNX Runtime session from a model file.
 *
 * External data (`model.onnx_data`) is resolved by ONNX Runtime next to the model file, which is
 * why sessions are always created from a path, never from bytes.
 *
 * @param modelPath Path of an `.onnx` file.
 * @param options Device, threads, optimisation level, output location.
 * @returns The session and the execution provider that really runs it.
 * @throws {RangeError} on bad options; {@linkcode ExecutionProviderUnavailableError} when the
 * device cannot run here; `Error` naming the file when it is missing or not ONNX.
 * @example
 * ```ts ignore
 * import { createSession } from "./session.ts";
 * const s = await createSession("model/onnx/model.onnx", { device: "cpu" });
 * console.log(s.executionProvider);
 * ```
 */
export async function createSession(
  modelPath: string,
  options: SessionOptions = {},
): Promise<OnnxSession> {
  const device = options.device ?? "cpu";
  if (!isDevice(device)) {
    throw new RangeError(
      `Cannot create session: unknown device '${device}' (known: ${DEVICES.join(", ")})`,
    );
  }
  const level = options.graphOptimizationLevel ?? "all";
  if (!GRAPH_OPTIMIZATION_LEVELS.includes(level)) {
    throw new RangeError(
      `Cannot create session: unknown graphOptimizationLevel '${level}' (known: ${
        GRAPH_OPTIMIZATION_LEVELS.join(", ")
      })`,
    );
  }
  const intra = checkThreads("intraOpNumThreads", options.intraOpNumThreads ?? 0);
  const inter = checkThreads("interOpNumThreads", options.interOpNumThreads ?? 0);
  const deviceId = options.deviceId ?? 0;
  if (!Number.isInteger(deviceId) || deviceId < 0) {
    throw new RangeError(
      `Cannot create session: 'deviceId' must be a non-negative integer, got ${deviceId}`,
    );
  }
  if (device === "webgpu" && deviceId !== 0) {
    throw new RangeError(
      `Cannot create session: 'deviceId' is not supported with webgpu (the WebGPU EP picks its ` +
        `adapter itself), got ${deviceId}`,
    );
  }
  const stat = statFile(modelPath);
  if (stat === null) {
    throw new Error(`Cannot create session: model file '${modelPath}' does not exist`);
  }
  if (!stat.isFile) {
    throw new Error(`Cannot create session: model path '${modelPath}' is not a file`);
  }
  const reason = deviceUnavailableReason(device);
  if (reason !== null) throw new ExecutionProviderUnavailableError(device, reason);

  const { sessionConfig, ...threading } = tunedSessionOptions(device, {
    ...(options.tuning !== undefined ? { tuning: options.tuning } : {}),
    threads: intra,
    interThreads: inter,
  });
  const config = { ...sessionConfig, ...options.extra };
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: [executionProviderConfig(device, deviceId)],
    graphOptimizationLevel: level,
    enableCpuMemArena: options.enableCpuMemArena ?? true,
    enableMemPattern: options.enableMemPattern ?? false,
    logSeverityLevel: options.logSeverityLevel ?? 3,
    ...threading,
    ...(options.preferredOutputLocation !== undefined
      ? { preferredOutputLocation: options.preferredOutputLocation }
      : {}),
    ...(Object.keys(config).length > 0 ? { extra: { session: config } } : {}),
    ...(options.optimizedModelFilePath !== undefined
      ? { optimizedModelFilePath: options.optimizedModelFilePath }
      : {}),
  };
  const profileDir = options.profilePlacement
    ? await Deno.makeTempDir({ prefix: "ort_prof" })
    : null;
  if (profileDir !== null) {
    sessionOptions.enableProfiling = true;
    sessionOptions.profileFilePrefix = join(profileDir, "profile");
    // A model that fails to load makes ORT log "EndProfiling … no model was loaded" (in red)
    // before our one-line error; that failure is thrown and explained anyway.
    if (options.logSeverityLevel === undefined) sessionOptions.logSeverityLevel = 4;
  }
  const started = performance.now();
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(modelPath, sessionOptions);
  } catch (error) {
    if (profileDir !== null) await Deno.remove(profileDir, { recursive: true }).catch(() => {});
    throw explainCreateError(modelPath, device, error);
  }
  const executionProvider = DEVICE_EXECUTION_PROVIDER[device];
  let placed: Promise<Placement> | undefined;
  return {
    session,
    modelPath,
    device,
    executionProvider,
    externalDataFiles: externalDataNextTo(modelPath),
    createMs: performance.now() - started,
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    placement() {
      if (profileDir === null) {
        return Promise.reject(
          new Error(
            `Cannot read the placement of '${modelPath}': created without profilePlacement`,
          ),
        );
      }
      placed ??= readPlacementProfile(session, profileDir, executionProvider);
      return placed;
    },
  };
}

function checkThreads(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(
      `Cannot create session: '${field}' must be a non-negative integer, got ${value}`,
    );
  }
  return value;
}

function statFile(path: string): Deno.FileInfo | null {
  try {
    return Deno.statSync(path);
  } catch {
    return null;
  }
}

function executionProviderConfig(
  device: Device,
  deviceId: number,
): ort.InferenceSession.ExecutionProviderConfig {
  switch (device) {
    case "cpu":
      return "cpu";
    case "cuda":
      return { name: "cuda", deviceId };
    case "webgpu":
      // The WebGPU EP rejects a deviceId option ("unrecognized option"): it picks its adapter.
      return "webgpu";
    default: {
      const never: never = device;
      throw new TypeError(`unhandled device ${never}`);
    }
  }
}

/**
 * External-data files next to a model: `model.onnx_data`, `model.onnx_data_1`, … (Hub layout).
 *
 * @param modelPath Path of an `.onnx` file.
 * @returns Absolute or relative paths as `modelPath` was given, sorted.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { externalDataNextTo } from "./session.ts";
 * assert(Array.isArray(externalDataNextTo("/nonexistent/model.onnx")));
 * ```
 */
export function externalDataNextTo(modelPath: string): string[] {
  const dir = dirname(modelPath);
  const prefix = `${basename(modelPath)}_data`;
  const out: string[] = [];
  try {
    for (const entry of Deno.readDirSync(dir)) {
      if (entry.isFile && entry.name.startsWith(prefix)) out.push(join(dir, entry.name));
    }
  } catch {
    return [];
  }
  return out.sort();
}

function explainCreateError(modelPath: string, device: Device, error: unknown): Error {
  const message = firstLine(error instanceof Error ? error.message : String(error));
  if (/protobuf parsing failed|ModelProto|Load model .* failed/i.test(message)) {
    return new Error(
      `Cannot create session: '${modelPath}' is not a readable ONNX model (${message})`,
    );
  }
  if (/external data|onnx_data|GetExtDataFromTensorProto|ExternalData/i.test(message)) {
    return new Error(
      `Cannot create session: external data of '${modelPath}' is missing or unreadable ` +
        `(${message})`,
    );
  }
  if (/adapter|WebGpu|Failed to load shared library|providers_/i.test(message)) {
    return new ExecutionProviderUnavailableError(device, message);
  }
  return new Error(`Cannot create session from '${modelPath}' on ${device}: ${message}`);
}

function firstLine(text: string): string {
  const line = text.split("\n").find((l) => l.trim() !== "") ?? text;
  return line.replace(/^\/onnxruntime_src\/\S+\s+/, "").trim();
}

/**
 * The OpenAI-compatible model list: `GET /v1/models` and `GET /v1/models/{model}`. Served models
 * are the catalogue's, without entries named by a local path (the model cache's own directories,
 * such as the conversions of vendored checkpoints, are internal): those are neither listed nor
 * accepted as model names.
 *
 * @module
 */
import { isAbsolute } from "node:path";
import { HttpError, json } from "./http.ts";
import type { ModelInfo } from "./models.ts";

/**
 * The models the OpenAI routes serve: the catalogue without entries named by a local path
 * (directories of the model cache are internal).
 *
 * @param models The catalogue.
 * @returns The served models.
 */
export function servedModels(models: readonly ModelInfo[]): ModelInfo[] {
  return models.filter((m) => !isAbsolute(m.id));
}

function modelEntries(models: readonly ModelInfo[]) {
  const created = Math.floor(Date.now() / 1000);
  return servedModels(models).flatMap((m) =>
    [m.id, ...m.dtypes.map((d) => `${m.id}:${d}`)].map((id) => ({
      id,
      object: "model",
      created,
      owned_by: "turbo-inference",
      root: m.id,
      max_model_len: m.context_length,
    }))
  );
}

/**
 * `GET /v1/models`: every served model and dtype, in OpenAI's list format (`max_model_len`, as
 * vLLM lists it: the longest prompt + completion served).
 *
 * @param models The catalogue.
 * @returns The response.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listOpenAiModels } from "./openai_models.ts";
 * import { listModels } from "./models.ts";
 * const list = await listOpenAiModels(listModels({ modelCache: Deno.makeTempDirSync() })).json();
 * assert.equal(list.object, "list");
 * assert(list.data.some((m: { id: string }) => m.id === "preset:tiny:q4"));
 * assert(list.data.every((m: { id: string }) => !m.id.startsWith("/")));
 * ```
 */
export function listOpenAiModels(models: readonly ModelInfo[]): Response {
  return json({ object: "list", data: modelEntries(models) });
}

/**
 * `GET /v1/models/{model}`: one model (or model:dtype) in OpenAI's format.
 *
 * @param id The model id (a `/` in it may be sent as is or as `%2F`).
 * @param models The catalogue.
 * @returns The response.
 * @throws {HttpError} 404 `model_not_found`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getOpenAiModel } from "./openai_models.ts";
 * import { listModels } from "./models.ts";
 * const models = listModels({ modelCache: Deno.makeTempDirSync() });
 * assert.equal((await getOpenAiModel("preset:tiny:q4", models).json()).id, "preset:tiny:q4");
 * assert.throws(() => getOpenAiModel("gpt-4", models), { status: 404 });
 * ```
 */
export function getOpenAiModel(id: string, models: readonly ModelInfo[]): Response {
  const entry = modelEntries(models).find((m) => m.id === id);
  if (!entry) {
    throw new HttpError(
      404,
      `The model '${id}' does not exist (GET /v1/models lists the models)`,
      "model",
      "model_not_found",
    );
  }
  return json(entry);
}

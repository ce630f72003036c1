/**
 * HTTP plumbing of the service: one error type whose JSON names the offending field (OpenAI's
 * error shape, so OpenAI clients read it too), JSON responses, and a JSON body reader with a
 * size limit.
 *
 * @module
 */

/** Largest request body accepted, bytes. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * An error answered as `{"error": {"message", "type", "param", "code"}}` with an HTTP status.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HttpError } from "./http.ts";
 * const e = new HttpError(400, "'runs' must be an integer >= 1, got 0", "runs");
 * const body = await e.response().json();
 * assert.equal(body.error.param, "runs");
 * assert.equal(e.response().status, 400);
 * ```
 */
export class HttpError extends Error {
  /** HTTP status. */
  readonly status: number;
  /** The request field at fault, or `null`. */
  readonly param: string | null;
  /** A machine-readable code (`model_not_found`, …), or `null`. */
  readonly code: string | null;

  /**
   * @param status HTTP status.
   * @param message One line naming the field and the value.
   * @param param The field at fault.
   * @param code A machine-readable code.
   */
  constructor(status: number, message: string, param: string | null = null, code?: string) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.param = param;
    this.code = code ?? null;
  }

  /** The JSON response. */
  response(): Response {
    const type = this.status === 401
      ? "authentication_error"
      : this.status === 404
      ? "not_found_error"
      : this.status >= 500
      ? "server_error"
      : "invalid_request_error";
    return json({ error: { message: this.message, type, param: this.param, code: this.code } }, {
      status: this.status,
    });
  }
}

/**
 * A JSON response.
 *
 * @param body Any JSON value.
 * @param init Status and headers.
 * @returns The response (`application/json`).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { json } from "./http.ts";
 * assert.equal(json({ a: 1 }, { status: 202 }).status, 202);
 * ```
 */
export function json(body: unknown, init: ResponseInit = {}): Response {
  const headers = new Headers(init.headers);
  headers.set("content-type", "application/json; charset=utf-8");
  return new Response(JSON.stringify(body), { ...init, headers });
}

/**
 * Reads a JSON object body of at most `limit` bytes.
 *
 * @param request The request.
 * @param limit Byte limit. @default MAX_BODY_BYTES
 * @returns The object.
 * @throws {HttpError} 413 (`param: body`) when too large; 400 when not JSON or not an object.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readJsonObject } from "./http.ts";
 * const ok = await readJsonObject(new Request("http://x/", { method: "POST", body: '{"a":1}' }));
 * assert.deepEqual(ok, { a: 1 });
 * await assert.rejects(
 *   readJsonObject(new Request("http://x/", { method: "POST", body: "[1]" })),
 *   /must be a JSON object/,
 * );
 * ```
 */
export async function readJsonObject(
  request: Request,
  limit: number = MAX_BODY_BYTES,
): Promise<Record<string, unknown>> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > limit) throw tooLarge(limit, declared);
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    for await (const chunk of request.body) {
      size += chunk.length;
      if (size > limit) throw tooLarge(limit, size);
      chunks.push(chunk);
    }
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new HttpError(400, `the request body is not valid JSON: ${reason}`, "body");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new HttpError(400, "the request body must be a JSON object", "body");
  }
  return value as Record<string, unknown>;
}

function tooLarge(limit: number, size: number): HttpError {
  return new HttpError(
    413,
    `the request body is larger than ${limit} bytes (got at least ${size})`,
    "body",
    "body_too_large",
  );
}

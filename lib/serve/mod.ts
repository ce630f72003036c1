/**
 * The benchmark service: REST API, job queue with worker processes, SSE, OpenAI-compatible
 * routes, dashboard assets.
 *
 * @module
 */
export * from "./config.ts";
export * from "./http.ts";
export * from "./models.ts";
export * from "./validate.ts";
export * from "./worker.ts";
export * from "./jobs.ts";
export * from "./model_pool.ts";
export * from "./openai.ts";
export * from "./openai_models.ts";
export * from "./openai_logprobs.ts";
export * from "./chat_template.ts";
export { type Generation, servedModel, validateGeneration } from "./openai_request.ts";
export * from "./openapi.ts";
export * from "./assets.ts";
export * from "./routes.ts";
export * from "./job_view.ts";
export * from "./events.ts";
export * from "./query.ts";
export * from "./server.ts";

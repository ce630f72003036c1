/**
 * Notebook tooling: Deno kernel registration, headless execution, a local Jupyter server.
 *
 * @module
 */
export * from "./execute.ts";
export * from "./kernel.ts";
export * from "./server.ts";
export * from "./session.ts";

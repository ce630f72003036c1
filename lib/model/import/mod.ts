/**
 * Hugging Face checkpoint import: `config.json` + safetensors (F32, F16, BF16, sharded) of
 * Llama, Mistral and Qwen2 models → the builder's model directory layout.
 *
 * @module
 */
export * from "./checkpoint_config.ts";
export * from "./import_checkpoint.ts";

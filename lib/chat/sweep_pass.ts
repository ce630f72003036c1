/**
 * The sweep's optional conversation pass (the spec's `conversations` block, `sweep_spec.ts`): one
 * conversation-benchmark job per model × dtype × device into
 * `<out>/benchmarks/conversations/<model>_<dtype>_<device>/`. A failing job is logged with its
 * reason and the rest goes on. The pass is rerun whole on every sweep (no per-cell resume).
 *
 * @module
 */
import { join } from "node:path";
import type { Device } from "../dtypes.ts";
import type { PrefixCacheMode } from "./bench.ts";
import { runChatJob } from "./job.ts";
import type { ConversationsSpec } from "./sweep_spec.ts";

const MODES: Readonly<Record<ConversationsSpec["prefix_cache"], PrefixCacheMode[]>> = Object
  .freeze({ on: ["on"], off: ["off"], both: ["on", "off"] });

/**
 * Runs the conversation pass of a sweep.
 *
 * @param spec The validated block.
 * @param options The sweep's models, devices, threads, output root and log.
 * @returns The files written and the jobs that failed (with their reasons).
 */
export async function runConversationPass(
  spec: ConversationsSpec,
  options: {
    models: readonly string[];
    devices: readonly Device[];
    threads: number;
    outDir: string;
    log: (line: string) => void;
  },
): Promise<{ files: string[]; failed: string[] }> {
  const files: string[] = [];
  const failed: string[] = [];
  for (const model of options.models) {
    for (const dtype of spec.dtypes) {
      for (const device of options.devices) {
        const name = `${model}_${dtype}_${device}`.replace(/[^\w.-]+/g, "-");
        const dir = join(options.outDir, "benchmarks", "conversations", name);
        options.log(`conversations: ${model} ${dtype} on ${device}`);
        try {
          const out = await runChatJob(
            {
              model,
              dtype,
              device,
              workload: spec.workload,
              contextSize: spec.context_size,
              includeTags: spec.include_tags,
              maxConversations: spec.max_conversations,
              modes: MODES[spec.prefix_cache],
              capacityTokens: null,
              template: spec.template,
              warmup: spec.warmup,
              threads: options.threads,
            },
            dir,
            (line) => options.log(`  ${line}`),
          );
          files.push(...out.files);
        } catch (error) {
          const reason = (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
          options.log(`  conversations of ${model} ${dtype} on ${device} failed: ${reason}`);
          failed.push(`${name}: ${reason}`);
        }
      }
    }
  }
  return { files, failed };
}

/**
 * Stand-ins for llama.cpp's programs in tests (no test needs llama.cpp): shell scripts that log
 * their arguments and answer as the real ones do. Private to lib/llamacpp tests.
 *
 * @module
 */
import { join } from "node:path";

/** A folder with fake `llama-batched-bench` and `llama-quantize`, and where they log. */
export interface FakeTools {
  /** The folder (pass as `--llama-cpp`). */
  dir: string;
  /** Each line: the arguments of one batched-bench run. */
  benchLog: string;
  /** Each line: the arguments of one quantize run. */
  quantizeLog: string;
}

/**
 * Writes the fake programs. The bench prints log lines and one JSON result whose `t_tg` is
 * `tgSeconds` (and exits `benchExit`; reports `extraTg` more decode steps than asked, as a build
 * that ignored a flag would); the quantizer copies its input to its output, or fails when
 * `quantizeFails`.
 *
 * @param options Answers.
 * @returns The folder and its logs.
 */
export async function fakeLlamaCpp(
  options: { tgSeconds?: number; benchExit?: number; quantizeFails?: boolean; extraTg?: number } =
    {},
): Promise<FakeTools> {
  const dir = await Deno.makeTempDir({ prefix: "fake-llamacpp-" });
  const benchLog = join(dir, "bench.log");
  const quantizeLog = join(dir, "quantize.log");
  const tg = options.tgSeconds ?? 0.031;
  const bench = `#!/bin/sh
if [ "$1" = "--version" ]; then echo "version: 42 (fake)" >&2; exit 0; fi
echo "$@" >> '${benchLog}'
echo "llama_model_loader: loaded meta data" >&2
npp=0; ntg=0; t=0
while [ $# -gt 0 ]; do
  case "$1" in -npp) npp=$2; shift;; -ntg) ntg=$(($2 + ${
    options.extraTg ?? 0
  })); shift;; -t) t=$2; shift;; esac
  shift
done
echo "{\\"n_kv_max\\": 2048, \\"n_threads\\": $t, \\"pp\\": $npp, \\"tg\\": $ntg, \\"pl\\": 1, \\"n_kv\\": 0, \\"t_pp\\": 0.01, \\"speed_pp\\": 1000, \\"t_tg\\": ${tg}, \\"speed_tg\\": 1000, \\"t\\": 0.1, \\"speed\\": 100}"
exit ${options.benchExit ?? 0}
`;
  const quantize = `#!/bin/sh
echo "$@" >> '${quantizeLog}'
${
    options.quantizeFails
      ? 'echo "llama_model_quantize: failed to quantize" >&2; exit 1'
      : 'cp "$1" "$2"'
  }
`;
  for (const [name, text] of [["llama-batched-bench", bench], ["llama-quantize", quantize]]) {
    await Deno.writeTextFile(join(dir, name!), text!);
    await Deno.chmod(join(dir, name!), 0o755);
  }
  return { dir, benchLog, quantizeLog };
}

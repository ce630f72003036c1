// The cluster manifests in deploy/ checked without a cluster: their YAML structure (kinds, an
// Indexed Job whose completions, parallelism and TURBO_SHARDS agree, one GPU per pod, every
// volume mount backed by a volume, a shared claim for the outputs), and their commands run with
// a stub `deno` and the variables each scheduler sets, so the shard directory and the index the
// sweep reads are the ones the manifest promises.
import { assert, assertEquals } from "../testing/assert.ts";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import YAML from "yaml";
import { resolveShard } from "./shard.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

// deno-lint-ignore no-explicit-any
type Doc = any;

async function docs(path: string): Promise<Doc[]> {
  const text = await Deno.readTextFile(join(ROOT, path));
  const parsed = YAML.parseAllDocuments(text);
  for (const d of parsed) assertEquals(d.errors.map(String), [], `${path} parses`);
  return parsed.map((d) => d.toJS());
}

/** The structural rules every pod template here must follow. */
function checkPodTemplate(job: Doc, where: string): void {
  assertEquals(job.apiVersion, "batch/v1", `${where}: apiVersion`);
  assertEquals(job.kind, "Job", `${where}: kind`);
  assert(typeof job.metadata?.name === "string", `${where}: metadata.name`);
  const pod = job.spec.template.spec;
  assert(["Never", "OnFailure"].includes(pod.restartPolicy), `${where}: a Job's restartPolicy`);
  const volumes = new Set((pod.volumes as Doc[]).map((v) => v.name));
  for (const c of [...(pod.initContainers ?? []), ...pod.containers] as Doc[]) {
    assert(typeof c.name === "string" && typeof c.image === "string", `${where}: container`);
    for (const m of c.volumeMounts ?? []) {
      assert(volumes.has(m.name), `${where}: ${c.name} mounts '${m.name}', which is no volume`);
      assert(String(m.mountPath).startsWith("/"), `${where}: mountPath is absolute`);
    }
  }
}

/** Runs a container's `sh -c` script (or a batch script) with a stub `deno` that logs its args. */
async function runWithStubDeno(
  argv: string[],
  env: Record<string, string>,
): Promise<{ args: string[]; cwd: string }> {
  const dir = await Deno.makeTempDir();
  const log = join(dir, "args");
  const stub = join(dir, "deno");
  await Deno.writeTextFile(
    stub,
    `#!/bin/sh\npwd > "${log}.cwd"\nfor a in "$@"; do printf '%s\\n' "$a"; done > "${log}"\n`,
  );
  await Deno.chmod(stub, 0o755);
  const out = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    env: { PATH: `${dir}:/usr/bin:/bin`, DENO: stub, ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  return {
    args: (await Deno.readTextFile(log)).trimEnd().split("\n"),
    cwd: (await Deno.readTextFile(`${log}.cwd`)).trim(),
  };
}

Deno.test("deploy/k8s/sweep-job.yaml: an Indexed Job, one GPU per pod, N agreeing everywhere, outputs on the shared claim", async () => {
  const all = await docs("deploy/k8s/sweep-job.yaml");
  const pvc = all.find((d) => d.kind === "PersistentVolumeClaim");
  assertEquals(pvc?.apiVersion, "v1");
  assert(pvc.spec.accessModes.includes("ReadWriteMany"), "shards on several nodes write to it");
  const job = all.find((d) => d.kind === "Job");
  checkPodTemplate(job, "sweep-job");
  assertEquals(job.spec.completionMode, "Indexed");
  const pod = job.spec.template.spec;
  const sweep = pod.containers[0];
  const env = Object.fromEntries((sweep.env as Doc[]).map((e) => [e.name, e.value]));
  const n = Number(env.TURBO_SHARDS);
  assertEquals([job.spec.completions, job.spec.parallelism], [n, n], "completions, parallelism");
  assertEquals(sweep.resources.limits["nvidia.com/gpu"], 1);
  const volume = (name: string) => (pod.volumes as Doc[]).find((v) => v.name === name);
  const mountOf = (path: string) =>
    (sweep.volumeMounts as Doc[]).find((m) => path.startsWith(`${m.mountPath}/`));
  assertEquals(volume(mountOf(env.SPEC).name).configMap.name, "turbo-sweep-spec");
  assertEquals(volume(mountOf("/out/x").name).persistentVolumeClaim.claimName, pvc.metadata.name);
  assert(
    (sweep.env as Doc[]).some((e) => e.name === "TURBO_HOST" && e.valueFrom?.fieldRef),
    "rows record the node",
  );

  // The container's command, as the kubelet runs it in pod 2 of N.
  const podEnv = { JOB_COMPLETION_INDEX: "2", SPEC: env.SPEC, TURBO_SHARDS: env.TURBO_SHARDS };
  const { args } = await runWithStubDeno(sweep.args, podEnv);
  assertEquals(args.slice(0, 2), ["task", "sweep"]);
  assertEquals(args[args.indexOf("--config") + 1], env.SPEC);
  assertEquals(args[args.indexOf("--out") + 1], "/out/shard-2");
  assert(!args.includes("--shard"), "the index comes from JOB_COMPLETION_INDEX");
  const shards = args[args.indexOf("--shards") + 1];
  assertEquals(resolveShard({ shards }, podEnv), {
    index: 2,
    count: n,
    source: "JOB_COMPLETION_INDEX",
  });
});

Deno.test("deploy/k8s/merge-job.yaml: merges every shard directory of the same claim and spec, no GPU", async () => {
  const [job] = await docs("deploy/k8s/merge-job.yaml");
  const [sweepJob] = (await docs("deploy/k8s/sweep-job.yaml")).filter((d) => d.kind === "Job");
  checkPodTemplate(job, "merge-job");
  const pod = job.spec.template.spec;
  const merge = pod.containers[0];
  assertEquals(merge.resources?.limits?.["nvidia.com/gpu"], undefined);
  const claim = (p: Doc) =>
    (p.volumes as Doc[]).find((v) => v.persistentVolumeClaim)?.persistentVolumeClaim.claimName;
  assertEquals(claim(pod), claim(sweepJob.spec.template.spec));
  const script = merge.args.join(" ");
  assert(script.includes("deno task merge /out/shard-*"), script);
  assert(script.includes('--config "$SPEC"'), script);
});

Deno.test("deploy/slurm/sweep.sbatch: a GPU job array whose task runs its shard through the SLURM_ARRAY_* variables", async () => {
  const path = join(ROOT, "deploy/slurm/sweep.sbatch");
  const text = await Deno.readTextFile(path);
  assert(text.startsWith("#!/bin/bash\n"));
  const directives = [...text.matchAll(/^#SBATCH\s+(--[a-z-]+)=(\S+)/gm)].map((m) => [m[1], m[2]]);
  const get = (flag: string) => directives.find(([f]) => f === flag)?.[1];
  const array = /^(\d+)-(\d+)$/.exec(get("--array") ?? "");
  assert(array, `--array is a range, got ${get("--array")}`);
  assertEquals(get("--gres"), "gpu:1");
  const n = Number(array[2]) - Number(array[1]) + 1;

  // Task 3 of an array submitted as --array=2-5 (Slurm sets these).
  const submit = await Deno.makeTempDir();
  const env = {
    SLURM_ARRAY_TASK_ID: "5",
    SLURM_ARRAY_TASK_MIN: "2",
    SLURM_ARRAY_TASK_COUNT: String(n),
    SLURM_SUBMIT_DIR: submit,
    SPEC: "sweeps/x.json",
  };
  const { args, cwd } = await runWithStubDeno(["bash", path], env);
  assertEquals(await Deno.realPath(cwd), await Deno.realPath(submit), "runs in the checkout");
  assertEquals(args, ["task", "sweep", "--config", "sweeps/x.json", "--out", "shards/shard-3"]);
  assertEquals(resolveShard({}, env), { index: 3, count: n, source: "SLURM_ARRAY_TASK_ID" });
});

import { assert, assertEquals } from "../testing/assert.ts";
import { parseDockerfile } from "./dockerfile.ts";

const text = await Deno.readTextFile(new URL("../../Dockerfile.gpu", import.meta.url));
const ins = parseDockerfile(text);
const all = (keyword: string) => ins.filter((i) => i.keyword === keyword);
const deno = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));

Deno.test("Dockerfile.gpu starts from a CUDA 12 + cuDNN 9 runtime image (the cuda12 EP's needs)", () => {
  const from = all("FROM");
  assertEquals(from.length, 1);
  assert(/^nvidia\/cuda:12\.\d+\.\d+-cudnn-runtime-/.test(from[0]!.args), from[0]!.args);
});

Deno.test("Dockerfile.gpu runs as a non-root user with tini as PID 1 and exposes 8888", () => {
  const users = all("USER");
  assert(users.length > 0);
  assert(!["root", "0"].includes(users.at(-1)!.args), "the last USER is not root");
  assertEquals(all("EXPOSE").map((i) => i.args), ["8888"]);
  const entry = JSON.parse(all("ENTRYPOINT").at(-1)!.args) as string[];
  assertEquals(entry.slice(0, 2), ["/usr/bin/tini", "--"]);
  assertEquals(all("WORKDIR").at(-1)!.args, "/workspace");
  assert(all("RUN").some((r) => r.args.includes("tini")), "tini is installed");
});

Deno.test("Dockerfile.gpu pins Deno and onnxruntime-node as the project does and fetches the CUDA EP", () => {
  const args = Object.fromEntries(
    all("ARG").map((a) => a.args.split("=") as [string, string]),
  );
  const lines = text.split("\n");
  assert(lines.length > 0);
  const makefile = Deno.readTextFileSync(new URL("../../Makefile", import.meta.url));
  const pinned = makefile.match(/^DENO_VERSION\s*:=\s*(\S+)/m)?.[1];
  assertEquals(args.DENO_VERSION, pinned);
  const ort = (deno.imports["onnxruntime-node"] as string).split("@").pop()!;
  assert(text.includes(`--allow-scripts=npm:onnxruntime-node@${ort}`), "install script allowed");
  assert(all("ENV").some((e) => e.args.includes("ONNXRUNTIME_NODE_INSTALL=cuda12")));
  assert(all("RUN").some((r) => r.args.includes("deno jupyter --install")), "kernel registered");
});

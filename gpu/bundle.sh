#!/usr/bin/env bash
# Builds the GPU check bundle: one folder (default .gpu/) holding everything gpu/check.sh needs
# on a machine with no network and no Node or Deno (docs/gpu.md):
#   deno.xz          the pinned Deno
#   npm.tar.xz       the npm packages the check loads, as Deno's node_modules layout, linux-x64
#                    glibc binaries only (ONNX Runtime); Polars and sharp as import-only stubs
#   src.tar.xz       lib/, deno.json (nodeModulesDir "manual": no install step offline),
#                    deno.lock, sweeps/, gpu/ and the committed CPU perplexity; the trained
#                    default model and the vendored WikiText-2 split only with GPU_BUNDLE_DATA=1
#                    (else check.sh takes them from the checkout the bundle sits in)
#   debs/*.deb       Debian's Vulkan loader and GL dispatch packages, unpacked by the check
#   check.sh, bandwidth.py, manifest.json
# Fails, leaving any previous bundle as it was, when the result is over GPU_BUNDLE_LIMIT_MIB
# (default 60), or over GPU_CARRY_LIMIT_MIB (default 64) with the checkout's tracked files.
# Compressed parts are cached under ~/.cache/turbo-inference/gpu-bundle/ (GPU_BUNDLE_CACHE) keyed
# by their inputs, so a rebuild after a source change, in this clone or another, only repacks
# src.tar.xz.
#
# Usage: gpu/bundle.sh [OUT_DIR]
#   (env: DENO, GPU_BUNDLE_LIMIT_MIB, GPU_CARRY_LIMIT_MIB, GPU_BUNDLE_XZ, GPU_BUNDLE_DATA)
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${1:-.gpu}
LIMIT_MIB=${GPU_BUNDLE_LIMIT_MIB:-60}
XZ_LEVEL=${GPU_BUNDLE_XZ:--9e}
DENO=${DENO:-.tools/node_modules/@deno/linux-x64-glibc/deno}
# Compressed parts, keyed by their inputs, outside the checkout so that every clone on the machine
# (CI's included) reuses them.
CACHE=${GPU_BUNDLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/turbo-inference/gpu-bundle}
DEBS=(libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
# The packages the check's commands import (deno.json "imports" minus the service, browser and
# notebook ones); npm_closure.py adds what they depend on.
NPM_ROOTS=(onnxruntime-node onnxruntime-common nodejs-polars @huggingface/transformers onnx-proto
  yaml)
# Imported but never called by the check: their native libraries (Polars 115 MB, libvips 18 MB)
# would not fit, so gpu/npm_stub.cjs stands in for them (docs/gpu.md).
STUBS=(nodejs-polars sharp)

die() { echo "gpu-bundle: $*" >&2; exit 1; }
[ -x "$DENO" ] || die "no Deno at '$DENO' (run 'make setup')"
[ -d node_modules/.deno ] || die "node_modules/.deno is missing (run 'make setup')"
command -v xz >/dev/null || die "xz is not installed (apt-get install xz-utils)"
deno_version=$("$DENO" --version | head -n1 | cut -d' ' -f2)
mkdir -p "$CACHE"

# xz with the x86 branch filter for ELF-heavy inputs (about 5 % smaller on these binaries).
pack() { xz -c -T1 --x86 --lzma2=preset="${XZ_LEVEL#-}"; }
key() { sha256sum | cut -c1-16; }

# 1. Deno, keyed by its version and the compression level.
deno_xz="$CACHE/deno-$deno_version${XZ_LEVEL}.xz"
if [ ! -f "$deno_xz" ]; then
  echo "gpu-bundle: compressing deno $deno_version (xz $XZ_LEVEL; a few minutes)" >&2
  pack <"$DENO" >"$deno_xz.tmp" && mv "$deno_xz.tmp" "$deno_xz"
fi

# 2. npm packages, keyed by the lockfile, the package list, the filters and the level.
npm_list=$(python3 gpu/npm_closure.py node_modules "${NPM_ROOTS[@]}")
# Never loaded by the check: other platforms' ONNX Runtime builds, transformers.js's browser
# bundles and sources, type declarations, source maps and read-mes, the stubbed packages' code
# and native libraries.
NPM_EXCLUDES=(
  --exclude='*/nodejs-polars/bin' --exclude='nodejs-polars-linux-*' --exclude='*/sharp/dist'
  --exclude='*/sharp/lib' --exclude='*/sharp/src' --exclude='@img+sharp-*' 
  --exclude='*/onnxruntime-node/bin/napi-v6/darwin' --exclude='*/onnxruntime-node/bin/napi-v6/win32'
  --exclude='*/onnxruntime-node/bin/napi-v6/linux/arm64'
  --exclude='*/@huggingface/transformers/src' --exclude='*/@huggingface/transformers/types'
  --exclude='*/@huggingface/transformers/dist/*.web.*'
  --exclude='*/@huggingface/transformers/dist/transformers.js'
  --exclude='*/@huggingface/transformers/dist/transformers.min.js'
  --exclude='*/@huggingface/transformers/dist/ort-wasm*'
  --exclude='*.d.ts' --exclude='*.d.mts' --exclude='*.d.cts' --exclude='*.map' --exclude='*.md'
  --exclude='*.ts.map'
)
npm_key=$({ cat deno.lock gpu/npm_stub.cjs; echo "$npm_list"; echo "${NPM_EXCLUDES[*]}$XZ_LEVEL"; } | key)
npm_xz="$CACHE/npm-$npm_key.tar.xz"
if [ ! -f "$npm_xz" ]; then
  echo "gpu-bundle: packing $(wc -l <<<"$npm_list") npm entries (xz $XZ_LEVEL; a few minutes)" >&2
  npm_stage=$(mktemp -d "${TMPDIR:-/tmp}/gpu-bundle-npm.XXXXXX")
  tar -c "${NPM_EXCLUDES[@]}" -T - <<<"$npm_list" | tar -x -C "$npm_stage"
  for name in "${STUBS[@]}"; do
    pkg=$(cd "$npm_stage/node_modules/.deno" && ls -d "$name"@*/node_modules/"$name" | head -n1)
    [ -n "$pkg" ] || die "no $name in node_modules/.deno to stub"
    pkg="$npm_stage/node_modules/.deno/$pkg"
    for entry in $(python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); e=p.get("exports",{}).get(".",{}); print(p.get("main","index.js")); [print(v.get("default") if isinstance(v,dict) else v) for v in (e.values() if isinstance(e,dict) else [])]' "$pkg/package.json" | sort -u); do
      mkdir -p "$(dirname "$pkg/$entry")"
      case "$entry" in
        *.mjs) printf 'import { createRequire } from "node:module";\nexport default createRequire(import.meta.url)("./stub.cjs");\n' >"$pkg/$entry"
          sed "s/@@NAME@@/$name/" gpu/npm_stub.cjs >"$(dirname "$pkg/$entry")/stub.cjs" ;;
        *) sed "s/@@NAME@@/$name/" gpu/npm_stub.cjs >"$pkg/$entry" ;;
      esac
    done
  done
  (cd "$npm_stage" && tar -c --sort=name --owner=0 --group=0 --mtime='@0' node_modules) | pack >"$npm_xz.tmp"
  rm -rf "$npm_stage"
  mv "$npm_xz.tmp" "$npm_xz"
fi

# 3. Debian packages (Debian's archive is reachable from every machine of the project).
debs_dir="$CACHE/debs"
mkdir -p "$debs_dir"
missing=()
for p in "${DEBS[@]}"; do compgen -G "$debs_dir/${p}_*.deb" >/dev/null || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "gpu-bundle: apt-get download ${missing[*]}" >&2
  (cd "$debs_dir" && apt-get download "${missing[@]}" >/dev/null 2>&1) || {
    apt-get update -qq >/dev/null 2>&1 || true
    (cd "$debs_dir" && apt-get download "${missing[@]}" >/dev/null) ||
      die "apt-get download ${missing[*]} failed"
  }
fi

# 4. Sources, always repacked (small). deno.json switches to the node_modules it is given.
stage=$(mktemp -d "${TMPDIR:-/tmp}/gpu-bundle-src.XXXXXX")
tmp_out=""
trap 'rm -rf "$stage" ${tmp_out:+"$tmp_out"}' EXIT
# The trained model and the WikiText-2 split are tracked files that travel with the checkout the
# bundle sits in; check.sh reads them from there unless GPU_BUNDLE_DATA=1 packs them too.
data_paths=()
[ "${GPU_BUNDLE_DATA:-0}" = 1 ] && data_paths=(data/wikitext-2-raw-v1 models/wikitext-llama)
git ls-files -z -c -o --exclude-standard -- lib deno.json deno.lock sweeps gpu "${data_paths[@]}" \
  benchmarks/perplexity.csv | xargs -0 -I{} sh -c 'test -e "{}" && echo "{}"' |
  tar -c -T - | tar -x -C "$stage"
grep -q '"nodeModulesDir": "auto"' "$stage/deno.json" || die "deno.json has no \"nodeModulesDir\": \"auto\" to switch"
sed -i 's/"nodeModulesDir": "auto"/"nodeModulesDir": "manual"/' "$stage/deno.json"
git rev-parse HEAD >"$stage/gpu/COMMIT" 2>/dev/null || echo unknown >"$stage/gpu/COMMIT"

tmp_out=$(mktemp -d "$(dirname "$OUT")/.gpu-bundle.XXXXXX")
(cd "$stage" && tar -c --sort=name --owner=0 --group=0 --mtime='@0' .) | xz -c -T1 -9 >"$tmp_out/src.tar.xz"
cp "$deno_xz" "$tmp_out/deno.xz"
cp "$npm_xz" "$tmp_out/npm.tar.xz"
mkdir "$tmp_out/debs"
for p in "${DEBS[@]}"; do cp "$(ls "$debs_dir/${p}"_*.deb | sort -V | tail -n1)" "$tmp_out/debs/"; done
cp gpu/check.sh gpu/bandwidth.py "$tmp_out/"

# 5. Manifest and the size limit.
total=$(du -cb "$tmp_out"/* "$tmp_out"/debs/* | tail -n1 | cut -f1)
limit=$((LIMIT_MIB * 1024 * 1024))
tracked=$(git ls-files -z | du -cb --files0-from=- 2>/dev/null | tail -n1 | cut -f1)
{
  echo "{"
  echo "  \"deno\": \"$deno_version\","
  echo "  \"git_commit\": \"$(cat "$stage/gpu/COMMIT")\","
  echo "  \"xz\": \"$XZ_LEVEL\","
  echo "  \"bytes\": $total,"
  echo "  \"limit_bytes\": $limit,"
  echo "  \"tracked_bytes\": $tracked,"
  echo "  \"files\": {"
  (cd "$tmp_out" && find . -type f ! -name manifest.json | sort | sed 's|^\./||' |
    while read -r f; do printf '    "%s": {"bytes": %s, "sha256": "%s"},\n' "$f" \
      "$(stat -c %s "$f")" "$(sha256sum "$f" | cut -d' ' -f1)"; done) | sed '$ s/,$//'
  echo "  }"
  echo "}"
} >"$tmp_out/manifest.json"
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
if [ "$total" -gt "$limit" ]; then
  die "bundle is $(mib "$total"), over the $LIMIT_MIB MiB limit; nothing written"
fi
# A device call carries the checkout's tracked files and the bundle together.
carry=$(( ${GPU_CARRY_LIMIT_MIB:-64} * 1024 * 1024 ))
if [ $((total + tracked)) -gt "$carry" ]; then
  die "bundle $(mib "$total") + tracked files $(mib "$tracked") = $(mib $((total + tracked))), over the ${GPU_CARRY_LIMIT_MIB:-64} MiB a device call carries; nothing written"
fi
rm -rf "$OUT"
mv "$tmp_out" "$OUT"
tmp_out=""
echo "gpu-bundle: $OUT is $(mib "$total") (limit $LIMIT_MIB MiB); tracked files $(mib "$tracked"); together $(mib $((total + tracked))) of the 64 MiB a device call carries"
(cd "$OUT" && du -b deno.xz npm.tar.xz src.tar.xz debs check.sh bandwidth.py manifest.json) |
  awk '{ printf "  %-14s %8.1f MiB\n", $2, $1 / 1048576 }'

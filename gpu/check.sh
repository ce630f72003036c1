#!/usr/bin/env bash
# The GPU check, run from the bundle `make gpu-bundle` writes (docs/gpu.md):
#   bash .gpu/check.sh OUT_DIR          on a GPU machine: WebGPU, preset:llama-3.2-1b
#   bash .gpu/check.sh OUT_DIR --cpu    the dry run: the same steps on the CPU, preset:tiny
# Unpacks Deno, the npm packages and the sources into a scratch folder (GPU_CHECK_WORK, default
# a new folder in TMPDIR or the checkout, whichever has more room; removed at the end), unpacks Debian's Vulkan loader packages there and puts them on
# LD_LIBRARY_PATH, points the Vulkan loader at the NVIDIA driver's ICD when the machine has the
# driver's library but no ICD file, then runs lib/cli/gpu_check.ts. Writes at most 8 files into
# OUT_DIR, check.log among them (capped at 15 MiB). Needs bash, tar and python3 (xz and dpkg-deb
# when present, else Python's lzma and a small ar reader). GPU_CHECK_DEADLINE_S (default 420) bounds the whole check.
set -uo pipefail
started_ms=$(($(date +%s%N) / 1000000))
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { echo "usage: check.sh OUT_DIR [--cpu]" >&2; exit 2; }
mkdir -p "$1" || { echo "check.sh: cannot create output folder '$1'" >&2; exit 2; }
out=$(cd "$1" && pwd)
shift
mode_flag=()
for a in "$@"; do
  case "$a" in
    --cpu) mode_flag=(--cpu) ;;
    *) echo "check.sh: unknown argument '$a' (expected --cpu)" >&2; exit 2 ;;
  esac
done
log="$out/check.log"
: >"$log"
exec > >(tee -a "$log") 2>&1
say() { echo "check.sh: $*"; }

# Scratch (the built llama-3.2-1b variants take about 11 GB): the temp folder or the checkout,
# whichever has more room.
repo=$(cd "$here/.." && pwd)
avail() { df -P -B1 "$1" 2>/dev/null | awk 'NR == 2 { print $4 + 0 }'; }
scratch_root=${TMPDIR:-/tmp}
[ "$(avail "$repo")" -gt "$(avail "$scratch_root")" ] 2>/dev/null && scratch_root=$repo
work=${GPU_CHECK_WORK:-$(mktemp -d "$scratch_root/.gpu-check-work.XXXXXX")}
mkdir -p "$work/bin" "$work/app" "$work/sys"
say "bundle $here, scratch $work, output $out"
t0=$(date +%s)
# xz, or Python's lzma module where the machine has no xz.
unxz() {
  if command -v xz >/dev/null; then xz -dc "$1"; else
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1"
  fi
}
unxz "$here/deno.xz" >"$work/bin/deno" && chmod +x "$work/bin/deno" || { say "cannot unpack deno.xz"; exit 1; }
unxz "$here/npm.tar.xz" | tar -x -C "$work/app" || { say "cannot unpack npm.tar.xz"; exit 1; }
unxz "$here/src.tar.xz" | tar -x -C "$work/app" || { say "cannot unpack src.tar.xz"; exit 1; }
for deb in "$here"/debs/*.deb; do
  if command -v dpkg-deb >/dev/null; then
    dpkg-deb -x "$deb" "$work/sys" || say "dpkg-deb -x $(basename "$deb") failed"
  else
    python3 - "$deb" "$work/sys" <<'PY' || say "cannot unpack $(basename "$deb")"
import io, sys, tarfile
data = open(sys.argv[1], "rb").read()
pos = 8  # after "!<arch>\n": 60-byte member headers, bodies padded to even sizes
while pos < len(data):
    name = data[pos:pos + 16].decode().strip().rstrip("/")
    size = int(data[pos + 48:pos + 58].decode().strip())
    body = data[pos + 60:pos + 60 + size]
    if name.startswith("data.tar"):
        tarfile.open(fileobj=io.BytesIO(body)).extractall(sys.argv[2])
    pos += 60 + size + (size % 2)
PY
  fi
done
# The trained model and the WikiText-2 split: packed in the bundle (GPU_BUNDLE_DATA=1), else
# the tracked copies in the checkout the bundle sits in.
for d in models/wikitext-llama data/wikitext-2-raw-v1; do
  [ -e "$work/app/$d" ] && continue
  if [ -d "$repo/$d" ]; then
    mkdir -p "$work/app/$(dirname "$d")" && ln -s "$repo/$d" "$work/app/$d"
  else
    say "neither the bundle nor $repo has $d: the perplexity steps will fail"
  fi
done
say "unpacked in $(($(date +%s) - t0)) s"
libdir="$work/sys/usr/lib/x86_64-linux-gnu"
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# Vulkan: the loader (libvulkan.so.1, unpacked above) finds drivers through ICD files. The NVIDIA
# container runtime mounts the driver's libGLX_nvidia.so.0 and nvidia_icd.json only with the
# "graphics" capability; when the library is there but no ICD file is, write one.
vulkan="loader $(ls "$libdir"/libvulkan.so.1* 2>/dev/null | head -n1 | xargs -r basename)"
icd=""
for d in /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d; do
  for f in "$d"/nvidia*.json; do [ -f "$f" ] && icd=$f && break 2; done
done
if [ -n "${VK_ICD_FILENAMES:-}${VK_DRIVER_FILES:-}" ]; then
  vulkan+="; ICD from the environment: ${VK_DRIVER_FILES:-$VK_ICD_FILENAMES}"
elif [ -n "$icd" ]; then
  vulkan+="; ICD $icd"
else
  glx=$( (ldconfig -p 2>/dev/null | awk '/libGLX_nvidia\.so\.0/ { print $NF; exit }'; \
    ls /usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0 /usr/lib64/libGLX_nvidia.so.0 \
      /usr/local/nvidia/lib64/libGLX_nvidia.so.0 2>/dev/null) | head -n1)
  if [ -n "$glx" ]; then
    mkdir -p "$work/icd"
    printf '{"file_format_version": "1.0.0", "ICD": {"library_path": "%s", "api_version": "1.3.0"}}\n' \
      "$glx" >"$work/icd/nvidia_icd.json"
    export VK_ICD_FILENAMES="$work/icd/nvidia_icd.json" VK_DRIVER_FILES="$work/icd/nvidia_icd.json"
    vulkan+="; no ICD file, wrote one for $glx"
  else
    vulkan+="; no NVIDIA ICD file and no libGLX_nvidia.so.0 (driver without graphics libraries)"
  fi
fi
say "vulkan: $vulkan"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader

cd "$work/app" || exit 1
# The vendored WikiText-2 split on every machine (a developer's WIKITEXT_PATH is not on the GPU's).
unset WIKITEXT_PATH
export GPU_CHECK_VULKAN="$vulkan" DENO_DIR="$work/deno-dir" DENO_NO_UPDATE_CHECK=1 \
  HF_HUB_OFFLINE=1 TURBO_HISTORY_DB=off NO_COLOR=1
"$work/bin/deno" run -A lib/cli/gpu_check.ts --out "$out" --bundle "$here" \
  --deadline-s "${GPU_CHECK_DEADLINE_S:-420}" --started-at "$started_ms" "${mode_flag[@]}"
status=$?
say "exit $status after $(($(($(date +%s%N) / 1000000)) / 1000 - started_ms / 1000)) s"
[ -n "${GPU_CHECK_WORK:-}" ] || rm -rf "$work"
# Cap the log under the 16 MiB a returned file may have (keep its end).
if [ "$(stat -c %s "$log")" -gt $((15 * 1024 * 1024)) ]; then
  tail -c $((15 * 1024 * 1024)) "$log" >"$log.tmp" && mv "$log.tmp" "$log"
fi
exit $status

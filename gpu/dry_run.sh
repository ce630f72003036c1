#!/usr/bin/env bash
# The GPU check end to end on the CPU (`make gpu-dry-run`, docs/gpu.md): runs .gpu/check.sh
# --cpu from the bundle (without network when unshare can take it away), then checks what a GPU
# call must return: exit 0, at most 8 files each under 16 MiB, and outputs that
# `deno task report` and `deno task merge` read. Ends with one line "gpu-dry-run: ok in N s".
set -uo pipefail
cd "$(dirname "$0")/.."
DENO=${DENO:-.tools/node_modules/@deno/linux-x64-glibc/deno}
bundle=${1:-.gpu}
started=$(date +%s)
fail() { echo "gpu-dry-run: FAILED: $*" >&2; exit 1; }
[ -f "$bundle/check.sh" ] || fail "no bundle at $bundle (run 'make gpu-bundle')"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gpu-dry-run.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
out="$tmp/out"
offline=()
if unshare -n true 2>/dev/null; then offline=(unshare -n); else
  echo "gpu-dry-run: note: cannot drop the network here (unshare -n); running with it" >&2
fi
"${offline[@]}" bash "$bundle/check.sh" "$out" --cpu >"$tmp/run.log" 2>&1
status=$?
tail -n 30 "$tmp/run.log" | grep -v '^\[#' >&2
[ "$status" -eq 0 ] || fail "check.sh exited $status (its log: the lines above)"
count=$(find "$out" -type f | wc -l)
[ "$count" -le 8 ] || fail "$count files in the output folder, at most 8 come back"
big=$(find "$out" -type f -size +16383k)
[ -z "$big" ] || fail "over 16 MiB: $big"
for f in sysinfo.json doctor.json spec.json results.csv check.log; do
  [ -s "$out/$f" ] || fail "no $f in the output folder"
done
ls "$out"/cpu-*.json "$out"/cpu-*.md >/dev/null 2>&1 || fail "no <device>.json/.md in the output folder"
export TURBO_HISTORY_DB=off DENO_NO_UPDATE_CHECK=1
"$DENO" run -A lib/cli/report.ts --results "$out/results.csv" --no-perplexity --out "$tmp/report" \
  >/dev/null 2>"$tmp/report.log" || { cat "$tmp/report.log" >&2; fail "deno task report cannot read results.csv"; }
"$DENO" run -A lib/cli/merge.ts "$out" --config "$out/spec.json" --out "$tmp/merge" --no-outputs \
  >/dev/null 2>"$tmp/merge.log" || { cat "$tmp/merge.log" >&2; fail "deno task merge cannot read the output folder"; }
echo "gpu-dry-run: ok in $(($(date +%s) - started)) s ($count files: $(cd "$out" && ls | tr '\n' ' '))"

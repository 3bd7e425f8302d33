#!/usr/bin/env bash
# The function builds the way `sam build` builds it (functions/AutoStop/Makefile, target build-AutoStopFunction): a
# Native AOT `bootstrap` for linux-x64 with zero warnings, needing no glibc symbol newer than 2.34 (Amazon Linux
# 2023, the provided.al2023 runtime).
set -euo pipefail
cd "$(dirname "$0")/../.."
need() { command -v "$1" >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }; }
need make make
need objdump binutils
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mkdir -p "$out/artifacts"
# A fresh intermediate directory: warnings are only reported when the code is actually compiled and trimmed.
if ! make -C functions/AutoStop build-AutoStopFunction ARTIFACTS_DIR="$out/artifacts" \
    PUBLISH_FLAGS="-p:IntermediateOutputPath=$out/obj/ -v n" >"$out/publish.log" 2>&1; then
  tail -50 "$out/publish.log"; echo "FAIL: the sam build target (make build-AutoStopFunction) failed"; exit 1
fi
# Compiler and analyzer lines read "File.cs(2,19): warning IL2026: ..."; ILC's own read "File.cs(2): Trim analysis
# warning IL2057: ..." or "AOT analysis warning IL3050: ..." (seen in a -v n publish log): match every form.
warning_line='warning [A-Z]+[0-9]+:'
for sample in "a.cs(2,19): warning CS0168: x" "a.cs(3): Trim analysis warning IL2057: x" "ILC : AOT analysis warning IL3050: x"; do
  grep -qE "$warning_line" <<<"$sample" || { echo "FAIL: the warning pattern misses: $sample"; exit 1; }
done
if grep -E "$warning_line" "$out/publish.log" | sort -u; then echo "FAIL: the AOT publish has warnings (above)"; exit 1; fi
binary=$out/artifacts/bootstrap
[ -x "$binary" ] || { echo "FAIL: no bootstrap executable in the artifacts directory"; exit 1; }
artifacts=$(find "$out/artifacts" -mindepth 1 -maxdepth 1 -printf '%f ')
[ "$artifacts" = "bootstrap " ] || { echo "FAIL: the artifacts directory should hold only bootstrap, it holds: $artifacts"; exit 1; }
[ "$(head -c 4 "$binary" | od -An -c | tr -d ' ')" = "177ELF" ] || { echo "FAIL: bootstrap is not an ELF executable"; exit 1; }
objdump -f "$binary" | grep -q "elf64-x86-64" || { echo "FAIL: bootstrap is not an x86-64 binary (the template says x86_64)"; exit 1; }
max=$(objdump -T "$binary" | grep -oE 'GLIBC_[0-9]+(\.[0-9]+)+' | sort -V -u | tail -1)
[ -n "$max" ] || { echo "FAIL: no GLIBC symbol versions found in bootstrap"; exit 1; }
if [ "$(printf '%s\n' "GLIBC_2.34" "$max" | sort -V | tail -1)" != "GLIBC_2.34" ]; then
  echo "FAIL: bootstrap needs $max, newer than Amazon Linux 2023's glibc 2.34:"
  objdump -T "$binary" | grep -E "$max" | head; exit 1
fi
echo "PASS Native AOT bootstrap (make build-AutoStopFunction): $(du -h "$binary" | cut -f1), no warnings, highest glibc symbol $max (<= GLIBC_2.34)"

#!/usr/bin/env bash
# The function publishes as a Native AOT `bootstrap` for linux-x64 with zero trim/AOT warnings, and needs no glibc
# symbol newer than 2.34 (Amazon Linux 2023, the provided.al2023 runtime).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v objdump >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq binutils >/dev/null; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# A fresh intermediate directory: warnings are only reported when the code is actually compiled and trimmed.
if ! dotnet publish functions/AutoStop/AutoStop.csproj -c Release -r linux-x64 -o "$out/publish" -nologo -p:IntermediateOutputPath="$out/obj/" -v n >"$out/publish.log" 2>&1; then
  cat "$out/publish.log"; echo "publish failed"; exit 1
fi
if grep -E "warning (IL|CS|NU)[0-9]+" "$out/publish.log"; then echo "the AOT publish has warnings"; exit 1; fi
binary=$out/publish/bootstrap
[ -x "$binary" ] || { echo "no bootstrap executable in the publish output"; exit 1; }
file_type=$(head -c 4 "$binary" | od -An -c | tr -d ' ')
[ "$file_type" = "177ELF" ] || { echo "bootstrap is not an ELF executable"; exit 1; }
max=$(objdump -T "$binary" | grep -oE 'GLIBC_[0-9]+\.[0-9]+' | sort -t. -k2 -n -u | tail -1)
echo "highest glibc symbol version: $max"
[ "$(printf '%s\n' "GLIBC_2.34" "$max" | sort -V | tail -1)" = "GLIBC_2.34" ] || { echo "bootstrap needs $max, newer than Amazon Linux 2023's glibc 2.34"; exit 1; }
echo "Native AOT bootstrap: $(du -h "$binary" | cut -f1), no warnings, glibc <= 2.34 ($max)"

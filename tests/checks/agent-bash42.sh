#!/usr/bin/env bash
# The agent's scripts run on Amazon Linux 2 (bash 4.2.46, gawk 4.0) as well as Debian/Ubuntu (bash 5, mawk).
# 1. Static: no bash >= 4.3 feature, and no unguarded array expansion. Under `set -u`, bash < 4.4 treats
#    "${A[@]}" (and ${#A[@]}, ${A[*]}) of an empty array as an unbound variable and exits before printing JSON.
#    The only allowed form is the guarded ${A[@]+"${A[@]}"}.
# 2. If a bash 4.2 is on this machine (BASH42=/path, or bash4.2 on PATH), run the probe on every fixture under it.
#    Debian bookworm's registry has no bash older than 5.2, so this part is usually reported as not run.
# 3. The probe's awk program gives byte-identical output under mawk (Debian's default) and gawk (AL2, RHEL, SUSE),
#    on every fixture process table and log. Installs gawk from Debian's registry when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
SCRIPTS=(agent/session-probe.sh agent/autostop-keepalive agent/stop-notice.sh)
FIXTURES=tests/Agent.Tests/Fixtures
fail=0
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT

# --- 1. static ----------------------------------------------------------------------------------------------------
for f in "${SCRIPTS[@]}"; do
  # Drop comments and the guarded form, then anything left that expands a whole array is a finding.
  findings=$(sed -E -e 's/(^|[[:space:]])#.*$//' \
                    -e 's/\$\{([A-Za-z_][A-Za-z0-9_]*)\[@\]\+"\$\{\1\[@\]\}"\}//g' "$f" \
    | grep -n -E '\$\{#?!?[A-Za-z_][A-Za-z0-9_]*\[[@*]\]' || true)
  if [ -n "$findings" ]; then
    echo "FAIL: $f expands an array unguarded (breaks bash < 4.4 under set -u when empty); use \${A[@]+\"\${A[@]}\"}:"
    echo "$findings"; fail=1
  fi
  # bash 4.3+: namerefs, ${x@op}, mapfile/readarray -d, wait -n, negative subscripts, EPOCH* (5.0), BASH_ARGV0 (5.0).
  findings=$(sed -E 's/(^|[[:space:]])#.*$//' "$f" \
    | grep -n -E '(declare|local|typeset)[[:space:]]+-[a-zA-Z]*n|\$\{[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?@[QEPAaUuLK]\}|(mapfile|readarray)[^|;]*[[:space:]]-d|wait[[:space:]]+-n|\[-[0-9]+\]\}|EPOCHSECONDS|EPOCHREALTIME|BASH_ARGV0|shopt[[:space:]]+-s[[:space:]]+(localvar_|assoc_expand_once|globasciiranges)' || true)
  if [ -n "$findings" ]; then
    echo "FAIL: $f uses a bash >= 4.3 feature (Amazon Linux 2 has bash 4.2.46):"; echo "$findings"; fail=1
  fi
done
[ "$fail" -eq 0 ] && echo "ok: ${SCRIPTS[*]}: no unguarded array expansion, no bash >= 4.3 feature"

# --- 2. a real bash 4.2, when there is one -------------------------------------------------------------------------
BASH42=${BASH42:-$(command -v bash4.2 || true)}
run_fixtures() { # shell awk -> one line per fixture: name and the probe's output
  local shell=$1 awk=$2 shim f
  shim=$WORK/shim; rm -rf "$shim"; mkdir "$shim"; ln -s "$awk" "$shim/awk"
  mkdir "$shim/proc"; echo "12345.67 1.00" >"$shim/proc/uptime"; echo "0.52 0.40 0.30 1/200 12345" >"$shim/proc/loadavg"
  printf 'processor\t: 0\nprocessor\t: 1\n' >"$shim/proc/cpuinfo"
  for f in "$FIXTURES"/*.ps "$FIXTURES"/*.log; do
    case $f in
      *.ps) printf '%s ' "${f##*/}"; env PATH="$shim:$PATH" TZ=UTC AUTOSTOP_PROBE_PROC="$shim/proc" AUTOSTOP_PROBE_DEV="$shim/dev" AUTOSTOP_PROBE_NOW=1795368785 AUTOSTOP_PROBE_PS="$f" \
              AUTOSTOP_PROBE_AUTH_LOG="$FIXTURES/auth-no-login.log" AUTOSTOP_PROBE_KEEPALIVE=/nonexistent "$shell" agent/session-probe.sh ;;
      *.log) printf '%s ' "${f##*/}"; env PATH="$shim:$PATH" TZ=UTC AUTOSTOP_PROBE_PROC="$shim/proc" AUTOSTOP_PROBE_DEV="$shim/dev" AUTOSTOP_PROBE_NOW=1795368785 AUTOSTOP_PROBE_PS=/dev/null \
              AUTOSTOP_PROBE_AUTH_LOG="$f" AUTOSTOP_PROBE_KEEPALIVE=/nonexistent "$shell" agent/session-probe.sh ;;
    esac
  done
}
valid_lines() { python3 -c '
import json, sys
n = 0
for row in sys.stdin:
    name, _, line = row.rstrip("\n").partition(" ")
    json.loads(line); n += 1
print(n)'; }
# shellcheck disable=SC2016 # expanded by the bash under test
if [ -n "$BASH42" ] && "$BASH42" -c '[ "${BASH_VERSINFO[0]}.${BASH_VERSINFO[1]}" = 4.2 ]'; then
  out42=$(run_fixtures "$BASH42" "$(command -v awk)")
  out5=$(run_fixtures bash "$(command -v awk)")
  if [ "$out42" != "$out5" ]; then echo "FAIL: the probe's output under $BASH42 differs:"; diff <(echo "$out5") <(echo "$out42") || true; fail=1
  else echo "ok: bash 4.2 ($BASH42): $(echo "$out42" | valid_lines) fixtures, same output as bash ${BASH_VERSION%%(*}"; fi
else
  echo "not run: no bash 4.2 on this machine (Debian bookworm ships only bash 5.2; set BASH42=/path to run it)"
fi

# --- 3. mawk and gawk ----------------------------------------------------------------------------------------------
command -v gawk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gawk >/dev/null; }
command -v mawk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mawk >/dev/null; }
out_mawk=$(run_fixtures bash "$(command -v mawk)")
out_gawk=$(run_fixtures bash "$(command -v gawk)")
if [ "$out_mawk" != "$out_gawk" ]; then
  echo "FAIL: the probe's output differs between mawk and gawk:"; diff <(echo "$out_mawk") <(echo "$out_gawk") || true; fail=1
elif grep -q -v -E '^[^ ]+ [{]"v":1,' <<<"$out_gawk"; then
  echo "FAIL: a fixture produced no JSON line:"; grep -v -E '^[^ ]+ [{]"v":1,' <<<"$out_gawk"; fail=1
else
  echo "ok: mawk $(mawk -W version 2>&1 | head -1 | cut -d' ' -f2) and gawk $(gawk --version | head -1 | cut -d' ' -f3 | tr -d ,): $(echo "$out_gawk" | valid_lines) fixtures, identical output"
fi
exit "$fail"

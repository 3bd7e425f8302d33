#!/usr/bin/env bash
# The agent's scripts run as root on every instance of a fleet: they must be shellcheck-clean.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v shellcheck >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null; }
shellcheck --version | sed -n 2p
shellcheck agent/session-probe.sh agent/autostop-keepalive agent/stop-notice.sh tests/checks/*.sh bench/run.sh bench/probe/run.sh bench/old-method/establish.sh
echo "shellcheck: agent/session-probe.sh, agent/autostop-keepalive, agent/stop-notice.sh and the check scripts are clean"

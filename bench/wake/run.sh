#!/usr/bin/env bash
# What `autostop ssh-proxy` adds on top of an instance's own start: `lab serve` stands in for EC2 and SSM (each instance
# stopped by AutoStop, pending for startSeconds, then its SSM agent Online agentOnlineSeconds later), a real sshd on
# 127.0.0.1 for the instance, and `autostop ssh-proxy NAME PORT` runs as ssh runs it, timed to sshd's banner on its stdout.
# Added time = (banner, waking it) - (banner, the same instance now running) - (startSeconds + agentOnlineSeconds).
# Writes bench/wake/RESULTS.md. Target: under 1 s. Also run by bench/run.sh. Needs root (sshd) and openssh-server.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x /usr/sbin/sshd ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server openssh-client >/dev/null; }
dotnet build lab -c Release -nologo -v q >/dev/null
dotnet build cli/AutoStop.Cli -c Release -nologo -v q >/dev/null
python3 bench/wake/wake.py "$@"

#!/usr/bin/env bash
# Both templates must pass cfn-lint with no errors and no warnings: the SAM template of a member stack (with the SAM
# translator) and the plain CloudFormation template of the monitoring account. First, the SSM documents embedded in the
# member template must be exactly the agent's scripts: ProbeDocument agent/session-probe.sh, NoticeDocument
# agent/stop-notice.sh (the generator's --check, which also checks each name's hash).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v cfn-lint >/dev/null || { echo "cfn-lint is not installed (pip install cfn-lint)"; exit 1; }
templates/generate-probe-document --check
# cfn-lint exits non-zero on errors (2), warnings (4) and informational findings (8) alike.
for template in templates/template.yaml templates/monitoring-account.yaml; do
  cfn-lint --format parseable "$template"
  echo "cfn-lint $(cfn-lint --version | awk '{print $2}'): $template has no errors and no warnings"
done

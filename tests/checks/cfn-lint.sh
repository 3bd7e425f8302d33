#!/usr/bin/env bash
# The SAM template must pass cfn-lint (with the SAM translator) with no errors and no warnings.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v cfn-lint >/dev/null || { echo "cfn-lint is not installed (pip install cfn-lint)"; exit 1; }
templates/generate-probe-document --check
# cfn-lint exits non-zero on errors (2), warnings (4) and informational findings (8) alike.
cfn-lint --format parseable templates/template.yaml
echo "cfn-lint $(cfn-lint --version | awk '{print $2}'): templates/template.yaml has no errors and no warnings"

#!/usr/bin/env bash
# What SAM makes of the template (the AWS SAM translator cfn-lint runs, samtranslator): Scheduler and Lambda's event
# settings act on the alias `live`, and a new function version (so a new alias target) is published when the probe
# document's or the stop notice document's name changes even if the code does not, and when the code changes. Together with the tests that the
# name is a hash of the document, this is what keeps a function version and the probe document it runs together.
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 -c 'import samtranslator' 2>/dev/null || { echo "the AWS SAM translator is not installed (pip install cfn-lint installs it)"; exit 1; }
AWS_DEFAULT_REGION=us-east-1 python3 - templates/template.yaml <<'PY'
import copy, re, sys
import yaml
from samtranslator.translator.transform import transform

class NoManagedPolicies:
    def load(self):
        return {}

def translate(template, code_key="code.zip"):
    t = copy.deepcopy(template)
    # sam build + package put the built code in S3; the translator needs such a URI, the bucket key stands for the code.
    t["Resources"]["AutoStopFunction"]["Properties"]["CodeUri"] = f"s3://bucket/{code_key}"
    return transform(t, {}, NoManagedPolicies())["Resources"]

def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)

text = open(sys.argv[1], encoding="utf-8").read()
template = yaml.safe_load(text)
resources = translate(template)

versions = [k for k, v in resources.items() if v["Type"] == "AWS::Lambda::Version"]
if len(versions) != 1: fail(f"expected one published version, found {versions}")
alias = next((k for k, v in resources.items() if v["Type"] == "AWS::Lambda::Alias"), None)
if alias is None or resources[alias]["Properties"]["Name"] != "live": fail("no alias named live")
if resources[alias]["Properties"]["FunctionVersion"] != {"Fn::GetAtt": [versions[0], "Version"]}: fail("the alias does not point at the published version")
schedules = [v for v in resources.values() if v["Type"] == "AWS::Scheduler::Schedule"]
if len(schedules) != 1 or schedules[0]["Properties"]["Target"]["Arn"] != {"Ref": alias}: fail("the schedule does not invoke the alias")
invoke = [v for v in resources.values() if v["Type"] == "AWS::Lambda::EventInvokeConfig"]
if len(invoke) != 1 or invoke[0]["Properties"]["Qualifier"] != "live": fail("the no-retry / 60-s event settings are not on the alias Scheduler invokes")
if resources["AutoStopFunction"]["Properties"].get("Environment", {}).get("Variables", {}).get("AUTOSTOP_PROBE_DOCUMENT_VERSION") != "1":
    fail("AUTOSTOP_PROBE_DOCUMENT_VERSION is not 1 after translation")

# The same template gives the same version (no needless publish); another document name or other code a new one.
if [k for k in translate(template) if k.startswith("AutoStopFunctionVersion")] != versions: fail("the version id is not stable")
names = set(re.findall(r"AutoStop-\$\{AWS::StackName\}-probe-[0-9a-f]{12}", text))
if len(names) != 1: fail(f"expected one probe document name in the template, found {names}")
other = yaml.safe_load(re.sub(r"(AutoStop-\$\{AWS::StackName\}-probe-)[0-9a-f]{12}", r"\g<1>0123456789ab", text))
renamed = [k for k, v in translate(other).items() if v["Type"] == "AWS::Lambda::Version"]
if renamed == versions: fail("a new probe document name does not publish a new function version")
notices = set(re.findall(r"AutoStop-\$\{AWS::StackName\}-notice-[0-9a-f]{12}", text))
if len(notices) != 1: fail(f"expected one notice document name in the template, found {notices}")
other_notice = yaml.safe_load(re.sub(r"(AutoStop-\$\{AWS::StackName\}-notice-)[0-9a-f]{12}", r"\g<1>0123456789ab", text))
renoticed = [k for k, v in translate(other_notice).items() if v["Type"] == "AWS::Lambda::Version"]
if renoticed == versions: fail("a new notice document name does not publish a new function version")
recoded = [k for k, v in translate(template, "other-code.zip").items() if v["Type"] == "AWS::Lambda::Version"]
if recoded == versions: fail("new code does not publish a new function version")
print(f"PASS SAM: Scheduler invokes alias live -> {versions[0]}; a new probe document name publishes {renamed[0]}, a new notice document name {renoticed[0]}, new code {recoded[0]}")
PY

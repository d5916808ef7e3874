#!/usr/bin/env bash
# `promtool check rules` and `promtool test rules` on the PrometheusRule of deploy/k8s: the rule
# groups are extracted into a plain rules file beside a copy of tests/deploy/rules_test.yaml, which
# holds a firing and a quiet case for every alert. Also fails if an alert has no test.
# Usage: check_rules.sh REPO_ROOT
set -euo pipefail
repo=$1
command -v promtool >/dev/null 2>&1 || { echo "FAIL: promtool not found (Debian package prometheus)"; exit 1; }
work="$(mktemp -d "${TMPDIR:-/tmp}/jilaf-rules.XXXXXX")"
trap 'rm -rf -- "$work"' EXIT
/usr/bin/python3 - "$repo/deploy/k8s/base/monitoring/prometheusrule.yaml" \
  "$repo/tests/deploy/rules_test.yaml" "$work/rules.yaml" <<'PY'
import sys, yaml
rule, tests, out = sys.argv[1:]
doc = yaml.safe_load(open(rule))
assert doc["kind"] == "PrometheusRule", doc["kind"]
yaml.safe_dump({"groups": doc["spec"]["groups"]}, open(out, "w"), sort_keys=False)
alerts = {r["alert"] for g in doc["spec"]["groups"] for r in g["rules"] if "alert" in r}
tested = {t["alertname"] for case in yaml.safe_load(open(tests))["tests"]
          for t in case.get("alert_rule_test", []) if t.get("exp_alerts")}
missing = sorted(alerts - tested)
if missing:
    sys.exit(f"FAIL: alerts without a firing unit test: {missing}")
print(f"{len(alerts)} alerts, each with a firing unit test")
PY
cp "$repo/tests/deploy/rules_test.yaml" "$work/"
promtool check rules "$work/rules.yaml"
promtool test rules "$work/rules_test.yaml"

#!/usr/bin/env bash
# A real Prometheus (Debian's) scrapes the four real service binaries:
#  - each service starts on free ports and answers 200 on the probe paths and the scrape path
#    that deploy/k8s gives it (read from its Deployment and ServiceMonitor);
#  - `promtool check metrics` accepts each service's /metrics;
#  - Prometheus, loaded with the PrometheusRule's groups, reports `up` == 1 for all four jobs
#    through its HTTP API, and every rule evaluates without error.
# Usage: scrape_test.sh REPO_ROOT SERVICE_BINARY...
# The services get no broker (a closed port), on purpose: the shared test broker's consumer
# groups belong to the e2e tests, and Kafka is reported by /readyz, not required.
set -euo pipefail
repo=$1
shift
JILAF_SCRIPT_NAME=scrape_test
# shellcheck source=scripts/lib/common.sh
source "$repo/scripts/lib/common.sh"
command -v prometheus >/dev/null 2>&1 || die "prometheus not found (Debian package prometheus)"
work="$(mktemp -d "${TMPDIR:-/tmp}/jilaf-scrape.XXXXXX")"
pids=()
cleanup() {
  local pid
  # SIGTERM to all at once: each drains and flushes on its own clock.
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do stop_pid "$pid" "child $pid" 20; done
  rm -rf -- "$work"
}
trap cleanup EXIT

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/jwt.pem" 2>/dev/null
openssl pkey -in "$work/jwt.pem" -pubout -out "$work/jwt-public.pem"
brokers="127.0.0.1:$(find_free_port)"
openssl rand -hex 32 >"$work/field-key.hex"

declare -A admin_port=()
services=()
for binary in "$@"; do
  service="$(basename "$binary")"
  service="${service#jilaf-}"
  services+=("$service")
  http="$(find_free_port)"
  admin="$(find_free_port)"
  while [[ $admin == "$http" ]]; do admin="$(find_free_port)"; done
  admin_port[$service]=$admin
  extra=()
  # invitations and notifications refuse to start without their field-encryption key.
  [[ $service == invitations || $service == notifications ]] &&
    extra=(--field-key-file "$work/field-key.hex")
  spawn_detached "$work/$service.log" "$binary" --http-port "$http" --admin-port "$admin" \
    --listen-address 127.0.0.1 --db "$work/$service.db" --kafka-brokers "$brokers" \
    --jwt-public-key "$work/jwt-public.pem" --log-level warn "${extra[@]}"
  pids+=("$!")
done

# The paths the manifests probe and scrape, per service.
paths_of() {
  /usr/bin/python3 - "$repo/deploy/k8s/base/$1" <<'PY'
import sys, yaml
base = sys.argv[1]
dep = yaml.safe_load(open(f"{base}/deployment.yaml"))
container = dep["spec"]["template"]["spec"]["containers"][0]
paths = {container[p]["httpGet"]["path"] for p in ("startupProbe", "livenessProbe", "readinessProbe")}
monitor = yaml.safe_load(open(f"{base}/servicemonitor.yaml"))
paths |= {e.get("path", "/metrics") for e in monitor["spec"]["endpoints"]}
print("\n".join(sorted(paths)))
PY
}

failures=0
for service in "${services[@]}"; do
  port=${admin_port[$service]}
  deadline=$((SECONDS + 60))
  until curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null; do
    if ((SECONDS > deadline)); then
      cat "$work/$service.log" >&2
      die "$service did not become ready on admin port $port"
    fi
    sleep 0.2
  done
  while read -r path; do
    code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$path")"
    if [[ $code != 200 ]]; then
      echo "FAIL: $service answers $code on $path, which deploy/k8s probes or scrapes"
      failures=$((failures + 1))
    fi
  done < <(paths_of "$service")
  if ! curl -fsS "http://127.0.0.1:$port/metrics" | promtool check metrics; then
    echo "FAIL: promtool check metrics rejects $service's /metrics"
    failures=$((failures + 1))
  else
    echo "$service: probe and scrape paths answer 200; promtool check metrics passes"
  fi
done

# Prometheus itself, with the alerting and recording rules of the PrometheusRule.
/usr/bin/python3 - "$repo/deploy/k8s/base/monitoring/prometheusrule.yaml" "$work/rules.yaml" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
yaml.safe_dump({"groups": doc["spec"]["groups"]}, open(sys.argv[2], "w"), sort_keys=False)
PY
{
  printf 'global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n'
  printf 'rule_files: ["%s"]\nscrape_configs:\n' "$work/rules.yaml"
  for service in "${services[@]}"; do
    printf '  - job_name: %s\n    static_configs: [{targets: ["127.0.0.1:%s"]}]\n' \
      "$service" "${admin_port[$service]}"
  done
} >"$work/prometheus.yml"
prom_port="$(find_free_port)"
spawn_detached "$work/prometheus.log" prometheus --config.file="$work/prometheus.yml" \
  --storage.tsdb.path="$work/tsdb" --web.listen-address="127.0.0.1:$prom_port"
pids+=("$!")
api="http://127.0.0.1:$prom_port/api/v1"
deadline=$((SECONDS + 60))
while :; do
  up="$(curl -fsS "$api/query?query=up" 2>/dev/null | /usr/bin/python3 -c '
import json, sys
result = json.load(sys.stdin)["data"]["result"]
print(" ".join(sorted(r["metric"]["job"] for r in result if r["value"][1] == "1")))' 2>/dev/null || true)"
  [[ $up == "$(printf '%s\n' "${services[@]}" | sort | paste -sd' ')" ]] && break
  if ((SECONDS > deadline)); then
    tail -n 20 "$work/prometheus.log" >&2
    die "Prometheus does not see all four services up (up==1 for: '${up}')"
  fi
  sleep 0.5
done
echo "Prometheus scrapes ${#services[@]} services, up == 1: $up"

# Every rule group evaluated at least once, without errors.
deadline=$((SECONDS + 60))
until rules="$(curl -fsS "$api/rules" | /usr/bin/python3 -c '
import json, sys
groups = json.load(sys.stdin)["data"]["groups"]
rules = [r for g in groups for r in g["rules"]]
bad = ["%s: %s" % (r.get("name"), r.get("lastError") or r.get("health")) for r in rules if r.get("health") != "ok"]
if bad or not rules:
    print("; ".join(bad) or "no rules loaded"); sys.exit(1)
print(len(rules))')"; do
  if ((SECONDS > deadline)); then
    echo "FAIL: rules not healthy in Prometheus: ${rules:-}"
    failures=$((failures + 1))
    break
  fi
  sleep 0.5
done
((failures == 0)) && echo "Prometheus evaluates all $rules rules without error"
((failures == 0))

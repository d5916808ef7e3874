#!/usr/bin/env bash
# Renders every overlay of deploy/k8s with kustomize, validates the output against the
# Kubernetes API schemas and the Strimzi, Prometheus Operator, cert-manager and CloudNativePG CRD
# schemas (kubeconform, strict: unknown fields fail), proves with broken documents that the
# validation does reject, then runs the policy and consistency checks of check_manifests.py (which
# prove their own rules on broken variants of the overlays).
# Usage: check_manifests.sh REPO_ROOT METRICS_DUMP_BINARY SERVICE_BINARY...
set -euo pipefail
repo=$1
metrics_dump=$2
shift 2
JILAF_SCRIPT_NAME=check_manifests
# shellcheck source=scripts/lib/deploy.sh
source "$repo/scripts/lib/deploy.sh"
deploy_tools_fetch
bin="$(deploy_tools_dir)/bin"
mapfile -t schema_args < <(kubeconform_args)
work="$(mktemp -d "${TMPDIR:-/tmp}/jilaf-manifests.XXXXXX")"
trap 'rm -rf -- "$work"' EXIT

rendered=()
for overlay in "$repo"/deploy/k8s/overlays/*/; do
  name="$(basename "$overlay")"
  "$bin/kustomize" build "$overlay" >"$work/$name.yaml"
  echo "kustomize build overlays/$name: $(grep -c '^kind:' "$work/$name.yaml") objects"
  rendered+=("$work/$name.yaml")
done
((${#rendered[@]} >= 2)) || { echo "FAIL: expected overlays dev and prod"; exit 1; }

# Negative controls: a misspelt field in a Deployment, a string where a KafkaTopic wants an
# integer, a misspelt field in a Certificate (and the CloudNativePG and KafkaUser ones below) must
# all be rejected, or the validation above proves nothing.
cat >"$work/bad-deployment.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: bad}
spec:
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      containers: [{name: c, image: i, readinessProbes: {}}]
YAML
cat >"$work/bad-topic.yaml" <<'YAML'
apiVersion: kafka.strimzi.io/v1beta2
kind: KafkaTopic
metadata: {name: bad}
spec: {partitions: "three", replicas: 1}
YAML
# cert-manager's schema must be strict too: a misspelt dnsNames.
cat >"$work/bad-certificate.yaml" <<'YAML'
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: bad}
spec: {secretName: s, dnsName: [a.example.org], issuerRef: {name: i}}
YAML
# CloudNativePG's and the Barman Cloud plugin's schemas must be strict: a misspelt instances, a
# string where a ScheduledBackup wants one of its enumerated methods, a misspelt destinationPath.
cat >"$work/bad-cluster.yaml" <<'YAML'
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata: {name: bad}
spec: {instance: 3, storage: {size: 1Gi}}
YAML
cat >"$work/bad-scheduledbackup.yaml" <<'YAML'
apiVersion: postgresql.cnpg.io/v1
kind: ScheduledBackup
metadata: {name: bad}
spec: {schedule: "0 0 2 * * *", cluster: {name: c}, method: rsync}
YAML
cat >"$work/bad-objectstore.yaml" <<'YAML'
apiVersion: barmancloud.cnpg.io/v1
kind: ObjectStore
metadata: {name: bad}
spec: {configuration: {destinationPth: "s3://b/"}}
YAML
# Strimzi's KafkaUser: an ACL operation that does not exist.
cat >"$work/bad-kafkauser.yaml" <<'YAML'
apiVersion: kafka.strimzi.io/v1beta2
kind: KafkaUser
metadata: {name: bad, labels: {strimzi.io/cluster: jilaf}}
spec:
  authentication: {type: scram-sha-512}
  authorization:
    type: simple
    acls: [{resource: {type: topic, name: t}, operations: [Scribble]}]
YAML
# One kubeconform run over everything: it compiles each schema once (the Kafka CRD and the
# Kubernetes definitions are large), and the JSON report tells the resources apart.
"$bin/kubeconform" "${schema_args[@]}" -kubernetes-version "${KUBERNETES_SCHEMA_VERSION#v}" \
  -output json -verbose "${rendered[@]}" "$work/bad-deployment.yaml" "$work/bad-topic.yaml" \
  "$work/bad-certificate.yaml" "$work/bad-cluster.yaml" "$work/bad-scheduledbackup.yaml" \
  "$work/bad-objectstore.yaml" "$work/bad-kafkauser.yaml" \
  >"$work/kubeconform.json" || true
/usr/bin/python3 - "$work/kubeconform.json" <<'PY'
import json, os, sys
report = json.load(open(sys.argv[1]))
failed = 0
counts = {}
for r in report["resources"]:
    name = os.path.basename(r["filename"])
    bad = name.startswith("bad-")
    ok = r["status"] == "statusValid"
    if bad and r["status"] != "statusInvalid":
        print(f"FAIL: kubeconform did not reject the broken control {name}: {r['status']} {r.get('msg', '')}")
        failed += 1
    elif not bad and not ok:
        print(f"FAIL: {name} {r['kind']}/{r['name']}: {r['status']} {r.get('msg', '')}")
        failed += 1
    elif not bad:
        counts[name] = counts.get(name, 0) + 1
    else:
        print(f"kubeconform rejects {name} as it should: {r.get('msg', '')[:120]}")
for name, n in sorted(counts.items()):
    print(f"kubeconform: {name}: {n} resources valid (Kubernetes and CRD schemas, strict)")
if failed or len(counts) < 2:
    sys.exit(1)
PY

/usr/bin/python3 "$repo/tests/deploy/check_manifests.py" "$repo" "$metrics_dump" "${rendered[@]}" -- "$@"

#!/usr/bin/env bash
# Renders every overlay of deploy/k8s with kustomize, validates the output against the
# Kubernetes API schemas and the Strimzi / Prometheus Operator CRD schemas (kubeconform, strict:
# unknown fields fail), proves with two broken documents that the validation does reject, then
# runs the policy and consistency checks of check_manifests.py.
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
  "$bin/kubeconform" "${schema_args[@]}" -kubernetes-version "${KUBERNETES_SCHEMA_VERSION#v}" \
    "$work/$name.yaml"
  rendered+=("$work/$name.yaml")
done
((${#rendered[@]} >= 2)) || { echo "FAIL: expected overlays dev and prod"; exit 1; }

# Negative controls: a misspelt field in a Deployment and a string where a KafkaTopic wants an
# integer must both be rejected, or the validation above proves nothing.
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
for bad in bad-deployment bad-topic; do
  if "$bin/kubeconform" "${schema_args[@]}" "$work/$bad.yaml" >/dev/null 2>&1; then
    echo "FAIL: kubeconform accepted $bad.yaml"
    exit 1
  fi
done
echo "kubeconform rejects the broken controls"

/usr/bin/python3 "$repo/tests/deploy/check_manifests.py" "$repo" "$metrics_dump" "${rendered[@]}" -- "$@"

# shellcheck shell=bash
# Tools and schemas for the offline checks of deploy/k8s and of the monitoring rules. Source it:
#
#   source "$REPO_ROOT/scripts/lib/deploy.sh"
#   deploy_tools_fetch      # once per machine, cached; then:
#   "$(deploy_tools_dir)/bin/kustomize" build deploy/k8s/overlays/dev
#
# Everything comes from the package sources this project may use, and lands outside the
# repository in $(deploy_tools_dir) (like the Kafka jars):
#   bin/kustomize, bin/kubeconform   `go install` through the Go module proxy
#   schemas/STAMP/                   one schema set per set of pinned versions (STAMP hashes them),
#                                    so that branches pinning different versions share the cache
#                                    without deleting each other's schemas:
#   schemas/STAMP/k8s/               Kubernetes API JSON schemas (strict), from the PyPI wheel
#                                    kubernetes-validate, which bundles them as data
#   schemas/STAMP/crds/<group>/<kind>_<version>.json
#                                    strict JSON schemas derived from the CRDs of the operators:
#                                    Prometheus Operator's from its Go module
#                                    (example/prometheus-operator-crd), Strimzi's generated from
#                                    its Maven artifacts (scripts/deploy/strimzi-pom.xml),
#                                    cert-manager's from its Go module (deploy/crds),
#                                    CloudNativePG's from its Go module (config/crd/bases) and
#                                    the Barman Cloud plugin's ObjectStore from the plugin's
# promtool and prometheus are Debian's `prometheus` package (JILAF_APT_PACKAGES).

# shellcheck source=scripts/lib/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

[[ -n ${_JILAF_DEPLOY_SH_LOADED:-} ]] && return 0
_JILAF_DEPLOY_SH_LOADED=1

# Pinned versions: changing any of them (or the Strimzi pom) re-fetches on the next run.
KUSTOMIZE_MODULE='sigs.k8s.io/kustomize/kustomize/v5@v5.5.0'
KUBECONFORM_MODULE='github.com/yannh/kubeconform/cmd/kubeconform@v0.6.7'
PROMETHEUS_OPERATOR_MODULE='github.com/prometheus-operator/prometheus-operator@v0.79.2'
CERT_MANAGER_MODULE='github.com/cert-manager/cert-manager@v1.16.2'
# The PostgreSQL operator of the prod overlay, and its backup plugin (the form CloudNativePG
# recommends since 1.26, when the in-tree barmanObjectStore was deprecated).
CNPG_MODULE='github.com/cloudnative-pg/cloudnative-pg@v1.27.1'
CNPG_BARMAN_PLUGIN_MODULE='github.com/cloudnative-pg/plugin-barman-cloud@v0.15.0'
KUBERNETES_VALIDATE_WHEEL='kubernetes-validate==1.37.0'
# The Kubernetes version the manifests are validated against (a schema set in that wheel).
KUBERNETES_SCHEMA_VERSION='v1.32.0'
STRIMZI_POM="$REPO_ROOT/scripts/deploy/strimzi-pom.xml"
# Strimzi kinds deploy/k8s uses: class name → CRD file.
STRIMZI_KINDS=(
  io.strimzi.api.kafka.model.kafka.Kafka
  io.strimzi.api.kafka.model.nodepool.KafkaNodePool
  io.strimzi.api.kafka.model.topic.KafkaTopic
  io.strimzi.api.kafka.model.user.KafkaUser
)
PROMETHEUS_OPERATOR_CRDS=(monitoring.coreos.com_servicemonitors.yaml
  monitoring.coreos.com_prometheusrules.yaml)
# cert-manager kinds the prod overlay uses (the TLS Certificate of its Ingresses).
CERT_MANAGER_CRDS=(crd-certificates.yaml)
# CloudNativePG kinds the prod overlay uses (config/crd/bases of each module).
CNPG_CRDS=(postgresql.cnpg.io_clusters.yaml postgresql.cnpg.io_scheduledbackups.yaml
  postgresql.cnpg.io_databases.yaml postgresql.cnpg.io_backups.yaml)
CNPG_BARMAN_PLUGIN_CRDS=(barmancloud.cnpg.io_objectstores.yaml)

deploy_tools_dir() {
  printf '%s/deploy-tools\n' "${JILAF_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/jilaf}"
}

_deploy_tools_stamp() {
  {
    printf '%s\n' "$KUSTOMIZE_MODULE" "$KUBECONFORM_MODULE" "$PROMETHEUS_OPERATOR_MODULE" \
      "$KUBERNETES_VALIDATE_WHEEL" "$KUBERNETES_SCHEMA_VERSION" "${STRIMZI_KINDS[@]}" \
      "${PROMETHEUS_OPERATOR_CRDS[@]}" "$CERT_MANAGER_MODULE" "${CERT_MANAGER_CRDS[@]}" \
      "$CNPG_MODULE" "${CNPG_CRDS[@]}" "$CNPG_BARMAN_PLUGIN_MODULE" "${CNPG_BARMAN_PLUGIN_CRDS[@]}"
    cat "$STRIMZI_POM" "$REPO_ROOT/scripts/deploy/crd2jsonschema.py" "$REPO_ROOT/scripts/lib/deploy.sh"
  } | sha256sum | cut -d' ' -f1
}

# deploy_schemas_dir: the schema set of this checkout's pinned versions.
deploy_schemas_dir() {
  local stamp
  stamp="$(_deploy_tools_stamp)"
  printf '%s/schemas/%s\n' "$(deploy_tools_dir)" "${stamp:0:16}"
}

deploy_tools_complete() {
  local dir schemas
  dir="$(deploy_tools_dir)"
  schemas="$(deploy_schemas_dir)"
  [[ -x $dir/bin/kustomize && -x $dir/bin/kubeconform && -f $schemas/.jilaf-complete &&
    "$(cat "$schemas/.jilaf-complete")" == "$(_deploy_tools_stamp)" ]]
}

# _deploy_go: the go command; the polyglot machines have it in /usr/local/go, else Debian's.
_deploy_go() {
  if command -v go >/dev/null 2>&1; then
    command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then
    printf '/usr/local/go/bin/go\n'
  else
    ensure_packages golang-go
    command -v go
  fi
}

# deploy_tools_fetch: make sure kustomize, kubeconform and the schemas are in the cache.
deploy_tools_fetch() {
  local dir schemas
  dir="$(deploy_tools_dir)"
  schemas="$(deploy_schemas_dir)"
  deploy_tools_complete && return 0
  mkdir -p -- "$dir"
  (
    exec 9>"$dir/.fetch.lock"
    flock 9
    deploy_tools_complete && exit 0
    local go tmp
    go="$(_deploy_go)"
    tmp="$(mktemp -d "$dir/.tmp.XXXXXX")"
    trap 'rm -rf -- "$tmp"' EXIT
    export GOPATH="$dir/go" GOFLAGS=-modcacherw GOBIN="$dir/bin"

    step "building kustomize and kubeconform with go install (cached in $dir/bin)"
    "$go" install "$KUSTOMIZE_MODULE"
    "$go" install "$KUBECONFORM_MODULE"

    step "fetching Kubernetes $KUBERNETES_SCHEMA_VERSION JSON schemas ($KUBERNETES_VALIDATE_WHEEL)"
    /usr/bin/python3 -m pip download -q --no-deps --dest "$tmp/wheel" "$KUBERNETES_VALIDATE_WHEEL"
    rm -rf -- "$schemas"
    mkdir -p -- "$schemas/k8s" "$schemas/crds"
    /usr/bin/python3 - "$tmp"/wheel/*.whl "$KUBERNETES_SCHEMA_VERSION" "$schemas/k8s" <<'PY'
import json, os, sys, zipfile
wheel, version, out = sys.argv[1:]
prefix = f"kubernetes_validate/kubernetes-json-schema/{version}-local-strict/"
count = 0
# The files name themselves (and _definitions.json) by https://kubernetes.io/api/... ids, which
# kubeconform would try to fetch: drop the ids so that references resolve next to the file.
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith(prefix) and name.endswith(".json") and name != prefix + "all.json":
            schema = json.loads(z.read(name))
            schema.pop("$id", None)
            text = json.dumps(schema).replace('"/api/_definitions.json#', '"_definitions.json#')
            with open(os.path.join(out, name[len(prefix):]), "w", encoding="utf-8") as f:
                f.write(text)
            count += 1
if count == 0:
    sys.exit(f"no {prefix} in {wheel}")
PY

    step "deriving CRD schemas: Prometheus Operator ($PROMETHEUS_OPERATOR_MODULE)"
    local module_dir crd_args=()
    module_dir="$("$go" mod download -json "$PROMETHEUS_OPERATOR_MODULE" |
      /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')"
    local crd
    for crd in "${PROMETHEUS_OPERATOR_CRDS[@]}"; do
      crd_args+=("$module_dir/example/prometheus-operator-crd/$crd")
    done
    /usr/bin/python3 "$REPO_ROOT/scripts/deploy/crd2jsonschema.py" "$schemas/crds" "${crd_args[@]}"

    step "deriving CRD schemas: cert-manager ($CERT_MANAGER_MODULE)"
    # Its CRD files carry Helm directives only inside comments and quoted label values, so they
    # read as plain YAML.
    module_dir="$("$go" mod download -json "$CERT_MANAGER_MODULE" |
      /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')"
    crd_args=()
    for crd in "${CERT_MANAGER_CRDS[@]}"; do
      crd_args+=("$module_dir/deploy/crds/$crd")
    done
    /usr/bin/python3 "$REPO_ROOT/scripts/deploy/crd2jsonschema.py" "$schemas/crds" "${crd_args[@]}"

    step "deriving CRD schemas: CloudNativePG ($CNPG_MODULE, $CNPG_BARMAN_PLUGIN_MODULE)"
    crd_args=()
    module_dir="$("$go" mod download -json "$CNPG_MODULE" |
      /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')"
    for crd in "${CNPG_CRDS[@]}"; do
      crd_args+=("$module_dir/config/crd/bases/$crd")
    done
    module_dir="$("$go" mod download -json "$CNPG_BARMAN_PLUGIN_MODULE" |
      /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')"
    for crd in "${CNPG_BARMAN_PLUGIN_CRDS[@]}"; do
      crd_args+=("$module_dir/config/crd/bases/$crd")
    done
    /usr/bin/python3 "$REPO_ROOT/scripts/deploy/crd2jsonschema.py" "$schemas/crds" "${crd_args[@]}"

    step "deriving CRD schemas: Strimzi (io.strimzi:crd-generator, Maven Central)"
    mvn -B -q -f "$STRIMZI_POM" dependency:build-classpath -Dmdep.outputFile="$tmp/classpath"
    local kind generator_args=()
    for kind in "${STRIMZI_KINDS[@]}"; do
      generator_args+=("$kind=$tmp/strimzi-${kind##*.}.yaml")
    done
    java -Xmx512m -XX:+UseSerialGC -cp "$(cat "$tmp/classpath")" \
      io.strimzi.crdgenerator.CrdGenerator --yaml "${generator_args[@]}" 2>"$tmp/generator.log" ||
      { cat "$tmp/generator.log" >&2; die "Strimzi's CrdGenerator failed"; }
    /usr/bin/python3 "$REPO_ROOT/scripts/deploy/crd2jsonschema.py" "$schemas/crds" \
      "$tmp"/strimzi-*.yaml

    _deploy_tools_stamp >"$schemas/.jilaf-complete"
  )
}

# kubeconform_args: the schema locations for `kubeconform` (core first, then the CRDs).
kubeconform_args() {
  local dir
  dir="$(deploy_schemas_dir)"
  printf '%s\n' -strict -summary \
    -schema-location "$dir/k8s/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
    -schema-location "$dir/crds/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json"
}

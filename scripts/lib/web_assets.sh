# shellcheck shell=bash
# The web assets compiled into the services: Swagger UI, which renders each service's OpenAPI
# document at /docs (docs/api.md). Fetched once per machine with `npm pack` from the npm registry
# into $(web_assets_dir), outside the repository like the Kafka jars, and checked against a pinned
# SHA-256. CMake runs this file at configure time (cmake/WebAssets.cmake), so a fresh clone, a
# hand-run `cmake --preset release` and the Docker build all get the same files:
#
#   bash scripts/lib/web_assets.sh     # fetches if needed; prints the directory on stdout
#
# or, from a script: source it, then web_assets_fetch; web_assets_dir.

# shellcheck source=scripts/lib/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

# Pinned: changing the version (and its digest) re-fetches on the next configure.
SWAGGER_UI_PACKAGE='swagger-ui-dist'
SWAGGER_UI_VERSION='5.35.0'
SWAGGER_UI_SHA256='1b8e891893404ea4c3558b6a87e2a3e494e7eedba41168c2ece5800a391a6ea6'
# The files the services serve, and the licences that go with them.
SWAGGER_UI_FILES=(swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE
  swagger-ui-bundle.js.LICENSE.txt)

web_assets_dir() {
  printf '%s/web-assets/%s-%s\n' "${JILAF_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/jilaf}" \
    "$SWAGGER_UI_PACKAGE" "$SWAGGER_UI_VERSION"
}

web_assets_fetch() {
  local dir
  dir="$(web_assets_dir)"
  [[ -f $dir/.jilaf-complete ]] && return 0
  command -v npm >/dev/null 2>&1 || ensure_packages npm
  command -v npm >/dev/null 2>&1 || die "npm not found: install Debian's npm"
  mkdir -p -- "$(dirname -- "$dir")"
  (
    exec 9>"$dir.lock"
    flock 9
    [[ -f $dir/.jilaf-complete ]] && exit 0
    local tmp tarball file
    tmp="$(mktemp -d "$dir.tmp.XXXXXX")"
    trap 'rm -rf -- "$tmp"' EXIT
    step "fetching $SWAGGER_UI_PACKAGE@$SWAGGER_UI_VERSION (npm pack; cached in $dir)"
    (cd -- "$tmp" && npm pack --silent "$SWAGGER_UI_PACKAGE@$SWAGGER_UI_VERSION" >/dev/null)
    tarball="$tmp/$SWAGGER_UI_PACKAGE-$SWAGGER_UI_VERSION.tgz"
    [[ -f $tarball ]] || die "npm pack left no $tarball"
    [[ "$(sha256sum "$tarball" | cut -d' ' -f1)" == "$SWAGGER_UI_SHA256" ]] ||
      die "$SWAGGER_UI_PACKAGE@$SWAGGER_UI_VERSION: SHA-256 differs from the pinned one"
    tar -xzf "$tarball" -C "$tmp"
    rm -rf -- "$dir"
    mkdir -p -- "$dir"
    for file in "${SWAGGER_UI_FILES[@]}"; do
      cp -- "$tmp/package/$file" "$dir/$file"
    done
    printf '%s@%s\n' "$SWAGGER_UI_PACKAGE" "$SWAGGER_UI_VERSION" >"$dir/.jilaf-complete"
  )
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  web_assets_fetch
  web_assets_dir
fi

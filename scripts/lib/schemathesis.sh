# shellcheck shell=bash
# Schemathesis, the property-based API tester that tests/schemathesis runs against the four
# services (docs/api.md, "The contract is tested"). Installed once per machine from PyPI into a
# virtualenv under $(schemathesis_dir), outside the repository like the Kafka jars; the pinned
# version is part of the directory name, so changing it installs afresh on the next run:
#
#   bash scripts/lib/schemathesis.sh     # installs if needed; prints the `st` executable
#
# or, from a script: source it, then schemathesis_fetch; schemathesis_bin.

# shellcheck source=scripts/lib/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

# Pinned: the checks it runs and the data it generates change between releases.
SCHEMATHESIS_VERSION='4.32.5'

schemathesis_dir() {
  printf '%s/schemathesis-%s\n' "${JILAF_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/jilaf}" \
    "$SCHEMATHESIS_VERSION"
}

schemathesis_bin() {
  printf '%s/venv/bin/st\n' "$(schemathesis_dir)"
}

schemathesis_fetch() {
  local dir
  dir="$(schemathesis_dir)"
  [[ -f $dir/.jilaf-complete ]] && return 0
  # Debian's python3 has no ensurepip without python3-venv.
  /usr/bin/python3 -c 'import ensurepip' >/dev/null 2>&1 || ensure_packages python3-venv
  mkdir -p -- "$(dirname -- "$dir")"
  (
    exec 9>"$dir.lock"
    flock 9
    [[ -f $dir/.jilaf-complete ]] && exit 0
    rm -rf -- "$dir"
    step "installing schemathesis==$SCHEMATHESIS_VERSION (pip, into a virtualenv in $dir)"
    /usr/bin/python3 -m venv "$dir/venv"
    "$dir/venv/bin/pip" install -q --disable-pip-version-check \
      "schemathesis==$SCHEMATHESIS_VERSION" || die "pip could not install schemathesis"
    "$dir/venv/bin/st" --version >/dev/null || die "schemathesis installed but does not run"
    printf 'schemathesis==%s\n' "$SCHEMATHESIS_VERSION" >"$dir/.jilaf-complete"
  )
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  schemathesis_fetch
  schemathesis_bin
fi

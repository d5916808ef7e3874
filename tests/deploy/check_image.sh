#!/usr/bin/env bash
# Checks the Dockerfile's package lists without a Docker engine:
#  - every shared library that `ldd` finds for a built service binary belongs (dpkg -S) to a
#    package of deploy/docker/runtime-packages.txt or to one of their dependencies (Depends and
#    Pre-Depends, recursively, as installed here, which is the same Debian 12);
#  - deploy/docker/build-packages.txt has every -dev package of JILAF_APT_PACKAGES and no
#    Boost 1.74;
#  - the Dockerfile installs both lists, runs as a numeric non-root user and builds with the
#    release preset.
# Usage: check_image.sh REPO_ROOT SERVICE_BINARY...
set -euo pipefail
repo=$1
shift
runtime_list="$repo/deploy/docker/runtime-packages.txt"
build_list="$repo/deploy/docker/build-packages.txt"
dockerfile="$repo/Dockerfile"
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
packages_of() { grep -vE '^[[:space:]]*(#|$)' "$1"; }

# Closure of the runtime packages over installed dependencies (one dpkg-query for all).
declare -A depends_of=()
while IFS=$'\t' read -r pkg deps; do
  depends_of[$pkg]=$deps
done < <(dpkg-query -W -f='${db:Status-Status}\t${Package}\t${Pre-Depends}, ${Depends}\n' |
  awk -F'\t' '$1 == "installed" {print $2 "\t" $3}')
declare -A closure=()
queue=()
mapfile -t queue < <(packages_of "$runtime_list")
while ((${#queue[@]} > 0)); do
  pkg=${queue[0]}
  queue=("${queue[@]:1}")
  [[ -n ${closure[$pkg]:-} ]] && continue
  closure[$pkg]=1
  [[ -n ${depends_of[$pkg]+x} ]] ||
    { fail "runtime package $pkg is not installed here, so its dependencies cannot be checked"; continue; }
  # "a (>= 1) | b, c:any" → a b c
  for dep in $(tr ',|' '  ' <<<"${depends_of[$pkg]}" | sed -E 's/\([^)]*\)//g; s/:any//g'); do
    [[ -z ${closure[$dep]:-} ]] && queue+=("$dep")
  done
done

((${#@} > 0)) || { echo "no binaries given"; exit 2; }
# Libraries each binary loads (ldd), then their owners with a single dpkg -S (it reads the whole
# package database on every call). dpkg knows a library by the path its package installed, /lib
# or /usr/lib (merged /usr), so ask for every spelling.
declare -A users_of=()
for binary in "$@"; do
  [[ -x $binary ]] || { fail "$binary is not built"; continue; }
  while read -r line; do
    case $line in
      *"not found"*) fail "$(basename "$binary"): $line" ;;
      *"=>"*/*) users_of[$(awk '{print $3}' <<<"$line")]+="$(basename "$binary") " ;;
    esac
  done < <(ldd "$binary")
done
spellings() {
  local real
  real="$(readlink -f -- "$1")"
  printf '%s\n' "$1" "$real" "${1/#\/usr\/lib\//\/lib\/}" "${1/#\/lib\//\/usr\/lib\/}" \
    "${real/#\/usr\/lib\//\/lib\/}" "${real/#\/lib\//\/usr\/lib\/}"
}
declare -A owner=()
while IFS= read -r line; do
  owner[${line#*: }]=${line%%:*}
done < <(for lib in "${!users_of[@]}"; do spellings "$lib"; done | sort -u |
  xargs dpkg -S 2>/dev/null || true)
declare -A needed=()
for lib in "${!users_of[@]}"; do
  pkg=''
  while read -r spelling; do
    [[ -n ${owner[$spelling]:-} ]] && { pkg=${owner[$spelling]}; break; }
  done < <(spellings "$lib")
  [[ -n $pkg ]] || { fail "no Debian package owns $lib"; continue; }
  needed[$pkg]+="${users_of[$lib]}"
done
for pkg in "${!needed[@]}"; do
  if [[ -z ${closure[$pkg]:-} ]]; then
    fail "runtime stage lacks $pkg (needed by ${needed[$pkg]}): add it to ${runtime_list#"$repo"/}"
  fi
done

# The build stage has the project's C++ libraries (as scripts/lib/common.sh installs them).
# shellcheck source=scripts/lib/common.sh
source "$repo/scripts/lib/common.sh"
mapfile -t build_packages < <(packages_of "$build_list")
for pkg in "${JILAF_APT_PACKAGES[@]}"; do
  # The sanitizer and libFuzzer runtimes serve scripts/fuzz only; the image never links them.
  [[ $pkg == libclang-rt-*-dev ]] && continue
  if [[ $pkg == *-dev || $pkg =~ ^(build-essential|cmake|ninja-build|pkg-config|ccache)$ ]]; then
    printf '%s\n' "${build_packages[@]}" | grep -qxF -- "$pkg" ||
      fail "build stage lacks $pkg (in JILAF_APT_PACKAGES): add it to ${build_list#"$repo"/}"
  fi
done
printf '%s\n' "${build_packages[@]}" | grep -qxE 'libboost-(all-)?dev' &&
  fail "build stage pulls Boost 1.74 (libboost-dev)"

grep -q 'COPY deploy/docker/build-packages.txt' "$dockerfile" || fail "Dockerfile ignores build-packages.txt"
grep -q 'COPY deploy/docker/runtime-packages.txt' "$dockerfile" || fail "Dockerfile ignores runtime-packages.txt"
grep -qE '^USER [1-9][0-9]*:[1-9][0-9]*$' "$dockerfile" || fail "Dockerfile has no numeric non-root USER"
grep -q 'cmake --preset release' "$dockerfile" || fail "Dockerfile does not build with the release preset"
grep -qE '^FROM debian:12(-slim)? ' "$dockerfile" || fail "Dockerfile stages are not Debian 12"

if ((failures > 0)); then
  echo "$failures problem(s)"
  exit 1
fi
echo "runtime stage covers the ${#needed[@]} packages of $# binaries' shared libraries: ${!needed[*]}"

# shellcheck shell=bash
# Shared helpers for the scripts in scripts/ and .ci/. Source it, do not execute it:
#
#   source "$(dirname -- "${BASH_SOURCE[0]}")/lib/common.sh"
#
# It assumes the caller runs with `set -euo pipefail`. Progress and errors go to stderr so that
# scripts whose stdout is data (scripts/token, `scripts/kafka-ctl bootstrap`) stay pipeable.

# Sourcing twice (common.sh and kafka.sh both pull it in) must not reset state.
[[ -n ${_JILAF_COMMON_SH_LOADED:-} ]] && return 0
_JILAF_COMMON_SH_LOADED=1

# Repository root, derived from this file's location so scripts work from any cwd.
REPO_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)"
readonly REPO_ROOT

# Name shown in progress lines: the script that sourced us (run, test, kafka-ctl, ...).
JILAF_SCRIPT_NAME="${JILAF_SCRIPT_NAME:-$(basename -- "$0")}"

# Colour only for humans: not when stderr is a file/pipe, and never when NO_COLOR is set.
if [[ -t 2 && -z ${NO_COLOR:-} ]]; then
  _C_BOLD=$'\e[1m' _C_RED=$'\e[31m' _C_YELLOW=$'\e[33m' _C_RESET=$'\e[0m'
else
  _C_BOLD='' _C_RED='' _C_YELLOW='' _C_RESET=''
fi

# step MSG: a visible progress line with the seconds elapsed since the script started
# ($SECONDS belongs to the sourcing shell, so it counts from the script's start).
step() {
  printf '%s==> [%s +%ss] %s%s\n' "$_C_BOLD" "$JILAF_SCRIPT_NAME" "$SECONDS" "$*" "$_C_RESET" >&2
}

# info MSG: a secondary line under a step.
info() {
  printf '    %s\n' "$*" >&2
}

warn() {
  printf '%swarning: [%s] %s%s\n' "$_C_YELLOW" "$JILAF_SCRIPT_NAME" "$*" "$_C_RESET" >&2
}

# die MSG [EXIT_CODE]: print an error and exit (default 1). EXIT traps still run.
die() {
  printf '%serror: [%s] %s%s\n' "$_C_RED" "$JILAF_SCRIPT_NAME" "$1" "$_C_RESET" >&2
  exit "${2:-1}"
}

# ---------------------------------------------------------------------------------------------
# System packages
# ---------------------------------------------------------------------------------------------

# Everything a fresh Debian 12 machine needs to build, run and test the project.
# Boost comes from the versioned 1.81 packages on purpose: NEVER add `libboost-dev` (or
# `libboost-all-dev`), which is Boost 1.74 on bookworm and conflicts with libboost1.81-dev.
JILAF_APT_PACKAGES=(
  # toolchain; npm fetches Swagger UI for /docs at configure time (scripts/lib/web_assets.sh)
  build-essential cmake ninja-build pkg-config ccache clang-format git npm
  # command-line tools used by the scripts (key generation, readiness probes)
  openssl curl
  # C++ libraries
  libboost1.81-dev libboost-url1.81-dev librdkafka-dev nlohmann-json3-dev prometheus-cpp-dev
  libsqlite3-dev sqlite3 libssl-dev libsodium-dev libcurl4-openssl-dev libgtest-dev libgmock-dev
  # header-only mustache for notification templates (not libmstch-dev: it pulls in Boost 1.74)
  libkainjow-mustache-dev
  # the PostgreSQL store engine (common/store/postgres) and the server its tests start
  # (scripts/lib/postgres.sh); runuser (util-linux) runs the server as an unprivileged user
  libpq-dev postgresql-15
  # tests: find_free_port and the SMTP sink used by the notification e2e tests
  python3 python3-aiosmtpd
  # the growth plot of scripts/bench (docs/bench-growth.png)
  python3-matplotlib
  # the contract test: Schemathesis in a virtualenv (scripts/lib/schemathesis.sh)
  python3-venv
  # the tz database of the business calendar (--business-time-zone, default Asia/Tokyo)
  tzdata
  # benchmarks (scripts/bench, also run test-sized by scripts/test): the nginx ceiling and wrk.
  # Debian's nginx package cannot start its service here; scripts/bench runs it by hand.
  nginx wrk
  # the Kafka broker (a JVM) and the Maven client that fetches its jars
  openjdk-17-jre-headless maven
  # deploy checks (tests/deploy): promtool and a real Prometheus server, YAML for the scripts,
  # pip to fetch the Kubernetes schemas (scripts/lib/deploy.sh)
  prometheus python3-yaml python3-pip
  # fuzzing (scripts/fuzz, also run test-sized by scripts/test): clang with libFuzzer and the
  # sanitizer runtimes, and GNU time to count the fuzzers' CPU time
  clang libclang-rt-14-dev time
)

# run_as_root CMD...: apt needs root; use sudo when we are not root and it exists.
run_as_root() {
  if ((EUID == 0)); then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -- "$@"
  else
    die "need root to run: $*"
  fi
}

# True if a Java runtime >= 17 and mvn are already on PATH (e.g. a JDK from SDKMAN), in which
# case the Debian openjdk/maven packages are not needed.
_have_java17_and_maven() {
  command -v java >/dev/null 2>&1 && command -v mvn >/dev/null 2>&1 || return 1
  local version major
  # First line looks like: openjdk version "17.0.15" 2025-04-15   (or "1.8.0_392" for Java 8)
  version="$(java -version 2>&1 | sed -n '1s/.*version "\([^"]*\)".*/\1/p')"
  major="${version%%.*}"
  [[ $major == 1 ]] && major="$(cut -d. -f2 <<<"$version")"
  [[ $major =~ ^[0-9]+$ ]] && ((major >= 17))
}

_JILAF_APT_UPDATED=0

# ensure_packages [PKG...]: install whichever of PKG... (default: JILAF_APT_PACKAGES) is missing.
# Checks with dpkg-query first so the common case (everything installed) needs neither root nor
# network. Set JILAF_SKIP_APT=1 to skip entirely (non-Debian machines, pre-baked images).
ensure_packages() {
  local -a wanted=("$@") missing=()
  local pkg status
  ((${#wanted[@]} > 0)) || wanted=("${JILAF_APT_PACKAGES[@]}")
  if [[ ${JILAF_SKIP_APT:-0} == 1 ]]; then
    return 0
  fi
  command -v dpkg-query >/dev/null 2>&1 ||
    die "dpkg-query not found: install the packages by hand (see JILAF_APT_PACKAGES in ${BASH_SOURCE[0]}) and set JILAF_SKIP_APT=1"

  for pkg in "${wanted[@]}"; do
    case $pkg in
      openjdk-17-jre-headless | maven)
        _have_java17_and_maven && continue
        ;;
      npm)
        # A Node.js build that bundles npm (e.g. NodeSource's nodejs) conflicts with Debian's
        # npm package: any working npm will do.
        command -v npm >/dev/null 2>&1 && continue
        ;;
    esac
    status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
    [[ $status == installed ]] || missing+=("$pkg")
  done
  ((${#missing[@]} > 0)) || return 0

  step "installing ${#missing[@]} missing package(s): ${missing[*]}"
  # One `apt-get update` per script run is enough; repeated calls only cost time.
  if ((_JILAF_APT_UPDATED == 0)); then
    run_as_root apt-get update -q
    _JILAF_APT_UPDATED=1
  fi
  run_as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# ---------------------------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------------------------

# build_project [PRESET]: configure (first time only) and build with a CMake preset
# (default: release). The binary dir must match "binaryDir" in CMakePresets.json.
build_project() {
  local preset="${1:-release}"
  local build_dir="$REPO_ROOT/build/$preset"
  # Ninja prints "[finished/total elapsed] ..." progress; keep the user's format if they set one.
  export NINJA_STATUS="${NINJA_STATUS:-[%f/%t %es] }"
  # build.ninja (not CMakeCache.txt) marks a finished configure: a configure that failed halfway
  # leaves a cache behind but no build.ninja. Later CMakeLists edits are picked up by ninja itself.
  if [[ ! -f $build_dir/build.ninja ]]; then
    step "configuring ($preset preset) in ${build_dir#"$REPO_ROOT"/}"
    (cd "$REPO_ROOT" && cmake --preset "$preset")
  fi
  step "building ($preset preset)"
  (cd "$REPO_ROOT" && cmake --build --preset "$preset")
}

# ---------------------------------------------------------------------------------------------
# Ports and processes
# ---------------------------------------------------------------------------------------------

# find_free_port: print a TCP port that is currently free on 127.0.0.1 (the kernel picks it).
# There is an unavoidable race until the real server binds it; ephemeral ports are handed out
# round-robin, so a collision right away is very unlikely.
find_free_port() {
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# port_is_free PORT: true if PORT can be bound on 127.0.0.1 right now.
port_is_free() {
  python3 - "$1" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: ignore TIME_WAIT
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
EOF
}

# spawn_detached LOG CMD [ARGS...]: start CMD in the background as a daemon-like child and
# leave its pid in $!. CMD gets
#   - its own session and process group (setsid), so a Ctrl-C in the terminal reaches only
#     the calling script, which then stops its children in the right order;
#   - stdin from /dev/null and stdout+stderr appended to LOG;
#   - no other inherited file descriptors: a lock held by the script, or the pipe of a caller
#     reading our output until EOF (`out=$(kafka-ctl start)`), must not stay open for as long
#     as the daemon lives.
# The subshell is not a process group leader, so setsid execs CMD in place: $! is CMD's pid.
spawn_detached() {
  local log="$1"
  shift
  (
    fd=''
    # The listing includes the fd used to read /proc itself, already closed by now: silence
    # that one error. The real stdin/stdout/stderr are replaced just below anyway.
    for fd in /proc/"$BASHPID"/fd/*; do
      fd="${fd##*/}"
      if ((fd > 2)); then exec {fd}>&-; fi
    done 2>/dev/null
    exec setsid -- "$@" </dev/null >>"$log" 2>&1
  ) &
}

# pid_alive PID: true if PID runs. Zombies count as dead: `kill -0` succeeds on an unreaped
# child, which would make us wait for a process that already exited.
pid_alive() {
  local pid="$1" stat
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  { read -r stat <"/proc/$pid/stat"; } 2>/dev/null || return 1
  # Field 3 is the state; field 2 (comm) may contain spaces, so cut after its closing paren.
  stat="${stat##*) }"
  [[ ${stat%% *} != Z ]]
}

# pid_stopped PID: true if PID is stopped by SIGSTOP (state T).
pid_stopped() {
  local stat
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  stat="${stat##*) }"
  [[ ${stat%% *} == T ]]
}

# wait_pid_exit PID TIMEOUT_SECONDS: poll until PID is gone; false on timeout.
wait_pid_exit() {
  local pid="$1" deadline=$((SECONDS + $2))
  while pid_alive "$pid"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# stop_pid PID NAME [TIMEOUT_SECONDS] [SIGNAL]: send SIGNAL (default TERM), wait for a graceful
# exit, SIGKILL after the timeout (default 30 s). SIGCONT follows the signal so that a process
# paused with SIGSTOP can act on it instead of hanging until the timeout.
stop_pid() {
  local pid="$1" name="$2" timeout="${3:-30}" signal="${4:-TERM}"
  pid_alive "$pid" || return 0
  kill -s "$signal" "$pid" 2>/dev/null || true
  kill -s CONT "$pid" 2>/dev/null || true
  if ! wait_pid_exit "$pid" "$timeout"; then
    warn "$name (pid $pid) did not exit within ${timeout}s after SIG$signal; sending SIGKILL"
    kill -s KILL "$pid" 2>/dev/null || true
    wait_pid_exit "$pid" 5 || die "$name (pid $pid) survived SIGKILL"
  fi
}

# shellcheck shell=bash
# A local Keycloak (the OpenID Connect provider of the tests and of `scripts/run --with-idp`),
# run from its server distribution on Maven Central (org.keycloak:keycloak-quarkus-dist) on the
# JDK 17 the broker uses. Development mode: an H2 database file under the instance
# directory, plain HTTP on 127.0.0.1, realms imported from scripts/keycloak/*-realm.json. Source it:
#
#   source "$REPO_ROOT/scripts/lib/keycloak.sh"
#   keycloak_fetch                 # once per machine, cached in $JILAF_CACHE_DIR/keycloak-<version>
#   keycloak_start "$dir" 8180     # background; returns once the realm answers discovery
#   keycloak_stop "$dir"
#
# An instance directory DIR holds: home/ (bin/ and data/ of its own: the H2 database with the
# realm keys and users, the realm files to import), keycloak.pid,
# keycloak.log (the server's output), url (http://127.0.0.1:PORT). The bootstrap administrator
# (master realm) is admin / admin: for the admin REST API of tests and local runs only.
#
# Tunables (environment):
#   JILAF_CACHE_DIR               cache root (default ${XDG_CACHE_HOME:-~/.cache}/jilaf)
#   JILAF_KEYCLOAK_START_TIMEOUT  seconds keycloak_start waits (default 240)
#   JILAF_KEYCLOAK_HEAP           server heap, -Xmx (default 768m)

# shellcheck source=scripts/lib/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

[[ -n ${_JILAF_KEYCLOAK_SH_LOADED:-} ]] && return 0
_JILAF_KEYCLOAK_SH_LOADED=1

KEYCLOAK_VERSION=26.4.0
KEYCLOAK_REALM_DIR="$REPO_ROOT/scripts/keycloak"
KEYCLOAK_ADMIN_USER=admin
KEYCLOAK_ADMIN_PASSWORD=admin

# keycloak_home: where the unpacked distribution of the pinned version lives.
keycloak_home() {
  printf '%s/keycloak-%s\n' "${JILAF_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/jilaf}" \
    "$KEYCLOAK_VERSION"
}

# keycloak_fetch: make sure the distribution is unpacked in the cache; download it if not.
keycloak_fetch() {
  local home parent
  home="$(keycloak_home)"
  parent="$(dirname -- "$home")"
  command -v java >/dev/null 2>&1 || die "java not found (ensure_packages installs it)"
  [[ -f $home/.jilaf-complete ]] && return 0
  command -v mvn >/dev/null 2>&1 || die "mvn not found (ensure_packages installs it)"
  mkdir -p -- "$parent"
  (
    exec 9>"$parent/.fetch-keycloak.lock"
    flock 9
    [[ -f $home/.jilaf-complete ]] && exit 0
    step "downloading Keycloak $KEYCLOAK_VERSION (keycloak-quarkus-dist) from Maven Central"
    info "into $home"
    local tmp
    tmp="$(mktemp -d "$parent/.keycloak.tmp.XXXXXX")"
    trap 'rm -rf -- "$tmp"' EXIT
    mvn -B -q dependency:copy \
      -Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:tar.gz" \
      -DoutputDirectory="$tmp/download"
    tar -xzf "$tmp/download/keycloak-quarkus-dist-$KEYCLOAK_VERSION.tar.gz" -C "$tmp"
    [[ -x $tmp/keycloak-$KEYCLOAK_VERSION/bin/kc.sh ]] ||
      die "the Keycloak archive has no keycloak-$KEYCLOAK_VERSION/bin/kc.sh"
    rm -rf -- "$home"
    mv -- "$tmp/keycloak-$KEYCLOAK_VERSION" "$home"
    date -u +%FT%TZ >"$home/.jilaf-complete"
    info "fetched ($(du -sh -- "$home" | cut -f1))"
  )
}

# keycloak_pid DIR: print the pid of the running server of DIR; fails if none.
keycloak_pid() {
  local dir="$1" pid
  [[ -f $dir/keycloak.pid ]] || return 1
  pid="$(cat -- "$dir/keycloak.pid")"
  pid_alive "$pid" || return 1
  printf '%s\n' "$pid"
}

# _keycloak_instance_home CACHE_HOME INSTANCE_HOME: Keycloak keeps its database and reads its
# realm imports under <home>/data, and finds <home> from the real path of bin/kc.sh. An instance
# home with its own bin/ and data/ and links to the cached lib/, conf/, themes/ and providers/
# keeps every instance's state apart from the cache and from other instances.
_keycloak_instance_home() {
  local cache="$1" home="$2" part
  mkdir -p -- "$home/data/import"
  # Renewed on every start, so that a new pinned version never runs with an old bin/.
  rm -rf -- "$home/bin"
  cp -R -- "$cache/bin" "$home/bin"
  for part in lib conf themes providers version.txt; do
    ln -sfn -- "$cache/$part" "$home/$part"
  done
}

# keycloak_start DIR PORT: start dev mode on 127.0.0.1:PORT with the repository's realms; wait
# until the jilaf realm serves its discovery document. The realms are imported only into an
# empty database, so a restart keeps rotated keys and changed users.
keycloak_start() {
  local dir="$1" port="$2" home pid deadline url
  [[ $port =~ ^[0-9]+$ ]] || die "keycloak_start: port must be a number, got '$port'"
  home="$(keycloak_home)"
  [[ -x $home/bin/kc.sh ]] || die "Keycloak is not fetched (keycloak_fetch)"
  mkdir -p -- "$dir"
  dir="$(cd -- "$dir" && pwd -P)"
  keycloak_pid "$dir" >/dev/null && die "keycloak is already running in $dir"
  _keycloak_instance_home "$home" "$dir/home"
  cp -- "$KEYCLOAK_REALM_DIR"/*-realm.json "$dir/home/data/import/"
  url="http://127.0.0.1:$port"
  printf '%s\n' "$url" >"$dir/url"
  : >"$dir/keycloak.log"
  # --hostname: the issuer in tokens and discovery is this URL whatever Host header a client
  # sends, so the services' --oidc-issuer matches every token.
  # kc.sh may run the JVM twice (a re-build, then the server): $! is the leader of a process
  # group of its own, which is what keycloak_stop signals.
  KC_BOOTSTRAP_ADMIN_USERNAME="$KEYCLOAK_ADMIN_USER" \
    KC_BOOTSTRAP_ADMIN_PASSWORD="$KEYCLOAK_ADMIN_PASSWORD" \
    JAVA_OPTS_KC_HEAP="-Xms128m -Xmx${JILAF_KEYCLOAK_HEAP:-768m}" \
    spawn_detached "$dir/keycloak.log" "$dir/home/bin/kc.sh" start-dev \
    --http-host 127.0.0.1 --http-port "$port" --hostname "$url" \
    --import-realm \
    --log-level WARN,org.keycloak.services:INFO
  pid=$!
  printf '%s\n' "$pid" >"$dir/keycloak.pid"
  deadline=$((SECONDS + ${JILAF_KEYCLOAK_START_TIMEOUT:-240}))
  until curl -fsS -o /dev/null "$url/realms/jilaf/.well-known/openid-configuration" 2>/dev/null; do
    if ! pid_alive "$pid"; then
      tail -n 30 -- "$dir/keycloak.log" >&2
      die "Keycloak exited during start-up (log: $dir/keycloak.log)"
    fi
    if ((SECONDS > deadline)); then
      tail -n 30 -- "$dir/keycloak.log" >&2
      die "Keycloak did not serve the jilaf realm within ${JILAF_KEYCLOAK_START_TIMEOUT:-240} s"
    fi
    sleep 0.5
  done
}

# keycloak_stop DIR: SIGTERM the server (SIGCONT too, should a test have paused it), wait,
# SIGKILL after 30 s.
keycloak_stop() {
  local dir="$1" pid
  if pid="$(keycloak_pid "$dir")"; then
    kill -s TERM -- "-$pid" 2>/dev/null || true
    kill -s CONT -- "-$pid" 2>/dev/null || true
    wait_pid_exit "$pid" 30 || kill -s KILL -- "-$pid" 2>/dev/null || true
    wait_pid_exit "$pid" 5 || warn "keycloak (pid $pid) survived SIGKILL"
  fi
  rm -f -- "$dir/keycloak.pid"
}

# shellcheck shell=bash
# A throw-away PostgreSQL 15 cluster (Debian's postgresql-15 server) for the tests: initdb in a
# directory of its own, the server on 127.0.0.1 and a free port, password authentication over
# TCP. initdb and postgres refuse to run as root, so as root they run as the system user
# jilaf-pg (created when missing); as anyone else, as that user. Source it:
#
#   source "$REPO_ROOT/scripts/lib/postgres.sh"
#   postgres_start "$dir" 54321   # initdb + start; returns once the server accepts connections
#   postgres_url "$dir"           # postgresql://jilaf@127.0.0.1:PORT/postgres
#   postgres_query "$dir" DB SQL  # rows of SQL in database DB, '|' between columns
#   postgres_stop "$dir"          # fast shutdown; the caller removes DIR
#
# DIR holds: data/ (the cluster), password (the superuser's password, one line: what
# --database-password-file style settings read), port, url, postgres.log, and the server's
# Unix socket. The superuser is `jilaf`; tests create a database of their own per test.
#
# Tunables (environment):
#   JILAF_POSTGRES_BIN_DIR        server binaries (default /usr/lib/postgresql/15/bin)
#   JILAF_POSTGRES_USER           system user the server runs as under root (default jilaf-pg)
#   JILAF_POSTGRES_START_TIMEOUT  seconds postgres_start waits (default 60)
#   JILAF_POSTGRES_OPTIONS        more server settings for postgres_start ("-c name=value ...";
#                                 scripts/bench sets a production server's, see bench.py)

# shellcheck source=scripts/lib/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

[[ -n ${_JILAF_POSTGRES_SH_LOADED:-} ]] && return 0
_JILAF_POSTGRES_SH_LOADED=1

POSTGRES_SUPERUSER=jilaf

_postgres_bin() {
  printf '%s/%s\n' "${JILAF_POSTGRES_BIN_DIR:-/usr/lib/postgresql/15/bin}" "$1"
}

# _postgres_as_owner CMD...: run CMD as the cluster's owner (jilaf-pg under root, else us).
_postgres_as_owner() {
  if ((EUID == 0)); then
    runuser -u "${JILAF_POSTGRES_USER:-jilaf-pg}" -- "$@"
  else
    "$@"
  fi
}

# _postgres_ensure_user: under root, create the unprivileged system user the server runs as.
_postgres_ensure_user() {
  ((EUID == 0)) || return 0
  local user="${JILAF_POSTGRES_USER:-jilaf-pg}"
  id -u "$user" >/dev/null 2>&1 && return 0
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user" ||
    id -u "$user" >/dev/null 2>&1 || die "cannot create the system user $user"
}

# postgres_url DIR: the connection URL of the cluster in DIR (no password: see DIR/password).
postgres_url() {
  cat -- "$1/url"
}

# postgres_start DIR PORT: create a cluster in DIR (an empty directory) and start it on
# 127.0.0.1:PORT; fails with the server's log if it does not accept connections in time. A DIR
# that already holds a cluster (scripts/run's var/postgres) is started as it is: its data and
# password stay. JILAF_POSTGRES_FSYNC (default off: the tests' clusters are thrown away) is the
# server's fsync setting; scripts/run keeps its data and sets it on.
postgres_start() {
  local dir="$1" port="$2" timeout="${JILAF_POSTGRES_START_TIMEOUT:-60}"
  [[ -x $(_postgres_bin initdb) ]] ||
    die "$(_postgres_bin initdb) not found (ensure_packages installs postgresql-15)"
  _postgres_ensure_user
  mkdir -p -- "$dir"
  dir="$(cd -- "$dir" && pwd)"
  if [[ ! -f $dir/data/PG_VERSION ]]; then
    # Random, and only ever in DIR: the tests read it from the file.
    openssl rand -hex 24 >"$dir/password"
    chmod 600 "$dir/password"
    if ((EUID == 0)); then
      chown -R "${JILAF_POSTGRES_USER:-jilaf-pg}" -- "$dir"
      chmod 700 -- "$dir"
    fi
    _postgres_as_owner "$(_postgres_bin initdb)" --pgdata="$dir/data" --username="$POSTGRES_SUPERUSER" \
      --pwfile="$dir/password" --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 \
      --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
      die "initdb failed: $(tail -n 20 "$dir/initdb.log")"
  fi
  _postgres_as_owner "$(_postgres_bin pg_ctl)" --pgdata="$dir/data" --log="$dir/postgres.log" \
    --wait --timeout="$timeout" \
    --options="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=${JILAF_POSTGRES_FSYNC:-off} -c max_connections=200 ${JILAF_POSTGRES_OPTIONS:-}" \
    start >/dev/null 2>&1 ||
    die "postgres did not start on 127.0.0.1:$port: $(tail -n 20 "$dir/postgres.log" 2>/dev/null)"
  printf '%s\n' "$port" >"$dir/port"
  printf 'postgresql://%s@127.0.0.1:%s/postgres\n' "$POSTGRES_SUPERUSER" "$port" >"$dir/url"
}

# postgres_create_database DIR NAME: create database NAME in the running cluster of DIR unless it
# exists (through the Unix socket in DIR, where the superuser needs no password).
postgres_create_database() {
  local dir="$1" name="$2" port
  port="$(cat -- "$dir/port")"
  [[ $name =~ ^[a-z_][a-z0-9_]*$ ]] || die "postgres_create_database: bad database name '$name'"
  if [[ -z $(_postgres_as_owner "$(_postgres_bin psql)" -h "$dir" -p "$port" -U "$POSTGRES_SUPERUSER" \
    -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$name'") ]]; then
    _postgres_as_owner "$(_postgres_bin psql)" -h "$dir" -p "$port" -U "$POSTGRES_SUPERUSER" \
      -d postgres -qc "CREATE DATABASE $name" >/dev/null ||
      die "cannot create database $name in $dir"
  fi
}

# postgres_query DIR DATABASE SQL: run SQL in DATABASE of the cluster in DIR (through its Unix
# socket, as the superuser); prints the rows unaligned, columns separated by '|'.
postgres_query() {
  local dir="$1" database="$2" sql="$3"
  _postgres_as_owner "$(_postgres_bin psql)" -h "$dir" -p "$(cat -- "$dir/port")" \
    -U "$POSTGRES_SUPERUSER" -d "$database" -AtXq -v ON_ERROR_STOP=1 -c "$sql"
}

# postgres_pid DIR: prints the server's pid and succeeds if the cluster in DIR is running.
postgres_pid() {
  local pid
  [[ -f $1/data/postmaster.pid ]] || return 1
  pid="$(head -n 1 "$1/data/postmaster.pid" 2>/dev/null)"
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && printf '%s\n' "$pid"
}

# postgres_stop DIR: stop the cluster in DIR (fast shutdown: sessions are cut, nothing waits).
postgres_stop() {
  local dir="$1"
  [[ -f $dir/data/postmaster.pid ]] || return 0
  _postgres_as_owner "$(_postgres_bin pg_ctl)" --pgdata="$dir/data" --mode=fast --wait \
    --timeout=30 stop >/dev/null 2>&1 || {
    local pid
    pid="$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null)"
    [[ -n $pid ]] && stop_pid "$pid" postgres 10
  }
}

# shellcheck shell=bash
# The staff console (web/console/, docs/console.md): its npm dependencies, its build and the
# nginx that serves it. Used by scripts/run, scripts/test (through CMake's console build) and
# the browser test:
#
#   bash scripts/lib/console.sh build OUT_DIR
#       npm ci (pinned by web/console/package-lock.json) into the cache, then tsc + vite build
#       into OUT_DIR; skipped when OUT_DIR holds a build of the same sources
#   bash scripts/lib/console.sh nginx-conf DIR PORT STATIC_DIR CONFIG_JSON INVITATIONS PROJECTS MISSIONS NOTIFICATIONS [CONNECT_SRC]
#       writes DIR/nginx.conf: the console on 127.0.0.1:PORT, /config.json from CONFIG_JSON,
#       /api/<service>/ proxied to each service's base URL (same origin: no CORS needed), a strict
#       Content-Security-Policy (CONNECT_SRC adds the identity provider's origin); run it with
#       nginx -p DIR -c DIR/nginx.conf
#   bash scripts/lib/console.sh config-json FILE [ISSUER CLIENT_ID]
#       writes the runtime configuration (same-origin API paths; the OIDC issuer if given)

# shellcheck source=scripts/lib/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

CONSOLE_SRC="$REPO_ROOT/web/console"

console_cache_dir() {
  local lock_hash
  lock_hash="$(sha256sum "$CONSOLE_SRC/package-lock.json" | cut -c1-16)"
  printf '%s/console-npm/%s\n' "${JILAF_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/jilaf}" "$lock_hash"
}

# Node and npm: Debian's (Node 18, enough for Vite 6) unless a newer one is already installed.
console_ensure_node() {
  command -v node >/dev/null 2>&1 || ensure_packages nodejs
  command -v npm >/dev/null 2>&1 || ensure_packages npm
  command -v node >/dev/null 2>&1 || die "node not found: install Debian's nodejs"
  command -v npm >/dev/null 2>&1 || die "npm not found: install Debian's npm"
}

# npm ci once per lock file, into the cache (outside the repository); no install scripts run.
console_deps_fetch() {
  local dir
  dir="$(console_cache_dir)"
  [[ -f $dir/.jilaf-complete ]] && return 0
  console_ensure_node
  mkdir -p -- "$(dirname -- "$dir")"
  (
    exec 9>"$dir.lock"
    flock 9
    [[ -f $dir/.jilaf-complete ]] && exit 0
    local tmp
    tmp="$(mktemp -d "$dir.tmp.XXXXXX")"
    trap 'rm -rf -- "$tmp"' EXIT
    step "fetching the console's npm packages (npm ci; cached in $dir)"
    cp -- "$CONSOLE_SRC/package.json" "$CONSOLE_SRC/package-lock.json" "$tmp/"
    (cd -- "$tmp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
    rm -rf -- "$dir"
    mv -- "$tmp" "$dir"
    trap - EXIT
    printf 'ok\n' >"$dir/.jilaf-complete"
  )
}

# The digest of everything the build reads: a build of the same sources is not repeated.
console_sources_hash() {
  (
    cd -- "$REPO_ROOT"
    find web/console -path web/console/node_modules -prune -o -path web/console/dist -prune \
      -o -type f -print | LC_ALL=C sort | xargs sha256sum
    sha256sum common/util/m49.cpp
  ) | sha256sum | cut -c1-32
}

console_build() {
  local out hash deps
  out="$(realpath -m -- "$1")"
  hash="$(console_sources_hash)"
  [[ -f $out/.jilaf-build && "$(cat -- "$out/.jilaf-build")" == "$hash" ]] && return 0
  console_deps_fetch
  console_ensure_node
  deps="$(console_cache_dir)"
  # Vite and TypeScript resolve packages from the source tree upwards: a link to the cache.
  ln -sfn -- "$deps/node_modules" "$CONSOLE_SRC/node_modules"
  step "building the console into $out"
  (
    cd -- "$CONSOLE_SRC"
    node "$deps/node_modules/typescript/bin/tsc" --noEmit -p tsconfig.json
    JILAF_CONSOLE_OUT="$out" node "$deps/node_modules/vite/bin/vite.js" build --logLevel warn
  ) >&2
  printf '%s\n' "$hash" >"$out/.jilaf-build"
}

console_config_json() {
  local file="$1" issuer="${2:-}" client="${3:-jilaf-portal}" oidc=null
  [[ -z $issuer ]] || oidc="{\"issuer\": \"$issuer\", \"client_id\": \"$client\"}"
  cat >"$file" <<JSON
{
  "api": {
    "invitations": "/api/invitations",
    "projects": "/api/projects",
    "missions": "/api/missions",
    "notifications": "/api/notifications"
  },
  "oidc": $oidc,
  "role_map": {"jilaf-viewer": "viewer", "jilaf-staff": "staff", "jilaf-admin": "admin"},
  "time_zone": "Asia/Tokyo",
  "inbox_poll_seconds": 5
}
JSON
}

console_nginx_conf() {
  local dir="$1" port="$2" static="$3" config_json="$4"
  local invitations="$5" projects="$6" missions="$7" notifications="$8" connect="${9:-}"
  mkdir -p -- "$dir/tmp" "$dir/logs"
  # script-src 'self' only; styles allow inline because the print-ready letters the console
  # opens carry their own <style> (their window inherits this policy).
  local csp="default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'${connect:+ $connect}; form-action 'self'${connect:+ $connect}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
  # Started as root, nginx runs its workers as nobody, who cannot read a build inside a private
  # directory (a clone made by mktemp -d, mode 700): they run as the user who started it.
  local user_line=''
  ((EUID != 0)) || user_line="user $(id -un) $(id -gn);"
  cat >"$dir/nginx.conf" <<NGINX
# Written by scripts/lib/console.sh: the staff console and a same-origin proxy to the services.
daemon off;
$user_line
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 256; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log $dir/logs/access.log;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  server_tokens off;
  server {
    listen 127.0.0.1:$port;
    root $static;
    add_header Content-Security-Policy "$csp" always;
    add_header X-Content-Type-Options nosniff always;
    add_header Referrer-Policy no-referrer always;
    location = /config.json { alias $config_json; add_header Cache-Control no-store; add_header Content-Security-Policy "$csp" always; }
    location /assets/ { add_header Cache-Control "public, max-age=31536000, immutable"; add_header Content-Security-Policy "$csp" always; }
    location / { try_files \$uri /index.html; add_header Cache-Control no-cache; add_header Content-Security-Policy "$csp" always; }
    location /api/invitations/ { proxy_pass $invitations/; proxy_set_header X-Forwarded-For \$remote_addr; }
    location /api/projects/ { proxy_pass $projects/; proxy_set_header X-Forwarded-For \$remote_addr; }
    location /api/missions/ { proxy_pass $missions/; proxy_set_header X-Forwarded-For \$remote_addr; }
    location /api/notifications/ { proxy_pass $notifications/; proxy_set_header X-Forwarded-For \$remote_addr; }
  }
}
NGINX
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  case ${1:-} in
    build) console_build "${2:?OUT_DIR}" ;;
    nginx-conf)
      shift
      console_nginx_conf "$@"
      ;;
    config-json)
      shift
      console_config_json "$@"
      ;;
    *) die "usage: console.sh build OUT_DIR | nginx-conf ... | config-json FILE [ISSUER CLIENT]" ;;
  esac
fi

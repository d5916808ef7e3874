# shellcheck shell=bash
# A single-node Apache Kafka (KRaft, combined broker+controller) for development and tests,
# run straight from the Maven jars: no tarball, no Docker, no ZooKeeper. Source it:
#
#   source "$REPO_ROOT/scripts/lib/kafka.sh"
#   kafka_fetch                          # once per machine, cached
#   kafka_configure "$dir" 9092 9093     # writes config, formats storage on first use
#   kafka_start "$dir"                   # background; returns once the broker serves requests
#   kafka_create_topics "$dir"
#   kafka_stop "$dir"
#
# A secured broker (TLS + SASL SCRAM-SHA-512 + ACLs, as in production):
#   kafka_secure_pki "$dir/pki" invitations notifications   # CA, certificates, passwords
#   kafka_configure "$dir" 9094 9095 "$dir/pki" 9096          # SASL_SSL + mTLS listeners, ACLs
#   kafka_start "$dir"; kafka_create_topics "$dir"
#   kafka_acls_from_kafkausers "$dir" deploy/k8s/overlays/prod/kafka.yaml
#
# A broker directory DIR holds everything about one broker:
#   server.properties, log4j2.properties, tools-log4j2.properties   generated configuration
#   bootstrap      "127.0.0.1:PORT", for clients and `kafka-ctl bootstrap`
#   client.properties  (secured brokers only) the admin user's settings for the Kafka tools
#   data/          the log dirs (topics, offsets, KRaft metadata); kept across restarts
#   broker.pid     pid of the running broker (removed on a clean stop)
#   broker.log     the broker's own log (INFO, rotated at 20 MB)
#   broker.out     JVM stdout/stderr (warnings and crashes only), truncated on each start
#
# Tunables (environment):
#   JILAF_CACHE_DIR             jar cache root (default ${XDG_CACHE_HOME:-~/.cache}/jilaf)
#   JILAF_KAFKA_START_TIMEOUT   seconds kafka_start waits for the broker (default 60)
#   JILAF_KAFKA_STOP_TIMEOUT    seconds kafka_stop waits before SIGKILL (default 30)
#   JILAF_KAFKA_HEAP            broker heap, -Xmx (default 512m)

# shellcheck source=scripts/lib/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

[[ -n ${_JILAF_KAFKA_SH_LOADED:-} ]] && return 0
_JILAF_KAFKA_SH_LOADED=1

# The pom that pins the Kafka version; JILAF_KAFKA_POM selects another one (the security test's
# broker runs scripts/kafka/pom-scram.xml). A configured broker directory remembers its jars.
KAFKA_POM="$REPO_ROOT/scripts/kafka/pom.xml"
KAFKA_TOPICS_FILE="$REPO_ROOT/scripts/kafka/topics.txt"

# JVM flags for the short-lived command-line tools: they run for about a second, so start-up
# time is all that matters. C1 only and the serial GC cut CPU time on a 2-core machine, and
# JVM warnings (e.g. an unusable class-data archive) go to stderr, never into parsed stdout.
KAFKA_TOOL_JVM_OPTS=(-Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1
  -Xlog:disable -Xlog:all=warning:stderr)

# kafka_version: the Kafka version pinned in scripts/kafka/pom.xml.
kafka_version() {
  local version
  version="$(sed -n 's:.*<kafka\.version>[[:space:]]*\([^<[:space:]]*\)[[:space:]]*</kafka\.version>.*:\1:p' \
    "$(_kafka_pom)" | head -n 1)"
  [[ -n $version ]] || die "no <kafka.version> in $(_kafka_pom)"
  printf '%s\n' "$version"
}

_kafka_pom() {
  printf '%s\n' "${JILAF_KAFKA_POM:-$KAFKA_POM}"
}

# _kafka_libs DIR: the jars of the broker configured in DIR (kafka_libs_dir for older dirs).
_kafka_libs() {
  if [[ -f $1/libs ]]; then cat -- "$1/libs"; else kafka_libs_dir; fi
}

# kafka_libs_dir: where the jars of the pinned version live (they may not be fetched yet).
kafka_libs_dir() {
  printf '%s/kafka-%s/libs\n' "${JILAF_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/jilaf}" \
    "$(kafka_version)"
}

# The marker written after a complete fetch holds the pom's checksum: a half-finished download
# has no marker, and editing the pom (another dependency, a new version) triggers a re-fetch.
_kafka_pom_checksum() {
  sha256sum "$(_kafka_pom)" | cut -d' ' -f1
}

_kafka_libs_complete() {
  local libs="$1"
  [[ -f $libs/.jilaf-complete && "$(cat "$libs/.jilaf-complete")" == "$(_kafka_pom_checksum)" ]]
}

# kafka_fetch: make sure the Kafka jars are in the cache; download them with Maven if not.
kafka_fetch() {
  local libs version parent
  libs="$(kafka_libs_dir)"
  version="$(kafka_version)"
  parent="$(dirname -- "$libs")"
  command -v java >/dev/null 2>&1 || die "java not found (ensure_packages installs it)"
  _kafka_libs_complete "$libs" && return 0
  command -v mvn >/dev/null 2>&1 || die "mvn not found (ensure_packages installs it)"

  mkdir -p -- "$parent"
  # Serialise concurrent fetches (two scripts/test runs on a fresh machine): the second waits,
  # then finds the cache complete.
  (
    exec 9>"$parent/.fetch.lock"
    flock 9
    _kafka_libs_complete "$libs" && exit 0

    step "downloading Kafka $version jars (kafka_2.13, kafka-tools, log4j) from Maven Central"
    info "into $libs"
    # Download into a temporary sibling, then swap it in with renames (same filesystem), so a
    # broker never sees a half-populated libs/ and an interrupted download leaves no debris.
    tmp="$(mktemp -d "$parent/.libs.tmp.XXXXXX")"
    trap 'rm -rf -- "$tmp" "$parent/.libs.old.$$"' EXIT
    mvn -B -q -f "$(_kafka_pom)" dependency:copy-dependencies -DoutputDirectory="$tmp"
    compgen -G "$tmp/kafka_2.13-$version.jar" >/dev/null ||
      die "Maven finished but kafka_2.13-$version.jar is missing from $tmp"
    _kafka_pom_checksum >"$tmp/.jilaf-complete"
    [[ -e $libs ]] && mv -- "$libs" "$parent/.libs.old.$$"
    chmod 755 -- "$tmp" # mktemp -d creates it 0700
    mv -- "$tmp" "$libs"

    local -a jars=("$libs"/*.jar)
    info "fetched ${#jars[@]} jars ($(du -sh -- "$libs" | cut -f1)):"
    printf '%s\n' "${jars[@]##*/}" | paste -sd' ' | fold -s -w 96 | sed 's/^/      /' >&2
  )
}

# _kafka_abs_dir DIR: DIR as an absolute path (the generated configs must not depend on cwd).
_kafka_abs_dir() {
  [[ -d $1 ]] || die "kafka directory $1 does not exist"
  (cd -- "$1" && pwd -P)
}

# Class-data sharing (AppCDS) for the tools: a JVM-version-specific archive of the classes a
# tool run loads (admin client, argument parsing, logging), already parsed and verified.
# It takes a tool call from ~1.2 s to ~0.7 s. It lives inside libs/, so a re-fetch drops it,
# and its name includes the java binary's identity, so a JDK upgrade makes a new one.
_kafka_cds_archive() {
  local java_bin
  java_bin="$(readlink -f -- "$(command -v java)")"
  printf '%s/.tools-%s.jsa\n' "$(_kafka_libs "$1")" \
    "$(stat -c '%n %s %Y' -- "$java_bin" | sha256sum | cut -c1-16)"
}

# _kafka_java DIR CLASS ARGS...: run a Kafka command-line tool against broker DIR, logging
# WARN and above to stderr only. Uses the CDS archive; a TopicCommand run (which loads the
# admin-client classes every tool here shares) records it when it is missing.
_kafka_java() {
  local dir="$1" class="$2"
  shift 2
  local libs jsa status=0
  libs="$(_kafka_libs "$dir")"
  jsa="$(_kafka_cds_archive "$dir")"
  local -a cds=()
  if [[ -f $jsa ]]; then
    cds=(-XX:SharedArchiveFile="$jsa")
  elif [[ $class == org.apache.kafka.tools.TopicCommand ]]; then
    # Recording warns about every class it cannot archive (old class-file versions): noise.
    cds=(-XX:ArchiveClassesAtExit="$jsa.tmp.$BASHPID" '-Xlog:cds*=off:stderr')
  fi
  java "${KAFKA_TOOL_JVM_OPTS[@]}" "${cds[@]}" \
    -Dlog4j2.configurationFile="$dir/tools-log4j2.properties" \
    -Dlog4j.configuration="file:$dir/tools-log4j.properties" \
    -cp "$libs/*" "$class" "$@" || status=$?
  if [[ -f $jsa.tmp.$BASHPID ]]; then
    _kafka_cds_install "$jsa.tmp.$BASHPID" "$jsa" "$status" "$libs"
  fi
  return "$status"
}

# _kafka_cds_install TMP ARCHIVE STATUS LIBS: keep a freshly recorded archive only if the run
# succeeded and the JVM can map it: a damaged archive makes the JVM crash instead of falling
# back, so it must never be installed. The rename makes it appear atomically.
_kafka_cds_install() {
  local tmp="$1" jsa="$2" status="$3" libs="$4"
  if ((status == 0)) &&
    java "${KAFKA_TOOL_JVM_OPTS[@]}" -Xshare:on -XX:SharedArchiveFile="$tmp" \
      -XX:ErrorFile=/dev/null -XX:-CreateCoredumpOnCrash \
      -cp "$libs/*" -version >/dev/null 2>&1; then
    mv -f -- "$tmp" "$jsa"
  else
    rm -f -- "$tmp"
  fi
}

# kafka_bootstrap DIR: print "127.0.0.1:PORT".
kafka_bootstrap() {
  local dir="$1"
  [[ -f $dir/bootstrap ]] || die "$dir is not a configured kafka directory (no bootstrap file)"
  cat -- "$dir/bootstrap"
}

# kafka_configure DIR PORT CONTROLLER_PORT [PKI_DIR [MTLS_PORT]]: write the configuration of a
# single-node KRaft broker listening on 127.0.0.1 and format its storage (first time only, so data
# survives restarts). Rewriting the config each time lets ports change between runs. With PKI_DIR
# (made by kafka_secure_pki) the client listener is SASL_SSL: TLS with PKI_DIR's broker certificate,
# SCRAM-SHA-512 for every client (the users of PKI_DIR/*.password, created at format time), and
# the StandardAuthorizer refusing whatever no ACL allows; "admin" is the super user the broker
# and the tools log in as. The controller listener stays PLAINTEXT on 127.0.0.1 (KRaft cannot
# authenticate controllers with SCRAM): its ANONYMOUS principal is a super user too, and a
# controller serves no produce or fetch. With MTLS_PORT too, a second client listener (SSL) there
# authenticates clients by certificate instead (mTLS; principal User:<CN>, so the same ACLs
# apply); its address goes to DIR/bootstrap-mtls.
kafka_configure() {
  local dir="$1" port="$2" cport="$3" pki="${4:-}" mport="${5:-}"
  [[ $port =~ ^[0-9]+$ && $cport =~ ^[0-9]+$ && $port != "$cport" ]] ||
    die "kafka_configure: need two distinct numeric ports, got '$port' and '$cport'"
  mkdir -p -- "$dir"
  dir="$(_kafka_abs_dir "$dir")"
  # The running broker keeps its old ports: new config files would only lie about them.
  if kafka_pid "$dir" >/dev/null; then
    die "kafka is running in $dir: stop it before configuring"
  fi

  local listener=PLAINTEXT listeners advertised map
  if [[ -n $pki ]]; then
    pki="$(_kafka_abs_dir "$pki")"
    [[ -f $pki/broker.pem && -f $pki/admin.password ]] ||
      die "$pki holds no kafka_secure_pki output"
    listener=SASL_SSL
  fi
  listeners="$listener://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport"
  advertised="$listener://127.0.0.1:$port"
  map="$listener:$listener,CONTROLLER:PLAINTEXT"
  if [[ -n $mport ]]; then
    [[ -n $pki ]] || die "kafka_configure: an mTLS port needs a PKI directory"
    listeners+=",SSL://127.0.0.1:$mport"
    advertised+=",SSL://127.0.0.1:$mport"
    map+=",SSL:SSL"
  fi
  cat >"$dir/server.properties" <<EOF
# Generated by scripts/lib/kafka.sh (kafka_configure); rewritten on every configure.
# Single node, KRaft combined mode: this process is both the broker and the only controller.
node.id=1
process.roles=broker,controller
controller.quorum.voters=1@127.0.0.1:$cport

listeners=$listeners
advertised.listeners=$advertised
inter.broker.listener.name=$listener
controller.listener.names=CONTROLLER
listener.security.protocol.map=$map

log.dirs=$dir/data

# One broker: every internal topic must live with a single replica.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1
# __consumer_offsets is created on the first consumer group; 50 partitions (the default) only
# slow that down here.
offsets.topic.num.partitions=5

# After a crash (kafka-ctl kill) the restarted broker cannot register until the controller
# expires the old incarnation's session: 9 s by default, 3 s here. Heartbeats are local, so
# the shorter timeout costs nothing; a pause (SIGSTOP) longer than 3 s makes the controller
# fence the broker on resume, and the next heartbeat, 0.5 s later, unfences it again.
broker.session.timeout.ms=3000
broker.heartbeat.interval.ms=500

# Topics come from scripts/kafka/topics.txt; a typo in a topic name must fail, not create one.
auto.create.topics.enable=false
num.partitions=3
# Consumers join immediately instead of after the default 3 s grace period (tests wait on it).
group.initial.rebalance.delay.ms=0
EOF
  rm -f -- "$dir/client.properties" "$dir/bootstrap-mtls"
  [[ -z $pki ]] || _kafka_configure_security "$dir" "$pki"
  if [[ -n $mport ]]; then
    cat >>"$dir/server.properties" <<'EOF'
# The mTLS listener: a client certificate signed by the CA is required, and its CN is the user.
listener.name.ssl.ssl.client.auth=required
ssl.principal.mapping.rules=RULE:^CN=([^,]+)$/$1/,DEFAULT
EOF
    printf '127.0.0.1:%s\n' "$mport" >"$dir/bootstrap-mtls"
  fi

  cat >"$dir/log4j2.properties" <<EOF
# Generated by scripts/lib/kafka.sh. Broker log: INFO to broker.log (rotated); the console
# (broker.out) only gets warnings, so it stays readable.
status = warn
name = jilaf-kafka-broker

appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = $dir/broker.log
appender.file.filePattern = $dir/broker.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3

appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
appender.console.filter.threshold.type = ThresholdFilter
appender.console.filter.threshold.level = warn

rootLogger.level = info
rootLogger.appenderRef.file.ref = file
rootLogger.appenderRef.console.ref = console

# Per-request logging is for debugging the broker itself.
logger.request.name = kafka.request.logger
logger.request.level = warn
EOF

  cat >"$dir/tools-log4j2.properties" <<'EOF'
# Generated by scripts/lib/kafka.sh. Command-line tools: warnings and errors to stderr only.
status = warn
name = jilaf-kafka-tools
appender.stderr.type = Console
appender.stderr.name = stderr
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = stderr
EOF

  # Kafka 3.x logs through log4j 1 (reload4j): the same two configurations in its format.
  cat >"$dir/log4j.properties" <<EOF
# Generated by scripts/lib/kafka.sh for Kafka 3.x brokers; see log4j2.properties.
log4j.rootLogger=INFO, file, console
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$dir/broker.log
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=3
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.Threshold=WARN
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
EOF
  cat >"$dir/tools-log4j.properties" <<'EOF'
# Generated by scripts/lib/kafka.sh for the Kafka 3.x tools: warnings and errors to stderr.
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF

  printf '127.0.0.1:%s\n' "$port" >"$dir/bootstrap"
  kafka_fetch
  kafka_libs_dir >"$dir/libs"

  # Formatting writes meta.properties (cluster id, node id) and the initial KRaft metadata.
  # It refuses an already formatted directory, which is exactly the "keep data" case.
  if [[ ! -f $dir/data/meta.properties ]]; then
    local cluster_id
    cluster_id="$(_kafka_java "$dir" kafka.tools.StorageTool random-uuid)"
    info "formatting kafka storage in $dir/data (cluster id $cluster_id)"
    # SCRAM users exist from the first start (the broker itself logs in as admin).
    local -a scram=()
    if [[ -n $pki ]]; then
      local file
      for file in "$pki"/*.password; do
        scram+=(--add-scram "SCRAM-SHA-512=[name=$(basename -- "$file" .password),password=$(cat -- "$file")]")
      done
    fi
    _kafka_java "$dir" kafka.tools.StorageTool format -t "$cluster_id" \
      -c "$dir/server.properties" "${scram[@]}" >/dev/null
  fi
}

# kafka_pid DIR: print the pid of the broker running from DIR; false if there is none.
# The pid file alone is not trusted: after a crash or reboot the pid may belong to another
# process, so we also require it to be a kafka.Kafka JVM started with DIR's config.
kafka_pid() {
  local dir="$1" pid cmdline
  [[ -f $dir/broker.pid ]] || return 1
  pid="$(cat -- "$dir/broker.pid")"
  pid_alive "$pid" || return 1
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ $cmdline == *kafka.Kafka* && $cmdline == *"$(_kafka_abs_dir "$dir")/server.properties"* ]] ||
    return 1
  printf '%s\n' "$pid"
}

# kafka_start DIR: start the broker configured in DIR in the background and wait until it
# serves requests. No-op if it already runs.
kafka_start() {
  local dir pid log_offset timeout="${JILAF_KAFKA_START_TIMEOUT:-60}"
  dir="$(_kafka_abs_dir "$1")"
  [[ -f $dir/server.properties ]] || die "$dir is not configured (scripts/kafka-ctl --dir $dir configure, or kafka_configure)"
  if pid="$(kafka_pid "$dir")"; then
    info "kafka already running (pid $pid) on $(kafka_bootstrap "$dir")"
    return 0
  fi
  kafka_fetch

  # Readiness is read from broker.log: only lines written after this offset count, since the
  # log keeps earlier runs.
  log_offset="$(stat -c %s -- "$dir/broker.log" 2>/dev/null || echo 0)"

  # Own session (Ctrl-C reaches only our script, which stops the broker after the services),
  # no inherited descriptors; broker.out is truncated first so it only shows this run.
  : >"$dir/broker.out"
  spawn_detached "$dir/broker.out" \
    java -Xms256m -Xmx"${JILAF_KAFKA_HEAP:-512m}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$dir/log4j2.properties" \
    -Dlog4j.configuration="file:$dir/log4j.properties" \
    -cp "$(_kafka_libs "$dir")/*" kafka.Kafka "$dir/server.properties"
  pid=$!
  printf '%s\n' "$pid" >"$dir/broker.pid"
  info "kafka starting (pid $pid) on $(kafka_bootstrap "$dir"), log: $dir/broker.log"

  # "Kafka Server started" is logged once the broker has caught up with the metadata log,
  # been unfenced by the controller and opened its listeners: requests succeed from then on.
  local deadline=$((SECONDS + timeout)) next_report=$((SECONDS + 5))
  until tail -c +"$((log_offset + 1))" -- "$dir/broker.log" 2>/dev/null |
    grep -q 'Kafka Server started'; do
    # The log rotated (20 MB) since we noted the offset: the new file is all from this run.
    if (($(stat -c %s -- "$dir/broker.log" 2>/dev/null || echo 0) < log_offset)); then
      log_offset=0
    fi
    if ! pid_alive "$pid"; then
      _kafka_dump_logs "$dir"
      rm -f -- "$dir/broker.pid"
      die "kafka exited during start-up (see $dir/broker.out and $dir/broker.log)"
    fi
    if ((SECONDS >= deadline)); then
      _kafka_dump_logs "$dir"
      stop_pid "$pid" kafka 10 || true
      rm -f -- "$dir/broker.pid"
      die "kafka did not become ready within ${timeout}s"
    fi
    if ((SECONDS >= next_report)); then
      info "still waiting for kafka ($((SECONDS - deadline + timeout))s)..."
      next_report=$((SECONDS + 5))
    fi
    sleep 0.2
  done
  info "kafka ready (pid $pid)"
}

_kafka_dump_logs() {
  local dir="$1" f
  for f in "$dir/broker.out" "$dir/broker.log"; do
    [[ -s $f ]] || continue
    printf -- '---- last lines of %s ----\n' "$f" >&2
    tail -n 30 -- "$f" >&2
  done
}

# kafka_stop DIR [SIGNAL]: stop the broker (SIGTERM by default: a clean shutdown that flushes
# the logs), SIGKILL after JILAF_KAFKA_STOP_TIMEOUT seconds. No-op if it is not running.
kafka_stop() {
  local dir="$1" signal="${2:-TERM}" pid
  if pid="$(kafka_pid "$dir")"; then
    stop_pid "$pid" kafka "${JILAF_KAFKA_STOP_TIMEOUT:-30}" "$signal"
  fi
  rm -f -- "$dir/broker.pid"
}

# kafka_kill DIR: SIGKILL the broker (simulates a crash; data written so far stays on disk).
kafka_kill() {
  local dir="$1" pid
  if pid="$(kafka_pid "$dir")"; then
    kill -s KILL "$pid"
    wait_pid_exit "$pid" 10 || die "kafka (pid $pid) survived SIGKILL"
  fi
  rm -f -- "$dir/broker.pid"
}

# kafka_pause DIR / kafka_resume DIR: freeze and thaw the broker (SIGSTOP/SIGCONT); to clients
# a paused broker looks like a network partition: connections stay open, nothing answers.
kafka_pause() {
  local pid
  pid="$(kafka_pid "$1")" || die "kafka is not running in $1"
  kill -s STOP "$pid"
}

kafka_resume() {
  local pid
  pid="$(kafka_pid "$1")" || die "kafka is not running in $1"
  kill -s CONT "$pid"
}

# kafka_status DIR: print "running", "paused" or "stopped"; returns 0, 4 and 3 respectively
# (3 is the LSB "not running" status; 4 keeps paused apart from plain failures).
kafka_status() {
  local pid
  if ! pid="$(kafka_pid "$1")"; then
    echo stopped
    return 3
  elif pid_stopped "$pid"; then
    echo paused
    return 4
  fi
  echo running
}

# kafka_topics: print "NAME PARTITIONS [CONFIG=VALUE ...]" for each topic in
# scripts/kafka/topics.txt.
kafka_topics() {
  # Strip comments and blank lines; default the partition count to the broker's num.partitions.
  sed -e 's/#.*//' "$KAFKA_TOPICS_FILE" | awk 'NF {
    line = $1 " " (NF > 1 ? $2 : 3)
    for (i = 3; i <= NF; i++) line = line " " $i
    print line
  }'
}

# kafka_create_topics DIR: create the topics of scripts/kafka/topics.txt that do not exist yet.
# TopicCommand creates one topic per JVM, so the missing ones are created in parallel (one
# JVM per core): with the CDS archive, 6 topics take ~3-4 s on 2 cores instead of ~8-10 s
# one plain JVM after the other.
kafka_create_topics() {
  local dir bootstrap
  dir="$(_kafka_abs_dir "$1")"
  bootstrap="$(kafka_bootstrap "$dir")"

  local listing name partitions configs
  listing="$(kafka_list_topics "$dir")" || die "cannot list the topics on $bootstrap"
  local -A existing=()
  while read -r name; do
    [[ -n $name ]] && existing[$name]=1
  done <<<"$listing"

  local -a missing=()
  while read -r name partitions configs; do
    [[ -n ${existing[$name]:-} ]] || missing+=("$name $partitions $configs")
  done < <(kafka_topics)
  if ((${#missing[@]} == 0)); then
    info "all topics of ${KAFKA_TOPICS_FILE#"$REPO_ROOT"/} exist"
    return 0
  fi
  info "creating ${#missing[@]} topic(s): ${missing[*]%% *}"

  # Wait on our own pids only: the caller may have other children (the broker, services).
  local -a pids=()
  local max_jobs failed=0 entry config
  max_jobs="$(nproc)"
  for entry in "${missing[@]}"; do
    ((${#pids[@]} < max_jobs)) || _kafka_reap_one pids || failed=$((failed + 1))
    read -r name partitions configs <<<"$entry"
    # The retention and clean-up settings of topics.txt (docs/events.md), as in deploy/k8s.
    local -a config_args=()
    for config in $configs; do config_args+=(--config "$config"); done
    # --if-not-exists: another process (a parallel test run) may create it meanwhile.
    # shellcheck disable=SC2046 # an option and a path without spaces, or nothing
    _kafka_java "$dir" org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" \
      $(_kafka_command_config "$dir") --create --if-not-exists --topic "$name" \
      --partitions "$partitions" --replication-factor 1 "${config_args[@]}" >/dev/null &
    pids+=("$!")
  done
  while ((${#pids[@]} > 0)); do
    _kafka_reap_one pids || failed=$((failed + 1))
  done
  ((failed == 0)) || die "failed to create $failed topic(s) on $bootstrap"
}

# _kafka_reap_one ARRAY_NAME: wait for any pid in the named array, drop it from the array and
# return its exit status.
_kafka_reap_one() {
  local -n _pids="$1"
  local done_pid status=0 i
  wait -n -p done_pid "${_pids[@]}" || status=$?
  for i in "${!_pids[@]}"; do
    [[ ${_pids[i]} == "$done_pid" ]] && unset '_pids[i]'
  done
  _pids=("${_pids[@]}")
  return "$status"
}

# kafka_list_topics DIR: print the broker's topic names (internal ones excluded).
kafka_list_topics() {
  local dir
  dir="$(_kafka_abs_dir "$1")"
  # shellcheck disable=SC2046 # an option and a path without spaces, or nothing
  _kafka_java "$dir" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$(kafka_bootstrap "$dir")" $(_kafka_command_config "$dir") \
    --list --exclude-internal
}

# kafka_reset_offsets DIR GROUP TOPIC [earliest|latest]: move GROUP's committed offsets on TOPIC
# to its earliest (the default) or latest offset. Kafka refuses while the group has active
# members; a group that does not exist yet is created with its offsets there.
kafka_reset_offsets() {
  local dir output
  dir="$(_kafka_abs_dir "$1")"
  # shellcheck disable=SC2046 # an option and a path without spaces, or nothing
  output="$(_kafka_java "$dir" org.apache.kafka.tools.consumer.group.ConsumerGroupCommand \
    --bootstrap-server "$(kafka_bootstrap "$dir")" $(_kafka_command_config "$dir") \
    --group "$2" --topic "$3" --reset-offsets "--to-${4:-earliest}" --execute)"
  printf '%s\n' "$output"
  # The tool exits 0 even when it refuses (active group, unknown topic) and only prints
  # "Error: ..." on stdout, so the failure has to be read from its output.
  if grep -q '^Error:' <<<"$output"; then
    printf 'kafka_reset_offsets: failed for group %s on topic %s (see the error above)\n' \
      "$2" "$3" >&2
    return 1
  fi
}

# _kafka_configure_security DIR PKI: the SASL_SSL listener's settings (appended to
# server.properties) and the admin user's client.properties for the Kafka tools.
_kafka_configure_security() {
  local dir="$1" pki="$2" jaas password
  password="$(cat -- "$pki/admin.password")"
  jaas="org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\""
  jaas+=" password=\"$password\";"
  cat >>"$dir/server.properties" <<EOF

# Secured (kafka_secure_pki): TLS + SCRAM-SHA-512 on the client listener, ACLs enforced.
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=$jaas
ssl.keystore.type=PEM
ssl.keystore.location=$pki/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location=$pki/ca.crt
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin;User:ANONYMOUS
EOF
  chmod 600 -- "$dir/server.properties"
  cat >"$dir/client.properties" <<EOF
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=$jaas
ssl.truststore.type=PEM
ssl.truststore.location=$pki/ca.crt
EOF
  chmod 600 -- "$dir/client.properties"
}

# _kafka_command_config DIR: "--command-config DIR/client.properties" for a secured broker.
_kafka_command_config() {
  [[ -f $1/client.properties ]] && printf -- '--command-config %s\n' "$1/client.properties"
  return 0
}

# kafka_secure_pki DIR USER...: what a secured broker needs, made with OpenSSL into DIR (0700):
#   ca.crt, ca.key                 a throw-away CA (valid 2 days)
#   broker.pem                     the broker's key and certificate (IP 127.0.0.1, DNS localhost)
#   USER.crt, USER.key             a client certificate per USER (CN=USER), for mTLS clients
#   USER.password, admin.password  SCRAM passwords (random), one line each
kafka_secure_pki() {
  local dir="$1"
  shift
  command -v openssl >/dev/null 2>&1 || die "openssl not found"
  mkdir -p -- "$dir"
  chmod 700 -- "$dir"
  (
    set -e
    cd -- "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=jilaf test kafka CA" \
      -keyout ca.key -out ca.crt 2>/dev/null
    _kafka_issue_certificate broker "127.0.0.1" "subjectAltName=IP:127.0.0.1,DNS:localhost"
    cat broker.key broker.crt >broker.pem
    local user
    for user in admin "$@"; do
      openssl rand -hex 24 >"$user.password"
      [[ $user == admin ]] || _kafka_issue_certificate "$user" "$user" "extendedKeyUsage=clientAuth"
    done
    rm -f -- ./*.csr ca.srl
    chmod 600 -- ./*.key ./*.password broker.pem
  ) || die "kafka_secure_pki: openssl failed in $dir"
}

# _kafka_issue_certificate NAME CN EXTENSIONS: NAME.key and NAME.crt, signed by ./ca.
_kafka_issue_certificate() {
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$1.key" -out "$1.csr" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
    -extfile <(printf '%s\n' "$3") -out "$1.crt" 2>/dev/null
}

# kafka_acls_from_kafkausers DIR KAFKAUSER_YAML: grant on the secured broker DIR exactly the ACLs
# that the Strimzi KafkaUser resources in KAFKAUSER_YAML declare (principal User:<name>), so that
# a test runs the production ACLs. One AclCommand per user, operation set, resource type and
# pattern type, two at a time.
kafka_acls_from_kafkausers() {
  local dir bootstrap
  dir="$(_kafka_abs_dir "$1")"
  bootstrap="$(kafka_bootstrap "$dir")"
  [[ -f $dir/client.properties ]] || die "kafka_acls_from_kafkausers: $dir is not a secured broker"
  local -a pids=() args=()
  local line failed=0 max_jobs class=org.apache.kafka.tools.AclCommand
  max_jobs="$(nproc)"
  [[ $(_kafka_libs "$dir") == */kafka-3.* ]] && class=kafka.admin.AclCommand
  while IFS= read -r line; do
    read -r -a args <<<"$line"
    ((${#pids[@]} < max_jobs)) || _kafka_reap_one pids || failed=$((failed + 1))
    _kafka_java "$dir" "$class" --bootstrap-server "$bootstrap" \
      --command-config "$dir/client.properties" --add "${args[@]}" >/dev/null &
    pids+=("$!")
  done < <(
    /usr/bin/python3 - "$2" <<'PY'
import sys
import yaml
calls = {}
for doc in yaml.safe_load_all(open(sys.argv[1], encoding="utf-8")):
    if not doc or doc.get("kind") != "KafkaUser":
        continue
    user = doc["metadata"]["name"]
    for acl in (doc["spec"].get("authorization") or {}).get("acls") or []:
        resource = acl["resource"]
        ops = tuple(sorted(acl.get("operations") or [acl["operation"]]))
        pattern = "prefixed" if resource.get("patternType") == "prefix" else "literal"
        calls.setdefault((user, resource["type"], pattern, ops), []).append(resource.get("name"))
if not calls:
    sys.exit(f"no KafkaUser ACLs in {sys.argv[1]}")
for (user, kind, pattern, ops), names in sorted(calls.items()):
    args = ["--allow-principal", f"User:{user}", "--resource-pattern-type", pattern]
    for op in ops:
        args += ["--operation", op]
    for name in names:
        args += {"topic": ["--topic", name], "group": ["--group", name]}.get(kind, ["--cluster"])
    print(" ".join(args))
PY
  )
  while ((${#pids[@]} > 0)); do
    _kafka_reap_one pids || failed=$((failed + 1))
  done
  ((failed == 0)) || die "kafka_acls_from_kafkausers: $failed AclCommand call(s) failed"
}

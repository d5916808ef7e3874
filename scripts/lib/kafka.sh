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
# A broker directory DIR holds everything about one broker:
#   server.properties, log4j2.properties, tools-log4j2.properties   generated configuration
#   bootstrap      "127.0.0.1:PORT", for clients and `kafka-ctl bootstrap`
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
    "$KAFKA_POM" | head -n 1)"
  [[ -n $version ]] || die "no <kafka.version> in $KAFKA_POM"
  printf '%s\n' "$version"
}

# kafka_libs_dir: where the jars of the pinned version live (they may not be fetched yet).
kafka_libs_dir() {
  printf '%s/kafka-%s/libs\n' "${JILAF_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/jilaf}" \
    "$(kafka_version)"
}

# The marker written after a complete fetch holds the pom's checksum: a half-finished download
# has no marker, and editing the pom (another dependency, a new version) triggers a re-fetch.
_kafka_pom_checksum() {
  sha256sum "$KAFKA_POM" | cut -d' ' -f1
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
    mvn -B -q -f "$KAFKA_POM" dependency:copy-dependencies -DoutputDirectory="$tmp"
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
  printf '%s/.tools-%s.jsa\n' "$(kafka_libs_dir)" \
    "$(stat -c '%n %s %Y' -- "$java_bin" | sha256sum | cut -c1-16)"
}

# _kafka_java DIR CLASS ARGS...: run a Kafka command-line tool against broker DIR, logging
# WARN and above to stderr only. Uses the CDS archive; a TopicCommand run (which loads the
# admin-client classes every tool here shares) records it when it is missing.
_kafka_java() {
  local dir="$1" class="$2"
  shift 2
  local libs jsa status=0
  libs="$(kafka_libs_dir)"
  jsa="$(_kafka_cds_archive)"
  local -a cds=()
  if [[ -f $jsa ]]; then
    cds=(-XX:SharedArchiveFile="$jsa")
  elif [[ $class == org.apache.kafka.tools.TopicCommand ]]; then
    # Recording warns about every class it cannot archive (old class-file versions): noise.
    cds=(-XX:ArchiveClassesAtExit="$jsa.tmp.$BASHPID" '-Xlog:cds*=off:stderr')
  fi
  java "${KAFKA_TOOL_JVM_OPTS[@]}" "${cds[@]}" \
    -Dlog4j2.configurationFile="$dir/tools-log4j2.properties" \
    -cp "$libs/*" "$class" "$@" || status=$?
  if [[ -f $jsa.tmp.$BASHPID ]]; then
    _kafka_cds_install "$jsa.tmp.$BASHPID" "$jsa" "$status"
  fi
  return "$status"
}

# _kafka_cds_install TMP ARCHIVE STATUS: keep a freshly recorded archive only if the run
# succeeded and the JVM can map it: a damaged archive makes the JVM crash instead of falling
# back, so it must never be installed. The rename makes it appear atomically.
_kafka_cds_install() {
  local tmp="$1" jsa="$2" status="$3"
  if ((status == 0)) &&
    java "${KAFKA_TOOL_JVM_OPTS[@]}" -Xshare:on -XX:SharedArchiveFile="$tmp" \
      -XX:ErrorFile=/dev/null -XX:-CreateCoredumpOnCrash \
      -cp "$(kafka_libs_dir)/*" -version >/dev/null 2>&1; then
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

# kafka_configure DIR PORT CONTROLLER_PORT: write the configuration of a single-node KRaft
# broker listening on 127.0.0.1 and format its storage (first time only, so data survives
# restarts). Rewriting the config each time lets ports change between runs.
kafka_configure() {
  local dir="$1" port="$2" cport="$3"
  [[ $port =~ ^[0-9]+$ && $cport =~ ^[0-9]+$ && $port != "$cport" ]] ||
    die "kafka_configure: need two distinct numeric ports, got '$port' and '$cport'"
  mkdir -p -- "$dir"
  dir="$(_kafka_abs_dir "$dir")"
  # The running broker keeps its old ports: new config files would only lie about them.
  if kafka_pid "$dir" >/dev/null; then
    die "kafka is running in $dir: stop it before configuring"
  fi

  cat >"$dir/server.properties" <<EOF
# Generated by scripts/lib/kafka.sh (kafka_configure); rewritten on every configure.
# Single node, KRaft combined mode: this process is both the broker and the only controller.
node.id=1
process.roles=broker,controller
controller.quorum.voters=1@127.0.0.1:$cport

listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT

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

  printf '127.0.0.1:%s\n' "$port" >"$dir/bootstrap"

  # Formatting writes meta.properties (cluster id, node id) and the initial KRaft metadata.
  # It refuses an already formatted directory, which is exactly the "keep data" case.
  if [[ ! -f $dir/data/meta.properties ]]; then
    local cluster_id
    cluster_id="$(_kafka_java "$dir" kafka.tools.StorageTool random-uuid)"
    info "formatting kafka storage in $dir/data (cluster id $cluster_id)"
    _kafka_java "$dir" kafka.tools.StorageTool format -t "$cluster_id" \
      -c "$dir/server.properties" >/dev/null
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
    -cp "$(kafka_libs_dir)/*" kafka.Kafka "$dir/server.properties"
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
    _kafka_java "$dir" org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" \
      --create --if-not-exists --topic "$name" --partitions "$partitions" \
      --replication-factor 1 "${config_args[@]}" >/dev/null &
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
  _kafka_java "$dir" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$(kafka_bootstrap "$dir")" --list --exclude-internal
}

# kafka_reset_offsets DIR GROUP TOPIC: move GROUP's committed offsets on TOPIC back to the
# earliest offset. Kafka refuses while the group has active members; a group that does not
# exist yet is created with its offsets at the start of TOPIC.
kafka_reset_offsets() {
  local dir output
  dir="$(_kafka_abs_dir "$1")"
  output="$(_kafka_java "$dir" org.apache.kafka.tools.consumer.group.ConsumerGroupCommand \
    --bootstrap-server "$(kafka_bootstrap "$dir")" \
    --group "$2" --topic "$3" --reset-offsets --to-earliest --execute)"
  printf '%s\n' "$output"
  # The tool exits 0 even when it refuses (active group, unknown topic) and only prints
  # "Error: ..." on stdout, so the failure has to be read from its output.
  if grep -q '^Error:' <<<"$output"; then
    printf 'kafka_reset_offsets: failed for group %s on topic %s (see the error above)\n' \
      "$2" "$3" >&2
    return 1
  fi
}

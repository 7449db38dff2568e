#!/usr/bin/env bash
# A real Apache Kafka broker (single-node KRaft) for development and integration tests, run from the jars on
# Maven Central: no Docker, no tarball download. Needs java (17+), mvn and node (with `npm install` done).
#
#   bash scripts/kafka.sh fetch    download the broker classpath into .cache/kafka/<version>/libs (once)
#   bash scripts/kafka.sh start    fetch if needed, format a fresh temp data dir, start, wait until it serves
#                                  admin requests, apply the ACLs, print the client environment on stdout
#   bash scripts/kafka.sh env      print the client environment of the running broker (see below)
#   bash scripts/kafka.sh stop     TERM (then KILL after KAFKA_STOP_TIMEOUT), delete the temp data dir
#   bash scripts/kafka.sh status   exit 0 running and answering, 1 running but not answering, 3 not running
#
# Environment: KAFKA_VERSION (3.9.2), KAFKA_PORT (19092), KAFKA_CONTROLLER_PORT (19093),
#   KAFKA_HEAP_OPTS (-Xms256m -Xmx768m), KAFKA_START_TIMEOUT seconds (120), KAFKA_STOP_TIMEOUT seconds (30),
#   MVN (mvn), KAFKA_MVN_ARGS (extra Maven arguments, e.g. -o to stay offline once ~/.m2 is warm).
# The broker authenticates every client (SASL/SCRAM-SHA-512) and authorizes it by ACL (scripts/kafka/acls.mjs):
# fresh random passwords at every start for `admin` (super user), `parallax-test` (what integration tests
# use: everything on their own topics) and the production principals parallax-engine, parallax-ingest,
# parallax-settlement, parallax-risk, parallax-chain-watcher and parallax-projector. They are kept in
# .cache/kafka/run/<port>/credentials.json (mode 600).
# Progress goes to stderr; stdout carries only `export` lines (KAFKA_BROKERS, KAFKA_SASL_MECHANISM,
# KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD of parallax-test, KAFKA_CREDENTIALS_FILE), so
# `eval "$(bash scripts/kafka.sh start)"` works. One broker per port: state lives in .cache/kafka/run/<port>/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KAFKA_DIR="$ROOT/scripts/kafka"
VERSION="${KAFKA_VERSION:-3.9.2}"
PORT="${KAFKA_PORT:-19092}"
CTRL_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-120}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
CACHE="$ROOT/.cache/kafka"
VERSION_DIR="$CACHE/$VERSION"
LIBS="$VERSION_DIR/libs"
RUN_DIR="$CACHE/run/$PORT"
PID_FILE="$RUN_DIR/kafka.pid"
STATE_FILE="$RUN_DIR/state"
CREDENTIALS_FILE="$RUN_DIR/credentials.json"
USERS=(admin parallax-test parallax-engine parallax-ingest parallax-settlement parallax-risk parallax-chain-watcher parallax-projector)
TEST_USER=parallax-test
BROKERS="127.0.0.1:$PORT"
# Kafka's own JVM defaults (kafka-run-class.sh), minus the GC log.
JVM_OPTS=(-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
  -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true)

log() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
now_ms() { local t="${EPOCHREALTIME/./}"; echo "${t:0:-3}"; }
since() { local ms=$(($(now_ms) - $1)); printf '%d.%02ds' $((ms / 1000)) $((ms % 1000 / 10)); }

need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH ($2)"; }

[[ "$PORT" =~ ^[0-9]+$ && "$CTRL_PORT" =~ ^[0-9]+$ ]] || die "KAFKA_PORT and KAFKA_CONTROLLER_PORT must be numbers"
[[ "$PORT" != "$CTRL_PORT" ]] || die "KAFKA_PORT and KAFKA_CONTROLLER_PORT must differ"
[[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "KAFKA_VERSION must look like 3.9.2, got '$VERSION'"

# Serialise what touches the same state: start/stop of one port (fd 9), fetching one version (fd 8). Several
# helpers share a checkout and may run brokers on different ports at the same time.
take_lock() { # take_lock <fd> <file>
  mkdir -p "$(dirname "$2")"
  command -v flock >/dev/null 2>&1 || return 0
  eval "exec $1>\"\$2\""
  if ! flock -n "$1"; then
    log "waiting for another scripts/kafka.sh to finish (lock $2)"
    flock -w 900 "$1" || die "timed out waiting for $2"
  fi
}
run_lock() { take_lock 9 "$CACHE/run/$PORT.lock"; }
fetch_lock() { take_lock 8 "$CACHE/$VERSION.fetch.lock"; }

pom_digest() { sha256sum "$KAFKA_DIR/pom.xml" | cut -d' ' -f1; }

fetch() {
  fetch_lock
  local marker="$VERSION_DIR/.complete" digest
  digest="$(pom_digest)"
  if [[ -f "$marker" && "$(cat "$marker")" == "$digest" && -f "$LIBS/kafka_2.13-$VERSION.jar" ]]; then
    log "Kafka $VERSION already fetched ($LIBS)"
    return 0
  fi
  local mvn="${MVN:-mvn}"
  need "$mvn" "install Apache Maven"
  need java "install a JDK 17+"
  mkdir -p "$VERSION_DIR"
  local partial="$VERSION_DIR/libs.partial" started
  rm -rf "$partial"
  started="$(now_ms)"
  log "fetching org.apache.kafka:kafka_2.13:$VERSION and its runtime classpath with Maven..."
  # shellcheck disable=SC2086 # KAFKA_MVN_ARGS is a list of words on purpose
  if ! "$mvn" -q -B -Dstyle.color=never -f "$KAFKA_DIR/pom.xml" -Dkafka.version="$VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$partial" ${KAFKA_MVN_ARGS:-} \
    >"$VERSION_DIR/fetch.log" 2>&1; then
    tail -n 40 "$VERSION_DIR/fetch.log" >&2
    rm -rf "$partial"
    die "Maven could not fetch Kafka $VERSION (full log: $VERSION_DIR/fetch.log)"
  fi
  [[ -f "$partial/kafka_2.13-$VERSION.jar" ]] || die "Maven finished but kafka_2.13-$VERSION.jar is missing from $partial"
  rm -rf "$LIBS"
  mv "$partial" "$LIBS"
  echo "$digest" >"$marker"
  log "fetched Kafka $VERSION ($(find "$LIBS" -name '*.jar' | wc -l) jars, $(du -sh "$LIBS" | cut -f1)) in $(since "$started")"
}

# The pid from the pid file if that process is alive and is our broker (guards against pid reuse).
broker_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r "/proc/$pid/stat" ]]; then
    [[ "$(cut -d' ' -f3 "/proc/$pid/stat")" != Z ]] || return 1
    # No `| grep -q`: under pipefail, grep exiting at its first match can fail the pipeline with tr's SIGPIPE.
    [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" == *kafka.Kafka* ]] || return 1
  fi
  echo "$pid"
}

state_get() { [[ -f "$STATE_FILE" ]] && sed -n "s/^$1=//p" "$STATE_FILE" | head -n 1; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

password_of() { # password_of <user>: from the running broker's credentials file
  [[ -f "$CREDENTIALS_FILE" ]] || return 1
  node -e 'const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); const p = c.users[process.argv[2]]; if (!p) process.exit(1); process.stdout.write(p);' \
    "$CREDENTIALS_FILE" "$1"
}

# Runs a command as the broker's super user (the probe, the ACL set-up).
as_admin() {
  KAFKA_SASL_MECHANISM=scram-sha-512 KAFKA_SASL_USERNAME=admin KAFKA_SASL_PASSWORD="$(password_of admin)" "$@"
}

probe() { # probe <timeout-ms> [extra ready.mjs args]
  need node "install Node.js and run npm install"
  local timeout="$1"
  shift
  (cd "$ROOT" && as_admin node "$KAFKA_DIR/ready.mjs" --brokers "$BROKERS" --timeout-ms "$timeout" \
    --cluster-id "$(state_get CLUSTER_ID)" "$@")
}

# What a client of this broker needs, as shell exports (the test runner and developers eval it).
print_env() {
  echo "export KAFKA_BROKERS=$BROKERS"
  echo "export KAFKA_SASL_MECHANISM=scram-sha-512"
  echo "export KAFKA_SASL_USERNAME=$TEST_USER"
  echo "export KAFKA_SASL_PASSWORD=$(password_of "$TEST_USER")"
  echo "export KAFKA_CREDENTIALS_FILE=$CREDENTIALS_FILE"
}

# Only ever delete directories this script created.
remove_data_dir() {
  local dir="$1"
  [[ -n "$dir" && -d "$dir" ]] || return 0
  case "$(basename "$dir")" in
    parallax-kafka-*) rm -rf "$dir" ;;
    *) log "not deleting unexpected data dir '$dir'" ;;
  esac
}

print_logs() {
  local dir="$1" file
  for file in "$dir/logs/stdout.log" "$dir/logs/server.log"; do
    [[ -s "$file" ]] || continue
    log "---- last lines of $file ----"
    tail -n 40 "$file" >&2
  done
}

kill_broker() { # kill_broker <pid>: TERM, wait, then KILL
  local pid="$1" waited=0
  kill -TERM "$pid" 2>/dev/null || true
  while is_alive "$pid" && ((waited < STOP_TIMEOUT * 10)); do
    sleep 0.1
    waited=$((waited + 1))
  done
  if is_alive "$pid"; then
    log "broker pid $pid still running after ${STOP_TIMEOUT}s, sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do is_alive "$pid" || break; sleep 0.1; done
  fi
  ! is_alive "$pid" || die "could not stop broker pid $pid"
}

is_alive() {
  kill -0 "$1" 2>/dev/null || return 1
  [[ ! -r "/proc/$1/stat" || "$(cut -d' ' -f3 "/proc/$1/stat")" != Z ]]
}

forget_run() {
  remove_data_dir "$(state_get DATA_DIR)"
  rm -f "$PID_FILE" "$STATE_FILE" "$CREDENTIALS_FILE"
}

# 32 hex characters: nothing that JAAS, sed or the SCRAM format string would need escaped.
random_password() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

random_cluster_id() {
  # A Kafka Uuid is 16 random bytes in URL-safe base64 without padding; one starting with '-' would be
  # read as a command-line flag, so draw again (Kafka's own generator does the same).
  local id
  while :; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    [[ "$id" == -* ]] || break
  done
  echo "$id"
}

start() {
  run_lock
  mkdir -p "$RUN_DIR"
  local pid
  if pid="$(broker_pid)"; then
    if probe 5000 --once >/dev/null 2>&1; then
      log "broker already running and healthy (pid $pid, data $(state_get DATA_DIR))"
      print_env
      return 0
    fi
    log "broker pid $pid is alive but not answering yet; waiting up to ${START_TIMEOUT}s"
    if ! probe "$((START_TIMEOUT * 1000))" --pid "$pid" >/dev/null; then
      print_logs "$(state_get DATA_DIR)"
      die "broker pid $pid is running but not ready; run 'bash scripts/kafka.sh stop' and start again"
    fi
    print_env
    return 0
  fi
  if [[ -f "$STATE_FILE" || -f "$PID_FILE" ]]; then
    log "cleaning up after a broker that is no longer running"
    forget_run
  fi
  if port_in_use "$PORT"; then die "port $PORT is already in use by another process (set KAFKA_PORT)"; fi
  if port_in_use "$CTRL_PORT"; then die "port $CTRL_PORT is already in use by another process (set KAFKA_CONTROLLER_PORT)"; fi

  fetch
  need java "install a JDK 17+"
  need node "install Node.js and run npm install"
  (cd "$ROOT" && node -e "import('kafkajs')" >/dev/null 2>&1) || die "kafkajs is not installed (run npm install in $ROOT): the readiness check needs it"

  local data cluster_id started
  data="$(mktemp -d "${TMPDIR:-/tmp}/parallax-kafka-$PORT.XXXXXX")"
  cluster_id="$(random_cluster_id)"
  mkdir -p "$data/logs"
  printf 'DATA_DIR=%s\nCLUSTER_ID=%s\nVERSION=%s\nPORT=%s\nCONTROLLER_PORT=%s\n' \
    "$data" "$cluster_id" "$VERSION" "$PORT" "$CTRL_PORT" >"$STATE_FILE"
  local user scram_args=() users_json=''
  (umask 077 && : >"$CREDENTIALS_FILE")
  for user in "${USERS[@]}"; do
    local pw
    pw="$(random_password)"
    scram_args+=(--add-scram "SCRAM-SHA-512=[name=$user,password=$pw]")
    users_json+="${users_json:+,}\"$user\":\"$pw\""
  done
  printf '{"brokers":"%s","mechanism":"scram-sha-512","users":{%s}}\n' "$BROKERS" "$users_json" >"$CREDENTIALS_FILE"
  (umask 077 && sed -e "s|@PORT@|$PORT|g" -e "s|@CONTROLLER_PORT@|$CTRL_PORT|g" -e "s|@DATA_DIR@|$data|g" \
    -e "s|@ADMIN_PASSWORD@|$(password_of admin)|g" \
    "$KAFKA_DIR/server.properties.template" >"$data/server.properties")
  local log_opts=("-Dlog4j.configuration=file:$KAFKA_DIR/log4j.properties" "-Dkafka.logs.dir=$data/logs")

  started="$(now_ms)"
  # The format tool logs through the same log4j config: keep its lines out of the broker's server.log.
  if ! java -Xmx256m "-Dlog4j.configuration=file:$KAFKA_DIR/log4j.properties" "-Dkafka.logs.dir=$data/logs/format" \
    -cp "$LIBS/*" kafka.tools.StorageTool format \
    -t "$cluster_id" -c "$data/server.properties" "${scram_args[@]}" >"$data/logs/format.log" 2>&1 8>&- 9>&-; then
    tail -n 40 "$data/logs/format.log" >&2
    forget_run
    die "formatting the KRaft storage failed"
  fi
  log "formatted storage in $data (cluster id $cluster_id) in $(since "$started")"
  local launched
  launched="$(now_ms)"

  # setsid: the broker outlives this script and is not hit by signals sent to the caller's process group.
  # 8>&- 9>&-: it must not inherit the locks, or the next start/stop would wait for the broker to exit.
  # shellcheck disable=SC2086 # HEAP_OPTS is a list of words on purpose
  setsid java $HEAP_OPTS "${JVM_OPTS[@]}" "${log_opts[@]}" -cp "$LIBS/*" kafka.Kafka "$data/server.properties" \
    </dev/null >"$data/logs/stdout.log" 2>&1 8>&- 9>&- &
  pid=$!
  echo "$pid" >"$PID_FILE"
  log "started broker pid $pid on $BROKERS (controller 127.0.0.1:$CTRL_PORT), waiting for it to serve admin requests..."
  local ready=0
  probe "$((START_TIMEOUT * 1000))" --pid "$pid" >"$data/logs/ready.json" || ready=$?
  if ((ready != 0)); then
    print_logs "$data"
    cat "$data/logs/stdout.log" "$data/logs/server.log" >"$RUN_DIR/last-failed-start.log" 2>/dev/null || true
    if is_alive "$pid"; then kill_broker "$pid"; fi
    forget_run
    if ((ready == 2)); then die "the broker process exited during start-up (logs kept in $RUN_DIR/last-failed-start.log)"; fi
    die "broker did not become ready within ${START_TIMEOUT}s (logs kept in $RUN_DIR/last-failed-start.log)"
  fi
  rm -f "$RUN_DIR/last-failed-start.log"
  if ! (cd "$ROOT" && as_admin node "$KAFKA_DIR/acls.mjs" --brokers "$BROKERS" --test-principal "$TEST_USER" >"$data/logs/acls.json"); then
    kill_broker "$pid"
    forget_run
    die "applying the ACLs failed"
  fi
  log "Kafka $VERSION ready with SASL/SCRAM and ACLs: $(since "$launched") from launch to a served admin call, $(since "$started") with formatting; logs in $data/logs"
  print_env
}

stop() {
  run_lock
  local pid
  if pid="$(broker_pid)"; then
    local started
    started="$(now_ms)"
    kill_broker "$pid"
    log "stopped broker pid $pid in $(since "$started")"
  elif [[ -f "$STATE_FILE" || -f "$PID_FILE" ]]; then
    log "broker on port $PORT was not running; cleaning up its state"
  else
    log "no broker running on port $PORT"
  fi
  forget_run
}

status() {
  local pid
  if ! pid="$(broker_pid)"; then
    echo "not running (port $PORT)"
    return 3
  fi
  if probe 3000 --once >/dev/null 2>&1; then
    echo "running: pid $pid, KAFKA_BROKERS=$BROKERS, Kafka $(state_get VERSION), data $(state_get DATA_DIR)"
    return 0
  fi
  echo "pid $pid alive but not answering on $BROKERS (data $(state_get DATA_DIR))"
  return 1
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  env)
    broker_pid >/dev/null || die "no broker running on port $PORT"
    print_env
    ;;
  *)
    echo "usage: bash scripts/kafka.sh fetch|start|stop|status|env" >&2
    exit 2
    ;;
esac

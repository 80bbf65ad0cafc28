#!/usr/bin/env bash
# A local standalone Apache Flink 1.20 cluster (one JobManager JVM + one TaskManager JVM)
# for running the Beam pipeline with the portable FlinkRunner, without Docker.
#
#   scripts/flink_cluster.sh install   # once: Flink (from PyPI) + Beam's Flink job-server jar
#                                      #   (exits 3 if the jar can't be had; Flink is installed anyway)
#   scripts/flink_cluster.sh start     # write the config, start both JVMs, wait for 2 free slots
#   scripts/flink_cluster.sh status    # print the REST /overview
#   scripts/flink_cluster.sh stop      # stop both JVMs and check that none is left
#   scripts/flink_cluster.sh jar-path  # absolute path of the job-server jar, for --flink_job_server_jar
#
# Settings (environment): FLINK_HOME_CACHE (install folder), FLINK_RUN_DIR (config, logs, pids),
# FLINK_REST_PORT (8081), FLINK_RPC_PORT (6123), FLINK_TASK_SLOTS (2),
# FLINK_JM_PROCESS_SIZE (1024m), FLINK_TM_PROCESS_SIZE (2560m), FLINK_START_TIMEOUT (60 s),
# PYTHON310 (the interpreter pip runs under), BEAM_FLINK_JOB_SERVER_JAR (a jar staged by hand).
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# --- Pinned versions --------------------------------------------------------------------------
# Flink itself comes from PyPI: the apache-flink wheel ships bin/ and conf/, apache-flink-libraries
# ships lib/ (flink-dist etc.). That is a full Flink distribution reachable through pip, whereas the
# flink-dist tarball is not a Maven artifact we can fetch here.
FLINK_VERSION=1.20.3
# The Beam job server must match the Beam Python SDK (apache-beam==2.74.0 in requirements.lock)
# and the Flink minor version (--flink_version=1.20).
BEAM_VERSION=2.74.0
JOB_SERVER_ARTIFACT="org.apache.beam:beam-runners-flink-1.20-job-server:${BEAM_VERSION}"
JOB_SERVER_JAR_NAME="beam-runners-flink-1.20-job-server-${BEAM_VERSION}.jar"
# sha256 of the jar above. Empty on purpose: the Maven registry reachable from this project's
# machines does not serve any beam-runners-flink-*-job-server artifact (checked 2026-12-07), so the
# value could not be computed from a real download. Fill it in from the first verified download;
# until then the script prints the computed value instead of checking it.
JOB_SERVER_JAR_SHA256=""
# An explicit plugin version: Maven 3.8's default maven-dependency-plugin (2.8) is too old for
# `copy -Dartifact=...` without a pom.
DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

# --- Paths and settings -----------------------------------------------------------------------
CACHE=${FLINK_HOME_CACHE:-$HOME/.cache/celeba-dcgan/flink}
PYFLINK_TARGET="$CACHE/pyflink-$FLINK_VERSION"
FLINK_HOME="$PYFLINK_TARGET/pyflink"          # bin/, lib/, conf/ of the distribution
PYFLINK_STAMP="$PYFLINK_TARGET/.installed"
JOB_SERVER_JAR="$CACHE/$JOB_SERVER_JAR_NAME"

RUN_DIR=${FLINK_RUN_DIR:-$CACHE/run}
CONF_DIR="$RUN_DIR/conf"
LOG_DIR="$RUN_DIR/log"
PID_DIR="$RUN_DIR/pid"
TMP_DIR="$RUN_DIR/tmp"

REST_PORT=${FLINK_REST_PORT:-8081}
RPC_PORT=${FLINK_RPC_PORT:-6123}
SLOTS=${FLINK_TASK_SLOTS:-2}
# Small on purpose (2 cores, 24 GB): the Beam Python SDK harness that does the real work runs
# outside these JVMs (LOOPBACK / PROCESS / EXTERNAL), so the TaskManager mainly shuffles bytes.
JM_PROCESS_SIZE=${FLINK_JM_PROCESS_SIZE:-1024m}
TM_PROCESS_SIZE=${FLINK_TM_PROCESS_SIZE:-2560m}
START_TIMEOUT=${FLINK_START_TIMEOUT:-60}

log() { echo "flink_cluster: $*" >&2; }
die() { log "error: $*"; exit 1; }

# --- install ----------------------------------------------------------------------------------

is_py310() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1; }

find_python310() {
  # The apache-flink wheel is built per CPython version; 3.10 matches the project's venv.
  # pip only runs here with --target: nothing is installed into the interpreter's own site-packages.
  local cand
  for cand in "${PYTHON310:-}" "$REPO_ROOT/.venv/bin/python" "$HOME"/.pyenv/versions/3.10*/bin/python3.10 \
              "$(command -v python3.10 || true)"; do
    [ -n "$cand" ] && [ -x "$cand" ] && is_py310 "$cand" && { echo "$cand"; return 0; }
  done
  return 1
}

install_flink() {
  if [ -f "$PYFLINK_STAMP" ] && [ -x "$FLINK_HOME/bin/jobmanager.sh" ]; then
    return 0
  fi
  local py
  py=$(find_python310) || die "Python 3.10 not found (set PYTHON310=/path/to/python3.10)"
  log "installing Flink $FLINK_VERSION from PyPI into $PYFLINK_TARGET (about 250 MB download)"
  rm -rf "$PYFLINK_TARGET"
  # --no-deps: we only need the distribution's jars and scripts, not PyFlink's Python deps
  # (those pin an older apache-beam). NEVER install apache-flink into the project's .venv.
  "$py" -m pip install --quiet --disable-pip-version-check --no-deps --target "$PYFLINK_TARGET" \
    "apache-flink==$FLINK_VERSION" "apache-flink-libraries==$FLINK_VERSION"
  [ -f "$FLINK_HOME/lib/flink-dist-$FLINK_VERSION.jar" ] || die "no lib/flink-dist-$FLINK_VERSION.jar in $FLINK_HOME"
  chmod +x "$FLINK_HOME"/bin/*.sh "$FLINK_HOME/bin/flink"
  echo "apache-flink==$FLINK_VERSION apache-flink-libraries==$FLINK_VERSION" > "$PYFLINK_STAMP"
}

check_jar() {
  # Fails unless the jar holds Beam's Flink job-server entry point and matches the pinned sha256
  # (while none is pinned, prints the jar's sha256 instead).
  local jar=$1 sum
  unzip -l "$jar" 2>/dev/null | grep -q 'org/apache/beam/runners/flink/FlinkJobServerDriver.class' \
    || { log "$jar is not a Beam Flink job-server jar (no FlinkJobServerDriver)"; return 1; }
  sum=$(sha256sum "$jar" | cut -d' ' -f1)
  if [ -n "$JOB_SERVER_JAR_SHA256" ] && [ "$sum" != "$JOB_SERVER_JAR_SHA256" ]; then
    log "sha256 mismatch for $jar: got $sum, pinned $JOB_SERVER_JAR_SHA256"
    return 1
  fi
  if [ -z "$JOB_SERVER_JAR_SHA256" ]; then
    log "warning: no sha256 pinned yet; $JOB_SERVER_JAR_NAME has sha256 $sum (pin it as JOB_SERVER_JAR_SHA256)"
  fi
}

install_job_server_jar() {
  if [ -f "$JOB_SERVER_JAR" ]; then
    check_jar "$JOB_SERVER_JAR" && return 0
    rm -f "$JOB_SERVER_JAR"
  fi
  if [ -n "${BEAM_FLINK_JOB_SERVER_JAR:-}" ]; then
    # A jar staged by hand (e.g. from a machine whose Maven Central has it).
    [ -f "$BEAM_FLINK_JOB_SERVER_JAR" ] || die "BEAM_FLINK_JOB_SERVER_JAR=$BEAM_FLINK_JOB_SERVER_JAR does not exist"
    check_jar "$BEAM_FLINK_JOB_SERVER_JAR" || die "refusing $BEAM_FLINK_JOB_SERVER_JAR"
    cp "$BEAM_FLINK_JOB_SERVER_JAR" "$JOB_SERVER_JAR.tmp" && mv "$JOB_SERVER_JAR.tmp" "$JOB_SERVER_JAR"
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
  log "fetching $JOB_SERVER_ARTIFACT with Maven"
  # --strict-checksums: Maven compares the download with the .sha1/.md5 the repository publishes
  # and fails on a mismatch (its default policy only warns). -U: retry even if an earlier
  # "not found" is cached in ~/.m2.
  if ! mvn -B -q -U --strict-checksums "$DEPENDENCY_PLUGIN:copy" \
        -Dartifact="$JOB_SERVER_ARTIFACT" -DoutputDirectory="$CACHE" >"$CACHE/mvn-job-server.log" 2>&1; then
    sed 's/\x1b\[[0-9;]*m//g' "$CACHE/mvn-job-server.log" | grep -m1 -E 'ERROR.*(Could not|not found|resolve)' >&2 \
      || tail -5 "$CACHE/mvn-job-server.log" >&2
    log "the Beam Flink job-server jar is not available from the Maven registry here."
    log "Stage it by hand: BEAM_FLINK_JOB_SERVER_JAR=/path/to/$JOB_SERVER_JAR_NAME $0 install"
    return 3
  fi
  check_jar "$JOB_SERVER_JAR" || { rm -f "$JOB_SERVER_JAR"; die "checksum check failed"; }
}

cmd_install() {
  mkdir -p "$CACHE"
  install_flink
  install_job_server_jar || exit $?
  log "installed: $FLINK_HOME and $JOB_SERVER_JAR ($(du -sh "$CACHE" | cut -f1) in $CACHE)"
}

# --- start / stop / status --------------------------------------------------------------------

overview() { curl -fsS --max-time 2 "http://localhost:$REST_PORT/overview" 2>/dev/null; }

json_field() {  # json_field NAME JSON -> value of a top-level scalar field (no jq needed)
  sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p" <<<"$2"
}

write_config() {
  mkdir -p "$CONF_DIR" "$LOG_DIR" "$PID_DIR" "$TMP_DIR"
  # log4j*.properties are read from FLINK_CONF_DIR, so take the distribution's ones along.
  cp "$FLINK_HOME"/conf/log4j*.properties "$FLINK_HOME"/conf/logback*.xml "$CONF_DIR/"
  # Java 17 needs the distribution's --add-opens/--add-exports list, or Kryo and friends fail
  # at run time; take it from the shipped config.yaml rather than copying a long line here.
  local java_opts
  java_opts=$(sed -n 's/^ *all: *\(--add-.*\)$/\1/p' "$FLINK_HOME/conf/config.yaml" | head -1)
  [ -n "$java_opts" ] || die "could not read env.java.opts.all from $FLINK_HOME/conf/config.yaml"
  # Flink 1.19+ reads conf/config.yaml (standard YAML; flattened keys are allowed). A legacy
  # flink-conf.yaml in the same folder would take precedence, so we write only config.yaml.
  cat > "$CONF_DIR/config.yaml" <<EOF
# Written by scripts/flink_cluster.sh start; rewritten on every start.
env.java.opts.all: $java_opts
# Everything binds to loopback: this cluster is for this machine only.
jobmanager.rpc.address: localhost
jobmanager.rpc.port: $RPC_PORT
jobmanager.bind-host: localhost
taskmanager.bind-host: localhost
taskmanager.host: localhost
rest.address: localhost
rest.bind-address: localhost
rest.port: $REST_PORT
jobmanager.memory.process.size: $JM_PROCESS_SIZE
taskmanager.memory.process.size: $TM_PROCESS_SIZE
# Beam's batch GroupByKey sorts in managed memory; a quarter of Flink memory is plenty here and
# leaves the task heap (~1 GB at 2560m) for Beam's coders and buffers.
taskmanager.memory.managed.fraction: 0.25
# Two slots = two parallel subtasks per operator (the default of 1 gives no parallelism).
taskmanager.numberOfTaskSlots: $SLOTS
parallelism.default: $SLOTS
# Flink 1.20 runs BATCH-mode DataStream jobs with the adaptive batch scheduler, which by default
# shrinks every operator whose parallelism was not set per operator to what the data volume
# needs (16 MB a subtask): small test inputs then run downstream of the source at parallelism 1
# even with -p 2 / --parallelism=2. Off, the job's parallelism is what every vertex gets.
execution.batch.adaptive.auto-parallelism.enabled: false
jobmanager.execution.failover-strategy: region
io.tmp.dirs: $TMP_DIR
web.tmpdir: $TMP_DIR/web
EOF
}

flink_env() {
  # The Flink scripts read these; pointing them into RUN_DIR keeps the installed tree read-only
  # and lets stop find exactly the JVMs that start launched.
  export FLINK_CONF_DIR="$CONF_DIR" FLINK_LOG_DIR="$LOG_DIR" FLINK_PID_DIR="$PID_DIR"
}

our_jvm_pids() {  # JVMs started with our config folder, whatever their pid files say
  pgrep -f -- "--configDir $CONF_DIR( |$)" || true
}

cmd_start() {
  install_flink
  if overview >/dev/null; then
    if [ -n "$(our_jvm_pids)" ]; then
      log "already running"; cmd_status_line; return 0
    fi
    die "port $REST_PORT already answers but not from this cluster (set FLINK_REST_PORT)"
  fi
  [ -z "$(our_jvm_pids)" ] || die "stale Flink JVMs of $CONF_DIR: $(our_jvm_pids | tr '\n' ' '); run '$0 stop'"
  write_config
  flink_env
  local t0=$SECONDS
  # Separate JVMs, started directly: start-cluster.sh would also work but goes through
  # conf/masters + conf/workers and ssh for non-local hosts, which we do not need.
  "$FLINK_HOME/bin/jobmanager.sh" start >"$LOG_DIR/start.out" 2>&1
  "$FLINK_HOME/bin/taskmanager.sh" start >>"$LOG_DIR/start.out" 2>&1
  local ov slots
  while :; do
    if ov=$(overview); then
      slots=$(json_field slots-available "$ov")
      [ "${slots:-0}" -ge "$SLOTS" ] && break
    fi
    if [ $((SECONDS - t0)) -ge "$START_TIMEOUT" ]; then
      log "cluster not ready after ${START_TIMEOUT}s; last /overview: ${ov:-none}; logs in $LOG_DIR"
      tail -5 "$LOG_DIR"/*.log >&2 || true
      exit 1
    fi
    sleep 1
  done
  echo "Flink $(json_field flink-version "$ov") at localhost:$REST_PORT (--flink_master=localhost:$REST_PORT)," \
       "$(json_field slots-available "$ov") slots free, ready in $((SECONDS - t0))s"
}

cmd_status_line() {
  local ov; ov=$(overview) || { echo "Flink not running at localhost:$REST_PORT"; return 1; }
  echo "Flink $(json_field flink-version "$ov") at localhost:$REST_PORT," \
       "$(json_field slots-available "$ov")/$(json_field slots-total "$ov") slots free"
}

cmd_status() {
  local ov; ov=$(overview) || { echo "Flink not running at localhost:$REST_PORT"; return 1; }
  echo "$ov"
}

cmd_stop() {
  if [ ! -x "$FLINK_HOME/bin/jobmanager.sh" ]; then log "Flink not installed; nothing to stop"; return 0; fi
  flink_env
  # The Flink scripts kill the pid in their pid file and wait for it (guaranteed_kill).
  [ -d "$CONF_DIR" ] && {
    "$FLINK_HOME/bin/taskmanager.sh" stop-all >/dev/null 2>&1 || true
    "$FLINK_HOME/bin/jobmanager.sh" stop-all >/dev/null 2>&1 || true
  }
  # Then make sure: any JVM still running with our config folder gets TERM, then KILL, by pid.
  local pids i
  for i in $(seq 1 20); do
    pids=$(our_jvm_pids)
    [ -z "$pids" ] && break
    [ "$i" -eq 1 ] && kill $pids 2>/dev/null || true
    [ "$i" -eq 15 ] && kill -9 $pids 2>/dev/null || true
    sleep 1
  done
  pids=$(our_jvm_pids)
  [ -z "$pids" ] || die "Flink JVMs still running: $pids"
  if overview >/dev/null; then die "something still answers on localhost:$REST_PORT"; fi
  echo "Flink stopped (no JVM left with --configDir $CONF_DIR)"
}

cmd_jar_path() {
  [ -f "$JOB_SERVER_JAR" ] || die "$JOB_SERVER_JAR_NAME not installed; run '$0 install'"
  echo "$JOB_SERVER_JAR"
}

case "${1:-}" in
  install)  cmd_install ;;
  start)    cmd_start ;;
  stop)     cmd_stop ;;
  status)   cmd_status ;;
  jar-path) cmd_jar_path ;;
  *) echo "usage: $0 {install|start|stop|status|jar-path}" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Start or stop throw-away PostgreSQL and Redis servers on 127.0.0.1 for the test suite.
#   scripts/services.sh start DIR   -> servers with data under DIR; writes DIR/env (DATABASE_URL, REDIS_URL)
#   scripts/services.sh stop DIR    -> stops the servers that `start DIR` started, and nothing else
# Ports: LEADCRM_TEST_PG_PORT / LEADCRM_TEST_REDIS_PORT when set, else free ones the OS picks, so
# several checkouts can test at once.
set -euo pipefail

cmd=${1:?start or stop}
dir=${2:?data directory}

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

as_pg_owner() {
  # initdb refuses to run as root: run the server as the postgres user, who owns the data.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The pid in DIR/redis/redis.pid, if that process is still a redis-server (pids get reused).
our_redis_pid() {
  local pid
  pid=$(cat "$dir/redis/redis.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && grep -qa redis-server "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

case "$cmd" in
start)
  pg_port=${LEADCRM_TEST_PG_PORT:-$(free_port)}
  redis_port=${LEADCRM_TEST_REDIS_PORT:-$(free_port)}
  mkdir -p "$dir/pg" "$dir/redis"
  redis-server --port "$redis_port" --bind 127.0.0.1 --daemonize yes --dir "$dir/redis" \
    --save "" --appendonly no --pidfile "$dir/redis/redis.pid" --logfile "$dir/redis/redis.log"
  for _ in $(seq 50); do
    [ -s "$dir/redis/redis.pid" ] && redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  if ! our_redis_pid >/dev/null; then
    echo "Redis did not start on port $redis_port (is it taken?): see $dir/redis/redis.log" >&2
    exit 1
  fi
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir/pg" && chmod 755 "$dir"
  # Sized like a production server for 1,000,000 leads (docs/deployment.md): with the default
  # 128 MB of shared buffers the lead table and its indexes (2.4 GB) do not fit, and a rescoring
  # spends most of its time copying pages in from the OS cache. Memory is taken only as used, so
  # a test run's small databases cost no more.
  # A quarter of the RAM, at most 4 GB: a smaller machine still starts the server.
  quarter_mb=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 4096))
  buffers="${LEADCRM_PG_SHARED_BUFFERS:-$((quarter_mb < 4096 ? quarter_mb : 4096))MB}"
  pg_tuning="-c shared_buffers=$buffers -c max_wal_size=8GB -c checkpoint_timeout=15min -c work_mem=32MB"
  as_pg_owner "$pg_bin/initdb" -D "$dir/pg/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/pg/initdb.log"
  as_pg_owner "$pg_bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w -t 60 start \
    -o "-p $pg_port -k $dir/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 $pg_tuning" >/dev/null
  "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -qc "CREATE DATABASE leadcrm" >/dev/null
  cat >"$dir/env" <<ENV
export DATABASE_URL=postgres://postgres@127.0.0.1:$pg_port/leadcrm
export REDIS_URL=redis://127.0.0.1:$redis_port/0
ENV
  echo "PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port (data in $dir)"
  ;;
stop)
  if [ -f "$dir/pg/data/postmaster.pid" ]; then
    as_pg_owner "$pg_bin/pg_ctl" -D "$dir/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  if pid=$(our_redis_pid); then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
  fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start|stop DIR" >&2
  exit 2
  ;;
esac

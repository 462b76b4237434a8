#!/usr/bin/env bash
# Start or stop throw-away PostgreSQL and Redis servers on 127.0.0.1 for the test suite.
#   scripts/services.sh start DIR   -> servers with data under DIR; writes DIR/env (DATABASE_URL, REDIS_URL)
#   scripts/services.sh stop DIR
set -euo pipefail

cmd=${1:?start or stop}
dir=${2:?data directory}
pg_port=${LEADCRM_TEST_PG_PORT:-54329}
redis_port=${LEADCRM_TEST_REDIS_PORT:-63799}

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

as_pg_owner() {
  # initdb refuses to run as root: run the server as the postgres user, who owns the data.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
  mkdir -p "$dir/pg" "$dir/redis"
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir/pg" && chmod 755 "$dir"
  as_pg_owner "$pg_bin/initdb" -D "$dir/pg/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/pg/initdb.log"
  as_pg_owner "$pg_bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w -t 60 start \
    -o "-p $pg_port -k $dir/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null
  "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -qc "CREATE DATABASE leadcrm" >/dev/null
  redis-server --port "$redis_port" --bind 127.0.0.1 --daemonize yes --dir "$dir/redis" \
    --save "" --appendonly no --pidfile "$dir/redis/redis.pid" --logfile "$dir/redis/redis.log"
  for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  cat >"$dir/env" <<ENV
export DATABASE_URL=postgres://postgres@127.0.0.1:$pg_port/leadcrm
export REDIS_URL=redis://127.0.0.1:$redis_port/0
ENV
  echo "PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port (data in $dir)"
  ;;
stop)
  [ -d "$dir/pg/data" ] && as_pg_owner "$pg_bin/pg_ctl" -D "$dir/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
  redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start|stop DIR" >&2
  exit 2
  ;;
esac

#!/usr/bin/env bash
# Starts a throw-away PostgreSQL cluster for the tests and benchmarks, and prints its URL.
#
#   scripts/postgres-cluster.sh start DIR [PORT]   # initdb in DIR (new), start, print the URL
#   scripts/postgres-cluster.sh stop DIR
#
# PostgreSQL refuses to run as root: as root (CI), the cluster belongs to Debian's `postgres`
# user; otherwise to the caller. It listens on 127.0.0.1 and a socket in DIR only, with
# `trust` authentication for the one database user `casesync`, and fsync on (the node's
# durability is part of what the tests check). Needs Debian's `postgresql` package.
set -euo pipefail
action=${1:?usage: postgres-cluster.sh start|stop DIR [PORT]}
dir=${2:?usage: postgres-cluster.sh start|stop DIR [PORT]}
port=${3:-55432}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "postgres-cluster.sh: PostgreSQL is not installed; apt-get install postgresql" >&2; exit 2; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$action" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U casesync --auth=trust -E UTF8 --no-locale >"$dir/initdb.log"
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=500 -c shared_buffers=128MB" start >/dev/null
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U casesync casesync
    echo "postgres://casesync@127.0.0.1:$port/casesync"
    ;;
  stop)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null
    ;;
  *)
    echo "postgres-cluster.sh: unknown action $action (start or stop)" >&2; exit 2 ;;
esac

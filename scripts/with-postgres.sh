#!/usr/bin/env bash
# Runs a command with CASESYNC_TEST_DATABASE_URL naming a PostgreSQL database, so that the
# node test suites run against both stores (SQLite and PostgreSQL):
#
#   scripts/with-postgres.sh swift test --skip-build
#
# A URL already in CASESYNC_TEST_DATABASE_URL is used as it is (each test makes a schema of
# its own there). Otherwise, when Debian's `postgresql` package is installed, a throw-away
# cluster is started on a free loopback port (scripts/postgres-cluster.sh) and stopped after.
# Without PostgreSQL the command runs as it is, on SQLite alone, and says so.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${CASESYNC_TEST_DATABASE_URL:-}" ]; then
  exec "$@"
fi
if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
  echo "with-postgres.sh: PostgreSQL is not installed (apt-get install postgresql): the node tests run on SQLite only" >&2
  exec "$@"
fi
dir=$(mktemp -d /tmp/casesync-pg.XXXXXX)
chmod 755 "$dir"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=$("$here/postgres-cluster.sh" start "$dir" "$port")
cleanup() {
  "$here/postgres-cluster.sh" stop "$dir" || true
  # The server's log outlives the cluster, for a failed run.
  cp "$dir/server.log" "${TMPDIR:-/tmp}/casesync-pg-last.log" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
echo "with-postgres.sh: a throw-away PostgreSQL cluster at $url" >&2
CASESYNC_TEST_DATABASE_URL=$url "$@"

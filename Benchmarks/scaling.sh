#!/bin/bash
# First sync against the size of the node, for a mediator and a supervisor (issue #20): the
# release `casesync-bench sync` at each size, ten records a case, the two roles alternately,
# ROUNDS times. Prints each run's JSON line, then the medians and time(largest)/time(smallest).
#
#   Benchmarks/scaling.sh [ROUNDS] [SIZES...]        # e.g. Benchmarks/scaling.sh 1 100000 300000 1000000
#   STORE=postgres CASESYNC_BENCH_DATABASE_URL=postgres://… Benchmarks/scaling.sh 1 100000   # the node on PostgreSQL
set -euo pipefail
cd "$(dirname "$0")/.."
bench=${BENCH:-.build/release/casesync-bench}
store=${STORE:-sqlite}
rounds=${1:-1}
shift || true
sizes=(100000 300000 1000000)
[ $# -eq 0 ] || sizes=("$@")
log=${TMPDIR:-/tmp}/casesync-scaling.ndjson
: > "$log"
for round in $(seq 1 "$rounds"); do
  for records in "${sizes[@]}"; do
    for role in mediator supervisor; do
      echo "round $round/$rounds: $role, $records records, $store" >&2
      "$bench" sync --store "$store" --records "$records" --per-case 10 --role "$role" | tail -1 | tee -a "$log"
    done
  done
done
python3 - "$log" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
sizes = sorted({r["records"] for r in runs})
for role in ("mediator", "supervisor"):
    medians = {}
    for size in sizes:
        mine = [r for r in runs if r["role"] == role and r["records"] == size]
        medians[size] = statistics.median(r["first_sync_s"] for r in mine)
        print(f"{role} {size}: first sync {medians[size]:.2f} s {[r['first_sync_s'] for r in mine]}, "
              f"push ratio {statistics.median(r['push_ratio'] for r in mine):.2f}, daemon peak {max(r['daemon_peak_rss_mb'] for r in mine)} MB")
    if len(sizes) > 1:
        print(f"{role}: time({sizes[-1]}) / time({sizes[0]}) = {medians[sizes[-1]] / medians[sizes[0]]:.2f}")
for size in sizes:
    m = statistics.median(r["first_sync_s"] for r in runs if r["role"] == "mediator" and r["records"] == size)
    s = statistics.median(r["first_sync_s"] for r in runs if r["role"] == "supervisor" and r["records"] == size)
    print(f"{size}: mediator / supervisor = {m / s:.2f}")
PY

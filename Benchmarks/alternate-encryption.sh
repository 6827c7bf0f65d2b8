#!/bin/bash
# The cost of encryption at rest (issue #18): `casesync-bench store` and `sync` on the same
# release build, encrypted replicas (the default) and plain ones (`--encryption off`)
# alternately, ROUNDS times each, because this machine's speed drifts by minutes. Prints the
# median of each figure per mode and the encrypted/plain ratio of the medians.
#
#   Benchmarks/alternate-encryption.sh [ROUNDS] [RECORDS]      # e.g. 3 100000
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
rounds=${1:-3}
records=${2:-100000}
swift build -c release >/dev/null
bench=.build/release/casesync-bench
log=$(mktemp /tmp/casesync-encryption.XXXXXX.ndjson)
for round in $(seq 1 "$rounds"); do
  for mode in off on; do
    for name in store sync; do
      echo "round $round/$rounds $name --encryption $mode" >&2
      $bench "$name" --records "$records" --encryption "$mode" | tail -1 >> "$log"
    done
  done
done
python3 - "$log" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
figures = {"store": ["store_rows_per_s", "ratio", "list_s"], "sync": ["push_records_per_s", "push_ratio", "first_sync_s", "idle_sync_ms"]}
for bench, keys in figures.items():
    for key in keys:
        medians = {}
        for mode in ("off", "on"):
            values = [r[key] for r in runs if r["bench"] == bench and r["encryption"] == mode]
            medians[mode] = statistics.median(values)
            print(f"{bench} {key} {mode}: median {medians[mode]:g} {values}")
        print(f"{bench} {key}: encrypted/plain {medians['on'] / medians['off']:.3f}")
PY

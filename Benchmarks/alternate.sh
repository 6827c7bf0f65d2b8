#!/bin/bash
# Compares two commits on the node's benchmarks (sync, store, export, a 200-device burst)
# by running their release builds alternately, ROUNDS times each: this machine's speed
# drifts by minutes, so runs of one build after the other would compare the minutes, not
# the builds. Each commit is built in a work tree of its own under $TMPDIR (one build at a
# time). Prints the median and the runs of each figure.
#
#   Benchmarks/alternate.sh OLD_COMMIT NEW_COMMIT [ROUNDS]      # e.g. 7a35216 HEAD 4
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
old=$(git rev-parse --short "$1")
new=$(git rev-parse --short "$2")
rounds=${3:-4}
work=${TMPDIR:-/tmp}/casesync-alternate
mkdir -p "$work"
for commit in "$old" "$new"; do
  tree=$work/$commit
  [ -d "$tree" ] || git worktree add -q --detach "$tree" "$commit"
  (cd "$tree" && swift build -c release --product casesync-bench >/dev/null && swift build -c release >/dev/null)
done
log=$work/runs.ndjson
: > "$log"
for round in $(seq 1 "$rounds"); do
  for commit in "$old" "$new"; do
    bench=$work/$commit/.build/release/casesync-bench
    for args in "sync --records 100000" "store --records 100000" "export --records 100000" "load --devices 200 --seconds 0 --bursts 3"; do
      echo "round $round/$rounds $commit: $args" >&2
      # shellcheck disable=SC2086
      $bench $args | tail -1 | sed "s/^{/{\"build\":\"$commit\",/" >> "$log"
    done
  done
done
python3 - "$log" "$old" "$new" <<'PY'
import json, statistics, sys
log, old, new = sys.argv[1:]
runs = [json.loads(line) for line in open(log)]
figures = {"sync": ["push_ratio", "first_sync_s", "idle_sync_ms", "daemon_peak_rss_mb"], "store": ["ratio", "list_s"],
           "export": ["export_s", "daemon_rss_peak_mb"], "load": ["burst.p99_ms", "burst.node_cpu_ms_per_sync", "burst_round_trip_p99_ms"]}
def value(run, key):
    for part in key.split("."):
        run = run[part]
    return run
for bench, keys in figures.items():
    for key in keys:
        line = [f"{bench} {key}:"]
        for build in (old, new):
            values = [value(r, key) for r in runs if r["build"] == build and r["bench"] == bench]
            line.append(f"{build} median {statistics.median(values):g} {values}")
        print("  ".join(line))
PY

#!/bin/bash
# Compares two builds of casesync-bench on the merge benchmark's delta phase by running
# them alternately (this VM's speed drifts by minutes, so runs of one build after the
# other compare the minutes, not the builds). Prints the best, lower-quartile and median
# delta round of each.
#
#   Benchmarks/alternate-merge.sh OLD_BINARY NEW_BINARY [PAIRS]
set -euo pipefail
old=$1
new=$2
pairs=${3:-3}
for _ in $(seq 1 "$pairs"); do
  for build in old new; do
    binary=$old
    [ "$build" = new ] && binary=$new
    "$binary" merge --records 100000 --rounds 9 | grep '^delta' | sed 's/.*rounds: //' | tr ',' '\n' | sed "s/^ */$build /"
  done
done | sort -k1,1 -k2n | awk '
  { rounds[$1] = rounds[$1] " " $2; count[$1]++ }
  END {
    for (build in rounds) {
      split(substr(rounds[build], 2), sorted, " ")
      n = count[build]
      printf "%s best %s p25 %s median %s (%d rounds)\n", build, sorted[1], sorted[int(n / 4) + 1], sorted[int((n + 1) / 2)], n
    }
  }'

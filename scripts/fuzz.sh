#!/usr/bin/env bash
# Fuzzes the record and envelope decoders, validation and merge with libFuzzer
# (Fuzz/RecordDecoderFuzz.swift, compiled with SyncModel's sources and AddressSanitizer).
# Bounded by time; seeds are the protocol vectors' states.
#
#   scripts/fuzz.sh [SECONDS] [libFuzzer options…]      (default 60)
#
# Exits non-zero, with the input that broke a promise in .build/fuzz/crash-*, when one is found.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
seconds="${1:-60}"
out=.build/fuzz
mkdir -p "$out/corpus"

# Build only when a source changed.
binary="$out/record-decoders"
if [ ! -x "$binary" ] || [ -n "$(find Sources/SyncModel Fuzz -name '*.swift' -newer "$binary" | head -1)" ]; then
  echo "fuzz.sh: building $binary"
  swiftc -sanitize=fuzzer,address -parse-as-library -module-name SyncModel -O -g \
    $(find Sources/SyncModel -name '*.swift' | sort) Fuzz/RecordDecoderFuzz.swift -o "$binary" 2>&1 \
    | grep -v "Cannot export local symbol" || true
  [ -x "$binary" ] || { echo "fuzz.sh: the fuzz target did not build" >&2; exit 1; }
fi

# Seeds: each vector's input states as one push, so merges of related states are reached.
python3 - "$out/corpus" <<'PY'
import json, glob, os, sys
corpus = sys.argv[1]
for path in sorted(glob.glob("Protocol/vectors/*.json")):
    vector = json.load(open(path))
    states = [s for s in vector.get("inputs", []) if isinstance(s, dict)]
    name = os.path.join(corpus, "seed-" + os.path.basename(path))
    with open(name, "w") as f:
        json.dump({"records": states}, f, separators=(",", ":"))
PY

# Swift's own crash handler would trip AddressSanitizer; libFuzzer prints the stack. Its
# progress goes to a log: the end of it is shown, all of it when something broke.
echo "fuzz.sh: fuzzing for ${seconds}s (log: $out/fuzz.log)"
if SWIFT_BACKTRACE=enable=no "$binary" "$out/corpus" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
     -artifact_prefix="$out/" -print_final_stats=1 -print_funcs=0 "${@:2}" >"$out/fuzz.log" 2>&1; then
  grep -E '^(Done|stat::number_of_executed_units|stat::new_units_added)' "$out/fuzz.log" || tail -5 "$out/fuzz.log"
else
  status=$?
  grep -v '^#[0-9]' "$out/fuzz.log" | tail -80
  echo "fuzz.sh: the fuzzer found an input that breaks a promise (exit $status); it is in $out/crash-*" >&2
  exit "$status"
fi

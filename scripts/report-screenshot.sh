#!/usr/bin/env bash
# The HTML report as a person sees it: a node on loopback, a mediator's year of cases
# (long site names, every stage, actions met, late, missed and escalated, feedback), the
# reporter's `casesync report --html`, and a headless Chromium screenshot at 1280 px.
#   scripts/report-screenshot.sh [OUT.png]      (default .build/report.png; needs chromium:
#   apt-get install chromium)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH TZ=UTC
OUT=$(realpath -m "${1:-.build/report.png}")
command -v chromium >/dev/null || { echo "report-screenshot: chromium is missing; install it with: apt-get install chromium" >&2; exit 1; }
swift build --product casesync >/dev/null && swift build --product casesyncd >/dev/null
BIN=$PWD/.build/debug
WORK=$(mktemp -d /tmp/casesync-report.XXXXXX)
cleanup() { [ -n "${NODE_PID:-}" ] && kill "$NODE_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

"$BIN/casesyncd" serve --data "$WORK/node" --port 0 > "$WORK/node.log" 2>&1 &
NODE_PID=$!
for _ in $(seq 100); do grep -q "listening on http" "$WORK/node.log" && break; sleep 0.1; done
SERVER=$(grep -m1 -o 'http://127.0.0.1:[0-9]*' "$WORK/node.log")
"$BIN/casesyncd" user add ann --role mediator --data "$WORK/node" >/dev/null
"$BIN/casesyncd" user add rita --role reporter --data "$WORK/node" >/dev/null
M=(--data "$WORK/ann"); R=(--data "$WORK/rita")
"$BIN/casesync" "${M[@]}" init --device-name ann-laptop >/dev/null
"$BIN/casesync" "${R[@]}" init --device-name reports >/dev/null
"$BIN/casesync" "${M[@]}" enroll --server "$SERVER" --token "$("$BIN/casesyncd" enroll ann --data "$WORK/node" | tail -1)" >/dev/null
"$BIN/casesync" "${R[@]}" enroll --server "$SERVER" --token "$("$BIN/casesyncd" enroll rita --data "$WORK/node" | tail -1)" >/dev/null

at() { CASESYNC_NOW="$1T09:00:00Z" "$BIN/casesync" "${M[@]}" "${@:2}" >/dev/null 2>&1; }
id() { CASESYNC_NOW="$1T09:00:00Z" "$BIN/casesync" "${M[@]}" --json "${@:2}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["short"])'; }
sites=("North Hospital" "St Mary's University Hospital, Paediatric Intensive Care Unit" "Riverside Community Clinic")
kinds=(clinical-dispute malpractice workplace-conduct family-clinician other)
for n in $(seq 1 18); do
  month=$(printf '%02d' $(( (n % 9) + 1 )))
  opened="2026-$month-0$(( (n % 7) + 1 ))"
  c=$(id "$opened" case new --title "Case $n" --site "${sites[$((n % 3))]}" --kind "${kinds[$((n % 5))]}" --opened "$opened")
  next=$(date -d "$opened +9 days" +%F)
  at "$next" case status "$c" exploration
  [ $((n % 6)) -eq 0 ] && { at "$next" case status "$c" withdrawn; continue; }
  [ $((n % 4)) -eq 1 ] && continue
  agreed=$(date -d "$opened +$(( 10 + n * 3 )) days" +%F)
  at "$agreed" case status "$c" agreement
  a=$(id "$agreed" action add "$c" --text "Apology letter" --due "$(date -d "$agreed +14 days" +%F)")
  b=$(id "$agreed" action add "$c" --text "Checklist review" --due "$(date -d "$agreed +30 days" +%F)")
  at "$(date -d "$agreed +10 days" +%F)" action review "$a" --status met
  case $((n % 3)) in
    0) at "$(date -d "$agreed +40 days" +%F)" action review "$b" --status met ;;
    1) at "$(date -d "$agreed +35 days" +%F)" action review "$b" --status missed
       at "$(date -d "$agreed +35 days" +%F)" action escalate "$b" --text "Meeting with the ward manager" --due "$(date -d "$agreed +60 days" +%F)" ;;
  esac
  at "$(date -d "$agreed +1 days" +%F)" feedback add "$c" --rating $(( (n % 5) + 1 ))
  if [ $((n % 2)) -eq 0 ]; then
    at "$(date -d "$agreed +45 days" +%F)" case status "$c" closed
  else
    at "$(date -d "$agreed +2 days" +%F)" case status "$c" follow-up
  fi
done
"$BIN/casesync" "${M[@]}" sync >/dev/null
CASESYNC_NOW=2026-11-30T09:00:00Z "$BIN/casesync" "${R[@]}" report --html "$WORK/report.html" >/dev/null
mkdir -p "$(dirname "$OUT")"
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,3200 --screenshot="$OUT" "file://$WORK/report.html" 2>/dev/null
echo "report-screenshot: $OUT (1280 px wide)"

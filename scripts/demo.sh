#!/usr/bin/env bash
# A guided tour of CaseSync: one sync node, two laptops of one mediator working offline,
# a merge, a conflict, its resolution. Everything runs in a temporary folder on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "Building CaseSync (debug)…"
swift build --product casesync >/dev/null && swift build --product casesyncd >/dev/null
BIN=.build/debug
TOUR=$(mktemp -d /tmp/casesync-tour.XXXXXX)
NODE="$TOUR/node"
cleanup() { [ -n "${NODE_PID:-}" ] && kill "$NODE_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TOUR"; }
trap cleanup EXIT

say "1. The service runs a sync node. We start one on a free port with an empty data folder."
"$BIN/casesyncd" serve --data "$NODE" --port 0 > "$TOUR/node.log" 2>&1 &
NODE_PID=$!
for _ in $(seq 50); do grep -q "listening on http" "$TOUR/node.log" && break; sleep 0.1; done
SERVER=$(grep -m1 -o 'http://127.0.0.1:[0-9]*' "$TOUR/node.log")
echo "The node listens on $SERVER."

say "2. An administrator adds Ann as a mediator and makes one-time tokens for her two laptops."
run "$BIN/casesyncd" user add ann --role mediator --data "$NODE"
TOKEN1=$("$BIN/casesyncd" enroll ann --data "$NODE" | tail -1)
TOKEN2=$("$BIN/casesyncd" enroll ann --data "$NODE" | tail -1)

say "3. Each laptop gets its own replica, encrypted under Ann's passphrase, and enrolls with its token."
# On a terminal init asks for the passphrase twice; the tour reads it from a file, as a script would.
printf 'correct horse battery staple\n' > "$TOUR/passphrase"; chmod 600 "$TOUR/passphrase"
export CASESYNC_PASSPHRASE_FILE="$TOUR/passphrase"
A=(--data "$TOUR/ann-laptop"); B=(--data "$TOUR/ann-desktop")
run "$BIN/casesync" "${A[@]}" init --device-name ann-laptop
run "$BIN/casesync" "${B[@]}" init --device-name ann-desktop
run "$BIN/casesync" "${A[@]}" enroll --server "$SERVER" --token "$TOKEN1"
run "$BIN/casesync" "${B[@]}" enroll --server "$SERVER" --token "$TOKEN2"

say "4. On the ward, with no network, Ann opens a case on her laptop and records a party and a session."
CASE=$("$BIN/casesync" "${A[@]}" --json case new --title "Discharge planning dispute" --kind clinical-dispute --site "North Hospital" | python3 -c 'import json,sys; print(json.load(sys.stdin)["short"])')
echo "Opened case $CASE."
run "$BIN/casesync" "${A[@]}" party add "$CASE" --role family --name "Mrs Müller" --consent-to-mediate yes
run "$BIN/casesync" "${A[@]}" session add "$CASE" --at "2026-11-23 10:00" --kind joint --location "Family room"

say "5. Back on the hospital Wi-Fi, the laptop syncs; the desktop syncs and receives the case."
run "$BIN/casesync" "${A[@]}" sync
run "$BIN/casesync" "${B[@]}" sync

say "6. Both machines go offline again. Ann edits the case on both: different fields merge, the same field conflicts."
run "$BIN/casesync" "${A[@]}" case set "$CASE" "title=Discharge planning dispute — apology requested"
run "$BIN/casesync" "${B[@]}" case set "$CASE" "title=Discharge planning dispute (family meeting held)" "objectives=A written apology and a revised checklist"
run "$BIN/casesync" "${B[@]}" action add "$CASE" --text "Revise the discharge checklist" --owner "Ward 7 manager" --due 2026-12-15 --measure "Checklist signed off"

say "7. Both sync. Nothing is lost: the objectives and the action merged; the two titles are kept side by side."
run "$BIN/casesync" "${A[@]}" sync
run "$BIN/casesync" "${B[@]}" sync
run "$BIN/casesync" "${A[@]}" sync
run "$BIN/casesync" "${A[@]}" case show "$CASE"

say "8. Ann chooses the desktop's title. The resolution is a change like any other and syncs."
DESKTOP=$("$BIN/casesync" "${B[@]}" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["device"])')
run "$BIN/casesync" "${A[@]}" resolve "$CASE" title --keep "$DESKTOP"
run "$BIN/casesync" "${A[@]}" sync
run "$BIN/casesync" "${B[@]}" sync

say "9. Both laptops now show the same case, with no conflict left."
"$BIN/casesync" "${A[@]}" --json case show "$CASE" > "$TOUR/a.json"
"$BIN/casesync" "${B[@]}" --json case show "$CASE" > "$TOUR/b.json"
if cmp -s "$TOUR/a.json" "$TOUR/b.json"; then echo "Identical on both devices."; else echo "The devices differ!"; exit 1; fi
run "$BIN/casesync" "${B[@]}" conflicts

say "10. Nothing on the laptop's disk reads as case text; leaving the ward, Ann locks it."
if grep -rqa "Discharge planning" "$TOUR/ann-laptop"; then echo "Plain case text found on disk!"; exit 1; fi
echo "grep -r 'Discharge planning' over the laptop's data folder: no match."
run "$BIN/casesync" "${A[@]}" lock
echo "Without the passphrase, the next command is refused:"
env -u CASESYNC_PASSPHRASE_FILE "$BIN/casesync" "${A[@]}" status < /dev/null || true
say "End of the tour. (Everything was in $TOUR, now removed.)"

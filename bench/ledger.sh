#!/usr/bin/env bash
# The ledger benchmark of docs/performance.md: import speed and all readings at 5,000,000
# events, with sqlite3's own .import of the same rows as the floor.
#
#   bench/ledger.sh [PEOPLE]      (default 500000 people ≈ 5,280,000 events)
#
# Needs: a release build (it makes one), sqlite3 (apt-get install sqlite3), GNU time
# (/usr/bin/time, apt-get install time). Writes everything under bench-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
PEOPLE=${1:-500000}
OUT=bench-out
mkdir -p "$OUT"
cargo build --release -q -p rapport
R=target/release/rapport
TIME=/usr/bin/time

measure() { # label, command...
  local label=$1; shift
  local log; log=$(mktemp)
  sync # let the previous step's writes settle, so they are not charged to this one
  "$TIME" -f "%e %M" -o "$log" "$@" > "$OUT/$label.out" 2> "$OUT/$label.err"
  read -r secs kib < "$log"; rm -f "$log"
  printf '%-40s %8.2f s %8.0f MiB\n' "$label" "$secs" "$((kib / 1024))" >&2
  echo "$secs"
}

echo "generating $PEOPLE people …"
$R generate --people "$PEOPLE" --seed 1 --end 2026-11-01 --out "$OUT/events.jsonl" 2> "$OUT/generate.log"
EVENTS=$(wc -l < "$OUT/events.jsonl")
echo "$EVENTS events, $(du -h "$OUT/events.jsonl" | cut -f1)"

rm -f "$OUT"/ledger.db*
$R --db "$OUT/ledger.db" init > /dev/null
echo
echo "what                                      seconds   peak memory"
secs=$(measure "rapport import (JSON Lines)" $R --db "$OUT/ledger.db" import "$OUT/events.jsonl" | tail -1)
awk -v e="$EVENTS" -v s="$secs" 'BEGIN { printf "  = %.0f events/s\n", e / s }'

measure "rapport people --json (all readings)" $R --db "$OUT/ledger.db" people --json --as-of 2026-11-01 > /dev/null
measure "rapport people (table, top 20)" $R --db "$OUT/ledger.db" people --sort punctuality.on_time_share --limit 20 --as-of 2026-11-01 > /dev/null
measure "rapport card P-000001" $R --db "$OUT/ledger.db" card P-000001 --as-of 2026-11-01 > /dev/null
measure "rapport import again (all duplicates)" $R --db "$OUT/ledger.db" import "$OUT/events.jsonl" > /dev/null

# The floor: sqlite3 importing the same rows (as CSV of the ledger's own columns; the binary
# body as hex text, twice its size) into the same schema, indexes included. It does not seal
# or validate anything.
sqlite3 "$OUT/ledger.db" -csv \
  "SELECT seq, source, id, person, kind, at, hex(body), lines, batch FROM events" \
  > "$OUT/rows.csv"
rm -f "$OUT"/floor.db*
# The same tables and indexes; without STRICT, because .import binds every CSV cell as text.
sed -e 's/) STRICT, WITHOUT ROWID;/) WITHOUT ROWID;/' -e 's/) STRICT;/);/' \
  crates/store/sqlite/src/migrations/0001_ledger.sql | sqlite3 "$OUT/floor.db"
sqlite3 "$OUT/floor.db" "INSERT INTO imports (batch, started_at, origin) VALUES (1, 0, 'floor')"
secs=$(measure "sqlite3 .import of the same rows (floor)" sqlite3 "$OUT/floor.db" \
  "PRAGMA journal_mode=WAL" "PRAGMA synchronous=NORMAL" "PRAGMA cache_size=-262144" \
  ".import --csv $OUT/rows.csv events" | tail -1)
awk -v e="$EVENTS" -v s="$secs" 'BEGIN { printf "  = %.0f rows/s\n", e / s }'


#!/usr/bin/env bash
# The PostgreSQL benchmark of docs/performance.md ("PostgreSQL"): the same generated events
# imported into a PostgreSQL ledger and a SQLite ledger as `rapport import` imports them,
# against the floor of the same run — psql's own \copy of the same rows into a table shaped
# like rapport.events with the same indexes — and every reading for everyone from each.
#
#   bench/postgres.sh [PEOPLE]     (default 500000 people ≈ 5,280,000 events)
#
# Needs: a PostgreSQL server where it may create the database rapport_bench
# (RAPPORT_BENCH_POSTGRES, default postgres://postgres@127.0.0.1:5432/postgres), psql, GNU
# time (/usr/bin/time). Writes everything under bench-out/postgres/.
set -euo pipefail
cd "$(dirname "$0")/.."
PEOPLE=${1:-500000}
ADMIN=${RAPPORT_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}
URL=${ADMIN%/*}/rapport_bench
OUT=$PWD/bench-out/postgres
mkdir -p "$OUT"
cargo build --release -q -p rapport-store-postgres --example import_bench
B=$PWD/target/release/examples/import_bench
TIME=/usr/bin/time

measure() { # label, command...
  local label=$1; shift
  local log; log=$(mktemp)
  sync
  "$TIME" -f "%e %M" -o "$log" "$@" > "$OUT/$label.out" 2> "$OUT/$label.err"
  read -r secs kib < "$log"; rm -f "$log"
  printf '%-48s %8.2f s %8.0f MiB\n' "$label" "$secs" "$((kib / 1024))" >&2
  echo "$secs"
}
rate() { awk -v e="$1" -v s="$2" -v u="$3" 'BEGIN { printf "  = %.0f %s/s\n", e / s, u }' >&2; }

if [ ! -s "$OUT/events-$PEOPLE.jsonl" ]; then
  echo "generating $PEOPLE people …" >&2
  "$B" generate "$PEOPLE" "$OUT/events-$PEOPLE.jsonl" > "$OUT/generate.log"
fi
EVENTS=$(wc -l < "$OUT/events-$PEOPLE.jsonl")
echo "$EVENTS events, $(du -h "$OUT/events-$PEOPLE.jsonl" | cut -f1)" >&2

psql -q "$ADMIN" -c "DROP DATABASE IF EXISTS rapport_bench WITH (FORCE)" -c "CREATE DATABASE rapport_bench"
rm -f "$OUT"/ledger.db* "$OUT"/plain.db*
cd "$OUT"
echo >&2
echo "what                                              seconds   peak memory" >&2
secs=$(measure "import into PostgreSQL" "$B" import "$URL" "events-$PEOPLE.jsonl" | tail -1)
rate "$EVENTS" "$secs" events
cp ledger-bench.key ledger-bench.key.postgres
secs=$(measure "import into SQLite" "$B" import ledger.db "events-$PEOPLE.jsonl" | tail -1)
rate "$EVENTS" "$secs" events
cp ledger-bench.key ledger-bench.key.sqlite

# The floor: psql's \copy of the ledger's own rows into a table shaped like rapport.events,
# with the same primary key and unique index, in text (CSV) and in binary. Nothing to
# validate, seal or index into scripts; the rows are read back from the ledger just made.
psql -q "$URL" -c "\\copy rapport.events TO 'rows.csv' (FORMAT csv)"
psql -q "$URL" -c "\\copy rapport.events TO 'rows.bin' (FORMAT binary)"
for format in csv binary; do
  file=rows.csv; [ $format = binary ] && file=rows.bin
  psql -q "$URL" -c "DROP SCHEMA IF EXISTS floor CASCADE" -c "CREATE SCHEMA floor" \
    -c "CREATE TABLE floor.events (LIKE rapport.events INCLUDING ALL)" -c "CHECKPOINT"
  secs=$(measure "psql \\copy of the same rows ($format, floor)" \
    psql -q "$URL" -c "\\copy floor.events FROM '$file' (FORMAT $format)" | tail -1)
  rate "$EVENTS" "$secs" rows
done
# The floor of everything an import writes besides events: sealed fields, people and their
# keys, each copied in binary into a table shaped like the ledger's, with its indexes.
for t in rapport.sealed rapport.people rapport_vault.keys; do
  psql -q "$URL" -c "\\copy $t TO 'table.bin' (FORMAT binary)"
  psql -q "$URL" -c "DROP SCHEMA IF EXISTS floor CASCADE" -c "CREATE SCHEMA floor" \
    -c "CREATE TABLE floor.t (LIKE $t INCLUDING ALL)" -c "CHECKPOINT"
  rows=$(psql -q "$URL" -Atc "SELECT count(*) FROM $t")
  secs=$(measure "psql \\copy of $t (binary, floor)" \
    psql -q "$URL" -c "\\copy floor.t FROM 'table.bin' (FORMAT binary)" | tail -1)
  rate "$rows" "$secs" rows
done
psql -q "$URL" -c "DROP SCHEMA floor CASCADE" -c "VACUUM ANALYZE"
rm -f rows.csv rows.bin table.bin

# The same events without the answers: what storing costs without grouping answers into
# scripts at commit (which both backends do alike, on the writing thread).
grep -v '"kind":"contact.answered"' "events-$PEOPLE.jsonl" > "no-answers-$PEOPLE.jsonl"
PLAIN=$(wc -l < "no-answers-$PEOPLE.jsonl")
psql -q "$ADMIN" -c "DROP DATABASE IF EXISTS rapport_bench_plain WITH (FORCE)" -c "CREATE DATABASE rapport_bench_plain"
secs=$(measure "import without answers into PostgreSQL" "$B" import "${ADMIN%/*}/rapport_bench_plain" "no-answers-$PEOPLE.jsonl" | tail -1)
rate "$PLAIN" "$secs" events
secs=$(measure "import without answers into SQLite" "$B" import plain.db "no-answers-$PEOPLE.jsonl" | tail -1)
rate "$PLAIN" "$secs" events
psql -q "$ADMIN" -c "DROP DATABASE rapport_bench_plain WITH (FORCE)"
rm -f plain.db* "no-answers-$PEOPLE.jsonl"

for run in 1 2 3; do
  cp ledger-bench.key.postgres ledger-bench.key
  measure "every reading, PostgreSQL (run $run)" "$B" readings "$URL" 2026-11-01 > /dev/null
  cp ledger-bench.key.sqlite ledger-bench.key
  measure "every reading, SQLite (run $run)" "$B" readings ledger.db 2026-11-01 > /dev/null
done
psql -q "$URL" -Atc "SELECT 'database size: ' || pg_size_pretty(pg_database_size(current_database()))" >&2
echo "SQLite ledger: $(du -ch ledger.db* | tail -1 | cut -f1)" >&2

#!/usr/bin/env bash
# The people list's filters (docs/performance.md, "Filters"): what a filtered list costs
# against the unfiltered one, which only reads the sorted index.
#
#   bench/filters.sh [PEOPLE]        (default 200000 people ≈ 2.1 M events)
#
# On one generated ledger (SQLite) it times, each as a whole process (median of 5, peak
# memory): `rapport people --limit 20` sorted, then the same with each named filter and with a
# range of a figure. Needs a release build (it makes one) and GNU time. Writes under
# bench-out/filters-PEOPLE/.
set -euo pipefail
cd "$(dirname "$0")/.."
PEOPLE=${1:-200000}
OUT=bench-out/filters-$PEOPLE
mkdir -p "$OUT"
cargo build --release -q -p rapport
R=$PWD/target/release/rapport
DB=$OUT/ledger.db
if [ ! -f "$DB" ]; then
  echo "generating $PEOPLE people …"
  $R generate --people "$PEOPLE" --seed 1 --out "$OUT/events.jsonl" 2> /dev/null
  $R --db "$DB" init > /dev/null
  $R --db "$DB" import "$OUT/events.jsonl" > /dev/null 2>&1
fi
run() { # label, args… → median seconds of 5 runs, peak MiB
  local label=$1; shift
  local times=() kib=0
  for _ in 1 2 3 4 5; do
    local log; log=$(mktemp)
    /usr/bin/time -f "%e %M" -o "$log" $R --db "$DB" people "$@" > "$OUT/last.out" 2> "$OUT/last.err"
    read -r s k < "$log"; rm -f "$log"
    times+=("$s"); [ "$k" -gt "$kib" ] && kib=$k
  done
  local median; median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
  local shown; shown=$(grep -c . "$OUT/last.out" || true)
  printf '%-72s %7.3f s %6d MiB  (%s lines)\n' "$label" "$median" "$((kib / 1024))" "$shown"
}
echo "rapport people on $PEOPLE people (median of 5 runs)"
run "--sort punctuality.on_time_share --limit 20" --sort punctuality.on_time_share --limit 20 --json
run "--filter overdue --sort punctuality.open_overdue --desc --limit 20" --filter overdue --sort punctuality.open_overdue --desc --limit 20 --json
run "--filter unanswered --limit 20" --filter unanswered --limit 20 --json
run "--where punctuality.on_time_share=..0.5 --limit 20" --where punctuality.on_time_share=..0.5 --limit 20 --json
run "--where heard.answered_share=0.2..0.8 --sort heard.contacts --desc --limit 20" --where heard.answered_share=0.2..0.8 --sort heard.contacts --desc --limit 20 --json

#!/usr/bin/env bash
# The kept-readings benchmark of docs/performance.md: what a ledger costs once each person's
# readings are kept as events arrive, at any size.
#
#   bench/kept.sh [PEOPLE]        (default 1000000 people ≈ 10.5 M events; 500000 ≈ 5.28 M)
#
# On one generated ledger it measures, each as a whole process (wall time, peak memory):
#   1. the import: the events (the importer's own figure) and the catch-up that keeps
#      everyone's readings afterwards (the rest of the command);
#   2. `rapport serve` from start until it answers, and its memory;
#   3. `rapport card P` (median of 5) and the card API at 1,000 requests/s (p50/p99);
#   4. `rapport people --sort FIELD --limit 20` for several fields, and the people page sorted
#      by each field, first view;
#   5. `rapport refresh` after one simulated day: the clock moved 24 h (RAPPORT_TODAY) and
#      1 % of people wrote in;
#   6. `rapport check` (everyone recomputed from the events and compared).
#
#   SERVE_ONLY=1 bench/kept.sh [PEOPLE]   (only the server's part, on the ledger made before)
#   SCALE=1 bench/kept.sh 5000000         (the scale run: no load tests, no check — a full
#                                          recomputation of 5 M people needs some 20 GiB)
#
# Needs: a release build (it makes one), curl, GNU time (apt-get install time). Writes under
# bench-out/kept-PEOPLE/. The days are simulated with RAPPORT_TODAY, so the ledger's
# readings are kept for the day the import ran; later runs keep using that day.
set -euo pipefail
cd "$(dirname "$0")/.."
PEOPLE=${1:-1000000}
OUT=bench-out/kept-$PEOPLE
mkdir -p "$OUT"
cargo build --release -q -p rapport
cargo build --release -q -p rapport-web --example load
R=$PWD/target/release/rapport
LOAD=$PWD/target/release/examples/load
DB=$OUT/ledger.db
PORT=7898
URL=http://127.0.0.1:$PORT
if [ -f "$OUT/today" ]; then TODAY=$(cat "$OUT/today"); else TODAY=$(date -u +%F); echo "$TODAY" > "$OUT/today"; fi
TOMORROW=$(date -u -d "$TODAY + 1 day" +%F)
export RAPPORT_TODAY=$TODAY

measure() { # label, command... → prints "label  seconds  MiB", returns seconds in $SECS
  local label=$1; shift
  local log; log=$(mktemp)
  sync
  /usr/bin/time -f "%e %M" -o "$log" "$@" > "$OUT/last.out" 2> "$OUT/last.err"
  read -r SECS kib < "$log"; rm -f "$log"
  printf '%-58s %8.3f s %7d MiB\n' "$label" "$SECS" "$((kib / 1024))"
}

if [ ! -f "$DB" ]; then
  echo "generating $PEOPLE people …"
  $R generate --people "$PEOPLE" --seed 1 --end "$TODAY" --out "$OUT/events.jsonl" 2> /dev/null
  $R --db "$DB" init > /dev/null
  EVENTS=$(wc -l < "$OUT/events.jsonl")
  echo "$EVENTS events"
  measure "rapport import (events, then everyone's kept readings)" \
    $R --db "$DB" import "$OUT/events.jsonl"
  total=$SECS
  file=$(grep -o ' in [0-9.]* s (' "$OUT/last.out" | head -1 | grep -o '[0-9.]*' || echo 0)
  awk -v e="$EVENTS" -v f="$file" -v t="$total" 'BEGIN {
    printf "  events written in %.1f s = %.0f events/s; kept readings made in %.1f s\n", f, e / f, t - f }'
  rm -f "$OUT/events.jsonl"
fi
du -sh "$DB" | sed 's/^/ledger file: /'

if [ -z "${SERVE_ONLY:-}" ]; then
echo
echo "-- the command line"
$R --db "$DB" refresh > /dev/null 2>&1 || true
for i in 1 2 3 4 5; do
  measure "rapport card P-000123 (run $i)" $R --db "$DB" card P-000123
done
for f in punctuality.on_time_share service_load.contacts_per_month loyalty.p_alive heard.percentile advocacy.referrals_active; do
  measure "rapport people --sort $f --desc --limit 20" \
    $R --db "$DB" people --sort "$f" --desc --limit 20
done

fi
echo
echo "-- the server"
TOKEN=$($R --db "$DB" token create --role admin --name bench 2>/dev/null)
t0=$(date +%s.%N)
/usr/bin/time -f "%e %M" -o "$OUT/serve.time" $R --db "$DB" serve --bind 127.0.0.1:$PORT > "$OUT/serve.log" 2>&1 &
SERVER=$!
until curl -sf "$URL/api/health" > /dev/null; do sleep 0.02; done
printf 'server ready in %.2f s\n' "$(echo "$(date +%s.%N) - $t0" | bc)"
pid=$(pgrep -P "$SERVER" rapport || echo "$SERVER")
echo "server resident memory when ready: $(( $(awk '/VmRSS/ {print $2}' /proc/"$pid"/status) / 1024 )) MiB"
if [ -z "${SCALE:-}" ]; then
echo "-- card API, open loop, 1,000 requests/s for 30 s, at once (names for search still being read):"
$LOAD cards "$URL" "$TOKEN" "$PEOPLE" 1000 30
until grep -q "names for search read" "$OUT/serve.log"; do sleep 0.5; done
grep -o "names for search read.*" "$OUT/serve.log"
echo "-- card API, open loop, 1,000 requests/s for 30 s, settled:"
$LOAD cards "$URL" "$TOKEN" "$PEOPLE" 1000 30
jar="$OUT/cookies"; rm -f "$jar"
csrf=$(curl -s -c "$jar" "$URL/sign-in" | grep -o 'name="csrf" value="[^"]*"' | cut -d'"' -f4)
curl -s -b "$jar" -c "$jar" -o /dev/null --data-urlencode "csrf=$csrf" --data-urlencode "token=$TOKEN" "$URL/sign-in"
fields=$(curl -s -b "$jar" "$URL/people" | grep -o '<option value="[a-z_]*\.[a-z_]*"' | cut -d'"' -f2)
for f in $fields; do
  t=$(curl -s -b "$jar" -o /dev/null -w '%{time_total}' "$URL/people?sort=$f&order=desc")
  printf '%-40s %7.1f ms\n' "$f" "$(echo "$t * 1000" | bc)"
done > "$OUT/list.txt"
awk '{ if ($2 > m) { m = $2; f = $1 } s += $2; n++ } END { printf "people page sorted, first view: mean %.1f ms, slowest %.1f ms (%s)\n", s / n, m, f }' "$OUT/list.txt"
fi
echo "server peak memory so far: $(( $(awk '/VmHWM/ {print $2}' /proc/"$pid"/status) / 1024 )) MiB"
pkill -INT -P "$SERVER" || kill -INT "$SERVER"; wait "$SERVER" || true
[ -n "${SERVE_ONLY:-}" ] && exit 0

echo
echo "-- a day later: 1 % of people wrote in"
awk -v n="$PEOPLE" -v day="$TOMORROW" 'BEGIN {
  for (i = 0; i < n; i += 100) {
    printf "{\"source\":\"day2\",\"id\":\"o%d\",\"kind\":\"order.placed\",\"person\":\"P-%06d\",\"at\":\"%sT10:00:00Z\",\"order\":\"d2-%d\",\"amount\":\"19.90\",\"currency\":\"EUR\"}\n", i, i, day, i
  }
}' > "$OUT/day2.jsonl"
# Written without bringing readings up to date; then the day moves on, and one refresh does both.
measure "rapport import --no-refresh of $(wc -l < "$OUT/day2.jsonl") events (1 % of people)" \
  $R --db "$DB" import --no-refresh "$OUT/day2.jsonl"
RAPPORT_TODAY=$TOMORROW measure "rapport refresh, the next day" $R --db "$DB" refresh
cat "$OUT/last.out"
if [ -z "${SCALE:-}" ]; then
  RAPPORT_TODAY=$TOMORROW measure "rapport check (everyone recomputed and compared)" $R --db "$DB" check
  cat "$OUT/last.out"
fi

#!/usr/bin/env bash
# The sharding benchmark of docs/performance.md: a ledger spread over three PostgreSQL
# clusters on this machine against the same ledger on one, in the same run.
#
#   bench/shards.sh [PEOPLE]      (default 1000000 people ≈ 10.5 M events)
#   PARTITIONS=13 bench/shards.sh 200000   (a smaller ledger whose partitions hold as many
#                                           people as 64 partitions of a million do)
#
# Needs PostgreSQL on 127.0.0.1:5432 (trust for postgres) and the two clusters .ci/clusters
# makes (5433, 5434); a release build (it makes one); curl and GNU time. Measures:
#   1. the import of the same file into one server and into three (of 64 partitions, 22 stay
#      on the coordinator and 21 go to each other server), events per second as the importer
#      says;
#   2. the catch-up that keeps everyone's readings afterwards (`rapport refresh`), on three;
#   3. `rapport people --sort FIELD --limit 20` on three (median of 3 runs each);
#   4. the card API at 1,000 requests/s for 30 s on three (p50/p99, open loop);
#   5. moving one partition (about PEOPLE/PARTITIONS people) from the coordinator to another server
#      while a writer imports 1,000 new events every second; then checks that every one of
#      them is there once.
# The 2 cores are shared by the three servers and rapport: judge the overhead, not speed-up.
# Writes under bench-out/shards-PEOPLE/; drops and remakes its databases (rapport_bench_*).
set -euo pipefail
cd "$(dirname "$0")/.."
PEOPLE=${1:-1000000}
OUT=bench-out/shards-$PEOPLE
mkdir -p "$OUT"
cargo build --release -q -p rapport
cargo build --release -q -p rapport-web --example load
R=$PWD/target/release/rapport
LOAD=$PWD/target/release/examples/load
.ci/clusters > /dev/null
TODAY=$(date -u +%F)
export RAPPORT_TODAY=$TODAY
RAPPORT_MASTER_KEY=$(openssl rand -hex 32)
export RAPPORT_MASTER_KEY
export RAPPORT_PARTITIONS=${PARTITIONS:-64}
PORT=7899
URL=http://127.0.0.1:$PORT
ONE=postgres://postgres@127.0.0.1:5432/rapport_bench_one
THREE=postgres://postgres@127.0.0.1:5432/rapport_bench
S1=postgres://postgres@127.0.0.1:5433/rapport_bench
S2=postgres://postgres@127.0.0.1:5434/rapport_bench

fresh() { # port database
  psql -q -h 127.0.0.1 -p "$1" -U postgres -c "DROP DATABASE IF EXISTS $2 WITH (FORCE)" -c "CREATE DATABASE $2" 2>/dev/null
}

if [ ! -f "$OUT/events.jsonl" ]; then
  echo "generating $PEOPLE people …"
  $R generate --people "$PEOPLE" --seed 1 --end "$TODAY" --out "$OUT/events.jsonl" 2> /dev/null
fi
EVENTS=$(wc -l < "$OUT/events.jsonl")
echo "$EVENTS events, $PEOPLE people"

rate() { grep -o '([0-9,]* events/s)' "$1" | tr -d '(),' | awk '{print $1}'; }

echo "-- 1. import: one server"
fresh 5432 rapport_bench_one
$R --db "$ONE" init > /dev/null
$R --db "$ONE" import --no-refresh "$OUT/events.jsonl" > "$OUT/import-one.out" 2>&1
cat "$OUT/import-one.out"
one=$(rate "$OUT/import-one.out")

echo "-- 1. import: three servers"
fresh 5432 rapport_bench; fresh 5433 rapport_bench; fresh 5434 rapport_bench
export RAPPORT_DB=$THREE
$R init > /dev/null
$R shards add "$S1" > /dev/null
$R shards add "$S2" > /dev/null
for n in $(seq 0 $((RAPPORT_PARTITIONS - 1))); do
  case $((n % 3)) in
    1) $R shards move "$n" s1 > /dev/null 2>&1 ;;
    2) $R shards move "$n" s2 > /dev/null 2>&1 ;;
  esac
done
$R import --no-refresh "$OUT/events.jsonl" > "$OUT/import-three.out" 2>&1
cat "$OUT/import-three.out"
three=$(rate "$OUT/import-three.out")
awk -v a="$three" -v b="$one" 'BEGIN { printf "three servers import at %.0f %% of one server'"'"'s rate\n", 100 * a / b }'

echo "-- 2. the catch-up (everyone's kept readings), three servers"
/usr/bin/time -f "%e s, %M KiB" -o "$OUT/refresh.time" $R refresh > "$OUT/refresh.out" 2>&1
cat "$OUT/refresh.out" "$OUT/refresh.time"

echo "-- 3. people --sort FIELD --limit 20, three servers (median of 3)"
for field in punctuality.on_time_share service_load.contacts_per_month heard.answered_share advocacy.referrals; do
  for i in 1 2 3; do
    s=$(date +%s.%N); $R people --sort "$field" --limit 20 > /dev/null 2>&1; e=$(date +%s.%N)
    echo "$e - $s" | bc
  done | sort -n | sed -n 2p | awk -v f="$field" '{ printf "  %-36s %6.0f ms\n", f, $1 * 1000 }'
done

echo "-- 4. the card API at 1,000 requests/s, three servers"
TOKEN=$($R token create --role admin --name bench 2>/dev/null)
$R serve --bind 127.0.0.1:$PORT > "$OUT/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
until curl -sf "$URL/api/health" > /dev/null; do sleep 0.2; done
# Measured once the server has read everyone's names for search in the background (which
# opens every person's key), as bench/kept.sh does.
until grep -q "names for search read" "$OUT/serve.log"; do sleep 0.5; done
grep -o "names for search read.*" "$OUT/serve.log"
$LOAD cards "$URL" "$TOKEN" "$PEOPLE" 1000 30
kill $server; wait $server 2>/dev/null || true
trap - EXIT

echo "-- 5. moving a partition while 1,000 events a second arrive"
# New events for people already there (another source, so every one is new), in files of
# 1,000, imported one a second by a writer running beside the move.
mkdir -p "$OUT/live"
rm -f "$OUT"/live/*
head -n 60000 "$OUT/events.jsonl" | sed 's/"source":"/"source":"live-/' | split -l 1000 --additional-suffix=.jsonl - "$OUT/live/part-"
before=$($R shards list --json | python3 -c 'import json,sys; print(sum(p["events"] for p in json.load(sys.stdin)["partitions"]))')
(
  for f in "$OUT"/live/part-*; do
    start=$(date +%s.%N)
    $R import --no-refresh "$f" >> "$OUT/live.out" 2>&1
    left=$(echo "1 - ($(date +%s.%N) - $start)" | bc)
    if [ "$(echo "$left > 0" | bc)" = 1 ]; then sleep "$left"; fi
  done
) &
writer=$!
sleep 5
$R shards move 0 s1 2>&1 | tail -1 | tee "$OUT/move.out"
wait $writer
added=$(grep -o ': [0-9,]* events added' "$OUT/live.out" | tr -d ':,' | awk '{s += $1} END {print s}')
sent=$(cat "$OUT"/live/part-* | wc -l)
after=$($R shards list --json | python3 -c 'import json,sys; print(sum(p["events"] for p in json.load(sys.stdin)["partitions"]))')
echo "events sent while moving: $sent; added: $added; ledger before $before, after $after (difference $((after - before)))"
if [ "$added" = "$sent" ] && [ $((after - before)) = "$sent" ]; then echo "none lost, none twice"; else echo "MISMATCH"; exit 1; fi
$R shards list | tail -4

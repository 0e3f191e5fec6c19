#!/usr/bin/env bash
# The web benchmark of docs/performance.md (issue: the web), on loopback:
#   1. a card, GET /api/people/{id}, at 1,000 requests/s (open loop) and at wrk's maximum,
#      with 100,000 people and ~5,000,000 events;
#   2. POST /api/events in batches of 1,000 (events/s);
#   3. the people page sorted by each sortable field at 1,000,000 people;
#   4. may-contact, GET /api/people/{id}/may-contact, at 2,000 requests/s, 100,000 people;
#   5. (pg) the card on PostgreSQL: one server at 1,000 requests/s, then two servers on the
#      same database at 2,000 requests/s together, 100,000 people.
#
#   bench/web.sh                          (the first four)
#   bench/web.sh cards|post|list|may|pg   (one)
#
# Needs: wrk and GNU time (apt-get install wrk time); for pg, a PostgreSQL server where it may
# create a database (BENCH_POSTGRES, default postgres://postgres@127.0.0.1:5432/postgres) and
# psql. Writes under bench-out/web/.
set -euo pipefail
cd "$(dirname "$0")/.."
WHAT=${1:-all}
OUT=bench-out/web
mkdir -p "$OUT"
cargo build --release -q -p rapport
cargo build --release -q -p rapport-web --example load
R=target/release/rapport
LOAD=target/release/examples/load
PORT=7899
URL=http://127.0.0.1:$PORT

ledger() { # name people years → builds $OUT/name.db once
  local name=$1 people=$2 years=$3
  if [ ! -f "$OUT/$name.db" ]; then
    echo "building $name: $people people, $years years of history …"
    $R generate --people "$people" --years "$years" --seed 1 --end 2026-11-01 --out "$OUT/$name.jsonl" 2>/dev/null
    $R --db "$OUT/$name.db" init > /dev/null
    $R --db "$OUT/$name.db" import "$OUT/$name.jsonl" > /dev/null
    rm -f "$OUT/$name.jsonl"
  fi
  echo "$name: $(sqlite3 "$OUT/$name.db" 'SELECT count(*) FROM people') people, $(sqlite3 "$OUT/$name.db" 'SELECT count(*) FROM events') events"
}

SERVER=""
start() { # db
  TOKEN=$($R --db "$1" token create --role admin --name bench 2>/dev/null)
  local t0; t0=$(date +%s.%N)
  /usr/bin/time -f "%e %M" -o "$OUT/serve.time" $R --db "$1" serve --bind 127.0.0.1:$PORT > "$OUT/serve.log" 2>&1 &
  SERVER=$!
  until curl -sf "$URL/api/health" > /dev/null; do sleep 0.2; done
  printf 'server ready in %.1f s (everyone'"'"'s readings computed)\n' "$(echo "$(date +%s.%N) - $t0" | bc)"
}
stop() {
  pkill -INT -P "$SERVER"; wait "$SERVER" || true
  read -r secs kib < "$OUT/serve.time"
  echo "server peak memory: $((kib / 1024)) MiB"
}

cards() {
  ledger cards 100000 29
  start "$OUT/cards.db"
  cat > "$OUT/cards.lua" <<LUA
math.randomseed(7)
request = function()
  local path = string.format("/api/people/P-%06d", math.random(0, 99999))
  return wrk.format("GET", path, { ["Authorization"] = "Bearer $TOKEN" })
end
LUA
  echo "-- open loop, 1,000 requests/s for 30 s:"
  $LOAD cards "$URL" "$TOKEN" 100000 1000 30
  echo "-- wrk, 8 connections, 20 s (as fast as the server answers):"
  wrk -t1 -c8 -d20s --latency -s "$OUT/cards.lua" "$URL" | grep -E "Requests/sec|Latency|99%|50%"
  stop
}

post() {
  ledger cards 100000 29
  # New events from another source, so every event is new: for the people already in the
  # ledger (the usual case), then for 100,000 new people (each needs a key made and stored
  # in the vault, which is written with synchronous = FULL).
  for who in existing new; do
  if [ $who = existing ]; then people='s/"P-/"P-/g'; else people='s/"P-/"Q-/g'; fi
  echo "-- events for $who people:"
  $R generate --people 100000 --years 2 --seed 2 --end 2026-11-01 2>/dev/null \
    | sed -e "$people" -e 's/"source":"/"source":"b-/' | head -n 1000000 > "$OUT/post.jsonl"
  for run in 1 2 3; do # three runs, each into a fresh copy of the ledger
    rm -f "$OUT"/post.db*
    cp "$OUT/cards.db" "$OUT/post.db"; cp "$OUT/cards.db.vault" "$OUT/post.db.vault"
    cp "$OUT/cards.db.master-key" "$OUT/post.db.master-key"
    start "$OUT/post.db"
    $LOAD post "$URL" "$TOKEN" "$OUT/post.jsonl" 1000 2
    stop
  done
  done
  rm -f "$OUT"/post.db* "$OUT/post.jsonl"
}

list() {
  ledger list 1000000 3
  start "$OUT/list.db"
  local jar="$OUT/cookies"
  rm -f "$jar"
  csrf=$(curl -s -c "$jar" "$URL/sign-in" | grep -o 'name="csrf" value="[^"]*"' | cut -d'"' -f4)
  curl -s -b "$jar" -c "$jar" -o /dev/null --data-urlencode "csrf=$csrf" --data-urlencode "token=$TOKEN" "$URL/sign-in"
  fields=$(curl -s -b "$jar" "$URL/people" | grep -o '<option value="[a-z_]*\.[a-z_]*"' | cut -d'"' -f2)
  echo "field                                  first (ms)  again (ms)"
  for f in $fields; do
    first=$(curl -s -b "$jar" -o /dev/null -w '%{time_total}' "$URL/people?sort=$f&order=desc")
    again=$(curl -s -b "$jar" -o /dev/null -w '%{time_total}' "$URL/people?sort=$f&order=desc&page=2")
    printf '%-38s %9.1f %11.1f\n' "$f" "$(echo "$first * 1000" | bc)" "$(echo "$again * 1000" | bc)"
  done | tee "$OUT/list.txt"
  awk '{ if ($2 > m) m = $2; if ($3 > n) n = $3 } END { printf "slowest first view %.1f ms, slowest cached %.1f ms\n", m, n }' "$OUT/list.txt"
  q=$(curl -s -b "$jar" -o /dev/null -w '%{time_total}' "$URL/people?q=P-0999&sort=heard.answered_share&order=desc")
  printf 'search "P-0999" sorted: %.1f ms\n' "$(echo "$q * 1000" | bc)"
  stop
}

may() {
  ledger cards 100000 29
  start "$OUT/cards.db"
  echo "-- open loop, 2,000 requests/s for 30 s:"
  $LOAD may "$URL" "$TOKEN" 100000 2000 30
  stop
}

pg() {
  local admin=${BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}
  local db=rapport_bench_web
  local url=${admin%/*}/$db
  psql -q "$admin" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  export RAPPORT_MASTER_KEY_FILE="$OUT/pg.master-key"
  rm -f "$RAPPORT_MASTER_KEY_FILE"
  echo "building the PostgreSQL ledger: 100,000 people, 29 years of history …"
  $R generate --people 100000 --years 29 --seed 1 --end 2026-11-01 --out "$OUT/pg.jsonl" 2>/dev/null
  $R --db "$url" init > /dev/null
  /usr/bin/time -f "import: %e s, %M KiB" $R --db "$url" import "$OUT/pg.jsonl"
  rm -f "$OUT/pg.jsonl"
  # The bulk load's checkpoint writes half a gigabyte; measure the cards after it, as they are
  # served day to day (during it, audit commits wait behind its writes: p99 above 100 ms).
  psql -q "$admin" -c "CHECKPOINT"
  start "$url"
  echo "-- one server, open loop, 1,000 requests/s for 30 s:"
  $LOAD cards "$URL" "$TOKEN" 100000 1000 30
  # A second server on the same database.
  $R --db "$url" serve --bind 127.0.0.1:$((PORT + 1)) > "$OUT/serve2.log" 2>&1 &
  local second=$!
  until curl -sf "http://127.0.0.1:$((PORT + 1))/api/health" > /dev/null; do sleep 0.2; done
  echo "-- two servers on one database, open loop, 2,000 requests/s together for 30 s:"
  $LOAD cards "$URL,http://127.0.0.1:$((PORT + 1))" "$TOKEN" 100000 2000 30
  kill -INT "$second"; wait "$second" || true
  stop
  psql -q "$admin" -c "DROP DATABASE IF EXISTS $db"
  unset RAPPORT_MASTER_KEY_FILE
}

case $WHAT in
  cards) cards ;; post) post ;; list) list ;; may) may ;; pg) pg ;;
  all) cards; post; list; may ;;
  *) echo "usage: bench/web.sh [cards|post|list|may|all]"; exit 2 ;;
esac

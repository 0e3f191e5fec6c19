#!/usr/bin/env bash
# The scripts benchmark of docs/performance.md (issue 6): finding scripted answers among
# 1,000,000 answers, and grouping an import of 1,000 new answers into that ledger.
#
#   bench/scripts.sh [ANSWERS]      (default 1000000)
#
# The answers go to 200,000 people: 60% from 50 templates with names, ticket numbers and the
# odd word changed, 40% written for the person (crates/domain/examples/scripts_bench.rs).
# Needs: a release build (it makes one) and GNU time (/usr/bin/time, apt-get install time).
# Writes everything under bench-out/scripts/.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
OUT=bench-out/scripts
mkdir -p "$OUT"
cargo build --release -q -p rapport
cargo build --release -q -p rapport-domain --example scripts_bench
R=target/release/rapport
GEN=target/release/examples/scripts_bench
TIME=/usr/bin/time

measure() { # label, command...
  local label=$1; shift
  local log; log=$(mktemp)
  sync
  "$TIME" -f "%e %M" -o "$log" "$@" > "$OUT/$label.out" 2> "$OUT/$label.err"
  read -r secs kib < "$log"; rm -f "$log"
  printf '%-52s %8.2f s %8.0f MiB\n' "$label" "$secs" "$((kib / 1024))" >&2
}

echo "writing $N answers, and 1,000 more …"
$GEN jsonl "$N" 0 > "$OUT/answers.jsonl"
$GEN jsonl 1000 "$N" > "$OUT/new.jsonl"

rm -f "$OUT"/ledger.db*
$R --db "$OUT/ledger.db" init > /dev/null
echo
echo "what                                                  seconds   peak memory"
measure "import $N answers (grouped as they come)" $R --db "$OUT/ledger.db" import "$OUT/answers.jsonl"
measure "rapport scripts --regroup ($N answers)" $R --db "$OUT/ledger.db" scripts --regroup --json
grep -o '^regrouped.*' "$OUT/rapport scripts --regroup ($N answers).err" >&2 || true
measure "rapport scripts (the list)" $R --db "$OUT/ledger.db" scripts

# 1,000 new answers into the ledger, three times, each into a fresh copy.
for run in 1 2 3; do
  rm -f "$OUT"/copy.db*
  for f in "$OUT"/ledger.db*; do cp "$f" "$OUT/copy.db${f#"$OUT"/ledger.db}"; done
  measure "import 1,000 new answers (run $run)" $R --db "$OUT/copy.db" import "$OUT/new.jsonl"
done
rm -f "$OUT"/copy.db*

#!/usr/bin/env bash
# The hidden-costs benchmark of docs/performance.md, on UCI Online Retail (541,909 lines).
#
#   bench/costs.sh [ONLINE_RETAIL.csv.gz] [RUNS]
#     (default /work/shared/data/online-retail/online_retail.csv.gz, 5 runs)
#
# 1. Through the ledger: a fresh ledger in a temporary folder, the file imported with the
#    `transactions` preset (rows without a customer are skipped, as the import always does),
#    the illustrative catalogue of crates/import/tests/data/online_retail_catalogue imported,
#    then `rapport costs` timed RUNS times each as --json and --by product|month|person.
# 2. Every line, the 135,080 rows without a customer included: the costs_all_lines example
#    reads the CSV itself and costs all 541,909 lines (the issue's goal: under 2 s).
#
# Needs: gzip, GNU time (/usr/bin/time, apt-get install time). Builds release binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
GZ=${1:-/work/shared/data/online-retail/online_retail.csv.gz}
RUNS=${2:-5}
CATALOGUE=crates/import/tests/data/online_retail_catalogue
TIME=/usr/bin/time
cargo build --release -q -p rapport
cargo build --release -q -p rapport-import --example costs_all_lines
R=$PWD/target/release/rapport
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
gzip -dc "$GZ" > "$TMP/online_retail.csv"
export RAPPORT_DB=$TMP/ledger.db

# Runs a command RUNS times; prints the median wall time and the median peak memory.
measure() { # label, command...
  local label=$1; shift
  local secs=() kibs=()
  for _ in $(seq "$RUNS"); do
    "$TIME" -f "%e %M" -o "$TMP/time" "$@" > "$TMP/out" 2> "$TMP/err"
    read -r s k < "$TMP/time"
    secs+=("$s"); kibs+=("$k")
  done
  local ms mk
  ms=$(printf '%s\n' "${secs[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  mk=$(printf '%s\n' "${kibs[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%-36s median %6.2f s  (runs: %s)  peak %4d MiB\n' "$label" "$ms" "${secs[*]}" "$((mk / 1024))"
}

$R init > /dev/null
echo "importing $(wc -l < "$TMP/online_retail.csv") lines (header included) …"
$TIME -f "  import: %e s, peak %M KiB" $R import "$TMP/online_retail.csv" --preset transactions --set currency=GBP | tail -3
$R catalogue import "$CATALOGUE/products.csv" --factors "$CATALOGUE/factors.csv"
$R costs | head -8
echo
echo "rapport costs over the ledger ($RUNS runs each):"
measure "rapport costs --json" $R costs --json
measure "rapport costs --by product" $R costs --by product
measure "rapport costs --by month" $R costs --by month
measure "rapport costs --by person" $R costs --by person
measure "rapport costs --by order --json" $R costs --by order --json
echo
echo "every line of the file, without the ledger (costs_all_lines example):"
target/release/examples/costs_all_lines "$TMP/online_retail.csv" "$CATALOGUE"
measure "costs_all_lines (end to end)" target/release/examples/costs_all_lines "$TMP/online_retail.csv" "$CATALOGUE"

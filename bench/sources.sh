#!/usr/bin/env bash
# The business's own artefacts (docs/performance.md, "Sources"): a folder of e-invoices, a
# bank statement matched against the open invoices, and a large mbox, each imported by
# `rapport import` as a whole process (wall time and peak memory, GNU time).
#
#   bench/sources.sh [INVOICES] [MBOX_MB]     (default 100000 invoices, a 1000 MB mbox)
#
# Goals (issue 16): 100,000 UBL invoices (a folder) in < 20 s; a camt.053 with 100,000
# entries matched against 100,000 open invoices in < 5 s; a 1 GB mbox in < 60 s and
# < 500 MiB. Needs a release build (it makes one), Python 3 and GNU time. Writes under
# bench-out/sources-INVOICES/.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
MB=${2:-1000}
OUT=bench-out/sources-$N
mkdir -p "$OUT"
cargo build --release -q -p rapport
R=$PWD/target/release/rapport
if [ ! -f "$OUT/support.mbox" ] || [ ! -f "$OUT/statement.xml" ]; then
  echo "writing $N invoices, a statement of $N credits and a ${MB} MB mbox …"
  python3 bench/sources_gen.py "$OUT" "$N" "$MB"
fi
DB=$OUT/ledger.db
rm -f "$DB" "$DB"-* "$DB".*
$R --db "$DB" init > /dev/null
timed() { # label, args… → wall seconds, peak MiB, and what rapport said
  local label=$1; shift
  local log; log=$(mktemp)
  /usr/bin/time -f "%e %M" -o "$log" $R --db "$DB" "$@" > "$OUT/last.out" 2> "$OUT/last.err"
  read -r s k < "$log"; rm -f "$log"
  printf '%-46s %8.2f s %6d MiB\n' "$label" "$s" "$((k / 1024))"
  sed 's/^/      /' "$OUT/last.out" | head -12
}
echo "rapport import on this machine ($(nproc) cores)"
timed "$N e-invoices (a folder)" import --no-refresh "$OUT/invoices"
timed "camt.053 of $N credits vs $N open invoices" import --no-refresh "$OUT/statement.xml"
timed "the same statement again (adds nothing)" import --no-refresh "$OUT/statement.xml"
timed "mbox of $(du -m "$OUT/support.mbox" | cut -f1) MB" import --no-refresh "$OUT/support.mbox" --ours support@koffie.example

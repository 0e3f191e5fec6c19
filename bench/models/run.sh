#!/usr/bin/env bash
# Benchmarks rapport-models against Python lifetimes 0.11.3 in one run and
# prints a table with ratios. Both sides read the same CDNOW summary and the
# same simulated 1,000,000-person CSV (written by the Rust example).
#
#   bash bench/models/run.sh            # from the workspace root
#   PEOPLE=200000 REPS=5 bash bench/models/run.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target-models}"
VENV="${VENV:-$CARGO_TARGET_DIR/venv}"
PEOPLE="${PEOPLE:-1000000}"
REPS="${REPS:-21}"
PY_REPS="${PY_REPS:-5}"
OUT="${OUT:-$CARGO_TARGET_DIR/bench-models}"
mkdir -p "$OUT"

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$ROOT/bench/models/requirements.txt"
fi

cargo build -q --release -p rapport-models --example fit_bench
BIN="$CARGO_TARGET_DIR/release/examples/fit_bench"

TIME=""
if [ -x /usr/bin/time ]; then TIME="/usr/bin/time -v"; fi

echo "== rust (rapport-models) ==" >&2
$TIME "$BIN" --people "$PEOPLE" --reps "$REPS" --csv "$OUT/simulated.csv" \
  >"$OUT/rust.jsonl" 2>"$OUT/rust.time"
cat "$OUT/rust.jsonl" >&2
echo "== python (lifetimes 0.11.3) ==" >&2
$TIME "$VENV/bin/python" "$ROOT/bench/models/lifetimes_bench.py" \
  "$ROOT/crates/models/tests/data/cdnow_customers_summary.csv" "$OUT/simulated.csv" \
  --reps "$PY_REPS" >"$OUT/lifetimes.jsonl" 2>"$OUT/lifetimes.time"
cat "$OUT/lifetimes.jsonl" >&2

python3 - "$OUT" <<'PY'
import json, re, sys, os
out = sys.argv[1]
def load(name):
    rows = {}
    for line in open(os.path.join(out, name + ".jsonl")):
        line = line.strip()
        if line.startswith("{"):
            j = json.loads(line); rows[j["bench"]] = j
    return rows
def max_rss(name):
    try:
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(os.path.join(out, name + ".time")).read())
        return int(m.group(1)) / 1024 if m else None
    except OSError:
        return None
rust, py = load("rust"), load("lifetimes")
targets = {"bgnbd_fit_cdnow": 10, "pareto_nbd_fit_cdnow": 20, "bgnbd_fit_predict_1m": 30}
print(f"{'benchmark':<26}{'rust s':>12}{'lifetimes s':>14}{'ratio':>10}{'target':>9}")
for k, target in targets.items():
    r, p = rust.get(k, {}).get("median_s"), py.get(k, {}).get("median_s")
    ratio = p / r if r and p else float("nan")
    ok = "ok" if ratio >= target else "MISSED"
    print(f"{k:<26}{r if r is not None else float('nan'):>12.4f}{p if p is not None else float('nan'):>14.4f}{ratio:>9.1f}x{'>=' + str(target) + 'x ' + ok:>14}")
r1m = rust.get("bgnbd_fit_predict_1m", {})
print(f"rust 1M fit+predict {r1m.get('median_s', float('nan')):.3f} s (target < 2 s; fit {r1m.get('fit_median_s', float('nan')):.3f} s, predict {r1m.get('predict_median_s', float('nan')):.3f} s)")
for name, rows in (("rust", rust), ("lifetimes", py)):
    rss = max_rss(name) or rows.get("max_rss", {}).get("vm_hwm_mib")
    print(f"max RSS {name}: {rss:.0f} MiB" if rss else f"max RSS {name}: n/a")
PY

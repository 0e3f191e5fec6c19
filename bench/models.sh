#!/usr/bin/env bash
# rapport's model fits against the Python peers, in the same run, on this machine
# (docs/performance.md, "Models (issue 17)"), and the per-person models at a million people.
#
#   bench/models.sh [PEOPLE]          (default 1,000,000 people)
#   N=5 PYMC_REPS=3 SCALE_TIMEOUT=60 BENCH_VENV=bench/.venv-models bench/models.sh
#
# Goals (issue 17): `rapport fit --summary` ≥ 30× faster than lifetimes 0.11.3 for the
# MBG/NBD (CDNOW summary) and the BG/BB (donations patterns), ≥ 100× faster than
# pymc-marketing's BetaGeoModel MAP fit (CDNOW summary); and every model at a million people
# with --predict (everyone's figures with their 90 % intervals) in < 3 s and < 1 GiB.
#
# rapport is timed as a whole process (start, CSV, fit, output), the median of N runs; the
# peers inside Python, the fit call only (bench/models_peers.py). Both sides' parameters
# must agree within 1e-2 (relative) or the comparison is marked so. Needs a release build (it
# makes one), Python 3 with venv (it makes two venvs, pinned by bench/models-requirements*.txt:
# lifetimes 0.11.3 cannot share one with pymc-marketing) and GNU time. Writes under
# bench-out/models-PEOPLE/.
set -euo pipefail
cd "$(dirname "$0")/.."
PEOPLE=${1:-1000000}
N=${N:-5}
PYMC_REPS=${PYMC_REPS:-3}
SCALE_TIMEOUT=${SCALE_TIMEOUT:-60}
VENV=${BENCH_VENV:-bench/.venv-models}
OUT=bench-out/models-$PEOPLE
CDNOW=crates/models/tests/data/cdnow_customers_summary.csv
DONATIONS=crates/models/tests/data/donations.csv
COHORTS=crates/models/tests/data/fader_hardie_2007.csv
mkdir -p "$OUT"
cargo build --release --locked -q -p rapport
R=$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/release/rapport

venv() { # dir, requirements → a venv with exactly those pins (remade when they change)
  if ! cmp -s "$2" "$1/.bench-requirements" 2> /dev/null; then
    echo "making $1 from $2 …"
    python3 -m venv "$1"
    "$1/bin/pip" install -q -r "$2"
    cp "$2" "$1/.bench-requirements"
  fi
}
venv "$VENV" bench/models-requirements.txt
venv "$VENV-pymc" bench/models-requirements-pymc.txt

if [ ! -f "$OUT/summary.csv" ] || [ ! -f "$OUT/customers.csv" ]; then
  echo "writing $PEOPLE people (bench/models_gen.py) …"
  python3 bench/models_gen.py "$OUT" "$PEOPLE"
fi

RESULTS=$OUT/results.jsonl
: > "$RESULTS"
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

against() { # bench name, rapport fit args… → median wall seconds of N whole runs
  local bench=$1; shift
  local times=() a b
  for _ in $(seq "$N"); do
    a=$(date +%s.%N)
    "$R" fit "$@" --json > "$OUT/$bench.out"
    b=$(date +%s.%N)
    times+=("$(awk "BEGIN { print $b - $a }")")
  done
  printf '{"bench":"%s","rapport_s":%s,"runs_s":[%s],"fit":%s}\n' "$bench" \
    "$(printf '%s\n' "${times[@]}" | median)" "$(IFS=,; echo "${times[*]}")" \
    "$(head -1 "$OUT/$bench.out")" >> "$RESULTS"
}

at_scale() { # label, rapport fit args… → median wall seconds and largest peak RSS of N runs
  # (a run that outlasts SCALE_TIMEOUT seconds is stopped, reported as such, and not repeated)
  # (a fit that ends in an error is timed to its error, reported with it, and not repeated)
  local label=$1; shift
  local times=() peak=0 s k log err rc over=false failed=""
  log=$(mktemp); err=$(mktemp)
  for _ in $(seq "$N"); do
    rc=0
    /usr/bin/time -f "%e %M" -o "$log" timeout "$SCALE_TIMEOUT" "$R" fit "$@" > /dev/null 2> "$err" || rc=$?
    read -r s k < <(tail -1 "$log")
    times+=("$s")
    if [ "$k" -gt "$peak" ]; then peak=$k; fi
    if [ "$rc" = 124 ]; then over=true; break; fi
    if [ "$rc" != 0 ]; then failed=$(grep -m1 '^error' "$err" | cut -c1-160 | tr -d '"\\'); break; fi
  done
  rm -f "$log" "$err"
  printf '{"scale":"%s","args":"%s","wall_s":%s,"runs_s":[%s],"max_rss_kib":%s,"timed_out":%s,"failed":"%s"}\n' \
    "$label" "$*" "$(printf '%s\n' "${times[@]}" | median)" "$(IFS=,; echo "${times[*]}")" "$peak" \
    "$over" "$failed" >> "$RESULTS"
  printf '  %-44s %6.2f s %6d MiB%s%s\n' "$label" "$(printf '%s\n' "${times[@]}" | median)" \
    "$((peak / 1024))" "$($over && echo "  (stopped after $SCALE_TIMEOUT s)")" \
    "${failed:+  (failed: $failed)}"
}

spawn() { # bench name, command… → median wall seconds of N runs of a bare process
  local bench=$1; shift
  local times=() a b
  for _ in $(seq "$N"); do
    a=$(date +%s.%N); "$@" > /dev/null; b=$(date +%s.%N)
    times+=("$(awk "BEGIN { print $b - $a }")")
  done
  printf '{"spawn":"%s","wall_s":%s}\n' "$bench" "$(printf '%s\n' "${times[@]}" | median)" >> "$RESULTS"
}

echo "rapport on this machine ($(nproc) cores), median of $N runs"
# What starting any process costs here, and rapport doing nothing: the floor of a
# whole-process time, against which the peers' fit calls (inside Python) are compared.
spawn true /bin/true
spawn rapport_version "$R" --version
against mbgnbd_cdnow --model mbgnbd --summary "$CDNOW"
against bgbb_donations --model bgbb --summary "$DONATIONS"
against bgnbd_cdnow --model bgnbd --summary "$CDNOW"
echo "lifetimes …"
"$VENV/bin/python" bench/models_peers.py lifetimes "$CDNOW" "$DONATIONS" --reps "$N" >> "$RESULTS"
echo "pymc-marketing (a warm-up fit, then $PYMC_REPS) …"
"$VENV-pymc/bin/python" bench/models_peers.py pymc "$CDNOW" --reps "$PYMC_REPS" >> "$RESULTS"

echo "rapport's fit calls inside one process, like the peers' (crates/models/examples/fit_bench.rs) …"
cargo run --release --locked -q -p rapport-models --example fit_bench -- --people 1000 --reps 200 \
  | grep -E '"bench":"(mbgnbd_fit_cdnow|bgnbd_fit_cdnow|bgbb_fit_donations)"' \
  | sed 's/_fit_/_/' >> "$RESULTS"

echo "at $PEOPLE people, --predict, output to /dev/null (median wall, largest peak memory):"
for m in bgnbd mbgnbd pareto-nbd ggompertz-nbd; do
  at_scale "$m, $PEOPLE people" --model "$m" --summary "$OUT/summary.csv" --predict 39 --json
done
at_scale "bgbb, patterns of $PEOPLE people" --model bgbb --summary "$OUT/donations-patterns.csv" --predict 5 --json
at_scale "bgbb, $PEOPLE people one row each" --model bgbb --summary "$OUT/donations-people.csv" --predict 5 --json
at_scale "sbg, the two cohorts" --model sbg --summary "$COHORTS" --periods 7 --predict 5 --json
at_scale "bdw, the two cohorts" --model bdw --summary "$COHORTS" --periods 7 --predict 5 --json
at_scale "sbg, $PEOPLE customers one row each" --model sbg --summary "$OUT/customers.csv" --predict 5 --json
at_scale "bdw, $PEOPLE customers one row each" --model bdw --summary "$OUT/customers.csv" --predict 5 --json

python3 - "$RESULTS" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ours = {r["bench"]: r for r in rows if "rapport_s" in r}
peers = {r["bench"]: r for r in rows if "peer" in r}
def agree(a, b):
    return all(abs(a[k] - b[k]) <= 1e-2 * max(1.0, abs(b[k])) for k in b)
def secs(s):
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"
print()
print("| what | rapport | peer | peer time | ratio | goal | met? |")
print("|---|---:|---|---:|---:|---:|---|")
for bench, peer, what, goal in (
        ("mbgnbd_cdnow", "mbgnbd_cdnow", "MBG/NBD, CDNOW summary (2,357 people)", 30),
        ("bgbb_donations", "bgbb_donations", "BG/BB, donations (22 patterns, 11,104 people)", 30),
        ("bgnbd_cdnow", "bgnbd_cdnow", "BG/NBD MAP, CDNOW summary, flat priors", 100),
        ("bgnbd_cdnow", "bgnbd_cdnow_default_priors", "BG/NBD MAP, CDNOW summary, default priors", None)):
    o, p = ours[bench], peers.get(peer)
    if p is None:
        print(f"| {what} | {secs(o['rapport_s'])} | — | | | | |"); continue
    ratio = p["median_s"] / o["rapport_s"]
    same = agree(o["fit"]["params"], p["params"])
    met = ("yes" if ratio >= goal else "**no**") if goal else ""
    if not same:
        met += " (different parameters)"
    print(f"| {what} | {secs(o['rapport_s'])} | {p['peer']} | {secs(p['median_s'])} | {ratio:.0f}× | "
          f"{'≥ %d×' % goal if goal else '—'} | {met} |")
spawns = {r["spawn"]: r["wall_s"] for r in rows if "spawn" in r}
if spawns:
    print()
    print(f"Starting a process here: /bin/true {secs(spawns.get('true', 0))}, "
          f"rapport --version {secs(spawns.get('rapport_version', 0))} (the floor of every whole-process time above)")
print()
print("Fit call against fit call (both timed inside their process, the median):")
print("| what | rapport fit call | peer | peer fit call | ratio | goal | met? |")
print("|---|---:|---|---:|---:|---:|---|")
inproc = {r["bench"]: r for r in rows if r.get("impl") == "rust"}
for bench, peer, what, goal in (
        ("mbgnbd_cdnow", "mbgnbd_cdnow", "MBG/NBD, CDNOW summary", 30),
        ("bgbb_donations", "bgbb_donations", "BG/BB, donations", 30),
        ("bgnbd_cdnow", "bgnbd_cdnow", "BG/NBD MAP, CDNOW summary, flat priors", 100)):
    o, p = inproc.get(bench), peers.get(peer)
    if o is None or p is None:
        continue
    ratio = p["median_s"] / o["median_s"]
    print(f"| {what} | {o['median_s'] * 1000:.2f} ms | {p['peer']} | {secs(p['median_s'])} | "
          f"{ratio:.0f}× | ≥ {goal}× | {'yes' if ratio >= goal else '**no**'} |")
print()
print("Parameters (rapport / peer):")
for bench, peer in (("mbgnbd_cdnow", "mbgnbd_cdnow"), ("bgbb_donations", "bgbb_donations"),
                    ("bgnbd_cdnow", "bgnbd_cdnow"), ("bgnbd_cdnow", "bgnbd_cdnow_default_priors")):
    o, p = ours[bench]["fit"]["params"], peers.get(peer, {}).get("params", {})
    both = ", ".join(f"{k} {o[k]:.4f} / {p[k]:.4f}" for k in p)
    print(f"  {peer}: {both}  → {'agree' if p and agree(o, p) else 'DIFFER'} within 1e-2")
for p in peers.values():
    if "first_s" in p:
        print(f"  {p['bench']}: first fit in the process {secs(p['first_s'])} (compiling), then {p['runs_s']}")
print()
print("| at scale | wall | peak memory | goal | met? |")
print("|---|---:|---:|---|---|")
for r in rows:
    if "scale" in r:
        mib = r["max_rss_kib"] / 1024
        failed = r.get("failed")
        met = "yes" if r["wall_s"] < 3 and mib < 1024 and not r["timed_out"] and not failed else "**no**"
        wall = f"> {r['wall_s']:.0f} s (stopped)" if r["timed_out"] else f"{r['wall_s']:.2f} s"
        if failed:
            wall += f", an error: {failed}"
        print(f"| {r['scale']} | {wall} | {mib:.0f} MiB | < 3 s, < 1 GiB | {met} |")
PY

"""Times the Python `lifetimes` package (0.11.3) on the inputs fit_bench uses.

Exists so the Rust models' speed claims are measured against the reference
implementation on identical data, in the same run (see run.sh). Prints JSON
lines like the Rust example.

usage: lifetimes_bench.py CDNOW_SUMMARY_CSV SIMULATED_CSV [--reps N] [--big-reps N]
"""
import argparse
import json
import resource
import statistics
import time
import warnings

import pandas as pd
from lifetimes import BetaGeoFitter, ParetoNBDFitter

warnings.filterwarnings("ignore")


def timed(reps, fn):
    times, out = [], None
    for _ in range(reps):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cdnow")
    ap.add_argument("simulated")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--big-reps", type=int, default=1)
    args = ap.parse_args()

    d = pd.read_csv(args.cdnow)
    f, r, T = d["frequency"], d["recency"], d["T"]

    t, bgf = timed(args.reps, lambda: BetaGeoFitter().fit(f, r, T))
    p = bgf.params_
    print(json.dumps({"bench": "bgnbd_fit_cdnow", "impl": "lifetimes", "median_s": t,
                      "reps": args.reps, **{k: float(p[k]) for k in ["r", "alpha", "a", "b"]}}), flush=True)

    t, pnf = timed(args.reps, lambda: ParetoNBDFitter().fit(f, r, T))
    p = pnf.params_
    print(json.dumps({"bench": "pareto_nbd_fit_cdnow", "impl": "lifetimes", "median_s": t,
                      "reps": args.reps, **{k: float(p[k]) for k in ["r", "alpha", "s", "beta"]}}),
          flush=True)

    sim = pd.read_csv(args.simulated)
    sf, sr, sT = sim["frequency"], sim["recency"], sim["T"]

    def fit_predict():
        start = time.perf_counter()
        m = BetaGeoFitter().fit(sf, sr, sT)
        fitted = time.perf_counter() - start
        alive = m.conditional_probability_alive(sf, sr, sT)
        expected = m.conditional_expected_number_of_purchases_up_to_time(39.0, sf, sr, sT)
        return m, fitted, float(alive.mean()), float(expected.mean())

    t, (m, fit_s, mean_alive, mean_exp) = timed(args.big_reps, fit_predict)
    p = m.params_
    print(json.dumps({"bench": "bgnbd_fit_predict_1m", "impl": "lifetimes", "people": len(sim),
                      "reps": args.big_reps, "median_s": t, "fit_s": fit_s,
                      "mean_p_alive": mean_alive, "mean_expected_39": mean_exp,
                      **{k: float(p[k]) for k in ["r", "alpha", "a", "b"]}}), flush=True)
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"bench": "max_rss", "impl": "lifetimes", "vm_hwm_mib": rss_kib / 1024}))


if __name__ == "__main__":
    main()

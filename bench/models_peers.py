"""The Python side of bench/models.sh: the peers' fits, timed in-process.

    models_peers.py lifetimes CDNOW_SUMMARY DONATIONS [--reps N]
    models_peers.py pymc CDNOW_SUMMARY [--reps N]

Only the fit call is timed (after imports and reading the CSV); each benchmark prints one
JSON line with the median and every run's seconds, and the fitted parameters so that
bench/models.sh can check both sides found the same answer.

- lifetimes 0.11.3: ModifiedBetaGeoFitter().fit(frequency, recency, T) on the CDNOW
  summary, and BetaGeoBetaBinomFitter().fit(frequency, recency, n_periods, weights=…) on
  the donations patterns; median of N runs.
- pymc-marketing: BetaGeoModel(data=…).fit(fit_method="map") on the CDNOW summary, with
  flat priors on r, alpha, a, b (HalfFlat; MAP is then the maximum-likelihood fit, the
  same answer rapport and lifetimes give), and with the package's default priors (a
  different answer: MAP under informative priors). A fit builds and compiles the PyTensor
  model each time; the first one in a fresh cache compiles C code too, so one warm-up fit
  is made and reported as `first_s`, then the median of N.
"""
import argparse
import json
import logging
import statistics
import time
import warnings

warnings.filterwarnings("ignore")


def timed(reps, fn):
    runs, out = [], None
    for _ in range(reps):
        start = time.perf_counter()
        out = fn()
        runs.append(time.perf_counter() - start)
    return runs, out


def emit(bench, peer, runs, params, **extra):
    print(json.dumps({"bench": bench, "peer": peer, "median_s": statistics.median(runs),
                      "runs_s": runs, "params": params, **extra}), flush=True)


def lifetimes(args):
    import lifetimes as lt
    import pandas as pd
    from lifetimes import BetaGeoBetaBinomFitter, ModifiedBetaGeoFitter

    peer = f"lifetimes {lt.__version__}"
    d = pd.read_csv(args.cdnow)
    f, r, T = d["frequency"], d["recency"], d["T"]
    runs, m = timed(args.reps, lambda: ModifiedBetaGeoFitter().fit(f, r, T))
    emit("mbgnbd_cdnow", peer, runs, {k: float(m.params_[k]) for k in ["r", "alpha", "a", "b"]})

    d = pd.read_csv(args.donations)
    runs, m = timed(args.reps, lambda: BetaGeoBetaBinomFitter().fit(
        d["frequency"], d["recency"], d["periods"], weights=d["weights"]))
    emit("bgbb_donations", peer, runs,
         {k: float(m.params_[k]) for k in ["alpha", "beta", "gamma", "delta"]})


def pymc(args):
    import pandas as pd
    import pymc_marketing
    from pymc_extras.prior import Prior
    from pymc_marketing.clv import BetaGeoModel

    for name in ("pymc", "pytensor", "pymc_marketing"):
        logging.getLogger(name).setLevel(logging.ERROR)
    peer = f"pymc-marketing {pymc_marketing.__version__}"
    d = pd.read_csv(args.cdnow).rename(columns={"ID": "customer_id"})
    d = d[["customer_id", "frequency", "recency", "T"]]
    flat = {k: Prior("HalfFlat") for k in ["r", "alpha", "a", "b"]}
    for bench, config in (("bgnbd_cdnow", flat), ("bgnbd_cdnow_default_priors", None)):
        def fit():
            model = BetaGeoModel(data=d, model_config=config)
            model.fit(fit_method="map", progressbar=False)
            return model
        first, _ = timed(1, fit)
        runs, m = timed(args.reps, fit)
        post = m.idata.posterior
        emit(bench, peer, runs, {k: float(post[k].values.ravel()[0]) for k in ["r", "alpha", "a", "b"]},
             first_s=first[0], priors="flat (HalfFlat)" if config else "package defaults")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("peer", choices=["lifetimes", "pymc"])
    ap.add_argument("cdnow")
    ap.add_argument("donations", nargs="?")
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    (lifetimes if args.peer == "lifetimes" else pymc)(args)


if __name__ == "__main__":
    main()

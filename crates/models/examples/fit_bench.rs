//! Benchmark of the repeat-buying models, compared with Python lifetimes by
//! `bench/models/run.sh`.
//!
//! It exists to keep the speed claims honest: it times in-process fits on the
//! CDNOW summary (median of many repetitions), then simulates a million people
//! from the BG/NBD generative process with a hand-written deterministic PRNG
//! (so both benchmarks read identical data from the CSV written here) and
//! times fit + P(alive) + expected purchases for everyone. Prints JSON lines.
//!
//! Usage: cargo run --release -p rapport-models --example fit_bench -- \
//!        [--people N] [--csv PATH] [--reps N]

use std::time::Instant;

use rapport_models::{PurchaseModel, Summary, bgbb, bgnbd, gamma_gamma, mbgnbd, pareto_nbd};

const CDNOW: &str = include_str!("../tests/data/cdnow_customers_summary.csv");
const DONATIONS: &str = include_str!("../tests/data/donations.csv");
const CDNOW_MONEY: &str =
    include_str!("../tests/data/cdnow_customers_summary_with_transactions.csv");

/// splitmix64: tiny, fast, deterministic, good enough for simulation.
struct SplitMix(u64);

impl SplitMix {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in (0, 1).
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
    fn exponential(&mut self, rate: f64) -> f64 {
        -self.uniform().ln() / rate
    }
    /// Gamma(shape, 1) by Marsaglia & Tsang, boosted for shape < 1.
    fn gamma(&mut self, shape: f64) -> f64 {
        if shape < 1.0 {
            let g = self.gamma(shape + 1.0);
            return g * self.uniform().powf(1.0 / shape);
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = (1.0 + c * x).powi(3);
            if v <= 0.0 {
                continue;
            }
            let u = self.uniform();
            if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
                return d * v;
            }
        }
    }
    fn beta(&mut self, a: f64, b: f64) -> f64 {
        let x = self.gamma(a);
        let y = self.gamma(b);
        x / (x + y)
    }
}

/// People acquired uniformly over 12 weeks, observed to the end of week 39,
/// with day-resolution times (like real transaction data), in weeks.
fn simulate(n: usize, p: &bgnbd::Params, seed: u64) -> Vec<Summary> {
    let mut rng = SplitMix(seed);
    let calibration_end_day = 273.0;
    (0..n)
        .map(|_| {
            let birth = (rng.uniform() * 84.0).floor();
            let big_t = (calibration_end_day - birth) / 7.0;
            let lambda = rng.gamma(p.r) / p.alpha;
            let drop = rng.beta(p.a, p.b);
            let (mut t, mut x, mut tx) = (0.0, 0u32, 0.0);
            loop {
                t += rng.exponential(lambda);
                if t > big_t {
                    break;
                }
                x += 1;
                tx = t;
                if rng.uniform() < drop {
                    break;
                }
            }
            Summary {
                frequency: f64::from(x),
                recency: (tx * 7.0).floor() / 7.0,
                t: big_t,
                monetary: None,
            }
        })
        .collect()
}

fn parse_cdnow(text: &str, money: bool) -> Vec<Summary> {
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<f64> = l
                .split(',')
                .map(|v| v.trim().parse().unwrap_or(f64::NAN))
                .collect();
            Summary {
                frequency: f[1],
                recency: f[2],
                t: f[3],
                monetary: if money { Some(f[4]) } else { None },
            }
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time<T>(reps: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut times = Vec::with_capacity(reps);
    let mut last = None;
    for _ in 0..reps {
        let start = Instant::now();
        let out = f();
        times.push(start.elapsed().as_secs_f64());
        last = Some(out);
    }
    (median(times), last.expect("at least one repetition"))
}

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// P(alive) and expected purchases in the next 39 weeks for everyone (the
/// library groups identical rows and uses all cores).
fn predict_all(p: &bgnbd::Params, data: &[Summary]) -> Vec<(f64, f64)> {
    p.predict(data, 39.0)
        .into_iter()
        .map(|v| (v.p_alive, v.expected_purchases))
        .collect()
}

fn main() {
    let mut people = 1_000_000usize;
    let mut csv_path: Option<String> = None;
    let mut reps = 21usize;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--people" => {
                people = args
                    .get(i + 1)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(people)
            }
            "--csv" => csv_path = args.get(i + 1).cloned(),
            "--reps" => reps = args.get(i + 1).and_then(|v| v.parse().ok()).unwrap_or(reps),
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
        i += 2;
    }

    let cdnow = parse_cdnow(CDNOW, false);
    let money = parse_cdnow(CDNOW_MONEY, true);

    let (t, fit) = time(reps, || bgnbd::fit(&cdnow).expect("BG/NBD fit"));
    let p = fit.params;
    println!(
        r#"{{"bench":"bgnbd_fit_cdnow","impl":"rust","median_s":{t:.6},"reps":{reps},"iterations":{},"log_likelihood":{:.4},"r":{:.6},"alpha":{:.6},"a":{:.6},"b":{:.6}}}"#,
        fit.iterations, fit.log_likelihood, p.r, p.alpha, p.a, p.b
    );
    let (t, fit) = time(reps, || pareto_nbd::fit(&cdnow).expect("Pareto/NBD fit"));
    let p = fit.params;
    println!(
        r#"{{"bench":"pareto_nbd_fit_cdnow","impl":"rust","median_s":{t:.6},"reps":{reps},"iterations":{},"log_likelihood":{:.4},"r":{:.6},"alpha":{:.6},"s":{:.6},"beta":{:.6}}}"#,
        fit.iterations, fit.log_likelihood, p.r, p.alpha, p.s, p.beta
    );
    let (t, fit) = time(reps, || mbgnbd::fit(&cdnow).expect("MBG/NBD fit"));
    let p = fit.params;
    println!(
        r#"{{"bench":"mbgnbd_fit_cdnow","impl":"rust","median_s":{t:.6},"reps":{reps},"iterations":{},"log_likelihood":{:.4},"r":{:.6},"alpha":{:.6},"a":{:.6},"b":{:.6}}}"#,
        fit.iterations, fit.log_likelihood, p.r, p.alpha, p.a, p.b
    );
    // donations.csv: frequency,recency,periods,weights.
    let patterns: Vec<(bgbb::Pattern, f64)> = DONATIONS
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Vec<f64> = l
                .split(',')
                .map(|c| c.trim().parse().expect("a number"))
                .collect();
            let pattern =
                bgbb::Pattern::new(v[0] as u32, v[1] as u32, v[2] as u32).expect("a valid pattern");
            (pattern, v[3])
        })
        .collect();
    let (t, fit) = time(reps, || bgbb::fit(&patterns).expect("BG/BB fit"));
    let p = fit.params;
    println!(
        r#"{{"bench":"bgbb_fit_donations","impl":"rust","median_s":{t:.6},"reps":{reps},"iterations":{},"log_likelihood":{:.4},"alpha":{:.6},"beta":{:.6},"gamma":{:.6},"delta":{:.6}}}"#,
        fit.iterations, fit.log_likelihood, p.alpha, p.beta, p.gamma, p.delta
    );
    let (t, fit) = time(reps, || gamma_gamma::fit(&money).expect("Gamma-Gamma fit"));
    let p = fit.params;
    println!(
        r#"{{"bench":"gamma_gamma_fit_cdnow","impl":"rust","median_s":{t:.6},"reps":{reps},"iterations":{},"log_likelihood":{:.4},"p":{:.6},"q":{:.6},"v":{:.6}}}"#,
        fit.iterations, fit.log_likelihood, p.p, p.q, p.v
    );

    let truth = bgnbd::Params {
        r: 0.2426,
        alpha: 4.4135,
        a: 0.7929,
        b: 2.4258,
    };
    let start = Instant::now();
    let sim = simulate(people, &truth, 20_050_101);
    let gen_s = start.elapsed().as_secs_f64();
    if let Some(path) = &csv_path {
        let mut text = String::with_capacity(people * 24);
        text.push_str("frequency,recency,T\n");
        for s in &sim {
            // Shortest round-trip formatting, so Python reads the same doubles.
            text.push_str(&format!("{},{:?},{:?}\n", s.frequency, s.recency, s.t));
        }
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("cannot write {path}: {e}");
            std::process::exit(1);
        }
    }
    let big_reps = 5;
    let mut fit_times = Vec::new();
    let mut pred_times = Vec::new();
    let mut total_times = Vec::new();
    let mut last = None;
    for _ in 0..big_reps {
        let start = Instant::now();
        let fit = bgnbd::fit(&sim).expect("BG/NBD fit on simulated data");
        let fitted = start.elapsed().as_secs_f64();
        let preds = predict_all(&fit.params, &sim);
        let total = start.elapsed().as_secs_f64();
        fit_times.push(fitted);
        pred_times.push(total - fitted);
        total_times.push(total);
        last = Some((fit, preds));
    }
    let (fit, preds) = last.expect("ran");
    let p = fit.params;
    let mean_alive = preds.iter().map(|v| v.0).sum::<f64>() / preds.len() as f64;
    let mean_exp = preds.iter().map(|v| v.1).sum::<f64>() / preds.len() as f64;
    println!(
        r#"{{"bench":"bgnbd_fit_predict_1m","impl":"rust","people":{people},"reps":{big_reps},"median_s":{:.6},"fit_median_s":{:.6},"predict_median_s":{:.6},"generate_s":{gen_s:.6},"iterations":{},"converged":{},"log_likelihood":{:.4},"r":{:.6},"alpha":{:.6},"a":{:.6},"b":{:.6},"mean_p_alive":{mean_alive:.6},"mean_expected_39":{mean_exp:.6}}}"#,
        median(total_times),
        median(fit_times),
        median(pred_times),
        fit.iterations,
        fit.converged,
        fit.log_likelihood,
        p.r,
        p.alpha,
        p.a,
        p.b
    );
    if let Some(kib) = vm_hwm_kib() {
        println!(
            r#"{{"bench":"max_rss","impl":"rust","vm_hwm_mib":{:.1}}}"#,
            kib as f64 / 1024.0
        );
    }
}

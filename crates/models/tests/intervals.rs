//! The stated 90 % intervals are honest: customer bases are drawn again and again from known
//! parameters, each is fitted, and the interval given for a person's figure must contain the
//! figure the true parameters give for that person's history 85–95 % of the time.
//!
//! One model of each family: BG/NBD (non-contractual, continuous time), BG/BB (discrete
//! opportunities) and sBG (contracts). Each run is seeded, so the test is repeatable.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution, Gamma};
use rapport_models::interval::{Parameters, Scale, Uncertainty};
use rapport_models::tenure::{Durations, Tenure};
use rapport_models::{Summary, bgbb, bgnbd, sbg};

/// How many customer bases each model is refitted on.
const RUNS: usize = 300;

/// Share of `hits` that are true, with a message for the assertion.
fn coverage(name: &str, hits: &[bool]) -> f64 {
    let c = hits.iter().filter(|h| **h).count() as f64 / hits.len() as f64;
    eprintln!(
        "{name}: {:.1} % of {} intervals cover the truth",
        c * 100.0,
        hits.len()
    );
    c
}

fn assert_honest(name: &str, hits: &[bool]) {
    let c = coverage(name, hits);
    assert!(
        (0.85..=0.95).contains(&c),
        "{name}: the 90 % intervals covered the true value {:.1} % of the time",
        c * 100.0
    );
}

/// A BG/NBD customer base of `n` people, each observed for 26 to 78 weeks after their first
/// purchase.
fn bgnbd_base(p: bgnbd::Params, n: usize, rng: &mut ChaCha8Rng) -> Vec<Summary> {
    let rate = Gamma::new(p.r, 1.0 / p.alpha).unwrap();
    let dropout = Beta::new(p.a, p.b).unwrap();
    (0..n)
        .map(|_| {
            let lambda: f64 = rate.sample(rng);
            let q: f64 = dropout.sample(rng);
            let t = rng.random_range(26.0..78.0);
            let (mut x, mut last, mut now) = (0.0, 0.0, 0.0);
            loop {
                now += -(1.0 - rng.random::<f64>()).ln() / lambda;
                if now > t {
                    break;
                }
                x += 1.0;
                last = now;
                // A person may drop out right after each repeat purchase.
                if rng.random::<f64>() < q {
                    break;
                }
            }
            Summary::new(x, last, t).unwrap()
        })
        .collect()
}

#[test]
fn bgnbd_intervals_for_a_persons_p_alive_and_purchases_cover_the_truth_nine_times_in_ten() {
    let truth = bgnbd::Params {
        r: 0.5,
        alpha: 5.0,
        a: 0.8,
        b: 2.5,
    };
    let people = [
        Summary::new(2.0, 30.43, 38.86).unwrap(),
        Summary::new(6.0, 20.0, 60.0).unwrap(),
        Summary::new(1.0, 2.0, 40.0).unwrap(),
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let (mut alive, mut purchases) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let base = bgnbd_base(truth, 2000, &mut rng);
        let fit = bgnbd::fit(&base).expect("a simulated base fits");
        let u = Uncertainty::of(&fit).expect("a fit keeps its covariance");
        for s in &people {
            let i = u
                .interval(Scale::Probability, |p| {
                    bgnbd::Params::from_slice(p).p_alive(s)
                })
                .unwrap();
            alive.push(i.contains(truth.p_alive(s)));
            let i = u
                .interval(Scale::Positive, |p| {
                    bgnbd::Params::from_slice(p).expected_purchases(s, 52.0)
                })
                .unwrap();
            purchases.push(i.contains(truth.expected_purchases(s, 52.0)));
        }
    }
    assert_honest("BG/NBD P(alive)", &alive);
    assert_honest("BG/NBD expected purchases in 52 weeks", &purchases);
}

#[test]
fn bgbb_intervals_for_a_persons_p_alive_cover_the_truth_nine_times_in_ten() {
    let truth = bgbb::Params {
        alpha: 1.2,
        beta: 0.75,
        gamma: 0.66,
        delta: 2.8,
    };
    let n = 6;
    let people = [
        bgbb::Pattern::new(2, 4, n).unwrap(),
        bgbb::Pattern::new(1, 1, n).unwrap(),
        bgbb::Pattern::new(4, 6, n).unwrap(),
    ];
    let transact = Beta::new(truth.alpha, truth.beta).unwrap();
    let dropout = Beta::new(truth.gamma, truth.delta).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(23);
    let mut hits = Vec::new();
    for _ in 0..RUNS {
        let base: Vec<bgbb::Pattern> = (0..3000)
            .map(|_| {
                let (p, theta): (f64, f64) = (transact.sample(&mut rng), dropout.sample(&mut rng));
                let (mut x, mut last) = (0, 0);
                for t in 1..=n {
                    if rng.random::<f64>() < theta {
                        break;
                    }
                    if rng.random::<f64>() < p {
                        x += 1;
                        last = t;
                    }
                }
                bgbb::Pattern::new(x, last, n).unwrap()
            })
            .collect();
        let fit = bgbb::fit_people(&base).expect("a simulated base fits");
        let u = Uncertainty::of(&fit).expect("a fit keeps its covariance");
        for pattern in &people {
            let i = u
                .interval(Scale::Probability, |p| {
                    bgbb::Params::from_slice(p).p_alive(pattern)
                })
                .unwrap();
            hits.push(i.contains(truth.p_alive(pattern)));
        }
    }
    assert_honest("BG/BB P(alive)", &hits);
}

#[test]
fn sbg_intervals_for_the_chance_of_renewing_cover_the_truth_nine_times_in_ten() {
    let truth = sbg::Params {
        alpha: 0.7,
        beta: 1.2,
    };
    let churn = Beta::new(truth.alpha, truth.beta).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(31);
    let mut hits = Vec::new();
    for _ in 0..RUNS {
        let horizon = 8;
        let cohort: Vec<Tenure> = (0..1000)
            .map(|_| {
                // Period 1 is paid for; after each paid period the customer leaves with
                // chance θ. Leaving after period `horizon` is still seen.
                let theta: f64 = churn.sample(&mut rng);
                let mut periods = 1;
                loop {
                    if rng.random::<f64>() < theta {
                        break Tenure {
                            periods,
                            churned: true,
                        };
                    }
                    if periods == horizon {
                        break Tenure {
                            periods,
                            churned: false,
                        };
                    }
                    periods += 1;
                }
            })
            .collect();
        let fit = sbg::fit(&Durations::from_tenures(&cohort).unwrap()).expect("a cohort fits");
        let u = Uncertainty::of(&fit).expect("a fit keeps its covariance");
        for renewals in [1, 4, 10] {
            let i = u
                .interval(Scale::Probability, |p| {
                    sbg::Params::from_slice(p).renewal_probability(renewals)
                })
                .unwrap();
            hits.push(i.contains(truth.renewal_probability(renewals)));
        }
    }
    assert_honest("sBG chance of renewing", &hits);
}

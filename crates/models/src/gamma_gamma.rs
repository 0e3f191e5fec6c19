//! The Gamma-Gamma model of spend per transaction (Fader & Hardie 2013, "The
//! Gamma-Gamma model of monetary value"), and customer lifetime value.
//!
//! It exists because a person's observed average spend is a noisy estimate of
//! what they will spend: with one or two repeat purchases it should be pulled
//! towards the population mean. Each transaction's value is Gamma(p, ν) with
//! the person's ν ~ Gamma(q, v); the model is fitted on the people with at
//! least one repeat purchase using (x, zbar), zbar being the mean value of the
//! repeat transactions (the first purchase excluded).
//!
//! The model assumes spend is independent of purchase frequency; check that
//! correlation on your data before trusting CLV.

use serde::{Deserialize, Serialize};

use crate::data::{self, FxBuild, Interner};
use crate::special::{digamma, ln_gamma};
use crate::{Fit, FitError, PurchaseModel, Summary, TimeUnit, optimize};
use std::collections::HashMap;

/// Gamma-Gamma parameters (shape p of a transaction's value; shape q and
/// scale v of the heterogeneity). v is in money units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Params {
    pub p: f64,
    pub q: f64,
    pub v: f64,
}

/// At least this many repeat buyers with a monetary value are needed to fit.
pub const MIN_REPEAT_BUYERS: usize = 3;

/// Options for [`Params::clv`].
///
/// Time unit trap: the purchase model's predictions are in the time unit its
/// summaries were in. `unit` must be that unit; a month is then 30 units for
/// days and 4.345 units for weeks (the same constants as lifetimes'
/// `customer_lifetime_value`). Passing `Days` for a model fitted in weeks
/// would count about seven months of purchases per month.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClvOptions {
    /// Horizon in months.
    pub months: u32,
    /// Discount rate per month (0.01 = 1 % a month, about 12.7 % a year).
    pub monthly_discount_rate: f64,
    /// Time unit of the purchase model's summaries.
    pub unit: TimeUnit,
}

impl Default for ClvOptions {
    /// Twelve months at 1 % a month, weeks (lifetimes' defaults, but weeks
    /// because the reference CDNOW data are in weeks).
    fn default() -> Self {
        ClvOptions {
            months: 12,
            monthly_discount_rate: 0.01,
            unit: TimeUnit::Weeks,
        }
    }
}

/// Maximum-likelihood fit on the people with frequency > 0 (others are
/// ignored; they carry no repeat-transaction value).
pub fn fit(data: &[Summary]) -> Result<Fit<Params>, FitError> {
    if data.is_empty() {
        return Err(FitError::Empty);
    }
    let mut xs = Interner::default();
    let mut ms = Interner::default();
    let mut rows: Vec<(u32, u32, f64)> = Vec::new();
    let mut map: HashMap<(u32, u32), usize, FxBuild> = HashMap::default();
    for (i, s) in data.iter().enumerate() {
        s.validate(i)?;
        if s.frequency <= 0.0 {
            continue;
        }
        let m = s.monetary.ok_or(FitError::MissingMonetary { index: i })?;
        if m.is_nan() || m <= 0.0 {
            return Err(FitError::NonPositiveMonetary { index: i, value: m });
        }
        let key = (xs.index(s.frequency), ms.index(m));
        match map.get(&key) {
            Some(&k) => rows[k].2 += 1.0,
            None => {
                map.insert(key, rows.len());
                rows.push((key.0, key.1, 1.0));
            }
        }
    }
    let found: f64 = rows.iter().map(|r| r.2).sum();
    if found == 0.0 {
        return Err(FitError::AllZeroFrequency);
    }
    if (found as usize) < MIN_REPEAT_BUYERS {
        return Err(FitError::TooFewRepeatBuyers {
            found: found as usize,
            required: MIN_REPEAT_BUYERS,
        });
    }
    let (xs, ms) = (xs.values, ms.values);
    let ln_m: Vec<f64> = ms.iter().map(|m| m.ln()).collect();
    let ln_x: Vec<f64> = xs.iter().map(|x| x.ln()).collect();
    // Log-likelihood and its gradient in (ln p, ln q, ln v); x-only terms
    // (log-gamma, digamma) once per distinct x.
    let fg = |theta: &[f64]| -> (f64, Vec<f64>) {
        let (p, q, v) = (theta[0].exp(), theta[1].exp(), theta[2].exp());
        let (lg_q, dg_q, ln_v) = (ln_gamma(q), digamma(q), v.ln());
        let per_x: Vec<[f64; 3]> = xs
            .iter()
            .zip(&ln_x)
            .map(|(&x, &lx)| {
                let px = p * x;
                let (dg_pxq, dg_px) = (digamma(px + q), digamma(px));
                [
                    ln_gamma(px + q) - ln_gamma(px) - lg_q + q * ln_v + px * lx,
                    x * (dg_pxq - dg_px + lx),
                    dg_pxq - dg_q + ln_v,
                ]
            })
            .collect();
        let acc = data::par_sum_n(rows.len(), |k| {
            let (xi, mi, n) = rows[k];
            let (x, m) = (xs[xi as usize], ms[mi as usize]);
            let px = p * x;
            let lm = ln_m[mi as usize];
            let lxm = (x * m + v).ln();
            let c = per_x[xi as usize];
            [
                n * (c[0] + (px - 1.0) * lm - (px + q) * lxm),
                n * (c[1] + x * (lm - lxm)),
                n * (c[2] - lxm),
                n * (q / v - (px + q) / (x * m + v)),
            ]
        });
        (-acc[0], vec![-acc[1] * p, -acc[2] * q, -acc[3] * v])
    };
    let out = optimize::minimize_robust(fg, &[0.0; 3]);
    optimize::finish(out, &["p", "q", "v"], |v| Params {
        p: v[0],
        q: v[1],
        v: v[2],
    })
}

impl Params {
    /// Log-likelihood of one repeat buyer's (x, zbar); 0 for people without a
    /// repeat purchase or a monetary value (they do not enter the model).
    pub fn log_likelihood_one(&self, s: &Summary) -> f64 {
        let Params { p, q, v } = *self;
        let (x, m) = match s.monetary {
            Some(m) if s.frequency > 0.0 => (s.frequency, m),
            _ => return 0.0,
        };
        let px = p * x;
        ln_gamma(px + q) - ln_gamma(px) - ln_gamma(q)
            + q * v.ln()
            + (px - 1.0) * m.ln()
            + px * x.ln()
            - (px + q) * (x * m + v).ln()
    }

    /// Total log-likelihood over the repeat buyers in `data`.
    pub fn log_likelihood(&self, data: &[Summary]) -> f64 {
        data.iter().map(|s| self.log_likelihood_one(s)).sum()
    }

    /// Population mean spend per transaction, p·v/(q − 1); infinite when
    /// q ≤ 1 (the mean does not exist).
    pub fn population_mean_spend(&self) -> f64 {
        if self.q > 1.0 {
            self.p * self.v / (self.q - 1.0)
        } else {
            f64::INFINITY
        }
    }

    /// Conditional expected average transaction value,
    /// E[Z | x, zbar] = p (v + x·zbar) / (p·x + q − 1): a weighted mean of the
    /// population mean and the person's own zbar. People with no repeat
    /// purchase (or no monetary value) get the population mean.
    pub fn expected_spend(&self, s: &Summary) -> f64 {
        let Params { p, q, v } = *self;
        match s.monetary {
            Some(m) if s.frequency > 0.0 && m.is_finite() => {
                let x = s.frequency;
                p * (v + x * m) / (p * x + q - 1.0)
            }
            _ => self.population_mean_spend(),
        }
    }

    /// Customer lifetime value over `opts.months` months, as lifetimes'
    /// `customer_lifetime_value` computes it: for each month i the expected
    /// purchases in that month (difference of cumulative predictions at
    /// i and i − 1 months) times [`Params::expected_spend`], discounted by
    /// (1 + monthly rate)^i. See [`ClvOptions`] for the time-unit trap.
    pub fn clv<M: PurchaseModel + ?Sized>(&self, model: &M, s: &Summary, opts: &ClvOptions) -> f64 {
        let spend = self.expected_spend(s);
        let per_month = opts.unit.units_per_month();
        let mut total = 0.0;
        let mut prev = 0.0;
        for i in 1..=opts.months {
            let cum = model.expected_purchases(s, f64::from(i) * per_month);
            let discount = (1.0 + opts.monthly_discount_rate).powi(i as i32);
            total += spend * (cum - prev) / discount;
            prev = cum;
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{bgnbd, testdata};

    #[test]
    fn gamma_gamma_reproduces_the_published_cdnow_fit() {
        let data = testdata::cdnow_with_monetary();
        assert_eq!(data.iter().filter(|s| s.frequency > 0.0).count(), 946);
        let fit = fit(&data).expect("fit");
        let Params { p, q, v } = fit.params;
        assert!((p - 6.2488).abs() < 5e-4, "p {p}");
        assert!((q - 3.7446).abs() < 5e-4, "q {q}");
        assert!((v - 15.4477).abs() < 5e-3, "v {v}");
        assert!(
            (fit.log_likelihood - -4055.92).abs() < 0.01,
            "{}",
            fit.log_likelihood
        );
        assert!(fit.std_errors.p > 0.0 && fit.std_errors.p.is_finite());
    }

    #[test]
    fn gamma_gamma_expected_spend_matches_the_published_first_ten_people() {
        let data = testdata::cdnow_with_monetary();
        // The published list is lifetimes' output at the fitted parameters
        // (displayed rounded as p 6.25, q 3.74, v 15.44) truncated to cents:
        // 24.6586… is shown as 24.65.
        let params = Params {
            p: 6.2488,
            q: 3.7446,
            v: 15.4477,
        };
        let want = [
            24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17,
        ];
        for (s, w) in data.iter().zip(want) {
            let got = params.expected_spend(s);
            assert!(got >= w - 1e-9 && got < w + 0.01, "{s:?}: {got} vs {w}");
        }
    }

    #[test]
    fn gamma_gamma_clv_matches_lifetimes_customer_lifetime_value() {
        // Reference from lifetimes 0.11.3:
        // customer_lifetime_value(bgf, 2, 30.43, 38.86, 22.35, time=12,
        // discount_rate=0.01, freq="W") with the published BG/NBD and
        // Gamma-Gamma parameters.
        let bg = bgnbd::Params {
            r: 0.2426,
            alpha: 4.4135,
            a: 0.7929,
            b: 2.4258,
        };
        let gg = Params {
            p: 6.2488,
            q: 3.7446,
            v: 15.4477,
        };
        let s = Summary::with_monetary(2.0, 30.43, 38.86, 22.35).unwrap();
        let clv = gg.clv(&bg, &s, &ClvOptions::default());
        assert!((clv - LIFETIMES_CLV_FIRST_CUSTOMER).abs() < 1e-6, "{clv}");
        // Same model in days would be a different (wrong) number: the unit matters.
        let days = gg.clv(
            &bg,
            &s,
            &ClvOptions {
                unit: TimeUnit::Days,
                ..ClvOptions::default()
            },
        );
        assert!(days > clv * 3.0);
    }

    const LIFETIMES_CLV_FIRST_CUSTOMER: f64 = 36.278_443_781_828_43;

    #[test]
    fn gamma_gamma_fit_rejects_bad_input() {
        assert_eq!(fit(&[]), Err(FitError::Empty));
        let no_money = vec![Summary::new(2.0, 3.0, 4.0).unwrap(); 5];
        assert_eq!(fit(&no_money), Err(FitError::MissingMonetary { index: 0 }));
        let zero = vec![Summary::with_monetary(2.0, 3.0, 4.0, 0.0).unwrap(); 5];
        assert!(matches!(
            fit(&zero),
            Err(FitError::NonPositiveMonetary { index: 0, .. })
        ));
        let none = vec![Summary::with_monetary(0.0, 0.0, 4.0, 0.0).unwrap(); 5];
        assert_eq!(fit(&none), Err(FitError::AllZeroFrequency));
        let two = vec![Summary::with_monetary(1.0, 3.0, 4.0, 10.0).unwrap(); 2];
        assert!(matches!(
            fit(&two),
            Err(FitError::TooFewRepeatBuyers { found: 2, .. })
        ));
        let neg = Summary {
            frequency: 1.0,
            recency: 1.0,
            t: 2.0,
            monetary: Some(-5.0),
        };
        assert!(matches!(
            fit(&[neg]),
            Err(FitError::InvalidValue {
                field: "monetary",
                ..
            })
        ));
    }
}

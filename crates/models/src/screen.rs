//! Which people a model can take, and why the others are left out.
//!
//! A fit's input functions ([`crate::bgnbd::fit`] and the others) refuse the whole input at
//! the first row they cannot use: right for a summary file someone wrote, which should be
//! fixed. A ledger is different: it may hold one person whose history no model can use (a
//! refund booked as a negative order, from before rapport refused those), and failing the
//! fit for everyone else because of that person helps nobody. [`screen`] says, before a
//! fit, which rows a model can take and why each other row cannot, so the caller can fit on
//! the rest and say who was left out.

use std::fmt;

use crate::{FitError, Summary};

/// Why one person's summary cannot go into a fit.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LeftOut {
    /// A value is negative, infinite or not a number.
    InvalidValue { field: &'static str, value: f64 },
    /// A count of repeat purchases that is not a whole number.
    NonIntegerFrequency { value: f64 },
    /// The last purchase comes after the end of the period.
    RecencyExceedsT { recency: f64, t: f64 },
    /// A repeat buyer without a mean repeat spend (only the spend model needs one).
    MissingSpend,
    /// A repeat buyer whose mean repeat spend is zero or negative: the spend model
    /// (Gamma-Gamma) describes positive amounts only.
    NonPositiveSpend { value: f64 },
}

impl fmt::Display for LeftOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LeftOut::InvalidValue { field, value } => {
                write!(f, "has {field} {value}, which no model can use")
            }
            LeftOut::NonIntegerFrequency { value } => {
                write!(f, "has {value} repeat purchases, not a whole number")
            }
            LeftOut::RecencyExceedsT { recency, t } => write!(
                f,
                "has a last purchase ({recency}) after the end of the period ({t})"
            ),
            LeftOut::MissingSpend => f.write_str("bought again but has no spend"),
            LeftOut::NonPositiveSpend { value } if *value < 0.0 => {
                write!(f, "has a negative spend ({value:.2} per repeat purchase)")
            }
            LeftOut::NonPositiveSpend { .. } => f.write_str("has a spend of 0 per repeat purchase"),
        }
    }
}

/// The rows a model can take and, for each other row, why not.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Screened {
    /// Indices of the rows the model can take, in order.
    pub kept: Vec<usize>,
    /// Indices of the rows left out, in order, with the reason.
    pub left_out: Vec<(usize, LeftOut)>,
}

/// Sorts `data` into rows a model can take and rows it cannot. `needs_spend` is for the
/// spend model (Gamma-Gamma), which also needs a positive mean repeat spend from everyone
/// who bought more than once; the purchase models only need valid counts and times.
pub fn screen(data: &[Summary], needs_spend: bool) -> Screened {
    let mut out = Screened::default();
    for (i, s) in data.iter().enumerate() {
        match why_left_out(s, needs_spend) {
            None => out.kept.push(i),
            Some(why) => out.left_out.push((i, why)),
        }
    }
    out
}

fn why_left_out(s: &Summary, needs_spend: bool) -> Option<LeftOut> {
    // Counts and times first: every model reads them. The spend is checked apart, and only
    // for the spend model: a purchase model never reads it.
    let counts = Summary {
        monetary: None,
        ..*s
    };
    if let Err(e) = counts.validate(0) {
        return Some(match e {
            FitError::NonIntegerFrequency { value, .. } => LeftOut::NonIntegerFrequency { value },
            FitError::RecencyExceedsT { recency, t, .. } => LeftOut::RecencyExceedsT { recency, t },
            FitError::InvalidValue { field, value, .. } => LeftOut::InvalidValue { field, value },
            // `validate` reports nothing else; anything it learns later is a bad row too.
            _ => LeftOut::InvalidValue {
                field: "a value",
                value: f64::NAN,
            },
        });
    }
    if !needs_spend || s.frequency == 0.0 {
        return None;
    }
    match s.monetary {
        None => Some(LeftOut::MissingSpend),
        Some(m) if !m.is_finite() => Some(LeftOut::InvalidValue {
            field: "spend",
            value: m,
        }),
        Some(m) if m <= 0.0 => Some(LeftOut::NonPositiveSpend { value: m }),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(frequency: f64, recency: f64, t: f64, monetary: Option<f64>) -> Summary {
        Summary {
            frequency,
            recency,
            t,
            monetary,
        }
    }

    #[test]
    fn each_kind_of_row_a_model_cannot_take_is_named() {
        let cases = [
            (row(2.0, 3.0, 5.0, Some(10.0)), true, None),
            (row(0.0, 0.0, 5.0, None), true, None),
            (
                row(2.0, 3.0, 5.0, Some(-15.0)),
                true,
                Some("has a negative spend (-15.00 per repeat purchase)"),
            ),
            (row(2.0, 3.0, 5.0, Some(-15.0)), false, None),
            (
                row(2.0, 3.0, 5.0, Some(0.0)),
                true,
                Some("has a spend of 0 per repeat purchase"),
            ),
            (row(2.0, 3.0, 5.0, Some(0.0)), false, None),
            (
                row(2.0, 3.0, 5.0, None),
                true,
                Some("bought again but has no spend"),
            ),
            (
                row(2.0, 6.0, 5.0, None),
                false,
                Some("has a last purchase (6) after the end of the period (5)"),
            ),
            (
                row(1.5, 3.0, 5.0, None),
                false,
                Some("has 1.5 repeat purchases, not a whole number"),
            ),
            (
                row(1.0, f64::NAN, 5.0, None),
                false,
                Some("has recency NaN, which no model can use"),
            ),
        ];
        for (s, needs_spend, want) in cases {
            let got = why_left_out(&s, needs_spend).map(|w| w.to_string());
            assert_eq!(got.as_deref(), want, "{s:?} (spend needed: {needs_spend})");
        }
    }

    #[test]
    fn screening_keeps_the_order_of_the_rows() {
        let data = [
            row(1.0, 1.0, 2.0, Some(5.0)),
            row(1.0, 1.0, 2.0, Some(-5.0)),
            row(0.0, 0.0, 2.0, None),
        ];
        let s = screen(&data, true);
        assert_eq!(s.kept, vec![0, 2]);
        assert_eq!(s.left_out.len(), 1);
        assert_eq!(s.left_out[0].0, 1);
        assert_eq!(screen(&data, false).kept, vec![0, 1, 2]);
    }
}

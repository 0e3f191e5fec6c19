//! What the ledger knows about a person that does not change with their purchases: the
//! static covariates a purchase model may take (`rapport fit --covariates ledger`, and
//! `rapport covariates` to see or edit them as a file).
//!
//! CLVTools' static covariates are attributes fixed before the period the model describes,
//! such as how a customer was acquired. From the ledger these are: whether the person buys for
//! an organisation (their latest `person.identified` names an `org`), whether someone referred
//! them (a `referral.made` names them), the language they are addressed in, and what their
//! first purchase day came to. Each is read as of a moment, so a fit on a calibration period
//! never sees later facts. A column nobody differs on says nothing a model could estimate, so
//! it is left out (and said so), rather than becoming a named error later.

use std::collections::BTreeMap;

use crate::PersonId;
use crate::Timestamp;
use crate::event::Body;
use crate::readings::Recorded;

/// One person's attributes as of a moment, before they are turned into numbers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attributes {
    /// Their latest identification names an organisation.
    pub business: bool,
    /// The language of their latest identification that gave one.
    pub language: Option<String>,
    /// The amount of their first purchase day (orders, else invoices, as the purchase models
    /// count them), if they had one by then.
    pub first_amount: Option<f64>,
}

/// `person`'s attributes from their own events up to `as_of` (in ledger order); `None` if
/// the ledger knew nothing of them by then.
pub fn of(events: &[Recorded], as_of: Timestamp) -> Option<Attributes> {
    if !events.iter().any(|e| e.at <= as_of) {
        return None;
    }
    let mut a = Attributes::default();
    for e in events.iter().filter(|e| e.at <= as_of) {
        if let Body::PersonIdentified { language, org } = &e.body {
            a.business = org.is_some();
            if let Some(l) = language {
                a.language = Some(l.as_str().to_owned());
            }
        }
    }
    let until: Vec<Recorded> = events.iter().filter(|e| e.at <= as_of).cloned().collect();
    let tx = crate::readings::loyalty::transactions(&until);
    a.first_amount = tx
        .iter()
        .map(|&(day, _)| day)
        .min_by(f64::total_cmp)
        .map(|first| tx.iter().filter(|t| t.0 == first).map(|t| t.1).sum());
    Some(a)
}

/// The people `events` say were referred by someone, up to `as_of`.
pub fn referred(events: &[Recorded], as_of: Timestamp) -> impl Iterator<Item = &PersonId> {
    events
        .iter()
        .filter(move |e| e.at <= as_of)
        .filter_map(|e| match &e.body {
            Body::ReferralMade { referred } => Some(referred),
            _ => None,
        })
}

/// Everyone's attributes as numbers, one column per covariate that varies.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Column names: `business`, `referred`, `log_first_amount`, `language_xx`.
    pub columns: Vec<String>,
    /// One row per person, in the order given, each as long as `columns`.
    pub rows: Vec<Vec<f64>>,
    /// Columns left out because everyone has the same value, with that value in words.
    pub constant: Vec<(String, String)>,
    /// The language every `language_xx` column is measured against (the most common).
    pub baseline_language: Option<String>,
}

/// Turns attributes into covariates: `business` and `referred` as 0/1, `log_first_amount`
/// as ln(1 + amount) (0 for someone with no purchase yet: they are not fitted anyway), and
/// one 0/1 column per language other than the most common one (people without a language
/// count with the most common). Constant columns are left out.
pub fn table(people: &[(Attributes, bool)]) -> Table {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (a, _) in people {
        if let Some(l) = &a.language {
            *counts.entry(l.as_str()).or_default() += 1;
        }
    }
    // The most common language is the baseline; ties go to the first in order.
    let baseline = counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(l, _)| (*l).to_owned());
    let others: Vec<&str> = counts
        .keys()
        .copied()
        .filter(|l| Some(*l) != baseline.as_deref())
        .collect();

    let mut columns: Vec<String> = vec![
        "business".to_owned(),
        "referred".to_owned(),
        "log_first_amount".to_owned(),
    ];
    columns.extend(others.iter().map(|l| format!("language_{l}")));
    let rows: Vec<Vec<f64>> = people
        .iter()
        .map(|(a, referred)| {
            let mut row = vec![
                f64::from(u8::from(a.business)),
                f64::from(u8::from(*referred)),
                a.first_amount.map_or(0.0, |v| v.max(0.0).ln_1p()),
            ];
            row.extend(
                others
                    .iter()
                    .map(|l| f64::from(u8::from(a.language.as_deref() == Some(*l)))),
            );
            row
        })
        .collect();

    let varies: Vec<bool> = (0..columns.len())
        .map(|c| rows.iter().any(|r| r[c] != rows[0][c]))
        .collect();
    let mut constant = Vec::new();
    for (c, name) in columns.iter().enumerate() {
        if !varies[c] {
            let v = rows.first().map_or(0.0, |r| r[c]);
            let said = match name.as_str() {
                "business" if v == 0.0 => "nobody buys for an organisation".to_owned(),
                "business" => "everyone buys for an organisation".to_owned(),
                "referred" if v == 0.0 => "nobody was referred".to_owned(),
                "referred" => "everyone was referred".to_owned(),
                "log_first_amount" if v == 0.0 => "nobody had bought anything yet".to_owned(),
                _ => format!("everyone has {v}"),
            };
            constant.push((name.clone(), said));
        }
    }
    let keep = |row: &Vec<f64>| -> Vec<f64> {
        row.iter()
            .zip(&varies)
            .filter(|(_, v)| **v)
            .map(|(x, _)| *x)
            .collect()
    };
    Table {
        columns: columns
            .iter()
            .zip(&varies)
            .filter(|(_, v)| **v)
            .map(|(c, _)| c.clone())
            .collect(),
        rows: rows.iter().map(keep).collect(),
        constant,
        baseline_language: baseline.filter(|_| !others.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(business: bool, language: Option<&str>, amount: Option<f64>) -> Attributes {
        Attributes {
            business,
            language: language.map(str::to_owned),
            first_amount: amount,
        }
    }

    #[test]
    fn the_most_common_language_is_the_baseline_and_others_become_columns() {
        let t = table(&[
            (person(true, Some("nl"), Some(20.0)), false),
            (person(false, Some("nl"), Some(5.0)), true),
            (person(false, Some("en"), None), false),
            (person(false, None, Some(0.0)), false),
        ]);
        assert_eq!(
            t.columns,
            ["business", "referred", "log_first_amount", "language_en"]
        );
        assert_eq!(t.baseline_language.as_deref(), Some("nl"));
        assert_eq!(t.rows[0], [1.0, 0.0, 21f64.ln(), 0.0]);
        assert_eq!(t.rows[2], [0.0, 0.0, 0.0, 1.0]);
        assert!(t.constant.is_empty());
    }

    #[test]
    fn columns_nobody_differs_on_are_left_out_and_said_in_words() {
        let t = table(&[
            (person(false, Some("nl"), Some(20.0)), false),
            (person(false, Some("nl"), Some(5.0)), false),
        ]);
        assert_eq!(t.columns, ["log_first_amount"]);
        assert_eq!(t.rows[1], [6f64.ln()]);
        assert_eq!(
            t.constant,
            [
                (
                    "business".to_owned(),
                    "nobody buys for an organisation".to_owned()
                ),
                ("referred".to_owned(), "nobody was referred".to_owned())
            ]
        );
        assert_eq!(t.baseline_language, None, "one language: no columns");
    }
}

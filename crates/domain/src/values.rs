//! Validated values: identifiers, exact amounts, currencies, moments and days.
//!
//! Everything that comes from outside is parsed into one of these types once, at the edge,
//! so that the rest of rapport never handles a raw `String` or `f64` where a meaning is
//! intended. Each type has a private field and a `parse` that says what was wrong.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, Timelike};
use compact_str::CompactString;
use serde::{Deserialize, Serialize};

/// Why a value could not be parsed. The caller adds the field name and the place in the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, ValueError> {
    Err(ValueError(msg.into()))
}

/// The longest identifier we accept. Longer ones are almost always a column mix-up.
const MAX_ID_LEN: usize = 200;

fn check_id(kind: &str, s: &str) -> Result<(), ValueError> {
    if s.trim().is_empty() {
        return err(format!("{kind} is empty"));
    }
    if s.len() > MAX_ID_LEN {
        return err(format!("{kind} is longer than {MAX_ID_LEN} bytes"));
    }
    if s.chars().any(char::is_control) {
        return err(format!("{kind} contains a control character"));
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(CompactString);

        impl $name {
            /// Parses an identifier: not empty, no control characters, at most 200 bytes.
            /// Surrounding white space is removed.
            pub fn parse(s: &str) -> Result<Self, ValueError> {
                let s = s.trim();
                check_id($what, s)?;
                Ok(Self(CompactString::from(s)))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

id_type!(
    /// A person's identifier as the business knows it (a customer number, an e-mail hash…).
    PersonId,
    "person id"
);
id_type!(
    /// The system an event came from (`ar`, `crm`, `shop`…). Event ids are unique per source.
    Source,
    "source"
);
id_type!(
    /// An event's identifier, unique within its source.
    EventId,
    "event id"
);
id_type!(
    /// A reference to a thing events share: an invoice, order, contact, incident or promise.
    Ref,
    "reference"
);

/// A short label chosen by the business: a channel, topic, menu item, purpose, agent.
/// Not personal text, so it is stored in the clear; still bounded and free of control bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Label(CompactString);

impl Label {
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let s = s.trim();
        check_id("label", s)?;
        Ok(Self(CompactString::from(s)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A label hashes and compares as its text, so maps keyed by labels are searched with a `&str`.
impl std::borrow::Borrow<str> for Label {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An ISO 4217 currency code with the number of decimals it allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

/// Currencies whose minor unit is not 2 decimals (ISO 4217). Every other well-formed code
/// has 2, which is what ISO gives nearly all of them.
const EXPONENTS: &[(&str, u8)] = &[
    ("BIF", 0),
    ("CLP", 0),
    ("DJF", 0),
    ("GNF", 0),
    ("ISK", 0),
    ("JPY", 0),
    ("KMF", 0),
    ("KRW", 0),
    ("PYG", 0),
    ("RWF", 0),
    ("UGX", 0),
    ("UYI", 0),
    ("VND", 0),
    ("VUV", 0),
    ("XAF", 0),
    ("XOF", 0),
    ("XPF", 0),
    ("BHD", 3),
    ("IQD", 3),
    ("JOD", 3),
    ("KWD", 3),
    ("LYD", 3),
    ("OMR", 3),
    ("TND", 3),
    ("CLF", 4),
    ("UYW", 4),
];

impl Currency {
    /// Parses a three-letter code such as `EUR`; lower case is accepted and upper-cased.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let s = s.trim();
        let b = s.as_bytes();
        if b.len() != 3 || !b.iter().all(u8::is_ascii_alphabetic) {
            return err(format!(
                "currency {s:?} is not a three-letter ISO 4217 code"
            ));
        }
        Ok(Self([
            b[0].to_ascii_uppercase(),
            b[1].to_ascii_uppercase(),
            b[2].to_ascii_uppercase(),
        ]))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }

    /// How many decimals an amount in this currency may have.
    pub fn decimals(&self) -> u8 {
        EXPONENTS
            .iter()
            .find(|(c, _)| c.as_bytes() == self.0)
            .map_or(2, |&(_, e)| e)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An exact decimal amount, held as a whole number of ten-thousandths.
///
/// Four decimals cover every ISO 4217 currency (the most is 4) and unit prices quoted to a
/// tenth of a cent. Floats never touch money: sums are exact, so "paid in full" is exact too.
///
/// Every amount that comes from outside is at most [`Amount::MAX`] (just under a trillion)
/// in size, and so is every amount computed from them at import (a line's quantity × unit
/// price, the sum of an order's lines): what does not fit is refused by name, never rounded,
/// wrapped or clamped. The bound is a thousand times below what the `i64` holds (922
/// trillion), so the sums readings make over stored amounts are exact too: they could only
/// reach the limit of the `i64` by adding up more than 922 amounts of a trillion each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Amount(i64);

/// Ten-thousandths per unit.
pub const AMOUNT_SCALE: i64 = 10_000;
const AMOUNT_DECIMALS: u8 = 4;

impl Amount {
    pub const ZERO: Amount = Amount(0);
    /// The largest amount rapport holds: 999,999,999,999.9999. [`Amount::parse`] and the
    /// checked operations refuse anything larger (or smaller than its negative).
    pub const MAX: Amount = Amount(10_000_000_000_000_000 - 1);

    /// Parses a decimal written as text (`"55.94"`, `"-3"`, `"1200.5"`), allowing at most
    /// `max_decimals` digits after the point. No exponent, no thousands separators.
    pub fn parse(s: &str, max_decimals: u8) -> Result<Self, ValueError> {
        let t = s.trim();
        let (neg, body) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let (int, frac) = match body.split_once('.') {
            Some((i, f)) => (i, f),
            None => (body, ""),
        };
        if int.is_empty() && frac.is_empty() {
            return err(format!("{s:?} is not a decimal number"));
        }
        if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return err(format!(
                "{s:?} is not a decimal number (write it like 1234.50)"
            ));
        }
        let max = max_decimals.min(AMOUNT_DECIMALS);
        let significant = frac.trim_end_matches('0');
        if significant.len() > usize::from(max) {
            return err(format!(
                "{s:?} has {} decimals; at most {max} are allowed here",
                significant.len()
            ));
        }
        let mut v: i64 = 0;
        for b in int.bytes() {
            v = v
                .checked_mul(10)
                .and_then(|v| v.checked_add(i64::from(b - b'0')))
                .ok_or_else(|| ValueError(format!("{s:?} is too large")))?;
        }
        let mut f: i64 = 0;
        for i in 0..usize::from(AMOUNT_DECIMALS) {
            let d = significant
                .as_bytes()
                .get(i)
                .map_or(0, |b| i64::from(b - b'0'));
            f = f * 10 + d;
        }
        let v = v
            .checked_mul(AMOUNT_SCALE)
            .and_then(|v| v.checked_add(f))
            .filter(|v| *v <= Amount::MAX.0)
            .ok_or_else(|| ValueError(format!("{s:?} is too large: {}", Amount::TOO_LARGE)))?;
        Ok(Amount(if neg { -v } else { v }))
    }

    /// Why an amount was refused as too large, for error messages.
    pub const TOO_LARGE: &str = "amounts are held exactly up to 999999999999.9999";

    fn bounded(v: i64) -> Option<Amount> {
        (v.checked_abs()? <= Amount::MAX.0).then_some(Amount(v))
    }

    /// `self + o`, or `None` when the sum is larger than [`Amount::MAX`]: for sums that will
    /// be stored (an order's lines), so that nothing larger than the bound is ever stored.
    pub fn checked_add(self, o: Amount) -> Option<Amount> {
        Amount::bounded(self.0.checked_add(o.0)?)
    }

    /// `self × qty`, or `None` when the product is larger than [`Amount::MAX`]: an order
    /// line's total, checked at import.
    pub fn checked_times(self, qty: i64) -> Option<Amount> {
        Amount::bounded(self.0.checked_mul(qty)?)
    }

    pub fn from_ten_thousandths(v: i64) -> Self {
        Amount(v)
    }

    pub fn ten_thousandths(self) -> i64 {
        self.0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// `self + o` for sums over stored amounts (a person's open invoices, a tally of
    /// orders). Stored amounts are at most [`Amount::MAX`], so this only saturates after
    /// more than 922 amounts of a trillion each; it never wraps round to a wrong sign.
    pub fn saturating_add(self, o: Amount) -> Amount {
        Amount(self.0.saturating_add(o.0))
    }

    /// `self × qty` for a stored order line, whose total was checked at import
    /// ([`Amount::checked_times`]), so it does not saturate; it never wraps.
    pub fn times(self, qty: i64) -> Amount {
        Amount(self.0.saturating_mul(qty))
    }

    /// The amount as a float, for weighting and statistics only — never for money sums.
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / AMOUNT_SCALE as f64
    }

    /// Writes the amount with exactly `decimals` digits after the point (dropping only zeros
    /// beyond what is stored), e.g. `55.94` for USD and `1200` for JPY.
    pub fn format(self, decimals: u8) -> String {
        let neg = self.0 < 0;
        let abs = self.0.unsigned_abs();
        let scale = AMOUNT_SCALE as u64;
        let int = abs / scale;
        let frac = abs % scale;
        let mut s = String::new();
        if neg {
            s.push('-');
        }
        s.push_str(&int.to_string());
        // Never hide digits that are really there.
        let mut d = usize::from(decimals.min(AMOUNT_DECIMALS));
        let digits = format!("{frac:04}");
        let needed = digits.trim_end_matches('0').len();
        d = d.max(needed);
        if d > 0 {
            s.push('.');
            s.push_str(&digits[..d]);
        }
        s
    }
}

/// A number as written for a person: thousands grouped with commas (`1234567.5` →
/// `1,234,567.5`); the digits after the point and a sign are left as they are.
pub fn thousands(number: &str) -> String {
    let (sign, rest) = match number.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", number),
    };
    let (int, frac) = match rest.find('.') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if int.len() <= 3 || !int.bytes().all(|b| b.is_ascii_digit()) {
        return number.to_owned();
    }
    let mut out = String::with_capacity(number.len() + int.len() / 3);
    out.push_str(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out.push_str(frac);
    out
}

impl Amount {
    /// [`Amount::format`] with thousands grouped, for pages and the command line (never for
    /// JSON or files read back).
    pub fn grouped(self, decimals: u8) -> String {
        thousands(&self.format(decimals))
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format(2))
    }
}

impl std::iter::Sum for Amount {
    fn sum<I: Iterator<Item = Amount>>(iter: I) -> Amount {
        iter.fold(Amount::ZERO, Amount::saturating_add)
    }
}

/// A moment, in whole seconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(i64);

pub const SECONDS_PER_DAY: i64 = 86_400;

impl Timestamp {
    /// Parses RFC 3339 (`2013-01-02T00:00:00Z`, `2013-01-02T09:30:00+01:00`). Fractions of a
    /// second are dropped: no reading needs them.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let t = s.trim();
        match DateTime::parse_from_rfc3339(t) {
            Ok(dt) => Ok(Timestamp(dt.timestamp())),
            Err(e) => err(format!(
                "{t:?} is not an RFC 3339 moment such as 2024-05-01T09:30:00Z ({e})"
            )),
        }
    }

    pub fn from_unix(secs: i64) -> Self {
        Timestamp(secs)
    }

    pub fn unix(self) -> i64 {
        self.0
    }

    /// The calendar day this moment falls on (UTC).
    pub fn day(self) -> Day {
        Day(self.0.div_euclid(SECONDS_PER_DAY) as i32)
    }

    /// The moment `days` whole days later (or earlier, if negative).
    pub fn plus_days(self, days: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(days.saturating_mul(SECONDS_PER_DAY)))
    }

    /// Hours from `self` to `later`, as a float (negative if `later` is earlier).
    pub fn hours_until(self, later: Timestamp) -> f64 {
        (later.0 - self.0) as f64 / 3600.0
    }

    pub fn now() -> Timestamp {
        Timestamp(chrono::Utc::now().timestamp())
    }

    pub fn to_rfc3339(self) -> String {
        match DateTime::from_timestamp(self.0, 0) {
            // Written directly: every event of every card goes through here, and chrono's
            // format strings are parsed anew on each call.
            Some(d) if (0..=9999).contains(&d.year()) => format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                d.year(),
                d.month(),
                d.day(),
                d.hour(),
                d.minute(),
                d.second()
            ),
            Some(d) => d.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            None => self.0.to_string(),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

/// A calendar day, as days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Day(i32);

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
}

impl Day {
    /// Parses `YYYY-MM-DD`; a day that does not exist (2023-02-29) is an error.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let t = s.trim();
        match NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            Ok(d) => Ok(Day::from_date(d)),
            Err(e) => err(format!("{t:?} is not a date such as 2024-05-31 ({e})")),
        }
    }

    pub fn from_date(d: NaiveDate) -> Day {
        Day((d - epoch()).num_days() as i32)
    }

    pub fn from_days(n: i32) -> Day {
        Day(n)
    }

    pub fn days_since_epoch(self) -> i32 {
        self.0
    }

    pub fn date(self) -> NaiveDate {
        epoch()
            .checked_add_signed(chrono::TimeDelta::days(i64::from(self.0)))
            .unwrap_or(NaiveDate::MAX)
    }

    /// The first moment of this day (UTC).
    pub fn start(self) -> Timestamp {
        Timestamp(i64::from(self.0) * SECONDS_PER_DAY)
    }

    /// The last second of this day (UTC): "as of 2024-03-31" includes the whole day.
    pub fn end(self) -> Timestamp {
        Timestamp(i64::from(self.0) * SECONDS_PER_DAY + SECONDS_PER_DAY - 1)
    }

    pub fn year_month(self) -> (i32, u32) {
        let d = self.date();
        (d.year(), d.month())
    }
}

/// `days(a, b) = date(b) - date(a)` of READINGS.md: whole calendar days.
pub fn days(a: Day, b: Day) -> i64 {
    i64::from(b.0) - i64::from(a.0)
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.date();
        if (0..=9999).contains(&d.year()) {
            write!(f, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
        } else {
            write!(f, "{}", d.format("%Y-%m-%d"))
        }
    }
}

impl Serialize for Day {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_are_grouped_with_commas_and_nothing_else_changes() {
        use super::thousands;
        assert_eq!(thousands("1234567.50"), "1,234,567.50");
        assert_eq!(thousands("-1234"), "-1,234");
        assert_eq!(thousands("999.99"), "999.99");
        assert_eq!(thousands("100000"), "100,000");
        assert_eq!(thousands("n/a"), "n/a");
    }

    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn timestamps_and_days_are_written_as_chrono_writes_them(t in -70_000_000_000i64..300_000_000_000) {
            let ts = Timestamp::from_unix(t);
            let chrono = DateTime::from_timestamp(t, 0)
                .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                .unwrap_or_else(|| t.to_string());
            prop_assert_eq!(ts.to_rfc3339(), chrono);
            let day = ts.day();
            prop_assert_eq!(day.to_string(), day.date().format("%Y-%m-%d").to_string());
        }
    }

    #[test]
    fn an_amount_keeps_every_decimal_it_is_given() {
        assert_eq!(
            Amount::parse("55.94", 2).unwrap().ten_thousandths(),
            559_400
        );
        assert_eq!(Amount::parse("-3", 2).unwrap().ten_thousandths(), -30_000);
        assert_eq!(Amount::parse("0.001", 4).unwrap().ten_thousandths(), 10);
        assert_eq!(Amount::parse(".5", 2).unwrap().ten_thousandths(), 5_000);
    }

    #[test]
    fn an_amount_with_more_decimals_than_allowed_is_refused() {
        let e = Amount::parse("10.123", 2).unwrap_err();
        assert!(e.0.contains("3 decimals"), "{e}");
        // Trailing zeros are not real decimals.
        assert!(Amount::parse("10.1200", 2).is_ok());
        assert!(Amount::parse("100", 0).is_ok());
        assert!(Amount::parse("100.5", 0).is_err());
    }

    #[test]
    fn text_that_is_not_a_plain_decimal_is_refused() {
        for bad in [
            "", "-", ".", "1e3", "1,5", "12a", "1.2.3", " ", "--1", "NaN",
        ] {
            assert!(Amount::parse(bad, 2).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn an_amount_beyond_a_trillion_is_refused_by_name_never_clamped() {
        let cases = [
            ("999999999999.9999", true),
            ("-999999999999.9999", true),
            ("1000000000000", false),
            ("-1000000000000", false),
            ("922337203685477.5807", false),
            ("99999999999999999999999", false),
        ];
        for (text, fits) in cases {
            match Amount::parse(text, 4) {
                Ok(a) => {
                    assert!(fits, "{text} was accepted");
                    assert_eq!(a.format(4), text);
                }
                Err(e) => {
                    assert!(!fits, "{text}: {e}");
                    assert!(e.0.contains("too large"), "{e}");
                }
            }
        }
    }

    #[test]
    fn checked_sums_and_line_totals_stop_at_the_bound() {
        let price = Amount::parse("10000.00", 2).unwrap();
        assert_eq!(price.checked_times(1_000_000_000_000_000), None);
        assert_eq!(price.checked_times(i64::MIN), None);
        assert_eq!(
            price.checked_times(3).map(|a| a.format(2)),
            Some("30000.00".to_owned())
        );
        assert_eq!(
            Amount::MAX.checked_add(Amount::from_ten_thousandths(1)),
            None
        );
        assert_eq!(
            Amount::MAX.checked_add(Amount::from_ten_thousandths(-1)),
            Some(Amount::from_ten_thousandths(
                Amount::MAX.ten_thousandths() - 1
            ))
        );
        let min = Amount::from_ten_thousandths(-Amount::MAX.ten_thousandths());
        assert_eq!(min.checked_add(Amount::from_ten_thousandths(-1)), None);
    }

    #[test]
    fn currencies_know_their_decimals() {
        assert_eq!(Currency::parse("usd").unwrap().decimals(), 2);
        assert_eq!(Currency::parse("JPY").unwrap().decimals(), 0);
        assert_eq!(Currency::parse("KWD").unwrap().decimals(), 3);
        assert!(Currency::parse("EURO").is_err());
        assert!(Currency::parse("€").is_err());
    }

    #[test]
    fn a_date_that_does_not_exist_is_refused() {
        assert!(Day::parse("2023-02-29").is_err());
        assert!(Day::parse("2024-02-29").is_ok());
        assert!(Timestamp::parse("2023-02-30T00:00:00Z").is_err());
        assert!(Timestamp::parse("2013-01-02").is_err());
    }

    #[test]
    fn moments_keep_their_offset() {
        let a = Timestamp::parse("2024-01-01T01:00:00+01:00").unwrap();
        let b = Timestamp::parse("2024-01-01T00:00:00Z").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.day().to_string(), "2024-01-01");
    }

    #[test]
    fn days_between_counts_calendar_days() {
        let a = Day::parse("2024-01-31").unwrap();
        let b = Day::parse("2024-03-01").unwrap();
        assert_eq!(days(a, b), 30);
        assert_eq!(Timestamp::parse("2024-01-31T23:59:59Z").unwrap().day(), a);
    }

    #[test]
    fn identifiers_must_be_present_and_plain() {
        assert!(PersonId::parse("  ").is_err());
        assert!(PersonId::parse("a\u{0}b").is_err());
        assert_eq!(
            PersonId::parse(" 0379-NEVHP ").unwrap().as_str(),
            "0379-NEVHP"
        );
    }

    proptest! {
        #[test]
        fn amounts_round_trip_through_their_text(v in -10_000_000_000i64..10_000_000_000i64) {
            let a = Amount::from_ten_thousandths(v);
            let back = Amount::parse(&a.format(4), 4).unwrap();
            prop_assert_eq!(a, back);
        }

        #[test]
        fn a_line_total_is_exact_or_refused(
            price in -Amount::MAX.ten_thousandths()..=Amount::MAX.ten_thousandths(),
            qty in proptest::prelude::any::<i64>(),
        ) {
            let exact = i128::from(price) * i128::from(qty);
            let got = Amount::from_ten_thousandths(price).checked_times(qty);
            if exact.abs() <= i128::from(Amount::MAX.ten_thousandths()) {
                prop_assert_eq!(got.map(|a| i128::from(a.ten_thousandths())), Some(exact));
            } else {
                prop_assert_eq!(got, None);
            }
        }

        #[test]
        fn amount_parsing_never_panics(s in ".{0,30}") {
            let _ = Amount::parse(&s, 2);
        }

        #[test]
        fn days_round_trip_through_their_text(n in -100_000i32..100_000i32) {
            let d = Day::from_days(n);
            prop_assert_eq!(Day::parse(&d.to_string()).unwrap(), d);
        }
    }
}

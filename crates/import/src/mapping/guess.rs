//! What to type when a date is in no known format: the `date_format` (strftime, as the
//! mapping reads it) that does read the value shown, inferred from its shape.
//!
//! `03.12.2026` can only be `%d.%m.%Y` (dots are day first), `31/12/2026` only day first
//! (31 is no month), but `12/03/2026 14:05` is either way round: then both are said, and the
//! person is told what decides it. Every format offered has been checked to read the value.

use chrono::{DateTime, NaiveDate, NaiveDateTime};

/// A shape's formats, the first the likelier, each checked against the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Guess {
    pub formats: Vec<String>,
    /// Why one order of day and month was chosen ("31 is no month"), when it was.
    pub decided_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(String),
    Word(String),
    Lit(char),
}

fn tokens(v: &str) -> Vec<Tok> {
    let mut out: Vec<Tok> = Vec::new();
    for c in v.chars() {
        match (out.last_mut(), c) {
            (Some(Tok::Num(s)), d) if d.is_ascii_digit() => s.push(d),
            (Some(Tok::Word(s)), a) if a.is_alphabetic() => s.push(a),
            (_, d) if d.is_ascii_digit() => out.push(Tok::Num(d.to_string())),
            (_, a) if a.is_alphabetic() => out.push(Tok::Word(a.to_string())),
            (_, other) => out.push(Tok::Lit(other)),
        }
    }
    out
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const DAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// `%b`/`%B` for a month's name, `%a`/`%A` for a weekday's, or `None`.
fn name_spec(w: &str) -> Option<&'static str> {
    let l = w.to_lowercase();
    let short = l.len() == 3;
    if MONTHS
        .iter()
        .any(|m| *m == l || (short && m.starts_with(&l)))
    {
        return Some(if short { "%b" } else { "%B" });
    }
    if DAYS.iter().any(|d| *d == l || (short && d.starts_with(&l))) {
        return Some(if short { "%a" } else { "%A" });
    }
    None
}

/// Does `fmt` read `v` whole, as the mapping's reader would?
fn reads(v: &str, fmt: &str) -> bool {
    if fmt.contains("%z") || fmt.contains("%:z") {
        return DateTime::parse_from_str(v, fmt).is_ok();
    }
    NaiveDateTime::parse_from_str(v, fmt).is_ok() || NaiveDate::parse_from_str(v, fmt).is_ok()
}

/// The `date_format`s that read `v`, or `None` when its shape is not one of a date.
pub(crate) fn guess(v: &str) -> Option<Guess> {
    let v = v.trim();
    let toks = tokens(v);
    let pm = toks
        .iter()
        .any(|t| matches!(t, Tok::Word(w) if w.eq_ignore_ascii_case("am") || w.eq_ignore_ascii_case("pm")));
    // Which token is which: the first three numbers or month names are the date, in an order
    // decided below; numbers after them are the time.
    let date_at: Vec<usize> = toks
        .iter()
        .enumerate()
        .filter(|(_, t)| match t {
            Tok::Num(_) => true,
            Tok::Word(w) => name_spec(w).is_some_and(|s| s == "%b" || s == "%B"),
            Tok::Lit(_) => false,
        })
        .map(|(i, _)| i)
        .take(3)
        .collect();
    let num = |i: usize| match &toks[i] {
        Tok::Num(n) => Some(n.as_str()),
        _ => None,
    };
    let value = |i: usize| num(i).and_then(|n| n.parse::<u32>().ok());

    // Compact dates (20261203): one number of eight digits.
    let mut orders: Vec<[(usize, &str); 3]> = Vec::new();
    let mut decided_by = None;
    let mut compact = None;
    if let Some(&first) = date_at.first()
        && num(first).is_some_and(|n| n.len() == 8)
    {
        compact = Some(first);
    } else if date_at.len() == 3 {
        let [a, b, c] = [date_at[0], date_at[1], date_at[2]];
        let year = |i: usize| {
            if num(i).is_some_and(|n| n.len() == 4) {
                "%Y"
            } else {
                "%y"
            }
        };
        let word = |i: usize| matches!(toks[i], Tok::Word(_));
        if let Some(m) = [a, b, c].into_iter().find(|&i| word(i)) {
            let spec = match &toks[m] {
                Tok::Word(w) => name_spec(w).unwrap_or("%b"),
                _ => "%b",
            };
            // "3 Dec 2026", "Dec 3, 2026", "2026 Dec 3".
            let rest: Vec<usize> = [a, b, c].into_iter().filter(|&i| i != m).collect();
            let (y, d) = if num(rest[0]).is_some_and(|n| n.len() == 4) {
                (rest[0], rest[1])
            } else {
                (rest[1], rest[0])
            };
            orders.push([(m, spec), (d, "%d"), (y, year(y))]);
        } else if num(a).is_some_and(|n| n.len() == 4) {
            if value(b).is_some_and(|x| x > 12) {
                decided_by = Some(format!("{} is no month", value(b).unwrap_or(0)));
                orders.push([(a, "%Y"), (b, "%d"), (c, "%m")]);
            } else {
                orders.push([(a, "%Y"), (b, "%m"), (c, "%d")]);
            }
        } else {
            let (x, y) = (value(a).unwrap_or(0), value(b).unwrap_or(0));
            let day_first = [(a, "%d"), (b, "%m"), (c, year(c))];
            let month_first = [(a, "%m"), (b, "%d"), (c, year(c))];
            let dots = toks.get(a + 1) == Some(&Tok::Lit('.'));
            if x > 12 && y <= 12 {
                decided_by = Some(format!("{x} is no month"));
                orders.push(day_first);
            } else if y > 12 && x <= 12 {
                decided_by = Some(format!("{y} is no month"));
                orders.push(month_first);
            } else if dots {
                // Dotted dates are written day first wherever they are written.
                orders.push(day_first);
            } else {
                orders.push(month_first);
                orders.push(day_first);
            }
        }
    } else {
        return None;
    }

    let time_start = compact.or(date_at.last().copied())?;
    let build = |order: Option<&[(usize, &str); 3]>| -> String {
        let mut f = String::new();
        let mut time = 0;
        let mut i = 0;
        while i < toks.len() {
            let t = &toks[i];
            if let Some(o) = order
                && let Some((_, spec)) = o.iter().find(|(at, _)| *at == i)
            {
                f.push_str(spec);
            } else if Some(i) == compact {
                f.push_str("%Y%m%d");
            } else if i > time_start {
                match t {
                    // A fraction of a second: chrono's %.f takes the dot with it.
                    Tok::Lit('.') if time == 3 && matches!(toks.get(i + 1), Some(Tok::Num(_))) => {
                        f.push_str("%.f");
                        i += 2;
                        continue;
                    }
                    // An offset: +01:00 or +0100.
                    Tok::Lit('+' | '-') if time >= 2 => {
                        let colon = toks.get(i + 2) == Some(&Tok::Lit(':'));
                        f.push_str(if colon { "%:z" } else { "%z" });
                        i += if colon { 4 } else { 2 };
                        continue;
                    }
                    Tok::Num(_) => {
                        f.push_str(match time {
                            0 if pm => "%I",
                            0 => "%H",
                            1 => "%M",
                            _ => "%S",
                        });
                        time += 1;
                    }
                    Tok::Word(w)
                        if w.eq_ignore_ascii_case("am") || w.eq_ignore_ascii_case("pm") =>
                    {
                        f.push_str("%p")
                    }
                    Tok::Word(w) => f.push_str(name_spec(w).unwrap_or(w.as_str())),
                    Tok::Lit('%') => f.push_str("%%"),
                    Tok::Lit(c) => f.push(*c),
                }
            } else {
                match t {
                    Tok::Word(w) => f.push_str(name_spec(w).unwrap_or(w.as_str())),
                    Tok::Num(n) => f.push_str(n),
                    Tok::Lit('%') => f.push_str("%%"),
                    Tok::Lit(c) => f.push(*c),
                }
            }
            i += 1;
        }
        f
    };
    let formats: Vec<String> = if compact.is_some() {
        vec![build(None)]
    } else {
        orders.iter().map(|o| build(Some(o))).collect()
    };
    let formats: Vec<String> = formats.into_iter().filter(|f| reads(v, f)).collect();
    if formats.is_empty() {
        return None;
    }
    Some(Guess {
        formats,
        decided_by,
    })
}

/// The sentence to add to "… is not a date": which `--set date_format=…` reads it.
pub(crate) fn hint(v: &str) -> Option<String> {
    let g = guess(v)?;
    let set = |f: &str| {
        if f.contains(' ') {
            format!("--set 'date_format={f}'")
        } else {
            format!("--set date_format={f}")
        }
    };
    Some(match (g.formats.as_slice(), &g.decided_by) {
        ([one], Some(why)) => format!("it reads with {} ({why})", set(one)),
        ([one], None) => format!("it reads with {}", set(one)),
        ([first, second, ..], _) => format!(
            "it reads month first with {} or day first with {}: a date of the file with a part above 12 tells which",
            set(first),
            set(second)
        ),
        ([], _) => return None,
    })
}

/// `message` with the hint for `value` after it, when there is one.
pub(crate) fn with_hint(message: String, value: &str) -> String {
    match hint(value) {
        Some(h) => format!("{message}; {h}"),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (value, the formats offered, the likelier first)
    const CASES: &[(&str, &[&str])] = &[
        ("03.12.2026", &["%d.%m.%Y"]),
        ("03.12.2026 14:05", &["%d.%m.%Y %H:%M"]),
        ("12/03/2026 14:05", &["%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M"]),
        ("31/12/2026", &["%d/%m/%Y"]),
        ("12/31/2026 09:30:15", &["%m/%d/%Y %H:%M:%S"]),
        ("2026/12/03", &["%Y/%m/%d"]),
        ("2026.31.12", &["%Y.%d.%m"]),
        ("20261203", &["%Y%m%d"]),
        ("3 Dec 2026", &["%d %b %Y"]),
        ("Dec 3, 2026", &["%b %d, %Y"]),
        ("3 December 2026 7:05 PM", &["%d %B %Y %I:%M %p"]),
        ("12-03-26", &["%m-%d-%y", "%d-%m-%y"]),
        ("03.12.2026 14:05:09.250", &["%d.%m.%Y %H:%M:%S%.f"]),
        ("12/31/2026 14:05 +0100", &["%m/%d/%Y %H:%M %z"]),
    ];

    #[test]
    fn the_format_offered_reads_the_value_shown() {
        for (value, want) in CASES {
            let g = guess(value).unwrap_or_else(|| panic!("{value}: no guess"));
            assert_eq!(g.formats, *want, "{value}");
            for f in &g.formats {
                assert!(reads(value, f), "{value} with {f}");
            }
        }
    }

    #[test]
    fn a_part_above_12_decides_the_order_and_is_said() {
        assert_eq!(
            hint("31/12/2026").unwrap(),
            "it reads with --set date_format=%d/%m/%Y (31 is no month)"
        );
        let both = hint("12/03/2026 14:05").unwrap();
        assert!(
            both.contains("--set 'date_format=%m/%d/%Y %H:%M'"),
            "{both}"
        );
        assert!(
            both.contains("--set 'date_format=%d/%m/%Y %H:%M'"),
            "{both}"
        );
        assert!(both.contains("above 12"), "{both}");
    }

    #[test]
    fn what_is_no_date_gets_no_format() {
        for v in ["", "yesterday", "12", "32/13/2026", "hello world 3"] {
            assert_eq!(guess(v), None, "{v}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_day_written_day_first_with_dots_reads_back(
            y in 1970i32..2100, m in 1u32..=12, d in 1u32..=28, h in 0u32..24, min in 0u32..60
        ) {
            let v = format!("{d:02}.{m:02}.{y} {h:02}:{min:02}");
            let g = guess(&v).unwrap();
            let f = &g.formats[0];
            let back = NaiveDateTime::parse_from_str(&v, f).unwrap();
            proptest::prop_assert_eq!(back.format("%d.%m.%Y %H:%M").to_string(), v);
        }

        #[test]
        fn any_slashed_day_reads_back_in_one_of_the_formats_offered(
            y in 1970i32..2100, m in 1u32..=12, d in 1u32..=28
        ) {
            let v = format!("{m}/{d}/{y}");
            let g = guess(&v).unwrap();
            let ok = g.formats.iter().any(|f| {
                NaiveDate::parse_from_str(&v, f)
                    .is_ok_and(|n| n == NaiveDate::from_ymd_opt(y, m, d).unwrap())
            });
            proptest::prop_assert!(ok, "{} {:?}", v, g.formats);
        }
    }
}

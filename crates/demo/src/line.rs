//! Writing canonical JSON Lines by hand, into one reusable buffer.
//!
//! The generator must write millions of events a second, so it never builds a JSON tree or
//! a `String` per event: each line is appended field by field to a buffer that lives as long
//! as the generator. A person's lines are written in the order they are thought up and then
//! put in time order by sorting small spans, not the text itself.

use crate::time;

/// One written line: its moment and where it lies in the buffer.
#[derive(Clone, Copy)]
struct Span {
    at: i64,
    start: u32,
    end: u32,
}

/// The lines of one person, being written.
pub struct Lines {
    buf: Vec<u8>,
    spans: Vec<Span>,
    /// The person id, e.g. `P-000042`.
    person: String,
    /// Its digits, used inside event ids and references.
    digits_at: usize,
    open: Option<(i64, usize)>,
    /// `YYYY-MM-DD` of every day from `first_day` on: dates are looked up, not computed.
    dates: Vec<[u8; 10]>,
    first_day: i64,
}

impl Lines {
    /// Lines whose moments mostly fall on the days `first_day..last_day` (others work too,
    /// just slower).
    pub fn new(first_day: i64, last_day: i64) -> Lines {
        let dates = (first_day..last_day.max(first_day))
            .map(|d| {
                let mut b = Vec::with_capacity(10);
                time::push_date(&mut b, d);
                let mut a = [0u8; 10];
                a.copy_from_slice(&b[..10]);
                a
            })
            .collect();
        Lines {
            dates,
            first_day,
            buf: Vec::with_capacity(1 << 16),
            spans: Vec::with_capacity(256),
            person: String::with_capacity(16),
            digits_at: 0,
            open: None,
        }
    }

    /// Starts a new person, forgetting the previous one's lines.
    pub fn reset(&mut self, idx: u64, width: usize) {
        self.buf.clear();
        self.spans.clear();
        self.person.clear();
        self.person.push_str("P-");
        self.digits_at = self.person.len();
        push_padded(&mut self.person, idx, width);
        self.open = None;
    }

    /// Opens a line with the fields every event has. The id is `{prefix}-{digits}-{n}`.
    pub fn begin(&mut self, source: &str, prefix: &str, n: u32, kind: &str, at: i64) {
        debug_assert!(self.open.is_none(), "a line is already open");
        // Whole minutes, as business systems write them.
        let at = at - at.rem_euclid(60);
        let start = self.buf.len();
        self.open = Some((at, start));
        self.buf.extend_from_slice(b"{\"source\":\"");
        self.buf.extend_from_slice(source.as_bytes());
        self.buf.extend_from_slice(b"\",\"id\":\"");
        self.buf.extend_from_slice(prefix.as_bytes());
        self.buf.push(b'-');
        let d = self.digits_at;
        self.buf.extend_from_slice(&self.person.as_bytes()[d..]);
        self.buf.push(b'-');
        push_u64(&mut self.buf, u64::from(n));
        self.buf.extend_from_slice(b"\",\"kind\":\"");
        self.buf.extend_from_slice(kind.as_bytes());
        self.buf.extend_from_slice(b"\",\"person\":\"");
        self.buf.extend_from_slice(self.person.as_bytes());
        self.buf.extend_from_slice(b"\",\"at\":\"");
        self.push_date(at.div_euclid(time::DAY));
        time::push_clock(&mut self.buf, at);
        self.buf.push(b'"');
    }

    fn key(&mut self, key: &str) {
        self.buf.extend_from_slice(b",\"");
        self.buf.extend_from_slice(key.as_bytes());
        self.buf.extend_from_slice(b"\":");
    }

    /// A string field, escaped.
    pub fn str(&mut self, key: &str, value: &str) {
        self.key(key);
        self.buf.push(b'"');
        escape_into(&mut self.buf, value);
        self.buf.push(b'"');
    }

    /// A string field made of several pieces, each escaped.
    pub fn parts(&mut self, key: &str, pieces: &[&str]) {
        self.key(key);
        self.buf.push(b'"');
        for p in pieces {
            escape_into(&mut self.buf, p);
        }
        self.buf.push(b'"');
    }

    /// A reference to one of this person's things: `{prefix}{digits}-{n}`, e.g. `INV-000042-7`.
    pub fn reference(&mut self, key: &str, prefix: &str, n: u32) {
        self.key(key);
        self.buf.push(b'"');
        self.buf.extend_from_slice(prefix.as_bytes());
        let d = self.digits_at;
        self.buf.extend_from_slice(&self.person.as_bytes()[d..]);
        self.buf.push(b'-');
        push_u64(&mut self.buf, u64::from(n));
        self.buf.push(b'"');
    }

    /// Another person's id as a string field.
    pub fn person_ref(&mut self, key: &str, idx: u64, width: usize) {
        self.key(key);
        self.buf.extend_from_slice(b"\"P-");
        let mut s = String::with_capacity(12);
        push_padded(&mut s, idx, width);
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.push(b'"');
    }

    pub fn int(&mut self, key: &str, v: u64) {
        self.key(key);
        push_u64(&mut self.buf, v);
    }

    pub fn bool(&mut self, key: &str, v: bool) {
        self.key(key);
        self.buf
            .extend_from_slice(if v { b"true" } else { b"false" });
    }

    /// An amount given in minor units, written as a decimal string with `decimals` places.
    pub fn amount(&mut self, key: &str, minor: i64, decimals: u8) {
        self.key(key);
        self.buf.push(b'"');
        push_amount(&mut self.buf, minor, decimals);
        self.buf.push(b'"');
    }

    pub fn date(&mut self, key: &str, day: i64) {
        self.key(key);
        self.buf.push(b'"');
        self.push_date(day);
        self.buf.push(b'"');
    }

    fn push_date(&mut self, day: i64) {
        match usize::try_from(day - self.first_day)
            .ok()
            .and_then(|i| self.dates.get(i))
        {
            Some(d) => self.buf.extend_from_slice(d),
            None => time::push_date(&mut self.buf, day),
        }
    }

    /// Order lines: `[{"product":…,"qty":…,"unit_price":…}]`.
    pub fn order_lines(&mut self, lines: &[(&str, i64, i64)], decimals: u8) {
        self.key("lines");
        self.buf.push(b'[');
        for (i, (product, qty, unit)) in lines.iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            self.buf.extend_from_slice(b"{\"product\":\"");
            escape_into(&mut self.buf, product);
            self.buf.extend_from_slice(b"\",\"qty\":");
            if *qty < 0 {
                self.buf.push(b'-');
            }
            push_u64(&mut self.buf, qty.unsigned_abs());
            self.buf.extend_from_slice(b",\"unit_price\":\"");
            push_amount(&mut self.buf, *unit, decimals);
            self.buf.extend_from_slice(b"\"}");
        }
        self.buf.push(b']');
    }

    /// Closes the open line.
    pub fn end(&mut self) {
        if let Some((at, start)) = self.open.take() {
            self.buf.extend_from_slice(b"}\n");
            self.spans.push(Span {
                at,
                start: start as u32,
                end: self.buf.len() as u32,
            });
        }
    }

    /// Appends this person's lines to `out` in time order (ties keep writing order) and
    /// returns how many there were.
    pub fn drain_sorted(&mut self, out: &mut Vec<u8>) -> u64 {
        self.spans.sort_by_key(|s| (s.at, s.start));
        for s in &self.spans {
            out.extend_from_slice(&self.buf[s.start as usize..s.end as usize]);
        }
        self.spans.len() as u64
    }

    #[cfg(test)]
    fn person(&self) -> &str {
        &self.person
    }

    #[cfg(test)]
    fn digits_for_test(&self) -> &str {
        &self.person[self.digits_at..]
    }
}

/// The decimal digits of `v`, right-aligned in a buffer: `(buffer, first digit's index)`.
fn digits(mut v: u64) -> ([u8; 20], usize) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return (tmp, i);
        }
    }
}

/// Writes `v` with at least `width` digits, zero-padded.
pub fn push_padded(s: &mut String, v: u64, width: usize) {
    let (tmp, i) = digits(v);
    for _ in (tmp.len() - i)..width {
        s.push('0');
    }
    for &b in &tmp[i..] {
        s.push(char::from(b));
    }
}

pub fn push_u64(buf: &mut Vec<u8>, v: u64) {
    let (tmp, i) = digits(v);
    buf.extend_from_slice(&tmp[i..]);
}

/// `minor` units of a currency with `decimals` places, e.g. 5594 with 2 → `55.94`.
pub fn push_amount(buf: &mut Vec<u8>, minor: i64, decimals: u8) {
    if minor < 0 {
        buf.push(b'-');
    }
    let v = minor.unsigned_abs();
    let scale = 10u64.pow(u32::from(decimals));
    push_u64(buf, v / scale);
    if decimals > 0 {
        buf.push(b'.');
        let frac = v % scale;
        let mut div = scale / 10;
        while div > 0 {
            buf.push(b'0' + ((frac / div) % 10) as u8);
            div /= 10;
        }
    }
}

/// JSON string escaping: quotes, backslashes and control characters; everything else as is.
pub fn escape_into(buf: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    if bytes.iter().all(|&b| b >= 0x20 && b != b'"' && b != b'\\') {
        buf.extend_from_slice(bytes);
        return;
    }
    let mut from = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        buf.extend_from_slice(&bytes[from..i]);
        if esc.is_empty() {
            buf.extend_from_slice(b"\\u00");
            const HEX: &[u8; 16] = b"0123456789abcdef";
            buf.push(HEX[usize::from(b >> 4)]);
            buf.push(HEX[usize::from(b & 15)]);
        } else {
            buf.extend_from_slice(esc);
        }
        from = i + 1;
    }
    buf.extend_from_slice(&bytes[from..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_written_with_exactly_the_currency_decimals() {
        let mut b = Vec::new();
        push_amount(&mut b, 5594, 2);
        b.push(b' ');
        push_amount(&mut b, 5, 2);
        b.push(b' ');
        push_amount(&mut b, 1200, 0);
        b.push(b' ');
        push_amount(&mut b, -650, 2);
        assert_eq!(String::from_utf8(b).unwrap(), "55.94 0.05 1200 -6.50");
    }

    #[test]
    fn strings_are_escaped_so_the_line_stays_valid_json() {
        let mut b = Vec::new();
        escape_into(&mut b, "a\"b\\c\nd\u{1}é<");
        let s = String::from_utf8(b).unwrap();
        assert_eq!(s, "a\\\"b\\\\c\\nd\\u0001é<");
        let back: String = serde_json::from_str(&format!("\"{s}\"")).unwrap();
        assert_eq!(back, "a\"b\\c\nd\u{1}é<");
    }

    #[test]
    fn person_ids_are_zero_padded_so_they_sort() {
        let mut l = Lines::new(0, 10);
        l.reset(42, 6);
        assert_eq!(l.person(), "P-000042");
        assert_eq!(l.digits_for_test(), "000042");
    }
}

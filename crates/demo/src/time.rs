//! Calendar arithmetic for writing moments and days, without a date library.
//!
//! The generator writes a timestamp on every line; converting seconds to a civil date with a
//! few integer operations (Howard Hinnant's algorithm) keeps that off the profile entirely.

pub const DAY: i64 = 86_400;
pub const HOUR: i64 = 3_600;

/// Year, month and day of the day `days` after 1970-01-01.
pub fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn push2(buf: &mut Vec<u8>, v: u32) {
    buf.push(b'0' + (v / 10) as u8);
    buf.push(b'0' + (v % 10) as u8);
}

/// Writes `YYYY-MM-DD`.
pub fn push_date(buf: &mut Vec<u8>, days: i64) {
    let (y, m, d) = civil(days);
    let y = y.clamp(0, 9999) as u32;
    push2(buf, y / 100);
    push2(buf, y % 100);
    buf.push(b'-');
    push2(buf, m);
    buf.push(b'-');
    push2(buf, d);
}

/// Writes `YYYY-MM-DDTHH:MM:SSZ` for seconds since the epoch.
#[cfg(test)]
pub fn push_moment(buf: &mut Vec<u8>, secs: i64) {
    push_date(buf, secs.div_euclid(DAY));
    push_clock(buf, secs);
}

/// Writes `THH:MM:SSZ`, the time-of-day part of a moment.
pub fn push_clock(buf: &mut Vec<u8>, secs: i64) {
    let s = secs.rem_euclid(DAY) as u32;
    buf.push(b'T');
    push2(buf, s / 3600);
    buf.push(b':');
    push2(buf, s / 60 % 60);
    buf.push(b':');
    push2(buf, s % 60);
    buf.push(b'Z');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moment(secs: i64) -> String {
        let mut b = Vec::new();
        push_moment(&mut b, secs);
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn moments_are_written_as_rfc3339_utc_and_agree_with_the_domain() {
        for secs in [0, 951_782_400, 1_709_251_199, 1_741_079_700, 4_102_444_800] {
            let expected = domain::Timestamp::from_unix(secs).to_rfc3339();
            assert_eq!(moment(secs), expected);
        }
        assert_eq!(moment(1_741_079_700), "2025-03-04T09:15:00Z");
    }
}

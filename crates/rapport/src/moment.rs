//! Parsing `--as-of` and similar flags: a day means the end of that day.

use anyhow::bail;
use domain::{Day, Timestamp};

/// `YYYY-MM-DD` (the last second of that day, UTC) or an RFC 3339 moment; `None` is now.
pub fn as_of(flag: Option<&str>) -> anyhow::Result<Timestamp> {
    let Some(text) = flag else {
        return Ok(Timestamp::now());
    };
    if let Ok(day) = Day::parse(text) {
        return Ok(day.end());
    }
    match Timestamp::parse(text) {
        Ok(t) => Ok(t),
        Err(_) => bail!(
            "--as-of {text:?} is neither a day (2024-03-31) nor an RFC 3339 moment (2024-03-31T12:00:00Z)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_means_the_end_of_that_day() {
        let t = as_of(Some("2024-03-31")).unwrap();
        assert_eq!(t.to_rfc3339(), "2024-03-31T23:59:59Z");
        assert!(as_of(Some("2024-02-30")).is_err());
        assert_eq!(
            as_of(Some("2024-03-31T12:00:00Z")).unwrap().to_rfc3339(),
            "2024-03-31T12:00:00Z"
        );
    }
}

//! Time codes shared by everything that writes or prints a pinion time: unix seconds ↔
//! RFC 3339 UTC (`2026-11-20T00:00:00Z`). The DB header and file upload times are unix
//! seconds (`data-format.md`); the lock, `dbgen inspect` and `--created-at`/`--exclude-newer`
//! use the text form. One calendar implementation, so the DB, the lock, the crawler and dbgen's
//! output agree on every date.

/// `YYYY-MM-DDTHH:MM:SSZ` for unix seconds (UTC), without a date library.
pub fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Parses `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS[Z]` (UTC) to unix seconds.
pub fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim().trim_end_matches('Z');
    let (date, time) = s.split_once(['T', ' ']).unwrap_or((s, "00:00:00"));
    let mut d = date.split('-').map(|x| x.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    // Years bounded so the day arithmetic cannot overflow; the round trip through the civil
    // calendar refuses days a month does not have (2024-02-31 would otherwise be March 2).
    if d.next().is_some()
        || !(1..=9999).contains(&y)
        || civil_from_days(days_from_civil(y, m, day)) != (y, m, day)
    {
        return None;
    }
    let mut t = time.split(':').map(|x| x.parse::<i64>().ok());
    let (hh, mm, ss) = (
        t.next()??,
        t.next().unwrap_or(Some(0))?,
        t.next().unwrap_or(Some(0))?,
    );
    if t.next().is_some() || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    Some(days_from_civil(y, m, day) * 86_400 + hh * 3600 + mm * 60 + ss)
}

// Howard Hinnant's civil calendar algorithms.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses unix seconds, or a UTC date-time `YYYY-MM-DD[THH:MM:SS]` ending in `Z` or `+00:00`.
pub fn parse_time(s: &str) -> Option<i64> {
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    parse_date(s.strip_suffix("+00:00").unwrap_or(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_763_596_800), "2025-11-20T00:00:00Z");
        assert_eq!(parse_time("2025-11-20T00:00:00Z"), Some(1_763_596_800));
        assert_eq!(parse_time("1763596800"), Some(1_763_596_800));
        assert_eq!(parse_time("2025-13-20T00:00:00Z"), None);
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(parse_date("2023-11-14T22:13:20Z"), Some(1_700_000_000));
        assert_eq!(parse_date("2024-02-29"), Some(1_709_164_800));
        assert_eq!(parse_date("2024-13-01"), None);
        assert_eq!(parse_date("yesterday"), None);
        assert_eq!(parse_date("2024-02-31"), None, "not March 2");
        assert_eq!(parse_date("2023-02-29"), None, "not a leap year");
        assert_eq!(parse_date("2024-04-31"), None);
        assert_eq!(parse_date("2024-00-10"), None);
        assert_eq!(parse_date("9223372036854775807-01-01"), None, "no overflow");
        assert_eq!(parse_date("2000-02-29"), Some(951_782_400));
    }

    proptest::proptest! {
        #[test]
        fn round_trip(secs in -10_000_000_000i64..10_000_000_000) {
            proptest::prop_assert_eq!(parse_time(&rfc3339(secs)), Some(secs));
        }
    }
}

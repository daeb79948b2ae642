//! `--created-at` and the times `inspect` prints: unix seconds ↔ RFC 3339 UTC
//! (`2026-11-20T00:00:00Z`). The calendar arithmetic is the resolver's (`resolver::lock`),
//! so the DB, the lock and dbgen's output agree on every date.

pub use resolver::lock::rfc3339;

/// Parses unix seconds, or a UTC date-time `YYYY-MM-DD[THH:MM:SS]` ending in `Z` or `+00:00`.
pub fn parse_time(s: &str) -> Option<i64> {
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    resolver::lock::parse_date(s.strip_suffix("+00:00").unwrap_or(s))
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
    }

    proptest::proptest! {
        #[test]
        fn round_trip(secs in -10_000_000_000i64..10_000_000_000) {
            proptest::prop_assert_eq!(parse_time(&rfc3339(secs)), Some(secs));
        }
    }
}

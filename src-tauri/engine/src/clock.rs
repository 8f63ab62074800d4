//! Wall-clock time as Hookscope stores and shows it: integer microseconds in the database (sortable,
//! compact) and RFC 3339 with milliseconds at every boundary a person or a script reads.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Microseconds since the Unix epoch, now.
pub fn now_micros() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000) as i64
}

/// `2026-11-22T12:00:00.123Z`: the form Graph and JavaScript's `Date` both read, always three
/// fractional digits so lists line up and the text sorts as the time does.
pub fn rfc3339_millis(micros: i64) -> String {
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    at.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .unwrap_or_default()
}

/// Any RFC 3339 instant Graph or a person writes (`Z` or an offset, 0–7 fractional digits), as microseconds.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let at = OffsetDateTime::parse(text.trim(), &Rfc3339).ok()?;
    Some((at.unix_timestamp_nanos() / 1_000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_millisecond_precision() {
        assert_eq!(
            rfc3339_millis(1_700_000_000_123_456),
            "2023-11-14T22:13:20.123Z"
        );
        assert_eq!(
            rfc3339_millis(1_700_000_000_000_000),
            "2023-11-14T22:13:20.000Z"
        );
        assert_eq!(
            rfc3339_millis(1_700_000_000_960_000),
            "2023-11-14T22:13:20.960Z",
            "trailing zeros kept"
        );
    }

    #[test]
    fn reads_graph_expiry_forms_back() {
        let at = 1_700_000_000_123_000;
        assert_eq!(parse_rfc3339(&rfc3339_millis(at)), Some(at));
        assert_eq!(parse_rfc3339("2023-11-14T22:13:20.1230000Z"), Some(at));
        assert_eq!(parse_rfc3339("2023-11-14T23:13:20.123+01:00"), Some(at));
        assert_eq!(parse_rfc3339("tomorrow"), None);
    }
}

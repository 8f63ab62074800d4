//! The simulator's clock and Graph's ways of writing time. The clock can be moved forward on request, so
//! a test or a curious user can watch a subscription expire without waiting days.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::OffsetDateTime;

#[derive(Debug, Default)]
pub struct SimClock {
    offset_micros: AtomicI64,
}

impl SimClock {
    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
            + time::Duration::microseconds(self.offset_micros.load(Ordering::Relaxed))
    }

    pub fn advance(&self, by: Duration) {
        self.offset_micros
            .fetch_add(by.as_micros() as i64, Ordering::Relaxed);
    }
}

/// `2016-11-20T18:23:45.9356913Z`: Graph echoes expirations with seven fractional digits.
pub fn graph_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    at.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]Z"
    ))
    .unwrap_or_default()
}

/// Any ISO-8601 / RFC 3339 instant (`Z` or an offset, 0–7 fractional digits).
pub fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text.trim(), &Rfc3339).ok()
}

/// `innerError.date`: `2024-12-13T13:58:15`.
pub fn graph_date() -> String {
    OffsetDateTime::now_utc()
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]"
        ))
        .unwrap_or_default()
}

/// Entra's `timestamp`: `2024-12-13 13:58:15Z`.
pub fn aad_timestamp() -> String {
    OffsetDateTime::now_utc()
        .format(format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]Z"
        ))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_seven_digits_and_reads_offsets() {
        let at = parse_time("2021-12-31T16:16:44.9907405+05:30").unwrap();
        assert_eq!(graph_time(at), "2021-12-31T10:46:44.9907405Z");
        assert!(parse_time("2019-08-02T07:58:15+00:00").is_some());
        assert!(parse_time("tomorrow").is_none());
    }
}

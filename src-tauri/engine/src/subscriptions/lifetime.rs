//! How long a subscription should live: `max` (the resource's ceiling) or a duration a person types
//! (`90m`, `2h`, `3d`), turned into the expiry Graph is sent. Kept apart so the form, `subscribe` and
//! the keeper all pick the same expiry for the same request.

use crate::catalog::ResourceKind;

/// Graph's floor: an expiry less than 45 minutes ahead is refused for most resources, so a shorter one
/// is only useful against the simulator's fast time; Graph will say so in its own words.
const DEFAULT_UNKNOWN_MAX_MINUTES: u32 = 4230;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// The longest the resource allows, less a margin for the clocks between here and Graph.
    Max,
    Seconds(u64),
}

impl Lifetime {
    /// `max`, or a number with a unit: `s`, `m`, `h`, `d` (`45m`, `2h`, `3d`; a bare number is minutes).
    pub fn parse(text: &str) -> Result<Lifetime, String> {
        let text = text.trim().to_ascii_lowercase();
        if text == "max" || text.is_empty() {
            return Ok(Lifetime::Max);
        }
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let invalid = || {
            format!("'{text}' is not a lifetime; use max or a number with s, m, h or d, like 45m or 3d.")
        };
        let number: u64 = number.parse().map_err(|_| invalid())?;
        let seconds = match unit.trim() {
            "s" | "sec" | "secs" | "second" | "seconds" => number,
            "" | "m" | "min" | "mins" | "minute" | "minutes" => number * 60,
            "h" | "hour" | "hours" => number * 3_600,
            "d" | "day" | "days" => number * 86_400,
            _ => return Err(invalid()),
        };
        if seconds == 0 {
            return Err(
                "A lifetime of zero would expire at once; use max or a positive duration.".into(),
            );
        }
        Ok(Lifetime::Seconds(seconds))
    }
}

/// The longest a subscription on `kind` may live, in minutes (resources outside the catalog get the
/// most common ceiling, and Graph corrects us if it is wrong).
pub fn max_minutes(kind: Option<&ResourceKind>, rich: bool) -> u32 {
    match kind {
        Some(kind) if rich => kind
            .rich_max_lifetime_minutes
            .unwrap_or(kind.max_lifetime_minutes),
        Some(kind) => kind.max_lifetime_minutes,
        None => DEFAULT_UNKNOWN_MAX_MINUTES,
    }
}

/// The expiry to send Graph for a lifetime starting at `now_micros`, in Graph's RFC 3339 form.
pub fn expiry_for(
    lifetime: Lifetime,
    kind: Option<&ResourceKind>,
    rich: bool,
    now_micros: i64,
) -> anyhow::Result<String> {
    let max_seconds = u64::from(max_minutes(kind, rich)) * 60;
    let seconds = match lifetime {
        // Graph measures the ceiling on its own clock: a minute (or 1% of long lifetimes) of margin
        // keeps a skewed laptop clock from turning `max` into a refusal.
        Lifetime::Max => max_seconds - (max_seconds / 100).max(60).min(max_seconds / 2),
        Lifetime::Seconds(seconds) if seconds > max_seconds => anyhow::bail!(
            "{} subscriptions live at most {} ({} minutes); ask for less or use max.",
            kind.map_or("These", |k| k.name),
            describe(max_seconds),
            max_seconds / 60
        ),
        Lifetime::Seconds(seconds) => seconds,
    };
    Ok(crate::clock::rfc3339_millis(
        now_micros + seconds as i64 * 1_000_000,
    ))
}

/// `3d 22h 30m`, the way lists and errors show a span.
pub fn describe(seconds: u64) -> String {
    let (days, hours, minutes) = (seconds / 86_400, seconds / 3_600 % 24, seconds / 60 % 60);
    let parts: Vec<String> = [(days, "d"), (hours, "h"), (minutes, "m")]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect();
    if parts.is_empty() {
        format!("{seconds}s")
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_people_type() {
        assert_eq!(Lifetime::parse("max"), Ok(Lifetime::Max));
        assert_eq!(Lifetime::parse("90s"), Ok(Lifetime::Seconds(90)));
        assert_eq!(Lifetime::parse("45"), Ok(Lifetime::Seconds(2_700)));
        assert_eq!(Lifetime::parse("2h"), Ok(Lifetime::Seconds(7_200)));
        assert_eq!(Lifetime::parse("3 days"), Ok(Lifetime::Seconds(259_200)));
        assert!(Lifetime::parse("soon").unwrap_err().contains("45m"));
        assert!(Lifetime::parse("0m").is_err());
    }

    #[test]
    fn max_keeps_a_margin_and_longer_is_refused() {
        let message = crate::catalog::classify("me/messages").unwrap();
        let now = 1_700_000_000_000_000;
        let expiry = expiry_for(Lifetime::Max, Some(message), false, now).unwrap();
        let seconds = (crate::clock::parse_rfc3339(&expiry).unwrap() - now) / 1_000_000;
        let max = i64::from(message.max_lifetime_minutes) * 60;
        assert!(
            seconds < max && seconds >= max - max / 100,
            "{seconds} of {max}"
        );
        let error = expiry_for(
            Lifetime::Seconds(max as u64 + 60),
            Some(message),
            false,
            now,
        )
        .unwrap_err();
        assert!(error.to_string().contains("at most"), "{error}");
        assert_eq!(describe(5_400), "1h 30m");
    }
}

//! When a subscription is due: renewal at a third of the lifetime Graph granted, measured from the
//! expiry Graph returned (never from what was asked), whatever the lifetime, even a minute.

use crate::subscriptions::Lifetime;

/// The moment to renew (microseconds): when a third of the granted lifetime is left.
pub fn renew_at(granted_micros: i64, expiry_micros: i64) -> i64 {
    if granted_micros <= 0 || granted_micros >= expiry_micros {
        // Unknown start: assume the renewal is overdue only in the final minute.
        return expiry_micros - 60_000_000;
    }
    expiry_micros - (expiry_micros - granted_micros) / 3
}

/// The lifetime to ask for again: the one Graph granted last time, so a user who chose two hours keeps
/// two hours, `max` stays the maximum, and a one-minute test lifetime stays a minute.
pub fn lifetime_again(granted_micros: i64, expiry_micros: i64) -> Lifetime {
    if granted_micros <= 0 || granted_micros >= expiry_micros {
        return Lifetime::Max;
    }
    // Rounded, not truncated: the grant is recorded a few milliseconds after Graph set the expiry, and
    // truncating would shave a second off a short lifetime at every renewal.
    let seconds = ((expiry_micros - granted_micros + 500_000) / 1_000_000).max(1) as u64;
    Lifetime::Seconds(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000_000;

    #[test]
    fn renews_with_a_third_left_for_any_lifetime() {
        assert_eq!(renew_at(0, 0) + MINUTE, 0);
        assert_eq!(renew_at(1, 3 * MINUTE + 1), 2 * MINUTE + 1);
        let three_days = 3 * 24 * 60 * MINUTE;
        assert_eq!(
            renew_at(MINUTE, MINUTE + three_days),
            MINUTE + 2 * three_days / 3
        );
    }

    #[test]
    fn asks_for_the_lifetime_it_was_granted() {
        assert_eq!(
            lifetime_again(MINUTE, 91 * MINUTE),
            Lifetime::Seconds(90 * 60)
        );
        assert_eq!(
            lifetime_again(MINUTE, MINUTE + 9_000_000),
            Lifetime::Seconds(9)
        );
        assert_eq!(lifetime_again(0, MINUTE), Lifetime::Max);
    }
}

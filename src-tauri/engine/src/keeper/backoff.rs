//! How long to leave a subscription alone after a failed attempt: Graph's Retry-After on 429, doubling
//! waits on 5xx and unreachable hosts, an hour after a refusal a person must fix. It is what keeps a
//! broken tenant or a throttled app from becoming a storm of calls.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::graph::GraphApiError;

const FIRST: Duration = Duration::from_secs(2);
const LONGEST: Duration = Duration::from_secs(300);
/// A refusal (403, 400) will not fix itself; look again now and then in case someone fixed it.
const AFTER_REFUSAL: Duration = Duration::from_secs(3600);

#[derive(Default)]
pub struct Backoff {
    waits: HashMap<String, (Instant, u32)>,
}

/// What a failure means for the subscription.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// Try again after this long; the subscription stays active.
    Transient(Duration),
    /// A person must act (permission, bad request): the subscription is marked failed.
    Refused,
}

impl Backoff {
    /// Whether the subscription may be touched now.
    pub fn ready(&self, id: &str, now: Instant) -> bool {
        self.waits.get(id).is_none_or(|(until, _)| now >= *until)
    }

    /// The earliest moment a waiting subscription becomes ready again.
    pub fn next_ready(&self) -> Option<Instant> {
        self.waits.values().map(|(until, _)| *until).min()
    }

    pub fn succeeded(&mut self, id: &str) {
        self.waits.remove(id);
    }

    /// Records a failure and says how to treat it.
    pub fn failed(&mut self, id: &str, error: &GraphApiError, now: Instant) -> Failure {
        let failures = self.waits.get(id).map_or(0, |(_, n)| *n) + 1;
        let (wait, failure) = match error.status {
            429 => {
                let wait = Duration::from_secs(error.retry_after.unwrap_or(30));
                (wait, Failure::Transient(wait))
            }
            0 | 401 | 408 | 500..=599 => {
                let wait = FIRST
                    .saturating_mul(1 << (failures - 1).min(10))
                    .min(LONGEST);
                (wait, Failure::Transient(wait))
            }
            _ => (AFTER_REFUSAL, Failure::Refused),
        };
        self.waits.insert(id.to_string(), (now + wait, failures));
        failure
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(status: u16, retry_after: Option<u64>) -> GraphApiError {
        GraphApiError {
            status,
            code: String::new(),
            message: String::new(),
            retry_after,
        }
    }

    #[test]
    fn honours_retry_after_and_doubles_on_server_errors() {
        let now = Instant::now();
        let mut backoff = Backoff::default();
        let throttled = backoff.failed("a", &error(429, Some(7)), now);
        assert_eq!(throttled, Failure::Transient(Duration::from_secs(7)));
        assert!(!backoff.ready("a", now + Duration::from_secs(6)));
        assert!(backoff.ready("a", now + Duration::from_secs(7)));
        assert!(backoff.ready("b", now));
        let waits: Vec<Failure> = (0..4)
            .map(|_| backoff.failed("c", &error(503, None), now))
            .collect();
        let secs: Vec<u64> = waits
            .iter()
            .map(|w| match w {
                Failure::Transient(d) => d.as_secs(),
                Failure::Refused => 0,
            })
            .collect();
        assert_eq!(secs, [2, 4, 8, 16]);
        assert_eq!(
            backoff.failed("d", &error(403, None), now),
            Failure::Refused
        );
        backoff.succeeded("c");
        assert!(backoff.ready("c", now));
    }
}

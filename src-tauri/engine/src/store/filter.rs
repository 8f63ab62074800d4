//! What the live feed and `hookscope notifications` narrow a list to: a subscription, a change type, a
//! verdict, a time range and free text (searched in the item as delivered, its decrypted content and the
//! reason it was refused). One type for the UI and the store, so a filter means the same thing live and
//! in a page read from SQLite; the UI's `matches` mirrors it for rows arriving through the feed.

use serde::{Deserialize, Serialize};
use sqlx::{QueryBuilder, Sqlite};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum VerdictFilter {
    Accepted,
    Rejected,
    Duplicate,
    Decrypted,
    TokensInvalid,
    Lifecycle,
    Replayed,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(rename_all = "camelCase")]
pub struct NotificationFilter {
    #[ts(optional)]
    pub subscription_id: Option<String>,
    /// `created`, `updated` or `deleted`.
    #[ts(optional)]
    pub change_type: Option<String>,
    #[ts(optional)]
    pub verdict: Option<VerdictFilter>,
    /// Case-insensitive, anywhere in the item, its decrypted content or the refusal's reason.
    #[ts(optional)]
    pub text: Option<String>,
    /// RFC 3339; received at or after.
    #[ts(optional)]
    pub since: Option<String>,
    /// RFC 3339; received before.
    #[ts(optional)]
    pub until: Option<String>,
}

impl NotificationFilter {
    /// Refuses a time bound that is not RFC 3339: ignored, it would silently narrow nothing.
    pub fn check(&self) -> anyhow::Result<()> {
        for (bound, value) in [("since", &self.since), ("until", &self.until)] {
            if let Some(value) = value {
                if crate::clock::parse_rfc3339(value).is_none() {
                    anyhow::bail!(
                        "The filter's {bound} {value:?} is not a time; give it as RFC 3339, like 2026-12-01T09:00:00Z."
                    );
                }
            }
        }
        Ok(())
    }

    /// Appends this filter's conditions (each starting with " AND ") to a query over `notifications`.
    pub(crate) fn push_sql(&self, query: &mut QueryBuilder<'_, Sqlite>) {
        if let Some(subscription) = &self.subscription_id {
            query
                .push(" AND subscription_id = ")
                .push_bind(subscription.clone());
        }
        if let Some(change) = &self.change_type {
            query.push(" AND change_type = ").push_bind(change.clone());
        }
        if let Some(verdict) = self.verdict {
            query.push(match verdict {
                VerdictFilter::Accepted => " AND verdict = 'accepted'",
                VerdictFilter::Rejected => " AND verdict = 'rejected'",
                VerdictFilter::Duplicate => " AND duplicate = 1",
                VerdictFilter::Decrypted => " AND decrypted IS NOT NULL",
                VerdictFilter::TokensInvalid => " AND tokens_valid = 0",
                VerdictFilter::Lifecycle => " AND lifecycle_event IS NOT NULL",
                VerdictFilter::Replayed => {
                    " AND EXISTS (SELECT 1 FROM requests r WHERE r.id = notifications.request_id \
                     AND r.replay_of IS NOT NULL)"
                }
            });
        }
        if let Some(since) = self.since.as_deref().and_then(crate::clock::parse_rfc3339) {
            query.push(" AND received_at >= ").push_bind(since);
        }
        if let Some(until) = self.until.as_deref().and_then(crate::clock::parse_rfc3339) {
            query.push(" AND received_at < ").push_bind(until);
        }
        if let Some(text) = self
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            // SQLite's lower() folds ASCII letters only; the needle is folded the same way (and so is
            // the UI's live match) so a search means one thing everywhere.
            let needle = text.to_ascii_lowercase();
            query
                .push(" AND (instr(lower(coalesce(decrypted, '')), ")
                .push_bind(needle.clone())
                .push(") > 0 OR instr(lower(coalesce(reason, '')), ")
                .push_bind(needle.clone())
                .push(") > 0 OR instr(lower(coalesce(lifecycle_event, '')), ")
                .push_bind(needle.clone())
                .push(") > 0 OR EXISTS (SELECT 1 FROM requests r WHERE r.id = notifications.request_id \
                       AND instr(lower(CAST(substr(r.body, notifications.item_offset + 1, \
                       notifications.item_length) AS TEXT)), ")
                .push_bind(needle)
                .push(") > 0))");
        }
    }
}

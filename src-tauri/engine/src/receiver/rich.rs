//! The rich layer of the verdicts: a batch that carries `validationTokens` or encrypted items, or names a
//! rich subscription (whose change notifications must carry tokens), has its tokens checked first, and
//! only when every token checks out is each item's HMAC verified and its content decrypted (reference
//! §6.3, §7). A failing token rejects the whole batch, a failing item only itself, each with the reason
//! and still 202: Graph retries anything else, and the delivery is kept for the inspector either way.

use std::collections::HashSet;
use std::sync::Arc;

use super::batch::{Item, Tokens};
use super::verdicts::Snapshot;
use crate::model::Verdict;
use crate::rich::{
    tokens::Claims, EncryptedContent, EncryptionKey, Expectations, Keychain, TokenChecker,
    TokenFailure,
};
use crate::store::NotificationRow;

/// What Graph's `validationTokens: null` means (docs/graph.md §6.1), said where the user looks.
const TOKENS_NULL: &str = "Graph sent validationTokens: null, so it could not encrypt resource data for this app: in Entra, give the \"Microsoft Graph Change Tracking\" service principal (appId 0bf30f3b-4a52-48df-9a82-234910c4a086) an app role or set appRoleAssignmentRequired to false on your app, creating that service principal first in an old tenant.";
const TOKENS_ABSENT: &str = "The item carries encrypted content but the batch has no validationTokens, so nothing proves it comes from Graph; it was not decrypted.";
/// Graph sends tokens with every batch in which an item has resource data (docs/graph.md §7):
/// a rich subscription's created or updated item without them is what a forger sends who cannot make
/// them, whatever else it carries. A `deleted` item has no resource left to carry, so Graph's batch of
/// deletions alone comes without tokens, and its clientState is its proof.
const TOKENS_MISSING_FOR_RICH: &str = "The item's subscription includes resource data, but the batch has no validationTokens, so nothing proves it comes from Graph.";

pub struct RichChecks {
    pub keychain: Arc<Keychain>,
    pub tokens: TokenChecker,
}

/// Whether a batch needs the rich checks: it carries tokens (even `null`) or encrypted items, or any
/// item's subscription is rich, whose items must then carry tokens.
pub fn applies(tokens: &Tokens, items: &[Item<'_>], snapshot: &Snapshot) -> bool {
    *tokens != Tokens::Absent
        || items.iter().any(|item| {
            item.encrypted_content().is_some() || snapshot.is_rich(item.subscription_id())
        })
}

/// A change notification of deletions only (Graph may list several types comma-separated).
fn only_deleted(row: &NotificationRow) -> bool {
    row.change_type.as_deref().is_some_and(|types| {
        types
            .split(',')
            .all(|t| t.trim().eq_ignore_ascii_case("deleted"))
    })
}

impl RichChecks {
    pub fn new(keychain: Arc<Keychain>) -> RichChecks {
        RichChecks {
            keychain,
            tokens: TokenChecker::new(),
        }
    }

    /// Settles `tokensValid`, `decrypted` and the rich items' verdicts of a judged batch.
    pub async fn settle(
        &self,
        tokens: &Tokens,
        items: &[Item<'_>],
        snapshot: &Snapshot,
        rows: &mut [NotificationRow],
    ) {
        let is_rich = |i: usize| items[i].encrypted_content().is_some();
        let claims = match tokens {
            Tokens::Absent => {
                for (i, row) in rows.iter_mut().enumerate() {
                    if is_rich(i) {
                        reject(row, TOKENS_ABSENT.to_owned());
                    } else if snapshot.is_rich(row.subscription_id.as_deref())
                        // Lifecycle events carry no resource data, so Graph sends no tokens with them
                        // (docs/graph.md §5, §7); their clientState is their proof.
                        && row.lifecycle_event.is_none()
                        && !only_deleted(row)
                    {
                        reject(row, TOKENS_MISSING_FOR_RICH.to_owned());
                    }
                }
                return;
            }
            Tokens::Null => {
                for (i, row) in rows.iter_mut().enumerate() {
                    if is_rich(i) || snapshot.is_rich(row.subscription_id.as_deref()) {
                        reject(row, TOKENS_NULL.to_owned());
                    }
                }
                return;
            }
            Tokens::Present(tokens) => {
                let expect = expectations(items, snapshot);
                match self.tokens.check_all(tokens, &expect).await {
                    Ok(claims) => {
                        for row in rows.iter_mut() {
                            row.tokens_valid = Some(true);
                        }
                        claims
                    }
                    // docs/graph.md §7: one failing token makes the whole POST suspicious.
                    Err(TokenFailure::Invalid(why)) => {
                        for row in rows.iter_mut() {
                            row.tokens_valid = Some(false);
                            reject(
                                row,
                                format!("{why} Nothing in this batch is trusted or decrypted."),
                            );
                        }
                        return;
                    }
                    // Not a forgery, just not provable now: no verdict on the tokens, nothing trusted.
                    Err(TokenFailure::Unverifiable(why)) => {
                        for row in rows.iter_mut() {
                            reject(
                                row,
                                format!("{why} Nothing in this batch is trusted or decrypted."),
                            );
                        }
                        return;
                    }
                }
            }
        };
        let mut work: Vec<(usize, Arc<EncryptionKey>, EncryptedContent)> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let Some(text) = item.encrypted_content() else {
                continue;
            };
            if rows[i].verdict != Verdict::Accepted {
                continue; // a forged or misaddressed item is not worth an RSA operation
            }
            if let Some(why) = uncovered(&rows[i], snapshot, &claims) {
                reject(&mut rows[i], why);
                continue;
            }
            let content: EncryptedContent = match serde_json::from_str(text) {
                Ok(content) => content,
                Err(error) => {
                    reject(
                        &mut rows[i],
                        format!("Wrong shape: \"encryptedContent\" ({error})."),
                    );
                    continue;
                }
            };
            match self
                .keychain
                .key_for(
                    &content.encryption_certificate_id,
                    &content.encryption_certificate_thumbprint,
                )
                .await
            {
                Ok(key) => work.push((i, key, content)),
                Err(why) => reject(&mut rows[i], why.to_string()),
            }
        }
        if work.is_empty() {
            return;
        }
        // RSA unwrapping costs a few hundred microseconds an item: off the async workers.
        let positions: Vec<usize> = work.iter().map(|(i, _, _)| *i).collect();
        let decrypted = match tokio::task::spawn_blocking(move || {
            work.into_iter()
                .map(|(i, key, content)| (i, decrypt(&key, &content)))
                .collect::<Vec<_>>()
        })
        .await
        {
            Ok(decrypted) => decrypted,
            Err(error) => {
                tracing::error!(%error, "the decryption task failed");
                let why = "Hookscope failed while decrypting this item, so it is not trusted; the delivery is kept for the inspector.";
                positions
                    .into_iter()
                    .map(|i| (i, Err(why.to_owned())))
                    .collect()
            }
        };
        for (i, result) in decrypted {
            match result {
                Ok(json) => rows[i].decrypted = Some(json),
                Err(why) => reject(&mut rows[i], why),
            }
        }
    }
}

fn decrypt(key: &EncryptionKey, content: &EncryptedContent) -> Result<String, String> {
    let plaintext = crate::rich::decrypt_with(content, key).map_err(|e| e.to_string())?;
    let text = String::from_utf8(plaintext).map_err(|_| {
        "The decrypted content is not UTF-8 text, so it is not Graph's JSON.".to_string()
    })?;
    serde_json::from_str::<serde::de::IgnoredAny>(&text).map_err(|_| {
        "The decrypted content is not JSON, so it is not Graph's resource data.".to_string()
    })?;
    Ok(text)
}

fn reject(row: &mut NotificationRow, why: String) {
    if row.verdict == Verdict::Accepted {
        row.verdict = Verdict::Rejected;
        row.reason = Some(why);
    }
    row.decrypted = None;
}

/// The apps and tenants of every subscription held, and the authorities of those this batch names
/// (all held ones when it names none Hookscope knows).
fn expectations(items: &[Item<'_>], snapshot: &Snapshot) -> Expectations {
    let mut expect = Expectations::default();
    for known in snapshot.all() {
        expect.audiences.extend(known.application_id.clone());
        expect.tenants.extend(known.tenant_id.clone());
        if let (Some(authority), Some(app), Some(tenant)) =
            (&known.login_url, &known.application_id, &known.tenant_id)
        {
            expect
                .made_under
                .insert((authority.clone(), app.clone(), tenant.clone()));
        }
    }
    let named: HashSet<&str> = items.iter().filter_map(Item::subscription_id).collect();
    let mut authorities: Vec<String> = named
        .iter()
        .filter_map(|id| snapshot.get(id))
        .filter_map(|known| known.login_url.clone())
        .collect();
    if authorities.is_empty() {
        authorities = snapshot.all().filter_map(|k| k.login_url.clone()).collect();
    }
    authorities.sort();
    authorities.dedup();
    expect.authorities = authorities;
    expect
}

/// Graph sends one token per (app, tenant) of the rich items: an item whose pair no token vouches for
/// was slipped into someone else's batch.
fn uncovered(row: &NotificationRow, snapshot: &Snapshot, claims: &[Claims]) -> Option<String> {
    let known = snapshot.get(row.subscription_id.as_deref()?)?;
    let (Some(tenant), Some(app)) = (&known.tenant_id, &known.application_id) else {
        return None;
    };
    let covered = claims
        .iter()
        .any(|c| &c.tenant_id == tenant && &c.audience == app);
    (!covered).then(|| format!("No validation token in the batch vouches for app {app} in tenant {tenant}, so this item's resource data is not trusted."))
}

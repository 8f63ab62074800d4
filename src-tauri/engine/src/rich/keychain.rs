//! The certificates Hookscope holds for rich notifications: generated or imported, one active for new
//! subscriptions, older ones kept (retired) while a subscription still names them. The public halves
//! live in the store; each private key is a secret (OS keyring, else an owner-only file), loaded once
//! per process and cached, so the receiver decrypts without touching the keyring per item. A keyring
//! read can block for as long as the Secret Service takes (a locked keyring, a slow daemon), so it runs
//! on tokio's blocking pool, never on a worker that other deliveries are waiting for.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use ts_rs::TS;

use super::certificate::{EncryptionKey, PublicCertificate};
use crate::clock::{now_micros, rfc3339_millis};
use crate::secrets::{Kept, Secrets};
use crate::store::{CertificateChange, CertificateRow, Store};

/// A certificate as the fronts list it (never the private key).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct CertificateInfo {
    /// Graph's `encryptionCertificateId`.
    pub id: String,
    /// Uppercase hex SHA-1 of the certificate, as Graph echoes it in each item.
    pub thumbprint: String,
    pub bits: u32,
    /// `generated` or `imported`.
    pub origin: String,
    pub created_at: String,
    /// Set once a rotation replaced it; still used to decrypt, never offered for new subscriptions.
    pub retired_at: Option<String>,
    /// The one new rich subscriptions get.
    pub active: bool,
}

/// Why a key could not be found for an item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyLookup {
    #[error("The item was encrypted for certificate id {0:?}, which Hookscope does not hold; it was made for another subscriber or its certificate was deleted.")]
    Unknown(String),
    #[error("The private key of certificate {0:?} is missing from the keyring; import the certificate again with its key.")]
    MissingKey(String),
    #[error("The item names certificate {id:?} with thumbprint {given}, but that certificate's thumbprint is {held}; it was not encrypted with Hookscope's certificate.")]
    Thumbprint {
        id: String,
        given: String,
        held: String,
    },
}

pub struct Keychain {
    store: Store,
    secrets: Secrets,
    loaded: Mutex<HashMap<String, Arc<EncryptionKey>>>,
    /// One key read from the keyring at a time: a burst of items for a key not yet cached waits for
    /// the first read instead of taking a blocking thread each.
    loading: tokio::sync::Mutex<()>,
}

/// How long Graph goes on retrying a delivery (docs/graph.md §4.3).
const RETRY_WINDOW_MICROS: i64 = 4 * 3600 * 1_000_000;

fn secret_name(id: &str) -> String {
    format!("certificate-key-{id}")
}

/// Ids become keyring accounts and file names: keep them to a safe alphabet, within Graph's 128.
fn check_id(id: &str) -> anyhow::Result<()> {
    let fine = !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !fine {
        anyhow::bail!("The certificate id {id:?} must be 1 to 128 letters, digits, '-', '_' or '.'; choose another with --id.");
    }
    Ok(())
}

fn new_id() -> String {
    let day = rfc3339_millis(now_micros());
    format!(
        "hookscope-{}-{}",
        &day[..10],
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

impl Keychain {
    pub fn new(store: Store, data_dir: &std::path::Path) -> Keychain {
        Keychain {
            store,
            secrets: Secrets::new(data_dir),
            loaded: Mutex::new(HashMap::new()),
            loading: tokio::sync::Mutex::new(()),
        }
    }

    pub async fn list(&self) -> anyhow::Result<Vec<CertificateInfo>> {
        let rows = self.store.certificates().await?;
        let active = active_id(&rows);
        Ok(rows
            .iter()
            .map(|row| CertificateInfo {
                id: row.id.clone(),
                thumbprint: row.thumbprint.clone(),
                bits: row.bits as u32,
                origin: row.origin.clone(),
                created_at: rfc3339_millis(row.created_at),
                retired_at: row.retired_at.map(rfc3339_millis),
                active: active.as_deref() == Some(row.id.as_str()),
            })
            .collect())
    }

    /// A new key and self-signed certificate that becomes the active one; older ones are retired.
    pub async fn generate(&self, bits: usize) -> anyhow::Result<(CertificateInfo, Kept)> {
        let id = new_id();
        let key = tokio::task::spawn_blocking(move || EncryptionKey::generate(id, bits)).await??;
        self.keep(key, "generated").await
    }

    /// Imports a PFX / PKCS#12 file (with its password) or PEM text holding a certificate and its key;
    /// it becomes the active certificate.
    pub async fn import(
        &self,
        id: Option<&str>,
        bytes: &[u8],
        password: Option<&str>,
    ) -> anyhow::Result<(CertificateInfo, Kept)> {
        let id = id.map(str::to_owned).unwrap_or_else(new_id);
        check_id(&id)?;
        let key = match std::str::from_utf8(bytes) {
            Ok(text) if text.contains("-----BEGIN") => EncryptionKey::from_pem(id, text)?,
            _ => EncryptionKey::from_pkcs12(id, bytes, password.unwrap_or_default())?,
        };
        self.keep(key, "imported").await
    }

    async fn keep(
        &self,
        key: EncryptionKey,
        origin: &str,
    ) -> anyhow::Result<(CertificateInfo, Kept)> {
        let id = key.certificate_id().to_owned();
        if self.store.certificates().await?.iter().any(|c| c.id == id) {
            anyhow::bail!("A certificate with id {id:?} is already held; import it under another --id or delete the old one first.");
        }
        let (secrets, name, pem) = (
            self.secrets.clone(),
            secret_name(&id),
            key.private_key_pem()?,
        );
        let kept = tokio::task::spawn_blocking(move || secrets.put(&name, &pem)).await??;
        let bits = key.public_certificate().bits() as i64;
        let row = CertificateRow {
            id: id.clone(),
            thumbprint: key.thumbprint(),
            certificate: key.certificate_der().to_vec(),
            bits,
            origin: origin.to_owned(),
            created_at: now_micros(),
            retired_at: None,
        };
        self.store
            .change_certificate(CertificateChange::Put(row))
            .await?;
        self.store
            .change_certificate(CertificateChange::RetireAllBut(id.clone()))
            .await?;
        self.loaded
            .lock()
            .expect("keychain lock")
            .insert(id.clone(), Arc::new(key));
        let info = self
            .list()
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| anyhow::anyhow!("The certificate {id} was not stored."))?;
        Ok((info, kept))
    }

    /// The certificate new rich subscriptions get, made on first use (RSA 2048) so `--rich` needs no
    /// preparation; the second value says where a new private key was kept.
    pub async fn active_or_generate(&self) -> anyhow::Result<(Arc<EncryptionKey>, Option<Kept>)> {
        if let Some(id) = active_id(&self.store.certificates().await?) {
            return Ok((self.key(&id).await?, None));
        }
        let (info, kept) = self.generate(2048).await?;
        Ok((self.key(&info.id).await?, Some(kept)))
    }

    /// The key for an id, from the cache or else the store and the keyring (another process, say the
    /// command line, may have made it since this one started).
    pub async fn key(&self, id: &str) -> Result<Arc<EncryptionKey>, KeyLookup> {
        if let Some(key) = self.cached(id) {
            return Ok(key);
        }
        let _loading = self.loading.lock().await;
        // Read by whoever held the lock before.
        if let Some(key) = self.cached(id) {
            return Ok(key);
        }
        let rows = self
            .store
            .certificates()
            .await
            .map_err(|_| KeyLookup::Unknown(id.to_owned()))?;
        let row = rows
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| KeyLookup::Unknown(id.to_owned()))?;
        let missing = || KeyLookup::MissingKey(id.to_owned());
        let (secrets, owned_id) = (self.secrets.clone(), id.to_owned());
        // The keyring read, and the key's parsing (milliseconds of RSA checks), off the async workers.
        let key = tokio::task::spawn_blocking(move || {
            let pem = secrets.get(&secret_name(&owned_id))?;
            let certificate = PublicCertificate::from_der(&row.certificate).ok()?;
            let private_key = rsa::pkcs8::DecodePrivateKey::from_pkcs8_pem(&pem).ok()?;
            EncryptionKey::assemble(owned_id, certificate.der, private_key).ok()
        })
        .await
        .ok()
        .flatten()
        .ok_or_else(missing)?;
        let key = Arc::new(key);
        self.loaded
            .lock()
            .expect("keychain lock")
            .insert(id.to_owned(), key.clone());
        Ok(key)
    }

    fn cached(&self, id: &str) -> Option<Arc<EncryptionKey>> {
        self.loaded.lock().expect("keychain lock").get(id).cloned()
    }

    /// The key for an item, checked against the thumbprint the item names. On a mismatch the key is
    /// read again once: another process may have pruned the id and imported a new key under it.
    pub async fn key_for(
        &self,
        id: &str,
        thumbprint: &str,
    ) -> Result<Arc<EncryptionKey>, KeyLookup> {
        let matches = |key: &EncryptionKey| {
            thumbprint.is_empty() || thumbprint.eq_ignore_ascii_case(&key.thumbprint())
        };
        let mut key = self.key(id).await?;
        if !matches(&key) {
            self.loaded.lock().expect("keychain lock").remove(id);
            key = self.key(id).await?;
        }
        let held = key.thumbprint();
        if !matches(&key) {
            return Err(KeyLookup::Thumbprint {
                id: id.to_owned(),
                given: thumbprint.to_owned(),
                held,
            });
        }
        Ok(key)
    }

    /// The public certificate as PEM, to hand to another tool.
    pub async fn export(&self, id: &str) -> anyhow::Result<String> {
        let rows = self.store.certificates().await?;
        let row = rows.iter().find(|c| c.id == id).ok_or_else(|| {
            anyhow::anyhow!(
                "No certificate {id} here; `hookscope certificates list` shows the ids."
            )
        })?;
        Ok(PublicCertificate::from_der(&row.certificate)?.to_pem())
    }

    /// Deletes the retired certificates no subscription still needs, with their private keys; returns
    /// their ids. A subscription needs its certificate while it is not removed, and for Graph's four
    /// hours of retries after (a removed subscription's deliveries may still be on their way).
    pub async fn prune(&self) -> anyhow::Result<Vec<String>> {
        self.prune_after(std::time::Duration::from_micros(RETRY_WINDOW_MICROS as u64))
            .await
    }

    /// `prune` with another grace period after a subscription's removal.
    pub async fn prune_after(&self, grace: std::time::Duration) -> anyhow::Result<Vec<String>> {
        let needed = self
            .store
            .certificates_in_use(now_micros() - grace.as_micros() as i64)
            .await?;
        let mut pruned = Vec::new();
        for row in self.store.certificates().await? {
            if row.retired_at.is_none() || needed.contains(&row.id) {
                continue;
            }
            self.store
                .change_certificate(CertificateChange::Delete(row.id.clone()))
                .await?;
            let (secrets, name) = (self.secrets.clone(), secret_name(&row.id));
            let _ = tokio::task::spawn_blocking(move || secrets.delete(&name)).await;
            self.loaded.lock().expect("keychain lock").remove(&row.id);
            pruned.push(row.id);
        }
        Ok(pruned)
    }
}

/// The newest certificate that is not retired.
fn active_id(rows: &[CertificateRow]) -> Option<String> {
    rows.iter()
        .filter(|c| c.retired_at.is_none())
        .max_by_key(|c| c.created_at)
        .map(|c| c.id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_kept_to_a_safe_alphabet() {
        assert!(check_id("custom-id-for-testing").is_ok());
        assert!(check_id(&new_id()).is_ok());
        for bad in ["", "../etc/passwd", "a b", &"x".repeat(129)] {
            assert!(check_id(bad).is_err(), "{bad:?}");
        }
    }
}

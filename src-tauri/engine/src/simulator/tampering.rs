//! Forged and damaged variants of a delivery, so a receiver's checks can be seen to catch each one:
//! a wrong clientState, a broken HMAC or ciphertext, an unknown certificate, and every way a
//! `validationTokens` JWT can be wrong.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use ts_rs::TS;

use crate::rich::EncryptedContent;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum Tamper {
    /// Every item carries a clientState that is not the subscription's.
    ClientState,
    /// `dataSignature` is not the HMAC of the ciphertext.
    Hmac,
    /// One ciphertext byte flipped after signing.
    Ciphertext,
    /// `encryptionCertificateId` names a certificate the subscriber never gave.
    CertificateId,
    /// Tokens for another application.
    Audience,
    /// Tokens that expired an hour ago.
    Expired,
    /// Tokens valid only from an hour from now.
    NotYetValid,
    /// Tokens not issued for Graph's change-tracking app (`appid` / `azp`).
    Publisher,
    /// Tokens whose issuer names another tenant than their `tid`.
    Issuer,
    /// Tokens from a tenant the subscriber holds no subscription in (`tid` and issuer agree).
    Tenant,
    /// Tokens signed under a `kid` the authority does not publish.
    UnknownKid,
    /// Tokens whose signature does not verify.
    Signature,
    /// Unsigned tokens (`alg: none`).
    AlgNone,
    /// `validationTokens: null`, as when the change-tracking service principal is missing.
    TokensNull,
}

impl Tamper {
    pub const ALL: [Tamper; 14] = [
        Tamper::ClientState,
        Tamper::Hmac,
        Tamper::Ciphertext,
        Tamper::CertificateId,
        Tamper::Audience,
        Tamper::Expired,
        Tamper::NotYetValid,
        Tamper::Publisher,
        Tamper::Issuer,
        Tamper::Tenant,
        Tamper::UnknownKid,
        Tamper::Signature,
        Tamper::AlgNone,
        Tamper::TokensNull,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Tamper::ClientState => "client-state",
            Tamper::Hmac => "hmac",
            Tamper::Ciphertext => "ciphertext",
            Tamper::CertificateId => "certificate-id",
            Tamper::Audience => "audience",
            Tamper::Expired => "expired",
            Tamper::NotYetValid => "not-yet-valid",
            Tamper::Publisher => "publisher",
            Tamper::Issuer => "issuer",
            Tamper::Tenant => "tenant",
            Tamper::UnknownKid => "unknown-kid",
            Tamper::Signature => "signature",
            Tamper::AlgNone => "alg-none",
            Tamper::TokensNull => "tokens-null",
        }
    }

    pub fn parse(text: &str) -> Option<Tamper> {
        Tamper::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// Damages an item's encrypted content, for the tampers that concern it.
    pub fn apply_to_content(self, content: &mut EncryptedContent) {
        match self {
            Tamper::Hmac => {
                let mut signature = STANDARD.decode(&content.data_signature).unwrap_or_default();
                if let Some(first) = signature.first_mut() {
                    *first ^= 0x01;
                }
                content.data_signature = STANDARD.encode(signature);
            }
            Tamper::Ciphertext => {
                let mut data = STANDARD.decode(&content.data).unwrap_or_default();
                if let Some(last) = data.last_mut() {
                    *last ^= 0x01;
                }
                content.data = STANDARD.encode(data);
            }
            Tamper::CertificateId => {
                content.encryption_certificate_id = "unknown-certificate-id".into();
            }
            _ => {}
        }
    }

    /// Changes the claims of a validation token, for the tampers that concern claims.
    pub fn apply_to_claims(self, claims: &mut Value, now: i64) {
        match self {
            Tamper::Audience => claims["aud"] = json!(uuid::Uuid::new_v4().to_string()),
            Tamper::Expired => {
                claims["iat"] = json!(now - 7_200);
                claims["nbf"] = json!(now - 7_200);
                claims["exp"] = json!(now - 3_600);
            }
            Tamper::NotYetValid => {
                claims["iat"] = json!(now + 3_600);
                claims["nbf"] = json!(now + 3_600);
                claims["exp"] = json!(now + 7_200);
            }
            Tamper::Publisher => {
                let other = json!(uuid::Uuid::new_v4().to_string());
                if claims.get("azp").is_some() {
                    claims["azp"] = other;
                } else {
                    claims["appid"] = other;
                }
            }
            Tamper::Issuer => {
                let other = uuid::Uuid::new_v4();
                let iss = claims["iss"].as_str().unwrap_or_default().to_string();
                let tid = claims["tid"].as_str().unwrap_or_default().to_string();
                claims["iss"] = json!(iss.replace(&tid, &other.to_string()));
            }
            Tamper::Tenant => {
                let other = uuid::Uuid::new_v4().to_string();
                let iss = claims["iss"].as_str().unwrap_or_default().to_string();
                let tid = claims["tid"].as_str().unwrap_or_default().to_string();
                claims["iss"] = json!(iss.replace(&tid, &other));
                claims["tid"] = json!(other);
            }
            _ => {}
        }
    }
}

/// A token whose signature no longer matches its content: one signature byte changed.
pub fn break_signature(token: &str) -> String {
    let Some((signed, signature)) = token.rsplit_once('.') else {
        return token.to_string();
    };
    let mut bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature)
        .unwrap_or_default();
    if let Some(first) = bytes.first_mut() {
        *first ^= 0x01;
    }
    format!(
        "{signed}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

//! Rich notifications from the simulator: certificate rules on create, items encrypted per §6.4 that the
//! receiver-side decryptor opens, one signed validation token per (app, tenant) in v1 and v2 form, and
//! each tampered variant actually broken in the way it claims.

use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hookscope_engine::rich::{self, EncryptedContent, EncryptionKey, RichError};
use hookscope_engine::simulator::{Tamper, TriggerSpec, CHANGE_TRACKING_APP_ID};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};

use crate::support::{subscription, Sim, TestReceiver};

/// One key for the whole file: RSA generation is the slow part.
fn key() -> &'static EncryptionKey {
    static KEY: OnceLock<EncryptionKey> = OnceLock::new();
    KEY.get_or_init(|| EncryptionKey::generate("test-cert-1", 2048).expect("key"))
}

fn rich_subscription(receiver: &TestReceiver) -> Value {
    let mut body = subscription("/teams/getAllMessages", "created,updated", receiver);
    body["includeResourceData"] = json!(true);
    body["encryptionCertificate"] = json!(key().certificate_base64());
    body["encryptionCertificateId"] = json!("test-cert-1");
    body
}

async fn rich_delivery(
    sim: &Sim,
    receiver: &TestReceiver,
    tamper: Option<Tamper>,
    version: Option<u8>,
) -> Value {
    let before = receiver.deliveries().len();
    sim.running
        .trigger(TriggerSpec {
            rich: true,
            tamper,
            token_version: version,
            ..TriggerSpec::default()
        })
        .await
        .expect("trigger");
    receiver.wait_for_deliveries(before + 1).await[before].json()
}

fn content(body: &Value) -> EncryptedContent {
    serde_json::from_value(body["value"][0]["encryptedContent"].clone()).expect("encryptedContent")
}

async fn jwks(sim: &Sim) -> Value {
    sim.http
        .get(sim.url("/common/discovery/v2.0/keys"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Checks a token's signature with the published key; None when it does not verify.
fn verified_claims(token: &str, keys: &Value) -> Option<Value> {
    let header = jsonwebtoken::decode_header(token).ok()?;
    let key = &keys["keys"][0];
    if header.kid.as_deref() != key["kid"].as_str() {
        return None;
    }
    let decoding = DecodingKey::from_rsa_components(key["n"].as_str()?, key["e"].as_str()?).ok()?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_aud = false;
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(token, &decoding, &validation)
        .ok()
        .map(|d| d.claims)
}

fn unverified_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn rich_subscriptions_need_a_usable_certificate() {
    let sim = Sim::start().await;
    let receiver = TestReceiver::start().await;
    let mut body = rich_subscription(&receiver);
    body.as_object_mut()
        .unwrap()
        .remove("encryptionCertificate");
    let (status, answer, _) = sim.create(&body).await;
    assert_eq!(status, 400);
    assert!(answer["error"]["message"]
        .as_str()
        .unwrap()
        .contains("encryptionCertificate is missing"));

    let mut body = rich_subscription(&receiver);
    body["encryptionCertificate"] = json!("bm90IGEgY2VydGlmaWNhdGU=");
    let (status, _, _) = sim.create(&body).await;
    assert_eq!(status, 400);

    let mut body = rich_subscription(&receiver);
    body.as_object_mut()
        .unwrap()
        .remove("encryptionCertificateId");
    let (status, _, _) = sim.create(&body).await;
    assert_eq!(status, 400);

    let (status, created, _) = sim.create(&rich_subscription(&receiver)).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["includeResourceData"], true);
    assert_eq!(created["encryptionCertificateId"], "test-cert-1");
}

#[tokio::test]
async fn rich_items_decrypt_and_carry_verifiable_v1_tokens() {
    let sim = Sim::start().await;
    let receiver = TestReceiver::start().await;
    sim.create(&rich_subscription(&receiver)).await;
    let body = rich_delivery(&sim, &receiver, None, None).await;
    let encrypted = content(&body);
    assert_eq!(encrypted.encryption_certificate_id, "test-cert-1");
    assert_eq!(
        encrypted.encryption_certificate_thumbprint,
        key().thumbprint()
    );
    assert_eq!(
        STANDARD.decode(&encrypted.data_key).unwrap().len(),
        256,
        "RSA-2048 wrapped key"
    );
    let plaintext = rich::decrypt(&encrypted, key().private_key()).expect("decrypts");
    let resource: Value = serde_json::from_slice(&plaintext).unwrap();
    assert_eq!(resource["id"], body["value"][0]["resourceData"]["id"]);
    assert_eq!(resource["body"]["contentType"], "text");
    assert!(resource["@odata.context"].is_string());

    let tokens = body["validationTokens"].as_array().expect("tokens");
    assert_eq!(tokens.len(), 1, "one token per (app, tenant)");
    let claims = verified_claims(tokens[0].as_str().unwrap(), &jwks(&sim).await)
        .expect("signature verifies");
    let app = &sim.running.options().app;
    assert_eq!(claims["aud"], app.client_id);
    assert_eq!(claims["tid"], app.tenant_id);
    assert_eq!(
        claims["iss"],
        format!("https://sts.windows.net/{}/", app.tenant_id)
    );
    assert_eq!(claims["appid"], CHANGE_TRACKING_APP_ID);
    assert_eq!(claims["ver"], "1.0");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!(claims["nbf"].as_i64().unwrap() <= now && claims["exp"].as_i64().unwrap() > now);
}

#[tokio::test]
async fn v2_tokens_name_the_publisher_in_azp() {
    let sim = Sim::start().await;
    let receiver = TestReceiver::start().await;
    sim.create(&rich_subscription(&receiver)).await;
    let body = rich_delivery(&sim, &receiver, None, Some(2)).await;
    let token = body["validationTokens"][0].as_str().unwrap();
    let claims = verified_claims(token, &jwks(&sim).await).expect("verifies");
    let tenant = &sim.running.options().app.tenant_id;
    assert_eq!(claims["iss"], sim.url(&format!("/{tenant}/v2.0")));
    assert_eq!(claims["azp"], CHANGE_TRACKING_APP_ID);
    assert!(claims.get("appid").is_none());
    assert_eq!(claims["ver"], "2.0");
}

#[tokio::test]
async fn each_tamper_breaks_exactly_what_it_names() {
    let sim = Sim::start().await;
    let receiver = TestReceiver::start().await;
    sim.create(&rich_subscription(&receiver)).await;
    let keys = jwks(&sim).await;
    let app = sim.running.options().app.clone();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for tamper in Tamper::ALL {
        let body = rich_delivery(&sim, &receiver, Some(tamper), None).await;
        let item = &body["value"][0];
        let encrypted = content(&body);
        let token = body["validationTokens"][0].as_str().unwrap_or("");
        match tamper {
            Tamper::ClientState => assert_ne!(item["clientState"], "secret-state-1"),
            Tamper::Hmac | Tamper::Ciphertext => assert_eq!(
                rich::decrypt(&encrypted, key().private_key()),
                Err(RichError::SignatureMismatch),
                "{tamper:?}"
            ),
            Tamper::CertificateId => assert_ne!(encrypted.encryption_certificate_id, "test-cert-1"),
            Tamper::Audience => {
                assert_ne!(verified_claims(token, &keys).unwrap()["aud"], app.client_id)
            }
            Tamper::Expired => assert!(
                verified_claims(token, &keys).unwrap()["exp"]
                    .as_i64()
                    .unwrap()
                    < now
            ),
            Tamper::NotYetValid => assert!(
                verified_claims(token, &keys).unwrap()["nbf"]
                    .as_i64()
                    .unwrap()
                    > now
            ),
            Tamper::Publisher => assert_ne!(
                verified_claims(token, &keys).unwrap()["appid"],
                CHANGE_TRACKING_APP_ID
            ),
            Tamper::Issuer => assert_ne!(
                verified_claims(token, &keys).unwrap()["iss"],
                format!("https://sts.windows.net/{}/", app.tenant_id)
            ),
            Tamper::Tenant => {
                let claims = verified_claims(token, &keys).unwrap();
                assert_ne!(claims["tid"], app.tenant_id);
                assert_eq!(
                    claims["iss"],
                    format!(
                        "https://sts.windows.net/{}/",
                        claims["tid"].as_str().unwrap()
                    ),
                    "issuer and tenant agree: only the tenant is foreign"
                );
            }
            Tamper::UnknownKid => {
                let header = jsonwebtoken::decode_header(token).unwrap();
                assert_ne!(header.kid.as_deref(), keys["keys"][0]["kid"].as_str());
                assert!(
                    verified_claims(token, &keys).is_none(),
                    "no published key names it"
                );
            }
            Tamper::Signature => {
                assert!(
                    verified_claims(token, &keys).is_none(),
                    "signature must not verify"
                );
                assert_eq!(
                    unverified_claims(token)["aud"],
                    app.client_id,
                    "claims untouched"
                );
            }
            Tamper::AlgNone => {
                let header: Value = serde_json::from_slice(
                    &base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .decode(token.split('.').next().unwrap())
                        .unwrap(),
                )
                .unwrap();
                assert_eq!(header["alg"], "none");
                assert!(token.ends_with('.'));
            }
            Tamper::TokensNull => assert!(
                body["validationTokens"].is_null() && body.get("validationTokens").is_some()
            ),
        }
        // Untampered parts stay valid, so each variant isolates one fault.
        if !matches!(tamper, Tamper::Hmac | Tamper::Ciphertext) {
            assert!(
                rich::decrypt(&encrypted, key().private_key()).is_ok(),
                "{tamper:?} keeps the content intact"
            );
        }
    }
}

//! The `validationTokens` of a rich batch: each JWT checked the way docs/graph.md §7 says, and more strictly
//! than Microsoft's samples: RS256 only, a key Entra publishes under the sign-in authority (cached, and
//! fetched again on an unknown `kid` at most once a minute), lifetime with a small skew, the app as
//! audience, the issuer of a tenant Hookscope holds subscriptions in, and Graph's change-tracking app as
//! the publisher. Each failure is one sentence saying which check failed.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::Mutex;

/// The app id of "Microsoft Graph Change Tracking", the publisher of every validation token.
pub const CHANGE_TRACKING_APP_ID: &str = "0bf30f3b-4a52-48df-9a82-234910c4a086";

/// Clocks differ; Entra's own libraries allow five minutes.
const SKEW_SECONDS: i64 = 300;
/// An unknown `kid`, or a failed fetch, fetches the keys again at most this often, so forged kids or
/// an unreachable authority cannot make every delivery wait on the network.
const REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// Metadata and keys together, well inside Graph's 3 s to acknowledge a delivery.
const FETCH_TIMEOUT: Duration = Duration::from_millis(1500);

/// Whom the tokens must be for: the apps and tenants of the subscriptions Hookscope holds, and the
/// sign-in authorities those subscriptions were made under.
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    pub audiences: HashSet<String>,
    pub tenants: HashSet<String>,
    /// Login URLs such as `https://login.microsoftonline.com`, without a trailing slash.
    pub authorities: Vec<String>,
    /// (authority, app, tenant) of each subscription held: a key of one authority (say, the
    /// simulator's) never vouches for an app and tenant made under another (a real tenant).
    pub made_under: HashSet<(String, String, String)>,
}

/// Why the batch's tokens are not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenFailure {
    /// A token failed a check: the batch is not from Graph (or was altered).
    Invalid(String),
    /// The tokens could not be checked (the authority's keys are out of reach): unknown, not forged.
    Unverifiable(String),
}

impl TokenFailure {
    pub fn sentence(&self) -> &str {
        match self {
            TokenFailure::Invalid(why) | TokenFailure::Unverifiable(why) => why,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Claims {
    pub tenant_id: String,
    pub audience: String,
}

/// One authority's published keys, and when they were last asked for (successfully or not).
struct Keys {
    by_kid: HashMap<String, DecodingKey>,
    attempted: Instant,
    /// Why the last attempt failed, while no keys were ever fetched.
    failure: Option<String>,
}

pub struct TokenChecker {
    http: reqwest::Client,
    keys: Mutex<HashMap<String, Keys>>,
}

impl Default for TokenChecker {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Deserialize)]
struct Header {
    alg: Option<String>,
    kid: Option<String>,
}

#[derive(Deserialize)]
struct Metadata {
    jwks_uri: String,
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kid: Option<String>,
    kty: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

impl TokenChecker {
    pub fn new() -> TokenChecker {
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .no_proxy()
            .build()
            .expect("a plain reqwest client builds");
        TokenChecker {
            http,
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// Checks every token; the first failure names the token (1-based) and the check.
    pub async fn check_all(
        &self,
        tokens: &[String],
        expect: &Expectations,
    ) -> Result<Vec<Claims>, TokenFailure> {
        if tokens.is_empty() {
            return Err(TokenFailure::Invalid("The batch's validationTokens list is empty, so nothing proves it comes from Graph.".into()));
        }
        let mut claims = Vec::with_capacity(tokens.len());
        for (n, token) in tokens.iter().enumerate() {
            let name =
                |why: String| format!("Validation token {} of {}: {why}", n + 1, tokens.len());
            let checked = self
                .check(token, expect)
                .await
                .map_err(|failure| match failure {
                    TokenFailure::Invalid(why) => TokenFailure::Invalid(name(why)),
                    TokenFailure::Unverifiable(why) => TokenFailure::Unverifiable(name(why)),
                })?;
            claims.push(checked);
        }
        Ok(claims)
    }

    async fn check(&self, token: &str, expect: &Expectations) -> Result<Claims, TokenFailure> {
        let invalid = TokenFailure::Invalid;
        let header = read_header(token).map_err(invalid)?;
        match header.alg.as_deref() {
            Some("RS256") => {}
            Some(alg) => {
                return Err(invalid(format!(
                    "it is signed with {alg:?}, but Graph signs with RS256; it is forged."
                )))
            }
            None => {
                return Err(invalid(
                    "its header names no algorithm; it is forged.".into(),
                ))
            }
        }
        let kid = header.kid.ok_or_else(|| {
            invalid("its header names no signing key (kid); it is forged.".into())
        })?;
        if expect.authorities.is_empty() {
            return Err(invalid("no subscription in the batch says which sign-in authority to trust; create rich subscriptions with Hookscope.".into()));
        }
        let (authority, key) = self.find_key(&kid, &expect.authorities).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        // Lifetime, audience and issuer are checked below, each with its own sentence.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
            .map_err(|error| match error.kind() {
                jsonwebtoken::errors::ErrorKind::InvalidSignature => {
                    format!("its signature does not verify with {authority}'s key {kid}; it is forged or altered.")
                }
                _ => format!("it cannot be read as a signed JWT ({error})."),
            })
            .map_err(invalid)?
            .claims;
        let checked = check_claims(&claims, expect, &authority).map_err(invalid)?;
        let made = (
            authority.clone(),
            checked.audience.clone(),
            checked.tenant_id.clone(),
        );
        if !expect.made_under.contains(&made) {
            return Err(invalid(format!(
                "it is signed by {authority}, but Hookscope made no subscription for app {} in tenant {} there; a key of one authority does not vouch for another's tenants.",
                checked.audience, checked.tenant_id
            )));
        }
        Ok(checked)
    }

    /// The key for `kid` from any of the authorities, fetching each one's keys when not cached, and
    /// again when the kid is unknown or the last attempt failed, at most once a minute either way.
    async fn find_key(
        &self,
        kid: &str,
        authorities: &[String],
    ) -> Result<(String, DecodingKey), TokenFailure> {
        let mut cache = self.keys.lock().await;
        let mut unreachable = None;
        for authority in authorities {
            let due = cache.get(authority).is_none_or(|keys| {
                !keys.by_kid.contains_key(kid) && keys.attempted.elapsed() >= REFETCH_INTERVAL
            });
            if due {
                let fetched = tokio::time::timeout(FETCH_TIMEOUT, self.fetch(authority))
                    .await
                    .unwrap_or_else(|_| {
                        Err(format!("no answer within {} ms", FETCH_TIMEOUT.as_millis()))
                    });
                match fetched {
                    Ok(by_kid) => {
                        cache.insert(
                            authority.clone(),
                            Keys {
                                by_kid,
                                attempted: Instant::now(),
                                failure: None,
                            },
                        );
                    }
                    Err(why) => {
                        tracing::warn!(%why, %authority, "could not fetch the signing keys");
                        let entry = cache.entry(authority.clone()).or_insert_with(|| Keys {
                            by_kid: HashMap::new(),
                            attempted: Instant::now(),
                            failure: None,
                        });
                        entry.attempted = Instant::now();
                        if entry.by_kid.is_empty() {
                            entry.failure = Some(why);
                        }
                    }
                }
            }
            let Some(keys) = cache.get(authority) else {
                continue;
            };
            if let Some(key) = keys.by_kid.get(kid) {
                return Ok((authority.clone(), key.clone()));
            }
            if let (true, Some(why)) = (keys.by_kid.is_empty(), &keys.failure) {
                unreachable = Some(format!(
                    "Entra's signing keys could not be fetched from {authority} ({why}); check the network and the login URL. The tokens are unverified, not proven forged; Hookscope tries again within a minute."
                ));
            }
        }
        Err(match unreachable {
            Some(why) => TokenFailure::Unverifiable(why),
            None => TokenFailure::Invalid(format!(
                "it is signed with key {kid:?}, which {} does not publish; it is forged or signed by another authority.",
                authorities.join(" or ")
            )),
        })
    }

    async fn fetch(&self, authority: &str) -> Result<HashMap<String, DecodingKey>, String> {
        let metadata_url = format!("{authority}/common/v2.0/.well-known/openid-configuration");
        let metadata: Metadata = self
            .get_json(&metadata_url)
            .await
            .map_err(|e| format!("{metadata_url}: {e}"))?;
        let jwks: Jwks = self
            .get_json(&metadata.jwks_uri)
            .await
            .map_err(|e| format!("{}: {e}", metadata.jwks_uri))?;
        let by_kid = jwks
            .keys
            .into_iter()
            .filter(|k| k.kty.as_deref() == Some("RSA"))
            .filter_map(|k| {
                let key =
                    DecodingKey::from_rsa_components(k.n.as_deref()?, k.e.as_deref()?).ok()?;
                Some((k.kid?, key))
            })
            .collect();
        Ok(by_kid)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        let response = self.http.get(url).send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status().as_u16()));
        }
        response.json::<T>().await.map_err(|e| e.to_string())
    }
}

fn read_header(token: &str) -> Result<Header, String> {
    let segments: Vec<&str> = token.split('.').collect();
    if segments.len() != 3 {
        return Err("it is not a JWT (three dot-separated parts).".into());
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(segments[0].trim_end_matches('='))
        .map_err(|_| "its header is not base64url.".to_string())?;
    serde_json::from_slice(&bytes).map_err(|_| "its header is not a JSON object.".to_string())
}

fn check_claims(claims: &Value, expect: &Expectations, authority: &str) -> Result<Claims, String> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let number = |name: &str| claims.get(name).and_then(Value::as_i64);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let at = |seconds: i64| {
        time::OffsetDateTime::from_unix_timestamp(seconds)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_else(|| seconds.to_string())
    };
    let exp = number("exp").ok_or("it carries no expiry (exp).")?;
    if exp + SKEW_SECONDS < now {
        return Err(format!(
            "it expired at {}; it is stale or replayed.",
            at(exp)
        ));
    }
    if let Some(nbf) = number("nbf") {
        if nbf - SKEW_SECONDS > now {
            return Err(format!(
                "it is not valid before {}; check this machine's clock.",
                at(nbf)
            ));
        }
    }
    let audience = match claims.get("aud") {
        Some(Value::String(aud)) => aud.clone(),
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .find(|aud| expect.audiences.contains(*aud))
            .or_else(|| list.first().and_then(Value::as_str))
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    };
    if !expect.audiences.contains(&audience) {
        let mut expected: Vec<&str> = expect.audiences.iter().map(String::as_str).collect();
        expected.sort_unstable();
        return Err(format!(
            "it is for app {audience:?}, not for the app that made these subscriptions ({}).",
            expected.join(", ")
        ));
    }
    let tenant = text("tid").ok_or("it names no tenant (tid).")?;
    if !expect.tenants.contains(tenant) {
        return Err(format!(
            "it comes from tenant {tenant}, where Hookscope holds no subscription."
        ));
    }
    let version = text("ver").unwrap_or("1.0");
    let issuer = text("iss").unwrap_or_default();
    let (expected_issuer, publisher_claim) = if version == "2.0" {
        (format!("{authority}/{tenant}/v2.0"), "azp")
    } else {
        (format!("https://sts.windows.net/{tenant}/"), "appid")
    };
    if issuer != expected_issuer {
        return Err(format!(
            "its issuer is {issuer:?}, not Entra's {expected_issuer:?} for tenant {tenant}."
        ));
    }
    let publisher = text(publisher_claim).unwrap_or_default();
    if publisher != CHANGE_TRACKING_APP_ID {
        return Err(format!(
            "its {publisher_claim} is {publisher:?}, not Microsoft Graph Change Tracking ({CHANGE_TRACKING_APP_ID}); it was not issued for Graph's notifications."
        ));
    }
    Ok(Claims {
        tenant_id: tenant.to_owned(),
        audience,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn expect() -> Expectations {
        Expectations {
            audiences: ["app".to_string()].into(),
            tenants: ["tid".to_string()].into(),
            authorities: vec!["https://login.test".into()],
            made_under: [("https://login.test".into(), "app".into(), "tid".into())].into(),
        }
    }

    fn signed_looking(kid: &str) -> String {
        let header = URL_SAFE_NO_PAD.encode(json!({"alg": "RS256", "kid": kid}).to_string());
        format!("{header}.{}.sig", URL_SAFE_NO_PAD.encode("{}"))
    }

    #[test]
    fn an_unreachable_authority_leaves_tokens_unverified_and_is_not_asked_again_for_a_minute() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let authority = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        let mut expect = expect();
        expect.authorities = vec![authority];
        let checker = TokenChecker::new();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let first = runtime
            .block_on(checker.check(&signed_looking("k1"), &expect))
            .unwrap_err();
        assert!(matches!(first, TokenFailure::Unverifiable(_)), "{first:?}");
        assert!(first.sentence().contains("not proven forged"), "{first:?}");
        let attempted = |checker: &TokenChecker| {
            runtime.block_on(async {
                checker
                    .keys
                    .lock()
                    .await
                    .values()
                    .next()
                    .map(|k| k.attempted)
            })
        };
        let before = attempted(&checker).expect("the failed attempt is remembered");
        let again = runtime
            .block_on(checker.check(&signed_looking("k2"), &expect))
            .unwrap_err();
        assert!(matches!(again, TokenFailure::Unverifiable(_)), "{again:?}");
        assert_eq!(
            attempted(&checker),
            Some(before),
            "no second fetch within the minute"
        );
    }

    fn good(version: &str) -> Value {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut claims =
            json!({ "aud": "app", "tid": "tid", "exp": now + 60, "nbf": now - 60, "ver": version });
        if version == "2.0" {
            claims["iss"] = json!("https://login.test/tid/v2.0");
            claims["azp"] = json!(CHANGE_TRACKING_APP_ID);
        } else {
            claims["iss"] = json!("https://sts.windows.net/tid/");
            claims["appid"] = json!(CHANGE_TRACKING_APP_ID);
        }
        claims
    }

    #[test]
    fn each_claim_is_checked_with_its_own_sentence() {
        let authority = "https://login.test";
        for version in ["1.0", "2.0"] {
            assert!(check_claims(&good(version), &expect(), authority).is_ok());
            let mut wrong_publisher = good(version);
            let claim = if version == "2.0" { "azp" } else { "appid" };
            wrong_publisher[claim] = json!("someone-else");
            let why = check_claims(&wrong_publisher, &expect(), authority).unwrap_err();
            assert!(
                why.contains(claim) && why.contains("Change Tracking"),
                "{why}"
            );
        }
        let mut expired = good("1.0");
        expired["exp"] = json!(1_000);
        assert!(check_claims(&expired, &expect(), authority)
            .unwrap_err()
            .contains("expired"));
        // Within the skew is fine, past it is not.
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut early = good("1.0");
        early["nbf"] = json!(now + 60);
        assert!(check_claims(&early, &expect(), authority).is_ok());
        early["nbf"] = json!(now + 3_600);
        assert!(check_claims(&early, &expect(), authority)
            .unwrap_err()
            .contains("not valid before"));
        let mut audience = good("2.0");
        audience["aud"] = json!("other-app");
        assert!(check_claims(&audience, &expect(), authority)
            .unwrap_err()
            .contains("not for the app"));
        let mut tenant = good("1.0");
        tenant["tid"] = json!("other");
        tenant["iss"] = json!("https://sts.windows.net/other/");
        assert!(check_claims(&tenant, &expect(), authority)
            .unwrap_err()
            .contains("no subscription"));
        let mut issuer = good("2.0");
        issuer["iss"] = json!("https://evil.test/tid/v2.0");
        assert!(check_claims(&issuer, &expect(), authority)
            .unwrap_err()
            .contains("issuer"));
    }

    #[test]
    fn headers_other_than_rs256_are_refused_before_any_key_is_fetched() {
        let header = |value: Value| URL_SAFE_NO_PAD.encode(value.to_string());
        let none = format!("{}.{}.", header(json!({"alg": "none"})), header(json!({})));
        assert_eq!(read_header(&none).unwrap().alg.as_deref(), Some("none"));
        assert!(read_header("not-a-jwt").is_err());
        let checker = TokenChecker::new();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        for alg in ["none", "HS256"] {
            let token = format!(
                "{}.{}.sig",
                header(json!({"alg": alg, "kid": "k"})),
                header(json!({}))
            );
            let failure = runtime
                .block_on(checker.check(&token, &expect()))
                .unwrap_err();
            assert!(matches!(failure, TokenFailure::Invalid(_)), "{failure:?}");
            let why = failure.sentence();
            assert!(why.contains(alg) && why.contains("RS256"), "{why}");
        }
    }
}

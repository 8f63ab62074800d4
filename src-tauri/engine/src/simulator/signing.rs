//! The simulator's own Entra signing key: it signs the access tokens it issues and the
//! `validationTokens` of rich notifications, and publishes its public half as a JWKS so a receiver
//! checks those tokens exactly as it would check Microsoft's.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwk: Value,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish()
    }
}

impl SigningKey {
    pub fn generate() -> anyhow::Result<SigningKey> {
        let key = RsaPrivateKey::new(&mut rand::thread_rng(), 2048)
            .map_err(|e| anyhow::anyhow!("Cannot generate the simulator's signing key: {e}."))?;
        let pem = key
            .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
            .map_err(|e| anyhow::anyhow!("Cannot encode the simulator's signing key: {e}."))?;
        let encoding = EncodingKey::from_rsa_pem(pem.as_bytes())?;
        let n = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
        let decoding = DecodingKey::from_rsa_components(&n, &e)?;
        // Entra's kids are opaque; a digest of the modulus keeps ours stable for the key's life.
        let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(key.n().to_bytes_be())[..15]);
        let jwk = json!({ "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": e });
        Ok(SigningKey {
            kid,
            encoding,
            decoding,
            jwk,
        })
    }

    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.jwk] })
    }

    /// An RS256 JWT carrying these claims, with this key's `kid` in its header.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_as(claims, &self.kid)
    }

    /// Signed by this key but naming another `kid`: one the JWKS does not list.
    pub fn sign_as(&self, claims: &Value, kid: &str) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_owned());
        header.typ = Some("JWT".into());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .expect("RS256 signing of a JSON object with an RSA key cannot fail")
    }

    /// The same claims with `alg: none` and no signature: a forgery a careless receiver accepts.
    pub fn unsigned(&self, claims: &Value) -> String {
        let header = json!({ "typ": "JWT", "alg": "none", "kid": self.kid });
        format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        )
    }

    /// The claims of a token this key signed; lifetimes are checked by the caller against the simulated clock.
    pub fn verify(&self, token: &str) -> Option<Value> {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        jsonwebtoken::decode::<Value>(token, &self.decoding, &validation)
            .ok()
            .map(|data| data.claims)
    }
}

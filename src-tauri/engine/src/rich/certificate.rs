//! The certificates of rich notifications: generating a key with its self-signed certificate (what
//! Microsoft's samples send users to OpenSSL for), opening a PFX or PEM, and reading a certificate the
//! way Graph does: base64 DER X.509 with an RSA key of 2048 to 4096 bits.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha1::{Digest, Sha1};
use x509_cert::der::{Decode, Encode};

use super::content::RichError;

const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";

/// A certificate with its private key: what a subscriber holds to decrypt rich notifications.
pub struct EncryptionKey {
    certificate_id: String,
    certificate_der: Vec<u8>,
    private_key: RsaPrivateKey,
    /// The same key loaded into AWS-LC, for the receiver's fast path.
    unwrapper: aws_lc_rs::rsa::OaepPrivateDecryptingKey,
}

impl std::fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptionKey")
            .field("certificate_id", &self.certificate_id)
            .field("thumbprint", &self.thumbprint())
            .finish_non_exhaustive()
    }
}

impl EncryptionKey {
    /// A fresh RSA key (2048 or 4096 bits) and a self-signed certificate for it, valid for two years.
    pub fn generate(
        certificate_id: impl Into<String>,
        bits: usize,
    ) -> Result<EncryptionKey, RichError> {
        if bits != 2048 && bits != 4096 {
            return Err(RichError::KeySize(bits));
        }
        let private_key = RsaPrivateKey::new(&mut rand::thread_rng(), bits)
            .map_err(|e| RichError::KeyGeneration(e.to_string()))?;
        let pem = private_key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| RichError::KeyGeneration(e.to_string()))?;
        let key_pair = rcgen::KeyPair::from_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256)
            .map_err(|e| RichError::KeyGeneration(e.to_string()))?;
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())
            .map_err(|e| RichError::KeyGeneration(e.to_string()))?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Hookscope rich notifications");
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(730);
        let certificate = params
            .self_signed(&key_pair)
            .map_err(|e| RichError::KeyGeneration(e.to_string()))?;
        EncryptionKey::assemble(
            certificate_id.into(),
            certificate.der().to_vec(),
            private_key,
        )
    }

    /// Opens a PFX / PKCS#12 file: its first private key and that key's certificate.
    pub fn from_pkcs12(
        certificate_id: impl Into<String>,
        pkcs12_der: &[u8],
        password: &str,
    ) -> Result<EncryptionKey, RichError> {
        let store = p12_keystore::KeyStore::from_pkcs12(
            pkcs12_der,
            password,
            p12_keystore::Pkcs12ImportPolicy::Relaxed,
        )
        .map_err(|e| RichError::Pkcs12(e.to_string()))?;
        let (_, chain) = store
            .private_key_chain()
            .ok_or_else(|| RichError::Pkcs12("it holds no private key".into()))?;
        let private_key =
            RsaPrivateKey::from_pkcs8_der(chain.key().as_der()).map_err(|_| RichError::NotRsa)?;
        let certificate = chain
            .certs()
            .first()
            .ok_or_else(|| RichError::Pkcs12("it holds no certificate for its key".into()))?;
        EncryptionKey::assemble(
            certificate_id.into(),
            certificate.as_der().to_vec(),
            private_key,
        )
    }

    /// From PEM text holding a certificate and a PKCS#8 or PKCS#1 private key, in either order.
    pub fn from_pem(
        certificate_id: impl Into<String>,
        pem: &str,
    ) -> Result<EncryptionKey, RichError> {
        let mut certificate = None;
        let mut private_key = None;
        for block in pem_blocks(pem) {
            let (label, der) = block?;
            match label.as_str() {
                "CERTIFICATE" => certificate = certificate.or(Some(der)),
                "PRIVATE KEY" => {
                    private_key =
                        Some(RsaPrivateKey::from_pkcs8_der(&der).map_err(|_| RichError::NotRsa)?)
                }
                "RSA PRIVATE KEY" => {
                    private_key = Some(
                        RsaPrivateKey::from_pkcs1_der(&der)
                            .map_err(|e| RichError::Pem(e.to_string()))?,
                    )
                }
                _ => {}
            }
        }
        let certificate =
            certificate.ok_or_else(|| RichError::Pem("no CERTIFICATE block".into()))?;
        let private_key =
            private_key.ok_or_else(|| RichError::Pem("no PRIVATE KEY block".into()))?;
        EncryptionKey::assemble(certificate_id.into(), certificate, private_key)
    }

    /// Checks that the certificate belongs to the key before pairing them.
    pub fn assemble(
        certificate_id: String,
        certificate_der: Vec<u8>,
        private_key: RsaPrivateKey,
    ) -> Result<EncryptionKey, RichError> {
        let public = PublicCertificate::from_der(&certificate_der)?;
        if public.public_key != private_key.to_public_key() {
            return Err(RichError::BadCertificate(
                "the certificate does not belong to the private key".into(),
            ));
        }
        let pkcs8 = private_key
            .to_pkcs8_der()
            .map_err(|e| RichError::KeyGeneration(e.to_string()))?;
        let unwrapper = aws_lc_rs::rsa::PrivateDecryptingKey::from_pkcs8(pkcs8.as_bytes())
            .ok()
            .and_then(|key| aws_lc_rs::rsa::OaepPrivateDecryptingKey::new(key).ok())
            .ok_or(RichError::NotRsa)?;
        Ok(EncryptionKey {
            certificate_id,
            certificate_der,
            private_key,
            unwrapper,
        })
    }

    pub fn certificate_id(&self) -> &str {
        &self.certificate_id
    }

    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate_der
    }

    /// Base64 of the DER certificate: the form Graph's `encryptionCertificate` takes.
    pub fn certificate_base64(&self) -> String {
        STANDARD.encode(&self.certificate_der)
    }

    /// Uppercase hex SHA-1 of the certificate: Graph's `encryptionCertificateThumbprint`.
    pub fn thumbprint(&self) -> String {
        thumbprint(&self.certificate_der)
    }

    pub fn private_key(&self) -> &RsaPrivateKey {
        &self.private_key
    }

    /// Unwraps a data key with RSA-OAEP (SHA-1, MGF1-SHA-1, no label) through AWS-LC.
    pub fn unwrap_key(&self, wrapped: &[u8]) -> Option<Vec<u8>> {
        let mut out = vec![0u8; self.unwrapper.min_output_size()];
        let key = self
            .unwrapper
            .decrypt(&aws_lc_rs::rsa::OAEP_SHA1_MGF1SHA1, wrapped, &mut out, None)
            .ok()?;
        Some(key.to_vec())
    }

    pub fn public_certificate(&self) -> PublicCertificate {
        PublicCertificate {
            der: self.certificate_der.clone(),
            public_key: self.private_key.to_public_key(),
        }
    }

    /// The certificate as PEM, to export or to paste into another tool.
    pub fn certificate_pem(&self) -> String {
        pem_encode("CERTIFICATE", &self.certificate_der)
    }

    /// PKCS#8 PEM of the private key, for the keyring or a protected file.
    pub fn private_key_pem(&self) -> Result<String, RichError> {
        self.private_key
            .to_pkcs8_pem(LineEnding::LF)
            .map(|pem| pem.to_string())
            .map_err(|e| RichError::Pem(e.to_string()))
    }
}

/// A certificate as Graph receives it: public key only.
#[derive(Clone, Debug, PartialEq)]
pub struct PublicCertificate {
    pub der: Vec<u8>,
    pub public_key: RsaPublicKey,
}

impl PublicCertificate {
    /// Base64 DER (whitespace tolerated) or PEM text.
    pub fn parse(text: &str) -> Result<PublicCertificate, RichError> {
        if text.contains("-----BEGIN") {
            for block in pem_blocks(text) {
                let (label, der) = block?;
                if label == "CERTIFICATE" {
                    return PublicCertificate::from_der(&der);
                }
            }
            return Err(RichError::BadCertificate("no CERTIFICATE block".into()));
        }
        let compact: String = text.split_whitespace().collect();
        let der = STANDARD
            .decode(compact)
            .map_err(|_| RichError::BadCertificate("not base64".into()))?;
        PublicCertificate::from_der(&der)
    }

    pub fn from_der(der: &[u8]) -> Result<PublicCertificate, RichError> {
        let certificate = x509_cert::Certificate::from_der(der)
            .map_err(|e| RichError::BadCertificate(e.to_string()))?;
        let spki = &certificate.tbs_certificate.subject_public_key_info;
        if spki.algorithm.oid.to_string() != RSA_ENCRYPTION {
            return Err(RichError::NotRsa);
        }
        let spki_der = spki
            .to_der()
            .map_err(|e| RichError::BadCertificate(e.to_string()))?;
        let public_key =
            RsaPublicKey::from_public_key_der(&spki_der).map_err(|_| RichError::NotRsa)?;
        let bits = public_key.n().bits();
        if !(2048..=4096).contains(&bits) {
            return Err(RichError::KeySize(bits));
        }
        Ok(PublicCertificate {
            der: der.to_vec(),
            public_key,
        })
    }

    pub fn bits(&self) -> usize {
        self.public_key.n().bits()
    }

    pub fn to_pem(&self) -> String {
        pem_encode("CERTIFICATE", &self.der)
    }

    pub fn thumbprint(&self) -> String {
        thumbprint(&self.der)
    }
}

fn thumbprint(der: &[u8]) -> String {
    Sha1::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The `-----BEGIN X-----` blocks of a PEM text, decoded.
fn pem_blocks(text: &str) -> impl Iterator<Item = Result<(String, Vec<u8>), RichError>> + '_ {
    let mut rest = text;
    std::iter::from_fn(move || {
        let start = rest.find("-----BEGIN ")?;
        let after = &rest[start + 11..];
        let Some(label_end) = after.find("-----") else {
            rest = "";
            return Some(Err(RichError::Pem("an unterminated BEGIN line".into())));
        };
        let label = after[..label_end].to_string();
        let end_marker = format!("-----END {label}-----");
        let body_start = label_end + 5;
        let Some(end) = after[body_start..].find(&end_marker) else {
            rest = "";
            return Some(Err(RichError::Pem(format!("no END line for {label}"))));
        };
        let body: String = after[body_start..body_start + end]
            .split_whitespace()
            .collect();
        rest = &after[body_start + end + end_marker.len()..];
        Some(
            STANDARD
                .decode(body)
                .map(|der| (label.clone(), der))
                .map_err(|_| RichError::Pem(format!("the {label} block is not base64"))),
        )
    })
}

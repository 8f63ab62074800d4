//! Graph's `encryptedContent`: the encryption Graph performs (docs/graph.md §6.4, used by the simulator) and
//! the decryption a receiver performs (§6.3), written separately so each checks the other. The HMAC is
//! verified in constant time before anything is decrypted.

use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore;
use rsa::{Oaep, RsaPrivateKey};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use ts_rs::TS;

use super::certificate::{EncryptionKey, PublicCertificate};

type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;
type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;
type HmacSha256 = Hmac<Sha256>;

/// Graph's `encryptedContent` object of a rich notification item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct EncryptedContent {
    pub data: String,
    pub data_signature: String,
    pub data_key: String,
    pub encryption_certificate_id: String,
    pub encryption_certificate_thumbprint: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RichError {
    #[error("The encryption certificate is not valid base64 DER or PEM X.509: {0}.")]
    BadCertificate(String),
    #[error("The encryption certificate uses a {0}-bit RSA key; Graph needs 2048 to 4096 bits.")]
    KeySize(usize),
    #[error(
        "The encryption certificate's key is not an RSA key; Graph needs RSA 2048 to 4096 bits."
    )]
    NotRsa,
    #[error("Cannot create the certificate: {0}.")]
    KeyGeneration(String),
    #[error("Cannot open the PKCS#12 file: {0}; check the password.")]
    Pkcs12(String),
    #[error("Cannot read the PEM text: {0}; it needs a certificate and a private key.")]
    Pem(String),
    #[error("The {field} of the encrypted content is not valid base64.")]
    BadBase64 { field: &'static str },
    #[error("The data key cannot be unwrapped with this private key; the notification was encrypted for another certificate.")]
    KeyUnwrap,
    #[error("The unwrapped data key is {0} bytes, not 32; the content is not Graph's AES-256 encryption.")]
    WrongKeyLength(usize),
    #[error("The data signature does not match the encrypted data; the content was altered and is not decrypted.")]
    SignatureMismatch,
    #[error("The encrypted data does not decrypt to padded plaintext; the content is damaged.")]
    Decrypt,
}

/// Graph's side: a fresh random 32-byte key per item; AES-256-CBC with the key's first 16 bytes as IV;
/// HMAC-SHA256 of the ciphertext; the key wrapped with RSA-OAEP (SHA-1) for the certificate.
pub fn encrypt(
    plaintext: &[u8],
    certificate: &PublicCertificate,
    certificate_id: &str,
) -> Result<EncryptedContent, RichError> {
    let mut key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    let ciphertext =
        Aes256CbcEnc::new(&key.into(), key[..16].into()).encrypt_padded_vec_mut::<Pkcs7>(plaintext);
    let mut mac = HmacSha256::new_from_slice(&key).expect("HMAC takes any key length");
    mac.update(&ciphertext);
    let signature = mac.finalize().into_bytes();
    let wrapped = certificate
        .public_key
        .encrypt(&mut rand::thread_rng(), Oaep::new::<sha1::Sha1>(), &key)
        .map_err(|_| RichError::KeyUnwrap)?;
    Ok(EncryptedContent {
        data: STANDARD.encode(&ciphertext),
        data_signature: STANDARD.encode(signature),
        data_key: STANDARD.encode(wrapped),
        encryption_certificate_id: certificate_id.to_string(),
        encryption_certificate_thumbprint: certificate.thumbprint(),
    })
}

fn decode(field: &'static str, text: &str) -> Result<Vec<u8>, RichError> {
    STANDARD
        .decode(text.trim())
        .map_err(|_| RichError::BadBase64 { field })
}

/// The receiver's side with the pure-Rust `rsa` crate: the reference implementation the fast path is
/// tested against.
pub fn decrypt(
    content: &EncryptedContent,
    private_key: &RsaPrivateKey,
) -> Result<Vec<u8>, RichError> {
    open(content, |wrapped| {
        private_key.decrypt(Oaep::new::<sha1::Sha1>(), wrapped).ok()
    })
}

/// The receiver's side as the receiver runs it: the same steps, the key unwrapped through AWS-LC.
pub fn decrypt_with(content: &EncryptedContent, key: &EncryptionKey) -> Result<Vec<u8>, RichError> {
    open(content, |wrapped| key.unwrap_key(wrapped))
}

/// Unwrap the key, check the HMAC over the raw ciphertext (constant time), and only then decrypt.
fn open(
    content: &EncryptedContent,
    unwrap: impl FnOnce(&[u8]) -> Option<Vec<u8>>,
) -> Result<Vec<u8>, RichError> {
    let wrapped = decode("dataKey", &content.data_key)?;
    let ciphertext = decode("data", &content.data)?;
    let signature = decode("dataSignature", &content.data_signature)?;
    let key = unwrap(&wrapped).ok_or(RichError::KeyUnwrap)?;
    if key.len() != 32 {
        return Err(RichError::WrongKeyLength(key.len()));
    }
    let mut mac = HmacSha256::new_from_slice(&key).expect("HMAC takes any key length");
    mac.update(&ciphertext);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&signature)
        .map_err(|_| RichError::SignatureMismatch)?;
    let iv: [u8; 16] = key[..16].try_into().expect("32-byte key");
    let key: [u8; 32] = key[..].try_into().expect("checked length");
    Aes256CbcDec::new(&key.into(), &iv.into())
        .decrypt_padded_vec_mut::<Pkcs7>(&ciphertext)
        .map_err(|_| RichError::Decrypt)
}

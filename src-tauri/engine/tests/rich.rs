//! Rich-notification crypto: Microsoft's own known-answer vector decrypts, tampering is caught before
//! decryption, and certificates are generated, exported and read the way Graph reads them.

use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hookscope_engine::rich::{self, EncryptedContent, EncryptionKey, PublicCertificate, RichError};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn vector() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/msgraph_dotnet_rich_vector.json"
    );
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn vector_key(vector: &Value) -> EncryptionKey {
    let pkcs12 = STANDARD
        .decode(vector["pkcs12Base64"].as_str().unwrap())
        .unwrap();
    EncryptionKey::from_pkcs12(
        "custom-id-for-testing",
        &pkcs12,
        vector["pkcs12Password"].as_str().unwrap(),
    )
    .expect("Microsoft's PKCS#12 opens with its password")
}

fn generated() -> &'static EncryptionKey {
    static KEY: OnceLock<EncryptionKey> = OnceLock::new();
    KEY.get_or_init(|| EncryptionKey::generate("generated", 2048).unwrap())
}

#[test]
fn microsofts_known_answer_vector_decrypts() {
    let vector = vector();
    let key = vector_key(&vector);
    let content: EncryptedContent =
        serde_json::from_value(vector["encryptedContent"].clone()).unwrap();
    assert_eq!(key.thumbprint(), content.encryption_certificate_thumbprint);
    assert_eq!(key.thumbprint(), "4B95353E086AD37196606ACF834A14532F03E6DB");
    assert_eq!(key.public_certificate().bits(), 4096);
    let plaintext = rich::decrypt(&content, key.private_key()).expect("decrypts");
    assert_eq!(
        format!("{:x}", Sha256::digest(&plaintext)),
        vector["expected"]["plaintextSha256"].as_str().unwrap()
    );
    assert_eq!(
        rich::decrypt_with(&content, &key).expect("the receiver's AWS-LC path decrypts"),
        plaintext,
        "the receiver's path and the pure-Rust reference agree"
    );
    let message: Value = serde_json::from_slice(&plaintext).unwrap();
    assert_eq!(message["etag"], "1625126194597");
    assert_eq!(message["body"]["content"], "Hello World");
    assert_eq!(message["body"]["contentType"], "text");
}

#[test]
fn the_vector_tampered_is_refused_before_decryption() {
    let vector = vector();
    let key = vector_key(&vector);
    let original: EncryptedContent =
        serde_json::from_value(vector["encryptedContent"].clone()).unwrap();

    let mut flipped = original.clone();
    let mut data = STANDARD.decode(&flipped.data).unwrap();
    data[100] ^= 0x80;
    flipped.data = STANDARD.encode(data);
    assert_eq!(
        rich::decrypt(&flipped, key.private_key()),
        Err(RichError::SignatureMismatch)
    );
    assert_eq!(
        rich::decrypt_with(&flipped, &key),
        Err(RichError::SignatureMismatch)
    );

    let mut resigned = original.clone();
    resigned.data_signature = STANDARD.encode([7u8; 32]);
    assert_eq!(
        rich::decrypt(&resigned, key.private_key()),
        Err(RichError::SignatureMismatch)
    );

    let mut garbled = original;
    garbled.data_key = "***".into();
    assert_eq!(
        rich::decrypt(&garbled, key.private_key()),
        Err(RichError::BadBase64 { field: "dataKey" })
    );
}

#[test]
fn graphs_encryption_round_trips_with_a_fresh_key_per_item() {
    let key = generated();
    let plaintext = br#"{"id":"1","body":{"content":"hi"}}"#;
    let first = rich::encrypt(plaintext, &key.public_certificate(), "generated").unwrap();
    let second = rich::encrypt(plaintext, &key.public_certificate(), "generated").unwrap();
    assert_ne!(first.data, second.data, "a fresh key (and so IV) per item");
    assert_ne!(first.data_key, second.data_key);
    assert_eq!(STANDARD.decode(&first.data_key).unwrap().len(), 256);
    assert_eq!(first.encryption_certificate_thumbprint, key.thumbprint());
    assert_eq!(rich::decrypt(&first, key.private_key()).unwrap(), plaintext);
    assert_eq!(
        rich::decrypt(&second, key.private_key()).unwrap(),
        plaintext
    );

    // Someone else's key cannot unwrap it.
    let vector_key = vector_key(&vector());
    assert_eq!(
        rich::decrypt(&first, vector_key.private_key()),
        Err(RichError::KeyUnwrap)
    );
}

#[test]
fn certificates_are_read_as_graph_reads_them() {
    let key = generated();
    let parsed = PublicCertificate::parse(&key.certificate_base64()).unwrap();
    assert_eq!(parsed.thumbprint(), key.thumbprint());
    assert_eq!(parsed.bits(), 2048);
    let pem = key.certificate_pem();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
    assert_eq!(
        PublicCertificate::parse(&pem).unwrap().thumbprint(),
        key.thumbprint()
    );
    // Line-wrapped base64, as pasted from a .cer file.
    let wrapped: String = key
        .certificate_base64()
        .as_bytes()
        .chunks(64)
        .map(|c| format!("{}\n", std::str::from_utf8(c).unwrap()))
        .collect();
    assert!(PublicCertificate::parse(&wrapped).is_ok());

    assert!(matches!(
        PublicCertificate::parse("not base64 at all!"),
        Err(RichError::BadCertificate(_))
    ));
    assert!(matches!(
        PublicCertificate::parse("aGVsbG8="),
        Err(RichError::BadCertificate(_))
    ));
    assert_eq!(
        EncryptionKey::generate("small", 1024).unwrap_err(),
        RichError::KeySize(1024)
    );

    // A certificate for a 1024-bit key (issued by a 2048-bit one: ring refuses to sign with small keys)
    // is refused with the rule it breaks.
    let small = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 1024).unwrap();
    let small_public = SmallKey(
        rsa::pkcs1::EncodeRsaPublicKey::to_pkcs1_der(&small.to_public_key())
            .unwrap()
            .into_vec(),
    );
    let issuer_pem = key.private_key_pem().unwrap();
    let issuer_key =
        rcgen::KeyPair::from_pem_and_sign_algo(&issuer_pem, &rcgen::PKCS_RSA_SHA256).unwrap();
    let issuer = rcgen::Issuer::new(
        rcgen::CertificateParams::new(Vec::<String>::new()).unwrap(),
        issuer_key,
    );
    let certificate = rcgen::CertificateParams::new(vec!["small.test".to_string()])
        .unwrap()
        .signed_by(&small_public, &issuer)
        .unwrap();
    let refused = PublicCertificate::from_der(certificate.der()).unwrap_err();
    assert_eq!(refused, RichError::KeySize(1024));
    assert_eq!(
        refused.to_string(),
        "The encryption certificate uses a 1024-bit RSA key; Graph needs 2048 to 4096 bits."
    );
}

#[test]
fn pem_export_and_import_keep_the_pair_and_hide_the_key() {
    let key = generated();
    let private = key.private_key_pem().unwrap();
    let both = format!("{private}{}", key.certificate_pem());
    let again = EncryptionKey::from_pem("again", &both).unwrap();
    assert_eq!(again.thumbprint(), key.thumbprint());
    assert_eq!(again.certificate_id(), "again");

    // A certificate paired with another key is refused.
    let other = vector_key(&vector());
    let mismatched = format!(
        "{}{}",
        other.private_key_pem().unwrap(),
        key.certificate_pem()
    );
    assert!(matches!(
        EncryptionKey::from_pem("x", &mismatched),
        Err(RichError::BadCertificate(_))
    ));

    let shown = format!("{key:?}");
    let body_line = private.lines().nth(1).unwrap();
    assert!(
        !shown.contains(body_line),
        "Debug never shows key material: {shown}"
    );
    assert!(shown.contains(&key.thumbprint()));
}

/// An RSA public key for rcgen to put in a certificate it signs with another key.
struct SmallKey(Vec<u8>);

impl rcgen::PublicKeyData for SmallKey {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_RSA_SHA256
    }
}

#[test]
fn the_simulators_encryption_round_trips_through_microsofts_certificate() {
    // Graph's side (what the simulator sends) with the vector's own 4096-bit certificate, opened with
    // the vector's private key: the same plaintext comes back, and the wrapped key is 512 bytes.
    let vector = vector();
    let key = vector_key(&vector);
    let content: EncryptedContent =
        serde_json::from_value(vector["encryptedContent"].clone()).unwrap();
    let plaintext = rich::decrypt(&content, key.private_key()).unwrap();
    let again = rich::encrypt(
        &plaintext,
        &key.public_certificate(),
        "custom-id-for-testing",
    )
    .unwrap();
    assert_eq!(
        again.encryption_certificate_thumbprint,
        content.encryption_certificate_thumbprint
    );
    assert_eq!(STANDARD.decode(&again.data_key).unwrap().len(), 512);
    assert_ne!(again.data, content.data, "a fresh key and IV each time");
    let opened = rich::decrypt(&again, key.private_key()).unwrap();
    assert_eq!(
        format!("{:x}", Sha256::digest(&opened)),
        vector["expected"]["plaintextSha256"].as_str().unwrap()
    );
}

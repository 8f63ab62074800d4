//! Rich notifications: the certificates whose keys Graph encrypts resource data with, the keychain that
//! holds them, the encryption itself (Graph's side for the simulator, the receiver's side for
//! decryption), and the checks of the `validationTokens` that prove a batch comes from Graph.

pub mod certificate;
pub mod content;
pub mod keychain;
pub mod tokens;

pub use certificate::{EncryptionKey, PublicCertificate};
pub use content::{decrypt, decrypt_with, encrypt, EncryptedContent, RichError};
pub use keychain::{CertificateInfo, KeyLookup, Keychain};
pub use tokens::{Expectations, TokenChecker, TokenFailure, CHANGE_TRACKING_APP_ID};

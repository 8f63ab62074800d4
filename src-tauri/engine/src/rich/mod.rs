//! Rich notifications: the certificates whose keys Graph encrypts resource data with, and the
//! encryption itself (Graph's side for the simulator, the receiver's side for decryption).

pub mod certificate;
pub mod content;

pub use certificate::{EncryptionKey, PublicCertificate};
pub use content::{decrypt, encrypt, EncryptedContent, RichError};

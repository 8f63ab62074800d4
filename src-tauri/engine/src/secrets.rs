//! Where secrets live (the client secret, refresh tokens, the private keys of rich notifications): the
//! OS keyring through the `keyring` crate, or, on a machine where no keyring service runs (a headless
//! box, a container), a file in the data directory readable only by its owner, with a warning that says
//! so. Never the database, never a log.

use std::path::{Path, PathBuf};

/// The keyring service name every Hookscope secret is filed under.
const SERVICE: &str = "hookscope";

/// Where a secret was put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kept {
    Keyring,
    /// No keyring service answered; the file is readable only by the current user.
    File(PathBuf),
}

impl Kept {
    /// The sentence a front shows after storing.
    pub fn describe(&self) -> String {
        match self {
            Kept::Keyring => "kept in the OS keyring".into(),
            Kept::File(path) => format!(
                "kept in {} (readable only by you) because no keyring service is running; start one (GNOME Keyring, KWallet) and sign in again to move it there",
                path.display()
            ),
        }
    }
}

/// Every call may block on the OS keyring (a D-Bus round trip to the Secret Service, which can hang
/// while the keyring is locked or its daemon is slow): async code calls it through `spawn_blocking`.
#[derive(Clone)]
pub struct Secrets {
    data_dir: PathBuf,
    /// `HOOKSCOPE_KEYRING=file` skips the keyring (headless machines, tests).
    keyring: bool,
}

impl Secrets {
    pub fn new(data_dir: &Path) -> Secrets {
        let keyring = !matches!(
            std::env::var("HOOKSCOPE_KEYRING").as_deref(),
            Ok("file") | Ok("off")
        );
        Secrets {
            data_dir: data_dir.to_path_buf(),
            keyring,
        }
    }

    /// One data directory, one set of secrets: two data directories (a test's and the user's) never
    /// read each other's.
    fn account(&self, name: &str) -> String {
        format!("{name}@{}", self.data_dir.display())
    }

    fn file(&self, name: &str) -> PathBuf {
        self.data_dir.join("secrets").join(name)
    }

    fn entry(&self, name: &str) -> Option<keyring::Entry> {
        if !self.keyring {
            return None;
        }
        keyring::Entry::new(SERVICE, &self.account(name)).ok()
    }

    pub fn put(&self, name: &str, value: &str) -> anyhow::Result<Kept> {
        if let Some(entry) = self.entry(name) {
            match entry.set_password(value) {
                Ok(()) => {
                    // A stale fallback copy must not outlive the keyring's.
                    let _ = std::fs::remove_file(self.file(name));
                    return Ok(Kept::Keyring);
                }
                Err(error) => {
                    tracing::info!(%error, "no keyring service; keeping the secret in a file")
                }
            }
        }
        let path = self.file(name);
        write_private(&path, value).map_err(|error| {
            anyhow::anyhow!(
                "Cannot keep the secret in {}: {error}; check the data directory is writable.",
                path.display()
            )
        })?;
        Ok(Kept::File(path))
    }

    pub fn get(&self, name: &str) -> Option<String> {
        if let Some(entry) = self.entry(name) {
            if let Ok(value) = entry.get_password() {
                return Some(value);
            }
        }
        std::fs::read_to_string(self.file(name)).ok()
    }

    pub fn delete(&self, name: &str) {
        if let Some(entry) = self.entry(name) {
            let _ = entry.delete_credential();
        }
        let _ = std::fs::remove_file(self.file(name));
    }
}

/// Creates the file with owner-only permissions from the start (no window where others could read it),
/// in a folder only its owner can enter.
fn write_private(path: &Path, value: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        crate::privacy::create_dir(dir)?;
        // A folder made before Hookscope kept it private would otherwise stay open.
        if let Some(loose) = crate::privacy::tighten(dir, crate::privacy::DIR_MODE) {
            if let Some(error) = loose.failed {
                return Err(std::io::Error::other(error));
            }
        }
    }
    crate::privacy::write_atomically(path, value.as_bytes())
}

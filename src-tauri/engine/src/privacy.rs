//! Owner-only files. The data directory holds every body, clientState and decrypted rich payload Graph
//! delivered, so on Unix it is 0700 and everything Hookscope writes in it 0600, from the moment each is
//! created; a looser directory or file found at start is tightened, and the caller tells the user once.
//! On other platforms these functions create files as the platform does and tighten nothing.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The mode of the data directory and the folders Hookscope makes in it.
pub const DIR_MODE: u32 = 0o700;
/// The mode of every file Hookscope writes in the data directory.
pub const FILE_MODE: u32 = 0o600;

/// A directory or file found looser than owner-only at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tightened {
    pub path: PathBuf,
    /// Its permission bits as found (`0o755`).
    pub was: u32,
    /// What it was set to.
    pub now: u32,
    /// Why it could not be changed (another user owns it), when it could not.
    pub failed: Option<String>,
}

/// The one sentence a front shows after a start that tightened something; None when nothing was loose.
pub fn notice(tightened: &[Tightened]) -> Option<String> {
    if tightened.is_empty() {
        return None;
    }
    let (done, failed): (Vec<&Tightened>, Vec<&Tightened>) =
        tightened.iter().partition(|t| t.failed.is_none());
    let mut parts = Vec::new();
    if !done.is_empty() {
        let list: Vec<String> = done
            .iter()
            .map(|t| format!("{} was {:04o} (now {:04o})", t.path.display(), t.was, t.now))
            .collect();
        parts.push(format!(
            "Hookscope made its data private to you because other users of this machine could read it: {}",
            list.join(", ")
        ));
    }
    for t in failed {
        parts.push(format!(
            "Hookscope could not make {} ({:04o}) private to you ({}), so other users of this machine can read it until you chmod it to {:04o}",
            t.path.display(),
            t.was,
            t.failed.as_deref().unwrap_or_default(),
            t.now
        ));
    }
    Some(format!("{}.", parts.join("; ")))
}

/// Creates `dir` (and any missing parent) owner-only; an existing one is left as it is.
pub fn create_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(DIR_MODE);
    }
    builder.create(dir)
}

/// Options that create a file owner-only from its first byte (no window where others could open it).
pub fn file_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(FILE_MODE);
    }
    options
}

/// Creates (or truncates) a file to write; a new one is owner-only.
pub fn create_file(path: &Path) -> std::io::Result<File> {
    file_options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
}

/// Replaces `path` with `bytes` atomically (never half a file) and owner-only: written to a staging
/// file created 0600, synced, then renamed over it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut staging = path.as_os_str().to_owned();
    staging.push(".tmp");
    let staging = PathBuf::from(staging);
    let mut file = create_file(&staging)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&staging, path)
}

/// Sets `path` to `mode` when it is looser (any permission bit outside `mode`); returns what it found.
/// Symbolic links are left alone: their target is not Hookscope's to change.
pub fn tighten(path: &Path, mode: u32) -> Option<Tightened> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let found = std::fs::symlink_metadata(path).ok()?;
        if found.file_type().is_symlink() {
            return None;
        }
        let was = found.permissions().mode() & 0o7777;
        if was & !mode == 0 {
            return None;
        }
        let failed = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .err()
            .map(|error| error.to_string());
        Some(Tightened {
            path: path.to_path_buf(),
            was,
            now: mode,
            failed,
        })
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        None
    }
}

/// Makes the data directory ready for the store: created owner-only, or tightened when found looser,
/// with the database, its WAL and shared-memory files and every other file Hookscope keeps there; a
/// missing database is created 0600 here, before SQLite opens it, because SQLite gives the `-wal` and
/// `-shm` files the mode of the database file. Returns what was tightened, for the notice: every
/// loose file, and the directory when it held a database (a directory the user just made, with no
/// Hookscope data in it yet, exposed nothing and is tightened without a word).
pub fn prepare_data_dir(dir: &Path, database: &Path) -> std::io::Result<Vec<Tightened>> {
    create_dir(dir)?;
    let held_data = database.exists();
    let mut tightened = Vec::new();
    // The directory itself may be a link the user made to elsewhere; its target is what must be private.
    #[cfg(unix)]
    if std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
        let target = std::fs::canonicalize(dir)?;
        tightened.extend(tighten(&target, DIR_MODE));
    }
    tightened.extend(tighten(dir, DIR_MODE));
    if !held_data {
        tightened.retain(|t| t.failed.is_some());
    }
    file_options()
        .write(true)
        .create(true)
        .truncate(false)
        .open(database)?;
    for path in kept_files(dir, database) {
        tightened.extend(tighten(&path, FILE_MODE));
    }
    for folder in ["secrets", "exports"] {
        let folder = dir.join(folder);
        if !std::fs::symlink_metadata(&folder).is_ok_and(|m| m.is_dir()) {
            continue;
        }
        tightened.extend(tighten(&folder, DIR_MODE));
        for entry in std::fs::read_dir(&folder)?.flatten() {
            tightened.extend(tighten(&entry.path(), FILE_MODE));
        }
    }
    Ok(tightened)
}

/// The files Hookscope writes directly in the data directory. Only these: a data directory pointed at a
/// folder that holds other things (`--data-dir ~`) must not have the user's own files changed.
fn kept_files(dir: &Path, database: &Path) -> Vec<PathBuf> {
    let mut files = vec![database.to_path_buf()];
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut name = database.as_os_str().to_owned();
        name.push(suffix);
        files.push(PathBuf::from(name));
    }
    files.push(dir.join("receiver.json"));
    files.push(dir.join("simulator.json"));
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let ours = (name.starts_with("keeper-") && name.ends_with(".lock"))
                || name == "receiver.json.tmp"
                || name == "simulator.json.tmp";
            if ours {
                files.push(entry.path());
            }
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loose(path: &str, was: u32, now: u32) -> Tightened {
        Tightened {
            path: PathBuf::from(path),
            was,
            now,
            failed: None,
        }
    }

    #[test]
    fn the_notice_names_each_path_and_its_old_mode_in_one_sentence() {
        assert_eq!(notice(&[]), None);
        assert_eq!(
            notice(&[
                loose("/d", 0o755, 0o700),
                loose("/d/hookscope.sqlite3", 0o644, 0o600)
            ])
            .unwrap(),
            "Hookscope made its data private to you because other users of this machine could read it: \
             /d was 0755 (now 0700), /d/hookscope.sqlite3 was 0644 (now 0600)."
        );
        let mut refused = loose("/shared", 0o775, 0o700);
        refused.failed = Some("Operation not permitted (os error 1)".into());
        assert_eq!(
            notice(&[refused]).unwrap(),
            "Hookscope could not make /shared (0775) private to you (Operation not permitted (os error 1)), \
             so other users of this machine can read it until you chmod it to 0700."
        );
    }
}

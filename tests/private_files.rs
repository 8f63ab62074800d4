//! The real binary on a data directory other users could read (0755 with a 0644 database, as Hookscope
//! used to leave them): the first command makes it private and says so in one line on stderr; the
//! second finds it private and says nothing.
#![cfg(unix)]

mod common;

use std::os::unix::fs::PermissionsExt;

use common::hookscope;

fn mode(path: &std::path::Path) -> String {
    let found = std::fs::metadata(path).unwrap().permissions().mode();
    // Octal, as `ls -l` and chmod speak, so a failure reads 0755 and not 493.
    format!("{:04o}", found & 0o7777)
}

#[test]
fn a_readable_data_directory_is_made_private_and_said_once() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = hookscope(dir.path(), &["notifications"]);
    assert_eq!(
        (code, err.as_str()),
        (0, ""),
        "a folder with no Hookscope data in it yet is made private without a word"
    );
    let database = dir.path().join("hookscope.sqlite3");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&database, std::fs::Permissions::from_mode(0o644)).unwrap();

    let (code, out, err) = hookscope(dir.path(), &["notifications"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "No notifications yet. Start `hookscope listen` (or the app) and subscribe.\n"
    );
    assert_eq!(
        err,
        format!(
            "Hookscope made its data private to you because other users of this machine could read it: \
             {0} was 0755 (now 0700), {0}/hookscope.sqlite3 was 0644 (now 0600).\n",
            dir.path().display()
        )
    );
    assert_eq!(mode(dir.path()), "0700");
    assert_eq!(mode(&database), "0600");

    let (code, _, err) = hookscope(dir.path(), &["notifications"]);
    assert_eq!(code, 0);
    assert_eq!(err, "", "said once: the second command finds it private");
}

//! Which files of a migrations folder are revision files, in which order, and what is refused:
//! the one scanner behind both `Revisions::load_dir` (the `db` command, at run time) and
//! `embed_migrations!` (at compile time), so that a folder means the same revisions to both.
//!
//! Its own crate, without dependencies, because both `orm-core` and the proc-macro crate
//! `orm-derive` need it, and `orm-derive` cannot depend on `orm-core` (a proc-macro crate must
//! stay light and cannot be a dependency of what it expands into) nor share a source file with
//! it by `#[path]` (each crate must build from its own package when published).
//!
//! The rules:
//! - a revision is a regular file of the folder itself (not of a subfolder) whose name ends
//!   in `.toml`;
//! - `migrations.toml` ([`CONFIG_FILE`]) is not one (it is kept for the folder's settings);
//! - names starting with `.` are not (editor swap and lock files, macOS `._` files);
//! - a revision file whose name is not UTF-8 is refused: it could not be named in an error,
//!   embedded, or written back under the same name;
//! - files come in order of name (byte order), so the list is the same on every machine.
#![forbid(unsafe_code)]

use std::io;
use std::path::{Path, PathBuf};

/// The name, in a migrations folder, that is not a revision file.
pub const CONFIG_FILE: &str = "migrations.toml";

/// One revision file of a folder.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RevisionFile {
    /// Its file name (`0001_create_users.toml`).
    pub name: String,
    /// Its path (the folder joined with the name).
    pub path: PathBuf,
}

/// Whether a file named `name` (not a folder) counts as a revision file.
///
/// ```
/// use orm_migration_files::is_revision_name;
///
/// assert!(is_revision_name("0001_init.toml"));
/// assert!(!is_revision_name("migrations.toml"));
/// assert!(!is_revision_name(".0001_init.toml.swp"));
/// assert!(!is_revision_name(".#0001_init.toml"));
/// assert!(!is_revision_name("README.md"));
/// assert!(!is_revision_name(".toml"));
/// ```
pub fn is_revision_name(name: &str) -> bool {
    name.ends_with(".toml") && name != CONFIG_FILE && !name.starts_with('.')
}

/// The revision files of `dir`, by name. An unreadable folder or entry, and a revision file
/// whose name is not UTF-8, are errors that name the path.
pub fn revision_files(dir: &Path) -> io::Result<Vec<RevisionFile>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let os_name = entry.file_name();
        let Some(name) = os_name.to_str() else {
            let lossy = os_name.to_string_lossy();
            if lossy.ends_with(".toml") && !lossy.starts_with('.') {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: a revision file's name must be UTF-8", entry.path().display()),
                ));
            }
            continue;
        };
        if !is_revision_name(name) {
            continue;
        }
        // A symbolic link counts as what it points at.
        if !std::fs::metadata(entry.path())?.is_file() {
            continue;
        }
        out.push(RevisionFile { name: name.to_owned(), path: entry.path() });
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("orm-migration-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp folder");
        dir
    }

    #[test]
    fn revisions_are_the_toml_files_of_the_folder_by_name() {
        let dir = folder("scan");
        for f in ["0002_b.toml", "0001_a.toml", "migrations.toml", "notes.md", ".0003.toml"] {
            std::fs::write(dir.join(f), "").expect("write");
        }
        std::fs::create_dir(dir.join("0004_folder.toml")).expect("mkdir");
        std::fs::create_dir(dir.join("sub")).expect("mkdir");
        std::fs::write(dir.join("sub").join("0005_nested.toml"), "").expect("write");
        let names: Vec<String> =
            revision_files(&dir).expect("scan").into_iter().map(|f| f.name).collect();
        assert_eq!(names, ["0001_a.toml", "0002_b.toml"]);
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn a_missing_folder_is_an_error() {
        let dir = std::env::temp_dir().join("orm-migration-files-missing-folder");
        let e = revision_files(&dir).expect_err("missing");
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }

    #[cfg(unix)]
    #[test]
    fn a_revision_name_that_is_not_utf8_is_refused() {
        use std::os::unix::ffi::OsStrExt;
        let dir = folder("utf8");
        let name = std::ffi::OsStr::from_bytes(b"0001_\xff.toml");
        if std::fs::write(dir.join(name), "").is_err() {
            return; // a file system that refuses such names has none to scan
        }
        let e = revision_files(&dir).expect_err("refused");
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("UTF-8"), "{e}");
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}

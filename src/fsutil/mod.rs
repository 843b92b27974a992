//! Durable file operations behind one narrow trait, [`Fs`], so that a crash test can replace
//! the real file system with a simulated one that loses whatever was not yet durable.
//!
//! Everything teachcam writes outside its SQLite store (the head, the background set, the
//! migration of old data folders, quarantined files) goes through [`Fs`]: [`write_atomic`]
//! (temp file, fsync, rename, fsync of the folder) leaves either the old file or the new one
//! after a kill -9 or a power cut at any instant, never a half-written one.

#[cfg(test)]
pub mod sim;

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

/// Suffix of the temporary files [`write_atomic`] creates; leftovers are removed by [`clean_temp_files`].
pub const TEMP_SUFFIX: &str = ".tmp";

/// The file operations whose durability matters. Paths are absolute or relative to the
/// process's working directory.
pub trait Fs: Send + Sync {
    /// Creates (or truncates) `path` and writes `bytes` to it, without syncing.
    fn write(&self, path: &Path, bytes: &[u8]) -> io::Result<()>;
    /// Makes the content of the file at `path` durable (fsync).
    fn sync_file(&self, path: &Path) -> io::Result<()>;
    /// Makes the entries of folder `dir` (created, renamed, removed names) durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// Renames `from` to `to`, replacing `to` (not durable until the folders are synced).
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Removes the file `path`.
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    /// Creates the folder `dir` and its missing parents.
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
}

/// The real file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsFs;

impl Fs for OsFs {
    fn write(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        File::create(path)?.write_all(bytes)
    }
    fn sync_file(&self, path: &Path) -> io::Result<()> {
        File::options().write(true).open(path)?.sync_all()
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        fs::create_dir_all(dir)
    }
}

/// The folder holding `path` (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Writes `bytes` to `path` atomically on the real file system; see [`write_atomic_with`].
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(&OsFs, path, bytes)
}

/// Writes `bytes` to `path` atomically: temp file, fsync, rename over `path`, fsync of the
/// folder. After a crash at any point the file is the old one or the new one.
pub fn write_atomic_with(fs: &dyn Fs, path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = parent_dir(path);
    let name = path.file_name().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    let tmp = dir.join(format!(".{}.{}{}", name.to_string_lossy(), std::process::id(), TEMP_SUFFIX));
    let result = (|| {
        fs.write(&tmp, bytes)?;
        fs.sync_file(&tmp)?;
        fs.rename(&tmp, path)?;
        fs.sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs.remove_file(&tmp);
    }
    result
}

/// Fsyncs a directory so that a rename or a new entry in it survives a power cut.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    OsFs.sync_dir(dir)
}

/// Creates `dir` (and parents) and fsyncs its parent so the new entry is durable.
pub fn create_dir_durable(fs: &dyn Fs, dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs.create_dir_all(dir)?;
    fs.sync_dir(parent_dir(dir))
}

/// The `.tmp` files in `dir`, each with whether it is ours (left by an interrupted
/// [`write_atomic_with`]: hidden, naming a process id) or someone else's.
pub fn temp_files(dir: &Path) -> Vec<(String, bool)> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(TEMP_SUFFIX))
        .map(|n| {
            let ours = is_our_temp(&n);
            (n, ours)
        })
        .collect()
}

/// Removes temporary files left by an interrupted [`write_atomic_with`] in `dir` — only ours —
/// and returns the names of other `.tmp` files found there (left alone, for the caller to
/// report).
pub fn clean_temp_files(dir: &Path) -> Vec<String> {
    let mut foreign = Vec::new();
    for (name, ours) in temp_files(dir) {
        if ours {
            let _ = fs::remove_file(dir.join(&name));
        } else {
            foreign.push(name);
        }
    }
    foreign
}

/// `.NAME.PID.tmp`, as [`write_atomic_with`] names its temp files.
fn is_our_temp(name: &str) -> bool {
    let Some(stem) = name.strip_prefix('.').and_then(|n| n.strip_suffix(TEMP_SUFFIX)) else { return false };
    stem.rsplit_once('.')
        .is_some_and(|(base, pid)| !base.is_empty() && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_replaces_content_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        write_atomic(&p, b"first").unwrap();
        write_atomic(&p, b"second").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"second");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(names.len(), 1, "only the target file remains: {names:?}");
    }

    #[test]
    fn interrupted_write_leaves_old_file_and_only_our_temp_is_cleaned() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        write_atomic(&p, b"old").unwrap();
        // A crash after the temp file was written but before the rename, and a user's file.
        fs::write(dir.path().join(format!(".a.json.999{TEMP_SUFFIX}")), b"half").unwrap();
        fs::write(dir.path().join(format!("notes{TEMP_SUFFIX}")), b"mine").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"old");
        assert_eq!(clean_temp_files(dir.path()), vec![format!("notes{TEMP_SUFFIX}")]);
        assert!(!dir.path().join(format!(".a.json.999{TEMP_SUFFIX}")).exists());
        assert!(dir.path().join(format!("notes{TEMP_SUFFIX}")).exists(), "not ours: left alone");
    }

    #[test]
    fn write_into_missing_folder_fails_without_creating_target() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("missing").join("a.json");
        assert!(write_atomic(&p, b"x").is_err());
        assert!(!p.exists());
    }
}

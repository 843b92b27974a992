//! Atomic file writes: temp file in the same folder, fsync, rename, fsync the folder.
//!
//! Everything the daemon stores goes through [`write_atomic`], so a kill -9 or a power cut at
//! any point leaves either the old file or the new one, never a half-written one.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

/// Suffix of the temporary files [`write_atomic`] creates; leftovers are removed by [`clean_temp_files`].
pub const TEMP_SUFFIX: &str = ".tmp";

/// Writes `bytes` to `path` atomically (temp file + fsync + rename + fsync of the folder).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    let tmp = dir.join(format!(".{}.{}{}", name.to_string_lossy(), std::process::id(), TEMP_SUFFIX));
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Fsyncs a directory so that a rename or a new entry in it survives a power cut.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Creates `dir` (and parents) and fsyncs its parent so the new entry is durable.
pub fn create_dir_durable(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir)?;
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        sync_dir(parent)?;
    }
    Ok(())
}

/// Removes temporary files left by an interrupted [`write_atomic`] in `dir`; returns how many.
pub fn clean_temp_files(dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            n.starts_with('.') && n.ends_with(TEMP_SUFFIX)
        })
        .filter(|e| fs::remove_file(e.path()).is_ok())
        .count()
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
    fn interrupted_write_leaves_old_file_and_temp_is_cleaned() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        write_atomic(&p, b"old").unwrap();
        // Simulate a crash after the temp file was written but before the rename.
        fs::write(dir.path().join(format!(".a.json.999{TEMP_SUFFIX}")), b"half").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"old");
        assert_eq!(clean_temp_files(dir.path()), 1);
        assert_eq!(clean_temp_files(dir.path()), 0);
    }

    #[test]
    fn write_into_missing_folder_fails_without_creating_target() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("missing").join("a.json");
        assert!(write_atomic(&p, b"x").is_err());
        assert!(!p.exists());
    }
}

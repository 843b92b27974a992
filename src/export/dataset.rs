//! `teachcam export-dataset`: the stored examples as `<label>/<id>.<ext>` image files (the
//! stored bytes, unchanged) plus `manifest.json`, in a folder or a `.tar` file; and reading
//! such an export back, every file checked against the manifest's sha256 before anything is
//! imported.

use super::ExportError;
use crate::store::{validate_label, Store};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Name of the manifest inside an export.
pub const MANIFEST: &str = "manifest.json";
/// The manifest's `format`.
pub const FORMAT: &str = "teachcam-dataset";
/// The manifest's format version.
pub const VERSION: u32 = 1;
/// Largest manifest read back, in bytes.
const MAX_MANIFEST_BYTES: u64 = 64 << 20;

/// `manifest.json`: what an export holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`] of the manifest format.
    pub version: u32,
    /// The teachcam version that wrote it.
    pub teachcam_version: String,
    /// Seconds since the Unix epoch when it was written.
    pub exported_at: u64,
    /// The labels, in class order (the head's order when one is trained).
    pub labels: Vec<String>,
    /// Every image file, in capture order.
    pub files: Vec<FileEntry>,
}

/// One image file of an export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// Path inside the export: `<label>/<id>.<ext>`.
    pub path: String,
    /// The label it is an example of.
    pub label: String,
    /// Hex sha256 of the file.
    pub sha256: String,
    /// Where the example came from: `camera`, an imported file's path, or `recovered`.
    pub origin: String,
    /// Seconds since the Unix epoch when it was captured or imported (0 when unknown).
    pub added: u64,
}

/// Where an export is written or read: a folder or a `.tar` file.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A folder holding `manifest.json` and one folder per label.
    Dir(PathBuf),
    /// A tar file with the same entries.
    Tar(PathBuf),
}

impl Target {
    /// A path ending in `.tar` is a tar file, anything else a folder.
    pub fn for_output(path: &Path) -> Self {
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("tar")) {
            Target::Tar(path.to_path_buf())
        } else {
            Target::Dir(path.to_path_buf())
        }
    }

    /// The export at `path`, when it is one: a folder with a `manifest.json`, or a `.tar` file.
    pub fn detect(path: &Path) -> Option<Self> {
        if path.is_dir() && path.join(MANIFEST).is_file() {
            Some(Target::Dir(path.to_path_buf()))
        } else if path.is_file() && path.extension().is_some_and(|e| e.eq_ignore_ascii_case("tar")) {
            Some(Target::Tar(path.to_path_buf()))
        } else {
            None
        }
    }

    /// The folder or file.
    pub fn path(&self) -> &Path {
        match self {
            Target::Dir(p) | Target::Tar(p) => p,
        }
    }
}

/// Writes every stored example and the manifest to `target` (labels in `labels` order, then
/// any others in name order). Nothing appears at the target unless all of it was written.
pub fn export(store: &Store, labels: &[String], target: &Target) -> Result<Manifest, ExportError> {
    let out = target.path();
    let refuse = |reason: &str| ExportError::Output { path: out.to_path_buf(), reason: reason.into() };
    match target {
        Target::Dir(p) if p.is_dir() && std::fs::read_dir(p).map_or(true, |mut d| d.next().is_some()) => {
            return Err(refuse("already exists and is not empty"))
        }
        Target::Dir(p) if p.exists() && !p.is_dir() => return Err(refuse("exists and is not a folder")),
        Target::Tar(p) if p.is_dir() => return Err(refuse("is a folder")),
        _ => {}
    }
    let entries = store.entries();
    let order = crate::train::class_order(labels, entries.iter().map(|e| e.label.as_str()));
    let exported_at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let mut manifest = Manifest {
        format: FORMAT.into(),
        version: VERSION,
        teachcam_version: env!("CARGO_PKG_VERSION").into(),
        exported_at,
        labels: order,
        files: Vec::with_capacity(entries.len()),
    };
    let tmp = temp_path(out).ok_or_else(|| refuse("has no file name"))?;
    let mut writer = Writer::create(target, &tmp)
        .map_err(|e| ExportError::Output { path: out.into(), reason: format!("cannot be written: {e}") })?;
    let result = (|| {
        for e in &entries {
            let bad = |reason: String| ExportError::Example { id: e.id.clone(), label: e.label.clone(), reason };
            let bytes = store.image(&e.id)?;
            if hex::encode(Sha256::digest(&bytes)) != e.sha256 {
                return Err(bad("is damaged (its image no longer matches its hash); run `teachcam check`".into()));
            }
            if !e.ext.chars().all(|c| c.is_ascii_alphanumeric()) || e.ext.is_empty() || e.ext.len() > 5 {
                return Err(bad(format!("has an unexpected file extension {:?}", e.ext)));
            }
            let path = format!("{}/{}.{}", e.label, e.id, e.ext);
            writer.add(&path, &bytes, e.added).map_err(|err| ExportError::Output {
                path: out.into(),
                reason: format!("cannot be written ({path}): {err}"),
            })?;
            manifest.files.push(FileEntry {
                path,
                label: e.label.clone(),
                sha256: e.sha256.clone(),
                origin: String::from(e.origin.clone()),
                added: e.added,
            });
        }
        let json = serde_json::to_vec_pretty(&manifest).expect("the manifest serialises");
        writer
            .add(MANIFEST, &json, exported_at)
            .and_then(|()| writer.finish(out))
            .map_err(|err| ExportError::Output { path: out.into(), reason: format!("cannot be written: {err}") })
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp).or_else(|_| std::fs::remove_file(&tmp));
    }
    result.map(|()| manifest)
}

/// `.<name>.<pid>.tmp` beside `path`.
fn temp_path(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_string_lossy();
    Some(crate::fsutil::parent_dir(path).join(format!(".{name}.{}{}", std::process::id(), crate::fsutil::TEMP_SUFFIX)))
}

/// Writes an export's files into a temporary folder or tar file, renamed into place at the end.
enum Writer {
    Dir(PathBuf),
    Tar(tar::Builder<BufWriter<File>>, PathBuf),
}

impl Writer {
    fn create(target: &Target, tmp: &Path) -> std::io::Result<Self> {
        Ok(match target {
            Target::Dir(_) => {
                std::fs::create_dir(tmp)?;
                Writer::Dir(tmp.to_path_buf())
            }
            Target::Tar(_) => {
                let mut b = tar::Builder::new(BufWriter::new(File::create(tmp)?));
                b.mode(tar::HeaderMode::Deterministic);
                Writer::Tar(b, tmp.to_path_buf())
            }
        })
    }

    fn add(&mut self, path: &str, bytes: &[u8], mtime: u64) -> std::io::Result<()> {
        match self {
            Writer::Dir(root) => {
                let file = root.join(path);
                if let Some(dir) = file.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                let mut f = File::create(&file)?;
                f.write_all(bytes)?;
                f.sync_all()
            }
            Writer::Tar(b, _) => {
                let mut header = tar::Header::new_gnu();
                header.set_size(bytes.len() as u64);
                header.set_mode(0o644);
                header.set_mtime(mtime);
                b.append_data(&mut header, path, bytes)
            }
        }
    }

    fn finish(&mut self, out: &Path) -> std::io::Result<()> {
        let tmp = match self {
            Writer::Dir(root) => root.clone(),
            Writer::Tar(b, tmp) => {
                b.finish()?;
                b.get_mut().flush()?;
                b.get_ref().get_ref().sync_all()?;
                tmp.clone()
            }
        };
        std::fs::rename(&tmp, out)?;
        crate::fsutil::sync_dir(crate::fsutil::parent_dir(out))
    }
}

/// The result of handling one file of an export.
pub type Step = Result<(), ExportError>;

/// An export read back: its manifest, checked against every file.
#[derive(Debug)]
pub struct Verified {
    /// Where it is.
    pub source: Target,
    /// Its manifest.
    pub manifest: Manifest,
}

/// Reads the export at `source` and checks it completely before anything is imported: a valid
/// manifest, every file it lists present with its sha256 (each at most `max_bytes`), no other
/// files. Errors name the file.
pub fn verify(source: Target, max_bytes: u64) -> Result<Verified, ExportError> {
    let root = source.path().to_path_buf();
    let bad = |path: &str, reason: String| ExportError::BadExport { path: root.join(path), reason };
    let mut manifest_bytes = None;
    let mut found: HashMap<String, String> = HashMap::new();
    each_file(&source, max_bytes, &mut |path, bytes| {
        if path == MANIFEST {
            manifest_bytes = Some(bytes);
        } else {
            found.insert(path.to_string(), hex::encode(Sha256::digest(&bytes)));
        }
        Ok(())
    })?;
    let bytes = manifest_bytes.ok_or_else(|| bad(MANIFEST, "is missing: not a teachcam dataset export".into()))?;
    let manifest: Manifest =
        serde_json::from_slice(&bytes).map_err(|e| bad(MANIFEST, format!("is not a valid manifest ({e})")))?;
    check_manifest(&manifest).map_err(|reason| bad(MANIFEST, format!("is not valid: {reason}")))?;
    let listed: HashSet<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    for f in &manifest.files {
        match found.get(&f.path) {
            None => return Err(bad(&f.path, "is listed in the manifest but missing".into())),
            Some(sha) if *sha != f.sha256 => {
                return Err(bad(&f.path, format!("is damaged: its sha256 is {sha}, the manifest says {}", f.sha256)))
            }
            Some(_) => {}
        }
    }
    if let Some(extra) = found.keys().filter(|p| !listed.contains(p.as_str())).min() {
        return Err(bad(extra, "is not in the manifest (import it with `teachcam import --label LABEL`)".into()));
    }
    Ok(Verified { source, manifest })
}

/// Checks the manifest's own consistency: format, version, labels, paths, hashes.
fn check_manifest(m: &Manifest) -> Result<(), String> {
    if m.format != FORMAT {
        return Err(format!("format is {:?}, expected {FORMAT:?}", m.format));
    }
    if m.version != VERSION {
        return Err(format!("format version {} is not {VERSION} (made by another teachcam version)", m.version));
    }
    for l in &m.labels {
        validate_label(l).map_err(|e| e.to_string())?;
    }
    let mut paths = HashSet::new();
    for f in &m.files {
        let name = f.path.strip_prefix(&format!("{}/", f.label)).unwrap_or("");
        let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
        let ok_name = !name.starts_with('.')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
            && ["jpg", "jpeg", "png"].contains(&ext.as_str());
        if !m.labels.contains(&f.label) || !ok_name {
            return Err(format!("entry {:?} is not <label>/<name>.jpg|png with a listed label", f.path));
        }
        if f.sha256.len() != 64 || !f.sha256.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!("entry {:?} has no valid sha256", f.path));
        }
        if !paths.insert(f.path.as_str()) {
            return Err(format!("entry {:?} is listed twice", f.path));
        }
    }
    Ok(())
}

/// Calls `f` with each regular file of the export (path relative to it, with `/`, and its
/// bytes); hidden files in a folder export are skipped. A file above `max_bytes` (the manifest:
/// 64 MB), a link or a special file is an error naming it.
fn each_file(source: &Target, max_bytes: u64, f: &mut dyn FnMut(&str, Vec<u8>) -> Step) -> Result<(), ExportError> {
    let root = source.path();
    let bad = |path: &Path, reason: String| ExportError::BadExport { path: path.to_path_buf(), reason };
    let limit = |path: &str| if path == MANIFEST { MAX_MANIFEST_BYTES } else { max_bytes };
    let read = |r: &mut dyn Read, path: &str, display: &Path| -> Result<Vec<u8>, ExportError> {
        let mut bytes = Vec::new();
        r.take(limit(path) + 1).read_to_end(&mut bytes).map_err(|e| bad(display, format!("cannot be read: {e}")))?;
        if bytes.len() as u64 > limit(path) {
            return Err(bad(display, format!("is larger than {} bytes", limit(path))));
        }
        Ok(bytes)
    };
    match source {
        Target::Dir(_) => {
            for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
                let entry = entry.map_err(|e| bad(root, format!("cannot be read: {e}")))?;
                let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
                let hidden = rel.components().any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
                if entry.depth() == 0 || hidden || entry.file_type().is_dir() {
                    continue;
                }
                if !entry.file_type().is_file() {
                    return Err(bad(entry.path(), "is not a regular file".into()));
                }
                let path = rel.to_string_lossy().replace('\\', "/");
                let mut file =
                    File::open(entry.path()).map_err(|e| bad(entry.path(), format!("cannot be read: {e}")))?;
                let bytes = read(&mut file, &path, entry.path())?;
                f(&path, bytes)?;
            }
        }
        Target::Tar(_) => {
            let file = File::open(root).map_err(|e| bad(root, format!("cannot be read: {e}")))?;
            let mut archive = tar::Archive::new(std::io::BufReader::new(file));
            let entries = archive.entries().map_err(|e| bad(root, format!("is not a tar file: {e}")))?;
            for entry in entries {
                let mut entry = entry.map_err(|e| bad(root, format!("is not a valid tar file: {e}")))?;
                let name = entry.path().map(|p| p.to_string_lossy().to_string()).unwrap_or_default();
                let path = name.trim_start_matches("./").to_string();
                let display = root.join(&path);
                match entry.header().entry_type() {
                    tar::EntryType::Directory => continue,
                    tar::EntryType::Regular => {}
                    _ => return Err(bad(&display, "is not a regular file".into())),
                }
                let bytes = read(&mut entry, &path, &display)?;
                f(&path, bytes)?;
            }
        }
    }
    Ok(())
}

impl Verified {
    /// Calls `f` with each listed file's entry and bytes, checking each sha256 again (the files
    /// are read a second time); stops at the first error `f` returns.
    pub fn for_each(&self, max_bytes: u64, f: &mut dyn FnMut(&FileEntry, Vec<u8>) -> Step) -> Result<(), ExportError> {
        let by_path: BTreeMap<&str, &FileEntry> = self.manifest.files.iter().map(|f| (f.path.as_str(), f)).collect();
        each_file(&self.source, max_bytes, &mut |path, bytes| {
            let Some(entry) = by_path.get(path) else { return Ok(()) };
            if hex::encode(Sha256::digest(&bytes)) != entry.sha256 {
                return Err(ExportError::Changed(self.source.path().join(path)));
            }
            f(entry, bytes)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(path: &str, label: &str) -> Manifest {
        Manifest {
            format: FORMAT.into(),
            version: VERSION,
            teachcam_version: "0".into(),
            exported_at: 0,
            labels: vec!["cat".into(), "dog".into()],
            files: vec![FileEntry {
                path: path.into(),
                label: label.into(),
                sha256: "ab".repeat(32),
                origin: "camera".into(),
                added: 0,
            }],
        }
    }

    #[test]
    fn manifest_paths_stay_inside_their_label_folder() {
        assert_eq!(check_manifest(&manifest("cat/1795459858389-000.jpg", "cat")), Ok(()));
        for (path, label) in [
            ("cat/../../etc/passwd.jpg", "cat"),
            ("../cat/a.jpg", "cat"),
            ("/cat/a.jpg", "cat"),
            ("cat/sub/a.jpg", "cat"),
            ("cat/.hidden.jpg", "cat"),
            ("dog/a.jpg", "cat"),
            ("cow/a.jpg", "cow"),
            ("cat/a.exe", "cat"),
        ] {
            assert!(check_manifest(&manifest(path, label)).is_err(), "{path} ({label}) is refused");
        }
        let mut m = manifest("cat/a.png", "cat");
        m.files.push(m.files[0].clone());
        assert!(check_manifest(&m).unwrap_err().contains("listed twice"));
        m.files.pop();
        m.files[0].sha256 = "xyz".into();
        assert!(check_manifest(&m).unwrap_err().contains("sha256"));
        m.files[0].sha256 = "ab".repeat(32);
        m.version = 2;
        assert!(check_manifest(&m).unwrap_err().contains("format version 2"));
    }
}

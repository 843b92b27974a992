//! A cache of the analysed model, so that start-up skips tract's ONNX analysis.
//!
//! Turning the ONNX file into a typed tract model takes most of the load time (measured here
//! 0.7–1.0 s of 0.9–1.1 s; on a Pi several seconds). The typed model (before decluttering, which
//! chooses layouts per machine) is saved once in tract's NNEF form and read back on later starts
//! (~50 ms here), then decluttered, rewritten and optimised as usual.
//!
//! A cached model is used only when everything it was made from is unchanged: the model file
//! (sha256), the input shape and outputs, teachcam's version and the exact dependency versions
//! it was built with (a checksum of `Cargo.lock`, so another tract makes its own), and
//! [`ANALYSIS_VERSION`]. The file carries a CRC-32 checked before use. Anything wrong with the
//! cache is never an error: the model is analysed from the ONNX file as without a cache, and the
//! cache rewritten.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use tract_nnef::framework::Nnef;
use tract_onnx::prelude::*;
use tract_onnx::WithOnnx;

/// Bump when the analysis in `tract_backend` changes what it produces for the same file.
pub const ANALYSIS_VERSION: u32 = 2;

/// Where cached models live, resolved from `model.cache`: `"off"`, `"auto"` or a folder.
///
/// `"auto"` takes, in order: `$TEACHCAM_CACHE_DIR`, `$CACHE_DIRECTORY` (set by systemd's
/// `CacheDirectory=`), `$XDG_CACHE_HOME/teachcam`, `$HOME/.cache/teachcam`; none set means no cache.
pub fn cache_dir(setting: &str) -> Option<PathBuf> {
    match setting {
        "off" => None,
        "auto" => {
            let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
            var("TEACHCAM_CACHE_DIR")
                .or_else(|| var("CACHE_DIRECTORY"))
                .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("teachcam")))
                .or_else(|| var("HOME").map(|d| d.join(".cache").join("teachcam")))
        }
        dir => Some(PathBuf::from(dir)),
    }
}

/// The sha256 of the model file at `path`, from a note in `dir` when the file is unchanged since
/// (same device, inode, size, modification and status-change times, as git's index checks), else
/// computed and noted. Hashing the 4.8 MB model costs 147 M instructions on a Cortex-A72 (no SHA
/// extension on the Pi 4): 15 % of a cached start.
pub fn model_sha256(dir: Option<&Path>, path: &Path) -> io::Result<String> {
    let Some(dir) = dir else { return super::tract_backend::file_sha256(path) };
    let stamp = file_stamp(path)?;
    // The note is best effort: a path that cannot be resolved is noted as given.
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let note = dir.join(format!("{:08x}.sha256", crc32fast::hash(canonical.to_string_lossy().as_bytes())));
    if let Ok(text) = std::fs::read_to_string(&note) {
        if let Some((noted, sha)) = text.trim().rsplit_once(' ') {
            if noted == format!("{} {stamp}", canonical.display()) && sha.len() == 64 {
                return Ok(sha.to_string());
            }
        }
    }
    log::debug!("hashing {} (no note of it for {stamp})", path.display());
    let sha = super::tract_backend::file_sha256(path)?;
    // A file changed while it was hashed gets no note.
    if file_stamp(path)? == stamp {
        let tmp = temp_name(dir, &note);
        let written = std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(&tmp, format!("{} {stamp} {sha}\n", canonical.display())))
            .and_then(|()| std::fs::rename(&tmp, &note));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
    Ok(sha)
}

/// A temporary name beside `file` in `dir`, unique per process and per call (tests load the
/// model from several threads at once).
fn temp_name(dir: &Path, file: &Path) -> PathBuf {
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = file.file_name().unwrap_or_default().to_string_lossy();
    dir.join(format!(".{}.{call}.{name}.tmp", std::process::id()))
}

/// What changes whenever a file's contents may have: device, inode, size, mtime and ctime.
fn file_stamp(path: &Path) -> io::Result<String> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path)?;
    Ok(format!(
        "{}:{}:{}:{}.{}:{}.{}",
        m.dev(),
        m.ino(),
        m.size(),
        m.mtime(),
        m.mtime_nsec(),
        m.ctime(),
        m.ctime_nsec()
    ))
}

/// One cached model: its NNEF file and the key that says what it was made from.
pub struct ModelCache {
    tar: PathBuf,
    key_file: PathBuf,
    key: String,
}

impl ModelCache {
    /// The cache entry for the model with this sha256, input shape and outputs, in `dir`.
    pub fn new(dir: &Path, sha256: &str, shape: &[usize], outputs: &[&str]) -> Self {
        let dims = shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("x");
        let stem = format!("{}-{dims}", &sha256[..sha256.len().min(16)]);
        let key = format!(
            "teachcam-model-cache 1\nteachcam {} analysis {ANALYSIS_VERSION} dependencies {:08x}\nmodel {sha256}\ninput {dims}\noutputs {}\n",
            env!("CARGO_PKG_VERSION"),
            crc32fast::hash(include_bytes!("../../Cargo.lock")),
            outputs.join(",")
        );
        Self { tar: dir.join(format!("{stem}.nnef.tar")), key_file: dir.join(format!("{stem}.key")), key }
    }

    /// The NNEF file of this entry.
    pub fn path(&self) -> &Path {
        &self.tar
    }

    /// The cached typed model, if there is one made from the same inputs and it is intact.
    pub fn load(&self) -> Option<TypedModel> {
        let stored = std::fs::read_to_string(&self.key_file).ok()?;
        let (key, sums) = stored.split_once("crc32 ")?;
        if key != self.key {
            return None;
        }
        let (crc, len) = sums.trim().split_once(" bytes ")?;
        let (crc, len): (u32, u64) = (u32::from_str_radix(crc, 16).ok()?, len.parse().ok()?);
        let file = File::open(&self.tar).ok()?;
        if file.metadata().ok()?.len() != len {
            return self.damaged("its size is not the recorded one");
        }
        let mut reader = CrcReader { inner: BufReader::new(file), crc: crc32fast::Hasher::new() };
        let model = nnef().model_for_read(&mut reader);
        // The parser may stop before the tar's padding: the checksum covers the whole file.
        if io::copy(&mut reader, &mut io::sink()).is_err() || reader.crc.finalize() != crc {
            return self.damaged("its checksum does not match");
        }
        match model {
            Ok(m) => Some(m),
            Err(e) => self.damaged(&format!("{e:#}")),
        }
    }

    fn damaged(&self, why: &str) -> Option<TypedModel> {
        log::warn!("ignoring the cached model {}: {why}; analysing the ONNX file instead", self.tar.display());
        let _ = std::fs::remove_file(&self.key_file);
        None
    }

    /// Saves `model` (best effort: a cache that cannot be written only costs start-up time).
    pub fn store(&self, model: &TypedModel) {
        if let Err(e) = self.try_store(model) {
            log::debug!("model cache {} not written: {e:#}", self.tar.display());
        }
    }

    fn try_store(&self, model: &TypedModel) -> anyhow::Result<()> {
        let dir = crate::fsutil::parent_dir(&self.tar);
        std::fs::create_dir_all(dir)?;
        // The old key goes first, so a half-written pair never looks valid.
        let _ = std::fs::remove_file(&self.key_file);
        let tmp = temp_name(dir, &self.tar);
        let result = (|| -> anyhow::Result<(u32, u64)> {
            let mut w = CrcWriter { inner: BufWriter::new(File::create(&tmp)?), crc: crc32fast::Hasher::new(), len: 0 };
            nnef().write_to_tar(model, &mut w)?;
            w.inner.flush()?;
            std::fs::rename(&tmp, &self.tar)?;
            Ok((w.crc.finalize(), w.len))
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        let (crc, len) = result?;
        let key_tmp = temp_name(dir, &self.key_file);
        std::fs::write(&key_tmp, format!("{}crc32 {crc:08x} bytes {len}\n", self.key))
            .and_then(|()| std::fs::rename(&key_tmp, &self.key_file))
            .inspect_err(|_| {
                let _ = std::fs::remove_file(&key_tmp);
            })?;
        log::debug!("cached the analysed model in {} ({len} bytes)", self.tar.display());
        Ok(())
    }
}

/// tract's NNEF reader and writer, with the ONNX-specific operators.
fn nnef() -> Nnef {
    tract_nnef::nnef().with_onnx()
}

struct CrcReader<R> {
    inner: R,
    crc: crc32fast::Hasher,
}

impl<R: Read> Read for CrcReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }
}

struct CrcWriter<W> {
    inner: W,
    crc: crc32fast::Hasher,
    len: u64,
}

impl<W: Write> Write for CrcWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

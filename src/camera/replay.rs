//! Replays images from a folder as a frame source (for tests, scenarios and
//! demos without a camera).

use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use super::{CameraError, Frame, FrameSource, ReplayConfig};
use log::warn;

/// Deepest folder nesting followed when recursing (guards symlink loops).
const MAX_DEPTH: usize = 32;

/// Frames from the images of a folder, in file name order.
#[derive(Debug)]
pub struct ReplaySource {
    cfg: ReplayConfig,
    files: Vec<PathBuf>,
    next: usize,
    seq: u64,
    /// Failed loads since the last successful one.
    failures_in_row: usize,
    /// When the next frame is due (fps pacing).
    due: Option<Instant>,
}

impl ReplaySource {
    /// Lists the images of `cfg.dir`; errors if the folder is missing or
    /// holds no images.
    pub fn open(cfg: &ReplayConfig) -> Result<Self, CameraError> {
        cfg.check().map_err(|(key, reason)| CameraError::InvalidConfig(format!("replay {key}: {reason}")))?;
        let files = list_images(&cfg.dir, cfg.recurse)?;
        Ok(ReplaySource { cfg: cfg.clone(), files, next: 0, seq: 0, failures_in_row: 0, due: None })
    }

    /// Replays exactly `files`, in the given order, unpaced and not looping; `origin` names
    /// where they come from in messages (the scenario runner uses this).
    pub fn from_files(files: Vec<PathBuf>, origin: &Path) -> Self {
        ReplaySource { cfg: ReplayConfig::new(origin), files, next: 0, seq: 0, failures_in_row: 0, due: None }
    }

    /// The images that are replayed, in order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Sleeps until the next frame is due when pacing is on.
    fn pace(&mut self) {
        if self.cfg.fps <= 0.0 {
            return;
        }
        let period = Duration::from_secs_f32(1.0 / self.cfg.fps);
        let now = Instant::now();
        let due = match self.due {
            Some(due) if due > now => {
                thread::sleep(due - now);
                due
            }
            // First frame, or running late: restart the schedule now.
            _ => now,
        };
        self.due = Some(due + period);
    }
}

impl FrameSource for ReplaySource {
    fn next_frame(&mut self) -> Result<Option<Frame>, CameraError> {
        loop {
            if self.next == self.files.len() {
                if !self.cfg.looping {
                    return Ok(None);
                }
                self.next = 0;
            }
            if self.failures_in_row >= self.files.len() {
                return Err(CameraError::ReplayAllCorrupt { dir: self.cfg.dir.clone(), count: self.files.len() });
            }
            let path = self.files[self.next].clone();
            self.next += 1;
            match crate::imageio::read_image(&path, &crate::imageio::ImageLimits::default()) {
                Ok((_, img)) => {
                    self.failures_in_row = 0;
                    self.pace();
                    let frame = Frame { image: img, seq: self.seq, source: Some(path) };
                    self.seq += 1;
                    return Ok(Some(frame));
                }
                Err(e) => {
                    // A folder that is gone is one error, not one warning per image.
                    if let Some(folder) = path.parent().filter(|f| !f.is_dir()) {
                        return Err(CameraError::ReplayDirMissing { dir: folder.to_path_buf() });
                    }
                    self.failures_in_row += 1;
                    warn!("replay: skipping {e}");
                }
            }
        }
    }

    fn describe(&self) -> String {
        let pace = if self.cfg.fps > 0.0 { format!("{} fps", self.cfg.fps) } else { "unpaced".to_string() };
        let looping = if self.cfg.looping { ", looping" } else { "" };
        format!("replay of {} ({} images, {pace}{looping})", self.cfg.dir.display(), self.files.len())
    }
}

/// Whether `path` has an image extension and is not a hidden file.
fn is_image(path: &Path) -> bool {
    let hidden = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
    crate::imageio::is_image_path(path) && !hidden
}

/// Lists the images of `dir` in file name order; with `recurse`, the images
/// of a sub-folder come at the place of the sub-folder's name. Hidden files and
/// folders are skipped.
pub fn list_images(dir: &Path, recurse: bool) -> Result<Vec<PathBuf>, CameraError> {
    if !dir.is_dir() {
        return Err(CameraError::ReplayDirMissing { dir: dir.to_path_buf() });
    }
    let (files, has_subdirs) =
        walk_images(dir, recurse).map_err(|(dir, source)| CameraError::ReplayDirRead { dir, source })?;
    if files.is_empty() {
        let hint = if has_subdirs && !recurse {
            " (it has sub-folders: set recurse = true to include them)".to_string()
        } else {
            String::new()
        };
        return Err(CameraError::ReplayDirEmpty { dir: dir.to_path_buf(), hint });
    }
    Ok(files)
}

/// Why a folder of photos given to a command yields no images.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    /// The folder holds no images, in any sub-folder either.
    #[error("folder {} has no .jpg/.jpeg/.png images (sub-folders included)", dir.display())]
    NoImages {
        /// The folder.
        dir: PathBuf,
    },
    /// Listing the folder (or one of its sub-folders) failed.
    #[error("cannot read folder {}: {source}", dir.display())]
    Read {
        /// The folder that could not be listed.
        dir: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// The images of the folder `dir` and its sub-folders, in name order, for commands given
/// folders of photos (`import`, `predict`, `eval`): [`list_images`] with messages about the
/// folder instead of a replay.
pub fn images_in_folder(dir: &Path) -> Result<Vec<PathBuf>, FolderError> {
    let (files, _) = walk_images(dir, true).map_err(|(dir, source)| FolderError::Read { dir, source })?;
    if files.is_empty() {
        return Err(FolderError::NoImages { dir: dir.to_path_buf() });
    }
    Ok(files)
}

/// The images under `dir` in name order, and whether it has sub-folders; on failure, the
/// folder that could not be listed.
fn walk_images(dir: &Path, recurse: bool) -> Result<(Vec<PathBuf>, bool), (PathBuf, std::io::Error)> {
    let hidden = |e: &walkdir::DirEntry| e.depth() > 0 && e.file_name().to_str().is_some_and(|n| n.starts_with('.'));
    let walker = walkdir::WalkDir::new(dir)
        .min_depth(1)
        .max_depth(if recurse { MAX_DEPTH + 1 } else { 1 })
        .follow_links(true)
        .sort_by_file_name();
    let (mut files, mut has_subdirs) = (Vec::new(), false);
    for entry in walker.into_iter().filter_entry(|e| !hidden(e)) {
        let entry = entry.map_err(|e| (e.path().and_then(Path::parent).unwrap_or(dir).to_path_buf(), e.into()))?;
        if entry.file_type().is_dir() {
            has_subdirs = true;
        } else if is_image(entry.path()) {
            files.push(entry.into_path());
        }
    }
    Ok((files, has_subdirs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_file_filter() {
        assert!(is_image(Path::new("a/b.jpg")));
        assert!(is_image(Path::new("a/b.JPEG")));
        assert!(is_image(Path::new("b.Png")));
        assert!(!is_image(Path::new("b.gif")));
        assert!(!is_image(Path::new("b")));
        assert!(!is_image(Path::new("a/._b.jpg")));
    }
}

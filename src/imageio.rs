//! Decoding images from files and bytes into RGB, honouring EXIF orientation, within size limits.
//!
//! [`decode_checked`] is the one place image bytes become pixels (imports, predictions, replayed
//! photos and camera JPEG frames all go through it). Before decoding it checks the byte size,
//! the format (JPEG or PNG), the pixel count read from the header, and that a JPEG is complete.

mod jpeg_end;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbImage};
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

/// Default `model.max_image_pixels`: 32 MP. Pi cameras give 5–12.3 MP (Camera Module 3:
/// 4608×2592, HQ: 4056×3040), phones 12 MP by default and 24 MP on recent iPhones (5712×4284).
/// A decoded 32 MP image is 96 MB of RGB; the 48–200 MP "full resolution" phone modes are
/// refused with a message naming the key.
pub const DEFAULT_MAX_PIXELS: u64 = 32_000_000;

/// Default `model.max_image_bytes`: 64 MB, above a top-quality 32 MP JPEG (~25 MB) or a 12 MP
/// photographic PNG (~30 MB); the file is never read further than this.
pub const DEFAULT_MAX_BYTES: u64 = 64_000_000;

/// Longest side any format accepted here can be stored back as (JPEG's limit): larger images
/// are refused so that every decoded image can be stored as a capture.
pub const MAX_SIDE: u32 = 65_535;

/// How large an image teachcam agrees to read and decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    /// Most pixels (width × height, read from the header before decoding).
    pub max_pixels: u64,
    /// Most bytes of the encoded image.
    pub max_bytes: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        Self { max_pixels: DEFAULT_MAX_PIXELS, max_bytes: DEFAULT_MAX_BYTES }
    }
}

/// Why image bytes could not be decoded (the caller names their source).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    /// More bytes than `model.max_image_bytes`.
    #[error("{bytes} bytes, more than model.max_image_bytes ({max})")]
    TooManyBytes {
        /// The size found (for a file read up to the limit: more than `max`).
        bytes: u64,
        /// The limit.
        max: u64,
    },
    /// More pixels than `model.max_image_pixels`, read from the header before decoding.
    #[error("{width}×{height} pixels ({:.1} MP), more than model.max_image_pixels ({:.1} MP)",
        megapixels(u64::from(*width) * u64::from(*height)), megapixels(*max))]
    TooManyPixels {
        /// Width in the header.
        width: u32,
        /// Height in the header.
        height: u32,
        /// The limit.
        max: u64,
    },
    /// A side of zero or longer than [`MAX_SIDE`].
    #[error("{width}×{height} pixels: each side must be 1 to {MAX_SIDE} pixels")]
    BadSides {
        /// Width in the header.
        width: u32,
        /// Height in the header.
        height: u32,
    },
    /// Neither a JPEG nor a PNG.
    #[error("not a JPEG or PNG{}", found.map(|f| format!(" (looks like {f:?})")).unwrap_or_default())]
    UnknownFormat {
        /// The format the first bytes suggest, if any.
        found: Option<ImageFormat>,
    },
    /// A JPEG whose end is missing (the decoder would fill the rest with grey).
    #[error("truncated JPEG: {0}")]
    Truncated(&'static str),
    /// The decoder refused the data.
    #[error("undecodable {format}: {reason}")]
    Decoder {
        /// "JPEG" or "PNG".
        format: &'static str,
        /// What the decoder said.
        reason: String,
    },
}

/// Why an image file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The file could not be read from disk.
    #[error("cannot read image {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file's contents are not a usable image.
    #[error("{}: {problem}", path.display())]
    Bad {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: DecodeError,
    },
}

fn megapixels(pixels: u64) -> f64 {
    pixels as f64 / 1e6
}

/// File extensions (lower case) treated as images when importing folders.
pub const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png"];

/// True when `path` has one of the [`IMAGE_EXTENSIONS`].
pub fn is_image_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Decodes JPEG or PNG bytes to RGB8, applying the EXIF orientation if any, after checking
/// them against `limits` and, for a JPEG, that it is complete. A pure function of its inputs.
pub fn decode_checked(bytes: &[u8], limits: &ImageLimits) -> Result<RgbImage, DecodeError> {
    if bytes.len() as u64 > limits.max_bytes {
        return Err(DecodeError::TooManyBytes { bytes: bytes.len() as u64, max: limits.max_bytes });
    }
    let unknown = DecodeError::UnknownFormat { found: None };
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|_| unknown.clone())?;
    let format = match reader.format() {
        Some(ImageFormat::Jpeg) => "JPEG",
        Some(ImageFormat::Png) => "PNG",
        found => return Err(DecodeError::UnknownFormat { found }),
    };
    if format == "JPEG" {
        if let Some(why) = jpeg_end::truncation(bytes) {
            return Err(DecodeError::Truncated(why));
        }
    }
    let err = |e: image::ImageError| DecodeError::Decoder { format, reason: e.to_string() };
    // Bounds the decoders' own allocations too (16-bit RGBA is 8 bytes a pixel).
    let mut alloc = image::Limits::default();
    alloc.max_alloc = Some(limits.max_pixels.saturating_mul(8).max(alloc.max_alloc.unwrap_or(0)));
    reader.limits(alloc);
    let mut decoder = reader.into_decoder().map_err(err)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(DecodeError::TooManyPixels { width, height, max: limits.max_pixels });
    }
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
        return Err(DecodeError::BadSides { width, height });
    }
    let orientation = decoder.orientation().ok();
    let mut img = DynamicImage::ImageRgb8(DynamicImage::from_decoder(decoder).map_err(err)?.into_rgb8());
    if let Some(o) = orientation {
        img.apply_orientation(o);
    }
    Ok(img.into_rgb8())
}

/// Reads an image file's bytes, refusing (without reading them all) more than `limits.max_bytes`.
pub fn read_bytes(path: &Path, limits: &ImageLimits) -> Result<Vec<u8>, ImageError> {
    let io = |source| ImageError::Io { path: path.to_path_buf(), source };
    let too_big = |bytes| ImageError::Bad {
        path: path.to_path_buf(),
        problem: DecodeError::TooManyBytes { bytes, max: limits.max_bytes },
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len > limits.max_bytes {
        return Err(too_big(len));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(limits.max_bytes + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > limits.max_bytes {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Reads and decodes an image file within `limits`; returns the raw bytes too (the store keeps
/// them as-is).
pub fn read_image(path: &Path, limits: &ImageLimits) -> Result<(Vec<u8>, RgbImage), ImageError> {
    let bytes = read_bytes(path, limits)?;
    let img =
        decode_checked(&bytes, limits).map_err(|problem| ImageError::Bad { path: path.to_path_buf(), problem })?;
    Ok((bytes, img))
}

/// Encodes an RGB image as JPEG at `quality` (used to store camera captures).
pub fn encode_jpeg(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    img.write_with_encoder(enc).expect("JPEG encoding into memory cannot fail");
    out
}

#[cfg(test)]
mod tests;

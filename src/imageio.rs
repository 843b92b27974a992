//! Decoding images from files and bytes into RGB, honouring EXIF orientation.

use image::{DynamicImage, ImageDecoder, ImageReader, RgbImage};
use std::io::Cursor;
use std::path::{Path, PathBuf};

/// Why an image could not be read.
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
    /// The bytes are not a decodable JPEG or PNG.
    #[error("cannot decode image {what}: {reason}")]
    Decode {
        /// The file path, or a description of the frame.
        what: String,
        /// What the decoder said.
        reason: String,
    },
}

/// File extensions (lower case) treated as images when importing folders.
pub const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png"];

/// True when `path` has one of the [`IMAGE_EXTENSIONS`].
pub fn is_image_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Decodes JPEG or PNG bytes to RGB8, applying the EXIF orientation if any.
/// `what` names the source (a file path or a frame) in the error.
pub fn decode_rgb(bytes: &[u8], what: &str) -> Result<RgbImage, ImageError> {
    let err = |e: &dyn std::fmt::Display| ImageError::Decode { what: what.to_string(), reason: e.to_string() };
    let reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| err(&e))?;
    let mut decoder = reader.into_decoder().map_err(|e| err(&e))?;
    let orientation = decoder.orientation().ok();
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| err(&e))?;
    if let Some(o) = orientation {
        img.apply_orientation(o);
    }
    Ok(img.into_rgb8())
}

/// Reads and decodes an image file; returns the raw bytes too (the store keeps them as-is).
pub fn read_image(path: &Path) -> Result<(Vec<u8>, RgbImage), ImageError> {
    let bytes = std::fs::read(path).map_err(|source| ImageError::Io { path: path.to_path_buf(), source })?;
    let img = decode_rgb(&bytes, &path.display().to_string())?;
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
mod tests {
    use super::*;

    #[test]
    fn corrupt_bytes_name_the_source() {
        let e = decode_rgb(b"definitely not a jpeg", "photos/x.jpg").unwrap_err();
        assert!(e.to_string().contains("photos/x.jpg"), "{e}");
    }

    #[test]
    fn truncated_jpeg_is_an_error() {
        let img = RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 4, y as u8 * 5, 7]));
        let jpg = encode_jpeg(&img, 90);
        assert!(decode_rgb(&jpg[..jpg.len() / 3], "t").is_err());
        let back = decode_rgb(&jpg, "t").unwrap();
        assert_eq!(back.dimensions(), (64, 48));
    }

    #[test]
    fn image_extensions_are_case_insensitive() {
        assert!(is_image_path(Path::new("a/B.JPG")));
        assert!(is_image_path(Path::new("c.png")));
        assert!(!is_image_path(Path::new("d.txt")));
        assert!(!is_image_path(Path::new("noext")));
    }
}

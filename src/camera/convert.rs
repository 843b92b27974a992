//! Pixel conversions to RGB: YUYV and I420 (BT.601 limited range) and JPEG
//! decoding (through [`crate::imageio::decode_checked`]), including MJPEG frames that omit
//! their Huffman tables.

use std::borrow::Cow;

use image::RgbImage;

use super::CameraError;
use crate::imageio::{decode_checked, DecodeError, ImageLimits};

/// Converts one BT.601 limited-range (studio swing) YCbCr sample to RGB.
#[inline]
pub fn ycbcr_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    // Fixed point, coefficients scaled by 256: 1.164, 1.596, 0.392, 0.813, 2.017.
    let c = 298 * (i32::from(y) - 16);
    let d = i32::from(cb) - 128;
    let e = i32::from(cr) - 128;
    let clamp = |v: i32| ((v + 128) >> 8).clamp(0, 255) as u8;
    [clamp(c + 409 * e), clamp(c - 100 * d - 208 * e), clamp(c + 516 * d)]
}

/// Converts a packed YUYV (Y0 U Y1 V) frame with `stride` bytes per row to RGB.
///
/// `width` must be even; `stride` must be at least `2 * width`.
pub fn yuyv_to_rgb(data: &[u8], width: u32, height: u32, stride: usize) -> Result<RgbImage, CameraError> {
    if !width.is_multiple_of(2) {
        return Err(CameraError::InvalidConfig(format!("YUYV width must be even, got {width}")));
    }
    let (w, h) = (width as usize, height as usize);
    let stride = stride.max(2 * w);
    let expected = stride * h.saturating_sub(1) + 2 * w;
    if h > 0 && data.len() < expected {
        return Err(CameraError::ShortFrame { expected, got: data.len() });
    }
    let mut out = vec![0u8; w * h * 3];
    for (row, out_row) in out.chunks_exact_mut(w * 3).enumerate() {
        let src = &data[row * stride..row * stride + 2 * w];
        for (quad, px) in src.chunks_exact(4).zip(out_row.chunks_exact_mut(6)) {
            let (y0, u, y1, v) = (quad[0], quad[1], quad[2], quad[3]);
            px[..3].copy_from_slice(&ycbcr_to_rgb(y0, u, v));
            px[3..].copy_from_slice(&ycbcr_to_rgb(y1, u, v));
        }
    }
    Ok(RgbImage::from_raw(width, height, out).expect("buffer sized for the image"))
}

/// Number of bytes of one planar I420 frame whose luma rows are `stride`
/// bytes apart (chroma rows `stride / 2`), without vertical padding.
pub fn i420_frame_len(stride: usize, height: u32) -> usize {
    let h = height as usize;
    stride * h + 2 * (stride / 2) * h.div_ceil(2)
}

/// Converts a planar I420 frame (Y plane, then U, then V) to RGB.
///
/// Luma rows are `stride` bytes apart, chroma rows `stride / 2`; the
/// padding at the end of each row is ignored. `width` and `height` must
/// be even and `stride` at least `width`.
pub fn i420_to_rgb(data: &[u8], width: u32, height: u32, stride: usize) -> Result<RgbImage, CameraError> {
    if !width.is_multiple_of(2) || !height.is_multiple_of(2) {
        return Err(CameraError::InvalidConfig(format!("I420 width and height must be even, got {width}x{height}")));
    }
    if stride < width as usize || !stride.is_multiple_of(2) {
        return Err(CameraError::InvalidConfig(format!(
            "I420 stride {stride} must be even and at least the width {width}"
        )));
    }
    let expected = i420_frame_len(stride, height);
    if data.len() < expected {
        return Err(CameraError::ShortFrame { expected, got: data.len() });
    }
    let (w, h) = (width as usize, height as usize);
    let cstride = stride / 2;
    let (y_plane, chroma) = data.split_at(stride * h);
    let (u_plane, v_plane) = chroma.split_at(cstride * (h / 2));
    let mut out = vec![0u8; w * h * 3];
    for (row, out_row) in out.chunks_exact_mut(w * 3).enumerate() {
        let y_row = &y_plane[row * stride..row * stride + w];
        let c_off = (row / 2) * cstride;
        let u_row = &u_plane[c_off..c_off + w / 2];
        let v_row = &v_plane[c_off..c_off + w / 2];
        for (col, px) in out_row.chunks_exact_mut(3).enumerate() {
            px.copy_from_slice(&ycbcr_to_rgb(y_row[col], u_row[col / 2], v_row[col / 2]));
        }
    }
    Ok(RgbImage::from_raw(width, height, out).expect("buffer sized for the image"))
}

/// Decodes one JPEG frame to RGB, refusing a truncated or damaged one (the caller drops it)
/// and one over the default [`ImageLimits`] (a camera's frames are far below them).
///
/// Many UVC webcams send MJPEG frames without Huffman tables (DHT), relying
/// on the standard tables of JPEG Annex K. For such frames an `AVI1` APP0
/// segment is inserted, which tells the decoder to use the standard tables.
pub fn decode_jpeg(data: &[u8]) -> Result<RgbImage, DecodeError> {
    decode_checked(&with_default_huffman_marker(data), &ImageLimits::default())
}

/// APP0 segment `AVI1`: marks MJPEG data that relies on the standard tables.
const AVI1_APP0: [u8; 9] = [0xFF, 0xE0, 0x00, 0x07, b'A', b'V', b'I', b'1', 0x00];

/// Returns `data` with an `AVI1` APP0 segment after SOI when the header
/// segments (up to SOS) contain no DHT; unchanged otherwise.
fn with_default_huffman_marker(data: &[u8]) -> Cow<'_, [u8]> {
    if data.len() < 4 || data[0] != 0xFF || data[1] != 0xD8 {
        return Cow::Borrowed(data);
    }
    let mut pos = 2;
    while pos + 4 <= data.len() {
        if data[pos] != 0xFF {
            return Cow::Borrowed(data);
        }
        let marker = data[pos + 1];
        match marker {
            0xFF => pos += 1,
            0xC4 => return Cow::Borrowed(data),
            0xDA => break,
            0x01 | 0xD0..=0xD7 => pos += 2,
            _ => {
                let len = usize::from(u16::from_be_bytes([data[pos + 2], data[pos + 3]]));
                if marker == 0xE0 && data[pos + 4..].starts_with(b"AVI1") {
                    return Cow::Borrowed(data);
                }
                pos += 2 + len;
            }
        }
    }
    let mut fixed = Vec::with_capacity(data.len() + AVI1_APP0.len());
    fixed.extend_from_slice(&data[..2]);
    fixed.extend_from_slice(&AVI1_APP0);
    fixed.extend_from_slice(&data[2..]);
    Cow::Owned(fixed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bt601_limited_range_reference_colours() {
        assert_eq!(ycbcr_to_rgb(16, 128, 128), [0, 0, 0]);
        assert_eq!(ycbcr_to_rgb(235, 128, 128), [255, 255, 255]);
        assert_eq!(ycbcr_to_rgb(126, 128, 128), [128, 128, 128]);
        // 100% colour bars in BT.601 studio swing.
        assert_eq!(ycbcr_to_rgb(81, 90, 240), [255, 0, 0]);
        assert_eq!(ycbcr_to_rgb(145, 54, 34), [0, 255, 1]);
        assert_eq!(ycbcr_to_rgb(41, 240, 110), [0, 0, 255]);
        // Out-of-range inputs clamp instead of wrapping.
        assert_eq!(ycbcr_to_rgb(0, 128, 128), [0, 0, 0]);
        assert_eq!(ycbcr_to_rgb(255, 128, 128), [255, 255, 255]);
    }

    #[test]
    fn yuyv_two_pixel_pairs_with_row_padding() {
        // 4x2 image; stride 10 (2 bytes padding per row, filled with junk).
        let data = [
            81, 90, 235, 240, /* red, white */ 16, 128, 16, 128, /* black x2 */ 9, 9, //
            41, 240, 41, 110, /* blue x2 */ 126, 128, 126, 128, /* grey x2 */ 9, 9,
        ];
        let img = yuyv_to_rgb(&data, 4, 2, 10).unwrap();
        assert_eq!(img.dimensions(), (4, 2));
        assert_eq!(img.get_pixel(0, 0).0, [255, 0, 0]);
        // Second pixel shares the red chroma, with luma 235.
        assert_eq!(img.get_pixel(1, 0).0, ycbcr_to_rgb(235, 90, 240));
        assert_eq!(img.get_pixel(2, 0).0, [0, 0, 0]);
        assert_eq!(img.get_pixel(0, 1).0, [0, 0, 255]);
        assert_eq!(img.get_pixel(3, 1).0, [128, 128, 128]);
    }

    #[test]
    fn yuyv_rejects_short_data_and_odd_width() {
        assert!(matches!(yuyv_to_rgb(&[0; 15], 4, 2, 8), Err(CameraError::ShortFrame { expected: 16, got: 15 })));
        assert!(matches!(yuyv_to_rgb(&[0; 16], 3, 2, 8), Err(CameraError::InvalidConfig(_))));
    }

    #[test]
    fn i420_with_padded_stride() {
        // 2x2 image, stride 4: Y rows [81, 81, pad, pad] and [41, 41, pad, pad],
        // U and V planes each hold one row of stride 2: [90, pad], [240, pad].
        let data = [81, 81, 7, 7, 41, 41, 7, 7, 90, 7, 240, 7];
        assert_eq!(i420_frame_len(4, 2), data.len());
        let img = i420_to_rgb(&data, 2, 2, 4).unwrap();
        assert_eq!(img.get_pixel(0, 0).0, [255, 0, 0]);
        assert_eq!(img.get_pixel(1, 0).0, [255, 0, 0]);
        assert_eq!(img.get_pixel(0, 1).0, ycbcr_to_rgb(41, 90, 240));
    }

    #[test]
    fn i420_four_chroma_blocks() {
        // 4x2, stride 4: each 2x2 block gets its own chroma.
        let data = [
            126, 126, 16, 16, // Y row 0
            126, 126, 16, 16, // Y row 1
            128, 128, // U
            128, 128, // V
        ];
        let img = i420_to_rgb(&data, 4, 2, 4).unwrap();
        assert_eq!(img.get_pixel(1, 1).0, [128, 128, 128]);
        assert_eq!(img.get_pixel(2, 0).0, [0, 0, 0]);
        assert!(matches!(i420_to_rgb(&data[..11], 4, 2, 4), Err(CameraError::ShortFrame { .. })));
    }

    fn sample_jpeg() -> (RgbImage, Vec<u8>) {
        let img = RgbImage::from_fn(32, 16, |x, y| image::Rgb([(x * 8) as u8, (y * 16) as u8, 90]));
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90).encode_image(&img).unwrap();
        (img, bytes)
    }

    /// Removes every DHT segment before SOS, as some UVC cameras do.
    fn strip_dht(jpeg: &[u8]) -> Vec<u8> {
        let mut out = jpeg[..2].to_vec();
        let mut pos = 2;
        loop {
            let marker = jpeg[pos + 1];
            if marker == 0xDA {
                out.extend_from_slice(&jpeg[pos..]);
                return out;
            }
            let len = usize::from(u16::from_be_bytes([jpeg[pos + 2], jpeg[pos + 3]]));
            if marker != 0xC4 {
                out.extend_from_slice(&jpeg[pos..pos + 2 + len]);
            }
            pos += 2 + len;
        }
    }

    #[test]
    fn decodes_mjpeg_frames_without_huffman_tables() {
        let (img, bytes) = sample_jpeg();
        let normal = decode_jpeg(&bytes).unwrap();
        assert_eq!(normal.dimensions(), img.dimensions());

        let stripped = strip_dht(&bytes);
        assert!(stripped.len() < bytes.len(), "encoder wrote no DHT?");
        // A plain decoder cannot read it ...
        assert!(image::load_from_memory_with_format(&stripped, image::ImageFormat::Jpeg).is_err());
        // ... but the encoder used the standard tables, so with them restored
        // the result is identical.
        let fixed = decode_jpeg(&stripped).unwrap();
        assert_eq!(fixed.as_raw(), normal.as_raw());
    }

    #[test]
    fn huffman_marker_only_added_when_needed() {
        let (_, bytes) = sample_jpeg();
        assert!(matches!(with_default_huffman_marker(&bytes), Cow::Borrowed(_)));
        let stripped = strip_dht(&bytes);
        let fixed = with_default_huffman_marker(&stripped);
        assert_eq!(&fixed[2..11], &AVI1_APP0);
        assert_eq!(fixed.len(), stripped.len() + AVI1_APP0.len());
        // Already marked: left alone.
        assert!(matches!(with_default_huffman_marker(&fixed), Cow::Borrowed(_)));
        assert!(decode_jpeg(b"not a jpeg").is_err());
    }

    #[test]
    fn truncated_frames_are_refused_with_the_reason() {
        let (_, bytes) = sample_jpeg();
        let stripped = strip_dht(&bytes);
        for frame in [&bytes[..bytes.len() - 2], &stripped[..stripped.len() - 20]] {
            let e = decode_jpeg(frame).unwrap_err();
            assert_eq!(e.to_string(), "truncated JPEG: no end-of-image marker");
        }
    }
}

//! Detecting truncated JPEGs. The `image` crate's JPEG decoder (zune-jpeg, non-strict) fills
//! the missing part of a truncated image with grey and reports success, so completeness is
//! checked on the bytes: the main image's entropy-coded data must be followed by EOI (`FF D9`).

/// Why a JPEG is incomplete, or `None` when it is complete (or too malformed to tell, which the
/// decoder then reports).
///
/// The header segments are skipped by their lengths up to the main image's first SOS, so an
/// EXIF thumbnail (a whole JPEG with its own EOI inside APP1) does not count. After SOS, `FF D9`
/// can only be the real EOI: in entropy-coded data `FF` is always followed by `00` (stuffing),
/// `D0`–`D7` (restart) or `FF` (fill). Anything after EOI is allowed, such as the zero padding
/// some webcams add or the video a phone appends to a motion photo.
pub fn truncation(data: &[u8]) -> Option<&'static str> {
    const ENDS_IN_HEADERS: &str = "the file ends inside its headers, before the image data";
    if !data.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut pos = 2;
    loop {
        let (Some(&ff), Some(&marker)) = (data.get(pos), data.get(pos + 1)) else {
            return Some(ENDS_IN_HEADERS);
        };
        if ff != 0xFF {
            return None;
        }
        match marker {
            0xFF => pos += 1,
            0xDA => break,
            0xD9 => return Some("end-of-image marker before any image data"),
            0x01 | 0xD0..=0xD7 => pos += 2,
            _ => {
                let Some(len) = data.get(pos + 2..pos + 4) else {
                    return Some(ENDS_IN_HEADERS);
                };
                pos += 2 + usize::from(u16::from_be_bytes([len[0], len[1]]));
            }
        }
    }
    if data[pos..].windows(2).any(|w| w == [0xFF, 0xD9]) {
        None
    } else {
        Some("no end-of-image marker")
    }
}

#[cfg(test)]
mod tests {
    use super::truncation;
    use image::RgbImage;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 7) as u8, (y * 5) as u8, (x ^ y) as u8]));
        crate::imageio::encode_jpeg(&img, 90)
    }

    #[test]
    fn complete_jpeg_with_padding_or_trailer_is_complete() {
        let mut j = jpeg(64, 48);
        assert_eq!(truncation(&j), None);
        j.extend_from_slice(&[0; 300]);
        assert_eq!(truncation(&j), None, "webcam zero padding after EOI");
        j.extend_from_slice(b"ftypmp42 a motion photo's video");
        assert_eq!(truncation(&j), None, "data appended after EOI");
    }

    #[test]
    fn every_cut_is_noticed() {
        let j = jpeg(64, 48);
        for cut in 2..j.len() {
            assert!(truncation(&j[..cut]).is_some(), "cut at {cut} of {} not noticed", j.len());
        }
    }

    #[test]
    fn a_thumbnail_eoi_does_not_hide_a_cut() {
        // SOI, an APP1 segment holding a whole small JPEG (as EXIF thumbnails do), then a main
        // image cut in its entropy-coded data.
        let thumb = jpeg(8, 8);
        let main = jpeg(64, 48);
        let mut j = vec![0xFF, 0xD8, 0xFF, 0xE1];
        j.extend_from_slice(&u16::try_from(thumb.len() + 2).unwrap().to_be_bytes());
        j.extend_from_slice(&thumb);
        j.extend_from_slice(&main[2..]);
        assert_eq!(truncation(&j), None);
        assert_eq!(truncation(&j[..j.len() - 40]), Some("no end-of-image marker"));
    }

    #[test]
    fn not_a_jpeg_is_left_to_the_decoder() {
        assert_eq!(truncation(b"\x89PNG\r\n"), None);
        assert_eq!(truncation(b""), None);
        assert_eq!(truncation(&[0xFF, 0xD8, 0x12, 0x34]), None);
    }
}

use super::*;

fn sample(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 4) as u8, (y * 5) as u8, (x ^ y) as u8]))
}

fn png(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png).unwrap();
    out
}

/// A PNG that is only a signature, an IHDR claiming `w`×`h` RGB pixels and the first two bytes
/// of image data: a header, and nothing that could be decoded.
fn png_header_only(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let idat = b"IDAT\x78\x9c".to_vec();
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for chunk in [ihdr, idat] {
        out.extend_from_slice(&(chunk.len() as u32 - 4).to_be_bytes());
        out.extend_from_slice(&chunk);
        out.extend_from_slice(&crc32fast::hash(&chunk).to_be_bytes());
    }
    out
}

/// `jpeg` with the size in its SOF0 header replaced by `w`×`h`.
fn patch_jpeg_size(jpeg: &[u8], w: u16, h: u16) -> Vec<u8> {
    let mut j = jpeg.to_vec();
    let sof = j.windows(2).position(|m| m == [0xFF, 0xC0]).expect("baseline JPEG");
    j[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    j[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    j
}

const LIMITS: ImageLimits = ImageLimits { max_pixels: DEFAULT_MAX_PIXELS, max_bytes: DEFAULT_MAX_BYTES };

#[test]
fn jpeg_and_png_decode() {
    let img = sample(64, 48);
    assert_eq!(decode_checked(&encode_jpeg(&img, 90), &LIMITS).unwrap().dimensions(), (64, 48));
    assert_eq!(decode_checked(&png(&img), &LIMITS).unwrap(), img);
}

#[test]
fn a_jpeg_cut_anywhere_is_truncated() {
    let jpg = encode_jpeg(&sample(64, 48), 90);
    for cut in [jpg.len() / 3, jpg.len() * 9 / 10, jpg.len() - 1] {
        let e = decode_checked(&jpg[..cut], &LIMITS).unwrap_err();
        assert!(matches!(e, DecodeError::Truncated(_) | DecodeError::Decoder { .. }), "cut at {cut}: {e}");
    }
    // The cut the decoder alone accepts (filling with grey) is the one the check is for.
    let cut = &jpg[..jpg.len() * 9 / 10];
    assert!(image::load_from_memory(cut).is_ok(), "the decoder no longer accepts truncated JPEGs?");
    assert_eq!(decode_checked(cut, &LIMITS).unwrap_err().to_string(), "truncated JPEG: no end-of-image marker");
}

#[test]
fn webcam_padding_after_the_end_is_accepted() {
    let mut jpg = encode_jpeg(&sample(64, 48), 90);
    jpg.extend_from_slice(&[0; 1000]);
    assert_eq!(decode_checked(&jpg, &LIMITS).unwrap().dimensions(), (64, 48));
}

#[test]
fn a_truncated_png_is_an_error() {
    let p = png(&sample(64, 48));
    for cut in [p.len() / 2, p.len() - 13] {
        assert!(matches!(decode_checked(&p[..cut], &LIMITS), Err(DecodeError::Decoder { format: "PNG", .. })));
    }
}

#[test]
fn pixel_limit_is_checked_from_the_header_before_decoding() {
    // Only a header: decoding would fail, so a TooManyPixels answer comes from the header.
    let e = decode_checked(&png_header_only(30_000, 30_000), &LIMITS).unwrap_err();
    assert_eq!(e, DecodeError::TooManyPixels { width: 30_000, height: 30_000, max: DEFAULT_MAX_PIXELS });
    assert_eq!(e.to_string(), "30000×30000 pixels (900.0 MP), more than model.max_image_pixels (32.0 MP)");
    let huge = patch_jpeg_size(&encode_jpeg(&sample(16, 16), 90), 60_000, 60_000);
    assert!(matches!(decode_checked(&huge, &LIMITS), Err(DecodeError::TooManyPixels { width: 60_000, .. })));
    // The limit is the configured one.
    let small = ImageLimits { max_pixels: 64 * 48 - 1, ..LIMITS };
    assert!(matches!(decode_checked(&png(&sample(64, 48)), &small), Err(DecodeError::TooManyPixels { .. })));
}

#[test]
fn sides_beyond_jpeg_or_zero_are_refused() {
    let e = decode_checked(&png_header_only(70_000, 10), &LIMITS).unwrap_err();
    assert_eq!(e, DecodeError::BadSides { width: 70_000, height: 10 });
}

#[test]
fn byte_limit_and_format() {
    let p = png(&sample(8, 8));
    let tiny = ImageLimits { max_bytes: p.len() as u64 - 1, ..LIMITS };
    assert!(matches!(decode_checked(&p, &tiny), Err(DecodeError::TooManyBytes { .. })));
    assert_eq!(decode_checked(b"GIF89a......", &LIMITS).unwrap_err().to_string(), "not a JPEG or PNG (looks like Gif)");
    assert_eq!(decode_checked(b"", &LIMITS).unwrap_err().to_string(), "not a JPEG or PNG");
}

#[test]
fn files_are_named_and_read_within_the_byte_limit() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("x.jpg");
    std::fs::write(&bad, b"definitely not a jpeg").unwrap();
    let e = read_image(&bad, &LIMITS).unwrap_err().to_string();
    assert!(e.contains("x.jpg") && e.contains("not a JPEG or PNG"), "{e}");
    let tiny = ImageLimits { max_bytes: 5, ..LIMITS };
    let e = read_bytes(&bad, &tiny).unwrap_err().to_string();
    assert!(e.contains("x.jpg") && e.contains("21 bytes, more than model.max_image_bytes (5)"), "{e}");
    let e = read_image(&dir.path().join("missing.png"), &LIMITS).unwrap_err().to_string();
    assert!(e.contains("missing.png") && e.contains("os error 2"), "{e}");
}

#[test]
fn image_extensions_are_case_insensitive() {
    assert!(is_image_path(Path::new("a/B.JPG")));
    assert!(is_image_path(Path::new("c.png")));
    assert!(!is_image_path(Path::new("d.txt")));
    assert!(!is_image_path(Path::new("noext")));
}

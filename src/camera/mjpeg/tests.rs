use super::*;

/// A minimal JPEG-shaped frame: SOI, one APP0-like segment carrying
/// `tag`, SOS, entropy data with stuffing and restart markers, EOI.
fn frame(tag: u8) -> Vec<u8> {
    let mut f = vec![0xFF, 0xD8];
    f.extend_from_slice(&[0xFF, 0xE0, 0x00, 0x04, tag, 0x00]);
    f.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x03, 0x01]);
    f.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD3, 0x56, 0xFF, 0xFF, 0xD4]);
    // Fill bytes may precede a marker, EOI included.
    f.extend_from_slice(&[tag, 0xFF, 0xFF, 0xD9]);
    f
}

fn push(s: &mut MjpegSplitter, data: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    s.push(data, &mut out).unwrap();
    out
}

fn split_all(s: &mut MjpegSplitter, data: &[u8], chunk: usize) -> Vec<Vec<u8>> {
    data.chunks(chunk).flat_map(|c| push(s, c)).collect()
}

#[test]
fn splits_back_to_back_frames() {
    let stream = [frame(1), frame(2), frame(3)].concat();
    let mut s = MjpegSplitter::default();
    assert_eq!(push(&mut s, &stream), vec![frame(1), frame(2), frame(3)]);
    assert_eq!(s.skipped_bytes(), 0);
    assert_eq!(s.pending_bytes(), 0);
    assert_eq!(s.finish(), None);
}

#[test]
fn frames_split_across_reads_at_every_byte() {
    let stream = [frame(1), frame(2)].concat();
    for chunk in 1..stream.len() {
        let mut s = MjpegSplitter::default();
        assert_eq!(split_all(&mut s, &stream, chunk), vec![frame(1), frame(2)], "chunk size {chunk}");
        assert_eq!(s.skipped_bytes(), 0, "chunk size {chunk}");
    }
}

#[test]
fn garbage_between_frames_is_skipped_and_counted() {
    let garbage = [0x00, 0xFF, 0x12, 0xD9, 0xFF];
    let stream = [&garbage[..], &frame(1), &garbage, &frame(2), &[0xAA]].concat();
    for chunk in [1, 2, 3, 7, stream.len()] {
        let mut s = MjpegSplitter::default();
        assert_eq!(split_all(&mut s, &stream, chunk), vec![frame(1), frame(2)]);
        assert_eq!(s.skipped_bytes(), 11, "chunk size {chunk}");
    }
}

#[test]
fn truncated_final_frame_is_dropped_and_reported() {
    let f2 = frame(2);
    let stream = [&frame(1)[..], &f2[..f2.len() - 3]].concat();
    let mut s = MjpegSplitter::default();
    assert_eq!(push(&mut s, &stream), vec![frame(1)]);
    assert_eq!(s.finish(), Some(f2.len() - 3));
    assert_eq!(s.finish(), None);
}

#[test]
fn frame_cut_short_by_a_new_soi_is_dropped() {
    let f1 = frame(1);
    let cut = &f1[..f1.len() - 4]; // inside entropy data
    let stream = [cut, &frame(2)].concat();
    let mut s = MjpegSplitter::default();
    assert_eq!(split_all(&mut s, &stream, 5), vec![frame(2)]);
    assert_eq!(s.skipped_bytes(), cut.len() as u64);
}

#[test]
fn exif_thumbnail_does_not_end_the_frame() {
    // APP1 segment containing a complete JPEG (the thumbnail).
    let thumb = frame(9);
    let len = (thumb.len() + 2 + 6) as u16;
    let mut f = vec![0xFF, 0xD8, 0xFF, 0xE1];
    f.extend_from_slice(&len.to_be_bytes());
    f.extend_from_slice(b"Exif\0\0");
    f.extend_from_slice(&thumb);
    f.extend_from_slice(&frame(1)[2..]);
    let stream = [f.clone(), frame(2)].concat();
    for chunk in [1, 4, stream.len()] {
        let mut s = MjpegSplitter::default();
        assert_eq!(split_all(&mut s, &stream, chunk), vec![f.clone(), frame(2)]);
    }
}

#[test]
fn progressive_scans_continue_the_frame() {
    // Entropy data, then a DHT segment and a second SOS before EOI.
    let mut f = frame(1);
    let eoi = f.split_off(f.len() - 2);
    f.extend_from_slice(&[0xFF, 0xC4, 0x00, 0x03, 0xD9]); // DHT whose body holds D9
    f.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02, 0x77, 0xFF, 0x00]);
    f.extend_from_slice(&eoi);
    let stream = [f.clone(), frame(2)].concat();
    let mut s = MjpegSplitter::default();
    assert_eq!(split_all(&mut s, &stream, 3), vec![f, frame(2)]);
}

#[test]
fn real_jpegs_split_and_decode() {
    let mut stream = Vec::new();
    for i in 0..3u8 {
        let img = image::RgbImage::from_pixel(24, 8, image::Rgb([i * 80, 10, 200]));
        image::codecs::jpeg::JpegEncoder::new(&mut stream).encode_image(&img).unwrap();
    }
    let mut s = MjpegSplitter::default();
    let frames = split_all(&mut s, &stream, 1000);
    assert_eq!(frames.len(), 3);
    assert_eq!(frames.concat(), stream);
    for f in &frames {
        assert_eq!(super::super::convert::decode_jpeg(f).unwrap().dimensions(), (24, 8));
    }
}

#[test]
fn oversized_frame_is_an_error_and_the_buffer_stays_bounded() {
    let mut s = MjpegSplitter::new(1000);
    let mut head = frame(1);
    head.truncate(head.len() - 3);
    assert_eq!(push(&mut s, &[frame(3), head].concat()), vec![frame(3)]);
    let junk = vec![0x11u8; 300];
    let mut out = Vec::new();
    let mut result = Ok(());
    for _ in 0..10 {
        result = s.push(&junk, &mut out);
        assert!(s.pending_bytes() <= 1000);
        if result.is_err() {
            break;
        }
    }
    assert!(matches!(result, Err(CameraError::MjpegFrameTooLarge { limit: 1000 })));
    assert!(out.is_empty());
    assert_eq!(s.pending_bytes(), 0);
    // It recovers at the next frame.
    assert_eq!(push(&mut s, &[&junk[..], &frame(2)].concat()), vec![frame(2)]);
    // A complete frame over the limit is dropped too, keeping earlier frames.
    let big = [&frame(4)[..13], &[0x22; 1200][..], &frame(4)[13..]].concat();
    let mut out = Vec::new();
    let err = s.push(&[frame(5), big, frame(6)].concat(), &mut out);
    assert!(err.is_err());
    assert_eq!(out, vec![frame(5)]);
    // The frame after it is still in the buffer and comes out next.
    assert_eq!(push(&mut s, &[]), vec![frame(6)]);
}

#[test]
fn garbage_without_soi_is_not_buffered() {
    let mut s = MjpegSplitter::new(1000);
    for _ in 0..100 {
        assert!(push(&mut s, &[0x42; 500]).is_empty());
    }
    assert_eq!(s.pending_bytes(), 0);
    assert_eq!(s.skipped_bytes(), 50_000);
    assert_eq!(s.finish(), None);
}

#[test]
fn corrupt_header_resyncs_on_next_soi() {
    // SOI followed by a non-marker byte: not a JPEG header.
    let stream = [&[0xFF, 0xD8, 0x00, 0x01][..], &frame(3)].concat();
    let mut s = MjpegSplitter::default();
    assert_eq!(split_all(&mut s, &stream, 2), vec![frame(3)]);
    assert_eq!(s.skipped_bytes(), 4);
}

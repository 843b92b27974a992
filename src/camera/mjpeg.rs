//! Incremental splitter of an MJPEG byte stream (concatenated JPEG images,
//! as written by `rpicam-vid --codec mjpeg -o -`) into single JPEG frames.
//!
//! A frame starts at SOI (`FF D8`). Header segments are skipped by their
//! length fields up to SOS, so an EXIF thumbnail (a whole JPEG with its own
//! SOI/EOI inside an APP1 segment) cannot end the frame early. After SOS the
//! entropy-coded data is scanned for markers: there `FF` is always followed
//! by `00` (stuffing), `D0`-`D7` (restart) or `FF` (fill), so the first other
//! marker is either EOI (`FF D9`, end of frame) or, in progressive JPEGs, the
//! next header segment.

use super::CameraError;

/// Default bound on the size of one frame: 8 MiB.
pub const DEFAULT_MAX_FRAME: usize = 8 << 20;

/// Where the parser is inside the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Looking for SOI.
    Seeking,
    /// At a header segment marker (between SOI and entropy data).
    Headers,
    /// Inside entropy-coded data after SOS.
    Entropy,
}

/// Outcome of one parser step.
enum Step {
    /// Keep going.
    Continue,
    /// All buffered bytes are parsed.
    NeedMore,
    /// A frame ends just before this index of `buf`.
    Frame(usize),
}

/// Splits a byte stream into JPEG frames; feed it with [`MjpegSplitter::push`].
#[derive(Debug)]
pub struct MjpegSplitter {
    /// Unconsumed bytes: the frame in progress and bytes not yet parsed.
    buf: Vec<u8>,
    /// Start of the frame in progress (or of uncounted garbage) in `buf`.
    start: usize,
    /// Parse position in `buf`.
    pos: usize,
    state: State,
    max_frame: usize,
    skipped: u64,
}

impl Default for MjpegSplitter {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_FRAME)
    }
}

impl MjpegSplitter {
    /// A splitter that rejects frames larger than `max_frame` bytes.
    pub fn new(max_frame: usize) -> Self {
        MjpegSplitter { buf: Vec::new(), start: 0, pos: 0, state: State::Seeking, max_frame, skipped: 0 }
    }

    /// Total bytes discarded so far: garbage between frames, frames cut
    /// short by the start of another, oversized and truncated frames.
    pub fn skipped_bytes(&self) -> u64 {
        self.skipped
    }

    /// Bytes held back for the frame in progress.
    pub fn pending_bytes(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Feeds `data`, appending each completed frame to `out`.
    ///
    /// A frame growing past the size limit is discarded with
    /// [`CameraError::MjpegFrameTooLarge`] (frames completed before it are
    /// still in `out`); the splitter then resumes at the next SOI, so the
    /// caller may keep feeding it.
    pub fn push(&mut self, data: &[u8], out: &mut Vec<Vec<u8>>) -> Result<(), CameraError> {
        self.buf.extend_from_slice(data);
        let result = self.run(out);
        self.buf.drain(..self.start);
        self.pos -= self.start;
        self.start = 0;
        result
    }

    /// Ends the stream: returns the size of a truncated frame that was
    /// dropped, if one was in progress.
    pub fn finish(&mut self) -> Option<usize> {
        let dropped = (self.state != State::Seeking).then(|| self.buf.len() - self.start);
        self.skipped += (self.buf.len() - self.start) as u64;
        self.buf.clear();
        self.start = 0;
        self.pos = 0;
        self.state = State::Seeking;
        dropped
    }

    fn run(&mut self, out: &mut Vec<Vec<u8>>) -> Result<(), CameraError> {
        loop {
            match self.step() {
                Step::Continue => {}
                Step::NeedMore => {
                    let len = self.buf.len() - self.start;
                    if self.state != State::Seeking && len > self.max_frame {
                        return Err(self.drop_oversized(self.buf.len()));
                    }
                    return Ok(());
                }
                Step::Frame(end) => {
                    if end - self.start > self.max_frame {
                        return Err(self.drop_oversized(end));
                    }
                    out.push(self.buf[self.start..end].to_vec());
                    self.start = end;
                    self.pos = end;
                    self.state = State::Seeking;
                }
            }
        }
    }

    /// Discards the frame in progress up to `end`.
    fn drop_oversized(&mut self, end: usize) -> CameraError {
        self.skipped += (end - self.start) as u64;
        self.start = end;
        self.pos = end;
        self.state = State::Seeking;
        CameraError::MjpegFrameTooLarge { limit: self.max_frame }
    }

    /// Drops the frame in progress, cut short by a new SOI at `at`.
    fn restart_at(&mut self, at: usize) {
        self.skipped += (at - self.start) as u64;
        self.start = at;
        self.pos = at + 2;
        self.state = State::Headers;
    }

    fn step(&mut self) -> Step {
        let buf = &self.buf;
        let p = self.pos;
        match self.state {
            State::Seeking => {
                let hay = &buf[p..];
                if let Some(off) = hay.windows(2).position(|w| w == [0xFF, 0xD8]) {
                    self.restart_at(p + off);
                    return Step::Continue;
                }
                // Keep a trailing FF: it may pair with a D8 in the next push.
                let keep = usize::from(hay.last() == Some(&0xFF));
                let end = buf.len() - keep;
                self.skipped += (end - self.start) as u64;
                self.start = end;
                self.pos = end;
                Step::NeedMore
            }
            State::Headers => {
                if p + 2 > buf.len() {
                    return Step::NeedMore;
                }
                if buf[p] != 0xFF {
                    // Not a marker: corrupt header; look for the next SOI.
                    self.state = State::Seeking;
                    self.pos = self.start + 1;
                    return Step::Continue;
                }
                match buf[p + 1] {
                    0xFF => self.pos += 1,
                    0xD9 => return Step::Frame(p + 2),
                    0xD8 => self.restart_at(p),
                    0x01 | 0xD0..=0xD7 => self.pos += 2,
                    marker => {
                        if p + 4 > buf.len() {
                            return Step::NeedMore;
                        }
                        let len = usize::from(u16::from_be_bytes([buf[p + 2], buf[p + 3]]));
                        if len < 2 {
                            self.state = State::Seeking;
                            self.pos = self.start + 1;
                            return Step::Continue;
                        }
                        if p + 2 + len > buf.len() {
                            return Step::NeedMore;
                        }
                        self.pos = p + 2 + len;
                        if marker == 0xDA {
                            self.state = State::Entropy;
                        }
                    }
                }
                Step::Continue
            }
            State::Entropy => {
                let Some(off) = buf[p..].iter().position(|&b| b == 0xFF) else {
                    self.pos = buf.len();
                    return Step::NeedMore;
                };
                let p = p + off;
                if p + 1 >= buf.len() {
                    self.pos = p;
                    return Step::NeedMore;
                }
                match buf[p + 1] {
                    0x00 | 0xD0..=0xD7 => self.pos = p + 2,
                    0xFF => self.pos = p + 1,
                    0xD9 => return Step::Frame(p + 2),
                    0xD8 => self.restart_at(p),
                    _ => {
                        // Next header segment (progressive / multi-scan JPEG).
                        self.pos = p;
                        self.state = State::Headers;
                    }
                }
                Step::Continue
            }
        }
    }
}

#[cfg(test)]
mod tests {
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
}

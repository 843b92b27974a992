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
mod tests;

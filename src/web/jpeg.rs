//! JPEG encoding on the web threads: the live view's frames (each encoded once, whoever
//! watches) and capture thumbnails.

use crate::events::ViewFrame;
use image::codecs::jpeg::JpegEncoder;
use image::RgbImage;
use std::sync::{Arc, Mutex};

/// JPEG quality of the live view and thumbnails.
const QUALITY: u8 = 75;
/// Frames wider than this are scaled down for the view.
const MAX_VIEW_WIDTH: u32 = 800;

/// The last view frame encoded, shared by every stream.
#[derive(Default)]
pub struct ViewJpeg {
    last: Mutex<Option<(u64, Arc<Vec<u8>>)>>,
}

impl ViewJpeg {
    /// `frame` as JPEG, encoded on the first call for its sequence number.
    pub fn get(&self, frame: &ViewFrame) -> Option<Arc<Vec<u8>>> {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((seq, jpeg)) = last.as_ref() {
            if *seq == frame.seq {
                return Some(Arc::clone(jpeg));
            }
        }
        let image = &*frame.image;
        let jpeg = if image.width() > MAX_VIEW_WIDTH {
            let h = (u64::from(image.height()) * u64::from(MAX_VIEW_WIDTH) / u64::from(image.width())).max(1);
            encode(&image::imageops::thumbnail(image, MAX_VIEW_WIDTH, h as u32))
        } else {
            encode(image)
        }?;
        let jpeg = Arc::new(jpeg);
        *last = Some((frame.seq, Arc::clone(&jpeg)));
        Some(jpeg)
    }
}

/// `image` as JPEG; `None` if it cannot be encoded (an empty image).
pub fn encode(image: &RgbImage) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(64 * 1024);
    match JpegEncoder::new_with_quality(&mut out, QUALITY).encode_image(image) {
        Ok(()) => Some(out),
        Err(e) => {
            log::debug!("status page: a frame could not be encoded: {e}");
            None
        }
    }
}

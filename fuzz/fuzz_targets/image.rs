//! Checked image decoding: header limits, then decoding (src/imageio.rs). See `teachcam::fuzzing::image`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| teachcam::fuzzing::image(data));

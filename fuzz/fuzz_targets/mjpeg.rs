//! The MJPEG stream splitter (src/camera/mjpeg.rs). See `teachcam::fuzzing::mjpeg`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| teachcam::fuzzing::mjpeg(data));

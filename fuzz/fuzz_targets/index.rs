//! The store's `index.json` reader (src/store/index.rs). See `teachcam::fuzzing::index`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| teachcam::fuzzing::index(data));

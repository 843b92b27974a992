//! The store's `.emb` reader (src/store/embfile.rs). See `teachcam::fuzzing::embfile`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| teachcam::fuzzing::embfile(data));

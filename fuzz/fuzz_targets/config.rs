//! The config loader: TOML text to a validated Config, and a daemon built from it (src/config.rs). See `teachcam::fuzzing::config`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| teachcam::fuzzing::config(data));

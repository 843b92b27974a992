//! Raw V4L2 bindings: upstream `v4l2-sys-mit` 0.3.0's `linux/videodev2.h` bindings, generated
//! once by bindgen 0.65.1 per architecture (see `README.md`) instead of by a build script that
//! needs libclang.

#![allow(clippy::all)]
#![allow(deref_nullptr)]
#![allow(non_camel_case_types)]
#![allow(non_snake_case)]
#![allow(non_upper_case_globals)]
#![allow(dead_code)]

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
include!("x86_64.rs");

#[cfg(all(target_os = "linux", target_arch = "aarch64"))]
include!("aarch64.rs");

#[cfg(not(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64"))))]
compile_error!(
    "teachcam's V4L2 bindings exist for 64-bit Linux on x86_64 and aarch64 only; \
     generate them for this target with scripts/gen-v4l2-bindings.sh (needs libclang)"
);

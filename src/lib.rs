//! teachcam: a teachable on-device image classifier for the Raspberry Pi.
//!
//! Data flows camera → embed → store/head → decide → LEDs:
//! - [`camera`] delivers frames (V4L2, rpicam-vid, replay) through a latest-frame slot;
//! - [`embed`] turns an image into an embedding with a quantised ONNX backbone run by tract;
//! - [`store`] keeps labelled examples (image + cached embedding) on disk, written atomically;
//! - [`head`] is the small softmax classifier trained on the device (its fit, features, report);
//! - [`metrics`] and [`train`] produce the honest held-out report;
//! - [`decide`] turns per-frame probabilities into which LED is lit;
//! - [`panel`] is the buttons and LEDs (GPIO, keyboard, simulated);
//! - [`daemon`] ties them together, one part per job (controls, teacher, detector, display,
//!   telemetry); [`scenario`] replays scripted sessions through it;
//! - [`events`] is the daemon's outward side (events, state, live frame, remote controls);
//! - [`config`] is the one TOML file that configures all of it;
//! - [`cli`] is the command-line surface;
//! - [`export`] writes the trained model as one ONNX file and the examples as image folders.

#![warn(missing_docs)]

pub mod camera;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod decide;
pub mod embed;
pub mod events;
pub mod export;
pub mod fsutil;
#[doc(hidden)]
pub mod fuzzing;
pub mod head;
pub mod imageio;
pub mod metrics;
pub mod mqtt;
pub mod panel;
pub mod scenario;
pub mod store;
pub mod train;
pub mod web;

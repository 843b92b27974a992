//! MQTT events: the detected label, captures, trainings and availability, published to a
//! broker from the [`crate::events::Hub`] on a thread of their own.

mod config;

pub use config::MqttConfig;

use crate::events::Hub;
use std::sync::Arc;

/// Why MQTT could not start.
#[derive(Debug, thiserror::Error)]
pub enum MqttError {
    /// Not written yet.
    #[error("MQTT is not built yet")]
    Unbuilt,
}

/// The running publisher; stops (publishing "offline") when dropped.
pub struct Publisher {}

/// Starts publishing `hub`'s events to the broker `cfg` names.
pub fn start(_cfg: &MqttConfig, _hub: Arc<Hub>) -> Result<Publisher, MqttError> {
    Err(MqttError::Unbuilt)
}

//! MQTT events: the detected label, captures, trainings and availability, published to a
//! broker from the [`crate::events::Hub`] on a thread of their own.

mod config;

pub use config::MqttConfig;

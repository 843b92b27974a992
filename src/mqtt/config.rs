//! The `[mqtt]` table: events to an MQTT broker.

use crate::config::{check_int, BadValue};
use serde::Deserialize;
use std::path::PathBuf;

/// The `[mqtt]` table; its presence turns MQTT on.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MqttConfig {
    /// The broker, `host` or `host:port` (port 1883 when left out).
    pub broker: String,
    /// Topics start with this (`teachcam` → `teachcam/label`, `teachcam/status`, ...).
    pub topic_prefix: String,
    /// The client id; `teachcam-<hostname>` when left out.
    pub client_id: Option<String>,
    /// A file holding the user name on its first line and the password on its second.
    pub credentials_file: Option<PathBuf>,
    /// Seconds between keep-alive pings; the broker publishes the last will after 1.5 times this
    /// without one.
    pub keep_alive_s: u64,
    /// Home Assistant MQTT discovery: the discovery prefix (Home Assistant's default is
    /// `homeassistant`); left out, no discovery messages are published.
    pub discovery_prefix: Option<String>,
}

impl Default for MqttConfig {
    fn default() -> Self {
        Self {
            broker: "localhost:1883".into(),
            topic_prefix: "teachcam".into(),
            client_id: None,
            credentials_file: None,
            keep_alive_s: 30,
            discovery_prefix: None,
        }
    }
}

impl MqttConfig {
    /// The broker's host and port.
    pub fn host_port(&self) -> Result<(String, u16), BadValue> {
        let bad =
            || BadValue::new("mqtt.broker", &self.broker, "must be a host name or address, with an optional :port");
        let (host, port) = match self.broker.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') || h.starts_with('[') => (h, p.parse::<u16>().map_err(|_| bad())?),
            _ => (self.broker.as_str(), 1883),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || host.chars().any(char::is_whitespace) || port == 0 {
            return Err(bad());
        }
        Ok((host.to_string(), port))
    }

    /// Checks every value.
    pub fn validate(&self) -> Result<(), BadValue> {
        self.host_port()?;
        check_topic("mqtt.topic_prefix", &self.topic_prefix, "teachcam")?;
        if let Some(p) = &self.discovery_prefix {
            check_topic("mqtt.discovery_prefix", p, "homeassistant")?;
        }
        if let Some(id) = &self.client_id {
            if id.is_empty() || id.len() > 64 {
                return Err(BadValue::new("mqtt.client_id", id, "must be 1 to 64 characters"));
            }
        }
        check_int("mqtt.keep_alive_s", self.keep_alive_s, 5, 3600, "seconds")?;
        Ok(())
    }
}

/// Checks that `p` can start topics: not empty, no wildcards, no leading or trailing `/`.
fn check_topic(key: &str, p: &str, example: &str) -> Result<(), BadValue> {
    if p.is_empty() || p.contains(['#', '+', '\0']) || p.starts_with('/') || p.ends_with('/') {
        return Err(BadValue::new(
            key,
            p,
            format!("must be a topic without wildcards (#, +) or a leading/trailing /, e.g. \"{example}\""),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_prefix_is_checked_like_the_topic_prefix() {
        let ok = MqttConfig { discovery_prefix: Some("homeassistant".into()), ..Default::default() };
        assert!(ok.validate().is_ok());
        for bad in ["", "ha/#", "/ha", "ha/"] {
            let cfg = MqttConfig { discovery_prefix: Some(bad.into()), ..Default::default() };
            assert_eq!(cfg.validate().unwrap_err().key, "mqtt.discovery_prefix", "{bad:?}");
        }
        let cfg = MqttConfig { keep_alive_s: 2, ..Default::default() };
        assert_eq!(cfg.validate().unwrap_err().key, "mqtt.keep_alive_s");
    }
}

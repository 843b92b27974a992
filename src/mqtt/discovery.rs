//! Home Assistant MQTT discovery: retained config messages that make Home Assistant show the
//! detected label as a sensor and each label as a binary sensor ("cat in view"), all marked
//! unavailable while teachcam is offline.

use super::messages::{Message, Topics};
use serde_json::json;

/// The discovery messages for the device `node` (the client id) with `labels`, under the
/// discovery prefix `discovery` (Home Assistant's default: `homeassistant`).
pub fn messages(discovery: &str, node: &str, labels: &[String], topics: &Topics) -> Vec<Message> {
    let node = object_id(node);
    let device = json!({
        "identifiers": [node],
        "name": node,
        "manufacturer": "teachcam",
        "model": "teachcam teachable camera",
        "sw_version": env!("CARGO_PKG_VERSION"),
    });
    let config = |component: &str, object: &str, payload: serde_json::Value| Message {
        topic: format!("{discovery}/{component}/{node}/{object}/config"),
        payload: payload.to_string(),
        retain: true,
    };
    let mut out = vec![config(
        "sensor",
        "label",
        json!({
            "name": "Detected label",
            "unique_id": format!("{node}_label"),
            "state_topic": topics.topic("label"),
            "json_attributes_topic": topics.topic("detection"),
            "availability_topic": topics.availability(),
            "icon": "mdi:eye",
            "device": device,
        }),
    )];
    for label in labels {
        let id = object_id(label);
        // The label as a Jinja string literal (JSON string syntax is valid Jinja).
        let literal = serde_json::Value::from(label.as_str()).to_string();
        out.push(config(
            "binary_sensor",
            &id,
            json!({
                "name": label,
                "unique_id": format!("{node}_{id}"),
                "state_topic": topics.topic("label"),
                "value_template": format!("{{{{ 'ON' if value == {literal} else 'OFF' }}}}"),
                "availability_topic": topics.availability(),
                "device": device,
            }),
        ));
    }
    out
}

/// `name` with every character other than ASCII letters, digits, `_` and `-` replaced by `_`.
fn object_id(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn a_sensor_for_the_label_and_a_binary_sensor_per_label() {
        let labels = vec!["cat".to_string(), "big dog".to_string()];
        let m = messages("homeassistant", "teachcam-shelf.pi", &labels, &Topics::new("tc"));
        let topics: Vec<&str> = m.iter().map(|m| m.topic.as_str()).collect();
        assert_eq!(
            topics,
            [
                "homeassistant/sensor/teachcam-shelf_pi/label/config",
                "homeassistant/binary_sensor/teachcam-shelf_pi/cat/config",
                "homeassistant/binary_sensor/teachcam-shelf_pi/big_dog/config",
            ]
        );
        assert!(m.iter().all(|m| m.retain));
        let sensor: Value = serde_json::from_str(&m[0].payload).unwrap();
        assert_eq!(sensor["state_topic"], "tc/label");
        assert_eq!(sensor["availability_topic"], "tc/availability");
        assert_eq!(sensor["json_attributes_topic"], "tc/detection");
        assert_eq!(sensor["device"]["identifiers"][0], "teachcam-shelf_pi");
        let dog: Value = serde_json::from_str(&m[2].payload).unwrap();
        assert_eq!(dog["name"], "big dog");
        assert_eq!(dog["unique_id"], "teachcam-shelf_pi_big_dog");
        assert_eq!(dog["value_template"], "{{ 'ON' if value == \"big dog\" else 'OFF' }}");
    }
}

//! The daemon's outward services, started from the config beside the loop: the status page
//! ([`crate::web`]) and MQTT events ([`crate::mqtt`]). Both read the [`Hub`] on threads of their
//! own, so neither can slow or stop detection: one that cannot start is logged and the daemon
//! goes on without it (the LEDs are its first output).

use crate::config::Config;
use crate::events::Hub;
use std::sync::Arc;

/// The services running; they stop when this is dropped.
#[derive(Default)]
pub struct Outputs {
    /// The status page, when `[web] enabled`.
    pub web: Option<crate::web::Server>,
    /// The MQTT publisher, when `[mqtt]` is present.
    pub mqtt: Option<crate::mqtt::Publisher>,
}

impl Outputs {
    /// Starts what `config` asks for, reading `hub`.
    pub fn start(config: &Config, hub: &Arc<Hub>) -> Self {
        let mut outputs = Self::default();
        if config.web.enabled {
            match crate::web::serve(&config.web, Arc::clone(hub)) {
                Ok(server) => outputs.web = Some(server),
                Err(e) => log::error!("status page not started: {e}"),
            }
        }
        if let Some(mqtt) = &config.mqtt {
            match crate::mqtt::start(mqtt, Arc::clone(hub)) {
                Ok(publisher) => outputs.mqtt = Some(publisher),
                Err(e) => log::error!("MQTT not started: {e}"),
            }
        }
        outputs
    }
}

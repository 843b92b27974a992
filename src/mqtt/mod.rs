//! MQTT events: the detected label, captures, trainings and availability, published to a
//! broker from the [`crate::events::Hub`] on threads of their own.
//!
//! Two threads: one reads the hub's event stream and queues messages for the client without
//! ever waiting ([`rumqttc::Client::try_publish`] into a bounded queue; what does not fit is
//! dropped), the other drives the connection: it connects, reconnects with growing pauses when
//! the broker goes away (logging the loss once), and publishes the retained state (availability
//! `online`, the label, the detection) again after every connection. The frame loop only ever
//! hands events to the hub, which never waits on a reader.

mod config;
mod credentials;
mod discovery;
mod link;
mod messages;
#[cfg(test)]
mod tests;

pub use config::MqttConfig;
pub use credentials::{Credentials, CredentialsError};
pub use link::{Link, BACKOFF};
pub use messages::{Message, Topics, Translator, NO_LABEL, OFFLINE, ONLINE};

use crate::config::BadValue;
use crate::events::{Event, Hub};
use rumqttc::{Client, Connection, LastWill, MqttOptions, Outgoing, Packet, QoS};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Messages waiting for the connection beyond this many are dropped.
const QUEUE: usize = 256;
/// Hub events waiting for the publisher beyond this many are lost.
const EVENTS: usize = 256;
/// How often the event thread looks at the stop flag.
const POLL: Duration = Duration::from_millis(100);
/// Longest wait, when stopping, for "offline" and the disconnection to reach the broker.
const STOP_WAIT: Duration = Duration::from_secs(3);

/// Why MQTT could not start.
#[derive(Debug, thiserror::Error)]
pub enum MqttError {
    /// A setting is wrong.
    #[error("{}: {:?} {}", .0.key, .0.value, .0.problem)]
    Config(BadValue),
    /// The credentials file cannot be used.
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    /// A thread could not be started.
    #[error("cannot start the MQTT thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// The running publisher; stops (publishing "offline") when dropped.
pub struct Publisher {
    shared: Arc<Shared>,
    events: Option<JoinHandle<()>>,
    link: Option<JoinHandle<()>>,
    link_done: Receiver<()>,
}

/// What both threads use.
struct Shared {
    client: Client,
    translator: Mutex<Translator>,
    /// The retained state must be published again (a retained message did not fit the queue).
    dirty: AtomicBool,
    stop: AtomicBool,
    /// Messages dropped because the queue was full (the broker is away or slow).
    dropped: AtomicU64,
}

/// Starts publishing `hub`'s events to the broker `cfg` names.
pub fn start(cfg: &MqttConfig, hub: Arc<Hub>) -> Result<Publisher, MqttError> {
    cfg.validate().map_err(MqttError::Config)?;
    let (host, port) = cfg.host_port().map_err(MqttError::Config)?;
    let topics = Topics::new(&cfg.topic_prefix);
    let client_id = cfg.client_id.clone().unwrap_or_else(default_client_id);
    let mut options = MqttOptions::new(client_id, host, port);
    options.set_keep_alive(Duration::from_secs(cfg.keep_alive_s)).set_clean_session(true).set_last_will(LastWill::new(
        topics.availability(),
        OFFLINE,
        QoS::AtLeastOnce,
        true,
    ));
    if let Some(path) = &cfg.credentials_file {
        let c = Credentials::read(path)?;
        options.set_credentials(c.user, c.password);
    }
    // Subscribed before the snapshot: a detection in between is in both, and changes nothing.
    let events = hub.subscribe(EVENTS);
    let status = hub.status();
    let mut translator = Translator::new(topics.clone(), status.detection.as_ref());
    if let Some(prefix) = &cfg.discovery_prefix {
        translator = translator.with_discovery(discovery::messages(
            prefix,
            options.client_id().as_str(),
            &status.labels,
            &topics,
        ));
    }
    let (client, connection) = Client::new(options, QUEUE);
    let shared = Arc::new(Shared {
        client,
        translator: Mutex::new(translator),
        dirty: AtomicBool::new(false),
        stop: AtomicBool::new(false),
        dropped: AtomicU64::new(0),
    });
    let (done_tx, link_done) = mpsc::channel();
    let link = {
        let (shared, broker) = (Arc::clone(&shared), cfg.broker.clone());
        std::thread::Builder::new().name("mqtt-link".into()).spawn(move || {
            drive(&shared, connection, &broker);
            let _ = done_tx.send(());
        })?
    };
    let mut publisher = Publisher { shared: Arc::clone(&shared), events: None, link: Some(link), link_done };
    publisher.events =
        Some(std::thread::Builder::new().name("mqtt-events".into()).spawn(move || forward(&shared, &events))?);
    log::info!("MQTT: publishing to {} under {}/", cfg.broker, cfg.topic_prefix);
    Ok(publisher)
}

impl Publisher {
    /// Messages dropped so far because the queue to the broker was full.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        let shared = &self.shared;
        shared.stop.store(true, Ordering::SeqCst);
        if let Some(events) = self.events.take() {
            let _ = events.join();
        }
        // "offline" (a clean disconnection suppresses the last will), then the disconnection;
        // both wait in the queue behind what the event thread queued last.
        let deadline = Instant::now() + STOP_WAIT;
        let offline = lock(&shared.translator).topics().availability_message(false);
        let mut sent = false;
        while Instant::now() < deadline && self.link.as_ref().is_some_and(|l| !l.is_finished()) {
            sent = sent || shared.send(&offline);
            if sent && shared.client.try_disconnect().is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if self.link_done.recv_timeout(left).is_ok() {
            if let Some(link) = self.link.take() {
                let _ = link.join();
            }
        } else {
            log::warn!("MQTT: the broker did not take the disconnection in {} s", STOP_WAIT.as_secs());
        }
    }
}

impl Shared {
    /// Queues `m` without waiting; false (and counted) when the queue is full.
    fn send(&self, m: &Message) -> bool {
        let queued =
            self.client.try_publish(m.topic.as_str(), QoS::AtLeastOnce, m.retain, m.payload.as_bytes()).is_ok();
        if !queued {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        queued
    }

    /// Queues what `event` gives. A retained message that does not fit is published again later.
    fn publish(&self, event: &Event) {
        let mut translator = lock(&self.translator);
        for m in translator.messages(event) {
            if !self.send(&m) && m.retain {
                self.dirty.store(true, Ordering::SeqCst);
            }
        }
    }

    /// Queues the retained state (held under the lock, so it is never older than a queued label).
    fn publish_retained(&self) {
        let translator = lock(&self.translator);
        let all = translator.retained().iter().all(|m| self.send(m));
        self.dirty.store(!all, Ordering::SeqCst);
    }
}

/// The event thread: hub events to messages until stopped, then what is still waiting.
fn forward(shared: &Shared, events: &Receiver<Arc<Event>>) {
    loop {
        match events.recv_timeout(POLL) {
            Ok(event) => shared.publish(&event),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        if shared.stop.load(Ordering::SeqCst) {
            while let Ok(event) = events.try_recv() {
                shared.publish(&event);
            }
            return;
        }
    }
}

/// The connection thread: connects, reconnects after growing pauses, republishes the retained
/// state after each connection; ends once the disconnection went out or, when stopping, the
/// broker is away.
fn drive(shared: &Shared, mut connection: Connection, broker: &str) {
    let mut link = Link::new(broker);
    loop {
        let stopping = shared.stop.load(Ordering::SeqCst);
        match connection.recv() {
            Err(_) => return,
            Ok(Ok(rumqttc::Event::Incoming(Packet::ConnAck(_)))) => {
                log::info!("{}", link.connected());
                shared.publish_retained();
            }
            Ok(Ok(rumqttc::Event::Outgoing(Outgoing::Disconnect))) => return,
            Ok(Ok(rumqttc::Event::Outgoing(Outgoing::PingReq))) if stopping => return,
            Ok(Ok(_)) => {
                if shared.dirty.load(Ordering::SeqCst) {
                    shared.publish_retained();
                }
            }
            Ok(Err(e)) => {
                if stopping {
                    return;
                }
                let (line, pause) = link.failed(&e.to_string());
                match line {
                    Some(line) => log::warn!("{line}"),
                    None => log::debug!("MQTT: {broker}: {e}"),
                }
                let until = Instant::now() + pause;
                while Instant::now() < until {
                    if shared.stop.load(Ordering::SeqCst) {
                        return;
                    }
                    std::thread::sleep(POLL.min(until.saturating_duration_since(Instant::now())));
                }
            }
        }
    }
}

/// `teachcam-HOSTNAME` (letters, digits, `-` and `_` only), or `teachcam`.
fn default_client_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    client_id_for(&host)
}

fn client_id_for(host: &str) -> String {
    let host: String =
        host.trim().chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')).take(40).collect();
    if host.is_empty() {
        "teachcam".into()
    } else {
        format!("teachcam-{host}")
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

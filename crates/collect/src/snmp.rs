//! The SNMP trap listener: v1 and v2c traps by community, v3 traps with USM, v2c informs
//! answered once their event is in the pipeline. One notification, one event, stamped with the tenant
//! and level of the sending agent's system.

use std::net::SocketAddr;
use std::sync::Arc;

use vigil_codec::snmp::{SnmpError, TrapConfig, TrapReceiver};
use vigil_event::{field, Event, EventFlags, Timestamp, Value};
use vigil_pipeline::{Counter, Metrics};

use crate::syslog::ListenerMetrics;
use crate::udp::{CountersByKind, DatagramSource, Datagrams};
use crate::Stamper;

/// Datagrams read without waiting, after the first, into one batch.
const MAX_DATAGRAMS_PER_BATCH: usize = 256;

/// SNMP traps and informs over UDP.
pub type SnmpTrapSource = DatagramSource<TrapDatagrams>;

/// One datagram, one event; the receiver's users, keys and engine clocks.
pub struct TrapDatagrams {
    name: Arc<str>,
    receiver: TrapReceiver,
    stamper: Arc<Stamper>,
    listener: ListenerMetrics,
    traps: Counter,
    informs_answered: Counter,
    /// By [`SnmpError::kind`].
    refused: CountersByKind,
}

impl SnmpTrapSource {
    /// Binds now, so that a taken port is reported before anything starts.
    pub async fn bind(
        name: &str,
        address: SocketAddr,
        config: TrapConfig,
        stamper: Arc<Stamper>,
        metrics: &Metrics,
    ) -> crate::Result<Self> {
        let labels = [("listener", name)];
        let traps = TrapDatagrams {
            name: Arc::from(name),
            receiver: TrapReceiver::new(config),
            stamper,
            listener: ListenerMetrics::new(metrics, name),
            traps: metrics.counter(
                "vigil_snmp_notifications_total",
                "SNMP traps and informs accepted and decoded.",
                &labels,
            ),
            informs_answered: metrics.counter(
                "vigil_snmp_informs_answered_total",
                "SNMP informs acknowledged with a Response.",
                &labels,
            ),
            refused: CountersByKind::new(
                metrics,
                "vigil_snmp_errors_total",
                "SNMP datagrams refused, by reason (unknown community or user, authentication \
                 or decryption failure, outside the time window, malformed, …); each is kept \
                 as an unparsed event.",
                name,
            ),
        };
        Self::open(name, address, metrics, MAX_DATAGRAMS_PER_BATCH, traps).await
    }
}

impl Datagrams for TrapDatagrams {
    fn name(&self) -> &str {
        &self.name
    }

    fn metrics(&self) -> &ListenerMetrics {
        &self.listener
    }

    /// One datagram to one event; an inform's Response as the reply.
    fn take(
        &mut self,
        datagram: &[u8],
        peer: SocketAddr,
        batch: &mut Vec<Event>,
    ) -> Option<Vec<u8>> {
        let received = Timestamp::now();
        self.listener.bytes_received.add(datagram.len() as u64);
        let (mut event, response) = match self.receiver.receive(datagram, received) {
            Ok(accepted) => {
                self.traps.inc();
                let event = accepted.trap.to_event(datagram, peer, received);
                (event, accepted.response)
            }
            Err(error) => {
                self.refused.get(error.kind()).inc();
                tracing::debug!(listener = %self.name, %peer, %error, "SNMP datagram refused");
                (refused_event(datagram, peer, &error, received), None)
            }
        };
        self.stamper
            .stamp_device(&mut event, peer.ip(), &self.name, received);
        self.listener.count_event(&event);
        batch.push(event);
        response
    }

    fn replied(&mut self, _peer: SocketAddr, sent: bool) {
        if sent {
            self.informs_answered.inc();
        }
    }
}

/// A datagram refused or not decodable, kept whole (but for its community) and flagged, with
/// the reason: a wrong v3 password or an unknown community is worth an analyst's look.
fn refused_event(
    datagram: &[u8],
    peer: SocketAddr,
    error: &SnmpError,
    received: Timestamp,
) -> Event {
    let mut event = Event::new(received, vigil_codec::snmp::redact_community(datagram));
    event.flags.insert(EventFlags::UNPARSED);
    event.source = Some(peer);
    event.message = format!("SNMP datagram refused: {error}");
    for (key, value) in [
        (field::EVENT_DATASET, "snmp.trap"),
        (field::EVENT_OUTCOME, "failure"),
        ("snmp.error", error.kind()),
    ] {
        event.fields.insert(key.into(), Value::from(value));
    }
    event
}

/// The receiver's settings from a `snmp_trap` listener's config (validated at load).
pub fn trap_config(
    communities: &[vigil_config::Secret],
    users: &[vigil_config::SnmpUserConfig],
) -> crate::Result<TrapConfig> {
    use vigil_codec::snmp::{AuthProtocol, PrivProtocol, UsmUser};
    use vigil_config::{SnmpAuthProtocol, SnmpPrivProtocol};
    let mut usm = Vec::with_capacity(users.len());
    for user in users {
        let engine_id = user
            .engine_id_bytes()
            .transpose()
            .map_err(crate::CollectError::Config)?;
        let auth = match (user.auth_protocol, &user.auth_password) {
            (Some(protocol), Some(password)) => Some((
                match protocol {
                    SnmpAuthProtocol::Sha => AuthProtocol::Sha1,
                    SnmpAuthProtocol::Sha224 => AuthProtocol::Sha224,
                    SnmpAuthProtocol::Sha256 => AuthProtocol::Sha256,
                    SnmpAuthProtocol::Sha384 => AuthProtocol::Sha384,
                    SnmpAuthProtocol::Sha512 => AuthProtocol::Sha512,
                },
                password.0.clone(),
            )),
            _ => None,
        };
        let privacy = match (user.priv_protocol, &user.priv_password) {
            (Some(SnmpPrivProtocol::Aes), Some(password)) => {
                Some((PrivProtocol::Aes128, password.0.clone()))
            }
            _ => None,
        };
        usm.push(UsmUser {
            name: user.name.clone(),
            engine_id,
            auth,
            privacy,
        });
    }
    Ok(TrapConfig {
        communities: communities
            .iter()
            .map(|community| community.0.clone())
            .collect(),
        users: usm,
        limits: Default::default(),
    })
}

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use vigil_codec::syslog::{decode_syslog, DecodeContext};
use vigil_config::{SourceMap, SourceMatch};
use vigil_event::{Event, EventFlags, SecurityLevel, Timestamp, ToCompactString};

use crate::UnmappedSources;

/// Who a connection belongs to when its client certificate says so (a TLS listener's allow-list):
/// it overrides the tenant of the sender's address, and the level when it names one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub tenant: Arc<str>,
    pub level: Option<SecurityLevel>,
}

/// Decodes a frame and stamps it with where it came from: the sender's information system,
/// tenant, level and time zone, the listener, the receiving node.
pub struct Stamper {
    source_map: SourceMap,
    observer: Arc<str>,
    unmapped: Arc<UnmappedSources>,
    relay: bool,
}

impl Stamper {
    pub fn new(source_map: SourceMap, observer: &str, unmapped: Arc<UnmappedSources>) -> Self {
        Self {
            source_map,
            observer: Arc::from(observer),
            unmapped,
            relay: false,
        }
    }

    /// For a relay (`vigil agent`): syslog frames are stamped but not decoded, flagged
    /// [`EventFlags::UNDECODED`], and the SOC that receives them decodes them
    /// ([`Stamper::decode_relayed`]). The agent spends no CPU on what the SOC does anyway, the
    /// SOC reads times in its own sources' zones, and the channel carries little more than the
    /// lines.
    pub fn relaying(mut self) -> Self {
        self.relay = true;
        self
    }

    pub fn unmapped(&self) -> &Arc<UnmappedSources> {
        &self.unmapped
    }

    /// One syslog frame to one event. Never fails: what does not parse is kept whole.
    pub fn syslog_event(
        &self,
        frame: &[u8],
        truncated: bool,
        peer: SocketAddr,
        listener: &Arc<str>,
        received: Timestamp,
    ) -> Event {
        self.syslog_event_from(frame, truncated, peer, listener, received, None)
    }

    /// As [`Stamper::syslog_event`], for a connection whose certificate maps it to `origin`.
    pub fn syslog_event_from(
        &self,
        frame: &[u8],
        truncated: bool,
        peer: SocketAddr,
        listener: &Arc<str>,
        received: Timestamp,
        origin: Option<&Origin>,
    ) -> Event {
        let by_address = self.source_map.match_address(peer.ip());
        let (mut event, by_host) = if self.relay {
            let mut event = Event::new(received, frame.to_vec());
            event.flags.insert(EventFlags::UNDECODED);
            (event, None)
        } else {
            self.decode_in_zone(frame, by_address, received)
        };
        // A certificate's origin names the tenant, and the level if it has one; the sender's
        // system fills what it leaves open; a sender neither claims is unmapped.
        let matched = by_address.or(by_host);
        let unmapped = self.source_map.unmapped();
        event.tenant = origin
            .map(|origin| &origin.tenant)
            .or(matched.map(|matched| &matched.tenant))
            .unwrap_or(&unmapped.tenant)
            .clone();
        match origin
            .and_then(|origin| origin.level)
            .or(matched.map(|matched| matched.level))
        {
            Some(level) => event.level = level,
            None => {
                event.level = unmapped.level;
                event.flags.insert(EventFlags::UNMAPPED_SOURCE);
                self.unmapped
                    .record(peer.ip(), event.host_name.as_deref(), received);
            }
        }
        if truncated {
            event.flags.insert(EventFlags::TRUNCATED);
        }
        event.source = Some(peer);
        event.listener = listener.clone();
        event.observer = Some(self.observer.clone());
        event
    }
}

impl Stamper {
    /// Decodes `frame` in the time zone of the system its sender `address` belongs to
    /// (`by_address`: it belongs to one), else of the system its host name belongs to, else the
    /// unmapped default's. Returns the event and the system matched by host name.
    fn decode_in_zone<'s>(
        &'s self,
        frame: &[u8],
        by_address: Option<&'s SourceMatch>,
        received: Timestamp,
    ) -> (Event, Option<&'s SourceMatch>) {
        let timezone = by_address.unwrap_or(self.source_map.unmapped()).timezone;
        let mut event = decode_syslog(
            frame,
            &DecodeContext {
                received,
                default_tz: timezone,
            },
        );
        let by_host = match by_address {
            Some(_) => None,
            None => event
                .host_name
                .as_deref()
                .and_then(|host| self.source_map.match_host(host)),
        };
        if let Some(matched) = by_host {
            // A zone-less (RFC 3164) time was read in the default zone: read it again in the
            // zone of the system the host name belongs to.
            let zone_less =
                event.syslog_version.is_none() && !event.flags.contains(EventFlags::UNPARSED);
            if zone_less && matched.timezone != timezone {
                let flags = event.flags;
                event = decode_syslog(
                    frame,
                    &DecodeContext {
                        received,
                        default_tz: matched.timezone,
                    },
                );
                event.flags.insert(flags);
            }
        }
        (event, by_host)
    }

    /// Decodes an event a relay sent as its bytes ([`EventFlags::UNDECODED`]) as if its sender
    /// had sent it here: in the time zone of the system its address, else its host name,
    /// belongs to. What the relay knew stays: id, receive time, sender, observer, flags, and
    /// the fields it added (a tailed file's path). Tenant and level are then
    /// [`Stamper::stamp_relayed`]'s to set. Returns whether the event was undecoded.
    pub fn decode_relayed(&self, event: &mut Event) -> bool {
        if !event.flags.contains(EventFlags::UNDECODED) {
            return false;
        }
        let by_address = event
            .source
            .and_then(|source| self.source_map.match_address(source.ip()));
        let (mut decoded, _) = self.decode_in_zone(&event.original, by_address, event.created);
        // What the relay knew goes into the decoded event; the rest is the line's.
        decoded.id = event.id;
        decoded.source = event.source;
        decoded.observer = event.observer.take();
        decoded.tenant = event.tenant.clone();
        decoded.level = event.level;
        decoded.listener = event.listener.clone();
        let mut flags = event.flags;
        flags.remove(EventFlags::UNDECODED);
        decoded.flags.insert(flags);
        for (name, value) in std::mem::take(&mut event.fields) {
            decoded.fields.insert(name, value);
        }
        *event = decoded;
        true
    }

    /// One syslog line of an imported file: decoded in the time zone of the system its host
    /// name belongs to, stamped by [`Stamper::stamp_imported`]. Files have no sender address,
    /// so no address rule applies and nothing is listed as an unmapped sender.
    pub fn imported_syslog(
        &self,
        line: &[u8],
        truncated: bool,
        listener: &Arc<str>,
        received: Timestamp,
    ) -> Event {
        let decode = |default_tz| {
            decode_syslog(
                line,
                &DecodeContext {
                    received,
                    default_tz,
                },
            )
        };
        let unmapped_tz = self.source_map.unmapped().timezone;
        let mut event = decode(unmapped_tz);
        let host_tz = event
            .host_name
            .as_deref()
            .and_then(|host| self.source_map.match_host(host))
            .map(|matched| matched.timezone);
        let zone_less =
            event.syslog_version.is_none() && !event.flags.contains(EventFlags::UNPARSED);
        if let Some(timezone) = host_tz.filter(|timezone| zone_less && *timezone != unmapped_tz) {
            event = decode(timezone);
        }
        if truncated {
            event.flags.insert(EventFlags::TRUNCATED);
        }
        self.stamp_imported(&mut event, listener);
        event
    }

    /// Stamps an imported event, which has no sender address: its host name picks the
    /// information system; without a match it gets the unmapped default.
    pub fn stamp_imported(&self, event: &mut Event, listener: &Arc<str>) {
        let matched = event
            .host_name
            .as_deref()
            .and_then(|host| self.source_map.match_host(host));
        let unmapped = self.source_map.unmapped();
        match matched {
            Some(matched) => {
                event.tenant = matched.tenant.clone();
                event.level = matched.level;
                event.flags.remove(EventFlags::UNMAPPED_SOURCE);
            }
            None => {
                event.tenant = unmapped.tenant.clone();
                event.level = unmapped.level;
                event.flags.insert(EventFlags::UNMAPPED_SOURCE);
            }
        }
        event.listener = listener.clone();
        event.observer = Some(self.observer.clone());
    }

    /// Stamps an event a device reported about traffic or state it observed (a flow record from
    /// an exporter, an SNMP trap from an agent): the tenant and level are those of the system
    /// the reporting `device` belongs to, which is also `observer.ip`. `event.source` stays as
    /// the decoder set it (a flow's source, not the exporter).
    pub fn stamp_device(
        &self,
        event: &mut Event,
        device: IpAddr,
        listener: &Arc<str>,
        received: Timestamp,
    ) {
        let unmapped = self.source_map.unmapped();
        match self.source_map.match_address(device) {
            Some(matched) => {
                event.tenant = matched.tenant.clone();
                event.level = matched.level;
            }
            None => {
                event.tenant = unmapped.tenant.clone();
                event.level = unmapped.level;
                event.flags.insert(EventFlags::UNMAPPED_SOURCE);
                self.unmapped.record(device, None, received);
            }
        }
        event
            .fields
            .entry(vigil_event::field::OBSERVER_IP.into())
            .or_insert_with(|| vigil_event::Value::Str(device.to_compact_string()));
        event.listener = listener.clone();
        event.observer = Some(self.observer.clone());
    }

    /// Stamps an event another Vigil node received and relayed (an agent, a forwarding SOC).
    /// The tenant and level come from `origin` (the relay's certificate), else from the system
    /// the event's sender address or host name belongs to here, else they stay as the relay
    /// stamped them — unless the relay did not know the sender either, which makes the event
    /// unmapped here too. `vigil.via` lists the relays that did not observe the event.
    pub fn stamp_relayed(
        &self,
        event: &mut Event,
        origin: Option<&Origin>,
        listener: &Arc<str>,
        relay: &str,
    ) {
        // A device's report (a flow, a trap) belongs to the device's system, not to the
        // addresses it reports about.
        let device = event
            .fields
            .get(vigil_event::field::OBSERVER_IP)
            .and_then(|value| value.as_str())
            .and_then(|text| text.parse::<IpAddr>().ok());
        let matched = device
            .or(event.source.map(|source| source.ip()))
            .and_then(|address| self.source_map.match_address(address))
            .or_else(|| {
                event
                    .host_name
                    .as_deref()
                    .and_then(|host| self.source_map.match_host(host))
            });
        let relay_knew = !event.flags.contains(EventFlags::UNMAPPED_SOURCE);
        let unmapped = self.source_map.unmapped();
        if let Some(tenant) = origin
            .map(|origin| &origin.tenant)
            .or(matched.map(|matched| &matched.tenant))
        {
            event.tenant = tenant.clone();
        } else if !relay_knew {
            event.tenant = unmapped.tenant.clone();
        }
        match origin
            .and_then(|origin| origin.level)
            .or(matched.map(|matched| matched.level))
        {
            Some(level) => {
                event.level = level;
                event.flags.remove(EventFlags::UNMAPPED_SOURCE);
            }
            None if relay_knew => {}
            None => {
                event.level = unmapped.level;
                if let Some(address) = device.or(event.source.map(|source| source.ip())) {
                    self.unmapped
                        .record(address, event.host_name.as_deref(), event.created);
                }
            }
        }
        event.listener = listener.clone();
        // The node that took the event from its sender is `observer.hostname` (an agent, or a
        // SOC's listener). A relay that is not that node forwards events observed elsewhere:
        // `vigil.via` lists those relays, so a national SOC shows which SOC an event came from.
        // (An agent adds nothing: one more field per event costs the index dearly.)
        if event.observer.as_deref() != Some(relay) {
            let via = event
                .fields
                .entry(vigil_event::field::VIA.into())
                .or_insert_with(|| vigil_event::Value::List(Vec::new()));
            let hop = vigil_event::Value::from(relay);
            match via {
                vigil_event::Value::List(nodes) => nodes.push(hop),
                other => *other = vigil_event::Value::List(vec![hop]),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_config::{SystemConfig, UnmappedConfig};
    use vigil_pipeline::Metrics;

    fn stamper() -> Stamper {
        let systems = [
            SystemConfig {
                name: "core".into(),
                tenant: "ministry".into(),
                level: 4,
                sources: vec!["10.0.0.0/8".into()],
                timezone: Some("+07:00".into()),
            },
            SystemConfig {
                name: "branch".into(),
                tenant: "branch-office".into(),
                level: 5,
                sources: vec!["fw-*.branch".into()],
                timezone: Some("+07:00".into()),
            },
        ];
        let map = SourceMap::build(&systems, &UnmappedConfig::default()).expect("valid map");
        Stamper::new(
            map,
            "node-1",
            Arc::new(UnmappedSources::new(&Metrics::default())),
        )
    }

    fn received() -> Timestamp {
        Timestamp::from_datetime(
            chrono::DateTime::parse_from_rfc3339("2026-03-10T12:00:00Z").expect("time"),
        )
    }

    #[test]
    fn stamper_reads_zone_less_times_in_the_zone_of_the_senders_system() {
        let stamper = stamper();
        let listener: Arc<str> = Arc::from("syslog-udp");
        let line = b"<13>Mar 10 18:30:00 core-1 sshd[7]: Accepted publickey";
        let by_address = stamper.syslog_event(
            line,
            false,
            "10.1.2.3:514".parse().expect("addr"),
            &listener,
            received(),
        );
        assert_eq!(by_address.timestamp.to_string(), "2026-03-10T11:30:00Z");
        assert_eq!(
            (by_address.tenant.as_ref(), by_address.level.get()),
            ("ministry", 4)
        );
        let by_host = b"<13>Mar 10 18:30:00 fw-7.branch kernel: DROP";
        let event = stamper.syslog_event(
            by_host,
            false,
            "192.0.2.9:514".parse().expect("addr"),
            &listener,
            received(),
        );
        assert_eq!(
            event.timestamp.to_string(),
            "2026-03-10T11:30:00Z",
            "host-glob systems get their zone too"
        );
        assert_eq!(
            (event.tenant.as_ref(), event.level.get()),
            ("branch-office", 5)
        );
        assert!(!event.flags.contains(EventFlags::UNMAPPED_SOURCE));
    }

    /// An agent relays lines undecoded; the SOC decodes them as if their senders had sent them
    /// to it directly: same fields, same zones, same tenant and level.
    #[test]
    fn a_relayed_undecoded_line_decodes_at_the_soc_as_if_sent_there() {
        let soc = stamper();
        let agent = Stamper::new(
            SourceMap::build(&[], &UnmappedConfig::default()).expect("empty map"),
            "agent-1",
            Arc::new(UnmappedSources::new(&Metrics::default())),
        )
        .relaying();
        let listener: Arc<str> = Arc::from("syslog-tcp");
        let channel: Arc<str> = Arc::from("channel");
        let lines: [(&[u8], &str); 4] = [
            (
                b"<13>Mar 10 18:30:00 core-1 sshd[7]: Accepted publickey",
                "10.1.2.3:514",
            ),
            (
                b"<13>Mar 10 18:30:00 fw-7.branch kernel: DROP",
                "192.0.2.9:514",
            ),
            (
                b"<165>1 2026-03-10T12:00:00.5+02:00 host app 42 ID [sd a=\"b\"] hi",
                "10.9.9.9:1",
            ),
            (b"not syslog at all \xff", "192.0.2.1:9"),
        ];
        for (line, peer) in lines {
            let peer: SocketAddr = peer.parse().expect("addr");
            let direct = soc.syslog_event(line, true, peer, &listener, received());
            let mut relayed = agent.syslog_event(line, true, peer, &listener, received());
            assert!(relayed.flags.contains(EventFlags::UNDECODED));
            assert!(relayed.message.is_empty() && relayed.host_name.is_none());
            assert!(soc.decode_relayed(&mut relayed));
            assert!(!soc.decode_relayed(&mut relayed), "decoded once");
            soc.stamp_relayed(&mut relayed, None, &channel, "agent-1");
            assert_eq!(relayed.observer.as_deref(), Some("agent-1"));
            assert_eq!(relayed.listener.as_ref(), "channel");
            assert_eq!(relayed.source, Some(peer));
            let mut expected = direct;
            expected.id = relayed.id;
            expected.observer = relayed.observer.clone();
            expected.listener = relayed.listener.clone();
            assert_eq!(relayed, expected, "{}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn stamper_lists_and_flags_unmapped_senders() {
        let stamper = stamper();
        let listener: Arc<str> = Arc::from("syslog-tcp");
        let line = b"<13>1 2026-03-10T12:00:00Z stray app - - - hi";
        for _ in 0..3 {
            let event = stamper.syslog_event(
                line,
                true,
                "192.0.2.1:9".parse().expect("addr"),
                &listener,
                received(),
            );
            assert!(event.flags.contains(EventFlags::UNMAPPED_SOURCE));
            assert!(event.flags.contains(EventFlags::TRUNCATED));
            assert_eq!(event.tenant.as_ref(), "unmapped");
            assert_eq!(event.observer.as_deref(), Some("node-1"));
            assert_eq!(event.listener.as_ref(), "syslog-tcp");
        }
        let listed = stamper.unmapped().list();
        assert_eq!(listed.len(), 1);
        assert_eq!(
            (listed[0].events, listed[0].host_name.as_deref()),
            (3, Some("stray"))
        );
    }

    #[test]
    fn a_certificate_origin_overrides_the_tenant_and_fills_a_missing_level() {
        let stamper = stamper();
        let listener: Arc<str> = Arc::from("syslog-tls");
        let line = b"<13>1 2026-03-10T12:00:00Z host app - - - hi";
        let stamp = |peer: &str, level: Option<i64>| {
            let origin = Origin {
                tenant: Arc::from("agency-a"),
                level: level.map(|level| SecurityLevel::new(level).expect("level")),
            };
            stamper.syslog_event_from(
                line,
                false,
                peer.parse().expect("addr"),
                &listener,
                received(),
                Some(&origin),
            )
        };
        // A known address keeps its system's level; the certificate names the tenant.
        let known = stamp("10.1.2.3:514", None);
        assert_eq!((known.tenant.as_ref(), known.level.get()), ("agency-a", 4));
        assert!(!known.flags.contains(EventFlags::UNMAPPED_SOURCE));
        // An unknown address with a level from the allow-list is mapped.
        let leveled = stamp("192.0.2.1:514", Some(2));
        assert_eq!(
            (leveled.tenant.as_ref(), leveled.level.get()),
            ("agency-a", 2)
        );
        assert!(!leveled.flags.contains(EventFlags::UNMAPPED_SOURCE));
        // An unknown address without one gets the unmapped level, flagged and listed.
        let unknown = stamp("192.0.2.2:514", None);
        assert_eq!(unknown.tenant.as_ref(), "agency-a");
        assert_eq!(unknown.level, stamper.source_map.unmapped().level);
        assert!(unknown.flags.contains(EventFlags::UNMAPPED_SOURCE));
        assert_eq!(stamper.unmapped().list().len(), 1);
    }
}

#[cfg(test)]
mod relayed_tests {
    use super::*;
    use vigil_config::{SystemConfig, UnmappedConfig};
    use vigil_pipeline::Metrics;

    fn relayed(source: &str, tenant: &str, level: i64, unmapped: bool) -> Event {
        let mut event = Event::new(Timestamp::now(), b"relayed".to_vec());
        event.source = Some(source.parse().expect("address"));
        event.tenant = Arc::from(tenant);
        event.level = SecurityLevel::new(level).expect("level");
        if unmapped {
            event.flags.insert(EventFlags::UNMAPPED_SOURCE);
        }
        event
    }

    #[test]
    fn relayed_events_take_the_system_here_else_keep_what_the_relay_knew() {
        let systems = [SystemConfig {
            name: "core".into(),
            tenant: "ministry".into(),
            level: 4,
            sources: vec!["10.0.0.0/8".into()],
            timezone: None,
        }];
        let map = SourceMap::build(&systems, &UnmappedConfig::default()).expect("map");
        let stamper = Stamper::new(
            map,
            "soc",
            Arc::new(UnmappedSources::new(&Metrics::default())),
        );
        let listener: Arc<str> = Arc::from("channel");
        let default_level = stamper.source_map.unmapped().level;

        // An agent that knew no systems: the SOC's map decides.
        let mut event = relayed("10.1.2.3:514", "default", 2, true);
        event.observer = Some(Arc::from("agent-1"));
        stamper.stamp_relayed(&mut event, None, &listener, "agent-1");
        assert_eq!(&*event.tenant, "ministry");
        assert_eq!(event.level.get(), 4);
        assert!(!event.flags.contains(EventFlags::UNMAPPED_SOURCE));
        assert_eq!(&*event.listener, "channel");
        assert!(
            event.fields.is_empty(),
            "the agent observed it: no relay field"
        );

        // A SOC that forwards its own tenant's events: they keep it, and name the SOCs.
        let mut event = relayed("192.0.2.7:514", "agency-x", 3, false);
        event.observer = Some(Arc::from("agent-9"));
        stamper.stamp_relayed(&mut event, None, &listener, "agent-9");
        stamper.stamp_relayed(&mut event, None, &listener, "agency-soc");
        stamper.stamp_relayed(&mut event, None, &listener, "regional-soc");
        assert_eq!((&*event.tenant, event.level.get()), ("agency-x", 3));
        assert_eq!(event.observer.as_deref(), Some("agent-9"));
        assert_eq!(
            event.fields.get(vigil_event::field::VIA),
            Some(&vigil_event::Value::List(vec![
                vigil_event::Value::Str("agency-soc".into()),
                vigil_event::Value::Str("regional-soc".into())
            ]))
        );

        // Nobody knows the sender: unmapped defaults, still flagged.
        let mut event = relayed("192.0.2.8:514", "whatever", 5, true);
        stamper.stamp_relayed(&mut event, None, &listener, "agent-1");
        assert_eq!(&*event.tenant, &*stamper.source_map.unmapped().tenant);
        assert_eq!(event.level, default_level);
        assert!(event.flags.contains(EventFlags::UNMAPPED_SOURCE));

        // The relay's certificate names the tenant and level.
        let origin = Origin {
            tenant: Arc::from("province"),
            level: Some(SecurityLevel::new(5).expect("level")),
        };
        let mut event = relayed("10.1.2.3:514", "default", 2, true);
        stamper.stamp_relayed(&mut event, Some(&origin), &listener, "agent-2");
        assert_eq!((&*event.tenant, event.level.get()), ("province", 5));
    }
}

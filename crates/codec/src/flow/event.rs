//! [`FlowRecord::to_event`]: a flow record as an ECS-style [`Event`].
//!
//! Core network fields use the ECS names of [`vigil_event::field`]; the rest go under
//! `netflow.` (v5, v9) or `ipfix.`, elements without a field of their own as `<prefix>.e<id>`
//! (`ipfix.<enterprise>.e<id>` for enterprise elements) and options scope elements as
//! `<prefix>.scope.…`.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use vigil_event::{field, Event, Timestamp, ToCompactString, Value};

use super::record::{Element, FlowKind, FlowRecord};
use super::wire;

pub const OBSERVER_INGRESS_INTERFACE_ID: &str = "observer.ingress.interface.id";
pub const OBSERVER_EGRESS_INTERFACE_ID: &str = "observer.egress.interface.id";

/// The protocol-specific field names, so that mapping a record formats none of them.
struct Names {
    tcp_flags: &'static str,
    tos: &'static str,
    next_hop: &'static str,
    source_as: &'static str,
    destination_as: &'static str,
    sampling_interval: &'static str,
    template_id: &'static str,
    domain: &'static str,
}

const NETFLOW_NAMES: Names = Names {
    tcp_flags: "netflow.tcp_flags",
    tos: "netflow.tos",
    next_hop: "netflow.next_hop",
    source_as: "netflow.source_as",
    destination_as: "netflow.destination_as",
    sampling_interval: "netflow.sampling_interval",
    template_id: "netflow.template_id",
    domain: "netflow.source_id",
};

const IPFIX_NAMES: Names = Names {
    tcp_flags: "ipfix.tcp_flags",
    tos: "ipfix.tos",
    next_hop: "ipfix.next_hop",
    source_as: "ipfix.source_as",
    destination_as: "ipfix.destination_as",
    sampling_interval: "ipfix.sampling_interval",
    template_id: "ipfix.template_id",
    domain: "ipfix.observation_domain_id",
};

/// The names of NetFlow v9 options scope types (RFC 3954 §6.1).
fn v9_scope_name(scope_type: u16) -> Option<&'static str> {
    Some(match scope_type {
        1 => "system",
        2 => "interface",
        3 => "line_card",
        4 => "cache",
        5 => "template",
        _ => return None,
    })
}

/// `network.transport`: the IANA keyword, lowercase, for the common protocols.
pub(crate) fn transport_name(protocol: u8) -> Option<&'static str> {
    Some(match protocol {
        1 => "icmp",
        2 => "igmp",
        4 => "ipv4",
        6 => "tcp",
        17 => "udp",
        41 => "ipv6",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        58 => "ipv6-icmp",
        88 => "eigrp",
        89 => "ospf",
        103 => "pim",
        112 => "vrrp",
        132 => "sctp",
        _ => return None,
    })
}

/// How long before its export a flow's end may be and still be its `@timestamp`: exporters
/// send a flow within their active timeout (minutes) of its last packet; a day is generous.
pub const END_BEFORE_EXPORT_NANOS: i64 = 24 * 3_600 * 1_000_000_000;
/// How far after its export a flow's end may be (clock skew between uptime and wall time).
pub const END_AFTER_EXPORT_NANOS: i64 = 5 * 60 * 1_000_000_000;

impl FlowRecord {
    /// The record as an event received at `received`: `@timestamp` is the flow's end when it
    /// is plausible (at most `END_BEFORE_EXPORT_NANOS` before the export, at most
    /// `END_AFTER_EXPORT_NANOS` after it), else the export time; `event.end` keeps what the
    /// exporter said either way. An exporter whose uptime clock is off (softflowd replaying a
    /// capture is one) must not scatter its flows over days that retention and search would
    /// then get wrong. `event.original` is the record's bytes.
    pub fn to_event(&self, received: Timestamp) -> Event {
        let mut event = Event::new(received, self.raw.clone());
        let export = self.export_time.as_nanos();
        event.timestamp = self
            .end
            .filter(|end| {
                let end = end.as_nanos();
                end >= export.saturating_sub(END_BEFORE_EXPORT_NANOS)
                    && end <= export.saturating_add(END_AFTER_EXPORT_NANOS)
            })
            .unwrap_or(self.export_time);
        event.source = self
            .source
            .map(|ip| SocketAddr::new(ip, self.source_port.unwrap_or(0)));
        event.message = self.summary();
        let names = match self.kind {
            FlowKind::Ipfix => &IPFIX_NAMES,
            FlowKind::NetflowV5 | FlowKind::NetflowV9 => &NETFLOW_NAMES,
        };
        let fields = &mut event.fields;
        let mut put = |name: &'static str, value: Value| {
            fields.insert(name.into(), value);
        };
        put(field::OBSERVER_IP, Value::ip(self.exporter.ip()));
        put(field::EVENT_DATASET, Value::from(self.kind.dataset()));
        if self.options {
            put(field::EVENT_KIND, Value::from("metric"));
        } else {
            put(field::EVENT_KIND, Value::from("event"));
            put(field::EVENT_CATEGORY, Value::from("network"));
            put(field::EVENT_TYPE, Value::from("connection"));
        }
        if let Some(ip) = self.destination {
            put(field::DESTINATION_IP, Value::ip(ip));
        }
        if let Some(port) = self.destination_port {
            put(field::DESTINATION_PORT, Value::Int(i64::from(port)));
        }
        if let Some(protocol) = self.protocol {
            let transport = match transport_name(protocol) {
                Some(name) => Value::from(name),
                None => Value::Str(protocol.to_compact_string()),
            };
            put(field::NETWORK_TRANSPORT, transport);
            put(
                field::NETWORK_IANA_NUMBER,
                Value::Str(protocol.to_compact_string()),
            );
        }
        match self.source.or(self.destination) {
            Some(IpAddr::V4(_)) => put(field::NETWORK_TYPE, Value::from("ipv4")),
            Some(IpAddr::V6(_)) => put(field::NETWORK_TYPE, Value::from("ipv6")),
            None => {}
        }
        if let Some(bytes) = self.bytes {
            put(field::NETWORK_BYTES, int(bytes));
        }
        if let Some(packets) = self.packets {
            put(field::NETWORK_PACKETS, int(packets));
        }
        if let Some(start) = self.start {
            put(field::EVENT_START, Value::Str(start.to_compact_string()));
        }
        if let Some(end) = self.end {
            put(field::EVENT_END, Value::Str(end.to_compact_string()));
        }
        if let (Some(start), Some(end)) = (self.start, self.end) {
            if let Some(nanos) = end.as_nanos().checked_sub(start.as_nanos()) {
                if nanos >= 0 {
                    put(field::EVENT_DURATION, Value::Int(nanos));
                }
            }
        }
        if let Some(direction) = self.direction {
            let name = match direction {
                0 => "ingress",
                1 => "egress",
                _ => "unknown",
            };
            put(field::NETWORK_DIRECTION, Value::from(name));
        }
        if let Some(interface) = self.input_interface {
            put(
                OBSERVER_INGRESS_INTERFACE_ID,
                Value::Str(interface.to_compact_string()),
            );
        }
        if let Some(interface) = self.output_interface {
            put(
                OBSERVER_EGRESS_INTERFACE_ID,
                Value::Str(interface.to_compact_string()),
            );
        }
        if let Some(flags) = self.tcp_flags {
            put(names.tcp_flags, Value::Int(i64::from(flags)));
        }
        if let Some(tos) = self.tos {
            put(names.tos, Value::Int(i64::from(tos)));
        }
        if let Some(ip) = self.next_hop {
            put(names.next_hop, Value::ip(ip));
        }
        if let Some(number) = self.source_as {
            put(names.source_as, Value::Int(i64::from(number)));
        }
        if let Some(number) = self.destination_as {
            put(names.destination_as, Value::Int(i64::from(number)));
        }
        if let Some(interval) = self.sampling_interval {
            put(names.sampling_interval, Value::Int(i64::from(interval)));
        }
        if self.kind == FlowKind::NetflowV5 {
            put(
                "netflow.engine_type",
                Value::Int(i64::from(self.domain >> 8)),
            );
            put(
                "netflow.engine_id",
                Value::Int(i64::from(self.domain & 0xff)),
            );
        } else {
            put(names.template_id, Value::Int(i64::from(self.template_id)));
            put(names.domain, Value::Int(i64::from(self.domain)));
        }
        let prefix = self.kind.field_prefix();
        for (element, bytes) in self.other_values() {
            insert_element(
                fields,
                element_name(prefix, "", element),
                element_value(bytes),
            );
        }
        for (element, bytes) in self.scope_values() {
            let name = match (self.kind, v9_scope_name(element.id)) {
                (FlowKind::NetflowV9, Some(scope)) => format!("netflow.scope.{scope}"),
                _ => element_name(prefix, "scope.", element),
            };
            insert_element(fields, name, element_value(bytes));
        }
        event
    }

    /// `tcp 10.0.0.1:51515 -> 10.0.0.2:22, 6 packets, 480 bytes`; options records say so.
    fn summary(&self) -> String {
        let mut text = String::with_capacity(96);
        if self.options {
            let _ = write!(
                text,
                "{} options record from {}, template {}",
                self.kind.dataset(),
                self.exporter.ip(),
                self.template_id
            );
            return text;
        }
        match self.protocol {
            Some(protocol) => match transport_name(protocol) {
                Some(name) => text.push_str(name),
                None => {
                    let _ = write!(text, "ip proto {protocol}");
                }
            },
            None => text.push_str("flow"),
        }
        text.push(' ');
        push_endpoint(&mut text, self.source, self.source_port);
        text.push_str(" -> ");
        push_endpoint(&mut text, self.destination, self.destination_port);
        if let Some(packets) = self.packets {
            let _ = write!(text, ", {packets} packets");
        }
        if let Some(bytes) = self.bytes {
            let _ = write!(text, ", {bytes} bytes");
        }
        text
    }
}

fn push_endpoint(text: &mut String, ip: Option<IpAddr>, port: Option<u16>) {
    let _ = match (ip, port) {
        (Some(ip), Some(port)) => write!(text, "{}", SocketAddr::new(ip, port)),
        (Some(ip), None) => write!(text, "{ip}"),
        (None, _) => write!(text, "?"),
    };
}

fn int(value: u64) -> Value {
    Value::Int(i64::try_from(value).unwrap_or(i64::MAX))
}

fn element_name(prefix: &str, infix: &str, element: Element) -> String {
    if element.enterprise == 0 {
        format!("{prefix}.{infix}e{}", element.id)
    } else {
        format!("{prefix}.{infix}{}.e{}", element.enterprise, element.id)
    }
}

/// An integer when the value has an integer's size (1, 2, 4 or 8 bytes) and fits in `i64`, else
/// its bytes in lowercase hex.
fn element_value(bytes: &[u8]) -> Value {
    if matches!(bytes.len(), 1 | 2 | 4 | 8) {
        if let Some(number) = wire::uint(bytes).and_then(|value| i64::try_from(value).ok()) {
            return Value::Int(number);
        }
    }
    let mut hex = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(hex, "{byte:02x}");
    }
    Value::from(hex)
}

/// An element that appears more than once keeps every value, as a list in template order.
fn insert_element(fields: &mut vigil_event::Fields, name: String, value: Value) {
    match fields.get_mut(name.as_str()) {
        None => {
            fields.insert(name.into(), value);
        }
        Some(Value::List(values)) => values.push(value),
        Some(existing) => {
            let first = std::mem::replace(existing, Value::Bool(false));
            *existing = Value::List(vec![first, value]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::record::FieldBytes;
    use super::*;

    const SECOND: i64 = 1_000_000_000;

    fn flow(kind: FlowKind) -> FlowRecord {
        let mut record = FlowRecord::empty(
            kind,
            SocketAddr::from(([192, 0, 2, 1], 2055)),
            42,
            1024,
            Timestamp::from_nanos(1_000 * SECOND),
            false,
        );
        record.source = Some([10, 0, 0, 1].into());
        record.destination = Some([10, 0, 0, 2].into());
        record.source_port = Some(51_515);
        record.destination_port = Some(22);
        record.protocol = Some(6);
        record.packets = Some(6);
        record.bytes = Some(480);
        record.raw = vec![1, 2, 3];
        record
    }

    fn text(event: &Event, name: &str) -> Option<String> {
        event
            .fields
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    #[test]
    fn flow_to_event_maps_the_ecs_fields() {
        let mut record = flow(FlowKind::NetflowV9);
        record.start = Some(Timestamp::from_nanos(990 * SECOND));
        record.end = Some(Timestamp::from_nanos(995 * SECOND + 500_000_000));
        record.input_interface = Some(3);
        record.output_interface = Some(4);
        record.direction = Some(1);
        record.tcp_flags = Some(0x1b);
        record.tos = Some(8);
        record.next_hop = Some([10, 9, 9, 9].into());
        record.source_as = Some(64_512);
        record.destination_as = Some(64_513);
        record.sampling_interval = Some(100);
        let received = Timestamp::from_nanos(1_001 * SECOND);
        let event = record.to_event(received);
        assert_eq!(event.timestamp, record.end.expect("end"));
        assert_eq!(event.created, received);
        assert_eq!(event.original, [1, 2, 3]);
        assert_eq!(
            event.source,
            Some(SocketAddr::from(([10, 0, 0, 1], 51_515)))
        );
        assert_eq!(
            event.message,
            "tcp 10.0.0.1:51515 -> 10.0.0.2:22, 6 packets, 480 bytes"
        );
        let expected: vigil_event::Fields = [
            (field::OBSERVER_IP, Value::from("192.0.2.1")),
            (field::EVENT_KIND, Value::from("event")),
            (field::EVENT_CATEGORY, Value::from("network")),
            (field::EVENT_TYPE, Value::from("connection")),
            (field::EVENT_DATASET, Value::from("netflow.v9")),
            (field::DESTINATION_IP, Value::from("10.0.0.2")),
            (field::DESTINATION_PORT, Value::Int(22)),
            (field::NETWORK_TRANSPORT, Value::from("tcp")),
            (field::NETWORK_IANA_NUMBER, Value::from("6")),
            (field::NETWORK_TYPE, Value::from("ipv4")),
            (field::NETWORK_BYTES, Value::Int(480)),
            (field::NETWORK_PACKETS, Value::Int(6)),
            (field::EVENT_START, Value::from("1970-01-01T00:16:30Z")),
            (field::EVENT_END, Value::from("1970-01-01T00:16:35.500Z")),
            (field::EVENT_DURATION, Value::Int(5 * SECOND + 500_000_000)),
            (field::NETWORK_DIRECTION, Value::from("egress")),
            (OBSERVER_INGRESS_INTERFACE_ID, Value::from("3")),
            (OBSERVER_EGRESS_INTERFACE_ID, Value::from("4")),
            ("netflow.tcp_flags", Value::Int(0x1b)),
            ("netflow.tos", Value::Int(8)),
            ("netflow.next_hop", Value::from("10.9.9.9")),
            ("netflow.source_as", Value::Int(64_512)),
            ("netflow.destination_as", Value::Int(64_513)),
            ("netflow.sampling_interval", Value::Int(100)),
            ("netflow.template_id", Value::Int(1024)),
            ("netflow.source_id", Value::Int(42)),
        ]
        .into_iter()
        .map(|(name, value)| (name.into(), value))
        .collect();
        assert_eq!(event.fields, expected);
    }

    #[test]
    fn an_implausible_end_leaves_the_export_time_as_timestamp() {
        let mut record = flow(FlowKind::NetflowV9);
        let export = record.export_time.as_nanos();
        for (end, plausible) in [
            (export - 60 * 1_000_000_000, true),
            (export - END_BEFORE_EXPORT_NANOS - 1, false),
            (export + END_AFTER_EXPORT_NANOS, true),
            (export + END_AFTER_EXPORT_NANOS + 1, false),
        ] {
            record.end = Some(Timestamp::from_nanos(end));
            let event = record.to_event(Timestamp::from_nanos(0));
            let expected = if plausible { end } else { export };
            assert_eq!(event.timestamp.as_nanos(), expected, "end {end}");
            assert_eq!(
                text(&event, field::EVENT_END),
                Some(Timestamp::from_nanos(end).to_string())
            );
        }
    }

    #[test]
    fn flow_without_an_end_is_stamped_with_its_export_time() {
        let mut record = flow(FlowKind::Ipfix);
        record.source = None;
        record.source_port = None;
        record.destination = Some("2001:db8::2".parse().expect("ip"));
        record.protocol = Some(253);
        record.bytes = None;
        let event = record.to_event(Timestamp::from_nanos(0));
        assert_eq!(event.timestamp, record.export_time);
        assert_eq!(event.source, None);
        assert_eq!(text(&event, field::NETWORK_TYPE).as_deref(), Some("ipv6"));
        assert_eq!(
            text(&event, field::NETWORK_TRANSPORT).as_deref(),
            Some("253")
        );
        assert_eq!(text(&event, field::EVENT_DATASET).as_deref(), Some("ipfix"));
        assert_eq!(
            event.fields.get("ipfix.observation_domain_id"),
            Some(&Value::Int(42))
        );
        assert!(!event.fields.contains_key(field::EVENT_DURATION));
        assert_eq!(
            event.message,
            "ip proto 253 ? -> [2001:db8::2]:22, 6 packets"
        );
    }

    #[test]
    fn v5_event_names_its_engine() {
        let mut record = flow(FlowKind::NetflowV5);
        record.domain = 0x0102;
        record.template_id = 0;
        let event = record.to_event(Timestamp::from_nanos(0));
        assert_eq!(
            text(&event, field::EVENT_DATASET).as_deref(),
            Some("netflow.v5")
        );
        assert_eq!(
            event.fields.get("netflow.engine_type"),
            Some(&Value::Int(1))
        );
        assert_eq!(event.fields.get("netflow.engine_id"), Some(&Value::Int(2)));
        assert!(!event.fields.contains_key("netflow.template_id"));
        assert!(!event.fields.contains_key("netflow.source_id"));
    }

    #[test]
    fn other_elements_are_integers_or_hex_by_size() {
        let mut record = flow(FlowKind::Ipfix);
        record.raw = vec![
            7, // 1 byte
            0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, // 6 bytes
            0xff, 0, 0, 0, 0, 0, 0, 1, // 8 bytes, over i64
            0, 0, 0, 9, // 4 bytes, enterprise
            1, 2, // 2 bytes, the first element again
        ];
        let place = |offset, length| FieldBytes { offset, length };
        record.other = vec![
            (Element::iana(200), place(0, 1)),
            (Element::iana(56), place(1, 6)),
            (Element::iana(201), place(7, 8)),
            (
                Element {
                    enterprise: 9,
                    id: 1_001,
                },
                place(15, 4),
            ),
            (Element::iana(200), place(19, 2)),
        ];
        let event = record.to_event(Timestamp::from_nanos(0));
        assert_eq!(
            event.fields.get("ipfix.e200"),
            Some(&Value::List(vec![Value::Int(7), Value::Int(0x0102)]))
        );
        assert_eq!(text(&event, "ipfix.e56").as_deref(), Some("aabbccddeeff"));
        assert_eq!(
            text(&event, "ipfix.e201").as_deref(),
            Some("ff00000000000001")
        );
        assert_eq!(event.fields.get("ipfix.9.e1001"), Some(&Value::Int(9)));
    }

    #[test]
    fn options_record_is_a_metric_with_named_scope() {
        let mut record = flow(FlowKind::NetflowV9);
        record.options = true;
        record.raw = vec![0, 0, 0, 5, 0, 0, 0, 100];
        record.scope = vec![(
            Element::iana(2),
            FieldBytes {
                offset: 0,
                length: 4,
            },
        )];
        record.other = vec![(
            Element::iana(49),
            FieldBytes {
                offset: 4,
                length: 4,
            },
        )];
        let event = record.to_event(Timestamp::from_nanos(0));
        assert_eq!(text(&event, field::EVENT_KIND).as_deref(), Some("metric"));
        assert!(!event.fields.contains_key(field::EVENT_CATEGORY));
        assert!(!event.fields.contains_key(field::EVENT_TYPE));
        assert_eq!(
            event.fields.get("netflow.scope.interface"),
            Some(&Value::Int(5))
        );
        assert_eq!(event.fields.get("netflow.e49"), Some(&Value::Int(100)));
        assert_eq!(
            event.message,
            "netflow.v9 options record from 192.0.2.1, template 1024"
        );

        record.kind = FlowKind::Ipfix;
        let event = record.to_event(Timestamp::from_nanos(0));
        assert_eq!(event.fields.get("ipfix.scope.e2"), Some(&Value::Int(5)));
    }
}

//! The names of the core fields, ECS-style. Every crate names fields through these constants so
//! that the schema lives in one place.

pub const TIMESTAMP: &str = "@timestamp";
pub const EVENT_ID: &str = "event.id";
pub const EVENT_CREATED: &str = "event.created";
pub const EVENT_ORIGINAL: &str = "event.original";
pub const EVENT_CATEGORY: &str = "event.category";
pub const EVENT_ACTION: &str = "event.action";
pub const EVENT_OUTCOME: &str = "event.outcome";
pub const MESSAGE: &str = "message";
pub const HOST_NAME: &str = "host.name";
pub const HOST_IP: &str = "host.ip";
pub const SYSLOG_FACILITY_CODE: &str = "log.syslog.facility.code";
pub const SYSLOG_FACILITY_NAME: &str = "log.syslog.facility.name";
pub const SYSLOG_SEVERITY_CODE: &str = "log.syslog.severity.code";
pub const SYSLOG_SEVERITY_NAME: &str = "log.syslog.severity.name";
pub const SYSLOG_PRIORITY: &str = "log.syslog.priority";
pub const SYSLOG_VERSION: &str = "log.syslog.version";
pub const SYSLOG_MSGID: &str = "log.syslog.msgid";
pub const SYSLOG_PROCID: &str = "log.syslog.procid";
pub const SYSLOG_STRUCTURED_DATA: &str = "log.syslog.structured_data";
pub const PROCESS_NAME: &str = "process.name";
pub const PROCESS_PID: &str = "process.pid";
pub const SOURCE_IP: &str = "source.ip";
pub const SOURCE_PORT: &str = "source.port";
pub const OBSERVER_HOSTNAME: &str = "observer.hostname";
/// The Vigil nodes that relayed an event over the channel without having observed it (the
/// agency SOC that forwarded it to the national SOC, …), in order. The node that observed it is
/// `observer.hostname`.
pub const VIA: &str = "vigil.via";
pub const OBSERVER_TYPE: &str = "observer.type";
/// The device that observed an event and exported it (a NetFlow exporter, an SNMP agent) when
/// that is not the sender `source.*` names.
pub const OBSERVER_IP: &str = "observer.ip";
pub const EVENT_KIND: &str = "event.kind";
pub const EVENT_TYPE: &str = "event.type";
pub const EVENT_DATASET: &str = "event.dataset";
pub const EVENT_START: &str = "event.start";
pub const EVENT_END: &str = "event.end";
pub const EVENT_DURATION: &str = "event.duration";
pub const DESTINATION_IP: &str = "destination.ip";
pub const DESTINATION_PORT: &str = "destination.port";
pub const NETWORK_TRANSPORT: &str = "network.transport";
pub const NETWORK_IANA_NUMBER: &str = "network.iana_number";
pub const NETWORK_BYTES: &str = "network.bytes";
pub const NETWORK_PACKETS: &str = "network.packets";
pub const NETWORK_DIRECTION: &str = "network.direction";
pub const NETWORK_TYPE: &str = "network.type";
pub const OBSERVER_PRODUCT: &str = "observer.product";
pub const TENANT: &str = "vigil.tenant";
pub const LEVEL: &str = "vigil.level";
pub const LISTENER: &str = "vigil.listener";
pub const FLAGS: &str = "vigil.flags";
// What a rule raised (an alert is an event too: see `Alert::to_event`).
pub const RULE_ID: &str = "rule.id";
pub const RULE_NAME: &str = "rule.name";
pub const RULE_VERSION: &str = "rule.version";
pub const EVENT_SEVERITY: &str = "event.severity";
pub const THREAT_TECHNIQUE_ID: &str = "threat.technique.id";
pub const ALERT_SEVERITY: &str = "vigil.alert.severity";
pub const ALERT_KEY: &str = "vigil.alert.key";
pub const ALERT_COUNT: &str = "vigil.alert.count";
pub const ALERT_EVENTS: &str = "vigil.alert.events";
pub const ALERT_KILL_CHAIN: &str = "vigil.alert.kill_chain";
/// Set, base64, when `event.original` is not valid UTF-8: the exact bytes received.
pub const ORIGINAL_BASE64: &str = "vigil.original_base64";

/// Syslog facility names by code (RFC 5424 §6.2.1), as ECS and syslog_loose spell them.
pub const FACILITY_NAMES: [&str; 24] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
    "ftp", "ntp", "audit", "alert", "clockd", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];

/// Syslog severity names by code (RFC 5424 §6.2.1).
pub const SEVERITY_NAMES: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

pub fn facility_name(code: u8) -> Option<&'static str> {
    FACILITY_NAMES.get(usize::from(code)).copied()
}

pub fn severity_name(code: u8) -> Option<&'static str> {
    SEVERITY_NAMES.get(usize::from(code)).copied()
}

/// The severity code for a name, accepting the common aliases (`error`, `warn`, `emergency`, …).
pub fn severity_code(name: &str) -> Option<u8> {
    let code = match name.to_ascii_lowercase().as_str() {
        "emerg" | "emergency" | "panic" => 0,
        "alert" => 1,
        "crit" | "critical" => 2,
        "err" | "error" => 3,
        "warning" | "warn" => 4,
        "notice" => 5,
        "info" | "informational" => 6,
        "debug" => 7,
        _ => return None,
    };
    Some(code)
}

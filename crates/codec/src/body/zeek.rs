//! Zeek (formerly Bro) logs: JSON lines (`LogAscii::use_json=T`) and default `conn.log` TSV
//! lines.
//!
//! **JSON.** A record with `ts` + `uid` + `id.orig_h`, or with `_path`. The log kind comes from
//! `_path` when present, else from the keys present (`conn_state` → conn, `query`/`qtype_name`
//! → dns, `method`/`status_code` → http). Every record gets the time (`ts`: epoch seconds
//! with a fraction, or ISO 8601 when Zeek was set to write that), `zeek.session_id` (`uid`),
//! `event.dataset` (`zeek.<kind>`), `source.*`/`destination.*` address and port and
//! `network.transport`. Then:
//!
//! - conn: `network.protocol` (`service`), `event.duration` (ns), bytes and packets per side
//!   and summed (`network.bytes` from the IP-level byte counts), `network.direction` from
//!   `local_orig`/`local_resp`, `zeek.connection.state`/`.history`/`.missed_bytes`;
//! - dns: `dns.id`, `dns.question.name`/`.type`, `dns.response_code`, `dns.answers`
//!   (as `zeek.dns.answers`) and `dns.resolved_ip`;
//! - http: `http.request.method`, `url.domain`, `url.original`/`.path`/`.query`,
//!   `http.response.status_code`, `user_agent.original`, request/response body bytes,
//!   `http.version`, `http.request.referrer`.
//!
//! **TSV.** Without the file's `#fields` header the columns of a TSV line cannot be known, so a
//! TSV line is accepted only when it is a `conn.log` line with the default columns, checked
//! value by value: 21 columns (Zeek 4 to 7.0: `ts uid id.orig_h id.orig_p id.resp_h id.resp_p
//! proto service duration orig_bytes resp_bytes conn_state local_orig local_resp missed_bytes
//! history orig_pkts orig_ip_bytes resp_pkts resp_ip_bytes tunnel_parents`), or 22 with the
//! `ip_proto` column Zeek 7.1 added at the end. Any other TSV line (other logs, extra columns
//! from policy scripts) is refused.

use serde_json::Number;
use vigil_event::Value;

use super::json::{self, int_of, is_placeholder};
use super::json_value::{Json, Map};
use super::search::Search;
use super::{suricata, Input, Output};

/// The default `conn.log` columns, in order (Zeek 4 to 7.0).
const CONN_COLUMNS: [&str; 21] = [
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "service",
    "duration",
    "orig_bytes",
    "resp_bytes",
    "conn_state",
    "local_orig",
    "local_resp",
    "missed_bytes",
    "history",
    "orig_pkts",
    "orig_ip_bytes",
    "resp_pkts",
    "resp_ip_bytes",
    "tunnel_parents",
];
/// The column Zeek 7.1 appended to `conn.log`.
const IP_PROTO_COLUMN: &str = "ip_proto";
/// Zeek's TSV placeholder for an unset field and for an empty set.
const UNSET: &str = "-";
const EMPTY_SET: &str = "(empty)";
/// Answers kept in `dns.resolved_ip` / `zeek.dns.answers`.
const MAX_ANSWERS: usize = 32;

pub(super) fn decode(input: &Input<'_>, out: &mut Output) -> bool {
    let message = input.message.trimmed();
    if message.starts_with('{') {
        return match json::parse_object(message) {
            Some(root) if is_zeek_json(&root) => decode_object(&root, out),
            _ => false,
        };
    }
    match conn_tsv(message) {
        Some(root) => decode_object(&root, out),
        None => false,
    }
}

/// Whether a JSON object is a Zeek log record.
pub(super) fn is_zeek_json(root: &Map<'_>) -> bool {
    root.get("_path").is_some_and(Json::is_string)
        || (root.contains_key("ts") && root.contains_key("uid") && root.contains_key("id.orig_h"))
}

/// The kinds of Zeek log this decoder maps.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Conn,
    Dns,
    Http,
    Other,
}

fn kind_of<'a>(root: &'a Map<'_>) -> (Kind, Option<&'a str>) {
    if let Some(path) = root.get("_path").and_then(Json::as_str) {
        let kind = match path {
            "conn" => Kind::Conn,
            "dns" => Kind::Dns,
            "http" => Kind::Http,
            _ => Kind::Other,
        };
        return (kind, Some(path));
    }
    let has = |key: &str| root.contains_key(key);
    let kind = if has("conn_state") || has("history") || has("orig_bytes") {
        Kind::Conn
    } else if has("query") || has("qtype_name") || has("rcode_name") {
        Kind::Dns
    } else if has("method") || has("status_code") || has("uri") {
        Kind::Http
    } else {
        Kind::Other
    };
    let name = match kind {
        Kind::Conn => Some("conn"),
        Kind::Dns => Some("dns"),
        Kind::Http => Some("http"),
        Kind::Other => None,
    };
    (kind, name)
}

pub(super) fn decode_object(root: &Map<'_>, out: &mut Output) -> bool {
    if let Some(ts) = root.get("ts") {
        match json::time_value(ts) {
            Some(time) => out.set_timestamp(time),
            // A `ts` that is no time is not a Zeek record.
            None => return false,
        }
    }
    let (kind, name) = kind_of(root);
    out.put("observer.vendor", "Zeek");
    out.put("observer.product", "Zeek");
    if let Some(name) = name.filter(|name| !name.is_empty()) {
        out.put("event.dataset", Value::from(format!("zeek.{name}")));
    }
    json::put_text_value(out, "zeek.session_id", root.get("uid"));
    put_endpoints(root, out);
    match kind {
        Kind::Conn => put_conn(root, out),
        Kind::Dns => put_dns(root, out),
        Kind::Http => put_http(root, out),
        Kind::Other => {}
    }
    true
}

/// `id.orig_h` etc.: flat dotted keys as Zeek writes them, or a nested `id` object.
fn id_field<'a>(root: &'a Map<'a>, name: &str) -> Option<&'a Json<'a>> {
    root.get(&format!("id.{name}")).or_else(|| {
        root.get("id")
            .and_then(Json::as_object)
            .and_then(|id| id.get(name))
    })
}

fn put_endpoints(root: &Map<'_>, out: &mut Output) {
    json::put_ip_value(out, "source.ip", id_field(root, "orig_h"));
    json::put_int_value(out, "source.port", id_field(root, "orig_p"));
    json::put_ip_value(out, "destination.ip", id_field(root, "resp_h"));
    json::put_int_value(out, "destination.port", id_field(root, "resp_p"));
    if let Some(proto) = root.get("proto").and_then(Json::as_str) {
        out.put_str("network.transport", &proto.to_ascii_lowercase());
    }
}

fn put_conn(root: &Map<'_>, out: &mut Output) {
    out.put("event.category", "network");
    out.put(
        "event.type",
        Value::List(vec![Value::from("connection"), Value::from("end")]),
    );
    out.put("event.action", "network-connection");
    json::put_text_value(out, "network.protocol", root.get("service"));
    if let Some(seconds) = root.get("duration").and_then(Json::as_f64) {
        if seconds.is_finite() && (0.0..1e9).contains(&seconds) {
            out.put("event.duration", Value::Int((seconds * 1e9).round() as i64));
        }
    }
    let count = |key: &str| root.get(key).and_then(int_of);
    let pairs = [
        ("orig_bytes", "source.bytes"),
        ("resp_bytes", "destination.bytes"),
        ("orig_pkts", "source.packets"),
        ("resp_pkts", "destination.packets"),
        ("missed_bytes", "zeek.connection.missed_bytes"),
    ];
    for (key, field) in pairs {
        if let Some(number) = count(key) {
            out.put(field, Value::Int(number));
        }
    }
    let total = |a: &str, b: &str| Some(count(a)?.saturating_add(count(b)?));
    if let Some(bytes) = total("orig_ip_bytes", "resp_ip_bytes") {
        out.put("network.bytes", Value::Int(bytes));
    }
    if let Some(packets) = total("orig_pkts", "resp_pkts") {
        out.put("network.packets", Value::Int(packets));
    }
    json::put_text_value(out, "zeek.connection.state", root.get("conn_state"));
    json::put_text_value(out, "zeek.connection.history", root.get("history"));
    let local = |key: &str| root.get(key).and_then(Json::as_bool);
    let direction = match (local("local_orig"), local("local_resp")) {
        (Some(true), Some(true)) => Some("internal"),
        (Some(true), Some(false)) => Some("outbound"),
        (Some(false), Some(true)) => Some("inbound"),
        (Some(false), Some(false)) => Some("external"),
        _ => None,
    };
    if let Some(direction) = direction {
        out.put("network.direction", direction);
    }
}

fn put_dns(root: &Map<'_>, out: &mut Output) {
    out.put("event.category", "network");
    out.put("event.type", "protocol");
    out.put("network.protocol", "dns");
    json::put_text_value(out, "dns.id", root.get("trans_id"));
    json::put_text_value(out, "dns.question.name", root.get("query"));
    json::put_text_value(out, "dns.question.type", root.get("qtype_name"));
    json::put_text_value(out, "dns.response_code", root.get("rcode_name"));
    let answers: Vec<&str> = root
        .get("answers")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .take(MAX_ANSWERS)
        .collect();
    if answers.is_empty() {
        return;
    }
    let resolved: Vec<Value> = answers
        .iter()
        .filter_map(|answer| answer.parse::<std::net::IpAddr>().ok())
        .map(Value::ip)
        .collect();
    out.put(
        "zeek.dns.answers",
        Value::List(answers.into_iter().map(Value::from).collect()),
    );
    if !resolved.is_empty() {
        out.put("dns.resolved_ip", Value::List(resolved));
    }
}

fn put_http(root: &Map<'_>, out: &mut Output) {
    out.put("event.category", "web");
    out.put("event.type", "access");
    json::put_text_value(out, "http.request.method", root.get("method"));
    json::put_text_value(out, "url.domain", root.get("host"));
    if let Some(uri) = root.get("uri").and_then(Json::as_str) {
        suricata::put_url(out, uri);
    }
    json::put_int_value(out, "http.response.status_code", root.get("status_code"));
    json::put_text_value(out, "user_agent.original", root.get("user_agent"));
    json::put_int_value(out, "http.request.body.bytes", root.get("request_body_len"));
    json::put_int_value(
        out,
        "http.response.body.bytes",
        root.get("response_body_len"),
    );
    json::put_text_value(out, "http.version", root.get("version"));
    json::put_text_value(out, "http.request.referrer", root.get("referrer"));
}

/// A default `conn.log` TSV line as the JSON record Zeek would have written, when every
/// column holds what its type allows.
fn conn_tsv(line: &str) -> Option<Map<'_>> {
    if !line.contains_char('\t') {
        return None;
    }
    let mut root = Map::new();
    let mut columns = line.split_char('\t');
    for name in CONN_COLUMNS {
        let value = columns.next()?.trimmed();
        if value == UNSET || value == EMPTY_SET {
            continue;
        }
        root.insert(name, tsv_value(name, value)?);
    }
    if let Some(ip_proto) = columns.next() {
        let ip_proto = ip_proto.trimmed();
        if ip_proto != UNSET {
            root.insert(IP_PROTO_COLUMN, count(ip_proto)?);
        }
    }
    if columns.next().is_some() {
        return None;
    }
    // The columns that are never unset in a conn.log.
    let required = [
        "ts",
        "uid",
        "id.orig_h",
        "id.orig_p",
        "id.resp_h",
        "id.resp_p",
        "proto",
    ];
    required
        .iter()
        .all(|name| root.contains_key(name))
        .then_some(root)
}

/// One TSV column's value, typed as its `#types` header says; `None` when it is not.
fn tsv_value<'a>(name: &str, text: &'a str) -> Option<Json<'a>> {
    match name {
        "ts" | "duration" => {
            let seconds: f64 = text
                .parse()
                .ok()
                .filter(|s: &f64| s.is_finite() && *s >= 0.0)?;
            Some(Json::Number(Number::from_f64(seconds)?))
        }
        "uid" => {
            let valid = text.len() >= 2 && text.bytes().all(|b| b.is_ascii_alphanumeric());
            valid.then_some(Json::String(text.into()))
        }
        "id.orig_h" | "id.resp_h" => {
            let address: std::net::IpAddr = text.parse().ok()?;
            Some(Json::String(address.to_string().into()))
        }
        "id.orig_p" | "id.resp_p" => count(text).filter(|port| port.as_u64() <= Some(65535)),
        "proto" => {
            let known = matches!(text, "tcp" | "udp" | "icmp" | "unknown_transport");
            known.then_some(Json::String(text.into()))
        }
        "local_orig" | "local_resp" => match text {
            "T" => Some(Json::Bool(true)),
            "F" => Some(Json::Bool(false)),
            _ => None,
        },
        "orig_bytes" | "resp_bytes" | "missed_bytes" | "orig_pkts" | "orig_ip_bytes"
        | "resp_pkts" | "resp_ip_bytes" => count(text),
        _ if is_placeholder(text) => None,
        _ => Some(Json::String(text.into())),
    }
}

/// A Zeek `count`: an unsigned decimal integer.
fn count(text: &str) -> Option<Json<'static>> {
    text.parse::<u64>()
        .ok()
        .map(|number| Json::Number(number.into()))
}

#[cfg(test)]
#[path = "zeek_tests.rs"]
mod tests;

//! Suricata EVE JSON records (Suricata 4 to 8), as written to `eve.json` or sent over syslog.
//!
//! Every record gets the common part: the time (`timestamp`, e.g.
//! `2024-01-02T10:00:00.123456+0000`), `source.*`/`destination.*` address and port,
//! `network.transport` (lower case), `network.protocol` (`app_proto`),
//! `suricata.eve.event_type`, `suricata.eve.flow_id`, `suricata.eve.in_iface`, and
//! `observer.vendor`/`observer.product` (`OISF`/`Suricata`). Then by `event_type`:
//!
//! - `alert`: `rule.name` (signature), `rule.id` (signature id), `rule.category`,
//!   `event.severity`, `event.category` `intrusion_detection`; `alert.action` `allowed` →
//!   `event.type` `allowed`, `event.outcome` `success`; `blocked` → `denied`, `failure`;
//! - `flow`: packets and bytes per direction (`source.*`, `destination.*`) and summed
//!   (`network.bytes`, `network.packets`), `suricata.eve.flow.state` / `.reason`;
//! - `dns`: `dns.type`, `dns.id`, `dns.question.name` / `.type` (from `rrname`/`rrtype`, or the
//!   first of `queries` in EVE v3), `dns.response_code`, `dns.resolved_ip` (A/AAAA answers);
//! - `http`: `url.domain`, `url.original` (and path/query), `http.request.method`,
//!   `http.response.status_code`, `user_agent.original`, `http.response.body.bytes`,
//!   `http.version`, `http.request.referrer`.
//!
//! Other event types (`tls`, `fileinfo`, `anomaly`, …) keep only the common part. Records
//! without `src_ip` and `flow_id` (`stats`) are not EVE traffic records here: the generic JSON
//! decoder takes them.

use vigil_event::{ToCompactString, Value};

use super::json::{self, get_path, int_of};
use super::json_value::{Json, Map};
use super::search::Search;
use super::Output;

/// Answers kept in `dns.resolved_ip`.
const MAX_RESOLVED: usize = 32;

/// Whether a JSON object is a Suricata EVE record.
pub(super) fn is_eve(root: &Map<'_>) -> bool {
    root.get("event_type").is_some_and(Json::is_string)
        && root.get("timestamp").is_some_and(Json::is_string)
        && (root.contains_key("src_ip") || root.contains_key("flow_id"))
}

pub(super) fn decode_object(root: &Map<'_>, out: &mut Output) -> bool {
    let Some(event_type) = root.get("event_type").and_then(Json::as_str) else {
        return false;
    };
    let Some(time) = root.get("timestamp").and_then(json::time_value) else {
        return false;
    };
    out.set_timestamp(time);
    out.put("observer.vendor", "OISF");
    out.put("observer.product", "Suricata");
    out.put_str("suricata.eve.event_type", event_type);
    put_common(root, out);
    let section = |name: &str| root.get(name).and_then(Json::as_object);
    match event_type {
        "alert" => {
            if let Some(alert) = section("alert") {
                put_alert(alert, out);
            }
        }
        "flow" | "netflow" => {
            if let Some(flow) = section(event_type) {
                put_flow(flow, out);
            }
        }
        "dns" => {
            if let Some(dns) = section("dns") {
                put_dns(dns, out);
            }
        }
        "http" => {
            if let Some(http) = section("http") {
                put_http(http, out);
            }
        }
        _ => {}
    }
    true
}

fn put_common(root: &Map<'_>, out: &mut Output) {
    json::put_ip_value(out, "source.ip", root.get("src_ip"));
    json::put_int_value(out, "source.port", root.get("src_port"));
    json::put_ip_value(out, "destination.ip", root.get("dest_ip"));
    json::put_int_value(out, "destination.port", root.get("dest_port"));
    if let Some(proto) = root.get("proto").and_then(Json::as_str) {
        out.put_str("network.transport", &proto.to_ascii_lowercase());
    }
    if let Some(app) = root
        .get("app_proto")
        .and_then(Json::as_str)
        .filter(|app| *app != "failed" && *app != "unknown")
    {
        out.put_str("network.protocol", &app.to_ascii_lowercase());
    }
    if let Some(flow_id) = root.get("flow_id") {
        json::put_value(out, "suricata.eve.flow_id".into(), flow_id);
    }
    json::put_text_value(out, "suricata.eve.in_iface", root.get("in_iface"));
    json::put_text_value(out, "observer.hostname", root.get("host"));
    json::put_text_value(out, "network.community_id", root.get("community_id"));
}

fn put_alert(alert: &Map<'_>, out: &mut Output) {
    out.put("event.kind", "alert");
    out.put("event.category", "intrusion_detection");
    out.put("event.action", "ids-alert");
    json::put_text_value(out, "rule.name", alert.get("signature"));
    json::put_text_value(out, "rule.id", alert.get("signature_id"));
    json::put_text_value(out, "rule.category", alert.get("category"));
    json::put_int_value(out, "event.severity", alert.get("severity"));
    json::put_int_value(out, "suricata.eve.alert.gid", alert.get("gid"));
    json::put_int_value(out, "suricata.eve.alert.rev", alert.get("rev"));
    match alert.get("action").and_then(Json::as_str) {
        Some("allowed") => {
            out.put("event.type", "allowed");
            out.put("event.outcome", "success");
        }
        Some("blocked") => {
            out.put("event.type", "denied");
            out.put("event.outcome", "failure");
        }
        _ => {}
    }
}

fn put_flow(flow: &Map<'_>, out: &mut Output) {
    out.put("event.category", "network");
    out.put(
        "event.type",
        Value::List(vec![Value::from("connection"), Value::from("end")]),
    );
    out.put("event.action", "network-flow");
    let count = |name: &str| flow.get(name).and_then(int_of);
    let pairs = [
        ("bytes_toserver", "source.bytes"),
        ("bytes_toclient", "destination.bytes"),
        ("pkts_toserver", "source.packets"),
        ("pkts_toclient", "destination.packets"),
    ];
    for (key, field) in pairs {
        if let Some(number) = count(key) {
            out.put(field, Value::Int(number));
        }
    }
    let total = |a: &str, b: &str| Some(count(a)?.saturating_add(count(b)?));
    if let Some(bytes) = total("bytes_toserver", "bytes_toclient") {
        out.put("network.bytes", Value::Int(bytes));
    }
    if let Some(packets) = total("pkts_toserver", "pkts_toclient") {
        out.put("network.packets", Value::Int(packets));
    }
    json::put_text_value(out, "suricata.eve.flow.state", flow.get("state"));
    json::put_text_value(out, "suricata.eve.flow.reason", flow.get("reason"));
    json::put_int_value(out, "suricata.eve.flow.age", flow.get("age"));
    if let Some(alerted) = flow.get("alerted").and_then(Json::as_bool) {
        out.put("suricata.eve.flow.alerted", Value::Bool(alerted));
    }
    if let Some(start) = flow.get("start").and_then(json::time_value) {
        out.put("event.start", Value::Str(start.to_compact_string()));
    }
    if let Some(end) = flow.get("end").and_then(json::time_value) {
        out.put("event.end", Value::Str(end.to_compact_string()));
    }
}

fn put_dns(dns: &Map<'_>, out: &mut Output) {
    out.put("event.category", "network");
    out.put("event.type", "protocol");
    out.put("network.protocol", "dns");
    json::put_text_value(out, "dns.type", dns.get("type"));
    json::put_text_value(out, "dns.id", dns.get("id"));
    json::put_text_value(out, "dns.response_code", dns.get("rcode"));
    // EVE v1/v2 put the question at the top of `dns`; v3 (Suricata 8) lists `queries`.
    let question = dns
        .get("queries")
        .and_then(Json::as_array)
        .and_then(|queries| queries.first().and_then(Json::as_object));
    let question = question.unwrap_or(dns);
    json::put_text_value(out, "dns.question.name", question.get("rrname"));
    json::put_text_value(out, "dns.question.type", question.get("rrtype"));
    let resolved = resolved_addresses(dns);
    if !resolved.is_empty() {
        out.put("dns.resolved_ip", Value::List(resolved));
    }
}

/// A/AAAA answers: detailed (`answers: [{rrtype, rdata}]`), grouped (`grouped: {A: […]}`) or
/// the old one-answer-per-record form (`rrtype` + `rdata` beside the question).
fn resolved_addresses(dns: &Map<'_>) -> Vec<Value> {
    let is_address =
        |rrtype: Option<&Json>| matches!(rrtype.and_then(Json::as_str), Some("A" | "AAAA"));
    let mut resolved = Vec::new();
    let mut keep = |rdata: Option<&Json>| {
        if let Some(address) = rdata
            .and_then(Json::as_str)
            .and_then(|text| text.parse::<std::net::IpAddr>().ok())
        {
            if resolved.len() < MAX_RESOLVED {
                resolved.push(Value::ip(address));
            }
        }
    };
    if let Some(answers) = dns.get("answers").and_then(Json::as_array) {
        for answer in answers.iter().filter_map(Json::as_object) {
            if is_address(answer.get("rrtype")) {
                keep(answer.get("rdata"));
            }
        }
    } else if let Some(grouped) = get_path(dns, &["grouped"]).and_then(Json::as_object) {
        for key in ["A", "AAAA"] {
            for rdata in grouped
                .get(key)
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
            {
                keep(Some(rdata));
            }
        }
    } else if is_address(dns.get("rrtype")) {
        keep(dns.get("rdata"));
    }
    resolved
}

fn put_http(http: &Map<'_>, out: &mut Output) {
    out.put("event.category", "web");
    out.put("event.type", "access");
    json::put_text_value(out, "url.domain", http.get("hostname"));
    if let Some(url) = http.get("url").and_then(Json::as_str) {
        put_url(out, url);
    }
    json::put_text_value(out, "http.request.method", http.get("http_method"));
    json::put_int_value(out, "http.response.status_code", http.get("status"));
    json::put_text_value(out, "user_agent.original", http.get("http_user_agent"));
    json::put_int_value(out, "http.response.body.bytes", http.get("length"));
    json::put_text_value(out, "http.request.referrer", http.get("http_refer"));
    json::put_text_value(
        out,
        "http.response.mime_type",
        http.get("http_content_type"),
    );
    if let Some(protocol) = http.get("protocol").and_then(Json::as_str) {
        let version = protocol.strip_prefix("HTTP/").unwrap_or(protocol);
        out.put_str("http.version", version);
    }
}

/// `url.original`, and `url.path` / `url.query` when it is a path (what HTTP request lines
/// carry). Shared with the Zeek decoder.
pub(super) fn put_url(out: &mut Output, url: &str) {
    out.put_str("url.original", url);
    if !url.starts_with('/') {
        return;
    }
    let (path, query) = match url.split_once_char('?') {
        Some((path, query)) => (path, Some(query)),
        None => (url, None),
    };
    out.put_str("url.path", path);
    if let Some(query) = query {
        out.put_str("url.query", query);
    }
}

#[cfg(test)]
#[path = "suricata_tests.rs"]
mod tests;

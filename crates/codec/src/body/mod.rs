//! Body decoders: what a log line's message says, as ECS fields.
//!
//! A syslog (or imported) line is first decoded into its header fields and `message`; this module
//! then recognises the message body — CEF, LEEF, JSON (Windows events, Suricata EVE, Zeek),
//! key=value (FortiGate, logfmt), sshd, sudo, PAM, account changes, kernel firewall lines, Cisco
//! ASA and IOS, pfSense filterlog, Palo Alto CSV, web servers, Squid, BIND, DHCP, Postfix, FTP
//! servers, database authentication — and fills ECS fields.
//!
//! Choosing a decoder is a lookup, never a loop over every pattern: first by the line's app-name
//! ([`Input::app`]), then by the first bytes of the message, and last the generic key=value
//! decoder. A decoder that does not recognise the line returns `false` and its partial output is
//! discarded; the next candidate (if any) gets a clean [`Output`].
//!
//! Sans-IO and allocation-light: decoders slice the message and allocate only the values they
//! keep. No regex runs here.
//!
//! ```
//! use vigil_codec::body::{decode, Input, Output};
//! let input = Input::new("Failed password for root from 10.0.0.5 port 4242 ssh2").app("sshd");
//! let mut out = Output::default();
//! assert_eq!(decode(&input, &mut out), Some("sshd"));
//! assert_eq!(out.get("user.name").and_then(|v| v.as_str()), Some("root"));
//! ```

use std::borrow::Cow;
use std::net::IpAddr;

use vigil_event::{Fields, Timestamp, Value};

use search::Search;

mod accounts;
mod cef;
mod cisco_asa;
mod cisco_ios;
mod database;
mod dhcp;
mod dns;
mod filterlog;
mod fortigate;
mod ftp;
mod json;
mod json_value;
mod kv;
mod leef;
mod linux;
mod netfilter;
mod paloalto;
mod pam;
mod postfix;
mod search;
mod squid;
mod sshd;
mod sudo;
mod suricata;
mod web;
mod windows;
mod zeek;

/// `prefix` then `name`, as one field name: what `format!("{prefix}{name}")` gives, without the
/// formatting machinery (decoders build one such name per vendor-specific field).
pub(super) fn prefixed(prefix: &str, name: &str) -> String {
    let mut joined = String::with_capacity(prefix.len() + name.len());
    joined.push_str(prefix);
    joined.push_str(name);
    joined
}

/// What a decoder reads: the message body and what the syslog header already told.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    /// The message body (syslog MSG, or the whole line when it had no syslog header).
    pub message: &'a str,
    /// The syslog APP-NAME / TAG (`process.name`), when there is one.
    pub app: Option<&'a str>,
    /// When the line was received (or imported): a reference for dates without a year.
    pub received: Timestamp,
}

impl<'a> Input<'a> {
    pub fn new(message: &'a str) -> Self {
        Self {
            message,
            app: None,
            received: Timestamp::from_nanos(0),
        }
    }

    pub fn app(mut self, app: &'a str) -> Self {
        self.app = Some(app);
        self
    }

    pub fn received(mut self, received: Timestamp) -> Self {
        self.received = received;
        self
    }
}

/// The fields a decoder found, in the order it found them. Applied to the event only when the
/// decoder recognised the line.
///
/// The decoders of the most common lines (sshd, PAM, access logs) put their fields in name order
/// (`event.*` before `source.*` before `user.*`): the event's map is kept sorted, and an output
/// already in order is handed to it without a sort ([`Output::move_into`]).
///
/// `source.ip` and `source.port` are kept apart from the rest: they become the event's typed
/// source ([`Output::take_source`]), so they are never sorted into the map, and an address
/// [`Output::put_ip`] parsed is not parsed again.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Output {
    fields: Vec<(Cow<'static, str>, Value)>,
    source_ip: Option<SourceIp>,
    source_port: Option<Value>,
    timestamp: Option<Timestamp>,
}

/// The `source.ip` a decoder put: its value, and the address when it parsed as one.
#[derive(Clone, Debug, PartialEq)]
struct SourceIp {
    address: Option<IpAddr>,
    value: Value,
}

/// What most decoders' outputs fit in (sshd's, PAM's, web servers' are 6 to 13 fields).
const TYPICAL_FIELDS: usize = 16;

const SOURCE_IP: &str = "source.ip";
const SOURCE_PORT: &str = "source.port";

impl Output {
    /// Sets `name`; a later value of the same name wins (it is appended, not searched for: the
    /// event's map keeps the last one).
    #[inline]
    pub fn put(&mut self, name: impl Into<Cow<'static, str>>, value: impl Into<Value>) {
        let name = name.into();
        let value = value.into();
        match &*name {
            SOURCE_IP => {
                let address = value.as_str().and_then(|text| text.parse().ok());
                self.source_ip = Some(SourceIp { address, value });
            }
            SOURCE_PORT => self.source_port = Some(value),
            _ => self.fields.push((name, value)),
        }
    }

    /// `put` of a value already known to be `address`: it is not parsed again.
    #[inline]
    fn put_address(&mut self, name: Cow<'static, str>, address: IpAddr, value: Value) {
        if name == SOURCE_IP {
            self.source_ip = Some(SourceIp {
                address: Some(address),
                value,
            });
        } else {
            self.fields.push((name, value));
        }
    }

    /// Sets a text field unless the text is empty or a placeholder (`-`).
    #[inline]
    pub fn put_str(&mut self, name: impl Into<Cow<'static, str>>, text: &str) {
        let text = text.trimmed();
        if !text.is_empty() && text != "-" {
            self.put(name, Value::from(text));
        }
    }

    /// Sets an integer field from text; `false` (and nothing set) when it is not an integer.
    #[inline]
    pub fn put_int(&mut self, name: impl Into<Cow<'static, str>>, text: &str) -> bool {
        match text.trimmed().parse::<i64>() {
            Ok(number) => {
                self.put(name, Value::Int(number));
                true
            }
            Err(_) => false,
        }
    }

    /// Sets an IP address field, in its canonical text form; `false` (and nothing set) when the
    /// text is not an address. Accepts `[v6]` brackets and an IPv6 zone is refused.
    pub fn put_ip(&mut self, name: impl Into<Cow<'static, str>>, text: &str) -> bool {
        let text = text.trimmed().trim_start_matches('[').trim_end_matches(']');
        match text.parse::<IpAddr>() {
            // An IPv4 address that parses is already canonical (the parser refuses leading
            // zeros and other spellings): keep the text rather than format it again.
            Ok(address @ IpAddr::V4(_)) => {
                self.put_address(name.into(), address, Value::from(text));
                true
            }
            Ok(address) => {
                self.put_address(name.into(), address, Value::ip(address));
                true
            }
            Err(_) => false,
        }
    }

    /// The event happened at `time` (used when the line had no syslog header to say so).
    pub fn set_timestamp(&mut self, time: Timestamp) {
        self.timestamp = Some(time);
    }

    /// The latest value set for `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        let kept_apart = match name {
            SOURCE_IP => self.source_ip.as_ref().map(|source| &source.value),
            SOURCE_PORT => self.source_port.as_ref(),
            _ => None,
        };
        // After `take_source`, an untyped source is among the fields.
        kept_apart.or_else(|| {
            self.fields
                .iter()
                .rev()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value)
        })
    }

    pub fn timestamp(&self) -> Option<Timestamp> {
        self.timestamp
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.source_ip.is_none() && self.source_port.is_none()
    }

    /// Values set (a name set twice counts twice, except `source.ip` and `source.port`, which
    /// count once).
    pub fn len(&self) -> usize {
        self.fields.len()
            + usize::from(self.source_ip.is_some())
            + usize::from(self.source_port.is_some())
    }

    pub fn clear(&mut self) {
        self.fields.clear();
        self.source_ip = None;
        self.source_port = None;
        self.timestamp = None;
    }

    /// The address and port of `source.ip` and `source.port`, taken out: they become the event's
    /// typed source. A `source.ip` that is not an address, or a `source.port` that is not a port
    /// number, is left among the fields.
    pub fn take_source(&mut self) -> (Option<IpAddr>, Option<u16>) {
        let address = match self.source_ip.take() {
            Some(SourceIp {
                address: Some(address),
                ..
            }) => Some(address),
            Some(SourceIp { value, .. }) => {
                self.fields.push((SOURCE_IP.into(), value));
                None
            }
            None => None,
        };
        let port = self.source_port.take().and_then(|value| {
            let port = match value {
                Value::Int(number) => u16::try_from(number).ok(),
                _ => None,
            };
            if port.is_none() {
                self.fields.push((SOURCE_PORT.into(), value));
            }
            port
        });
        (address, port)
    }

    /// Moves the fields other than the source into `fields`, a decoder's value winning over a
    /// value `fields` held. The output's vector becomes the map's, so the fields are not moved
    /// one by one, and an output already in name order is not sorted; the output gets a new
    /// vector with room for as many fields (at least a typical line's), and `spare` more, for
    /// its next line.
    pub fn move_into(&mut self, fields: &mut Fields, spare: usize) {
        // Room for this line's count, and at least for a typical line's: lines of a mixed stream
        // differ in size, and a vector that grows copies what it holds.
        let room = (self.fields.len() + fields.len() + spare).max(TYPICAL_FIELDS);
        let entries = std::mem::replace(&mut self.fields, Vec::with_capacity(room));
        let held = std::mem::replace(fields, Fields::from_entries(entries));
        fields.fill_from(held);
        fields.reserve(spare);
    }

    /// The fields in the order they were put, `source.ip` and `source.port` first.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        let source_ip = self
            .source_ip
            .as_ref()
            .map(|source| (SOURCE_IP, &source.value));
        let source_port = self.source_port.as_ref().map(|port| (SOURCE_PORT, port));
        source_ip
            .into_iter()
            .chain(source_port)
            .chain(self.fields.iter().map(|(key, value)| (key.as_ref(), value)))
    }
}

/// One decoder: recognises its lines and fills `out`, or returns `false`.
type DecodeFn = fn(&Input<'_>, &mut Output) -> bool;

#[derive(Clone, Copy)]
struct Decoder {
    name: &'static str,
    decode: DecodeFn,
}

const fn decoder(name: &'static str, decode: DecodeFn) -> Decoder {
    Decoder { name, decode }
}

const ACCOUNTS: Decoder = decoder("accounts", accounts::decode);
const CEF: Decoder = decoder("cef", cef::decode);
const CISCO_ASA: Decoder = decoder("cisco_asa", cisco_asa::decode);
const CISCO_IOS: Decoder = decoder("cisco_ios", cisco_ios::decode);
const DATABASE: Decoder = decoder("database", database::decode);
const DHCP: Decoder = decoder("dhcp", dhcp::decode);
const DNS: Decoder = decoder("dns", dns::decode);
const FILTERLOG: Decoder = decoder("filterlog", filterlog::decode);
const FORTIGATE: Decoder = decoder("fortigate", fortigate::decode);
const FTP: Decoder = decoder("ftp", ftp::decode);
const JSON: Decoder = decoder("json", json::decode);
const KV: Decoder = decoder("kv", kv::decode);
const LEEF: Decoder = decoder("leef", leef::decode);
const LINUX: Decoder = decoder("linux", linux::decode);
const NETFILTER: Decoder = decoder("netfilter", netfilter::decode);
const PALOALTO: Decoder = decoder("paloalto", paloalto::decode);
const PAM: Decoder = decoder("pam", pam::decode);
const POSTFIX: Decoder = decoder("postfix", postfix::decode);
const SQUID: Decoder = decoder("squid", squid::decode);
const SSHD: Decoder = decoder("sshd", sshd::decode);
const SUDO: Decoder = decoder("sudo", sudo::decode);
const WEB: Decoder = decoder("web", web::decode);
const ZEEK: Decoder = decoder("zeek", zeek::decode);

/// Every decoder, once.
const ALL_DECODERS: [Decoder; 23] = [
    ACCOUNTS, CEF, CISCO_ASA, CISCO_IOS, DATABASE, DHCP, DNS, FILTERLOG, FORTIGATE, FTP, JSON, KV,
    LEEF, LINUX, NETFILTER, PALOALTO, PAM, POSTFIX, SQUID, SSHD, SUDO, WEB, ZEEK,
];

/// Every decoder's name (what `decode` returns and `vigil.decoder` holds), for metrics.
pub const DECODER_NAMES: [&str; ALL_DECODERS.len()] = {
    let mut names = [""; ALL_DECODERS.len()];
    let mut index = 0;
    while index < names.len() {
        names[index] = ALL_DECODERS[index].name;
        index += 1;
    }
    names
};

/// The decoders a line's app-name (syslog TAG) names, in the order to try them.
fn by_app(app: &str) -> &'static [Decoder] {
    // The kernel logs firewall verdicts and everything else; netfilter's lines are the ones
    // that matter most, so they are tried first.
    if app == "kernel" {
        return &[NETFILTER, LINUX];
    }
    let decoder: &'static [Decoder] = match app {
        "sshd" | "klogind" => &[SSHD],
        "sudo" | "su" => &[SUDO],
        "useradd" | "usermod" | "userdel" | "groupadd" | "groupmod" | "groupdel" | "passwd"
        | "chpasswd" | "gpasswd" | "chage" => &[ACCOUNTS],
        "ufw" => &[NETFILTER],
        "filterlog" => &[FILTERLOG],
        "named" | "bind" | "dnsmasq" | "unbound" => &[DNS],
        "dhcpd" | "dnsmasq-dhcp" | "dhclient" => &[DHCP],
        "vsftpd" | "proftpd" | "ftpd" | "in.ftpd" | "pure-ftpd" => &[FTP],
        "mysqld" | "mysql" | "mariadbd" | "mariadb" | "postgres" | "postgresql" => &[DATABASE],
        "squid" => &[SQUID],
        "httpd" | "apache" | "apache2" | "nginx" => &[WEB],
        "suricata" => &[JSON],
        "zeek" | "bro" => &[ZEEK],
        _ if app.starts_with("postfix/") || app.starts_with("postfix-") => &[POSTFIX],
        _ if app.starts_with("%ASA-") || app.starts_with("%FTD-") || app.starts_with("%PIX-") => {
            &[CISCO_ASA]
        }
        _ if app.starts_with("postgres") => &[DATABASE],
        // Old Linux PAM tags: `sshd(pam_unix)`, `su(pam_unix)`, `login(pam_unix)`.
        _ if app.ends_with("(pam_unix)") => &[PAM],
        _ if linux::serves(app) => &[LINUX],
        _ => &[],
    };
    decoder
}

/// The decoder the first bytes of a message point at, if any.
fn by_prefix(message: &str) -> Option<Decoder> {
    let bytes = message.as_bytes();
    let decoder = match bytes.first()? {
        b'{' => JSON,
        b'C' if message.starts_with("CEF:") => CEF,
        b'L' if message.starts_with("LEEF:") => LEEF,
        b'%' if message.starts_with("%ASA-")
            || message.starts_with("%FTD-")
            || message.starts_with("%PIX-") =>
        {
            CISCO_ASA
        }
        b'%' => CISCO_IOS,
        b'd' if message.starts_with("date=") => FORTIGATE,
        b'[' => WEB,
        b'0'..=b'9' => {
            // `1,2024/01/01 …,serial,TRAFFIC,…` (Palo Alto), `a.b.c.d - user [..] "GET …`
            // (access logs), `1700000000.123 …` (Squid), `2024/01/01 … [error]` (nginx),
            // `ts\tuid\t…` (Zeek TSV), `5,,,1000000103,…` (filterlog without its tag).
            return numeric_prefix(message);
        }
        _ => return None,
    };
    Some(decoder)
}

fn numeric_prefix(message: &str) -> Option<Decoder> {
    let first_space = message.find_char(' ').unwrap_or(message.len());
    let head = &message[..first_space];
    if head.contains_char(',') {
        let kind = message.split_char(',').nth(3).unwrap_or("");
        return match kind {
            "TRAFFIC" | "THREAT" | "SYSTEM" | "CONFIG" => Some(PALOALTO),
            _ => Some(FILTERLOG),
        };
    }
    if head.contains_char('\t') {
        return Some(ZEEK);
    }
    // `000123: *Mar  1 00:01:02.345 UTC: %SYS-5-CONFIG_I: …` (IOS with sequence numbers).
    if head.ends_with(':') && cisco_ios::is_prefixed_message(message) {
        return Some(CISCO_IOS);
    }
    if head.parse::<IpAddr>().is_ok() {
        return Some(WEB);
    }
    if head.contains_char('/') {
        // nginx error log: `2024/01/01 12:00:00 [error] …`
        return Some(WEB);
    }
    if head.contains_char('.') && head.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Some(SQUID);
    }
    None
}

/// Recognises `input` and fills `out`; the decoder's name when one recognised it. `out` is
/// empty when none did.
pub fn decode(input: &Input<'_>, out: &mut Output) -> Option<&'static str> {
    // A body the syslog header split in the wrong place is put back together and tried first.
    if let Some(body) = repaired_body(input) {
        let repaired = Input {
            message: &body,
            app: None,
            received: input.received,
        };
        if let Some(name) = decode_as_given(&repaired, out) {
            return Some(name);
        }
    }
    decode_as_given(input, out)
}

/// The body as the device wrote it, when the syslog decoding split it where no decoder looks:
/// - a line that did not parse as syslog still starts with its `<PRI>` (FortiGate and IOS
///   send `<189>date=…` and `<189>123: *Mar  1 …: %SYS-…` without a syslog header); an IOS
///   line may have the device's name before the tag (`core-rtr1 %SYS-5-CONFIG_I: …`);
/// - an IOS tag taken for the app-name (`%SYS-5-CONFIG_I`, message `Configured from …`);
/// - a PAN-OS CSV record whose first field and date were taken for the app-name
///   (`1,2013/03/25`, message `10:00:00,0016…,TRAFFIC,…`).
fn repaired_body(input: &Input<'_>) -> Option<String> {
    match input.app {
        None => {
            let message = input.message.trim_start();
            let rest = message.strip_prefix('<')?;
            let close = rest.find_char('>')?;
            if close == 0 || close > 3 || !rest[..close].bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let body = rest[close + 1..].trim_start();
            // `host %FAC-N-MNEMONIC: …`: the device's name before an IOS tag.
            let body = match body.split_once_char(' ') {
                Some((host, tagged))
                    if tagged.starts_with('%')
                        && !host.is_empty()
                        && !host.contains([':', '%', '=']) =>
                {
                    tagged
                }
                _ => body,
            };
            Some(body.to_owned())
        }
        Some(app) if app.starts_with('%') && !by_app(app).iter().any(|d| d.name == "cisco_asa") => {
            Some(format!("{app}: {}", input.message.trim_start()))
        }
        Some(app)
            if app.as_bytes().first().is_some_and(u8::is_ascii_digit) && app.contains_char(',') =>
        {
            Some(format!("{app} {}", input.message))
        }
        Some(_) => None,
    }
}

fn decode_as_given(input: &Input<'_>, out: &mut Output) -> Option<&'static str> {
    out.clear();
    let by_app = input.app.map_or(&[][..], by_app);
    for decoder in by_app {
        if (decoder.decode)(input, out) {
            return Some(decoder.name);
        }
        out.clear();
    }
    let message = input.message.trim_start();
    if let Some(decoder) = by_prefix(message) {
        if !by_app.iter().any(|tried| tried.name == decoder.name) {
            if (decoder.decode)(input, out) {
                return Some(decoder.name);
            }
            out.clear();
        }
    }
    // Last: any message that is mostly `key=value` pairs.
    if (KV.decode)(input, out) {
        return Some(KV.name);
    }
    out.clear();
    None
}

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

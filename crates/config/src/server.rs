use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::retention::RetentionMinimums;
use crate::sources::{SourceMap, SystemConfig, UnmappedConfig};
use crate::{ConfigError, HumanDuration, NormalizeConfig, RetentionConfig};

pub const DEFAULT_SYSLOG_ADDR: &str = "0.0.0.0:5514";
/// RFC 5425's port for syslog over TLS.
pub const DEFAULT_SYSLOG_TLS_ADDR: &str = "0.0.0.0:6514";
/// The Vigil channel (agents, forwarding SOCs).
pub const DEFAULT_CHANNEL_ADDR: &str = "0.0.0.0:6515";
pub const DEFAULT_API_ADDR: &str = "127.0.0.1:8080";
/// NetFlow's customary port; the listener also takes IPFIX.
pub const DEFAULT_NETFLOW_ADDR: &str = "0.0.0.0:2055";
/// IPFIX's port (RFC 7011); the listener also takes NetFlow.
pub const DEFAULT_IPFIX_ADDR: &str = "0.0.0.0:4739";
/// SNMP traps: 162 needs privileges, so the unprivileged port net-snmp users know.
pub const DEFAULT_SNMP_TRAP_ADDR: &str = "0.0.0.0:1162";

/// `vigil serve`'s config file. Every key is optional; with no file at all Vigil runs on these
/// defaults. Command-line flags override what a file says for one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Where archive, indexes and state live. Default `"vigil-data"` (relative to the working
    /// directory).
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// This node's name, stamped on events as `observer.hostname`. Default: the machine's.
    pub node_name: Option<String>,
    #[serde(default)]
    pub api: ApiConfig,
    /// Network listeners. Default: syslog over UDP and TCP on 0.0.0.0:5514, over TLS on
    /// 0.0.0.0:6514, the agent channel on 0.0.0.0:6515 (with the certificate made on first
    /// start), flows on UDP 0.0.0.0:2055 and 0.0.0.0:4739, SNMP traps on UDP 0.0.0.0:1162.
    #[serde(default = "default_listeners")]
    pub listeners: Vec<ListenerConfig>,
    /// Monitored information systems: which senders belong to which tenant and level.
    #[serde(default)]
    pub systems: Vec<SystemConfig>,
    #[serde(default)]
    pub unmapped: UnmappedConfig,
    #[serde(default)]
    pub archive: ArchiveConfig,
    #[serde(default)]
    pub index: IndexConfig,
    #[serde(default)]
    pub retention: RetentionConfig,
    /// Forwarding upstream (to a national SOC): none by default.
    #[serde(default)]
    pub forward: Vec<ForwardConfig>,
    /// Body decoders, user field mappings and enrichment.
    #[serde(default)]
    pub normalize: NormalizeConfig,
    /// Detection rules and correlation.
    #[serde(default)]
    pub rules: crate::RulesConfig,
}

/// `[[forward]]`: a stream of this node's archived events, chosen by filter, sent upstream:
/// to another Vigil over the channel (TLS 1.3 with this node's client certificate, exactly
/// once), to an HTTPS endpoint as JSON batches, or as syslog over TLS.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardConfig {
    /// Names the target in logs, metrics and the state folder (`DATA_DIR/forward/NAME`).
    pub name: String,
    /// `"channel"` (default), `"https"` or `"syslog_tls"`.
    #[serde(default, rename = "type")]
    pub kind: ForwardKind,
    /// The receiver's address, HOST:PORT (channel, syslog_tls); more are a failover list.
    #[serde(default)]
    pub servers: Vec<String>,
    /// `https`: the endpoint, `https://HOST[:PORT]/PATH`.
    pub url: Option<String>,
    /// The CA (PEM) the receiver's certificate must chain to.
    pub ca: PathBuf,
    /// This node's client certificate and key (PEM), from the receiver's CA: required by the
    /// channel, optional (mutual TLS) for https and syslog_tls.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// `https`: a file holding a bearer token, sent as `Authorization: Bearer …`.
    pub bearer_token_file: Option<PathBuf>,
    /// `https`: `"zstd"` (default) or `"gzip"`.
    #[serde(default)]
    pub content_encoding: ContentEncodingConfig,
    /// The name the receiver's certificate must carry. Default: the host of the first server.
    pub server_name: Option<String>,
    /// Only events of these tenants. Default: all.
    #[serde(default)]
    pub tenants: Vec<String>,
    /// Only events of these security levels. Default: all.
    #[serde(default)]
    pub levels: Vec<i64>,
    /// Only events matching every term: `field:value` (equal, case-insensitive) or a bare word
    /// (in the message, case-insensitive). Default: all.
    pub query: Option<String>,
    /// Where a new forward starts: `"now"` (default: only what is archived from its first
    /// start on) or `"beginning"` (everything the archive holds).
    #[serde(default)]
    pub start: ForwardStart,
    /// zstd level of batches (1-19). Default 3.
    #[serde(default = "default_zstd_level")]
    pub zstd_level: i32,
    /// Unacknowledged bytes kept at most; when full, reading the archive waits. Default 1024.
    #[serde(default = "default_outbox_max_mib")]
    pub outbox_max_mib: u64,
}

fn default_outbox_max_mib() -> u64 {
    1024
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForwardKind {
    #[default]
    Channel,
    Https,
    SyslogTls,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentEncodingConfig {
    #[default]
    Zstd,
    Gzip,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForwardStart {
    #[default]
    Now,
    Beginning,
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("vigil-data")
}

/// One listener of each kind, in the order of `vigil serve`'s flags (which rely on it), then
/// the second flow port.
fn default_listeners() -> Vec<ListenerConfig> {
    let address: SocketAddr = DEFAULT_SYSLOG_ADDR.parse().expect("valid default address");
    vec![
        ListenerConfig::SyslogUdp {
            name: "syslog-udp".into(),
            address,
            max_frame_bytes: default_max_frame_bytes(),
        },
        ListenerConfig::SyslogTcp {
            name: "syslog-tcp".into(),
            address,
            limits: TcpLimits::default(),
            compression: Compression::None,
        },
        ListenerConfig::SyslogTls {
            name: "syslog-tls".into(),
            address: DEFAULT_SYSLOG_TLS_ADDR
                .parse()
                .expect("valid default address"),
            limits: TcpLimits::default(),
            compression: Compression::None,
            tls: TlsListenerConfig::default(),
        },
        ListenerConfig::Channel {
            name: "channel".into(),
            address: DEFAULT_CHANNEL_ADDR.parse().expect("valid default address"),
            tls: ChannelTlsConfig::default(),
            max_connections: default_max_connections(),
            idle_timeout: default_idle_timeout(),
        },
        ListenerConfig::Flow {
            name: "netflow".into(),
            address: DEFAULT_NETFLOW_ADDR.parse().expect("valid default address"),
            limits: FlowLimitsConfig::default(),
        },
        ListenerConfig::SnmpTrap {
            name: "snmp-trap".into(),
            address: DEFAULT_SNMP_TRAP_ADDR
                .parse()
                .expect("valid default address"),
            communities: Vec::new(),
            users: Vec::new(),
        },
        ListenerConfig::Flow {
            name: "ipfix".into(),
            address: DEFAULT_IPFIX_ADDR.parse().expect("valid default address"),
            limits: FlowLimitsConfig::default(),
        },
    ]
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            data_dir: default_data_dir(),
            node_name: None,
            api: ApiConfig::default(),
            listeners: default_listeners(),
            systems: Vec::new(),
            unmapped: UnmappedConfig::default(),
            archive: ArchiveConfig::default(),
            index: IndexConfig::default(),
            retention: RetentionConfig::default(),
            forward: Vec::new(),
            normalize: NormalizeConfig::default(),
            rules: crate::RulesConfig::default(),
        }
    }
}

/// `[api]`: the REST API and `/metrics`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Default `"127.0.0.1:8080"`: local only until accounts are configured.
    #[serde(default = "default_api_addr")]
    pub listen: SocketAddr,
    /// HTTPS (TLS 1.2 and 1.3). Default `true`; `false` only behind a TLS-terminating proxy.
    #[serde(default = "default_true")]
    pub tls: bool,
    /// Certificate chain and key (PEM) of the API. Default: `tls/server.crt` in the data
    /// directory, made with the local CA on first start (as for TLS listeners).
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// The largest file `POST /api/v1/import` takes (bytes as sent, compressed or not);
    /// larger ones get HTTP 413. Default 256 MiB. Uploads run one at a time and stop (counted
    /// `too_large`) past 16 times this once decompressed. Use `vigil import` for bigger files.
    #[serde(default = "default_import_max_bytes")]
    pub import_max_bytes: usize,
}

fn default_import_max_bytes() -> usize {
    256 * 1024 * 1024
}

fn default_true() -> bool {
    true
}

fn default_api_addr() -> SocketAddr {
    DEFAULT_API_ADDR.parse().expect("valid default address")
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            listen: default_api_addr(),
            tls: true,
            cert: None,
            key: None,
            import_max_bytes: default_import_max_bytes(),
        }
    }
}

/// `[[listeners]]`: one network input. `type` picks the kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ListenerConfig {
    /// Syslog over UDP (RFC 5426): one datagram, one message.
    SyslogUdp {
        /// Names the listener in `vigil.listener` and in metrics.
        name: String,
        address: SocketAddr,
        /// Longer datagrams are cut to this and flagged `truncated`. Default 65536.
        #[serde(default = "default_max_frame_bytes")]
        max_frame_bytes: usize,
    },
    /// Syslog over TCP (RFC 6587): octet-counted and LF-delimited frames, detected per frame.
    SyslogTcp {
        name: String,
        address: SocketAddr,
        #[serde(flatten)]
        limits: TcpLimits,
        /// `"zlib"` also takes rsyslog's zlib stream compression (`compression.mode=
        /// "stream:always"`), detected per connection. Default `"none"`.
        #[serde(default)]
        compression: Compression,
    },
    /// Syslog over TLS (RFC 5425): TLS 1.2 or 1.3, then the same framing as `syslog_tcp`.
    SyslogTls {
        name: String,
        address: SocketAddr,
        #[serde(flatten)]
        limits: TcpLimits,
        #[serde(default)]
        compression: Compression,
        #[serde(flatten)]
        tls: TlsListenerConfig,
    },
    /// The Vigil channel from agents and from other SOCs: TLS 1.3, client certificates always
    /// required, batches acknowledged once archived.
    Channel {
        name: String,
        address: SocketAddr,
        #[serde(flatten)]
        tls: ChannelTlsConfig,
        /// Open connections in all; more are refused. Default 10000.
        #[serde(default = "default_max_connections")]
        max_connections: usize,
        /// A connection whose next frame does not arrive whole within this is closed (its
        /// sender reconnects when it has something to send). Default `"5m"`.
        #[serde(default = "default_idle_timeout")]
        idle_timeout: HumanDuration,
    },
    /// NetFlow v5, v9 and IPFIX over UDP, every version on one port; templates are kept per
    /// exporter. One flow record, one event.
    Flow {
        name: String,
        address: SocketAddr,
        #[serde(flatten)]
        limits: FlowLimitsConfig,
    },
    /// SNMP traps and informs over UDP: v1 and v2c (by community), v3 with USM users.
    SnmpTrap {
        name: String,
        address: SocketAddr,
        /// v1/v2c communities accepted; others are refused and counted. Default: any.
        #[serde(default)]
        communities: Vec<Secret>,
        /// SNMPv3 users (`[[listeners.users]]`); v3 traps from anyone else are refused.
        #[serde(default)]
        users: Vec<SnmpUserConfig>,
    },
}

/// Bounds of a flow listener's template state, so that no exporter can make it grow without
/// end. Each unset key takes the decoder's default.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowLimitsConfig {
    /// Exporters (address, port, domain) whose templates are kept; the least recently seen
    /// is forgotten past this. Default 4096.
    pub max_exporters: Option<usize>,
    /// Templates one exporter may define; more are refused. Default 1024.
    pub max_templates_per_exporter: Option<usize>,
    /// Fields one template may have; a longer one is refused. Default 256.
    pub max_fields_per_template: Option<usize>,
    /// Template fields kept over all exporters; new templates past it are refused. Default
    /// 1048576 (about 40 MiB).
    pub max_template_fields: Option<usize>,
    /// Bytes of data sets kept while their template has not arrived. Default 4 MiB.
    pub max_pending_bytes: Option<usize>,
    /// How long such data waits for its template. Default `"5s"`.
    pub pending_timeout: Option<HumanDuration>,
}

/// A secret from the config file (a community, a password): never shown by `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"<redacted>\"")
    }
}

/// One SNMPv3 (USM) user traps are accepted from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnmpUserConfig {
    /// The user (security) name.
    pub name: String,
    /// The sending agent's engine id, in hex (`0x` optional). Default: any engine; keys are
    /// localized per engine on first use.
    pub engine_id: Option<String>,
    /// `"sha"` (HMAC-SHA-96), `"sha224"`, `"sha256"`, `"sha384"` or `"sha512"`. Default: none
    /// (noAuthNoPriv).
    pub auth_protocol: Option<SnmpAuthProtocol>,
    pub auth_password: Option<Secret>,
    /// `"aes"` (AES-128-CFB). Needs authentication. Default: none.
    pub priv_protocol: Option<SnmpPrivProtocol>,
    pub priv_password: Option<Secret>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SnmpAuthProtocol {
    Sha,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SnmpPrivProtocol {
    Aes,
}

impl SnmpUserConfig {
    /// The engine id as bytes, when one is set and is valid hex.
    pub fn engine_id_bytes(&self) -> Option<Result<Vec<u8>, String>> {
        let text = self.engine_id.as_deref()?;
        let digits = text
            .strip_prefix("0x")
            .or_else(|| text.strip_prefix("0X"))
            .unwrap_or(text);
        if digits.is_empty() || digits.len() % 2 != 0 || digits.len() > 64 {
            return Some(Err(format!(
                "engine_id {text:?} must be 1 to 32 bytes of hex"
            )));
        }
        let bytes = (0..digits.len())
            .step_by(2)
            .map(|at| u8::from_str_radix(&digits[at..at + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| format!("engine_id {text:?} is not hex"));
        Some(bytes)
    }
}

/// The TLS side of a `channel` listener: always TLS 1.3 with a client certificate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelTlsConfig {
    /// Server certificate chain (PEM). Default: the data directory's, as for TLS listeners.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// CA bundle (PEM) agents' certificates must chain to. Default: the local CA when `cert` is
    /// the default one; required with a configured `cert`.
    pub client_ca: Option<PathBuf>,
    /// Allow-list of agent identities, each mapped to a tenant (and level). When it is not
    /// empty, only these agents are accepted; when it is, any certificate from `client_ca` is,
    /// and its events keep the tenant and level of their senders' systems.
    #[serde(default)]
    pub clients: Vec<TlsClientConfig>,
    /// Default `"10s"`.
    #[serde(default = "default_handshake_timeout")]
    pub handshake_timeout: HumanDuration,
}

impl Default for ChannelTlsConfig {
    fn default() -> Self {
        Self {
            cert: None,
            key: None,
            client_ca: None,
            clients: Vec::new(),
            handshake_timeout: default_handshake_timeout(),
        }
    }
}

impl ChannelTlsConfig {
    /// The same checks as a TLS listener with `client_auth = "required"`.
    fn as_tls_listener(&self) -> TlsListenerConfig {
        TlsListenerConfig {
            cert: self.cert.clone(),
            key: self.key.clone(),
            client_ca: self.client_ca.clone(),
            client_auth: ClientAuthMode::Required,
            clients: self.clients.clone(),
            handshake_timeout: self.handshake_timeout,
        }
    }
}

/// Stream compression a TCP or TLS listener accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    #[default]
    None,
    /// A zlib stream (RFC 1950) from the first byte of the connection, as rsyslog sends it.
    /// Connections that do not start with a zlib header are read as plain syslog.
    Zlib,
}

/// Whether a TLS listener asks clients for a certificate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuthMode {
    None,
    /// Asked for; clients without one are accepted, clients with a bad one refused.
    #[default]
    Optional,
    /// Clients without a valid certificate from `client_ca` are refused.
    Required,
}

/// The TLS side of a `syslog_tls` listener.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsListenerConfig {
    /// Server certificate chain (PEM). Default: `tls/server.crt` in the data directory, made
    /// with a local CA (`tls/ca.crt`) on first start.
    pub cert: Option<PathBuf>,
    /// Its private key (PEM). Given together with `cert`.
    pub key: Option<PathBuf>,
    /// CA bundle (PEM) client certificates must chain to. Default: the local CA when `cert` is
    /// the default one.
    pub client_ca: Option<PathBuf>,
    /// `"none"`, `"optional"` (default) or `"required"`.
    #[serde(default)]
    pub client_auth: ClientAuthMode,
    /// Allow-list of client identities (a certificate's common name or a DNS, e-mail or URI
    /// name), each mapped to a tenant. When it is not empty, only these clients are accepted.
    #[serde(default)]
    pub clients: Vec<TlsClientConfig>,
    /// A handshake must finish within this. Default `"10s"`.
    #[serde(default = "default_handshake_timeout")]
    pub handshake_timeout: HumanDuration,
}

fn default_handshake_timeout() -> HumanDuration {
    HumanDuration::from_secs(10)
}

impl Default for TlsListenerConfig {
    fn default() -> Self {
        Self {
            cert: None,
            key: None,
            client_ca: None,
            client_auth: ClientAuthMode::default(),
            clients: Vec::new(),
            handshake_timeout: default_handshake_timeout(),
        }
    }
}

/// One allowed client of a TLS listener.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsClientConfig {
    /// A name in the client's certificate.
    pub identity: String,
    /// The tenant its events belong to, whatever address they come from.
    pub tenant: String,
    /// Their security level (1-5). Default: that of the sender's system, else the unmapped one.
    pub level: Option<i64>,
}

impl ListenerConfig {
    pub fn name(&self) -> &str {
        match self {
            ListenerConfig::SyslogUdp { name, .. }
            | ListenerConfig::SyslogTcp { name, .. }
            | ListenerConfig::SyslogTls { name, .. }
            | ListenerConfig::Channel { name, .. }
            | ListenerConfig::Flow { name, .. }
            | ListenerConfig::SnmpTrap { name, .. } => name,
        }
    }

    pub fn address_mut(&mut self) -> &mut SocketAddr {
        match self {
            ListenerConfig::SyslogUdp { address, .. }
            | ListenerConfig::SyslogTcp { address, .. }
            | ListenerConfig::SyslogTls { address, .. }
            | ListenerConfig::Channel { address, .. }
            | ListenerConfig::Flow { address, .. }
            | ListenerConfig::SnmpTrap { address, .. } => address,
        }
    }

    pub fn address(&self) -> SocketAddr {
        match self {
            ListenerConfig::SyslogUdp { address, .. }
            | ListenerConfig::SyslogTcp { address, .. }
            | ListenerConfig::SyslogTls { address, .. }
            | ListenerConfig::Channel { address, .. }
            | ListenerConfig::Flow { address, .. }
            | ListenerConfig::SnmpTrap { address, .. } => *address,
        }
    }
}

/// What is wrong with a trap listener's SNMPv3 users: a password without its protocol or the
/// reverse, privacy without authentication, a password net-snmp would refuse, a bad engine id.
fn snmp_user_errors(listener: &str, users: &[SnmpUserConfig]) -> Vec<String> {
    let mut errors = Vec::new();
    let mut names = std::collections::HashSet::new();
    for user in users {
        let at = format!("listeners {listener:?}: user {:?}", user.name);
        if user.name.is_empty() || user.name.len() > 32 {
            errors.push(format!("{at}: a user name is 1 to 32 bytes"));
        }
        if !names.insert((user.name.as_str(), user.engine_id.as_deref())) {
            errors.push(format!("{at}: listed twice for the same engine"));
        }
        if let Some(Err(error)) = user.engine_id_bytes() {
            errors.push(format!("{at}: {error}"));
        }
        for (what, protocol, password) in [
            ("auth", user.auth_protocol.is_some(), &user.auth_password),
            ("priv", user.priv_protocol.is_some(), &user.priv_password),
        ] {
            match (protocol, password) {
                (true, None) => errors.push(format!("{at}: {what}_protocol needs {what}_password")),
                (false, Some(_)) => {
                    errors.push(format!("{at}: {what}_password needs {what}_protocol"))
                }
                // RFC 3414 §11.2: passwords of fewer than 8 characters are refused.
                (true, Some(secret)) if secret.0.len() < 8 => errors.push(format!(
                    "{at}: {what}_password must have at least 8 characters"
                )),
                _ => {}
            }
        }
        if user.priv_protocol.is_some() && user.auth_protocol.is_none() {
            errors.push(format!(
                "{at}: privacy needs authentication (auth_protocol)"
            ));
        }
    }
    errors
}

/// Limits of a TCP listener; over-limit input is counted and refused or cut, never a crash.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcpLimits {
    /// Longer frames are cut to this and flagged `truncated`; the rest is skipped. Default 65536.
    #[serde(default = "default_max_frame_bytes")]
    pub max_frame_bytes: usize,
    /// Open connections one sender address may hold; more are refused. Default 1000.
    #[serde(default = "default_max_connections_per_peer")]
    pub max_connections_per_peer: usize,
    /// Open connections in all; more are refused. Default 10000.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// A connection that sends nothing for this long is closed. Default `"5m"`.
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout: HumanDuration,
}

fn default_max_frame_bytes() -> usize {
    64 * 1024
}
fn default_max_connections_per_peer() -> usize {
    1000
}
fn default_max_connections() -> usize {
    10_000
}
fn default_idle_timeout() -> HumanDuration {
    HumanDuration::from_secs(300)
}

impl Default for TcpLimits {
    fn default() -> Self {
        Self {
            max_frame_bytes: default_max_frame_bytes(),
            max_connections_per_peer: default_max_connections_per_peer(),
            max_connections: default_max_connections(),
            idle_timeout: default_idle_timeout(),
        }
    }
}

/// `[archive]`: the write-ahead log and forensic copy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchiveConfig {
    /// Group commit: fsync at most this often; events wait at most this long. Default `"10ms"`.
    #[serde(default = "default_fsync_interval")]
    pub fsync_interval: HumanDuration,
    /// zstd level of archive batches, 1-19. Default 3.
    #[serde(default = "default_zstd_level")]
    pub zstd_level: i32,
    /// A segment file is closed and a new one started past this size. Default 1 GiB.
    #[serde(default = "default_segment_max_bytes")]
    pub segment_max_bytes: u64,
}

fn default_fsync_interval() -> HumanDuration {
    HumanDuration::from_millis(10)
}
fn default_zstd_level() -> i32 {
    3
}
fn default_segment_max_bytes() -> u64 {
    1 << 30
}

impl Default for ArchiveConfig {
    fn default() -> Self {
        Self {
            fsync_interval: default_fsync_interval(),
            zstd_level: default_zstd_level(),
            segment_max_bytes: default_segment_max_bytes(),
        }
    }
}

/// `[index]`: the tantivy indexes that serve search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexConfig {
    /// Commit (make searchable, record the archive position) at most this often. Default `"5s"`.
    #[serde(default = "default_commit_interval")]
    pub commit_interval: HumanDuration,
    /// Memory for each open index writer, in MiB, shared by its threads. Default 128.
    #[serde(default = "default_writer_memory_mib")]
    pub writer_memory_mib: usize,
    /// Indexing threads per open index writer. Tokenizing `message` is the costliest step of
    /// ingest, so it gets its own threads. Default 2.
    #[serde(default = "default_writer_threads")]
    pub writer_threads: usize,
}

fn default_commit_interval() -> HumanDuration {
    HumanDuration::from_secs(5)
}
fn default_writer_memory_mib() -> usize {
    128
}
fn default_writer_threads() -> usize {
    2
}

impl Default for IndexConfig {
    fn default() -> Self {
        Self {
            commit_interval: default_commit_interval(),
            writer_memory_mib: default_writer_memory_mib(),
            writer_threads: default_writer_threads(),
        }
    }
}

fn tls_errors(name: &str, tls: &TlsListenerConfig) -> Vec<String> {
    let mut errors = Vec::new();
    if tls.cert.is_some() != tls.key.is_some() {
        errors.push(format!(
            "listeners {name:?}: cert and key are given together or not at all"
        ));
    }
    if tls.cert.is_some() && tls.client_ca.is_none() && tls.client_auth != ClientAuthMode::None {
        errors.push(format!(
            "listeners {name:?}: client_auth {:?} needs client_ca with a configured cert",
            tls.client_auth
        ));
    }
    if !tls.clients.is_empty() && tls.client_auth == ClientAuthMode::None {
        errors.push(format!(
            "listeners {name:?}: clients are listed but client_auth is \"none\""
        ));
    }
    let mut identities = std::collections::HashSet::new();
    for client in &tls.clients {
        if client.identity.is_empty() || client.tenant.is_empty() {
            errors.push(format!(
                "listeners {name:?}: a client needs a non-empty identity and tenant"
            ));
        }
        if !identities.insert(client.identity.as_str()) {
            errors.push(format!(
                "listeners {name:?}: client identity {:?} is listed twice",
                client.identity
            ));
        }
        if let Some(level) = client.level {
            if vigil_event::SecurityLevel::new(level).is_err() {
                errors.push(format!(
                    "listeners {name:?}: client {:?} has level {level}, outside 1-5",
                    client.identity
                ));
            }
        }
    }
    errors
}

impl ServerConfig {
    pub fn load(path: &Path) -> crate::Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, origin: &str) -> crate::Result<Self> {
        toml::from_str(text).map_err(|error| ConfigError::Parse {
            path: origin.to_owned(),
            message: error.to_string(),
        })
    }

    /// Every problem at once, or `Ok`.
    pub fn validate(&self) -> crate::Result<()> {
        let mut errors = Vec::new();
        let mut names = std::collections::HashSet::new();
        for listener in &self.listeners {
            if !names.insert(listener.name()) {
                errors.push(format!(
                    "listeners: the name {:?} is used twice",
                    listener.name()
                ));
            }
            let max_frame_bytes = match listener {
                ListenerConfig::SyslogUdp {
                    max_frame_bytes, ..
                } => *max_frame_bytes,
                ListenerConfig::SyslogTls { limits, tls, .. } => {
                    errors.extend(tls_errors(listener.name(), tls));
                    if limits.max_connections_per_peer == 0 || limits.max_connections == 0 {
                        errors.push(format!(
                            "listeners {:?}: connection limits must be at least 1",
                            listener.name()
                        ));
                    }
                    limits.max_frame_bytes
                }
                ListenerConfig::SyslogTcp { limits, .. } => {
                    if limits.max_connections_per_peer == 0 || limits.max_connections == 0 {
                        errors.push(format!(
                            "listeners {:?}: connection limits must be at least 1",
                            listener.name()
                        ));
                    }
                    limits.max_frame_bytes
                }
                ListenerConfig::Channel {
                    tls,
                    max_connections,
                    ..
                } => {
                    errors.extend(tls_errors(listener.name(), &tls.as_tls_listener()));
                    if *max_connections == 0 {
                        errors.push(format!(
                            "listeners {:?}: max_connections must be at least 1",
                            listener.name()
                        ));
                    }
                    continue;
                }
                ListenerConfig::Flow { limits, .. } => {
                    let zero = [
                        limits.max_exporters,
                        limits.max_templates_per_exporter,
                        limits.max_fields_per_template,
                        limits.max_template_fields,
                    ]
                    .contains(&Some(0));
                    if zero {
                        errors.push(format!(
                            "listeners {:?}: flow limits must be at least 1",
                            listener.name()
                        ));
                    }
                    continue;
                }
                ListenerConfig::SnmpTrap { users, .. } => {
                    errors.extend(snmp_user_errors(listener.name(), users));
                    continue;
                }
            };
            if !(64..=16 * 1024 * 1024).contains(&max_frame_bytes) {
                errors.push(format!(
                    "listeners {:?}: max_frame_bytes {max_frame_bytes} is outside 64..=16777216",
                    listener.name()
                ));
            }
        }
        let mut forward_names = std::collections::HashSet::new();
        for forward in &self.forward {
            let name = &forward.name;
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                errors.push(format!(
                    "forward {name:?}: a name is letters, digits, '-' and '_'"
                ));
            }
            if !forward_names.insert(name.as_str()) {
                errors.push(format!("forward: the name {name:?} is used twice"));
            }
            match forward.kind {
                ForwardKind::Channel | ForwardKind::SyslogTls if forward.servers.is_empty() => {
                    errors.push(format!("forward {name:?}: servers is empty"));
                }
                ForwardKind::Https => match forward.url.as_deref() {
                    Some(url) if url.starts_with("https://") => {}
                    _ => errors.push(format!(
                        "forward {name:?}: type \"https\" needs url = \"https://HOST[:PORT]/PATH\""
                    )),
                },
                _ => {}
            }
            if forward.cert.is_some() != forward.key.is_some() {
                errors.push(format!(
                    "forward {name:?}: cert and key are given together or not at all"
                ));
            }
            if forward.kind == ForwardKind::Channel && forward.cert.is_none() {
                errors.push(format!(
                    "forward {name:?}: the channel needs this node's client certificate (cert, key)"
                ));
            }
            if !(1..=19).contains(&forward.zstd_level) {
                errors.push(format!(
                    "forward {name:?}: zstd_level {} is outside 1..=19",
                    forward.zstd_level
                ));
            }
            for level in &forward.levels {
                if vigil_event::SecurityLevel::new(*level).is_err() {
                    errors.push(format!("forward {name:?}: level {level} is outside 1-5"));
                }
            }
        }
        if self.api.cert.is_some() != self.api.key.is_some() {
            errors.push("api: cert and key are given together or not at all".into());
        }
        if !(1..=19).contains(&self.archive.zstd_level) {
            errors.push(format!(
                "archive.zstd_level {} is outside 1..=19",
                self.archive.zstd_level
            ));
        }
        if self.archive.segment_max_bytes < 1 << 20 || self.archive.segment_max_bytes > 1 << 32 {
            errors.push("archive.segment_max_bytes must be between 1 MiB and 4 GiB".into());
        }
        if !(1..=8).contains(&self.index.writer_threads) {
            errors.push(format!(
                "index.writer_threads {} is outside 1..=8",
                self.index.writer_threads
            ));
        } else if self.index.writer_memory_mib < 16 * self.index.writer_threads {
            errors.push("index.writer_memory_mib must be at least 16 per writer thread".into());
        }
        if let Err(source_errors) = SourceMap::build(&self.systems, &self.unmapped) {
            errors.extend(source_errors);
        }
        errors.extend(self.retention.errors(&RetentionMinimums::shipped()));
        if self.rules.max_keys_per_rule == 0 {
            errors.push("rules.max_keys_per_rule must be at least 1".into());
        }
        if self.rules.tolerance.0 > std::time::Duration::from_secs(3600) {
            errors.push("rules.tolerance must be at most 1h".into());
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(errors))
        }
    }

    pub fn source_map(&self) -> crate::Result<SourceMap> {
        SourceMap::build(&self.systems, &self.unmapped).map_err(ConfigError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_is_the_documented_default() {
        let config = ServerConfig::parse("", "test").unwrap();
        assert_eq!(config, ServerConfig::default());
        config.validate().unwrap();
        assert_eq!(config.listeners.len(), 7);
    }

    #[test]
    fn unknown_keys_are_rejected() {
        assert!(ServerConfig::parse("data_dri = \"x\"", "test").is_err());
    }

    #[test]
    fn validate_reports_every_error_at_once() {
        let text = r#"
            [archive]
            zstd_level = 40
            [retention]
            level_5 = "10 days"
            [[listeners]]
            type = "syslog_tcp"
            name = "a"
            address = "127.0.0.1:1"
            max_frame_bytes = 1
            [[listeners]]
            type = "syslog_udp"
            name = "a"
            address = "127.0.0.1:1"
        "#;
        let Err(ConfigError::Invalid(errors)) = ServerConfig::parse(text, "t").unwrap().validate()
        else {
            panic!("expected validation errors")
        };
        assert_eq!(errors.len(), 4, "{errors:?}");
    }

    #[test]
    fn tls_listener_mistakes_are_all_reported() {
        let text = r#"
            [[listeners]]
            type = "syslog_tls"
            name = "tls"
            address = "127.0.0.1:6514"
            cert = "/etc/vigil/server.crt"
            client_auth = "none"
            [[listeners.clients]]
            identity = "a"
            tenant = "t"
            level = 9
            [[listeners.clients]]
            identity = "a"
            tenant = "t"
        "#;
        let config = ServerConfig::parse(text, "t").unwrap();
        let Err(ConfigError::Invalid(errors)) = config.validate() else {
            panic!("expected validation errors")
        };
        // cert without key, clients with client_auth none, level 9, identity twice.
        assert_eq!(errors.len(), 4, "{errors:?}");
        let ListenerConfig::SyslogTls { tls, .. } = &config.listeners[0] else {
            panic!("a TLS listener")
        };
        assert_eq!(tls.handshake_timeout, HumanDuration::from_secs(10));
    }

    #[test]
    fn snmp_users_are_checked_and_secrets_stay_out_of_debug() {
        let text = r#"
            [[listeners]]
            type = "snmp_trap"
            name = "traps"
            address = "127.0.0.1:1162"
            communities = ["s3cret-community"]
            [[listeners.users]]
            name = "ok"
            engine_id = "0x80001f88"
            auth_protocol = "sha256"
            auth_password = "long-enough-1"
            priv_protocol = "aes"
            priv_password = "long-enough-2"
            [[listeners.users]]
            name = "short"
            auth_protocol = "sha"
            auth_password = "short"
            [[listeners.users]]
            name = "priv-only"
            priv_protocol = "aes"
            priv_password = "long-enough-3"
            [[listeners.users]]
            name = "no-password"
            engine_id = "0xabc"
            auth_protocol = "sha"
        "#;
        let config = ServerConfig::parse(text, "test").unwrap();
        let debug = format!("{config:?}");
        for secret in ["s3cret-community", "long-enough-1", "long-enough-2"] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
        let ListenerConfig::SnmpTrap { users, .. } = &config.listeners[0] else {
            panic!("not a trap listener");
        };
        assert_eq!(
            users[0].engine_id_bytes(),
            Some(Ok(vec![0x80, 0x00, 0x1f, 0x88]))
        );
        let errors = config.validate().unwrap_err().to_string();
        for expected in [
            "\"short\": auth_password must have at least 8 characters",
            "\"priv-only\": privacy needs authentication",
            "\"no-password\": auth_protocol needs auth_password",
            "\"no-password\": engine_id \"0xabc\" must be 1 to 32 bytes of hex",
        ] {
            assert!(errors.contains(expected), "{expected:?} not in {errors}");
        }
        assert!(!errors.contains("\"ok\""), "{errors}");
    }

    #[test]
    fn example_config_parses_and_validates() {
        let text = include_str!("../../../vigil.example.toml");
        let config = ServerConfig::parse(text, "vigil.example.toml").unwrap();
        config.validate().unwrap();
    }
}

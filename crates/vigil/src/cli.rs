use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Vigil: collect, keep, search and correlate the logs of an agency's systems.
#[derive(Debug, Parser)]
#[command(name = "vigil", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the SOC node: listeners, archive, indexes, API. With no config, runs on defaults.
    Serve(ServeArgs),
    /// Run the edge collector: syslog listeners and tailed files, forwarded to a SOC over the
    /// channel (TLS 1.3, client certificate), buffered on disk until acknowledged.
    Agent(Box<AgentArgs>),
    /// Search the archived events (reads the data directory; works while `serve` runs).
    Search(SearchArgs),
    /// Import log files: decode, normalise and archive them (each event in the partition of
    /// the day it happened); gzip and zstd files are read as they are.
    Import(ImportArgs),
    /// Walk the archive's hash chain; exit 1 naming the first broken batch.
    Verify(VerifyArgs),
    /// Retention: what the janitor would delete, and why.
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Certificates: a local CA, server and client certificates for TLS listeners and agents.
    #[command(subcommand)]
    Certs(CertsCommand),
    /// Detection rules: check them, run their tests, replay stored events through them.
    #[command(subcommand)]
    Rules(RulesCommand),
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Load every rule file and print every error (`FILE:LINE: message`); exit 1 if any.
    Lint(RulesArgs),
    /// Run every rule's tests and print a pass/fail table; exit 1 if any fails.
    Test(RulesTestArgs),
    /// Replay stored events from the archive through the rules and list what would have
    /// fired, without raising alerts.
    Backtest(BacktestArgs),
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    #[command(flatten)]
    pub location: Location,
    /// The rules folder, overriding the config's `rules.dir`.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RulesTestArgs {
    #[command(flatten)]
    pub rules: RulesArgs,
    /// Only rules whose id starts with this.
    #[arg(long, value_name = "PREFIX")]
    pub only: Option<String>,
    /// Print every test, not only failures and the totals.
    #[arg(long, short)]
    pub verbose: bool,
}

#[derive(Debug, Args)]
pub struct BacktestArgs {
    #[command(flatten)]
    pub rules: RulesArgs,
    /// Start of the replay: RFC 3339, a day (2024-05-01) or relative (`-24h`).
    #[arg(long)]
    pub from: String,
    /// End of the replay (exclusive). Default: now.
    #[arg(long)]
    pub to: Option<String>,
    /// Only rules whose id starts with this.
    #[arg(long, value_name = "PREFIX")]
    pub only: Option<String>,
    /// One JSON alert per line instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum CertsCommand {
    /// Make a CA, a server certificate and client certificates in DIR (never overwrites).
    Init(CertsInitArgs),
    /// Issue one more client certificate from the CA in DIR.
    Client(CertsClientArgs),
}

#[derive(Debug, Args)]
pub struct CertsInitArgs {
    /// Folder for ca.crt/ca.key, server.crt/server.key and client-NAME.crt/.key.
    pub dir: PathBuf,
    /// Names the server certificate is valid for (DNS names or IP addresses). Default:
    /// this machine's name, localhost, 127.0.0.1 and ::1.
    #[arg(long = "server-name", value_name = "NAME")]
    pub server_names: Vec<String>,
    /// A client certificate for NAME (repeatable): an agent, a forwarding SOC, a syslog sender.
    #[arg(long = "client", value_name = "NAME")]
    pub clients: Vec<String>,
    /// Validity of the server and client certificates, in days.
    #[arg(long, default_value_t = vigil_tls::pki::LEAF_DAYS)]
    pub days: u32,
}

#[derive(Debug, Args)]
pub struct CertsClientArgs {
    /// The folder `vigil certs init` made.
    pub dir: PathBuf,
    /// The client's name: its certificate's common name and DNS name.
    pub name: String,
    /// Validity in days.
    #[arg(long, default_value_t = vigil_tls::pki::LEAF_DAYS)]
    pub days: u32,
}

/// Where the config and data are; shared by every subcommand.
#[derive(Debug, Args)]
pub struct Location {
    /// A `vigil.toml` (see `vigil.example.toml`). Without it, the defaults.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The data directory, overriding the config's `data_dir`.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub location: Location,
    /// Syslog over UDP on this address (replaces the configured UDP listener's).
    #[arg(long, value_name = "ADDR")]
    pub syslog_udp: Option<SocketAddr>,
    /// Syslog over TCP on this address (replaces the configured TCP listener's).
    #[arg(long, value_name = "ADDR")]
    pub syslog_tcp: Option<SocketAddr>,
    /// Syslog over TLS on this address (replaces the configured TLS listener's).
    #[arg(long, value_name = "ADDR")]
    pub syslog_tls: Option<SocketAddr>,
    /// The Vigil channel (agents, forwarding SOCs) on this address (replaces the configured
    /// channel listener's).
    #[arg(long, value_name = "ADDR")]
    pub channel: Option<SocketAddr>,
    /// NetFlow v5/v9 and IPFIX over UDP on this address (replaces the first configured flow
    /// listener's).
    #[arg(long, value_name = "ADDR")]
    pub netflow: Option<SocketAddr>,
    /// SNMP traps over UDP on this address (replaces the configured trap listener's).
    #[arg(long, value_name = "ADDR")]
    pub snmp_trap: Option<SocketAddr>,
    /// The API on this address.
    #[arg(long, value_name = "ADDR")]
    pub api: Option<SocketAddr>,
}

#[derive(Debug, Args)]
pub struct AgentArgs {
    /// A SOC's channel address, HOST:PORT (repeatable: a failover list, in order).
    #[arg(long = "server", value_name = "HOST:PORT", required = true)]
    pub servers: Vec<String>,
    /// The CA (PEM) the SOC's certificate must chain to.
    #[arg(long, value_name = "FILE")]
    pub ca: PathBuf,
    /// This agent's client certificate (PEM), e.g. from `vigil certs client`.
    #[arg(long, value_name = "FILE")]
    pub cert: PathBuf,
    /// Its private key (PEM).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// The name the SOC's certificate must carry. Default: the host of the first --server.
    #[arg(long, value_name = "NAME")]
    pub server_name: Option<String>,
    /// Syslog over TCP on this address.
    #[arg(long, value_name = "ADDR")]
    pub syslog_tcp: Option<SocketAddr>,
    /// Syslog over UDP on this address.
    #[arg(long, value_name = "ADDR")]
    pub syslog_udp: Option<SocketAddr>,
    /// NetFlow v5/v9 and IPFIX over UDP on this address.
    #[arg(long, value_name = "ADDR")]
    pub netflow: Option<SocketAddr>,
    /// SNMP v1/v2c traps and informs over UDP on this address (any community; SNMPv3 users
    /// need `vigil serve`'s config).
    #[arg(long, value_name = "ADDR")]
    pub snmp_trap: Option<SocketAddr>,
    /// Syslog over TLS (RFC 5425, also rsyslog's zlib streams) on this address; needs
    /// --syslog-tls-cert and --syslog-tls-key.
    #[arg(long, value_name = "ADDR", requires_all = ["syslog_tls_cert", "syslog_tls_key"])]
    pub syslog_tls: Option<SocketAddr>,
    /// The certificate chain (PEM) the syslog/TLS listener presents to senders.
    #[arg(long, value_name = "FILE")]
    pub syslog_tls_cert: Option<PathBuf>,
    /// Its private key (PEM).
    #[arg(long, value_name = "FILE")]
    pub syslog_tls_key: Option<PathBuf>,
    /// Require senders' client certificates from this CA (PEM). Default: none asked for.
    #[arg(long, value_name = "FILE")]
    pub syslog_tls_client_ca: Option<PathBuf>,
    /// A log file to follow, line by line (repeatable). Positions survive restarts; rotation
    /// and truncation are followed.
    #[arg(long = "tail", value_name = "PATH")]
    pub tails: Vec<PathBuf>,
    /// Outbox, file positions and state.
    #[arg(long, value_name = "DIR", default_value = "vigil-agent-data")]
    pub data_dir: PathBuf,
    /// This agent's name: on the channel, and on its events as `observer.hostname`. Default: the
    /// machine's name.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Unacknowledged bytes the outbox holds at most; when full, the inputs are held back.
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    pub outbox_max_mib: u64,
    /// zstd level of batches (1-19).
    #[arg(long, default_value_t = 3)]
    pub zstd_level: i32,
    /// Batches sent and not yet acknowledged, at most.
    #[arg(long, default_value_t = 8)]
    pub window: usize,
    /// Serve Prometheus metrics at http://ADDR/metrics (plain HTTP; keep it on loopback).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<SocketAddr>,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    #[command(flatten)]
    pub location: Location,
    /// Query: bare words search the message; `field:value`, phrases, AND/OR/NOT, ranges.
    #[arg(default_value = "*")]
    pub query: String,
    /// Start: RFC 3339, `now`, or a span back from now (`15m`, `1h`, `7d`).
    #[arg(long, default_value = "1h")]
    pub from: String,
    /// End (exclusive), same forms. Default: now.
    #[arg(long)]
    pub to: Option<String>,
    /// At most this many events, newest first.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub location: Location,
    /// The files (plain, .gz or .zst).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// auto (from each file's name and first line), syslog, lines, cef, ndjson, json or csv.
    #[arg(long, default_value = "auto")]
    pub format: String,
    /// The tenant of every event (default: from the source map, by host name).
    #[arg(long)]
    pub tenant: Option<String>,
    /// The security level of every event, 1-5 (default: from the source map).
    #[arg(long)]
    pub level: Option<i64>,
    /// The host the lines came from, for lines that name none; also picks the information
    /// system by the source map's host-name rules.
    #[arg(long)]
    pub source: Option<String>,
    /// Decode and normalise, report, store nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Also print each normalised event as one JSON line on stdout.
    #[arg(long)]
    pub print: bool,
    /// The summary as one JSON object (on stderr).
    #[arg(long)]
    pub json_summary: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub location: Location,
    /// First UTC day to check (YYYY-MM-DD). Default: the oldest.
    #[arg(long)]
    pub from: Option<chrono::NaiveDate>,
    /// Last UTC day to check (YYYY-MM-DD). Default: the newest.
    #[arg(long)]
    pub to: Option<chrono::NaiveDate>,
}

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// List the day partitions past their level's retention period, and why.
    Plan(RetentionPlanArgs),
}

#[derive(Debug, Args)]
pub struct RetentionPlanArgs {
    #[command(flatten)]
    pub location: Location,
    /// Plan as of this UTC day (YYYY-MM-DD). Default: today.
    #[arg(long)]
    pub today: Option<chrono::NaiveDate>,
}

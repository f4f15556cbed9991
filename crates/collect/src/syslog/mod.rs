//! Syslog listeners: UDP (RFC 5426) and TCP (RFC 6587).

mod metrics;
mod tcp;
mod udp;

pub use metrics::ListenerMetrics;
pub use tcp::{StreamOptions, SyslogTcpSource, TlsOptions};
pub use udp::{SyslogDatagrams, SyslogUdpSource};

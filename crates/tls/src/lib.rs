//! TLS for every Vigil endpoint: one crypto provider (ring), one way to load certificates, one
//! small PKI.
//!
//! - [`pki`]: `vigil certs init` and the CA and server certificate `vigil serve` makes on first
//!   start (rcgen), with SHA-256 fingerprints to print.
//! - [`config`]: rustls server and client configs (TLS 1.2 and 1.3; client certificates none,
//!   optional or required) from PEM files.
//! - [`peer`]: who a client certificate names, and why a handshake failed, as a closed set of
//!   reasons for counters.
//!
//! Only the ring provider is compiled in: two providers in one binary make rustls panic when it
//! has to pick one at run time.

pub mod config;
mod error;
pub mod peer;
pub mod pki;

pub use config::{
    channel_client_config, channel_server_config, client_config, server_config, ClientAuth,
    ServerTls,
};
pub use error::{Result, TlsError};
pub use peer::{failure_reason, identities};

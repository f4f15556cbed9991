//! `vigil-config`: every user-facing file format, parsed and validated once.
//!
//! - [`ServerConfig`]: `vigil serve`'s TOML file (`vigil.example.toml` documents every key);
//! - [`SourceMap`]: senders → information system, tenant, security level and time zone;
//! - [`NormalizeConfig`], [`MappingFile`], [`AssetFile`]: body decoding, user field mappings
//!   (`normalize/*.toml`) and the asset table;
//! - [`RulesConfig`]: the rules folder and correlation time settings;
//! - [`RetentionMinimums`]: the legal minimum retention per level (`retention/levels.toml`).
//!
//! Structs carry `deny_unknown_fields` and doc comments that are the user documentation;
//! `validate()` reports every error at once. This crate depends only on `vigil-event`.
//!
//! ```
//! let config: vigil_config::ServerConfig = toml::from_str("data_dir = \"/tmp/v\"").unwrap();
//! config.validate().unwrap();
//! ```

mod duration;
mod error;
mod normalize;
mod retention;
mod rules;
mod server;
mod sources;

pub use duration::HumanDuration;
pub use error::{ConfigError, Result};
pub use normalize::{
    line_of, AssetConfig, AssetFile, Condition, ConstValue, MappingConfig, MappingFile,
    NormalizeConfig,
};
pub use retention::{RetentionConfig, RetentionMinimums, RetentionPolicy};
pub use rules::RulesConfig;
pub use server::{
    ApiConfig, ArchiveConfig, ChannelTlsConfig, ClientAuthMode, Compression, ContentEncodingConfig,
    FlowLimitsConfig, ForwardConfig, ForwardKind, ForwardStart, IndexConfig, ListenerConfig,
    Secret, ServerConfig, SnmpAuthProtocol, SnmpPrivProtocol, SnmpUserConfig, TcpLimits,
    TlsClientConfig, TlsListenerConfig, DEFAULT_API_ADDR, DEFAULT_CHANNEL_ADDR, DEFAULT_IPFIX_ADDR,
    DEFAULT_NETFLOW_ADDR, DEFAULT_SNMP_TRAP_ADDR, DEFAULT_SYSLOG_ADDR, DEFAULT_SYSLOG_TLS_ADDR,
};
pub use sources::{SourceMap, SourceMatch, SystemConfig, UnmappedConfig};

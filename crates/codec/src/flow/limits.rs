//! The bounds a [`FlowDecoder`](super::FlowDecoder) puts on the state exporters make it keep.
//!
//! Template state is the exporters' to create: anyone who can send a datagram can make the
//! decoder learn templates and park data sets. Every such store is bounded here, and every
//! refusal or eviction is counted in the [`FlowReport`](super::FlowReport).

use std::time::Duration;

/// Template scopes kept (an exporter address and port with one v9 source id or IPFIX observation
/// domain); the least recently seen is evicted to make room for a new one.
pub const DEFAULT_MAX_EXPORTERS: usize = 4_096;

/// Templates (data and options) kept per scope; new ones beyond it are refused, refreshes of
/// known ones are still accepted.
pub const DEFAULT_MAX_TEMPLATES_PER_EXPORTER: usize = 1_024;

/// Fields a template may have (scope fields included); a longer template is refused.
pub const DEFAULT_MAX_FIELDS_PER_TEMPLATE: usize = 256;

/// Template fields kept over all exporters (about 40 bytes each): the budget that keeps
/// exporters × templates × fields from multiplying into gigabytes when someone sprays spoofed
/// templates. New templates beyond it are refused; refreshes that do not grow still pass.
pub const DEFAULT_MAX_TEMPLATE_FIELDS: usize = 1 << 20;

/// Bytes of data sets parked while they wait for their template, across all exporters (each set
/// is charged its length plus a fixed overhead); the oldest is dropped to make room.
pub const DEFAULT_MAX_PENDING_BYTES: usize = 4 * 1024 * 1024;

/// How long a parked data set waits for its template before [`FlowDecoder::expire`] drops it.
///
/// [`FlowDecoder::expire`]: super::FlowDecoder::expire
pub const DEFAULT_PENDING_TIMEOUT: Duration = Duration::from_secs(5);

/// Bounds on template and parked-data state; see the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowLimits {
    /// See [`DEFAULT_MAX_EXPORTERS`].
    pub max_exporters: usize,
    /// See [`DEFAULT_MAX_TEMPLATES_PER_EXPORTER`].
    pub max_templates_per_exporter: usize,
    /// See [`DEFAULT_MAX_FIELDS_PER_TEMPLATE`].
    pub max_fields_per_template: usize,
    /// See [`DEFAULT_MAX_TEMPLATE_FIELDS`].
    pub max_template_fields: usize,
    /// See [`DEFAULT_MAX_PENDING_BYTES`].
    pub max_pending_bytes: usize,
    /// See [`DEFAULT_PENDING_TIMEOUT`].
    pub pending_timeout_nanos: i64,
}

impl Default for FlowLimits {
    fn default() -> Self {
        Self {
            max_exporters: DEFAULT_MAX_EXPORTERS,
            max_templates_per_exporter: DEFAULT_MAX_TEMPLATES_PER_EXPORTER,
            max_fields_per_template: DEFAULT_MAX_FIELDS_PER_TEMPLATE,
            max_template_fields: DEFAULT_MAX_TEMPLATE_FIELDS,
            max_pending_bytes: DEFAULT_MAX_PENDING_BYTES,
            pending_timeout_nanos: DEFAULT_PENDING_TIMEOUT.as_nanos() as i64,
        }
    }
}

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use serde::Serialize;
use vigil_event::Timestamp;
use vigil_pipeline::{Counter, Metrics};

/// Distinct unmapped senders remembered at most; more are only counted.
pub const MAX_UNMAPPED_SOURCES: usize = 10_000;

/// A sender no `[[systems]]` entry claims.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UnmappedSource {
    pub address: IpAddr,
    pub host_name: Option<String>,
    pub events: u64,
    pub first_seen: String,
    pub last_seen: String,
}

/// The senders that matched no information system, for `GET /api/v1/sources/unmapped`.
pub struct UnmappedSources {
    seen: Mutex<HashMap<(IpAddr, Option<String>), UnmappedSource>>,
    events: Counter,
    overflow: Counter,
}

impl UnmappedSources {
    pub fn new(metrics: &Metrics) -> Self {
        Self {
            seen: Mutex::new(HashMap::new()),
            events: metrics.counter(
                "vigil_sources_unmapped_events_total",
                "Events from senders that match no [[systems]] entry.",
                &[],
            ),
            overflow: metrics.counter(
                "vigil_sources_unmapped_overflow_total",
                "Unmapped senders not listed because the list is full.",
                &[],
            ),
        }
    }

    pub fn record(&self, address: IpAddr, host_name: Option<&str>, received: Timestamp) {
        self.events.inc();
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let key = (address, host_name.map(str::to_owned));
        if let Some(source) = seen.get_mut(&key) {
            source.events += 1;
            source.last_seen = received.to_string();
            return;
        }
        if seen.len() >= MAX_UNMAPPED_SOURCES {
            self.overflow.inc();
            return;
        }
        let when = received.to_string();
        seen.insert(
            key,
            UnmappedSource {
                address,
                host_name: host_name.map(str::to_owned),
                events: 1,
                first_seen: when.clone(),
                last_seen: when,
            },
        );
    }

    /// Most active first.
    pub fn list(&self) -> Vec<UnmappedSource> {
        let seen = self
            .seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut sources: Vec<UnmappedSource> = seen.values().cloned().collect();
        sources.sort_by(|a, b| b.events.cmp(&a.events).then(a.address.cmp(&b.address)));
        sources
    }
}

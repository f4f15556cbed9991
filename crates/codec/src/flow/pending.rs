//! Data sets that came before their template, parked until it comes: bounded in bytes (the oldest
//! goes first) and in time ([`PendingSets::expire`]).
//!
//! Exporters send templates only every so often, so after a collector restart (or when a data
//! set and its template arrive out of order) the first data sets cannot be read yet.

use std::collections::{BTreeMap, HashMap};

use vigil_event::Timestamp;

use super::data::{MessageHeader, ScopeKey};

/// What a parked set costs besides its bytes (its header, its map entries), so that a flood of
/// tiny sets is bounded too.
pub(crate) const PARKED_SET_OVERHEAD_BYTES: usize = 128;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct TemplateKey {
    pub scope: ScopeKey,
    pub template_id: u16,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ParkedSet {
    pub header: MessageHeader,
    pub template_id: u16,
    /// The set's body, without its 4-byte set header.
    pub body: Vec<u8>,
    pub parked_at: Timestamp,
}

impl ParkedSet {
    fn key(&self) -> TemplateKey {
        TemplateKey {
            scope: self.header.scope(),
            template_id: self.template_id,
        }
    }

    fn charged_bytes(&self) -> usize {
        self.body.len().saturating_add(PARKED_SET_OVERHEAD_BYTES)
    }
}

#[derive(Debug)]
pub(crate) struct PendingSets {
    max_bytes: usize,
    charged_bytes: usize,
    next_sequence: u64,
    /// Oldest first.
    by_sequence: BTreeMap<u64, ParkedSet>,
    by_template: HashMap<TemplateKey, Vec<u64>>,
}

impl PendingSets {
    pub(crate) fn new(max_bytes: usize) -> Self {
        Self {
            max_bytes,
            charged_bytes: 0,
            next_sequence: 0,
            by_sequence: BTreeMap::new(),
            by_template: HashMap::new(),
        }
    }

    /// Bytes charged for the parked sets; never more than the limit.
    pub(crate) fn charged_bytes(&self) -> usize {
        self.charged_bytes
    }

    pub(crate) fn len(&self) -> usize {
        self.by_sequence.len()
    }

    /// Parks a set, dropping the oldest until it fits; returns how many sets were dropped (the
    /// set itself, counted, when it could never fit).
    pub(crate) fn park(&mut self, set: ParkedSet) -> usize {
        let needed_bytes = set.charged_bytes();
        if needed_bytes > self.max_bytes {
            return 1;
        }
        let mut dropped = 0;
        while self.charged_bytes + needed_bytes > self.max_bytes {
            if self.drop_oldest().is_none() {
                break;
            }
            dropped += 1;
        }
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        self.charged_bytes += needed_bytes;
        self.by_template
            .entry(set.key())
            .or_default()
            .push(sequence);
        self.by_sequence.insert(sequence, set);
        debug_assert!(self.charged_bytes <= self.max_bytes);
        dropped
    }

    pub(crate) fn is_waiting_for(&self, key: &TemplateKey) -> bool {
        self.by_template.contains_key(key)
    }

    /// Removes and returns the sets waiting for `key`, oldest first.
    pub(crate) fn take(&mut self, key: &TemplateKey) -> Vec<ParkedSet> {
        let sequences = self.by_template.remove(key).unwrap_or_default();
        let mut sets = Vec::with_capacity(sequences.len());
        for sequence in sequences {
            if let Some(set) = self.by_sequence.remove(&sequence) {
                self.charged_bytes -= set.charged_bytes();
                sets.push(set);
            }
        }
        sets
    }

    /// Drops sets parked more than `timeout_nanos` before `now`; returns how many.
    pub(crate) fn expire(&mut self, now: Timestamp, timeout_nanos: i64) -> usize {
        let expired: Vec<u64> = self
            .by_sequence
            .iter()
            .filter(|(_, set)| {
                now.as_nanos().saturating_sub(set.parked_at.as_nanos()) > timeout_nanos
            })
            .map(|(sequence, _)| *sequence)
            .collect();
        for sequence in &expired {
            self.remove(*sequence);
        }
        expired.len()
    }

    fn drop_oldest(&mut self) -> Option<()> {
        let (&sequence, _) = self.by_sequence.first_key_value()?;
        self.remove(sequence)
    }

    fn remove(&mut self, sequence: u64) -> Option<()> {
        let set = self.by_sequence.remove(&sequence)?;
        self.charged_bytes -= set.charged_bytes();
        let key = set.key();
        if let Some(sequences) = self.by_template.get_mut(&key) {
            sequences.retain(|waiting| *waiting != sequence);
            if sequences.is_empty() {
                self.by_template.remove(&key);
            }
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::super::record::FlowKind;
    use super::*;

    fn parked(template_id: u16, body_bytes: usize, parked_at_nanos: i64) -> ParkedSet {
        ParkedSet {
            header: MessageHeader {
                kind: FlowKind::NetflowV9,
                exporter: SocketAddr::from(([192, 0, 2, 1], 2055)),
                domain: 7,
                export_time: Timestamp::from_nanos(0),
                sys_uptime_ms: 0,
            },
            template_id,
            body: vec![template_id as u8; body_bytes],
            parked_at: Timestamp::from_nanos(parked_at_nanos),
        }
    }

    fn key(template_id: u16) -> TemplateKey {
        parked(template_id, 0, 0).key()
    }

    #[test]
    fn parking_beyond_the_limit_drops_the_oldest() {
        let set_bytes = 100 + PARKED_SET_OVERHEAD_BYTES;
        let mut pending = PendingSets::new(3 * set_bytes);
        assert_eq!(pending.park(parked(300, 100, 0)), 0);
        assert_eq!(pending.park(parked(301, 100, 0)), 0);
        assert_eq!(pending.park(parked(300, 100, 0)), 0);
        assert_eq!(pending.charged_bytes(), 3 * set_bytes);
        // A fourth drops the first (a 300), a set twice the size drops two more.
        assert_eq!(pending.park(parked(302, 100, 0)), 1);
        assert_eq!(
            pending.park(parked(303, 200 + PARKED_SET_OVERHEAD_BYTES, 0)),
            2
        );
        assert_eq!(pending.len(), 2);
        assert!(!pending.is_waiting_for(&key(300)));
        assert!(!pending.is_waiting_for(&key(301)));
        assert!(pending.is_waiting_for(&key(302)));
        assert_eq!(pending.charged_bytes(), 3 * set_bytes);
    }

    #[test]
    fn a_set_larger_than_the_limit_is_dropped_alone() {
        let mut pending = PendingSets::new(1_000);
        assert_eq!(pending.park(parked(300, 10, 0)), 0);
        assert_eq!(pending.park(parked(301, 1_000, 0)), 1);
        assert_eq!(pending.len(), 1);
        assert!(pending.is_waiting_for(&key(300)));
    }

    #[test]
    fn take_returns_the_sets_of_one_template_oldest_first() {
        let mut pending = PendingSets::new(10_000);
        pending.park(parked(300, 1, 0));
        pending.park(parked(301, 2, 0));
        pending.park(parked(300, 3, 0));
        let sets = pending.take(&key(300));
        let sizes: Vec<usize> = sets.iter().map(|set| set.body.len()).collect();
        assert_eq!(sizes, [1, 3]);
        assert_eq!(pending.len(), 1);
        assert_eq!(pending.charged_bytes(), 2 + PARKED_SET_OVERHEAD_BYTES);
        assert!(pending.take(&key(300)).is_empty());
    }

    #[test]
    fn expire_drops_only_sets_older_than_the_timeout() {
        let mut pending = PendingSets::new(10_000);
        pending.park(parked(300, 1, 1_000));
        pending.park(parked(301, 1, 5_000));
        pending.park(parked(300, 1, 2_000));
        assert_eq!(pending.expire(Timestamp::from_nanos(4_000), 2_000), 1);
        assert_eq!(pending.len(), 2);
        assert_eq!(pending.expire(Timestamp::from_nanos(4_000), 2_000), 0);
        assert_eq!(pending.expire(Timestamp::from_nanos(7_001), 2_000), 2);
        assert_eq!(pending.len(), 0);
        assert_eq!(pending.charged_bytes(), 0);
        assert!(!pending.is_waiting_for(&key(300)));
    }
}

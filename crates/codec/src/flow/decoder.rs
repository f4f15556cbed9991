//! The [`FlowDecoder`]: one per listener, holding the templates exporters sent and the data sets
//! waiting for theirs. Sans-IO: datagrams and their receive time in, records out.
//!
//! NetFlow v9 flowsets and IPFIX sets share a layout (id, length, body), so one walk serves both:
//! - a set whose length is under 4 or runs past the message is counted malformed and ends the
//!   datagram (nothing after it can be found);
//! - a template record that runs past its set is counted malformed and ends that set;
//! - a data record whose variable-length field runs past its set is counted malformed and ends
//!   that set, the records before it kept;
//! - set ids that are neither template nor data (v9 2–255, IPFIX 0, 1, 4–255) are skipped.
//!
//! A NetFlow v5 header whose count exceeds the records present counts one malformed set; the
//! records present are decoded. Template state is kept per scope (exporter address and port,
//! and v9 source id or IPFIX observation domain); v5 keeps none.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

use vigil_event::Timestamp;

use super::data::{self, DataSetOutcome, MessageHeader, ScopeKey};
use super::limits::FlowLimits;
use super::pending::{ParkedSet, PendingSets, TemplateKey};
use super::record::{FlowError, FlowKind, FlowRecord, FlowReport};
use super::template::{Template, TemplateRecord};
use super::wire::{be_u16, Reader};
use super::{ipfix, v5, v9};

const SET_HEADER_BYTES: usize = 4;
const FIRST_DATA_SET_ID: u16 = 256;

/// Decodes NetFlow v5, NetFlow v9 and IPFIX datagrams, keeping template state per exporter.
///
/// ```
/// use vigil_codec::flow::{FlowDecoder, FlowLimits};
/// use vigil_event::Timestamp;
///
/// let mut decoder = FlowDecoder::new(FlowLimits::default());
/// let mut records = Vec::new();
/// // A NetFlow v5 header announcing no records.
/// let datagram = [0, 5, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
/// let exporter = "192.0.2.1:2055".parse().unwrap();
/// let report = decoder
///     .decode(&datagram, exporter, Timestamp::from_nanos(0), &mut records)
///     .unwrap();
/// assert_eq!((report.version, report.records), (5, 0));
/// ```
#[derive(Debug)]
pub struct FlowDecoder {
    limits: FlowLimits,
    scopes: HashMap<ScopeKey, Scope>,
    /// Scopes by when they were last seen, oldest first.
    recency: BTreeMap<u64, ScopeKey>,
    touches: u64,
    num_templates: usize,
    /// Fields of all templates kept, against [`FlowLimits::max_template_fields`].
    num_template_fields: usize,
    pending: PendingSets,
}

/// One exporter's templates in one observation domain (v9 source id).
#[derive(Debug)]
struct Scope {
    templates: HashMap<u16, Template>,
    last_touch: u64,
    /// IPFIX systemInitTimeMilliseconds from the latest options record that had one: what
    /// flowStart/EndSysUpTime count from (softflowd sends it this way).
    system_init: Option<Timestamp>,
}

/// What a set id says a set holds.
enum SetKind {
    Templates { options: bool },
    Data,
    Reserved,
}

fn set_kind(kind: FlowKind, set_id: u16) -> SetKind {
    match (kind, set_id) {
        (FlowKind::NetflowV9, v9::TEMPLATE_FLOWSET_ID)
        | (FlowKind::Ipfix, ipfix::TEMPLATE_SET_ID) => SetKind::Templates { options: false },
        (FlowKind::NetflowV9, v9::OPTIONS_TEMPLATE_FLOWSET_ID)
        | (FlowKind::Ipfix, ipfix::OPTIONS_TEMPLATE_SET_ID) => SetKind::Templates { options: true },
        (_, id) if id >= FIRST_DATA_SET_ID => SetKind::Data,
        _ => SetKind::Reserved,
    }
}

impl FlowDecoder {
    pub fn new(limits: FlowLimits) -> Self {
        Self {
            limits,
            scopes: HashMap::new(),
            recency: BTreeMap::new(),
            touches: 0,
            num_templates: 0,
            num_template_fields: 0,
            pending: PendingSets::new(limits.max_pending_bytes),
        }
    }

    /// One UDP datagram from `exporter`, received at `received`. Flow (and options) records go
    /// to `out`, appended.
    ///
    /// Err only when the datagram as a whole is unusable (too short for a header, unknown
    /// version); problems inside it (a malformed set, a refused template) are counted in the
    /// report and the rest is still decoded.
    pub fn decode(
        &mut self,
        datagram: &[u8],
        exporter: SocketAddr,
        received: Timestamp,
        out: &mut Vec<FlowRecord>,
    ) -> Result<FlowReport, FlowError> {
        let Some(version) = be_u16(datagram, 0) else {
            return Err(FlowError::Truncated {
                needed_bytes: 2,
                received_bytes: datagram.len(),
            });
        };
        let (header, sets) = match version {
            5 => return v5::decode(datagram, exporter, out),
            9 => v9::parse_header(datagram, exporter)?,
            10 => ipfix::parse_header(datagram, exporter)?,
            version => return Err(FlowError::UnsupportedVersion { version }),
        };
        Ok(self.decode_sets(&header, sets, received, out))
    }

    /// Drops data sets parked before `now` minus the pending timeout, whose template never
    /// came; returns how many sets were dropped.
    pub fn expire(&mut self, now: Timestamp) -> usize {
        self.pending.expire(now, self.limits.pending_timeout_nanos)
    }

    /// Template scopes kept: (exporter address and port, v9 source id or IPFIX observation
    /// domain) pairs that sent a template. NetFlow v5 keeps none.
    pub fn exporter_count(&self) -> usize {
        self.scopes.len()
    }

    /// Templates kept, across all scopes.
    pub fn template_count(&self) -> usize {
        self.num_templates
    }

    /// Data sets parked, waiting for their template.
    pub fn pending_sets(&self) -> usize {
        self.pending.len()
    }

    /// Bytes charged for parked data sets; at most `max_pending_bytes`.
    pub fn pending_bytes(&self) -> usize {
        self.pending.charged_bytes()
    }

    fn decode_sets(
        &mut self,
        header: &MessageHeader,
        sets: &[u8],
        received: Timestamp,
        out: &mut Vec<FlowRecord>,
    ) -> FlowReport {
        let mut report = FlowReport {
            version: header.kind.version(),
            ..FlowReport::default()
        };
        self.touch(header.scope());
        let mut reader = Reader::new(sets);
        // Fewer bytes than a set header at the end are padding.
        while reader.remaining() >= SET_HEADER_BYTES {
            let (Some(set_id), Some(set_bytes)) = (reader.u16(), reader.u16()) else {
                break;
            };
            let Some(body) = usize::from(set_bytes)
                .checked_sub(SET_HEADER_BYTES)
                .and_then(|body_bytes| reader.take(body_bytes))
            else {
                report.malformed_sets += 1;
                break;
            };
            match set_kind(header.kind, set_id) {
                SetKind::Templates { options } => {
                    self.template_set(header, set_id, options, body, out, &mut report)
                }
                SetKind::Data => self.data_set(header, set_id, body, received, out, &mut report),
                SetKind::Reserved => {}
            }
        }
        report
    }

    fn template_set(
        &mut self,
        header: &MessageHeader,
        set_id: u16,
        options: bool,
        body: &[u8],
        out: &mut Vec<FlowRecord>,
        report: &mut FlowReport,
    ) {
        let max_fields = self.limits.max_fields_per_template;
        let mut reader = Reader::new(body);
        while reader.remaining() >= SET_HEADER_BYTES {
            let parsed = match header.kind {
                FlowKind::Ipfix => ipfix::parse_template_record(&mut reader, set_id, max_fields),
                _ => v9::parse_template_record(&mut reader, options, max_fields),
            };
            match parsed {
                TemplateRecord::Define {
                    template_id,
                    template,
                } => self.learn(header, template_id, template, out, report),
                TemplateRecord::Withdraw { template_id } => {
                    report.withdrawn += self.withdraw(header.scope(), |id, _| id == template_id);
                }
                TemplateRecord::WithdrawAll => {
                    report.withdrawn +=
                        self.withdraw(header.scope(), |_, template| template.options == options);
                }
                TemplateRecord::Refused => report.templates_refused += 1,
                TemplateRecord::Padding => break,
                TemplateRecord::Malformed => {
                    report.malformed_sets += 1;
                    break;
                }
            }
        }
    }

    fn data_set(
        &mut self,
        header: &MessageHeader,
        template_id: u16,
        body: &[u8],
        received: Timestamp,
        out: &mut Vec<FlowRecord>,
        report: &mut FlowReport,
    ) {
        let scope_key = header.scope();
        let scope = self.scopes.get(&scope_key);
        let system_init = scope.and_then(|scope| scope.system_init);
        if let Some(template) = scope.and_then(|scope| scope.templates.get(&template_id)) {
            let first_record = out.len();
            let outcome =
                data::decode_data_set(template, template_id, body, header, system_init, out);
            count_records(report, template, outcome);
            if template.options {
                self.remember_system_init(scope_key, out.get(first_record..).unwrap_or_default());
            }
            return;
        }
        if body.is_empty() {
            return;
        }
        report.template_misses += 1;
        report.pending_dropped += self.pending.park(ParkedSet {
            header: *header,
            template_id,
            body: body.to_vec(),
            parked_at: received,
        });
    }

    fn learn(
        &mut self,
        header: &MessageHeader,
        template_id: u16,
        template: Template,
        out: &mut Vec<FlowRecord>,
        report: &mut FlowReport,
    ) {
        let scope_key = header.scope();
        let max_templates = self.limits.max_templates_per_exporter;
        if !self.scopes.contains_key(&scope_key) {
            if self.limits.max_exporters == 0 || max_templates == 0 {
                report.templates_refused += 1;
                return;
            }
            while self.scopes.len() >= self.limits.max_exporters {
                if !self.evict_least_recent() {
                    break;
                }
                report.exporters_evicted += 1;
            }
            self.scopes.insert(
                scope_key,
                Scope {
                    templates: HashMap::new(),
                    last_touch: 0,
                    system_init: None,
                },
            );
            self.touch(scope_key);
        }
        let Some(scope) = self.scopes.get_mut(&scope_key) else {
            return;
        };
        let replaced_fields = scope
            .templates
            .get(&template_id)
            .map(|old| old.fields.len());
        let is_new = replaced_fields.is_none();
        if is_new && scope.templates.len() >= max_templates {
            report.templates_refused += 1;
            return;
        }
        let fields =
            self.num_template_fields - replaced_fields.unwrap_or(0) + template.fields.len();
        if fields > self.limits.max_template_fields && fields > self.num_template_fields {
            report.templates_refused += 1;
            return;
        }
        self.num_template_fields = fields;
        scope.templates.insert(template_id, template);
        if is_new {
            self.num_templates += 1;
        }
        report.templates += 1;
        self.release(
            TemplateKey {
                scope: scope_key,
                template_id,
            },
            out,
            report,
        );
    }

    /// Decodes the data sets that were waiting for a template just learned.
    fn release(&mut self, key: TemplateKey, out: &mut Vec<FlowRecord>, report: &mut FlowReport) {
        if !self.pending.is_waiting_for(&key) {
            return;
        }
        let Some(scope) = self.scopes.get(&key.scope) else {
            return;
        };
        let Some(template) = scope.templates.get(&key.template_id) else {
            return;
        };
        let first_record = out.len();
        for parked in self.pending.take(&key) {
            let outcome = data::decode_data_set(
                template,
                key.template_id,
                &parked.body,
                &parked.header,
                scope.system_init,
                out,
            );
            report.released += outcome.records;
            count_records(report, template, outcome);
        }
        if template.options {
            self.remember_system_init(key.scope, out.get(first_record..).unwrap_or_default());
        }
    }

    /// Keeps the latest systemInitTimeMilliseconds of IPFIX options records.
    fn remember_system_init(&mut self, scope_key: ScopeKey, records: &[FlowRecord]) {
        if scope_key.kind != FlowKind::Ipfix {
            return;
        }
        let Some(scope) = self.scopes.get_mut(&scope_key) else {
            return;
        };
        for record in records {
            let init_time = record
                .other_values()
                .find(|(element, _)| *element == data::SYSTEM_INIT_TIME)
                .and_then(|(_, value)| data::system_init_time(value));
            if init_time.is_some() {
                scope.system_init = init_time;
            }
        }
    }

    /// Removes the scope's templates that `withdrawn` picks; returns how many.
    fn withdraw(
        &mut self,
        scope_key: ScopeKey,
        withdrawn: impl Fn(u16, &Template) -> bool,
    ) -> usize {
        let Some(scope) = self.scopes.get_mut(&scope_key) else {
            return 0;
        };
        let before = scope.templates.len();
        let mut removed_fields = 0;
        scope.templates.retain(|template_id, template| {
            let keep = !withdrawn(*template_id, template);
            if !keep {
                removed_fields += template.fields.len();
            }
            keep
        });
        let removed = before - scope.templates.len();
        self.num_templates -= removed;
        self.num_template_fields -= removed_fields;
        removed
    }

    fn touch(&mut self, scope_key: ScopeKey) {
        let Some(scope) = self.scopes.get_mut(&scope_key) else {
            return;
        };
        self.recency.remove(&scope.last_touch);
        self.touches += 1;
        scope.last_touch = self.touches;
        self.recency.insert(self.touches, scope_key);
    }

    fn evict_least_recent(&mut self) -> bool {
        let Some((_, scope_key)) = self.recency.pop_first() else {
            return false;
        };
        if let Some(scope) = self.scopes.remove(&scope_key) {
            self.num_templates -= scope.templates.len();
            self.num_template_fields -= scope
                .templates
                .values()
                .map(|template| template.fields.len())
                .sum::<usize>();
        }
        debug_assert_eq!(self.recency.len(), self.scopes.len());
        true
    }
}

fn count_records(report: &mut FlowReport, template: &Template, outcome: DataSetOutcome) {
    if template.options {
        report.option_records += outcome.records;
    } else {
        report.records += outcome.records;
    }
    if outcome.malformed {
        report.malformed_sets += 1;
    }
}

//! The flow listener: NetFlow v5, v9 and IPFIX datagrams on one UDP port, one event per flow
//! record, stamped with the tenant and level of the exporter's system.

use std::net::SocketAddr;
use std::sync::Arc;

use vigil_codec::flow::{FlowDecoder, FlowError, FlowLimits, FlowRecord, FlowReport};
use vigil_event::{field, Event, EventFlags, Timestamp, Value};
use vigil_pipeline::{Counter, Metrics};

use crate::syslog::ListenerMetrics;
use crate::udp::{CountersByKind, DatagramSource, Datagrams};
use crate::Stamper;

/// Datagrams read without waiting, after the first, into one batch.
const MAX_DATAGRAMS_PER_BATCH: usize = 256;

/// Counters of one flow listener beyond those every listener has.
struct FlowMetrics {
    listener: ListenerMetrics,
    packets: Counter,
    records: Counter,
    option_records: Counter,
    templates: Counter,
    withdrawn: Counter,
    template_misses: Counter,
    released: Counter,
    pending_dropped: Counter,
    templates_refused: Counter,
    exporters_evicted: Counter,
    malformed_sets: Counter,
    exporters: vigil_pipeline::Gauge,
    template_count: vigil_pipeline::Gauge,
    errors: CountersByKind,
}

impl FlowMetrics {
    fn new(metrics: &Metrics, name: &str) -> Self {
        let labels = [("listener", name)];
        let counter =
            |metric: &'static str, help: &'static str| metrics.counter(metric, help, &labels);
        let anomaly = |kind: &'static str| {
            metrics.counter(
                "vigil_flow_anomalies_total",
                "Flow input refused or set aside by kind: templates over a limit or invalid, \
                 malformed sets, parked data evicted or expired, exporters forgotten.",
                &[("listener", name), ("kind", kind)],
            )
        };
        Self {
            listener: ListenerMetrics::new(metrics, name),
            packets: counter(
                "vigil_flow_packets_total",
                "Flow datagrams received (NetFlow v5/v9, IPFIX).",
            ),
            records: counter(
                "vigil_flow_records_total",
                "Flow records decoded into events.",
            ),
            option_records: counter(
                "vigil_flow_option_records_total",
                "Options data records decoded (exporter and sampling state).",
            ),
            templates: counter(
                "vigil_flow_templates_total",
                "Templates learned or refreshed.",
            ),
            withdrawn: counter(
                "vigil_flow_templates_withdrawn_total",
                "IPFIX templates withdrawn by their exporter.",
            ),
            template_misses: counter(
                "vigil_flow_template_misses_total",
                "Data sets that arrived before their template and were parked.",
            ),
            released: counter(
                "vigil_flow_released_records_total",
                "Parked records decoded once their template arrived.",
            ),
            pending_dropped: anomaly("pending_dropped"),
            templates_refused: anomaly("template_refused"),
            exporters_evicted: anomaly("exporter_evicted"),
            malformed_sets: anomaly("malformed_set"),
            exporters: metrics.gauge(
                "vigil_flow_exporters",
                "Exporters whose templates are kept.",
                &labels,
            ),
            template_count: metrics.gauge(
                "vigil_flow_templates",
                "Templates kept, over all exporters.",
                &labels,
            ),
            errors: CountersByKind::new(
                metrics,
                "vigil_flow_errors_total",
                "Flow datagrams that could not be decoded at all, by kind (kept as unparsed \
                 events).",
                name,
            ),
        }
    }

    fn count(&self, report: &FlowReport) {
        self.records.add(report.records as u64);
        self.option_records.add(report.option_records as u64);
        self.templates.add(report.templates as u64);
        self.withdrawn.add(report.withdrawn as u64);
        self.template_misses.add(report.template_misses as u64);
        self.released.add(report.released as u64);
        self.pending_dropped.add(report.pending_dropped as u64);
        self.templates_refused.add(report.templates_refused as u64);
        self.exporters_evicted.add(report.exporters_evicted as u64);
        self.malformed_sets.add(report.malformed_sets as u64);
    }
}

/// NetFlow v5/v9 and IPFIX over UDP.
pub type FlowSource = DatagramSource<FlowDatagrams>;

/// One datagram, its flow records as events; the decoder's template state.
pub struct FlowDatagrams {
    name: Arc<str>,
    decoder: FlowDecoder,
    stamper: Arc<Stamper>,
    metrics: FlowMetrics,
    records: Vec<FlowRecord>,
}

impl FlowSource {
    /// Binds now, so that a taken port is reported before anything starts.
    pub async fn bind(
        name: &str,
        address: SocketAddr,
        limits: FlowLimits,
        stamper: Arc<Stamper>,
        metrics: &Metrics,
    ) -> crate::Result<Self> {
        let flows = FlowDatagrams {
            name: Arc::from(name),
            decoder: FlowDecoder::new(limits),
            stamper,
            metrics: FlowMetrics::new(metrics, name),
            records: Vec::new(),
        };
        Self::open(name, address, metrics, MAX_DATAGRAMS_PER_BATCH, flows).await
    }
}

impl Datagrams for FlowDatagrams {
    fn name(&self) -> &str {
        &self.name
    }

    fn metrics(&self) -> &ListenerMetrics {
        &self.metrics.listener
    }

    /// Decodes one datagram into `batch`: its flow records, or the datagram itself, kept whole
    /// and flagged, when it cannot be decoded.
    fn take(
        &mut self,
        datagram: &[u8],
        exporter: SocketAddr,
        batch: &mut Vec<Event>,
    ) -> Option<Vec<u8>> {
        let received = Timestamp::now();
        self.metrics.packets.inc();
        self.metrics
            .listener
            .bytes_received
            .add(datagram.len() as u64);
        self.records.clear();
        match self
            .decoder
            .decode(datagram, exporter, received, &mut self.records)
        {
            Ok(report) => self.metrics.count(&report),
            Err(error) => {
                self.metrics.errors.get(error.kind()).inc();
                tracing::debug!(listener = %self.name, %exporter, %error, "flow datagram not decoded");
                let mut event = undecoded(datagram, &error, received);
                self.stamper
                    .stamp_device(&mut event, exporter.ip(), &self.name, received);
                self.metrics.listener.count_event(&event);
                batch.push(event);
            }
        }
        for record in &self.records {
            let mut event = record.to_event(received);
            self.stamper
                .stamp_device(&mut event, exporter.ip(), &self.name, received);
            self.metrics.listener.count_event(&event);
            batch.push(event);
        }
        None
    }

    /// Housekeeping: parked data past its wait, state gauges.
    fn tick(&mut self) {
        let expired = self.decoder.expire(Timestamp::now());
        self.metrics.pending_dropped.add(expired as u64);
        self.metrics
            .exporters
            .set(self.decoder.exporter_count() as i64);
        self.metrics
            .template_count
            .set(self.decoder.template_count() as i64);
    }
}

/// A datagram no flow decoder could read, kept whole (base64 in `event.original`'s JSON) so
/// that an analyst can see what the device sent.
fn undecoded(datagram: &[u8], error: &FlowError, received: Timestamp) -> Event {
    let mut event = Event::new(received, datagram.to_vec());
    event.flags.insert(EventFlags::UNPARSED);
    event.message = format!("flow datagram not decoded: {error}");
    event
        .fields
        .insert(field::EVENT_DATASET.into(), Value::from("netflow"));
    event
        .fields
        .insert("netflow.error".into(), Value::from(error.kind()));
    event
}

/// The decoder's limits from a `flow` listener's config: what it leaves unset keeps the
/// decoder's default.
pub fn limits(config: &vigil_config::FlowLimitsConfig) -> FlowLimits {
    let defaults = FlowLimits::default();
    FlowLimits {
        max_exporters: config.max_exporters.unwrap_or(defaults.max_exporters),
        max_templates_per_exporter: config
            .max_templates_per_exporter
            .unwrap_or(defaults.max_templates_per_exporter),
        max_fields_per_template: config
            .max_fields_per_template
            .unwrap_or(defaults.max_fields_per_template),
        max_pending_bytes: config
            .max_pending_bytes
            .unwrap_or(defaults.max_pending_bytes),
        pending_timeout_nanos: config
            .pending_timeout
            .map_or(defaults.pending_timeout_nanos, |timeout| {
                i64::try_from(timeout.0.as_nanos()).unwrap_or(i64::MAX)
            }),
        max_template_fields: config
            .max_template_fields
            .unwrap_or(defaults.max_template_fields),
    }
}

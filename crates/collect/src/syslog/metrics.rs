use vigil_pipeline::{Counter, Gauge, Metrics};

/// Counters of one listener, labelled with its name. Error kinds are a closed set.
#[derive(Clone)]
pub struct ListenerMetrics {
    pub events_received: Counter,
    pub bytes_received: Counter,
    pub parse_fallbacks: Counter,
    pub truncated: Counter,
    pub invalid_utf8: Counter,
    pub dropped: Counter,
    pub errors_oversized: Counter,
    pub errors_truncated_at_eof: Counter,
    pub errors_invalid_octet_count: Counter,
    pub errors_read: Counter,
    pub connections_accepted: Counter,
    pub connections_refused_per_peer: Counter,
    pub connections_refused_total: Counter,
    pub connections_idle_closed: Counter,
    pub connections_open: Gauge,
    pub errors_decompress: Counter,
    pub zlib_streams: Counter,
    pub tls_handshakes: Counter,
    tls_failures: Vec<(&'static str, Counter)>,
    tls_failure_other: Counter,
}

impl ListenerMetrics {
    pub fn new(metrics: &Metrics, listener: &str) -> Self {
        let labels = [("listener", listener)];
        let error = |kind: &'static str| {
            metrics.counter(
                "vigil_collect_errors_total",
                "Input a listener could not take as sent, by kind (each counted, none fatal).",
                &[("listener", listener), ("kind", kind)],
            )
        };
        let refused = |reason: &'static str| {
            metrics.counter(
                "vigil_collect_connections_refused_total",
                "Connections closed at once because a limit was reached.",
                &[("listener", listener), ("reason", reason)],
            )
        };
        Self {
            events_received: metrics.counter(
                "vigil_collect_events_received_total",
                "Events a listener received.",
                &labels,
            ),
            bytes_received: metrics.counter(
                "vigil_collect_bytes_received_total",
                "Bytes a listener read.",
                &labels,
            ),
            parse_fallbacks: metrics.counter(
                "vigil_collect_parse_fallbacks_total",
                "Lines that did not parse as syslog and were kept whole as message.",
                &labels,
            ),
            truncated: metrics.counter(
                "vigil_collect_truncated_total",
                "Frames cut at max_frame_bytes and flagged truncated.",
                &labels,
            ),
            invalid_utf8: metrics.counter(
                "vigil_collect_invalid_utf8_total",
                "Frames that were not valid UTF-8 (kept exactly).",
                &labels,
            ),
            dropped: metrics.counter(
                "vigil_collect_dropped_events_total",
                "Events lost because the pipeline had stopped.",
                &labels,
            ),
            errors_oversized: error("oversized"),
            errors_truncated_at_eof: error("truncated_at_eof"),
            errors_invalid_octet_count: error("invalid_octet_count"),
            errors_read: error("read"),
            connections_accepted: metrics.counter(
                "vigil_collect_connections_accepted_total",
                "TCP connections accepted.",
                &labels,
            ),
            connections_refused_per_peer: refused("per_peer_limit"),
            connections_refused_total: refused("total_limit"),
            connections_idle_closed: metrics.counter(
                "vigil_collect_connections_idle_closed_total",
                "TCP connections closed after idle_timeout without data.",
                &labels,
            ),
            connections_open: metrics.gauge(
                "vigil_collect_connections_open",
                "Open TCP connections.",
                &labels,
            ),
            errors_decompress: error("decompress"),
            zlib_streams: metrics.counter(
                "vigil_collect_zlib_streams_total",
                "Connections that sent a zlib-compressed stream.",
                &labels,
            ),
            tls_handshakes: metrics.counter(
                "vigil_collect_tls_handshakes_total",
                "TLS handshakes that succeeded and were admitted.",
                &labels,
            ),
            tls_failures: vigil_tls::peer::FAILURE_REASONS
                .iter()
                .map(|reason| {
                    let counter = metrics.counter(
                        "vigil_collect_tls_handshake_failures_total",
                        "TLS connections refused during or right after the handshake, by reason.",
                        &[("listener", listener), ("reason", reason)],
                    );
                    (*reason, counter)
                })
                .collect(),
            tls_failure_other: metrics.counter(
                "vigil_collect_tls_handshake_failures_total",
                "TLS connections refused during or right after the handshake, by reason.",
                &[("listener", listener), ("reason", "other")],
            ),
        }
    }

    /// The failure counter of `reason` (one of [`vigil_tls::peer::FAILURE_REASONS`]).
    pub fn tls_failure(&self, reason: &str) -> &Counter {
        self.tls_failures
            .iter()
            .find(|(known, _)| *known == reason)
            .map_or(&self.tls_failure_other, |(_, counter)| counter)
    }

    pub fn count_event(&self, event: &vigil_event::Event) {
        use vigil_event::EventFlags;
        self.events_received.inc();
        if event.flags.contains(EventFlags::UNPARSED) {
            self.parse_fallbacks.inc();
        }
        if event.flags.contains(EventFlags::TRUNCATED) {
            self.truncated.inc();
        }
        if event.flags.contains(EventFlags::INVALID_UTF8) {
            self.invalid_utf8.inc();
        }
    }
}

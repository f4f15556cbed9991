use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A monotonically increasing count.
#[derive(Clone, Debug, Default)]
pub struct Counter(Arc<AtomicU64>);

impl Counter {
    pub fn inc(&self) {
        self.add(1);
    }

    pub fn add(&self, amount: u64) {
        self.0.fetch_add(amount, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down (queue depth, open connections, lag).
#[derive(Clone, Debug, Default)]
pub struct Gauge(Arc<AtomicI64>);

impl Gauge {
    pub fn set(&self, value: i64) {
        self.0.store(value, Ordering::Relaxed);
    }

    pub fn add(&self, delta: i64) {
        self.0.fetch_add(delta, Ordering::Relaxed);
    }

    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

#[derive(Debug)]
enum Cell {
    Counter(Counter),
    Gauge(Gauge),
}

#[derive(Debug)]
struct Series {
    labels: Vec<(&'static str, String)>,
    cell: Cell,
}

#[derive(Debug)]
struct Family {
    name: &'static str,
    help: &'static str,
    series: Vec<Series>,
}

/// Every counter and gauge of the process, rendered in the Prometheus text format.
///
/// Labels are bounded by construction: listener names, levels, stages; never addresses or raw
/// error text.
#[derive(Clone, Debug, Default)]
pub struct Metrics {
    families: Arc<Mutex<Vec<Family>>>,
}

impl Metrics {
    /// The counter with this name and labels, registered on first use.
    pub fn counter(
        &self,
        name: &'static str,
        help: &'static str,
        labels: &[(&'static str, &str)],
    ) -> Counter {
        match self.register(name, help, labels, || Cell::Counter(Counter::default())) {
            Cell::Counter(counter) => counter,
            Cell::Gauge(_) => Counter::default(),
        }
    }

    /// The gauge with this name and labels, registered on first use.
    pub fn gauge(
        &self,
        name: &'static str,
        help: &'static str,
        labels: &[(&'static str, &str)],
    ) -> Gauge {
        match self.register(name, help, labels, || Cell::Gauge(Gauge::default())) {
            Cell::Gauge(gauge) => gauge,
            Cell::Counter(_) => Gauge::default(),
        }
    }

    fn register(
        &self,
        name: &'static str,
        help: &'static str,
        labels: &[(&'static str, &str)],
        make: impl FnOnce() -> Cell,
    ) -> Cell {
        let labels: Vec<(&'static str, String)> = labels
            .iter()
            .map(|(key, value)| (*key, (*value).to_owned()))
            .collect();
        let mut families = self
            .families
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let index = match families.iter().position(|family| family.name == name) {
            Some(index) => index,
            None => {
                families.push(Family {
                    name,
                    help,
                    series: Vec::new(),
                });
                families.len() - 1
            }
        };
        let family = &mut families[index];
        if let Some(series) = family.series.iter().find(|series| series.labels == labels) {
            return match &series.cell {
                Cell::Counter(counter) => Cell::Counter(counter.clone()),
                Cell::Gauge(gauge) => Cell::Gauge(gauge.clone()),
            };
        }
        let cell = make();
        let shared = match &cell {
            Cell::Counter(counter) => Cell::Counter(counter.clone()),
            Cell::Gauge(gauge) => Cell::Gauge(gauge.clone()),
        };
        family.series.push(Series { labels, cell });
        shared
    }

    /// The Prometheus text exposition format, version 0.0.4.
    pub fn render(&self) -> String {
        let families = self
            .families
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut out = String::new();
        for family in families.iter() {
            let kind = match family.series.first().map(|series| &series.cell) {
                Some(Cell::Gauge(_)) => "gauge",
                _ => "counter",
            };
            let _ = writeln!(out, "# HELP {} {}", family.name, family.help);
            let _ = writeln!(out, "# TYPE {} {kind}", family.name);
            for series in &family.series {
                out.push_str(family.name);
                if !series.labels.is_empty() {
                    out.push('{');
                    for (position, (key, value)) in series.labels.iter().enumerate() {
                        if position > 0 {
                            out.push(',');
                        }
                        let escaped = value
                            .replace('\\', "\\\\")
                            .replace('"', "\\\"")
                            .replace('\n', "\\n");
                        let _ = write!(out, "{key}=\"{escaped}\"");
                    }
                    out.push('}');
                }
                let value = match &series.cell {
                    Cell::Counter(counter) => counter.get().to_string(),
                    Cell::Gauge(gauge) => gauge.get().to_string(),
                };
                let _ = writeln!(out, " {value}");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_share_one_cell_per_name_and_labels() {
        let metrics = Metrics::default();
        let first = metrics.counter("vigil_test_total", "Test.", &[("listener", "a")]);
        let again = metrics.counter("vigil_test_total", "Test.", &[("listener", "a")]);
        let other = metrics.counter("vigil_test_total", "Test.", &[("listener", "b\"x")]);
        first.inc();
        again.add(2);
        other.inc();
        let text = metrics.render();
        assert!(text.contains("# TYPE vigil_test_total counter"));
        assert!(
            text.contains("vigil_test_total{listener=\"a\"} 3"),
            "{text}"
        );
        assert!(
            text.contains("vigil_test_total{listener=\"b\\\"x\"} 1"),
            "{text}"
        );
        let depth = metrics.gauge("vigil_test_depth", "Depth.", &[]);
        depth.set(-4);
        assert!(metrics.render().contains("vigil_test_depth -4"));
    }
}

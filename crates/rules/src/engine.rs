//! The correlator: runs every event through the rules it may match, keeps windowed state per
//! rule and group key, and raises alerts.
//!
//! **Time.** Windows use event time. Each time domain (live events, imported events) keeps the
//! latest event time it has seen; an event older than that minus the tolerance is *late*: it
//! is counted and evaluated as if it happened at that latest time. Live events from the future
//! (a device clock ahead) are taken at the processing clock plus the tolerance. Absence rules
//! use the processing clock only, and fire from [`Correlator::tick`], not from the next event.
//!
//! **Windows** are inclusive: two events exactly `within` apart are within it.
//!
//! **Bounds.** Each rule keeps state for at most `max_keys_per_rule` group keys; past it, state
//! whose window has passed goes first, then the least recently updated keys (counted as
//! evictions).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use rhai::Map;
use vigil_event::{access, Alert, Event, EventFlags, EventId, SecurityLevel, Timestamp};

use crate::condition::{Condition, Index, IndexBuilder, Part, Probe};
use crate::hash::FastMap;
use crate::limits;
use crate::rule::{Kind, Nanos, Rule, Summary};
use crate::script::{self, Closure};
use crate::view::{FieldRef, KeyPart, View};

/// A compiled set of rules with its prefilter index, ready to correlate.
pub struct RuleSet {
    pub rules: Vec<Arc<Rule>>,
    index: Index,
    engine: Arc<rhai::Engine>,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RuleSet")
            .field("rules", &self.rules.len())
            .finish()
    }
}

impl RuleSet {
    pub fn new(rules: Vec<Arc<Rule>>, engine: Arc<rhai::Engine>) -> Result<Self, String> {
        let mut builder = IndexBuilder::default();
        for (at, rule) in rules.iter().enumerate() {
            let at = u32::try_from(at).map_err(|_| "too many rules".to_owned())?;
            match &rule.kind {
                Kind::Sequence { steps, abort, .. } => {
                    for (step_at, step) in steps.iter().enumerate() {
                        let part = Part::Step(step_at as u16);
                        builder.add(
                            (at, part),
                            anchor(&step.select, &rule.select),
                            step.sees_alerts || rule.sees_alerts,
                        );
                    }
                    if let Some(abort) = abort {
                        builder.add(
                            (at, Part::Abort),
                            anchor(&abort.select, &rule.select),
                            abort.sees_alerts || rule.sees_alerts,
                        );
                    }
                }
                _ => builder.add((at, Part::Main), &rule.select, rule.sees_alerts),
            }
        }
        Ok(RuleSet {
            index: builder.build()?,
            rules,
            engine,
        })
    }

    pub fn position(&self, id: &str) -> Option<usize> {
        self.rules.iter().position(|rule| rule.id == id)
    }
}

/// The conditions a sequence step is filed under: its own, else the rule's.
fn anchor<'a>(step: &'a [Condition], rule: &'a [Condition]) -> &'a [Condition] {
    if step.is_empty() {
        rule
    } else {
        step
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Out-of-order tolerance of event time.
    pub tolerance: Nanos,
    pub max_keys_per_rule: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            tolerance: limits::DEFAULT_TOLERANCE_SECS as Nanos * 1_000_000_000,
            max_keys_per_rule: limits::DEFAULT_MAX_KEYS_PER_RULE,
        }
    }
}

/// Running totals the correlator keeps (the service turns them into metrics).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    pub events: u64,
    pub candidates: u64,
    pub late: u64,
    pub evictions: u64,
    pub where_errors: u64,
    pub suppressed: u64,
    pub alerts: u64,
}

type Key = Box<[KeyPart]>;

#[derive(Debug)]
struct Group {
    /// Index into [`Correlator::clocks`]: live or imported time.
    domain: usize,
    updated: Nanos,
    tenant: Arc<str>,
    level: SecurityLevel,
    window: Window,
}

#[derive(Debug)]
enum Window {
    Threshold(VecDeque<(Nanos, EventId)>),
    Sum(VecDeque<(Nanos, EventId, f64)>),
    Distinct(FastMap<String, (Nanos, EventId)>),
    Sequence {
        next: usize,
        started: Nanos,
        events: Vec<EventId>,
    },
    Absence {
        seen_at: Nanos,
        event_time: Nanos,
        event: EventId,
    },
}

#[derive(Debug, Default)]
struct RuleState {
    fingerprint: String,
    groups: FastMap<Key, Group>,
    /// Per key: the event time of the last alert.
    fired: FastMap<String, Nanos>,
    where_errors: u64,
}

#[derive(Clone, Copy, Debug)]
struct Clock {
    latest: Nanos,
}

const LIVE: usize = 0;
const IMPORTED: usize = 1;

/// Correlation state for one [`RuleSet`].
pub struct Correlator {
    set: Arc<RuleSet>,
    states: Vec<RuleState>,
    clocks: [Clock; 2],
    options: Options,
    stats: Stats,
    scratch: Vec<Probe>,
    last_prune: Nanos,
}

/// A contributing event's part in an alert.
struct Firing<'a> {
    key: &'a [KeyPart],
    first: Nanos,
    last: Nanos,
    count: u64,
    events: Vec<EventId>,
    tenant: Arc<str>,
    level: SecurityLevel,
    /// For a sum: the total that crossed the line.
    sum: Option<f64>,
}

impl Correlator {
    pub fn new(set: Arc<RuleSet>, options: Options) -> Self {
        let states = set
            .rules
            .iter()
            .map(|rule| RuleState {
                fingerprint: fingerprint(rule),
                ..RuleState::default()
            })
            .collect();
        Correlator {
            set,
            states,
            clocks: [Clock { latest: i64::MIN }; 2],
            options,
            stats: Stats::default(),
            scratch: Vec::new(),
            last_prune: i64::MIN,
        }
    }

    pub fn rules(&self) -> &Arc<RuleSet> {
        &self.set
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Group keys held per rule id (for status and tests).
    pub fn keys(&self, rule_id: &str) -> usize {
        self.set
            .position(rule_id)
            .map_or(0, |at| self.states[at].groups.len())
    }

    /// `where` calls of one rule that failed (a limit reached, a type error), by rule id.
    pub fn where_errors(&self, rule_id: &str) -> u64 {
        self.set
            .position(rule_id)
            .map_or(0, |at| self.states[at].where_errors)
    }

    /// Swaps in a new rule set. A rule whose id and window (kind, count, window, group fields)
    /// are unchanged keeps its state; every other rule starts empty.
    pub fn replace(&mut self, set: Arc<RuleSet>) {
        let mut old: HashMap<String, RuleState> = self
            .set
            .rules
            .iter()
            .map(|rule| rule.id.clone())
            .zip(std::mem::take(&mut self.states))
            .collect();
        self.states = set
            .rules
            .iter()
            .map(|rule| {
                let fingerprint = fingerprint(rule);
                match old.remove(&rule.id) {
                    Some(state) if state.fingerprint == fingerprint => state,
                    _ => RuleState {
                        fingerprint,
                        ..RuleState::default()
                    },
                }
            })
            .collect();
        self.set = set;
    }

    /// Runs one event through the rules at processing time `now`; the alerts it raised,
    /// including alerts of rules that match alerts.
    pub fn process(&mut self, event: &Event, now: Timestamp) -> Vec<Alert> {
        let mut alerts = Vec::new();
        self.process_at_depth(event, now.as_nanos(), 0, &mut alerts);
        alerts
    }

    fn process_at_depth(&mut self, event: &Event, now: Nanos, depth: usize, out: &mut Vec<Alert>) {
        self.stats.events += 1;
        let is_alert = Alert::is_alert_event(event);
        let domain = if event.flags.contains(EventFlags::IMPORTED) {
            IMPORTED
        } else {
            LIVE
        };
        let mut time = event.timestamp.as_nanos();
        // An alert (depth > 0) keeps its last event's time, already placed on the clock.
        if depth == 0 {
            if domain == LIVE {
                time = time.min(now.saturating_add(self.options.tolerance));
            }
            let clock = &mut self.clocks[domain];
            if clock.latest != i64::MIN
                && time < clock.latest.saturating_sub(self.options.tolerance)
            {
                self.stats.late += 1;
                time = clock.latest;
            } else {
                clock.latest = clock.latest.max(time);
            }
        }

        let mut view = View::new(event);
        let mut candidates = std::mem::take(&mut self.scratch);
        self.set
            .index
            .candidates(&mut view, is_alert, &mut candidates);
        self.stats.candidates += candidates.len() as u64;
        let first_alert = out.len();
        let mut map_cache: Option<Map> = None;
        let mut at = 0;
        while at < candidates.len() {
            let rule_at = candidates[at].0;
            let end = candidates[at..]
                .iter()
                .position(|probe| probe.0 != rule_at)
                .map_or(candidates.len(), |offset| at + offset);
            let probes = &candidates[at..end];
            at = end;
            let context = Context {
                event,
                time,
                now,
                domain,
            };
            self.evaluate(
                rule_at as usize,
                probes,
                &context,
                &mut view,
                &mut map_cache,
                out,
            );
        }
        self.scratch = candidates;
        if depth < limits::MAX_ALERT_DEPTH {
            let raised: Vec<Event> = out[first_alert..].iter().map(Alert::to_event).collect();
            for alert in raised {
                self.process_at_depth(&alert, now, depth + 1, out);
            }
        }
    }

    /// Fires absence rules whose keys went silent, and drops window state that can no longer
    /// count. Call it often (the service does, every quarter second).
    pub fn tick(&mut self, now: Timestamp) -> Vec<Alert> {
        let now = now.as_nanos();
        let mut alerts = Vec::new();
        for rule_at in 0..self.set.rules.len() {
            let rule = self.set.rules[rule_at].clone();
            let Kind::Absence { within } = rule.kind else {
                continue;
            };
            let silent: Vec<Key> = self.states[rule_at]
                .groups
                .iter()
                .filter(|(_, group)| match group.window {
                    Window::Absence { seen_at, .. } => now.saturating_sub(seen_at) > within,
                    _ => false,
                })
                .map(|(key, _)| key.clone())
                .collect();
            for key in silent {
                let Some(group) = self.states[rule_at].groups.remove(&key) else {
                    continue;
                };
                let Window::Absence {
                    event_time, event, ..
                } = group.window
                else {
                    continue;
                };
                let firing = Firing {
                    key: &key,
                    first: event_time,
                    last: event_time,
                    count: 0,
                    events: vec![event],
                    tenant: group.tenant,
                    level: group.level,
                    sum: None,
                };
                self.fire(rule_at, firing, None, now, &mut alerts);
            }
        }
        if now.saturating_sub(self.last_prune) >= PRUNE_EVERY {
            self.last_prune = now;
            self.prune();
        }
        let raised: Vec<Event> = alerts.iter().map(Alert::to_event).collect();
        for alert in raised {
            self.process_at_depth(&alert, now, 1, &mut alerts);
        }
        alerts
    }

    /// Drops state whose window has passed in its time domain.
    fn prune(&mut self) {
        let clocks = self.clocks;
        let tolerance = self.options.tolerance;
        for (rule, state) in self.set.rules.iter().zip(self.states.iter_mut()) {
            let window = rule.kind.window();
            if matches!(rule.kind, Kind::Absence { .. } | Kind::Match) {
                continue;
            }
            state.groups.retain(|_, group| {
                let latest = clocks[group.domain].latest;
                group.updated >= latest.saturating_sub(tolerance).saturating_sub(window)
            });
            if let Some(suppress) = rule.suppress {
                let latest = clocks[LIVE].latest.max(clocks[IMPORTED].latest);
                state
                    .fired
                    .retain(|_, at| *at >= latest.saturating_sub(suppress));
            }
        }
    }

    fn evaluate(
        &mut self,
        rule_at: usize,
        probes: &[Probe],
        context: &Context<'_>,
        view: &mut View<'_>,
        map_cache: &mut Option<Map>,
        out: &mut Vec<Alert>,
    ) {
        let rule = self.set.rules[rule_at].clone();
        let event = context.event;
        if rule.except.iter().any(|exception| exception.holds(view)) {
            return;
        }
        let matched = |this: &mut Self,
                       view: &mut View<'_>,
                       conditions: &[Condition],
                       filter: &Option<Closure>,
                       map_cache: &mut Option<Map>| {
            conditions.iter().all(|condition| condition.holds(view))
                && this.run_filter(rule_at, filter, event, map_cache)
        };
        match &rule.kind {
            Kind::Sequence { steps, abort, .. } => {
                if !matched(self, view, &rule.select, &rule.filter, map_cache) {
                    return;
                }
                let key = key_of(&rule.by, view);
                let aborts = probes.iter().any(|probe| probe.1 == Part::Abort);
                if let (Some(abort), true) = (abort, aborts) {
                    if matched(self, view, &abort.select, &abort.filter, map_cache) {
                        self.states[rule_at].groups.remove(&key);
                        return;
                    }
                }
                for probe in probes.iter().rev() {
                    let Part::Step(step_at) = probe.1 else {
                        continue;
                    };
                    let step = &steps[usize::from(step_at)];
                    if !matched(self, view, &step.select, &step.filter, map_cache) {
                        continue;
                    }
                    if self.advance_sequence(
                        rule_at,
                        &rule,
                        key.clone(),
                        usize::from(step_at),
                        context,
                        out,
                    ) {
                        break;
                    }
                }
            }
            _ => {
                if !matched(self, view, &rule.select, &rule.filter, map_cache) {
                    return;
                }
                let key = key_of(&rule.by, view);
                self.count(rule_at, &rule, key, context, view, out);
            }
        }
    }

    fn run_filter(
        &mut self,
        rule_at: usize,
        filter: &Option<Closure>,
        event: &Event,
        map_cache: &mut Option<Map>,
    ) -> bool {
        let Some(filter) = filter else {
            return true;
        };
        let map = map_cache
            .get_or_insert_with(|| script::event_map(event))
            .clone();
        match filter.call::<bool>(&self.set.engine, map) {
            Ok(verdict) => verdict,
            Err(error) => {
                self.stats.where_errors += 1;
                let state = &mut self.states[rule_at];
                state.where_errors += 1;
                if state.where_errors.is_power_of_two() {
                    let rule = &self.set.rules[rule_at];
                    tracing::warn!(
                        rule = %rule.id,
                        file = %rule.file,
                        errors = state.where_errors,
                        %error,
                        "a rule's `where` failed; the event does not match it"
                    );
                }
                false
            }
        }
    }

    fn count(
        &mut self,
        rule_at: usize,
        rule: &Rule,
        key: Key,
        context: &Context<'_>,
        view: &mut View<'_>,
        out: &mut Vec<Alert>,
    ) {
        let event = context.event;
        let time = context.time;
        match &rule.kind {
            Kind::Match => {
                let firing = Firing {
                    key: &key,
                    first: time,
                    last: time,
                    count: 1,
                    events: vec![event.id],
                    tenant: event.tenant.clone(),
                    level: event.level,
                    sum: None,
                };
                self.fire(rule_at, firing, Some(event), time, out);
            }
            Kind::Threshold { count, within } => {
                let (count, within) = (*count, *within);
                let horizon = self.clocks[context.domain]
                    .latest
                    .saturating_sub(self.options.tolerance)
                    .saturating_sub(within);
                let Some(group) =
                    self.group(
                        rule_at,
                        &key,
                        context,
                        || Window::Threshold(VecDeque::new()),
                    )
                else {
                    return;
                };
                let Window::Threshold(times) = &mut group.window else {
                    return;
                };
                while times.front().is_some_and(|(at, _)| *at < horizon) {
                    times.pop_front();
                }
                let position = times.partition_point(|(at, _)| *at <= time);
                times.insert(position, (time, event.id));
                let lowest = (position + 1).saturating_sub(count);
                let window = (lowest..=position)
                    .filter(|start| start + count <= times.len())
                    .find(|start| times[start + count - 1].0 - times[*start].0 <= within);
                let Some(start) = window else {
                    return;
                };
                let contributing: Vec<(Nanos, EventId)> =
                    times.range(start..start + count).copied().collect();
                let firing = Firing {
                    key: &key,
                    first: contributing[0].0,
                    last: contributing[count - 1].0,
                    count: count as u64,
                    events: contributing.iter().map(|(_, id)| *id).collect(),
                    tenant: group.tenant.clone(),
                    level: group.level,
                    sum: None,
                };
                self.states[rule_at].groups.remove(&key);
                self.fire(rule_at, firing, Some(event), time, out);
            }
            Kind::Sum {
                field: name,
                total,
                within,
            } => {
                let (total, within) = (*total, *within);
                let Some(value) = view.number(name).filter(|value| value.is_finite()) else {
                    return;
                };
                let horizon = self.clocks[context.domain]
                    .latest
                    .saturating_sub(self.options.tolerance)
                    .saturating_sub(within);
                let Some(group) =
                    self.group(rule_at, &key, context, || Window::Sum(VecDeque::new()))
                else {
                    return;
                };
                let Window::Sum(entries) = &mut group.window else {
                    return;
                };
                while entries.front().is_some_and(|(at, _, _)| *at < horizon) {
                    entries.pop_front();
                }
                let position = entries.partition_point(|(at, _, _)| *at <= time);
                entries.insert(position, (time, event.id, value));
                let last = entries.back().map_or(time, |(at, _, _)| *at);
                let inside: Vec<(Nanos, EventId, f64)> = entries
                    .iter()
                    .filter(|(at, _, _)| *at >= last - within)
                    .copied()
                    .collect();
                let sum: f64 = inside.iter().map(|(_, _, value)| value).sum();
                if sum < total {
                    return;
                }
                let firing = Firing {
                    key: &key,
                    first: inside.first().map_or(time, |(at, _, _)| *at),
                    last,
                    count: inside.len() as u64,
                    events: inside.iter().map(|(_, id, _)| *id).collect(),
                    tenant: group.tenant.clone(),
                    level: group.level,
                    sum: Some(sum),
                };
                self.states[rule_at].groups.remove(&key);
                self.fire(rule_at, firing, Some(event), time, out);
            }
            Kind::Distinct {
                field: name,
                count,
                within,
            } => {
                let (count, within) = (*count, *within);
                let mut values = Vec::new();
                view.any_text(name, |text| {
                    values.push(text.to_owned());
                    false
                });
                if values.is_empty() {
                    return;
                }
                let Some(group) = self.group(rule_at, &key, context, || {
                    Window::Distinct(FastMap::default())
                }) else {
                    return;
                };
                let Window::Distinct(seen) = &mut group.window else {
                    return;
                };
                for value in values {
                    let entry = seen.entry(value).or_insert((time, event.id));
                    if entry.0 < time {
                        *entry = (time, event.id);
                    }
                }
                // Values leave the window only when they could make up the count: the map
                // never holds more than `count` values for long.
                if seen.len() < count {
                    return;
                }
                let latest = seen.values().map(|(at, _)| *at).max().unwrap_or(time);
                seen.retain(|_, (at, _)| *at >= latest - within);
                if seen.len() < count {
                    return;
                }
                let mut contributing: Vec<(Nanos, EventId)> = seen.values().copied().collect();
                contributing.sort_unstable_by_key(|(at, _)| *at);
                let firing = Firing {
                    key: &key,
                    first: contributing[0].0,
                    last: latest,
                    count: contributing.len() as u64,
                    events: contributing.iter().map(|(_, id)| *id).collect(),
                    tenant: group.tenant.clone(),
                    level: group.level,
                    sum: None,
                };
                self.states[rule_at].groups.remove(&key);
                self.fire(rule_at, firing, Some(event), time, out);
            }
            Kind::Absence { .. } => {
                if context.domain == IMPORTED {
                    return;
                }
                let now = context.now;
                let Some(group) = self.group(rule_at, &key, context, || Window::Absence {
                    seen_at: now,
                    event_time: time,
                    event: event.id,
                }) else {
                    return;
                };
                group.window = Window::Absence {
                    seen_at: now,
                    event_time: time,
                    event: event.id,
                };
            }
            Kind::Sequence { .. } => {}
        }
    }

    /// Moves a sequence on by `step`; whether the event was used.
    fn advance_sequence(
        &mut self,
        rule_at: usize,
        rule: &Rule,
        key: Key,
        step: usize,
        context: &Context<'_>,
        out: &mut Vec<Alert>,
    ) -> bool {
        let Kind::Sequence { within, steps, .. } = &rule.kind else {
            return false;
        };
        let (within, length) = (*within, steps.len());
        let time = context.time;
        let id = context.event.id;
        if step == 0 {
            let Some(group) = self.group(rule_at, &key, context, || Window::Sequence {
                next: 1,
                started: time,
                events: Vec::new(),
            }) else {
                return true;
            };
            group.window = Window::Sequence {
                next: 1,
                started: time,
                events: vec![id],
            };
            return true;
        }
        let state = &mut self.states[rule_at];
        let Some(group) = state.groups.get_mut(&key) else {
            return false;
        };
        let Window::Sequence {
            next,
            started,
            events,
        } = &mut group.window
        else {
            return false;
        };
        if *next != step {
            return false;
        }
        if time - *started > within || time < *started {
            state.groups.remove(&key);
            return false;
        }
        *next += 1;
        events.push(id);
        group.updated = time;
        group.tenant = context.event.tenant.clone();
        group.level = context.event.level;
        if *next < length {
            return true;
        }
        let firing = Firing {
            key: &key,
            first: *started,
            last: time,
            count: length as u64,
            events: std::mem::take(events),
            tenant: group.tenant.clone(),
            level: group.level,
            sum: None,
        };
        state.groups.remove(&key);
        self.fire(rule_at, firing, Some(context.event), time, out);
        true
    }

    /// The group for `key`, made with `make` when new (evicting when the rule is full).
    fn group(
        &mut self,
        rule_at: usize,
        key: &Key,
        context: &Context<'_>,
        make: impl FnOnce() -> Window,
    ) -> Option<&mut Group> {
        let max_keys = self.options.max_keys_per_rule.max(1);
        let state = &mut self.states[rule_at];
        if !state.groups.contains_key(key) && state.groups.len() >= max_keys {
            self.stats.evictions += evict(&mut state.groups, max_keys);
        }
        let group = state.groups.entry(key.clone()).or_insert_with(|| Group {
            domain: context.domain,
            updated: context.time,
            tenant: context.event.tenant.clone(),
            level: context.event.level,
            window: make(),
        });
        group.updated = group.updated.max(context.time);
        group.tenant = context.event.tenant.clone();
        group.level = context.event.level;
        Some(group)
    }

    fn fire(
        &mut self,
        rule_at: usize,
        firing: Firing<'_>,
        last_event: Option<&Event>,
        suppress_time: Nanos,
        out: &mut Vec<Alert>,
    ) {
        let rule = self.set.rules[rule_at].clone();
        let key_text = key_text(&rule.by, firing.key);
        if let Some(period) = rule.suppress {
            let fired = &mut self.states[rule_at].fired;
            if let Some(at) = fired.get(&key_text) {
                if suppress_time.saturating_sub(*at) < period {
                    self.stats.suppressed += 1;
                    return;
                }
            }
            if fired.len() >= limits::MAX_SUPPRESSED_KEYS {
                fired.clear();
            }
            fired.insert(key_text.clone(), suppress_time);
        }
        let mut events = firing.events;
        if events.len() > Alert::MAX_EVENT_IDS {
            events.drain(..events.len() - Alert::MAX_EVENT_IDS);
        }
        let mut alert = Alert {
            id: EventId::new_v7(),
            rule_id: rule.id.clone(),
            rule_version: rule.version.clone(),
            severity: rule.severity,
            title: rule.title.clone(),
            summary: String::new(),
            key: key_text,
            key_fields: rule
                .by
                .iter()
                .zip(firing.key.iter())
                .map(|(field, value)| (field.name.clone(), value.to_string()))
                .collect(),
            first_seen: Timestamp::from_nanos(firing.first),
            last_seen: Timestamp::from_nanos(firing.last),
            count: firing.count,
            events,
            attack: rule.attack.clone(),
            kill_chain: rule.kill_chain.clone(),
            tenant: firing.tenant,
            level: firing.level,
            created: Timestamp::now(),
        };
        alert.summary = self.summary(&rule, &alert, last_event, firing.sum);
        self.stats.alerts += 1;
        out.push(alert);
    }

    fn summary(
        &self,
        rule: &Rule,
        alert: &Alert,
        last_event: Option<&Event>,
        sum: Option<f64>,
    ) -> String {
        match &rule.summary {
            Summary::Template(template) => render(template, alert, last_event, sum),
            Summary::Closure(closure) => {
                let mut map = Map::new();
                map.insert("count".into(), (alert.count as i64).into());
                map.insert("key".into(), alert.key.clone().into());
                if let Some(sum) = sum {
                    map.insert("sum".into(), sum.into());
                }
                map.insert("title".into(), alert.title.clone().into());
                map.insert(
                    "fields".into(),
                    rhai::Dynamic::from_map(
                        alert
                            .key_fields
                            .iter()
                            .map(|(name, value)| (name.into(), value.clone().into()))
                            .collect(),
                    ),
                );
                if let Some(event) = last_event {
                    map.insert(
                        "event".into(),
                        rhai::Dynamic::from_map(script::event_map(event)),
                    );
                }
                closure
                    .call::<String>(&self.set.engine, map)
                    .unwrap_or_else(|error| {
                        format!("{} ({}; summary failed: {error})", alert.title, alert.key)
                    })
            }
        }
    }
}

const PRUNE_EVERY: Nanos = 5_000_000_000;

struct Context<'a> {
    event: &'a Event,
    /// Event time as the windows take it (late events at the latest time seen).
    time: Nanos,
    /// Processing time.
    now: Nanos,
    domain: usize,
}

/// The values of the group-by fields; a missing field groups as empty (an event without a
/// source address still counts, with the others that lack one).
fn key_of(by: &[FieldRef], view: &mut View<'_>) -> Key {
    by.iter().map(|field| view.key_part(field)).collect()
}

fn key_text(by: &[FieldRef], key: &[KeyPart]) -> String {
    by.iter()
        .zip(key)
        .map(|(field, value)| format!("{}={value}", field.name))
        .collect::<Vec<_>>()
        .join(",")
}

/// Evicts the least recently updated eighth of `groups` (at least one); how many went.
fn evict(groups: &mut FastMap<Key, Group>, max_keys: usize) -> u64 {
    let mut times: Vec<Nanos> = groups.values().map(|group| group.updated).collect();
    let goners = (max_keys / 8).max(1).min(times.len());
    let (_, cut, _) = times.select_nth_unstable(goners - 1);
    let cut = *cut;
    let before = groups.len();
    let mut left = goners;
    groups.retain(|_, group| {
        if left > 0 && group.updated <= cut {
            left -= 1;
            false
        } else {
            true
        }
    });
    (before - groups.len()) as u64
}

/// What decides whether state can carry over a reload.
fn fingerprint(rule: &Rule) -> String {
    let kind = match &rule.kind {
        Kind::Match => "match".to_owned(),
        Kind::Threshold { count, within } => format!("threshold {count} {within}"),
        Kind::Sum {
            field,
            total,
            within,
        } => format!("sum {field} {total} {within}"),
        Kind::Distinct {
            field,
            count,
            within,
        } => format!("distinct {field} {count} {within}"),
        Kind::Sequence { within, steps, .. } => format!("sequence {} {within}", steps.len()),
        Kind::Absence { within } => format!("absence {within}"),
    };
    let by: Vec<&str> = rule.by.iter().map(|field| field.name.as_str()).collect();
    format!("{kind} by {by:?}")
}

/// Fills `{count}`, `{sum}` (of a sum threshold), `{key}`, `{title}`, `{rule.id}`, `{first_seen}`, `{last_seen}`, the key
/// fields, and any field of the last contributing event; an unknown name becomes `-`.
fn render(template: &str, alert: &Alert, event: Option<&Event>, sum: Option<f64>) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = after[..close].trim();
        let value = match name {
            "count" => Some(alert.count.to_string()),
            "sum" => sum.map(|sum| sum.to_string()),
            "key" => Some(alert.key.clone()),
            "title" => Some(alert.title.clone()),
            "rule.id" => Some(alert.rule_id.clone()),
            "first_seen" => Some(alert.first_seen.to_string()),
            "last_seen" => Some(alert.last_seen.to_string()),
            _ => alert.key_fields.get(name).cloned().or_else(|| {
                event.and_then(|event| access::text(event, name).map(|text| text.into_owned()))
            }),
        };
        out.push_str(value.as_deref().unwrap_or("-"));
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

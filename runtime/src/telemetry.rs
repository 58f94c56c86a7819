//! Telemetry: an OpenTelemetry trace of every tool call, one span per
//! pipeline stage, and metrics in Prometheus form (feature `telemetry`;
//! both off until configured).
//!
//! A call's trace joins the client's when the request's `_meta` carries a
//! W3C `traceparent` (MCP's SEP-414), and honours its sampled flag; without
//! one the call starts a trace of its own. Spans go to an OTLP/HTTP
//! collector as JSON, in batches, from a task of their own: a collector that
//! is slow or down costs a call nothing, and spans it cannot take are
//! counted as dropped. Neither spans nor metrics name the subject, the
//! arguments or the output.

use std::time::{Instant, SystemTime};

/// A stage of the pipeline, as its span is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The credential is verified.
    Authenticate,
    /// The call is counted against its rates.
    Rate,
    /// Scope and role are checked.
    Authorize,
    /// Arguments are validated and the input guards run (consent too).
    InspectInput,
    /// The body runs (after its write-ahead attempt, when audit is durable).
    Execute,
    /// Output redaction and spotlighting.
    InspectOutput,
    /// The outcome is audited.
    Audit,
}

impl Stage {
    /// Every stage, in the order a call crosses them.
    pub const ALL: [Stage; 7] = [
        Stage::Authenticate,
        Stage::Rate,
        Stage::Authorize,
        Stage::InspectInput,
        Stage::Execute,
        Stage::InspectOutput,
        Stage::Audit,
    ];

    /// The span's name.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Authenticate => "authenticate",
            Stage::Rate => "rate",
            Stage::Authorize => "authorize",
            Stage::InspectInput => "inspect_input",
            Stage::Execute => "execute",
            Stage::InspectOutput => "inspect_output",
            Stage::Audit => "audit",
        }
    }
}

/// When one call started and each stage it crossed ended.
#[derive(Debug)]
#[cfg_attr(not(feature = "telemetry"), allow(dead_code))]
pub struct Marks {
    started: Instant,
    wall: SystemTime,
    ends: [Option<Instant>; Stage::ALL.len()],
    audit_from: Option<Instant>,
    parent: Option<TraceParent>,
}

impl Marks {
    /// A call that started at `started`, under `traceparent` if the client
    /// sent one.
    pub fn new(started: Instant, traceparent: Option<&str>) -> Self {
        Self {
            started,
            wall: SystemTime::now()
                .checked_sub(started.elapsed())
                .unwrap_or(SystemTime::UNIX_EPOCH),
            ends: [None; Stage::ALL.len()],
            audit_from: None,
            parent: traceparent.and_then(TraceParent::parse),
        }
    }

    /// Marks the end of `stage`, now.
    pub fn end(&mut self, stage: Stage) {
        self.ends[stage as usize] = Some(Instant::now());
    }

    /// Marks the start of the audit, now: the end of the stage that
    /// refused, if one did.
    pub fn audit(&mut self) {
        self.audit_from = Some(Instant::now());
    }
}

/// A W3C trace context's `traceparent`: version `00`, a trace id, the
/// caller's span id and the flags. Anything else is ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    /// The trace the call joins.
    pub trace_id: [u8; 16],
    /// The caller's span, the parent of the call's.
    pub span_id: [u8; 8],
    /// Whether the caller records this trace.
    pub sampled: bool,
}

impl TraceParent {
    /// Parses `00-<32 hex>-<16 hex>-<2 hex>` (lowercase, ids not all zero).
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('-');
        let (version, trace, span, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if version != "00" || parts.next().is_some() {
            return None;
        }
        let trace_id: [u8; 16] = unhex(trace)?;
        let span_id: [u8; 8] = unhex(span)?;
        let [flags]: [u8; 1] = unhex(flags)?;
        if trace_id == [0; 16] || span_id == [0; 8] {
            return None;
        }
        Some(Self {
            trace_id,
            span_id,
            sampled: flags & 1 == 1,
        })
    }
}

fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0; N];
    for (byte, pair) in out.iter_mut().zip(text.as_bytes().chunks(2)) {
        *byte = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

#[cfg(feature = "telemetry")]
pub(crate) use on::Observed;
#[cfg(test)]
mod tests {
    use super::TraceParent;

    #[test]
    fn a_traceparent_is_version_00_lowercase_hex_and_ids_not_all_zero() {
        let parsed =
            TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
        assert_eq!(parsed.trace_id[0], 0x4b);
        assert_eq!(parsed.span_id[7], 0xb7);
        assert!(parsed.sampled);
        let unsampled =
            TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02").unwrap();
        assert!(!unsampled.sampled);
        for bad in [
            "",
            "00",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e47\u{e9}6-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad}");
        }
    }
}

#[cfg(feature = "telemetry")]
pub use on::{DURATION_BUCKETS, EXPORT_EVERY, FLUSH_TIMEOUT, Telemetry, TelemetryError};

#[cfg(feature = "telemetry")]
mod on {
    use std::collections::BTreeMap;
    use std::fmt::Write as _;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant, UNIX_EPOCH};

    use tokio::sync::{mpsc, oneshot};

    use super::{Marks, Stage};

    /// The upper bounds, in seconds, of the call-duration histogram's buckets.
    pub const DURATION_BUCKETS: [f64; 14] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ];

    /// How often finished spans are sent, at most.
    pub const EXPORT_EVERY: Duration = Duration::from_secs(1);

    /// Spans sent in one request, at most.
    const BATCH: usize = 512;

    /// Calls whose spans wait for the exporter, at most; beyond, they are
    /// dropped and counted.
    const QUEUE: usize = 4096;

    /// Telemetry could not be configured.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct TelemetryError(String);

    impl std::fmt::Display for TelemetryError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0)
        }
    }

    impl std::error::Error for TelemetryError {}

    /// One tool's counts.
    #[derive(Debug, Default)]
    struct ToolCounts {
        outcomes: BTreeMap<&'static str, u64>,
        gates: BTreeMap<&'static str, u64>,
        buckets: [u64; DURATION_BUCKETS.len() + 1],
        sum: f64,
        count: u64,
    }

    /// What one call leaves: its tool, outcome, gate and duration.
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct Observed {
        pub tool: &'static str,
        pub outcome: &'static str,
        pub gate: Option<&'static str>,
        /// Whether its audit record could not be written.
        pub audit_failed: bool,
        pub count: u64,
        pub duration: Duration,
    }

    /// A call to trace, as the call leaves it: the spans are built by the
    /// exporter, off the call's path.
    #[derive(Debug)]
    struct Traced {
        call: Observed,
        marks: Marks,
    }

    #[derive(Debug)]
    enum Command {
        Call(Box<Traced>),
        Flush(oneshot::Sender<()>),
    }

    /// How long a flush waits for the collector, at most: a server on its way
    /// out does not wait longer on its telemetry.
    pub const FLUSH_TIMEOUT: Duration = Duration::from_secs(2);

    #[derive(Debug)]
    struct Inner {
        service: String,
        tools: Mutex<BTreeMap<&'static str, ToolCounts>>,
        exporter: Option<mpsc::Sender<Command>>,
        dropped: AtomicU64,
        exported: AtomicU64,
    }

    /// The metrics of a server's calls, and where its spans go.
    #[derive(Debug, Clone)]
    pub struct Telemetry {
        inner: Arc<Inner>,
    }

    impl Telemetry {
        /// Metrics for `service`, and no traces.
        pub fn new(service: &str) -> Self {
            Self::build(service, None)
        }

        /// Metrics, and traces sent to the OTLP/HTTP collector at
        /// `traces_url` (`http://host:port/v1/traces`; a collector beside
        /// the server, on plain HTTP). Starts the exporter on the current
        /// tokio runtime.
        pub fn with_otlp(service: &str, traces_url: &str) -> Result<Self, TelemetryError> {
            let target = Target::parse(traces_url)?;
            let runtime = tokio::runtime::Handle::try_current()
                .map_err(|_| TelemetryError("the exporter needs a tokio runtime".into()))?;
            let (sender, receiver) = mpsc::channel(QUEUE);
            let telemetry = Self::build(service, Some(sender));
            runtime.spawn(export(
                receiver,
                target,
                service.to_owned(),
                Arc::downgrade(&telemetry.inner),
            ));
            Ok(telemetry)
        }

        fn build(service: &str, exporter: Option<mpsc::Sender<Command>>) -> Self {
            Self {
                inner: Arc::new(Inner {
                    service: service.to_owned(),
                    tools: Mutex::default(),
                    exporter,
                    dropped: AtomicU64::new(0),
                    exported: AtomicU64::new(0),
                }),
            }
        }

        /// Whether spans are exported.
        pub fn traces(&self) -> bool {
            self.inner.exporter.is_some()
        }

        /// Spans the collector took, and spans dropped (queue full or
        /// collector failing).
        pub fn span_counts(&self) -> (u64, u64) {
            (
                self.inner.exported.load(Ordering::Relaxed),
                self.inner.dropped.load(Ordering::Relaxed),
            )
        }

        /// Sends the spans finished so far, and waits until the collector
        /// answered, could not be reached, or [`FLUSH_TIMEOUT`] passed.
        pub async fn flush(&self) {
            let Some(exporter) = &self.inner.exporter else {
                return;
            };
            let (ack, done) = oneshot::channel();
            let flushed = async {
                if exporter.send(Command::Flush(ack)).await.is_ok() {
                    let _ = done.await;
                }
            };
            if tokio::time::timeout(FLUSH_TIMEOUT, flushed).await.is_err() {
                tracing::warn!("spans not sent: the OTLP collector did not take them in time");
            }
        }

        /// Counts one call (or `count` alike refusals), and queues it for
        /// tracing when it has marks. A call the client does not sample is
        /// traced only when it was refused: what a caller sends does not
        /// hide its refusals.
        pub(crate) fn observe(&self, call: &Observed, marks: Option<Marks>) {
            {
                let mut tools = self
                    .inner
                    .tools
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let counts = tools.entry(call.tool).or_default();
                *counts.outcomes.entry(call.outcome).or_default() += call.count;
                if let Some(gate) = call.gate {
                    *counts.gates.entry(gate).or_default() += call.count;
                }
                let secs = call.duration.as_secs_f64();
                let bucket = DURATION_BUCKETS
                    .iter()
                    .position(|&le| secs <= le)
                    .unwrap_or(DURATION_BUCKETS.len());
                counts.buckets[bucket] += call.count;
                counts.sum += secs * call.count as f64;
                counts.count += call.count;
            }
            let (Some(exporter), Some(marks)) = (&self.inner.exporter, marks) else {
                return;
            };
            let refused = call.outcome != "allowed" || call.audit_failed;
            if marks.parent.is_some_and(|p| !p.sampled) && !refused {
                return;
            }
            let traced = Box::new(Traced { call: *call, marks });
            if let Err(refused_send) = exporter.try_send(Command::Call(traced)) {
                let traced_marks = match refused_send.into_inner() {
                    Command::Call(traced) => traced.marks,
                    Command::Flush(_) => return,
                };
                self.inner
                    .dropped
                    .fetch_add(span_count(&traced_marks, refused), Ordering::Relaxed);
            }
        }

        /// The metrics in Prometheus' text format (0.0.4).
        pub fn render_prometheus(&self) -> String {
            let service = escape(&self.inner.service);
            let tools = self
                .inner
                .tools
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut out = String::new();
            out.push_str(
                "# HELP secure_tool_calls_total Tool calls, by tool and outcome.\n\
                 # TYPE secure_tool_calls_total counter\n",
            );
            for (tool, counts) in tools.iter() {
                for (outcome, n) in &counts.outcomes {
                    let _ = writeln!(
                        out,
                        "secure_tool_calls_total{{server=\"{service}\",tool=\"{}\",outcome=\"{outcome}\"}} {n}",
                        escape(tool)
                    );
                }
            }
            out.push_str(
                "# HELP secure_tool_refusals_total Refused calls, by tool and the gate that refused.\n\
                 # TYPE secure_tool_refusals_total counter\n",
            );
            for (tool, counts) in tools.iter() {
                for (gate, n) in &counts.gates {
                    let _ = writeln!(
                        out,
                        "secure_tool_refusals_total{{server=\"{service}\",tool=\"{}\",gate=\"{gate}\"}} {n}",
                        escape(tool)
                    );
                }
            }
            out.push_str(
                "# HELP secure_tool_call_duration_seconds Time from a call's arrival to its audited result.\n\
                 # TYPE secure_tool_call_duration_seconds histogram\n",
            );
            for (tool, counts) in tools.iter() {
                let labels = format!("server=\"{service}\",tool=\"{}\"", escape(tool));
                let mut cumulative = 0;
                for (i, n) in counts.buckets.iter().enumerate() {
                    cumulative += n;
                    let le = DURATION_BUCKETS
                        .get(i)
                        .map_or_else(|| "+Inf".to_owned(), f64::to_string);
                    let _ = writeln!(
                        out,
                        "secure_tool_call_duration_seconds_bucket{{{labels},le=\"{le}\"}} {cumulative}"
                    );
                }
                let _ = writeln!(
                    out,
                    "secure_tool_call_duration_seconds_sum{{{labels}}} {}\n\
                     secure_tool_call_duration_seconds_count{{{labels}}} {}",
                    counts.sum, counts.count
                );
            }
            let _ = write!(
                out,
                "# HELP secure_tool_spans_dropped_total Spans not exported: queue full or collector failing.\n\
                 # TYPE secure_tool_spans_dropped_total counter\n\
                 secure_tool_spans_dropped_total{{server=\"{service}\"}} {}\n",
                self.inner.dropped.load(Ordering::Relaxed)
            );
            out
        }
    }

    /// The spans of a call that ended: its own, one per stage it reached,
    /// and its audit.
    fn span_count(marks: &Marks, refused: bool) -> u64 {
        let reached = marks.ends[..Stage::Audit as usize].iter().flatten().count();
        2 + reached as u64 + u64::from(refused)
    }

    /// Span ids: distinct, from a keyed hash of a counter.
    #[derive(Debug, Default)]
    struct Ids {
        keys: std::hash::RandomState,
        next: u64,
    }

    impl Ids {
        fn next(&mut self) -> u64 {
            let mut hasher = self.keys.build_hasher();
            hasher.write_u64(self.next);
            self.next += 1;
            hasher.finish()
        }
    }

    /// One span, written as OTLP JSON.
    struct Span<'a> {
        trace: &'a str,
        id: u64,
        parent: &'a str,
        name: &'a str,
        /// 1: internal; 2: server.
        kind: u8,
        start: u128,
        end: u128,
        attributes: &'a [(&'a str, &'a str)],
        /// The message of an error status.
        error: Option<&'a str>,
    }

    impl Span<'_> {
        fn write(&self, out: &mut String) {
            let _ = write!(
                out,
                "{{\"traceId\":\"{}\",\"spanId\":\"{:016x}\",\"parentSpanId\":\"{}\",\"name\":",
                self.trace, self.id, self.parent
            );
            string(out, self.name);
            let _ = write!(
                out,
                ",\"kind\":{},\"startTimeUnixNano\":\"{}\",\"endTimeUnixNano\":\"{}\",\"attributes\":[",
                self.kind, self.start, self.end
            );
            for (i, (key, value)) in self.attributes.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"key\":");
                string(out, key);
                out.push_str(",\"value\":{\"stringValue\":");
                string(out, value);
                out.push_str("}}");
            }
            out.push_str("],\"status\":");
            match self.error {
                Some(message) => {
                    out.push_str("{\"code\":2,\"message\":");
                    string(out, message);
                    out.push_str("}}");
                }
                None => out.push_str("{}}"),
            }
        }
    }

    /// `text` as a JSON string.
    fn string(out: &mut String, text: &str) {
        out.push('"');
        for c in text.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if u32::from(c) < 0x20 => {
                    let _ = write!(out, "\\u{:04x}", u32::from(c));
                }
                c => out.push(c),
            }
        }
        out.push('"');
    }

    /// Writes the call's span and one per stage it reached as OTLP JSON,
    /// each followed by a comma; returns how many.
    fn spans(out: &mut String, ids: &mut Ids, Traced { call, marks }: &Traced) -> usize {
        let trace = hex(&match marks.parent {
            Some(parent) => parent.trace_id,
            None => {
                let mut id = [0; 16];
                id[..8].copy_from_slice(&ids.next().to_be_bytes());
                id[8..].copy_from_slice(&ids.next().to_be_bytes());
                id
            }
        });
        let root_id = ids.next();
        let root = format!("{root_id:016x}");
        let at = |instant: Instant| {
            let since = instant.saturating_duration_since(marks.started);
            marks
                .wall
                .checked_add(since)
                .and_then(|wall| wall.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos())
        };
        let end = marks
            .started
            .checked_add(call.duration)
            .unwrap_or(marks.started);
        let failed = call.outcome != "allowed";
        // The gate, never the reason: it may quote the arguments.
        let message = match call.gate {
            Some(gate) => format!("refused at the {gate} gate"),
            None => call.outcome.to_owned(),
        };
        let name = format!("tools/call {}", call.tool);
        let mut attributes = vec![
            ("mcp.method.name", "tools/call"),
            ("gen_ai.tool.name", call.tool),
            ("secure_tool.outcome", call.outcome),
        ];
        attributes.extend(call.gate.map(|gate| ("secure_tool.gate", gate)));
        let parent = marks.parent.map(|p| hex(&p.span_id)).unwrap_or_default();
        let mut written = 0;
        let mut push = |out: &mut String, span: Span<'_>| {
            span.write(out);
            out.push(',');
            written += 1;
        };
        push(
            out,
            Span {
                trace: &trace,
                id: root_id,
                parent: &parent,
                name: &name,
                kind: 2,
                start: at(marks.started),
                end: at(end),
                attributes: &attributes,
                error: (failed || call.audit_failed).then_some(message.as_str()),
            },
        );
        let mut stage_span =
            |out: &mut String, stage: Stage, from: Instant, until: Instant, error: bool| {
                let mut attributes = vec![("secure_tool.stage", stage.name())];
                if error && let Some(gate) = call.gate {
                    attributes.push(("secure_tool.gate", gate));
                }
                push(
                    out,
                    Span {
                        trace: &trace,
                        id: ids.next(),
                        parent: &root,
                        name: stage.name(),
                        kind: 1,
                        start: at(from),
                        end: at(until),
                        attributes: &attributes,
                        error: error.then_some(message.as_str()),
                    },
                );
            };
        // Each stage from the end of the one before; the first stage
        // without an end is where the call stopped. The audit follows.
        let audit_from = marks.audit_from.unwrap_or(end);
        let mut from = marks.started;
        for stage in &Stage::ALL[..Stage::Audit as usize] {
            match marks.ends[*stage as usize] {
                Some(until) => {
                    stage_span(out, *stage, from, until, false);
                    from = until;
                }
                None if failed && !call.audit_failed => {
                    stage_span(out, *stage, from, audit_from, true);
                    from = audit_from;
                    break;
                }
                None => {}
            }
        }
        stage_span(out, Stage::Audit, from, end, call.audit_failed);
        written
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().fold(String::new(), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
    }

    /// A label value: backslash, double quote and line feed escaped.
    fn escape(value: &str) -> String {
        value
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    }

    /// Where spans are posted: `http://authority/path`.
    #[derive(Debug, Clone)]
    struct Target {
        authority: String,
        path: String,
    }

    impl Target {
        fn parse(url: &str) -> Result<Self, TelemetryError> {
            let rest = url.strip_prefix("http://").ok_or_else(|| {
                TelemetryError(format!(
                    "the OTLP traces URL must be http:// (a collector beside the server), not {url:?}"
                ))
            })?;
            let (authority, path) = match rest.find('/') {
                Some(i) if &rest[i..] != "/" => (&rest[..i], &rest[i..]),
                Some(i) => (&rest[..i], "/v1/traces"),
                None => (rest, "/v1/traces"),
            };
            let port = authority
                .rsplit_once(':')
                .and_then(|(host, port)| (!host.is_empty()).then_some(port))
                .and_then(|port| port.parse::<u16>().ok());
            if port.is_none_or(|port| port == 0)
                || authority.contains(['@', '?', '#'])
                || path.contains(['?', '#'])
            {
                return Err(TelemetryError(format!("not an OTLP traces URL: {url:?}")));
            }
            Ok(Self {
                authority: authority.to_owned(),
                path: path.to_owned(),
            })
        }
    }

    /// The exporter: batches spans and posts them, every [`EXPORT_EVERY`] or
    /// [`BATCH`] spans, and on a flush; ends with its telemetry.
    async fn export(
        mut commands: mpsc::Receiver<Command>,
        target: Target,
        service: String,
        telemetry: std::sync::Weak<Inner>,
    ) {
        // The spans written so far, each followed by a comma, and how many.
        let mut batch = Batch::default();
        let mut ids = Ids::default();
        let mut tick = tokio::time::interval(EXPORT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let ack = tokio::select! {
                command = commands.recv() => match command {
                    Some(Command::Call(traced)) => {
                        batch.count += spans(&mut batch.json, &mut ids, &traced);
                        if batch.count < BATCH {
                            continue;
                        }
                        None
                    }
                    Some(Command::Flush(ack)) => Some(ack),
                    None => {
                        post(&target, &service, std::mem::take(&mut batch), &telemetry).await;
                        return;
                    }
                },
                _ = tick.tick() => None,
            };
            if batch.count > 0 {
                post(&target, &service, std::mem::take(&mut batch), &telemetry).await;
            }
            if let Some(ack) = ack {
                let _ = ack.send(());
            }
        }
    }

    /// Aborts a task when dropped.
    struct AbortOnDrop(tokio::task::JoinHandle<Result<(), hyper::Error>>);

    impl Drop for AbortOnDrop {
        fn drop(&mut self) {
            self.0.abort();
        }
    }

    /// Spans written as JSON, each followed by a comma, and their number.
    #[derive(Debug, Default)]
    struct Batch {
        json: String,
        count: usize,
    }

    /// Posts one batch as `ExportTraceServiceRequest` JSON.
    async fn post(
        target: &Target,
        service: &str,
        batch: Batch,
        telemetry: &std::sync::Weak<Inner>,
    ) {
        if batch.count == 0 {
            return;
        }
        let n = batch.count as u64;
        let mut body = String::with_capacity(batch.json.len() + 256);
        body.push_str("{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":");
        string(&mut body, service);
        let _ = write!(
            body,
            "}}}}]}},\"scopeSpans\":[{{\"scope\":{{\"name\":\"secure-tool\",\"version\":\"{}\"}},\"spans\":[",
            env!("CARGO_PKG_VERSION")
        );
        body.push_str(batch.json.trim_end_matches(','));
        body.push_str("]}]}]}");
        let sent = tokio::time::timeout(Duration::from_secs(5), send(target, body)).await;
        let Some(inner) = telemetry.upgrade() else {
            return;
        };
        match sent {
            Ok(Ok(())) => {
                inner.exported.fetch_add(n, Ordering::Relaxed);
            }
            Ok(Err(error)) => {
                tracing::warn!(%error, spans = n, "the OTLP collector did not take spans");
                inner.dropped.fetch_add(n, Ordering::Relaxed);
            }
            Err(_) => {
                tracing::warn!(spans = n, "the OTLP collector did not answer in time");
                inner.dropped.fetch_add(n, Ordering::Relaxed);
            }
        }
    }

    async fn send(target: &Target, body: String) -> Result<(), String> {
        let stream = tokio::net::TcpStream::connect(&target.authority)
            .await
            .map_err(|e| format!("cannot connect to {}: {e}", target.authority))?;
        let io = hyper_util::rt::TokioIo::new(stream);
        let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(|e| format!("HTTP handshake failed: {e}"))?;
        // The connection's task ends with this exchange, however it ends.
        let _driver = AbortOnDrop(tokio::spawn(connection));
        let request = hyper::Request::post(target.path.as_str())
            .header(hyper::header::HOST, target.authority.as_str())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(http_body_util::Full::new(hyper::body::Bytes::from(body)))
            .map_err(|e| format!("bad request: {e}"))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("HTTP request failed: {e}"))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("status {status}"))
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn targets_are_plain_http_urls() {
            let t = Target::parse("http://127.0.0.1:4318/v1/traces").unwrap();
            assert_eq!(
                (t.authority.as_str(), t.path.as_str()),
                ("127.0.0.1:4318", "/v1/traces")
            );
            let t = Target::parse("http://collector:4318").unwrap();
            assert_eq!(t.path, "/v1/traces");
            let t = Target::parse("http://[::1]:4318/").unwrap();
            assert_eq!(
                (t.authority.as_str(), t.path.as_str()),
                ("[::1]:4318", "/v1/traces")
            );
            for bad in [
                "https://c:4318/v1/traces",
                "c:4318",
                "http://",
                "http://u@c:4318/",
                "http://c:4318/?x",
                "http://collector/v1/traces",
                "http://c:0/",
                "http://:4318/",
            ] {
                assert!(Target::parse(bad).is_err(), "{bad}");
            }
        }
    }
}

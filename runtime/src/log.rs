//! Logging to stderr, one line per event.
//!
//! stdout carries JSON-RPC over stdio, so every log line goes to stderr. Events
//! are `tracing` events; [`init`] installs a `tracing-subscriber` registry whose
//! [`layer`] prints them as `[WARNING] target: message`. Offending values reach a line only through
//! [`escape_bounded`] / [`render_value`], so no raw control byte is ever written and
//! a 100 kB argument costs at most [`VALUE_LIMIT`] characters of log.

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer as _;

/// The most characters of an offending value a log line or message shows,
/// counted after escaping, so control characters cannot inflate a line.
pub const VALUE_LIMIT: usize = 64;

/// How much of an offending string a refusal redacts before cutting it to
/// [`VALUE_LIMIT`] characters: a secret that starts in the part shown is
/// recognised whole if it ends within this many bytes. The rest of a longer
/// string is not searched, so refusing a megabyte costs what refusing 16 KiB
/// does.
pub const REDACTED_SPAN: usize = 16 * 1024;

/// The `tracing` target of every line the framework emits.
pub const TARGET: &str = "secure_tool";

/// Quotes `text`, escaping control, bidirectional and line-separator characters,
/// and cuts it after [`VALUE_LIMIT`] characters.
///
/// ```
/// use secure_tool::log::escape_bounded;
///
/// assert_eq!(escape_bounded("hi\u{1b}[31m"), r#""hi\u{1b}[31m""#);
/// assert!(escape_bounded(&"x".repeat(100_000)).ends_with("…(100000 bytes)"));
/// ```
pub fn escape_bounded(text: &str) -> String {
    escape_within(text, VALUE_LIMIT)
}

/// [`escape_bounded`] with another bound, for text the framework itself wrote.
pub(crate) fn escape_within(text: &str, limit: usize) -> String {
    escape_part(text, limit, text.len(), false)
}

/// [`escape_within`] for `text`, a form of a text of `whole` bytes (its
/// first part, redacted), whose length a note gives: when `text` is cut, or
/// always if it is only a `partial` form.
pub(crate) fn escape_part(text: &str, limit: usize, whole: usize, partial: bool) -> String {
    let mut out = String::with_capacity(text.len().min(limit) + 2);
    write_escaped(&mut out, text, limit, whole, partial);
    out
}

/// `text`, a rendering already escaped, cut after `limit` bytes with `…`.
pub(crate) fn cut(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    let mut out = text[..text.floor_char_boundary(limit)].to_owned();
    out.push('…');
    out
}

/// [`escape_part`], written into `out`.
fn write_escaped(out: &mut String, text: &str, limit: usize, whole: usize, partial: bool) {
    let start = out.len();
    if unescaped(text, limit) {
        out.push('"');
        out.push_str(text);
        out.push('"');
    } else {
        out.push('"');
        for c in text.chars() {
            // `out` holds the opening quote, so it counts one more than is shown.
            if out.len() - start > limit {
                out.push('"');
                let _ = write!(out, "…({whole} bytes)");
                return;
            }
            push_escaped(out, c);
        }
        out.push('"');
    }
    if partial {
        let _ = write!(out, "…({whole} bytes)");
    }
}

/// Whether [`escape_within`] writes `text` as it is, between quotes: it is
/// within the limit, and printable ASCII other than quote and backslash.
fn unescaped(text: &str, limit: usize) -> bool {
    text.len() < limit
        && text
            .bytes()
            .all(|b| matches!(b, b' '..=b'~') && b != b'"' && b != b'\\')
}

/// A string as [`escape_within`] writes it, displayed without a copy.
pub(crate) struct Escaped<'a>(pub(crate) &'a str, pub(crate) usize);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self(text, limit) = *self;
        if unescaped(text, limit) {
            return write!(f, "\"{text}\"");
        }
        f.write_str(&escape_within(text, limit))
    }
}

/// `text` as one `key=value` token of a log line: as it is when it is plain
/// (a path such as `edits[2].oldText`, a number) or one escaped string, else
/// quoted and escaped whole, so that no caller-chosen space, `=` or quote can
/// start a key of its own.
pub fn token(text: &str) -> std::borrow::Cow<'_, str> {
    let plain =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '[' | ']' | '+');
    if !text.is_empty() && text.chars().all(plain) {
        return text.into();
    }
    if let Some(rest) = text.strip_prefix('"') {
        // One string as `escape_within` writes it, maybe with its length note.
        let mut escaped = false;
        for (i, c) in rest.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    let tail = &rest[i + 1..];
                    let note = tail
                        .strip_prefix("…(")
                        .and_then(|t| t.strip_suffix(" bytes)"))
                        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
                    if tail.is_empty() || note {
                        return text.into();
                    }
                    break;
                }
                _ => {}
            }
        }
    }
    escape_within(text, 2 * VALUE_LIMIT).into()
}

/// Renders a JSON value for a log line or message: compact, escaped, bounded.
pub fn render_value(value: &serde_json::Value) -> String {
    render_value_within(value, VALUE_LIMIT)
}

/// [`render_value`] with another bound, for text a person must read whole,
/// such as a consent prompt.
pub fn render_value_within(value: &serde_json::Value, limit: usize) -> String {
    if let serde_json::Value::String(text) = value {
        return escape_within(text, limit);
    }
    let mut sink = Bounded(Vec::with_capacity(limit.min(4096)), limit);
    let complete = serde_json::to_writer(&mut sink, value).is_ok();
    let raw = String::from_utf8_lossy(&sink.0);
    let mut out = String::with_capacity(raw.len() + 8);
    // JSON already escaped quotes, backslashes and C0; C1 and bidi remain.
    for c in raw.chars() {
        if needs_escape(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    if !complete {
        out.push('…');
    }
    out
}

/// Whether a character must never reach a log or a terminal verbatim.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || secure_tool_grammar::is_bidi_control(c)
        || secure_tool_grammar::is_invisible(c)
        || matches!(c, '\u{2028}' | '\u{2029}')
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        c if needs_escape(c) => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

/// A writer that accepts its bound in bytes and then fails, which stops
/// serialization early instead of rendering a huge value only to cut it.
struct Bounded(Vec<u8>, usize);

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = self.1.saturating_sub(self.0.len());
        if room == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        let n = room.min(buf.len());
        self.0.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The level's name as printed: `WARNING` rather than `WARN`.
pub fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARNING",
        Level::INFO => "INFO",
        Level::DEBUG => "DEBUG",
        Level::TRACE => "TRACE",
    }
}

/// Installs the stderr logger as the process-wide `tracing` subscriber: a
/// `tracing-subscriber` registry with [`layer`], filtered by [`filter`].
///
/// The level comes from `SECURE_TOOL_LOG` (`error`, `warn`, `info`, `debug`,
/// `trace`) and applies to every target. When unset, the framework's own events
/// print from `info` and other crates' (the MCP transport's) from `warn`.
/// Returns `false` when a subscriber was already set. A server with its own
/// subscriber adds `layer().with_filter(filter())` to it instead.
pub fn init() -> bool {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    tracing_subscriber::registry()
        .with(layer().with_filter(filter()))
        .try_init()
        .is_ok()
}

/// What [`init`] prints: `SECURE_TOOL_LOG` for every target when set, else
/// `info` for the framework's events and `warn` for other crates'. The audit
/// trail's heads ([`AUDIT_HEAD_TARGET`]) print at any level.
pub fn filter() -> tracing_subscriber::filter::Targets {
    filter_at(
        std::env::var("SECURE_TOOL_LOG")
            .ok()
            .and_then(|v| v.parse().ok()),
    )
}

/// The `tracing` target of the lines that give an audit stream's head (its
/// length and last hash), which an auditor compares with the stored trail.
/// [`filter`] prints them whatever level `SECURE_TOOL_LOG` asks for: without
/// them, a trail cut short or rewritten from some entry on would verify.
pub const AUDIT_HEAD_TARGET: &str = "secure_tool::audit_head";

pub(crate) fn filter_at(level: Option<Level>) -> tracing_subscriber::filter::Targets {
    use tracing_subscriber::filter::Targets;
    match level {
        Some(level) => Targets::new().with_default(level),
        None => Targets::new()
            .with_default(Level::WARN)
            .with_target(TARGET, Level::INFO),
    }
    .with_target(AUDIT_HEAD_TARGET, Level::INFO)
}

/// A `tracing-subscriber` layer that prints each event as one line on stderr,
/// in the format of [`format_event`]; concurrent events never interleave
/// mid-line.
///
/// `INFO` lines and below (one per allowed call) are gathered and written
/// together, at most [`FLUSH_INTERVAL`] after the first of them, so that a
/// call costs no system call for its line; a `WARNING` or `ERROR` line is
/// written at once, after every line gathered before it. Nothing gathered is
/// lost when serving ends (the server flushes), when a thread panics (a
/// panic hook flushes), or on [`flush`]; a process killed outright (`SIGKILL`)
/// loses at most the lines of its last interval. The durable audit sinks do
/// not depend on these lines: their records are committed on their own.
pub fn layer<S: Subscriber>() -> impl tracing_subscriber::Layer<S> {
    StderrLines
}

/// The longest an `INFO` line waits before it is written to stderr.
pub const FLUSH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(10);

/// Writes every line gathered so far to stderr now: before a process exits
/// on its own (serving ends with a flush, so servers need not call this).
pub fn flush() {
    stderr_lines().flush(&[]);
}

fn stderr_lines() -> &'static Lines {
    static LINES: std::sync::LazyLock<Lines> =
        std::sync::LazyLock::new(|| Lines::new(Box::new(std::io::stderr())));
    &LINES
}

/// Lines gathered for one output, and the order they are written in.
struct Lines {
    /// Lines not yet written.
    gathered: std::sync::Mutex<Vec<u8>>,
    /// Wakes the writer when a line is gathered into an empty buffer.
    wake: std::sync::Condvar,
    /// The output, held while a batch is taken and written, so batches
    /// reach it in the order they were taken.
    out: std::sync::Mutex<Box<dyn std::io::Write + Send>>,
    /// The writer thread and panic hook, started with the first gathered line.
    started: std::sync::Once,
    /// Whether the writer thread runs; without it, lines are written as they come.
    writer: std::sync::atomic::AtomicBool,
}

/// Past this many bytes gathered, the line that crosses it writes them all.
const GATHER_LIMIT: usize = 64 * 1024;

impl Lines {
    fn new(out: Box<dyn std::io::Write + Send>) -> Self {
        Self {
            gathered: std::sync::Mutex::default(),
            wake: std::sync::Condvar::new(),
            out: std::sync::Mutex::new(out),
            started: std::sync::Once::new(),
            writer: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn gathered(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        self.gathered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Writes every gathered line, then `line`, in one write.
    fn flush(&self, line: &[u8]) {
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut batch = std::mem::take(&mut *self.gathered());
        if batch.is_empty() {
            let _ = out.write_all(line);
        } else {
            batch.extend_from_slice(line);
            let _ = out.write_all(&batch);
        }
        let _ = out.flush();
    }

    /// Gathers `line`, for the writer (`'static`: it runs on its own thread).
    fn gather(&'static self, line: &[u8]) {
        let (first, full) = {
            let mut gathered = self.gathered();
            let first = gathered.is_empty();
            gathered.extend_from_slice(line);
            (first, gathered.len() >= GATHER_LIMIT)
        };
        if first {
            self.started.call_once(|| self.start());
        }
        if full || !self.writer.load(std::sync::atomic::Ordering::Acquire) {
            self.flush(&[]);
        } else if first {
            self.wake.notify_one();
        }
    }

    /// Starts the writer thread, and a panic hook that writes what is
    /// gathered before the panic is reported.
    fn start(&'static self) {
        let spawned = std::thread::Builder::new()
            .name("secure-tool-log".into())
            .spawn(move || {
                loop {
                    {
                        let mut gathered = self.gathered();
                        while gathered.is_empty() {
                            gathered = self
                                .wake
                                .wait(gathered)
                                .unwrap_or_else(std::sync::PoisonError::into_inner);
                        }
                    }
                    std::thread::sleep(FLUSH_INTERVAL);
                    self.flush(&[]);
                }
            });
        // Without a writer, every line is written as it comes.
        self.writer
            .store(spawned.is_ok(), std::sync::atomic::Ordering::Release);
        // A hook cannot be set while this thread unwinds.
        if !std::thread::panicking() {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                self.flush(&[]);
                previous(info);
            }));
        }
    }
}

struct StderrLines;

impl<S: Subscriber> tracing_subscriber::Layer<S> for StderrLines {
    fn on_event(&self, event: &Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        thread_local! {
            static LINE: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
        }
        let lines = stderr_lines();
        let urgent = *event.metadata().level() <= Level::WARN;
        let write = |line: &mut String| {
            line.clear();
            write_event(line, event);
            if urgent {
                lines.flush(line.as_bytes());
            } else {
                lines.gather(line.as_bytes());
            }
        };
        // One buffer per thread; a nested event (none is expected) gets its own.
        LINE.with(|line| match line.try_borrow_mut() {
            Ok(mut line) => write(&mut line),
            Err(_) => write(&mut String::new()),
        });
    }
}

/// Formats an event as `[LEVEL] target: message key=value…\n`, escaping any
/// control character that a caller's own event might carry.
pub fn format_event(event: &Event<'_>) -> String {
    let mut line = String::new();
    write_event(&mut line, event);
    line
}

/// [`format_event`] into `line`, escaping as the fields are written rather
/// than in a second pass.
fn write_event(line: &mut String, event: &Event<'_>) {
    let meta = event.metadata();
    line.push('[');
    line.push_str(level_name(meta.level()));
    line.push_str("] ");
    line.push_str(meta.target());
    line.push_str(": ");
    event.record(&mut Line(Escaping(line)));
    line.push('\n');
}

/// Writes into a line, escaping every character [`needs_escape`] names.
struct Escaping<'a>(&'a mut String);

impl fmt::Write for Escaping<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // Printable ASCII, the usual case, never needs escaping.
        if s.bytes().all(|b| matches!(b, b' '..=b'~')) {
            self.0.push_str(s);
            return Ok(());
        }
        for c in s.chars() {
            if needs_escape(c) {
                push_escaped(self.0, c);
            } else {
                self.0.push(c);
            }
        }
        Ok(())
    }
}

struct Line<'a>(Escaping<'a>);

impl Visit for Line<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            let _ = self.0.write_str(value);
        } else {
            let _ = write!(self.0, " {}={}", field.name(), escape_bounded(value));
        }
    }
}

/// 128 bits, as 32 hex digits, that differ per call and per process (a
/// hash keyed at random per process over a counter and the clock): call ids
/// that correlate log lines and audit rows, and the boundaries of spotlit
/// content. Unpredictable to a caller; not a cryptographic key.
pub fn unique_id() -> String {
    use std::hash::{BuildHasher, Hasher, RandomState};
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static KEYS: OnceLock<(RandomState, RandomState)> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let (a, b) = KEYS.get_or_init(|| (RandomState::new(), RandomState::new()));
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let half = |keys: &RandomState| {
        let mut h = keys.build_hasher();
        h.write_u64(n);
        h.write_u128(nanos);
        h.finish()
    };
    format!("{:016x}{:016x}", half(a), half(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_heads_print_whatever_level_is_asked_for() {
        for level in [
            None,
            Some(Level::ERROR),
            Some(Level::WARN),
            Some(Level::TRACE),
        ] {
            let filter = filter_at(level);
            assert!(
                filter.would_enable(AUDIT_HEAD_TARGET, &Level::INFO),
                "{level:?}"
            );
            assert!(
                !filter.would_enable(AUDIT_HEAD_TARGET, &Level::DEBUG),
                "{level:?}"
            );
        }
        let quiet = filter_at(Some(Level::WARN));
        assert!(!quiet.would_enable(TARGET, &Level::INFO));
        assert!(quiet.would_enable(TARGET, &Level::WARN));
    }

    #[test]
    fn a_token_cannot_start_a_key_of_its_own() {
        assert_eq!(token("edits[2].oldText"), "edits[2].oldText");
        assert_eq!(token("-1.5e3"), "-1.5e3");
        assert_eq!(token(r#""pow""#), r#""pow""#);
        assert_eq!(token(r#""a\" b""#), r#""a\" b""#);
        assert_eq!(token("\"xx\"…(100000 bytes)"), "\"xx\"…(100000 bytes)");
        for forged in [
            r#"o."a subject=admin outcome=allowed""#,
            r#"{"x outcome=allowed subject=admin":1}"#,
            r#""a" outcome=allowed"#,
            "",
        ] {
            let t = token(forged);
            let inner = t
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .unwrap_or_else(|| panic!("{forged:?} not quoted: {t}"));
            // Every quote inside is escaped.
            assert!(
                !inner.replace("\\\\", "").replace("\\\"", "").contains('"'),
                "{forged:?} -> {t}"
            );
        }
    }
    use serde_json::json;

    #[test]
    fn escapes_c0_c1_and_bidi() {
        assert_eq!(
            escape_bounded("a\u{0}b\u{85}c\u{202e}d"),
            r#""a\u{0}b\u{85}c\u{202e}d""#
        );
        assert_eq!(escape_bounded("q\"\\"), r#""q\"\\""#);
    }

    #[test]
    fn events_are_escaped_as_they_are_written() {
        let capture = crate::testing::Capture::default();
        {
            let _guard = capture.enter();
            let hostile = "red\u{1b}[31m\u{2028}line\u{202e}";
            tracing::warn!(target: TARGET, field = hostile, "plain {} é", hostile);
        }
        assert_eq!(
            capture.warnings(),
            [
                r#"plain red\u{1b}[31m\u{2028}line\u{202e} é field="red\u{1b}[31m\u{2028}line\u{202e}""#
            ]
        );
    }

    /// An output the test reads back.
    #[derive(Clone, Default)]
    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn lines() -> (&'static Lines, Shared) {
        let out = Shared::default();
        (Box::leak(Box::new(Lines::new(Box::new(out.clone())))), out)
    }

    #[test]
    fn an_urgent_line_is_written_at_once_after_every_line_gathered_before_it() {
        let (lines, out) = lines();
        lines.gather(b"one\n");
        lines.gather(b"two\n");
        lines.flush(b"urgent\n");
        assert_eq!(out.text(), "one\ntwo\nurgent\n");
        lines.flush(&[]);
        assert_eq!(out.text(), "one\ntwo\nurgent\n");
    }

    #[test]
    fn gathered_lines_are_written_by_the_writer_without_a_flush() {
        let (lines, out) = lines();
        lines.gather(b"alone\n");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while out.text().is_empty() {
            assert!(std::time::Instant::now() < deadline, "never written");
            std::thread::sleep(FLUSH_INTERVAL);
        }
        assert_eq!(out.text(), "alone\n");
    }

    #[test]
    fn a_full_buffer_is_written_by_the_line_that_fills_it() {
        let (lines, out) = lines();
        let line = vec![b'x'; 1023];
        let mut sent = 0;
        // The writer may take a batch in between; what matters is that the
        // gathered bytes never pass the limit unwritten.
        for _ in 0..GATHER_LIMIT / 1024 + 1 {
            lines.gather(&line);
            sent += line.len();
            let pending = lines.gathered().len();
            assert!(pending < GATHER_LIMIT, "{pending} gathered");
        }
        lines.flush(&[]);
        assert_eq!(out.text().len(), sent);
    }

    #[test]
    fn plain_strings_are_displayed_as_they_are_escaped() {
        let long = "p".repeat(VALUE_LIMIT);
        for text in [
            "",
            "alice",
            "<unauthenticated>",
            "a\"b",
            "back\\slash",
            "tab\there",
            "é",
            &long,
            &long[1..],
            &long[2..],
        ] {
            for limit in [VALUE_LIMIT, 256, 3] {
                assert_eq!(
                    Escaped(text, limit).to_string(),
                    escape_within(text, limit),
                    "{text:?} within {limit}"
                );
            }
        }
    }

    #[test]
    fn bounds_long_strings() {
        let rendered = escape_bounded(&"y".repeat(100_000));
        assert!(rendered.len() < VALUE_LIMIT + 32, "{rendered}");
    }

    #[test]
    fn bounds_large_values_without_rendering_them_whole() {
        let big = json!(vec![1; 100_000]);
        let rendered = render_value(&big);
        assert!(rendered.len() <= VALUE_LIMIT + 4, "{rendered}");
        assert!(rendered.ends_with('…'));
    }

    #[test]
    fn renders_numbers_and_strings() {
        assert_eq!(render_value(&json!(1.5)), "1.5");
        assert_eq!(render_value(&json!("pow")), "\"pow\"");
        assert_eq!(render_value(&json!({"k": "\u{9b}"})), r#"{"k":"\u{9b}"}"#);
    }
}

/// How many rejection lines a window may print before the rest are summarised.
pub const FLOOD_LINES: u32 = 20;
/// The window over which [`FLOOD_LINES`] applies.
pub const FLOOD_WINDOW: std::time::Duration = std::time::Duration::from_secs(10);

/// Bounds rejection logging: at most `lines` WARNING lines per window; past
/// that, refusals are counted per gate and one summary line reports the counts
/// when the window closes. Audit records are not affected: every request is
/// still written to each durable sink.
#[derive(Debug)]
pub struct Flood {
    lines: u32,
    window: std::time::Duration,
    state: std::sync::Mutex<FloodState>,
}

#[derive(Debug)]
struct FloodState {
    start: tokio::time::Instant,
    printed: u32,
    suppressed: std::collections::BTreeMap<&'static str, u64>,
    armed: bool,
}

impl Default for Flood {
    fn default() -> Self {
        Self::new(FLOOD_LINES, FLOOD_WINDOW)
    }
}

impl Flood {
    /// At most `lines` lines per `window`.
    pub fn new(lines: u32, window: std::time::Duration) -> Self {
        Self {
            lines,
            window,
            state: std::sync::Mutex::new(FloodState {
                start: tokio::time::Instant::now(),
                printed: 0,
                suppressed: std::collections::BTreeMap::new(),
                armed: false,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FloodState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether a refusal at `gate` may print its line now. When it may not,
    /// it is counted, and the window's summary is scheduled on the current
    /// Tokio runtime (or printed by the first refusal after the window).
    pub fn admit(self: &std::sync::Arc<Self>, gate: &'static str) -> bool {
        let now = tokio::time::Instant::now();
        let (admitted, summary, arm) = {
            let mut state = self.lock();
            let summary = if now.duration_since(state.start) >= self.window {
                self.close(&mut state, now)
            } else {
                None
            };
            if state.printed < self.lines {
                state.printed += 1;
                (true, summary, None)
            } else {
                *state.suppressed.entry(gate).or_default() += 1;
                let arm = (!state.armed).then_some(state.start);
                state.armed = true;
                (false, summary, arm)
            }
        };
        if let Some(summary) = summary {
            tracing::warn!(target: TARGET, "{summary}");
        }
        if let (Some(start), Ok(handle)) = (arm, tokio::runtime::Handle::try_current()) {
            let flood = self.clone();
            handle.spawn(async move {
                tokio::time::sleep_until(start + flood.window).await;
                let summary = {
                    let mut state = flood.lock();
                    // A refusal after the window may have closed it already.
                    if state.start == start {
                        flood.close(&mut state, tokio::time::Instant::now())
                    } else {
                        None
                    }
                };
                if let Some(summary) = summary {
                    tracing::warn!(target: TARGET, "{summary}");
                }
            });
        }
        admitted
    }

    /// Ends the current window now, printing its summary if anything was
    /// suppressed: at shutdown, so a burst followed by an exit is still told.
    pub fn flush(&self) {
        let summary = {
            let mut state = self.lock();
            self.close(&mut state, tokio::time::Instant::now())
        };
        if let Some(summary) = summary {
            tracing::warn!(target: TARGET, "{summary}");
        }
    }

    /// Ends the window: the summary line if anything was suppressed.
    fn close(&self, state: &mut FloodState, now: tokio::time::Instant) -> Option<String> {
        let suppressed = std::mem::take(&mut state.suppressed);
        state.start = now;
        state.printed = 0;
        state.armed = false;
        if suppressed.is_empty() {
            return None;
        }
        let total: u64 = suppressed.values().sum();
        let counts: Vec<String> = suppressed
            .iter()
            .map(|(gate, n)| format!("{gate}={n}"))
            .collect();
        Some(format!(
            "rejection flood: {total} more refusal(s) in {} s not printed, by gate: {}; each is still audited",
            self.window.as_secs(),
            counts.join(" ")
        ))
    }
}

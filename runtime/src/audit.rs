//! Audit: one record per request, whatever its outcome, and a write-ahead
//! [`Attempt`] before any tool body runs.
//!
//! Every record is printed as one line on stderr (WARNING for every outcome
//! but `allowed`), and written to each configured durable sink: JSON lines in a
//! file, or the append-only `audit_log` table. Before a body runs, its attempt
//! is written durably (`audit_attempt`); a body never runs if it cannot be. A
//! durable write that fails fails the request closed: its result is withheld
//! rather than the record dropped, every sink is still tried, and the line of
//! an executed call whose outcome could not be stored is always printed.
//! Records carry no token and no raw secret: reasons and values are redacted.
//!
//! `SqlAudit` (feature `sql`) commits in groups: the writes of concurrent calls waiting at
//! the same moment share one transaction, so the write-ahead record does not
//! double the commits a busy server makes.

use std::fmt;
use std::io::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::reject::{Gate, Reject};
use crate::store::StoreError;

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every stage passed and the tool ran.
    Allowed,
    /// The credential was missing or not trusted.
    AuthFailed,
    /// The token lacked the scope, or the subject's role denies the action.
    NotAuthorized,
    /// The caller or the tool was over its rate limit.
    RateLimited,
    /// An input guard or the consent gate stopped it.
    Blocked,
    /// The arguments broke the tool's contract.
    Invalid,
    /// The tool, the output check or the audit itself failed.
    Failed,
}

impl Outcome {
    /// The outcome a refusal at `gate` ends in.
    pub fn of(gate: Gate) -> Self {
        match gate {
            Gate::Auth => Outcome::AuthFailed,
            Gate::Scope | Gate::Role | Gate::Owner => Outcome::NotAuthorized,
            Gate::Rate => Outcome::RateLimited,
            Gate::Confirm | Gate::Command | Gate::Ssrf | Gate::Path => Outcome::Blocked,

            Gate::UnknownTool
            | Gate::UnknownField
            | Gate::MissingField
            | Gate::Type
            | Gate::Allowlist
            | Gate::Range
            | Gate::Finite
            | Gate::Control
            | Gate::Length
            | Gate::Unique
            | Gate::Size
            | Gate::Argument => Outcome::Invalid,
            Gate::Execute | Gate::Timeout | Gate::Output | Gate::Audit => Outcome::Failed,
        }
    }

    /// The outcome's name in logs and records.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::AuthFailed => "auth_failed",
            Outcome::NotAuthorized => "not_authorized",
            Outcome::RateLimited => "rate_limited",
            Outcome::Blocked => "blocked",
            Outcome::Invalid => "invalid",
            Outcome::Failed => "failed",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the audit keeps of one request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    /// Unix time in milliseconds.
    pub time_ms: i64,
    /// The server's name.
    pub server: String,
    /// The tool called (empty for an unknown name, shown as `-`).
    pub tool: String,
    /// The verified subject, exactly, or `<unauthenticated>`.
    pub subject: String,
    /// The scope the call needed, or `call` for a public tool.
    pub action: String,
    /// How it ended.
    pub outcome: Outcome,
    /// The gate that refused, if one did.
    pub gate: Option<&'static str>,
    /// The argument concerned, if any.
    pub field: Option<String>,
    /// Why it was refused, redacted.
    pub reason: Option<String>,
    /// The offending value, escaped, bounded and redacted.
    pub value: Option<String>,
    /// What the guards found (redactions, injection signatures).
    pub findings: Vec<String>,
    /// How long the request took, in microseconds.
    pub duration_us: u64,
    /// How many requests the record stands for: 1, or the failed
    /// authentications of one client address in one window.
    pub count: u64,
    /// The call's id when its body ran: the same as its [`Attempt`]'s.
    pub call_id: Option<String>,
}

/// The write-ahead record of a call whose body is about to run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attempt {
    /// Unique per call; the outcome record carries it too.
    pub call_id: String,
    /// Unix time in milliseconds.
    pub time_ms: i64,
    /// The server's name.
    pub server: String,
    /// The tool about to run.
    pub tool: String,
    /// The verified subject, exactly.
    pub subject: String,
    /// The scope the call needed, or `call` for a public tool.
    pub action: String,
}

impl Attempt {
    /// An attempt with a fresh call id: 32 hex digits, the time in
    /// milliseconds (12) then 80 unpredictable bits (20). Ids of one server
    /// ascend, so the unique index on them grows at its end: a group of
    /// attempts touches one of its pages, not one page each.
    pub fn new(server: &str, tool: &str, subject: &str, action: &str) -> Self {
        let time_ms = now_ms();
        let unique = crate::log::unique_id();
        Self {
            call_id: format!("{:012x}{}", time_ms.max(0), &unique[..20]),
            time_ms,
            server: server.to_owned(),
            tool: tool.to_owned(),
            subject: subject.to_owned(),
            action: action.to_owned(),
        }
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl AuditRecord {
    /// A record for a request that ended with `result`.
    pub fn new(
        server: &str,
        tool: &str,
        subject: &str,
        action: &str,
        result: Result<&[String], &Reject>,
    ) -> Self {
        let mut record = Self {
            time_ms: now_ms(),
            server: server.to_owned(),
            tool: tool.to_owned(),
            // Exactly as verified: two subjects alike in their first 64
            // characters stay two. Printing escapes and bounds it.
            subject: subject.to_owned(),
            action: action.to_owned(),
            outcome: Outcome::Allowed,
            gate: None,
            field: None,
            reason: None,
            value: None,
            findings: Vec::new(),
            duration_us: 0,
            count: 1,
            call_id: None,
        };
        match result {
            Ok(findings) => record.findings = findings.to_vec(),
            Err(reject) => record.refuse(reject),
        }
        record
    }

    /// Marks the record as refused by `reject`.
    pub fn refuse(&mut self, reject: &Reject) {
        self.outcome = Outcome::of(reject.gate());
        self.gate = Some(reject.gate().as_str());
        // A tool body may name a field from what it was sent.
        self.field = reject
            .field_name()
            .map(|field| crate::guards::secrets::redact(field).text);
        let reason = crate::guards::secrets::redact(reject.reason());
        self.findings.extend(reason.findings);
        self.reason = Some(reason.text);
        // A refusal's value was redacted when it was attached, before it
        // was cut short.
        self.findings.extend_from_slice(reject.value_findings());
        self.value = reject.value().map(str::to_owned);
    }

    /// The single stderr line of this record: WARNING for refusals, INFO otherwise.
    ///
    /// The threat model renders its log column with this same function.
    pub fn log_line(&self) -> String {
        self.line().to_string()
    }

    /// [`Self::log_line`], written where it is displayed rather than built first.
    pub fn line(&self) -> LogLine<'_> {
        LogLine(self)
    }
}

/// An audit record's stderr line, as [`AuditRecord::log_line`] renders it.
#[derive(Debug)]
pub struct LogLine<'a>(&'a AuditRecord);

impl fmt::Display for LogLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let record = self.0;
        let tool = if record.tool.is_empty() {
            "-"
        } else {
            &record.tool
        };
        let subject = crate::log::Escaped(&record.subject, crate::log::VALUE_LIMIT);
        let server = &record.server;
        match record.outcome {
            Outcome::Allowed => write!(
                f,
                "allowed server={server} tool={tool} subject={subject} action={} findings={}",
                record.action,
                record.findings.len()
            ),
            outcome => {
                write!(
                    f,
                    "rejected server={server} tool={tool} gate={} field={} reason={} subject={subject} outcome={outcome}",
                    record.gate.unwrap_or("-"),
                    crate::log::token(record.field.as_deref().unwrap_or("-")),
                    crate::log::Escaped(record.reason.as_deref().unwrap_or(""), 256),
                )?;
                if let Some(value) = &record.value {
                    write!(f, " value={}", crate::log::token(value))?;
                }
                if record.count != 1 {
                    write!(f, " count={}", record.count)?;
                }
                if let Some(call) = &record.call_id {
                    write!(f, " call={call}")?;
                }
                Ok(())
            }
        }
    }
}

/// The error of a durable sink.
#[derive(Debug)]
pub struct AuditError(String);

impl AuditError {
    /// The failure of a sink, in words (redacted before it is logged).
    pub fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }
}

impl fmt::Display for AuditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "audit write failed: {}", self.0)
    }
}

impl std::error::Error for AuditError {}

impl From<StoreError> for AuditError {
    fn from(e: StoreError) -> Self {
        Self(e.to_string())
    }
}

pub use crate::future::BoxFuture;

/// The hash chain that makes the audit trail tamper-evident.
///
/// Each writer (the SQL writer of a process, a [`JsonLines`] file opened by
/// one) writes one *stream*: a random id, and a sequence number from 0 that
/// goes up by one with every entry, attempts and outcomes alike. An entry's
/// hash is the SHA-256 of the previous entry's hash (nothing for entry 0), a
/// newline, and the canonical JSON (keys sorted, no whitespace) of the entry
/// as stored, its stream and number included. Replicas write streams of
/// their own and never contend for a chain's head.
///
/// [`Walk`](chain::Walk) goes through streams in order and reports the first break: a
/// number missing (an entry deleted), a number twice, a hash that does not
/// match (an entry changed, or moved). Removing the newest entries of a
/// stream, or a whole stream, leaves a shorter chain that verifies; the
/// heads each writer prints in its log ([`HEAD_EVERY`](chain::HEAD_EVERY)) show what is gone.
pub mod chain {
    use serde_json::{Map, Value};

    /// A writer prints its stream's head (number and hash) every this many
    /// entries, when its stream starts or ends, when it settles, and at most
    /// [`HEAD_INTERVAL`] after its last entry while entries keep coming.
    pub const HEAD_EVERY: i64 = 4096;

    /// The longest a stream's newest entries go without a head printed after
    /// them, while entries keep coming.
    pub const HEAD_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

    /// The hash of an entry that follows the hash `prev` (empty for the
    /// first of a stream).
    pub fn hash(prev: &str, entry: &Value) -> String {
        let mut prefix = Vec::with_capacity(prev.len() + 1);
        prefix.extend_from_slice(prev.as_bytes());
        prefix.push(b'\n');
        crate::canon::sha256_json(&prefix, entry)
    }

    /// A writer's place in its stream.
    #[derive(Debug, Clone)]
    pub struct Stream {
        id: String,
        next: i64,
        head: String,
        /// When the head was last printed, and at which length.
        printed: Option<(std::time::Instant, i64)>,
    }

    impl Default for Stream {
        fn default() -> Self {
            Self::new()
        }
    }

    impl Stream {
        /// A new stream: a random id, nothing written.
        pub fn new() -> Self {
            Self {
                id: crate::log::unique_id(),
                next: 0,
                head: String::new(),
                printed: None,
            }
        }

        /// The stream's id.
        pub fn id(&self) -> &str {
            &self.id
        }

        /// Links `entry` (the fields as stored, without `stream`, `seq` and
        /// `hash`) into the stream: its number and its hash.
        pub fn link(&mut self, mut entry: Map<String, Value>) -> (i64, String) {
            let seq = self.next;
            entry.insert("stream".into(), Value::from(self.id.as_str()));
            entry.insert("seq".into(), Value::from(seq));
            let hash = hash(&self.head, &Value::Object(entry));
            self.next += 1;
            self.head.clone_from(&hash);
            (seq, hash)
        }

        /// Prints the head when the stream starts, every [`HEAD_EVERY`]
        /// entries, [`HEAD_INTERVAL`] after the last head printed if entries
        /// came since, and when `always` (a settle, the stream's end): what
        /// an auditor compares with the stored chain. `before`: how many
        /// entries the stream had before the last links.
        pub(crate) fn announce(&mut self, before: i64, always: bool) {
            let now = std::time::Instant::now();
            let changed = self.printed.is_none_or(|(_, len)| len != self.next);
            let due = match self.printed {
                None => true,
                Some((at, _)) => {
                    before / HEAD_EVERY != self.next / HEAD_EVERY
                        || now.duration_since(at) >= HEAD_INTERVAL
                }
            };
            if self.next > 0 && changed && (always || due) {
                tracing::info!(target: crate::log::AUDIT_HEAD_TARGET,
                    "audit stream {} head seq={} hash={}", self.id, self.next - 1, self.head);
                self.printed = Some((now, self.next));
            }
        }

        /// How many entries the stream holds.
        pub fn len(&self) -> i64 {
            self.next
        }

        /// Whether nothing was written to it.
        pub fn is_empty(&self) -> bool {
            self.next == 0
        }
    }

    /// What a verification found: every stream whole.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct Verified {
        /// Each stream's id, number of entries and head hash, in id order.
        pub streams: Vec<(String, i64, String)>,
        /// Entries written before the chain existed (no stream).
        pub unchained: u64,
    }

    impl std::fmt::Display for Verified {
        /// One line in all, then one per stream: what an auditor compares
        /// with the heads the writers printed.
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            let entries: i64 = self.streams.iter().map(|(_, n, _)| n).sum();
            write!(
                f,
                "verified: {} stream(s), {entries} entries chained, {} written before the chain",
                self.streams.len(),
                self.unchained
            )?;
            for (id, n, head) in &self.streams {
                write!(
                    f,
                    "\nstream {id}: {n} entries, head seq={} hash={head}",
                    n - 1
                )?;
            }
            Ok(())
        }
    }

    /// The first place a chain does not hold.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Break {
        /// The stream.
        pub stream: String,
        /// The number where it breaks.
        pub seq: i64,
        /// Where the entry is: a table and row id, or a line of a file.
        pub at: String,
        /// What is wrong.
        pub reason: String,
    }

    impl std::fmt::Display for Break {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            if self.stream.is_empty() {
                // An entry that names no stream it can be placed in.
                return write!(f, "{}: {}", self.at, self.reason);
            }
            write!(
                f,
                "stream {} breaks at seq {} ({}): {}",
                self.stream, self.seq, self.at, self.reason
            )
        }
    }

    /// A verification in progress, fed entries ordered by stream, then
    /// number: each with its fields as stored, its `stream`, `seq` and `hash`.
    #[derive(Debug, Default)]
    pub struct Walk {
        verified: Verified,
        current: Option<(String, i64, String)>,
        done: std::collections::HashSet<String>,
    }

    impl Walk {
        /// Checks the next entry; `at` says where it is, for the report.
        pub fn push(&mut self, at: &str, mut entry: Map<String, Value>) -> Result<(), Break> {
            let stored = entry.remove("hash").filter(|v| !v.is_null());
            let named = |key: &str| entry.get(key).filter(|v| !v.is_null()).cloned();
            let (stream, seq) = (named("stream"), named("seq"));
            if stored.is_none() && stream.is_none() && seq.is_none() {
                self.verified.unchained += 1;
                return Ok(());
            }
            let (Some(Value::String(stream)), Some(seq), Some(Value::String(stored))) =
                (stream, seq.as_ref().and_then(Value::as_i64), stored)
            else {
                return Err(Break {
                    stream: String::new(),
                    seq: -1,
                    at: at.to_owned(),
                    reason: "the entry's stream, number or hash is missing or mistyped".into(),
                });
            };
            let broken = |seq: i64, reason: String| Break {
                stream: stream.clone(),
                seq,
                at: at.to_owned(),
                reason,
            };
            let (expected, prev) = match &self.current {
                Some((id, next, head)) if *id == stream => (*next, head.clone()),
                _ => {
                    if let Some(done) = self.current.take() {
                        self.done.insert(done.0.clone());
                        self.verified.streams.push(done);
                    }
                    if self.done.contains(&stream) {
                        return Err(broken(seq, "the stream resumes after another".into()));
                    }
                    (0, String::new())
                }
            };
            if seq > expected {
                let reason = if expected == 0 {
                    format!(
                        "the stream starts at {seq}: entries 0 to {} are missing",
                        seq - 1
                    )
                } else {
                    format!(
                        "entries {expected} to {} are missing, or out of their place",
                        seq - 1
                    )
                };
                return Err(broken(expected, reason));
            }
            if seq < expected {
                return Err(broken(seq, "the number appears twice".into()));
            }
            if hash(&prev, &Value::Object(entry)) != stored {
                return Err(broken(
                    seq,
                    "the hash does not match: the entry, or one before it, was changed or moved"
                        .into(),
                ));
            }
            self.current = Some((stream, seq + 1, stored));
            Ok(())
        }

        /// What the walk found, once every entry is pushed.
        pub fn finish(mut self) -> Verified {
            self.verified.streams.extend(self.current);
            self.verified.streams.sort();
            self.verified
        }
    }

    /// Verifies entries ordered by stream, then number (see [`Walk`]).
    pub fn verify_entries(
        entries: impl IntoIterator<Item = (String, Map<String, Value>)>,
    ) -> Result<Verified, Break> {
        let mut walk = Walk::default();
        for (at, entry) in entries {
            walk.push(&at, entry)?;
        }
        Ok(walk.finish())
    }

    /// Verifies the chain of a store's `audit_attempt` and `audit_log`
    /// rows, in one ordered pass. The outer error: the store could not be read.
    #[cfg(feature = "sql")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sql")))]
    pub async fn verify_store(
        store: &crate::store::Store,
    ) -> Result<Result<Verified, Break>, crate::store::StoreError> {
        use sqlx::Row as _;

        use crate::store::StoreError;

        let failed = |e: sqlx::Error| StoreError::new("audit verification", e);
        // Every row with any chain field, in one ordered pass: a row with a
        // stream but no number or hash is a break, not a row to skip.
        let sql = "SELECT kind, id, stream, seq, hash, call_id, time_ms, server, tool, subject, \
             action, outcome, gate, field, reason, findings, duration_us, count FROM ( \
             SELECT 'audit_attempt' AS kind, CAST(id AS BIGINT) AS id, stream, seq, hash, \
             call_id, time_ms, server, tool, subject, action, NULL AS outcome, NULL AS gate, \
             NULL AS field, NULL AS reason, NULL AS findings, CAST(NULL AS BIGINT) AS duration_us, \
             CAST(NULL AS BIGINT) AS count FROM audit_attempt \
             WHERE stream IS NOT NULL OR seq IS NOT NULL OR hash IS NOT NULL \
             UNION ALL SELECT 'audit_log', CAST(id AS BIGINT), stream, seq, hash, call_id, \
             time_ms, server, tool, subject, action, outcome, gate, field, reason, findings, \
             duration_us, count FROM audit_log \
             WHERE stream IS NOT NULL OR seq IS NOT NULL OR hash IS NOT NULL) AS chained \
             ORDER BY stream, seq, kind, id";
        let mut walk = Walk::default();
        let mut rows = sqlx::query(sql).fetch(store.pool());
        while let Some(row) = std::future::poll_fn(|cx| rows.as_mut().poll_next(cx)).await {
            let row = row.map_err(failed)?;
            let text = |name: &str| -> Result<Value, sqlx::Error> {
                Ok(row
                    .try_get::<Option<String>, _>(name)?
                    .map_or(Value::Null, Value::from))
            };
            let number = |name: &str| -> Result<Value, sqlx::Error> {
                Ok(row
                    .try_get::<Option<i64>, _>(name)?
                    .map_or(Value::Null, Value::from))
            };
            let kind: String = row.try_get("kind").map_err(failed)?;
            let id: i64 = row.try_get("id").map_err(failed)?;
            let mut entry = Map::new();
            entry.insert("table".into(), Value::from(kind.as_str()));
            let mut names = vec![
                ("call_id", false),
                ("time_ms", true),
                ("server", false),
                ("tool", false),
                ("subject", false),
                ("action", false),
                ("stream", false),
                ("seq", true),
                ("hash", false),
            ];
            if kind == "audit_log" {
                names.extend([
                    ("outcome", false),
                    ("gate", false),
                    ("field", false),
                    ("reason", false),
                    ("findings", false),
                    ("duration_us", true),
                    ("count", true),
                ]);
            }
            for (name, numeric) in names {
                let value = if numeric { number(name) } else { text(name) };
                entry.insert(name.into(), value.map_err(failed)?);
            }
            if let Err(broken) = walk.push(&format!("{kind} id {id}"), entry) {
                return Ok(Err(broken));
            }
        }
        drop(rows);
        // Rows without a chain are those written before it began: one with
        // a higher id than a chained row of its table was added since.
        let mut unchained = 0u64;
        for table in ["audit_attempt", "audit_log"] {
            let since = format!(
                "SELECT CAST(MIN(id) AS BIGINT) FROM {table} WHERE stream IS NULL AND seq IS NULL \
                 AND hash IS NULL AND id > (SELECT MIN(id) FROM {table} WHERE stream IS NOT NULL)"
            );
            let added: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(since))
                .fetch_one(store.pool())
                .await
                .map_err(failed)?;
            if let Some(id) = added {
                return Ok(Err(Break {
                    stream: String::new(),
                    seq: -1,
                    at: format!("{table} id {id}"),
                    reason: "a row without a chain, added after the chain began".into(),
                }));
            }
            let count = format!(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM {table} \
                 WHERE stream IS NULL AND seq IS NULL AND hash IS NULL"
            );
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count))
                .fetch_one(store.pool())
                .await
                .map_err(failed)?;
            unchained += u64::try_from(n).unwrap_or_default();
        }
        let mut verified = walk.finish();
        verified.unchained = unchained;
        Ok(Ok(verified))
    }

    /// Verifies a JSON-lines audit file ([`super::JsonLines`]): its lines in
    /// order, streams one after another as the file was opened and reopened.
    pub fn verify_lines(text: &str) -> Result<Verified, Break> {
        let mut entries: Vec<(String, Map<String, Value>)> = Vec::new();
        let mut chained = false;
        let lines = text.lines().enumerate();
        for (n, line) in lines.filter(|(_, l)| !l.trim().is_empty()) {
            let at = format!("line {}", n + 1);
            let broken = |reason: &str| Break {
                stream: String::new(),
                seq: -1,
                at: at.clone(),
                reason: reason.into(),
            };
            let Ok(Value::Object(entry)) = serde_json::from_str::<Value>(line) else {
                return Err(broken(
                    "not a JSON object: a line cut short by a crash mid-write, or edited",
                ));
            };
            if entry.contains_key("hash") || entry.contains_key("stream") {
                // What was hashed is what a writer writes: a line with a key
                // twice would show a reader one value and the hash another.
                if serde_json::to_string(&entry).ok().as_deref() != Some(line) {
                    return Err(broken("the line is not as a writer writes it"));
                }
                chained = true;
            } else if chained {
                return Err(broken("a line without a chain after chained lines"));
            }
            entries.push((at, entry));
        }
        // Writers that share a file interleave their lines: each stream is
        // taken in the file's order (a stable sort), and an entry out of its
        // place in it shows as one missing there.
        let stream =
            |e: &Map<String, Value>| e.get("stream").and_then(Value::as_str).map(str::to_owned);
        entries.sort_by_key(|(_, e)| stream(e));
        verify_entries(entries)
    }
}

/// A durable destination for audit records.
pub trait AuditSink: Send + Sync + 'static {
    /// Writes one record durably, or fails.
    fn write<'a>(&'a self, record: &'a AuditRecord) -> BoxFuture<'a, Result<(), AuditError>>;

    /// Writes the attempt of a call durably before its body runs, or fails
    /// (and the body does not run). The default keeps nothing: a sink of
    /// outcomes only.
    fn attempt<'a>(&'a self, attempt: &'a Attempt) -> BoxFuture<'a, Result<(), AuditError>> {
        let _ = attempt;
        Box::pin(async { Ok(()) })
    }

    /// Resolves once every write accepted so far is durable (a sink that
    /// lets outcomes join a later commit waits for it), or fails. The
    /// default has nothing pending.
    fn settle(&self) -> BoxFuture<'_, Result<(), AuditError>> {
        Box::pin(async { Ok(()) })
    }
}

/// JSON lines appended to a file, flushed per record.
#[derive(Debug)]
pub struct JsonLines {
    file: Mutex<Lines>,
}

/// The file a [`JsonLines`] appends to, and its place in its stream.
#[derive(Debug)]
struct Lines {
    file: std::fs::File,
    stream: chain::Stream,
    /// Whether the last write failed, maybe part-way through a line: the
    /// next line starts on a line of its own, in a new stream.
    torn: bool,
}

impl JsonLines {
    /// Opens `path` for appending, creating it.
    pub fn open(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)?;
        Ok(Self {
            file: Mutex::new(Lines {
                torn: ends_mid_line(&file)?,
                file,
                stream: chain::Stream::new(),
            }),
        })
    }
}

/// Whether `file` is not empty and does not end with a newline: its last
/// line was cut short (a crash mid-write).
fn ends_mid_line(mut file: &std::fs::File) -> std::io::Result<bool> {
    use std::io::{Read as _, Seek as _, SeekFrom};
    if file.metadata()?.len() == 0 {
        return Ok(false);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

impl JsonLines {
    /// Appends `value` as one line linked into the file's stream
    /// ([`chain`]): its fields, `stream`, `seq` and `hash`.
    fn append(&self, value: &impl Serialize) -> Result<(), AuditError> {
        let failed = |e: &dyn fmt::Display| AuditError(e.to_string());
        let serde_json::Value::Object(entry) =
            serde_json::to_value(value).map_err(|e| failed(&e))?
        else {
            return Err(AuditError("an audit entry is a JSON object".into()));
        };
        let fields = entry.clone();
        let mut guard = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        let lines = &mut *guard;
        // After a write that may have stopped part-way, the cut line is left
        // as it is (verification reports it) and a new stream starts.
        if lines.torn {
            lines.stream.announce(lines.stream.len(), true);
            lines.stream = chain::Stream::new();
        }
        // Linked on a copy: a line that cannot be written leaves the stream
        // where it was.
        let mut next = lines.stream.clone();
        let (seq, hash) = next.link(entry);
        let mut line = serde_json::Value::Object(fields);
        line["stream"] = next.id().into();
        line["seq"] = seq.into();
        line["hash"] = hash.into();
        let mut bytes = Vec::with_capacity(256);
        if lines.torn {
            bytes.push(b'\n');
        }
        serde_json::to_writer(&mut bytes, &line).map_err(|e| failed(&e))?;
        bytes.push(b'\n');
        let written = lines
            .file
            .write_all(&bytes)
            .and_then(|()| lines.file.flush());
        lines.torn = written.is_err();
        written.map_err(|e| failed(&e))?;
        let before = lines.stream.len();
        lines.stream = next;
        lines.stream.announce(before, false);
        Ok(())
    }
}

impl AuditSink for JsonLines {
    fn write<'a>(&'a self, record: &'a AuditRecord) -> BoxFuture<'a, Result<(), AuditError>> {
        Box::pin(async move { self.append(record) })
    }

    /// An attempt is a line of its own: `{"attempt": {..}}`.
    fn attempt<'a>(&'a self, attempt: &'a Attempt) -> BoxFuture<'a, Result<(), AuditError>> {
        Box::pin(async move { self.append(&serde_json::json!({ "attempt": attempt })) })
    }

    /// Every line is written before its call is answered: settling prints
    /// the stream's head.
    fn settle(&self) -> BoxFuture<'_, Result<(), AuditError>> {
        let mut lines = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        let len = lines.stream.len();
        lines.stream.announce(len, true);
        Box::pin(async { Ok(()) })
    }
}

/// Rows in the store's append-only `audit_log` and `audit_attempt` tables,
/// committed in groups: one writer task takes every write waiting when it is
/// free and commits them in one transaction, so concurrent calls share a
/// commit. Each write still returns only once its transaction has committed.
/// The writer holds at most one connection of the store's pool at a time:
/// audit traffic, however heavy, cannot take the connections the policy
/// poll and tool bodies use.
#[cfg(feature = "sql")]
#[cfg_attr(docsrs, doc(cfg(feature = "sql")))]
#[derive(Debug, Clone)]
pub struct SqlAudit {
    store: crate::store::Store,
    writer: Arc<Mutex<Option<sql::Queue>>>,
    /// What the writer tells callers: how many refusals are answered and
    /// uncommitted, and whether the last commit failed.
    health: Arc<sql::Health>,
}

#[cfg(feature = "sql")]
impl SqlAudit {
    /// Writes to `store` (migrated with [`crate::store::MIGRATIONS`]).
    pub fn new(store: crate::store::Store) -> Self {
        Self {
            store,
            writer: Arc::default(),
            health: Arc::default(),
        }
    }

    /// The most refusal records answered before their commit: what a crash
    /// (or a power loss) can lose of them. Beyond it, a refusal waits for its
    /// commit like an attempt.
    pub const UNAWAITED_REFUSALS: usize = sql::GROUP;

    /// The most writes waiting for the writer; when it is full, attempts and
    /// refusals are refused at the audit gate at once (never served
    /// unaudited), while outcomes of calls that ran wait for room.
    pub const QUEUE: usize = 4 * sql::GROUP;

    /// The writer's queue, starting the writer if there is none.
    fn sender(&self) -> sql::Queue {
        let mut writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        writer
            .get_or_insert_with(|| sql::spawn(self.store.clone(), self.health.clone()))
            .clone()
    }

    /// Forgets a writer whose runtime has gone; the next write starts another.
    fn forget_writer(&self) {
        *self.writer.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Queues `job` for the writer. With `wait`, waits for room; otherwise a
    /// full queue fails at once.
    async fn enqueue(&self, mut job: sql::Job, wait: bool) -> Result<(), AuditError> {
        use tokio::sync::mpsc::error::TrySendError;
        let waited = matches!(job.reply, sql::Reply::Waits(_));
        // A writer whose runtime has gone is replaced once.
        for _ in 0..2 {
            let queue = self.sender();
            let sent = if wait {
                queue
                    .jobs
                    .send(job)
                    .await
                    .map_err(|e| TrySendError::Closed(e.0))
            } else {
                queue.jobs.try_send(job)
            };
            match sent {
                Ok(()) => {
                    queue.queued(waited);
                    return Ok(());
                }
                Err(TrySendError::Full(_)) => {
                    return Err(AuditError(format!(
                        "audit queue full ({} writes waiting)",
                        Self::QUEUE
                    )));
                }
                Err(TrySendError::Closed(returned)) => {
                    job = returned;
                    self.forget_writer();
                }
            }
        }
        Err(AuditError("the audit writer cannot start".into()))
    }

    /// Queues a refusal record and answers at once, if fewer than
    /// [`Self::UNAWAITED_REFUSALS`] are uncommitted and the last commit
    /// succeeded; otherwise waits for its commit (so during an outage each
    /// refusal learns that its record failed). A refused call had no effect,
    /// so its record may join the next group after the answer.
    async fn refusal(&self, record: &AuditRecord) -> Result<(), AuditError> {
        use std::sync::atomic::Ordering;
        let reserved = !self.health.failing.load(Ordering::Acquire)
            && self
                .health
                .refusals
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                    (n < Self::UNAWAITED_REFUSALS).then_some(n + 1)
                })
                .is_ok();
        if !reserved {
            return self.submit(sql::Entry::Record(record.clone())).await;
        }
        let job = sql::Job {
            entry: sql::Entry::Record(record.clone()),
            reply: sql::Reply::Refusal,
        };
        let queued = self.enqueue(job, false).await;
        if queued.is_err() {
            self.health.refusals.fetch_sub(1, Ordering::AcqRel);
        }
        queued
    }

    /// Queues an outcome no caller waits for without waiting for room: when
    /// the queue is full a task of its own waits, so a caller that goes away
    /// (a cancelled request) cannot take the outcome with it.
    fn defer(&self, record: &AuditRecord) -> Result<(), AuditError> {
        use tokio::sync::mpsc::error::TrySendError;
        let mut job = sql::Job {
            entry: sql::Entry::Record(record.clone()),
            reply: sql::Reply::Outcome,
        };
        for _ in 0..2 {
            let queue = self.sender();
            match queue.jobs.try_send(job) {
                Ok(()) => {
                    queue.queued(false);
                    return Ok(());
                }
                Err(TrySendError::Full(full)) => {
                    tokio::spawn(async move {
                        if let Err(returned) = queue.jobs.send(full).await
                            && let sql::Entry::Record(r) = returned.0.entry
                        {
                            sql::unstored(&r, "the audit writer stopped");
                        }
                    });
                    return Ok(());
                }
                Err(TrySendError::Closed(closed)) => {
                    job = closed;
                    self.forget_writer();
                }
            }
        }
        Err(AuditError("the audit writer cannot start".into()))
    }

    /// Queues `entry` and waits for its transaction to commit. Only a
    /// settle waits for room in the queue.
    async fn submit(&self, entry: sql::Entry) -> Result<(), AuditError> {
        let (done, committed) = tokio::sync::oneshot::channel();
        let wait = matches!(entry, sql::Entry::Settle);
        let job = sql::Job {
            entry,
            reply: sql::Reply::Waits(done),
        };
        self.enqueue(job, wait).await?;
        committed
            .await
            .map_err(|_| AuditError("the audit writer stopped".into()))?
            .map_err(AuditError)
    }
}

#[cfg(feature = "sql")]
impl AuditSink for SqlAudit {
    /// Neither kind of record holds the caller's answer for the disk. The
    /// outcome of a call whose body ran (it has a `call_id`, and its attempt
    /// is already durable) joins the next commit; if that commit fails, the
    /// writer prints the record's line, whatever the flood limit. A refusal
    /// (the call had no effect) joins it too while fewer than
    /// [`Self::UNAWAITED_REFUSALS`] are uncommitted, and waits for its commit
    /// beyond that; a full queue refuses it at once.
    fn write<'a>(&'a self, r: &'a AuditRecord) -> BoxFuture<'a, Result<(), AuditError>> {
        match r.call_id {
            Some(_) => Box::pin(std::future::ready(self.defer(r))),
            None => Box::pin(self.refusal(r)),
        }
    }

    fn attempt<'a>(&'a self, a: &'a Attempt) -> BoxFuture<'a, Result<(), AuditError>> {
        Box::pin(self.submit(sql::Entry::Attempt(a.clone())))
    }

    fn settle(&self) -> BoxFuture<'_, Result<(), AuditError>> {
        Box::pin(self.submit(sql::Entry::Settle))
    }
}

#[cfg(feature = "sql")]
mod sql {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use serde_json::{Map, Value};

    use super::{Attempt, AuditRecord, chain};
    use crate::store::{Backend, Store, StoreError};

    /// The most writes one transaction carries.
    pub(super) const GROUP: usize = 256;

    /// How long outcomes that no caller waits for may wait for a write that
    /// must be durable now (an attempt, a refusal), to share its commit.
    pub(super) const DEFER: std::time::Duration = std::time::Duration::from_millis(20);

    /// The most rows a group's statement may have to stay prepared.
    const CACHED_ROWS: usize = 8;

    /// How many times the writer lets ready calls run before a commit, while
    /// each time brings more writes to it.
    const YIELDS: usize = 4;

    /// How long one commit may take before it counts as failed: a database
    /// that stops answering refuses calls instead of holding them.
    const COMMIT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

    /// Prints the line of a record that could not be stored and that no
    /// caller waited for: the call answered, and this line is now the only
    /// trace of how it ended.
    pub(super) fn unstored(r: &AuditRecord, why: &str) {
        let why = crate::guards::secrets::redact(why).text;
        match r.call_id.as_deref() {
            Some(call) => tracing::error!(target: crate::log::TARGET,
                "outcome of call {call} not stored ({why}): {}", r.log_line()),
            None => tracing::error!(target: crate::log::TARGET,
                "refusal not stored ({why}): {}", r.log_line()),
        }
    }

    pub(super) enum Entry {
        Attempt(Attempt),
        Record(AuditRecord),
        /// Nothing to write: done once everything queued before it is.
        Settle,
    }

    /// Who learns of a write's commit.
    pub(super) enum Reply {
        /// A caller waiting for it.
        Waits(tokio::sync::oneshot::Sender<Result<(), String>>),
        /// Nobody: the outcome of a call that ran, whose attempt is durable.
        Outcome,
        /// Nobody: a refusal answered before its commit, counted in the
        /// audit's unawaited refusals until it commits or fails.
        Refusal,
    }

    pub(super) struct Job {
        pub(super) entry: Entry,
        pub(super) reply: Reply,
    }

    /// The writer's queue. Queuing a write nobody waits for does not wake
    /// the writer while it gathers a group; a write someone waits for, or a
    /// full group, ends the gathering at once.
    #[derive(Debug, Clone)]
    pub(super) struct Queue {
        pub(super) jobs: tokio::sync::mpsc::Sender<Job>,
        urgent: Arc<tokio::sync::Notify>,
    }

    impl Queue {
        /// Called once a job is queued; `waited`: someone waits for its commit.
        pub(super) fn queued(&self, waited: bool) {
            if waited || self.jobs.max_capacity() - self.jobs.capacity() >= GROUP {
                self.urgent.notify_one();
            }
        }
    }

    /// Shared between the writer and the callers.
    #[derive(Debug, Default)]
    pub(super) struct Health {
        /// Refusals answered whose commit is still to come.
        pub(super) refusals: AtomicUsize,
        /// Whether the last commit failed.
        pub(super) failing: AtomicBool,
    }

    pub(super) fn spawn(store: Store, health: Arc<Health>) -> Queue {
        let (sender, mut jobs) = tokio::sync::mpsc::channel::<Job>(super::SqlAudit::QUEUE);
        let urgent = Arc::new(tokio::sync::Notify::new());
        let queue = Queue {
            jobs: sender,
            urgent: urgent.clone(),
        };
        tokio::spawn(async move {
            let mut group = Vec::with_capacity(GROUP);
            // The writer's connection, kept while writes keep coming.
            let mut held: Option<sqlx::pool::PoolConnection<sqlx::Any>> = None;
            let keep = store.pool().options().get_max_connections() > 1;
            // Records lost since the last settle, which then reports them.
            let mut lost = 0usize;
            // The chain this writer extends; a failed commit, whose rows may
            // or may not be stored, ends it and the next group starts another.
            let mut stream = chain::Stream::new();
            while jobs.recv_many(&mut group, GROUP).await > 0 {
                gather(&mut jobs, &mut group, &urgent).await;
                // Calls that are ready to run reach their own writes before
                // this group commits, and join it: one flush for them all.
                // Each yield that gathered something earns another, up to a bound.
                for _ in 0..YIELDS {
                    tokio::task::yield_now().await;
                    let before = group.len();
                    take_queued(&mut jobs, &mut group);
                    if group.len() == before || group.len() >= GROUP {
                        break;
                    }
                }
                let mut linked = stream.clone();
                let written = tokio::time::timeout(COMMIT_TIMEOUT, async {
                    if held.is_none() {
                        held = Some(store.pool().acquire().await?);
                    }
                    match held.as_mut() {
                        Some(conn) => commit(conn, store.backend(), &group, &mut linked).await,
                        None => Ok(()),
                    }
                })
                .await;
                let result = match written {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(e)) => Err(StoreError::new("audit write", e).to_string()),
                    Err(_) => Err(format!(
                        "audit write: no commit within {} s",
                        COMMIT_TIMEOUT.as_secs()
                    )),
                };
                health.failing.store(result.is_err(), Ordering::Release);
                if result.is_ok() {
                    let before = stream.len();
                    stream = linked;
                    let settles = group.iter().any(|j| matches!(j.entry, Entry::Settle));
                    stream.announce(before, settles);
                } else {
                    // The last head this stream is known to have reached.
                    stream.announce(stream.len(), true);
                    stream = chain::Stream::new();
                }
                if result.is_err() {
                    // Its state is unknown (a batch cut short may have left a
                    // transaction open): never reused. The one connection of
                    // an in-memory database is the database: rolled back instead.
                    if let Some(mut conn) = held.take() {
                        if keep {
                            conn.close_on_drop();
                        } else {
                            let _ = sqlx::Executor::execute(&mut *conn, "ROLLBACK").await;
                        }
                    }
                } else if jobs.is_empty() || !keep {
                    // Idle, or the pool's only connection: it goes back.
                    held = None;
                }
                for job in group.drain(..) {
                    match (job.reply, &result, &job.entry) {
                        (Reply::Waits(done), result, Entry::Settle) => {
                            // Reports what was lost since the last settle,
                            // in earlier groups as in this one.
                            let reported = match (result, lost) {
                                (Ok(()), 0) => Ok(()),
                                (Ok(()), n) => Err(format!(
                                    "{n} record(s) could not be stored; their lines were printed"
                                )),
                                (Err(e), _) => Err(e.clone()),
                            };
                            let _ = done.send(reported);
                            lost = 0;
                        }
                        (Reply::Waits(done), result, entry) => {
                            // A caller that went away cannot hear of a
                            // failure: the line is the trace left.
                            if done.send(result.clone()).is_err()
                                && let (Err(e), Entry::Record(r)) = (result, entry)
                            {
                                unstored(r, e);
                                lost += 1;
                            }
                        }
                        (reply, result, entry) => {
                            if matches!(reply, Reply::Refusal) {
                                health.refusals.fetch_sub(1, Ordering::AcqRel);
                            }
                            if let (Err(e), Entry::Record(r)) = (result, entry) {
                                unstored(r, e);
                                lost += 1;
                            }
                        }
                    }
                }
            }
        });
        queue
    }

    /// Whether someone waits for this job's commit.
    fn waited(job: &Job) -> bool {
        matches!(job.reply, Reply::Waits(_))
    }

    /// When nobody waits for the writes in `group`, gives a write that
    /// someone waits for up to [`DEFER`] to arrive and carry them, without a
    /// wake-up for each write queued meanwhile; then takes what is queued.
    pub(super) async fn gather(
        jobs: &mut tokio::sync::mpsc::Receiver<Job>,
        group: &mut Vec<Job>,
        urgent: &tokio::sync::Notify,
    ) {
        if group.len() >= GROUP || group.iter().any(waited) {
            return;
        }
        let deadline = tokio::time::Instant::now() + DEFER;
        loop {
            let woken = tokio::select! {
                () = tokio::time::sleep_until(deadline) => false,
                () = urgent.notified() => true,
            };
            take_queued(jobs, group);
            // A wake-up can be stale, left by a write that an earlier group
            // carried: only a write someone waits for, or a full group, ends
            // the gathering early.
            if !woken || group.len() >= GROUP || group.iter().any(waited) {
                return;
            }
        }
    }

    /// Moves what is queued into `group`, up to a full group, without waiting.
    fn take_queued(jobs: &mut tokio::sync::mpsc::Receiver<Job>, group: &mut Vec<Job>) {
        while group.len() < GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
    }

    /// Writes the group's rows in one statement, or on SQLite one batch of
    /// statements in one transaction: one round trip to the database and one
    /// flush per group, whatever its size.
    async fn commit(
        conn: &mut sqlx::AnyConnection,
        backend: Backend,
        group: &[Job],
        stream: &mut chain::Stream,
    ) -> Result<(), sqlx::Error> {
        const ATTEMPT: &str = "INSERT INTO audit_attempt (call_id, time_ms, server, tool, \
            subject, action, stream, seq, hash) VALUES ";
        const RECORD: &str = "INSERT INTO audit_log (time_ms, server, tool, subject, action, \
            outcome, gate, field, reason, findings, duration_us, count, call_id, stream, seq, \
            hash) VALUES ";
        let attempts: Vec<&Attempt> = group
            .iter()
            .filter_map(|job| match &job.entry {
                Entry::Attempt(a) => Some(a),
                _ => None,
            })
            .collect();
        let records: Vec<&AuditRecord> = group
            .iter()
            .filter_map(|job| match &job.entry {
                Entry::Record(r) => Some(r),
                _ => None,
            })
            .collect();
        let mut next = 0;
        let attempt_rows = rows(backend, attempts.len(), 9, &mut next);
        let record_rows = rows(backend, records.len(), 16, &mut next);
        // Fixed fragments and numbered placeholders only: no value is ever
        // spliced into the text.
        let inserts = match (attempts.is_empty(), records.is_empty()) {
            (true, true) => return Ok(()),
            (false, true) => format!("{ATTEMPT}{attempt_rows}"),
            (true, false) => format!("{RECORD}{record_rows}"),
            (false, false) => match backend {
                // One statement: the attempts' insert runs exactly once
                // whether or not the outer statement reads it.
                Backend::Postgres => format!(
                    "WITH attempts AS ({ATTEMPT}{attempt_rows} RETURNING 1) {RECORD}{record_rows}"
                ),
                Backend::Sqlite => format!("{ATTEMPT}{attempt_rows}; {RECORD}{record_rows}"),
            },
        };
        // On SQLite, a transaction of its own: a connection handed back with
        // one still open makes `BEGIN` fail, instead of a commit that is not one.
        let sql = match backend {
            Backend::Postgres => inserts,
            Backend::Sqlite => format!("BEGIN; {inserts}; COMMIT"),
        };
        // A statement is prepared per group shape; only small shapes, which
        // recur, stay in the connection's statement cache. A large group's
        // statement is big and rarely seen twice: cached, a hundred of them
        // would hold tens of megabytes per connection.
        let recurs = attempts.len() + records.len() <= CACHED_ROWS;
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(recurs);
        // Each row is bound as the chain entry that hashes it: what is
        // stored is exactly what was hashed.
        for a in &attempts {
            let entry = attempt_entry(a);
            query = query
                .bind(text(&entry, "call_id"))
                .bind(entry["time_ms"].as_i64())
                .bind(text(&entry, "server"))
                .bind(text(&entry, "tool"))
                .bind(text(&entry, "subject"))
                .bind(text(&entry, "action"));
            let (seq, hash) = stream.link(entry);
            query = query.bind(stream.id().to_owned()).bind(seq).bind(hash);
        }
        for r in &records {
            let entry = record_entry(r)?;
            query = query
                .bind(entry["time_ms"].as_i64())
                .bind(text(&entry, "server"))
                .bind(text(&entry, "tool"))
                .bind(text(&entry, "subject"))
                .bind(text(&entry, "action"))
                .bind(text(&entry, "outcome"))
                .bind(text(&entry, "gate"))
                .bind(text(&entry, "field"))
                .bind(text(&entry, "reason"))
                .bind(text(&entry, "findings"))
                .bind(entry["duration_us"].as_i64())
                .bind(entry["count"].as_i64())
                .bind(text(&entry, "call_id"));
            let (seq, hash) = stream.link(entry);
            query = query.bind(stream.id().to_owned()).bind(seq).bind(hash);
        }
        query.execute(&mut *conn).await.map(drop)
    }

    fn text(entry: &Map<String, Value>, field: &str) -> Option<String> {
        entry.get(field).and_then(Value::as_str).map(str::to_owned)
    }

    /// An attempt as `audit_attempt` stores it, without its chain fields.
    fn attempt_entry(a: &Attempt) -> Map<String, Value> {
        let entry = serde_json::json!({
            "table": "audit_attempt",
            "call_id": a.call_id,
            "time_ms": a.time_ms,
            "server": a.server,
            "tool": a.tool,
            "subject": storable(&a.subject),
            "action": a.action,
        });
        match entry {
            Value::Object(map) => map,
            _ => unreachable!("a JSON object"),
        }
    }

    /// A record as `audit_log` stores it, without its chain fields.
    fn record_entry(r: &AuditRecord) -> Result<Map<String, Value>, sqlx::Error> {
        let findings =
            serde_json::to_string(&r.findings).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        let entry = serde_json::json!({
            "table": "audit_log",
            "time_ms": r.time_ms,
            "server": r.server,
            "tool": r.tool,
            "subject": storable(&r.subject),
            "action": r.action,
            "outcome": r.outcome.as_str(),
            "gate": r.gate,
            "field": r.field.as_deref().map(storable),
            "reason": r.reason.as_deref().map(storable),
            "findings": findings,
            "duration_us": i64::try_from(r.duration_us).unwrap_or(i64::MAX),
            "count": i64::try_from(r.count).unwrap_or(i64::MAX),
            "call_id": r.call_id,
        });
        match entry {
            Value::Object(map) => Ok(map),
            _ => unreachable!("a JSON object"),
        }
    }

    /// `text` as a column can hold it: PostgreSQL refuses NUL in text, and one
    /// refused row would fail its whole group, so NUL is stored as `\0`.
    fn storable(text: &str) -> String {
        text.replace('\0', "\\0")
    }

    /// `($1, $2), ($3, $4)`: `count` rows of `columns` placeholders,
    /// numbered on from `next`. SQLite's are anonymous (`?`), bound in
    /// order: looking a numbered one up costs a scan of all of them.
    fn rows(backend: Backend, count: usize, columns: usize, next: &mut usize) -> String {
        let mut sql = String::with_capacity(count * columns * 5);
        for row in 0..count {
            if row > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for column in 0..columns {
                if column > 0 {
                    sql.push_str(", ");
                }
                *next += 1;
                match backend {
                    Backend::Sqlite => sql.push('?'),
                    Backend::Postgres => {
                        sql.push('$');
                        sql.push_str(&next.to_string());
                    }
                }
            }
            sql.push(')');
        }
        sql
    }
}

/// The audit trail of a server: the stderr line plus any durable sinks.
#[derive(Clone, Default)]
pub struct Audit {
    sinks: Vec<Arc<dyn AuditSink>>,
    flood: Arc<crate::log::Flood>,
}

impl fmt::Debug for Audit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Audit")
            .field("durable_sinks", &self.sinks.len())
            .finish()
    }
}

impl Audit {
    /// Adds a durable sink.
    pub fn with_sink(mut self, sink: impl AuditSink) -> Self {
        self.sinks.push(Arc::new(sink));
        self
    }

    /// Bounds the WARNING lines of refusals to `lines` per `window`; the rest
    /// are summarised (default [`crate::log::FLOOD_LINES`] per [`crate::log::FLOOD_WINDOW`]).
    pub fn with_flood_limit(mut self, lines: u32, window: std::time::Duration) -> Self {
        self.flood = Arc::new(crate::log::Flood::new(lines, window));
        self
    }

    /// Whether any durable sink is configured: without one there is no
    /// attempt to write ahead, and no call id to tie an outcome to it.
    pub fn is_durable(&self) -> bool {
        !self.sinks.is_empty()
    }

    /// Waits until every record and attempt written so far is durable in
    /// every sink: before reading the trail back, and before shutting down.
    /// Prints the summary of refusal lines the flood limit held back, if any,
    /// and writes every log line gathered for stderr ([`crate::log::flush`]).
    pub async fn settle(&self) -> Result<(), AuditError> {
        // Refusals whose lines the flood limit held back are told now.
        self.flood.flush();
        let mut failed = None;
        for sink in &self.sinks {
            if let Err(e) = sink.settle().await {
                failed.get_or_insert(e);
            }
        }
        // Lines gathered for stderr are written too: serving ends here.
        crate::log::flush();
        failed.map_or(Ok(()), Err)
    }

    /// Writes the attempt of a call to every durable sink before its body
    /// runs. If any cannot keep it, the call is refused and the body does not run.
    pub async fn attempt(&self, attempt: &Attempt) -> Result<(), Reject> {
        let mut failed = None;
        for sink in &self.sinks {
            if let Err(e) = sink.attempt(attempt).await {
                failed.get_or_insert(e);
            }
        }
        match failed {
            None => Ok(()),
            Some(e) => {
                if self.flood.admit("audit-sink") {
                    tracing::error!(target: crate::log::TARGET, "{}", crate::guards::secrets::redact(&e.to_string()).text);
                }
                Err(Reject::at(
                    Gate::Audit,
                    None,
                    "audit log unavailable; the call did not run",
                ))
            }
        }
    }

    /// Writes the record to every durable sink (each is tried, whatever the
    /// others did), then prints its line. When a durable write fails the
    /// record is turned into a failure first, so the line says so and the
    /// caller withholds the result; the line of a call whose body ran is then
    /// printed whatever the flood limit, since it may be the only trace of
    /// the call's outcome.
    pub async fn record(&self, record: &mut AuditRecord) -> Result<(), Reject> {
        let mut failed = None;
        for sink in &self.sinks {
            if let Err(e) = sink.write(record).await {
                failed.get_or_insert(e);
            }
        }
        let unrecorded = failed.is_some() && record.call_id.is_some();
        let result = match failed {
            None => Ok(()),
            Some(e) => {
                // During an outage every request fails here: bounded like refusals.
                if self.flood.admit("audit-sink") {
                    tracing::error!(target: crate::log::TARGET, "{}", crate::guards::secrets::redact(&e.to_string()).text);
                }
                let reject =
                    Reject::at(Gate::Audit, None, "audit log unavailable; result withheld");
                record.refuse(&reject);
                Err(reject)
            }
        };
        // The line is rendered only when a subscriber will print it.
        if record.outcome == Outcome::Allowed {
            tracing::info!(target: crate::log::TARGET, "{}", record.line());
        } else if unrecorded || self.flood.admit(record.gate.unwrap_or("none")) {
            tracing::warn!(target: crate::log::TARGET, "{}", record.line());
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "sql")]
    fn job(
        waited: bool,
    ) -> (
        sql::Job,
        Option<tokio::sync::oneshot::Receiver<Result<(), String>>>,
    ) {
        let record = AuditRecord::new("s", "t", "alice", "call", Ok(&[]));
        let (reply, done) = if waited {
            let (send, done) = tokio::sync::oneshot::channel();
            (sql::Reply::Waits(send), Some(done))
        } else {
            (sql::Reply::Outcome, None)
        };
        let entry = sql::Entry::Record(record);
        (sql::Job { entry, reply }, done)
    }

    #[cfg(feature = "sql")]
    #[tokio::test(start_paused = true)]
    async fn a_stale_wake_up_does_not_end_the_gathering_of_unawaited_writes() {
        let (queue, mut jobs) = tokio::sync::mpsc::channel(16);
        let urgent = tokio::sync::Notify::new();
        // Left by a write that an earlier group already carried.
        urgent.notify_one();
        let mut group = vec![job(false).0];
        let later = queue.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            let _ = later.send(job(false).0).await;
        });
        let started = tokio::time::Instant::now();
        sql::gather(&mut jobs, &mut group, &urgent).await;
        assert_eq!(started.elapsed(), sql::DEFER);
        assert_eq!(group.len(), 2);
        drop(queue);
    }

    #[cfg(feature = "sql")]
    #[tokio::test(start_paused = true)]
    async fn a_waited_write_ends_the_gathering_and_joins_the_group() {
        let (queue, mut jobs) = tokio::sync::mpsc::channel(16);
        let urgent = std::sync::Arc::new(tokio::sync::Notify::new());
        urgent.notify_one();
        let mut group = vec![job(false).0];
        let wake = urgent.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            let (waited, done) = job(true);
            let _ = queue.send(waited).await;
            wake.notify_one();
            // Kept until the end, so the reply channel stays open.
            let _ = done.expect("a waited job").await;
        });
        let started = tokio::time::Instant::now();
        sql::gather(&mut jobs, &mut group, &urgent).await;
        assert_eq!(started.elapsed(), std::time::Duration::from_millis(5));
        assert_eq!(group.len(), 2);
    }

    #[test]
    fn call_ids_ascend_with_time_and_differ() {
        let a = Attempt::new("s", "t", "alice", "call");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = Attempt::new("s", "t", "alice", "call");
        let c = Attempt::new("s", "t", "alice", "call");
        for id in [&a.call_id, &b.call_id, &c.call_id] {
            assert_eq!(id.len(), 32);
            assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        }
        assert!(a.call_id < b.call_id, "{} {}", a.call_id, b.call_id);
        assert_ne!(b.call_id, c.call_id);
        assert_eq!(
            i64::from_str_radix(&a.call_id[..12], 16).unwrap(),
            a.time_ms
        );
    }

    #[test]
    fn every_gate_maps_to_an_outcome_other_than_allowed() {
        for gate in Gate::ALL {
            assert_ne!(Outcome::of(*gate), Outcome::Allowed, "{gate}");
        }
    }

    #[test]
    fn subjects_are_kept_exactly_and_escaped_only_when_printed() {
        let long = "x".repeat(100);
        let (a, b) = (format!("{long}-alice"), format!("{long}-mallory"));
        let ra = AuditRecord::new("s", "t", &a, "call", Ok(&[]));
        let rb = AuditRecord::new("s", "t", &b, "call", Ok(&[]));
        assert_eq!(
            (ra.subject.as_str(), rb.subject.as_str()),
            (a.as_str(), b.as_str())
        );
        let odd = AuditRecord::new("s", "t", "eve\u{1b}[2J", "call", Ok(&[]));
        assert_eq!(odd.subject, "eve\u{1b}[2J");
        assert!(!odd.log_line().contains('\u{1b}'), "{}", odd.log_line());
    }

    #[test]
    fn a_stream_head_is_printed_even_where_only_errors_are() {
        use tracing_subscriber::Layer as _;
        use tracing_subscriber::layer::SubscriberExt as _;
        #[derive(Clone, Default)]
        struct Seen(std::sync::Arc<std::sync::Mutex<Vec<String>>>);
        impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Seen {
            fn on_event(
                &self,
                event: &tracing::Event<'_>,
                _: tracing_subscriber::layer::Context<'_, S>,
            ) {
                self.0.lock().unwrap().push(crate::log::format_event(event));
            }
        }
        let seen = Seen::default();
        let quiet = crate::log::filter_at(Some(tracing::Level::ERROR));
        let subscriber = tracing_subscriber::registry().with(seen.clone().with_filter(quiet));
        tracing::subscriber::with_default(subscriber, || {
            let mut stream = chain::Stream::new();
            stream.link(serde_json::Map::new());
            stream.announce(0, true);
            tracing::info!(target: crate::log::TARGET, "an allowed call");
        });
        let lines = seen.0.lock().unwrap();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].contains("head seq=0 hash=sha256:"), "{lines:?}");
    }

    #[test]
    fn records_redact_reasons_and_values() {
        let reject = Reject::at(Gate::Execute, None, "cannot reach postgres://app:pw@db/app")
            .with_text("mysql://root:hunter2@10.0.0.1/x");
        let record = AuditRecord::new("s", "t", "alice", "documents:read", Err(&reject));
        let line = record.log_line();
        assert!(!line.contains("pw@") && !line.contains("hunter2"), "{line}");
        assert_eq!(record.findings.len(), 2);
        assert_eq!(record.outcome, Outcome::Failed);
        // A field a tool body named from what it was sent.
        let key = concat!("AKIA", "IOSFODNN7EXAMPLE");
        let reject = Reject::field(format!("rows.{key}"), "not found");
        let record = AuditRecord::new("s", "t", "alice", "documents:read", Err(&reject));
        assert!(
            !record.log_line().contains("IOSFODNN"),
            "{}",
            record.log_line()
        );
    }

    #[test]
    fn json_lines_sink_appends_one_line_per_record() {
        let dir = std::env::temp_dir().join(format!("secure-tool-audit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("audit.jsonl");
        let _ = std::fs::remove_file(&path);
        let sink = JsonLines::open(&path).unwrap();
        let record = AuditRecord::new("s", "t", "bob", "call", Ok(&[]));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            sink.write(&record).await.unwrap();
            sink.write(&record).await.unwrap();
        });
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
        let parsed: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(parsed["subject"], "bob");
        assert_eq!(parsed["outcome"], "allowed");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! Rate limits: a token bucket per subject, and one per subject and tool where
//! a declaration sets `rate = "N/unit"`.
//!
//! A bucket holds up to `calls` tokens and refills at `calls` per `per`. A call
//! takes one token from each bucket that applies, or from none: a call refused
//! by one bucket does not drain the other. Every authenticated attempt counts,
//! refused or not, so a flood of bad calls is throttled like any other.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::reject::{Gate, Reject};

/// A number of calls per period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// The calls allowed per period, and the burst allowed at once.
    pub calls: u32,
    /// The period.
    pub per: Duration,
}

/// The per-subject limit a pipeline applies unless configured otherwise.
pub const DEFAULT_SUBJECT_RATE: Rate = Rate::new(100, Duration::from_secs(1));

impl Rate {
    /// `calls` per `per`.
    pub const fn new(calls: u32, per: Duration) -> Self {
        Self { calls, per }
    }

    /// Parses `N/s`, `N/min` or `N/h` (N ≥ 1), the form `rate = ".."` takes,
    /// by the grammar the macro checks declarations with.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (calls, secs) = secure_tool_grammar::parse_rate(text)
            .ok_or_else(|| format!("expected {}, not {text:?}", secure_tool_grammar::RATE_FORMS))?;
        Ok(Self::new(calls, Duration::from_secs(secs)))
    }

    /// Parses a per-subject limit as a command line gives it: a rate, or
    /// `off` for none.
    pub fn parse_limit(text: &str) -> Result<Option<Self>, String> {
        match text {
            "off" => Ok(None),
            rate => Self::parse(rate).map(Some),
        }
    }

    fn per_token(self) -> Duration {
        self.per / self.calls
    }
}

/// A per-subject limit as a command line gives it (`--rate-limit`): a rate,
/// or `off` for none. Parses with [`Rate::parse_limit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit(pub Option<Rate>);

impl std::str::FromStr for RateLimit {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Rate::parse_limit(text).map(Self)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.per.as_secs() {
            1 => write!(f, "{}/s", self.calls),
            60 => write!(f, "{}/min", self.calls),
            3600 => write!(f, "{}/h", self.calls),
            _ => write!(f, "{} per {:?}", self.calls, self.per),
        }
    }
}

/// A token bucket, stored as the instant it will be full again (GCRA): one
/// timestamp per key, no background refill.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    full_at: Instant,
}

impl Bucket {
    /// When a call at `now` could take a token, if not now.
    fn wait(self, rate: Rate, now: Instant) -> Option<Duration> {
        // Taking a token moves `full_at` one token later; the bucket holds at
        // most `per`'s worth of tokens, so it may not reach beyond `now + per`.
        let after = self.full_at.max(now) + rate.per_token();
        let limit = now + rate.per;
        (after > limit).then(|| after - limit)
    }

    fn take(&mut self, rate: Rate, now: Instant) {
        self.full_at = self.full_at.max(now) + rate.per_token();
    }

    /// A full bucket is the same as no bucket.
    fn is_full(self, now: Instant) -> bool {
        self.full_at <= now
    }
}

/// One subject's buckets: its own, and one per tool with a rate it called.
#[derive(Debug)]
struct Slot {
    subject: Box<str>,
    caller: Bucket,
    tools: Vec<(&'static str, Bucket)>,
}

impl Slot {
    fn is_full(&self, now: Instant) -> bool {
        self.caller.is_full(now) && self.tools.iter().all(|(_, b)| b.is_full(now))
    }

    fn tool(&self, tool: &str) -> Option<Bucket> {
        self.tools.iter().find(|(t, _)| *t == tool).map(|(_, b)| *b)
    }
}

/// The buckets of all subjects: slots in a vector, found through an index by
/// subject. Every call sweeps the next [`SWEEP`] slots and drops those that
/// are full, so memory follows the subjects active within their periods and
/// no call ever scans the whole table.
#[derive(Debug, Default)]
struct Table {
    index: HashMap<Box<str>, usize>,
    slots: Vec<Slot>,
    cursor: usize,
}

/// Slots examined per call: more than the one a call can add, so the sweep
/// outpaces growth.
const SWEEP: usize = 2;

impl Table {
    /// The slot at `found`, or a new one for `subject`.
    fn slot(&mut self, found: Option<usize>, subject: &str, now: Instant) -> &mut Slot {
        let i = found.unwrap_or_else(|| {
            let i = self.slots.len();
            self.index.insert(subject.into(), i);
            self.slots.push(Slot {
                subject: subject.into(),
                caller: Bucket { full_at: now },
                tools: Vec::new(),
            });
            i
        });
        &mut self.slots[i]
    }

    /// Drops the full slots among the next few.
    fn sweep(&mut self, now: Instant) {
        for _ in 0..SWEEP {
            if self.cursor >= self.slots.len() {
                self.cursor = 0;
                if self.slots.is_empty() {
                    return;
                }
            }
            let i = self.cursor;
            if self.slots[i].is_full(now) {
                let gone = self.slots.swap_remove(i);
                self.index.remove(&gone.subject);
                if let Some(moved) = self.slots.get(i) {
                    self.index.insert(moved.subject.clone(), i);
                }
            } else {
                self.cursor += 1;
            }
        }
    }
}

/// A refusal at the rate gate: which limit, and how long to wait.
fn refusal((rate, what, wait): (Rate, &'static str, Duration)) -> Reject {
    Reject::at(
        Gate::Rate,
        None,
        format!(
            "rate limit of {rate} for {what} exceeded; retry after {:.1} s",
            wait.as_secs_f64().max(0.1)
        ),
    )
}

/// The rate limits of one pipeline.
#[derive(Debug)]
pub struct Limiter {
    subject: Option<Rate>,
    table: Mutex<Table>,
}

impl Default for Limiter {
    fn default() -> Self {
        Self::new(Some(DEFAULT_SUBJECT_RATE))
    }
}

impl Limiter {
    /// Limits each subject to `subject` (none when `None`), plus any per-tool rate.
    pub fn new(subject: Option<Rate>) -> Self {
        Self {
            subject,
            table: Mutex::default(),
        }
    }

    /// The per-subject limit.
    pub fn subject_rate(&self) -> Option<Rate> {
        self.subject
    }

    /// Takes a token for `subject` calling `tool` (limited to `tool_rate`), or
    /// refuses at [`Gate::Rate`] with the time to wait. The cost of a call
    /// does not grow with the number of subjects.
    pub fn check(
        &self,
        subject: &str,
        tool: &'static str,
        tool_rate: Option<Rate>,
    ) -> Result<(), Reject> {
        self.check_at(subject, tool, tool_rate, Instant::now())
    }

    /// [`Limiter::check`] for a request whose subject was already counted
    /// (by a transport that counts every request): only the tool's own rate.
    pub fn check_tool(
        &self,
        subject: &str,
        tool: &'static str,
        tool_rate: Option<Rate>,
    ) -> Result<(), Reject> {
        self.decide(subject, None, tool, tool_rate, Instant::now())
            .map_err(refusal)
    }

    /// The refusal of a caller over the per-subject rate by `wait`.
    pub fn caller_refusal(&self, wait: Duration) -> Reject {
        let rate = self.subject.unwrap_or(DEFAULT_SUBJECT_RATE);
        refusal((rate, "this caller", wait))
    }

    /// Takes a token from `key`'s bucket at the per-subject rate, or says how
    /// long to wait: for limits a transport keeps on its own keys (client
    /// addresses, or subjects for every request it carries) and answers with
    /// a status and `Retry-After`.
    pub fn admit(&self, key: &str) -> Result<(), Duration> {
        self.decide(key, self.subject, "", None, Instant::now())
            .map_err(|(_, _, wait)| wait)
    }

    fn check_at(
        &self,
        subject: &str,
        tool: &'static str,
        tool_rate: Option<Rate>,
        now: Instant,
    ) -> Result<(), Reject> {
        self.decide(subject, self.subject, tool, tool_rate, now)
            .map_err(refusal)
    }

    /// Takes a token from each bucket that applies, or from none and names
    /// the one that refused with the longest wait.
    fn decide(
        &self,
        subject: &str,
        subject_rate: Option<Rate>,
        tool: &'static str,
        tool_rate: Option<Rate>,
        now: Instant,
    ) -> Result<(), (Rate, &'static str, Duration)> {
        if subject_rate.is_none() && tool_rate.is_none() {
            return Ok(());
        }
        // A poisoned lock means a panic mid-update; the table is still consistent.
        let mut table = self
            .table
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        table.sweep(now);
        let fresh = Bucket { full_at: now };
        let found = table.index.get(subject).copied();
        let slot = found.map(|i| &table.slots[i]);
        let caller = slot.map_or(fresh, |s| s.caller);
        let own = slot.and_then(|s| s.tool(tool)).unwrap_or(fresh);
        let mut refused: Option<(Rate, &'static str, Duration)> = None;
        for (rate, bucket, what) in [
            (subject_rate, caller, "this caller"),
            (tool_rate, own, "this tool"),
        ] {
            let Some(rate) = rate else { continue };
            if let Some(wait) = bucket.wait(rate, now)
                && refused.is_none_or(|(_, _, w)| wait > w)
            {
                refused = Some((rate, what, wait));
            }
        }
        if let Some(refused) = refused {
            return Err(refused);
        }
        let slot = table.slot(found, subject, now);
        if let Some(rate) = subject_rate {
            slot.caller.take(rate, now);
        }
        if let Some(rate) = tool_rate {
            match slot.tools.iter_mut().find(|(t, _)| *t == tool) {
                Some((_, bucket)) => bucket.take(rate, now),
                None => {
                    let mut bucket = fresh;
                    bucket.take(rate, now);
                    slot.tools.push((tool, bucket));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOOL: &str = "tool";

    #[test]
    fn parses_the_declared_forms_and_nothing_else() {
        assert_eq!(
            Rate::parse("30/min"),
            Ok(Rate::new(30, Duration::from_secs(60)))
        );
        assert_eq!(Rate::parse("5/s").unwrap().to_string(), "5/s");
        assert_eq!(Rate::parse("1000/h").unwrap().to_string(), "1000/h");
        for bad in ["", "30", "0/s", "-1/s", "1/day", "x/min", "1.5/s", "10 / s"] {
            assert!(Rate::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_subject_gets_its_burst_then_a_retry_hint() {
        let limiter = Limiter::new(Some(Rate::new(3, Duration::from_secs(1))));
        let now = Instant::now();
        for _ in 0..3 {
            limiter.check_at("alice", TOOL, None, now).unwrap();
        }
        let refused = limiter.check_at("alice", TOOL, None, now).unwrap_err();
        assert_eq!(refused.gate(), Gate::Rate);
        assert!(
            refused
                .to_string()
                .contains("rate limit of 3/s for this caller exceeded; retry after 0.3 s"),
            "{refused}"
        );
        // Another subject has a bucket of its own.
        limiter.check_at("bob", TOOL, None, now).unwrap();
        // One token's worth of time later, one more call passes.
        let later = now + Duration::from_millis(334);
        limiter.check_at("alice", TOOL, None, later).unwrap();
        assert!(limiter.check_at("alice", TOOL, None, later).is_err());
    }

    #[test]
    fn a_tool_rate_applies_per_subject_and_tool_and_drains_nothing_when_refused() {
        let limiter = Limiter::new(Some(Rate::new(10, Duration::from_secs(1))));
        let tool_rate = Some(Rate::new(2, Duration::from_secs(60)));
        let now = Instant::now();
        limiter.check_at("alice", TOOL, tool_rate, now).unwrap();
        limiter.check_at("alice", TOOL, tool_rate, now).unwrap();
        let refused = limiter.check_at("alice", TOOL, tool_rate, now).unwrap_err();
        assert!(
            refused.to_string().contains("2/min for this tool"),
            "{refused}"
        );
        // The refusals took nothing from the subject's bucket: 8 calls remain.
        for _ in 0..8 {
            limiter.check_at("alice", "other", None, now).unwrap();
        }
        assert!(limiter.check_at("alice", "other", None, now).is_err());
        limiter.check_at("bob", TOOL, tool_rate, now).unwrap();
    }

    #[test]
    fn no_subject_rate_means_only_tool_rates_apply() {
        let limiter = Limiter::new(None);
        let now = Instant::now();
        for _ in 0..10_000 {
            limiter.check_at("alice", TOOL, None, now).unwrap();
        }
        let one = Some(Rate::new(1, Duration::from_secs(1)));
        limiter.check_at("alice", TOOL, one, now).unwrap();
        assert!(limiter.check_at("alice", TOOL, one, now).is_err());
    }

    #[test]
    fn memory_follows_the_active_subjects_not_all_that_ever_called() {
        // One new subject a millisecond, each idle again a millisecond later:
        // at most one is active at a time, and the sweep keeps up.
        let limiter = Limiter::new(Some(Rate::new(1, Duration::from_millis(1))));
        let tool_rate = Some(Rate::new(1, Duration::from_millis(1)));
        let start = Instant::now();
        for i in 0..30_000 {
            let now = start + Duration::from_millis(i);
            limiter
                .check_at(&format!("s{i}"), TOOL, tool_rate, now)
                .unwrap();
            let table = limiter.table.lock().unwrap();
            assert!(
                table.slots.len() <= SWEEP + 1,
                "{} at {i}",
                table.slots.len()
            );
            assert_eq!(table.index.len(), table.slots.len());
        }
    }

    #[test]
    fn the_sweep_keeps_active_subjects_and_their_counts() {
        // 1,000 subjects that each spent their whole burst stay limited, however
        // many calls (and sweeps) run meanwhile, and are found through the index
        // after the slots moved.
        let limiter = Limiter::new(Some(Rate::new(2, Duration::from_secs(60))));
        let now = Instant::now();
        for i in 0..1_000 {
            limiter.check_at(&format!("s{i}"), TOOL, None, now).unwrap();
            limiter.check_at(&format!("s{i}"), TOOL, None, now).unwrap();
        }
        for i in 0..1_000 {
            assert!(limiter.check_at(&format!("s{i}"), TOOL, None, now).is_err());
        }
        // A minute on, every bucket is full again and the sweep drains the table.
        let later = now + Duration::from_secs(60);
        for _ in 0..1_000 {
            limiter.check_at("t", TOOL, None, later).unwrap_or(());
        }
        let table = limiter.table.lock().unwrap();
        assert!(table.slots.len() <= 2, "{}", table.slots.len());
        for (i, slot) in table.slots.iter().enumerate() {
            assert_eq!(table.index[&slot.subject], i);
        }
    }
}

//! Rate limits: a token bucket per subject, and one per subject and tool where
//! a declaration sets `rate = "N/unit"`.
//!
//! A bucket holds up to `calls` tokens and refills at `calls` per `per`. A call
//! takes one token from each bucket that applies, or from none: a call refused
//! by one bucket does not drain the other. Every authenticated attempt counts,
//! refused or not, so a flood of bad calls is throttled like any other.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::future::BoxFuture;
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
        self.per / self.calls.max(1)
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
}

/// What the table keeps per key, and when it may be forgotten.
trait Entry: Copy {
    /// Whether dropping the entry changes nothing a later call could see.
    fn idle(&self, now: Instant) -> bool;
}

impl Entry for Bucket {
    /// A full bucket is the same as no bucket.
    fn idle(&self, now: Instant) -> bool {
        self.full_at <= now
    }
}

/// Tokens a replica took from a shared bucket and has not spent yet, and
/// what it learned of the bucket.
#[derive(Debug, Clone, Copy)]
struct Lease {
    /// Tokens left to spend: never more than a batch less one.
    left: u32,
    /// When the tokens left are dropped unspent.
    until: Instant,
    /// Until when the shared bucket holds no token, as the store said:
    /// calls are refused here meanwhile, without asking it again.
    empty_until: Instant,
    /// Since when a call has been taking a batch for this key, if one is;
    /// also what tells that call the mark is still its own.
    leasing: Option<Instant>,
}

impl Lease {
    /// Whether a call is taking a batch for this key now. A call dropped
    /// while it waited on the store leaves a mark that ages out, well after
    /// its wait would have ended.
    fn is_leasing(self, now: Instant) -> bool {
        self.leasing
            .is_some_and(|since| now.saturating_duration_since(since) < 2 * LEASE_TIMEOUT)
    }
}

impl Entry for Lease {
    /// Unspent tokens are dropped with the entry: they were counted against
    /// the shared bucket when leased, so dropping them never admits more.
    fn idle(&self, now: Instant) -> bool {
        !self.is_leasing(now) && self.empty_until <= now && (self.left == 0 || self.until <= now)
    }
}

/// One subject's entries: its own, and one per tool with a rate it called.
#[derive(Debug)]
struct Slot<E> {
    subject: Box<str>,
    caller: E,
    tools: Vec<(&'static str, E)>,
}

impl<E: Entry> Slot<E> {
    fn idle(&self, now: Instant) -> bool {
        self.caller.idle(now) && self.tools.iter().all(|(_, e)| e.idle(now))
    }

    fn tool(&self, tool: &str) -> Option<E> {
        self.tools.iter().find(|(t, _)| *t == tool).map(|(_, e)| *e)
    }

    /// The entry of the subject (`None`) or of one of its tools, created
    /// as `fresh` if missing.
    fn entry(&mut self, tool: Option<&'static str>, fresh: E) -> &mut E {
        let Some(tool) = tool else {
            return &mut self.caller;
        };
        let i = match self.tools.iter().position(|(t, _)| *t == tool) {
            Some(i) => i,
            None => {
                self.tools.push((tool, fresh));
                self.tools.len() - 1
            }
        };
        &mut self.tools[i].1
    }
}

/// The entries of all subjects: slots in a vector, found through an index by
/// subject. Every call sweeps the next [`SWEEP`] slots and drops those that
/// are idle, so memory follows the subjects active within their periods and
/// no call ever scans the whole table.
#[derive(Debug)]
struct Table<E> {
    index: HashMap<Box<str>, usize>,
    slots: Vec<Slot<E>>,
    cursor: usize,
}

impl<E> Default for Table<E> {
    fn default() -> Self {
        Self {
            index: HashMap::new(),
            slots: Vec::new(),
            cursor: 0,
        }
    }
}

/// Slots examined per call: more than the one a call can add, so the sweep
/// outpaces growth.
const SWEEP: usize = 2;

impl<E: Entry> Table<E> {
    /// The slot of `subject`, new with `fresh` entries if it has none.
    fn slot(&mut self, subject: &str, fresh: E) -> &mut Slot<E> {
        let found = self.index.get(subject).copied();
        self.slot_at(found, subject, fresh)
    }

    /// The slot at `found`, or a new one for `subject`.
    fn slot_at(&mut self, found: Option<usize>, subject: &str, fresh: E) -> &mut Slot<E> {
        let i = match found {
            Some(i) => i,
            None => {
                let i = self.slots.len();
                self.index.insert(subject.into(), i);
                self.slots.push(Slot {
                    subject: subject.into(),
                    caller: fresh,
                    tools: Vec::new(),
                });
                i
            }
        };
        &mut self.slots[i]
    }

    /// Drops the idle slots among the next few.
    fn sweep(&mut self, now: Instant) {
        for _ in 0..SWEEP {
            if self.cursor >= self.slots.len() {
                self.cursor = 0;
                if self.slots.is_empty() {
                    return;
                }
            }
            let i = self.cursor;
            if self.slots[i].idle(now) {
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

    fn lock(table: &Mutex<Self>) -> std::sync::MutexGuard<'_, Self> {
        // A poisoned lock means a panic mid-update; the table is still consistent.
        table
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A shared store of rate-limit buckets: what lets replicas hold one quota
/// for a subject instead of one each. `secure_tool::quota::SqlQuotas`
/// keeps them in PostgreSQL (feature `sql`).
pub trait Quotas: Send + Sync + fmt::Debug + 'static {
    /// Takes up to `want` tokens at once from the bucket of `subject` (and
    /// of `tool`, or the subject's own for `None`) at `rate`, in one atomic
    /// step: as many as the bucket holds, or none and how long until it
    /// holds one.
    fn lease<'a>(
        &'a self,
        subject: &'a str,
        tool: Option<&'a str>,
        rate: Rate,
        want: u32,
    ) -> BoxFuture<'a, Result<Leased, QuotaError>>;

    /// Puts back `tokens` a replica took from that bucket and will not
    /// spend: those of a call refused by its other limit, and any beyond
    /// the batch a replica may hold.
    fn refund<'a>(
        &'a self,
        subject: &'a str,
        tool: Option<&'a str>,
        rate: Rate,
        tokens: u32,
    ) -> BoxFuture<'a, Result<(), QuotaError>>;
}

/// What [`Quotas::lease`] granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leased {
    /// Tokens taken, from 0 to the number asked.
    pub tokens: u32,
    /// With no tokens: how long until the bucket holds one.
    pub wait: Duration,
}

/// The shared store could not be asked. Calls are refused at the rate gate
/// meanwhile: a limit that cannot be checked is not passed.
#[derive(Debug, Clone)]
pub struct QuotaError(pub String);

impl fmt::Display for QuotaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for QuotaError {}

/// How long a call waits on the shared store (for both its limits at once)
/// before it is refused.
pub const LEASE_TIMEOUT: Duration = Duration::from_secs(2);

/// The most tokens a replica takes from a shared bucket at once: a tenth of
/// the rate's calls, from 1 to 100. A replica holds at most `lease − 1`
/// tokens of a bucket unspent (any beyond go back to the store), and those
/// were counted against the shared bucket when it took them; so across `n`
/// replicas a subject gets at most `n × (lease − 1)` calls beyond its rate
/// in any window, and a rate of fewer than 20 calls is checked with the
/// store at every call.
pub fn lease_size(rate: Rate) -> u32 {
    (rate.calls / 10).clamp(1, 100)
}

/// Why a call or request was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Over the rate by this long.
    Over(Duration),
    /// The shared store of quotas could not be asked.
    Unavailable,
}

/// A refusal before it is worded: over a rate, or no answer from the store.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    Over(Rate, &'static str, Duration),
    Unavailable,
}

impl Refusal {
    /// The refusal to report of this one and `other`: a store that does
    /// not answer, or else the longest wait.
    fn or(self, other: Option<Self>) -> Option<Self> {
        Some(match (self, other) {
            (Self::Over(_, _, wait), Some(Self::Over(_, _, longer))) if longer >= wait => other?,
            (Self::Over(..), Some(Self::Unavailable)) => Self::Unavailable,
            _ => self,
        })
    }

    fn plain(self) -> Refused {
        match self {
            Self::Over(_, _, wait) => Refused::Over(wait),
            Self::Unavailable => Refused::Unavailable,
        }
    }

    /// A refusal at the rate gate: which limit, and how long to wait.
    fn reject(self) -> Reject {
        match self {
            Self::Over(rate, what, wait) => Reject::at(
                Gate::Rate,
                None,
                format!(
                    "rate limit of {rate} for {what} exceeded; retry after {:.1} s",
                    wait.as_secs_f64().max(0.1)
                ),
            ),
            Self::Unavailable => unavailable(),
        }
    }
}

fn unavailable() -> Reject {
    Reject::at(
        Gate::Rate,
        None,
        "rate limits cannot be checked: the shared quota store does not answer",
    )
}

/// Where a limiter keeps its buckets.
#[derive(Debug)]
enum Buckets {
    /// In this process.
    Local(Mutex<Table<Bucket>>),
    /// In a store replicas share, spent here from leased batches.
    Shared(Arc<dyn Quotas>, Mutex<Table<Lease>>),
}

/// The rate limits of one pipeline.
#[derive(Debug)]
pub struct Limiter {
    subject: Option<Rate>,
    buckets: Buckets,
}

impl Default for Limiter {
    fn default() -> Self {
        Self::new(Some(DEFAULT_SUBJECT_RATE))
    }
}

impl Limiter {
    /// Limits each subject to `subject` (none when `None`), plus any
    /// per-tool rate, in this process.
    pub fn new(subject: Option<Rate>) -> Self {
        Self {
            subject,
            buckets: Buckets::Local(Mutex::default()),
        }
    }

    /// The same limits, held in `quotas` so that replicas sharing it share
    /// them. A call takes a token from a batch this replica leased, and asks
    /// the store only when its batch is spent ([`lease_size`] states the
    /// bound this puts on over-admission). A store that does not answer
    /// within [`LEASE_TIMEOUT`] refuses the call.
    pub fn shared(subject: Option<Rate>, quotas: Arc<dyn Quotas>) -> Self {
        Self {
            subject,
            buckets: Buckets::Shared(quotas, Mutex::default()),
        }
    }

    /// The same store of buckets with another per-subject rate.
    pub fn with_subject_rate(&self, subject: Option<Rate>) -> Self {
        match &self.buckets {
            Buckets::Local(_) => Self::new(subject),
            Buckets::Shared(quotas, _) => Self::shared(subject, quotas.clone()),
        }
    }

    /// The per-subject limit.
    pub fn subject_rate(&self) -> Option<Rate> {
        self.subject
    }

    /// Whether the buckets live in a shared store.
    pub fn is_shared(&self) -> bool {
        matches!(self.buckets, Buckets::Shared(..))
    }

    /// Takes a token for `subject` calling `tool` (limited to `tool_rate`), or
    /// refuses at [`Gate::Rate`] with the time to wait. The cost of a call
    /// does not grow with the number of subjects.
    pub async fn check(
        &self,
        subject: &str,
        tool: &'static str,
        tool_rate: Option<Rate>,
    ) -> Result<(), Reject> {
        self.decide(subject, self.subject, tool, tool_rate)
            .await
            .map_err(Refusal::reject)
    }

    /// [`Limiter::check`] for a request whose subject was already counted
    /// (by a transport that counts every request): only the tool's own rate.
    pub async fn check_tool(
        &self,
        subject: &str,
        tool: &'static str,
        tool_rate: Option<Rate>,
    ) -> Result<(), Reject> {
        self.decide(subject, None, tool, tool_rate)
            .await
            .map_err(Refusal::reject)
    }

    /// The refusal at the rate gate of a caller a transport refused already.
    pub fn caller_refusal(&self, refused: Refused) -> Reject {
        match refused {
            Refused::Over(wait) => {
                let rate = self.subject.unwrap_or(DEFAULT_SUBJECT_RATE);
                Refusal::Over(rate, "this caller", wait).reject()
            }
            Refused::Unavailable => unavailable(),
        }
    }

    /// Takes a token from `key`'s bucket at the per-subject rate, or says why
    /// not: for limits a transport keeps on its own keys (client addresses,
    /// or subjects for every request it carries) and answers with a status
    /// and `Retry-After`.
    pub async fn admit(&self, key: &str) -> Result<(), Refused> {
        self.decide(key, self.subject, "", None)
            .await
            .map_err(Refusal::plain)
    }

    async fn decide(
        &self,
        subject: &str,
        subject_rate: Option<Rate>,
        tool: &'static str,
        tool_rate: Option<Rate>,
    ) -> Result<(), Refusal> {
        if subject_rate.is_none() && tool_rate.is_none() {
            return Ok(());
        }
        let now = Instant::now();
        match &self.buckets {
            Buckets::Local(table) => {
                decide_local(table, subject, subject_rate, tool, tool_rate, now)
            }
            Buckets::Shared(quotas, table) => {
                let limits = [
                    (subject_rate, None, "this caller"),
                    (tool_rate, Some(tool), "this tool"),
                ];
                // Boxed: the in-process path does not carry its state.
                Box::pin(decide_shared(&**quotas, table, subject, limits, now)).await
            }
        }
    }

    #[cfg(test)]
    fn local(&self) -> std::sync::MutexGuard<'_, Table<Bucket>> {
        let Buckets::Local(table) = &self.buckets else {
            unreachable!("tests of the local table")
        };
        Table::lock(table)
    }

    #[cfg(test)]
    fn check_at(
        &self,
        subject: &str,
        tool: &'static str,
        tool_rate: Option<Rate>,
        now: Instant,
    ) -> Result<(), Reject> {
        let Buckets::Local(table) = &self.buckets else {
            unreachable!("tests of the local table")
        };
        decide_local(table, subject, self.subject, tool, tool_rate, now).map_err(Refusal::reject)
    }
}

/// Takes a token from each local bucket that applies, or from none and names
/// the one that refused with the longest wait.
fn decide_local(
    table: &Mutex<Table<Bucket>>,
    subject: &str,
    subject_rate: Option<Rate>,
    tool: &'static str,
    tool_rate: Option<Rate>,
    now: Instant,
) -> Result<(), Refusal> {
    let mut table = Table::lock(table);
    table.sweep(now);
    let fresh = Bucket { full_at: now };
    let found = table.index.get(subject).copied();
    let slot = found.map(|i| &table.slots[i]);
    let caller = slot.map_or(fresh, |s| s.caller);
    let own = slot.and_then(|s| s.tool(tool)).unwrap_or(fresh);
    let mut refused: Option<Refusal> = None;
    for (rate, bucket, what) in [
        (subject_rate, caller, "this caller"),
        (tool_rate, own, "this tool"),
    ] {
        let Some(rate) = rate else { continue };
        if let Some(wait) = bucket.wait(rate, now) {
            refused = Refusal::Over(rate, what, wait).or(refused);
        }
    }
    if let Some(refused) = refused {
        return Err(refused);
    }
    let slot = table.slot_at(found, subject, fresh);
    if let Some(rate) = subject_rate {
        slot.caller.take(rate, now);
    }
    if let Some(rate) = tool_rate {
        slot.entry(Some(tool), fresh).take(rate, now);
    }
    Ok(())
}

/// A limit as the shared path takes it: the rate, the tool (`None` for the
/// subject's own), and how a refusal names it.
type Limit = (Option<Rate>, Option<&'static str>, &'static str);

/// What a call did with one limit's local batch before asking the store.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// Took a token from the batch.
    Took,
    /// Asks the store for `want` tokens. A call that refills the batch
    /// marks it with the instant it began (`leads`); others meanwhile ask
    /// for their own token only.
    Ask { want: u32, leads: Option<Instant> },
}

/// Takes a token for each limit that applies from this replica's batches,
/// leasing from the store for the spent ones; or takes none, and names the
/// limit that refused with the longest wait.
async fn decide_shared(
    quotas: &dyn Quotas,
    table: &Mutex<Table<Lease>>,
    subject: &str,
    limits: [Limit; 2],
    now: Instant,
) -> Result<(), Refusal> {
    let fresh = Lease {
        left: 0,
        until: now,
        empty_until: now,
        leasing: None,
    };
    let mut steps = [None; 2];
    {
        let mut table = Table::lock(table);
        table.sweep(now);
        let slot = table.slot(subject, fresh);
        // A bucket the store said is empty refuses here, taking nothing.
        let mut refused = None;
        for (rate, tool, what) in limits {
            let Some(rate) = rate else { continue };
            let lease = slot.entry(tool, fresh);
            if lease.empty_until > now {
                refused = Refusal::Over(rate, what, lease.empty_until - now).or(refused);
            }
        }
        if let Some(refused) = refused {
            return Err(refused);
        }
        for ((rate, tool, _), step) in limits.iter().zip(&mut steps) {
            let Some(rate) = rate else { continue };
            let lease = slot.entry(*tool, fresh);
            if lease.until <= now {
                lease.left = 0;
            }
            *step = Some(if lease.left > 0 {
                lease.left -= 1;
                Step::Took
            } else if lease.is_leasing(now) {
                Step::Ask {
                    want: 1,
                    leads: None,
                }
            } else {
                lease.leasing = Some(now);
                Step::Ask {
                    want: lease_size(*rate),
                    leads: Some(now),
                }
            });
        }
    }
    // Both asks at once, under one deadline.
    let ask = |(rate, tool, _): Limit, step: Option<Step>| async move {
        match (rate, step) {
            (Some(rate), Some(Step::Ask { want, .. })) => {
                Some(quotas.lease(subject, tool, rate, want).await)
            }
            _ => None,
        }
    };
    let asks = async { tokio::join!(ask(limits[0], steps[0]), ask(limits[1], steps[1])) };
    let answers: [Option<Result<Leased, ()>>; 2] =
        match tokio::time::timeout(LEASE_TIMEOUT, asks).await {
            Ok((first, second)) => [first, second].map(|answer| {
                answer.map(|leased| {
                    leased.map_err(|error| {
                        tracing::warn!(%error, "the shared quota store failed");
                    })
                })
            }),
            Err(_) => {
                tracing::warn!("the shared quota store did not answer in time");
                steps.map(|step| matches!(step, Some(Step::Ask { .. })).then_some(Err(())))
            }
        };
    let mut refused: Option<Refusal> = None;
    for ((rate, _, what), answer) in limits.iter().zip(&answers) {
        match (rate, answer) {
            (_, Some(Err(()))) => refused = Refusal::Unavailable.or(refused),
            (Some(rate), Some(Ok(leased))) if leased.tokens == 0 => {
                refused = Refusal::Over(*rate, what, leased.wait).or(refused);
            }
            _ => {}
        }
    }
    // Settle: keep what was leased, up to a batch less one; what the call
    // does not spend, and any beyond that, goes back to the store.
    let mut refunds = [None; 2];
    {
        let mut table = Table::lock(table);
        let slot = table.slot(subject, fresh);
        for (i, ((rate, tool, _), step)) in limits.iter().zip(&steps).enumerate() {
            let (Some(rate), Some(step)) = (rate, step) else {
                continue;
            };
            let lease = slot.entry(*tool, fresh);
            let got = match (step, &answers[i]) {
                (Step::Took, _) => 1,
                (Step::Ask { leads, .. }, answer) => {
                    if leads.is_some() && lease.leasing == *leads {
                        lease.leasing = None;
                    }
                    match answer {
                        Some(Ok(leased)) if leased.tokens == 0 => {
                            lease.empty_until = lease.empty_until.max(now + leased.wait);
                            0
                        }
                        Some(Ok(leased)) => {
                            lease.until = now.checked_add(rate.per).unwrap_or(now);
                            leased.tokens
                        }
                        _ => 0,
                    }
                }
            };
            let unspent = if refused.is_some() {
                got
            } else {
                got.saturating_sub(1)
            };
            let held = lease.left.saturating_add(unspent);
            lease.left = held.min(lease_size(*rate) - 1);
            if held > lease.left {
                refunds[i] = Some((*rate, *tool, held - lease.left));
            }
        }
    }
    for (rate, tool, tokens) in refunds.into_iter().flatten() {
        let refund = quotas.refund(subject, tool, rate, tokens);
        match tokio::time::timeout(LEASE_TIMEOUT, refund).await {
            Ok(Ok(())) => {}
            // Tokens not put back only leave the bucket emptier.
            Ok(Err(error)) => tracing::warn!(%error, "cannot return rate tokens to the store"),
            Err(_) => tracing::warn!("the shared quota store did not take back rate tokens"),
        }
    }
    refused.map_or(Ok(()), Err)
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
            let table = limiter.local();
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
        let table = limiter.local();
        assert!(table.slots.len() <= 2, "{}", table.slots.len());
        for (i, slot) in table.slots.iter().enumerate() {
            assert_eq!(table.index[&slot.subject], i);
        }
    }
}

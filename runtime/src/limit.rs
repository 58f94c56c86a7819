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

/// Buckets beyond this many are pruned of the full ones (a full bucket is the
/// same as no bucket), so a stream of new subjects cannot grow memory unbounded.
const PRUNE_AT: usize = 10_000;

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
}

/// The rate limits of one pipeline.
#[derive(Debug)]
pub struct Limiter {
    subject: Option<Rate>,
    buckets: Mutex<HashMap<(Box<str>, &'static str), Bucket>>,
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
            buckets: Mutex::default(),
        }
    }

    /// The per-subject limit.
    pub fn subject_rate(&self) -> Option<Rate> {
        self.subject
    }

    /// Takes a token for `subject` calling `tool` (limited to `tool_rate`), or
    /// refuses at [`Gate::Rate`] with the time to wait.
    pub fn check(
        &self,
        subject: &str,
        tool: &'static str,
        tool_rate: Option<Rate>,
    ) -> Result<(), Reject> {
        self.check_at(subject, tool, tool_rate, Instant::now())
    }

    fn check_at(
        &self,
        subject: &str,
        tool: &'static str,
        tool_rate: Option<Rate>,
        now: Instant,
    ) -> Result<(), Reject> {
        let limits = [(self.subject, ""), (tool_rate, tool)];
        // A poisoned lock means a panic mid-update; the map is still consistent.
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let fresh = Bucket { full_at: now };
        let mut refused: Option<(Rate, &str, Duration)> = None;
        for (rate, key) in limits {
            let Some(rate) = rate else { continue };
            let bucket = buckets
                .get(&(Box::from(subject), key))
                .copied()
                .unwrap_or(fresh);
            if let Some(wait) = bucket.wait(rate, now)
                && refused.is_none_or(|(_, _, w)| wait > w)
            {
                refused = Some((rate, key, wait));
            }
        }
        if let Some((rate, key, wait)) = refused {
            let what = if key.is_empty() {
                "this caller"
            } else {
                "this tool"
            };
            return Err(Reject::at(
                Gate::Rate,
                None,
                format!(
                    "rate limit of {rate} for {what} exceeded; retry after {:.1} s",
                    wait.as_secs_f64().max(0.1)
                ),
            ));
        }
        if buckets.len() >= PRUNE_AT {
            buckets.retain(|_, b| b.full_at > now);
        }
        for (rate, key) in limits {
            let Some(rate) = rate else { continue };
            buckets
                .entry((Box::from(subject), key))
                .or_insert(fresh)
                .take(rate, now);
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
    fn memory_stays_bounded_under_many_subjects() {
        let limiter = Limiter::new(Some(Rate::new(1, Duration::from_millis(1))));
        let start = Instant::now();
        for i in 0..3 * PRUNE_AT {
            let now = start + Duration::from_millis(i as u64);
            limiter.check_at(&format!("s{i}"), TOOL, None, now).unwrap();
        }
        assert!(limiter.buckets.lock().unwrap().len() <= PRUNE_AT);
    }
}

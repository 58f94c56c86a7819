//! Consent for destructive calls: what a question asks, how it can end, and
//! the ways of asking (feature `consent`): MCP elicitation before protocol
//! 2026-07-28; from it on, a question returned in an `InputRequiredResult`
//! with a sealed state (`Rounds`); and approval by a person on the
//! server's own page (`confirm = "human"`).

use std::time::Duration;

use crate::future::BoxFuture;
use crate::reject::{Gate, Reject};

/// The arguments object of a tool call.
type Arguments = serde_json::Map<String, serde_json::Value>;

/// What a consent request asks about: one call, exactly.
#[derive(Debug)]
pub struct Question<'a> {
    /// The server asking.
    pub server: &'static str,
    /// The tool called.
    pub tool: &'static str,
    /// Who calls it.
    pub subject: &'a str,
    /// Its arguments, without the credential.
    pub args: &'a Arguments,
    /// What the user is shown: the tool and its arguments, redacted.
    pub message: String,
    /// How long the user has to answer.
    pub timeout: Duration,
    /// Whether a person must approve outside the MCP client
    /// (`confirm = "human"`).
    pub human: bool,
}

/// How a consent request ended.
#[derive(Debug)]
pub enum Answer {
    /// The user approved this call.
    Approved,
    /// The user declined, cancelled, or did not answer in time.
    Declined,
    /// The client declared no way to ask: the `confirm` flag stands alone.
    Unavailable,
    /// The question went out with the call's result; the client calls again
    /// with the answer, and this call ends here.
    Pending,
    /// The answer came back, and is refused (a state forged, altered, expired
    /// or already used).
    Refused(Reject),
}

/// A refusal at the confirm gate, for `reason`.
pub(crate) fn consent_refused(reason: impl std::fmt::Display) -> Reject {
    Reject::at(
        Gate::Confirm,
        Some("confirm".into()),
        format!("blocked: {reason}"),
    )
}

/// Asks a human to confirm a destructive call, when the client can ask.
pub trait Consent: Send + Sync {
    /// Asks `question`.
    fn ask<'a>(&'a self, question: Question<'a>) -> BoxFuture<'a, Answer>;
}

#[cfg(feature = "consent")]
mod rounds;
#[cfg(feature = "consent")]
#[cfg_attr(docsrs, doc(cfg(feature = "consent")))]
pub use rounds::*;

//! Consent on protocol 2026-07-28, where a server may no longer send a request
//! in the middle of a call: a destructive call is answered with an
//! `InputRequiredResult` that asks the user, and runs only on a retry that
//! carries the user's approval and the sealed state the question went out with.
//!
//! The state is sealed with HMAC-SHA256 under a server key, binds the subject,
//! the tool and the exact arguments, expires with the consent timeout, and is
//! spent once: a record of spent states ([`Spent`]) makes a replay fail, on
//! every replica that shares it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use rmcp::model::{
    ElicitRequest, ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationSchema,
    InputRequest, InputRequiredResult, InputResponses, RequestStateCodec, RequestStateError,
    SealOptions,
};

use crate::future::BoxFuture;
use crate::pipeline::{Answer, Consent, Question, consent_refused};
use crate::store::StoreError;

/// The key of the one input request a consent question makes.
pub const INPUT_KEY: &str = "confirm";

/// The form a consent question shows.
#[derive(serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct Approval {
    /// Approve this destructive action?
    pub(crate) approve: bool,
}

rmcp::elicit_safe!(Approval);

/// A consent key is unusable.
#[derive(Debug)]
pub struct KeyError(RequestStateError);

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "consent key: {}", self.0)
    }
}

impl std::error::Error for KeyError {}

/// The record of consent states already used. Replicas that serve the same
/// tools share one, or a state spent on one could be spent again on another.
pub trait Spent: Send + Sync + 'static {
    /// Marks the state `id` spent until `expires_ms` (Unix time, ms):
    /// `Ok(true)` the first time, `Ok(false)` when it already was.
    fn spend<'a>(&'a self, id: &'a str, expires_ms: u64)
    -> BoxFuture<'a, Result<bool, StoreError>>;
}

/// Spent states in this process's memory: enough for one replica.
#[derive(Debug, Default)]
pub struct SpentInMemory(Mutex<HashMap<String, u64>>);

/// Past this many records, expired ones are dropped before another is added.
const SPENT_PRUNE_AT: usize = 1024;

impl Spent for SpentInMemory {
    fn spend<'a>(
        &'a self,
        id: &'a str,
        expires_ms: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let now = now_ms();
        let mut spent = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if spent.len() >= SPENT_PRUNE_AT {
            spent.retain(|_, until| *until >= now);
        }
        let first = spent.insert(id.to_owned(), expires_ms).is_none();
        Box::pin(std::future::ready(Ok(first)))
    }
}

#[cfg(feature = "sql")]
impl Spent for crate::store::Store {
    fn spend<'a>(
        &'a self,
        id: &'a str,
        expires_ms: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let fail = |e| StoreError::new("cannot record a consent as used", e);
            let expires = i64::try_from(expires_ms).unwrap_or(i64::MAX);
            let now = i64::try_from(now_ms()).unwrap_or(i64::MAX);
            sqlx::query("DELETE FROM consent_spent WHERE expires_ms < $1")
                .bind(now)
                .execute(self.pool())
                .await
                .map_err(fail)?;
            let done = sqlx::query(
                "INSERT INTO consent_spent (id, expires_ms) VALUES ($1, $2) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(id)
            .bind(expires)
            .execute(self.pool())
            .await
            .map_err(fail)?;
            Ok(done.rows_affected() == 1)
        })
    }
}

/// How a server seals consent states and records them spent.
#[derive(Clone)]
pub struct Rounds {
    codec: Arc<RequestStateCodec>,
    spent: Arc<dyn Spent>,
}

impl std::fmt::Debug for Rounds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rounds").finish_non_exhaustive()
    }
}

impl Default for Rounds {
    fn default() -> Self {
        Self::ephemeral()
    }
}

impl Rounds {
    /// A key drawn at random for this process, and spent states in memory:
    /// a state sealed here opens nowhere else, so another replica refuses it.
    pub fn ephemeral() -> Self {
        let mut key = [0u8; 32];
        // No randomness from the system: every seal is refused, never forgeable.
        let codec = match getrandom::fill(&mut key) {
            Ok(()) => RequestStateCodec::try_new(key.to_vec()).ok(),
            Err(_) => None,
        };
        let codec = codec.unwrap_or_else(|| RequestStateCodec::new_unchecked(Vec::new()));
        Self {
            codec: Arc::new(codec),
            spent: Arc::new(SpentInMemory::default()),
        }
    }

    /// Seals with `key` (at least 32 bytes), which replicas share.
    pub fn new(key: impl Into<Vec<u8>>) -> Result<Self, KeyError> {
        Ok(Self {
            codec: Arc::new(RequestStateCodec::try_new(key).map_err(KeyError)?),
            spent: Arc::new(SpentInMemory::default()),
        })
    }

    /// Seals with the key named `active` and opens with any of `keys`, so a
    /// key can be rotated without refusing the states already issued.
    pub fn with_keyring<K: Into<String>, V: Into<Vec<u8>>>(
        active: &str,
        keys: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, KeyError> {
        let codec = RequestStateCodec::new_with_keyring(active, keys).map_err(KeyError)?;
        Ok(Self {
            codec: Arc::new(codec),
            spent: Arc::new(SpentInMemory::default()),
        })
    }

    /// The key in `{prefix}_CONSENT_KEY` (at least 32 bytes), which every
    /// replica is given; a process without it draws its own
    /// ([`Rounds::ephemeral`]), and its states open nowhere else.
    pub fn from_env(prefix: &str) -> Result<Self, KeyError> {
        match std::env::var(format!("{prefix}_CONSENT_KEY")) {
            Ok(key) => Self::new(key),
            Err(_) => Ok(Self::ephemeral()),
        }
    }

    /// Records spent states in `spent` (the shared store, for replicas).
    pub fn with_spent(mut self, spent: impl Spent) -> Self {
        self.spent = Arc::new(spent);
        self
    }

    /// The consent of one call: `state` and `responses` are what the client
    /// sent back, if this is a retry; `can_ask` is whether it can show a form.
    pub fn for_call<'a>(
        &'a self,
        state: Option<&'a str>,
        responses: Option<&'a InputResponses>,
        can_ask: bool,
    ) -> InBand<'a> {
        InBand {
            rounds: self,
            state,
            responses,
            can_ask,
            pending: Mutex::new(None),
        }
    }

    /// What the seal binds: who, which tool, exactly which arguments.
    fn binding(question: &Question<'_>) -> Vec<u8> {
        let args = serde_json::to_string(question.args).unwrap_or_default();
        format!(
            "secure-tool consent v1\0{}\0{}\0{args}",
            question.subject, question.tool
        )
        .into_bytes()
    }

    fn ask(&self, question: &Question<'_>) -> InputRequiredResult {
        let id = crate::log::unique_id();
        let binding = Self::binding(question);
        let options = SealOptions::new()
            .associated_data(&binding)
            .ttl(question.timeout);
        let state = self.codec.seal_with(id.as_bytes(), &options);
        let form = ElicitRequestParams::FormElicitationParams {
            meta: None,
            message: question.message.clone(),
            requested_schema: approval_schema(),
        };
        let mut requests = rmcp::model::InputRequests::new();
        requests.insert(
            INPUT_KEY.to_owned(),
            InputRequest::Elicitation(ElicitRequest::new(form)),
        );
        InputRequiredResult::new(Some(requests), Some(state))
    }

    async fn check(
        &self,
        question: &Question<'_>,
        state: &str,
        responses: Option<&InputResponses>,
    ) -> Answer {
        let id = match self.codec.open_with(state, &Self::binding(question)) {
            Ok(id) => String::from_utf8_lossy(&id).into_owned(),
            Err(error) => {
                // One answer for every failure (forged, altered, expired, or
                // for another caller, tool or arguments); the log says which.
                tracing::warn!(target: crate::log::TARGET,
                    "consent state refused for `{}`: {error}", question.tool);
                return Answer::Refused(consent_refused(
                    "the confirmation state is not valid for this caller, tool and arguments, or has expired; call again without it to be asked again",
                ));
            }
        };
        let answer = responses
            .and_then(|r| r.get(INPUT_KEY))
            .and_then(|answer| serde_json::from_value::<ElicitResult>(answer.clone()).ok());
        let approved = answer.is_some_and(|answer| {
            answer.action == ElicitationAction::Accept
                && answer
                    .content
                    .and_then(|c| serde_json::from_value::<Approval>(c).ok())
                    .is_some_and(|a| a.approve)
        });
        if !approved {
            return Answer::Declined;
        }
        let until = now_ms().saturating_add(question.timeout.as_millis() as u64);
        match self.spent.spend(&id, until).await {
            Ok(true) => Answer::Approved,
            Ok(false) => Answer::Refused(consent_refused("this confirmation was already used")),
            Err(error) => Answer::Refused(consent_refused(format!(
                "the confirmation could not be recorded as used ({error})"
            ))),
        }
    }
}

fn approval_schema() -> ElicitationSchema {
    // A fixed schema of one boolean: built the same way every time.
    ElicitationSchema::builder()
        .required_bool("approve")
        .description("Approve this destructive action?")
        .build()
        .unwrap_or_else(|_| ElicitationSchema::new(Default::default()))
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The consent of one call on protocol 2026-07-28.
#[derive(Debug)]
pub struct InBand<'a> {
    rounds: &'a Rounds,
    state: Option<&'a str>,
    responses: Option<&'a InputResponses>,
    can_ask: bool,
    pending: Mutex<Option<InputRequiredResult>>,
}

impl InBand<'_> {
    /// The question to send back instead of a result, if one was asked.
    pub fn take_question(&self) -> Option<InputRequiredResult> {
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

impl Consent for InBand<'_> {
    fn ask<'a>(&'a self, question: Question<'a>) -> BoxFuture<'a, Answer> {
        Box::pin(async move {
            if let Some(state) = self.state {
                return self.rounds.check(&question, state, self.responses).await;
            }
            if !self.can_ask {
                return Answer::Unavailable;
            }
            let asked = self.rounds.ask(&question);
            *self.pending.lock().unwrap_or_else(PoisonError::into_inner) = Some(asked);
            Answer::Pending
        })
    }
}

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
use std::time::Duration;

use rmcp::model::{
    ElicitRequest, ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationSchema,
    InputRequest, InputRequiredResult, InputResponses, RequestStateCodec, RequestStateError,
    SealOptions,
};

use super::{Answer, Consent, Question, consent_refused};
use crate::approval::{APPROVAL_TIMEOUT, Approvals, ApprovalsInMemory, Pending, Status};
use crate::auth::TokenVerifier;
use crate::future::BoxFuture;
use crate::reject::Reject;
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

/// How a server seals consent states, records them spent, and keeps the
/// approvals asked of a person.
#[derive(Clone)]
pub struct Rounds {
    /// `None` when no key could be drawn: every seal is then refused.
    codec: Option<Arc<RequestStateCodec>>,
    spent: Arc<dyn Spent>,
    approvals: Arc<dyn Approvals>,
    approval_timeout: Duration,
    approver: Option<Arc<dyn TokenVerifier>>,
}

impl std::fmt::Debug for Rounds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rounds")
            .field("approval_timeout", &self.approval_timeout)
            .finish_non_exhaustive()
    }
}

impl Default for Rounds {
    fn default() -> Self {
        Self::ephemeral()
    }
}

/// How the client of one call can reach its user.
#[derive(Debug, Clone, Copy, Default)]
pub struct Reach<'a> {
    /// It shows a form (form-mode elicitation).
    pub form: bool,
    /// It opens a URL for the person (URL-mode elicitation).
    pub url: bool,
    /// The base URL of this server's approval page, when it serves one
    /// (over HTTP).
    pub page: Option<&'a str>,
}

impl Rounds {
    fn with_codec(codec: Option<RequestStateCodec>) -> Self {
        Self {
            codec: codec.map(Arc::new),
            approver: None,
            spent: Arc::new(SpentInMemory::default()),
            approvals: Arc::new(ApprovalsInMemory::default()),
            approval_timeout: APPROVAL_TIMEOUT,
        }
    }

    /// A key drawn at random for this process, spent states and approvals
    /// in its memory: a state sealed here opens nowhere else, so another
    /// replica refuses it.
    pub fn ephemeral() -> Self {
        let mut key = [0u8; 32];
        // No randomness from the system: no key, and every state is refused.
        let codec = match getrandom::fill(&mut key) {
            Ok(()) => RequestStateCodec::try_new(key.to_vec()).ok(),
            Err(_) => None,
        };
        if codec.is_none() {
            tracing::error!(target: crate::log::TARGET,
                "no randomness for a consent key: every consent state will be refused");
        }
        Self::with_codec(codec)
    }

    /// Seals with `key` (at least 32 bytes), which replicas share.
    pub fn new(key: impl Into<Vec<u8>>) -> Result<Self, KeyError> {
        Ok(Self::with_codec(Some(
            RequestStateCodec::try_new(key).map_err(KeyError)?,
        )))
    }

    /// Seals with the key named `active` and opens with any of `keys`, so a
    /// key can be rotated without refusing the states already issued.
    pub fn with_keyring<K: Into<String>, V: Into<Vec<u8>>>(
        active: &str,
        keys: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, KeyError> {
        let codec = RequestStateCodec::new_with_keyring(active, keys).map_err(KeyError)?;
        Ok(Self::with_codec(Some(codec)))
    }

    /// The key in `{prefix}_CONSENT_KEY` (at least 32 bytes), which every
    /// replica is given; a process without it draws its own
    /// ([`Rounds::ephemeral`]), and its states open nowhere else.
    pub fn from_env(prefix: &str) -> Result<Self, KeyError> {
        match std::env::var(format!("{prefix}_CONSENT_KEY")) {
            Ok(key) => Self::new(key),
            Err(std::env::VarError::NotPresent) => Ok(Self::ephemeral()),
            // Set, but not text: a key meant for use, unusable; not another.
            Err(std::env::VarError::NotUnicode(_)) => Err(KeyError(
                RequestStateError::InvalidKeyring("the consent key is not UTF-8"),
            )),
        }
    }

    /// Records spent states in `spent`.
    pub fn with_spent(mut self, spent: impl Spent) -> Self {
        self.spent = Arc::new(spent);
        self
    }

    /// Keeps approvals in `approvals`.
    pub fn with_approvals(mut self, approvals: impl Approvals) -> Self {
        self.approvals = Arc::new(approvals);
        self
    }

    /// Records spent states and keeps approvals in `store`, which replicas share.
    #[cfg(feature = "sql")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sql")))]
    pub fn with_store(self, store: crate::store::Store) -> Self {
        self.with_spent(store.clone()).with_approvals(store)
    }

    /// Signs people in on the approval page with `approver`: a credential
    /// the MCP client does not hold (tokens for another audience, issued to
    /// the person). A token the server's own verifier accepts never signs in
    /// there, so a client cannot approve its own call. Without an approver no
    /// person can be reached, and `confirm = "human"` calls are refused.
    pub fn with_approver(mut self, approver: impl TokenVerifier) -> Self {
        self.approver = Some(Arc::new(approver));
        self
    }

    /// How people sign in on the approval page, if they can.
    pub fn approver(&self) -> Option<&dyn TokenVerifier> {
        self.approver.as_deref()
    }

    /// Gives a person `timeout` to open the approval page and decide
    /// (default [`APPROVAL_TIMEOUT`]).
    pub fn with_approval_timeout(mut self, timeout: Duration) -> Self {
        self.approval_timeout = timeout;
        self
    }

    /// The approvals asked for.
    pub fn approvals(&self) -> &dyn Approvals {
        &*self.approvals
    }

    /// The consent of one call: `state` and `responses` are what the client
    /// sent back, if this is a retry; `reach` how it can reach its user.
    pub fn for_call<'a>(
        &'a self,
        state: Option<&'a str>,
        responses: Option<&'a InputResponses>,
        reach: Reach<'a>,
    ) -> InBand<'a> {
        InBand {
            rounds: self,
            state,
            responses,
            reach,
            pending: Mutex::new(None),
        }
    }

    /// What the seal binds: who, which tool, exactly which arguments, and
    /// whom the question went to (the user, or a person on the page).
    fn binding(question: &Question<'_>) -> Vec<u8> {
        let args = serde_json::to_string(question.args).unwrap_or_default();
        let whom = if question.human { "human" } else { "user" };
        format!(
            "secure-tool consent v1\0{whom}\0{}\0{}\0{}\0{args}",
            question.server, question.subject, question.tool
        )
        .into_bytes()
    }

    fn seal(&self, question: &Question<'_>, id: &str, ttl: Duration) -> String {
        let binding = Self::binding(question);
        let options = SealOptions::new().associated_data(&binding).ttl(ttl);
        // Without a key the state is empty, and opens nowhere.
        self.codec
            .as_ref()
            .map(|codec| codec.seal_with(id.as_bytes(), &options))
            .unwrap_or_default()
    }

    /// The id a returned state seals, if it is valid for `question`.
    fn open(&self, question: &Question<'_>, state: &str) -> Result<String, Reject> {
        let opened = match &self.codec {
            Some(codec) => codec.open_with(state, &Self::binding(question)),
            None => Err(RequestStateError::UnknownKeyId),
        };
        match opened {
            Ok(id) => Ok(String::from_utf8_lossy(&id).into_owned()),
            Err(error) => {
                // One answer for every failure (forged, altered, expired, or
                // for another caller, tool or arguments); the log says which.
                tracing::warn!(target: crate::log::TARGET,
                    "consent state refused for `{}`: {error}", question.tool);
                Err(consent_refused(
                    "the confirmation state is not valid for this caller, tool and arguments, or has expired; call again without it to be asked again",
                ))
            }
        }
    }

    fn ask(&self, question: &Question<'_>) -> Result<InputRequiredResult, Reject> {
        let id = random_id()?;
        let form = ElicitRequestParams::FormElicitationParams {
            meta: None,
            message: question.message.clone(),
            requested_schema: approval_schema(),
        };
        Ok(asking(form, self.seal(question, &id, question.timeout)))
    }

    async fn check(
        &self,
        question: &Question<'_>,
        state: &str,
        responses: Option<&InputResponses>,
    ) -> Answer {
        let id = match self.open(question, state) {
            Ok(id) => id,
            Err(refused) => return Answer::Refused(refused),
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
        // Kept past the seal's own expiry by a margin, so that a replica whose
        // clock runs behind cannot open a state whose record is gone.
        let until = now_ms()
            .saturating_add(question.timeout.as_millis() as u64)
            .saturating_add(CLOCK_MARGIN.as_millis() as u64);
        match self.spent.spend(&id, until).await {
            Ok(true) => Answer::Approved,
            Ok(false) => Answer::Refused(consent_refused("this confirmation was already used")),
            Err(error) => Answer::Refused(consent_refused(format!(
                "the confirmation could not be recorded as used ({error})"
            ))),
        }
    }

    /// A `confirm = "human"` call: ask a person on the approval page, or run
    /// on the approval they gave there. A question asked comes back with
    /// the answer.
    async fn human(
        &self,
        question: &Question<'_>,
        state: Option<&str>,
        responses: Option<&InputResponses>,
        reach: Reach<'_>,
    ) -> (Answer, Option<InputRequiredResult>) {
        let refused = |reason: String| (Answer::Refused(consent_refused(reason)), None);
        let Some(page) = reach.page else {
            return (Answer::Refused(no_page(question.tool)), None);
        };
        if self.approver.is_none() {
            return refused(format!(
                "`{}` runs only with the approval of a person, and this server has no sign-in for approvers configured",
                question.tool
            ));
        }
        let Some(state) = state else {
            if !reach.url {
                return refused(format!(
                    "`{}` runs only with the approval of a person on this server's approval page, and this client cannot open a page for its user (no URL elicitation)",
                    question.tool
                ));
            }
            let action = match shown(question) {
                Ok(action) => action,
                Err(reject) => return (Answer::Refused(reject), None),
            };
            let id = match random_id() {
                Ok(id) => id,
                Err(reject) => return (Answer::Refused(reject), None),
            };
            let pending = Pending {
                id: id.clone(),
                subject: question.subject.to_owned(),
                tool: question.tool.to_owned(),
                action,
                expires_ms: now_ms().saturating_add(self.approval_timeout.as_millis() as u64),
            };
            match self.approvals.open(&pending, PENDING_PER_SUBJECT).await {
                Ok(true) => {}
                Ok(false) => {
                    return refused(format!(
                        "{PENDING_PER_SUBJECT} approvals of this caller are already waiting for a person; decide or let them expire first"
                    ));
                }
                Err(error) => {
                    return refused(format!("the approval could not be recorded ({error})"));
                }
            }
            let state = self.seal(question, &id, self.approval_timeout);
            return (Answer::Pending, Some(page_question(page, &id, state)));
        };
        let id = match self.open(question, state) {
            Ok(id) => id,
            Err(reject) => return (Answer::Refused(reject), None),
        };
        // The client's user declined to open the page, or cancelled: the call
        // ends here (a person's approval would still stand for a new retry).
        let declined = responses
            .and_then(|r| r.get(INPUT_KEY))
            .and_then(|answer| serde_json::from_value::<ElicitResult>(answer.clone()).ok())
            .is_some_and(|answer| answer.action != ElicitationAction::Accept);
        if declined {
            return (Answer::Declined, None);
        }
        match self.approvals.take(&id).await {
            Ok(Some(Status::Approved)) => (Answer::Approved, None),
            // Not decided yet: the same question again, for the same approval.
            Ok(Some(Status::Pending)) => (
                Answer::Pending,
                Some(page_question(page, &id, state.to_owned())),
            ),
            Ok(Some(Status::Denied)) => {
                refused("the person denied this action on the approval page".into())
            }
            Ok(Some(Status::Used)) => refused("this approval was already used".into()),
            Ok(None) => refused("the approval has expired; call again to ask anew".into()),
            Err(error) => refused(format!("the approval could not be read ({error})")),
        }
    }
}

fn page_question(page: &str, id: &str, state: String) -> InputRequiredResult {
    let url = ElicitRequestParams::UrlElicitationParams {
        meta: None,
        message: "A person must approve this action on the server's approval page; \
                      open it, sign in, and decide. Then let the call continue."
            .to_owned(),
        url: format!("{}{}{id}", page.trim_end_matches('/'), APPROVAL_PATH),
        elicitation_id: String::new(),
    };
    asking(url, state)
}

/// The refusal of a `confirm = "human"` call on a transport that serves no
/// approval page (stdio).
pub(crate) fn no_page(tool: &str) -> Reject {
    consent_refused(format_args!(
        "`{tool}` runs only with the approval of a person on this server's approval page, which no client of this transport can reach; call it over HTTP"
    ))
}

/// The base URL of the approval page the HTTP front serves, for the tool
/// calls of one request.
#[cfg(feature = "http")]
#[derive(Debug, Clone)]
pub(crate) struct ApprovalPage(pub(crate) Arc<str>);

/// How long past its expiry a spent state's record is kept: more than the
/// clocks of two replicas are expected ever to disagree.
const CLOCK_MARGIN: Duration = Duration::from_secs(600);

/// The approvals one subject may have waiting at once.
pub const PENDING_PER_SUBJECT: usize = 16;

/// The longest rendering of a call's arguments a person is shown.
const SHOWN_LIMIT: usize = 64 * 1024;

/// What the approval page shows: the tool and its arguments, whole and
/// escaped (control, bidirectional and invisible characters made visible).
/// Arguments that cannot be shown whole, or that read as a credential, are
/// not put before a person: what they approve must be what runs.
fn shown(question: &Question<'_>) -> Result<String, Reject> {
    let args = serde_json::Value::Object(question.args.clone());
    let rendered = crate::log::render_value_within(&args, SHOWN_LIMIT);
    if rendered.ends_with('…') {
        return Err(consent_refused(format!(
            "the arguments of `{}` are too long to show a person whole (over {SHOWN_LIMIT} bytes)",
            question.tool
        )));
    }
    if !crate::guards::secrets::redact(&rendered)
        .findings
        .is_empty()
    {
        return Err(consent_refused(format!(
            "the arguments of `{}` carry what reads as a credential, which the approval page does not show",
            question.tool
        )));
    }
    Ok(format!("{} {rendered}", question.tool))
}

/// 128 bits from the system's randomness, in hex: the ids of states and
/// approvals, and the page's form tokens.
pub(crate) fn random_id() -> Result<String, Reject> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|_| consent_refused("no randomness is available to the server"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Where the approval page is served: `{base}/approve/{id}`.
pub const APPROVAL_PATH: &str = "/approve/";

fn asking(params: ElicitRequestParams, state: String) -> InputRequiredResult {
    let mut requests = rmcp::model::InputRequests::new();
    requests.insert(
        INPUT_KEY.to_owned(),
        InputRequest::Elicitation(ElicitRequest::new(params)),
    );
    InputRequiredResult::new(Some(requests), Some(state))
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
    reach: Reach<'a>,
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

    fn asked(&self, question: InputRequiredResult) -> Answer {
        *self.pending.lock().unwrap_or_else(PoisonError::into_inner) = Some(question);
        Answer::Pending
    }
}

impl Consent for InBand<'_> {
    fn ask<'a>(&'a self, question: Question<'a>) -> BoxFuture<'a, Answer> {
        Box::pin(async move {
            if question.human {
                return match self
                    .rounds
                    .human(&question, self.state, self.responses, self.reach)
                    .await
                {
                    (Answer::Pending, Some(asked)) => self.asked(asked),
                    (answer, _) => answer,
                };
            }
            if let Some(state) = self.state {
                return self.rounds.check(&question, state, self.responses).await;
            }
            if !self.reach.form {
                return Answer::Unavailable;
            }
            match self.rounds.ask(&question) {
                Ok(asked) => self.asked(asked),
                Err(reject) => Answer::Refused(reject),
            }
        })
    }
}

impl Rounds {
    /// Seals `payload` for `purpose` with the server's key, for `ttl`.
    #[cfg(feature = "http")]
    pub(crate) fn seal_for(&self, payload: &[u8], purpose: &[u8], ttl: Duration) -> String {
        let options = SealOptions::new().associated_data(purpose).ttl(ttl);
        self.codec
            .as_ref()
            .map(|codec| codec.seal_with(payload, &options))
            .unwrap_or_default()
    }

    /// Opens what [`Rounds::seal_for`] sealed for `purpose`, if it is intact
    /// and unexpired.
    #[cfg(feature = "http")]
    pub(crate) fn open_for(&self, sealed: &str, purpose: &[u8]) -> Option<Vec<u8>> {
        self.codec.as_ref()?.open_with(sealed, purpose).ok()
    }
}

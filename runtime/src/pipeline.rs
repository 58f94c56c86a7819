//! The per-request pipeline, in its fixed order:
//! authenticate → authorize → inspect input → execute → inspect output → audit.
//!
//! The order holds by construction: each stage is a method on the proof the
//! previous stage returns ([`Authenticated`], [`Authorized`], [`Inspected`],
//! [`Executed`]), and those proofs have private fields, so nothing outside this
//! module can make one. A stage that refuses returns a [`Reject`] and the request
//! skips straight to audit; a refused request never reaches execute.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::Value;

use crate::audit::{Attempt, Audit, AuditRecord};
use crate::auth::{AuthError, Principal, TokenVerifier, UNAUTHENTICATED};
#[cfg(feature = "rbac")]
use crate::authz::Authorizer;
#[cfg(feature = "fetch")]
use crate::guards::ssrf::FetchPolicy;
use crate::limit::{Limiter, Rate};
use crate::output::Output;
use crate::reject::{Gate, Reject};
use crate::spec::{Access, ToolSpec};
use crate::state::{Context, States};
use crate::telemetry::{Marks, Stage};

/// The arguments object of a tool call.
pub type Arguments = serde_json::Map<String, serde_json::Value>;

/// What the transport knows about one request.
#[derive(Clone, Copy, Default)]
pub struct Request<'a> {
    /// Where the caller's credential travels.
    pub credential: Credential<'a>,
    /// A way to ask the human for consent, when the client offers one.
    pub consent: Option<&'a (dyn Consent + 'a)>,
    /// Whether the transport already counted the request against its
    /// subject's rate.
    pub charge: Charge,
    /// The W3C `traceparent` the client sent in the request's `_meta`, for
    /// telemetry to join its trace.
    pub traceparent: Option<&'a str>,
    /// The roots this session's client allows, narrowed from the server's
    /// (`None`: the server's own).
    #[cfg(feature = "files")]
    #[cfg_attr(docsrs, doc(cfg(feature = "files")))]
    pub roots: Option<&'a crate::guards::path::Roots>,
}

/// Whether a request was counted against its subject's rate before it
/// reached the pipeline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Charge {
    /// Not yet: the pipeline counts it (stdio).
    #[default]
    Pending,
    /// Counted by the transport, which counts every request (HTTP): the
    /// pipeline applies only the tool's own rate.
    Paid,
    /// Counted, and refused: over the subject's rate, or its shared quota
    /// could not be checked. Refused at the rate gate.
    Over(crate::limit::Refused),
}

/// Where a caller's credential travels.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub enum Credential<'a> {
    /// In the `token` argument of scoped tools (stdio); public tools take none.
    #[default]
    Argument,
    /// In the transport's `Authorization: Bearer` header (HTTP), for every
    /// tool; a `token` argument is then an unknown field.
    Header(Option<&'a str>),
}

impl std::fmt::Debug for Credential<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Argument => f.write_str("Argument"),
            Credential::Header(None) => f.write_str("Header(None)"),
            Credential::Header(Some(_)) => f.write_str("Header(<redacted>)"),
        }
    }
}

impl std::fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("credential", &self.credential)
            .field("consent", &self.consent.is_some())
            .finish()
    }
}

/// The rejection for a tool name the server does not declare.
pub fn unknown_tool(name: &str) -> Reject {
    Reject::at(Gate::UnknownTool, Some("name".into()), "no such tool").with_text(name)
}

/// A declared tool, as `#[secure_tool]` implements it.
pub trait Tool: 'static {
    /// The tool's spec.
    const SPEC: &'static ToolSpec;
    /// The validated, typed arguments.
    type Args: Send;
    /// Every argument gate and input guard; the result is proof the arguments
    /// honour the contract.
    fn validate(
        args: &Arguments,
        guards: &Guards,
    ) -> impl Future<Output = Result<Self::Args, Reject>> + Send;
    /// The body, run only with validated arguments.
    fn execute(
        args: Self::Args,
        context: Context,
    ) -> impl Future<Output = Result<Output, Reject>> + Send;
}

pub use crate::spec::TOKEN_FIELD;

/// What one request produced, for the transport and for tests.
#[derive(Debug)]
pub struct Trace {
    /// The MCP result: success, or `isError` with the reason.
    pub result: CallToolResult,
    /// The audit record written for it.
    pub record: AuditRecord,
    /// Whether the tool body ran.
    pub executed: bool,
}

/// The configuration of the input guards.
#[derive(Debug, Clone, Default)]
pub struct Guards {
    /// What the SSRF guard lets tools fetch.
    #[cfg(feature = "fetch")]
    #[cfg_attr(docsrs, doc(cfg(feature = "fetch")))]
    pub fetch: FetchPolicy,
    /// The directories `CheckedPath` arguments must lie beneath (none: every
    /// path is refused).
    #[cfg(feature = "files")]
    #[cfg_attr(docsrs, doc(cfg(feature = "files")))]
    pub files: crate::guards::path::Roots,
    /// How long a human has to answer a consent request.
    pub consent_timeout: Option<Duration>,
}

use crate::consent::consent_refused;
pub use crate::consent::{Answer, Consent, Question};

/// The default time a human has to answer a consent request.
pub const CONSENT_TIMEOUT: Duration = Duration::from_secs(60);

/// The refusal of a credential that is missing or does not verify, wherever
/// it is detected.
pub(crate) fn auth_failed(error: &AuthError) -> Reject {
    Reject::at(
        Gate::Auth,
        Some(TOKEN_FIELD.into()),
        format!("authentication failed: {error}"),
    )
}

/// The default time a tool body may run before it is cancelled.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// How long, at most, a stopping server waits for the tool calls in flight
/// to finish (as long as a call may run, by default).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// The configured stages of a server.
#[derive(Clone)]
pub struct Pipeline {
    server: &'static str,
    guards: Guards,
    states: Arc<States>,
    verifier: Option<Arc<dyn TokenVerifier>>,
    #[cfg(feature = "rbac")]
    authorizer: Option<Authorizer>,
    audit: Audit,
    limiter: Arc<Limiter>,
    /// Refusals at the rate gate, audited once per subject and window.
    over_rate: Arc<OverRate>,
    /// Tool calls running now, for a transport that stops to wait for.
    in_flight: Arc<InFlight>,
    call_timeout: Duration,
    /// How consent states are sealed and spent (protocol 2026-07-28).
    #[cfg(feature = "consent")]
    rounds: crate::consent::Rounds,
    /// Where metrics are counted and spans sent, when configured.
    #[cfg(feature = "telemetry")]
    telemetry: Option<crate::telemetry::Telemetry>,
}

/// How long the refusals of one subject at the rate gate are gathered into
/// one audit record.
pub const RATE_REFUSAL_WINDOW: Duration = Duration::from_secs(10);

/// The most subjects whose rate refusals are gathered apart; past it, the
/// rest share one window.
const RATE_REFUSAL_SUBJECTS: usize = 10_000;

/// Refusals at the rate gate by subject: the first of a window is audited at
/// once, the rest are counted and audited as one record when the window
/// closes (at the subject's next refusal after it, or when the audit is
/// settled), so a caller over its rate cannot write audit rows at the rate
/// it sends requests.
#[derive(Debug, Default)]
struct OverRate(std::sync::Mutex<std::collections::HashMap<String, (Instant, u64)>>);

impl OverRate {
    /// Notes a refusal of `subject` at `now`: whether to audit it now, and
    /// the count of a window of the subject's that this closes.
    fn note(&self, subject: &str, now: Instant) -> (bool, Option<(String, u64)>) {
        let mut open = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = if open.len() >= RATE_REFUSAL_SUBJECTS && !open.contains_key(subject) {
            "*"
        } else {
            subject
        };
        match open.get_mut(key) {
            Some((opened, more)) if now.duration_since(*opened) < RATE_REFUSAL_WINDOW => {
                *more += 1;
                (false, None)
            }
            Some(window) => {
                let closed = (window.1 > 0).then(|| (key.to_owned(), window.1));
                *window = (now, 0);
                (true, closed)
            }
            None => {
                open.insert(key.to_owned(), (now, 0));
                (true, None)
            }
        }
    }

    /// Closes every window: `(subject, refusals not yet audited)`.
    fn close_all(&self) -> Vec<(String, u64)> {
        let mut open = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        open.drain()
            .filter(|(_, (_, more))| *more > 0)
            .map(|(subject, (_, more))| (subject, more))
            .collect()
    }
}

/// The tool calls a pipeline is running, and a way to wait until none is.
#[derive(Debug, Default)]
struct InFlight {
    running: std::sync::atomic::AtomicUsize,
    idle: tokio::sync::Notify,
}

/// Counts one call as running until dropped.
struct Running<'a>(&'a InFlight);

impl<'a> Running<'a> {
    fn start(in_flight: &'a InFlight) -> Self {
        in_flight
            .running
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Self(in_flight)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if self
            .0
            .running
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst)
            == 1
        {
            self.0.idle.notify_waiters();
        }
    }
}

impl Pipeline {
    fn has_authorizer(&self) -> bool {
        #[cfg(feature = "rbac")]
        return self.authorizer.is_some();
        #[cfg(not(feature = "rbac"))]
        false
    }
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("server", &self.server)
            .field("verifier", &self.verifier.is_some())
            .field("authorizer", &self.has_authorizer())
            .field("audit", &self.audit)
            .field("subject_rate", &self.limiter.subject_rate())
            .field("call_timeout", &self.call_timeout)
            .finish()
    }
}

/// How a call went, for its record.
struct Run {
    started: Instant,
    executed: bool,
    count: u64,
    call_id: Option<String>,
    /// When each stage ended, when telemetry is on.
    marks: Option<Marks>,
}

/// Marks the end of `stage` when telemetry is on.
fn mark(marks: &mut Option<Marks>, stage: Stage) {
    if let Some(marks) = marks {
        marks.end(stage);
    }
}

/// Proof that the caller is who the token says (or that the tool is public).
#[derive(Debug)]
pub struct Authenticated {
    principal: Principal,
}

/// Proof that the caller may call the tool.
#[derive(Debug)]
pub struct Authorized {
    principal: Principal,
    grant: Option<crate::state::Grant>,
}

/// Proof that the arguments passed every input gate.
#[derive(Debug)]
pub struct Inspected<A> {
    principal: Principal,
    grant: Option<crate::state::Grant>,
    /// State of this session that overrides the server's (narrowed roots).
    session: Option<Arc<States>>,
    args: A,
}

/// The body's output, not yet inspected.
#[derive(Debug)]
pub struct Executed {
    output: Output,
}

impl Pipeline {
    /// A pipeline with no verifier and no authorizer: public tools run, scoped
    /// tools are refused at the auth gate.
    pub fn new(server: &'static str) -> Self {
        Self {
            server,
            guards: Guards::default(),
            states: Arc::default(),
            verifier: None,
            #[cfg(feature = "rbac")]
            authorizer: None,
            audit: Audit::default(),
            limiter: Arc::default(),
            over_rate: Arc::default(),
            in_flight: Arc::default(),
            call_timeout: CALL_TIMEOUT,
            #[cfg(feature = "consent")]
            rounds: crate::consent::Rounds::ephemeral(),
            #[cfg(feature = "telemetry")]
            telemetry: None,
        }
    }

    /// Limits each subject to `rate` calls (`None`: no per-subject limit; per-tool
    /// rates still apply). The default is [`crate::limit::DEFAULT_SUBJECT_RATE`].
    pub fn with_subject_rate(mut self, rate: Option<Rate>) -> Self {
        self.limiter = Arc::new(self.limiter.with_subject_rate(rate));
        self
    }

    /// Keeps the rate limits in `quotas`, which replicas share, instead of
    /// in this process: a subject then has one quota across all of them.
    pub fn with_quotas(mut self, quotas: impl crate::limit::Quotas) -> Self {
        self.limiter = Arc::new(Limiter::shared(
            self.limiter.subject_rate(),
            Arc::new(quotas),
        ));
        self
    }

    /// Shares the rate limits through `store` when it is PostgreSQL, where
    /// replicas meet; on SQLite, one machine's store, they stay in-process.
    #[cfg(feature = "sql")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sql")))]
    pub fn with_quota_store(self, store: &crate::store::Store) -> Self {
        match store.backend() {
            crate::store::Backend::Postgres => {
                let quotas = crate::quota::SqlQuotas::new(store.clone(), self.server);
                self.with_quotas(quotas)
            }
            crate::store::Backend::Sqlite => self,
        }
    }

    /// Counts calls in `telemetry`'s metrics, and sends their spans where it
    /// says.
    #[cfg(feature = "telemetry")]
    #[cfg_attr(docsrs, doc(cfg(feature = "telemetry")))]
    pub fn with_telemetry(mut self, telemetry: crate::telemetry::Telemetry) -> Self {
        self.telemetry = Some(telemetry);
        self
    }

    /// The telemetry calls are counted in, if any.
    #[cfg(feature = "telemetry")]
    #[cfg_attr(docsrs, doc(cfg(feature = "telemetry")))]
    pub fn telemetry(&self) -> Option<&crate::telemetry::Telemetry> {
        self.telemetry.as_ref()
    }

    /// The stage marks of a call that started at `started`, when telemetry
    /// traces calls.
    fn marks(&self, started: Instant, traceparent: Option<&str>) -> Option<Marks> {
        #[cfg(feature = "telemetry")]
        if self.telemetry.as_ref().is_some_and(|t| t.traces()) {
            return Some(Marks::new(started, traceparent));
        }
        let _ = (started, traceparent);
        None
    }

    /// Cancels a tool body that runs longer than `timeout` (default [`CALL_TIMEOUT`]).
    pub fn with_call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// Seals consent states, and records them spent, with `rounds` (the
    /// default: a key of this process's, spent states in its memory).
    #[cfg(feature = "consent")]
    #[cfg_attr(docsrs, doc(cfg(feature = "consent")))]
    pub fn with_consent_rounds(mut self, rounds: crate::consent::Rounds) -> Self {
        self.rounds = rounds;
        self
    }

    /// How consent states are sealed and spent.
    #[cfg(feature = "consent")]
    #[cfg_attr(docsrs, doc(cfg(feature = "consent")))]
    pub fn consent_rounds(&self) -> &crate::consent::Rounds {
        &self.rounds
    }

    /// Verifies a bearer token, for transports that authenticate a connection
    /// before any tool is named.
    pub async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        match &self.verifier {
            Some(verifier) => verifier.verify(token).await,
            None => Err(AuthError::NoVerifier),
        }
    }

    /// The authorizer, through which a replica changes the shared policies.
    #[cfg(feature = "rbac")]
    #[cfg_attr(docsrs, doc(cfg(feature = "rbac")))]
    pub fn authorizer(&self) -> Option<&Authorizer> {
        self.authorizer.as_ref()
    }

    /// The pipeline's rate limits.
    pub fn limiter(&self) -> &Limiter {
        &self.limiter
    }

    /// The authorization servers the verifier trusts (see
    /// [`TokenVerifier::authorization_servers`]).
    pub fn authorization_servers(&self) -> Vec<String> {
        self.verifier
            .as_ref()
            .map_or_else(Vec::new, |v| v.authorization_servers())
    }

    /// Whether this pipeline can verify credentials at all.
    pub fn verifies(&self) -> bool {
        self.verifier.is_some()
    }

    /// Verifies tokens with `verifier`.
    pub fn with_verifier(mut self, verifier: impl TokenVerifier) -> Self {
        self.verifier = Some(Arc::new(verifier));
        self
    }

    /// Authorizes with `authorizer`.
    #[cfg(feature = "rbac")]
    #[cfg_attr(docsrs, doc(cfg(feature = "rbac")))]
    pub fn with_authorizer(mut self, authorizer: Authorizer) -> Self {
        self.authorizer = Some(authorizer);
        self
    }

    /// Registers state that tool bodies receive as `State<T>`.
    pub fn with_state<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        Arc::make_mut(&mut self.states).insert(value);
        self
    }

    /// The server state registered with [`Pipeline::with_state`].
    pub fn states(&self) -> &crate::state::States {
        &self.states
    }

    /// Configures the input guards.
    pub fn with_guards(mut self, guards: Guards) -> Self {
        self.guards = guards;
        self
    }

    /// Audits with `audit`.
    pub fn with_audit(mut self, audit: Audit) -> Self {
        self.audit = audit;
        self
    }

    /// Adds a durable audit sink to those configured.
    pub fn with_audit_sink(mut self, sink: impl crate::audit::AuditSink) -> Self {
        self.audit = self.audit.with_sink(sink);
        self
    }

    /// Audits the refusals at the rate gate still being counted, then waits
    /// until the audit trail written so far is durable (see [`Audit::settle`]).
    pub async fn settle_audit(&self) -> Result<(), crate::audit::AuditError> {
        for (subject, more) in self.over_rate.close_all() {
            self.audit_rate_window(&subject, more).await;
        }
        let settled = self.audit.settle().await;
        // After the audit: telemetry never holds up what must be durable.
        #[cfg(feature = "telemetry")]
        if let Some(telemetry) = &self.telemetry {
            telemetry.flush().await;
        }
        settled
    }

    /// One record for `more` refusals of `subject` at the rate gate.
    async fn audit_rate_window(&self, subject: &str, more: u64) {
        let reject = Reject::at(
            Gate::Rate,
            None,
            format!(
                "rate limit exceeded {more} more time(s) within {} s",
                RATE_REFUSAL_WINDOW.as_secs()
            ),
        );
        let mut record = AuditRecord::new(self.server, "", subject, "call", Err(&reject));
        record.count = more;
        let _ = self.audit.record(&mut record).await;
    }

    /// Audits what a person did on the approval page: `Ok(what)` a decision
    /// about to take effect, `Err(why)` one that did not.
    #[cfg(all(feature = "consent", feature = "http"))]
    pub(crate) async fn audit_approval(
        &self,
        pending: &crate::approval::Pending,
        subject: &str,
        what: Result<String, String>,
    ) -> Result<(), Reject> {
        let reject = what
            .as_ref()
            .err()
            .map(|why| Reject::at(Gate::Confirm, None, why.clone()));
        let mut record = AuditRecord::new(
            self.server,
            &pending.tool,
            subject,
            "decide",
            reject.as_ref().map_or(Ok(&[]), Err),
        );
        if let Ok(what) = what {
            record.reason = Some(what);
        }
        self.audit.record(&mut record).await
    }

    /// How many tool calls are running now.
    pub fn calls_in_flight(&self) -> usize {
        self.in_flight
            .running
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Waits until no tool call is running, or `limit` has passed; true when
    /// none is.
    pub async fn drain(&self, limit: Duration) -> bool {
        let idle = async {
            loop {
                let notified = self.in_flight.idle.notified();
                if self.calls_in_flight() == 0 {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(limit, idle).await.is_ok()
    }

    /// The input guards' configuration.
    pub fn guards(&self) -> &Guards {
        &self.guards
    }

    /// The server's name.
    pub fn server(&self) -> &'static str {
        self.server
    }

    /// Stage 1. Over stdio, public tools need no token and scoped tools need
    /// one that verifies. A transport that carries a credential (HTTP) needs
    /// one that verifies for every tool, so every call has a subject.
    pub async fn authenticate(
        &self,
        spec: &ToolSpec,
        credential: Credential<'_>,
        token: Option<&Value>,
    ) -> Result<Authenticated, Reject> {
        let refuse = |e: AuthError| auth_failed(&e);
        if matches!(
            (spec.access, credential),
            (Access::Public, Credential::Argument)
        ) {
            return Ok(Authenticated {
                principal: Principal::unauthenticated(),
            });
        }
        let token = match token {
            None => return Err(refuse(AuthError::Missing)),
            Some(Value::String(t)) => t,
            Some(_) => return Err(refuse(AuthError::Malformed("not a string"))),
        };
        self.verify(token)
            .await
            .map(|principal| Authenticated { principal })
            .map_err(refuse)
    }

    /// Runs one call of `T` through every stage, then audits it.
    pub async fn run<T: Tool>(&self, mut args: Arguments, request: Request<'_>) -> Trace {
        let Request {
            credential,
            consent,
            charge,
            traceparent,
            ..
        } = request;
        // A session whose client narrowed the roots checks paths, and hands
        // bodies that take `State<Roots>`, the narrowed ones.
        #[cfg(feature = "files")]
        let narrowed = request.roots.map(|roots| Guards {
            files: roots.clone(),
            ..self.guards.clone()
        });
        #[cfg(feature = "files")]
        let guards = narrowed.as_ref().unwrap_or(&self.guards);
        #[cfg(not(feature = "files"))]
        let guards = &self.guards;
        let started = Instant::now();
        let mut marks = self.marks(started, traceparent);
        let _running = Running::start(&self.in_flight);
        let spec = T::SPEC;
        let mut subject = UNAUTHENTICATED.to_owned();
        let mut executed = false;
        let mut call_id = None;
        let action = match spec.access {
            Access::Scope(scope) => scope,
            Access::Public => "call",
        };
        // Over stdio the token is an argument of scoped tools; it is taken out
        // here, before any other gate, and never logged. Over HTTP it is the
        // bearer header, and a `token` argument is an unknown field.
        let token = match (credential, spec.access) {
            (Credential::Argument, Access::Scope(_)) => args.remove(TOKEN_FIELD),
            (Credential::Argument, Access::Public) | (Credential::Header(None), _) => None,
            (Credential::Header(Some(bearer)), _) => Some(Value::String(bearer.to_owned())),
        };
        let result = async {
            let authenticated = self.authenticate(spec, credential, token.as_ref()).await?;
            mark(&mut marks, Stage::Authenticate);
            subject = authenticated.principal.subject().to_owned();
            self.charge(charge, &subject, spec.name, spec.rate).await?;
            mark(&mut marks, Stage::Rate);
            let authorized = authenticated.authorize(self, spec).await?;
            mark(&mut marks, Stage::Authorize);
            let inspected = authorized
                .inspect_with::<T>(self, guards, &args, consent)
                .await?;
            mark(&mut marks, Stage::InspectInput);
            #[cfg(feature = "files")]
            let inspected = Inspected {
                session: request.roots.map(|roots| {
                    let mut session = States::default();
                    session.insert(roots.clone());
                    Arc::new(session)
                }),
                ..inspected
            };
            // Write-ahead: the body runs only once its attempt is durable.
            if self.audit.is_durable() {
                let attempt = Attempt::new(self.server, spec.name, &subject, action);
                self.audit.attempt(&attempt).await?;
                call_id = Some(attempt.call_id);
            }
            executed = true;
            let executed = inspected.execute::<T>(self).await?;
            mark(&mut marks, Stage::Execute);
            let inspected = executed.inspect_output();
            mark(&mut marks, Stage::InspectOutput);
            Ok(inspected)
        }
        .await;
        if let Some(marks) = &mut marks {
            marks.audit();
        }
        let run = Run {
            started,
            executed,
            count: 1,
            call_id,
            marks,
        };
        self.finish((spec.name, action), &subject, result, run)
            .await
    }

    /// Counts a call against the subject's rate, unless the transport did,
    /// and against the tool's own.
    async fn charge(
        &self,
        charge: Charge,
        subject: &str,
        tool: &'static str,
        rate: Option<Rate>,
    ) -> Result<(), Reject> {
        match charge {
            Charge::Pending => self.limiter.check(subject, tool, rate).await,
            Charge::Paid => self.limiter.check_tool(subject, tool, rate).await,
            Charge::Over(refused) => Err(self.limiter.caller_refusal(refused)),
        }
    }

    /// Refuses and audits a call of a tool the server does not declare. The
    /// call counts against its caller's rate like any other (over HTTP the
    /// bearer's subject, over stdio the unauthenticated caller), so guessing
    /// names cannot write audit records faster than calling real tools.
    pub async fn unknown_tool(&self, name: &str, request: Request<'_>) -> Trace {
        let subject = match request.credential {
            Credential::Header(Some(token)) => self.verify(token).await.ok(),
            _ => None,
        };
        let subject = subject.as_ref().map_or(UNAUTHENTICATED, Principal::subject);
        let reject = match self.charge(request.charge, subject, "", None).await {
            Ok(()) => unknown_tool(name),
            Err(over) => over,
        };
        self.refuse(None, subject, reject).await
    }

    /// Audits a refusal made before a call reached the pipeline (by the HTTP
    /// front, which refuses bad credentials and missing scopes with a status).
    pub async fn refuse(&self, spec: Option<&ToolSpec>, subject: &str, reject: Reject) -> Trace {
        self.refuse_counted(spec, subject, reject, 1).await
    }

    /// Audits `count` alike refusals as one record (the failed
    /// authentications of one client address in one window).
    pub async fn refuse_counted(
        &self,
        spec: Option<&ToolSpec>,
        subject: &str,
        reject: Reject,
        count: u64,
    ) -> Trace {
        let (tool, action) = match spec.map(|s| (s.name, s.access)) {
            Some((name, Access::Scope(scope))) => (name, scope),
            Some((name, Access::Public)) => (name, "call"),
            None => ("", "call"),
        };
        let run = Run {
            started: Instant::now(),
            executed: false,
            count,
            call_id: None,
            marks: None,
        };
        self.finish((tool, action), subject, Err(reject), run).await
    }

    /// Audits the outcome of a call of `tool` needing `action`.
    async fn finish(
        &self,
        (tool, action): (&'static str, &str),
        subject: &str,
        result: Result<(Output, Vec<String>), Reject>,
        Run {
            started,
            executed,
            count,
            call_id,
            marks,
        }: Run,
    ) -> Trace {
        let result = result.map_err(|r| r.in_tool(tool));
        let mut record = AuditRecord::new(
            self.server,
            tool,
            subject,
            action,
            result.as_ref().map(|(_, findings)| findings.as_slice()),
        );
        record.count = count;
        record.call_id = call_id;
        record.duration_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        // A subject over its rate is audited once per window, with a count.
        let gathered = match record.gate {
            Some(gate) if gate == Gate::Rate.as_str() && count == 1 => {
                let (now, closed) = self.over_rate.note(subject, Instant::now());
                if let Some((subject, more)) = closed {
                    self.audit_rate_window(&subject, more).await;
                }
                !now
            }
            _ => false,
        };
        let written = if gathered {
            Ok(())
        } else {
            self.audit.record(&mut record).await
        };
        #[cfg(feature = "telemetry")]
        let written_failed = written.is_err();
        let result = match (written, result) {
            (Err(audit), _) => Err(audit),
            (Ok(()), result) => result,
        };
        #[cfg(feature = "telemetry")]
        if let Some(telemetry) = &self.telemetry {
            use crate::audit::Outcome;
            let audit_failed = written_failed;
            let outcome = match &result {
                // An audit that failed after the record was made.
                Err(reject) if audit_failed && record.outcome == Outcome::Allowed => {
                    (Outcome::Failed, Some(reject.gate().as_str()))
                }
                _ => (record.outcome, record.gate),
            };
            let call = crate::telemetry::Observed {
                tool,
                outcome: outcome.0.as_str(),
                gate: outcome.1,
                audit_failed,
                count,
                duration: started.elapsed(),
            };
            telemetry.observe(&call, marks);
        }
        #[cfg(not(feature = "telemetry"))]
        let _ = marks;
        let result = match result {
            Ok((output, _)) => {
                let mut result = CallToolResult::success(vec![ContentBlock::text(output.text)]);
                result.structured_content = output.structured;
                result
            }
            Err(reject) => {
                let text = crate::guards::secrets::redact(&reject.to_string()).text;
                CallToolResult::error(vec![ContentBlock::text(text)])
            }
        };
        Trace {
            result,
            record,
            executed,
        }
    }
}

impl Authenticated {
    /// Stage 2. Public tools pass; scoped tools need the token's scope and the
    /// role. A role that reaches only the caller's own objects is admitted
    /// only by a tool that checks owners ([`ToolSpec::checks_owner`]).
    pub async fn authorize(
        self,
        pipeline: &Pipeline,
        spec: &ToolSpec,
    ) -> Result<Authorized, Reject> {
        if let Access::Scope(scope) = spec.access {
            // Without the `rbac` feature no policy can be configured, and a
            // scoped tool is refused here (`#[secure_tool]` refuses to compile one).
            #[cfg(feature = "rbac")]
            if let Some(authorizer) = &pipeline.authorizer {
                let reach = authorizer.authorize(&self.principal, scope).await?;
                let (resource, action) = scope.split_once(':').unwrap_or((scope, ""));
                if reach == crate::state::Reach::Own && !spec.checks_owner {
                    return Err(Reject::at(
                        Gate::Role,
                        None,
                        format!(
                            "role permits {action} on {resource} only for objects the caller owns, and this tool does not check owners"
                        ),
                    ));
                }
                let grant =
                    crate::state::Grant::new(self.principal.subject(), resource, action, reach);
                return Ok(Authorized {
                    principal: self.principal,
                    grant: Some(grant),
                });
            }
            let _ = (pipeline, scope);
            return Err(Reject::at(
                Gate::Role,
                None,
                "no authorization policy is configured",
            ));
        }
        Ok(Authorized {
            principal: self.principal,
            grant: None,
        })
    }
}

impl Authorized {
    /// Stage 3. The arguments' total size, unknown fields, then every argument gate and input guard in
    /// declaration order (the `confirm` flag among them), then, for a
    /// destructive tool, the human's consent where the client can ask for it.
    pub async fn inspect<T: Tool>(
        self,
        pipeline: &Pipeline,
        args: &Arguments,
        consent: Option<&dyn Consent>,
    ) -> Result<Inspected<T::Args>, Reject> {
        self.inspect_with::<T>(pipeline, &pipeline.guards, args, consent)
            .await
    }

    /// [`Authorized::inspect`] with the guards of one session (roots its
    /// client narrowed).
    pub async fn inspect_with<T: Tool>(
        self,
        pipeline: &Pipeline,
        guards: &Guards,
        args: &Arguments,
        consent: Option<&dyn Consent>,
    ) -> Result<Inspected<T::Args>, Reject> {
        crate::validate::check_size(T::SPEC, args)?;
        crate::validate::check_fields(T::SPEC, args)?;
        let validated = T::validate(args, guards).await?;
        if T::SPEC.human && consent.is_none() {
            return Err(consent_refused(format_args!(
                "`{}` runs only with the approval of a person, and this call has no way to reach one",
                T::SPEC.name
            )));
        }
        if (T::SPEC.confirm || T::SPEC.human)
            && let Some(consent) = consent
        {
            let message = format!(
                "Allow `{}` to run a destructive action for {}? Arguments: {}",
                T::SPEC.name,
                self.principal.subject(),
                // Whole, up to a bound a person can read: a list's targets are
                // what the user is asked to approve. A cut says so.
                crate::log::render_value_within(&serde_json::Value::Object(args.clone()), 4096),
            );
            // The question travels to the client and is shown: no credential
            // an argument carries goes with it.
            let message = crate::guards::secrets::redact(&message).text;
            let question = Question {
                server: pipeline.server,
                tool: T::SPEC.name,
                subject: self.principal.subject(),
                args,
                message,
                timeout: pipeline.guards.consent_timeout.unwrap_or(CONSENT_TIMEOUT),
                human: T::SPEC.human,
            };
            let refuse = |reason| Err(consent_refused(reason));
            match consent.ask(question).await {
                // Accepted, or the client cannot ask: the `confirm: true` flag,
                // already checked, is then the only consent there is.
                Answer::Approved | Answer::Unavailable => {}
                Answer::Declined => {
                    return refuse("the user did not approve this destructive action");
                }
                Answer::Pending => {
                    return refuse("awaiting approval; the client calls again once it is given");
                }
                Answer::Refused(reject) => return Err(reject),
            }
        }
        Ok(Inspected {
            principal: self.principal,
            grant: self.grant,
            session: None,
            args: validated,
        })
    }
}

impl<A> Inspected<A> {
    /// Stage 4. The body runs here and nowhere else, and is cancelled if it
    /// outlives the pipeline's call timeout.
    pub async fn execute<T: Tool<Args = A>>(self, pipeline: &Pipeline) -> Result<Executed, Reject> {
        let context = Context::new(self.principal, pipeline.states.clone())
            .with_grant(self.grant)
            .with_session(self.session);
        // Boxed: a body's future (a database query's, often kilobytes) would
        // otherwise be moved with every future that awaits it, refusals too.
        let body = Box::pin(T::execute(self.args, context));
        match tokio::time::timeout(pipeline.call_timeout, body).await {
            Ok(output) => output.map(|output| Executed { output }),
            Err(_) => Err(Reject::at(
                Gate::Timeout,
                None,
                format!(
                    "the tool did not finish within {:.1} s and was cancelled",
                    pipeline.call_timeout.as_secs_f64()
                ),
            )),
        }
    }
}

impl Executed {
    /// Stage 5. Every output is redacted; stored or external content is also
    /// spotlighted, with a summary of what the guards found. Returns the output
    /// and the findings, which the audit record keeps.
    pub fn inspect_output(self) -> (Output, Vec<String>) {
        use crate::guards::{injection, secrets};
        let mut output = self.output;
        // A text block that renders the structured content (`Json<T>`) is
        // rendered again from the redacted value: in JSON text, escapes (`\n`,
        // `\"`) would hide a secret from the patterns that find it in the value.
        // Structured content is an object: a text that does not open one is
        // not its rendering, and needs no rendering to compare.
        let rendered = output.text.starts_with('{')
            && output.structured.as_ref().is_some_and(|structured| {
                serde_json::to_string(structured).is_ok_and(|s| s == output.text)
            });
        let (text, mut findings) = match &mut output.structured {
            Some(structured) if rendered => {
                let findings = secrets::redact_json(structured);
                if findings.is_empty() {
                    (std::mem::take(&mut output.text), findings)
                } else {
                    (structured.to_string(), findings)
                }
            }
            structured => {
                let (text, mut findings) = match secrets::redact_cow(&output.text) {
                    (std::borrow::Cow::Owned(text), found) => (text, found),
                    (std::borrow::Cow::Borrowed(_), found) => {
                        (std::mem::take(&mut output.text), found)
                    }
                };
                if let Some(structured) = structured {
                    findings.extend(secrets::redact_json(structured));
                }
                (text, findings)
            }
        };
        output.text = match &output.source {
            None => text,
            Some(source) => {
                let spotlit = injection::spotlight(source, &text);
                findings.extend(spotlit.findings);
                let summary = if findings.is_empty() {
                    "[guard] no threats detected".to_owned()
                } else {
                    format!(
                        "[guard] {} finding(s) [{}]",
                        findings.len(),
                        findings.join(", ")
                    )
                };
                match &output.preface {
                    Some(preface) => format!("{preface}\n{}\n{summary}", spotlit.text),
                    None => format!("{}\n{summary}", spotlit.text),
                }
            }
        };
        (output, findings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_result_is_redacted_as_a_value_and_both_blocks_agree() {
        // In JSON text the newline is `\n`, so the key follows an `n` and no
        // word boundary: a pattern run over the text would miss it.
        let key = "AKIAIOSFODNN7EXAMPLE";
        let value = serde_json::json!({"note": format!("line one\n{key}"), "n": 1});
        assert!(value.to_string().contains(&format!("\\n{key}")));
        let (output, findings) = Executed {
            output: Output::structured(value),
        }
        .inspect_output();
        assert!(!output.text.contains(key), "{}", output.text);
        let structured = output.structured.unwrap();
        assert!(!structured.to_string().contains(key));
        assert_eq!(output.text, structured.to_string());
        assert_eq!(findings, ["secret:redacted aws_access_key"]);
    }
}

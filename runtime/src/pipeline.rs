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

use crate::audit::{Audit, AuditRecord, BoxFuture};
use crate::auth::{AuthError, Principal, TokenVerifier, UNAUTHENTICATED};
use crate::authz::Authorizer;
use crate::guards::ssrf::FetchPolicy;
use crate::output::Output;
use crate::reject::{Gate, Reject};
use crate::server::{Arguments, Request};
use crate::spec::{Access, ToolSpec};
use crate::state::{Context, States};

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

/// The name of the argument that carries the token over stdio.
pub const TOKEN_FIELD: &str = "token";

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
    pub fetch: FetchPolicy,
    /// How long a human has to answer a consent request.
    pub consent_timeout: Option<Duration>,
}

/// Asks a human to confirm a destructive call, when the client can ask.
pub trait Consent: Send + Sync {
    /// `Ok(true)` on accept; `Ok(false)` on decline, cancel or timeout;
    /// `Err(())` when the client declared no way to ask.
    fn ask(&self, message: String, timeout: Duration) -> BoxFuture<'_, Result<bool, ()>>;
}

/// The default time a human has to answer a consent request.
pub const CONSENT_TIMEOUT: Duration = Duration::from_secs(60);

/// The configured stages of a server.
#[derive(Clone)]
pub struct Pipeline {
    server: &'static str,
    guards: Guards,
    states: Arc<States>,
    verifier: Option<Arc<dyn TokenVerifier>>,
    authorizer: Option<Authorizer>,
    audit: Audit,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("server", &self.server)
            .field("verifier", &self.verifier.is_some())
            .field("authorizer", &self.authorizer.is_some())
            .field("audit", &self.audit)
            .finish()
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
}

/// Proof that the arguments passed every input gate.
#[derive(Debug)]
pub struct Inspected<A> {
    principal: Principal,
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
            authorizer: None,
            audit: Audit::default(),
        }
    }

    /// Verifies tokens with `verifier`.
    pub fn with_verifier(mut self, verifier: impl TokenVerifier) -> Self {
        self.verifier = Some(Arc::new(verifier));
        self
    }

    /// Authorizes with `authorizer`.
    pub fn with_authorizer(mut self, authorizer: Authorizer) -> Self {
        self.authorizer = Some(authorizer);
        self
    }

    /// Registers state that tool bodies receive as `State<T>`.
    pub fn with_state<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        Arc::make_mut(&mut self.states).insert(value);
        self
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

    /// The server's name.
    pub fn server(&self) -> &'static str {
        self.server
    }

    /// Stage 1. Public tools need no token; scoped tools need one that verifies.
    pub fn authenticate(
        &self,
        spec: &ToolSpec,
        token: Option<&Value>,
    ) -> Result<Authenticated, Reject> {
        let refuse = |e: AuthError| {
            Reject::at(
                Gate::Auth,
                Some(TOKEN_FIELD.into()),
                format!("authentication failed: {e}"),
            )
        };
        match spec.access {
            Access::Public => Ok(Authenticated {
                principal: Principal::unauthenticated(),
            }),
            Access::Scope(_) => {
                let token = match token {
                    None => return Err(refuse(AuthError::Missing)),
                    Some(Value::String(t)) => t,
                    Some(_) => return Err(refuse(AuthError::Malformed("not a string"))),
                };
                let Some(verifier) = &self.verifier else {
                    return Err(Reject::at(
                        Gate::Auth,
                        Some(TOKEN_FIELD.into()),
                        "authentication failed: this server verifies no credentials",
                    ));
                };
                verifier
                    .verify(token)
                    .map(|principal| Authenticated { principal })
                    .map_err(refuse)
            }
        }
    }

    /// Runs one call of `T` through every stage, then audits it.
    pub async fn run<T: Tool>(&self, mut args: Arguments, request: Request<'_>) -> Trace {
        let Request { bearer, consent } = request;
        let started = Instant::now();
        let spec = T::SPEC;
        let mut subject = UNAUTHENTICATED.to_owned();
        let mut executed = false;
        // Over stdio the token is an argument of scoped tools; it is taken out
        // here, before any other gate, and never logged.
        let token = match (spec.access, bearer) {
            (Access::Scope(_), None) => args.remove(TOKEN_FIELD),
            (_, Some(bearer)) => Some(Value::String(bearer.to_owned())),
            (Access::Public, None) => None,
        };
        let result = async {
            let authenticated = self.authenticate(spec, token.as_ref())?;
            subject = authenticated.principal.subject().to_owned();
            let authorized = authenticated.authorize(self, spec).await?;
            let inspected = authorized.inspect::<T>(self, &args, consent).await?;
            executed = true;
            let executed = inspected.execute::<T>(self.states.clone()).await?;
            Ok(executed.inspect_output())
        }
        .await;
        let action = match spec.access {
            Access::Scope(scope) => scope,
            Access::Public => "call",
        };
        self.finish(spec.name, &subject, action, result, started, executed)
            .await
    }

    /// Refuses and audits a call of a tool the server does not declare.
    pub async fn unknown_tool(&self, name: &str) -> Trace {
        let reject = crate::server::unknown_tool(name);
        self.finish(
            "",
            UNAUTHENTICATED,
            "call",
            Err(reject),
            Instant::now(),
            false,
        )
        .await
    }

    async fn finish(
        &self,
        tool: &'static str,
        subject: &str,
        action: &str,
        result: Result<(Output, Vec<String>), Reject>,
        started: Instant,
        executed: bool,
    ) -> Trace {
        let result = result.map_err(|r| r.in_tool(tool));
        let mut record = AuditRecord::new(
            self.server,
            tool,
            subject,
            action,
            result.as_ref().map(|(_, findings)| findings.as_slice()),
        );
        record.duration_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let result = match (self.audit.record(&mut record).await, result) {
            (Err(audit), _) => Err(audit),
            (Ok(()), result) => result,
        };
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
    /// Stage 2. Public tools pass; scoped tools need the token's scope and the role.
    pub async fn authorize(
        self,
        pipeline: &Pipeline,
        spec: &ToolSpec,
    ) -> Result<Authorized, Reject> {
        if let Access::Scope(scope) = spec.access {
            let Some(authorizer) = &pipeline.authorizer else {
                return Err(Reject::at(
                    Gate::Role,
                    None,
                    "no authorization policy is configured",
                ));
            };
            authorizer.authorize(&self.principal, scope).await?;
        }
        Ok(Authorized {
            principal: self.principal,
        })
    }
}

impl Authorized {
    /// Stage 3. Unknown fields, then every argument gate and input guard in
    /// declaration order (the `confirm` flag among them), then, for a
    /// destructive tool, the human's consent where the client can ask for it.
    pub async fn inspect<T: Tool>(
        self,
        pipeline: &Pipeline,
        args: &Arguments,
        consent: Option<&dyn Consent>,
    ) -> Result<Inspected<T::Args>, Reject> {
        crate::validate::check_fields(T::SPEC, args)?;
        let validated = T::validate(args, &pipeline.guards).await?;
        if T::SPEC.confirm
            && let Some(consent) = consent
        {
            let message = format!(
                "Allow `{}` to run a destructive action for {}? Arguments: {}",
                T::SPEC.name,
                self.principal.subject(),
                crate::log::render_value(&serde_json::Value::Object(args.clone())),
            );
            let timeout = pipeline.guards.consent_timeout.unwrap_or(CONSENT_TIMEOUT);
            match consent.ask(message, timeout).await {
                // Accepted, or the client cannot ask: the `confirm: true` flag,
                // already checked, is then the only consent there is.
                Ok(true) | Err(()) => {}
                Ok(false) => {
                    return Err(Reject::at(
                        Gate::Confirm,
                        Some("confirm".into()),
                        "blocked: the user did not approve this destructive action",
                    ));
                }
            }
        }
        Ok(Inspected {
            principal: self.principal,
            args: validated,
        })
    }
}

impl<A> Inspected<A> {
    /// Stage 4. The body runs here and nowhere else.
    pub async fn execute<T: Tool<Args = A>>(self, states: Arc<States>) -> Result<Executed, Reject> {
        T::execute(self.args, Context::new(self.principal, states))
            .await
            .map(|output| Executed { output })
    }
}

impl Executed {
    /// Stage 5. Every output is redacted; stored or external content is also
    /// spotlighted, with a summary of what the guards found. Returns the output
    /// and the findings, which the audit record keeps.
    pub fn inspect_output(self) -> (Output, Vec<String>) {
        use crate::guards::{injection, secrets};
        let mut output = self.output;
        let (text, mut findings) = match secrets::redact_cow(&output.text) {
            (std::borrow::Cow::Owned(text), found) => (text, found),
            (std::borrow::Cow::Borrowed(_), found) => (std::mem::take(&mut output.text), found),
        };
        if let Some(structured) = &mut output.structured {
            findings.extend(secrets::redact_json(structured));
        }
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

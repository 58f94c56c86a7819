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
use std::time::Instant;

use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::Value;

use crate::audit::{Audit, AuditRecord};
use crate::auth::{AuthError, Principal, TokenVerifier, UNAUTHENTICATED};
use crate::authz::Authorizer;
use crate::output::Output;
use crate::reject::{Gate, Reject};
use crate::server::Arguments;
use crate::spec::{Access, ToolSpec};

/// A declared tool, as `#[secure_tool]` implements it.
pub trait Tool: 'static {
    /// The tool's spec.
    const SPEC: &'static ToolSpec;
    /// The validated, typed arguments.
    type Args: Send;
    /// Every argument gate; the result is proof the arguments honour the contract.
    fn validate(args: &Arguments) -> Result<Self::Args, Reject>;
    /// The body, run only with validated arguments.
    fn execute(
        args: Self::Args,
        caller: Principal,
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

/// The configured stages of a server.
#[derive(Clone)]
pub struct Pipeline {
    server: &'static str,
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
    pub async fn run<T: Tool>(&self, mut args: Arguments, bearer: Option<&str>) -> Trace {
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
            let inspected = authorized.inspect::<T>(&args)?;
            executed = true;
            let executed = inspected.execute::<T>().await?;
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
        result: Result<Output, Reject>,
        started: Instant,
        executed: bool,
    ) -> Trace {
        let result = result.map_err(|r| r.in_tool(tool));
        let mut record = AuditRecord::new(
            self.server,
            tool,
            subject,
            action,
            result.as_ref().map(|_| &[][..]),
        );
        record.duration_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let result = match (self.audit.record(&mut record).await, result) {
            (Err(audit), _) => Err(audit),
            (Ok(()), result) => result,
        };
        let result = match result {
            Ok(output) => {
                let mut result = CallToolResult::success(vec![ContentBlock::text(output.text)]);
                result.structured_content = output.structured;
                result
            }
            Err(reject) => {
                let text = crate::redact::redact(&reject.to_string()).text;
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
    /// Stage 3. Unknown fields, then every argument gate in declaration order,
    /// then consent for destructive tools.
    pub fn inspect<T: Tool>(self, args: &Arguments) -> Result<Inspected<T::Args>, Reject> {
        crate::validate::check_fields(T::SPEC, args)?;
        let args = T::validate(args)?;
        Ok(Inspected {
            principal: self.principal,
            args,
        })
    }
}

impl<A> Inspected<A> {
    /// Stage 4. The body runs here and nowhere else.
    pub async fn execute<T: Tool<Args = A>>(self) -> Result<Executed, Reject> {
        T::execute(self.args, self.principal)
            .await
            .map(|output| Executed { output })
    }
}

impl Executed {
    /// Stage 5. Output filters run here.
    pub fn inspect_output(self) -> Output {
        self.output
    }
}

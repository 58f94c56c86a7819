//! Serving declared tools over MCP.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CustomRequest, CustomResult, ErrorCode,
    Implementation, ListToolsResult, MetaObject, PaginatedRequestParams, ServerCapabilities,
    ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Map, Value};

use crate::audit::Audit;
use crate::auth::TokenVerifier;
#[cfg(feature = "rbac")]
use crate::authz::Authorizer;
use crate::manifest::{Manifest, SERVER_KEY, TOOL_KEY, server_fingerprint};
pub use crate::pipeline::{Arguments, Credential, Request};
use crate::pipeline::{Guards, Pipeline, Trace};
use crate::spec::ToolSpec;

/// A set of tools declared with `server!`. The generated implementation is a
/// literal `match` on tool names; there is no lookup table to poison.
pub trait Tools: Send + Sync + 'static {
    /// The server's name in logs and in the MCP handshake.
    const NAME: &'static str;
    /// The server's version in the MCP handshake.
    const VERSION: &'static str;
    /// The specs of every tool, in declaration order.
    const TOOLS: &'static [&'static ToolSpec];

    /// Runs the named tool through `pipeline`. Unknown names are refused at
    /// [`Gate::UnknownTool`](crate::Gate::UnknownTool).
    fn dispatch<'a>(
        pipeline: &'a Pipeline,
        name: &'a str,
        args: Arguments,
        request: Request<'a>,
    ) -> impl Future<Output = Trace> + Send + 'a;
}

#[cfg(feature = "consent")]
mod elicitation {
    use rmcp::RoleServer;

    use crate::consent::Approval;
    use crate::future::BoxFuture;
    use crate::pipeline::{Answer, Consent, Question};

    /// Consent through MCP elicitation, before protocol 2026-07-28: the
    /// server asks in the middle of the call, and the client shows the
    /// question to its user.
    pub(super) struct Elicitation {
        pub(super) peer: rmcp::Peer<RoleServer>,
        /// Whether the transport serves an approval page (HTTP).
        pub(super) page: bool,
    }

    impl Consent for Elicitation {
        fn ask<'a>(&'a self, question: Question<'a>) -> BoxFuture<'a, Answer> {
            Box::pin(async move {
                use rmcp::service::ElicitationError;
                if question.human {
                    return Answer::Refused(match self.page {
                        false => crate::consent::no_page(question.tool),
                        true => crate::consent::consent_refused(format_args!(
                            "`{}` runs only with the approval of a person on this server's approval page, which is offered to clients on protocol 2026-07-28 or later",
                            question.tool
                        )),
                    });
                }
                match self
                    .peer
                    .elicit_with_timeout::<Approval>(question.message, Some(question.timeout))
                    .await
                {
                    Ok(Some(Approval { approve: true })) => Answer::Approved,
                    Err(ElicitationError::CapabilityNotSupported) => Answer::Unavailable,
                    // Declined, cancelled, timed out, unparsable or empty: not consent.
                    Ok(_) | Err(_) => Answer::Declined,
                }
            })
        }
    }
}

pub use crate::schema::{http_tool_entry, tool_entry};

impl Manifest {
    /// The manifest of the server `S`.
    pub fn of<S: Tools>() -> Self {
        Self::from_specs(S::NAME, S::TOOLS)
    }
}

/// The `_meta` of a `tools/list` result: the server's name and the
/// fingerprint of the tools listed, not their names (over HTTP a caller sees
/// only the tools its scopes permit).
fn listed_manifest(server: &str, fingerprint: String) -> MetaObject {
    let summary = serde_json::json!({"server": server, "fingerprint": fingerprint});
    MetaObject(Map::from_iter([(SERVER_KEY.to_owned(), summary)]))
}

/// An MCP server over a set of declared tools.
///
/// ```no_run
/// # use secure_tool::{secure_tool, server, Reject, Server};
/// /// Says hello.
/// #[secure_tool(public)]
/// fn hello(name: String) -> Result<String, Reject> {
///     Ok(format!("hello {name}"))
/// }
/// server!(Hello { hello });
///
/// # async fn run() -> std::io::Result<()> {
/// Server::new(Hello).serve_stdio().await
/// # }
/// # fn main() {}
/// ```
#[derive(Debug)]
pub struct Server<T> {
    tools: Arc<[Tool]>,
    http_tools: Arc<[Tool]>,
    /// The `_meta` of a `tools/list` result that shows every tool.
    manifest: Arc<MetaObject>,
    pipeline: Arc<Pipeline>,
    /// The roots this session's client allows, once asked (with `files`).
    #[cfg(feature = "files")]
    client_roots: Arc<tokio::sync::RwLock<Option<crate::guards::path::Roots>>>,
    _set: std::marker::PhantomData<fn() -> T>,
}

impl<T> Clone for Server<T> {
    fn clone(&self) -> Self {
        Self {
            tools: self.tools.clone(),
            http_tools: self.http_tools.clone(),
            manifest: self.manifest.clone(),
            pipeline: self.pipeline.clone(),
            #[cfg(feature = "files")]
            client_roots: self.client_roots.clone(),
            _set: std::marker::PhantomData,
        }
    }
}

impl<T> Server<T> {
    /// The server for a new session: the same tools and pipeline, and
    /// nothing yet known of the session's client.
    pub fn for_session(&self) -> Self {
        Self {
            #[cfg(feature = "files")]
            client_roots: Arc::default(),
            ..self.clone()
        }
    }
}

/// How long a client has to list its roots.
#[cfg(feature = "files")]
const ROOTS_TIMEOUT: Duration = Duration::from_secs(10);

/// `bytes` with each `%XX` decoded; `None` if one is malformed.
#[cfg(any(feature = "files", all(feature = "http", feature = "consent")))]
pub(crate) fn percent_decoded(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// The local path a `file://` URI names (percent-decoded), if it names one.
#[cfg(feature = "files")]
pub fn file_uri_path(uri: &str) -> Option<std::path::PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    if !rest.starts_with('/') {
        return None;
    }
    let out = percent_decoded(rest.as_bytes())?;
    let path = std::path::PathBuf::from(String::from_utf8(out).ok()?);
    // Said by the letter, `..` could mean other than what the kernel resolves.
    let plain = path
        .components()
        .all(|c| !matches!(c, std::path::Component::ParentDir));
    (plain && !path.as_os_str().as_encoded_bytes().contains(&0)).then_some(path)
}

impl<T: Tools> Server<T> {
    /// A server with no credential verifier: public tools run, scoped tools
    /// are refused. Tool entries and schemas are computed once here.
    pub fn new(_tools: T) -> Self {
        Self::from_pipeline(Pipeline::new(T::NAME))
    }

    /// A server over an assembled pipeline.
    pub fn from_pipeline(pipeline: Pipeline) -> Self {
        let manifest = Manifest::of::<T>();
        // Each entry carries its tool's fingerprint, over HTTP as over stdio:
        // it is the declaration's, whichever transport shows it.
        let published = |entry: Tool, spec: &ToolSpec| {
            let print = manifest.tool(spec.name).unwrap_or_default();
            let meta = Map::from_iter([(TOOL_KEY.to_owned(), Value::from(print))]);
            entry.with_meta(MetaObject(meta))
        };
        Self {
            tools: T::TOOLS
                .iter()
                .map(|spec| published(tool_entry(spec), spec))
                .collect(),
            http_tools: T::TOOLS
                .iter()
                .map(|spec| published(http_tool_entry(spec), spec))
                .collect(),
            manifest: Arc::new(listed_manifest(T::NAME, manifest.fingerprint.clone())),
            pipeline: Arc::new(pipeline),
            #[cfg(feature = "files")]
            client_roots: Arc::default(),
            _set: std::marker::PhantomData,
        }
    }

    fn map_pipeline(mut self, f: impl FnOnce(Pipeline) -> Pipeline) -> Self {
        let pipeline = Arc::unwrap_or_clone(self.pipeline);
        self.pipeline = Arc::new(f(pipeline));
        self
    }

    /// Verifies tokens with `verifier`.
    pub fn with_verifier(self, verifier: impl TokenVerifier) -> Self {
        self.map_pipeline(|p| p.with_verifier(verifier))
    }

    /// Authorizes scoped calls with `authorizer`.
    #[cfg(feature = "rbac")]
    #[cfg_attr(docsrs, doc(cfg(feature = "rbac")))]
    pub fn with_authorizer(self, authorizer: Authorizer) -> Self {
        self.map_pipeline(|p| p.with_authorizer(authorizer))
    }

    /// Registers state that tool bodies receive as a `State<T>` parameter.
    pub fn with_state<S: Send + Sync + 'static>(self, value: S) -> Self {
        self.map_pipeline(|p| p.with_state(value))
    }

    /// Configures the input guards (what may be fetched, consent timeout).
    pub fn with_guards(self, guards: Guards) -> Self {
        self.map_pipeline(|p| p.with_guards(guards))
    }

    /// Seals consent states with `rounds`' key, and records them spent in
    /// its store: replicas behind one load balancer share both.
    #[cfg(feature = "consent")]
    #[cfg_attr(docsrs, doc(cfg(feature = "consent")))]
    pub fn with_consent_rounds(self, rounds: crate::consent::Rounds) -> Self {
        self.map_pipeline(|p| p.with_consent_rounds(rounds))
    }

    /// Limits each subject to `rate` calls (`None`: only per-tool rates).
    pub fn with_subject_rate(self, rate: Option<crate::limit::Rate>) -> Self {
        self.map_pipeline(|p| p.with_subject_rate(rate))
    }

    /// Counts calls in `telemetry`'s metrics and traces them where it says.
    #[cfg(feature = "telemetry")]
    #[cfg_attr(docsrs, doc(cfg(feature = "telemetry")))]
    pub fn with_telemetry(self, telemetry: crate::telemetry::Telemetry) -> Self {
        self.map_pipeline(|p| p.with_telemetry(telemetry))
    }

    /// Keeps the rate limits in `quotas`, shared by the replicas that use it.
    pub fn with_quotas(self, quotas: impl crate::limit::Quotas) -> Self {
        self.map_pipeline(|p| p.with_quotas(quotas))
    }

    /// Shares the rate limits through `store` when it is PostgreSQL; on
    /// SQLite they stay in-process.
    #[cfg(feature = "sql")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sql")))]
    pub fn with_quota_store(self, store: &crate::store::Store) -> Self {
        self.map_pipeline(|p| p.with_quota_store(store))
    }

    /// Cancels a tool body that runs longer than `timeout`.
    pub fn with_call_timeout(self, timeout: Duration) -> Self {
        self.map_pipeline(|p| p.with_call_timeout(timeout))
    }

    /// Adds a durable audit sink to those configured.
    pub fn with_audit_sink(self, sink: impl crate::audit::AuditSink) -> Self {
        self.map_pipeline(|p| p.with_audit_sink(sink))
    }

    /// Writes audit records to `audit`'s durable sinks.
    pub fn with_audit(self, audit: Audit) -> Self {
        self.map_pipeline(|p| p.with_audit(audit))
    }

    /// The pipeline every call crosses.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    #[cfg(feature = "http")]
    pub(crate) fn pipeline_arc(&self) -> Arc<Pipeline> {
        self.pipeline.clone()
    }

    /// Runs one call through every stage. Used by the MCP handler and by tests.
    pub async fn call(&self, name: &str, args: Arguments) -> Trace {
        T::dispatch(&self.pipeline, name, args, Request::default()).await
    }

    /// Whether every `State<T>` a tool takes was provided with
    /// [`Server::with_state`]; the error names each one missing. Serving
    /// checks this first: a server that would fail at its first call does not start.
    pub fn check_states(&self) -> Result<(), String> {
        let missing: Vec<String> = T::TOOLS
            .iter()
            .flat_map(|spec| spec.states.iter().map(move |need| (spec.name, need)))
            .filter(|(_, need)| !self.pipeline.states().contains((need.type_id)()))
            .map(|(tool, need)| format!("`{tool}` takes `State<{}>`", need.name))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(format!(
            "server state missing: {}; provide each with `.with_state(..)`",
            missing.join(", ")
        ))
    }

    /// Serves MCP over stdin/stdout until the client disconnects.
    ///
    /// When both are pipes, as a client that starts the server makes them,
    /// they are read and written without blocking, on the runtime's own
    /// threads (which must have IO enabled, as `#[tokio::main]` does): a
    /// message costs no hand-over to a blocking thread. Otherwise (a
    /// terminal, a file), or with `SECURE_TOOL_STDIO=blocking`, they are
    /// served as `rmcp`'s stdio transport does, by blocking threads.
    /// Any other value of `SECURE_TOOL_STDIO` but `pipes` is an error.
    pub async fn serve_stdio(self) -> std::io::Result<()> {
        use rmcp::ServiceExt as _;
        self.check_states().map_err(std::io::Error::other)?;
        let blocking = match std::env::var("SECURE_TOOL_STDIO").as_deref() {
            Err(std::env::VarError::NotPresent) | Ok("pipes") => false,
            Ok("blocking") => true,
            _ => {
                return Err(std::io::Error::other(
                    "SECURE_TOOL_STDIO must be `pipes` or `blocking`",
                ));
            }
        };
        let pipeline = self.pipeline.clone();
        let pipes = if blocking { None } else { pipes::stdio() };
        // The pipes block again however serving ends: done, failed, panicked
        // or dropped.
        let _restore = pipes.is_some().then_some(pipes::Restore);
        let served = match pipes {
            Some(pipes) => self.serve(pipes).await,
            None => self.serve(rmcp::transport::stdio()).await,
        };
        let running = match served {
            Ok(running) => running,
            Err(e) => {
                crate::log::flush();
                return Err(std::io::Error::other(e));
            }
        };
        let ended = running.waiting().await.map_err(std::io::Error::other);
        // Calls still running finish, and are audited, before the audit
        // settles: an outcome queued after the settle would be lost at exit.
        if !pipeline.drain(crate::pipeline::SHUTDOWN_GRACE).await {
            tracing::error!(target: crate::log::TARGET,
                "stopping with {} tool call(s) still running after {} s; their attempts have no outcome",
                pipeline.calls_in_flight(), crate::pipeline::SHUTDOWN_GRACE.as_secs());
        }
        // Outcomes still joining a commit are made durable before exit.
        pipeline
            .settle_audit()
            .await
            .map_err(std::io::Error::other)?;
        ended.map(drop)
    }
}

/// stdin and stdout as non-blocking pipes.
#[cfg(unix)]
mod pipes {
    use std::os::fd::AsFd as _;

    use tokio::net::unix::pipe::{Receiver, Sender};

    /// stdin and stdout, when both are pipes (and stderr is neither, as
    /// with `2>&1`: it would stop blocking too, and a write to it could fail),
    /// set not to block: a flag of the pipes' open files, which [`Restore`]
    /// clears. Either both are changed, or neither is.
    pub(super) fn stdio() -> Option<(Receiver, Sender)> {
        let input = std::io::stdin().as_fd().try_clone_to_owned().ok()?;
        let output = std::io::stdout().as_fd().try_clone_to_owned().ok()?;
        let (Some(read), Some(written)) = (fifo(&input), fifo(&output)) else {
            return None;
        };
        let errors = std::io::stderr().as_fd().try_clone_to_owned().ok();
        if errors
            .and_then(|e| fifo(&e))
            .is_some_and(|e| e == read || e == written)
        {
            return None;
        }
        let receiver = Receiver::from_owned_fd(input).ok()?;
        match Sender::from_owned_fd(output) {
            Ok(sender) => Some((receiver, sender)),
            Err(_) => {
                let _ = receiver.into_blocking_fd();
                None
            }
        }
    }

    /// The pipe `fd` is an end of (its device and inode), if it is one.
    fn fifo(fd: &std::os::fd::OwnedFd) -> Option<(u64, u64)> {
        use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _};
        let meta = std::fs::File::from(fd.try_clone().ok()?).metadata().ok()?;
        meta.file_type().is_fifo().then(|| (meta.dev(), meta.ino()))
    }

    /// Lets stdin and stdout block again when dropped, as whoever shares
    /// them expects.
    pub(super) struct Restore;

    impl Drop for Restore {
        fn drop(&mut self) {
            // Registering the pipes again needs the runtime that served them.
            if tokio::runtime::Handle::try_current().is_err() {
                return;
            }
            if let Some((input, output)) = stdio() {
                let _ = input.into_blocking_fd();
                let _ = output.into_blocking_fd();
            }
        }
    }
}

/// Elsewhere, stdio is always `rmcp`'s transport.
#[cfg(not(unix))]
mod pipes {
    pub(super) fn stdio() -> Option<(tokio::io::Stdin, tokio::io::Stdout)> {
        None
    }

    pub(super) struct Restore;
}

/// The subject, and the role, of [`Server::for_one_developer`].
#[cfg(feature = "rbac")]
pub const DEVELOPER: &str = "developer";

#[cfg(feature = "rbac")]
impl<T: Tools> Server<T> {
    /// Single-user development, for the first call minutes after `cargo new`:
    /// one token drawn at random (returned, for the server to print once),
    /// for the subject [`DEVELOPER`], carrying every scope the tools declare,
    /// and an in-memory authorizer whose role `developer` may call every
    /// tool. It replaces any verifier and authorizer configured before.
    /// For a server on stdio, or on HTTP bound to loopback; never in
    /// production, where tokens come from an issuer and grants from the store.
    pub async fn for_one_developer(self) -> (Self, String) {
        let token = format!("dev-{}", crate::log::unique_id());
        let scopes = T::TOOLS
            .iter()
            .filter_map(|spec| match spec.access {
                crate::spec::Access::Scope(scope) => Some(scope.to_owned()),
                crate::spec::Access::Public => None,
            })
            .collect();
        let tokens = crate::auth::StaticTokens::new(T::NAME).with(
            token.clone(),
            crate::auth::StaticToken {
                subject: DEVELOPER.into(),
                audience: T::NAME.into(),
                expires_at: u64::MAX,
                scopes,
            },
        );
        let authz = Authorizer::in_memory().await;
        // An authorizer in memory cannot fail to store a grant.
        let _ = authz.grant_tools(DEVELOPER, T::TOOLS).await;
        let _ = authz.assign(DEVELOPER, DEVELOPER).await;
        (self.with_verifier(tokens).with_authorizer(authz), token)
    }
}

#[cfg(feature = "files")]
impl<T: Tools> Server<T> {
    /// The roots of this session: when the client declared the roots
    /// capability, the server's narrowed to what the client lists (asked once,
    /// again after it says they changed); `None` otherwise. A client that
    /// declares roots and does not list them in time gets none at all.
    /// Roots are deprecated by the protocol (SEP-2577), but clients still
    /// offer them, and a client's narrower view is honoured while they do.
    #[allow(deprecated)]
    async fn session_roots(
        &self,
        context: &RequestContext<RoleServer>,
    ) -> Option<crate::guards::path::Roots> {
        let server = &self.pipeline.guards().files;
        if server.is_empty() {
            return None;
        }
        let declared = context
            .peer
            .peer_info()
            .is_some_and(|info| info.capabilities.roots.is_some());
        if !declared {
            return None;
        }
        if let Some(known) = self.client_roots.read().await.clone() {
            return Some(known);
        }
        match tokio::time::timeout(ROOTS_TIMEOUT, context.peer.list_roots()).await {
            Ok(Ok(listed)) => {
                let paths: Vec<std::path::PathBuf> = listed
                    .roots
                    .iter()
                    .filter_map(|root| file_uri_path(&root.uri))
                    .collect();
                let narrowed = server.narrowed(&paths);
                *self.client_roots.write().await = Some(narrowed.clone());
                Some(narrowed)
            }
            _ => Some(crate::guards::path::Roots::default()),
        }
    }
}

impl<T: Tools> ServerHandler for Server<T> {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(T::NAME, T::VERSION))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let listed = |tools: Vec<Tool>| {
            let mut result = ListToolsResult::with_all_items(tools);
            result.meta = Some(MetaObject::clone(&self.manifest));
            result
        };
        let Some(token) = http_bearer(&context) else {
            return Ok(listed(self.tools.to_vec()));
        };
        // Over HTTP a caller sees exactly the tools its token's scopes permit,
        // by the same test the scope gate applies to a call.
        let verified = match token {
            Some(token) => Some(self.pipeline.verify(token).await),
            None => None,
        };
        let visible: Vec<Tool> = match verified {
            Some(Ok(principal)) => T::TOOLS
                .iter()
                .zip(self.http_tools.iter())
                .filter(|(spec, _)| spec.access.permits(&principal))
                .map(|(_, tool)| tool.clone())
                .collect(),
            // Nothing, not even the manifest, for a caller not authenticated.
            _ => return Ok(ListToolsResult::with_all_items(Vec::new())),
        };
        if visible.len() == self.http_tools.len() {
            return Ok(listed(visible));
        }
        // The fingerprint of what this caller sees: one over every tool would
        // change with tools it cannot see, and tell it of them.
        let fingerprint = server_fingerprint(visible.iter().map(|tool| {
            let print = tool.meta.as_ref().and_then(|m| m.0.get(TOOL_KEY));
            (
                tool.name.as_ref(),
                print.and_then(Value::as_str).unwrap_or_default(),
            )
        }));
        let mut result = ListToolsResult::with_all_items(visible);
        result.meta = Some(listed_manifest(T::NAME, fingerprint));
        Ok(result)
    }

    // rmcp asks this only over HTTP, to check `Mcp-Param-*` headers against
    // the schema; over HTTP the schema has no `token`.
    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.http_tools.iter().find(|t| t.name == name).cloned()
    }

    // rmcp hands over, as a custom request, any request it could not parse,
    // among them a `tools/call` whose `arguments` is not an object. That is
    // an invalid-params error naming the field, and a refusal on the record.
    async fn on_custom_request(
        &self,
        request: CustomRequest,
        _context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, ErrorData> {
        if request.method != "tools/call" {
            return Err(ErrorData::new(
                ErrorCode::METHOD_NOT_FOUND,
                request.method,
                None,
            ));
        }
        let params = request.params.unwrap_or(Value::Null);
        let (field, reason) = match (params.get("name"), params.get("arguments")) {
            (_, Some(arguments)) if !arguments.is_object() && !arguments.is_null() => {
                ("arguments", "must be an object")
            }
            (Some(Value::String(_)), _) => {
                ("params", "must be an object with `name` and `arguments`")
            }
            _ => ("name", "must be a string naming a tool"),
        };
        let reject =
            crate::reject::Reject::at(crate::reject::Gate::Type, Some(field.into()), reason);
        let message = reject.to_string();
        self.pipeline
            .refuse(None, crate::auth::UNAUTHENTICATED, reject)
            .await;
        Err(ErrorData::invalid_params(
            message,
            Some(serde_json::json!({ "field": field })),
        ))
    }

    #[cfg(feature = "files")]
    async fn on_roots_list_changed(
        &self,
        _context: rmcp::service::NotificationContext<RoleServer>,
    ) {
        *self.client_roots.write().await = None;
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let args = request.arguments.unwrap_or_default();
        // Before 2026-07-28 the server asks in the middle of the call; from
        // it on, the call ends with the question and the client calls again
        // with the answer and the state the question went out with.
        #[cfg(feature = "consent")]
        let in_band = context
            .protocol_version()
            .is_some_and(|v| v >= rmcp::model::ProtocolVersion::V_2026_07_28)
            .then(|| {
                let elicitation = context.client_capabilities().and_then(|c| c.elicitation);
                let reach = crate::consent::Reach {
                    // An elicitation capability that names no mode means forms.
                    form: elicitation
                        .as_ref()
                        .is_some_and(|e| e.form.is_some() || e.url.is_none()),
                    url: elicitation.as_ref().is_some_and(|e| e.url.is_some()),
                    page: approval_page(&context),
                };
                self.pipeline.consent_rounds().for_call(
                    request.request_state.as_deref(),
                    request.input_responses.as_ref(),
                    reach,
                )
            });
        #[cfg(feature = "consent")]
        let elicitation = elicitation::Elicitation {
            peer: context.peer.clone(),
            page: approval_page(&context).is_some(),
        };
        #[cfg(feature = "consent")]
        let consent: Option<&dyn crate::pipeline::Consent> = match &in_band {
            Some(in_band) => Some(in_band),
            None => Some(&elicitation),
        };
        // Without the feature, `#[secure_tool]` compiles no `confirm` tool.
        #[cfg(not(feature = "consent"))]
        let consent = None;
        let credential = match http_bearer(&context) {
            None => Credential::Argument,
            Some(token) => Credential::Header(token),
        };
        #[cfg(feature = "files")]
        let roots = self.session_roots(&context).await;
        // SEP-414: the client's trace context travels in the request's `_meta`.
        let traceparent = context
            .meta
            .0
            .get_traceparent()
            .or_else(|| request.meta.as_ref().and_then(|m| m.0.get_traceparent()));
        let request_info = Request {
            credential,
            consent,
            charge: http_charge(&context),
            traceparent,
            #[cfg(feature = "files")]
            roots: roots.as_ref(),
        };
        let trace = T::dispatch(&self.pipeline, &request.name, args, request_info).await;
        #[cfg(feature = "consent")]
        if let Some(question) = in_band.as_ref().and_then(|c| c.take_question()) {
            return Ok(question.into());
        }
        Ok(trace.result.into())
    }
}

/// `None` over stdio; over HTTP, the request's bearer token if it has exactly
/// one well-formed `Authorization` header.
#[cfg(feature = "http")]
fn http_bearer(context: &RequestContext<RoleServer>) -> Option<Option<&str>> {
    let parts = context.extensions.get::<hyper::http::request::Parts>()?;
    Some(crate::auth::bearer(&parts.headers))
}

/// The base URL of the approval page the HTTP front serves; `None` over stdio.
#[cfg(all(feature = "http", feature = "consent"))]
fn approval_page(context: &RequestContext<RoleServer>) -> Option<&str> {
    let parts = context.extensions.get::<hyper::http::request::Parts>()?;
    parts
        .extensions
        .get::<crate::consent::ApprovalPage>()
        .map(|page| &*page.0)
}

/// Without the `http` feature no approval page is served.
#[cfg(all(not(feature = "http"), feature = "consent"))]
fn approval_page(_: &RequestContext<RoleServer>) -> Option<&str> {
    None
}

/// Without the `http` feature every request comes over stdio.
#[cfg(not(feature = "http"))]
fn http_bearer(_: &RequestContext<RoleServer>) -> Option<Option<&str>> {
    None
}

/// How the HTTP front counted the request against its subject's rate
/// (it counts every request); over stdio the pipeline counts.
#[cfg(feature = "http")]
fn http_charge(context: &RequestContext<RoleServer>) -> crate::pipeline::Charge {
    context
        .extensions
        .get::<hyper::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<crate::pipeline::Charge>().copied())
        .unwrap_or_default()
}

/// Without the `http` feature the pipeline counts every request.
#[cfg(not(feature = "http"))]
fn http_charge(_: &RequestContext<RoleServer>) -> crate::pipeline::Charge {
    crate::pipeline::Charge::Pending
}

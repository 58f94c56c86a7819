//! Serving declared tools over MCP's streamable HTTP transport.
//!
//! A small front sits before rmcp's [`StreamableHttpService`] and refuses with
//! HTTP statuses what HTTP clients and OAuth libraries understand:
//!
//! - every request to `/mcp` needs `Authorization: Bearer <token>` that
//!   verifies, else `401` with `WWW-Authenticate` naming the protected-resource
//!   metadata (RFC 9728), served at `/.well-known/oauth-protected-resource`;
//! - a `tools/call` of a tool whose scope the token lacks is `403
//!   insufficient_scope`, naming the scope; `tools/list` shows a caller only the
//!   tools its scopes permit ([`crate::spec::Access::permits`] decides both);
//! - request bodies are bounded (`413`), and so is the time to send one (`408`).
//!
//! Behind the front every call crosses the same [`Pipeline`] as over stdio:
//! the token is verified again, rate limits, policies, input and output guards
//! and the audit record apply unchanged. A `token` argument is not accepted.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{Method, StatusCode};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::{Value, json};
use tokio::net::TcpListener;

#[cfg(feature = "consent")]
mod approval;

use crate::auth::{AuthError, UNAUTHENTICATED};
use crate::limit::{Limiter, Rate, Refused};
use crate::pipeline::{Charge, Pipeline};
use crate::reject::{Gate, Reject};
use crate::server::{Server, Tools};
use crate::spec::{Access, ToolSpec};

/// The path of the MCP endpoint.
pub const MCP_PATH: &str = "/mcp";
/// The path of the protected-resource metadata (RFC 9728).
pub const METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

/// Where metrics are served, when [`HttpOptions::metrics_token`] is set.
#[cfg(feature = "telemetry")]
#[cfg_attr(docsrs, doc(cfg(feature = "telemetry")))]
pub const METRICS_PATH: &str = "/metrics";

/// The environment variable `--metrics` reads the scrape token from.
#[cfg(feature = "telemetry")]
#[cfg_attr(docsrs, doc(cfg(feature = "telemetry")))]
pub const METRICS_TOKEN_ENV: &str = "SECURE_TOOL_METRICS_TOKEN";
/// The default bound on a request body.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The default time a client has to send its headers and its body.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The failed authentications a client address may make by default before
/// its failures get `429` instead of `401`.
pub const AUTH_FAILURES: Rate = Rate::new(10, Duration::from_secs(1));
/// The default window over which one address's failed authentications are
/// audited as one record.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(10);
/// The MCP sessions one subject may hold open at once, by default.
pub const SESSIONS_PER_SUBJECT: usize = 16;

pub use crate::pipeline::SHUTDOWN_GRACE;
/// How long a session may sit idle before it is forgotten (rmcp's own
/// keep-alive, so neither side keeps a session the other dropped).
const SESSION_IDLE: Duration = Duration::from_secs(300);
/// The header that names an MCP session.
const SESSION_HEADER: &str = "mcp-session-id";
/// How long a refusal for too many failed authentications is held before it
/// is sent: less than the `Retry-After` it announces (at least 1 s).
const TARPIT: Duration = Duration::from_millis(250);
/// Client addresses tracked at once; failures from further addresses are
/// counted together under `0.0.0.0`.
const FAILURE_ADDRESSES: usize = 10_000;

type Body = BoxBody<Bytes, Infallible>;
type Response = hyper::Response<Body>;

/// How to serve over HTTP.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// The largest request body accepted; larger ones get `413`.
    pub max_body_bytes: usize,
    /// How long a client may take to send its headers, and then its body.
    pub read_timeout: Duration,
    /// The `Host` values accepted (DNS-rebinding defence). Defaults to loopback
    /// names; a deployment behind a load balancer lists its public name.
    pub allowed_hosts: Vec<String>,
    /// The public base URL (`https://mcp.example.com`) the metadata and the
    /// `WWW-Authenticate` header name. Defaults to `http://` and the bound address.
    pub public_url: Option<String>,
    /// The browser origins (`https://app.example.com`) whose pages may call
    /// `/mcp`, besides the server's own. A request whose `Origin` is another
    /// gets `403` before anything else; one without `Origin` (not sent by a
    /// browser) is not refused for it.
    pub allowed_origins: Vec<String>,
    /// The OAuth authorization servers that issue tokens for this resource
    /// (default: the issuers the token verifier trusts).
    pub authorization_servers: Vec<String>,
    /// Serve every request on its own (no MCP session), so that any replica
    /// can answer any request without session affinity. Consent by
    /// elicitation needs a session; without one the `confirm` flag stands alone.
    pub stateless: bool,
    /// Failed authentications allowed per client address; past it they get
    /// `429` with `Retry-After` instead of `401` (`None`: no limit). A token
    /// that verifies is never refused for its address. An IPv6 client is
    /// counted by its /64, the block one host is usually given.
    pub auth_failures: Option<Rate>,
    /// The reverse proxies in front of the server. A request from one of them
    /// is counted against the client its `X-Forwarded-For` names (the last
    /// address not itself a trusted proxy); from anyone else the header is
    /// ignored, so a client cannot name its own address.
    pub trusted_proxies: Vec<IpAddr>,
    /// The first failed authentication of an address is audited at once; the
    /// rest within this window become one record carrying their count.
    pub failure_window: Duration,
    /// The MCP sessions one subject may hold open; another `initialize` gets
    /// `429`. Every session is bound to the subject that opened it.
    pub sessions_per_subject: usize,
    /// Serves the pipeline's metrics at [`METRICS_PATH`], in Prometheus'
    /// text format, to a scraper that presents this bearer token (16
    /// characters or more); `None`: no such path. The pipeline must have
    /// telemetry.
    #[cfg(feature = "telemetry")]
    #[cfg_attr(docsrs, doc(cfg(feature = "telemetry")))]
    pub metrics_token: Option<MetricsToken>,
}

/// The bearer token a metrics scraper presents. Its `Debug` shows nothing
/// of it.
#[cfg(feature = "telemetry")]
#[cfg_attr(docsrs, doc(cfg(feature = "telemetry")))]
#[derive(Clone, PartialEq, Eq)]
pub struct MetricsToken(pub String);

#[cfg(feature = "telemetry")]
impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(<redacted>)")
    }
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            max_body_bytes: MAX_BODY_BYTES,
            read_timeout: READ_TIMEOUT,
            allowed_hosts: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
            public_url: None,
            allowed_origins: Vec::new(),
            authorization_servers: Vec::new(),
            stateless: false,
            auth_failures: Some(AUTH_FAILURES),
            trusted_proxies: Vec::new(),
            failure_window: FAILURE_WINDOW,
            sessions_per_subject: SESSIONS_PER_SUBJECT,
            #[cfg(feature = "telemetry")]
            metrics_token: None,
        }
    }
}

impl HttpOptions {
    /// This server's canonical resource URI (RFC 8707) when served on
    /// `addr`: the `resource` of its protected-resource metadata, and the
    /// audience the tokens it accepts must name. The public URL when there is
    /// one, else `http://ADDR`, then `/mcp`. A port chosen by the system
    /// (`:0`) is not known yet: set the public URL.
    pub fn resource(&self, addr: &str) -> Result<String, String> {
        let base = match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None if addr.ends_with(":0") => {
                return Err(format!(
                    "the resource URI of a server on {addr} is not known before it binds: set the public URL"
                ));
            }
            None => format!("http://{addr}"),
        };
        Ok(format!("{base}{MCP_PATH}"))
    }
}

/// The HTTP flags of a server's command line, for its own `clap` parser
/// (`#[command(flatten)] http: HttpArgs`): `--http ADDR` and, only with it,
/// `--stateless`, `--allowed-host HOST`…, `--public-url URL`,
/// `--authorization-server URL`… and `--max-body-bytes N`.
#[cfg(feature = "cli")]
#[cfg_attr(docsrs, doc(cfg(feature = "cli")))]
#[derive(Debug, Clone, Default, clap::Args)]
pub struct HttpArgs {
    /// Serve MCP over streamable HTTP on ADDR (`127.0.0.1:8080`) instead of stdio
    #[arg(long, value_name = "ADDR")]
    pub http: Option<String>,
    /// Serve every request on its own, without MCP sessions (replicas without affinity)
    #[arg(long, requires = "http")]
    pub stateless: bool,
    /// A `Host` header value to accept (repeatable; default: loopback names)
    #[arg(long = "allowed-host", value_name = "HOST", requires = "http")]
    pub allowed_hosts: Vec<String>,
    /// The public base URL that the metadata and `WWW-Authenticate` name
    #[arg(long, value_name = "URL", requires = "http")]
    pub public_url: Option<String>,
    /// A browser origin whose pages may call the server (repeatable; default: its own)
    #[arg(long = "allowed-origin", value_name = "ORIGIN", requires = "http")]
    pub allowed_origins: Vec<String>,
    /// An OAuth authorization server that issues tokens for this server (repeatable)
    #[arg(long = "authorization-server", value_name = "URL", requires = "http")]
    pub authorization_servers: Vec<String>,
    /// The largest request body accepted, in bytes
    #[arg(long, value_name = "N", requires = "http")]
    pub max_body_bytes: Option<usize>,
    /// A reverse proxy whose `X-Forwarded-For` names the client (repeatable)
    #[arg(long = "trusted-proxy", value_name = "IP", requires = "http")]
    pub trusted_proxies: Vec<IpAddr>,
    /// Serve metrics at /metrics to a scraper presenting the bearer token in SECURE_TOOL_METRICS_TOKEN
    #[cfg(feature = "telemetry")]
    #[arg(long, requires = "http")]
    pub metrics: bool,
    /// Send a trace of every call to this OTLP/HTTP collector (http://HOST:4318/v1/traces)
    #[cfg(feature = "telemetry")]
    #[arg(long, value_name = "URL")]
    pub otlp_traces: Option<String>,
}

#[cfg(feature = "cli")]
impl HttpArgs {
    /// The address and options to serve on, when `--http` was given.
    pub fn options(self) -> Option<(String, HttpOptions)> {
        let addr = self.http?;
        let mut options = HttpOptions {
            stateless: self.stateless,
            public_url: self.public_url,
            allowed_origins: self.allowed_origins,
            authorization_servers: self.authorization_servers,
            trusted_proxies: self.trusted_proxies,
            #[cfg(feature = "telemetry")]
            metrics_token: self
                .metrics
                .then(|| MetricsToken(std::env::var(METRICS_TOKEN_ENV).unwrap_or_default())),
            ..HttpOptions::default()
        };
        if !self.allowed_hosts.is_empty() {
            options.allowed_hosts = self.allowed_hosts;
        }
        if let Some(max) = self.max_body_bytes {
            options.max_body_bytes = max;
        }
        Some((addr, options))
    }

    /// The telemetry `--metrics` and `--otlp-traces` ask for, for `service`
    /// (`None` when neither is given). Starts the trace exporter, so it
    /// needs a tokio runtime.
    #[cfg(feature = "telemetry")]
    #[cfg_attr(docsrs, doc(cfg(feature = "telemetry")))]
    pub fn telemetry(
        &self,
        service: &str,
    ) -> Result<Option<crate::telemetry::Telemetry>, crate::telemetry::TelemetryError> {
        match (&self.otlp_traces, self.metrics) {
            (Some(url), _) => crate::telemetry::Telemetry::with_otlp(service, url).map(Some),
            (None, true) => Ok(Some(crate::telemetry::Telemetry::new(service))),
            (None, false) => Ok(None),
        }
    }
}

impl<T: Tools> Server<T> {
    /// Serves over stdio, or over HTTP when `http` is set, binding its address
    /// and printing `listening on http://ADDR/mcp` on stderr once it accepts.
    pub async fn serve_on(self, http: Option<(String, HttpOptions)>) -> std::io::Result<()> {
        let Some((addr, options)) = http else {
            return self.serve_stdio().await;
        };
        let listener = TcpListener::bind(&addr)
            .await
            .map_err(|e| std::io::Error::other(format!("cannot listen on {addr}: {e}")))?;
        eprintln!("listening on http://{}{MCP_PATH}", listener.local_addr()?);
        self.serve_http_until(listener, options, stop_signal())
            .await
    }
}

/// Resolves on SIGINT (Ctrl-C) or, on Unix, SIGTERM: what a terminal or a
/// container orchestrator sends to stop a server.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                Ok(()) = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    // A signal that cannot be listened for never stops the server.
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

pub use crate::auth::bearer;

/// Whether `addr` (`HOST:PORT`, as `--http` takes it) listens on loopback
/// only: a loopback IP literal, or `localhost`. A server that hands out
/// well-known tokens (a demo) serves nowhere else.
pub fn is_loopback(addr: &str) -> bool {
    match addr.parse::<SocketAddr>() {
        Ok(addr) => addr.ip().is_loopback(),
        Err(_) => addr
            .rsplit_once(':')
            .is_some_and(|(host, _)| host.eq_ignore_ascii_case("localhost")),
    }
}

/// Why a server that hands out well-known demo tokens may not serve on
/// `addr`, or `None` when `addr` is loopback only (see [`is_loopback`]).
pub fn demo_refusal(addr: &str) -> Option<String> {
    (!is_loopback(addr)).then(|| {
        format!(
            "--demo hands out well-known tokens, so it serves on loopback only \
             (127.0.0.1, [::1] or localhost), not {addr}"
        )
    })
}

/// The scopes a server's tools require, sorted and unique: the metadata's
/// `scopes_supported`.
pub fn scopes_supported(tools: &[&ToolSpec]) -> Vec<&'static str> {
    let mut scopes: Vec<&'static str> = tools
        .iter()
        .filter_map(|spec| match spec.access {
            Access::Scope(scope) => Some(scope),
            Access::Public => None,
        })
        .collect();
    scopes.sort_unstable();
    scopes.dedup();
    scopes
}

struct Front<T: Tools> {
    pipeline: Arc<Pipeline>,
    mcp: StreamableHttpService<Server<T>, LocalSessionManager>,
    options: HttpOptions,
    base: Arc<str>,
    failures: Failures,
    sessions: Sessions,
    /// Set once the server stops: requests are then refused.
    stopping: std::sync::atomic::AtomicBool,
}

/// The subject each MCP session belongs to. A request naming a session
/// another subject opened, or one this front never saw, gets the `404` of
/// an unknown session: a session id is not a credential.
#[derive(Default)]
struct Sessions {
    bound: Mutex<HashMap<String, (String, Instant)>>,
}

impl Sessions {
    /// Whether `id` belongs to `subject`; marks it used.
    fn owned_by(&self, id: &str, subject: &str, now: Instant) -> bool {
        let mut bound = self.bound.lock().unwrap_or_else(PoisonError::into_inner);
        match bound.get_mut(id) {
            Some((owner, used)) if owner == subject && now.duration_since(*used) < SESSION_IDLE => {
                *used = now;
                true
            }
            _ => false,
        }
    }

    /// Holds a place for a session `subject` is opening, unless it already
    /// holds `cap` (idle ones forgotten first). Counting and holding happen
    /// under one lock, so concurrent `initialize` calls cannot all slip in.
    /// The place's key cannot be a session id: header values hold no `\n`.
    fn reserve(&self, subject: &str, cap: usize, now: Instant) -> Option<String> {
        let mut bound = self.bound.lock().unwrap_or_else(PoisonError::into_inner);
        bound.retain(|_, (_, used)| now.duration_since(*used) < SESSION_IDLE);
        let held = bound.values().filter(|(owner, _)| owner == subject).count();
        if held >= cap {
            return None;
        }
        let place = format!("\nopening-{}", crate::log::unique_id());
        bound.insert(place.clone(), (subject.to_owned(), now));
        Some(place)
    }

    /// Turns a held place into the session rmcp opened, or frees it.
    fn settle(&self, place: &str, id: Option<&str>, subject: &str, now: Instant) {
        let mut bound = self.bound.lock().unwrap_or_else(PoisonError::into_inner);
        bound.remove(place);
        if let Some(id) = id {
            bound.insert(id.to_owned(), (subject.to_owned(), now));
        }
    }

    fn end(&self, id: &str) {
        let mut bound = self.bound.lock().unwrap_or_else(PoisonError::into_inner);
        bound.remove(id);
    }
}

/// Failed authentications by client address: a rate that turns `401` into
/// `429` for an address over it, and one audit record per address and
/// window rather than one per request, so a flood without a token costs no
/// database write per request.
struct Failures {
    limiter: Limiter,
    window: Duration,
    open: Mutex<HashMap<IpAddr, Window>>,
}

/// The failures of one address since its first, not yet audited.
struct Window {
    opened: Instant,
    more: u64,
    last: String,
}

impl Failures {
    /// Counts a failed authentication of `client`: audited at the first of
    /// its window, and, past the address's allowance, held a moment and
    /// answered with how long to wait.
    async fn count(&self, pipeline: &Pipeline, reason: &str, client: Client) -> Option<Duration> {
        let over = match self.limiter.admit(&client.to_string()).await {
            Ok(()) => None,
            Err(Refused::Over(wait)) => Some(wait),
            // A limiter on client addresses is always this process's own.
            Err(Refused::Unavailable) => Some(Duration::from_secs(1)),
        };
        self.audit(pipeline, reason, client).await;
        if over.is_some() {
            // Held a moment before it leaves: a flood on kept-alive
            // connections then sends at most a few requests a second each,
            // and the callers it shares the server with keep their share.
            tokio::time::sleep(TARPIT).await;
        }
        over
    }

    /// Audits a failed authentication of `client` at the first of its
    /// window; the rest are counted into one record when it closes.
    async fn audit(&self, pipeline: &Pipeline, reason: &str, client: Client) {
        if self.note(client.0, reason, Instant::now()) {
            let reject = Reject::at(
                Gate::Auth,
                Some(crate::spec::TOKEN_FIELD.into()),
                format!("authentication failed: {reason} (client {client})"),
            );
            pipeline.refuse(None, UNAUTHENTICATED, reject).await;
        }
    }

    fn new(options: &HttpOptions) -> Self {
        Self {
            limiter: Limiter::new(options.auth_failures),
            window: options.failure_window,
            open: Mutex::default(),
        }
    }

    /// Counts a failure from `ip`; true when it opens a window (and is to be
    /// audited at once).
    fn note(&self, ip: IpAddr, reason: &str, now: Instant) -> bool {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let key = if open.len() >= FAILURE_ADDRESSES && !open.contains_key(&ip) {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        } else {
            ip
        };
        match open.get_mut(&key) {
            Some(window) => {
                window.more += 1;
                reason.clone_into(&mut window.last);
                false
            }
            None => {
                let last = reason.to_owned();
                open.insert(
                    key,
                    Window {
                        opened: now,
                        more: 0,
                        last,
                    },
                );
                true
            }
        }
    }

    /// Closes the windows older than the window: `(address, failures after
    /// the first, the last reason)` for those with any.
    fn close(&self, now: Instant) -> Vec<(IpAddr, u64, String)> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let mut closed = Vec::new();
        open.retain(|ip, window| {
            if now.duration_since(window.opened) < self.window {
                return true;
            }
            if window.more > 0 {
                closed.push((*ip, window.more, std::mem::take(&mut window.last)));
            }
            false
        });
        closed
    }
}

/// Aborts a background task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T: Tools> Server<T> {
    /// Serves MCP over streamable HTTP on `listener`, at [`MCP_PATH`], until
    /// the task is dropped. Refuses to start without a token verifier: over
    /// HTTP every request is authenticated. See [`Server::serve_http_until`]
    /// for a server that stops when told and leaves its audit trail durable.
    pub async fn serve_http(
        self,
        listener: TcpListener,
        options: HttpOptions,
    ) -> std::io::Result<()> {
        self.serve_http_until(listener, options, std::future::pending())
            .await
    }

    /// [`Server::serve_http`] until `shutdown` completes; then it stops
    /// accepting, gives the requests in flight [`SHUTDOWN_GRACE`] to finish,
    /// audits the failed authentications still counted, and returns once the
    /// audit trail is durable (an error if some of it could not be stored).
    pub async fn serve_http_until(
        self,
        listener: TcpListener,
        options: HttpOptions,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> std::io::Result<()> {
        if !self.pipeline().verifies() {
            return Err(std::io::Error::other(
                "serving over HTTP needs a token verifier: every request is authenticated",
            ));
        }
        self.check_states().map_err(std::io::Error::other)?;
        #[cfg(feature = "telemetry")]
        if let Some(MetricsToken(token)) = &options.metrics_token {
            // What an `Authorization` header can carry, untrimmed.
            if token.len() < 16 || !token.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(std::io::Error::other(format!(
                    "metrics are served only to a scraper with a token of 16 characters or more, printable ASCII without spaces: set {METRICS_TOKEN_ENV}"
                )));
            }
            if self.pipeline().telemetry().is_none() {
                return Err(std::io::Error::other(
                    "metrics are served from the pipeline's telemetry: configure it (`with_telemetry`)",
                ));
            }
        }
        let addr = listener.local_addr()?;
        if let Some(problem) = unreachable_page(addr, &options, T::TOOLS) {
            return Err(std::io::Error::other(problem));
        }
        let front = Arc::new(Front::new(self, addr, options));
        let flusher = AbortOnDrop(tokio::spawn({
            let front = front.clone();
            async move {
                loop {
                    tokio::time::sleep(front.failures.window).await;
                    front.audit_closed_windows(Instant::now()).await;
                }
            }
        }));
        let mut connections = tokio::task::JoinSet::new();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = &mut shutdown => break,
            };
            while connections.try_join_next().is_some() {}
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                // Out of descriptors and the like: back off, keep serving.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            // Answers go out as they are written: an event stream's frames
            // are small writes, which Nagle's algorithm would hold back until
            // the client's delayed acknowledgement (40 ms on Linux).
            let _ = stream.set_nodelay(true);
            let front = front.clone();
            let read_timeout = front.options.read_timeout;
            connections.spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let front = front.clone();
                    async move { Ok::<_, Infallible>(front.handle(request, peer.ip()).await) }
                });
                let mut builder = hyper::server::conn::http1::Builder::new();
                builder
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(read_timeout);
                // A client that disconnects mid-call ends only its own connection.
                let _ = builder
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
        drop(listener);
        // New requests on open connections are refused from here; the tool
        // calls already running finish, and are audited, before anything is cut.
        front
            .stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
        if !front.pipeline.drain(SHUTDOWN_GRACE).await {
            tracing::error!(target: crate::log::TARGET,
                "stopping with {} tool call(s) still running after {} s; their attempts have no outcome",
                front.pipeline.calls_in_flight(), SHUTDOWN_GRACE.as_secs());
        }
        // Streams still open are cut here.
        connections.shutdown().await;
        drop(flusher);
        let end = Instant::now() + front.failures.window;
        front.audit_closed_windows(end).await;
        front
            .pipeline
            .settle_audit()
            .await
            .map_err(std::io::Error::other)
    }
}

impl<T: Tools> Front<T> {
    /// `/metrics`: to the scraper with the token; any other request counts
    /// as a failed authentication of its address.
    #[cfg(feature = "telemetry")]
    async fn metrics(
        &self,
        request: &hyper::Request<Incoming>,
        peer: IpAddr,
        token: &str,
        telemetry: &crate::telemetry::Telemetry,
    ) -> Response {
        // A scraper is no browser: a page of any origin is refused, before
        // its request counts against anyone's address.
        if request.headers().contains_key(header::ORIGIN) {
            return plain(StatusCode::FORBIDDEN, "Origin is not allowed");
        }
        if request.method() != Method::GET {
            return plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
        }
        let presented = bearer(request.headers()).unwrap_or_default();
        if !same_secret(presented, token) {
            let client = client(peer, request.headers(), &self.options.trusted_proxies);
            let reason = "a metrics scrape without the metrics token";
            return match self.failures.count(&self.pipeline, reason, client).await {
                Some(wait) => too_many(wait, "too many failed authentications from this address"),
                None => plain(StatusCode::UNAUTHORIZED, "the metrics token is needed"),
            };
        }
        respond(
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            telemetry.render_prometheus(),
        )
    }

    fn new(server: Server<T>, addr: SocketAddr, options: HttpOptions) -> Self {
        let pipeline = server.pipeline_arc();
        let mut config = StreamableHttpServerConfig::default();
        config.max_request_body_bytes = options.max_body_bytes;
        config.legacy_session_mode = !options.stateless;
        config.allowed_hosts = options.allowed_hosts.clone();
        let mcp = StreamableHttpService::new(
            move || Ok(server.for_session()),
            Arc::new({
                // rmcp forgets an idle session after the same time the front
                // stops counting it against its subject.
                let mut sessions = LocalSessionManager::default();
                sessions.session_config.keep_alive = Some(SESSION_IDLE);
                sessions
            }),
            config,
        );
        let mut options = options;
        if options.authorization_servers.is_empty() {
            options.authorization_servers = pipeline.authorization_servers();
        }
        let base = options
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"))
            .trim_end_matches('/')
            .into();
        Self {
            pipeline,
            mcp,
            failures: Failures::new(&options),
            sessions: Sessions::default(),
            stopping: std::sync::atomic::AtomicBool::new(false),
            options,
            base,
        }
    }

    async fn handle(&self, request: hyper::Request<Incoming>, peer: IpAddr) -> Response {
        if self.stopping.load(std::sync::atomic::Ordering::SeqCst) {
            return plain(StatusCode::SERVICE_UNAVAILABLE, "the server is stopping");
        }
        let path = request.uri().path();
        if path == METADATA_PATH || path == format!("{METADATA_PATH}{MCP_PATH}") {
            return if request.method() == Method::GET {
                self.metadata()
            } else {
                plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
            };
        }
        #[cfg(feature = "telemetry")]
        if path == METRICS_PATH
            && let (Some(MetricsToken(token)), Some(telemetry)) =
                (&self.options.metrics_token, self.pipeline.telemetry())
        {
            return self.metrics(&request, peer, token, telemetry).await;
        }
        #[cfg(feature = "consent")]
        if let Some(rest) = path.strip_prefix(crate::consent::APPROVAL_PATH) {
            let rest = rest.to_owned();
            let client = client(peer, request.headers(), &self.options.trusted_proxies);
            let site = approval::Site {
                pipeline: &self.pipeline,
                base: &self.base,
                allowed_hosts: &self.options.allowed_hosts,
                read_timeout: self.options.read_timeout,
                failures: &self.failures,
                client,
            };
            return approval::serve(&site, &rest, request).await;
        }
        if path != MCP_PATH {
            return plain(StatusCode::NOT_FOUND, "not found");
        }
        // A browser page of another origin (DNS rebinding, a drive-by form)
        // is refused before its credential is even looked at.
        if let Some(origin) = request.headers().get(header::ORIGIN)
            && !self.origin_allowed(origin)
        {
            return plain(StatusCode::FORBIDDEN, "Origin is not allowed");
        }
        let (parts, body) = request.into_parts();
        let verified = match bearer(&parts.headers) {
            Some(token) => Some(self.pipeline.verify(token).await),
            None => None,
        };
        let principal = match verified {
            Some(Ok(principal)) => principal,
            // The issuer did not answer: not the client's failure, and not a
            // verdict on its token. Refused for now, and said so.
            Some(Err(AuthError::Unavailable)) => {
                let client = client(peer, &parts.headers, &self.options.trusted_proxies);
                let reason = AuthError::Unavailable.to_string();
                // Counted like a failure, so made-up tokens cannot keep the
                // issuer busy from one address during an outage.
                if let Some(wait) = self.failures.count(&self.pipeline, &reason, client).await {
                    return too_many(wait, "too many failed authentications from this address");
                }
                let mut response = json_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &json!({
                        "error": "temporarily_unavailable",
                        "error_description": AuthError::Unavailable.to_string(),
                    }),
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(ISSUER_RETRY_SECS));
                return response;
            }
            failed => {
                let client = client(peer, &parts.headers, &self.options.trusted_proxies);
                return self
                    .unauthorized(failed.and_then(Result::err), client)
                    .await;
            }
        };
        let body = if parts.method == Method::POST {
            let limited = Limited::new(body, self.options.max_body_bytes);
            match tokio::time::timeout(self.options.read_timeout, limited.collect()).await {
                Ok(Ok(collected)) => collected.to_bytes(),
                Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
                    return plain(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        &format!("request body exceeds {} bytes", self.options.max_body_bytes),
                    );
                }
                Ok(Err(_)) => return plain(StatusCode::BAD_REQUEST, "unreadable request body"),
                Err(_) => return plain(StatusCode::REQUEST_TIMEOUT, "request body too slow"),
            }
        } else {
            Bytes::new()
        };
        let asked = asked::<T>(&body, &principal);
        let subject = principal.subject();
        let now = Instant::now();
        // Every request counts against the subject's rate, here, before it
        // costs anything: initialize, tools/list, pings, streams, session
        // ends, malformed calls, and tool calls alike. A tool call over the
        // rate goes on to be refused at the pipeline's rate gate (a result
        // the model can read); anything else gets `429`.
        let over = self.pipeline.limiter().admit(subject).await.err();
        let mut parts = parts;
        match over {
            Some(Refused::Over(wait)) if !asked.tool_call || asked.missing_scope.is_some() => {
                return too_many(wait, "rate limit for this caller exceeded");
            }
            Some(Refused::Unavailable) if !asked.tool_call || asked.missing_scope.is_some() => {
                return plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "rate limits cannot be checked: the shared quota store does not answer",
                );
            }
            Some(refused) => parts.extensions.insert(Charge::Over(refused)),
            None => parts.extensions.insert(Charge::Paid),
        };
        #[cfg(feature = "consent")]
        parts
            .extensions
            .insert(crate::consent::ApprovalPage(self.base.clone()));
        if let Some((spec, scope)) = asked.missing_scope {
            let reject = crate::reject::Reject::missing_scope(scope);
            self.pipeline
                .refuse(Some(spec), principal.subject(), reject)
                .await;
            let challenge = format!(
                "Bearer error=\"insufficient_scope\", scope=\"{scope}\", resource_metadata=\"{}\"",
                self.metadata_url()
            );
            let body = json!({
                "error": "insufficient_scope",
                "error_description": format!("`{}` needs the scope {scope:?}", spec.name),
                "scope": scope,
            });
            return with_challenge(StatusCode::FORBIDDEN, &challenge, &body);
        }
        let session = match parts.headers.get(SESSION_HEADER) {
            Some(id) => match id.to_str() {
                Ok(id) if self.options.stateless || self.sessions.owned_by(id, subject, now) => {
                    Some(id.to_owned())
                }
                _ => return plain(StatusCode::NOT_FOUND, "session not found"),
            },
            None => None,
        };
        // Only an `initialize` opens a session; a call of protocol
        // 2026-07-28, which has none, takes no place.
        let opens = session.is_none()
            && parts.method == Method::POST
            && !self.options.stateless
            && asked.initialize;
        let place = if opens {
            let cap = self.options.sessions_per_subject;
            match self.sessions.reserve(subject, cap, now) {
                Some(place) => Some(place),
                None => {
                    return too_many(
                        SESSION_IDLE,
                        &format!("this caller holds {cap} open sessions; end one (DELETE) first"),
                    );
                }
            }
        } else {
            None
        };
        let ends = parts.method == Method::DELETE;
        let request = hyper::Request::from_parts(parts, Full::new(body));
        let mut mcp = self.mcp.clone();
        let response = match tower_service::Service::call(&mut mcp, request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        if let Some(place) = place {
            let opened = response
                .headers()
                .get(SESSION_HEADER)
                .and_then(|id| id.to_str().ok());
            self.sessions.settle(&place, opened, subject, now);
        }
        if let Some(id) = &session
            && ends
            && response.status().is_success()
        {
            self.sessions.end(id);
        }
        response
    }

    /// Audits the windows of failed authentications that closed by `now`,
    /// one record per address carrying the count.
    async fn audit_closed_windows(&self, now: Instant) {
        let window = self.failures.window.as_secs_f64();
        for (ip, more, last) in self.failures.close(now) {
            let reject = Reject::at(
                Gate::Auth,
                Some(crate::spec::TOKEN_FIELD.into()),
                format!(
                    "authentication failed {more} more time(s) from client {} within {window:.0} s; last: {last}",
                    Client(ip)
                ),
            );
            self.pipeline
                .refuse_counted(None, UNAUTHENTICATED, reject, more)
                .await;
        }
    }

    /// Whether a request's `Origin` is the server's own or one it allows.
    fn origin_allowed(&self, origin: &HeaderValue) -> bool {
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        let own = origin_of(&self.base);
        origin.eq_ignore_ascii_case(own)
            || self
                .options
                .allowed_origins
                .iter()
                .any(|allowed| origin.eq_ignore_ascii_case(allowed.trim_end_matches('/')))
    }

    fn metadata_url(&self) -> String {
        format!("{}{METADATA_PATH}", self.base)
    }

    fn metadata(&self) -> Response {
        let body = json!({
            "resource": format!("{}{MCP_PATH}", self.base),
            "resource_name": T::NAME,
            "authorization_servers": self.options.authorization_servers,
            "scopes_supported": scopes_supported(T::TOOLS),
            "bearer_methods_supported": ["header"],
        });
        json_response(StatusCode::OK, &body)
    }

    /// `401`, or `429` for an address over its failures; audited as a
    /// refusal at the auth gate, once per address and window.
    async fn unauthorized(&self, error: Option<AuthError>, client: Client) -> Response {
        let error_or_missing = error.as_ref().unwrap_or(&AuthError::Missing);
        let reason = error_or_missing.to_string();
        let over = self.failures.count(&self.pipeline, &reason, client).await;
        let metadata = self.metadata_url();
        if let Some(wait) = over {
            let mut response = too_many(wait, "too many failed authentications from this address");
            // Still a challenge: a client that retries later knows where to
            // get a token.
            if let Ok(challenge) =
                HeaderValue::from_str(&format!("Bearer resource_metadata=\"{metadata}\""))
            {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, challenge);
            }
            return response;
        }
        // RFC 6750: no error code when the request carried no credential.
        let challenge = match &error {
            None => format!("Bearer resource_metadata=\"{metadata}\""),
            Some(_) => format!(
                "Bearer error=\"invalid_token\", error_description=\"{}\", resource_metadata=\"{metadata}\"",
                challenge_text(&reason)
            ),
        };
        let body = json!({
            "error": if error.is_some() { "invalid_token" } else { "unauthorized" },
            "error_description": reason,
        });
        with_challenge(StatusCode::UNAUTHORIZED, &challenge, &body)
    }
}

/// The client a request is counted against: an IPv4 address, or an IPv6
/// address cut to its /64 (an IPv4-mapped one is its IPv4 address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Client(IpAddr);

impl Client {
    fn of(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V4(v4) => Self(IpAddr::V4(v4)),
            IpAddr::V6(v6) => Self(IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into())),
        }
    }
}

impl std::fmt::Display for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => write!(f, "{v4}"),
            IpAddr::V6(v6) => write!(f, "{v6}/64"),
        }
    }
}

/// The client behind `peer`: `peer` itself, unless it is a trusted proxy;
/// then, walking `X-Forwarded-For` from the right (the hops the proxies
/// appended), the first address that is not a trusted proxy. What lies left
/// of it was written by the client and is never read. A hop that does not
/// parse where the walk stops counts the nearest proxy that named it.
fn client(peer: IpAddr, headers: &hyper::HeaderMap, trusted: &[IpAddr]) -> Client {
    let is_trusted = |ip: IpAddr| {
        trusted
            .iter()
            .any(|t| t.to_canonical() == ip.to_canonical())
    };
    if !is_trusted(peer) {
        return Client::of(peer);
    }
    let mut hops: Vec<&str> = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let Ok(value) = value.to_str() else {
            return Client::of(peer);
        };
        hops.extend(value.split(','));
    }
    let mut nearest = peer;
    for hop in hops.iter().rev() {
        match hop_address(hop.trim()) {
            Some(ip) if is_trusted(ip) => nearest = ip,
            Some(ip) => return Client::of(ip),
            None => return Client::of(nearest),
        }
    }
    Client::of(nearest)
}

/// One `X-Forwarded-For` hop: an address, `ADDR:PORT` or `[V6]:PORT`.
fn hop_address(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip);
    }
    hop.parse::<SocketAddr>().ok().map(|s| s.ip())
}

/// What a JSON-RPC body (one message or a batch) asks, read once.
struct Asked {
    /// The first `tools/call` naming a declared tool whose scope the
    /// principal lacks.
    missing_scope: Option<(&'static ToolSpec, &'static str)>,
    /// Whether it holds a `tools/call` whose arguments are an object (or
    /// absent), declared tool or not: refused over the rate as a tool result.
    tool_call: bool,
    /// Whether it holds an `initialize`: the one request that opens a
    /// session, and so the one that takes a place under the session cap.
    initialize: bool,
}

fn asked<T: Tools>(body: &[u8], principal: &crate::auth::Principal) -> Asked {
    let mut asked = Asked {
        missing_scope: None,
        tool_call: false,
        initialize: false,
    };
    let Ok(message) = serde_json::from_slice::<Value>(body) else {
        return asked;
    };
    let messages = match &message {
        Value::Array(batch) => batch.as_slice(),
        single => std::slice::from_ref(single),
    };
    for m in messages {
        let method = m.get("method").and_then(Value::as_str);
        asked.initialize |= method == Some("initialize");
        if method != Some("tools/call") {
            continue;
        }
        let params = m.get("params");
        let arguments = params.and_then(|p| p.get("arguments"));
        let name = params.and_then(|p| p.get("name")).and_then(Value::as_str);
        if name.is_some() && arguments.is_none_or(|a| a.is_object() || a.is_null()) {
            asked.tool_call = true;
        }
        if asked.missing_scope.is_none()
            && let Some(spec) = name.and_then(|n| T::TOOLS.iter().find(|s| s.name == n))
            && let Access::Scope(scope) = spec.access
            && !spec.access.permits(principal)
        {
            asked.missing_scope = Some((*spec, scope));
        }
    }
    asked
}

/// The `Retry-After` of a request refused because the issuer that vouches for
/// its token did not answer.
const ISSUER_RETRY_SECS: u16 = 5;

/// `429` with `Retry-After` in whole seconds (at least 1).
fn too_many(wait: Duration, description: &str) -> Response {
    let mut response = json_response(
        StatusCode::TOO_MANY_REQUESTS,
        &json!({ "error": "too_many_requests", "error_description": description }),
    );
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    response
}

/// Why a person could not open the approval page a server bound to `addr`
/// would name, if they could not: bound to every interface without a public
/// URL, its links would name `0.0.0.0`.
fn unreachable_page(
    addr: SocketAddr,
    options: &HttpOptions,
    tools: &[&ToolSpec],
) -> Option<String> {
    let human = tools.iter().find(|spec| spec.human)?;
    (options.public_url.is_none() && addr.ip().is_unspecified()).then(|| {
        format!(
            "`{}` asks a person to approve each call on the approval page, whose links would name {addr}: set the public URL (`--public-url https://…`)",
            human.name
        )
    })
}

/// The origin (`scheme://host[:port]`) of a base URL.
pub(crate) fn origin_of(base: &str) -> &str {
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |i| after_scheme + i);
    &base[..end]
}

pub(crate) fn respond(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let mut response = hyper::Response::new(Full::new(Bytes::from(body)).boxed());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Whether `presented` is `secret`, in time that depends on neither where
/// they differ nor their lengths: their digests are compared in full.
#[cfg(feature = "telemetry")]
fn same_secret(presented: &str, secret: &str) -> bool {
    use sha2::Digest as _;
    let (a, b) = (
        sha2::Sha256::digest(presented.as_bytes()),
        sha2::Sha256::digest(secret.as_bytes()),
    );
    a.iter()
        .zip(b.iter())
        .fold(0, |diff, (x, y)| diff | (x ^ y))
        == 0
}

fn plain(status: StatusCode, text: &str) -> Response {
    respond(status, "text/plain; charset=utf-8", text.to_owned())
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    respond(status, "application/json", body.to_string())
}

fn with_challenge(status: StatusCode, challenge: &str, body: &Value) -> Response {
    let mut response = json_response(status, body);
    // Every part of a challenge is ASCII by construction (`challenge_text`);
    // should one not be, the bare scheme still tells the client how to retry.
    let value =
        HeaderValue::from_str(challenge).unwrap_or_else(|_| HeaderValue::from_static("Bearer"));
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, value);
    response
}

/// Text for a quoted parameter of a challenge, in the characters RFC 6750 §3
/// allows there (printable ASCII but `"` and `\`): anything else is written
/// as `U+XXXX`, so a claim with a quote can neither end the parameter nor make
/// the header invalid. The JSON body carries the text as it was.
fn challenge_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            ' ' | '!' | '#'..='[' | ']'..='~' => out.push(c),
            c => out.push_str(&format!("U+{:04X}", u32::from(c))),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::HeaderMap;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn a_server_asking_people_to_approve_needs_a_public_url_when_bound_everywhere() {
        static HUMAN: ToolSpec = ToolSpec {
            name: "purge",
            description: "",
            params: &[],
            access: Access::Public,
            confirm: true,
            human: true,
            read_only: false,
            idempotent: false,
            open_world: false,
            checks_owner: false,
            untrusted_output: false,
            rate: None,
            max_size: 1,
            tests: &[],
            nested_tests: &[],
            states: &[],
            output_schema: || None,
        };
        let everywhere: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let loopback: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let defaults = HttpOptions::default();
        let public = HttpOptions {
            public_url: Some("https://mcp.example.com".into()),
            ..HttpOptions::default()
        };
        let problem = unreachable_page(everywhere, &defaults, &[&HUMAN]).unwrap();
        assert!(problem.contains("set the public URL"), "{problem}");
        assert_eq!(unreachable_page(loopback, &defaults, &[&HUMAN]), None);
        assert_eq!(unreachable_page(everywhere, &public, &[&HUMAN]), None);
        assert_eq!(unreachable_page(everywhere, &defaults, &[]), None);
    }

    #[test]
    fn a_client_is_its_ipv4_address_or_its_ipv6_slash_64() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(Client::of(ip("203.0.113.9")).to_string(), "203.0.113.9");
        // Every address of one /64 is one client; the next /64 is another.
        let a = Client::of(ip("2001:db8:1:2:aaaa::1"));
        assert_eq!(a, Client::of(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")));
        assert_ne!(a, Client::of(ip("2001:db8:1:3::1")));
        assert_eq!(a.to_string(), "2001:db8:1:2::/64");
        assert_eq!(
            Client::of(ip("::ffff:203.0.113.9")),
            Client::of(ip("203.0.113.9"))
        );
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let forwarded = |values: &[&str]| {
            let mut map = HeaderMap::new();
            for v in values {
                map.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
            }
            map
        };
        let proxy = ip("10.0.0.2");
        let trusted = [proxy, ip("10.0.0.3")];
        let spoofed = forwarded(&["198.51.100.7, 203.0.113.9"]);
        // From anyone else, the header is the client's own claim: ignored.
        assert_eq!(
            client(ip("192.0.2.1"), &spoofed, &trusted),
            Client::of(ip("192.0.2.1"))
        );
        // From a trusted proxy, the last address it did not add itself.
        assert_eq!(
            client(proxy, &spoofed, &trusted),
            Client::of(ip("203.0.113.9"))
        );
        // Chains of trusted proxies are skipped, across repeated headers.
        let chained = forwarded(&["198.51.100.7, 203.0.113.9", "10.0.0.3"]);
        assert_eq!(
            client(proxy, &chained, &trusted),
            Client::of(ip("203.0.113.9"))
        );
        // What the client wrote left of the hop the proxy appended is never
        // read, parsable or not; ports are allowed.
        let junk = forwarded(&["not-an-ip, 198.51.100.7:4711"]);
        assert_eq!(
            client(proxy, &junk, &trusted),
            Client::of(ip("198.51.100.7"))
        );
        let v6 = forwarded(&["[2001:db8::1]:443"]);
        assert_eq!(client(proxy, &v6, &trusted), Client::of(ip("2001:db8::1")));
        // A hop the nearest proxy wrote that does not parse, or no header,
        // counts that proxy.
        for odd in [forwarded(&["203.0.113.9, not-an-ip"]), HeaderMap::new()] {
            assert_eq!(client(proxy, &odd, &trusted), Client::of(proxy));
        }
        // An IPv4 proxy seen on a dual-stack socket is still trusted.
        assert_eq!(
            client(ip("::ffff:10.0.0.2"), &spoofed, &trusted),
            Client::of(ip("203.0.113.9"))
        );
    }

    #[cfg(feature = "cli")]
    #[test]
    fn http_flags_parse_and_need_http() {
        use clap::Parser as _;

        #[derive(clap::Parser)]
        struct Cli {
            #[arg(long)]
            demo: bool,
            #[command(flatten)]
            http: HttpArgs,
        }
        let line = [
            "server",
            "--demo",
            "--http",
            "127.0.0.1:8080",
            "--allowed-host",
            "mcp.example.com",
            "--stateless",
            "--max-body-bytes",
            "4096",
        ];
        let cli = Cli::try_parse_from(line).unwrap();
        assert!(cli.demo);
        let (addr, options) = cli.http.options().unwrap();
        assert_eq!(addr, "127.0.0.1:8080");
        assert_eq!(options.allowed_hosts, ["mcp.example.com"]);
        assert!(options.stateless);
        assert_eq!(options.max_body_bytes, 4096);

        let stdio = Cli::try_parse_from(["server", "--demo"]).unwrap();
        assert!(stdio.http.options().is_none());
        for bad in [
            &["server", "--stateless"][..],
            &["server", "--http"],
            &["server", "--http", "a", "--max-body-bytes", "x"],
            &["server", "--public-url", "https://mcp.example.com"],
        ] {
            assert!(Cli::try_parse_from(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn loopback_means_a_loopback_literal_or_localhost() {
        for addr in [
            "127.0.0.1:8080",
            "127.9.9.9:1",
            "[::1]:80",
            "localhost:0",
            "LOCALHOST:1",
        ] {
            assert!(is_loopback(addr), "{addr}");
        }
        for addr in [
            "0.0.0.0:8080",
            "[::]:80",
            "10.0.0.1:80",
            "example.com:80",
            "localhost.example.com:80",
            "localhost",
            "[::ffff:127.0.0.1]:80",
        ] {
            assert!(!is_loopback(addr), "{addr}");
        }
    }

    #[test]
    fn a_challenge_is_always_sent_and_no_claim_can_break_out_of_its_quotes() {
        let reason = "token for \"café\", scope=\"admin\"\\\r\n";
        let text = challenge_text(reason);
        assert_eq!(
            text,
            "token for U+0022cafU+00E9U+0022, scope=U+0022adminU+0022U+005CU+000DU+000A"
        );
        let challenge = format!("Bearer error=\"invalid_token\", error_description=\"{text}\"");
        let response = with_challenge(StatusCode::UNAUTHORIZED, &challenge, &json!({}));
        let sent = response.headers()[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap();
        assert_eq!(sent, challenge);
        assert_eq!(sent.matches('"').count(), 4, "{sent}");
        // Even a challenge built wrongly still names the scheme.
        let response = with_challenge(StatusCode::UNAUTHORIZED, "Bearer é\n", &json!({}));
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
    }

    #[test]
    fn bearer_takes_exactly_one_well_formed_header() {
        assert_eq!(bearer(&headers(&["Bearer abc"])), Some("abc"));
        assert_eq!(bearer(&headers(&["bearer abc"])), Some("abc"));
        for bad in [&[][..], &["Basic abc"], &["Bearer "], &["Bearer"], &["abc"]] {
            assert_eq!(bearer(&headers(bad)), None, "{bad:?}");
        }
        assert_eq!(bearer(&headers(&["Bearer a", "Bearer b"])), None);
    }
}

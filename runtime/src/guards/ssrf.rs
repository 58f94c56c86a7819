//! Server-side request forgery (CWE-918).
//!
//! A URL is accepted only if it is `https` (unless the policy allows `http`),
//! carries no userinfo, does not name `localhost` in any spelling, and every
//! address its host resolves to lies outside every IANA special-purpose range,
//! including IPv4 embedded in IPv6 (mapped, compatible, NAT64, 6to4, Teredo).
//! Numeric and shortened IPv4 spellings (`0x7f.1`, `2130706433`, `127.1`) are
//! normalised by the WHATWG URL parser before classification. A resolution
//! failure is a refusal.
//!
//! [`fetch`] then connects to an address that was checked, itself, with no
//! second lookup (DNS rebinding cannot swap it), follows a redirect only after
//! checking the new URL from scratch, and bounds time and response size.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use url::{Host, Url};

use crate::future::BoxFuture;
use crate::reject::{Gate, Reject};

/// Why an address is not a destination: the special-purpose range it is in.
pub fn classify_v4(ip: Ipv4Addr) -> Result<(), &'static str> {
    let [a, b, c, _] = ip.octets();
    let range = match (a, b, c) {
        (0, _, _) => "this network (0.0.0.0/8)",
        (10, _, _) => "private network (10.0.0.0/8)",
        (100, 64..=127, _) => "shared address space (100.64.0.0/10)",
        (127, _, _) => "loopback (127.0.0.0/8)",
        (169, 254, _) => "link-local and cloud metadata (169.254.0.0/16)",
        (172, 16..=31, _) => "private network (172.16.0.0/12)",
        (192, 0, 0) => "IETF protocol assignments (192.0.0.0/24)",
        (192, 0, 2) => "documentation (192.0.2.0/24)",
        (192, 31, 196) => "AS112 (192.31.196.0/24)",
        (192, 52, 193) => "AMT (192.52.193.0/24)",
        (192, 88, 99) => "6to4 relay anycast (192.88.99.0/24)",
        (192, 168, _) => "private network (192.168.0.0/16)",
        (192, 175, 48) => "AS112 direct delegation (192.175.48.0/24)",
        (198, 18..=19, _) => "benchmarking (198.18.0.0/15)",
        (198, 51, 100) => "documentation (198.51.100.0/24)",
        (203, 0, 113) => "documentation (203.0.113.0/24)",
        (224..=239, _, _) => "multicast (224.0.0.0/4)",
        (240..=255, _, _) => "reserved (240.0.0.0/4)",
        _ => return Ok(()),
    };
    Err(range)
}

/// IPv6 ranges, and IPv4 embedded in IPv6, classified alike.
pub fn classify_v6(ip: Ipv6Addr) -> Result<(), &'static str> {
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    let range = match s {
        [0, 0, 0, 0, 0, 0, 0, 0] => "unspecified (::/128)",
        [0, 0, 0, 0, 0, 0, 0, 1] => "loopback (::1/128)",
        [0, 0, 0, 0, 0, 0xffff, hi, lo] => {
            return classify_v4(embedded(hi, lo))
                .map_err(|_| "IPv4-mapped internal address (::ffff:0:0/96)");
        }
        [0, 0, 0, 0, 0, 0, hi, lo] => {
            return classify_v4(embedded(hi, lo))
                .map_err(|_| "IPv4-compatible internal address (::/96)");
        }
        [0, 0, 0, 0, 0xffff, 0, _, _] => "IPv4-translated (::ffff:0:0:0/96)",

        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => {
            return classify_v4(embedded(hi, lo))
                .map_err(|_| "NAT64 of an internal address (64:ff9b::/96)");
        }
        [0x64, 0xff9b, 1, ..] => "local-use NAT64 (64:ff9b:1::/48)",
        [0x100, 0, 0, 0, ..] => "discard-only (100::/64)",
        [0x2001, 0, server_hi, server_lo, _, _, client_hi, client_lo] => {
            // Teredo: the server's IPv4 in clear, the client's inverted.
            let server = embedded(server_hi, server_lo);
            let client = embedded(!client_hi, !client_lo);
            if classify_v4(server).is_err() || classify_v4(client).is_err() {
                return Err("Teredo embedding an internal address (2001::/32)");
            }
            "Teredo (2001::/32)"
        }
        [0x2001, 0xdb8, ..] => "documentation (2001:db8::/32)",
        [0x2001, b, ..] if b < 0x200 => "IETF protocol assignments (2001::/23)",
        [0x2002, hi, lo, ..] => {
            return classify_v4(embedded(hi, lo))
                .map_err(|_| "6to4 embedding an internal address (2002::/16)");
        }
        [0x3fff, b, ..] if b < 0x1000 => "documentation (3fff::/20)",
        [0x5f00, ..] => "segment routing (5f00::/16)",
        [a, ..] if a & 0xfe00 == 0xfc00 => "unique local (fc00::/7)",
        [a, ..] if a & 0xffc0 == 0xfe80 => "link-local (fe80::/10)",
        [a, ..] if a & 0xffc0 == 0xfec0 => "site-local (fec0::/10)",
        [a, ..] if a & 0xff00 == 0xff00 => "multicast (ff00::/8)",
        _ => return Ok(()),
    };
    Err(range)
}

/// Classifies an address of either family.
pub fn classify(ip: IpAddr) -> Result<(), &'static str> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

/// Host names that mean "this machine" or a private network, whatever DNS says.
fn internal_name(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    let exact = [
        "localhost",
        "localhost.localdomain",
        "ip6-localhost",
        "ip6-loopback",
        "broadcasthost",
    ];
    let suffixes = [
        ".localhost",
        ".localdomain",
        ".local",
        ".internal",
        ".home.arpa",
    ];
    exact.contains(&host) || suffixes.iter().any(|s| host.ends_with(s))
}

/// Resolves host names. The default uses the system resolver; tests substitute their own.
pub trait Resolve: Send + Sync + 'static {
    /// Every address `host` resolves to.
    fn resolve<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> BoxFuture<'a, std::io::Result<Vec<SocketAddr>>>;
}

/// The system resolver.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> BoxFuture<'a, std::io::Result<Vec<SocketAddr>>> {
        Box::pin(async move { Ok(tokio::net::lookup_host((host, port)).await?.collect()) })
    }
}

/// Opens TCP connections to checked addresses.
pub trait Connect: Send + Sync + 'static {
    /// Connects to `addr`.
    fn connect(&self, addr: SocketAddr) -> BoxFuture<'_, std::io::Result<TcpStream>>;
}

/// Connects anywhere the guard let through.
#[derive(Debug, Clone, Copy, Default)]
pub struct DirectConnector;

impl Connect for DirectConnector {
    fn connect(&self, addr: SocketAddr) -> BoxFuture<'_, std::io::Result<TcpStream>> {
        Box::pin(TcpStream::connect(addr))
    }
}

/// Refuses every address outside loopback. Tests use it, so that a guard bug
/// fails the test instead of sending traffic to an internal network.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoopbackOnly;

impl Connect for LoopbackOnly {
    fn connect(&self, addr: SocketAddr) -> BoxFuture<'_, std::io::Result<TcpStream>> {
        Box::pin(async move {
            if !addr.ip().is_loopback() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!("test connector refuses {addr}: outside loopback"),
                ));
            }
            TcpStream::connect(addr).await
        })
    }
}

/// What may be fetched, and how.
#[derive(Clone)]
pub struct FetchPolicy {
    /// Accept `http` as well as `https`. Off by default.
    pub allow_http: bool,
    /// Loopback addresses (127.0.0.0/8, ::1) that a deployment or test explicitly allows.
    pub allow_loopback: bool,
    /// The ports a URL may name (its scheme's when it names none): 443 by
    /// default, so a URL cannot reach a service on another port of an
    /// allowed host. Empty means any.
    pub ports: Vec<u16>,
    /// Redirects followed, each checked from scratch.
    pub max_redirects: u8,
    /// The most body bytes read; more is a refusal.
    pub max_bytes: usize,
    /// Time for the whole fetch, redirects included.
    pub timeout: Duration,
    /// Name resolution.
    pub resolver: Arc<dyn Resolve>,
    /// TCP connections.
    pub connector: Arc<dyn Connect>,
    /// Trusted TLS roots.
    pub roots: Arc<tokio_rustls::rustls::RootCertStore>,
}

impl std::fmt::Debug for FetchPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FetchPolicy")
            .field("allow_http", &self.allow_http)
            .field("allow_loopback", &self.allow_loopback)
            .field("ports", &self.ports)
            .field("max_redirects", &self.max_redirects)
            .field("max_bytes", &self.max_bytes)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Default for FetchPolicy {
    fn default() -> Self {
        let roots = tokio_rustls::rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        Self {
            allow_http: false,
            allow_loopback: false,
            ports: vec![443],
            max_redirects: 3,
            max_bytes: 1024 * 1024,
            timeout: Duration::from_secs(10),
            resolver: Arc::new(SystemResolver),
            connector: Arc::new(DirectConnector),
            roots: Arc::new(roots),
        }
    }
}

fn blocked(field: &'static str, reason: impl Into<std::borrow::Cow<'static, str>>) -> Reject {
    Reject::at(Gate::Ssrf, Some(field.into()), reason)
}

/// A URL whose host was resolved and every address checked. [`CheckedUrl::fetch`]
/// connects to these addresses and no others, under the policy it was checked with.
#[derive(Debug, Clone)]
pub struct CheckedUrl {
    url: Url,
    addrs: Vec<SocketAddr>,
    policy: FetchPolicy,
}

impl CheckedUrl {
    /// Fetches it: see [`fetch`].
    pub async fn fetch(self) -> Result<Fetched, Reject> {
        let policy = self.policy.clone();
        fetch(self, &policy).await
    }

    /// The URL as checked.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The addresses it may be fetched from.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }
}

/// The syntactic checks: scheme, userinfo, host. Returns the parsed URL.
pub fn check_syntax(field: &'static str, raw: &str, policy: &FetchPolicy) -> Result<Url, Reject> {
    let url = Url::parse(raw).map_err(|e| {
        blocked(
            field,
            format!("blocked by SSRF guard: not a valid URL ({e})"),
        )
    })?;
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_http => {}
        other => {
            return Err(blocked(
                field,
                format!("blocked by SSRF guard: scheme {other:?} is not allowed (https only)"),
            ));
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(blocked(
            field,
            "blocked by SSRF guard: credentials in URLs are not allowed",
        ));
    }
    if let Some(port) = url.port_or_known_default()
        && !policy.ports.is_empty()
        && !policy.ports.contains(&port)
    {
        return Err(blocked(
            field,
            format!(
                "blocked by SSRF guard: port {port} is not allowed ({:?} are)",
                policy.ports
            ),
        ));
    }
    match url.host() {
        None => Err(blocked(field, "blocked by SSRF guard: URL has no host")),
        Some(Host::Domain(name)) if internal_name(name) => Err(blocked(
            field,
            format!("blocked by SSRF guard: internal host name {name:?}"),
        )),
        Some(_) => Ok(url),
    }
}

fn check_addr(field: &'static str, ip: IpAddr, policy: &FetchPolicy) -> Result<(), Reject> {
    if policy.allow_loopback && ip.is_loopback() {
        return Ok(());
    }
    classify(ip).map_err(|range| {
        blocked(
            field,
            format!("blocked by SSRF guard: blocked internal/reserved address {ip} ({range})"),
        )
    })
}

/// Every check, including resolution: the URL and the addresses it may be fetched from.
pub async fn check(
    field: &'static str,
    raw: &str,
    policy: &FetchPolicy,
) -> Result<CheckedUrl, Reject> {
    let url = check_syntax(field, raw, policy)?;
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs = match url.host() {
        Some(Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(Host::Domain(name)) => {
            let resolved =
                tokio::time::timeout(policy.timeout, policy.resolver.resolve(name, port))
                    .await
                    .map_err(|_| {
                        blocked(
                            field,
                            format!("blocked by SSRF guard: resolving {name:?} timed out"),
                        )
                    })?
                    .map_err(|e| {
                        blocked(
                            field,
                            format!(
                                "blocked by SSRF guard: cannot resolve {name:?} ({})",
                                e.kind()
                            ),
                        )
                    })?;
            if resolved.is_empty() {
                return Err(blocked(
                    field,
                    format!("blocked by SSRF guard: {name:?} resolves to no address"),
                ));
            }
            resolved
        }
        None => return Err(blocked(field, "blocked by SSRF guard: URL has no host")),
    };
    for addr in &addrs {
        check_addr(field, addr.ip(), policy)?;
    }
    Ok(CheckedUrl {
        url,
        addrs,
        policy: policy.clone(),
    })
}

/// A fetched response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The URL finally fetched, after redirects.
    pub url: Url,
    /// The HTTP status.
    pub status: u16,
    /// The body, at most `max_bytes`.
    pub body: Vec<u8>,
}

fn fetch_failed(reason: impl Into<std::borrow::Cow<'static, str>>) -> Reject {
    Reject::at(Gate::Execute, None, reason)
}

/// Fetches a checked URL, connecting only to its checked addresses, and
/// following redirects only after checking each new URL from scratch.
pub async fn fetch(target: CheckedUrl, policy: &FetchPolicy) -> Result<Fetched, Reject> {
    tokio::time::timeout(policy.timeout, fetch_inner(target, policy))
        .await
        .map_err(|_| fetch_failed(format!("fetch exceeded {} ms", policy.timeout.as_millis())))?
}

async fn fetch_inner(mut target: CheckedUrl, policy: &FetchPolicy) -> Result<Fetched, Reject> {
    let mut redirects = 0;
    loop {
        let (status, location, body) = fetch_once(&target, policy).await?;
        if (300..400).contains(&status) {
            let Some(location) = location else {
                return Err(fetch_failed(format!(
                    "redirect {status} without a location"
                )));
            };
            redirects += 1;
            if redirects > policy.max_redirects {
                return Err(fetch_failed(format!(
                    "more than {} redirects",
                    policy.max_redirects
                )));
            }
            let next = target
                .url
                .join(&location)
                .map_err(|_| blocked("url", "blocked by SSRF guard: redirect to an invalid URL"))?;
            target = check("url", next.as_str(), policy).await?;
            continue;
        }
        return Ok(Fetched {
            url: target.url,
            status,
            body,
        });
    }
}

async fn connect(target: &CheckedUrl, policy: &FetchPolicy) -> Result<TcpStream, Reject> {
    let mut last = None;
    for addr in &target.addrs {
        match policy.connector.connect(*addr).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some(e),
        }
    }
    let kind = last.map_or(std::io::ErrorKind::NotFound, |e| e.kind());
    Err(fetch_failed(format!(
        "cannot connect to {}: {kind}",
        target.url.host_str().unwrap_or("-")
    )))
}

async fn fetch_once(
    target: &CheckedUrl,
    policy: &FetchPolicy,
) -> Result<(u16, Option<String>, Vec<u8>), Reject> {
    let stream = connect(target, policy).await?;
    let out = crate::client::Outgoing {
        method: hyper::Method::GET,
        url: &target.url,
        accept: "text/*, application/json",
        headers: Vec::new(),
        body: Vec::new(),
        max_bytes: policy.max_bytes,
        roots: &policy.roots,
    };
    let answer = crate::client::exchange(stream, out)
        .await
        .map_err(fetch_failed)?;
    Ok((answer.status, answer.location, answer.body))
}

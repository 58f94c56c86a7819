//! Tokens issued by OpenID providers (Keycloak, Entra ID, Auth0, Okta,
//! `oidc-provider`…): this server is an OAuth resource server.
//!
//! An [`OidcVerifier`] trusts one or more [`Issuer`]s, each named by its
//! issuer URL and the audience it must mint tokens for: this server's
//! canonical resource URI (RFC 8707), the `resource` of its protected-resource
//! metadata (RFC 9728). At start-up it reads each issuer's metadata (OpenID
//! discovery, else RFC 8414), checks that the metadata names the same issuer,
//! and fetches its keys (JWKS). Then, for a JWT:
//!
//! - the `iss` claim picks the issuer; an issuer not configured is refused;
//! - the header's `alg` must be on the issuer's allowlist (RS256, PS256,
//!   ES256 and EdDSA by default); `none` and HS* are never accepted from a
//!   key set, and a key is used only for the algorithm it was published for;
//! - the key is the one the header's `kid` names. An unknown `kid` fetches
//!   the key set again, at most once per [`OidcOptions::refresh_every`] per
//!   issuer, with one fetch shared by every request waiting on it: a flood
//!   of made-up `kid`s cannot make the server hammer the issuer, and a
//!   rotated key is picked up without a restart. Keys older than
//!   [`OidcOptions::max_key_age`] are fetched again, so a key the issuer
//!   withdrew stops verifying; keys unconfirmed for twice that age verify
//!   nothing ([`AuthError::Unavailable`]). Fetches run as tasks of their
//!   own, so a caller that goes away cannot cancel one;
//! - a token bound to a key (`cnf`: DPoP, mutual TLS) is refused: this
//!   server checks no proof of possession;
//! - signature, `iss`, `aud` (the issuer's audience), `exp`, `nbf` (with
//!   [`JWT_LEEWAY_SECS`](crate::auth::JWT_LEEWAY_SECS) of skew), `sub`, and
//!   scopes from `scope` or `scp`, as for [`JwtVerifier`](crate::auth::JwtVerifier).
//!
//! A token that is not a JWT (an opaque token) is introspected (RFC 7662) at
//! the issuer that was given client credentials for it: it must be `active`,
//! name this server's audience in `aud`, and not be expired. Answers are
//! cached, by a hash of the token, until the token's `exp` and at most
//! [`OidcOptions::introspection_ttl`]; refusals for
//! [`OidcOptions::negative_ttl`]. When the endpoint does not answer, the
//! token is refused with [`AuthError::Unavailable`] and nothing is cached:
//! it is served again as soon as the endpoint answers.
//!
//! Issuer, key set and introspection URLs must be `https`, except on a
//! loopback host. The caller's token is sent to no one but the introspection
//! endpoint of the issuer that minted it; this server never forwards it.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use serde_json::Value;
use tokio_rustls::rustls::RootCertStore;
use url::Url;

use crate::auth::{
    AuthError, KeyError, Principal, TokenVerifier, Verification, decode, principal, validation,
};
use crate::client::{Answer, Outgoing, exchange};

/// The algorithms accepted from a key set unless an issuer says otherwise.
pub const DEFAULT_ALGORITHMS: [Algorithm; 4] = [
    Algorithm::RS256,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::EdDSA,
];

/// The longest token looked at, in bytes; a longer one is refused unread.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// One trusted issuer.
#[derive(Clone)]
pub struct Issuer {
    url: String,
    audience: String,
    algorithms: Vec<Algorithm>,
    roots: Arc<RootCertStore>,
    introspection: Option<(String, String)>,
}

impl fmt::Debug for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issuer")
            .field("url", &self.url)
            .field("audience", &self.audience)
            .field("algorithms", &self.algorithms)
            .field(
                "introspection_client",
                &self.introspection.as_ref().map(|(id, _)| id),
            )
            .finish_non_exhaustive()
    }
}

impl Issuer {
    /// Tokens of the issuer `url` (exactly as its `iss` claim spells it), for
    /// `audience`: this server's resource URI. TLS is checked against the
    /// web's public roots.
    pub fn new(url: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            audience: audience.into(),
            algorithms: DEFAULT_ALGORITHMS.to_vec(),
            roots: Arc::new(RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            }),
            introspection: None,
        }
    }

    /// Accepts only these algorithms. HMAC (`HS*`) is refused: a key set is
    /// public, and a public key used as an HMAC secret forges anything.
    pub fn with_algorithms(mut self, algorithms: &[Algorithm]) -> Result<Self, KeyError> {
        if let Some(hmac) = algorithms
            .iter()
            .find(|a| matches!(a, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512))
        {
            return Err(KeyError(format!(
                "{hmac:?} is never accepted from an issuer's key set"
            )));
        }
        if algorithms.is_empty() {
            return Err(KeyError("an issuer needs at least one algorithm".into()));
        }
        self.algorithms = algorithms.to_vec();
        Ok(self)
    }

    /// Trusts these roots for the issuer's TLS instead (a private CA).
    pub fn with_roots(mut self, roots: Arc<RootCertStore>) -> Self {
        self.roots = roots;
        self
    }

    /// Introspects opaque tokens at the issuer's introspection endpoint,
    /// authenticating as this client (HTTP Basic).
    pub fn with_introspection(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        self.introspection = Some((client_id.into(), client_secret.into()));
        self
    }
}

/// How the verifier talks to its issuers.
#[derive(Debug, Clone)]
pub struct OidcOptions {
    /// The least time between two key-set fetches of one issuer.
    pub refresh_every: Duration,
    /// Keys older than this are fetched again before they are used.
    pub max_key_age: Duration,
    /// Time for one request to an issuer.
    pub timeout: Duration,
    /// The largest metadata, key set or introspection answer read.
    pub max_bytes: usize,
    /// The longest an introspection answer is trusted (never past `exp`).
    pub introspection_ttl: Duration,
    /// How long an inactive or refused opaque token is refused unasked.
    pub negative_ttl: Duration,
    /// The most introspection answers cached.
    pub cache_entries: usize,
    /// The claim naming the caller's roles (`roles`, or a dotted path such as
    /// `realm_access.roles`): a list of names, or one space-separated string.
    /// Each is a casbin role the caller holds besides those assigned to its
    /// subject. `None`: roles are assigned in the policy store only.
    pub roles_claim: Option<String>,
}

/// The most roles a token may claim.
pub const MAX_ROLES: usize = 64;

/// The longest role name a token may claim, in bytes.
pub const MAX_ROLE_BYTES: usize = 128;

/// The roles at `path` in `claims`; none when the claim is absent.
fn roles_at(claims: &Value, path: &str) -> Result<Vec<String>, AuthError> {
    let refused = AuthError::Malformed("the roles claim is not a short list of role names");
    let mut at = claims;
    for segment in path.split('.') {
        match at.get(segment) {
            Some(next) => at = next,
            None => return Ok(Vec::new()),
        }
    }
    let names: Vec<&str> = match at {
        Value::String(names) => names.split_whitespace().collect(),
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().ok_or(refused.clone()))
            .collect::<Result<_, _>>()?,
        _ => return Err(refused),
    };
    if names.len() > MAX_ROLES
        || names.iter().any(|n| {
            n.is_empty()
                || n.len() > MAX_ROLE_BYTES
                || n.chars().any(|c| c.is_control() || c.is_whitespace())
        })
    {
        return Err(refused);
    }
    Ok(names.into_iter().map(str::to_owned).collect())
}

impl Default for OidcOptions {
    fn default() -> Self {
        Self {
            refresh_every: Duration::from_secs(10),
            max_key_age: Duration::from_secs(10 * 60),
            timeout: Duration::from_secs(5),
            max_bytes: 256 * 1024,
            introspection_ttl: Duration::from_secs(5 * 60),
            negative_ttl: Duration::from_secs(10),
            cache_entries: 10_000,
            roles_claim: None,
        }
    }
}

/// Verifies tokens of OpenID providers. See the [module](self) documentation.
pub struct OidcVerifier {
    issuers: Vec<Trusted>,
    options: OidcOptions,
    cache: Mutex<HashMap<[u8; 32], Cached>>,
    /// Bounds the introspection requests in flight: made-up opaque tokens
    /// queue here instead of multiplying requests to the issuer.
    asking: Arc<tokio::sync::Semaphore>,
}

/// The most introspection requests in flight at once.
pub const MAX_INTROSPECTIONS: usize = 16;

impl fmt::Debug for OidcVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcVerifier")
            .field(
                "issuers",
                &self.issuers.iter().map(|t| &t.issuer).collect::<Vec<_>>(),
            )
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// An issuer with what its metadata said and the keys it published.
#[derive(Clone)]
struct Trusted {
    issuer: Issuer,
    jwks_uri: Url,
    introspection_endpoint: Option<Url>,
    /// Shared by the verifiers of every audience of this issuer.
    ring: Arc<KeyRing>,
}

/// The keys of one issuer, and how they are fetched again.
struct KeyRing {
    keys: RwLock<Keys>,
    /// Held while the key set is fetched, so concurrent requests share one fetch.
    refreshing: tokio::sync::Mutex<()>,
    fetches: std::sync::atomic::AtomicU64,
}

struct Keys {
    keys: Vec<PublishedKey>,
    fetched: Instant,
    attempted: Instant,
}

struct PublishedKey {
    kid: Option<String>,
    algorithm: Option<Algorithm>,
    key: DecodingKey,
}

struct Cached {
    result: Result<Principal, AuthError>,
    until: Instant,
}

#[derive(Deserialize)]
struct Metadata {
    issuer: String,
    jwks_uri: String,
    introspection_endpoint: Option<String>,
}

#[derive(Deserialize)]
struct PeekedClaims {
    iss: Option<String>,
    /// A confirmation (RFC 7800: DPoP, mutual TLS) binds the token to a key
    /// the caller must prove it holds; this server checks no such proof.
    cnf: Option<Value>,
}

fn config(reason: impl Into<String>) -> KeyError {
    KeyError(reason.into())
}

/// `https`, or `http` on a loopback host when `http_loopback`.
fn endpoint(raw: &str, what: &str, http_loopback: bool) -> Result<Url, KeyError> {
    let url = Url::parse(raw).map_err(|e| config(format!("{what} {raw:?} is not a URL: {e}")))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback && http_loopback => {}
        _ => {
            return Err(config(format!(
                "{what} {raw:?} must be https (http only on a loopback host)"
            )));
        }
    }
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return Err(config(format!(
            "{what} {raw:?} carries credentials or a fragment"
        )));
    }
    Ok(url)
}

impl OidcVerifier {
    /// Reads each issuer's metadata and keys. Any issuer that cannot be read,
    /// names another issuer in its metadata, or publishes no usable key is an
    /// error: the server does not start half-configured.
    pub async fn discover(issuers: Vec<Issuer>, options: OidcOptions) -> Result<Self, KeyError> {
        if issuers.is_empty() {
            return Err(config("no issuer is configured"));
        }
        if issuers.iter().filter(|i| i.introspection.is_some()).count() > 1 {
            return Err(config(
                "at most one issuer may introspect opaque tokens (an opaque token names no issuer)",
            ));
        }
        let mut trusted = Vec::with_capacity(issuers.len());
        for issuer in issuers {
            if issuer.audience.is_empty() {
                return Err(config(format!("issuer {:?} has no audience", issuer.url)));
            }
            if trusted.iter().any(|t: &Trusted| t.issuer.url == issuer.url) {
                return Err(config(format!(
                    "issuer {:?} is configured twice",
                    issuer.url
                )));
            }
            trusted.push(Trusted::discover(issuer, &options).await?);
        }
        Ok(Self {
            issuers: trusted,
            options,
            cache: Mutex::new(HashMap::new()),
            asking: Arc::new(tokio::sync::Semaphore::new(MAX_INTROSPECTIONS)),
        })
    }

    /// A verifier configured from the environment, for tokens minted for
    /// `resource` (this server's resource URI):
    ///
    /// - `{PREFIX}_OIDC_ISSUER`: one issuer URL, or several separated by spaces;
    /// - `{PREFIX}_OIDC_ALGORITHMS` (optional): e.g. `RS256 ES256`;
    /// - `{PREFIX}_OIDC_INTROSPECTION_CLIENT_ID` and
    ///   `{PREFIX}_OIDC_INTROSPECTION_CLIENT_SECRET` (optional, together):
    ///   introspect opaque tokens at the first issuer;
    /// - `{PREFIX}_OIDC_CA_FILE` (optional): PEM roots for the issuers' TLS;
    /// - `{PREFIX}_OIDC_REFRESH_SECS` (optional): the least time between two
    ///   key-set fetches;
    /// - `{PREFIX}_OIDC_ROLES_CLAIM` (optional): the claim naming the caller's
    ///   roles ([`OidcOptions::roles_claim`]).
    pub async fn from_env(prefix: &str, resource: &str) -> Result<Self, KeyError> {
        let var = |name: &str| std::env::var(format!("{prefix}_OIDC_{name}")).ok();
        let issuers =
            var("ISSUER").ok_or_else(|| config(format!("{prefix}_OIDC_ISSUER is not set")))?;
        let mut options = OidcOptions::default();
        if let Some(secs) = var("REFRESH_SECS") {
            let secs: u64 = secs
                .parse()
                .map_err(|_| config(format!("{prefix}_OIDC_REFRESH_SECS is not a number")))?;
            options.refresh_every = Duration::from_secs(secs.max(1));
        }
        options.roles_claim = var("ROLES_CLAIM");
        let algorithms = match var("ALGORITHMS") {
            None => DEFAULT_ALGORITHMS.to_vec(),
            Some(names) => names
                .split_whitespace()
                .map(|name| {
                    name.parse::<Algorithm>()
                        .map_err(|_| config(format!("{prefix}_OIDC_ALGORITHMS: unknown {name:?}")))
                })
                .collect::<Result<_, _>>()?,
        };
        let roots = match var("CA_FILE") {
            None => None,
            Some(path) => Some(Arc::new(read_roots(&path)?)),
        };
        let introspection = match (
            var("INTROSPECTION_CLIENT_ID"),
            var("INTROSPECTION_CLIENT_SECRET"),
        ) {
            (Some(id), Some(secret)) => Some((id, secret)),
            (None, None) => None,
            _ => {
                return Err(config(format!(
                    "set both {prefix}_OIDC_INTROSPECTION_CLIENT_ID and {prefix}_OIDC_INTROSPECTION_CLIENT_SECRET, or neither"
                )));
            }
        };
        let mut configured = Vec::new();
        for (i, url) in issuers.split_whitespace().enumerate() {
            let mut issuer = Issuer::new(url, resource).with_algorithms(&algorithms)?;
            if let Some(roots) = &roots {
                issuer = issuer.with_roots(roots.clone());
            }
            if let (0, Some((id, secret))) = (i, &introspection) {
                issuer = issuer.with_introspection(id, secret);
            }
            configured.push(issuer);
        }
        Self::discover(configured, options).await
    }

    /// The same issuers, sharing their keys (no second fetch), for tokens
    /// minted for `audience` instead: another resource of this server, such
    /// as its approval page. Introspection answers are cached apart.
    pub fn for_audience(&self, audience: &str) -> Self {
        let issuers = self
            .issuers
            .iter()
            .map(|t| {
                let mut t = t.clone();
                audience.clone_into(&mut t.issuer.audience);
                t
            })
            .collect();
        Self {
            issuers,
            options: self.options.clone(),
            cache: Mutex::new(HashMap::new()),
            // One bound on the questions asked of the issuer, whatever the audience.
            asking: self.asking.clone(),
        }
    }

    /// The issuers' URLs, for the protected-resource metadata's
    /// `authorization_servers`.
    pub fn issuers(&self) -> Vec<String> {
        self.issuers.iter().map(|t| t.issuer.url.clone()).collect()
    }

    /// How many times the key set of `issuer` was fetched, start-up included.
    pub fn key_fetches(&self, issuer: &str) -> u64 {
        self.issuers
            .iter()
            .find(|t| t.issuer.url == issuer)
            .map_or(0, |t| {
                t.ring.fetches.load(std::sync::atomic::Ordering::Relaxed)
            })
    }

    async fn check(&self, token: &str) -> Result<Principal, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::Malformed("longer than 16 KiB"));
        }
        if token.split('.').count() == 3 {
            return self.check_jwt(token).await;
        }
        match self
            .issuers
            .iter()
            .find(|t| t.introspection_endpoint.is_some())
        {
            Some(trusted) => self.introspect(trusted, token).await,
            None => Err(AuthError::Malformed("not a JWT")),
        }
    }

    async fn check_jwt(&self, token: &str) -> Result<Principal, AuthError> {
        // `alg: none` and names the library does not know fail here.
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| AuthError::Malformed("not a valid JWT"))?;
        // The issuer is read before the signature is checked only to pick
        // whose keys check it; the signature then covers the claim.
        let peeked = jsonwebtoken::dangerous::insecure_decode_claims::<PeekedClaims>(token)
            .map_err(|_| AuthError::Malformed("not a valid JWT"))?;
        if peeked.cnf.is_some() {
            return Err(AuthError::Malformed(
                "a sender-constrained token (cnf), whose proof this server does not check",
            ));
        }
        let iss = peeked
            .iss
            .ok_or(AuthError::Malformed("a required claim is missing"))?;
        let trusted = self
            .issuers
            .iter()
            .find(|t| t.issuer.url == iss)
            .ok_or(AuthError::WrongIssuer)?;
        if !trusted.issuer.algorithms.contains(&header.alg) {
            return Err(AuthError::Malformed("algorithm not accepted"));
        }
        if trusted.stale(&self.options) {
            trusted.refresh(&self.options).await;
        }
        if trusted.expired(&self.options) {
            return Err(AuthError::Unavailable);
        }
        let key = match trusted.key(header.kid.as_deref(), header.alg) {
            Some(key) => key,
            None => {
                trusted.refresh(&self.options).await;
                trusted
                    .key(header.kid.as_deref(), header.alg)
                    .ok_or(AuthError::BadSignature)?
            }
        };
        let validation = validation(header.alg, &trusted.issuer.url, &trusted.issuer.audience);
        let principal = decode(token, &key, &validation, &trusted.issuer.audience)?;
        match &self.options.roles_claim {
            None => Ok(principal),
            Some(path) => {
                // Read only now that the signature verified.
                let claims = jsonwebtoken::dangerous::insecure_decode_claims::<Value>(token)
                    .map_err(|_| AuthError::Malformed("not a valid JWT"))?;
                Ok(principal.with_roles(roles_at(&claims, path)?))
            }
        }
    }

    async fn introspect(&self, trusted: &Trusted, token: &str) -> Result<Principal, AuthError> {
        use sha2::Digest as _;
        let digest: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
        if let Some(known) = self.cached(&digest) {
            return known;
        }
        // A queue that does not move within the timeout is an issuer that
        // does not answer.
        let Ok(Ok(_turn)) = tokio::time::timeout(self.options.timeout, self.asking.acquire()).await
        else {
            return Err(AuthError::Unavailable);
        };
        // Another request may have asked about the same token meanwhile.
        if let Some(known) = self.cached(&digest) {
            return known;
        }
        let (result, ttl) = trusted.introspect(token, &self.options).await;
        let ttl = match (&result, ttl) {
            (Err(AuthError::Unavailable), _) => return result,
            (Ok(_), ttl) => ttl.min(self.options.introspection_ttl),
            (Err(_), _) => self.options.negative_ttl,
        };
        let now = Instant::now();
        let mut cache = self.lock_cache();
        if cache.len() >= self.options.cache_entries {
            cache.retain(|_, c| c.until > now);
            if cache.len() >= self.options.cache_entries {
                cache.clear();
            }
        }
        cache.insert(
            digest,
            Cached {
                result: result.clone(),
                until: now.checked_add(ttl).unwrap_or(now),
            },
        );
        result
    }

    fn cached(&self, digest: &[u8; 32]) -> Option<Result<Principal, AuthError>> {
        let cache = self.lock_cache();
        let cached = cache.get(digest)?;
        (cached.until > Instant::now()).then(|| cached.result.clone())
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Cached>> {
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl TokenVerifier for OidcVerifier {
    fn verify<'a>(&'a self, token: &'a str) -> Verification<'a> {
        Verification::Pending(Box::pin(self.check(token)))
    }

    fn authorization_servers(&self) -> Vec<String> {
        self.issuers()
    }
}

fn read_roots(path: &str) -> Result<RootCertStore, KeyError> {
    use tokio_rustls::rustls::pki_types::CertificateDer;
    use tokio_rustls::rustls::pki_types::pem::PemObject as _;
    let pem = std::fs::read(path).map_err(|e| config(format!("cannot read {path}: {e}")))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| config(format!("{path}: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| config(format!("{path}: {e}")))?;
    }
    Ok(roots)
}

impl Trusted {
    async fn discover(issuer: Issuer, options: &OidcOptions) -> Result<Self, KeyError> {
        let base = endpoint(&issuer.url, "issuer", true)?;
        // An issuer on the web names no endpoint in cleartext, loopback or not.
        let local = base.scheme() == "http";
        let trimmed = issuer.url.trim_end_matches('/');
        let oidc = endpoint(
            &format!("{trimmed}/.well-known/openid-configuration"),
            "issuer",
            true,
        )?;
        // RFC 8414 puts the well-known segment before the issuer's path.
        let mut oauth = base.clone();
        oauth.set_path(&format!(
            "/.well-known/oauth-authorization-server{}",
            base.path().trim_end_matches('/')
        ));
        let mut metadata = None;
        let mut reasons = Vec::new();
        for url in [oidc, oauth] {
            match get(&url, &issuer.roots, options).await {
                Ok(body) => match serde_json::from_slice::<Metadata>(&body) {
                    Ok(m) => {
                        metadata = Some(m);
                        break;
                    }
                    Err(e) => reasons.push(format!("{url}: not metadata: {e}")),
                },
                Err(e) => reasons.push(format!("{url}: {e}")),
            }
        }
        let metadata = metadata.ok_or_else(|| {
            config(format!(
                "cannot read the metadata of issuer {:?}: {}",
                issuer.url,
                reasons.join("; ")
            ))
        })?;
        // OpenID Connect Discovery §4.3, RFC 8414 §3.3: metadata that names
        // another issuer is not this issuer's.
        if metadata.issuer != issuer.url {
            return Err(config(format!(
                "the metadata of issuer {:?} names the issuer {:?}",
                issuer.url, metadata.issuer
            )));
        }
        let jwks_uri = endpoint(&metadata.jwks_uri, "jwks_uri", local)?;
        let introspection_endpoint = match (&issuer.introspection, metadata.introspection_endpoint)
        {
            (None, _) => None,
            (Some(_), Some(raw)) => Some(endpoint(&raw, "introspection_endpoint", local)?),
            (Some(_), None) => {
                return Err(config(format!(
                    "issuer {:?} publishes no introspection_endpoint",
                    issuer.url
                )));
            }
        };
        let now = Instant::now();
        let trusted = Self {
            issuer,
            jwks_uri,
            introspection_endpoint,
            ring: Arc::new(KeyRing {
                keys: RwLock::new(Keys {
                    keys: Vec::new(),
                    fetched: now,
                    attempted: now,
                }),
                refreshing: tokio::sync::Mutex::new(()),
                fetches: std::sync::atomic::AtomicU64::new(0),
            }),
        };
        let keys = fetch_keys(
            &trusted.ring,
            &trusted.jwks_uri,
            &trusted.issuer.roots,
            options,
        )
        .await
        .map_err(|e| {
            config(format!(
                "cannot read the keys of issuer {:?}: {e}",
                trusted.issuer.url
            ))
        })?;
        trusted.write_keys().keys = keys;
        Ok(trusted)
    }

    fn read_keys(&self) -> std::sync::RwLockReadGuard<'_, Keys> {
        self.ring
            .keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write_keys(&self) -> std::sync::RwLockWriteGuard<'_, Keys> {
        self.ring
            .keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn stale(&self, options: &OidcOptions) -> bool {
        self.read_keys().fetched.elapsed() >= options.max_key_age
    }

    /// The key `kid` names, published for `alg` (or for no algorithm in
    /// particular, in a family that fits it). Without a `kid`, the only
    /// such key, if there is exactly one.
    fn key(&self, kid: Option<&str>, alg: Algorithm) -> Option<DecodingKey> {
        let keys = self.read_keys();
        let mut fitting = keys
            .keys
            .iter()
            .filter(|k| k.algorithm.is_none_or(|a| a == alg) && k.key.family() == alg.family());
        match kid {
            Some(kid) => fitting
                .find(|k| k.kid.as_deref() == Some(kid))
                .map(|k| k.key.clone()),
            None => {
                let first = fitting.next()?;
                fitting.next().is_none().then(|| first.key.clone())
            }
        }
    }

    /// Fetches the key set again, unless it was fetched (or tried) less than
    /// `refresh_every` ago. Requests arriving meanwhile wait for this fetch
    /// instead of starting their own. A failed fetch keeps the keys known.
    async fn refresh(&self, options: &OidcOptions) {
        let _one_at_a_time = self.ring.refreshing.lock().await;
        if self.read_keys().attempted.elapsed() < options.refresh_every {
            return;
        }
        self.write_keys().attempted = Instant::now();
        // The fetch runs as a task of its own: a caller that hangs up does
        // not cancel it, so no client can spend a period's fetch for nothing.
        let ring = self.ring.clone();
        let (jwks_uri, roots) = (self.jwks_uri.clone(), self.issuer.roots.clone());
        let (issuer, options) = (self.issuer.url.clone(), options.clone());
        let fetch = tokio::spawn(async move {
            match fetch_keys(&ring, &jwks_uri, &roots, &options).await {
                Ok(fresh) => {
                    let mut keys = ring
                        .keys
                        .write()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    keys.keys = fresh;
                    keys.fetched = Instant::now();
                }
                Err(e) => tracing::warn!(
                    issuer = %crate::log::escape_bounded(&issuer),
                    "the key set could not be fetched again; the keys known stay in use until they are {} s old: {e}",
                    options.max_key_age.saturating_mul(2).as_secs()
                ),
            }
        });
        let _ = fetch.await;
    }

    /// Whether the keys went unconfirmed for twice the longest they may be
    /// used unrefreshed: then no token is checked against them.
    fn expired(&self, options: &OidcOptions) -> bool {
        self.read_keys().fetched.elapsed() >= options.max_key_age.saturating_mul(2)
    }

    /// The introspection endpoint's verdict on `token`, and how long it may
    /// be trusted.
    async fn introspect(
        &self,
        token: &str,
        options: &OidcOptions,
    ) -> (Result<Principal, AuthError>, Duration) {
        let (Some(url), Some((id, secret))) =
            (&self.introspection_endpoint, &self.issuer.introspection)
        else {
            return (Err(AuthError::Unknown), Duration::ZERO);
        };
        let form = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let credentials = {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                form(id),
                form(secret)
            ))
        };
        let body = format!("token={}&token_type_hint=access_token", form(token));
        let answer = send(
            url,
            hyper::Method::POST,
            vec![
                (hyper::header::AUTHORIZATION, format!("Basic {credentials}")),
                (
                    hyper::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded".to_owned(),
                ),
            ],
            body.into_bytes(),
            &self.issuer.roots,
            options,
        )
        .await;
        let answer = match answer {
            Ok(answer) if answer.status == 200 => answer.body,
            Ok(answer) => {
                tracing::warn!(
                    status = answer.status,
                    "token introspection answered with an error"
                );
                return (Err(AuthError::Unavailable), Duration::ZERO);
            }
            Err(e) => {
                tracing::warn!("token introspection failed: {e}");
                return (Err(AuthError::Unavailable), Duration::ZERO);
            }
        };
        let answer = serde_json::from_slice::<Value>(&answer).and_then(|raw| {
            serde_json::from_value::<Introspected>(raw.clone()).map(|parsed| (raw, parsed))
        });
        match answer {
            Ok((raw, introspected)) => match introspected.judge(&self.issuer) {
                (Ok(principal), ttl) => {
                    match options.roles_claim.as_deref().map(|p| roles_at(&raw, p)) {
                        None => (Ok(principal), ttl),
                        Some(Ok(roles)) => (Ok(principal.with_roles(roles)), ttl),
                        Some(Err(e)) => (Err(e), Duration::ZERO),
                    }
                }
                refused => refused,
            },
            Err(_) => {
                tracing::warn!("token introspection answered with something else than JSON");
                (Err(AuthError::Unavailable), Duration::ZERO)
            }
        }
    }
}

/// An RFC 7662 answer.
#[derive(Deserialize)]
struct Introspected {
    active: bool,
    sub: Option<String>,
    client_id: Option<String>,
    scope: Option<String>,
    aud: Option<Audiences>,
    iss: Option<String>,
    exp: Option<u64>,
    nbf: Option<u64>,
    token_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audiences {
    One(String),
    Many(Vec<String>),
}

impl Introspected {
    fn judge(self, issuer: &Issuer) -> (Result<Principal, AuthError>, Duration) {
        let refused = |e| (Err(e), Duration::ZERO);
        if !self.active {
            return refused(AuthError::Unknown);
        }
        if self.iss.as_ref().is_some_and(|iss| *iss != issuer.url) {
            return refused(AuthError::WrongIssuer);
        }
        if self
            .token_type
            .as_deref()
            .is_some_and(|t| !t.eq_ignore_ascii_case("bearer") && t != "access_token")
        {
            return refused(AuthError::Malformed("not an access token"));
        }
        let audiences = match self.aud {
            None => Vec::new(),
            Some(Audiences::One(a)) => vec![a],
            Some(Audiences::Many(a)) => a,
        };
        if !audiences.contains(&issuer.audience) {
            return refused(AuthError::WrongAudience {
                got: (!audiences.is_empty()).then(|| {
                    crate::log::escape_bounded(&audiences.join(" "))
                        .trim_matches('"')
                        .to_owned()
                }),
                expected: issuer.audience.clone(),
            });
        }
        let now = crate::auth::now_secs();
        let leeway = crate::auth::JWT_LEEWAY_SECS;
        let Some(exp) = self.exp else {
            return refused(AuthError::Malformed("a required claim is missing"));
        };
        if exp.saturating_add(leeway) <= now {
            return refused(AuthError::Expired);
        }
        if self.nbf.is_some_and(|nbf| nbf > now.saturating_add(leeway)) {
            return refused(AuthError::NotYetValid);
        }
        // A client acting for itself (client credentials) has no `sub`: it
        // is its own subject.
        let Some(subject) = self.sub.or(self.client_id) else {
            return refused(AuthError::Malformed("a required claim is missing"));
        };
        let Some(scope) = self.scope else {
            return refused(AuthError::NoScopeClaim);
        };
        let scopes = scope.split_whitespace().map(str::to_owned).collect();
        let ttl = Duration::from_secs(exp.saturating_sub(now));
        (principal(subject, scopes), ttl)
    }
}

async fn get(
    url: &Url,
    roots: &Arc<RootCertStore>,
    options: &OidcOptions,
) -> Result<Vec<u8>, String> {
    let answer = send(
        url,
        hyper::Method::GET,
        Vec::new(),
        Vec::new(),
        roots,
        options,
    )
    .await?;
    if answer.status != 200 {
        return Err(format!("status {}", answer.status));
    }
    Ok(answer.body)
}

/// One request to an issuer, redirects not followed, bounded in time and size.
async fn send(
    url: &Url,
    method: hyper::Method,
    headers: Vec<(hyper::header::HeaderName, String)>,
    body: Vec<u8>,
    roots: &Arc<RootCertStore>,
    options: &OidcOptions,
) -> Result<Answer, String> {
    let exchanged = async {
        let host = url.host_str().ok_or("no host")?.trim_matches(['[', ']']);
        let port = url.port_or_known_default().ok_or("no port")?;
        let stream = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|e| format!("cannot connect to {host}: {}", e.kind()))?;
        let out = Outgoing {
            method,
            url,
            accept: "application/json, application/jwk-set+json",
            headers,
            body,
            max_bytes: options.max_bytes,
            roots,
        };
        exchange(stream, out).await
    };
    tokio::time::timeout(options.timeout, exchanged)
        .await
        .map_err(|_| format!("no answer within {} ms", options.timeout.as_millis()))?
}

/// Fetches and parses `jwks_uri`, counting the fetch in `ring`.
async fn fetch_keys(
    ring: &KeyRing,
    jwks_uri: &Url,
    roots: &Arc<RootCertStore>,
    options: &OidcOptions,
) -> Result<Vec<PublishedKey>, String> {
    ring.fetches
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let body = get(jwks_uri, roots, options).await?;
    #[derive(Deserialize)]
    struct Set {
        keys: Vec<Value>,
    }
    let set: Set = serde_json::from_slice(&body).map_err(|e| format!("not a key set: {e}"))?;
    // Keys this verifier cannot use (encryption keys, other curves) are
    // skipped, not fatal: issuers publish them beside signing keys.
    let keys: Vec<PublishedKey> = set
        .keys
        .into_iter()
        .filter_map(|raw| {
            let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(raw).ok()?;
            if matches!(
                jwk.common.public_key_use,
                Some(ref u) if *u != jsonwebtoken::jwk::PublicKeyUse::Signature
            ) {
                return None;
            }
            let algorithm = match jwk.common.key_algorithm {
                None => None,
                Some(a) => Some(a.to_string().parse::<Algorithm>().ok()?),
            };
            if matches!(
                algorithm,
                Some(Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
            ) {
                return None;
            }
            let key = DecodingKey::from_jwk(&jwk).ok()?;
            if key.family() == jsonwebtoken::AlgorithmFamily::Hmac {
                return None;
            }
            Some(PublishedKey {
                kid: jwk.common.key_id,
                algorithm,
                key,
            })
        })
        .collect();
    if keys.is_empty() {
        return Err("the key set holds no usable signing key".into());
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleartext_endpoints_only_on_loopback_and_only_for_a_loopback_issuer() {
        for url in [
            "https://issuer.example",
            "http://127.0.0.1:8080",
            "http://[::1]/x",
            "http://localhost",
        ] {
            assert!(endpoint(url, "issuer", true).is_ok(), "{url}");
        }
        for url in [
            "http://issuer.example",
            "http://10.0.0.1",
            "ftp://127.0.0.1",
            "https://u:p@issuer.example",
            "https://issuer.example/#f",
        ] {
            assert!(endpoint(url, "issuer", true).is_err(), "{url}");
        }
        // An issuer on the web cannot send the secret or the tokens to a
        // cleartext endpoint on the server's own loopback.
        assert!(
            endpoint(
                "http://127.0.0.1/introspect",
                "introspection_endpoint",
                false
            )
            .is_err()
        );
        assert!(endpoint("https://issuer.example/jwks", "jwks_uri", false).is_ok());
    }
}

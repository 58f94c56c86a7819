//! Authentication: who is calling, and what did their credential grant?
//!
//! A [`TokenVerifier`] turns a bearer token into a [`Principal`] or says which
//! check failed. Messages never echo the token. A token minted for another
//! service (another audience) is refused: tokens are never passed through.

use std::collections::HashMap;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// The subject shown for calls that carry no verified identity.
pub const UNAUTHENTICATED: &str = "<unauthenticated>";

/// A verified caller: the token's subject and the scopes it granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    subject: String,
    scopes: Vec<String>,
    roles: Vec<String>,
}

impl Principal {
    /// A verified subject with its granted scopes.
    pub fn new(
        subject: impl Into<String>,
        scopes: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            subject: subject.into(),
            scopes: scopes.into_iter().map(Into::into).collect(),
            roles: Vec::new(),
        }
    }

    /// The same principal, holding the roles its credential claims (an
    /// identity provider's role claim), which authorization honours besides
    /// the roles assigned to the subject.
    pub fn with_roles(mut self, roles: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.roles = roles.into_iter().map(Into::into).collect();
        self
    }

    /// The caller of a `public` tool: no identity, no scope.
    pub fn unauthenticated() -> Self {
        Self {
            subject: UNAUTHENTICATED.to_owned(),
            scopes: Vec::new(),
            roles: Vec::new(),
        }
    }

    /// Who the token was issued to.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The scopes the token granted.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// The roles the token claims (none unless the verifier reads a role claim).
    pub fn roles(&self) -> &[String] {
        &self.roles
    }

    /// Whether the token grants `resource:action`, exactly or through `resource:*`.
    pub fn has_scope(&self, scope: &str) -> bool {
        let wildcard = scope
            .split_once(':')
            .map(|(resource, _)| format!("{resource}:*"));
        self.scopes
            .iter()
            .any(|s| s == scope || Some(s) == wildcard.as_ref())
    }
}

/// Why a token was refused. The message names the failed check, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError {
    /// No token was presented.
    Missing,
    /// The token is not one this server issued or knows.
    Unknown,
    /// The token is not well-formed (not a JWT, bad encoding, missing claims, `alg: none`).
    Malformed(&'static str),
    /// The signature does not verify with the configured key.
    BadSignature,
    /// The token has expired.
    Expired,
    /// The token is not valid yet (`nbf` in the future).
    NotYetValid,
    /// The token was minted for another service.
    WrongAudience {
        /// The audience the token names (a claim, not a secret).
        got: Option<String>,
        /// The audience this server accepts.
        expected: String,
    },
    /// The token was issued by an issuer this server does not trust.
    WrongIssuer,
    /// The token carries neither a `scope` nor an `scp` claim.
    NoScopeClaim,
    /// The server has no verifier configured, so no token can be trusted.
    NoVerifier,
    /// The issuer that must vouch for the token did not answer (its keys or
    /// its introspection endpoint): the token is refused for now, not
    /// judged.
    Unavailable,
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::Missing => f.write_str("missing token"),
            AuthError::Unknown => f.write_str("unknown or invalid token"),
            AuthError::Malformed(what) => write!(f, "malformed token: {what}"),
            AuthError::BadSignature => f.write_str("token signature does not verify"),
            AuthError::Expired => f.write_str("token expired"),
            AuthError::NotYetValid => f.write_str("token not valid yet"),
            AuthError::WrongAudience {
                got: Some(got),
                expected,
            } => {
                write!(
                    f,
                    "token audience {got:?} is not accepted (expected {expected:?})"
                )
            }
            AuthError::WrongAudience {
                got: None,
                expected,
            } => {
                write!(f, "token audience is not accepted (expected {expected:?})")
            }
            AuthError::WrongIssuer => f.write_str("token issuer is not trusted"),
            AuthError::NoScopeClaim => f.write_str("token carries no scope claim"),
            AuthError::NoVerifier => f.write_str("this server verifies no credentials"),
            AuthError::Unavailable => {
                f.write_str("the token cannot be checked now: its issuer did not answer")
            }
        }
    }
}

impl std::error::Error for AuthError {}

/// Verifies bearer tokens.
///
/// A verifier that needs nothing but the token answers at once
/// (`Verification::from(result)`); one that asks its issuer (keys fetched on
/// rotation, token introspection) answers later, without blocking the server.
pub trait TokenVerifier: Send + Sync + 'static {
    /// The principal the token proves, or why it proves nothing.
    fn verify<'a>(&'a self, token: &'a str) -> Verification<'a>;

    /// The authorization servers whose tokens this verifier accepts, for
    /// the protected-resource metadata (RFC 9728), when the server was not
    /// told which to list.
    fn authorization_servers(&self) -> Vec<String> {
        Vec::new()
    }
}

/// The answer of a [`TokenVerifier`]: a future of the principal, ready at
/// once for verifiers that need nothing but the token (no allocation).
#[must_use = "a verification does nothing unless awaited"]
pub enum Verification<'a> {
    /// Decided already.
    Ready(Option<Result<Principal, AuthError>>),
    /// Decided once the verifier heard from its issuer.
    Pending(crate::future::BoxFuture<'a, Result<Principal, AuthError>>),
}

impl fmt::Debug for Verification<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verification::Ready(result) => f.debug_tuple("Ready").field(result).finish(),
            Verification::Pending(_) => f.write_str("Pending"),
        }
    }
}

impl From<Result<Principal, AuthError>> for Verification<'_> {
    fn from(result: Result<Principal, AuthError>) -> Self {
        Verification::Ready(Some(result))
    }
}

impl std::future::Future for Verification<'_> {
    type Output = Result<Principal, AuthError>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        match self.get_mut() {
            Verification::Ready(result) => std::task::Poll::Ready(
                result
                    .take()
                    .expect("a verification is not polled after it completed"),
            ),
            Verification::Pending(future) => future.as_mut().poll(cx),
        }
    }
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// One entry of a [`StaticTokens`] table.
#[derive(Debug, Clone)]
pub struct StaticToken {
    /// Who the token was issued to.
    pub subject: String,
    /// The service it was issued for.
    pub audience: String,
    /// Unix time (seconds) from which it is refused.
    pub expires_at: u64,
    /// What it grants.
    pub scopes: Vec<String>,
}

/// A fixed table of opaque tokens, for demos and tests. Production servers use `JwtVerifier` (feature `jwt`).
#[derive(Debug, Clone)]
pub struct StaticTokens {
    audience: String,
    tokens: HashMap<String, StaticToken>,
}

impl StaticTokens {
    /// An empty table accepting tokens issued for `audience`.
    pub fn new(audience: impl Into<String>) -> Self {
        Self {
            audience: audience.into(),
            tokens: HashMap::new(),
        }
    }

    /// Adds a token.
    pub fn with(mut self, token: impl Into<String>, entry: StaticToken) -> Self {
        self.tokens.insert(token.into(), entry);
        self
    }
}

impl TokenVerifier for StaticTokens {
    fn verify<'a>(&'a self, token: &'a str) -> Verification<'a> {
        self.check(token).into()
    }
}

impl StaticTokens {
    /// The principal `token` proves, or why it proves nothing.
    pub fn check(&self, token: &str) -> Result<Principal, AuthError> {
        let entry = self.tokens.get(token).ok_or(AuthError::Unknown)?;
        if entry.audience != self.audience {
            return Err(AuthError::WrongAudience {
                got: Some(entry.audience.clone()),
                expected: self.audience.clone(),
            });
        }
        if now_secs() >= entry.expires_at {
            return Err(AuthError::Expired);
        }
        Ok(Principal::new(
            entry.subject.clone(),
            entry.scopes.iter().cloned(),
        ))
    }
}

#[cfg(feature = "jwt")]
pub use jwt::{JWT_LEEWAY_SECS, JwtVerifier, KeyError, MAX_SUBJECT_BYTES, MIN_HS256_SECRET};
#[cfg(feature = "oidc")]
pub(crate) use jwt::{decode, principal, validation};

#[cfg(feature = "jwt")]
mod jwt {
    use serde::Deserialize;

    use super::*;

    /// Verifies signed JWTs: signature, issuer, audience (mandatory), `exp` and
    /// `nbf` with a small leeway, and scopes from `scope` (space-separated) or `scp`.
    #[cfg_attr(docsrs, doc(cfg(feature = "jwt")))]
    #[derive(Clone)]
    pub struct JwtVerifier {
        key: jsonwebtoken::DecodingKey,
        validation: jsonwebtoken::Validation,
        audience: String,
    }

    impl fmt::Debug for JwtVerifier {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("JwtVerifier")
                .field("algorithms", &self.validation.algorithms)
                .field("audience", &self.audience)
                .finish_non_exhaustive()
        }
    }

    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    pub const JWT_LEEWAY_SECS: u64 = 30;

    /// A key the verifier cannot use.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct KeyError(pub(crate) String);

    impl fmt::Display for KeyError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "unusable verification key: {}", self.0)
        }
    }

    impl std::error::Error for KeyError {}

    /// The longest subject a token may carry, in bytes.
    pub const MAX_SUBJECT_BYTES: usize = 256;

    /// The shortest HS256 secret accepted, in bytes.
    pub const MIN_HS256_SECRET: usize = 32;

    impl JwtVerifier {
        fn with_key(
            key: jsonwebtoken::DecodingKey,
            algorithm: jsonwebtoken::Algorithm,
            issuer: &str,
            audience: &str,
        ) -> Self {
            Self {
                key,
                validation: validation(algorithm, issuer, audience),
                audience: audience.to_owned(),
            }
        }

        /// A verifier configured from the environment, for audience `audience`:
        /// `{PREFIX}_JWT_ISSUER`, and either `{PREFIX}_JWT_KEY_FILE` with
        /// `{PREFIX}_JWT_ALG` = `RS256` or `ES256`, or `{PREFIX}_JWT_SECRET` with
        /// the explicit opt-in `{PREFIX}_JWT_ALG=HS256`.
        /// Any missing or unusable setting is an error: there is no fallback.
        pub fn from_env(prefix: &str, audience: &str) -> Result<Self, KeyError> {
            Self::configured(prefix, audience, |name| {
                std::env::var(format!("{prefix}_JWT_{name}"))
            })
        }

        fn configured(
            prefix: &str,
            audience: &str,
            var: impl Fn(&str) -> Result<String, std::env::VarError>,
        ) -> Result<Self, KeyError> {
            let issuer =
                var("ISSUER").map_err(|_| KeyError(format!("{prefix}_JWT_ISSUER is not set")))?;
            let (secret, path) = (var("SECRET"), var("KEY_FILE"));
            let path = match (secret, path) {
                (Ok(_), Ok(_)) => {
                    return Err(KeyError(format!(
                        "{prefix}_JWT_SECRET and {prefix}_JWT_KEY_FILE are both set; set one"
                    )));
                }
                (Ok(secret), Err(_)) => {
                    // A shared secret lets this server mint tokens too: only
                    // on an explicit opt-in.
                    if var("ALG").as_deref() != Ok("HS256") {
                        return Err(KeyError(format!(
                            "{prefix}_JWT_SECRET is a shared secret, which lets this server mint tokens too: \
                             set {prefix}_JWT_ALG=HS256 to accept that, or use a public key"
                        )));
                    }
                    return Self::hs256(secret.as_bytes(), &issuer, audience);
                }
                (Err(_), Ok(path)) => path,
                (Err(_), Err(_)) => {
                    return Err(KeyError(format!(
                        "set {prefix}_JWT_KEY_FILE with {prefix}_JWT_ALG (RS256 or ES256), or {prefix}_JWT_SECRET with {prefix}_JWT_ALG=HS256"
                    )));
                }
            };
            let pem =
                std::fs::read(&path).map_err(|e| KeyError(format!("cannot read {path}: {e}")))?;
            match var("ALG").as_deref() {
                Ok("RS256") => Self::rs256_pem(&pem, &issuer, audience),
                Ok("ES256") => Self::es256_pem(&pem, &issuer, audience),
                _ => Err(KeyError(format!("{prefix}_JWT_ALG must be RS256 or ES256"))),
            }
        }

        /// HS256 with a shared secret of at least [`MIN_HS256_SECRET`] bytes
        /// (RFC 7518 §3.2: a key as long as the hash); a shorter one is refused.
        pub fn hs256(secret: &[u8], issuer: &str, audience: &str) -> Result<Self, KeyError> {
            if secret.len() < MIN_HS256_SECRET {
                return Err(KeyError(format!(
                    "an HS256 secret needs at least {MIN_HS256_SECRET} bytes, this one has {}",
                    secret.len()
                )));
            }
            let key = jsonwebtoken::DecodingKey::from_secret(secret);
            Ok(Self::with_key(
                key,
                jsonwebtoken::Algorithm::HS256,
                issuer,
                audience,
            ))
        }

        /// RS256 with an RSA public key in PEM.
        pub fn rs256_pem(pem: &[u8], issuer: &str, audience: &str) -> Result<Self, KeyError> {
            let key = jsonwebtoken::DecodingKey::from_rsa_pem(pem)
                .map_err(|e| KeyError(e.to_string()))?;
            Ok(Self::with_key(
                key,
                jsonwebtoken::Algorithm::RS256,
                issuer,
                audience,
            ))
        }

        /// ES256 with a P-256 public key in PEM.
        pub fn es256_pem(pem: &[u8], issuer: &str, audience: &str) -> Result<Self, KeyError> {
            let key =
                jsonwebtoken::DecodingKey::from_ec_pem(pem).map_err(|e| KeyError(e.to_string()))?;
            Ok(Self::with_key(
                key,
                jsonwebtoken::Algorithm::ES256,
                issuer,
                audience,
            ))
        }
    }

    #[derive(Deserialize)]
    struct Claims {
        sub: String,
        scope: Option<String>,
        scp: Option<Scp>,
        aud: Option<Audience>,
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scp {
        One(String),
        Many(Vec<String>),
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Audience {
        One(String),
        Many(Vec<String>),
    }

    impl TokenVerifier for JwtVerifier {
        fn verify<'a>(&'a self, token: &'a str) -> Verification<'a> {
            self.check(token).into()
        }
    }

    impl JwtVerifier {
        /// The principal `token` proves, or why it proves nothing.
        pub fn check(&self, token: &str) -> Result<Principal, AuthError> {
            decode(token, &self.key, &self.validation, &self.audience)
        }
    }

    /// What a token must show: signed with `algorithm` by `issuer`, for
    /// `audience`, with `exp`, `iss`, `aud` and `sub`, within the leeway.
    pub(crate) fn validation(
        algorithm: jsonwebtoken::Algorithm,
        issuer: &str,
        audience: &str,
    ) -> jsonwebtoken::Validation {
        let mut validation = jsonwebtoken::Validation::new(algorithm);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = JWT_LEEWAY_SECS;
        validation
    }

    /// The principal a JWT proves with `key` under `validation`: the
    /// subject (bounded) and the scopes of `scope` or `scp`.
    pub(crate) fn decode(
        token: &str,
        key: &jsonwebtoken::DecodingKey,
        validation: &jsonwebtoken::Validation,
        audience: &str,
    ) -> Result<Principal, AuthError> {
        {
            use jsonwebtoken::errors::ErrorKind;
            let data =
                jsonwebtoken::decode::<Claims>(token, key, validation).map_err(|e| {
                    match e.kind() {
                        ErrorKind::InvalidSignature => AuthError::BadSignature,
                        ErrorKind::ExpiredSignature => AuthError::Expired,
                        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
                        ErrorKind::InvalidAudience => AuthError::WrongAudience {
                            got: peek_audience(token),
                            expected: audience.to_owned(),
                        },
                        ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
                        ErrorKind::InvalidAlgorithm
                        | ErrorKind::InvalidAlgorithmName
                        | ErrorKind::UnsupportedAlgorithm => {
                            AuthError::Malformed("algorithm not accepted")
                        }
                        ErrorKind::MissingRequiredClaim(_) => {
                            AuthError::Malformed("a required claim is missing")
                        }
                        _ => AuthError::Malformed("not a valid JWT"),
                    }
                })?;
            // RFC 7515 4.1.11: a token that names extensions its recipient
            // must understand is refused, and this server understands none.
            if data.header.crit.is_some() {
                return Err(AuthError::Malformed(
                    "a critical header extension (crit), which this server does not understand",
                ));
            }
            let claims = data.claims;
            let scopes: Vec<String> = match (claims.scope, claims.scp) {
                (Some(scope), _) => scope.split_whitespace().map(str::to_owned).collect(),
                (None, Some(Scp::One(scp))) => scp.split_whitespace().map(str::to_owned).collect(),
                (None, Some(Scp::Many(scp))) => scp,
                (None, None) => return Err(AuthError::NoScopeClaim),
            };
            let _ = claims.aud;
            principal(claims.sub, scopes)
        }
    }

    /// A principal, once its subject is known to be storable exactly: not
    /// empty, at most [`MAX_SUBJECT_BYTES`], without control characters.
    pub(crate) fn principal(subject: String, scopes: Vec<String>) -> Result<Principal, AuthError> {
        if subject.is_empty()
            || subject.len() > MAX_SUBJECT_BYTES
            || subject.chars().any(char::is_control)
        {
            return Err(AuthError::Malformed(
                "the subject is empty, longer than 256 bytes or holds control characters",
            ));
        }
        Ok(Principal::new(subject, scopes))
    }

    /// The audience a refused token names, for the message. The library checks the
    /// audience only after the signature verified, so this claim comes from a
    /// trusted issuer; it is escaped and bounded all the same.
    fn peek_audience(token: &str) -> Option<String> {
        let claims = jsonwebtoken::dangerous::insecure_decode_claims::<Claims>(token).ok()?;
        let audience = match claims.aud? {
            Audience::One(a) => a,
            Audience::Many(a) => a.join(" "),
        };
        Some(
            crate::log::escape_bounded(&audience)
                .trim_matches('"')
                .to_owned(),
        )
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn configured(vars: &[(&str, &str)]) -> Result<JwtVerifier, KeyError> {
            JwtVerifier::configured("T", "aud", |name| {
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
                    .ok_or(std::env::VarError::NotPresent)
            })
        }

        #[test]
        fn a_short_or_empty_hs256_secret_is_refused() {
            let long = "k".repeat(MIN_HS256_SECRET);
            assert!(JwtVerifier::hs256(long.as_bytes(), "iss", "aud").is_ok());
            for short in ["", "secret", &long[1..]] {
                let refused = JwtVerifier::hs256(short.as_bytes(), "iss", "aud").unwrap_err();
                assert!(
                    refused.to_string().contains("at least 32 bytes"),
                    "{refused}"
                );
                let refused = configured(&[("ISSUER", "iss"), ("SECRET", short), ("ALG", "HS256")])
                    .unwrap_err();
                assert!(
                    refused.to_string().contains("at least 32 bytes"),
                    "{refused}"
                );
            }
        }

        #[test]
        fn a_secret_and_a_key_file_together_are_refused_not_chosen_between() {
            let long = "k".repeat(MIN_HS256_SECRET);
            let refused = configured(&[
                ("ISSUER", "iss"),
                ("SECRET", &long),
                ("KEY_FILE", "/nonexistent.pem"),
                ("ALG", "RS256"),
            ])
            .unwrap_err();
            assert!(
                refused
                    .to_string()
                    .contains("T_JWT_SECRET and T_JWT_KEY_FILE are both set"),
                "{refused}"
            );
            assert!(configured(&[("ISSUER", "iss"), ("SECRET", &long), ("ALG", "HS256")]).is_ok());
            assert!(configured(&[("SECRET", &long), ("ALG", "HS256")]).is_err());
        }

        #[test]
        fn a_shared_secret_needs_the_explicit_hs256_opt_in() {
            let long = "k".repeat(MIN_HS256_SECRET);
            for alg in [None, Some("RS256"), Some("hs256")] {
                let mut vars = vec![("ISSUER", "iss"), ("SECRET", long.as_str())];
                vars.extend(alg.map(|a| ("ALG", a)));
                let refused = configured(&vars).unwrap_err();
                assert!(refused.to_string().contains("T_JWT_ALG=HS256"), "{refused}");
            }
        }
    }
}

/// The bearer token of an `Authorization` header, if there is exactly one
/// well-formed one.
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub fn bearer(headers: &hyper::HeaderMap) -> Option<&str> {
    let mut values = headers.get_all(hyper::header::AUTHORIZATION).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let (scheme, token) = value.to_str().ok()?.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> StaticTokens {
        let entry = |subject: &str, audience: &str, expires_at: u64| StaticToken {
            subject: subject.into(),
            audience: audience.into(),
            expires_at,
            scopes: vec!["documents:read".into()],
        };
        StaticTokens::new("doc-server")
            .with("good", entry("alice", "doc-server", u64::MAX))
            .with("other", entry("alice", "other-service", u64::MAX))
            .with("old", entry("alice", "doc-server", 1))
    }

    #[test]
    fn static_tokens_check_audience_and_expiry() {
        assert_eq!(table().check("good").unwrap().subject(), "alice");
        assert_eq!(table().check("nope"), Err(AuthError::Unknown));
        assert_eq!(table().check("old"), Err(AuthError::Expired));
        assert_eq!(
            table().check("other").unwrap_err().to_string(),
            "token audience \"other-service\" is not accepted (expected \"doc-server\")"
        );
    }

    #[test]
    fn wildcard_scope_covers_its_resource_only() {
        let p = Principal::new("a", ["documents:*"]);
        assert!(p.has_scope("documents:delete"));
        assert!(!p.has_scope("users:read"));
        let p = Principal::new("a", ["documents:read"]);
        assert!(p.has_scope("documents:read"));
        assert!(!p.has_scope("documents:update"));
        assert!(!Principal::new("a", ["documents"]).has_scope("documents:read"));
    }
}

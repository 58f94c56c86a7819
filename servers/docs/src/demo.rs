//! `--demo` mode and server assembly: the demo cast with its tokens, the
//! roles and their grants, and the wiring of store, verifier, policies, audit
//! and guards into one server.

use std::path::PathBuf;
use std::time::Duration;

use secure_tool::audit::{JsonLines, SqlAudit};
use secure_tool::consent::Rounds;
use secure_tool::oidc::OidcVerifier;
use secure_tool::pipeline::Guards;
use secure_tool::{
    Audit, Authorizer, JwtVerifier, Rate, Reach, Server, StaticToken, StaticTokens, Store,
};

use crate::store::{Documents, MIGRATIONS};
use crate::{AUDIENCE, DocServer};

/// A member of the demo cast.
#[derive(Debug, Clone, Copy)]
pub struct SeedUser {
    /// The subject.
    pub name: &'static str,
    /// The role, if any: dave has none.
    pub role: Option<&'static str>,
    /// The demo bearer token.
    pub token: &'static str,
    /// The demo approver credential: what the person signs in with on the
    /// approval page, which the MCP client does not hold.
    pub approver: &'static str,
}

/// The demo cast. The tokens are demo secrets; a real deployment verifies signed JWTs.
pub const USERS: [SeedUser; 4] = [
    SeedUser {
        name: "alice",
        role: Some("admin"),
        token: "tok-alice-9f3a7c",
        approver: "pw-alice-4b8e21",
    },
    SeedUser {
        name: "bob",
        role: Some("editor"),
        token: "tok-bob-2c71e0",
        approver: "pw-bob-93d0c7",
    },
    SeedUser {
        name: "carol",
        role: Some("viewer"),
        token: "tok-carol-5d8841",
        approver: "pw-carol-1f6a38",
    },
    SeedUser {
        name: "dave",
        role: None,
        token: "tok-dave-0b14fa",
        approver: "pw-dave-c2e957",
    },
];

/// alice's token, already expired.
pub const TOKEN_EXPIRED: &str = "tok-expired-aa0011";
/// alice's token, minted for another service.
pub const TOKEN_WRONG_AUDIENCE: &str = "tok-wrongaud-bb2233";
/// alice's token, down-scoped to `documents:read`.
pub const TOKEN_READONLY_ALICE: &str = "tok-alice-readonly-cc4455";

/// The CRUD actions, in report order.
pub const ACTIONS: [&str; 4] = ["create", "read", "update", "delete"];

/// Each role's permitted actions on `documents`, and which documents each
/// reaches: an admin any, an editor creates and reads any but updates and
/// deletes only those it created, a viewer reads.
pub const ROLES: &[(&str, &[(&str, Reach)])] = &[
    (
        "admin",
        &[
            ("create", Reach::Any),
            ("read", Reach::Any),
            ("update", Reach::Any),
            ("delete", Reach::Any),
        ],
    ),
    (
        "editor",
        &[
            ("create", Reach::Any),
            ("read", Reach::Any),
            ("update", Reach::Own),
            ("delete", Reach::Own),
        ],
    ),
    ("viewer", &[("read", Reach::Any)]),
];

/// How far `role` reaches for `action` on documents (`None`: not at all).
pub fn reach(role: Option<&str>, action: &str) -> Option<Reach> {
    let (_, grants) = ROLES.iter().find(|(r, _)| Some(*r) == role)?;
    grants.iter().find(|(a, _)| *a == action).map(|(_, r)| *r)
}

/// The scopes a role's token carries: exactly what the role needs.
pub fn scopes_for(role: Option<&str>) -> Vec<String> {
    let grants = ROLES
        .iter()
        .find(|(r, _)| Some(*r) == role)
        .map_or(&[][..], |(_, g)| g);
    grants
        .iter()
        .map(|(a, _)| format!("documents:{a}"))
        .collect()
}

/// The demo token table.
pub fn tokens() -> StaticTokens {
    let token = |subject: &str, audience: &str, expires_at: u64, scopes: Vec<String>| StaticToken {
        subject: subject.to_owned(),
        audience: audience.to_owned(),
        expires_at,
        scopes,
    };
    let far = 4_102_444_800; // 2100-01-01
    let mut table = StaticTokens::new(AUDIENCE);
    for user in USERS {
        table = table.with(
            user.token,
            token(user.name, AUDIENCE, far, scopes_for(user.role)),
        );
    }
    let all = scopes_for(Some("admin"));
    table
        .with(TOKEN_EXPIRED, token("alice", AUDIENCE, 0, all.clone()))
        .with(
            TOKEN_WRONG_AUDIENCE,
            token("alice", "other-service", far, all),
        )
        .with(
            TOKEN_READONLY_ALICE,
            token("alice", AUDIENCE, far, vec!["documents:read".to_owned()]),
        )
}

/// The audience of approver credentials: tokens a person signs in with on
/// the approval page, never accepted at `/mcp` (whose audience is [`AUDIENCE`]).
pub const APPROVAL_AUDIENCE: &str = "doc-server-approval";

/// The demo approver credentials: one per member of the cast, for the
/// audience [`APPROVAL_AUDIENCE`].
pub fn approvers() -> StaticTokens {
    USERS
        .iter()
        .fold(StaticTokens::new(APPROVAL_AUDIENCE), |table, user| {
            table.with(
                user.approver,
                StaticToken {
                    subject: user.name.to_owned(),
                    audience: APPROVAL_AUDIENCE.to_owned(),
                    expires_at: 4_102_444_800, // 2100-01-01
                    scopes: Vec::new(),
                },
            )
        })
}

/// Replaces every policy with the demo roles and assignments.
pub async fn seed_policies(authz: &Authorizer) -> Result<(), String> {
    authz.clear().await.map_err(|e| e.to_string())?;
    for (role, grants) in ROLES {
        for (action, reach) in *grants {
            authz
                .grant_on(role, "documents", action, *reach)
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    for user in USERS {
        if let Some(role) = user.role {
            authz
                .assign(user.name, role)
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// Gives `subject` the role `role` (one of [`ROLES`]) in the store at
/// `database_url`, writing the role's grants if they are missing. Replicas
/// following the store pick the change up.
pub async fn assign(database_url: &str, subject: &str, role: &str) -> Result<(), String> {
    let Some((role, grants)) = ROLES.iter().find(|(name, _)| *name == role) else {
        let names: Vec<&str> = ROLES.iter().map(|(name, _)| *name).collect();
        return Err(format!("no role {role:?}: the roles are {names:?}"));
    };
    let store = Store::connect(database_url)
        .await
        .map_err(|e| e.to_string())?;
    store.migrate(MIGRATIONS).await.map_err(|e| e.to_string())?;
    let authz = Authorizer::persistent(&store)
        .await
        .map_err(|e| e.to_string())?;
    for (action, reach) in *grants {
        authz
            .grant_on(role, "documents", action, *reach)
            .await
            .map_err(|e| e.to_string())?;
    }
    authz.assign(subject, role).await.map_err(|e| e.to_string())
}

/// How to assemble a server.
#[derive(Debug, Clone)]
pub struct Config {
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// Demo tokens and policies, and a fresh documents table.
    pub demo: bool,
    /// With `demo`, keep the documents already stored (a benchmark reads the
    /// same document across server runs).
    pub keep_documents: bool,
    /// Guard configuration (what may be fetched).
    pub guards: Guards,
    /// Also write audit records as JSON lines to this file.
    pub audit_file: Option<PathBuf>,
    /// Calls each subject may make (`None`: only per-tool rates apply).
    pub subject_rate: Option<Rate>,
    /// How long a tool body may run before it is cancelled.
    pub call_timeout: Duration,
    /// How often to check the store for policy changes made by other replicas.
    pub policy_poll: Duration,
    /// How long a person has to approve a delete on the approval page.
    pub approval_timeout: Duration,
    /// This server's resource URI (`https://docs.example.com/mcp`): the
    /// audience tokens of an OpenID provider must name.
    pub resource: Option<String>,
}

impl Config {
    /// The defaults for a database: no demo, default guards, the framework's
    /// rate limit, call timeout and policy poll interval.
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            demo: false,
            keep_documents: false,
            guards: Guards::default(),
            audit_file: None,
            subject_rate: Some(secure_tool::limit::DEFAULT_SUBJECT_RATE),
            call_timeout: secure_tool::pipeline::CALL_TIMEOUT,
            policy_poll: secure_tool::authz::POLICY_POLL,
            approval_timeout: secure_tool::approval::APPROVAL_TIMEOUT,
            resource: None,
        }
    }
}

/// Connects, migrates, and wires every stage. Fails closed: a server without
/// a verifier or a policy store does not start.
pub async fn build(config: Config) -> Result<(Server<DocServer>, Documents), String> {
    let store = Store::connect(&config.database_url)
        .await
        .map_err(|e| e.to_string())?;
    store.migrate(MIGRATIONS).await.map_err(|e| e.to_string())?;
    let docs = Documents::new(store.clone());
    let authz = Authorizer::persistent(&store)
        .await
        .map_err(|e| e.to_string())?;
    let mut audit = Audit::default().with_sink(SqlAudit::new(store.clone()));
    if let Some(path) = &config.audit_file {
        let sink =
            JsonLines::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        audit = audit.with_sink(sink);
    }
    // Replicas share the consent key (`DOC_SERVER_CONSENT_KEY`) and the
    // record of spent consent states (the store).
    let rounds = Rounds::from_env("DOC_SERVER")
        .map_err(|e| e.to_string())?
        .with_store(store.clone())
        .with_approval_timeout(config.approval_timeout);
    let server = Server::new(DocServer)
        .with_state(docs.clone())
        .with_authorizer(authz.clone())
        .with_audit(audit)
        .with_guards(config.guards)
        .with_subject_rate(config.subject_rate)
        // Replicas on one PostgreSQL hold one quota per subject.
        .with_quota_store(&store)
        .with_call_timeout(config.call_timeout);
    let server = if config.demo {
        if !config.keep_documents {
            docs.reset().await.map_err(|e| e.to_string())?;
        }
        seed_policies(&authz).await?;
        authz.follow(&store, config.policy_poll);
        server
            .with_verifier(tokens())
            .with_consent_rounds(rounds.with_approver(approvers()))
    } else if std::env::var_os("DOC_SERVER_OIDC_ISSUER").is_some() {
        if std::env::var_os("DOC_SERVER_JWT_ISSUER").is_some() {
            return Err(
                "DOC_SERVER_OIDC_ISSUER and DOC_SERVER_JWT_ISSUER are both set; set one".into(),
            );
        }
        let resource = config.resource.as_deref().ok_or(
            "tokens of an OpenID provider name this server's resource URI: serve over HTTP (--http)",
        )?;
        let verifier = OidcVerifier::from_env("DOC_SERVER", resource)
            .await
            .map_err(|e| e.to_string())?;
        // Approvers sign in with a token of the same issuers for the approval page.
        let page = format!("{}/approve", resource.trim_end_matches("/mcp"));
        let approver = verifier.for_audience(&page);
        authz.follow(&store, config.policy_poll);
        server
            .with_verifier(verifier)
            .with_consent_rounds(rounds.with_approver(approver))
    } else {
        let verifier = JwtVerifier::from_env("DOC_SERVER", AUDIENCE).map_err(|e| e.to_string())?;
        // Approvers sign in with a token of the same issuer for another audience.
        let approver =
            JwtVerifier::from_env("DOC_SERVER", APPROVAL_AUDIENCE).map_err(|e| e.to_string())?;
        authz.follow(&store, config.policy_poll);
        server
            .with_verifier(verifier)
            .with_consent_rounds(rounds.with_approver(approver))
    };
    Ok((server, docs))
}

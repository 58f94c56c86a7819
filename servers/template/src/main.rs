//! `template-server`: the template's tools over MCP on stdin/stdout.
//! `template-server threat-model` prints its threat model, and
//! `template-server manifest` its tools' fingerprints.
//!
//! Tokens are JWTs: `TEMPLATE_JWT_ISSUER` and `TEMPLATE_JWT_SECRET` with `TEMPLATE_JWT_ALG=HS256` (or
//! `TEMPLATE_JWT_KEY_FILE` with `TEMPLATE_JWT_ALG`). Policies persist in the
//! database named by `DATABASE_URL` (SQLite or PostgreSQL).
//!
//! `template-server --dev` is for one developer on this machine: it prints
//! one token, good for every tool, and needs no JWT settings and no grants.

use std::process::ExitCode;

use secure_tool::audit::SqlAudit;
use secure_tool::{Audit, Authorizer, JwtVerifier, Server, Store};
use template_server::{REGENERATE_THREAT_MODEL, TemplateServer};

async fn serve(dev: bool) -> Result<(), String> {
    // The secrets this server holds never leave in an output or a log line.
    secure_tool::guards::secrets::register_env(&["TEMPLATE_JWT_SECRET"])
        .map_err(|e| e.to_string())?;
    // Configuration first: a missing setting leaves nothing behind.
    let verifier = if dev {
        None
    } else {
        Some(JwtVerifier::from_env("TEMPLATE", "template-server").map_err(|e| e.to_string())?)
    };
    let url =
        std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://template-server.db".to_owned());
    let store = Store::connect(&url).await.map_err(|e| e.to_string())?;
    store.migrate(&[]).await.map_err(|e| e.to_string())?;
    let server = Server::new(TemplateServer)
        .with_audit(Audit::default().with_sink(SqlAudit::new(store.clone())));
    let server = match verifier {
        Some(verifier) => {
            let authorizer = Authorizer::persistent(&store)
                .await
                .map_err(|e| e.to_string())?;
            server.with_verifier(verifier).with_authorizer(authorizer)
        }
        None => {
            let (server, token) = server.for_one_developer().await;
            eprintln!(
                "template-server: development mode, never in production: \
                 token {token} (subject `developer`, every tool)"
            );
            server
        }
    };
    server.serve_stdio().await.map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("manifest") {
        println!(
            "{}",
            secure_tool::manifest::Manifest::of::<TemplateServer>()
        );
        return ExitCode::SUCCESS;
    }
    if std::env::args().nth(1).as_deref() == Some("threat-model") {
        print!(
            "{}",
            secure_tool::threat_model::render::<TemplateServer>(REGENERATE_THREAT_MODEL).await
        );
        return ExitCode::SUCCESS;
    }
    secure_tool::log::init();
    let dev = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--dev") => true,
        Some(other) => {
            eprintln!(
                "template-server: unknown argument {other:?}; expected `--dev`, `threat-model` or `manifest`"
            );
            return ExitCode::FAILURE;
        }
    };
    match serve(dev).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "template-server: {}",
                secure_tool::guards::secrets::redact(&e).text
            );
            ExitCode::FAILURE
        }
    }
}

//! `template-server`: the template's tools over MCP on stdin/stdout.
//! `template-server threat-model` prints its threat model.
//!
//! Tokens are JWTs: `TEMPLATE_JWT_ISSUER` and `TEMPLATE_JWT_SECRET` (or
//! `TEMPLATE_JWT_KEY_FILE` with `TEMPLATE_JWT_ALG`). Policies persist in the
//! database named by `DATABASE_URL` (SQLite or PostgreSQL).

use std::process::ExitCode;

use secure_tool::audit::SqlAudit;
use secure_tool::{Audit, Authorizer, JwtVerifier, Server, Store};
use template_server::{REGENERATE_THREAT_MODEL, TemplateServer};

async fn serve() -> Result<(), String> {
    // Configuration first: a missing setting leaves nothing behind.
    let verifier =
        JwtVerifier::from_env("TEMPLATE", "template-server").map_err(|e| e.to_string())?;
    let url =
        std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://template-server.db".to_owned());
    let store = Store::connect(&url).await.map_err(|e| e.to_string())?;
    store.migrate(&[]).await.map_err(|e| e.to_string())?;
    let authorizer = Authorizer::persistent(&store)
        .await
        .map_err(|e| e.to_string())?;
    Server::new(TemplateServer)
        .with_verifier(verifier)
        .with_authorizer(authorizer)
        .with_audit(Audit::default().with_sink(SqlAudit::new(store)))
        .serve_stdio()
        .await
        .map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("threat-model") {
        print!(
            "{}",
            secure_tool::threat_model::render::<TemplateServer>(REGENERATE_THREAT_MODEL).await
        );
        return ExitCode::SUCCESS;
    }
    secure_tool::log::init();
    match serve().await {
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

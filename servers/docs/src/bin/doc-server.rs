//! `doc-server`: the document tools over MCP, on stdin/stdout or over HTTP.
//!
//! `doc-server --help` lists the options; `doc-server threat-model` prints the
//! threat model, `doc-server manifest` the tools' fingerprints,
//! `doc-server verify-audit` checks the audit trail's hash chain. The database is
//! `--database-url`, else `DATABASE_URL`, else an SQLite file under
//! `$XDG_DATA_HOME/doc-server/` (or `~/.local/share/doc-server/`).
//! With `--http` the server prints `listening on http://ADDR/mcp` on stderr
//! once it accepts connections.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use doc_server::demo::{Config, build};
use secure_tool::http::HttpArgs;
use secure_tool::limit::RateLimit;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;

fn default_database_url() -> Result<String, String> {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        return Ok(url);
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    let dir = base.join("doc-server");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(format!("sqlite://{}", dir.join("documents.db").display()))
}

/// Six document tools over MCP: SQL storage, casbin roles, audit, SSRF-guarded
/// import and a shell-free word count, on stdio (or HTTP with `--http`).
#[derive(Debug, Parser)]
#[command(name = "doc-server", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Seed demo tokens and roles, and empty the documents table (never in production)
    #[arg(long)]
    demo: bool,
    /// With --demo, keep the documents already stored instead of starting empty
    #[arg(long, requires = "demo")]
    keep_documents: bool,
    /// sqlite://PATH, sqlite::memory: or postgres://… [default: DATABASE_URL, else an
    /// SQLite file under $XDG_DATA_HOME/doc-server/]
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// Also append every audit record to this JSON-lines file
    #[arg(long, value_name = "PATH")]
    audit_file: Option<PathBuf>,
    /// Let `import_url` fetch from loopback addresses (tests and demos)
    #[arg(long)]
    allow_loopback_fetch: bool,
    /// Also trust the certificates in this PEM file for `import_url`
    #[arg(long, value_name = "PEM")]
    fetch_ca: Option<PathBuf>,
    /// Also let `import_url` fetch from this port (repeatable; default: 443 only)
    #[arg(long = "fetch-port", value_name = "PORT")]
    fetch_ports: Vec<u16>,
    /// Calls per subject: N/s, N/min, N/h, or `off` [default: 100/s]
    #[arg(long, value_name = "RATE")]
    rate_limit: Option<RateLimit>,
    /// Seconds a tool call may run before it is abandoned (at least 1)
    #[arg(long, value_name = "N")]
    call_timeout_secs: Option<u64>,
    /// Seconds a user has to answer a consent question, and a consent state stays valid (at least 1)
    #[arg(long, value_name = "N")]
    consent_timeout_secs: Option<u64>,
    /// Seconds a person has to approve a delete on the approval page (at least 1) [default: 600]
    #[arg(long, value_name = "N")]
    approval_timeout_secs: Option<u64>,
    /// Milliseconds between checks for policy changes made by other replicas (at least 10)
    #[arg(long, value_name = "N")]
    policy_poll_ms: Option<u64>,
    #[command(flatten)]
    http: HttpArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the threat model generated from the tool declarations
    ThreatModel,
    /// Print the tool manifest: each tool's fingerprint and the server's
    Manifest,
    /// Check the audit trail's hash chain, in the database or in a JSON-lines
    /// file: print each stream's head, or the first break (exit status 1)
    VerifyAudit {
        /// A JSON-lines audit file (`--audit-file`) instead of the database
        #[arg(long, value_name = "PATH")]
        file: Option<std::path::PathBuf>,
    },
    /// Give SUBJECT (a token's `sub`) the role ROLE (admin, editor or viewer) in the store
    Assign {
        /// The subject, exactly as tokens name it
        subject: String,
        /// admin, editor or viewer
        role: String,
    },
}

fn config(cli: Cli) -> Result<Config, String> {
    let database_url = match cli.database_url {
        Some(url) => url,
        None => default_database_url()?,
    };
    let mut config = Config::new(database_url);
    config.demo = cli.demo;
    config.keep_documents = cli.keep_documents;
    config.audit_file = cli.audit_file;
    config.guards.fetch.allow_loopback = cli.allow_loopback_fetch;
    config.guards.fetch.ports.extend(cli.fetch_ports);
    if let Some(path) = cli.fetch_ca {
        let shown = path.display();
        let pem = std::fs::read(&path).map_err(|e| format!("cannot read {shown}: {e}"))?;
        let mut roots = (*config.guards.fetch.roots).clone();
        for cert in tokio_rustls::rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| format!("{shown}: {e}"))?;
            roots.add(cert).map_err(|e| format!("{shown}: {e}"))?;
        }
        config.guards.fetch.roots = Arc::new(roots);
    }
    if let Some(RateLimit(rate)) = cli.rate_limit {
        config.subject_rate = rate;
    }
    if let Some(secs) = cli.call_timeout_secs {
        config.call_timeout = Duration::from_secs(secs.max(1));
    }
    if let Some(secs) = cli.consent_timeout_secs {
        config.guards.consent_timeout = Some(Duration::from_secs(secs.max(1)));
    }
    if let Some(secs) = cli.approval_timeout_secs {
        config.approval_timeout = Duration::from_secs(secs.max(1));
    }
    if let Some(ms) = cli.policy_poll_ms {
        config.policy_poll = Duration::from_millis(ms.max(10));
    }
    Ok(config)
}

/// `doc-server verify-audit`: 0 when every stream holds, 1 at a break, 2
/// when the trail cannot be read.
async fn verify_audit(file: Option<&std::path::Path>, database_url: Option<String>) -> ExitCode {
    use secure_tool::audit::chain;
    let verified = match file {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => chain::verify_lines(&text),
            Err(e) => {
                eprintln!("doc-server: cannot read {}: {e}", path.display());
                return ExitCode::from(2);
            }
        },
        None => {
            let store = match database_url.map_or_else(default_database_url, Ok) {
                Ok(url) => secure_tool::Store::connect(&url)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            match store {
                Ok(store) => match chain::verify_store(&store).await {
                    Ok(verified) => verified,
                    Err(e) => {
                        eprintln!("doc-server: {e}");
                        return ExitCode::from(2);
                    }
                },
                Err(e) => {
                    eprintln!("doc-server: {e}");
                    return ExitCode::from(2);
                }
            }
        }
    };
    match verified {
        Ok(verified) => {
            println!("{verified}");
            ExitCode::SUCCESS
        }
        Err(broken) => {
            println!("broken: {broken}");
            ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut cli = Cli::parse();
    if let Some(Command::Manifest) = cli.command {
        println!(
            "{}",
            secure_tool::manifest::Manifest::of::<doc_server::DocServer>()
        );
        return ExitCode::SUCCESS;
    }
    if let Some(Command::ThreatModel) = cli.command {
        let model = secure_tool::threat_model::render::<doc_server::DocServer>(
            doc_server::REGENERATE_THREAT_MODEL,
        );
        print!("{}", model.await);
        return ExitCode::SUCCESS;
    }
    secure_tool::log::init();
    // The secrets this server holds never leave in an output or a log line.
    if let Err(e) = secure_tool::guards::secrets::register_env(&[
        "DOC_SERVER_CONSENT_KEY",
        "DOC_SERVER_JWT_SECRET",
        "DOC_SERVER_OIDC_INTROSPECTION_CLIENT_SECRET",
    ]) {
        eprintln!("doc-server: {e}");
        return ExitCode::from(2);
    }
    if let Some(Command::VerifyAudit { file }) = &cli.command {
        return verify_audit(file.as_deref(), cli.database_url.clone()).await;
    }
    if let Some(Command::Assign { subject, role }) = &cli.command {
        let database_url = match cli
            .database_url
            .clone()
            .map_or_else(default_database_url, Ok)
        {
            Ok(url) => url,
            Err(e) => {
                eprintln!("doc-server: {e}");
                return ExitCode::from(2);
            }
        };
        return match doc_server::demo::assign(&database_url, subject, role).await {
            Ok(()) => {
                eprintln!("doc-server: {subject} is {role}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("doc-server: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let telemetry = match cli.http.telemetry("doc-server") {
        Ok(telemetry) => telemetry,
        Err(e) => {
            eprintln!("doc-server: {e}");
            return ExitCode::from(2);
        }
    };
    let http = std::mem::take(&mut cli.http).options();
    if cli.demo
        && let Some(refusal) = http
            .as_ref()
            .and_then(|(addr, _)| secure_tool::http::demo_refusal(addr))
    {
        eprintln!("doc-server: {refusal}");
        return ExitCode::from(2);
    }
    let config = match config(cli) {
        Ok(mut config) => match http.as_ref().map(|(addr, o)| o.resource(addr)) {
            Some(Err(e)) if std::env::var_os("DOC_SERVER_OIDC_ISSUER").is_some() => {
                eprintln!("doc-server: {e}");
                return ExitCode::from(2);
            }
            resource => {
                config.resource = resource.and_then(Result::ok);
                config
            }
        },
        Err(e) => {
            eprintln!("doc-server: {e}");
            return ExitCode::from(2);
        }
    };
    let (server, _) = match build(config).await {
        Ok(built) => built,
        Err(e) => {
            eprintln!(
                "doc-server: {}",
                secure_tool::guards::secrets::redact(&e).text
            );
            return ExitCode::FAILURE;
        }
    };
    let server = match telemetry {
        Some(telemetry) => server.with_telemetry(telemetry),
        None => server,
    };
    match server.serve_on(http).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("doc-server: {e}");
            ExitCode::FAILURE
        }
    }
}

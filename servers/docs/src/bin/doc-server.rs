//! `doc-server`: the document tools over MCP, on stdin/stdout or over HTTP.
//!
//! ```text
//! doc-server [--demo] [--database-url URL] [--audit-file PATH]
//!            [--allow-loopback-fetch] [--fetch-ca PEM]
//!            [--rate-limit N/s|N/min|N/h|off] [--call-timeout-secs N]
//!            [--policy-poll-ms N]
//!            [--http ADDR [--stateless] [--allowed-host HOST]...
//!             [--public-url URL] [--authorization-server URL]...
//!             [--max-body-bytes N]]
//! doc-server threat-model
//! ```
//!
//! The database is `--database-url`, else `DATABASE_URL`, else an SQLite file
//! under `$XDG_DATA_HOME/doc-server/` (or `~/.local/share/doc-server/`).
//! With `--http` the server prints `listening on http://ADDR/mcp` on stderr
//! once it accepts connections.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use doc_server::demo::{Config, build};
use secure_tool::Rate;
use secure_tool::http::HttpOptions;
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

fn number<T: std::str::FromStr>(name: &str, text: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{name} needs a whole number, not {text:?}"))
}

fn parse(args: &[String]) -> Result<Config, String> {
    let mut config = Config::new(String::new());
    let mut database_url = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().cloned().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--demo" => config.demo = true,
            "--database-url" => database_url = Some(value("--database-url")?),
            "--audit-file" => config.audit_file = Some(value("--audit-file")?.into()),
            "--allow-loopback-fetch" => config.guards.fetch.allow_loopback = true,
            "--fetch-ca" => {
                let path = value("--fetch-ca")?;
                let pem = std::fs::read(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
                let mut roots = (*config.guards.fetch.roots).clone();
                for cert in tokio_rustls::rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
                    let cert = cert.map_err(|e| format!("{path}: {e}"))?;
                    roots.add(cert).map_err(|e| format!("{path}: {e}"))?;
                }
                config.guards.fetch.roots = Arc::new(roots);
            }
            "--rate-limit" => {
                config.subject_rate = Rate::parse_limit(&value("--rate-limit")?)
                    .map_err(|e| format!("--rate-limit: {e}"))?;
            }
            "--call-timeout-secs" => {
                let secs: u64 = number("--call-timeout-secs", &value("--call-timeout-secs")?)?;
                config.call_timeout = Duration::from_secs(secs.max(1));
            }
            "--policy-poll-ms" => {
                let ms: u64 = number("--policy-poll-ms", &value("--policy-poll-ms")?)?;
                config.policy_poll = Duration::from_millis(ms.max(10));
            }
            other => {
                return Err(format!(
                    "unknown argument {other:?}; see the crate documentation"
                ));
            }
        }
    }
    config.database_url = match database_url {
        Some(url) => url,
        None => default_database_url()?,
    };
    Ok(config)
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("threat-model") {
        let model = secure_tool::threat_model::render::<doc_server::DocServer>(
            doc_server::REGENERATE_THREAT_MODEL,
        );
        print!("{}", model.await);
        return ExitCode::SUCCESS;
    }
    secure_tool::log::init();
    let parsed = HttpOptions::from_args(&mut args).and_then(|http| Ok((parse(&args)?, http)));
    let (config, http) = match parsed {
        Ok(parsed) => parsed,
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
    match server.serve_on(http).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("doc-server: {e}");
            ExitCode::FAILURE
        }
    }
}

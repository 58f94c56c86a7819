//! `files-server`: the filesystem tools over MCP, on stdin/stdout or over
//! HTTP, confined to the directories given with `--root`.
//!
//! `files-server --help` lists the options; `files-server threat-model`
//! prints the threat model, `files-server manifest` the tools' fingerprints.
//! Outside `--demo`, bearer tokens are JWTs verified
//! with `FILES_SERVER_JWT_ISSUER` and `FILES_SERVER_JWT_SECRET` with `FILES_SERVER_JWT_ALG=HS256`, or
//! `FILES_SERVER_JWT_KEY_FILE` with `FILES_SERVER_JWT_ALG`, for the audience
//! `files-server`, and `--assign SUBJECT=ROLE` gives subjects their roles.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use files_server::demo::{Config, READER, WRITER, build, temporary_root};
use secure_tool::http::HttpArgs;
use secure_tool::limit::RateLimit;

/// The MCP filesystem tools behind a path guard that cannot be escaped, on
/// stdio (or HTTP with `--http`).
#[derive(Debug, Parser)]
#[command(name = "files-server", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// A directory the tools may touch (repeatable; at least one, unless --demo)
    #[arg(long = "root", value_name = "DIR")]
    roots: Vec<PathBuf>,
    /// Demo tokens (never in production); without --root, a temporary demo tree
    #[arg(long)]
    demo: bool,
    /// Give a token subject a role: reader or writer (repeatable)
    #[arg(long = "assign", value_name = "SUBJECT=ROLE")]
    assignments: Vec<String>,
    /// Calls per subject: N/s, N/min, N/h, or `off` [default: 100/s]
    #[arg(long, value_name = "RATE")]
    rate_limit: Option<RateLimit>,
    /// Seconds a user has to answer a consent question, and a consent state stays valid (at least 1) [default: 60]
    #[arg(long, value_name = "N")]
    consent_timeout_secs: Option<u64>,
    #[command(flatten)]
    http: HttpArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the threat model generated from the tool declarations
    ThreatModel,
    /// Print the tool manifest: each tool's fingerprint and the server's
    Manifest,
}

fn config(cli: Cli) -> Result<Config, String> {
    let mut roots = cli.roots;
    if roots.is_empty() && cli.demo {
        let root = temporary_root().map_err(|e| format!("cannot create the demo root: {e}"))?;
        roots.push(root);
    }
    let mut config = Config::new(roots);
    config.demo = cli.demo;
    for assignment in cli.assignments {
        let Some((subject, role)) = assignment.split_once('=') else {
            return Err(format!("--assign {assignment:?}: expected SUBJECT=ROLE"));
        };
        config
            .assignments
            .push((subject.to_owned(), role.to_owned()));
    }
    if let Some(RateLimit(rate)) = cli.rate_limit {
        config.subject_rate = rate;
    }
    if let Some(secs) = cli.consent_timeout_secs {
        config.consent_timeout = Some(std::time::Duration::from_secs(secs.max(1)));
    }
    Ok(config)
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut cli = Cli::parse();
    if let Some(Command::Manifest) = cli.command {
        println!(
            "{}",
            secure_tool::manifest::Manifest::of::<files_server::FilesServer>()
        );
        return ExitCode::SUCCESS;
    }
    if let Some(Command::ThreatModel) = cli.command {
        let model = secure_tool::threat_model::render::<files_server::FilesServer>(
            files_server::REGENERATE_THREAT_MODEL,
        );
        print!("{}", model.await);
        return ExitCode::SUCCESS;
    }
    secure_tool::log::init();
    let http = std::mem::take(&mut cli.http).options();
    if cli.demo
        && let Some(refusal) = http
            .as_ref()
            .and_then(|(addr, _)| secure_tool::http::demo_refusal(addr))
    {
        eprintln!("files-server: {refusal}");
        return ExitCode::from(2);
    }
    let demo = cli.demo;
    let config = match config(cli) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("files-server: {e}");
            return ExitCode::from(2);
        }
    };
    let roots: Vec<String> = config
        .roots
        .iter()
        .map(|r| r.display().to_string())
        .collect();
    let server = match build(config).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("files-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    if demo {
        eprintln!(
            "files-server demo: roots {}; tokens {READER} (files:read), {WRITER} (files:read files:write)",
            roots.join(", ")
        );
    }
    match server.serve_on(http).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("files-server: {e}");
            ExitCode::FAILURE
        }
    }
}

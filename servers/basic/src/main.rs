//! `basic-server`: serves `compute` and `echo` over MCP on stdin/stdout, or
//! over HTTP with `--http ADDR`. `basic-server --help` lists the options;
//! `basic-server threat-model` prints its threat model instead, and
//! `basic-server manifest` its tools' fingerprints.
//!
//! Over HTTP every request is authenticated: bearer tokens are JWTs verified
//! with `BASIC_SERVER_JWT_ISSUER` and `BASIC_SERVER_JWT_SECRET` with `BASIC_SERVER_JWT_ALG=HS256`, or
//! `BASIC_SERVER_JWT_KEY_FILE` with `BASIC_SERVER_JWT_ALG`, for the audience
//! `basic-server`. Without them the server refuses to start.

use std::process::ExitCode;

use basic_server::{BasicServer, REGENERATE_THREAT_MODEL};
use clap::{Parser, Subcommand};
use secure_tool::http::HttpArgs;
use secure_tool::limit::{DEFAULT_SUBJECT_RATE, RateLimit};
use secure_tool::{JwtVerifier, Server};

/// A bounded calculator and a control-character-free echo, over MCP on stdio
/// (or HTTP with `--http`).
#[derive(Debug, Parser)]
#[command(name = "basic-server", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Calls per subject: N/s, N/min, N/h, or `off` [default: 100/s]; over
    /// stdio every call is one subject's
    #[arg(long, value_name = "RATE")]
    rate_limit: Option<RateLimit>,
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

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Manifest) = cli.command {
        println!("{}", secure_tool::manifest::Manifest::of::<BasicServer>());
        return ExitCode::SUCCESS;
    }
    if let Some(Command::ThreatModel) = cli.command {
        print!(
            "{}",
            secure_tool::threat_model::render::<BasicServer>(REGENERATE_THREAT_MODEL).await
        );
        return ExitCode::SUCCESS;
    }
    secure_tool::log::init();
    let rate = cli
        .rate_limit
        .map_or(Some(DEFAULT_SUBJECT_RATE), |RateLimit(rate)| rate);
    let http = cli.http.options();
    let mut server = Server::new(BasicServer).with_subject_rate(rate);
    if http.is_some() {
        match JwtVerifier::from_env("BASIC_SERVER", "basic-server") {
            Ok(verifier) => server = server.with_verifier(verifier),
            Err(e) => {
                eprintln!("basic-server: --http needs a token verifier: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    match server.serve_on(http).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("basic-server: {e}");
            ExitCode::FAILURE
        }
    }
}

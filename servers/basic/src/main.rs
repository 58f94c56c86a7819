//! `basic-server`: serves `compute` and `echo` over MCP on stdin/stdout, or
//! over HTTP with `--http ADDR` (and the HTTP options of
//! [`secure_tool::http::HttpOptions::from_args`]). `--rate-limit N/s|off` sets
//! the per-subject limit (100/s by default; over stdio every call is one subject's).
//! `basic-server threat-model` prints its threat model instead.
//!
//! Over HTTP every request is authenticated: bearer tokens are JWTs verified
//! with `BASIC_SERVER_JWT_ISSUER` and `BASIC_SERVER_JWT_SECRET` (HS256), or
//! `BASIC_SERVER_JWT_KEY_FILE` with `BASIC_SERVER_JWT_ALG`, for the audience
//! `basic-server`. Without them the server refuses to start.

use std::process::ExitCode;

use basic_server::{BasicServer, REGENERATE_THREAT_MODEL};
use secure_tool::http::HttpOptions;
use secure_tool::{JwtVerifier, Rate, Server};

#[tokio::main]
async fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("threat-model") {
        print!(
            "{}",
            secure_tool::threat_model::render::<BasicServer>(REGENERATE_THREAT_MODEL).await
        );
        return ExitCode::SUCCESS;
    }
    secure_tool::log::init();
    let parsed = HttpOptions::from_args(&mut args).and_then(|http| {
        let rate = match args.as_slice() {
            [] => Some(secure_tool::limit::DEFAULT_SUBJECT_RATE),
            [flag, value] if flag == "--rate-limit" => {
                Rate::parse_limit(value).map_err(|e| format!("--rate-limit: {e}"))?
            }
            [other, ..] => return Err(format!("unknown argument {other:?}")),
        };
        Ok((http, rate))
    });
    let (http, rate) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("basic-server: {e}");
            return ExitCode::from(2);
        }
    };
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

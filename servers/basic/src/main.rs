//! `basic-server`: serves `compute` and `echo` over MCP on stdin/stdout, or
//! over HTTP with `--http ADDR` (and the HTTP options of
//! [`secure_tool::http::HttpOptions::from_args`]).
//! `basic-server threat-model` prints its threat model instead.
//!
//! Over HTTP every request is authenticated: bearer tokens are JWTs verified
//! with `BASIC_SERVER_JWT_ISSUER` and `BASIC_SERVER_JWT_SECRET` (HS256), or
//! `BASIC_SERVER_JWT_KEY_FILE` with `BASIC_SERVER_JWT_ALG`, for the audience
//! `basic-server`. Without them the server refuses to start.

use std::process::ExitCode;

use basic_server::{BasicServer, REGENERATE_THREAT_MODEL};
use secure_tool::http::HttpOptions;
use secure_tool::{JwtVerifier, Server};

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
    let http = match HttpOptions::from_args(&mut args) {
        Ok(http) if args.is_empty() => http,
        Ok(_) => {
            eprintln!("basic-server: unknown argument {:?}", args[0]);
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("basic-server: {e}");
            return ExitCode::from(2);
        }
    };
    let mut server = Server::new(BasicServer);
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

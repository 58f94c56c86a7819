//! Fail-closed Model Context Protocol tools.
//!
//! A language model calls tools with arguments it was talked into by whatever it
//! read last, so the caller of a tool is sometimes an attacker. `secure-tool`
//! makes the safe path the only one: a tool is a plain function, and
//! `#[secure_tool]` generates, at compile time, everything between the wire and
//! its body.
//!
//! ```
//! use secure_tool::{Reject, secure_tool, server};
//!
//! /// Four-operation calculator over bounded, finite operands.
//! #[secure_tool(allow = ["add", "sub", "mul", "div"], max = 1e9, public)]
//! fn compute(op: Op, a: f64, b: f64) -> Result<f64, Reject> {
//!     match op {
//!         Op::Add => Ok(a + b),
//!         Op::Sub => Ok(a - b),
//!         Op::Mul => Ok(a * b),
//!         Op::Div if b == 0.0 => Err(Reject::field("b", "division by zero")),
//!         Op::Div => Ok(a / b),
//!     }
//! }
//!
//! server!(Calculator { compute });
//! # fn main() {}
//! ```
//!
//! For `compute` the macro generates:
//!
//! - `enum Op { Add, Sub, Mul, Div }`, filled by a literal `match` on the allowed
//!   strings; the raw string never reaches the body, and a new entry in the list
//!   that the body does not handle is a compile error;
//! - argument validation that runs before the body: unknown and missing fields,
//!   JSON types (a boolean is not a number), `|a|, |b| <= 1e9`, finiteness, and for
//!   strings a length bound and a ban on control and bidirectional-override
//!   characters; each check is a function of this crate, not a per-tool copy;
//! - one WARNING line on stderr per rejection, with the offending value escaped
//!   and bounded;
//! - the JSON Schema clients see, stating the same gates, and a [`ToolSpec`](spec::ToolSpec);
//! - a `#[test]` per gate, such as `compute::rejects_op_outside_allowlist`, which
//!   proves that the gate trips, the body does not run, and one WARNING is logged.
//!
//! `server!` declares the server: dispatch is a literal `match` on tool names, and
//! only functions carrying `#[secure_tool]` may be listed.
//!
//! Parameters may be lists and nested objects. A struct that derives [`Args`]
//! is a JSON object with exactly its fields, each gated as a parameter is;
//! wire names and defaults are declared, and a refusal names the path of the
//! offending value (`edits[2].oldText`):
//!
//! ```
//! use secure_tool::{Args, Reject, secure_tool, server};
//!
//! /// One replacement.
//! #[derive(Args)]
//! #[arg(rename_all = "camelCase")]
//! pub struct Edit {
//!     #[arg(max_len = 1000)]
//!     pub old_text: String,
//!     pub new_text: String,
//! }
//!
//! /// Replaces text in a file.
//! #[secure_tool(public, rename_all = "camelCase", max_items(edits = 50), default(dry_run = false))]
//! fn edit_file(path: String, edits: Vec<Edit>, dry_run: bool) -> Result<String, Reject> {
//!     Ok(format!("{} edits to {path} (dry run: {dry_run})", edits.len()))
//! }
//!
//! server!(Files { edit_file });
//! # fn main() {}
//! ```
//!
//! Every list is bounded (`max_items`, [`spec::DEFAULT_MAX_ITEMS`] unless
//! declared), and so is a call's arguments as a whole (`max_size`,
//! [`spec::DEFAULT_MAX_SIZE`]).
//!
//! Tools are declared at module level: the generated items live beside the
//! function and in a module of the same name, which a function body cannot hold.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod canon;
#[cfg(any(feature = "fetch", feature = "oidc"))]
mod client;
mod future;
mod probe;
mod reject;

#[cfg(feature = "consent")]
#[cfg_attr(docsrs, doc(cfg(feature = "consent")))]
pub mod approval;
pub mod audit;
pub mod auth;
#[cfg(feature = "rbac")]
#[cfg_attr(docsrs, doc(cfg(feature = "rbac")))]
pub mod authz;
pub mod consent;
pub mod guards;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
pub mod limit;
pub mod log;
pub mod manifest;
#[cfg(feature = "oidc")]
#[cfg_attr(docsrs, doc(cfg(feature = "oidc")))]
pub mod oidc;
pub mod output;
pub mod pipeline;
#[cfg(feature = "sql")]
#[cfg_attr(docsrs, doc(cfg(feature = "sql")))]
pub mod quota;
pub mod schema;
pub mod secrets;
pub mod server;
pub mod spec;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod testing;
pub mod threat_model;
pub mod validate;

// What a tool author writes: the declarations, the refusal, the types a tool
// takes and returns, and what a `main` builds its server from. The rest is
// reached through its module.
pub use audit::Audit;
#[cfg(feature = "jwt")]
pub use auth::JwtVerifier;
pub use auth::{Principal, StaticToken, StaticTokens};
#[cfg(feature = "rbac")]
pub use authz::Authorizer;
#[cfg(feature = "files")]
pub use guards::path::{CheckedPath, Roots};
#[cfg(feature = "fetch")]
pub use guards::ssrf::CheckedUrl;
pub use limit::Rate;
pub use output::{Json, Untrusted, UntrustedJson};
pub use reject::{Gate, Reject};
pub use secure_tool_macros::{Args, secure_tool, server};
pub use server::Server;
pub use state::{Context, Grant, Reach, State};
#[cfg(feature = "sql")]
pub use store::Store;
pub use validate::Args;
/// What `#[derive(Serialize, JsonSchema)]` on a [`Json`] result needs, for a
/// crate without `serde` and `schemars` of its own: derive
/// `secure_tool::serde::Serialize` and `secure_tool::schemars::JsonSchema`,
/// with `#[serde(crate = "secure_tool::serde")]` and
/// `#[schemars(crate = "secure_tool::schemars")]`.
pub use {schemars, serde};

/// What generated code needs. Not a public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use crate::output::IntoOutput;
    pub use crate::testing::{GeneratedTest, Probe, assert_rejects};
    #[cfg(feature = "files")]
    pub use crate::validate::path;
    #[cfg(feature = "fetch")]
    pub use crate::validate::url;
    pub use crate::validate::{At, FromArg, choice, confirm, not_allowed, object};
    pub use crate::{
        __requires_approval_page as requires_approval_page, __requires_consent as requires_consent,
        __requires_fetch as requires_fetch, __requires_files as requires_files,
        __requires_rbac as requires_rbac,
    };
    pub use secure_tool_macros::__nested_tests;
    pub use serde_json::Value;
}

/// Refuses to compile a scoped tool when no role check can enforce its scope.
#[doc(hidden)]
#[macro_export]
#[cfg(feature = "rbac")]
macro_rules! __requires_rbac {
    ($tool:literal) => {};
}

/// Refuses to compile a scoped tool when no role check can enforce its scope.
#[doc(hidden)]
#[macro_export]
#[cfg(not(feature = "rbac"))]
macro_rules! __requires_rbac {
    ($tool:literal) => {
        ::core::compile_error!(::core::concat!(
            "tool `",
            $tool,
            "` declares `scope`, which needs the `rbac` feature of secure-tool to be enforced: ",
            "enable it in Cargo.toml (`features = [\"rbac\"]`) or declare the tool `public`"
        ));
    };
}

/// Refuses to compile a `CheckedPath` parameter without the path guard.
#[doc(hidden)]
#[macro_export]
#[cfg(feature = "files")]
macro_rules! __requires_files {
    ($tool:literal, $param:literal) => {};
}

/// Refuses to compile a `CheckedPath` parameter without the path guard.
#[doc(hidden)]
#[macro_export]
#[cfg(not(feature = "files"))]
macro_rules! __requires_files {
    ($tool:literal, $param:literal) => {
        ::core::compile_error!(::core::concat!(
            "parameter `",
            $param,
            "` of tool `",
            $tool,
            "` is a `CheckedPath`, which needs the `files` feature of secure-tool: ",
            "enable it in Cargo.toml (`features = [\"files\"]`)"
        ));
    };
}

/// Refuses to compile a `CheckedUrl` parameter without the SSRF guard's client.
#[doc(hidden)]
#[macro_export]
#[cfg(feature = "fetch")]
macro_rules! __requires_fetch {
    ($tool:literal, $param:literal) => {};
}

/// Refuses to compile a `CheckedUrl` parameter without the SSRF guard's client.
#[doc(hidden)]
#[macro_export]
#[cfg(not(feature = "fetch"))]
macro_rules! __requires_fetch {
    ($tool:literal, $param:literal) => {
        ::core::compile_error!(::core::concat!(
            "parameter `",
            $param,
            "` of tool `",
            $tool,
            "` is a `CheckedUrl`, which needs the `fetch` feature of secure-tool: ",
            "enable it in Cargo.toml (`features = [\"fetch\"]`)"
        ));
    };
}

/// Refuses to compile a `confirm` tool when the human cannot be asked.
#[doc(hidden)]
#[macro_export]
#[cfg(feature = "consent")]
macro_rules! __requires_consent {
    ($tool:literal) => {};
}

/// Refuses to compile a `confirm` tool when the human cannot be asked.
#[doc(hidden)]
#[macro_export]
#[cfg(not(feature = "consent"))]
macro_rules! __requires_consent {
    ($tool:literal) => {
        ::core::compile_error!(::core::concat!(
            "tool `",
            $tool,
            "` declares `confirm`, which needs the `consent` feature of secure-tool to ask the human: ",
            "enable it in Cargo.toml (`features = [\"consent\"]`)"
        ));
    };
}

/// Refuses to compile a `confirm = "human"` tool when no approval page can be served.
#[doc(hidden)]
#[macro_export]
#[cfg(all(feature = "consent", feature = "http"))]
macro_rules! __requires_approval_page {
    ($tool:literal) => {};
}

/// Refuses to compile a `confirm = "human"` tool when no approval page can be served.
#[doc(hidden)]
#[macro_export]
#[cfg(not(all(feature = "consent", feature = "http")))]
macro_rules! __requires_approval_page {
    ($tool:literal) => {
        ::core::compile_error!(::core::concat!(
            "tool `",
            $tool,
            "` declares `confirm = \"human\"`, which needs the `consent` and `http` features of secure-tool ",
            "to serve the page where a person approves the call: enable them in Cargo.toml ",
            "(`features = [\"consent\", \"http\"]`)"
        ));
    };
}

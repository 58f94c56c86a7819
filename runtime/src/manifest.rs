//! The tool manifest: a fingerprint of every tool a server declares, and of
//! the server as a whole, so that a client (or an auditor) can pin what it
//! approved and notice when a description or a schema changes underneath it.
//!
//! A tool's fingerprint is the SHA-256 of a canonical JSON document (object
//! keys sorted, no whitespace) holding what a client reads and what the
//! server enforces:
//!
//! - the entry of `tools/list` over stdio: name, description, input and
//!   output schema (types, bounds, allowlists, lengths, required fields),
//!   annotations;
//! - the declared gates that no schema shows: the scope, `confirm` and
//!   `confirm = "human"`, the tool's rate, the bound on its arguments in
//!   bytes, the parameters that admit invisible characters, the owner check,
//!   spotlighted output.
//!
//! The server's fingerprint is the SHA-256 of its tools' names and
//! fingerprints, one `name fingerprint` line each in name order: reordering
//! declarations changes nothing, any change to one tool changes it. The
//! server's name and version are not part of it.
//!
//! The manifest is published in `tools/list`: each tool's `_meta` carries
//! [`TOOL_KEY`], the result's `_meta` carries [`SERVER_KEY`]. Every generated
//! threat model holds it, so the committed threat model's test fails when a
//! declaration changes and the file is not regenerated.

use std::fmt::Write as _;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::server::Tools;
use crate::spec::{Access, Kind, ToolSpec};

/// The `_meta` key of a tool's fingerprint in `tools/list`.
pub const TOOL_KEY: &str = "secure-tool/fingerprint";

/// The `_meta` key of the server's manifest in the `tools/list` result.
pub const SERVER_KEY: &str = "secure-tool/manifest";

/// What the fingerprint of `spec` is computed over, as JSON.
pub fn declaration(spec: &ToolSpec) -> Value {
    let entry = serde_json::to_value(crate::server::tool_entry(spec))
        .expect("a tool entry serializes to JSON");
    let invisible: Vec<&str> = spec
        .params
        .iter()
        .filter(|p| {
            matches!(
                p.kind,
                Kind::Text {
                    invisible: true,
                    ..
                }
            )
        })
        .map(|p| p.name)
        .collect();
    let scope = match spec.access {
        Access::Public => Value::Null,
        Access::Scope(scope) => json!(scope),
    };
    json!({
        "tool": entry,
        "gates": {
            "scope": scope,
            "confirm": spec.confirm,
            "human": spec.human,
            "rate": spec.rate.map(|r| r.to_string()),
            "maxSize": spec.max_size,
            "invisible": invisible,
            "checksOwner": spec.checks_owner,
            "untrustedOutput": spec.untrusted_output,
        },
    })
}

/// The fingerprint of one tool: `sha256:` and 64 hex digits.
pub fn fingerprint(spec: &ToolSpec) -> String {
    let mut canonical = String::new();
    write_canonical(&declaration(spec), &mut canonical);
    digest(canonical.as_bytes())
}

/// The fingerprints of a server's tools and of the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The server's name.
    pub server: &'static str,
    /// The fingerprint of the whole set of tools.
    pub fingerprint: String,
    /// Each tool's name and fingerprint, in name order.
    pub tools: Vec<(&'static str, String)>,
}

impl Manifest {
    /// The manifest of the server `S`.
    pub fn of<S: Tools>() -> Self {
        Self::from_specs(S::NAME, S::TOOLS)
    }

    /// The manifest of the tools `specs` under the server name `server`.
    pub fn from_specs(server: &'static str, specs: &[&ToolSpec]) -> Self {
        let mut tools: Vec<(&'static str, String)> =
            specs.iter().map(|s| (s.name, fingerprint(s))).collect();
        tools.sort_by(|a, b| a.0.cmp(b.0));
        let mut lines = String::new();
        for (name, print) in &tools {
            let _ = writeln!(lines, "{name} {print}");
        }
        Self {
            server,
            fingerprint: digest(lines.as_bytes()),
            tools,
        }
    }

    /// The fingerprint of the tool `name`, if the server declares it.
    pub fn tool(&self, name: &str) -> Option<&str> {
        self.tools
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| f.as_str())
    }

    /// The manifest as published in `tools/list` and printed by a server's
    /// `manifest` command: `{"server", "fingerprint", "tools": {name: fingerprint}}`.
    pub fn to_json(&self) -> Value {
        let tools: Map<String, Value> = self
            .tools
            .iter()
            .map(|(n, f)| ((*n).to_owned(), json!(f)))
            .collect();
        json!({
            "server": self.server,
            "fingerprint": self.fingerprint,
            "tools": tools,
        })
    }
}

impl std::fmt::Display for Manifest {
    /// The JSON of [`Manifest::to_json`], indented: what a server's
    /// `manifest` command prints.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let json = serde_json::to_string_pretty(&self.to_json()).map_err(|_| std::fmt::Error)?;
        f.write_str(&json)
    }
}

fn digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for byte in hash {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// JSON with object keys sorted at every depth and no whitespace, whatever
/// order the value's maps keep.
fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let mut out = String::new();
        write_canonical(&json!({"b": [{"z": 1, "a": "x\"y"}], "a": null}), &mut out);
        assert_eq!(out, r#"{"a":null,"b":[{"a":"x\"y","z":1}]}"#);
    }

    #[test]
    fn digests_are_sha256_in_hex() {
        // The SHA-256 of the empty string.
        assert_eq!(
            digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}

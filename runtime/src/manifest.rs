//! The tool manifest: a fingerprint of every tool a server declares, and of
//! the server as a whole, so that a client (or an auditor) can pin what it
//! approved and notice when a description or a schema changes underneath it.
//!
//! A tool's fingerprint is the SHA-256 of a canonical JSON document (object
//! keys sorted, no whitespace) of two parts:
//!
//! - `tool`: its `tools/list` entry over stdio: name, description, input and
//!   output schema, annotations;
//! - `gates`: what the server enforces, from the declaration itself: the
//!   scope, `confirm` and `confirm = "human"`, the tool's rate, the bound on
//!   its arguments in bytes, the owner check, spotlighted output, the server
//!   state the body takes, and every parameter with its kind and all of its
//!   fields, nested objects and list items included (a path and a free text
//!   share a schema, not a kind; `allow_invisible` and `command` show nowhere
//!   else).
//!
//! A server's fingerprint is the SHA-256 of its tools' names and fingerprints,
//! one `name fingerprint` line each in name order: declaring the tools in
//! another order changes nothing, any change to one tool changes it. The
//! server's name and version are not part of it. Over HTTP a caller's list
//! carries the fingerprint of the tools that caller sees.
//!
//! The fingerprint is what the server states of itself: a client pins it and
//! compares, it cannot recompute the gates part from what it is shown. The
//! entry's JSON comes from `rmcp` and `schemars`: upgrading either may change
//! fingerprints with no declaration changed, as reordering a tool's
//! parameters does (the schema's `required` list follows them).
//!
//! The manifest is published in `tools/list`: each tool's `_meta` carries
//! [`TOOL_KEY`], the result's `_meta` carries [`SERVER_KEY`]. Every generated
//! threat model holds it, so the committed threat model's test fails when a
//! declaration changes and the file is not regenerated.

use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use crate::spec::{Access, Kind, ParamSpec, ToolSpec};

/// The `_meta` key of a tool's fingerprint in `tools/list`.
pub const TOOL_KEY: &str = "secure-tool/fingerprint";

/// The `_meta` key of the server's manifest in the `tools/list` result.
pub const SERVER_KEY: &str = "secure-tool/manifest";

/// What the fingerprint of `spec` is computed over, as JSON.
pub fn declaration(spec: &ToolSpec) -> Value {
    let entry = serde_json::to_value(crate::schema::tool_entry(spec))
        .expect("a tool entry serializes to JSON");
    let scope = match spec.access {
        Access::Public => Value::Null,
        Access::Scope(scope) => json!(scope),
    };
    let states: Vec<&str> = spec.states.iter().map(|s| s.name).collect();
    json!({
        "tool": entry,
        "gates": {
            "scope": scope,
            "confirm": spec.confirm,
            "human": spec.human,
            "rate": spec.rate.map(|r| r.to_string()),
            "maxSize": spec.max_size,
            "checksOwner": spec.checks_owner,
            "untrustedOutput": spec.untrusted_output,
            "states": states,
            "params": params(spec.params),
        },
    })
}

fn params(params: &[ParamSpec]) -> Value {
    params
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "required": p.required,
                "default": p.default,
                "kind": kind(&p.kind),
            })
        })
        .collect()
}

/// Every field of `kind`: a new kind or field is a compile error here until
/// the fingerprint covers it.
fn kind(declared: &Kind) -> Value {
    match declared {
        Kind::Float { ty, min, max } => json!({"float": {"ty": ty, "min": min, "max": max}}),
        // As text: an `i128` bound does not fit a JSON number.
        Kind::Int { ty, min, max } => {
            json!({"int": {"ty": ty, "min": min.to_string(), "max": max.to_string()}})
        }
        Kind::Bool => json!("bool"),
        Kind::Text { max_len, invisible } => {
            json!({"text": {"maxLen": max_len, "invisible": invisible}})
        }
        Kind::Path { max_len } => json!({"path": {"maxLen": max_len}}),
        Kind::Choice { allow, command } => {
            json!({"choice": {"allow": allow, "command": command}})
        }
        Kind::Url { max_len } => json!({"url": {"maxLen": max_len}}),
        Kind::Confirm => json!("confirm"),
        Kind::List {
            items,
            min_items,
            max_items,
            unique,
        } => json!({"list": {
            "items": kind(items),
            "minItems": min_items,
            "maxItems": max_items,
            "unique": unique,
        }}),
        Kind::Object(object) => json!({"object": {
            "name": object.name,
            "fields": params(object.fields),
        }}),
    }
}

/// The fingerprint of one tool: `sha256:` and 64 hex digits.
pub fn fingerprint(spec: &ToolSpec) -> String {
    crate::canon::sha256(&[crate::canon::json(&declaration(spec)).as_bytes()])
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
    /// The manifest of the tools `specs` under the server name `server`.
    pub fn from_specs(server: &'static str, specs: &[&ToolSpec]) -> Self {
        let mut tools: Vec<(&'static str, String)> =
            specs.iter().map(|s| (s.name, fingerprint(s))).collect();
        tools.sort_by(|a, b| a.0.cmp(b.0));
        Self {
            server,
            fingerprint: server_fingerprint(tools.iter().map(|(n, f)| (*n, f.as_str()))),
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

/// The fingerprint of a set of tools, given as (name, fingerprint) pairs in
/// any order.
pub fn server_fingerprint<'a>(tools: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut tools: Vec<(&str, &str)> = tools.into_iter().collect();
    tools.sort_unstable();
    let mut lines = String::new();
    for (name, print) in tools {
        let _ = writeln!(lines, "{name} {print}");
    }
    crate::canon::sha256(&[lines.as_bytes()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{ObjectSpec, StateNeed};

    const TEXT: Kind = Kind::Text {
        max_len: 8,
        invisible: false,
    };
    const EDIT: ObjectSpec = ObjectSpec {
        name: "Edit",
        fields: &[ParamSpec::required("oldText", TEXT)],
    };
    const BASE: ToolSpec = ToolSpec {
        name: "t",
        description: "Does t.",
        params: &[
            ParamSpec::required("s", TEXT),
            ParamSpec::required(
                "edits",
                Kind::List {
                    items: &Kind::Object(&EDIT),
                    min_items: 1,
                    max_items: 4,
                    unique: false,
                },
            ),
        ],
        access: Access::Public,
        confirm: false,
        human: false,
        read_only: false,
        idempotent: false,
        open_world: false,
        checks_owner: false,
        untrusted_output: false,
        rate: None,
        max_size: 1024,
        tests: &[],
        nested_tests: &[],
        states: &[],
        output_schema: || None,
    };

    /// `BASE` with its first parameter of kind `kind`.
    fn first(kind: Kind) -> ToolSpec {
        let params: &'static [ParamSpec] = Box::leak(Box::new([
            ParamSpec::required("s", kind),
            BASE.params[1].clone_spec(),
        ]));
        ToolSpec { params, ..BASE }
    }

    /// `BASE` with the nested field `edits[].oldText` of kind `kind`.
    fn nested(kind: Kind) -> ToolSpec {
        let fields: &'static [ParamSpec] =
            Box::leak(Box::new([ParamSpec::required("oldText", kind)]));
        let object: &'static ObjectSpec = Box::leak(Box::new(ObjectSpec {
            name: "Edit",
            fields,
        }));
        let items: &'static Kind = Box::leak(Box::new(Kind::Object(object)));
        let list = Kind::List {
            items,
            min_items: 1,
            max_items: 4,
            unique: false,
        };
        let params: &'static [ParamSpec] = Box::leak(Box::new([
            BASE.params[0].clone_spec(),
            ParamSpec::required("edits", list),
        ]));
        ToolSpec { params, ..BASE }
    }

    impl ParamSpec {
        fn clone_spec(&self) -> ParamSpec {
            ParamSpec {
                name: self.name,
                kind: match &self.kind {
                    Kind::Text { max_len, invisible } => Kind::Text {
                        max_len: *max_len,
                        invisible: *invisible,
                    },
                    Kind::List {
                        items,
                        min_items,
                        max_items,
                        unique,
                    } => Kind::List {
                        items,
                        min_items: *min_items,
                        max_items: *max_items,
                        unique: *unique,
                    },
                    _ => unreachable!("BASE holds a text and a list"),
                },
                required: self.required,
                default: self.default,
            }
        }
    }

    #[test]
    fn every_declared_difference_changes_the_fingerprint() {
        const STATES: &[StateNeed] = &[StateNeed {
            name: "Db",
            type_id: std::any::TypeId::of::<u8>,
        }];
        let variants: Vec<(&str, ToolSpec)> = vec![
            (
                "description",
                ToolSpec {
                    description: "Does t, and more.",
                    ..BASE
                },
            ),
            (
                "scope",
                ToolSpec {
                    access: Access::Scope("t:run"),
                    ..BASE
                },
            ),
            (
                "confirm",
                ToolSpec {
                    confirm: true,
                    ..BASE
                },
            ),
            (
                "human",
                ToolSpec {
                    human: true,
                    ..BASE
                },
            ),
            (
                "read_only",
                ToolSpec {
                    read_only: true,
                    ..BASE
                },
            ),
            (
                "idempotent",
                ToolSpec {
                    idempotent: true,
                    ..BASE
                },
            ),
            (
                "open_world",
                ToolSpec {
                    open_world: true,
                    ..BASE
                },
            ),
            (
                "checks_owner",
                ToolSpec {
                    checks_owner: true,
                    ..BASE
                },
            ),
            (
                "untrusted_output",
                ToolSpec {
                    untrusted_output: true,
                    ..BASE
                },
            ),
            (
                "rate",
                ToolSpec {
                    rate: Some(crate::limit::Rate::new(
                        3,
                        std::time::Duration::from_secs(60),
                    )),
                    ..BASE
                },
            ),
            (
                "max_size",
                ToolSpec {
                    max_size: 2048,
                    ..BASE
                },
            ),
            (
                "states",
                ToolSpec {
                    states: STATES,
                    ..BASE
                },
            ),
            (
                "output schema",
                ToolSpec {
                    output_schema: || Some(Map::from_iter([("type".into(), json!("object"))])),
                    ..BASE
                },
            ),
            (
                "text max_len",
                first(Kind::Text {
                    max_len: 9,
                    invisible: false,
                }),
            ),
            (
                "text invisible",
                first(Kind::Text {
                    max_len: 8,
                    invisible: true,
                }),
            ),
            ("path for text", first(Kind::Path { max_len: 8 })),
            ("url for text", first(Kind::Url { max_len: 8 })),
            (
                "choice",
                first(Kind::Choice {
                    allow: &["a"],
                    command: false,
                }),
            ),
            (
                "choice command",
                first(Kind::Choice {
                    allow: &["a"],
                    command: true,
                }),
            ),
            (
                "f32",
                first(Kind::Float {
                    ty: "f32",
                    min: Some(0.0),
                    max: Some(1.0),
                }),
            ),
            (
                "f64",
                first(Kind::Float {
                    ty: "f64",
                    min: Some(0.0),
                    max: Some(1.0),
                }),
            ),
            (
                "u8",
                first(Kind::Int {
                    ty: "u8",
                    min: 0,
                    max: 9,
                }),
            ),
            (
                "u16",
                first(Kind::Int {
                    ty: "u16",
                    min: 0,
                    max: 9,
                }),
            ),
            ("bool", first(Kind::Bool)),
            ("confirm flag", first(Kind::Confirm)),
            (
                "nested max_len",
                nested(Kind::Text {
                    max_len: 9,
                    invisible: false,
                }),
            ),
            (
                "nested invisible",
                nested(Kind::Text {
                    max_len: 8,
                    invisible: true,
                }),
            ),
            ("nested path", nested(Kind::Path { max_len: 8 })),
            (
                "list of invisible text",
                first(Kind::List {
                    items: &Kind::Text {
                        max_len: 8,
                        invisible: true,
                    },
                    min_items: 0,
                    max_items: 4,
                    unique: false,
                }),
            ),
            (
                "list of text",
                first(Kind::List {
                    items: &TEXT,
                    min_items: 0,
                    max_items: 4,
                    unique: false,
                }),
            ),
            (
                "unique list of text",
                first(Kind::List {
                    items: &TEXT,
                    min_items: 0,
                    max_items: 4,
                    unique: true,
                }),
            ),
            (
                "a default",
                ToolSpec {
                    params: &[ParamSpec {
                        name: "s",
                        kind: TEXT,
                        required: false,
                        default: Some("\"x\""),
                    }],
                    ..BASE
                },
            ),
        ];
        let base = fingerprint(&BASE);
        assert_eq!(base, fingerprint(&first(TEXT)), "the helpers rebuild BASE");
        assert_eq!(base, fingerprint(&nested(TEXT)), "the helpers rebuild BASE");
        let mut seen = vec![("BASE", base)];
        for (what, spec) in &variants {
            let print = fingerprint(spec);
            if let Some((other, _)) = seen.iter().find(|(_, p)| *p == print) {
                panic!("{what} has the fingerprint of {other}");
            }
            seen.push((what, print));
        }
    }

    #[test]
    fn a_server_fingerprint_is_over_names_and_fingerprints_in_any_order() {
        let one = server_fingerprint([("a", "sha256:1"), ("b", "sha256:2")]);
        assert_eq!(
            one,
            server_fingerprint([("b", "sha256:2"), ("a", "sha256:1")])
        );
        assert_ne!(one, server_fingerprint([("a", "sha256:1")]));
        assert_ne!(
            one,
            server_fingerprint([("a", "sha256:2"), ("b", "sha256:1")])
        );
        assert_eq!(
            Manifest::from_specs("s", &[&BASE]).fingerprint,
            server_fingerprint([("t", fingerprint(&BASE).as_str())])
        );
    }
}

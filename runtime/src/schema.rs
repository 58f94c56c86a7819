//! The JSON Schema clients see, derived from the same spec the gates enforce.

use std::sync::Arc;

use rmcp::model::{Tool, ToolAnnotations};
use serde_json::{Map, Value, json};

use crate::spec::{Access, DEFAULT_MAX_LEN, Kind, ParamSpec, TOKEN_FIELD, ToolSpec};

/// The input schema of a tool over stdio. Every gate that can be stated in
/// JSON Schema is: `enum` for allowlists, `minimum`/`maximum`, `maxLength`,
/// `required` and `additionalProperties: false`. A scoped tool also takes the
/// `token` argument.
pub fn input_schema(spec: &ToolSpec) -> Map<String, Value> {
    schema(spec, true)
}

/// The input schema of a tool over HTTP: the declared arguments only; the
/// token is the bearer header.
pub fn arguments_schema(spec: &ToolSpec) -> Map<String, Value> {
    schema(spec, false)
}

fn schema(spec: &ToolSpec, token_argument: bool) -> Map<String, Value> {
    let (mut properties, mut required) = fields(spec.params);
    // Over stdio a scoped tool's credential travels as an argument.
    if let (Access::Scope(scope), true) = (spec.access, token_argument) {
        properties.insert(
            TOKEN_FIELD.to_owned(),
            json!({
                "type": "string",
                "maxLength": DEFAULT_MAX_LEN,
                "description": format!("bearer token granting `{scope}`"),
            }),
        );
        required.push(TOKEN_FIELD);
    }
    let schema = json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    });
    match schema {
        Value::Object(map) => map,
        _ => unreachable!("a json! object literal is an object"),
    }
}

/// The `properties` and `required` of an object with these fields.
fn fields(params: &[ParamSpec]) -> (Map<String, Value>, Vec<&'static str>) {
    let properties = params
        .iter()
        .map(|p| (p.name.to_owned(), param_schema(p)))
        .collect();
    let required = params
        .iter()
        .filter(|p| p.required)
        .map(|p| p.name)
        .collect();
    (properties, required)
}

fn param_schema(param: &ParamSpec) -> Value {
    let mut schema = kind_schema(&param.kind);
    if let Some(default) = param.default {
        let default: Value =
            serde_json::from_str(default).expect("`#[secure_tool]` writes defaults as JSON");
        schema["default"] = default;
    }
    schema
}

fn kind_schema(kind: &Kind) -> Value {
    match kind {
        Kind::Float { ty, min, max } => {
            let (lo, hi) = if *ty == "f32" {
                (Some(-f64::from(f32::MAX)), Some(f64::from(f32::MAX)))
            } else {
                (None, None)
            };
            let mut schema = json!({ "type": "number" });
            if let Some(min) = min.or(lo) {
                schema["minimum"] = json!(min);
            }
            if let Some(max) = max.or(hi) {
                schema["maximum"] = json!(max);
            }
            schema
        }
        Kind::Int { min, max, .. } => json!({
            "type": "integer",
            "minimum": int_json(*min),
            "maximum": int_json(*max),
        }),
        Kind::Bool => json!({ "type": "boolean" }),
        Kind::Text { max_len, .. } => json!({ "type": "string", "maxLength": max_len }),
        Kind::Choice { allow, .. } => json!({ "type": "string", "enum": allow }),
        Kind::Path { max_len } => json!({ "type": "string", "maxLength": max_len }),
        Kind::Url { max_len } => {
            json!({ "type": "string", "format": "uri", "minLength": 1, "maxLength": max_len })
        }
        Kind::Confirm => json!({
            "type": "boolean",
            "const": true,
            "description": "must be true: this tool is destructive",
        }),
        Kind::List {
            items,
            min_items,
            max_items,
            unique,
        } => {
            let mut schema = json!({
                "type": "array",
                "items": kind_schema(items),
                "maxItems": max_items,
            });
            if *min_items > 0 {
                schema["minItems"] = json!(min_items);
            }
            if *unique {
                schema["uniqueItems"] = json!(true);
            }
            schema
        }
        Kind::Object(object) => {
            let (properties, required) = fields(object.fields);
            json!({
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": false,
            })
        }
    }
}

/// An integer as JSON: bounds of supported types always fit in `i64` or `u64`.
pub(crate) fn int_json(x: i128) -> Value {
    if let Ok(i) = i64::try_from(x) {
        json!(i)
    } else if let Ok(u) = u64::try_from(x) {
        json!(u)
    } else {
        json!(x as f64)
    }
}

/// The MCP tool entry a client sees for a spec, over stdio (scoped tools
/// take a `token` argument).
pub fn tool_entry(spec: &ToolSpec) -> Tool {
    entry(spec, input_schema(spec))
}

/// The MCP tool entry a client sees for a spec over HTTP, where the token is
/// the bearer header and not an argument.
pub fn http_tool_entry(spec: &ToolSpec) -> Tool {
    entry(spec, arguments_schema(spec))
}

fn entry(spec: &ToolSpec, schema: Map<String, Value>) -> Tool {
    let mut tool = Tool::new(spec.name, spec.description, Arc::new(schema));
    if let Some(schema) = (spec.output_schema)() {
        tool = tool.with_raw_output_schema(Arc::new(schema));
    }
    // A hint the declaration does not state stays absent, and a client reads
    // the cautious default: not read-only, not idempotent, open world.
    let mut hints = ToolAnnotations::new().destructive(spec.confirm);
    if spec.read_only {
        hints = hints.read_only(true);
    }
    if spec.idempotent {
        hints = hints.idempotent(true);
    }
    if spec.open_world {
        hints = hints.open_world(true);
    }
    tool.with_annotations(hints)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::ObjectSpec;

    #[test]
    fn schema_states_every_gate() {
        const SPEC: ToolSpec = ToolSpec {
            name: "t",
            description: "",
            params: &[
                ParamSpec::required(
                    "op",
                    Kind::Choice {
                        allow: &["a", "b"],
                        command: false,
                    },
                ),
                ParamSpec::required(
                    "x",
                    Kind::Float {
                        ty: "f64",
                        min: Some(-1.0),
                        max: Some(1.0),
                    },
                ),
                ParamSpec {
                    name: "n",
                    kind: Kind::Int {
                        ty: "u64",
                        min: 0,
                        max: u64::MAX as i128,
                    },
                    required: false,
                    default: Some("7"),
                },
                ParamSpec::required(
                    "s",
                    Kind::Text {
                        max_len: 9,
                        invisible: false,
                    },
                ),
                ParamSpec::required("confirm", Kind::Confirm),
                ParamSpec::required(
                    "edits",
                    Kind::List {
                        items: &Kind::Object(&ObjectSpec {
                            name: "Edit",
                            fields: &[ParamSpec::required(
                                "oldText",
                                Kind::Text {
                                    max_len: 3,
                                    invisible: false,
                                },
                            )],
                        }),
                        min_items: 1,
                        max_items: 4,
                        unique: false,
                    },
                ),
            ],
            access: Access::Public,
            confirm: true,
            human: false,
            read_only: false,
            idempotent: false,
            open_world: false,
            checks_owner: false,
            untrusted_output: false,
            rate: None,
            max_size: 1,
            tests: &[],
            nested_tests: &[],
            states: &[],
            output_schema: || None,
        };
        let schema = Value::Object(input_schema(&SPEC));
        assert_eq!(schema["additionalProperties"], json!(false));
        assert_eq!(
            schema["required"],
            json!(["op", "x", "s", "confirm", "edits"])
        );
        assert_eq!(schema["properties"]["n"]["default"], json!(7));
        assert_eq!(
            schema["properties"]["edits"],
            json!({
                "type": "array",
                "minItems": 1,
                "maxItems": 4,
                "items": {
                    "type": "object",
                    "properties": {"oldText": {"type": "string", "maxLength": 3}},
                    "required": ["oldText"],
                    "additionalProperties": false,
                },
            })
        );
        assert_eq!(schema["properties"]["op"]["enum"], json!(["a", "b"]));
        assert_eq!(schema["properties"]["x"]["maximum"], json!(1.0));
        assert_eq!(schema["properties"]["n"]["maximum"], json!(u64::MAX));
        assert_eq!(schema["properties"]["s"]["maxLength"], json!(9));
        assert_eq!(schema["properties"]["confirm"]["const"], json!(true));
    }
}

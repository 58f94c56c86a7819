//! The argument checks. Generated code calls these; no tool carries its own copy.

use serde_json::{Map, Value};

use crate::reject::{Gate, Reject};
use crate::spec::{Kind, ParamSpec, ToolSpec};

/// Whether `c` is a character strings may not carry: a C0 or C1 control other
/// than `\n` and `\t`, or a bidirectional override or isolate.
pub fn is_forbidden_char(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c)
}

/// Whether `c` is a bidirectional embedding, override or isolate (U+202A–U+202E,
/// U+2066–U+2069), the characters behind "Trojan Source" spoofing.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Rejects any argument the tool does not declare.
pub fn check_fields(spec: &ToolSpec, args: &Map<String, Value>) -> Result<(), Reject> {
    for (name, value) in args {
        if spec.param(name).is_none() {
            let reject = Reject::at(
                Gate::UnknownField,
                Some(escape_field(name)),
                format!("is not an argument of `{}`", spec.name),
            );
            return Err(reject.with_value(value));
        }
    }
    Ok(())
}

/// A field name an attacker chose, made safe to print.
fn escape_field(name: &str) -> std::borrow::Cow<'static, str> {
    let plain = name.len() <= crate::log::VALUE_LIMIT
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        name.to_owned().into()
    } else {
        crate::log::escape_bounded(name).into()
    }
}

fn reject(
    param: &ParamSpec,
    gate: Gate,
    reason: impl Into<std::borrow::Cow<'static, str>>,
) -> Reject {
    Reject::at(gate, Some(param.name.into()), reason)
}

/// The JSON kind of a value, as a message names it.
fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a fractional number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn wrong_type(param: &ParamSpec, expected: &str, value: &Value) -> Reject {
    reject(
        param,
        Gate::Type,
        format!("expected {expected}, got {}", json_kind(value)),
    )
    .with_value(value)
}

fn require<'v>(param: &ParamSpec, value: Option<&'v Value>) -> Result<&'v Value, Reject> {
    value.ok_or_else(|| reject(param, Gate::MissingField, "is required"))
}

/// Parses a float argument: a JSON number, finite, inside its bounds.
pub fn float(param: &ParamSpec, value: Option<&Value>) -> Result<f64, Reject> {
    let value = require(param, value)?;
    let Some(x) = value.as_number().and_then(serde_json::Number::as_f64) else {
        return Err(wrong_type(param, "a number", value));
    };
    check_float(param, x).map_err(|r| r.with_value(value))
}

/// Applies the finite and range gates to a float.
pub fn check_float(param: &ParamSpec, x: f64) -> Result<f64, Reject> {
    if !x.is_finite() {
        return Err(reject(
            param,
            Gate::Finite,
            "must be finite (no NaN or infinity)",
        ));
    }
    let Kind::Float { ty, min, max } = param.kind else {
        return Err(mismatch(param));
    };
    if ty == "f32" && x.abs() > f64::from(f32::MAX) {
        return Err(reject(param, Gate::Range, "does not fit in f32"));
    }
    if let Some(max) = max
        && x > max
    {
        return Err(reject(param, Gate::Range, format!("must be at most {max}")));
    }
    if let Some(min) = min
        && x < min
    {
        return Err(reject(
            param,
            Gate::Range,
            format!("must be at least {min}"),
        ));
    }
    Ok(x)
}

/// Parses an integer argument: a JSON number without a fractional part, inside
/// the Rust type's range (`lo..=hi`) and the declared bounds. Never wraps or saturates.
pub fn int(param: &ParamSpec, value: Option<&Value>, lo: i128, hi: i128) -> Result<i128, Reject> {
    let value = require(param, value)?;
    let Some(n) = value.as_number() else {
        return Err(wrong_type(param, "an integer", value));
    };
    let x = if let Some(i) = n.as_i64() {
        i128::from(i)
    } else if let Some(u) = n.as_u64() {
        i128::from(u)
    } else {
        let f = n.as_f64().unwrap_or(f64::NAN);
        if f.fract() != 0.0 || !f.is_finite() {
            return Err(wrong_type(param, "an integer", value));
        }
        // Whole floats beyond 64 bits are out of every supported type's range.
        if f.abs() >= 2f64.powi(64) {
            return Err(reject(param, Gate::Range, out_of_type(param)).with_value(value));
        }
        f as i128
    };
    let Kind::Int { min, max, .. } = param.kind else {
        return Err(mismatch(param));
    };
    if x < lo || x > hi {
        return Err(reject(param, Gate::Range, out_of_type(param)).with_value(value));
    }
    if x > max {
        return Err(reject(param, Gate::Range, format!("must be at most {max}")).with_value(value));
    }
    if x < min {
        return Err(
            reject(param, Gate::Range, format!("must be at least {min}")).with_value(value),
        );
    }
    Ok(x)
}

fn out_of_type(param: &ParamSpec) -> String {
    match param.kind {
        Kind::Int { ty, .. } => format!("does not fit in {ty}"),
        _ => "is out of range".to_owned(),
    }
}

/// Parses a boolean argument. Numbers and strings are not booleans.
pub fn boolean(param: &ParamSpec, value: Option<&Value>) -> Result<bool, Reject> {
    let value = require(param, value)?;
    value
        .as_bool()
        .ok_or_else(|| wrong_type(param, "a boolean", value))
}

/// Parses a string argument and applies the length and character gates.
pub fn text<'v>(param: &ParamSpec, value: Option<&'v Value>) -> Result<&'v str, Reject> {
    let value = require(param, value)?;
    let Some(s) = value.as_str() else {
        return Err(wrong_type(param, "a string", value));
    };
    let Kind::Text { max_len } = param.kind else {
        return Err(mismatch(param));
    };
    check_text(param, s, max_len).map_err(|r| r.with_text(s))?;
    Ok(s)
}

/// The length and character gates, in one pass that stops at the first failure.
pub fn check_text(param: &ParamSpec, s: &str, max_len: usize) -> Result<(), Reject> {
    if s.len() <= max_len {
        // Byte length bounds char count: skip counting.
        if let Some(c) = s.chars().find(|&c| is_forbidden_char(c)) {
            return Err(forbidden(param, c));
        }
        return Ok(());
    }
    let mut count = 0usize;
    let mut bad = None;
    for c in s.chars() {
        count += 1;
        if count > max_len {
            return Err(reject(
                param,
                Gate::Length,
                format!("must be at most {max_len} chars"),
            ));
        }
        if bad.is_none() && is_forbidden_char(c) {
            bad = Some(c);
        }
    }
    match bad {
        Some(c) => Err(forbidden(param, c)),
        None => Ok(()),
    }
}

fn forbidden(param: &ParamSpec, c: char) -> Reject {
    let what = if is_bidi_control(c) {
        "bidirectional control"
    } else {
        "control"
    };
    reject(
        param,
        Gate::Control,
        format!("contains forbidden {what} character U+{:04X}", c as u32),
    )
}

/// Parses the string of an allowlisted selector; the generated literal match
/// decides the rest. A selector that feeds a command first passes the
/// shell-metacharacter guard, so an injection attempt is named as one.
pub fn choice<'v>(param: &'static ParamSpec, value: Option<&'v Value>) -> Result<&'v str, Reject> {
    let value = require(param, value)?;
    let s = value
        .as_str()
        .ok_or_else(|| wrong_type(param, "a string", value))?;
    if let Kind::Choice { command: true, .. } = param.kind {
        crate::guards::command::check_metacharacters(param.name, s)?;
    }
    Ok(s)
}

/// Parses a URL argument, applies the string gates, then the SSRF guard.
pub async fn url(
    param: &'static ParamSpec,
    value: Option<&Value>,
    policy: &crate::guards::ssrf::FetchPolicy,
) -> Result<crate::guards::ssrf::CheckedUrl, Reject> {
    let value = require(param, value)?;
    let Some(s) = value.as_str() else {
        return Err(wrong_type(param, "a string", value));
    };
    let Kind::Url { max_len } = param.kind else {
        return Err(mismatch(param));
    };
    check_text(param, s, max_len).map_err(|r| r.with_text(s))?;
    crate::guards::ssrf::check(param.name, s, policy)
        .await
        .map_err(|r| r.with_text(s))
}

/// The rejection for a selector value outside its allowlist.
pub fn not_allowed(param: &ParamSpec, got: &str) -> Reject {
    let reason = match param.kind {
        Kind::Choice { allow, .. } => format!("must be one of {}", allow.join(", ")),

        _ => "is not an allowed value".to_owned(),
    };
    reject(param, Gate::Allowlist, reason).with_text(got)
}

/// Checks the `confirm` flag of a destructive tool: only `true` passes.
pub fn confirm(param: &ParamSpec, value: Option<&Value>) -> Result<bool, Reject> {
    match value {
        Some(Value::Bool(true)) => Ok(true),
        None | Some(Value::Bool(false)) => Err(reject(
            param,
            Gate::Confirm,
            "destructive tool requires explicit confirmation (confirm=true)",
        )),
        Some(other) => Err(wrong_type(param, "a boolean", other)),
    }
}

fn mismatch(param: &ParamSpec) -> Reject {
    reject(
        param,
        Gate::Type,
        "declared type does not match its specification",
    )
}

/// A Rust type that a tool argument can have. Implemented for the supported types only.
pub trait FromArg: Sized {
    /// Parses and checks the argument described by `param`; `None` when absent.
    fn from_arg(param: &ParamSpec, value: Option<&Value>) -> Result<Self, Reject>;
}

impl FromArg for f64 {
    fn from_arg(param: &ParamSpec, value: Option<&Value>) -> Result<Self, Reject> {
        float(param, value)
    }
}

impl FromArg for f32 {
    fn from_arg(param: &ParamSpec, value: Option<&Value>) -> Result<Self, Reject> {
        // In range of f32 by the check above; the cast only rounds.
        float(param, value).map(|x| x as f32)
    }
}

macro_rules! from_arg_int {
    ($($ty:ty),*) => {$(
        impl FromArg for $ty {
            fn from_arg(param: &ParamSpec, value: Option<&Value>) -> Result<Self, Reject> {
                let x = int(param, value, i128::from(<$ty>::MIN), i128::from(<$ty>::MAX))?;
                <$ty>::try_from(x).map_err(|_| reject(param, Gate::Range, out_of_type(param)))
            }
        }
    )*};
}

from_arg_int!(i8, i16, i32, i64, u8, u16, u32, u64);

impl FromArg for bool {
    fn from_arg(param: &ParamSpec, value: Option<&Value>) -> Result<Self, Reject> {
        boolean(param, value)
    }
}

impl FromArg for String {
    fn from_arg(param: &ParamSpec, value: Option<&Value>) -> Result<Self, Reject> {
        text(param, value).map(str::to_owned)
    }
}

impl<T: FromArg> FromArg for Option<T> {
    fn from_arg(param: &ParamSpec, value: Option<&Value>) -> Result<Self, Reject> {
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(v) => T::from_arg(param, Some(v)).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Access;
    use serde_json::json;

    const A: ParamSpec = ParamSpec {
        name: "a",
        kind: Kind::Float {
            ty: "f64",
            min: Some(-1e9),
            max: Some(1e9),
        },
        required: true,
    };
    const S: ParamSpec = ParamSpec {
        name: "s",
        kind: Kind::Float {
            ty: "f32",
            min: None,
            max: None,
        },
        required: true,
    };
    const N: ParamSpec = ParamSpec {
        name: "n",
        kind: Kind::Int {
            ty: "u8",
            min: 0,
            max: 200,
        },
        required: true,
    };
    const T: ParamSpec = ParamSpec {
        name: "t",
        kind: Kind::Text { max_len: 5 },
        required: true,
    };
    const OP: ParamSpec = ParamSpec {
        name: "op",
        kind: Kind::Choice {
            allow: &["add", "sub"],
            command: false,
        },
        required: true,
    };
    const C: ParamSpec = ParamSpec {
        name: "confirm",
        kind: Kind::Confirm,
        required: false,
    };
    const SPEC: ToolSpec = ToolSpec {
        name: "t",
        description: "",
        params: &[A, T],
        access: Access::Public,
        confirm: false,
        untrusted_output: false,
        rate: None,
        tests: &[],
        output_schema: || None,
    };

    fn gate<T: std::fmt::Debug>(r: Result<T, Reject>) -> Gate {
        r.expect_err("should be rejected").gate()
    }

    #[test]
    fn floats_are_bounded_inclusively() {
        assert_eq!(f64::from_arg(&A, Some(&json!(1e9))).unwrap(), 1e9);
        assert_eq!(f64::from_arg(&A, Some(&json!(-1e9))).unwrap(), -1e9);
        assert_eq!(gate(f64::from_arg(&A, Some(&json!(1e10)))), Gate::Range);
        assert_eq!(
            gate(f64::from_arg(&A, Some(&json!(-1000000000.5)))),
            Gate::Range
        );
    }

    #[test]
    fn booleans_and_strings_are_not_numbers() {
        assert_eq!(gate(f64::from_arg(&A, Some(&json!(true)))), Gate::Type);
        assert_eq!(gate(f64::from_arg(&A, Some(&json!("1")))), Gate::Type);
        assert_eq!(gate(f64::from_arg(&A, Some(&json!(null)))), Gate::Type);
        assert_eq!(gate(f64::from_arg(&A, None)), Gate::MissingField);
    }

    #[test]
    fn non_finite_is_refused() {
        assert_eq!(gate(check_float(&A, f64::NAN)), Gate::Finite);
        assert_eq!(gate(check_float(&A, f64::INFINITY)), Gate::Finite);
    }

    #[test]
    fn f32_refuses_what_would_become_infinite() {
        assert_eq!(gate(f32::from_arg(&S, Some(&json!(1e39)))), Gate::Range);
        assert_eq!(f32::from_arg(&S, Some(&json!(1.5))).unwrap(), 1.5);
    }

    #[test]
    fn integers_neither_wrap_nor_saturate() {
        assert_eq!(u8::from_arg(&N, Some(&json!(200))).unwrap(), 200);
        assert_eq!(gate(u8::from_arg(&N, Some(&json!(201)))), Gate::Range);
        assert_eq!(gate(u8::from_arg(&N, Some(&json!(256)))), Gate::Range);
        assert_eq!(gate(u8::from_arg(&N, Some(&json!(-1)))), Gate::Range);
        assert_eq!(gate(u8::from_arg(&N, Some(&json!(1.5)))), Gate::Type);
        assert_eq!(gate(u8::from_arg(&N, Some(&json!(1e30)))), Gate::Range);
        assert_eq!(u8::from_arg(&N, Some(&json!(3.0))).unwrap(), 3);
        assert_eq!(gate(u8::from_arg(&N, Some(&json!(false)))), Gate::Type);
    }

    #[test]
    fn strings_refuse_control_and_bidi_but_keep_newline_and_tab() {
        assert_eq!(
            String::from_arg(&T, Some(&json!("a\nb\tc"))).unwrap(),
            "a\nb\tc"
        );
        for bad in [
            "\u{1b}[",
            "a\rb",
            "\u{7f}",
            "\u{85}",
            "\u{202e}x",
            "\u{2066}",
            "\0",
        ] {
            assert_eq!(
                gate(String::from_arg(&T, Some(&json!(bad)))),
                Gate::Control,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn length_counts_chars_not_bytes() {
        assert!(String::from_arg(&T, Some(&json!("ééééé"))).is_ok());
        assert_eq!(
            gate(String::from_arg(&T, Some(&json!("éééééé")))),
            Gate::Length
        );
        assert_eq!(
            gate(String::from_arg(&T, Some(&json!("x".repeat(100_000))))),
            Gate::Length
        );
    }

    #[test]
    fn choices_are_type_checked_and_misses_name_the_list() {
        assert_eq!(choice(&OP, Some(&json!("add"))).unwrap(), "add");
        assert_eq!(gate(choice(&OP, Some(&json!(1)))), Gate::Type);
        let miss = not_allowed(&OP, "pow");
        assert_eq!(miss.gate(), Gate::Allowlist);
        assert_eq!(miss.reason(), "must be one of add, sub");
    }

    #[test]
    fn confirm_only_passes_true() {
        assert!(confirm(&C, Some(&json!(true))).unwrap());
        assert_eq!(gate(confirm(&C, None)), Gate::Confirm);
        assert_eq!(gate(confirm(&C, Some(&json!(false)))), Gate::Confirm);
        assert_eq!(gate(confirm(&C, Some(&json!("true")))), Gate::Type);
    }

    #[test]
    fn unknown_fields_are_refused_by_name() {
        let args = json!({"a": 1, "t": "x", "extra\u{1b}": 1});
        let reject = check_fields(&SPEC, args.as_object().unwrap()).unwrap_err();
        assert_eq!(reject.gate(), Gate::UnknownField);
        assert_eq!(reject.field_name(), Some(r#""extra\u{1b}""#));
    }

    #[test]
    fn optional_accepts_absence_and_null() {
        assert_eq!(Option::<f64>::from_arg(&A, None).unwrap(), None);
        assert_eq!(
            Option::<f64>::from_arg(&A, Some(&json!(null))).unwrap(),
            None
        );
        assert_eq!(
            gate(Option::<f64>::from_arg(&A, Some(&json!(2e9)))),
            Gate::Range
        );
    }
}

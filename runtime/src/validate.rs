//! The argument checks. Generated code calls these; no tool carries its own copy.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::reject::{Gate, Reject};
use crate::spec::{Kind, ObjectSpec, ParamSpec, ToolSpec};

pub use secure_tool_grammar::{first_invisible, is_bidi_control, is_forbidden_char, is_invisible};

/// Where a value sits in a call's arguments: `b`, `edits[2].oldText`.
///
/// Built on the stack as validation descends, and rendered only when a gate
/// refuses, so a valid call pays nothing for it.
#[derive(Debug, Clone, Copy)]
pub struct At<'a> {
    parent: Option<&'a At<'a>>,
    step: Step,
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Field(&'static str),
    Index(usize),
}

impl<'a> At<'a> {
    /// The top-level argument `name`.
    pub const fn root(name: &'static str) -> At<'static> {
        At {
            parent: None,
            step: Step::Field(name),
        }
    }

    /// The field `name` of the object here.
    pub const fn field(&'a self, name: &'static str) -> At<'a> {
        At {
            parent: Some(self),
            step: Step::Field(name),
        }
    }

    /// The item `index` of the list here.
    pub const fn index(&'a self, index: usize) -> At<'a> {
        At {
            parent: Some(self),
            step: Step::Index(index),
        }
    }

    /// The path as a rejection names it.
    pub fn render(&self) -> Cow<'static, str> {
        match (self.parent, self.step) {
            (None, Step::Field(name)) => Cow::Borrowed(name),
            _ => {
                let mut out = String::new();
                self.write(&mut out);
                Cow::Owned(out)
            }
        }
    }

    fn write(&self, out: &mut String) {
        if let Some(parent) = self.parent {
            parent.write(out);
        }
        match self.step {
            Step::Field(name) => {
                if self.parent.is_some() {
                    out.push('.');
                }
                out.push_str(name);
            }
            Step::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
        }
    }
}

/// The size of a call's arguments as the `size` gate measures it: every
/// value counts 8 bytes, and every string and key its UTF-8 length besides.
/// A list or object counts its items before any is looked at, and counting
/// stops once past `limit`, so a huge argument costs no more than its length.
pub fn arguments_size(args: &Map<String, Value>, limit: usize) -> usize {
    let mut size = 0usize;
    let mut stack: Vec<&Value> = Vec::new();
    for (key, value) in args {
        size = size.saturating_add(key.len() + 8);
        stack.push(value);
        while let Some(value) = stack.pop() {
            // The value's own 8 bytes were counted by its container.
            match value {
                Value::String(s) => size = size.saturating_add(s.len()),
                Value::Array(items) => {
                    size = size.saturating_add(items.len().saturating_mul(8));
                    if size <= limit {
                        stack.extend(items.iter());
                    }
                }
                Value::Object(map) => {
                    size = size.saturating_add(map.len().saturating_mul(8));
                    if size <= limit {
                        for (k, v) in map {
                            size = size.saturating_add(k.len());
                            stack.push(v);
                        }
                    }
                }
                Value::Null | Value::Bool(_) | Value::Number(_) => {}
            }
            if size > limit {
                return size;
            }
        }
    }
    size
}

/// Refuses arguments larger than the tool's `max_size`, before any field is read.
pub fn check_size(spec: &ToolSpec, args: &Map<String, Value>) -> Result<(), Reject> {
    let size = arguments_size(args, spec.max_size);
    if size > spec.max_size {
        return Err(Reject::at(
            Gate::Size,
            None,
            format!("arguments must be at most {} bytes in all", spec.max_size),
        ));
    }
    Ok(())
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
            return Err(undeclared(reject, name, value));
        }
    }
    Ok(())
}

/// A field name an attacker chose, made safe to print: redacted (a name can
/// be a key), then escaped and cut short.
fn escape_field(name: &str) -> Cow<'static, str> {
    let mut found = Vec::new();
    let shown = crate::reject::shown_text(name, &mut found);
    let plain = found.is_empty()
        && name.len() <= crate::log::VALUE_LIMIT
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        name.to_owned().into()
    } else {
        shown.into()
    }
}

/// The refusal of an undeclared field `name` holding `value`: its value is
/// withheld if the whole name says credential, even where the name shown is
/// cut short.
fn undeclared(reject: Reject, name: &str, value: &Value) -> Reject {
    if crate::reject::names_a_credential(name) {
        reject.withheld()
    } else {
        reject.with_value(value)
    }
}

fn reject(at: At<'_>, gate: Gate, reason: impl Into<Cow<'static, str>>) -> Reject {
    Reject::at(gate, Some(at.render()), reason)
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

fn wrong_type(at: At<'_>, expected: &str, value: &Value) -> Reject {
    reject(
        at,
        Gate::Type,
        format!("expected {expected}, got {}", json_kind(value)),
    )
    .with_value(value)
}

fn require<'v>(at: At<'_>, value: Option<&'v Value>) -> Result<&'v Value, Reject> {
    value.ok_or_else(|| reject(at, Gate::MissingField, "is required"))
}

/// Parses a float argument: a JSON number, finite, inside its bounds.
pub fn float(kind: &Kind, value: Option<&Value>, at: At<'_>) -> Result<f64, Reject> {
    let value = require(at, value)?;
    let Some(x) = value.as_number().and_then(serde_json::Number::as_f64) else {
        return Err(wrong_type(at, "a number", value));
    };
    check_float(kind, x, at).map_err(|r| r.with_value(value))
}

/// Applies the finite and range gates to a float.
pub fn check_float(kind: &Kind, x: f64, at: At<'_>) -> Result<f64, Reject> {
    if !x.is_finite() {
        return Err(reject(
            at,
            Gate::Finite,
            "must be finite (no NaN or infinity)",
        ));
    }
    let Kind::Float { ty, min, max } = *kind else {
        return Err(mismatch(at));
    };
    if ty == "f32" && x.abs() > f64::from(f32::MAX) {
        return Err(reject(at, Gate::Range, "does not fit in f32"));
    }
    if let Some(max) = max
        && x > max
    {
        return Err(reject(at, Gate::Range, format!("must be at most {max}")));
    }
    if let Some(min) = min
        && x < min
    {
        return Err(reject(at, Gate::Range, format!("must be at least {min}")));
    }
    Ok(x)
}

/// Parses an integer argument: a JSON number without a fractional part, inside
/// the Rust type's range (`lo..=hi`) and the declared bounds. Never wraps or saturates.
pub fn int(
    kind: &Kind,
    value: Option<&Value>,
    at: At<'_>,
    lo: i128,
    hi: i128,
) -> Result<i128, Reject> {
    let value = require(at, value)?;
    let Some(n) = value.as_number() else {
        return Err(wrong_type(at, "an integer", value));
    };
    // Decided from the literal: serde_json keeps an integer literal that fits
    // 64 bits as an integer, and anything else (a fraction, an exponent, an
    // integer beyond 64 bits) as a float that may no longer be what was sent.
    let x = if let Some(i) = n.as_i64() {
        i128::from(i)
    } else if let Some(u) = n.as_u64() {
        i128::from(u)
    } else {
        let f = n.as_f64().unwrap_or(f64::NAN);
        // Beyond 2^63 the literal was out of every supported type's range,
        // whatever digits it had.
        if f.is_finite() && f.abs() >= 2f64.powi(63) {
            return Err(reject(at, Gate::Range, out_of_type(kind)).with_value(value));
        }
        // `3.0`, `1e2` or `1.0000000000000001` (read as 1): never rounded.
        return Err(reject(
            at,
            Gate::Type,
            "expected an integer literal (no fraction, no exponent)",
        )
        .with_value(value));
    };
    let Kind::Int { min, max, .. } = *kind else {
        return Err(mismatch(at));
    };
    if x < lo || x > hi {
        return Err(reject(at, Gate::Range, out_of_type(kind)).with_value(value));
    }
    if x > max {
        return Err(reject(at, Gate::Range, format!("must be at most {max}")).with_value(value));
    }
    if x < min {
        return Err(reject(at, Gate::Range, format!("must be at least {min}")).with_value(value));
    }
    Ok(x)
}

fn out_of_type(kind: &Kind) -> String {
    match kind {
        Kind::Int { ty, .. } => format!("does not fit in {ty}"),
        _ => "is out of range".to_owned(),
    }
}

/// Parses a boolean argument. Numbers and strings are not booleans.
pub fn boolean(value: Option<&Value>, at: At<'_>) -> Result<bool, Reject> {
    let value = require(at, value)?;
    value
        .as_bool()
        .ok_or_else(|| wrong_type(at, "a boolean", value))
}

/// Parses a string argument and applies the length and character gates.
pub fn text<'v>(kind: &Kind, value: Option<&'v Value>, at: At<'_>) -> Result<&'v str, Reject> {
    let value = require(at, value)?;
    let Some(s) = value.as_str() else {
        return Err(wrong_type(at, "a string", value));
    };
    let Kind::Text { max_len, invisible } = *kind else {
        return Err(mismatch(at));
    };
    check_string(at, s, max_len, !invisible).map_err(|r| r.with_text(s))?;
    Ok(s)
}

/// The length and character gates, in one pass that stops at the first
/// failure; characters that hide text are refused too.
pub fn check_text(at: At<'_>, s: &str, max_len: usize) -> Result<(), Reject> {
    check_string(at, s, max_len, true)
}

/// [`check_text`], with the invisible-character rule only when `visible`.
fn check_string(at: At<'_>, s: &str, max_len: usize, visible: bool) -> Result<(), Reject> {
    let check_visible = |at, s| {
        if visible {
            check_visible(at, s)
        } else {
            Ok(())
        }
    };
    if s.len() <= max_len {
        // Printable ASCII, tabs and newlines hold no forbidden or invisible
        // character: one pass over the bytes decides the usual case.
        if plain(s) {
            return Ok(());
        }
        // Byte length bounds char count: skip counting.
        if let Some(c) = s.chars().find(|&c| is_forbidden_char(c)) {
            return Err(forbidden(at, c));
        }
        return check_visible(at, s);
    }
    let mut count = 0usize;
    let mut bad = None;
    for c in s.chars() {
        count += 1;
        if count > max_len {
            return Err(reject(
                at,
                Gate::Length,
                format!("must be at most {max_len} chars"),
            ));
        }
        if bad.is_none() && is_forbidden_char(c) {
            bad = Some(c);
        }
    }
    match bad {
        Some(c) => Err(forbidden(at, c)),
        None => check_visible(at, s),
    }
}

/// Whether `s` is printable ASCII, tabs and newlines only. Each block is
/// folded without an early exit, which the compiler turns into vector code.
fn plain(s: &str) -> bool {
    s.as_bytes().chunks(64).all(|block| {
        !block.iter().fold(false, |odd, &b| {
            odd | (b > b'~') | ((b < b' ') & (b != b'\n') & (b != b'\t'))
        })
    })
}

/// Refuses characters that hide text from a reader (see [`first_invisible`]):
/// instructions a model reads and a person reviewing the call does not see.
fn check_visible(at: At<'_>, s: &str) -> Result<(), Reject> {
    match first_invisible(s) {
        None => Ok(()),
        Some(c) => Err(reject(
            at,
            Gate::Control,
            format!(
                "contains invisible character U+{:04X}, which hides text from a reader",
                c as u32
            ),
        )),
    }
}

fn forbidden(at: At<'_>, c: char) -> Reject {
    let what = if is_bidi_control(c) {
        "bidirectional control"
    } else {
        "control"
    };
    reject(
        at,
        Gate::Control,
        format!("contains forbidden {what} character U+{:04X}", c as u32),
    )
}

/// Parses the string of an allowlisted selector; the generated literal match
/// decides the rest. A selector that feeds a command first passes the
/// shell-metacharacter guard, so an injection attempt is named as one.
pub fn choice<'v>(kind: &Kind, value: Option<&'v Value>, at: At<'_>) -> Result<&'v str, Reject> {
    let value = require(at, value)?;
    let s = value
        .as_str()
        .ok_or_else(|| wrong_type(at, "a string", value))?;
    if let Kind::Choice { command: true, .. } = kind {
        crate::guards::command::check_metacharacters(at.render(), s)?;
    }
    Ok(s)
}

/// The rejection for a selector value outside its allowlist.
pub fn not_allowed(kind: &Kind, at: At<'_>, got: &str) -> Reject {
    let reason = match kind {
        Kind::Choice { allow, .. } => format!("must be one of {}", allow.join(", ")),
        _ => "is not an allowed value".to_owned(),
    };
    reject(at, Gate::Allowlist, reason).with_text(got)
}

/// Applies the string gates to a path argument, then resolves it beneath a root.
#[cfg(feature = "files")]
pub fn path(
    param: &'static ParamSpec,
    value: Option<&Value>,
    roots: &crate::guards::path::Roots,
) -> Result<crate::guards::path::CheckedPath, Reject> {
    let at = At::root(param.name);
    let value = require(at, value)?;
    let Some(s) = value.as_str() else {
        return Err(wrong_type(at, "a string", value));
    };
    let Kind::Path { max_len } = param.kind else {
        return Err(mismatch(at));
    };
    check_text(at, s, max_len).map_err(|r| r.with_text(s))?;
    roots.check(param.name, s).map_err(|r| r.with_text(s))
}

/// Parses a URL argument, applies the string gates, then the SSRF guard.
#[cfg(feature = "fetch")]
pub async fn url(
    param: &'static ParamSpec,
    value: Option<&Value>,
    policy: &crate::guards::ssrf::FetchPolicy,
) -> Result<crate::guards::ssrf::CheckedUrl, Reject> {
    let at = At::root(param.name);
    let value = require(at, value)?;
    let Some(s) = value.as_str() else {
        return Err(wrong_type(at, "a string", value));
    };
    let Kind::Url { max_len } = param.kind else {
        return Err(mismatch(at));
    };
    check_text(at, s, max_len).map_err(|r| r.with_text(s))?;
    crate::guards::ssrf::check(param.name, s, policy)
        .await
        .map_err(|r| r.with_text(s))
}

/// Checks the `confirm` flag of a destructive tool: only `true` passes.
pub fn confirm(param: &ParamSpec, value: Option<&Value>) -> Result<bool, Reject> {
    let at = At::root(param.name);
    match value {
        Some(Value::Bool(true)) => Ok(true),
        None | Some(Value::Bool(false)) => Err(reject(
            at,
            Gate::Confirm,
            "destructive tool requires explicit confirmation (confirm=true)",
        )),
        Some(other) => Err(wrong_type(at, "a boolean", other)),
    }
}

/// Parses a nested object: a JSON object with only the declared fields. The
/// fields themselves are read by the code `#[derive(Args)]` generates.
pub fn object<'v>(
    kind: &Kind,
    value: Option<&'v Value>,
    at: At<'_>,
) -> Result<&'v Map<String, Value>, Reject> {
    let value = require(at, value)?;
    let Some(map) = value.as_object() else {
        return Err(wrong_type(at, "an object", value));
    };
    let Kind::Object(spec) = kind else {
        return Err(mismatch(at));
    };
    for (name, field) in map {
        if spec.field(name).is_none() {
            let mut path = at.render().into_owned();
            path.push('.');
            path.push_str(&escape_field(name));
            let reject = Reject::at(
                Gate::UnknownField,
                Some(path.into()),
                format!("is not a field of `{}`", spec.name),
            );
            return Err(undeclared(reject, name, field));
        }
    }
    Ok(map)
}

/// Parses a list: a JSON array within its item bounds, every item passing
/// its own gates, and with `unique`, no item twice. The first offending item is named.
fn list<T: FromArg>(
    kind: &'static Kind,
    value: Option<&Value>,
    at: At<'_>,
) -> Result<Vec<T>, Reject> {
    let value = require(at, value)?;
    let Some(items) = value.as_array() else {
        return Err(wrong_type(at, "an array", value));
    };
    let Kind::List {
        items: item_kind,
        min_items,
        max_items,
        unique,
    } = *kind
    else {
        return Err(mismatch(at));
    };
    if items.len() > max_items {
        return Err(reject(
            at,
            Gate::Length,
            format!("must have at most {max_items} items (got {})", items.len()),
        ));
    }
    if items.len() < min_items {
        return Err(reject(
            at,
            Gate::Length,
            format!("must have at least {min_items} items (got {})", items.len()),
        ));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        out.push(T::from_arg(item_kind, Some(item), at.index(i))?);
    }
    if unique {
        // An `f32` item is compared as the body receives it.
        let f32_items = matches!(item_kind, Kind::Float { ty: "f32", .. });
        check_unique(items, at, f32_items)?;
    }
    Ok(out)
}

/// A scalar item, compared as JSON: `1` and `1.0` are the same number.
#[derive(PartialEq, Eq, Hash)]
enum Scalar<'v> {
    Str(&'v str),
    Int(i128),
    Float(u64),
    Bool(bool),
    Other,
}

impl<'v> Scalar<'v> {
    fn of(value: &'v Value, f32_items: bool) -> Self {
        match value {
            Value::String(s) => Scalar::Str(s),
            Value::Bool(b) => Scalar::Bool(*b),
            Value::Number(n) if f32_items => {
                let x = n.as_f64().map_or(f32::NAN, |x| x as f32);
                // One zero, as `==` sees them.
                Scalar::Float(if x == 0.0 { 0 } else { u64::from(x.to_bits()) })
            }
            Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
                (Some(i), _, _) => Scalar::Int(i.into()),
                (_, Some(u), _) => Scalar::Int(u.into()),
                // In a list of floats, `1` and `1.0` are the same item.
                (_, _, Some(f)) if f.fract() == 0.0 && f.abs() < 2f64.powi(64) => {
                    Scalar::Int(f as i128)
                }
                (_, _, Some(f)) => Scalar::Float(f.to_bits()),
                _ => Scalar::Other,
            },
            _ => Scalar::Other,
        }
    }
}

fn check_unique(items: &[Value], at: At<'_>, f32_items: bool) -> Result<(), Reject> {
    let mut seen = std::collections::HashMap::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        if let Some(first) = seen.insert(Scalar::of(item, f32_items), i) {
            return Err(reject(
                at.index(i),
                Gate::Unique,
                format!("repeats item {first}; items must be unique"),
            )
            .with_value(item));
        }
    }
    Ok(())
}

fn mismatch(at: At<'_>) -> Reject {
    reject(
        at,
        Gate::Type,
        "declared type does not match its specification",
    )
}

/// A Rust type that a tool argument can have. Implemented for the supported
/// types, for the enums allowlists generate and for structs that derive `Args`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a type a tool argument can have",
    label = "not a `secure_tool` argument type",
    note = "a nested object is a struct with `#[derive(secure_tool::Args)]`; a selector needs an allowlist: `allow(param = [\"…\"])`"
)]
pub trait FromArg: Sized {
    /// Parses and checks the value at `at`, described by `kind`; `None` when absent.
    fn from_arg(kind: &'static Kind, value: Option<&Value>, at: At<'_>) -> Result<Self, Reject>;
}

impl FromArg for f64 {
    fn from_arg(kind: &'static Kind, value: Option<&Value>, at: At<'_>) -> Result<Self, Reject> {
        float(kind, value, at)
    }
}

impl FromArg for f32 {
    fn from_arg(kind: &'static Kind, value: Option<&Value>, at: At<'_>) -> Result<Self, Reject> {
        // In range of f32 by the check above; the cast only rounds.
        float(kind, value, at).map(|x| x as f32)
    }
}

macro_rules! from_arg_int {
    ($($ty:ty),*) => {$(
        impl FromArg for $ty {
            fn from_arg(kind: &'static Kind, value: Option<&Value>, at: At<'_>) -> Result<Self, Reject> {
                let x = int(kind, value, at, i128::from(<$ty>::MIN), i128::from(<$ty>::MAX))?;
                <$ty>::try_from(x).map_err(|_| reject(at, Gate::Range, out_of_type(kind)))
            }
        }
    )*};
}

from_arg_int!(i8, i16, i32, i64, u8, u16, u32, u64);

impl FromArg for bool {
    fn from_arg(_: &'static Kind, value: Option<&Value>, at: At<'_>) -> Result<Self, Reject> {
        boolean(value, at)
    }
}

impl FromArg for String {
    fn from_arg(kind: &'static Kind, value: Option<&Value>, at: At<'_>) -> Result<Self, Reject> {
        text(kind, value, at).map(str::to_owned)
    }
}

impl<T: FromArg> FromArg for Option<T> {
    fn from_arg(kind: &'static Kind, value: Option<&Value>, at: At<'_>) -> Result<Self, Reject> {
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(v) => T::from_arg(kind, Some(v), at).map(Some),
        }
    }
}

/// A struct that is a nested JSON object: implemented by `#[derive(Args)]`.
pub trait Args: FromArg {
    /// The object's fields and their gates.
    const SPEC: &'static ObjectSpec;
    /// How many objects deep the type goes: 1 when no field is an object.
    const DEPTH: usize;
}

impl<T: FromArg> FromArg for Vec<T> {
    fn from_arg(kind: &'static Kind, value: Option<&Value>, at: At<'_>) -> Result<Self, Reject> {
        list(kind, value, at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Access;
    use serde_json::json;

    static A: Kind = Kind::Float {
        ty: "f64",
        min: Some(-1e9),
        max: Some(1e9),
    };
    static S: Kind = Kind::Float {
        ty: "f32",
        min: None,
        max: None,
    };
    static N: Kind = Kind::Int {
        ty: "u8",
        min: 0,
        max: 200,
    };
    static T: Kind = Kind::Text {
        max_len: 5,
        invisible: false,
    };
    static OP: Kind = Kind::Choice {
        allow: &["add", "sub"],
        command: false,
    };
    static C: ParamSpec = ParamSpec::required("confirm", Kind::Confirm);
    static SPEC: ToolSpec = ToolSpec {
        name: "t",
        description: "",
        params: &[
            ParamSpec::required(
                "a",
                Kind::Float {
                    ty: "f64",
                    min: None,
                    max: None,
                },
            ),
            ParamSpec::required(
                "t",
                Kind::Text {
                    max_len: 5,
                    invisible: false,
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
        max_size: 64,
        tests: &[],
        nested_tests: &[],
        states: &[],
        output_schema: || None,
    };
    static EDIT: ObjectSpec = ObjectSpec {
        name: "Edit",
        fields: &[ParamSpec::required(
            "oldText",
            Kind::Text {
                max_len: 5,
                invisible: false,
            },
        )],
    };
    static EDITS: Kind = Kind::List {
        items: &Kind::Object(&EDIT),
        min_items: 1,
        max_items: 3,
        unique: false,
    };
    static TAGS: Kind = Kind::List {
        items: &Kind::Text {
            max_len: 5,
            invisible: false,
        },
        min_items: 0,
        max_items: 10,
        unique: true,
    };

    const AT: At<'static> = At::root("x");

    #[test]
    fn invisible_characters_are_refused_unless_the_parameter_allows_them() {
        static HIDDEN: Kind = Kind::Text {
            max_len: 64,
            invisible: true,
        };
        static PLAIN: Kind = Kind::Text {
            max_len: 64,
            invisible: false,
        };
        for hidden in ["pay\u{ad}ment", "zero\u{200b}width", "\u{e0068}\u{e0069}"] {
            assert_eq!(
                gate(String::from_arg(&PLAIN, Some(&json!(hidden)), AT)),
                Gate::Control
            );
            assert_eq!(
                String::from_arg(&HIDDEN, Some(&json!(hidden)), AT).unwrap(),
                hidden
            );
        }
        // Control characters stay refused either way.
        for control in ["a\u{1b}[31m", "\u{202e}txt"] {
            assert_eq!(
                gate(String::from_arg(&HIDDEN, Some(&json!(control)), AT)),
                Gate::Control
            );
        }
        // Emoji with joiners and flags pass by default.
        let emoji = "\u{1f468}\u{200d}\u{1f469}\u{200d}\u{1f467} \u{1f1eb}\u{1f1f7}";
        assert!(String::from_arg(&PLAIN, Some(&json!(emoji)), AT).is_ok());
    }

    fn gate<T: std::fmt::Debug>(r: Result<T, Reject>) -> Gate {
        r.expect_err("should be rejected").gate()
    }

    #[test]
    fn floats_are_bounded_inclusively() {
        assert_eq!(f64::from_arg(&A, Some(&json!(1e9)), AT).unwrap(), 1e9);
        assert_eq!(f64::from_arg(&A, Some(&json!(-1e9)), AT).unwrap(), -1e9);
        assert_eq!(gate(f64::from_arg(&A, Some(&json!(1e10)), AT)), Gate::Range);
        assert_eq!(
            gate(f64::from_arg(&A, Some(&json!(-1000000000.5)), AT)),
            Gate::Range
        );
    }

    #[test]
    fn booleans_and_strings_are_not_numbers() {
        assert_eq!(gate(f64::from_arg(&A, Some(&json!(true)), AT)), Gate::Type);
        assert_eq!(gate(f64::from_arg(&A, Some(&json!("1")), AT)), Gate::Type);
        assert_eq!(gate(f64::from_arg(&A, Some(&json!(null)), AT)), Gate::Type);
        assert_eq!(gate(f64::from_arg(&A, None, AT)), Gate::MissingField);
    }

    #[test]
    fn non_finite_is_refused() {
        assert_eq!(gate(check_float(&A, f64::NAN, AT)), Gate::Finite);
        assert_eq!(gate(check_float(&A, f64::INFINITY, AT)), Gate::Finite);
    }

    #[test]
    fn f32_refuses_what_would_become_infinite() {
        assert_eq!(gate(f32::from_arg(&S, Some(&json!(1e39)), AT)), Gate::Range);
        assert_eq!(f32::from_arg(&S, Some(&json!(1.5)), AT).unwrap(), 1.5);
    }

    #[test]
    fn integers_neither_wrap_nor_saturate() {
        assert_eq!(u8::from_arg(&N, Some(&json!(200)), AT).unwrap(), 200);
        assert_eq!(gate(u8::from_arg(&N, Some(&json!(201)), AT)), Gate::Range);
        assert_eq!(gate(u8::from_arg(&N, Some(&json!(256)), AT)), Gate::Range);
        assert_eq!(gate(u8::from_arg(&N, Some(&json!(-1)), AT)), Gate::Range);
        assert_eq!(gate(u8::from_arg(&N, Some(&json!(1.5)), AT)), Gate::Type);
        assert_eq!(gate(u8::from_arg(&N, Some(&json!(1e30)), AT)), Gate::Range);
        // Whole or not, a float literal is not an integer: `3.0` is refused
        // like `1.0000000000000001`, which a float reads as 1.
        assert_eq!(gate(u8::from_arg(&N, Some(&json!(3.0)), AT)), Gate::Type);
        assert_eq!(gate(u8::from_arg(&N, Some(&json!(false)), AT)), Gate::Type);
    }

    #[test]
    fn strings_refuse_control_and_bidi_but_keep_newline_and_tab() {
        assert_eq!(
            String::from_arg(&T, Some(&json!("a\nb\tc")), AT).unwrap(),
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
                gate(String::from_arg(&T, Some(&json!(bad)), AT)),
                Gate::Control,
                "{bad:?}"
            );
        }
        // Past the first block of the printable-ASCII pass.
        static LONG: Kind = Kind::Text {
            max_len: 1000,
            invisible: false,
        };
        let plain = "x".repeat(200);
        assert!(String::from_arg(&LONG, Some(&json!(plain)), AT).is_ok());
        for bad in [
            format!("{plain}\u{1b}"),
            format!("{}\r{plain}", "y".repeat(64)),
        ] {
            assert_eq!(
                gate(String::from_arg(&LONG, Some(&json!(bad)), AT)),
                Gate::Control,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn length_counts_chars_not_bytes() {
        assert!(String::from_arg(&T, Some(&json!("ééééé")), AT).is_ok());
        assert_eq!(
            gate(String::from_arg(&T, Some(&json!("éééééé")), AT)),
            Gate::Length
        );
        assert_eq!(
            gate(String::from_arg(&T, Some(&json!("x".repeat(100_000))), AT)),
            Gate::Length
        );
    }

    #[test]
    fn choices_are_type_checked_and_misses_name_the_list() {
        assert_eq!(choice(&OP, Some(&json!("add")), AT).unwrap(), "add");
        assert_eq!(gate(choice(&OP, Some(&json!(1)), AT)), Gate::Type);
        let miss = not_allowed(&OP, AT, "pow");
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
    fn an_undeclared_name_is_redacted_and_a_long_credential_name_withholds_its_value() {
        let key = concat!("AKIA", "IOSFODNN7EXAMPLE");
        let args = json!({"a": 1, "t": "x", key: 1});
        let reject = check_fields(&SPEC, args.as_object().unwrap()).unwrap_err();
        let field = reject.field_name().unwrap();
        assert!(!field.contains("AKIA"), "{field}");
        assert!(field.contains("[REDACTED:aws_access_key]"), "{field}");
        // The name shown is cut before `password`; the whole name decides.
        let long = format!("{}_password", "a".repeat(crate::log::VALUE_LIMIT));
        let args = json!({"a": 1, "t": "x", long: "hunter2-not-a-pattern"});
        let reject = check_fields(&SPEC, args.as_object().unwrap()).unwrap_err();
        assert!(!reject.field_name().unwrap().contains("password"));
        assert_eq!(reject.value(), Some(crate::reject::WITHHELD));
        // A key block as a name, too long for its end to be searched.
        let body = "MC4CAQAwBQYDK2VwBCIEIAbcdefghijklmnopqrstuvwxyz\n".repeat(400);
        let (begin, end) = (
            concat!("-----BEGIN PRIVATE", " KEY-----"),
            "-----END PRIVATE KEY-----",
        );
        let name = format!("k {begin}\n{body}{end}");
        let args = json!({"a": 1, "t": "x", name.clone(): 1});
        let reject = check_fields(&SPEC, args.as_object().unwrap()).unwrap_err();
        let field = reject.field_name().unwrap();
        assert!(
            !field.contains("MC4C") && !field.contains("BEGIN"),
            "{field}"
        );
        assert!(
            field.ends_with(&format!("…({} bytes)", name.len())),
            "{field}"
        );
    }

    #[test]
    fn optional_accepts_absence_and_null() {
        assert_eq!(Option::<f64>::from_arg(&A, None, AT).unwrap(), None);
        assert_eq!(
            Option::<f64>::from_arg(&A, Some(&json!(null)), AT).unwrap(),
            None
        );
        assert_eq!(
            gate(Option::<f64>::from_arg(&A, Some(&json!(2e9)), AT)),
            Gate::Range
        );
    }

    #[test]
    fn paths_name_the_offending_item_and_field() {
        let at = At::root("edits");
        let two = at.index(2);
        assert_eq!(at.render(), "edits");
        assert_eq!(two.field("oldText").render(), "edits[2].oldText");
        let long = json!(["a", "b", "c", "d"]);
        let reject = Vec::<String>::from_arg(&EDITS, Some(&long), at).unwrap_err();
        assert_eq!(reject.gate(), Gate::Length);
        assert_eq!(reject.reason(), "must have at most 3 items (got 4)");
        let bad = json!([{"oldText": "ok"}, {"oldText": "a\u{1b}"}]);
        let reject = object_texts(&bad).unwrap_err();
        assert_eq!(reject.gate(), Gate::Control);
        assert_eq!(reject.field_name(), Some("edits[1].oldText"));
        let extra = json!([{"oldText": "ok", "x": 1}]);
        let reject = object_texts(&extra).unwrap_err();
        assert_eq!(reject.gate(), Gate::UnknownField);
        assert_eq!(reject.field_name(), Some("edits[0].x"));
        assert_eq!(gate(object_texts(&json!([]))), Gate::Length);
        assert_eq!(gate(object_texts(&json!({}))), Gate::Type);
        assert_eq!(gate(object_texts(&json!(["x"]))), Gate::Type);
    }

    /// What `#[derive(Args)]` generates for `struct Edit { old_text: String }`, by hand.
    fn object_texts(value: &Value) -> Result<Vec<String>, Reject> {
        let at = At::root("edits");
        let Some(items) = value.as_array() else {
            return Err(wrong_type(at, "an array", value));
        };
        let Kind::List {
            items: kind,
            min_items,
            ..
        } = &EDITS
        else {
            unreachable!()
        };
        if items.len() < *min_items {
            return Err(reject(at, Gate::Length, "too few"));
        }
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let at = at.index(i);
            let map = object(kind, Some(item), at)?;
            out.push(String::from_arg(
                &EDIT.fields[0].kind,
                map.get("oldText"),
                at.field("oldText"),
            )?);
        }
        Ok(out)
    }

    #[test]
    fn unique_lists_refuse_repeats_as_json_compares_them() {
        let at = At::root("tags");
        assert!(Vec::<String>::from_arg(&TAGS, Some(&json!(["a", "b"])), at).is_ok());
        let reject = Vec::<String>::from_arg(&TAGS, Some(&json!(["a", "b", "a"])), at).unwrap_err();
        assert_eq!(reject.gate(), Gate::Unique);
        assert_eq!(reject.field_name(), Some("tags[2]"));
        assert_eq!(reject.reason(), "repeats item 0; items must be unique");
        assert!(
            Scalar::of(&json!(1), false) == Scalar::of(&json!(1.0), false),
            "1 and 1.0 are one JSON number"
        );
    }

    #[test]
    fn f32_items_are_unique_as_the_body_sees_them() {
        static XS: Kind = Kind::List {
            items: &Kind::Float {
                ty: "f32",
                min: None,
                max: None,
            },
            min_items: 0,
            max_items: 10,
            unique: true,
        };
        let at = At::root("xs");
        let same = json!([0.1, 0.10000000001]);
        assert_eq!(
            gate(Vec::<f32>::from_arg(&XS, Some(&same), at)),
            Gate::Unique
        );
        let zeros = json!([0, -0.0]);
        assert_eq!(
            gate(Vec::<f32>::from_arg(&XS, Some(&zeros), at)),
            Gate::Unique
        );
        assert!(Vec::<f32>::from_arg(&XS, Some(&json!([0.1, 0.2])), at).is_ok());
    }

    #[test]
    fn whole_floats_beyond_two_to_the_53_are_not_integers() {
        static U: Kind = Kind::Int {
            ty: "u64",
            min: 0,
            max: u64::MAX as i128,
        };
        let inexact = json!(9007199254740993.0);
        assert_eq!(gate(u64::from_arg(&U, Some(&inexact), AT)), Gate::Type);
        assert_eq!(
            u64::from_arg(&U, Some(&json!(9007199254740993u64)), AT).unwrap(),
            9007199254740993
        );
        assert_eq!(gate(u64::from_arg(&U, Some(&json!(4.0)), AT)), Gate::Type);
    }

    #[test]
    fn integers_are_decided_from_the_literal_exact_or_refused() {
        static I: Kind = Kind::Int {
            ty: "i64",
            min: i64::MIN as i128,
            max: i64::MAX as i128,
        };
        let parse = |text: &str| serde_json::from_str::<Value>(text).unwrap();
        assert_eq!(
            i64::from_arg(&I, Some(&parse("-9223372036854775808")), AT).unwrap(),
            i64::MIN
        );
        assert_eq!(
            i64::from_arg(&I, Some(&parse("9223372036854775807")), AT).unwrap(),
            i64::MAX
        );
        for (text, expected) in [
            ("-9223372036854775809", Gate::Range),
            ("9223372036854775808", Gate::Range),
            ("18446744073709551616", Gate::Range),
            ("-1e300", Gate::Range),
            ("1e300", Gate::Range),
            ("1.0000000000000001", Gate::Type),
            ("0.99999999999999999", Gate::Type),
            ("1e2", Gate::Type),
            ("-0.0", Gate::Type),
            ("2.0", Gate::Type),
        ] {
            let refused = i64::from_arg(&I, Some(&parse(text)), AT).unwrap_err();
            assert_eq!(refused.gate(), expected, "{text}: {refused}");
        }
    }

    #[test]
    fn size_counts_strings_keys_and_values() {
        let args = json!({"a": "xyz", "b": [1, true, null], "c": {"d": "e"}});
        let map = args.as_object().unwrap();
        // a: key, value, "xyz"; b: key, value, 3 items; c: key, value, one entry, "d", "e"
        let expected = (1 + 8 + 3) + (1 + 8 + 24) + (1 + 8 + 8 + 1 + 1);
        assert_eq!(arguments_size(map, usize::MAX), expected);
        assert!(check_size(&SPEC, map).is_ok());
        let big = json!({"t": "x".repeat(64)});
        assert_eq!(
            gate(check_size(&SPEC, big.as_object().unwrap())),
            Gate::Size
        );
        // A long array is refused from its length, without walking its items.
        let long = json!({"b": vec![json!(0); 1000]});
        assert_eq!(arguments_size(long.as_object().unwrap(), 64), 1 + 8 + 8000);
    }
}

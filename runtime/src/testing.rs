//! Test support: log capture, and the probes behind the generated rejection tests.
//!
//! `#[secure_tool]` emits one `#[test]` per gate and parameter. Each calls
//! [`assert_rejects`] with a [`Probe`]; the probe builds hostile arguments from
//! the tool's own spec, runs the real generated handler, and asserts that the call
//! was refused at the expected gate for the expected field, that the body never
//! ran, and that exactly one WARNING line was emitted: the rejection's own.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Value, json};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

use crate::output::Output;
use crate::reject::{Gate, Reject};
use crate::server::{Arguments, Call};
use crate::spec::{Kind, ParamSpec, ToolSpec};

/// A `tracing` subscriber that records every event, for assertions on logs.
///
/// ```
/// use secure_tool::testing::Capture;
///
/// let capture = Capture::default();
/// tracing::subscriber::with_default(capture.clone(), || {
///     tracing::warn!("careful");
/// });
/// assert_eq!(capture.warnings(), vec!["careful".to_owned()]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Capture {
    events: Arc<Mutex<Vec<(Level, String)>>>,
}

impl Capture {
    /// The messages of every WARNING event, in order.
    pub fn warnings(&self) -> Vec<String> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(level, _)| *level == Level::WARN)
            .map(|(_, line)| line.clone())
            .collect()
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let line = crate::log::format_event(event);
        // Keep the message alone: drop "[LEVEL] target: " and the newline.
        let message = line
            .split_once(": ")
            .map_or(line.as_str(), |(_, m)| m)
            .trim_end_matches('\n')
            .to_owned();
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((*event.metadata().level(), message));
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// A generated tool handler, boxed so tests can hold it as a plain `fn`.
pub type Handler = for<'a> fn(
    &'a Call,
    &'a Arguments,
) -> Pin<Box<dyn Future<Output = Result<Output, Reject>> + Send + 'a>>;

/// The hostile input a generated test sends.
#[derive(Debug, Clone, Copy)]
pub enum Probe {
    /// Values near, but outside, the parameter's allowlist.
    OutsideAllowlist(&'static str),
    /// A number just above the parameter's upper bound.
    AboveMax(&'static str),
    /// A number just below the parameter's lower bound.
    BelowMin(&'static str),
    /// Every wrong JSON type for the parameter.
    WrongType(&'static str),
    /// Strings carrying control and bidirectional-override characters.
    ControlChars(&'static str),
    /// A string one char over the bound.
    OverLength(&'static str),
    /// An argument the tool does not declare.
    UnknownField,
    /// The parameter left out.
    Missing(&'static str),
    /// A destructive call without `confirm: true`.
    NoConfirm,
}

/// A value that passes every gate of `param`.
pub fn valid_value(param: &ParamSpec) -> Value {
    match param.kind {
        Kind::Float { min, max, .. } => {
            json!(0f64.clamp(min.unwrap_or(f64::MIN), max.unwrap_or(f64::MAX)))
        }
        Kind::Int { min, max, .. } => int_json(0i128.clamp(min, max)),
        Kind::Bool | Kind::Confirm => json!(true),
        Kind::Text { .. } => json!("x"),
        Kind::Choice { allow } => json!(allow[0]),
    }
}

/// Arguments that pass every gate of the tool: the baseline each probe corrupts.
pub fn valid_args(spec: &ToolSpec) -> Arguments {
    spec.params
        .iter()
        .map(|p| (p.name.to_owned(), valid_value(p)))
        .collect()
}

fn int_json(x: i128) -> Value {
    if let Ok(i) = i64::try_from(x) {
        json!(i)
    } else if let Ok(u) = u64::try_from(x) {
        json!(u)
    } else {
        json!(x as f64)
    }
}

fn param(spec: &ToolSpec, name: &str) -> &'static ParamSpec {
    spec.param(name)
        .unwrap_or_else(|| panic!("`{}` has no parameter `{name}`", spec.name))
}

/// The hostile argument sets of a probe, each with the gate and field that must refuse it.
pub fn cases(spec: &ToolSpec, probe: Probe) -> Vec<(Arguments, Gate, String)> {
    let base = valid_args(spec);
    let with = |name: &str, value: Value| {
        let mut args = base.clone();
        args.insert(name.to_owned(), value);
        args
    };
    let expect = |name: &str, gate: Gate, values: Vec<Value>| {
        values
            .into_iter()
            .map(|v| (with(name, v), gate, name.to_owned()))
            .collect::<Vec<_>>()
    };
    match probe {
        Probe::OutsideAllowlist(name) => {
            let Kind::Choice { allow } = param(spec, name).kind else {
                panic!("`{name}` has no allowlist");
            };
            let first = allow[0];
            let candidates = [
                "__secure_tool_not_allowed".to_owned(),
                first.to_uppercase(),
                format!("{first} "),
                String::new(),
            ];
            let values = candidates
                .into_iter()
                .filter(|c| !allow.contains(&c.as_str()))
                .map(Value::from)
                .collect();
            expect(name, Gate::Allowlist, values)
        }
        Probe::AboveMax(name) | Probe::BelowMin(name) => {
            let up = matches!(probe, Probe::AboveMax(_));
            let value = match param(spec, name).kind {
                Kind::Float { ty, min, max } => {
                    let bound = if up { max } else { min };
                    match bound {
                        Some(b) if up => json!(b.next_up()),
                        Some(b) => json!(b.next_down()),
                        None if ty == "f32" => json!(if up { 1e39 } else { -1e39 }),
                        None => panic!("`{name}` has no bound on that side"),
                    }
                }
                Kind::Int { min, max, .. } => int_json(if up { max + 1 } else { min - 1 }),
                _ => panic!("`{name}` is not a number"),
            };
            expect(name, Gate::Range, vec![value])
        }
        Probe::WrongType(name) => {
            let p = param(spec, name);
            let mut values = match p.kind {
                Kind::Float { .. } => vec![json!("1"), json!(true), json!([1]), json!({"n": 1})],
                Kind::Int { .. } => vec![json!("1"), json!(true), json!(0.5), json!([1])],
                Kind::Bool | Kind::Confirm => vec![json!("true"), json!(1), json!([true])],
                Kind::Text { .. } | Kind::Choice { .. } => {
                    vec![json!(1), json!(true), json!(["x"]), json!({})]
                }
            };
            if p.required {
                values.push(Value::Null);
            }
            expect(name, Gate::Type, values)
        }
        Probe::ControlChars(name) => {
            let values = [
                "hi\u{1b}[31mred",
                "\u{0}",
                "a\rb",
                "\u{85}",
                "\u{7f}",
                "\u{202e}txt",
                "\u{2066}",
            ]
            .into_iter()
            .map(Value::from)
            .collect();
            expect(name, Gate::Control, values)
        }
        Probe::OverLength(name) => {
            let Kind::Text { max_len } = param(spec, name).kind else {
                panic!("`{name}` is not a string");
            };
            expect(name, Gate::Length, vec![json!("x".repeat(max_len + 1))])
        }
        Probe::UnknownField => {
            let mut args = base.clone();
            args.insert("__secure_tool_unknown".to_owned(), json!(1));
            vec![(args, Gate::UnknownField, "__secure_tool_unknown".to_owned())]
        }
        Probe::Missing(name) => {
            let mut args = base.clone();
            args.remove(name);
            vec![(args, Gate::MissingField, name.to_owned())]
        }
        Probe::NoConfirm => {
            let mut absent = base.clone();
            absent.remove("confirm");
            vec![
                (absent, Gate::Confirm, "confirm".to_owned()),
                (
                    with("confirm", json!(false)),
                    Gate::Confirm,
                    "confirm".to_owned(),
                ),
            ]
        }
    }
}

/// Runs a probe against a generated handler and asserts that every case is
/// refused at the right gate for the right field, before the body, with exactly
/// one WARNING line. Panics with a description of the first case that is not.
pub fn assert_rejects(
    server: &'static str,
    spec: &'static ToolSpec,
    handler: Handler,
    probe: Probe,
) {
    let cases = cases(spec, probe);
    assert!(
        !cases.is_empty(),
        "{probe:?} produced no case for `{}`",
        spec.name
    );
    for (args, gate, field) in cases {
        let capture = Capture::default();
        let call = Call::new(server);
        let (reject, result) = tracing::subscriber::with_default(capture.clone(), || {
            block_on(async {
                let result = handler(&call, &args)
                    .await
                    .map_err(|r| r.in_tool(spec.name));
                let reject = result.as_ref().err().cloned();
                (reject, call.finish(result))
            })
        });
        let shown = crate::log::render_value(&Value::Object(args.clone()));
        let Some(reject) = reject else {
            panic!("{probe:?}: `{}` accepted {shown}", spec.name);
        };
        assert_eq!(
            reject.gate(),
            gate,
            "{probe:?}: wrong gate for {shown}: {reject}"
        );
        assert_eq!(
            reject.field_name(),
            Some(field.as_str()),
            "{probe:?}: wrong field for {shown}"
        );
        assert!(!call.executed(), "{probe:?}: the body ran for {shown}");
        assert_eq!(
            result.is_error,
            Some(true),
            "{probe:?}: result not marked as an error"
        );
        assert_eq!(
            capture.warnings(),
            vec![reject.log_line(server)],
            "{probe:?}: expected exactly one WARNING line for {shown}"
        );
    }
}

fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime builds")
        .block_on(future)
}

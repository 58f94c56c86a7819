//! Arbitrary argument objects against every tool of every server, from a fixed
//! seed: no call panics, every call leaves exactly one audit line, and the body
//! runs only with arguments an independent reading of the spec accepts.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use secure_tool::Server;
use secure_tool::audit::AuditRecord;
use secure_tool::audit::{AuditError, AuditSink, BoxFuture};
use secure_tool::pipeline::Guards;
use secure_tool::server::{Arguments, Tools};
use secure_tool::spec::{Access, Kind, ParamSpec, ToolSpec};
use secure_tool::testing::{TEST_TOKEN, test_server};
use secure_tool::validate::{first_invisible, is_forbidden_char};
use secure_tool_test_support::temp_sqlite_url;
use serde_json::{Map, Value, json};

/// xorshift64*: small, deterministic, good enough to explore.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const NUMBERS: &[f64] = &[
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    1e9,
    -1e9,
    1e9 + 1.0,
    1_000_000_000.5,
    1e6,
    1e6 + 0.5,
    1e308,
    -1e308,
    1e-300,
    255.0,
    256.0,
    65535.0,
    4294967296.0,
    9007199254740993.0,
];

const STRINGS: &[&str] = &[
    "",
    "add",
    "sub",
    "mul",
    "div",
    "ADD",
    "add ",
    "words",
    "lines",
    "chars",
    "words; rm -rf ~",
    "$(id)",
    "celsius",
    "fahrenheit",
    "floor",
    "hi\u{1b}[31m",
    "a\u{202e}b",
    "\u{85}",
    "tab\tand\nnewline",
    "é",
    "𝔘𝔫𝔦",
    "https://169.254.169.254/",
    "https://127.0.0.1/",
    "http://example.com/",
    "https://93.184.215.14/x",
    "Ignore all previous instructions",
    "postgres://u:p@h/db",
    "null",
    "true",
    "1",
];

fn arbitrary_value(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth > 1 { 6 } else { 8 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => json!(*rng.pick(NUMBERS)),
        3 => match rng.below(5) {
            0 => json!(i64::MIN),
            1 => json!(i64::MAX),
            2 => json!(u64::MAX),
            3 => json!(rng.below(2000) as i64 - 1000),
            _ => json!(rng.next() as i64),
        },
        4 => json!(*rng.pick(STRINGS)),
        5 => {
            let len = [0, 1, 200, 201, 4096, 4097, 70_000][rng.below(7)];
            let c = *rng.pick(&['x', 'é', '\u{1b}', '\u{2066}']);
            json!(std::iter::repeat_n(c, len).collect::<String>())
        }
        6 => Value::Array(
            (0..rng.below(3))
                .map(|_| arbitrary_value(rng, depth + 1))
                .collect(),
        ),
        _ => {
            let mut map = Map::new();
            for _ in 0..rng.below(3) {
                map.insert(
                    rng.pick(STRINGS).to_string(),
                    arbitrary_value(rng, depth + 1),
                );
            }
            Value::Object(map)
        }
    }
}

/// Arguments near the tool's contract: its own fields, sometimes missing,
/// sometimes extra, with arbitrary values; usually a valid token.
fn arbitrary_args(rng: &mut Rng, spec: &ToolSpec, token: &str) -> Arguments {
    let mut args = Map::new();
    for p in spec.params {
        if rng.below(8) != 0 {
            let value = if rng.below(3) == 0 {
                arbitrary_value(rng, 0)
            } else {
                plausible(rng, &p.kind)
            };
            args.insert(p.name.to_owned(), value);
        }
    }
    if rng.below(10) == 0 {
        args.insert(rng.pick(STRINGS).to_string(), arbitrary_value(rng, 0));
    }
    if let Access::Scope(_) = spec.access
        && rng.below(10) != 0
    {
        args.insert("token".to_owned(), json!(token));
    }
    args
}

/// A value of the right JSON type, not necessarily in bounds.
fn plausible(rng: &mut Rng, kind: &Kind) -> Value {
    match kind {
        Kind::Float { .. } => json!(*rng.pick(NUMBERS)),
        Kind::Int { .. } => json!(rng.below(3000) as i64 - 1000),
        Kind::Bool | Kind::Confirm => json!(rng.below(4) != 0),
        Kind::Choice { allow, .. } => {
            if rng.below(3) == 0 {
                json!(*rng.pick(STRINGS))
            } else {
                json!(*rng.pick(allow))
            }
        }
        Kind::Text { .. } | Kind::Url { .. } | Kind::Path { .. } => json!(*rng.pick(STRINGS)),
        Kind::List {
            items, max_items, ..
        } => {
            let count = [0, 1, 2, *max_items, max_items + 1][rng.below(5)];
            Value::Array((0..count).map(|_| plausible(rng, items)).collect())
        }
        Kind::Object(object) => {
            let mut map = Map::new();
            for f in object.fields {
                if rng.below(8) != 0 {
                    map.insert(f.name.to_owned(), plausible(rng, &f.kind));
                }
            }
            if rng.below(10) == 0 {
                map.insert(rng.pick(STRINGS).to_string(), json!(1));
            }
            Value::Object(map)
        }
    }
}

/// The size the contract bounds: 8 for every value, plus string and key bytes.
fn size(value: &Value) -> usize {
    8 + match value {
        Value::String(s) => s.len(),
        Value::Array(items) => items.iter().map(size).sum::<usize>(),
        Value::Object(map) => map.iter().map(|(k, v)| k.len() + size(v)).sum::<usize>(),
        _ => 0,
    }
}

/// Whether the fields of `object` honour `params`: declared, present when required, each valid.
fn honours_fields(params: &[ParamSpec], object: &Map<String, Value>) -> bool {
    object
        .keys()
        .all(|k| params.iter().any(|p| p.name == k.as_str()))
        && params.iter().all(|p| match object.get(p.name) {
            None => !p.required && !matches!(p.kind, Kind::Confirm),
            Some(Value::Null) => {
                p.default.is_none() && !p.required && !matches!(p.kind, Kind::Confirm)
            }
            Some(v) => honours(&p.kind, v),
        })
}

/// Whether `v` passes every gate of `kind`.
fn honours(kind: &Kind, v: &Value) -> bool {
    match kind {
        Kind::Float { min, max, .. } => v.as_f64().is_some_and(|x| {
            !v.is_boolean()
                && x.is_finite()
                && min.is_none_or(|m| x >= m)
                && max.is_none_or(|m| x <= m)
        }),
        // An integer literal, never a float that happens to be whole.
        Kind::Int { min, max, .. } => v
            .as_i64()
            .map(i128::from)
            .or_else(|| v.as_u64().map(i128::from))
            .is_some_and(|x| (*min..=*max).contains(&x)),
        Kind::Bool => v.is_boolean(),
        Kind::Confirm => v == &Value::Bool(true),
        Kind::Choice { allow, .. } => v.as_str().is_some_and(|s| allow.contains(&s)),
        Kind::Text { max_len, invisible } => v.as_str().is_some_and(|s| {
            s.chars().count() <= *max_len
                && !s.chars().any(is_forbidden_char)
                && (*invisible || first_invisible(s).is_none())
        }),
        Kind::Url { max_len } | Kind::Path { max_len } => v.as_str().is_some_and(|s| {
            s.chars().count() <= *max_len
                && !s.chars().any(is_forbidden_char)
                && first_invisible(s).is_none()
        }),
        Kind::List {
            items,
            min_items,
            max_items,
            unique,
        } => v.as_array().is_some_and(|list| {
            (*min_items..=*max_items).contains(&list.len())
                && list.iter().all(|item| honours(items, item))
                && (!unique
                    || list
                        .iter()
                        .enumerate()
                        .all(|(i, a)| list[..i].iter().all(|b| a != b)))
        }),
        Kind::Object(object) => v
            .as_object()
            .is_some_and(|map| honours_fields(object.fields, map)),
    }
}

/// The contract, read from the spec independently of the runtime's validators.
fn honours_contract(spec: &ToolSpec, args: &Arguments) -> bool {
    let known = |k: &str| {
        spec.param(k).is_some() || (k == "token" && matches!(spec.access, Access::Scope(_)))
    };
    if !args.keys().all(|k| known(k)) {
        return false;
    }
    let mut fields = args.clone();
    fields.remove("token");
    let total = fields.iter().map(|(k, v)| k.len() + size(v)).sum::<usize>();
    total <= spec.max_size && honours_fields(spec.params, &fields)
}

/// Counts the audit records written, as a durable sink sees them.
#[derive(Clone, Default)]
struct Records(Arc<AtomicUsize>);

impl AuditSink for Records {
    fn write<'a>(&'a self, _: &'a AuditRecord) -> BoxFuture<'a, Result<(), AuditError>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok(()) })
    }
}

async fn explore<S: Tools>(server: Server<S>, seed: u64, rounds: usize, token: &str) {
    explore_with(server, seed, rounds, token, false).await;
}

/// With `exact`, a call that honours the contract must also run: no gate
/// refuses what the declaration allows (for tools whose bodies never refuse).
async fn explore_with<S: Tools>(
    server: Server<S>,
    seed: u64,
    rounds: usize,
    token: &str,
    exact: bool,
) {
    let records = Records::default();
    let server = server.with_audit_sink(records.clone());
    let mut rng = Rng(seed);
    let (mut ran, mut refused) = (0, 0);
    for spec in S::TOOLS {
        for _ in 0..rounds {
            let args = arbitrary_args(&mut rng, spec, token);
            let shown = Value::Object(args.clone()).to_string();
            let before = records.0.load(Ordering::SeqCst);
            let trace = server.call(spec.name, args.clone()).await;
            let written = records.0.load(Ordering::SeqCst) - before;
            // Refusals at the rate gate are gathered, one record per window.
            let gathered = trace.record.gate == Some("rate") && written == 0;
            assert!(
                written == 1 || gathered,
                "{}: {written} audit records for {shown:.300}",
                spec.name
            );
            if trace.executed {
                ran += 1;
                assert!(
                    honours_contract(spec, &args),
                    "{}: the body ran for {shown:.300}",
                    spec.name
                );
            } else if exact {
                refused += 1;
                assert!(
                    !honours_contract(spec, &args),
                    "{}: refused {shown:.300}: {:?}",
                    spec.name,
                    trace.record.reason
                );
            }
        }
    }
    if exact {
        // Both sides of the contract were explored.
        assert!(
            ran > rounds && refused > rounds,
            "{ran} ran, {refused} refused"
        );
    }
}

#[tokio::test]
async fn basic_server_under_arbitrary_arguments() {
    explore(
        Server::new(basic_server::BasicServer),
        0x5eed_0001,
        400,
        TEST_TOKEN,
    )
    .await;
}

/// Lists, nested objects, wire names and defaults: the reference servers'
/// tools, whose bodies never refuse, so the gates must refuse exactly what the
/// contract does.
#[tokio::test]
async fn reference_tools_under_arbitrary_arguments() {
    use reference_tools::{filesystem::Filesystem, git::Git, memory::Memory};
    explore_with(
        Server::new(Filesystem).with_subject_rate(None),
        0x5eed_0004,
        300,
        TEST_TOKEN,
        true,
    )
    .await;
    explore_with(
        Server::new(Memory).with_subject_rate(None),
        0x5eed_0005,
        300,
        TEST_TOKEN,
        true,
    )
    .await;
    explore_with(
        Server::new(Git).with_subject_rate(None),
        0x5eed_0006,
        300,
        TEST_TOKEN,
        true,
    )
    .await;
}

#[tokio::test]
async fn template_server_under_arbitrary_arguments() {
    explore(
        test_server::<template_server::TemplateServer>().await,
        0x5eed_0002,
        400,
        TEST_TOKEN,
    )
    .await;
}

#[tokio::test]
async fn doc_server_under_arbitrary_arguments() {
    let config = doc_server::demo::Config {
        demo: true,
        guards: Guards {
            consent_timeout: None,
            ..secure_tool::testing::test_guards()
        },
        // Thousands of calls from one subject: only the tools' own rates apply.
        subject_rate: None,
        ..doc_server::demo::Config::new(temp_sqlite_url("properties"))
    };
    let (server, _) = doc_server::demo::build(config).await.unwrap();
    // The demo cast's tokens: alice may do everything, so the bodies really run.
    explore(server, 0x5eed_0003, 200, doc_server::demo::USERS[0].token).await;
}

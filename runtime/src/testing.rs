//! Test support: log capture, and the probes behind the generated rejection tests.
//!
//! `#[secure_tool]` emits one `#[test]` per gate and parameter. Each calls
//! [`assert_rejects`] with a [`Probe`]; the probe builds hostile arguments from
//! the tool's own spec, runs the real generated handler, and asserts that the call
//! was refused at the expected gate for the expected field, that the body never
//! ran, and that exactly one WARNING line was emitted: the rejection's own.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Value, json};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

pub use crate::probe::{GeneratedTest, Probe};

use crate::auth::{StaticToken, StaticTokens};
#[cfg(feature = "rbac")]
use crate::authz::Authorizer;
use crate::pipeline::{Pipeline, TOKEN_FIELD, Tool};
use crate::reject::Gate;
use crate::schema::int_json;
use crate::server::Arguments;
use crate::spec::{Access, Kind, ParamSpec, ToolSpec};

/// The token generated tests send: it grants the tool's scope to a subject whose role permits it.
pub const TEST_TOKEN: &str = "secure-tool-test-token";
/// A token that verifies but lacks the tool's scope.
pub const UNSCOPED_TOKEN: &str = "secure-tool-unscoped-token";
/// A token with the scope whose subject has no role.
pub const ROLELESS_TOKEN: &str = "secure-tool-roleless-token";
/// The subject of [`TEST_TOKEN`] and [`UNSCOPED_TOKEN`].
pub const TESTER: &str = "secure-tool-tester";
/// The subject of [`ROLELESS_TOKEN`].
pub const NOBODY: &str = "secure-tool-nobody";
/// A token with the scope whose subject's role reaches only its own objects.
pub const OWN_ONLY_TOKEN: &str = "secure-tool-own-only-token";
/// The subject of [`OWN_ONLY_TOKEN`].
pub const OWNER: &str = "secure-tool-owner";

/// Records the log events of the current thread, for assertions on logs.
///
/// ```
/// use secure_tool::testing::Capture;
///
/// let capture = Capture::default();
/// {
///     let _guard = capture.enter();
///     tracing::warn!("careful");
/// }
/// tracing::warn!("not captured");
/// assert_eq!(capture.warnings(), vec!["careful".to_owned()]);
/// ```
///
/// `tracing` caches per call site whether any subscriber is interested, which
/// races when tests on several threads install and drop scoped subscribers.
/// So the first capture installs one process-wide subscriber that is always
/// interested and routes each event to the capture entered on its thread.
#[derive(Debug, Clone, Default)]
pub struct Capture {
    events: Arc<Mutex<Vec<(Level, String)>>>,
}

thread_local! {
    static CURRENT: std::cell::RefCell<Option<Capture>> = const { std::cell::RefCell::new(None) };
}

/// Restores the previously entered capture of this thread when dropped.
#[derive(Debug)]
#[must_use = "the capture ends when the guard is dropped"]
pub struct CaptureGuard {
    previous: Option<Capture>,
}

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|current| *current.borrow_mut() = previous);
    }
}

impl Capture {
    /// Captures this thread's events until the guard is dropped. Panics if a
    /// process-wide subscriber other than the capture router is installed.
    pub fn enter(&self) -> CaptureGuard {
        static ROUTER: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        let installed =
            *ROUTER.get_or_init(|| tracing::subscriber::set_global_default(Router).is_ok());
        assert!(
            installed,
            "another global tracing subscriber is installed; Capture cannot see events"
        );
        let previous = CURRENT.with(|current| current.borrow_mut().replace(self.clone()));
        CaptureGuard { previous }
    }

    /// Every event as `(level, message)`, in order.
    pub fn all(&self) -> Vec<(Level, String)> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The messages of every WARNING event, in order.
    pub fn warnings(&self) -> Vec<String> {
        self.at(Level::WARN)
    }

    /// The messages of the ERROR events captured so far.
    pub fn errors(&self) -> Vec<String> {
        self.at(Level::ERROR)
    }

    fn at(&self, wanted: Level) -> Vec<String> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(level, _)| *level == wanted)
            .map(|(_, line)| line.clone())
            .collect()
    }

    fn push(&self, event: &Event<'_>) {
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
}

/// The process-wide subscriber behind [`Capture`].
struct Router;

impl Subscriber for Router {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        CURRENT.with(|current| {
            if let Some(capture) = &*current.borrow() {
                capture.push(event);
            }
        });
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// A resolver that resolves nothing: generated tests never use DNS.
#[cfg(feature = "fetch")]
#[derive(Debug, Clone, Copy)]
pub struct NoDns;

#[cfg(feature = "fetch")]
impl crate::guards::ssrf::Resolve for NoDns {
    fn resolve<'a>(
        &'a self,
        _host: &'a str,
        _port: u16,
    ) -> crate::future::BoxFuture<'a, std::io::Result<Vec<std::net::SocketAddr>>> {
        Box::pin(async { Err(std::io::ErrorKind::NotFound.into()) })
    }
}

/// The guard configuration of tests: no DNS, and a connector that refuses
/// every address outside loopback, so a guard bug fails a test instead of
/// reaching a network.
pub fn test_guards() -> crate::pipeline::Guards {
    crate::pipeline::Guards {
        #[cfg(feature = "fetch")]
        fetch: crate::guards::ssrf::FetchPolicy {
            resolver: Arc::new(NoDns),
            connector: Arc::new(crate::guards::ssrf::LoopbackOnly),
            ..Default::default()
        },
        #[cfg(feature = "files")]
        files: crate::guards::path::Roots::open([probe_root()])
            .expect("the probe root is a directory"),
        consent_timeout: None,
    }
}

/// The root generated tests resolve `CheckedPath` arguments beneath: an empty
/// directory in the system's temporary directory.
#[cfg(feature = "files")]
pub fn probe_root() -> std::path::PathBuf {
    static ROOT: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    ROOT.get_or_init(|| {
        let root = std::env::temp_dir().join("secure-tool-probe-root");
        std::fs::create_dir_all(&root).expect("the probe root can be created");
        std::fs::canonicalize(&root).expect("the probe root exists")
    })
    .clone()
}

/// Paths every path guard must refuse, for a root at `root`.
#[cfg(feature = "files")]
pub fn paths_outside(root: &std::path::Path) -> Vec<String> {
    let root = root.display();
    vec![
        "../escape".to_owned(),
        "a/../../escape".to_owned(),
        "/etc/passwd".to_owned(),
        format!("{root}-sibling/file"),
        format!("{root}/../escape"),
        format!("{}/x", "c".repeat(256)),
    ]
}

/// URLs every SSRF guard must refuse.
pub const INTERNAL_URLS: &[&str] = &[
    "https://169.254.169.254/latest/meta-data/",
    "https://192.168.1.1/",
    "https://10.0.0.1/",
    "https://172.16.0.1/",
    "https://127.0.0.1/",
    "https://0.0.0.0/",
    "https://localhost/",
    "https://LOCALHOST./",
    "https://api.localhost/",
    "https://metadata.google.internal/",
    "https://[::1]/",
    "https://[::ffff:169.254.169.254]/",
    "https://[::ffff:7f00:1]/",
    "https://[::127.0.0.1]/",
    "https://[64:ff9b::a00:1]/",
    "https://[2002:a00:1::]/",
    "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
    "https://[fe80::1]/",
    "https://[fd00::1]/",
    "https://0x7f.1/",
    "https://2130706433/",
    "https://0177.0.0.1/",
    "https://127.1/",
    "https://100.64.0.1/",
    "http://93.184.215.14/",
    "file:///etc/passwd",
    "gopher://93.184.215.14/",
    "https://user:pass@93.184.215.14/",
    "https://unresolvable.invalid/",
];

/// The pipeline generated tests run: for a scoped tool, a token table and an
/// in-memory policy that let [`TEST_TOKEN`] through, and nothing else. There
/// is no per-subject rate limit; a tool's own `rate` applies.
pub async fn test_pipeline(server: &'static str, spec: &ToolSpec) -> Pipeline {
    match spec.access {
        Access::Scope(scope) => pipeline_granting(server, &[scope]).await,
        Access::Public => Pipeline::new(server)
            .with_guards(test_guards())
            .with_audit(unbounded_audit())
            .with_subject_rate(None),
    }
}

/// An audit trail that prints every refusal: a probe's many cases each
/// assert their own line, where a server would summarise a flood.
fn unbounded_audit() -> crate::audit::Audit {
    crate::audit::Audit::default().with_flood_limit(u32::MAX, crate::log::FLOOD_WINDOW)
}

/// Takes every token the tool's declared rate grants the test caller, each
/// through the pipeline's own limiter, so the next call is one too many.
async fn exhaust_rate(pipeline: &Pipeline, spec: &'static ToolSpec) {
    let rate = spec
        .rate
        .expect("OverRate is generated only for tools with a rate");
    let subject = match spec.access {
        Access::Scope(_) => TESTER,
        Access::Public => crate::auth::UNAUTHENTICATED,
    };
    for i in 0..rate.calls {
        if let Err(refused) = pipeline
            .limiter()
            .check(subject, spec.name, spec.rate)
            .await
        {
            panic!(
                "`{}` refused call {} of the {rate} it declares: {refused}",
                spec.name,
                i + 1
            );
        }
    }
}

/// A pipeline whose [`TEST_TOKEN`] carries every scope in `scopes`, for a
/// subject whose role permits them all; the other test tokens as above.
async fn pipeline_granting(server: &'static str, scopes: &[&str]) -> Pipeline {
    let entry = |subject: &str, scopes: Vec<String>| StaticToken {
        subject: subject.to_owned(),
        audience: server.to_owned(),
        expires_at: u64::MAX,
        scopes,
    };
    let all: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
    let tokens = StaticTokens::new(server)
        .with(TEST_TOKEN, entry(TESTER, all.clone()))
        .with(
            UNSCOPED_TOKEN,
            entry(TESTER, vec!["secure-tool:none".to_owned()]),
        )
        .with(ROLELESS_TOKEN, entry(NOBODY, all.clone()))
        .with(OWN_ONLY_TOKEN, entry(OWNER, all));
    let pipeline = Pipeline::new(server)
        .with_guards(test_guards())
        .with_audit(unbounded_audit())
        .with_subject_rate(None)
        .with_verifier(tokens);
    #[cfg(feature = "rbac")]
    let pipeline = pipeline.with_authorizer(authorizer_granting(scopes).await);
    pipeline
}

/// Policies in memory under which [`TESTER`]'s role may use every scope in `scopes`.
#[cfg(feature = "rbac")]
async fn authorizer_granting(scopes: &[&str]) -> Authorizer {
    let authorizer = Authorizer::in_memory().await;
    for scope in scopes {
        let (resource, action) = scope
            .split_once(':')
            .expect("scopes are checked at compile time");
        authorizer
            .grant("secure-tool-role", resource, action)
            .await
            .expect("memory policy");
        authorizer
            .grant_on(
                "secure-tool-own-role",
                resource,
                action,
                crate::state::Reach::Own,
            )
            .await
            .expect("memory policy");
    }
    authorizer
        .assign(TESTER, "secure-tool-role")
        .await
        .expect("memory policy");
    authorizer
        .assign(OWNER, "secure-tool-own-role")
        .await
        .expect("memory policy");
    authorizer
}

/// A server over `S` for tests of your own tools: [`TEST_TOKEN`] is granted
/// every scope `S` declares, policies live in memory, nothing is fetched.
///
#[cfg_attr(feature = "rbac", doc = "```")]
#[cfg_attr(not(feature = "rbac"), doc = "```ignore")]
/// use secure_tool::testing::{TEST_TOKEN, test_server};
/// use secure_tool::{Reject, secure_tool, server};
///
/// /// Doubles.
/// #[secure_tool(scope = "numbers:double", max = 100)]
/// fn double(x: i32) -> Result<i32, Reject> {
///     Ok(x * 2)
/// }
/// server!(Doubler { double });
///
/// # fn main() {
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let server = test_server::<Doubler>().await;
/// let args = serde_json::json!({"token": TEST_TOKEN, "x": 21});
/// let trace = server.call("double", args.as_object().unwrap().clone()).await;
/// assert_eq!(trace.result.structured_content, Some(serde_json::json!({"result": 42})));
/// # });
/// # }
/// ```
pub async fn test_server<S: crate::server::Tools>() -> crate::server::Server<S> {
    let scopes: Vec<&str> = S::TOOLS
        .iter()
        .filter_map(|spec| match spec.access {
            Access::Scope(scope) => Some(scope),
            Access::Public => None,
        })
        .collect();
    crate::server::Server::from_pipeline(pipeline_granting(S::NAME, &scopes).await)
}

/// A value that passes every gate of `param`.
pub fn valid_value(param: &ParamSpec) -> Value {
    valid_kind(&param.kind)
}

/// A value that passes every gate of `kind`; lists get their fewest items, at least one.
pub fn valid_kind(kind: &Kind) -> Value {
    nth_valid(kind, 0)
}

/// The `n`th of a series of distinct values that pass every gate of `kind`,
/// for lists that must hold several different items.
fn nth_valid(kind: &Kind, n: usize) -> Value {
    match *kind {
        Kind::Float { min, max, .. } => {
            json!((n as f64).clamp(min.unwrap_or(f64::MIN), max.unwrap_or(f64::MAX)))
        }
        Kind::Int { min, max, .. } => {
            let x = if min <= 0 && 0 <= max { 0 } else { min };
            int_json((x + n as i128).clamp(min, max))
        }
        Kind::Bool | Kind::Confirm => json!(n.is_multiple_of(2)),
        Kind::Text { max_len, .. } => {
            // "x", then "a", "b", … "ba", … : distinct, and short as can be.
            let mut text = String::new();
            let mut i = n;
            if n == 0 {
                text.push('x');
            }
            while i > 0 {
                text.insert(0, char::from(b'a' + (i % 26) as u8));
                i /= 26;
            }
            assert!(
                text.chars().count() <= max_len,
                "no {n}th distinct string fits {max_len} chars"
            );
            json!(text)
        }
        Kind::Choice { allow, .. } => json!(allow[n % allow.len()]),
        Kind::Url { .. } => json!("https://93.184.215.14/"),
        Kind::Path { .. } => json!("probe.txt"),
        Kind::List {
            items, min_items, ..
        } => list_of(items, min_items.max(1)),
        Kind::Object(object) => Value::Object(
            object
                .fields
                .iter()
                .map(|f| (f.name.to_owned(), nth_valid(&f.kind, n)))
                .collect(),
        ),
    }
}

/// `count` distinct valid items of `kind`.
fn list_of(kind: &Kind, count: usize) -> Value {
    Value::Array((0..count).map(|n| nth_valid(kind, n)).collect())
}

/// Arguments that pass every gate of the tool: the baseline each probe corrupts.
pub fn valid_args(spec: &ToolSpec) -> Arguments {
    let mut args: Arguments = spec
        .params
        .iter()
        .map(|p| (p.name.to_owned(), valid_value(p)))
        .collect();
    if let Access::Scope(_) = spec.access {
        args.insert(TOKEN_FIELD.to_owned(), json!(TEST_TOKEN));
    }
    args
}

/// One step of a probe's path: a field name or a list index.
#[derive(Debug, Clone, Copy)]
enum Step<'p> {
    Field(&'p str),
    Index(usize),
}

/// `edits[0].oldText` as its steps.
fn steps(path: &str) -> Vec<Step<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (name, mut rest) = part.split_once('[').map_or((part, ""), |(n, r)| (n, r));
        out.push(Step::Field(name));
        while let Some((index, tail)) = rest.split_once(']') {
            out.push(Step::Index(
                index.parse().expect("an index in a probe path"),
            ));
            rest = tail.strip_prefix('[').unwrap_or(tail);
        }
    }
    out
}

/// The kind of the value at `path`, and whether it must be present.
pub fn kind_at(spec: &ToolSpec, path: &str) -> (&'static Kind, bool) {
    let steps = steps(path);
    let Some(Step::Field(first)) = steps.first() else {
        panic!("`{path}` does not start with a parameter");
    };
    let p = param(spec, first);
    let (mut kind, mut required) = (&p.kind, p.required);
    for step in &steps[1..] {
        (kind, required) = match (step, kind) {
            (Step::Index(_), Kind::List { items, .. }) => (*items, true),
            (Step::Field(name), Kind::Object(object)) => {
                let field = object
                    .field(name)
                    .unwrap_or_else(|| panic!("`{path}`: no field `{name}`"));
                (&field.kind, field.required)
            }
            _ => panic!("`{path}` does not follow `{}`'s parameters", spec.name),
        };
    }
    (kind, required)
}

/// Sets (or with `None`, removes) the value at `path`.
fn set_at(args: &mut Arguments, path: &str, value: Option<Value>) {
    let steps = steps(path);
    let (last, parents) = steps.split_last().expect("a path has a step");
    let mut here: &mut Value = match parents.first() {
        Some(Step::Field(first)) => args
            .get_mut(*first)
            .unwrap_or_else(|| panic!("`{path}`: no `{first}` in the arguments")),
        _ => {
            let Step::Field(name) = last else {
                panic!("`{path}`")
            };
            match value {
                Some(v) => args.insert((*name).to_owned(), v),
                None => args.remove(*name),
            };
            return;
        }
    };
    for step in &parents[1..] {
        here = match step {
            Step::Field(name) => &mut here[*name],
            Step::Index(i) => &mut here[*i],
        };
    }
    match (last, value) {
        (Step::Field(name), Some(v)) => {
            here.as_object_mut()
                .expect("an object on the path")
                .insert((*name).to_owned(), v);
        }
        (Step::Field(name), None) => {
            here.as_object_mut()
                .expect("an object on the path")
                .remove(*name);
        }
        (Step::Index(i), Some(v)) => here[*i] = v,
        (Step::Index(_), None) => panic!("`{path}`: a list item cannot be left out"),
    }
}

fn param(spec: &ToolSpec, name: &str) -> &'static ParamSpec {
    spec.param(name)
        .unwrap_or_else(|| panic!("`{}` has no parameter `{name}`", spec.name))
}

/// The hostile argument sets of a probe, each with the gate and field that must refuse it.
pub fn cases(spec: &ToolSpec, probe: Probe) -> Vec<(Arguments, Gate, Option<String>)> {
    let base = valid_args(spec);
    let with = |path: &str, value: Value| {
        let mut args = base.clone();
        set_at(&mut args, path, Some(value));
        args
    };
    let expect = |path: &str, gate: Gate, values: Vec<Value>| {
        values
            .into_iter()
            .map(|v| (with(path, v), gate, Some(path.to_owned())))
            .collect::<Vec<_>>()
    };
    let kind = |path: &str| kind_at(spec, path).0;
    match probe {
        Probe::OutsideAllowlist(name) => {
            let Kind::Choice { allow, command } = *kind(name) else {
                panic!("`{name}` has no allowlist");
            };
            // A selector that feeds a command refuses metacharacters first;
            // those values belong to the `ShellMetacharacters` probe.
            let reaches_allowlist = |c: &String| {
                !command || crate::guards::command::check_metacharacters(name, c).is_ok()
            };
            let first = allow[0];
            let candidates = [
                first.to_uppercase(),
                format!("{first} "),
                String::new(),
                "__secure_tool_not_allowed".to_owned(),
            ];
            let values = candidates
                .into_iter()
                .filter(|c| !allow.contains(&c.as_str()) && reaches_allowlist(c))
                .map(Value::from)
                .collect();
            expect(name, Gate::Allowlist, values)
        }
        Probe::AboveMax(name) | Probe::BelowMin(name) => {
            let up = matches!(probe, Probe::AboveMax(_));
            let value = match *kind(name) {
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
            let (kind, required) = kind_at(spec, name);
            let mut values = match kind {
                Kind::Float { .. } => vec![json!("1"), json!(true), json!([1]), json!({"n": 1})],
                Kind::Int { .. } => vec![json!("1"), json!(true), json!(0.5), json!([1])],
                Kind::Bool | Kind::Confirm => vec![json!("true"), json!(1), json!([true])],
                Kind::Text { .. } | Kind::Choice { .. } | Kind::Url { .. } | Kind::Path { .. } => {
                    vec![json!(1), json!(true), json!(["x"]), json!({})]
                }
                Kind::List { .. } => vec![json!("x"), json!(1), json!({})],
                Kind::Object(_) => vec![json!("x"), json!(1), json!([])],
            };
            if required {
                values.push(Value::Null);
            }
            expect(name, Gate::Type, values)
        }
        Probe::OverMaxItems(name) | Probe::UnderMinItems(name) => {
            let Kind::List {
                items,
                min_items,
                max_items,
                ..
            } = *kind(name)
            else {
                panic!("`{name}` is not a list");
            };
            let count = if matches!(probe, Probe::OverMaxItems(_)) {
                max_items + 1
            } else {
                min_items - 1
            };
            expect(name, Gate::Length, vec![list_of(items, count)])
        }
        Probe::DuplicateItems(name) => {
            let Kind::List {
                items, min_items, ..
            } = *kind(name)
            else {
                panic!("`{name}` is not a list");
            };
            // Enough items for the length gate, the last repeating the first.
            let count = min_items.max(2);
            let Value::Array(mut list) = list_of(items, count - 1) else {
                unreachable!("a list")
            };
            list.push(list[0].clone());
            let args = with(name, Value::Array(list));
            vec![(args, Gate::Unique, Some(format!("{name}[{}]", count - 1)))]
        }
        Probe::UnknownFieldIn(name) => {
            let field = format!("{name}.__secure_tool_unknown");
            let mut args = base.clone();
            set_at(&mut args, &field, Some(json!(1)));
            vec![(args, Gate::UnknownField, Some(field))]
        }
        Probe::OverSize => {
            let mut args = base.clone();
            args.insert(
                "__secure_tool_padding".to_owned(),
                json!("x".repeat(spec.max_size)),
            );
            vec![(args, Gate::Size, None)]
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
            ];
            expect(name, Gate::Control, within_bound(kind(name), &values))
        }
        Probe::InvisibleChars(name) => {
            // Zero-width space, soft hyphen, tag characters spelling "hi", a
            // BOM, a word joiner, a zero-width joiner between two letters.
            let values = [
                "zero\u{200b}width",
                "pay\u{ad}ment",
                "\u{e0068}\u{e0069}",
                "\u{feff}",
                "a\u{2060}b",
                "a\u{200d}b",
            ];
            expect(name, Gate::Control, within_bound(kind(name), &values))
        }
        Probe::OverLength(name) => {
            let (Kind::Text { max_len, .. } | Kind::Url { max_len } | Kind::Path { max_len }) =
                *kind(name)
            else {
                panic!("`{name}` is not a string");
            };
            expect(name, Gate::Length, vec![json!("x".repeat(max_len + 1))])
        }
        Probe::OverRate => vec![(base.clone(), Gate::Rate, None)],
        Probe::UnknownField => {
            let mut args = base.clone();
            args.insert("__secure_tool_unknown".to_owned(), json!(1));
            vec![(
                args,
                Gate::UnknownField,
                Some("__secure_tool_unknown".to_owned()),
            )]
        }
        Probe::Missing(name) => {
            let mut args = base.clone();
            set_at(&mut args, name, None);
            vec![(args, Gate::MissingField, Some(name.to_owned()))]
        }
        Probe::NoConfirm => {
            let mut absent = base.clone();
            absent.remove("confirm");
            let field = Some("confirm".to_owned());
            vec![
                (absent, Gate::Confirm, field.clone()),
                (with("confirm", json!(false)), Gate::Confirm, field),
            ]
        }
        Probe::NoToken => {
            let mut args = base.clone();
            args.remove(TOKEN_FIELD);
            vec![(args, Gate::Auth, Some(TOKEN_FIELD.to_owned()))]
        }
        Probe::UnknownToken => {
            let field = Some(TOKEN_FIELD.to_owned());
            vec![
                (
                    with(TOKEN_FIELD, json!("forged-token")),
                    Gate::Auth,
                    field.clone(),
                ),
                (with(TOKEN_FIELD, json!(42)), Gate::Auth, field),
            ]
        }
        Probe::ShellMetacharacters(name) => {
            let values = [
                "words; rm -rf ~",
                "$(id)",
                "`id`",
                "a|b",
                "a && b",
                "x>y",
                "a\nb",
            ]
            .into_iter()
            .map(Value::from)
            .collect();
            expect(name, Gate::Command, values)
        }
        Probe::OutsideRoots(name) => {
            #[cfg(feature = "files")]
            let values: Vec<Value> = {
                let Kind::Path { max_len } = *kind(name) else {
                    panic!("`{name}` is not a path");
                };
                paths_outside(&probe_root())
                    .into_iter()
                    .filter(|p| p.chars().count() <= max_len)
                    .map(Value::from)
                    .collect()
            };
            #[cfg(not(feature = "files"))]
            let values: Vec<Value> = Vec::new();
            expect(name, Gate::Path, values)
        }
        Probe::InternalUrl(name) => {
            let values = INTERNAL_URLS.iter().copied().map(Value::from).collect();
            expect(name, Gate::Ssrf, values)
        }
        Probe::TokenWithoutScope => {
            vec![(with(TOKEN_FIELD, json!(UNSCOPED_TOKEN)), Gate::Scope, None)]
        }
        Probe::RoleDenied => vec![(with(TOKEN_FIELD, json!(ROLELESS_TOKEN)), Gate::Role, None)],
        Probe::OwnOnly => vec![(with(TOKEN_FIELD, json!(OWN_ONLY_TOKEN)), Gate::Role, None)],
    }
}

/// `values` as JSON strings, each cut to its refused character when it
/// would not fit the string's bound: the character is what is refused.
fn within_bound(kind: &Kind, values: &[&str]) -> Vec<Value> {
    let (Kind::Text { max_len, .. } | Kind::Url { max_len } | Kind::Path { max_len }) = *kind
    else {
        panic!("not a string: {kind:?}");
    };
    values
        .iter()
        .map(|v| {
            if v.chars().count() <= max_len {
                Value::from(*v)
            } else {
                Value::from(
                    v.chars()
                        .filter(|&c| {
                            crate::validate::is_forbidden_char(c)
                                || crate::validate::is_invisible(c)
                        })
                        .take(1)
                        .collect::<String>(),
                )
            }
        })
        .collect()
}

/// Runs one call of the named tool through a pipeline: [`run_tool`] for one
/// tool type, or [`run_named`] through a server's literal dispatch.
pub type Runner = for<'a> fn(
    &'a Pipeline,
    &'static str,
    Arguments,
) -> crate::future::BoxFuture<'a, crate::pipeline::Trace>;

/// A [`Runner`] for the tool `T` (the name is `T`'s own).
pub fn run_tool<'a, T: Tool>(
    pipeline: &'a Pipeline,
    _name: &'static str,
    args: Arguments,
) -> crate::future::BoxFuture<'a, crate::pipeline::Trace> {
    Box::pin(pipeline.run::<T>(args, crate::server::Request::default()))
}

/// A [`Runner`] through the server `S`'s dispatch.
pub fn run_named<'a, S: crate::server::Tools>(
    pipeline: &'a Pipeline,
    name: &'static str,
    args: Arguments,
) -> crate::future::BoxFuture<'a, crate::pipeline::Trace> {
    Box::pin(S::dispatch(
        pipeline,
        name,
        args,
        crate::server::Request::default(),
    ))
}

/// Runs a probe against a tool through the full pipeline and asserts that
/// every case is refused at the right gate for the right field, before the
/// body, with exactly one WARNING line: the audit line of that refusal.
/// Panics with a description of the first case that is not.
pub fn assert_rejects<T: Tool>(server: &'static str, probe: Probe) {
    block_on(assert_probe(server, T::SPEC, probe, run_tool::<T>));
}

/// [`assert_rejects`] through any runner.
pub async fn assert_probe(
    server: &'static str,
    spec: &'static ToolSpec,
    probe: Probe,
    run: Runner,
) {
    let cases = cases(spec, probe);
    assert!(
        !cases.is_empty(),
        "{probe:?} produced no case for `{}`",
        spec.name
    );
    let pipeline = test_pipeline(server, spec).await;
    if matches!(probe, Probe::OverRate) {
        exhaust_rate(&pipeline, spec).await;
    }
    for (args, gate, field) in cases {
        let shown = crate::log::render_value(&Value::Object(args.clone()));
        let capture = Capture::default();
        let trace = {
            let _guard = capture.enter();
            run(&pipeline, spec.name, args).await
        };
        let record = &trace.record;
        assert_eq!(
            record.gate,
            Some(gate.as_str()),
            "{probe:?}: wrong gate for {shown}: {record:?}"
        );
        assert_eq!(record.field, field, "{probe:?}: wrong field for {shown}");
        assert!(!trace.executed, "{probe:?}: the body ran for {shown}");
        assert_eq!(
            trace.result.is_error,
            Some(true),
            "{probe:?}: result not marked as an error"
        );
        assert_eq!(
            capture.warnings(),
            vec![record.log_line()],
            "{probe:?}: expected exactly one WARNING line for {shown}"
        );
    }
}

/// The WARNING line the first case of `probe` produces: what the threat model
/// shows, rendered by the code that emits it.
pub async fn probe_log_line(
    server: &'static str,
    spec: &'static ToolSpec,
    probe: Probe,
    run: Runner,
) -> String {
    let (args, _, _) = cases(spec, probe)
        .into_iter()
        .next()
        .expect("every probe has a case");
    let pipeline = test_pipeline(server, spec).await;
    if matches!(probe, Probe::OverRate) {
        exhaust_rate(&pipeline, spec).await;
    }
    run(&pipeline, spec.name, args).await.record.log_line()
}

fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime builds")
        .block_on(future)
}

//! Secret redaction for text leaving the server: tool output, error messages
//! and audit records.
//!
//! Every kind is one alternative of a single regex, so a text is scanned once
//! for all kinds; the capture group that matched names the kind. Each match
//! becomes `[REDACTED:<kind>]` and one finding.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::{Regex, RegexSet};

/// Text with its secrets replaced by `[REDACTED:<kind>]`, and one finding per redaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redacted {
    /// The redacted text.
    pub text: String,
    /// One `secret:redacted <kind>` entry per redaction, in order of appearance.
    pub findings: Vec<String>,
}

/// Every secret kind the redactor knows, as `(kind, pattern)`. Order matters
/// where two kinds can match at the same place: the more specific comes first.
pub const KINDS: &[(&str, &str)] = &[
    // Keys and blocks with unmistakable framing.
    (
        "private_key",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----",
    ),
    (
        "jwt",
        r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}",
    ),
    // Cloud providers.
    ("aws_access_key", r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
    (
        "aws_secret_key",
        r#"(?i)\baws_?secret_?(?:access_?)?key\b["']?\s*[:=]\s*["']?[A-Za-z0-9/+]{40}\b"#,
    ),
    ("gcp_api_key", r"\bAIza[0-9A-Za-z_-]{35}\b"),
    (
        "gcp_service_account_key",
        r#""private_key_id"\s*:\s*"[0-9a-f]{40}""#,
    ),
    (
        "google_oauth_client_secret",
        r"\bGOCSPX-[A-Za-z0-9_-]{28}\b",
    ),
    (
        "azure_connection_string",
        r"(?i)\bDefaultEndpointsProtocol=https?;AccountName=[^;\s]+;AccountKey=[A-Za-z0-9+/=]{20,}(?:;EndpointSuffix=[^;\s]+)?",
    ),
    ("azure_storage_key", r"(?i)\bAccountKey=[A-Za-z0-9+/]{86}=="),
    (
        "azure_sas_token",
        r"\bsv=\d{4}-\d{2}-\d{2}&[^\s]*?\bsig=[A-Za-z0-9%+/]{20,}={0,2}",
    ),
    ("digitalocean_token", r"\bdo[por]_v1_[a-f0-9]{64}\b"),
    ("databricks_token", r"\bdapi[a-f0-9]{32}\b"),
    // Source hosting and package registries.
    (
        "github_fine_grained_token",
        r"\bgithub_pat_[A-Za-z0-9_]{82}\b",
    ),
    ("github_token", r"\bgh[pousr]_[A-Za-z0-9]{36,76}\b"),
    (
        "gitlab_token",
        r"\bgl(?:pat|rt|dt|ptt|soat)-[A-Za-z0-9_-]{20,}\b",
    ),
    ("npm_token", r"\bnpm_[A-Za-z0-9]{36}\b"),
    ("pypi_token", r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}\b"),
    ("huggingface_token", r"\bhf_[A-Za-z0-9]{34,}\b"),
    // Messaging and SaaS.
    (
        "slack_webhook",
        r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/+-]{20,}",
    ),
    (
        "slack_app_token",
        r"\bxapp-\d-[A-Z0-9]+-\d+-[a-f0-9]{32,}\b",
    ),
    (
        "slack_bot_token",
        r"\bxoxb-[0-9]{8,13}-[0-9]{8,13}-[A-Za-z0-9]{20,}\b",
    ),
    ("slack_token", r"\bxox[aposr]-[0-9A-Za-z-]{10,}\b"),
    (
        "discord_webhook",
        r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_-]{40,}",
    ),
    ("telegram_bot_token", r"\b\d{8,10}:AA[0-9A-Za-z_-]{33}\b"),
    (
        "stripe_secret_key",
        r"\bsk_(?:live|test)_[0-9A-Za-z]{24,}\b",
    ),
    (
        "stripe_restricted_key",
        r"\brk_(?:live|test)_[0-9A-Za-z]{24,}\b",
    ),
    ("stripe_webhook_secret", r"\bwhsec_[0-9A-Za-z]{32,}\b"),
    (
        "sendgrid_api_key",
        r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b",
    ),
    ("twilio_api_key", r"\bSK[0-9a-fA-F]{32}\b"),
    ("mailgun_api_key", r"\bkey-[0-9a-zA-Z]{32}\b"),
    ("shopify_token", r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b"),
    ("square_token", r"\bsq0(?:atp|csp)-[0-9A-Za-z_-]{22,43}\b"),
    // AI providers.
    (
        "anthropic_api_key",
        r"\bsk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{32,}",
    ),
    (
        "openai_api_key",
        r"\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}|\bsk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}\b",
    ),
    (
        "age_secret_key",
        r"\bAGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}\b",
    ),
    // Credentials inside URLs and connection strings.
    (
        "postgres_connection_string",
        r"\bpostgres(?:ql)?://[^\s:@/]+:[^\s@/]+@[^\s'\x22<>]+",
    ),
    (
        "mysql_connection_string",
        r"\bmysql(?:x)?://[^\s:@/]+:[^\s@/]+@[^\s'\x22<>]+",
    ),
    (
        "mongodb_connection_string",
        r"\bmongodb(?:\+srv)?://[^\s:@/]+:[^\s@/]+@[^\s'\x22<>]+",
    ),
    (
        "redis_connection_string",
        r"\brediss?://[^\s:@/]*:[^\s@/]+@[^\s'\x22<>]+",
    ),
    (
        "amqp_connection_string",
        r"\bamqps?://[^\s:@/]+:[^\s@/]+@[^\s'\x22<>]+",
    ),
    (
        "url_credentials",
        r"\b[a-z][a-z0-9+.-]{1,20}://[^\s:@/]+:[^\s@/]+@[^\s'\x22<>]+",
    ),
    // Headers and assignments.
    ("bearer_token", r"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]{20,}=*"),
    (
        "basic_auth",
        r"(?i)\bauthorization:\s*basic\s+[A-Za-z0-9+/]{12,}={0,2}",
    ),
    (
        "api_key_assignment",
        r#"(?i)\b(?:api[_-]?key|apikey|access[_-]?token|auth[_-]?token|client[_-]?secret|secret[_-]?key)\b["']?\s*[:=]\s*["']?[^\s"',;()]{8,}"#,
    ),
    (
        "password_assignment",
        r#"(?i)\b(?:password|passwd|pwd)\b["']?\s*[:=]\s*["']?[^\s"',;&()]{4,}"#,
    ),
];

/// A necessary condition for a pattern to match: one of `any` occurs in the
/// text (compared ignoring ASCII case when `ignore_case`).
#[derive(Debug, Clone, Copy)]
pub struct Needs {
    /// The literals, one of which every match contains.
    pub any: &'static [&'static str],
    /// Whether the pattern matches them in any case.
    pub ignore_case: bool,
}

const fn cs(any: &'static [&'static str]) -> Needs {
    Needs {
        any,
        ignore_case: false,
    }
}

const fn ci(any: &'static [&'static str]) -> Needs {
    Needs {
        any,
        ignore_case: true,
    }
}

/// URL userinfo (`scheme://user:pass@host`) needs both of these.
const USERINFO: &[Needs] = &[cs(&["://"]), cs(&["@"])];
/// Keyword assignments need an assignment sign.
const ASSIGN: Needs = cs(&[":", "="]);

/// For each kind, in the order of [`KINDS`], literals every match contains:
/// all of the groups, one literal of each. Text that satisfies no kind's
/// groups holds no secret, and one literal scan proves it without running the
/// regex. `tests/secrets.rs` checks every sample satisfies its kind's groups.
pub const REQUIRED: &[(&str, &[Needs])] = &[
    ("private_key", &[cs(&["-----BEGIN "])]),
    ("jwt", &[cs(&["eyJ"])]),
    ("aws_access_key", &[cs(&["AKIA", "ASIA", "ABIA", "ACCA"])]),
    ("aws_secret_key", &[ci(&["aws"]), ci(&["secret"]), ASSIGN]),
    ("gcp_api_key", &[cs(&["AIza"])]),
    ("gcp_service_account_key", &[cs(&["\"private_key_id\""])]),
    ("google_oauth_client_secret", &[cs(&["GOCSPX-"])]),
    (
        "azure_connection_string",
        &[ci(&["defaultendpointsprotocol="])],
    ),
    ("azure_storage_key", &[ci(&["accountkey="])]),
    ("azure_sas_token", &[cs(&["sv="]), cs(&["sig="])]),
    ("digitalocean_token", &[cs(&["_v1_"])]),
    ("databricks_token", &[cs(&["dapi"])]),
    ("github_fine_grained_token", &[cs(&["github_pat_"])]),
    (
        "github_token",
        &[cs(&["ghp_", "gho_", "ghu_", "ghs_", "ghr_"])],
    ),
    (
        "gitlab_token",
        &[cs(&["glpat-", "glrt-", "gldt-", "glptt-", "glsoat-"])],
    ),
    ("npm_token", &[cs(&["npm_"])]),
    ("pypi_token", &[cs(&["pypi-AgEIcHlwaS5vcmc"])]),
    ("huggingface_token", &[cs(&["hf_"])]),
    ("slack_webhook", &[cs(&["https://hooks.slack.com/"])]),
    ("slack_app_token", &[cs(&["xapp-"])]),
    ("slack_bot_token", &[cs(&["xoxb-"])]),
    (
        "slack_token",
        &[cs(&["xoxa-", "xoxp-", "xoxo-", "xoxs-", "xoxr-"])],
    ),
    ("discord_webhook", &[cs(&["/api/webhooks/"])]),
    ("telegram_bot_token", &[cs(&[":AA"])]),
    ("stripe_secret_key", &[cs(&["sk_live_", "sk_test_"])]),
    ("stripe_restricted_key", &[cs(&["rk_live_", "rk_test_"])]),
    ("stripe_webhook_secret", &[cs(&["whsec_"])]),
    ("sendgrid_api_key", &[cs(&["SG."])]),
    ("twilio_api_key", &[cs(&["SK"])]),
    ("mailgun_api_key", &[cs(&["key-"])]),
    (
        "shopify_token",
        &[cs(&["shpat_", "shpca_", "shppa_", "shpss_"])],
    ),
    ("square_token", &[cs(&["sq0atp-", "sq0csp-"])]),
    ("anthropic_api_key", &[cs(&["sk-ant-"])]),
    (
        "openai_api_key",
        &[cs(&["sk-proj-", "sk-svcacct-", "sk-admin-", "T3BlbkFJ"])],
    ),
    ("age_secret_key", &[cs(&["AGE-SECRET-KEY-1"])]),
    ("postgres_connection_string", USERINFO),
    ("mysql_connection_string", USERINFO),
    ("mongodb_connection_string", USERINFO),
    ("redis_connection_string", USERINFO),
    ("amqp_connection_string", USERINFO),
    ("url_credentials", USERINFO),
    ("bearer_token", &[ci(&["bearer"])]),
    ("basic_auth", &[ci(&["authorization:"]), ci(&["basic"])]),
    (
        "api_key_assignment",
        &[ci(&["key", "token", "secret"]), ASSIGN],
    ),
    (
        "password_assignment",
        &[ci(&["password", "passwd", "pwd"]), ASSIGN],
    ),
];

/// Finds which [`REQUIRED`] literals occur. The literals, lowercased, are
/// searched in an ASCII-lowercased copy of the text by regexes of a few plain
/// literals each (small sets keep the engine on its SIMD literal search, which
/// case-insensitive literals or large sets would defeat); at each position where one starts, every literal
/// is compared against the original text with its own case rule, so
/// literals that share a start are all seen. Single characters (`:`, `=`, `@`) are common and would
/// stop the search everywhere; they are looked up only for a kind whose other
/// literals all occurred.
struct Prefilter {
    starts: Vec<Regex>,
    /// The scanned literals and whether each ignores ASCII case.
    literals: Vec<(&'static str, bool)>,
    /// The literals by their first byte, lowercased.
    by_first: Vec<Vec<usize>>,
    /// A bit per pair of bytes, lowercased, that may start a literal: most
    /// positions of a short text are passed over on one lookup.
    pairs: Vec<u64>,
    /// Per kind, per group: its alternatives.
    kinds: Vec<Vec<Vec<Literal>>>,
}

/// Texts up to this many bytes are prefiltered by a direct scan.
const SHORT_TEXT: usize = 128;

/// How many literals one scan searches for.
const LITERALS_PER_SCAN: usize = 12;

#[derive(Clone, Copy)]
enum Literal {
    /// Found by the scan: an index into `literals`.
    Scanned(usize),
    /// A single character, looked up on demand.
    Char(char),
}

impl Prefilter {
    fn new() -> Self {
        let mut literals: Vec<(&'static str, bool)> = Vec::new();
        let kinds = REQUIRED
            .iter()
            .map(|(_, groups)| {
                groups
                    .iter()
                    .map(|needs| {
                        needs
                            .any
                            .iter()
                            .map(|&l| {
                                let mut chars = l.chars();
                                match (chars.next(), chars.next()) {
                                    (Some(c), None) if !needs.ignore_case => Literal::Char(c),
                                    _ => {
                                        let key = (l, needs.ignore_case);
                                        let i = literals.iter().position(|k| *k == key);
                                        Literal::Scanned(i.unwrap_or_else(|| {
                                            literals.push(key);
                                            literals.len() - 1
                                        }))
                                    }
                                }
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let mut lowered: Vec<String> = literals
            .iter()
            .map(|(l, _)| regex::escape(&l.to_ascii_lowercase()))
            .collect();
        lowered.sort();
        lowered.dedup();
        let starts = lowered
            .chunks(LITERALS_PER_SCAN)
            .map(|chunk| Regex::new(&chunk.join("|")).expect("literal patterns compile"))
            .collect();
        let mut by_first = vec![Vec::new(); 256];
        let mut pairs = vec![0u64; 65536 / 64];
        for (i, (literal, _)) in literals.iter().enumerate() {
            let bytes = literal.as_bytes();
            let first = bytes[0].to_ascii_lowercase();
            by_first[usize::from(first)].push(i);
            // A one-byte literal may start a pair with any second byte.
            let seconds = match bytes.get(1) {
                Some(second) => vec![second.to_ascii_lowercase()],
                None => (0..=u8::MAX).collect(),
            };
            for second in seconds {
                let pair = usize::from(u16::from_be_bytes([first, second]));
                pairs[pair / 64] |= 1 << (pair % 64);
            }
        }
        Self {
            starts,
            literals,
            by_first,
            pairs,
            kinds,
        }
    }

    /// Marks in `seen` each literal that starts `rest` (whose first byte,
    /// lowercased, is `first`); whether any was not seen before.
    fn mark(&self, rest: &[u8], first: u8, seen: &mut [bool]) -> bool {
        let mut new = false;
        for &i in &self.by_first[usize::from(first)] {
            let (literal, fold) = self.literals[i];
            let head = &rest[..literal.len().min(rest.len())];
            let here = if fold {
                head.eq_ignore_ascii_case(literal.as_bytes())
            } else {
                head == literal.as_bytes()
            };
            new |= here && !seen[i];
            seen[i] |= here;
        }
        new
    }

    /// [`Self::possible`] for a short text (an argument, a refusal's reason):
    /// every position is tried against the literals that start with its
    /// byte, without the copy and the scans that pay off on long texts.
    fn possible_short(&self, text: &str, seen: &mut [bool]) -> bool {
        let bytes = text.as_bytes();
        let mut chars = Vec::new();
        for (at, byte) in bytes.iter().enumerate() {
            let first = byte.to_ascii_lowercase();
            // The text's last byte pairs with none: the sentinel 0 stands in,
            // and only a one-byte literal sets every pair of its byte.
            let second = bytes.get(at + 1).map_or(0, u8::to_ascii_lowercase);
            let pair = usize::from(u16::from_be_bytes([first, second]));
            if self.pairs[pair / 64] & (1 << (pair % 64)) == 0 {
                continue;
            }
            // Literals are ASCII: only ASCII bytes (char boundaries) start one.
            let new = self.mark(&bytes[at..], first, seen);
            if new && self.satisfied(text, seen, &mut chars) {
                return true;
            }
        }
        false
    }

    /// Whether any kind could match somewhere in `text`.
    fn possible(&self, text: &str) -> bool {
        let mut seen = vec![false; self.literals.len()];
        if text.len() <= SHORT_TEXT {
            self.possible_short(text, &mut seen)
        } else {
            self.possible_scanned(text, &mut seen)
        }
    }

    /// [`Self::possible`] by scans for the literals, on a lowercased copy.
    fn possible_scanned(&self, text: &str, seen: &mut [bool]) -> bool {
        // Lowercasing ASCII keeps every byte offset and char boundary.
        let lower = text.to_ascii_lowercase();
        let mut chars = Vec::new();
        for starts in &self.starts {
            let mut at = 0;
            while let Some(m) = starts.find_at(&lower, at) {
                let rest = &text.as_bytes()[m.start()..];
                let new = self.mark(rest, lower.as_bytes()[m.start()], seen);
                // Text with secrets usually shows one early: stop there.
                if new && self.satisfied(text, seen, &mut chars) {
                    return true;
                }
                // Resume one char on: literals may overlap.
                at = m.start() + text[m.start()..].chars().next().map_or(1, char::len_utf8);
            }
        }
        false
    }

    /// Whether the literals seen so far satisfy every group of some kind.
    /// `chars` remembers which single characters the text holds.
    fn satisfied(&self, text: &str, seen: &[bool], chars: &mut Vec<(char, bool)>) -> bool {
        let mut present = |literal: &Literal| match *literal {
            Literal::Scanned(i) => seen[i],
            Literal::Char(c) => match chars.iter().find(|(k, _)| *k == c) {
                Some(&(_, held)) => held,
                None => {
                    let held = text.contains(c);
                    chars.push((c, held));
                    held
                }
            },
        };
        self.kinds
            .iter()
            .any(|groups| groups.iter().all(|any| any.iter().any(&mut present)))
    }
}

/// One regex finds every secret in a single pass; a set of the same patterns,
/// anchored, then names the kind of each (short) match. Resolving the kind
/// with capture groups instead would run a slow engine over every match.
/// A literal prefilter first skips text in which no kind can match.
struct Redactor {
    prefilter: Prefilter,
    regex: Regex,
    kinds: RegexSet,
}

static REDACTOR: LazyLock<Redactor> = LazyLock::new(|| {
    let alternatives: Vec<String> = KINDS
        .iter()
        .map(|(_, pattern)| format!("(?:{})", ascii_boundaries(pattern)))
        .collect();
    let regex = Regex::new(&alternatives.join("|")).expect("the secret patterns compile");
    let anchored = KINDS
        .iter()
        .map(|(_, pattern)| format!("^(?:{})$", ascii_boundaries(pattern)));
    let kinds = RegexSet::new(anchored).expect("the secret patterns compile");
    Redactor {
        prefilter: Prefilter::new(),
        regex,
        kinds,
    }
});

/// `\b` as an ASCII word boundary: Unicode boundaries would push the regex
/// engine off its DFA whenever the text holds a non-ASCII character.
fn ascii_boundaries(pattern: &str) -> String {
    pattern.replace(r"\b", r"(?-u:\b)")
}

/// Redacts every known secret kind in one pass over `text`.
pub fn redact(text: &str) -> Redacted {
    match redact_cow(text) {
        (Cow::Borrowed(text), findings) => Redacted {
            text: text.to_owned(),
            findings,
        },
        (Cow::Owned(text), findings) => Redacted { text, findings },
    }
}

/// [`redact`] without copying text that holds no secret.
pub fn redact_cow(text: &str) -> (Cow<'_, str>, Vec<String>) {
    // The secrets this process registered go first, whatever their shape.
    if let Some(registered) = registered::current()
        && let Some((scrubbed, mut findings)) = registered.scrub(text)
    {
        let (text, more) = redact_kinds(&scrubbed);
        findings.extend(more);
        return (Cow::Owned(text.into_owned()), findings);
    }
    redact_kinds(text)
}

fn redact_kinds(text: &str) -> (Cow<'_, str>, Vec<String>) {
    let Redactor {
        prefilter,
        regex,
        kinds,
    } = &*REDACTOR;
    let mut findings = Vec::new();
    if !prefilter.possible(text) {
        return (Cow::Borrowed(text), findings);
    }
    let mut out = String::new();
    let mut last = 0;
    for m in regex.find_iter(text) {
        // Leftmost-first: the earliest kind that matches exactly this span is
        // the alternative that produced it.
        let Some(index) = kinds.matches(m.as_str()).iter().next() else {
            continue;
        };
        let kind = KINDS[index].0;
        if is_code(kind, text, m.end()) {
            continue;
        }
        out.push_str(&text[last..m.start()]);
        out.push_str("[REDACTED:");
        out.push_str(kind);
        out.push(']');
        last = m.end();
        findings.push(format!("secret:redacted {kind}"));
    }
    if findings.is_empty() {
        return (Cow::Borrowed(text), findings);
    }
    out.push_str(&text[last..]);
    (Cow::Owned(out), findings)
}

pub use registered::{MIN_REGISTERED_BYTES, RegisterError, register, register_env};

/// Secrets a server holds and registers (the keys it calls upstream services
/// with, database passwords, keys from its environment): their exact values
/// and their common encodings never leave in an output or a log line,
/// whatever their shape. Registration is for the whole process.
mod registered {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, PoisonError, RwLock};

    use aho_corasick::{AhoCorasick, MatchKind};

    /// The shortest value accepted: a shorter one would be scrubbed out of
    /// ordinary words, and is no secret worth the name.
    pub const MIN_REGISTERED_BYTES: usize = 8;

    /// Why a value was not registered.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct RegisterError(String);

    impl std::fmt::Display for RegisterError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0)
        }
    }

    impl std::error::Error for RegisterError {}

    pub(super) struct Registered {
        values: Vec<String>,
        matcher: AhoCorasick,
    }

    static ANY: AtomicBool = AtomicBool::new(false);
    static REGISTERED: RwLock<Option<Arc<Registered>>> = RwLock::new(None);

    pub(super) fn current() -> Option<Arc<Registered>> {
        if !ANY.load(Ordering::Acquire) {
            return None;
        }
        REGISTERED
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Scrubs `value`, and its JSON-escaped, percent-encoded, hex and
    /// base64 forms (standard and URL-safe, at every alignment), from every
    /// text [`redact`](super::redact) sees from now on: tool output,
    /// structured content, refusals and audit records. Values shorter than
    /// [`MIN_REGISTERED_BYTES`] are refused.
    pub fn register(value: &str) -> Result<(), RegisterError> {
        if value.len() < MIN_REGISTERED_BYTES {
            return Err(RegisterError(format!(
                "a registered secret needs at least {MIN_REGISTERED_BYTES} bytes, this one has {}",
                value.len()
            )));
        }
        let mut slot = REGISTERED.write().unwrap_or_else(PoisonError::into_inner);
        let mut values = slot.as_ref().map_or_else(Vec::new, |r| r.values.clone());
        if values.iter().any(|v| v == value) {
            return Ok(());
        }
        values.push(value.to_owned());
        let mut forms: Vec<String> = values.iter().flat_map(|v| forms(v)).collect();
        forms.sort();
        forms.dedup();
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&forms)
            .map_err(|e| RegisterError(format!("cannot search for registered secrets: {e}")))?;
        *slot = Some(Arc::new(Registered { values, matcher }));
        ANY.store(true, Ordering::Release);
        Ok(())
    }

    /// Registers the value of each environment variable of `names` that is
    /// set; how many were. A set value shorter than [`MIN_REGISTERED_BYTES`]
    /// is an error naming the variable, never its value.
    pub fn register_env(names: &[&str]) -> Result<usize, RegisterError> {
        let mut count = 0;
        for name in names {
            let Some(value) = std::env::var_os(name) else {
                continue;
            };
            let value = value.to_string_lossy();
            register(&value).map_err(|e| RegisterError(format!("{name}: {e}")))?;
            count += 1;
        }
        Ok(count)
    }

    impl Registered {
        /// `text` with every registered form replaced, and the findings;
        /// `None` when it holds none.
        pub(super) fn scrub(&self, text: &str) -> Option<(String, Vec<String>)> {
            let mut found = self.matcher.find_iter(text).peekable();
            found.peek()?;
            let mut out = String::with_capacity(text.len());
            let mut findings = Vec::new();
            let mut last = 0;
            for m in found {
                out.push_str(&text[last..m.start()]);
                out.push_str("[REDACTED:registered_secret]");
                findings.push("secret:redacted registered_secret".to_owned());
                last = m.end();
            }
            out.push_str(&text[last..]);
            Some((out, findings))
        }
    }

    /// The forms of `value` to scrub: as is, JSON-escaped, percent-encoded
    /// (upper- and lowercase hex), hex, and the base64 characters that depend
    /// on the value alone, at each of the three alignments it can take in a
    /// longer encoded text, in both alphabets.
    fn forms(value: &str) -> Vec<String> {
        use base64::Engine as _;
        let bytes = value.as_bytes();
        let mut forms = vec![value.to_owned()];
        let json = serde_json::to_string(value).unwrap_or_default();
        forms.push(json.trim_matches('"').to_owned());
        let percent: String = bytes
            .iter()
            .map(|&b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    char::from(b).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        forms.push(lower_escapes(&percent));
        forms.push(percent);
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        forms.push(hex.to_ascii_uppercase());
        forms.push(hex);
        for engine in [
            base64::engine::general_purpose::STANDARD_NO_PAD,
            base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ] {
            for offset in 0..3usize {
                let mut shifted = vec![0u8; offset];
                shifted.extend_from_slice(bytes);
                let encoded = engine.encode(&shifted);
                let start = (offset * 8).div_ceil(6);
                let end = shifted.len() * 8 / 6;
                if end > start {
                    forms.push(encoded[start..end].to_owned());
                }
            }
        }
        forms.retain(|f| f.len() >= MIN_REGISTERED_BYTES);
        forms
    }

    /// `%2F` as `%2f`, the rest unchanged.
    fn lower_escapes(percent: &str) -> String {
        let mut out = String::with_capacity(percent.len());
        let mut rest = percent;
        while let Some(at) = rest.find('%') {
            out.push_str(&rest[..at]);
            let escape = rest.get(at..at + 3).unwrap_or(&rest[at..]);
            out.push_str(&escape.to_ascii_lowercase());
            rest = &rest[at + escape.len()..];
        }
        out.push_str(rest);
        out
    }
}

/// An assignment whose value is a call (`password = read_password()`) is code,
/// not a credential.
fn is_code(kind: &str, text: &str, end: usize) -> bool {
    matches!(kind, "password_assignment" | "api_key_assignment") && text[end..].starts_with('(')
}

/// The same patterns applied one regex at a time: the baseline the single-pass
/// redactor is measured against, and a cross-check in tests.
pub fn redact_one_at_a_time(text: &str) -> Redacted {
    static EACH: LazyLock<Vec<(&str, Regex)>> = LazyLock::new(|| {
        KINDS
            .iter()
            .map(|(kind, p)| {
                (
                    *kind,
                    Regex::new(&ascii_boundaries(p)).expect("the secret patterns compile"),
                )
            })
            .collect()
    });
    let mut text = text.to_owned();
    let mut findings = Vec::new();
    for (kind, regex) in EACH.iter() {
        let mut count = 0;
        let source = text.clone();
        text = regex
            .replace_all(&source, |caps: &regex::Captures<'_>| {
                let m = caps.get(0).expect("group 0 always matches");
                if is_code(kind, &source, m.end()) {
                    m.as_str().to_owned()
                } else {
                    count += 1;
                    format!("[REDACTED:{kind}]")
                }
            })
            .into_owned();
        findings.extend(std::iter::repeat_n(
            format!("secret:redacted {kind}"),
            count,
        ));
    }
    Redacted { text, findings }
}

/// Redacts every string inside a JSON value, in place; returns the findings.
pub fn redact_json(value: &mut serde_json::Value) -> Vec<String> {
    let mut findings = Vec::new();
    match value {
        serde_json::Value::String(s) => {
            if let (Cow::Owned(text), found) = redact_cow(s) {
                *s = text;
                findings = found;
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                findings.extend(redact_json(item));
            }
        }
        serde_json::Value::Object(map) => {
            // Keys too: a map keyed by credential is still a leak.
            if map.keys().any(|k| matches!(redact_cow(k).0, Cow::Owned(_))) {
                for (key, mut item) in std::mem::take(map) {
                    let (key, found) = redact_cow(&key);
                    findings.extend(found);
                    findings.extend(redact_json(&mut item));
                    // Two keys redacted alike stay two entries.
                    let mut key = key.into_owned();
                    while map.contains_key(&key) {
                        key.push('\'');
                    }
                    map.insert(key, item);
                }
            } else {
                for item in map.values_mut() {
                    findings.extend(redact_json(item));
                }
            }
        }
        _ => {}
    }
    findings
}

#[cfg(test)]
#[path = "../../tests/common/samples.rs"]
mod samples;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_required_literals_in_order() {
        let kinds: Vec<&str> = KINDS.iter().map(|(k, _)| *k).collect();
        let required: Vec<&str> = REQUIRED.iter().map(|(k, _)| *k).collect();
        assert_eq!(kinds, required);
        for (kind, groups) in REQUIRED {
            assert!(!groups.is_empty(), "{kind} has no required literal");
        }
    }

    #[test]
    fn the_prefilter_passes_text_only_when_some_kind_could_match() {
        let prefilter = Prefilter::new();
        assert!(!prefilter.possible("the quick brown fox, https://example.com/x?a=1"));
        assert!(prefilter.possible("db postgres://app:pw@db/app"));
        assert!(prefilter.possible("PASSWORD = x"));
        assert!(!prefilter.possible("a password, said plainly"));
    }

    #[test]
    fn the_short_text_scan_agrees_with_the_literal_scans() {
        let prefilter = Prefilter::new();
        let agree = |text: &str| {
            let mut a = vec![false; prefilter.literals.len()];
            let mut b = vec![false; prefilter.literals.len()];
            assert_eq!(
                prefilter.possible_short(text, &mut a),
                prefilter.possible_scanned(text, &mut b),
                "{text:?}"
            );
        };
        let mut checked = 0;
        for (_, positive, negative) in samples::SAMPLES {
            for text in [positive, negative] {
                let text = format!("Ünïcode {text} PassWord = x");
                // Every window that starts and ends on a char boundary.
                let bounds: Vec<usize> = (0..=text.len())
                    .filter(|i| text.is_char_boundary(*i))
                    .collect();
                for (n, &start) in bounds.iter().enumerate() {
                    for &end in &bounds[n..] {
                        if end - start <= SHORT_TEXT && (start % 7 == 0 || end == text.len()) {
                            agree(&text[start..end]);
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked > 10_000, "{checked}");
    }

    #[test]
    fn json_keys_are_redacted_and_none_is_lost() {
        let mut value = serde_json::json!({
            "AKIAIOSFODNN7EXAMPLE": 1,
            "AKIAIOSFODNN7EXAMPLF": 2,
            "plain": "AKIAIOSFODNN7EXAMPLG"
        });
        let findings = redact_json(&mut value);
        assert_eq!(findings.len(), 3, "{findings:?}");
        let text = value.to_string();
        assert!(!text.contains("AKIA"), "{text}");
        assert_eq!(value.as_object().unwrap().len(), 3, "{text}");
    }
}

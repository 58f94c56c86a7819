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

/// One regex finds every secret in a single pass; a set of the same patterns,
/// anchored, then names the kind of each (short) match. Resolving the kind
/// with capture groups instead would run a slow engine over every match.
struct Redactor {
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
    Redactor { regex, kinds }
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
    let Redactor { regex, kinds } = &*REDACTOR;
    let mut findings = Vec::new();
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
            for item in map.values_mut() {
                findings.extend(redact_json(item));
            }
        }
        _ => {}
    }
    findings
}

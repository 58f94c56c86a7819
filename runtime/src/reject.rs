//! The typed refusal every gate produces.

use std::borrow::Cow;
use std::fmt;

/// The gate that refused a call.
///
/// Gates are listed in the order a call meets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Gate {
    /// The tool name is not one the server declares.
    UnknownTool,
    /// The arguments as a whole are larger than the tool's `max_size`.
    Size,
    /// The arguments carry a field the tool does not declare.
    UnknownField,
    /// A required argument is absent.
    MissingField,
    /// An argument has the wrong JSON type (a boolean for a number, a fraction for an integer).
    Type,
    /// A selector argument is not one of the allowed literals.
    Allowlist,
    /// A number is outside its declared bounds or its Rust type's range.
    Range,
    /// A number is NaN or infinite.
    Finite,
    /// A string holds control or bidirectional-override characters.
    Control,
    /// A string is longer than its bound, or a list has more or fewer items than its bounds.
    Length,
    /// A list declared `unique` holds the same item twice.
    Unique,
    /// A string that feeds a command holds a shell metacharacter.
    Command,
    /// A URL points at an internal, reserved or unresolvable destination.
    Ssrf,
    /// A path leaves its root, names no root, or names a special file.
    Path,
    /// A destructive tool was called without `confirm: true`, or the human declined.
    Confirm,
    /// The credential is missing or cannot be trusted.
    Auth,
    /// The caller or the tool is over its rate limit.
    Rate,
    /// The token does not carry the tool's scope.
    Scope,
    /// The subject's role does not permit the action.
    Role,
    /// The object the call touches is not the caller's, and the caller's role
    /// reaches only its own objects.
    Owner,
    /// The tool body found an argument invalid: a check the declaration
    /// cannot express (two arguments that contradict each other, a date in
    /// the past). The call ends `invalid`, like the declared checks.
    Argument,
    /// The tool body itself refused (division by zero, a row that does not exist).
    Execute,
    /// The body did not finish within the per-call timeout and was cancelled.
    Timeout,
    /// The body's result cannot be returned safely (a non-finite number).
    Output,
    /// The audit record could not be written durably; the result is withheld.
    Audit,
}

impl Gate {
    /// Every gate, in the order a call meets them.
    pub const ALL: &'static [Gate] = &[
        Gate::UnknownTool,
        Gate::Auth,
        Gate::Rate,
        Gate::Scope,
        Gate::Role,
        Gate::Size,
        Gate::UnknownField,
        Gate::MissingField,
        Gate::Type,
        Gate::Allowlist,
        Gate::Range,
        Gate::Finite,
        Gate::Control,
        Gate::Length,
        Gate::Unique,
        Gate::Command,
        Gate::Ssrf,
        Gate::Path,
        Gate::Confirm,
        Gate::Owner,
        Gate::Argument,
        Gate::Execute,
        Gate::Timeout,
        Gate::Output,
        Gate::Audit,
    ];

    /// The gate's name as it appears in logs and messages.
    pub const fn as_str(self) -> &'static str {
        match self {
            Gate::UnknownTool => "unknown-tool",
            Gate::Size => "size",
            Gate::UnknownField => "unknown-field",
            Gate::MissingField => "missing-field",
            Gate::Type => "type",
            Gate::Allowlist => "allowlist",
            Gate::Range => "range",
            Gate::Finite => "finite",
            Gate::Control => "control-chars",
            Gate::Length => "length",
            Gate::Unique => "unique",
            Gate::Confirm => "confirm",
            Gate::Command => "command",
            Gate::Ssrf => "ssrf",
            Gate::Path => "path",

            Gate::Auth => "auth",
            Gate::Rate => "rate",
            Gate::Timeout => "timeout",
            Gate::Argument => "argument",
            Gate::Scope => "scope",
            Gate::Role => "role",
            Gate::Owner => "owner",
            Gate::Audit => "audit",
            Gate::Execute => "execute",
            Gate::Output => "output",
        }
    }
}

impl fmt::Display for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused call: which tool, which gate, which field, and why.
///
/// A tool body returns `Err(Reject)` to refuse; every generated gate returns one
/// too. The framework logs each `Reject` as exactly one WARNING line and turns it
/// into a tool result with `isError: true`.
///
/// ```
/// use secure_tool::{Gate, Reject};
///
/// let reject = Reject::field("b", "division by zero");
/// assert_eq!(reject.gate(), Gate::Execute);
/// assert_eq!(reject.to_string(), "rejected by execute gate: b: division by zero");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    tool: &'static str,
    gate: Gate,
    field: Option<Cow<'static, str>>,
    reason: Cow<'static, str>,
    value: Option<String>,
    /// What redacting `value` found, for the audit record.
    redacted: Vec<String>,
}

impl Reject {
    /// A tool body's finding that an argument is invalid: audited as
    /// `invalid` at the `argument` gate, like the checks the declaration
    /// generates. Use it for what the declaration cannot express; for a
    /// failure that is not the caller's input (a row that does not exist, a
    /// service that is down), use [`Reject::field`] or [`Reject::new`].
    pub fn invalid(
        field: impl Into<Cow<'static, str>>,
        reason: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::at(Gate::Argument, Some(field.into()), reason)
    }

    /// A refusal from a tool body that concerns one argument.
    pub fn field(
        field: impl Into<Cow<'static, str>>,
        reason: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::at(Gate::Execute, Some(field.into()), reason)
    }

    /// A refusal from a tool body that concerns no single argument.
    pub fn new(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::at(Gate::Execute, None, reason)
    }

    /// A refusal at a given gate. Generated code and the runtime's stages use this.
    pub fn at(
        gate: Gate,
        field: Option<Cow<'static, str>>,
        reason: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            tool: "",
            gate,
            field,
            reason: reason.into(),
            value: None,
            redacted: Vec::new(),
        }
    }

    /// The refusal of a token that lacks `scope`, wherever it is detected.
    #[cfg(any(feature = "rbac", feature = "http"))]
    pub(crate) fn missing_scope(scope: &str) -> Self {
        Self::at(
            Gate::Scope,
            None,
            format!("token scope is missing {scope:?}"),
        )
    }

    /// Attaches the offending value. It is stored escaped and bounded, so a
    /// control byte or a 100 kB argument can never reach a log or a client
    /// verbatim. It is redacted before it is cut short (a string, or the JSON
    /// text of any other value, in its first
    /// [`REDACTED_SPAN`](crate::log::REDACTED_SPAN) bytes), so a secret cut
    /// at the bound cannot show its first part. The value of a field whose
    /// name says it holds a credential (`names_a_credential`) is withheld, at
    /// any depth.
    pub fn with_value(mut self, value: &serde_json::Value) -> Self {
        use serde_json::Value;
        self.redacted.clear();
        self.value = Some(if self.field_names_a_credential() {
            WITHHELD.to_owned()
        } else {
            let shown = withhold_credentials(value);
            match &*shown {
                Value::String(text) => shown_text(text, &mut self.redacted),
                Value::Null | Value::Bool(_) | Value::Number(_) => self.shown_json(shown.as_ref()),
                // Each string as it is first: in JSON text, a line break
                // before a token is `\n`, and the token no longer starts a
                // word.
                Value::Array(_) | Value::Object(_) => {
                    let mut shown = shown.into_owned();
                    self.redacted = crate::secrets::redact_json(&mut shown);
                    self.shown_json(&shown)
                }
            }
        });
        self
    }

    /// `value` as JSON text, bounded, redacted again as text (a key and its
    /// value read together, as some kinds need; a number searched too),
    /// then cut short.
    fn shown_json(&mut self, value: &serde_json::Value) -> String {
        let rendered = crate::log::render_value_within(value, crate::log::REDACTED_SPAN);
        let (redacted, found) = crate::secrets::redact_cow(&rendered);
        self.redacted.extend(found);
        let cut = rendered.len() >= crate::log::REDACTED_SPAN;
        crate::log::cut(before_open_block(&redacted, cut), crate::log::VALUE_LIMIT)
    }

    /// Attaches [`WITHHELD`] in place of the value.
    pub(crate) fn withheld(mut self) -> Self {
        self.redacted.clear();
        self.value = Some(WITHHELD.to_owned());
        self
    }

    /// Attaches an offending string, escaped, redacted and bounded like
    /// [`Reject::with_value`], and withheld like it.
    pub fn with_text(mut self, text: &str) -> Self {
        self.redacted.clear();
        self.value = Some(if self.field_names_a_credential() {
            WITHHELD.to_owned()
        } else {
            shown_text(text, &mut self.redacted)
        });
        self
    }

    fn field_names_a_credential(&self) -> bool {
        self.field.as_deref().is_some_and(|path| {
            // Any name along the path: `secrets[0].value`, `auth.api_key`.
            path.split(['.', '['])
                .any(|name| names_a_credential(name.trim_matches(['"', ']'])))
        })
    }

    /// Names the tool, unless a tool is already named.
    pub fn in_tool(mut self, tool: &'static str) -> Self {
        if self.tool.is_empty() {
            self.tool = tool;
        }
        self
    }

    /// The tool that refused; empty until the framework names it.
    pub fn tool(&self) -> &'static str {
        self.tool
    }

    /// The gate that refused.
    pub fn gate(&self) -> Gate {
        self.gate
    }

    /// The argument concerned, if one is.
    pub fn field_name(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// Why the call was refused.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The offending value, escaped and bounded, if one was attached.
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }

    /// What redacting the attached value found (`secret:redacted <kind>`).
    pub fn value_findings(&self) -> &[String] {
        &self.redacted
    }
}

/// `text` as a refusal shows it: its first
/// [`REDACTED_SPAN`](crate::log::REDACTED_SPAN) bytes redacted, then escaped
/// and cut short; what redacting found goes to `findings`.
pub(crate) fn shown_text(text: &str, findings: &mut Vec<String>) -> String {
    let span = &text[..text.floor_char_boundary(crate::log::REDACTED_SPAN)];
    let (redacted, found) = crate::secrets::redact_cow(span);
    *findings = found;
    let cut = span.len() < text.len();
    crate::log::escape_part(
        before_open_block(&redacted, cut),
        crate::log::VALUE_LIMIT,
        text.len(),
        cut,
    )
}

/// `redacted`, the redacted first part of a longer text if `cut`, up to a
/// `-----BEGIN` it still holds: a private key block whose end lies past the
/// part searched is not recognised, so nothing from its start on is shown.
fn before_open_block(redacted: &str, cut: bool) -> &str {
    if !cut {
        return redacted;
    }
    redacted
        .find("-----BEGIN")
        .map_or(redacted, |at| &redacted[..at])
}

/// What a log shows for the value of a credential-named field.
pub const WITHHELD: &str = "<withheld>";

/// Whether a field's name says it holds a credential (`token`, `password`,
/// `api_key`, `client_secret`, `Authorization`, `cookie`, `private_key`,
/// `aws_access_key_id`, `passcode`, `auth`, `otp`, …), ignoring case, `_`
/// and `-`. Refusals never log such a field's value; a false positive
/// (`max_tokens`) costs only a value in a log line.
pub fn names_a_credential(name: &str) -> bool {
    // Nearly every name is ASCII: it is folded on the stack and split into
    // words in place, with no allocation.
    if name.is_ascii() {
        let name = name.as_bytes();
        let mut buffer = [0u8; 64];
        let heap: Vec<u8>;
        let folded = if name.len() <= buffer.len() {
            let mut n = 0;
            for &b in name.iter().filter(|b| !matches!(b, b'_' | b'-' | b' ')) {
                buffer[n] = b.to_ascii_lowercase();
                n += 1;
            }
            &buffer[..n]
        } else {
            heap = name
                .iter()
                .filter(|b| !matches!(b, b'_' | b'-' | b' '))
                .map(u8::to_ascii_lowercase)
                .collect();
            &heap
        };
        return CREDENTIAL_PARTS.iter().any(|part| {
            let part = part.as_bytes();
            folded
                .windows(part.len())
                .any(|at| at[0] == part[0] && at == part)
        }) || any_ascii_word(name, |word| {
            CREDENTIAL_WORDS
                .iter()
                .any(|w| word.eq_ignore_ascii_case(w.as_bytes()))
        });
    }
    names_a_credential_by_char(name)
}

/// [`names_a_credential`] for any name, a character at a time.
fn names_a_credential_by_char(name: &str) -> bool {
    let folded: String = name
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    CREDENTIAL_PARTS.iter().any(|part| folded.contains(part))
        || words(name).any(|w| CREDENTIAL_WORDS.contains(&w.as_str()))
}

/// Parts that say credential wherever they appear in a name.
const CREDENTIAL_PARTS: [&str; 23] = [
    "token",
    "passw",
    "passphrase",
    "passcode",
    "secret",
    "apikey",
    "accesskey",
    "privkey",
    "privatekey",
    "signingkey",
    "encryptionkey",
    "credential",
    "authorization",
    "bearer",
    "cookie",
    "sessionid",
    "pwd",
    "jwt",
    "csrf",
    "xsrf",
    "mnemonic",
    "sessionkey",
    "masterkey",
];

/// Words that say credential only as a whole word (`auth`, not `author`).
const CREDENTIAL_WORDS: [&str; 12] = [
    "auth", "oauth", "otp", "totp", "hotp", "pin", "cvv", "cvc", "mfa", "seed", "pw", "pass",
];

/// Whether `found` holds for a word of `name`, an ASCII name, split as
/// [`words`] splits it (the words are not lowercased).
fn any_ascii_word(name: &[u8], mut found: impl FnMut(&[u8]) -> bool) -> bool {
    let mut start = 0;
    for i in 0..=name.len() {
        let c = name.get(i).copied();
        let boundary = i > 0
            && c.is_none_or(|c| {
                let p = name[i - 1];
                !c.is_ascii_alphanumeric()
                    || (p.is_ascii_lowercase() && c.is_ascii_uppercase())
                    || (p.is_ascii_uppercase()
                        && c.is_ascii_uppercase()
                        && name.get(i + 1).is_some_and(u8::is_ascii_lowercase))
                    || (p.is_ascii_alphabetic() != c.is_ascii_alphabetic()
                        && p.is_ascii_alphanumeric())
            });
        if boundary {
            if start < i && found(&name[start..i]) {
                return true;
            }
            start = i;
        }
        // What is not a letter or digit belongs to no word.
        if c.is_some_and(|c| !c.is_ascii_alphanumeric()) {
            start = i + 1;
        }
    }
    false
}

/// The words of a name, lowercased: split at anything not a letter, where a
/// lowercase letter meets an uppercase one (`mfaCode`), where a run of
/// capitals meets a capitalised word (`MFACode`), and between letters and
/// digits (`otp2`).
fn words(name: &str) -> impl Iterator<Item = String> + '_ {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let previous = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1).copied();
        let boundary = match previous {
            None => false,
            Some(p) => {
                !c.is_alphanumeric()
                    || (p.is_lowercase() && c.is_uppercase())
                    || (p.is_uppercase()
                        && c.is_uppercase()
                        && next.is_some_and(char::is_lowercase))
                    || (p.is_alphabetic() != c.is_alphabetic() && p.is_alphanumeric())
            }
        };
        if boundary && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words.into_iter()
}

/// `value` with the values of credential-named keys replaced, at any depth.
fn withhold_credentials(value: &serde_json::Value) -> Cow<'_, serde_json::Value> {
    use serde_json::Value;
    fn holds_one(value: &Value) -> bool {
        match value {
            Value::Object(map) => map
                .iter()
                .any(|(k, v)| names_a_credential(k) || holds_one(v)),
            Value::Array(items) => items.iter().any(holds_one),
            _ => false,
        }
    }
    fn withheld(value: &Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let v = if names_a_credential(k) {
                            Value::String(WITHHELD.to_owned())
                        } else {
                            withheld(v)
                        };
                        (k.clone(), v)
                    })
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(withheld).collect()),
            other => other.clone(),
        }
    }
    if holds_one(value) {
        Cow::Owned(withheld(value))
    } else {
        Cow::Borrowed(value)
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rejected by {} gate: ", self.gate)?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.reason)?;
        if let Some(value) = &self.value {
            write!(f, " (got {value})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Reject {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_value_of_a_credential_field_is_never_kept() {
        let secret = serde_json::json!("hunter2-not-a-pattern");
        for field in [
            "token",
            "password",
            "api_key",
            "Client-Secret",
            "x[0].accessToken",
            "\"Authorization\"",
            "aws_access_key_id",
            "passcode",
            "basic_auth",
            "X-Auth",
            "mfaCode",
            "otp",
            "card.cvv",
            "wallet_seed",
            "signing-key",
            "csrf_token",
            "jwt",
            "cvv2",
            "MFACode",
            "PINCode",
            "OAuth",
            "session_key",
            "master-key",
            "pw",
            "db_pass",
        ] {
            let reject = Reject::at(Gate::UnknownField, Some(field.to_owned().into()), "x");
            let kept = reject.clone().with_value(&secret);
            assert_eq!(kept.value(), Some(WITHHELD), "{field}");
            assert_eq!(
                reject.with_text("hunter2").value(),
                Some(WITHHELD),
                "{field}"
            );
        }
        // Nested: an object sent to a field with an innocent name.
        let nested = serde_json::json!({"u": "bob", "a": [{"pwd": "hunter2"}]});
        let reject = Reject::at(Gate::UnknownField, Some("login".into()), "x").with_value(&nested);
        let value = reject.value().unwrap();
        assert!(
            !value.contains("hunter2") && value.contains("bob"),
            "{value}"
        );
        // Other fields keep their value.
        for field in [
            "author",
            "authored_by",
            "path",
            "count",
            "text",
            "pinned",
            "seeds_per_row",
            "option",
            "keyword",
            "passenger",
            "compass",
            "spinner",
            "authority_host",
        ] {
            let reject = Reject::at(Gate::Type, Some(field.into()), "x").with_value(&secret);
            assert!(reject.value().unwrap().contains("hunter2"), "{field}");
        }
    }

    #[test]
    fn ascii_names_are_judged_as_they_are_a_character_at_a_time() {
        let pieces = [
            "", "_", "-", " ", ".", "a", "A", "1", "auth", "Auth", "AUTH", "or", "otp", "OTP",
            "Code", "pin", "PIN", "ned", "pass", "Pass", "word", "WORD", "to", "ken", "2", "x",
            "seed", "s", "pw", "MFA", "mfa", "ap", "ikey", "Key",
        ];
        let mut names = 0;
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let name = format!("{a}{b}{c}");
                    assert_eq!(
                        names_a_credential(&name),
                        names_a_credential_by_char(&name),
                        "{name:?}"
                    );
                    names += 1;
                }
            }
        }
        // Past the stack buffer.
        for name in [
            format!("{}_token", "x".repeat(70)),
            format!("{}_author", "x".repeat(70)),
            format!("{}Otp", "x".repeat(70)),
        ] {
            assert_eq!(
                names_a_credential(&name),
                names_a_credential_by_char(&name),
                "{name:?}"
            );
        }
        assert!(names_a_credential(&format!("{}_token", "x".repeat(70))));
        assert!(names > 30_000, "{names}");
    }

    #[test]
    fn in_tool_keeps_the_first_name() {
        let reject = Reject::new("x").in_tool("a").in_tool("b");
        assert_eq!(reject.tool(), "a");
    }

    #[test]
    fn display_is_what_the_client_reads() {
        let reject = Reject::at(Gate::Range, Some("a".into()), "must be at most 1000000000")
            .with_value(&serde_json::json!(1e10));
        assert_eq!(
            reject.to_string(),
            "rejected by range gate: a: must be at most 1000000000 (got 10000000000.0)"
        );
    }
}

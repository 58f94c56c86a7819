//! Secret redaction for text leaving the server: tool output, error messages
//! and audit records.

/// Text with its secrets replaced by `[REDACTED:<kind>]`, and one finding per redaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redacted {
    /// The redacted text.
    pub text: String,
    /// One `secret:redacted <kind>` entry per redaction.
    pub findings: Vec<String>,
}

/// Redacts credentials embedded in URLs (`scheme://user:password@host`).
pub fn redact(text: &str) -> Redacted {
    let mut out = String::with_capacity(text.len());
    let mut findings = Vec::new();
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let start = rest[..pos]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |i| i + 1);
        let after = &rest[pos + 3..];
        let end = after
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | ')'))
            .unwrap_or(after.len());
        // Sentence punctuation after a URL is not part of it.
        let end = after[..end].trim_end_matches(['.', ',', ';', ':']).len();
        let authority = &after[..end];
        let userinfo = authority
            .split('/')
            .next()
            .and_then(|a| a.rsplit_once('@'))
            .map(|(u, _)| u);
        if start < pos && userinfo.is_some_and(|u| u.contains(':')) {
            out.push_str(&rest[..start]);
            out.push_str("[REDACTED:connection_string]");
            findings.push("secret:redacted connection_string".to_owned());
            rest = &after[end..];
        } else {
            out.push_str(&rest[..pos + 3]);
            rest = after;
        }
    }
    out.push_str(rest);
    Redacted {
        text: out,
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_credentials_are_redacted() {
        let r = redact("cannot connect to postgres://app:s3cr3t@db:5432/appdb: refused");
        assert_eq!(
            r.text,
            "cannot connect to [REDACTED:connection_string]: refused"
        );
        assert_eq!(r.findings, ["secret:redacted connection_string"]);
    }

    #[test]
    fn urls_without_credentials_stay() {
        let text = "see https://example.com/a@b and postgres://db/app";
        assert_eq!(redact(text).text, text);
    }
}

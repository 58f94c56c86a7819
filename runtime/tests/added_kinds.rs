//! Kinds an application adds: checked against their own samples when added,
//! then redacted like the built-in ones, in text and structured content.
//! (Added kinds are per process: these tests have a binary of their own.)

use secure_tool::guards::secrets::{add_kind, redact, redact_json};

#[test]
fn an_added_kind_is_checked_then_redacted_everywhere() {
    let sample = "ticket token ACME-7f3a9c2e41d8b605 issued";
    add_kind(
        "acme_internal_token",
        r"\bACME-[0-9a-f]{16}\b",
        sample,
        "ACME-short is a product name",
    )
    .unwrap();
    let out = redact(sample);
    assert_eq!(
        out.text,
        "ticket token [REDACTED:acme_internal_token] issued"
    );
    assert_eq!(out.findings, ["secret:redacted acme_internal_token"]);
    let mut value = serde_json::json!({ "rows": [{ "note": sample }] });
    assert_eq!(
        redact_json(&mut value),
        ["secret:redacted acme_internal_token"]
    );
    // Built-in kinds still come first, and both are found in one text.
    let both = redact("ghp_abcdefghijklmnopqrstuvwxyz0123456789 and ACME-0123456789abcdef");
    assert_eq!(both.findings.len(), 2, "{:?}", both.findings);
}

#[test]
fn a_kind_that_fails_its_own_samples_or_clashes_is_refused() {
    let refused = |kind, pattern, sample, near_miss| {
        add_kind(kind, pattern, sample, near_miss)
            .unwrap_err()
            .to_string()
    };
    assert!(refused("Bad Name", r"x", "x", "y").contains("lowercase"));
    assert!(refused("aws_access_key", r"zz\d+", "zz1", "zz").contains("taken"));
    assert!(refused("broken", r"([", "x", "y").contains("does not compile"));
    assert!(refused("everywhere", r"\b", "a", " ").contains("empty string"));
    assert!(refused("too_narrow", r"\bXYZ-\d{4}\b", "XYZ-12", "none").contains("not redacted"));
    assert!(
        refused("too_wide", r"\bXYZ-\d+", "XYZ-1234", "XYZ-1 is a model").contains("near miss")
    );
    // None of them was added.
    assert_eq!(redact("XYZ-1234 zz1").findings.len(), 0);
}

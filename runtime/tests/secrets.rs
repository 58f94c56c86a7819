//! Secret redaction: every kind has a positive and a negative sample, a benign
//! corpus stays unchanged, and the single pass agrees with one regex at a time.
//! All samples are fabricated.

use secure_tool::guards::secrets::{KINDS, redact, redact_json, redact_one_at_a_time};

#[path = "common/samples.rs"]
mod samples;
use samples::SAMPLES;

#[test]
fn there_are_at_least_forty_kinds_and_each_has_samples() {
    assert!(KINDS.len() >= 40, "{} kinds", KINDS.len());
    for (kind, _) in KINDS {
        assert!(
            SAMPLES.iter().any(|(k, _, _)| k == kind),
            "no samples for {kind}"
        );
    }
}

#[test]
fn each_kind_is_redacted_as_itself() {
    for (kind, positive, _) in SAMPLES {
        let out = redact(positive);
        let marker = format!("[REDACTED:{kind}]");
        assert!(
            out.text.contains(&marker),
            "{kind}: {positive:?} became {:?}",
            out.text
        );
        assert_eq!(
            out.findings,
            vec![format!("secret:redacted {kind}")],
            "{kind}: {positive:?}"
        );
    }
}

#[test]
fn near_misses_stay_unchanged() {
    for (kind, _, negative) in SAMPLES {
        let out = redact(negative);
        assert_eq!(out.text, *negative, "{kind}: near miss was redacted");
        assert!(out.findings.is_empty(), "{kind}: {:?}", out.findings);
    }
}

#[test]
fn seed_document_is_redacted_three_ways() {
    let doc = "deploy notes: aws AKIAIOSFODNN7EXAMPLE, db postgres://app:s3cr3t@db:5432/appdb, \
               jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N";
    let out = redact(doc);
    assert_eq!(
        out.text,
        "deploy notes: aws [REDACTED:aws_access_key], db [REDACTED:postgres_connection_string] \
         jwt [REDACTED:jwt]"
    );
    assert_eq!(out.findings.len(), 3);
}

/// Prose, code, identifiers, hashes and encoded images that must pass untouched.
const BENIGN: &[&str] = &[
    "The quick brown fox jumps over the lazy dog. Passwords should be long.",
    "fn main() { let key = config.api_key(); println!(\"{}\", key.len()); }",
    "let password = prompt_for_password();",
    "id 550e8400-e29b-41d4-a716-446655440000 and 123e4567-e89b-12d3-a456-426614174000",
    "sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "commit 4b825dc642cb6eb9a060e54bf8d69288fbee4904",
    "![logo](data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==)",
    "Visit https://example.com/docs?page=2&sort=asc or mailto:team@example.com.",
    "SELECT id, title FROM documents WHERE created_by = $1 ORDER BY id",
    "Dear Dan, the tokens for the arcade are in the drawer.",
    "export PATH=/usr/local/bin:$PATH",
    "version 1.2.3-beta+build.45, port 5432, host db.internal.example",
];

#[test]
fn benign_corpus_is_unchanged() {
    for text in BENIGN {
        let out = redact(text);
        assert_eq!(out.text, *text);
        assert!(out.findings.is_empty(), "{text:?}: {:?}", out.findings);
    }
}

#[test]
fn single_pass_agrees_with_one_regex_at_a_time() {
    let mut all = String::new();
    for (_, positive, negative) in SAMPLES {
        all.push_str(positive);
        all.push('\n');
        all.push_str(negative);
        all.push('\n');
    }
    for text in BENIGN {
        all.push_str(text);
        all.push('\n');
    }
    let single = redact(&all);
    let each = redact_one_at_a_time(&all);
    assert_eq!(single.text, each.text);
    let mut a = single.findings.clone();
    let mut b = each.findings.clone();
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

#[test]
fn structured_output_is_redacted_string_by_string() {
    let mut value = serde_json::json!({
        "title": "creds",
        "rows": [{"dsn": "postgres://u:p4ss@h/db"}, {"note": "fine"}],
        "count": 2,
    });
    let findings = redact_json(&mut value);
    assert_eq!(findings, ["secret:redacted postgres_connection_string"]);
    assert_eq!(
        value["rows"][0]["dsn"],
        "[REDACTED:postgres_connection_string]"
    );
    assert_eq!(value["rows"][1]["note"], "fine");
}

#[test]
fn each_kind_is_redacted_in_json_escaped_text_and_structured_content() {
    for (kind, positive, _) in SAMPLES {
        let marker = format!("[REDACTED:{kind}]");
        // A document quoted into JSON text, as many tools return it.
        let escaped = serde_json::to_string(positive).unwrap();
        let out = redact(&escaped);
        assert!(
            out.text.contains(&marker),
            "{kind}: {escaped:?} became {:?}",
            out.text
        );
        // The same value inside structured content, at two depths.
        let mut value = serde_json::json!({ "content": positive, "rows": [{ "note": positive }] });
        let findings = redact_json(&mut value);
        assert_eq!(
            findings,
            vec![format!("secret:redacted {kind}"); 2],
            "{kind}: {value}"
        );
    }
}

#[test]
fn key_blocks_are_redacted_across_lines_whatever_the_line_ending() {
    for ending in ["\n", "\r\n"] {
        let block = [
            "-----BEGIN OPENSSH PRIVATE KEY-----",
            "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
            "QyNTUxOQAAACDfabricatedfabricatedfabricatedfabricatedAAAA",
            "-----END OPENSSH PRIVATE KEY-----",
        ]
        .join(ending);
        let out = redact(&format!("id_ed25519:{ending}{block}{ending}done"));
        assert_eq!(out.findings, ["secret:redacted private_key"], "{ending:?}");
        assert!(!out.text.contains("b3BlbnNz"), "{:?}", out.text);
        assert!(out.text.ends_with("done"));
    }
}

/// A deterministic stream of bytes (xorshift), for corpora that must not
/// change between runs.
fn bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn hex(seed: u64, n: usize) -> String {
    bytes(seed, n.div_ceil(2))
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()[..n]
        .to_owned()
}

/// What tools really return, none of it a secret: this workspace's lock
/// files and source, git history with hashes, UUIDs, a base64 image,
/// minified JavaScript, and unsigned JWT fixtures.
fn benign_corpus() -> Vec<(String, String)> {
    use base64::Engine as _;
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let mut corpus = Vec::new();
    for file in ["Cargo.lock", "tests/interop/oauth/package-lock.json"] {
        corpus.push((
            file.to_owned(),
            std::fs::read_to_string(format!("{root}/{file}")).unwrap(),
        ));
    }
    // The project's own source, but for the files that hold fabricated
    // secrets on purpose (the samples and the tests that use them).
    let mut dirs = vec![
        std::path::PathBuf::from(format!("{root}/runtime/src")),
        std::path::PathBuf::from(format!("{root}/macros/src")),
        std::path::PathBuf::from(format!("{root}/servers")),
    ];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs")
                && !SOURCE_WITH_FIXTURES.iter().any(|f| path.ends_with(f))
            {
                corpus.push((
                    path.display().to_string(),
                    std::fs::read_to_string(&path).unwrap(),
                ));
            }
        }
    }
    let mut log = String::new();
    for i in 0..400u64 {
        log.push_str(&format!(
            "commit {}\nAuthor: Dev {i} <dev{i}@example.com>\nDate:   Mon Nov {} 10:{:02}:00 2026 +0000\n\n    Fix the parser for case {i}\n\ndiff --git a/src/lib.rs b/src/lib.rs\nindex {}..{} 100644\n--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -{i},3 +{i},4 @@\n+    let id = \"{}\";\n",
            hex(i + 1, 40),
            1 + i % 28,
            i % 60,
            hex(i + 1000, 7),
            hex(i + 2000, 7),
            hex(i + 3000, 32),
        ));
    }
    corpus.push(("git log".into(), log));
    let uuids: Vec<String> = (0..2000u64)
        .map(|i| {
            let h = hex(i + 10_000, 32);
            format!(
                "{}-{}-4{}-a{}-{}",
                &h[..8],
                &h[8..12],
                &h[13..16],
                &h[17..20],
                &h[20..32]
            )
        })
        .collect();
    corpus.push(("uuids".into(), uuids.join("\n")));
    let image = base64::engine::general_purpose::STANDARD.encode(bytes(7, 192 * 1024));
    corpus.push((
        "base64 image".into(),
        format!("![plot](data:image/png;base64,{image})"),
    ));
    let mut js = String::new();
    for i in 0..3000 {
        js.push_str(&format!(
            "function(e,t,n){{\"use strict\";var r=n({i}),o=n({}),a=\"{}\";e.exports=function(e){{return r(e)&&o(e.length)&&a}}}},",
            i + 7,
            hex(i + 50_000, 12)
        ));
    }
    corpus.push(("minified js".into(), js));
    corpus.push((
        "unsigned JWT fixtures".into(),
        "let token = \"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ0ZXN0In0.\"; // alg none: no signature\n"
            .repeat(50),
    ));
    corpus
}

/// Source files that hold fabricated credentials on purpose: the patterns,
/// the demos' planted secrets, and tests and probes that feed the redactor
/// and the SSRF guard credential-shaped text.
const SOURCE_WITH_FIXTURES: &[&str] = &[
    "runtime/src/secrets.rs",
    "src/bin/doc-demo.rs",
    "files/src/demo.rs",
    "runtime/src/pipeline.rs",
    "runtime/src/audit.rs",
    "runtime/src/reject.rs",
    "runtime/src/testing.rs",
    "runtime/src/oidc.rs",
];

#[test]
fn the_benign_corpus_has_no_false_positive_for_any_kind() {
    let mut per_kind: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let mut bytes = 0;
    for (label, text) in benign_corpus() {
        bytes += text.len();
        for finding in redact(&text).findings {
            per_kind.entry(finding).or_default().push(label.clone());
        }
    }
    assert!(bytes > 1024 * 1024, "{bytes} bytes of corpus");
    assert!(
        per_kind.is_empty(),
        "false positives per kind over {bytes} bytes: {per_kind:#?}"
    );
}

#[test]
fn what_a_generic_match_spans_is_still_searched_for_other_kinds() {
    // The assignment is code (a call), but the key inside it is a key.
    let key = "sk_live_51HqLyjWDarjtT1zdp7dcXYZ12";
    let out = redact(&format!("client_secret={key}(test mode)"));
    assert!(!out.text.contains(key), "{:?}", out.text);
    assert!(
        out.findings
            .contains(&"secret:redacted stripe_secret_key".to_owned())
    );
}

#[test]
fn tokens_ending_in_punctuation_are_redacted_whole() {
    let gcp = "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQ-";
    let out = redact(&format!("key=\"{gcp}\""));
    assert!(!out.text.contains("AIza"), "{:?}", out.text);
    // A padded value of a generic shape is still a value.
    let out = redact("encryption_key = \"q8ZkT3vR9xW2mN5pL7yB4cH6jF1dG0sIo2E=\"");
    assert_eq!(
        out.findings,
        ["secret:redacted license_key_assignment"],
        "{}",
        out.text
    );
}

#[test]
fn generic_assignments_are_redacted_inside_json_text() {
    for text in [
        r#"{\"password\": \"hunter22xyz\"}"#,
        r#"{\"api_key\": \"0123456789abcdef\"}"#,
        r#"{\"aws_secret_access_key\": \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"}"#,
    ] {
        let out = redact(text);
        assert_eq!(out.findings.len(), 1, "{text}: {}", out.text);
        assert!(
            !out.text.contains("hunter22") && !out.text.contains("0123456789ab"),
            "{}",
            out.text
        );
    }
}

/// The part of `text` that redacting it replaces, if it replaces one.
fn the_secret(text: &str) -> Option<&str> {
    let redacted = redact(text);
    let [_] = redacted.findings.as_slice() else {
        return None;
    };
    let start = redacted.text.find("[REDACTED:")?;
    let end = redacted.text[start..].find(']')? + start + 1;
    let after = redacted.text.len() - end;
    Some(&text[start..text.len() - after])
}

#[test]
fn a_refusal_redacts_a_value_before_cutting_it_short() {
    use secure_tool::log::{VALUE_LIMIT, escape_bounded};
    use secure_tool::{Gate, Reject};
    // Each sample starts at column 40, so the 64 characters shown end inside
    // most of them: cut first, the redactor would see only their first part.
    let mut cut = 0;
    for (kind, positive, _) in SAMPLES {
        let text = format!("{}{positive}", " ".repeat(40));
        let redacted = redact(&text);
        assert!(!redacted.findings.is_empty(), "{kind}: {text:?}");
        let refused = Reject::at(Gate::Argument, Some("q".into()), "x").with_text(&text);
        let shown = refused.value().unwrap();
        // What is shown is the redacted text cut short; a note gives the
        // length of the text as it came.
        let expected = escape_bounded(&redacted.text);
        let (expected, note) = expected.split_once("…(").unwrap_or((&expected, ""));
        assert_eq!(
            shown.split_once("…(").map_or(shown, |(s, _)| s),
            expected,
            "{kind}"
        );
        if !note.is_empty() {
            assert!(
                shown.ends_with(&format!("…({} bytes)", text.len())),
                "{kind}: {shown}"
            );
        }
        assert_eq!(refused.value_findings(), redacted.findings, "{kind}");
        let in_json = Reject::at(Gate::Argument, Some("q".into()), "x")
            .with_value(&serde_json::json!({ "q": [&text] }));
        // No 8 characters of the secret that fell within the bound are shown.
        let Some(secret) = the_secret(&text) else {
            continue;
        };
        let visible = &secret[..secret.floor_char_boundary(VALUE_LIMIT - 40)];
        if secret.len() > visible.len() {
            cut += 1;
        }
        for end in (8..=visible.len()).filter(|&e| visible.is_char_boundary(e)) {
            // A piece the marker itself spells (`aws_secr`) says nothing.
            let Some(piece) = visible
                .get(end - 8..end)
                .filter(|piece| !format!("[REDACTED:{kind}]").contains(piece))
            else {
                continue;
            };
            for shown in [shown, in_json.value().unwrap()] {
                assert!(!shown.contains(piece), "{kind}: {piece:?} in {shown}");
            }
        }
    }
    assert!(cut > 100, "{cut}");
    // Past the span searched, a value is not searched, and its note gives
    // the length of the whole.
    let token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
    let text = format!("{token}{}", "a".repeat(20_000));
    let refused = Reject::at(Gate::Argument, Some("q".into()), "x").with_text(&text);
    let value = refused.value().unwrap();
    assert!(value.starts_with("\"[REDACTED:"), "{value}");
    assert!(
        value.ends_with(&format!("…({} bytes)", text.len())),
        "{value}"
    );
    // A key block whose end lies past the span shows nothing from its start.
    let body = "MC4CAQAwBQYDK2VwBCIEIAbcdefghijklmnopqrstuvwxyz0123456789ABCDEF\n".repeat(300);
    let key = format!("id -----BEGIN PRIVATE KEY-----\n{body}-----END PRIVATE KEY-----\n");
    assert!(key.len() > secure_tool::log::REDACTED_SPAN);
    for refused in [
        Reject::at(Gate::Argument, Some("q".into()), "x").with_text(&key),
        Reject::at(Gate::Argument, Some("q".into()), "x").with_value(&serde_json::json!([key])),
    ] {
        let value = refused.value().unwrap();
        assert!(
            !value.contains("MC4C") && !value.contains("BEGIN"),
            "{value}"
        );
        assert!(value.contains("id "), "{value}");
    }
    // A whole block within the span is redacted, and what follows it shown.
    let short = "id -----BEGIN PRIVATE KEY-----\nMC4CAQAw\n-----END PRIVATE KEY----- ok";
    let refused = Reject::at(Gate::Argument, None, "x").with_text(short);
    let value = refused.value().unwrap();
    assert!(value.contains("[REDACTED:private_key] ok"), "{value}");
}

#[test]
fn a_refused_json_value_is_redacted_as_text_so_a_key_gives_its_value_away() {
    use secure_tool::{Gate, Reject};
    // Kinds recognised by a name and its value together; as JSON the name is
    // a key, apart from its value, and none of these names is withheld.
    let value = "7Hq2vX9pLm4Rt8Kw1Zn6Yb3Jc5Fd0Ga";
    assert!(redact(value).findings.is_empty(), "needs its name");
    for name in ["app_key", "license_key", "ingest-key", "monitoring_key"] {
        for json in [
            serde_json::json!({ name: value }),
            serde_json::json!([{ "x": 1, name: value }]),
        ] {
            let refused = Reject::at(Gate::Argument, Some("q".into()), "x").with_value(&json);
            let shown = refused.value().unwrap();
            assert!(!shown.contains(&value[..8]), "{name}: {shown}");
            assert_eq!(
                refused.value_findings(),
                ["secret:redacted license_key_assignment"],
                "{name}: {shown}"
            );
        }
    }
}

#[test]
fn a_refused_json_value_is_searched_string_by_string_too() {
    use secure_tool::{Gate, Reject};
    // As JSON text a line break is `\n`, so a token after one starts no
    // word: each string is searched as it is first.
    let key = concat!("AKIA", "IOSFODNN7EXAMPLE");
    for json in [
        serde_json::json!([format!("env:\n{key}")]),
        serde_json::json!({ "a": format!("x\t{key}") }),
        serde_json::json!({ format!("x\n{key}"): 1 }),
        serde_json::json!([["a\tpassword=hunter22xyz"]]),
    ] {
        let refused = Reject::at(Gate::Argument, Some("q".into()), "x").with_value(&json);
        let shown = refused.value().unwrap();
        assert!(
            !shown.contains("IOSFODNN") && !shown.contains("hunter22"),
            "{shown}"
        );
        assert!(!refused.value_findings().is_empty(), "{shown}");
    }
}

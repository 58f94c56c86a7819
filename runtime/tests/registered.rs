//! Secrets a server registers are scrubbed whatever their shape, in every
//! encoding they commonly travel in. (Registration is per process: these
//! tests have a binary of their own.)

use base64::Engine as _;
use secure_tool::guards::secrets::{redact, redact_json, register, register_env};

const SECRET: &str = "upstream/key+with \"odd\" chars=42";

fn scrubbed(text: &str) {
    let out = redact(text);
    assert!(
        out.text.contains("[REDACTED:registered_secret]"),
        "{text:?} became {:?}",
        out.text
    );
    assert!(
        out.findings
            .iter()
            .all(|f| f.starts_with("secret:redacted"))
    );
    for leaked in ["upstream", "dXBzdHJlYW", "75707374"] {
        assert!(
            !out.text.contains(leaked),
            "{leaked} left in {:?}",
            out.text
        );
    }
}

#[test]
fn a_registered_value_and_its_encodings_never_leave() {
    assert!(register("short").is_err());
    register(SECRET).unwrap();
    register(SECRET).unwrap(); // twice is once
    let bytes = SECRET.as_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let percent = "upstream%2Fkey%2Bwith%20%22odd%22%20chars%3D42";
    let json = serde_json::to_string(SECRET).unwrap();
    let mut texts = vec![
        format!("the key is {SECRET}, keep it"),
        format!("{{\"config\": {json}}}"),
        format!("https://api.example/x?k={percent}"),
        // The escapes in lowercase (the value's letters are lowercase already).
        format!("https://api.example/x?k={}", percent.to_ascii_lowercase()),
        format!("hex {hex} and {}", hex.to_ascii_uppercase()),
    ];
    // Inside a longer base64 text, at every alignment, in both alphabets.
    for prefix in ["", "a", "ab", "abc"] {
        let whole = format!("{prefix}{SECRET} and more");
        texts.push(base64::engine::general_purpose::STANDARD.encode(&whole));
        texts.push(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&whole));
    }
    for text in &texts {
        scrubbed(text);
    }
    let mut structured = serde_json::json!({ "rows": [{ "note": format!("k={SECRET}") }] });
    let findings = redact_json(&mut structured);
    assert_eq!(findings, ["secret:redacted registered_secret"]);
    assert_eq!(
        structured["rows"][0]["note"],
        "k=[REDACTED:registered_secret]"
    );
    // Encoders' variants: mixed-case escapes, `/` left alone, `+` for a
    // space, `\/` in JSON.
    for variant in [
        "upstream%2fkey%2Bwith%20%22odd%22%20chars%3d42".to_owned(),
        "upstream/key%2Bwith%20%22odd%22%20chars%3D42".to_owned(),
        "upstream%2Fkey%2Bwith+%22odd%22+chars%3D42".to_owned(),
        json.trim_matches('"').replace('/', "\\/"),
    ] {
        scrubbed(&format!("value {variant} end"));
    }
    // A registered value does not hide the context a kind is found by.
    let dsn = format!("postgres://admin:{SECRET}@prod/db and postgres://app:Other5ecret@db/x");
    let out = redact(&dsn);
    assert!(!out.text.contains("Other5ecret"), "{:?}", out.text);
    // Text without it is untouched.
    let plain = "upstream services answered in 42 ms";
    assert_eq!(redact(plain).text, plain);
}

#[test]
fn secrets_from_the_environment_are_registered_by_name() {
    // Cargo sets these for the test process: a name of 11 bytes, and a
    // version digit too short to be scrubbed safely.
    assert_eq!(
        std::env::var("CARGO_PKG_NAME").as_deref(),
        Ok("secure-tool")
    );
    assert_eq!(
        register_env(&["CARGO_PKG_NAME", "REGISTERED_TEST_UNSET"]),
        Ok(1)
    );
    let refused = register_env(&["CARGO_PKG_VERSION_MAJOR"])
        .unwrap_err()
        .to_string();
    assert!(
        refused.starts_with("CARGO_PKG_VERSION_MAJOR: "),
        "{refused}"
    );
    assert!(
        refused.contains("at least 8 bytes, this one has 1"),
        "{refused}"
    );
    assert_eq!(
        redact("crate secure-tool here").text,
        "crate [REDACTED:registered_secret] here"
    );
}

#[test]
fn a_registered_number_is_scrubbed_from_a_refusal() {
    use secure_tool::{Gate, Reject};
    register("31415926535897932").unwrap();
    for value in [
        serde_json::json!(31_415_926_535_897_932_u64),
        serde_json::json!({ "n": [31_415_926_535_897_932_u64] }),
    ] {
        let refused = Reject::at(Gate::Range, Some("n".into()), "x").with_value(&value);
        let shown = refused.value().unwrap();
        assert!(!shown.contains("3141592"), "{shown}");
        assert!(shown.contains("[REDACTED:registered_secret]"), "{shown}");
    }
}

//! Secret redaction: every kind has a positive and a negative sample, a benign
//! corpus stays unchanged, and the single pass agrees with one regex at a time.
//! All samples are fabricated.

use secure_tool::guards::secrets::{KINDS, redact, redact_json, redact_one_at_a_time};

/// (kind, text holding a secret of that kind, a near miss that must stay).
const SAMPLES: &[(&str, &str, &str)] = &[
    (
        "private_key",
        "key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx\n-----END RSA PRIVATE KEY-----\n",
        "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkq\n-----END PUBLIC KEY-----",
    ),
    (
        "jwt",
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
        "eyJhbGciOiJIUzI1NiJ9 alone is just a header",
    ),
    (
        "aws_access_key",
        "aws AKIAIOSFODNN7EXAMPLE here",
        "AKIA-IOSFODNN7EXAMPLE is split",
    ),
    (
        "aws_secret_key",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "aws_secret_access_key = (set in the vault)",
    ),
    (
        "gcp_api_key",
        "key=AIzaSyA1234567890abcdefghijklmnopqrstuv",
        "AIza is a prefix, AIzaShort",
    ),
    (
        "gcp_service_account_key",
        r#"{"private_key_id": "0123456789abcdef0123456789abcdef01234567"}"#,
        r#"{"private_key_id": "see-console"}"#,
    ),
    (
        "google_oauth_client_secret",
        "GOCSPX-abcdefghijklmnopqrstuvwxyz12",
        "GOCSPX-short",
    ),
    (
        "azure_connection_string",
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=c2VjcmV0a2V5c2VjcmV0a2V5c2VjcmV0a2V5==;EndpointSuffix=core.windows.net",
        "DefaultEndpointsProtocol=https;AccountName=acct",
    ),
    (
        "azure_storage_key",
        concat!(
            "AccountKey=",
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwx=="
        ),
        "AccountKey=tooShort==",
    ),
    (
        "azure_sas_token",
        "https://acct.blob.core.windows.net/c?sv=2022-11-02&ss=b&sig=abcdefghijklmnopqrstuvwxyz0123456789ABCD%3D",
        "sv=2022-11-02&ss=b only",
    ),
    (
        "digitalocean_token",
        "dop_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "dop_v1_0123",
    ),
    (
        "databricks_token",
        "dapi0123456789abcdef0123456789abcdef",
        "dapi is an api prefix",
    ),
    (
        "github_fine_grained_token",
        "github_pat_11ABCDEFG0123456789012_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456",
        "github_pat_short",
    ),
    (
        "github_token",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "ghp_tooShort123",
    ),
    ("gitlab_token", "glpat-abcdefghij0123456789", "glpat-short"),
    (
        "npm_token",
        "npm_abcdefghijklmnopqrstuvwxyz0123456789",
        "npm_install is a word",
    ),
    (
        "pypi_token",
        "pypi-AgEIcHlwaS5vcmcCJDEyMzQ1Njc4LTEyMzQtMTIzNC0xMjM0LTEyMzQ1Njc4OTBhYgACKlsz",
        "pypi-package-name",
    ),
    (
        "huggingface_token",
        "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH",
        "hf_short",
    ),
    (
        "slack_webhook",
        "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "https://hooks.slack.com/",
    ),
    (
        "slack_app_token",
        "xapp-1-A0123456789-1234567890123-0123456789abcdef0123456789abcdef0123456789abcdef",
        "xapp-1-short",
    ),
    (
        "slack_bot_token",
        "xoxb-1234567890-1234567890123-abcdefghijklmnopqrstuvwx",
        "xoxb-123",
    ),
    (
        "slack_token",
        "xoxp-1234567890-1234567890-abcdef",
        "xox-not-a-token",
    ),
    (
        "discord_webhook",
        "https://discord.com/api/webhooks/123456789012345678/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab",
        "https://discord.com/api/webhooks/",
    ),
    (
        "telegram_bot_token",
        "123456789:AAabcdefghijklmnopqrstuvwxyz0123456",
        "123456789:BBshort",
    ),
    (
        "stripe_secret_key",
        "sk_live_abcdefghijklmnopqrstuvwx",
        "sk_live_short",
    ),
    (
        "stripe_restricted_key",
        "rk_test_abcdefghijklmnopqrstuvwx",
        "rk_test_short",
    ),
    (
        "stripe_webhook_secret",
        "whsec_abcdefghijklmnopqrstuvwxyz012345",
        "whsec_short",
    ),
    (
        "sendgrid_api_key",
        "SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ",
        "SG.short.token",
    ),
    (
        "twilio_api_key",
        "SK0123456789abcdef0123456789abcdef",
        "SKU-12345",
    ),
    (
        "mailgun_api_key",
        "key-0123456789abcdefghijklmnopqrstuv",
        "key-value pairs",
    ),
    (
        "shopify_token",
        "shpat_0123456789abcdef0123456789abcdef",
        "shpat_short",
    ),
    (
        "square_token",
        "sq0csp-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        "sq0csp-short",
    ),
    (
        "anthropic_api_key",
        "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL",
        "sk-ant-short",
    ),
    (
        "openai_api_key",
        "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMN",
        "sk-proj-short",
    ),
    (
        "age_secret_key",
        "AGE-SECRET-KEY-1QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7LQPZRY9X8GF2TVDW0S3JN54KHCE",
        "AGE-SECRET-KEY-1",
    ),
    (
        "postgres_connection_string",
        "db postgres://app:s3cr3t@db:5432/appdb",
        "postgres://db:5432/appdb without credentials",
    ),
    (
        "mysql_connection_string",
        "mysql://root:hunter2@10.0.0.5/shop",
        "mysql://10.0.0.5/shop",
    ),
    (
        "mongodb_connection_string",
        "mongodb+srv://svc:pa55w0rd@cluster0.example.net/db",
        "mongodb+srv://cluster0.example.net/db",
    ),
    (
        "redis_connection_string",
        "rediss://:topsecret@cache:6380/0",
        "redis://cache:6379/0",
    ),
    (
        "amqp_connection_string",
        "amqps://guest:guest2@mq.local/vhost",
        "amqp://mq.local/vhost",
    ),
    (
        "url_credentials",
        "fetch ftp://alice:wonderland@files.example.com/x",
        "https://example.com/@home",
    ),
    (
        "bearer_token",
        "Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123",
        "a bearer of good news",
    ),
    (
        "basic_auth",
        "Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l",
        "Authorization: none",
    ),
    (
        "api_key_assignment",
        "api_key=0123456789abcdef",
        "the api_key field is documented below",
    ),
    (
        "password_assignment",
        "password: hunter22",
        "password reset link sent",
    ),
];

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

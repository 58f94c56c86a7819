//! JWT verification: every way a token is refused, and the way it is accepted.

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use secure_tool::JwtVerifier;
use secure_tool::auth::AuthError;
use serde_json::{Value, json};

const SECRET: &[u8] = b"a test secret that is long enough for HS256";
const ISSUER: &str = "https://issuer.test";
const AUDIENCE: &str = "doc-server";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn claims() -> Value {
    json!({
        "sub": "alice",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "exp": now() + 600,
        "scope": "documents:read documents:update",
    })
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn hs256(claims: &Value) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(SECRET),
    )
    .unwrap()
}

fn verifier() -> JwtVerifier {
    JwtVerifier::hs256(SECRET, ISSUER, AUDIENCE).unwrap()
}

#[test]
fn a_valid_token_yields_its_subject_and_scopes() {
    let principal = verifier().check(&hs256(&claims())).unwrap();
    assert_eq!(principal.subject(), "alice");
    assert_eq!(principal.scopes(), ["documents:read", "documents:update"]);
}

#[test]
fn scopes_also_come_from_scp() {
    let mut c = claims();
    c.as_object_mut().unwrap().remove("scope");
    let as_list = with(c.clone(), "scp", json!(["documents:read"]));
    assert_eq!(
        verifier().check(&hs256(&as_list)).unwrap().scopes(),
        ["documents:read"]
    );
    let as_string = with(c, "scp", json!("documents:read documents:create"));
    assert_eq!(
        verifier().check(&hs256(&as_string)).unwrap().scopes(),
        ["documents:read", "documents:create"]
    );
}

#[test]
fn a_bad_signature_is_refused() {
    let forged = encode(
        &Header::new(Algorithm::HS256),
        &claims(),
        &EncodingKey::from_secret(b"another secret entirely, also long"),
    )
    .unwrap();
    assert_eq!(verifier().check(&forged), Err(AuthError::BadSignature));
    // A tampered payload under the original signature.
    let token = hs256(&claims());
    let parts: Vec<&str> = token.split('.').collect();
    let other = hs256(&with(claims(), "sub", json!("mallory")));
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        other.split('.').nth(1).unwrap(),
        parts[2]
    );
    assert_eq!(verifier().check(&tampered), Err(AuthError::BadSignature));
}

#[test]
fn alg_none_is_refused() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = b64.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = b64.encode(claims().to_string());
    for token in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}"),
    ] {
        let err = verifier().check(&token).unwrap_err();
        assert!(matches!(err, AuthError::Malformed(_)), "{err:?}");
    }
}

#[test]
fn a_token_naming_a_critical_extension_is_refused() {
    // RFC 7515 4.1.11: the server understands no extension, so any `crit`
    // refuses the token, even one correctly signed.
    for crit in [vec![], vec!["exp".to_owned()], vec!["b64".to_owned()]] {
        let mut header = Header::new(Algorithm::HS256);
        header.crit = Some(crit.clone());
        let token = encode(&header, &claims(), &EncodingKey::from_secret(SECRET)).unwrap();
        let err = verifier().check(&token).unwrap_err();
        assert!(
            matches!(err, AuthError::Malformed(why) if why.contains("crit")),
            "{crit:?}: {err:?}"
        );
    }
}

#[test]
fn a_token_for_another_audience_is_refused() {
    let token = hs256(&with(claims(), "aud", json!("other-service")));
    let err = verifier().check(&token).unwrap_err();
    assert_eq!(
        err.to_string(),
        "token audience \"other-service\" is not accepted (expected \"doc-server\")"
    );
    let mut c = claims();
    c.as_object_mut().unwrap().remove("aud");
    assert!(matches!(
        verifier().check(&hs256(&c)),
        Err(AuthError::Malformed(_))
    ));
}

#[test]
fn a_token_from_another_issuer_is_refused() {
    let token = hs256(&with(claims(), "iss", json!("https://evil.test")));
    assert_eq!(verifier().check(&token), Err(AuthError::WrongIssuer));
}

#[test]
fn an_expired_token_is_refused_beyond_the_leeway() {
    let token = hs256(&with(claims(), "exp", json!(now() - 120)));
    assert_eq!(verifier().check(&token), Err(AuthError::Expired));
    let within_leeway = hs256(&with(claims(), "exp", json!(now() - 5)));
    assert!(verifier().check(&within_leeway).is_ok());
}

#[test]
fn a_token_not_yet_valid_is_refused() {
    let token = hs256(&with(claims(), "nbf", json!(now() + 600)));
    assert_eq!(verifier().check(&token), Err(AuthError::NotYetValid));
}

#[test]
fn a_subject_is_bounded_by_the_verifier() {
    for sub in [String::new(), "a".repeat(257), "eve\u{1b}[2J".to_owned()] {
        let token = hs256(&with(claims(), "sub", json!(sub)));
        assert!(
            matches!(verifier().check(&token), Err(AuthError::Malformed(_))),
            "{sub:?}"
        );
    }
    let longest = "a".repeat(256);
    let token = hs256(&with(claims(), "sub", json!(longest)));
    assert_eq!(verifier().check(&token).unwrap().subject(), longest);
}

#[test]
fn a_token_without_a_scope_claim_is_refused() {
    let mut c = claims();
    c.as_object_mut().unwrap().remove("scope");
    assert_eq!(verifier().check(&hs256(&c)), Err(AuthError::NoScopeClaim));
}

#[test]
fn garbage_is_refused_and_never_echoed() {
    for token in ["", "not-a-jwt", "a.b.c", "eyJ.eyJ.sig"] {
        let err = verifier().check(token).unwrap_err();
        assert!(matches!(err, AuthError::Malformed(_)), "{token:?}: {err:?}");
    }
    let secretish = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.c2ln";
    let message = verifier().check(secretish).unwrap_err().to_string();
    assert!(!message.contains("c2VjcmV0"), "{message}");
}

#[test]
fn rs256_and_es256_keys_verify_their_own_signatures_only() {
    let keys = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys/");
    let read = |name: &str| std::fs::read(format!("{keys}{name}")).unwrap();

    let rs = JwtVerifier::rs256_pem(&read("rs256-public.pem"), ISSUER, AUDIENCE).unwrap();
    let signed = |alg, key: &EncodingKey| encode(&Header::new(alg), &claims(), key).unwrap();
    let rs_key = EncodingKey::from_rsa_pem(&read("rs256-private.pem")).unwrap();
    assert_eq!(
        rs.check(&signed(Algorithm::RS256, &rs_key))
            .unwrap()
            .subject(),
        "alice"
    );
    let other = EncodingKey::from_rsa_pem(&read("other-rs256-private.pem")).unwrap();
    assert_eq!(
        rs.check(&signed(Algorithm::RS256, &other)),
        Err(AuthError::BadSignature)
    );
    // An HS256 token cannot pass for RS256 by signing with the public key as a secret.
    let confused = signed(
        Algorithm::HS256,
        &EncodingKey::from_secret(&read("rs256-public.pem")),
    );
    assert!(matches!(rs.check(&confused), Err(AuthError::Malformed(_))));

    let es = JwtVerifier::es256_pem(&read("es256-public.pem"), ISSUER, AUDIENCE).unwrap();
    let es_key = EncodingKey::from_ec_pem(&read("es256-private.pem")).unwrap();
    assert_eq!(
        es.check(&signed(Algorithm::ES256, &es_key))
            .unwrap()
            .subject(),
        "alice"
    );
    assert!(es.check(&signed(Algorithm::RS256, &rs_key)).is_err());
}

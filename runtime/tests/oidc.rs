//! `OidcVerifier` against an issuer on loopback that serves fixed metadata, a
//! key set the test changes, and an introspection endpoint the test can take
//! down. (The same checks against a real OpenID provider run in
//! `tests/interop/oauth`.)

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use secure_tool::auth::{AuthError, TokenVerifier};
use secure_tool::oidc::{Issuer, OidcOptions, OidcVerifier};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const AUDIENCE: &str = "https://docs.example.com/mcp";

fn keys() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys/public.jwk.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn private(name: &str) -> EncodingKey {
    let path = format!("{}/tests/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    let pem = std::fs::read(path).unwrap();
    if name.starts_with("es") {
        EncodingKey::from_ec_pem(&pem).unwrap()
    } else {
        EncodingKey::from_rsa_pem(&pem).unwrap()
    }
}

/// What the issuer on loopback serves, and what it was asked.
#[derive(Default)]
struct Served {
    url: String,
    /// The `issuer` its metadata names (default: its own URL).
    names: Mutex<Option<String>>,
    jwks: Mutex<Vec<Value>>,
    active: Mutex<HashMap<String, Value>>,
    down: AtomicBool,
    keys_down: AtomicBool,
    key_fetches: AtomicU64,
    introspections: AtomicU64,
}

async fn issuer(jwks: Vec<Value>) -> Arc<Served> {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let served = Arc::new(Served {
        url: format!("http://{}", listener.local_addr().unwrap()),
        jwks: Mutex::new(jwks),
        ..Served::default()
    });
    let state = served.clone();
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let state = state.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                let (head, body) = loop {
                    let n = stream.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request).into_owned();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length: ")
                                    .map(str::to_owned)
                            })
                            .map_or(0, |n| n.trim().parse::<usize>().unwrap());
                        if body.len() >= length {
                            break (head.to_owned(), body.to_owned());
                        }
                    }
                };
                let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
                let answer = match path.as_str() {
                    "/.well-known/openid-configuration" => json!({
                        "issuer": state.names.lock().unwrap().clone().unwrap_or(state.url.clone()),
                        "jwks_uri": format!("{}/jwks", state.url),
                        "introspection_endpoint": format!("{}/introspect", state.url),
                    }),
                    "/jwks" => {
                        state.key_fetches.fetch_add(1, Ordering::SeqCst);
                        if state.keys_down.load(Ordering::SeqCst) {
                            return; // the connection closes unanswered
                        }
                        json!({ "keys": state.jwks.lock().unwrap().clone() })
                    }
                    "/introspect" => {
                        state.introspections.fetch_add(1, Ordering::SeqCst);
                        if state.down.load(Ordering::SeqCst) {
                            return; // the connection closes unanswered
                        }
                        // Basic base64("doc-server:s3cret")
                        assert!(head.contains("Basic ZG9jLXNlcnZlcjpzM2NyZXQ="), "{head}");
                        let token = body
                            .strip_prefix("token=")
                            .unwrap()
                            .split('&')
                            .next()
                            .unwrap();
                        state
                            .active
                            .lock()
                            .unwrap()
                            .get(token)
                            .cloned()
                            .unwrap_or(json!({ "active": false }))
                    }
                    _ => Value::Null,
                };
                let body = answer.to_string();
                let status = if answer.is_null() {
                    "404 Not Found"
                } else {
                    "200 OK"
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    served
}

/// Whether a refusal is the one a case expects.
type Expected = fn(&AuthError) -> bool;

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn claims(iss: &str) -> Value {
    json!({ "iss": iss, "sub": "alice", "aud": AUDIENCE, "exp": now() + 300, "scope": "documents:read" })
}

fn signed(alg: Algorithm, kid: &str, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    encode(&header, claims, key).unwrap()
}

async fn verifier(served: &Served, options: OidcOptions) -> OidcVerifier {
    let issuer = Issuer::new(&served.url, AUDIENCE).with_introspection("doc-server", "s3cret");
    OidcVerifier::discover(vec![issuer], options).await.unwrap()
}

#[tokio::test]
async fn a_token_of_the_issuer_is_accepted_and_every_other_refused() {
    let keys = keys();
    let served = issuer(vec![keys["rs256"].clone(), keys["es256"].clone()]).await;
    let v = verifier(&served, OidcOptions::default()).await;
    let rs = private("rs256-private.pem");
    let url = &served.url;

    let good = v
        .verify(&signed(Algorithm::RS256, "rs-1", &rs, &claims(url)))
        .await
        .unwrap();
    assert_eq!(
        (good.subject(), good.scopes()),
        ("alice", &["documents:read".to_owned()][..])
    );
    let es = signed(
        Algorithm::ES256,
        "es-1",
        &private("es256-private.pem"),
        &claims(url),
    );
    assert_eq!(v.verify(&es).await.unwrap().subject(), "alice");

    let mut other_aud = claims(url);
    other_aud["aud"] = json!("https://other.example/mcp");
    let mut expired = claims(url);
    expired["exp"] = json!(now() - 120);
    let none = {
        use base64::Engine as _;
        let b64 =
            |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.", b64(&json!({ "alg": "none" })), b64(&claims(url)))
    };
    let public_pem = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/keys/rs256-public.pem"
    ))
    .unwrap();
    let refusals: Vec<(&str, String, Expected)> = vec![
        (
            "another audience",
            signed(Algorithm::RS256, "rs-1", &rs, &other_aud),
            |e| matches!(e, AuthError::WrongAudience { .. }),
        ),
        (
            "expired",
            signed(Algorithm::RS256, "rs-1", &rs, &expired),
            |e| *e == AuthError::Expired,
        ),
        (
            "another issuer",
            signed(
                Algorithm::RS256,
                "rs-1",
                &rs,
                &claims("https://issuer.example"),
            ),
            |e| *e == AuthError::WrongIssuer,
        ),
        (
            "a key not in the set, under a published kid",
            signed(
                Algorithm::RS256,
                "rs-1",
                &private("other-rs256-private.pem"),
                &claims(url),
            ),
            |e| *e == AuthError::BadSignature,
        ),
        (
            "a key not in the set",
            signed(
                Algorithm::RS256,
                "rs-9",
                &private("other-rs256-private.pem"),
                &claims(url),
            ),
            |e| *e == AuthError::BadSignature,
        ),
        (
            "the public key as an HMAC secret",
            signed(
                Algorithm::HS256,
                "rs-1",
                &EncodingKey::from_secret(&public_pem),
                &claims(url),
            ),
            |e| matches!(e, AuthError::Malformed(_)),
        ),
        (
            "an RSA key claimed for ES256",
            signed(
                Algorithm::ES256,
                "rs-1",
                &private("es256-private.pem"),
                &claims(url),
            ),
            |e| *e == AuthError::BadSignature,
        ),
        ("alg none", none, |e| matches!(e, AuthError::Malformed(_))),
        (
            "bound to a key (cnf) whose proof is not checked here",
            signed(Algorithm::RS256, "rs-1", &rs, &{
                let mut c = claims(url);
                c["cnf"] = json!({ "jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" });
                c
            }),
            |e| matches!(e, AuthError::Malformed(_)),
        ),
        ("too long", "a".repeat(17 * 1024), |e| {
            matches!(e, AuthError::Malformed(_))
        }),
        (
            "a critical extension, correctly signed",
            {
                let mut header = Header::new(Algorithm::RS256);
                header.kid = Some("rs-1".to_owned());
                header.crit = Some(vec!["b64".to_owned()]);
                encode(&header, &claims(url), &rs).unwrap()
            },
            |e| matches!(e, AuthError::Malformed(why) if why.contains("crit")),
        ),
    ];
    for (what, token, expected) in refusals {
        let refused = v.verify(&token).await.unwrap_err();
        assert!(expected(&refused), "{what}: {refused:?}");
    }
}

#[tokio::test]
async fn hmac_and_an_algorithm_off_the_list_are_never_accepted() {
    assert!(
        Issuer::new("https://i.example", AUDIENCE)
            .with_algorithms(&[Algorithm::RS256, Algorithm::HS256])
            .is_err()
    );
    let keys = keys();
    let served = issuer(vec![keys["rs256"].clone(), keys["es256"].clone()]).await;
    let only_rs = Issuer::new(&served.url, AUDIENCE)
        .with_algorithms(&[Algorithm::RS256])
        .unwrap();
    let v = OidcVerifier::discover(vec![only_rs], OidcOptions::default())
        .await
        .unwrap();
    let es = signed(
        Algorithm::ES256,
        "es-1",
        &private("es256-private.pem"),
        &claims(&served.url),
    );
    assert_eq!(
        v.verify(&es).await,
        Err(AuthError::Malformed("algorithm not accepted"))
    );
}

#[tokio::test]
async fn unknown_kids_fetch_the_key_set_at_most_once_per_period() {
    let keys = keys();
    let served = issuer(vec![keys["rs256"].clone()]).await;
    let options = OidcOptions {
        refresh_every: Duration::from_secs(3600),
        ..OidcOptions::default()
    };
    let v = Arc::new(verifier(&served, options).await);
    assert_eq!(served.key_fetches.load(Ordering::SeqCst), 1);
    // An attacker needs no key to make up a kid: one signed token, its
    // header swapped, and the signature left as it is.
    let signed = signed(
        Algorithm::RS256,
        "rs-1",
        &private("other-rs256-private.pem"),
        &claims(&served.url),
    );
    let (_, rest) = signed.split_once('.').unwrap();
    let flood = (0..200).map(|i| {
        use base64::Engine as _;
        let header = json!({ "alg": "RS256", "kid": format!("made-up-{i}") }).to_string();
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(header);
        let token = format!("{header}.{rest}");
        let v = v.clone();
        tokio::spawn(async move { v.verify(&token).await })
    });
    for refused in futures_join(flood).await {
        assert_eq!(refused, Err(AuthError::BadSignature));
    }
    assert_eq!(
        served.key_fetches.load(Ordering::SeqCst),
        1,
        "the start-up fetch only"
    );
    assert_eq!(v.key_fetches(&served.url), 1);
}

async fn futures_join<T: Send + 'static>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}

#[tokio::test]
async fn a_rotated_key_is_fetched_without_a_restart() {
    let keys = keys();
    let served = issuer(vec![keys["rs256"].clone()]).await;
    let options = OidcOptions {
        refresh_every: Duration::ZERO,
        ..OidcOptions::default()
    };
    let v = verifier(&served, options).await;
    let rotated = signed(
        Algorithm::RS256,
        "rs-2",
        &private("other-rs256-private.pem"),
        &claims(&served.url),
    );
    assert_eq!(v.verify(&rotated).await, Err(AuthError::BadSignature));
    assert_eq!(served.key_fetches.load(Ordering::SeqCst), 2);
    served
        .jwks
        .lock()
        .unwrap()
        .push(keys["other-rs256"].clone());
    assert_eq!(v.verify(&rotated).await.unwrap().subject(), "alice");
    assert_eq!(served.key_fetches.load(Ordering::SeqCst), 3);
    // A known kid costs no fetch.
    assert!(v.verify(&rotated).await.is_ok());
    assert_eq!(served.key_fetches.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn metadata_naming_another_issuer_is_refused() {
    let served = issuer(vec![keys()["rs256"].clone()]).await;
    *served.names.lock().unwrap() = Some("https://attacker.example".into());
    let refused = OidcVerifier::discover(
        vec![Issuer::new(&served.url, AUDIENCE)],
        OidcOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("names the issuer \"https://attacker.example\""),
        "{refused}"
    );
    for url in [
        "http://192.0.2.1",
        "ftp://127.0.0.1",
        "https://user:pw@issuer.example",
    ] {
        let refused =
            OidcVerifier::discover(vec![Issuer::new(url, AUDIENCE)], OidcOptions::default())
                .await
                .unwrap_err();
        assert!(refused.to_string().contains("issuer"), "{url}: {refused}");
    }
}

#[tokio::test]
async fn opaque_tokens_are_introspected_cached_and_refused_while_the_endpoint_is_down() {
    let served = issuer(vec![keys()["rs256"].clone()]).await;
    let active = |aud: &str, exp: u64| json!({ "active": true, "client_id": "alice", "scope": "documents:read", "aud": aud, "exp": exp, "iss": served.url });
    {
        let mut table = served.active.lock().unwrap();
        table.insert("good".into(), active(AUDIENCE, now() + 300));
        table.insert("later".into(), active(AUDIENCE, now() + 300));
        table.insert(
            "foreign".into(),
            active("https://other.example/mcp", now() + 300),
        );
        table.insert("expired".into(), active(AUDIENCE, now() - 120));
        table.insert(
            "no-scope".into(),
            json!({ "active": true, "sub": "alice", "aud": AUDIENCE, "exp": now() + 300 }),
        );
    }
    let v = verifier(&served, OidcOptions::default()).await;
    let asked = || served.introspections.load(Ordering::SeqCst);

    // A client acting for itself is its own subject.
    assert_eq!(v.verify("good").await.unwrap().subject(), "alice");
    assert!(v.verify("good").await.is_ok());
    assert_eq!(asked(), 1, "the second answer came from the cache");

    assert_eq!(v.verify("nobody").await, Err(AuthError::Unknown));
    assert_eq!(v.verify("nobody").await, Err(AuthError::Unknown));
    assert_eq!(asked(), 2, "a refusal is cached for a while too");
    assert!(matches!(
        v.verify("foreign").await,
        Err(AuthError::WrongAudience { .. })
    ));
    assert_eq!(v.verify("expired").await, Err(AuthError::Expired));
    assert_eq!(v.verify("no-scope").await, Err(AuthError::NoScopeClaim));

    served.down.store(true, Ordering::SeqCst);
    let before = asked();
    assert_eq!(v.verify("later").await, Err(AuthError::Unavailable));
    assert_eq!(v.verify("later").await, Err(AuthError::Unavailable));
    assert_eq!(asked(), before + 2, "an unanswered question is not cached");
    assert!(v.verify("good").await.is_ok(), "what is cached still holds");
    served.down.store(false, Ordering::SeqCst);
    assert_eq!(v.verify("later").await.unwrap().subject(), "alice");
}

#[tokio::test]
async fn the_approval_audience_shares_the_keys_but_not_the_audience() {
    let served = issuer(vec![keys()["rs256"].clone()]).await;
    let v = verifier(&served, OidcOptions::default()).await;
    let page = v.for_audience("https://docs.example.com/approve");
    let rs = private("rs256-private.pem");
    let mut for_page = claims(&served.url);
    for_page["aud"] = json!("https://docs.example.com/approve");
    let for_page = signed(Algorithm::RS256, "rs-1", &rs, &for_page);
    let for_mcp = signed(Algorithm::RS256, "rs-1", &rs, &claims(&served.url));
    assert!(page.verify(&for_page).await.is_ok());
    assert!(matches!(
        page.verify(&for_mcp).await,
        Err(AuthError::WrongAudience { .. })
    ));
    assert!(matches!(
        v.verify(&for_page).await,
        Err(AuthError::WrongAudience { .. })
    ));
    assert_eq!(served.key_fetches.load(Ordering::SeqCst), 1);
    assert_eq!(page.authorization_servers(), vec![served.url.clone()]);
}

#[tokio::test]
async fn roles_come_from_the_configured_claim_and_are_bounded() {
    let served = issuer(vec![keys()["rs256"].clone()]).await;
    let options = OidcOptions {
        roles_claim: Some("realm_access.roles".into()),
        ..OidcOptions::default()
    };
    let v = verifier(&served, options).await;
    let rs = private("rs256-private.pem");
    let with = |roles: Value| {
        let mut c = claims(&served.url);
        c["realm_access"] = json!({ "roles": roles });
        signed(Algorithm::RS256, "rs-1", &rs, &c)
    };
    let p = v.verify(&with(json!(["editor", "viewer"]))).await.unwrap();
    assert_eq!(p.roles(), ["editor", "viewer"]);
    let p = v.verify(&with(json!("editor viewer"))).await.unwrap();
    assert_eq!(p.roles(), ["editor", "viewer"]);
    let none = signed(Algorithm::RS256, "rs-1", &rs, &claims(&served.url));
    assert!(v.verify(&none).await.unwrap().roles().is_empty());
    let too_many: Vec<String> = (0..65).map(|i| format!("r{i}")).collect();
    for bad in [
        json!(7),
        json!([1]),
        json!(["a\nb"]),
        json!(["x".repeat(129)]),
        json!(too_many),
    ] {
        assert!(
            matches!(
                v.verify(&with(bad.clone())).await,
                Err(AuthError::Malformed(_))
            ),
            "{bad}"
        );
    }
    // An introspected token's roles, from the same claim of the answer.
    served.active.lock().unwrap().insert(
        "opaque".into(),
        json!({ "active": true, "sub": "erin", "scope": "documents:read", "aud": AUDIENCE,
                "exp": now() + 300, "realm_access": { "roles": ["viewer"] } }),
    );
    assert_eq!(v.verify("opaque").await.unwrap().roles(), ["viewer"]);
    // Without the option, a roles claim is ignored.
    let plain = verifier(&served, OidcOptions::default()).await;
    assert!(
        plain
            .verify(&with(json!(["admin"])))
            .await
            .unwrap()
            .roles()
            .is_empty()
    );
}

#[tokio::test]
async fn keys_the_issuer_stops_confirming_stop_verifying() {
    let served = issuer(vec![keys()["rs256"].clone()]).await;
    let options = OidcOptions {
        refresh_every: Duration::ZERO,
        max_key_age: Duration::from_millis(500),
        ..OidcOptions::default()
    };
    let v = verifier(&served, options).await;
    let token = signed(
        Algorithm::RS256,
        "rs-1",
        &private("rs256-private.pem"),
        &claims(&served.url),
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    // Stale keys are fetched again before use.
    assert!(v.verify(&token).await.is_ok());
    assert_eq!(served.key_fetches.load(Ordering::SeqCst), 2);
    // The key set stops answering: the known keys serve a while, then not at all.
    served.keys_down.store(true, Ordering::SeqCst);
    assert!(v.verify(&token).await.is_ok(), "within twice the key age");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(v.verify(&token).await, Err(AuthError::Unavailable));
    served.keys_down.store(false, Ordering::SeqCst);
    assert!(
        v.verify(&token).await.is_ok(),
        "served again once the keys are confirmed"
    );
}

//! `confirm = "human"`: a person approves on the server's own page, outside
//! the MCP client, and the call runs once on the client's retry after that.
//! The page is driven here as a browser would, request by request: a real
//! browser drives it in `tests/interop/approval.py`.

use std::net::SocketAddr;
use std::sync::Mutex;

use hyper::{Method, StatusCode};
use secure_tool::auth::{AuthError, TokenVerifier, Verification};
use secure_tool::consent::Rounds;
use secure_tool::http::HttpOptions;
use secure_tool::server::Tools as _;
use secure_tool::{Authorizer, Reject, Server, StaticToken, StaticTokens, secure_tool, server};
use secure_tool_tests::http::{Answer, Browser, call_2026, form_token, send};
use secure_tool_tests::{Human, connect_2026, text};
use serde_json::{Value, json};

/// The ids each test's calls purged: a test counts its own.
static PURGED: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn times_purged(id: u32) -> usize {
    PURGED.lock().unwrap().iter().filter(|&&p| p == id).count()
}

/// Purges a record for good.
#[secure_tool(scope = "vault:purge", confirm = "human", max(id = 10000))]
fn purge(id: u32) -> Result<String, Reject> {
    PURGED.lock().unwrap().push(id);
    Ok(format!("purged {id}"))
}

server!(Vault { purge });

const ALICE: &str = "tok-alice-vault";
const BOB: &str = "tok-bob-vault";
/// What alice and bob sign in with on the approval page: credentials the
/// MCP client does not hold.
const ALICE_APPROVER: &str = "pw-alice-vault";
const BOB_APPROVER: &str = "pw-bob-vault";

async fn vault() -> Server<Vault> {
    let token = |subject: &str| StaticToken {
        subject: subject.into(),
        audience: "vault".into(),
        expires_at: u64::MAX,
        scopes: vec!["vault:purge".into()],
    };
    let tokens = StaticTokens::new("vault")
        .with(ALICE, token("alice"))
        .with(BOB, token("bob"));
    let authz = Authorizer::in_memory().await;
    authz.grant_tools("purger", Vault::TOOLS).await.unwrap();
    authz.assign("alice", "purger").await.unwrap();
    authz.assign("bob", "purger").await.unwrap();
    let approver = |subject: &str| StaticToken {
        subject: subject.into(),
        audience: "vault-approval".into(),
        expires_at: u64::MAX,
        scopes: Vec::new(),
    };
    let approvers = StaticTokens::new("vault-approval")
        .with(ALICE_APPROVER, approver("alice"))
        .with(BOB_APPROVER, approver("bob"));
    Server::new(Vault)
        .with_verifier(tokens)
        .with_authorizer(authz)
        .with_consent_rounds(Rounds::ephemeral().with_approver(approvers))
}

async fn start() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(vault().await.serve_http(listener, HttpOptions::default()));
    addr
}

/// A `tools/call` of `purge` on protocol 2026-07-28.
async fn call(
    addr: SocketAddr,
    token: &str,
    id: u32,
    elicitation: Value,
    retry: Option<(&str, Value)>,
) -> Answer {
    let arguments = json!({"id": id, "confirm": true});
    call_2026(addr, token, "purge", arguments, elicitation, retry).await
}

fn url_mode() -> Value {
    json!({"url": {}})
}

fn accepted() -> Value {
    json!({"confirm": {"action": "accept"}})
}

use secure_tool_tests::http::page_question as question;

fn outcome(answer: &Answer) -> (bool, String) {
    secure_tool_tests::http::result_text(answer)
}

fn header<'a>(answer: &'a Answer, name: &str) -> &'a str {
    answer
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_person_approves_on_the_page_and_the_retry_runs_once() {
    let addr = start().await;
    let first = call(addr, ALICE, 201, url_mode(), None).await;
    let (url, state) = question(&first);
    assert!(url.starts_with(&format!("http://{addr}/approve/")), "{url}");
    assert_eq!(times_purged(201), 0);

    // Before anyone decides, the retry is asked again, for the same approval.
    let early = call(addr, ALICE, 201, url_mode(), Some((&state, accepted()))).await;
    assert_eq!(question(&early).0, url);

    let mut browser = Browser::open(addr, &url);
    let (page, html) = browser.get().await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(html.contains("Sign in"), "{html}");
    assert!(
        !html.contains("201"),
        "the action is shown only to its subject: {html}"
    );
    let csp = header(&page, "content-security-policy");
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert_eq!(header(&page, "x-frame-options"), "DENY");

    let signed_in = browser.sign_in(ALICE_APPROVER).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    let (_, html) = browser.get().await;
    assert!(
        html.contains("Signed in as <strong id=\"subject\">alice</strong>"),
        "{html}"
    );
    assert!(
        html.contains(
            "<pre id=\"action\">purge {&quot;confirm&quot;:true,&quot;id&quot;:201}</pre>"
        ),
        "{html}"
    );

    let csrf = form_token(&html);
    let decided = browser.decide("approve").await;
    assert_eq!(decided.status, StatusCode::OK);
    let (_, html) = browser.get().await;
    assert!(html.contains("This action was already approved"), "{html}");
    let origin = browser.origin();
    let again = browser
        .request(
            Method::POST,
            "/decide",
            &format!("csrf={csrf}&decision=deny"),
            &origin,
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "decided once");

    let done = call(addr, ALICE, 201, url_mode(), Some((&state, accepted()))).await;
    assert_eq!(outcome(&done), (false, "purged 201".to_owned()));
    let replayed = call(addr, ALICE, 201, url_mode(), Some((&state, accepted()))).await;
    let (error, text) = outcome(&replayed);
    assert!(
        error && text.contains("this approval was already used"),
        "{text}"
    );
    assert_eq!(times_purged(201), 1);
}

#[tokio::test]
async fn a_denial_refuses_the_call() {
    let addr = start().await;
    let (url, state) = question(&call(addr, ALICE, 202, url_mode(), None).await);
    let mut browser = Browser::open(addr, &url);
    browser.sign_in(ALICE_APPROVER).await;
    assert_eq!(browser.decide("deny").await.status, StatusCode::OK);
    let done = call(addr, ALICE, 202, url_mode(), Some((&state, accepted()))).await;
    let (error, text) = outcome(&done);
    assert!(
        error && text.contains("the person denied this action"),
        "{text}"
    );
    assert_eq!(times_purged(202), 0);
}

#[tokio::test]
async fn another_subject_can_neither_see_nor_decide_nor_use_the_approval() {
    let addr = start().await;
    let (url, state) = question(&call(addr, ALICE, 203, url_mode(), None).await);
    let mut bob = Browser::open(addr, &url);
    let refused = bob.sign_in(BOB_APPROVER).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(
        String::from_utf8_lossy(&refused.raw).contains("does not sign in to decide this approval")
    );
    let (_, html) = bob.get().await;
    assert!(html.contains("Sign in") && !html.contains("203"), "{html}");
    // Alice approves; bob cannot spend her approval on his own call.
    let mut alice = Browser::open(addr, &url);
    alice.sign_in(ALICE_APPROVER).await;
    alice.decide("approve").await;
    let stolen = call(addr, BOB, 203, url_mode(), Some((&state, accepted()))).await;
    let (error, text) = outcome(&stolen);
    assert!(
        error && text.contains("not valid for this caller"),
        "{text}"
    );
    // Nor a call with other arguments.
    let other = call(addr, ALICE, 204, url_mode(), Some((&state, accepted()))).await;
    assert!(outcome(&other).0);
    assert_eq!(times_purged(203) + times_purged(204), 0);
}

#[tokio::test]
async fn a_form_the_page_did_not_issue_is_refused() {
    let addr = start().await;
    let (url, state) = question(&call(addr, ALICE, 205, url_mode(), None).await);
    let mut browser = Browser::open(addr, &url);
    // Sign-in without the form token, or with one of another form.
    let origin = browser.origin();
    let bare = browser
        .request(
            Method::POST,
            "/login",
            &format!("token={ALICE_APPROVER}"),
            &origin,
        )
        .await;
    assert_eq!(bare.status, StatusCode::FORBIDDEN);
    browser.sign_in(ALICE_APPROVER).await;
    // A cross-site form: the session cookie rides along, the form token cannot.
    let forged = browser
        .request(Method::POST, "/decide", "decision=approve", &origin)
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let (_, html) = browser.get().await;
    let csrf = form_token(&html);
    let cross_site = browser
        .request(
            Method::POST,
            "/decide",
            &format!("csrf={csrf}&decision=approve"),
            "https://attacker.example",
        )
        .await;
    assert_eq!(cross_site.status, StatusCode::FORBIDDEN);
    let still = call(addr, ALICE, 205, url_mode(), Some((&state, accepted()))).await;
    assert_eq!(question(&still).0, url, "still pending");
    assert_eq!(times_purged(205), 0);
}

#[tokio::test]
async fn a_client_without_a_way_to_reach_a_person_is_refused() {
    let addr = start().await;
    for capability in [json!({"form": {}}), json!({})] {
        let answer = call(addr, ALICE, 206, capability, None).await;
        let (error, text) = outcome(&answer);
        assert!(
            error && text.contains("this client cannot open a page for its user"),
            "{text}"
        );
    }
    // Over stdio no approval page exists at all.
    let client = connect_2026(vault().await, Human::answering(Some(true))).await;
    let result = client
        .call_tool(
            rmcp::model::CallToolRequestParams::new("purge").with_arguments(
                json!({"id": 206, "confirm": true, "token": ALICE})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
        )
        .await
        .unwrap();
    assert!(
        text(&result).contains("call it over HTTP"),
        "{}",
        text(&result)
    );
    assert_eq!(times_purged(206), 0);
}

#[tokio::test]
async fn an_unknown_or_malformed_approval_is_not_found() {
    let addr = start().await;
    for path in [
        "/approve/0123456789abcdef0123456789abcdef",
        "/approve/../mcp",
        "/approve/",
    ] {
        let answer = send(addr, Method::GET, path, &[], Vec::new()).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn the_credential_of_the_mcp_client_cannot_approve_its_own_call() {
    let addr = start().await;
    let (url, state) = question(&call(addr, ALICE, 207, url_mode(), None).await);
    let mut client = Browser::open(addr, &url);
    let refused = client.sign_in(ALICE).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let (_, html) = client.get().await;
    assert!(html.contains("Sign in") && !html.contains("207"), "{html}");
    let still = call(addr, ALICE, 207, url_mode(), Some((&state, accepted()))).await;
    assert_eq!(question(&still).0, url, "still waiting for a person");
    assert_eq!(times_purged(207), 0);
}

#[tokio::test]
async fn without_a_sign_in_for_approvers_no_person_can_be_reached() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = vault().await.with_consent_rounds(Rounds::ephemeral());
    tokio::spawn(server.serve_http(listener, HttpOptions::default()));
    let answer = call(addr, ALICE, 208, url_mode(), None).await;
    let (error, text) = outcome(&answer);
    assert!(error && text.contains("no sign-in for approvers"), "{text}");
    assert_eq!(times_purged(208), 0);
}

#[tokio::test]
async fn failed_sign_ins_are_throttled_per_address() {
    let addr = start().await;
    let (url, _) = question(&call(addr, ALICE, 209, url_mode(), None).await);
    let mut guesser = Browser::open(addr, &url);
    let first = guesser.sign_in("pw-guess").await.status;
    assert_eq!(first, StatusCode::UNAUTHORIZED);
    // Ten failures a second are allowed an address; a guesser makes more.
    let throttled = async {
        for guess in 0..1000 {
            let status = guesser.sign_in(&format!("pw-guess-{guess}")).await.status;
            if status == StatusCode::TOO_MANY_REQUESTS {
                return true;
            }
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
        false
    };
    assert!(throttled.await, "a guesser is held back");
}

/// Behind a proxy that serves the server under a path, the page's links,
/// forms and cookies carry that path, as the browser sees them.
#[tokio::test]
async fn the_page_lives_beneath_the_public_url() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let options = HttpOptions {
        public_url: Some(format!("http://{addr}/vault/")),
        ..HttpOptions::default()
    };
    tokio::spawn(vault().await.serve_http(listener, options));
    let (url, _) = question(&call(addr, ALICE, 210, url_mode(), None).await);
    let id = url.rsplit('/').next().unwrap().to_owned();
    assert_eq!(url, format!("http://{addr}/vault/approve/{id}"));
    // The proxy strips `/vault` before the request reaches the server.
    let page = send(
        addr,
        Method::GET,
        &format!("/approve/{id}"),
        &[],
        Vec::new(),
    )
    .await;
    let html = String::from_utf8_lossy(&page.raw);
    assert!(
        html.contains(&format!("action=\"/vault/approve/{id}/login\"")),
        "{html}"
    );
    let cookie = page.headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains(&format!("Path=/vault/approve/{id};")),
        "{cookie}"
    );
}

/// The MCP verifier, but silent (its issuer not answering) for one token.
struct SilentFor(StaticTokens, &'static str);

impl TokenVerifier for SilentFor {
    fn verify<'a>(&'a self, token: &'a str) -> Verification<'a> {
        if token == self.1 {
            Verification::from(Err(AuthError::Unavailable))
        } else {
            self.0.verify(token)
        }
    }
}

#[tokio::test]
async fn nobody_signs_in_while_the_issuer_cannot_say_whose_credential_it_is() {
    // The approver credential verifies as alice's, but whether it is also a
    // credential of the MCP client cannot be told: no sign-in.
    let tokens = StaticTokens::new("vault").with(
        ALICE,
        StaticToken {
            subject: "alice".into(),
            audience: "vault".into(),
            expires_at: u64::MAX,
            scopes: vec!["vault:purge".into()],
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = vault()
        .await
        .with_verifier(SilentFor(tokens, ALICE_APPROVER));
    tokio::spawn(server.serve_http(listener, HttpOptions::default()));
    let (url, state) = question(&call(addr, ALICE, 210, url_mode(), None).await);
    let mut client = Browser::open(addr, &url);
    let refused = client.sign_in(ALICE_APPROVER).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    let (_, html) = client.get().await;
    assert!(html.contains("Sign in") && !html.contains("210"), "{html}");
    let still = call(addr, ALICE, 210, url_mode(), Some((&state, accepted()))).await;
    assert_eq!(question(&still).0, url, "still waiting for a person");
    assert_eq!(times_purged(210), 0);
}

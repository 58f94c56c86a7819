//! Consent on protocol 2026-07-28: a destructive call is answered with an
//! `InputRequiredResult`, and runs only on a retry that carries the user's
//! approval and the sealed state the question went out with — for the same
//! caller, tool and arguments, before it expires, once.

use std::sync::Mutex;
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ClientCapabilities, ClientConfig,
    Implementation, InputRequest, InputRequiredResult, InputResponses,
};
use rmcp::service::RunningService;
use rmcp::{ClientHandler, RoleClient};
use secure_tool::consent::Rounds;
use secure_tool::pipeline::Guards;
use secure_tool::server::Tools as _;
use secure_tool::{Authorizer, Reject, Server, StaticToken, StaticTokens, secure_tool, server};
use secure_tool_tests::{Human, connect_2026, text};
use serde_json::{Value, json};

/// The ids each test's calls wiped: a test counts its own.
static WIPED: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn times_wiped(id: u32) -> usize {
    WIPED.lock().unwrap().iter().filter(|&&w| w == id).count()
}

/// Wipes a note.
#[secure_tool(public, confirm, max(id = 10000))]
fn wipe(id: u32) -> Result<String, Reject> {
    WIPED.lock().unwrap().push(id);
    Ok(format!("wiped {id}"))
}

/// Erases a note, for callers granted `notes:erase`.
#[secure_tool(scope = "notes:erase", confirm, max(id = 10000))]
fn erase(id: u32) -> Result<String, Reject> {
    WIPED.lock().unwrap().push(id);
    Ok(format!("erased {id}"))
}

server!(Notes { wipe, erase });

const ALICE: &str = "tok-alice-consent";
const BOB: &str = "tok-bob-consent";

async fn notes(rounds: Rounds, consent_timeout: Option<Duration>) -> Server<Notes> {
    let token = |subject: &str| StaticToken {
        subject: subject.into(),
        audience: "notes".into(),
        expires_at: u64::MAX,
        scopes: vec!["notes:erase".into()],
    };
    let tokens = StaticTokens::new("notes")
        .with(ALICE, token("alice"))
        .with(BOB, token("bob"));
    let authz = Authorizer::in_memory().await;
    authz.grant_tools("eraser", Notes::TOOLS).await.unwrap();
    authz.assign("alice", "eraser").await.unwrap();
    authz.assign("bob", "eraser").await.unwrap();
    Server::new(Notes)
        .with_verifier(tokens)
        .with_authorizer(authz)
        .with_guards(Guards {
            consent_timeout,
            ..Guards::default()
        })
        .with_consent_rounds(rounds)
}

const KEY: &[u8] = b"a consent key of thirty-two bytes or more";

type Client<C> = RunningService<RoleClient, C>;

fn params(tool: &'static str, args: Value) -> CallToolRequestParams {
    let Value::Object(args) = args else {
        panic!("arguments must be an object");
    };
    CallToolRequestParams::new(tool).with_arguments(args)
}

/// One round: the call without an answer, which must be a question.
async fn ask<C: ClientHandler>(
    client: &Client<C>,
    request: CallToolRequestParams,
) -> InputRequiredResult {
    match client.call_tool_once(request).await.unwrap() {
        CallToolResponse::InputRequired(question) => question,
        other => panic!("expected a question, got {other:?}"),
    }
}

fn accept(approve: bool) -> InputResponses {
    let mut answers = InputResponses::new();
    answers.insert(
        "confirm".into(),
        json!({"action": "accept", "content": {"approve": approve}}),
    );
    answers
}

/// The retry of `request` with `state` and `answers`, which must complete.
async fn retry<C: ClientHandler>(
    client: &Client<C>,
    request: CallToolRequestParams,
    state: &str,
    answers: InputResponses,
) -> CallToolResult {
    let request = request
        .with_request_state(state.to_owned())
        .with_input_responses(answers);
    match client.call_tool_once(request).await.unwrap() {
        CallToolResponse::Complete(result) => result,
        other => panic!("expected a result, got {other:?}"),
    }
}

fn refused(result: &CallToolResult, reason: &str) {
    assert_eq!(result.is_error, Some(true), "{result:?}");
    assert!(
        text(result).starts_with("rejected by confirm gate: confirm: blocked: "),
        "{}",
        text(result)
    );
    assert!(text(result).contains(reason), "{}", text(result));
}

#[tokio::test]
async fn an_approved_call_runs_once_after_the_user_is_asked() {
    let human = Human::answering(Some(true));
    let client = connect_2026(notes(Rounds::ephemeral(), None).await, human.clone()).await;
    let result = client
        .call_tool(params("wipe", json!({"id": 101, "confirm": true})))
        .await
        .unwrap();
    assert_eq!(text(&result), "wiped 101");
    assert_eq!(human.asked(), 1);
    assert_eq!(times_wiped(101), 1);
    let shown = human.shown.lock().unwrap().clone();
    assert!(
        shown[0].starts_with("Allow `wipe` to run a destructive action"),
        "{shown:?}"
    );
    assert!(shown[0].contains(r#""id":101"#), "{shown:?}");
}

#[tokio::test]
async fn the_question_carries_a_form_and_a_sealed_state_and_nothing_runs() {
    let client = connect_2026(notes(Rounds::ephemeral(), None).await, Human::default()).await;
    let question = ask(&client, params("wipe", json!({"id": 102, "confirm": true}))).await;
    let requests = question.input_requests.unwrap();
    assert_eq!(requests.keys().collect::<Vec<_>>(), ["confirm"]);
    let InputRequest::Elicitation(form) = &requests["confirm"] else {
        panic!("not an elicitation: {requests:?}");
    };
    let form = serde_json::to_value(&form.params).unwrap();
    assert_eq!(form["mode"], "form");
    assert_eq!(
        form["requestedSchema"]["properties"]["approve"]["type"],
        "boolean"
    );
    assert!(question.request_state.unwrap().len() > 40);
    assert_eq!(times_wiped(102), 0);
}

#[tokio::test]
async fn a_declined_or_cancelled_question_refuses_the_call() {
    for (answer, id) in [(Some(false), 103), (None, 104)] {
        let human = Human::answering(answer);
        let client = connect_2026(notes(Rounds::ephemeral(), None).await, human.clone()).await;
        let result = client
            .call_tool(params("wipe", json!({"id": id, "confirm": true})))
            .await
            .unwrap();
        refused(&result, "the user did not approve");
        assert_eq!(human.asked(), 1);
        assert_eq!(times_wiped(id), 0);
    }
}

#[tokio::test]
async fn a_state_is_spent_by_its_first_use() {
    let client = connect_2026(notes(Rounds::ephemeral(), None).await, Human::default()).await;
    let request = params("wipe", json!({"id": 105, "confirm": true}));
    let state = ask(&client, request.clone()).await.request_state.unwrap();
    let first = retry(&client, request.clone(), &state, accept(true)).await;
    assert_eq!(text(&first), "wiped 105");
    let again = retry(&client, request, &state, accept(true)).await;
    refused(&again, "this confirmation was already used");
    assert_eq!(times_wiped(105), 1);
}

#[tokio::test]
async fn a_state_altered_or_made_up_is_refused() {
    let client = connect_2026(notes(Rounds::ephemeral(), None).await, Human::default()).await;
    let request = params("wipe", json!({"id": 106, "confirm": true}));
    let state = ask(&client, request.clone()).await.request_state.unwrap();
    let mut altered = state.clone().into_bytes();
    let at = altered.len() / 2;
    altered[at] = if altered[at] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    for forged in [altered.as_str(), "approved", ""] {
        let result = retry(&client, request.clone(), forged, accept(true)).await;
        refused(&result, "not valid for this caller, tool and arguments");
    }
    assert_eq!(times_wiped(106), 0);
}

#[tokio::test]
async fn a_state_is_refused_for_other_arguments_another_tool_or_another_caller() {
    let client = connect_2026(notes(Rounds::ephemeral(), None).await, Human::default()).await;
    let asked = params("erase", json!({"id": 107, "confirm": true, "token": ALICE}));
    let state = ask(&client, asked.clone()).await.request_state.unwrap();
    let other_id = params("erase", json!({"id": 108, "confirm": true, "token": ALICE}));
    let other_tool = params("wipe", json!({"id": 107, "confirm": true}));
    let other_caller = params("erase", json!({"id": 107, "confirm": true, "token": BOB}));
    for request in [other_id, other_tool, other_caller] {
        let result = retry(&client, request, &state, accept(true)).await;
        refused(&result, "not valid for this caller, tool and arguments");
    }
    assert_eq!(times_wiped(107) + times_wiped(108), 0);
    // The state was not spent by those refusals: its own call still runs.
    let result = retry(&client, asked, &state, accept(true)).await;
    assert_eq!(text(&result), "erased 107");
}

#[tokio::test]
async fn an_expired_state_is_refused() {
    let server = notes(Rounds::ephemeral(), Some(Duration::from_millis(1))).await;
    let client = connect_2026(server, Human::default()).await;
    let request = params("wipe", json!({"id": 109, "confirm": true}));
    let state = ask(&client, request.clone()).await.request_state.unwrap();
    // The state's clock is the wall clock: let it pass the expiry.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let result = retry(&client, request, &state, accept(true)).await;
    refused(&result, "or has expired");
    assert_eq!(times_wiped(109), 0);
}

#[tokio::test]
async fn a_retry_without_the_approval_is_refused() {
    let client = connect_2026(notes(Rounds::ephemeral(), None).await, Human::default()).await;
    let request = params("wipe", json!({"id": 110, "confirm": true}));
    let state = ask(&client, request.clone()).await.request_state.unwrap();
    let mut wrong = InputResponses::new();
    wrong.insert(
        "other".into(),
        json!({"action": "accept", "content": {"approve": true}}),
    );
    let mut no_content = InputResponses::new();
    no_content.insert("confirm".into(), json!({"action": "accept"}));
    for answers in [InputResponses::new(), wrong, no_content, accept(false)] {
        let result = retry(&client, request.clone(), &state, answers).await;
        refused(&result, "the user did not approve");
    }
    assert_eq!(times_wiped(110), 0);
}

#[tokio::test]
async fn the_flag_is_still_required_before_anyone_is_asked() {
    let human = Human::answering(Some(true));
    let client = connect_2026(notes(Rounds::ephemeral(), None).await, human.clone()).await;
    let result = client
        .call_tool(params("wipe", json!({"id": 111})))
        .await
        .unwrap();
    assert!(
        text(&result).contains("requires explicit confirmation"),
        "{}",
        text(&result)
    );
    assert_eq!(human.asked(), 0);
}

/// A client on 2026-07-28 that declares no elicitation.
#[derive(Clone)]
struct Mute;

impl ClientHandler for Mute {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("mute", "1.0.0"),
        )
    }
}

#[tokio::test]
async fn a_client_that_cannot_ask_relies_on_the_flag() {
    let client = connect_2026(notes(Rounds::ephemeral(), None).await, Mute).await;
    let result = client
        .call_tool(params("wipe", json!({"id": 112, "confirm": true})))
        .await
        .unwrap();
    assert_eq!(text(&result), "wiped 112");
}

#[tokio::test]
async fn replicas_that_share_the_key_and_the_store_spend_a_state_once() {
    let dir = std::env::temp_dir().join(format!("consent-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/spent.db", dir.display());
    let store = secure_tool::Store::connect(&url).await.unwrap();
    store.migrate(&[]).await.unwrap();
    let replica = |store: secure_tool::Store| async move {
        let rounds = Rounds::new(KEY).unwrap().with_spent(store);
        connect_2026(notes(rounds, None).await, Human::default()).await
    };
    let a = replica(store.clone()).await;
    let b = replica(secure_tool::Store::connect(&url).await.unwrap()).await;
    let request = params("wipe", json!({"id": 113, "confirm": true}));
    let state = ask(&a, request.clone()).await.request_state.unwrap();
    let on_b = retry(&b, request.clone(), &state, accept(true)).await;
    assert_eq!(text(&on_b), "wiped 113");
    let on_a = retry(&a, request.clone(), &state, accept(true)).await;
    refused(&on_a, "this confirmation was already used");
    // A replica with another key cannot open it at all.
    let stranger = connect_2026(notes(Rounds::ephemeral(), None).await, Human::default()).await;
    let state = ask(&a, request.clone()).await.request_state.unwrap();
    let result = retry(&stranger, request, &state, accept(true)).await;
    refused(&result, "not valid for this caller, tool and arguments");
    assert_eq!(times_wiped(113), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_short_key_is_refused() {
    let error = Rounds::new(&b"too short"[..]).unwrap_err();
    assert!(error.to_string().contains("at least 32 bytes"), "{error}");
}

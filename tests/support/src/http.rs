//! A minimal streamable-HTTP MCP client, written against the wire format so
//! tests see statuses and headers exactly as a client library would.

use std::net::SocketAddr;

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::header::HeaderMap;
use hyper::{Method, StatusCode};
use serde_json::{Value, json};

/// What the server answered.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: StatusCode,
    /// The response headers.
    pub headers: HeaderMap,
    /// The JSON body, or the JSON-RPC message of an event stream.
    pub body: Value,
    /// The body as sent (the first message, for an event stream).
    pub raw: Bytes,
}

impl Answer {
    /// The `WWW-Authenticate` header, or "".
    pub fn challenge(&self) -> &str {
        self.headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

/// Sends one request to `addr` on a connection of its own.
pub async fn send(
    addr: SocketAddr,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Answer {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("the server listens on loopback");
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("HTTP/1.1 handshake");
    tokio::spawn(conn);
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(Bytes::from(body)))
        .expect("a well-formed request");
    let response = sender.send_request(request).await.expect("a response");
    let status = response.status();
    let headers = response.headers().clone();
    let sse = headers
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    let bytes = if sse {
        first_event(response.into_body()).await
    } else {
        response
            .into_body()
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default()
    };
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
        raw: bytes,
    }
}

/// The first JSON-RPC message of an event stream (the stream stays open).
async fn first_event(mut body: hyper::body::Incoming) -> Bytes {
    let mut seen = Vec::new();
    while let Some(Ok(frame)) = body.frame().await {
        if let Ok(data) = frame.into_data() {
            seen.extend_from_slice(&data);
        }
        let text = String::from_utf8_lossy(&seen);
        if let Some(json) = text
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(str::trim)
            .find(|d| d.starts_with('{'))
        {
            return Bytes::from(json.to_owned());
        }
    }
    Bytes::new()
}

/// An MCP session over streamable HTTP with a bearer token.
#[derive(Debug)]
pub struct Session {
    addr: SocketAddr,
    token: Option<String>,
    session: Option<String>,
    next_id: u64,
}

impl Session {
    /// Sends `initialize` alone and returns the answer, whatever it is.
    pub async fn open_unchecked(addr: SocketAddr, token: &str) -> Answer {
        let mut session = Self {
            addr,
            token: Some(token.to_owned()),
            session: None,
            next_id: 0,
        };
        session
            .rpc(
                "initialize",
                json!({
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "secure-tool-tests", "version": "1"},
                }),
            )
            .await
    }

    /// Opens a session: `initialize`, then `notifications/initialized`.
    /// Panics unless the server accepts the token.
    pub async fn open(addr: SocketAddr, token: &str) -> Self {
        let mut session = Self {
            addr,
            token: Some(token.to_owned()),
            session: None,
            next_id: 0,
        };
        let answer = session
            .rpc(
                "initialize",
                json!({
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "secure-tool-tests", "version": "1"},
                }),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
        session.session = answer
            .headers
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let answer = session.post(note).await;
        assert!(answer.status.is_success(), "{answer:?}");
        session
    }

    /// The same session id presented with another token: a caller that
    /// learned the id.
    pub fn presented_by(&self, token: &str) -> Self {
        Self {
            addr: self.addr,
            token: Some(token.to_owned()),
            session: self.session.clone(),
            next_id: 100,
        }
    }

    /// Ends the session (`DELETE`).
    pub async fn end(&self) -> Answer {
        let bearer = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let mut headers = Vec::new();
        if let Some(bearer) = &bearer {
            headers.push(("authorization", bearer.as_str()));
        }
        if let Some(session) = &self.session {
            headers.push(("mcp-session-id", session.as_str()));
        }
        send(self.addr, Method::DELETE, "/mcp", &headers, Vec::new()).await
    }

    /// Sends a JSON-RPC request and returns the answer.
    pub async fn rpc(&mut self, method: &str, params: Value) -> Answer {
        self.next_id += 1;
        let message =
            json!({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params});
        self.post(message).await
    }

    /// Sends any JSON body.
    pub async fn post(&self, message: Value) -> Answer {
        self.post_bytes(message.to_string().into_bytes()).await
    }

    /// Sends raw bytes as the body.
    pub async fn post_bytes(&self, body: Vec<u8>) -> Answer {
        let bearer = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let mut headers = Vec::new();
        if let Some(bearer) = &bearer {
            headers.push(("authorization", bearer.as_str()));
        }
        if let Some(session) = &self.session {
            headers.push(("mcp-session-id", session.as_str()));
        }
        headers.push(("mcp-protocol-version", "2025-06-18"));
        send(self.addr, Method::POST, "/mcp", &headers, body).await
    }

    /// `tools/call`; returns the answer (a result, or an HTTP refusal).
    pub async fn call(&mut self, tool: &str, arguments: Value) -> Answer {
        self.rpc("tools/call", json!({"name": tool, "arguments": arguments}))
            .await
    }

    /// The names `tools/list` shows.
    pub async fn tool_names(&mut self) -> Vec<String> {
        let answer = self.rpc("tools/list", json!({})).await;
        answer.body["result"]["tools"]
            .as_array()
            .map(|tools| {
                tools
                    .iter()
                    .filter_map(|t| t["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The text of a `tools/call` result, and whether it is an error.
pub fn result_text(answer: &Answer) -> (bool, String) {
    let result = &answer.body["result"];
    let text = result["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (result["isError"] == json!(true), text)
}

/// A `tools/call` on protocol 2026-07-28 with the bearer `token`, the
/// client capability `elicitation`, and, for a retry, the state and answers.
pub async fn call_2026(
    addr: SocketAddr,
    token: &str,
    tool: &str,
    arguments: Value,
    elicitation: Value,
    retry: Option<(&str, Value)>,
) -> Answer {
    let mut params = json!({
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {"elicitation": elicitation},
            "io.modelcontextprotocol/clientInfo": {"name": "secure-tool-tests", "version": "1"},
        },
        "name": tool,
        "arguments": arguments,
    });
    if let Some((state, answers)) = retry {
        params["requestState"] = json!(state);
        params["inputResponses"] = answers;
    }
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params});
    let bearer = format!("Bearer {token}");
    let headers = [
        ("authorization", bearer.as_str()),
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", tool),
    ];
    send(
        addr,
        Method::POST,
        "/mcp",
        &headers,
        body.to_string().into_bytes(),
    )
    .await
}

/// The approval page's URL and the state of a question sent back instead
/// of a result.
pub fn page_question(answer: &Answer) -> (String, String) {
    let result = &answer.body["result"];
    assert_eq!(result["resultType"], "input_required", "{answer:?}");
    let asked = &result["inputRequests"]["confirm"]["params"];
    assert_eq!(asked["mode"], "url", "{answer:?}");
    let url = asked["url"].as_str().unwrap().to_owned();
    (url, result["requestState"].as_str().unwrap().to_owned())
}

/// A browser's view of one approval page: its path, and its cookies. It
/// sends what a browser sends: the page's own forms, its cookies, `Origin`.
#[derive(Debug)]
pub struct Browser {
    addr: SocketAddr,
    path: String,
    cookies: Vec<String>,
}

impl Browser {
    pub fn open(addr: SocketAddr, url: &str) -> Self {
        let path = url.split_once(&addr.to_string()).unwrap().1.to_owned();
        Self {
            addr,
            path,
            cookies: Vec::new(),
        }
    }

    pub async fn request(
        &mut self,
        method: Method,
        suffix: &str,
        form: &str,
        origin: &str,
    ) -> Answer {
        let cookie = self.cookies.join("; ");
        let mut headers = vec![
            ("content-type", "application/x-www-form-urlencoded"),
            ("cookie", cookie.as_str()),
        ];
        if !origin.is_empty() {
            headers.push(("origin", origin));
        }
        let path = format!("{}{suffix}", self.path);
        let answer = send(self.addr, method, &path, &headers, form.as_bytes().to_vec()).await;
        for set in answer.headers.get_all("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap().to_owned();
            let name = pair.split('=').next().unwrap().to_owned();
            self.cookies.retain(|c| !c.starts_with(&format!("{name}=")));
            if !pair.ends_with('=') {
                self.cookies.push(pair);
            }
        }
        answer
    }

    pub async fn get(&mut self) -> (Answer, String) {
        let answer = self.request(Method::GET, "", "", "").await;
        let html = String::from_utf8_lossy(&answer.raw).into_owned();
        (answer, html)
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Signs in with `token` through the page's own form.
    pub async fn sign_in(&mut self, token: &str) -> Answer {
        let (_, html) = self.get().await;
        let csrf = form_token(&html);
        let origin = self.origin();
        let form = format!("csrf={csrf}&token={token}");
        self.request(Method::POST, "/login", &form, &origin).await
    }

    /// Decides through the page's own form.
    pub async fn decide(&mut self, decision: &str) -> Answer {
        let (_, html) = self.get().await;
        let csrf = form_token(&html);
        let origin = self.origin();
        let form = format!("csrf={csrf}&decision={decision}");
        self.request(Method::POST, "/decide", &form, &origin).await
    }
}

pub fn form_token(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a form token") + 19;
    html[at..at + 32].to_owned()
}

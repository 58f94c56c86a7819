//! The approval page, served by the HTTP front at `/approve/{id}`.
//!
//! - `GET /approve/{id}`: signed out, a sign-in form; signed in as the
//!   subject that made the call, the exact action and two buttons; signed in
//!   as anyone else, a refusal.
//! - `POST /approve/{id}/login`: the person's approver credential
//!   ([`Rounds::with_approver`](crate::consent::Rounds::with_approver)),
//!   never a token the MCP client holds; a session cookie for this approval
//!   alone follows. Failed sign-ins count against the client address as
//!   failed authentications at `/mcp` do.
//! - `POST /approve/{id}/decide`: approve or deny, once.
//!
//! Every form carries a token the page issued, which a cross-site form
//! cannot know; cookies are `HttpOnly` and `SameSite=Strict`, and `Secure`
//! when the page is served over HTTPS. Every response forbids framing
//! (`frame-ancestors 'none'`), scripts and any resource but the page itself.
use std::time::Duration;

use http_body_util::{BodyExt as _, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{Method, StatusCode};

use crate::approval::{Pending, Status, now_ms};
use crate::auth::AuthError;
use crate::pipeline::Pipeline;

type Response =
    hyper::Response<http_body_util::combinators::BoxBody<Bytes, std::convert::Infallible>>;

/// The largest form accepted.
const MAX_FORM: usize = 8 * 1024;
/// The cookie that carries a sign-in form's token.
const LOGIN_COOKIE: &str = "st-approval-login";
/// The cookie that says who signed in, for one approval.
const SESSION_COOKIE: &str = "st-approval-session";
/// The policy of every response: nothing but the page and its own forms.
const CSP: &str = "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// What the page needs from the front.
pub(crate) struct Site<'a> {
    pub(crate) pipeline: &'a Pipeline,
    /// The public base URL (`https://mcp.example.com`).
    pub(crate) base: &'a str,
    pub(crate) allowed_hosts: &'a [String],
    pub(crate) read_timeout: Duration,
    /// Failed authentications, counted per client address.
    pub(crate) failures: &'a super::Failures,
    /// The address the request is counted against.
    pub(crate) client: super::Client,
}

impl Site<'_> {
    /// The page of approval `id` as the browser sees it: beneath the path
    /// of the public URL, when a proxy serves the server under one.
    fn page_path(&self, id: &str) -> String {
        let origin = super::origin_of(self.base);
        let prefix = self.base[origin.len()..].trim_end_matches('/');
        format!("{prefix}{}{id}", crate::consent::APPROVAL_PATH)
    }

    /// Counts a failure of this client; past its allowance, `429`.
    async fn failed(&self, reason: &str) -> Option<Response> {
        let wait = self
            .failures
            .count(self.pipeline, reason, self.client)
            .await?;
        let mut response = page(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts",
            "<p>Too many failed attempts from this address; wait, then try again.</p>",
        );
        if let Ok(after) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, after);
        }
        Some(response)
    }
}

/// Serves `rest` (what follows `/approve/`).
pub(crate) async fn serve(
    site: &Site<'_>,
    rest: &str,
    request: hyper::Request<Incoming>,
) -> Response {
    let (parts, body) = request.into_parts();
    if !host_allowed(&parts.headers, site.allowed_hosts) {
        return page(
            StatusCode::FORBIDDEN,
            "Refused",
            "<p>This host is not served.</p>",
        );
    }
    let (id, action) = rest.split_once('/').unwrap_or((rest, ""));
    let well_formed = id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit());
    let found = if well_formed {
        site.pipeline.consent_rounds().approvals().get(id).await
    } else {
        Ok(None)
    };
    let (pending, status) = match found {
        Ok(Some(found)) => found,
        Ok(None) => {
            // Guessing ids costs like guessing tokens.
            if let Some(over) = site.failed("no such approval").await {
                return over;
            }
            return page(
                StatusCode::NOT_FOUND,
                "No such approval",
                "<p>This approval does not exist, or has expired.</p>",
            );
        }
        Err(error) => return unavailable(&error.to_string()),
    };
    match (&parts.method, action) {
        (&Method::GET, "") => show(site, &parts.headers, &pending, status),
        (&Method::POST, "login" | "decide") => {
            if !same_origin(&parts.headers, site.base) {
                return page(
                    StatusCode::FORBIDDEN,
                    "Refused",
                    "<p>This form was sent from another site.</p>",
                );
            }
            let form = match read_form(body, site.read_timeout).await {
                Some(form) => form,
                None => {
                    return page(
                        StatusCode::BAD_REQUEST,
                        "Refused",
                        "<p>Unreadable form.</p>",
                    );
                }
            };
            if action == "login" {
                login(site, &parts.headers, &pending, &form).await
            } else {
                decide(site, &parts.headers, &pending, &form).await
            }
        }
        _ => page(
            StatusCode::METHOD_NOT_ALLOWED,
            "Refused",
            "<p>Method not allowed.</p>",
        ),
    }
}

/// The subject signed in for `pending`, and the session's form token.
fn session(site: &Site<'_>, headers: &hyper::HeaderMap, id: &str) -> Option<(String, String)> {
    let sealed = cookie(headers, SESSION_COOKIE)?;
    let opened = site
        .pipeline
        .consent_rounds()
        .open_for(&sealed, &purpose("session", id))?;
    let text = String::from_utf8(opened).ok()?;
    let (csrf, subject) = text.split_once('\n')?;
    Some((subject.to_owned(), csrf.to_owned()))
}

fn purpose(what: &str, id: &str) -> Vec<u8> {
    format!("secure-tool approval {what}\0{id}").into_bytes()
}

fn show(
    site: &Site<'_>,
    headers: &hyper::HeaderMap,
    pending: &Pending,
    status: Status,
) -> Response {
    let id = &pending.id;
    let Some((subject, csrf)) = session(site, headers, id) else {
        let Ok(csrf) = crate::consent::random_id() else {
            return unavailable("no randomness for a form token");
        };
        let body = format!(
            "<p>An action awaits approval by the subject that asked for it. \
             Sign in as that subject, with your approver credential (not the \
             token your MCP client uses), to see it and decide.</p>\
             <form method=\"post\" action=\"{path}/login\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <p><label>Approver credential <input type=\"password\" name=\"token\" id=\"token\" autocomplete=\"off\" required></label></p>\
             <p><button type=\"submit\" id=\"sign-in\">Sign in</button></p></form>",
            path = site.page_path(id),
        );
        let mut response = page(StatusCode::OK, "Sign in to decide", &body);
        set_cookie(&mut response, site, LOGIN_COOKIE, &csrf, id, 600);
        return response;
    };
    if subject != pending.subject {
        return not_yours(&subject);
    }
    let left = pending.expires_ms.saturating_sub(now_ms()) / 1000;
    let decided = match status {
        Status::Pending => format!(
            "<form method=\"post\" action=\"{path}/decide\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button type=\"submit\" name=\"decision\" value=\"approve\" id=\"approve\">Approve</button> \
             <button type=\"submit\" name=\"decision\" value=\"deny\" id=\"deny\">Deny</button></form>",
            path = site.page_path(id),
        ),
        done => format!(
            "<p id=\"status\">This action was already {}.</p>",
            done.as_str()
        ),
    };
    let body = format!(
        "<p>Signed in as <strong id=\"subject\">{subject}</strong>. \
         <strong>{server}</strong> asks whether it may run this action:</p>\
         <pre id=\"action\">{action}</pre>\
         <p>Tool <code id=\"tool\">{tool}</code>. The approval is valid for one call, \
         for {left} more seconds.</p>{decided}",
        subject = escape(&subject),
        server = escape(site.pipeline.server()),
        action = escape(&pending.action),
        tool = escape(&pending.tool),
    );
    page(StatusCode::OK, "Approve an action", &body)
}

async fn login(
    site: &Site<'_>,
    headers: &hyper::HeaderMap,
    pending: &Pending,
    form: &[(String, String)],
) -> Response {
    let id = &pending.id;
    let issued = cookie(headers, LOGIN_COOKIE);
    if issued.is_none() || issued.as_deref() != field(form, "csrf") {
        return forged();
    }
    let rounds = site.pipeline.consent_rounds();
    let Some(approver) = rounds.approver() else {
        return page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Unavailable",
            "<p>This server has no sign-in for approvers.</p>",
        );
    };
    let token = field(form, "token").unwrap_or_default().trim();
    // A credential of the MCP client never signs in here: else the client
    // could approve its own call.
    let signed_in = match (
        site.pipeline.verify(token).await,
        approver.verify(token).await,
    ) {
        // An issuer that did not answer gave no verdict: not that the token
        // is not the client's, nor that it is an approver's.
        (Err(AuthError::Unavailable), _) | (_, Err(AuthError::Unavailable)) => {
            return unavailable("the issuer of credentials did not answer");
        }
        (Err(_), Ok(principal)) if principal.subject() == pending.subject => Ok(principal),
        (Ok(_), _) => Err("a credential of the MCP client was offered on the approval page"),
        (Err(_), Ok(_)) => Err("an approver signed in on another subject's approval"),
        (Err(_), Err(_)) => Err("an approver credential that does not verify"),
    };
    let principal = match signed_in {
        Ok(principal) => principal,
        Err(reason) => {
            if let Some(over) = site.failed(reason).await {
                return over;
            }
            // One answer for every failure: which credentials verify is
            // not for a guesser to learn.
            return page(
                StatusCode::UNAUTHORIZED,
                "Not signed in",
                "<p id=\"status\">That credential does not sign in to decide this approval. \
                 Sign in with your approver credential, as the subject that asked.</p>",
            );
        }
    };
    let csrf = match crate::consent::random_id() {
        Ok(csrf) => csrf,
        Err(_) => return unavailable("no randomness for a form token"),
    };
    let ttl = Duration::from_millis(pending.expires_ms.saturating_sub(now_ms()));
    let sealed = rounds.seal_for(
        format!("{csrf}\n{}", principal.subject()).as_bytes(),
        &purpose("session", id),
        ttl,
    );
    let mut response = page(StatusCode::SEE_OTHER, "Signed in", "<p>Signed in.</p>");
    if let Ok(to) = HeaderValue::from_str(&site.page_path(id)) {
        response.headers_mut().insert(header::LOCATION, to);
    }
    set_cookie(
        &mut response,
        site,
        SESSION_COOKIE,
        &sealed,
        id,
        ttl.as_secs(),
    );
    set_cookie(&mut response, site, LOGIN_COOKIE, "", id, 0);
    response
}

async fn decide(
    site: &Site<'_>,
    headers: &hyper::HeaderMap,
    pending: &Pending,
    form: &[(String, String)],
) -> Response {
    let Some((subject, csrf)) = session(site, headers, &pending.id) else {
        return forged();
    };
    if field(form, "csrf") != Some(csrf.as_str()) {
        return forged();
    }
    if subject != pending.subject {
        return not_yours(&subject);
    }
    let approve = match field(form, "decision") {
        Some("approve") => true,
        Some("deny") => false,
        _ => return page(StatusCode::BAD_REQUEST, "Refused", "<p>No decision.</p>"),
    };
    // On the record before it takes effect: a decision that cannot be
    // audited is not made.
    let said = if approve { "approves" } else { "denies" };
    let intent = format!(
        "{subject} {said} on the approval page (approval {})",
        pending.id
    );
    if site
        .pipeline
        .audit_approval(pending, &subject, Ok(intent))
        .await
        .is_err()
    {
        return unavailable("the decision could not be audited");
    }
    let approvals = site.pipeline.consent_rounds().approvals();
    match approvals.decide(&pending.id, &subject, approve).await {
        Ok(true) => {
            let (title, text) = if approve {
                ("Approved", "approved")
            } else {
                ("Denied", "denied")
            };
            page(
                StatusCode::OK,
                title,
                &format!(
                    "<p id=\"status\">You {text} this action. Return to your MCP client, \
                     which can now continue the call.</p>"
                ),
            )
        }
        Ok(false) => {
            let void = format!(
                "the decision was not taken: approval {} was already decided, or has expired",
                pending.id
            );
            let _ = site
                .pipeline
                .audit_approval(pending, &subject, Err(void))
                .await;
            page(
                StatusCode::CONFLICT,
                "Already decided",
                "<p id=\"status\">This approval was already decided, or has expired.</p>",
            )
        }
        Err(error) => unavailable(&error.to_string()),
    }
}

fn not_yours(subject: &str) -> Response {
    page(
        StatusCode::FORBIDDEN,
        "Not yours to decide",
        &format!(
            "<p id=\"status\">Signed in as {}, but this action was asked for by another \
             subject; only that subject may decide it.</p>",
            escape(subject)
        ),
    )
}

fn forged() -> Response {
    page(
        StatusCode::FORBIDDEN,
        "Refused",
        "<p id=\"status\">This form was not issued by this page (missing or wrong form token).</p>",
    )
}

fn unavailable(error: &str) -> Response {
    tracing::error!(target: crate::log::TARGET, "approval page: {error}");
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Unavailable",
        "<p>A service this page depends on is unavailable; nothing was decided.</p>",
    )
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title></head>\
         <body><h1>{title}</h1>{body}</body></html>"
    );
    let mut response = super::respond(status, "text/html; charset=utf-8", html);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Not `no-referrer`: with it a browser sends `Origin: null` on the
    // page's own forms, which could then not be told from a forged one.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn set_cookie(
    response: &mut Response,
    site: &Site<'_>,
    name: &str,
    value: &str,
    id: &str,
    max_age: u64,
) {
    let secure = if site.base.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{name}={value}; Path={}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}",
        site.page_path(id)
    );
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
}

fn cookie(headers: &hyper::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_owned())
}

/// The `Host` is one the server answers to (DNS rebinding).
fn host_allowed(headers: &hyper::HeaderMap, allowed: &[String]) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    allowed.iter().any(|a| a.eq_ignore_ascii_case(name))
}

/// A form's `Origin`, when the browser sends one, is the page's own; a
/// browser that says the request is cross-site is refused too.
fn same_origin(headers: &hyper::HeaderMap, base: &str) -> bool {
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
    let site = headers.get("sec-fetch-site").and_then(|s| s.to_str().ok());
    let origin_ok = origin.is_none_or(|o| o.eq_ignore_ascii_case(super::origin_of(base)));
    origin_ok && site.is_none_or(|s| s == "same-origin" || s == "none")
}

async fn read_form(body: Incoming, timeout: Duration) -> Option<Vec<(String, String)>> {
    let collected = tokio::time::timeout(timeout, Limited::new(body, MAX_FORM).collect())
        .await
        .ok()?
        .ok()?
        .to_bytes();
    collected
        .split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = match pair.iter().position(|b| *b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &b""[..]),
            };
            Some((decoded(name)?, decoded(value)?))
        })
        .collect()
}

fn decoded(bytes: &[u8]) -> Option<String> {
    let plus: Vec<u8> = bytes
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    String::from_utf8(crate::server::percent_decoded(&plus)?).ok()
}

fn field<'f>(form: &'f [(String, String)], name: &str) -> Option<&'f str> {
    form.iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

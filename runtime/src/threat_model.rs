//! Threat models generated from tool declarations, so they cannot drift.
//!
//! Every row names the abuse, the mitigation, the exact WARNING line the gate
//! emits (produced by running the row's probe through the server's own
//! dispatch and pipeline, and rendering the audit line with the same function
//! that prints it) and the test that proves the gate trips.

use std::fmt::Write as _;

use crate::audit::Outcome;
use crate::pipeline::Pipeline;
use crate::reject::{Gate, Reject};
use crate::server::Tools;
use crate::spec::{Access, Kind, ToolSpec};
use crate::testing::{GeneratedTest, Probe, assert_probe, probe_log_line, run_named};

/// The threat families, in the order they are rendered.
pub const FAMILIES: [&str; 10] = [
    "Prompt injection",
    "Overflow and resource exhaustion",
    "Denial of service and log flooding",
    "Unauthorized execution",
    "Token theft and passthrough",
    "Credential leakage",
    "Command injection",
    "Server-side request forgery",
    "Destructive actions without consent",
    "Path traversal and link following",
];

/// Tests of the framework itself that rows cite, as `path::function` from
/// the workspace root. A test checks that each exists.
pub const FRAMEWORK_TESTS: &[&str] = &[
    "runtime/tests/secrets.rs::each_kind_is_redacted_as_itself",
    "runtime/tests/secrets.rs::benign_corpus_is_unchanged",
    "runtime/tests/secrets.rs::a_refusal_redacts_a_value_before_cutting_it_short",
    "runtime/tests/threat_model.rs::unknown_tools_are_refused_and_logged",
    "runtime/tests/threat_model.rs::untrusted_output_is_spotlighted_and_flagged",
    "runtime/tests/threat_model.rs::oversized_values_are_bounded_in_log_lines",
    "runtime/src/validate.rs::integers_are_decided_from_the_literal_exact_or_refused",
    "runtime/src/reject.rs::the_value_of_a_credential_field_is_never_kept",
    "tests/tests/http.rs::failed_authentications_are_throttled_and_audited_once_per_window",
    "tests/tests/http.rs::sessions_are_bound_to_their_subject_and_bounded_per_subject",
    "tests/tests/pipeline.rs::a_database_cut_between_attempt_and_completion_keeps_the_attempt_and_prints_the_line",
    "tests/tests/pipeline.rs::a_body_never_runs_when_its_attempt_cannot_be_written",
    "tests/tests/rbac.rs::a_subject_named_like_a_role_holds_none_of_its_grants",
    "tests/tests/rbac.rs::a_grant_on_own_objects_reaches_only_the_callers_objects",
    "tests/tests/http.rs::foreign_origins_and_headers_that_contradict_the_body_are_refused",
    "tests/tests/consent.rs::a_state_is_spent_by_its_first_use",
    "tests/tests/consent.rs::a_state_altered_or_made_up_is_refused",
    "tests/tests/consent.rs::a_state_is_refused_for_other_arguments_another_tool_or_another_caller",
    "tests/tests/consent.rs::an_expired_state_is_refused",
    "tests/tests/consent.rs::replicas_that_share_the_key_and_the_store_spend_a_state_once",
    "tests/tests/approval.rs::a_person_approves_on_the_page_and_the_retry_runs_once",
    "tests/tests/approval.rs::another_subject_can_neither_see_nor_decide_nor_use_the_approval",
    "tests/tests/approval.rs::a_form_the_page_did_not_issue_is_refused",
    "tests/tests/approval.rs::a_client_without_a_way_to_reach_a_person_is_refused",
    "tests/tests/approval.rs::the_credential_of_the_mcp_client_cannot_approve_its_own_call",
    "tests/tests/approval.rs::failed_sign_ins_are_throttled_per_address",
    "runtime/tests/oidc.rs::a_token_of_the_issuer_is_accepted_and_every_other_refused",
    "runtime/tests/oidc.rs::hmac_and_an_algorithm_off_the_list_are_never_accepted",
    "runtime/tests/oidc.rs::metadata_naming_another_issuer_is_refused",
    "runtime/tests/oidc.rs::unknown_kids_fetch_the_key_set_at_most_once_per_period",
    "runtime/tests/oidc.rs::opaque_tokens_are_introspected_cached_and_refused_while_the_endpoint_is_down",
    "runtime/tests/oidc.rs::keys_the_issuer_stops_confirming_stop_verifying",
    "runtime/tests/oidc.rs::roles_come_from_the_configured_claim_and_are_bounded",
    "tests/tests/rbac.rs::roles_a_token_claims_reach_what_those_roles_reach_and_no_further",
    "tests/tests/http.rs::the_callers_token_is_never_passed_to_what_a_tool_fetches",
    "runtime/tests/registered.rs::a_registered_value_and_its_encodings_never_leave",
    "tests/tests/audit_chain.rs::sqlite_tampering_is_found",
    "tests/tests/audit_chain.rs::a_json_lines_file_verifies_and_shows_each_change",
];

/// Cites a framework test.
fn cite(test: &str) -> String {
    debug_assert!(FRAMEWORK_TESTS.contains(&test), "{test} is not listed");
    format!("`{test}`")
}

struct Row {
    family: usize,
    abuse: String,
    mitigation: String,
    log: String,
    test: String,
}

fn family_of(probe: Probe) -> usize {
    match probe {
        Probe::AboveMax(_)
        | Probe::BelowMin(_)
        | Probe::OverLength(_)
        | Probe::WrongType(_)
        | Probe::OverMaxItems(_)
        | Probe::UnderMinItems(_)
        | Probe::DuplicateItems(_)
        | Probe::OverSize => 1,
        Probe::ControlChars(_)
        | Probe::UnknownField
        | Probe::UnknownFieldIn(_)
        | Probe::Missing(_)
        | Probe::OverRate => 2,
        Probe::OutsideAllowlist(_) | Probe::RoleDenied | Probe::OwnOnly => 3,
        Probe::InvisibleChars(_) => 0,
        Probe::NoToken | Probe::UnknownToken | Probe::TokenWithoutScope => 4,
        Probe::ShellMetacharacters(_) => 6,
        Probe::InternalUrl(_) => 7,
        Probe::OutsideRoots(_) => 9,
        Probe::NoConfirm => 8,
    }
}

fn describe(spec: &ToolSpec, probe: Probe) -> (String, String) {
    let p = |path: &str| Some(crate::testing::kind_at(spec, path).0);
    let scope = match spec.access {
        Access::Scope(scope) => scope,
        Access::Public => "-",
    };
    match probe {
        Probe::OutsideAllowlist(n) => (
            format!("`{n}` names an operation outside the list (`pow`, `ADD`, `add `)"),
            "allowlist gate: an exact, case-sensitive literal match; the body receives an enum, never the string"
                .to_owned(),
        ),
        Probe::AboveMax(n) | Probe::BelowMin(n) => {
            let side = if matches!(probe, Probe::AboveMax(_)) { "above" } else { "below" };
            let bound = p(n).and_then(range).unwrap_or_default();
            (
                format!("`{n}` just {side} its bound, to overflow or exhaust"),
                format!("range gate: {bound}, inclusive; never wrapped or saturated; NaN and infinity refused"),
            )
        }
        Probe::OverLength(n) => {
            let len = match p(n) {
                Some(Kind::Text { max_len, .. } | Kind::Url { max_len } | Kind::Path { max_len }) => *max_len,
                _ => 0,
            };
            (
                format!("`{n}` one char longer than allowed, to exhaust memory or storage"),
                format!("length gate: at most {len} chars"),
            )
        }
        Probe::WrongType(n) => (
            format!("`{n}` with the wrong JSON type (`true` for a number, `\"1\"`, `1.5` for an integer)"),
            "type gate: no coercion; the field and the expected type are named".to_owned(),
        ),
        Probe::ControlChars(n) => (
            format!("`{n}` carrying ANSI escapes, C0/C1 controls or bidi overrides (terminal and log injection)"),
            "control-chars gate; offending values are escaped and bounded in every log line".to_owned(),
        ),
        Probe::InvisibleChars(n) => (
            format!("`{n}` hiding instructions in characters a reviewer does not see (tag characters, zero-width spaces and joiners, soft hyphens, BOM)"),
            "control-chars gate: characters that hide text are refused, while emoji with joiners and flags pass; lifted per parameter only by `allow_invisible`".to_owned(),
        ),
        Probe::UnknownField => (
            "an argument the tool does not declare (`as_admin: true`)".to_owned(),
            "unknown-field gate: `additionalProperties: false`, enforced".to_owned(),
        ),
        Probe::OverRate => {
            let rate = spec.rate.map_or_else(String::new, |r| r.to_string());
            (
                format!("calls beyond the declared {rate}, to exhaust what the tool spends"),
                format!("rate gate: {rate} per subject for this tool, on top of the per-subject limit; refused with a retry hint, counted whether or not the call was valid"),
            )
        }
        Probe::OverMaxItems(n) | Probe::UnderMinItems(n) => {
            let (side, bound) = match p(n) {
                Some(Kind::List { max_items, .. }) if matches!(probe, Probe::OverMaxItems(_)) => ("more", format!("at most {max_items}")),
                Some(Kind::List { min_items, .. }) => ("fewer", format!("at least {min_items}")),
                _ => ("other", String::new()),
            };
            (
                format!("`{n}` with one item {side} than allowed, to multiply work or skip a required item"),
                format!("length gate: {bound} items, counted before any item is read"),
            )
        }
        Probe::DuplicateItems(n) => (
            format!("`{n}` naming the same item twice, to act on it twice"),
            "unique gate: the first repeated item is named".to_owned(),
        ),
        Probe::UnknownFieldIn(n) => (
            format!("a field the object `{n}` does not declare, hidden one level down"),
            "unknown-field gate at every depth: `additionalProperties: false`, enforced".to_owned(),
        ),
        Probe::OverSize => (
            "arguments whose lists and strings multiply into megabytes".to_owned(),
            format!("size gate: at most {} bytes in all, refused before any field is read", spec.max_size),
        ),
        Probe::Missing(n) => (
            format!("`{n}` left out, hoping for a default"),
            "missing-field gate: there are no silent defaults".to_owned(),
        ),
        Probe::NoToken => (
            "a call without a credential".to_owned(),
            format!("auth gate: `{}` needs a verified token", spec.name),
        ),
        Probe::UnknownToken => (
            "a forged, stolen-and-expired or foreign token (passthrough)".to_owned(),
            "auth gate: signature, issuer, audience (this server only), expiry; the token is never logged"
                .to_owned(),
        ),
        Probe::TokenWithoutScope => (
            "a valid token that was not granted this action".to_owned(),
            format!("scope gate: the token must carry `{scope}` or its resource's wildcard"),
        ),
        Probe::RoleDenied => (
            "a subject whose role does not permit the action, with the scope".to_owned(),
            "role gate: casbin RBAC over persisted policies; any policy error denies".to_owned(),
        ),
        Probe::OwnOnly => (
            "a subject whose role permits the action only on its own objects, on a tool that does not check owners".to_owned(),
            "role gate: a grant that reaches only the caller's objects is admitted only by a tool that takes a `Grant`".to_owned(),
        ),
        Probe::ShellMetacharacters(n) => (
            format!("`{n}` smuggling a second command (`words; rm -rf ~`)"),
            "command gate: shell metacharacters refused, then the allowlist; the value picks a fixed flag and the command runs by argv without a shell".to_owned(),
        ),
        Probe::OutsideRoots(n) => (
            format!("`{n}` climbing out of its root (`../escape`, `a/../../escape`), naming a file elsewhere (`/etc/passwd`), a sibling whose name starts with the root's, or an over-long component"),
            "path gate: resolved beneath a root through the root's directory handle (no string-prefix comparison, no check-then-open by name); links out of the root, loops and special files refused; reads bounded, writes atomic".to_owned(),
        ),
        Probe::InternalUrl(n) => (
            format!("`{n}` pointing at cloud metadata, loopback, private ranges or encoded and embedded forms of them"),
            "ssrf gate: https only, no userinfo, every resolved address checked; the fetch connects to the checked address and re-checks redirects".to_owned(),
        ),
        Probe::NoConfirm if spec.human => (
            "a destructive call an injected instruction triggered, without consent".to_owned(),
            "confirm gate: `confirm: true` required, then a person's approval on the server's approval page, outside the MCP client (`confirm = \"human\"`)".to_owned(),
        ),
        Probe::NoConfirm => (
            "a destructive call an injected instruction triggered, without consent".to_owned(),
            "confirm gate: `confirm: true` required, and the user's approval when the client can show a question (elicitation; on 2026-07-28 an `InputRequiredResult` with a sealed state)".to_owned(),
        ),
    }
}

/// A numeric parameter's accepted range, as `f64 in [-1000000000, 1000000000]`.
fn range(kind: &Kind) -> Option<String> {
    match kind {
        Kind::Float { min, max, ty } => Some(format!(
            "{ty} in [{}, {}]",
            min.map_or("-∞".to_owned(), |m| m.to_string()),
            max.map_or("+∞".to_owned(), |m| m.to_string())
        )),
        Kind::Int { min, max, ty } => Some(format!("{ty} in [{min}, {max}]")),
        _ => None,
    }
}

/// The cells of one summary row, filled by walking the parameters.
struct Cells<'a> {
    allow: &'a mut Vec<String>,
    bounds: &'a mut Vec<String>,
    strings: &'a mut Vec<String>,
    guards: &'a mut Vec<String>,
}

impl Cells<'_> {
    /// Adds the gates of the value at `path`, and of everything inside it.
    fn add(&mut self, path: String, kind: &Kind) {
        match kind {
            Kind::Choice {
                allow: list,
                command,
            } => {
                self.allow.push(format!("`{path}` ∈ {}", list.join(", ")));
                if *command {
                    self.guards.push(format!("command (`{path}`)"));
                }
            }
            Kind::Float { .. } | Kind::Int { .. } => {
                self.bounds
                    .push(format!("`{path}`: {}", range(kind).unwrap_or_default()));
            }
            Kind::Text { max_len, invisible } => {
                let hidden = if *invisible {
                    "invisible characters allowed"
                } else {
                    "no invisible characters"
                };
                self.strings
                    .push(format!("`{path}` ≤ {max_len} chars, no controls, {hidden}"));
            }
            Kind::Path { max_len } => {
                self.strings.push(format!(
                    "`{path}` ≤ {max_len} chars, no controls, no invisible characters"
                ));
                self.guards.push(format!("path (`{path}`)"));
            }
            Kind::Url { max_len } => {
                self.strings.push(format!(
                    "`{path}` ≤ {max_len} chars, no controls, no invisible characters"
                ));
                self.guards.push(format!("ssrf (`{path}`)"));
            }
            Kind::List {
                items,
                min_items,
                max_items,
                unique,
            } => {
                let unique = if *unique { ", unique" } else { "" };
                self.bounds
                    .push(format!("`{path}`: {min_items}..={max_items} items{unique}"));
                self.add(format!("{path}[]"), items);
            }
            Kind::Object(object) => {
                for field in object.fields {
                    self.add(format!("{path}.{}", field.name), &field.kind);
                }
            }
            Kind::Bool | Kind::Confirm => {}
        }
    }
}

/// One cell of the summary table.
fn cell(items: Vec<String>) -> String {
    if items.is_empty() {
        "—".to_owned()
    } else {
        items.join("; ")
    }
}

fn summary(out: &mut String, specs: &[&ToolSpec]) {
    out.push_str(
        "| Tool | Access | Allowlists | Bounds | String rules | Confirm | Guards | Output |\n",
    );
    out.push_str("|---|---|---|---|---|---|---|---|\n");
    for spec in specs {
        let mut allow = Vec::new();
        let mut bounds = Vec::new();
        let mut strings = Vec::new();
        let mut guards = Vec::new();
        let mut cells = Cells {
            allow: &mut allow,
            bounds: &mut bounds,
            strings: &mut strings,
            guards: &mut guards,
        };
        for p in spec.params {
            cells.add(p.name.to_owned(), &p.kind);
        }
        let access = match spec.access {
            Access::Public => "public".to_owned(),
            Access::Scope(scope) => format!("`{scope}` + role"),
        };
        let confirm = if spec.confirm { "required" } else { "—" };
        let output = if spec.untrusted_output {
            "redacted, spotlighted"
        } else {
            "redacted"
        };
        let _ = writeln!(
            out,
            "| `{}` | {access} | {} | {} | {} | {confirm} | {} | {output} |",
            spec.name,
            cell(allow),
            cell(bounds),
            cell(strings),
            cell(guards)
        );
    }
}

fn absent(family: usize, specs: &[&ToolSpec]) -> String {
    let _ = specs;
    match family {
        0 => "Not exposed: no tool returns stored or external content, and string arguments are checked for control characters (see the log-flooding family).",
        4 => "Not exposed: every tool is public; no tool accepts or needs a credential.",
        6 => "Not exposed: no tool runs a command.",
        7 => "Not exposed: no tool fetches URLs.",
        8 => "Not exposed: no tool is destructive.",
        9 => "Not exposed: no tool takes a path.",
        _ => "Not exposed.",
    }
    .to_owned()
}

/// The fingerprints a client can pin: any change to a tool's description,
/// schema, annotations or gates changes its row and the server's.
fn manifest_section(out: &mut String, manifest: &crate::manifest::Manifest) {
    let _ = writeln!(
        out,
        "\n## Tool manifest\n\n\
         Server fingerprint `{}`. Each tool's is the SHA-256 of its description, schemas, \
         annotations and gates; `tools/list` carries them in `_meta` (`{}` on each tool, `{}` \
         on the result).\n\n| Tool | Fingerprint |\n|---|---|",
        manifest.fingerprint,
        crate::manifest::TOOL_KEY,
        crate::manifest::SERVER_KEY,
    );
    for (name, print) in &manifest.tools {
        let _ = writeln!(out, "| `{name}` | `{print}` |");
    }
}

fn escape_cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// Renders the threat model of the server `S`. `regenerate` is the command
/// that rewrites the committed file, printed in its header.
pub async fn render<S: Tools>(regenerate: &str) -> String {
    let mut rows = Vec::new();
    for spec in S::TOOLS {
        for GeneratedTest { name, probe } in spec.generated_tests() {
            let (abuse, mitigation) = describe(spec, *probe);
            let log = probe_log_line(S::NAME, spec, *probe, run_named::<S>).await;
            rows.push(Row {
                family: family_of(*probe),
                abuse: format!("`{}`: {abuse}", spec.name),
                mitigation,
                log,
                test: format!("`{}::{name}`", spec.name),
            });
        }
        if spec.checks_owner {
            let log = owner_refusal(S::NAME, spec).await;
            rows.push(Row {
                family: 3,
                abuse: format!("`{}`: a caller whose role reaches only its own objects, naming another subject's", spec.name),
                mitigation: "owner gate: the body takes a `Grant` and touches an object only if the role reaches any object or the caller owns it".to_owned(),
                log,
                test: cite("tests/tests/rbac.rs::a_grant_on_own_objects_reaches_only_the_callers_objects"),
            });
        }
        if spec.untrusted_output {
            rows.push(Row {
                family: 0,
                abuse: format!("`{}`: stored or fetched content carries instructions for the model", spec.name),
                mitigation: "output stage: wrapped in `<untrusted_content_B>` delimiters whose boundary `B` is drawn at random per response, so the content cannot close them; look-alikes of the tag (after NFKC, invisible characters removed, Cyrillic and Greek look-alikes read as Latin) neutralised; injection signatures flagged as findings in the text as written and as read, never stripped".to_owned(),
                log: "no refusal: findings are counted in the audit line and listed in the result".to_owned(),
                test: cite("runtime/tests/threat_model.rs::untrusted_output_is_spotlighted_and_flagged"),
            });
        }
    }
    let unknown = Pipeline::new(S::NAME)
        .unknown_tool("eval", crate::server::Request::default())
        .await
        .record
        .log_line();
    rows.push(Row {
        family: 3,
        abuse: "a call to a tool that was never declared (`eval`)".to_owned(),
        mitigation: "unknown-tool gate: dispatch is a literal match on declared names; each guess counts against the caller's rate".to_owned(),
        log: unknown,
        test: cite("runtime/tests/threat_model.rs::unknown_tools_are_refused_and_logged"),
    });
    rows.push(Row {
        family: 2,
        abuse: "a 100 kB argument or a flood of rejections, to fill the log".to_owned(),
        mitigation: "one line per request; offending values escaped and cut to 64 characters"
            .to_owned(),
        log: "see the length rows: the value shown is bounded".to_owned(),
        test: cite("runtime/tests/threat_model.rs::oversized_values_are_bounded_in_log_lines"),
    });
    rows.push(Row {
        family: 5,
        abuse: "secrets in stored content, tool output, error messages or audit records".to_owned(),
        mitigation: format!(
            "every output, error message and audit record is redacted in one pass over {} secret kinds",
            crate::guards::secrets::KINDS.len()
        ),
        log: "no refusal: each redaction is a finding in the audit line".to_owned(),
        test: cite("runtime/tests/secrets.rs::each_kind_is_redacted_as_itself"),
    });
    rows.push(Row {
        family: 5,
        abuse: "a secret in a refused argument or in the name of an undeclared field, cut where the text shown ends so that no pattern sees it whole".to_owned(),
        mitigation: format!(
            "a refusal redacts the first {} KiB of the value (as JSON text, so a key gives its value away) and the undeclared name before it cuts them to {} characters",
            crate::log::REDACTED_SPAN / 1024,
            crate::log::VALUE_LIMIT
        ),
        log: "the value shown holds `[REDACTED:<kind>]` where the secret began".to_owned(),
        test: cite("runtime/tests/secrets.rs::a_refusal_redacts_a_value_before_cutting_it_short"),
    });
    framework_rows::<S>(&mut rows).await;

    let mut out = String::new();
    let _ = writeln!(out, "# Threat model: {}\n", S::NAME);
    let _ = writeln!(
        out,
        "Generated from the tool declarations; do not edit. Regenerate with\n`{regenerate}`.\n\n\
         Every call crosses authenticate → authorize → inspect input → execute → inspect output → audit; \
         a refusal at any stage skips to audit, and the body never runs. Each row below names the test \
         that proves its gate trips.\n"
    );
    out.push_str("## Tools and gates\n\n");
    summary(&mut out, S::TOOLS);
    manifest_section(&mut out, &crate::manifest::Manifest::of::<S>());
    for (i, family) in FAMILIES.iter().enumerate() {
        let _ = writeln!(out, "\n## {}. {family}\n", i + 1);
        let family_rows: Vec<&Row> = rows.iter().filter(|r| r.family == i).collect();
        if family_rows.is_empty() {
            let _ = writeln!(out, "{}", absent(i, S::TOOLS));
            continue;
        }
        out.push_str("| Abuse | Mitigation | WARNING line | Test |\n|---|---|---|---|\n");
        for row in family_rows {
            let log = if row.log.starts_with("rejected ") {
                format!("`{}`", row.log.replace('`', "'"))
            } else {
                row.log.clone()
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                escape_cell(&row.abuse),
                escape_cell(&row.mitigation),
                escape_cell(&log),
                row.test
            );
        }
    }
    let _ = writeln!(
        out,
        "\nOutcomes: a refusal is `{}`, `{}`, `{}`, `{}`, `{}` or `{}`; each is one audit record and, unless a flood is being summarised, one WARNING line.",
        Outcome::AuthFailed,
        Outcome::NotAuthorized,
        Outcome::RateLimited,
        Outcome::Blocked,
        Outcome::Invalid,
        Outcome::Failed
    );
    let _ = writeln!(
        out,
        "\n## Secret kinds redacted\n\nEach becomes `[REDACTED:<kind>]` in every output, error message and audit record; the secrets the server registered are scrubbed as well (`registered_secret`).\n"
    );
    for (group, kinds) in crate::guards::secrets::GROUPS {
        let names: Vec<String> = kinds.iter().map(|k| format!("`{k}`")).collect();
        let _ = writeln!(out, "- **{group}** ({}): {}", kinds.len(), names.join(", "));
    }
    out
}

/// The WARNING line of the owner gate refusing a call of `spec`.
async fn owner_refusal(server: &'static str, spec: &ToolSpec) -> String {
    #[cfg(feature = "rbac")]
    if let Access::Scope(scope) = spec.access {
        let (resource, action) = scope.split_once(':').unwrap_or((scope, ""));
        let refusal = crate::state::Grant::new(
            crate::testing::OWNER,
            resource,
            action,
            crate::state::Reach::Own,
        )
        .refusal();
        return Pipeline::new(server)
            .refuse(Some(spec), crate::testing::OWNER, refusal)
            .await
            .record
            .log_line();
    }
    let _ = (server, spec);
    "the owner gate's line".to_owned()
}

/// Rows for the gates every server has, whatever its declarations.
async fn framework_rows<S: Tools>(rows: &mut Vec<Row>) {
    let pipeline = Pipeline::new(S::NAME);
    let failures = Reject::at(
        Gate::Auth,
        Some(crate::spec::TOKEN_FIELD.into()),
        "authentication failed 1200 more time(s) from client 203.0.113.9 within 10 s; last: unknown token",
    );
    let failures = pipeline
        .refuse_counted(None, crate::auth::UNAUTHENTICATED, failures, 1200)
        .await
        .record
        .log_line();
    rows.push(Row {
        family: 2,
        abuse: "a flood of HTTP requests without a valid token, each costing an audit write".to_owned(),
        mitigation: "failed authentications counted per client address: `429` with `Retry-After` past 10 a second; audited once per address and 10 s window with a count; a valid token is never refused for its address".to_owned(),
        log: failures,
        test: cite("tests/tests/http.rs::failed_authentications_are_throttled_and_audited_once_per_window"),
    });
    rows.push(Row {
        family: 2,
        abuse: "one subject opening sessions or sending `initialize`/`tools/list` without end".to_owned(),
        mitigation: "at most 16 sessions per subject (`429`); every request counts against the subject's rate".to_owned(),
        log: "`429` with `Retry-After`".to_owned(),
        test: cite("tests/tests/http.rs::sessions_are_bound_to_their_subject_and_bounded_per_subject"),
    });
    rows.push(Row {
        family: 2,
        abuse: "a side effect whose audit record is lost (the database fails mid-call, or the flood limit hides the line)".to_owned(),
        mitigation: "write-ahead: the attempt is durable before the body runs, or the body does not run; an outcome that cannot be stored is printed whatever the flood limit".to_owned(),
        log: "`outcome of call ID not stored (…)` followed by the record's line".to_owned(),
        test: format!(
            "{}, {}",
            cite("tests/tests/pipeline.rs::a_database_cut_between_attempt_and_completion_keeps_the_attempt_and_prints_the_line"),
            cite("tests/tests/pipeline.rs::a_body_never_runs_when_its_attempt_cannot_be_written")
        ),
    });
    rows.push(Row {
        family: 2,
        abuse: "a database administrator, or an attacker with the database or the audit file, deletes, edits or reorders audit records to hide a call".to_owned(),
        mitigation: format!("hash chain: each row or line names its writer's stream and number and hashes the one before; `verify-audit` reports the first missing number or mismatched hash; rows without a chain after it began, and chain fields cleared, are breaks too; each writer prints its stream's head to the log when the stream starts or ends, every {} entries, within {} s of new entries and at shutdown, which shows a cut tail, a removed stream or a rewrite", crate::audit::chain::HEAD_EVERY, crate::audit::chain::HEAD_INTERVAL.as_secs()),
        log: "`audit stream ID head seq=N hash=sha256:…`".to_owned(),
        test: format!(
            "{}, {}",
            cite("tests/tests/audit_chain.rs::sqlite_tampering_is_found"),
            cite("tests/tests/audit_chain.rs::a_json_lines_file_verifies_and_shows_each_change")
        ),
    });
    rows.push(Row {
        family: 1,
        abuse: "an integer sent as `1.0000000000000001`, `3.0` or just beyond 64 bits, to be rounded".to_owned(),
        mitigation: "integers are decided from the JSON literal: exact, or refused at the type or range gate".to_owned(),
        log: "see the type and range rows".to_owned(),
        test: cite("runtime/src/validate.rs::integers_are_decided_from_the_literal_exact_or_refused"),
    });
    rows.push(Row {
        family: 4,
        abuse: "a valid token that learned another subject's MCP session id".to_owned(),
        mitigation:
            "every session is bound to the subject that opened it: `404` as for an unknown session"
                .to_owned(),
        log: "`404 session not found`".to_owned(),
        test: cite(
            "tests/tests/http.rs::sessions_are_bound_to_their_subject_and_bounded_per_subject",
        ),
    });
    rows.push(Row {
        family: 5,
        abuse: "a credential sent in a field the tool does not take (`token`, `password`, `api_key`), to land in logs".to_owned(),
        mitigation: "the value of a field named like a credential is never kept in a refusal, at any depth".to_owned(),
        log: format!("`… value={}`", crate::reject::WITHHELD),
        test: cite("runtime/src/reject.rs::the_value_of_a_credential_field_is_never_kept"),
    });
    rows.push(Row {
        family: 5,
        abuse: "a secret the server holds (an upstream API key, its consent key) echoed into an output or a log, plainly or encoded (base64, hex, percent-encoded)".to_owned(),
        mitigation: "registered secrets (`guards::secrets::register`, `register_env`) are scrubbed from every output, refusal and audit record, in any case and in their JSON, percent, hex and base64 forms at every alignment".to_owned(),
        log: "`[REDACTED:registered_secret]`".to_owned(),
        test: cite("runtime/tests/registered.rs::a_registered_value_and_its_encodings_never_leave"),
    });
    rows.push(Row {
        family: 3,
        abuse: "a web page of another origin calling the server from a browser (DNS rebinding, a drive-by form)".to_owned(),
        mitigation: "over HTTP, a request whose `Origin` is not the server's own (or one allowed) is refused with `403` before its credential is read; `Host` must be an allowed name".to_owned(),
        log: "`403 Origin is not allowed`".to_owned(),
        test: cite("tests/tests/http.rs::foreign_origins_and_headers_that_contradict_the_body_are_refused"),
    });
    identity_rows(rows);
    consent_rows::<S>(&pipeline, rows).await;
    if S::TOOLS
        .iter()
        .any(|spec| matches!(spec.access, Access::Scope(_)))
    {
        rows.push(Row {
            family: 3,
            abuse: "a token whose subject is named like a role (`sub: \"admin\"`)".to_owned(),
            mitigation: "subjects and roles are separate casbin namespaces (`user:`, `role:`): a name grants nothing".to_owned(),
            log: "the role rows' line".to_owned(),
            test: cite("tests/tests/rbac.rs::a_subject_named_like_a_role_holds_none_of_its_grants"),
        });
    }
}

/// Rows for tokens of an identity provider (`OidcVerifier`), and for what
/// becomes of the caller's token.
fn identity_rows(rows: &mut Vec<Row>) {
    rows.push(Row {
        family: 4,
        abuse: "a token minted for another resource, by an issuer not trusted, signed by a key the issuer does not publish, or with `alg: none` or HMAC over a public key".to_owned(),
        mitigation: "with an OpenID provider (`OidcVerifier`): `iss` picks a configured issuer, whose discovered metadata must name itself; `alg` must be on the issuer's allowlist (RS256, PS256, ES256, EdDSA; never `none` or HMAC from a key set); the key `kid` names must be published for that algorithm; `aud` must be this server's resource URI (RFC 8707); then `exp`, `nbf`, `sub`, scopes".to_owned(),
        log: "`401` with `error=\"invalid_token\"` naming the check, audited once per address and window".to_owned(),
        test: format!(
            "{}, {}, {}",
            cite("runtime/tests/oidc.rs::a_token_of_the_issuer_is_accepted_and_every_other_refused"),
            cite("runtime/tests/oidc.rs::hmac_and_an_algorithm_off_the_list_are_never_accepted"),
            cite("runtime/tests/oidc.rs::metadata_naming_another_issuer_is_refused")
        ),
    });
    rows.push(Row {
        family: 2,
        abuse: "tokens with made-up `kid`s, or made-up opaque tokens, sent to make the server hammer its identity provider".to_owned(),
        mitigation: "an unknown `kid` fetches the key set at most once per 10 s per issuer, one fetch shared by every request waiting on it; introspection answers are cached until `exp` (at most 5 min), refusals for 10 s, with at most 16 questions in flight".to_owned(),
        log: "`401` with `error=\"invalid_token\"`".to_owned(),
        test: cite("runtime/tests/oidc.rs::unknown_kids_fetch_the_key_set_at_most_once_per_period"),
    });
    rows.push(Row {
        family: 4,
        abuse: "the identity provider made unreachable, hoping the server lets tokens through unchecked".to_owned(),
        mitigation: "no token is accepted unchecked: while the introspection endpoint does not answer, an opaque token not already vouched for is refused with `503` and `Retry-After`, and nothing is cached from the outage; known keys serve at most 20 min past their last confirmation, then tokens get `503`; a fetch cannot be cancelled by a client hanging up".to_owned(),
        log: "`503` `temporarily_unavailable`; `token introspection failed: …`".to_owned(),
        test: format!(
            "{}, {}",
            cite("runtime/tests/oidc.rs::opaque_tokens_are_introspected_cached_and_refused_while_the_endpoint_is_down"),
            cite("runtime/tests/oidc.rs::keys_the_issuer_stops_confirming_stop_verifying")
        ),
    });
    rows.push(Row {
        family: 3,
        abuse: "roles claimed in a token that no policy grants anything, or named like a subject (`user:alice`), or a claim stuffed with names".to_owned(),
        mitigation: "claimed roles are read only from the configured claim of a verified token, bounded (64 names of at most 128 bytes), and looked up in the role namespace: a name grants what the policies grant that role, and nothing else".to_owned(),
        log: "the role rows' line".to_owned(),
        test: format!(
            "{}, {}",
            cite("tests/tests/rbac.rs::roles_a_token_claims_reach_what_those_roles_reach_and_no_further"),
            cite("runtime/tests/oidc.rs::roles_come_from_the_configured_claim_and_are_bounded")
        ),
    });
    rows.push(Row {
        family: 4,
        abuse: "the caller's token passed through to what a tool calls, so a downstream service accepts it as the caller".to_owned(),
        mitigation: "the bearer is consumed by the auth gate and never reaches a tool body; a tool's outgoing requests (the SSRF-guarded fetch) carry only their own headers".to_owned(),
        log: "none: nothing is forwarded".to_owned(),
        test: cite("tests/tests/http.rs::the_callers_token_is_never_passed_to_what_a_tool_fetches"),
    });
}

/// Rows for consent states and approvals, when a tool asks for consent.
async fn consent_rows<S: Tools>(pipeline: &Pipeline, rows: &mut Vec<Row>) {
    let Some(spec) = S::TOOLS.iter().find(|spec| spec.confirm) else {
        return;
    };
    let line = |reason: &str| {
        let reject = crate::consent::consent_refused(reason);
        pipeline.refuse(Some(spec), crate::testing::OWNER, reject)
    };
    let replayed = line("this confirmation was already used")
        .await
        .record
        .log_line();
    rows.push(Row {
        family: 8,
        abuse: "an approval replayed: the retry of an approved call sent again, on the same or another replica".to_owned(),
        mitigation: "the state an approval travels with is spent once: its id is recorded in the store the replicas share, and a second use is refused".to_owned(),
        log: replayed,
        test: format!(
            "{}, {}",
            cite("tests/tests/consent.rs::a_state_is_spent_by_its_first_use"),
            cite("tests/tests/consent.rs::replicas_that_share_the_key_and_the_store_spend_a_state_once")
        ),
    });
    let forged = line("the confirmation state is not valid for this caller, tool and arguments, or has expired; call again without it to be asked again")
        .await
        .record
        .log_line();
    rows.push(Row {
        family: 8,
        abuse: "a consent state forged, altered, expired, or carried over to another caller, tool or arguments (approve `id: 1`, then delete `id: 2`)".to_owned(),
        mitigation: "the state is sealed with HMAC-SHA256 under the server's key and binds the subject, the tool, the exact arguments and an expiry; every failure gets one answer".to_owned(),
        log: forged,
        test: format!(
            "{}, {}, {}",
            cite("tests/tests/consent.rs::a_state_altered_or_made_up_is_refused"),
            cite("tests/tests/consent.rs::a_state_is_refused_for_other_arguments_another_tool_or_another_caller"),
            cite("tests/tests/consent.rs::an_expired_state_is_refused")
        ),
    });
    // Without the feature no tool can declare `confirm = "human"`.
    #[cfg(feature = "consent")]
    human_rows::<S>(pipeline, rows).await;
}

/// Rows for approvals by a person, when a tool declares `confirm = "human"`.
#[cfg(feature = "consent")]
async fn human_rows<S: Tools>(pipeline: &Pipeline, rows: &mut Vec<Row>) {
    let Some(human) = S::TOOLS.iter().find(|spec| spec.human) else {
        return;
    };
    let unreachable = pipeline
        .refuse(
            Some(human),
            crate::testing::OWNER,
            crate::consent::no_page(human.name),
        )
        .await
        .record
        .log_line();
    rows.push(Row {
        family: 8,
        abuse: format!("`{}`: the model, or the MCP client itself, approving the destructive action", human.name),
        mitigation: "`confirm = \"human\"`: a person signs in on the server's own approval page as the calling subject, with an approver credential the MCP client does not hold (a token the server accepts at `/mcp` never signs in there), and approves the exact action; the client's answer alone never runs the call, and a call that cannot reach the page is refused".to_owned(),
        log: unreachable,
        test: format!(
            "{}, {}, {}",
            cite("tests/tests/approval.rs::a_person_approves_on_the_page_and_the_retry_runs_once"),
            cite("tests/tests/approval.rs::the_credential_of_the_mcp_client_cannot_approve_its_own_call"),
            cite("tests/tests/approval.rs::a_client_without_a_way_to_reach_a_person_is_refused")
        ),
    });
    rows.push(Row {
        family: 8,
        abuse: "another subject, a guesser, a cross-site form or a framing page deciding an approval".to_owned(),
        mitigation: "only the calling subject may sign in and decide, once; failed sign-ins are throttled per address; forms carry a token the page issued, a foreign `Origin` is refused, cookies are `HttpOnly` and `SameSite=Strict`, and `Content-Security-Policy` forbids framing and every other resource".to_owned(),
        log: "`403` page; the decision is an audit record naming who made it".to_owned(),
        test: format!(
            "{}, {}, {}",
            cite("tests/tests/approval.rs::another_subject_can_neither_see_nor_decide_nor_use_the_approval"),
            cite("tests/tests/approval.rs::a_form_the_page_did_not_issue_is_refused"),
            cite("tests/tests/approval.rs::failed_sign_ins_are_throttled_per_address")
        ),
    });
}

/// Panics unless the file at `path` holds exactly the threat model of `S`,
/// naming the command that regenerates it.
pub async fn assert_committed<S: Tools>(path: &str, regenerate: &str) {
    let rendered = render::<S>(regenerate).await;
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == rendered,
        "{path} differs from the declarations of {}; regenerate it with\n  {regenerate}",
        S::NAME
    );
}

/// Runs every generated test a threat-model row names, through the server's
/// own dispatch: each must trip its gate before the body, with one WARNING.
pub async fn check<S: Tools>() {
    for spec in S::TOOLS {
        assert!(
            !spec.tests.is_empty(),
            "`{}` has no generated tests",
            spec.name
        );
        for test in spec.generated_tests() {
            assert_probe(S::NAME, spec, test.probe, run_named::<S>).await;
        }
    }
}

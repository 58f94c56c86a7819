//! doc-server's command line.

use std::process::Command;

#[test]
fn demo_tokens_are_never_served_beyond_loopback() {
    for addr in ["0.0.0.0:0", "[::]:0", "192.0.2.1:0"] {
        let output = Command::new(env!("CARGO_BIN_EXE_doc-server"))
            .args([
                "--demo",
                "--database-url",
                "sqlite::memory:",
                "--http",
                addr,
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{addr}: {stderr}");
        assert!(
            stderr.contains("--demo hands out well-known tokens, so it serves on loopback only")
                && stderr.contains(addr),
            "{stderr}"
        );
    }
}

fn doc_server(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_doc-server"));
    command
        .args(args)
        .env_remove("DOC_SERVER_JWT_ISSUER")
        .env_remove("DOC_SERVER_OIDC_ISSUER");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code(), stderr)
}

#[tokio::test]
async fn assign_gives_a_subject_a_role_in_the_store_once() {
    let dir = std::env::temp_dir().join(format!("doc-server-assign-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("docs.db").display());
    for _ in 0..2 {
        let (code, stderr) = doc_server(&["--database-url", &url, "assign", "erin", "editor"], &[]);
        assert_eq!(code, Some(0), "{stderr}");
    }
    let (code, stderr) = doc_server(&["--database-url", &url, "assign", "erin", "root"], &[]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("no role \"root\""), "{stderr}");

    let store = secure_tool::Store::connect(&url).await.unwrap();
    let authz = secure_tool::Authorizer::persistent(&store).await.unwrap();
    let reach = |action| authz.reach("erin", "documents", action);
    assert_eq!(
        reach("create").await.unwrap(),
        Some(secure_tool::Reach::Any)
    );
    assert_eq!(
        reach("delete").await.unwrap(),
        Some(secure_tool::Reach::Own)
    );
    assert_eq!(
        authz.reach("frank", "documents", "read").await.unwrap(),
        None
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_openid_configuration_that_cannot_hold_refuses_to_start() {
    let memory = ["--database-url", "sqlite::memory:"];
    let http = ["--database-url", "sqlite::memory:", "--http", "127.0.0.1:1"];
    // Nothing listens on port 1 of loopback; 192.0.2.1 is refused by its
    // scheme before any connection.
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 5] = [
        (
            &memory,
            &[("DOC_SERVER_OIDC_ISSUER", "http://127.0.0.1:1")],
            "serve over HTTP",
        ),
        (
            &http,
            &[("DOC_SERVER_OIDC_ISSUER", "http://192.0.2.1")],
            "must be https (http only on a loopback host)",
        ),
        (
            &http,
            &[("DOC_SERVER_OIDC_ISSUER", "http://127.0.0.1:1")],
            "cannot read the metadata of issuer \"http://127.0.0.1:1\"",
        ),
        (
            &http,
            &[
                ("DOC_SERVER_OIDC_ISSUER", "http://127.0.0.1:1"),
                ("DOC_SERVER_JWT_ISSUER", "https://issuer.example"),
            ],
            "DOC_SERVER_OIDC_ISSUER and DOC_SERVER_JWT_ISSUER are both set",
        ),
        (
            &http,
            &[
                ("DOC_SERVER_OIDC_ISSUER", "http://127.0.0.1:1"),
                ("DOC_SERVER_OIDC_ALGORITHMS", "RS256 HS256"),
            ],
            "HS256 is never accepted from an issuer's key set",
        ),
    ];
    for (args, env, expected) in cases {
        let (code, stderr) = doc_server(args, env);
        assert_ne!(code, Some(0), "{stderr}");
        assert!(stderr.contains(expected), "{expected:?} not in {stderr}");
    }
}

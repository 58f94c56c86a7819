//! The committed threat model is the generated one, and every row's test passes.

use template_server::{REGENERATE_THREAT_MODEL, TemplateServer};
use secure_tool::threat_model::{check, render};

#[tokio::test]
async fn committed_threat_model_matches_the_declarations() {
    let rendered = render::<TemplateServer>(REGENERATE_THREAT_MODEL).await;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/threat_model.md");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == rendered,
        "servers/template/threat_model.md differs from the declarations; regenerate it with\n  {REGENERATE_THREAT_MODEL}"
    );
}

#[tokio::test]
async fn every_threat_row_names_a_test_that_passes() {
    check::<TemplateServer>().await;
}

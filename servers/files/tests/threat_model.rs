//! The committed threat model is the generated one, and every row's test passes.

use files_server::{FilesServer, REGENERATE_THREAT_MODEL};
use secure_tool::threat_model::{assert_committed, check};

#[tokio::test]
async fn committed_threat_model_matches_the_declarations() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/threat_model.md");
    assert_committed::<FilesServer>(path, REGENERATE_THREAT_MODEL).await;
}

#[tokio::test]
async fn every_threat_row_names_a_test_that_passes() {
    check::<FilesServer>().await;
}

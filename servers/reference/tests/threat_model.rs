//! The committed threat models are the generated ones, and every row's test passes.

use reference_tools::{fetch::Fetch, filesystem::Filesystem, git::Git, memory::Memory, time::Time};
use secure_tool::server::Tools;
use secure_tool::threat_model::{assert_committed, check};

async fn committed<S: Tools>(name: &str) {
    let path = format!("{}/threat_models/{name}.md", env!("CARGO_MANIFEST_DIR"));
    assert_committed::<S>(&path, &reference_tools::regenerate(name)).await;
}

#[tokio::test]
async fn committed_threat_models_match_the_declarations() {
    committed::<Filesystem>("filesystem").await;
    committed::<Memory>("memory").await;
    committed::<Git>("git").await;
    committed::<Fetch>("fetch").await;
    committed::<Time>("time").await;
}

#[tokio::test]
async fn every_threat_row_names_a_test_that_passes() {
    check::<Filesystem>().await;
    check::<Memory>().await;
    check::<Git>().await;
    check::<Fetch>().await;
    check::<Time>().await;
}

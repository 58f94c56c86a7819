//! Prints the threat model of one reference server:
//! `reference-threat-model filesystem|memory|git|fetch|time`.

use std::process::ExitCode;

use reference_tools::{fetch::Fetch, filesystem::Filesystem, git::Git, memory::Memory, time::Time};
use secure_tool::threat_model::render;

fn main() -> ExitCode {
    let Some(name) = std::env::args().nth(1) else {
        eprintln!("usage: reference-threat-model filesystem|memory|git|fetch|time");
        return ExitCode::FAILURE;
    };
    let regenerate = reference_tools::regenerate(&name);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime builds");
    let model = runtime.block_on(async {
        match name.as_str() {
            "filesystem" => Some(render::<Filesystem>(&regenerate).await),
            "memory" => Some(render::<Memory>(&regenerate).await),
            "git" => Some(render::<Git>(&regenerate).await),
            "fetch" => Some(render::<Fetch>(&regenerate).await),
            "time" => Some(render::<Time>(&regenerate).await),
            _ => None,
        }
    });
    match model {
        Some(model) => {
            print!("{model}");
            ExitCode::SUCCESS
        }
        None => {
            eprintln!(
                "no reference server `{name}`; expected filesystem, memory, git, fetch or time"
            );
            ExitCode::FAILURE
        }
    }
}

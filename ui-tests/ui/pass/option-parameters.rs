//! `Option<T>` parameters are optional in the schema and `None` when absent.
use secure_tool::{Reject, secure_tool, server};
use secure_tool::server::Tools;

/// Greets, with an optional title and count.
#[secure_tool(max(times = 3), public)]
fn greet(name: String, title: Option<String>, times: Option<u8>) -> Result<String, Reject> {
    let who = match title {
        Some(title) => format!("{title} {name}"),
        None => name,
    };
    Ok(format!("hello {who}").repeat(usize::from(times.unwrap_or(1))))
}

server!(Greeter { greet });

fn main() {
    let spec = Greeter::TOOLS[0];
    let required: Vec<bool> = spec.params.iter().map(|p| p.required).collect();
    assert_eq!(required, [true, false, false]);
}

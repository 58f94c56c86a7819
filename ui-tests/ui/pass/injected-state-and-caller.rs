//! `State<T>` and `Principal` parameters are injected, not JSON arguments.
use secure_tool::{CheckedUrl, Principal, Reject, State, secure_tool, server};
use secure_tool::server::Tools;

struct Greeting(&'static str);

/// Greets the caller.
#[secure_tool(scope = "greetings:send", max_len(name = 32))]
async fn greet(greeting: State<Greeting>, caller: Principal, name: String) -> Result<String, Reject> {
    Ok(format!("{} {name}, from {}", greeting.0, caller.subject()))
}

/// Fetches a page.
#[secure_tool(public)]
async fn fetch(url: CheckedUrl) -> Result<String, Reject> {
    Ok(url.url().to_string())
}

server!(Greeter { greet, fetch });

fn main() {
    let params: Vec<&str> = Greeter::TOOLS[0].params.iter().map(|p| p.name).collect();
    assert_eq!(params, ["name"]);
    let _ = secure_tool::Server::new(Greeter).with_state(Greeting("hello"));
}

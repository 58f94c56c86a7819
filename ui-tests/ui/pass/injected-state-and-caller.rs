//! `State<T>`, `Principal` and `Grant` parameters are injected, not JSON arguments.
use secure_tool::{CheckedUrl, Grant, Principal, Reject, State, secure_tool, server};
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

/// Withdraws a greeting the caller sent (any greeting, for a role that reaches any).
#[secure_tool(scope = "greetings:delete", max_len(sender = 32))]
fn withdraw(grant: Grant, sender: String) -> Result<String, Reject> {
    grant.check(&sender)?;
    Ok(format!("withdrawn for {}", grant.subject()))
}

server!(Greeter { greet, fetch, withdraw });

fn main() {
    let params: Vec<&str> = Greeter::TOOLS[0].params.iter().map(|p| p.name).collect();
    assert_eq!(params, ["name"]);
    assert!(!Greeter::TOOLS[0].checks_owner);
    let params: Vec<&str> = Greeter::TOOLS[2].params.iter().map(|p| p.name).collect();
    assert_eq!(params, ["sender"]);
    assert!(Greeter::TOOLS[2].checks_owner);
    let _ = secure_tool::Server::new(Greeter).with_state(Greeting("hello"));
}

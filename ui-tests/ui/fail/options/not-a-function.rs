use secure_tool::{Reject, secure_tool};

#[secure_tool(public)]
struct Echo;

fn main() {
    let _ = Echo;
    let _: Option<Reject> = None;
}

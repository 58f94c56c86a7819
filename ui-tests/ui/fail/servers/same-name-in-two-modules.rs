use secure_tool::{Reject, secure_tool, server};

mod a {
    use super::*;
    /// Echoes.
    #[secure_tool(public)]
    pub fn echo(text: String) -> Result<String, Reject> {
        Ok(text)
    }
}

mod b {
    use super::*;
    /// Echoes louder.
    #[secure_tool(public)]
    pub fn echo(text: String) -> Result<String, Reject> {
        Ok(text.to_uppercase())
    }
}

server!(Tools { a::echo, b::echo });

fn main() {}

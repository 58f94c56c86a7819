//! Tools in nested modules, listed by path.
use secure_tool::server;
use secure_tool::server::Tools;

mod tools {
    pub mod math {
        use secure_tool::{Reject, secure_tool};

        /// Negates.
        #[secure_tool(max = 10, public)]
        pub fn negate(x: i32) -> Result<i32, Reject> {
            Ok(-x)
        }
    }

    pub mod text {
        use secure_tool::{Reject, secure_tool};

        /// Shouts.
        #[secure_tool(max_len = 16, public)]
        pub(crate) fn shout(text: String) -> Result<String, Reject> {
            Ok(text.to_uppercase())
        }
    }
}

server!(pub Nested { tools::math::negate, tools::text::shout });

fn main() {
    let names: Vec<&str> = Nested::TOOLS.iter().map(|t| t.name).collect();
    assert_eq!(names, ["negate", "shout"]);
}

use secure_tool::Args;

#[derive(Args)]
struct Edit {
    #[arg(scope = "files:write")]
    old_text: String,
}

fn main() {}

use secure_tool::Args;

#[derive(Args)]
struct Greeting {
    #[arg(max_len = 5, default = "good morning")]
    text: String,
}

fn main() {}

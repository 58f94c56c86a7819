use secure_tool::Args;

#[derive(Args)]
#[arg(max_len = 10)]
struct Edit {
    old_text: String,
}

fn main() {}

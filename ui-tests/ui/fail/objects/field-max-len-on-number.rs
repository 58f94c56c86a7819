use secure_tool::Args;

#[derive(Args)]
struct Page {
    #[arg(max_len = 5)]
    number: u32,
}

fn main() {}

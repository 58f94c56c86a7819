use secure_tool::Args;

#[derive(Args)]
struct Page {
    #[arg(max(number = 5))]
    number: u32,
}

fn main() {}

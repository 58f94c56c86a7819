use secure_tool::Args;

#[derive(Args)]
struct Listing {
    #[arg(allow = ["name", "size"])]
    sort_by: String,
}

fn main() {}

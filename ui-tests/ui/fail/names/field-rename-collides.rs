use secure_tool::Args;

#[derive(Args)]
#[arg(rename_all = "camelCase")]
struct Edit {
    old_text: String,
    #[arg(rename = "oldText")]
    previous: String,
}

fn main() {}

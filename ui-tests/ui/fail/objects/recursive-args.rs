use secure_tool::Args;

#[derive(Args)]
struct Node {
    name: String,
    children: Vec<Node>,
}

fn main() {}

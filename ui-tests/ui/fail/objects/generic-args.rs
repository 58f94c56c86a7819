use secure_tool::Args;

#[derive(Args)]
struct Pair<T> {
    left: T,
    right: T,
}

fn main() {}

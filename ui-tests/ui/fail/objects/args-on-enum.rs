use secure_tool::Args;

#[derive(Args)]
enum Shape {
    Circle,
    Square,
}

fn main() {}

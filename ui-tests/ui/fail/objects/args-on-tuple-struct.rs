use secure_tool::Args;

#[derive(Args)]
struct Point(i32, i32);

fn main() {}

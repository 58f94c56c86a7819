use secure_tool::server;

server!(Nothing {});

fn main() {}

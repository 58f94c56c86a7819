//! Generated code compiles in a crate that shadows prelude names.
#![allow(dead_code, non_camel_case_types)]

use secure_tool::{Reject, secure_tool, server};

struct Result;
struct Ok;
struct Err;
struct String;
struct Vec;
struct Option;
struct Some;
struct None;
struct Box;
mod core {}
mod std {}

/// Adds two numbers.
#[secure_tool(allow = ["add"], max = 10, public)]
fn add(op: Op, a: i32, b: i32) -> ::core::result::Result<i32, Reject> {
    match op {
        Op::Add => ::core::result::Result::Ok(a + b),
    }
}

/// Echoes text.
#[secure_tool(public)]
fn echo(text: ::std::string::String) -> ::core::result::Result<::std::string::String, Reject> {
    ::core::result::Result::Ok(text)
}

/// Two sides.
#[derive(secure_tool::Args)]
struct Pair {
    #[arg(max_len = 5, default = "x")]
    left: ::std::string::String,
    right: ::core::option::Option<i32>,
    #[arg(allow = ["up", "down"], default = "up")]
    way: Way,
}

/// Counts pairs and tags.
#[secure_tool(public, max_items(pairs = 3), allow(tags = ["a", "b"]), default(tags = ["a"]))]
fn count(
    pairs: ::std::vec::Vec<Pair>,
    tags: ::std::vec::Vec<Tag>,
) -> ::core::result::Result<i32, Reject> {
    let ups = pairs.iter().filter(|p| p.way == Way::Up).count();
    ::core::result::Result::Ok((ups + tags.len()) as i32)
}

server!(Shadowed { add, echo, count });

fn main() {}

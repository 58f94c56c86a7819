//! Compile-pass and compile-fail cases for `#[secure_tool]` live in `ui/`;
//! `tests/compiletest.rs` runs them.

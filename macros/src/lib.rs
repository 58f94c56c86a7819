//! Procedural macros of `secure-tool`. Use them through the `secure-tool` crate,
//! which re-exports them and supplies everything the generated code calls.
//!
//! The tool macro runs in stages, one file each: [`options`] parses the
//! attribute, [`signature`] parses the function, [`check`] cross-checks the two
//! into a [`model::Tool`], [`expand`] turns that model into tokens, and
//! [`fallback`] keeps the user's function when any stage failed.

mod check;
mod ctxt;
mod default;
mod derive;
mod expand;
mod fallback;
mod model;
mod options;
mod probes;
mod server;
mod signature;

use proc_macro::TokenStream;

/// Declares a tool. See the `secure-tool` crate documentation.
#[proc_macro_attribute]
pub fn secure_tool(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::tool(attr.into(), item.into()).into()
}

/// Declares a server from `#[secure_tool]` functions. See the `secure-tool` crate documentation.
#[proc_macro]
pub fn server(input: TokenStream) -> TokenStream {
    server::expand(input.into()).into()
}

/// Derives `secure_tool::Args`. See the `secure-tool` crate documentation.
#[proc_macro_derive(Args, attributes(arg))]
pub fn derive_args(input: TokenStream) -> TokenStream {
    derive::expand(input.into()).into()
}

/// Turns a nested struct's probe sites into tests. Generated code calls this.
#[doc(hidden)]
#[proc_macro]
pub fn __nested_tests(input: TokenStream) -> TokenStream {
    probes::expand(input.into()).into()
}

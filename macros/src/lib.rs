//! Procedural macros of `secure-tool`. Use them through the `secure-tool` crate,
//! which re-exports them and supplies everything the generated code calls.
//!
//! The tool macro runs in stages, one file each: `options` parses the
//! attribute, `signature` parses the function, `check` cross-checks the two
//! into a `model::Tool`, `expand` turns that model into tokens, and
//! `fallback` keeps the user's function when any stage failed. `derive` runs
//! the same stages for a struct, and `probes` names and carries the
//! rejection tests.

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

use std::cell::RefCell;

use proc_macro::TokenStream;

thread_local! {
    static KRATE: RefCell<Option<syn::Path>> = const { RefCell::new(None) };
}

/// The path generated code names the runtime by: `::secure_tool`, or what a
/// declaration's `crate = ".."` says (for a crate that renames the dependency).
pub(crate) fn krate() -> proc_macro2::TokenStream {
    KRATE.with(|k| match &*k.borrow() {
        Some(path) => quote::quote!(#path),
        None => quote::quote!(::secure_tool),
    })
}

/// Runs `f` with generated code naming the runtime by `path`.
pub(crate) fn with_krate<R>(path: Option<syn::Path>, f: impl FnOnce() -> R) -> R {
    let previous = KRATE.with(|k| k.replace(path));
    let out = f();
    KRATE.with(|k| *k.borrow_mut() = previous);
    out
}

/// Declares a tool: a plain function whose every argument is gated before its body runs.
///
/// ```
/// use secure_tool::{Reject, secure_tool, server};
///
/// /// Four-operation calculator over bounded, finite operands.
/// #[secure_tool(allow = ["add", "sub", "mul", "div"], max = 1e9, public)]
/// fn compute(op: Op, a: f64, b: f64) -> Result<f64, Reject> {
///     match op {
///         Op::Add => Ok(a + b),
///         Op::Sub => Ok(a - b),
///         Op::Mul => Ok(a * b),
///         Op::Div if b == 0.0 => Err(Reject::field("b", "division by zero")),
///         Op::Div => Ok(a / b),
///     }
/// }
///
/// server!(Calculator { compute });
/// # fn main() {}
/// ```
///
/// | Option | Meaning |
/// |---|---|
/// | `scope = "resource:action"` | the permission a caller needs |
/// | `public` | the tool needs no permission; one of `scope` and `public` is required |
/// | `allow = ["a", "b"]`, `allow(op = [..])` | the string parameter is a selector; its type names the enum generated from the list |
/// | `max = N`, `max(a = N)`, `min = N`, `min(a = N)` | inclusive bounds of numbers (the blanket `max = N` means `\|x\| <= N`); a float needs both sides, a signed integer with a named `max` needs a `min` |
/// | `max_len = N`, `max_len(text = N)` | the length bound of strings, in chars (4096 unless declared) |
/// | `max_items(p = N)`, `min_items(p = N)` | how many items the list `p` may hold (at most 256 unless declared) |
/// | `unique(p, ..)` | the list `p` may not hold an item twice |
/// | `allow_invisible(p, ..)` | the free text `p` may carry characters that hide text (zero-width spaces and joiners, tag characters, soft hyphens, BOM), refused by default; control and bidirectional-override characters stay refused |
/// | `default(p = value)` | `p` may be absent and then takes `value`, checked at compile time against `p`'s gates |
/// | `rename(p = "wire")` | the name of `p` on the wire |
/// | `rename_all = "camelCase"` | every parameter's wire name: `camelCase`, `PascalCase`, `snake_case`, `SCREAMING_SNAKE_CASE`, `kebab-case`, `lowercase` |
/// | `max_size = N` | the arguments as a whole may be at most N bytes (1 MiB unless declared) |
/// | `confirm` | destructive: the call must carry `confirm: true`, and the user is asked when the client can |
/// | `confirm = "human"` | as `confirm`, and a person approves each call on the server's own approval page, outside the MCP client; a call that cannot reach it is refused (features `consent` and `http`) |
/// | `read_only`, `idempotent`, `open_world` | MCP hints (`readOnlyHint`, `idempotentHint`, `openWorldHint`); a `confirm` tool cannot be `read_only`, and a `CheckedUrl` parameter makes a tool `open_world`; unstated hints stay absent, which clients read cautiously |
/// | `command(p, ..)` | the selector `p` picks a command-line flag: shell metacharacters are refused first |
/// | `rate = "30/min"` | each caller may call the tool 30 times a minute (`N/s`, `N/min`, `N/h`) |
/// | `crate = "path"` | how generated code names the runtime, for a crate that renames the `secure-tool` dependency |
///
/// Parameter types: `f32`, `f64`, `i8`–`i64`, `u8`–`u64`, `bool`, `String`,
/// allowlist enums, structs that derive [`Args`](derive@Args), `Vec<T>` and
/// `Option<T>` of those; `CheckedUrl` (SSRF-guarded), `CheckedPath` (beneath
/// a root), `State<T>`, `Principal` and `Grant` (injected). The return type is
/// `Result<T, Reject>`. The doc comment is required: it is the description
/// the model reads.
///
/// The macro also emits a module named after the function, holding the
/// tool's spec and one `#[test]` per gate and value, such as
/// `compute::rejects_op_outside_allowlist`.
#[proc_macro_attribute]
pub fn secure_tool(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::tool(attr.into(), item.into()).into()
}

/// Declares a server from `#[secure_tool]` functions: `server!(pub Name { tool, .. })`.
///
/// Dispatch is a literal `match` on the tool names; only functions carrying
/// `#[secure_tool]` may be listed, each once. A crate that renames the
/// dependency writes `server!(#[secure_tool(crate = "st")] pub Name { .. })`.
///
/// ```
/// use secure_tool::{Reject, secure_tool, server};
///
/// /// Returns the text unchanged.
/// #[secure_tool(public)]
/// fn echo(text: String) -> Result<String, Reject> {
///     Ok(text)
/// }
///
/// server!(pub Echo { echo });
/// # fn main() {}
/// ```
#[proc_macro]
pub fn server(input: TokenStream) -> TokenStream {
    server::expand(input.into()).into()
}

/// Derives `secure_tool::Args`: the struct is a nested JSON object with
/// exactly its fields, each gated as a tool parameter is.
///
/// ```
/// use secure_tool::{Args, Reject, secure_tool};
///
/// /// A node of a knowledge graph.
/// #[derive(Args)]
/// #[arg(rename_all = "camelCase")]
/// pub struct Entity {
///     #[arg(max_len = 256)]
///     pub name: String,
///     #[arg(allow = ["person", "place"], default = "person")]
///     pub entity_type: EntityType,
///     #[arg(max_items = 100, max_len = 4096, unique)]
///     pub observations: Vec<String>,
/// }
///
/// /// Creates entities.
/// #[secure_tool(public, max_items(entities = 100))]
/// fn create_entities(entities: Vec<Entity>) -> Result<u64, Reject> {
///     Ok(entities.len() as u64)
/// }
/// # fn main() {}
/// ```
///
/// On the struct, `#[arg(rename_all = "..")]` and `#[arg(crate = "..")]`. On a field, `#[arg(..)]` takes
/// `allow = [..]`, `min = N`, `max = N`, `max_len = N`, `max_items = N`,
/// `min_items = N`, `unique`, `allow_invisible`, `default = value` and `rename = "wire"`, with
/// the meanings they have on [`secure_tool`](macro@secure_tool). A struct that contains
/// itself is refused; structs nest at most `secure_tool::spec::MAX_DEPTH` deep. The
/// derive emits a hidden `macro_rules!` of the struct's name beside it, which
/// carries its gates to the tests of every tool that names it.
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

#[cfg(test)]
mod tests {
    /// Every option the parser accepts has a row or a mention in the rustdoc above.
    #[test]
    fn every_option_is_documented() {
        let source = include_str!("lib.rs");
        let docs: String = source
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix("///"))
            .collect::<Vec<_>>()
            .join("\n");
        for option in crate::options::OPTIONS
            .iter()
            .chain(crate::options::FIELD_OPTIONS)
        {
            assert!(
                docs.contains(&format!("`{option}")) || docs.contains(&format!("{option}(")),
                "`{option}` is not documented in the macros' rustdoc"
            );
        }
    }

    /// Hovering a generated selector enum shows which variant each literal became.
    #[test]
    fn a_selector_enum_documents_its_variants() {
        let selector = crate::model::Selector {
            ident: syn::parse_quote!(Sort),
            variants: vec![
                (
                    syn::parse_quote!("newest-first"),
                    syn::parse_quote!(NewestFirst),
                ),
                (syn::parse_quote!("oldest"), syn::parse_quote!(Oldest)),
            ],
        };
        let vis: syn::Visibility = syn::parse_quote!(pub);
        let file: syn::File =
            syn::parse2(crate::expand::selector(&vis, &selector)).unwrap_or_else(|e| panic!("{e}"));
        let item = file
            .items
            .iter()
            .find_map(|item| match item {
                syn::Item::Enum(item) => Some(item),
                _ => None,
            })
            .expect("the selector is an enum");
        let doc: String = item
            .attrs
            .iter()
            .filter_map(|a| match &a.meta {
                syn::Meta::NameValue(nv) => match &nv.value {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => Some(s.value()),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        assert!(
            doc.contains("`\"newest-first\"` → `Sort::NewestFirst`"),
            "{doc}"
        );
        assert!(doc.contains("`\"oldest\"` → `Sort::Oldest`"), "{doc}");
    }
}

//! The rejection tests a declaration gets: one probe per gate and value,
//! named from the Rust path of the value, aimed at its wire path.
//!
//! A tool's own parameters are known to `#[secure_tool]`; the fields of a
//! nested object are known only to its `#[derive(Args)]`. So the derive emits a
//! `macro_rules!` named after the struct (in the macro namespace, beside the
//! type: importing one imports both) that carries the struct's probe sites,
//! inner structs' sites already flattened in, to [`expand`], which turns them
//! into tests inside the tool that names the struct.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Path, Token, braced, bracketed};

use crate::model::{Kind, Param};

/// A value and what to do with it: its wire path (for the probe) and the
/// Rust names leading to it (for the test's name).
#[derive(Clone)]
pub struct Entry<H> {
    pub head: H,
    pub wire: String,
    pub rust: Vec<String>,
}

/// A probe of one value; the head names the probe.
pub type Site = Entry<Ident>;

/// A value whose type is a struct that derives `Args`: its sites come from
/// the struct, whose path is the head.
pub type Nested = Entry<Path>;

fn site(probe: &str, rust: &[String], wire: &str) -> Site {
    Site {
        head: Ident::new(probe, Span::call_site()),
        wire: wire.to_owned(),
        rust: rust.to_vec(),
    }
}

/// The sites of one parameter or field: its kind's gates, its type, its presence.
pub fn param(p: &Param, wire: &str, sites: &mut Vec<Site>, nested: &mut Vec<Nested>) {
    let rust = vec![p.name.clone()];
    kind(&p.kind, &rust, wire, sites, nested);
    if p.kind.injected() {
        return;
    }
    sites.push(site("WrongType", &rust, wire));
    // A missing `confirm` is refused by the confirm gate: its own probe.
    if p.required() && !matches!(p.kind, Kind::Confirm) {
        sites.push(site("Missing", &rust, wire));
    }
}

fn kind(kind: &Kind, rust: &[String], wire: &str, sites: &mut Vec<Site>, nested: &mut Vec<Nested>) {
    let mut gate = |probe: &str| sites.push(site(probe, rust, wire));
    match kind {
        Kind::Choice { command, .. } => {
            gate("OutsideAllowlist");
            if *command {
                gate("ShellMetacharacters");
            }
        }
        Kind::Path { .. } => {
            gate("OutsideRoots");
            gate("ControlChars");
            gate("InvisibleChars");
            gate("OverLength");
        }
        Kind::Url { .. } => {
            gate("InternalUrl");
            gate("ControlChars");
            gate("InvisibleChars");
            gate("OverLength");
        }
        Kind::Float { ty, min, max } => {
            // An f32 has a range of its own even without declared bounds.
            if max.is_some() || *ty == "f32" {
                gate("AboveMax");
            }
            if min.is_some() || *ty == "f32" {
                gate("BelowMin");
            }
        }
        Kind::Int { .. } => {
            gate("AboveMax");
            gate("BelowMin");
        }
        Kind::Text { invisible, .. } => {
            gate("ControlChars");
            if !invisible {
                gate("InvisibleChars");
            }
            gate("OverLength");
        }
        Kind::List {
            items,
            min_items,
            max_items,
            unique,
        } => {
            gate("OverMaxItems");
            if *min_items > 0 {
                gate("UnderMinItems");
            }
            if *unique && *max_items > 1 {
                gate("DuplicateItems");
            }
            let item_wire = format!("{wire}[0]");
            let mut item_rust = rust.to_vec();
            item_rust.push("items".to_owned());
            sites.push(site("WrongType", &item_rust, &item_wire));
            match &**items {
                Kind::Object(path) => nested.push(Nested {
                    head: path.clone(),
                    wire: item_wire,
                    rust: rust.to_vec(),
                }),
                other => self::kind(other, &item_rust, &item_wire, sites, nested),
            }
        }
        Kind::Object(path) => nested.push(Nested {
            head: path.clone(),
            wire: wire.to_owned(),
            rust: rust.to_vec(),
        }),
        Kind::Bool | Kind::Confirm | Kind::State(_) | Kind::Caller | Kind::Grant => {}
    }
}

/// The sites of a struct's own fields, relative to the struct, and the
/// probe of a field it does not declare.
pub fn object(fields: &[Param], sites: &mut Vec<Site>, nested: &mut Vec<Nested>) {
    for f in fields {
        param(f, &format!(".{}", f.wire), sites, nested);
    }
    sites.push(site("UnknownFieldIn", &[], ""));
}

/// The name of a site's test: `rejects_edits_old_text_with_control_chars`.
pub fn test_name(probe: &Ident, rust: &[String]) -> Ident {
    let n = rust.join("_");
    let name = match probe.to_string().as_str() {
        "Missing" => format!("rejects_missing_{n}"),
        "DuplicateItems" => format!("rejects_duplicate_{n}"),
        "UnknownFieldIn" => format!("rejects_unknown_field_in_{n}"),
        other => {
            let suffix = match other {
                "OutsideAllowlist" => "outside_allowlist",
                "ShellMetacharacters" => "with_shell_metacharacters",
                "InternalUrl" => "to_internal_addresses",
                "OutsideRoots" => "outside_roots",
                "AboveMax" => "above_max",
                "BelowMin" => "below_min",
                "ControlChars" => "with_control_chars",
                "InvisibleChars" => "with_invisible_chars",
                "OverLength" => "over_max_len",
                "WrongType" => "of_wrong_type",
                "OverMaxItems" => "over_max_items",
                "UnderMinItems" => "under_min_items",
                _ => "rejected",
            };
            format!("rejects_{n}_{suffix}")
        }
    };
    format_ident!("{name}")
}

/// A path as seen from a module one level down, whose `use super::*` sees
/// what the original module sees.
pub fn from_child(path: &Path) -> Path {
    let mut path = path.clone();
    if path.leading_colon.is_none()
        && let Some(first) = path.segments.first()
        && (first.ident == "self" || first.ident == "super")
    {
        if first.ident == "self" {
            path.segments[0].ident = Ident::new("super", first.ident.span());
        } else {
            path.segments.insert(
                0,
                syn::PathSegment::from(Ident::new("super", Span::call_site())),
            );
        }
    }
    path
}

/// Entries as the tokens a struct's macro carries: `(Head ".wire" [rust ..])`.
pub fn to_tokens<H: quote::ToTokens>(entries: &[Entry<H>]) -> TokenStream {
    let entries = entries.iter().map(|e| {
        let head = &e.head;
        let wire = &e.wire;
        let rust = e.rust.iter().map(|r| format_ident!("{r}"));
        quote!((#head #wire [#(#rust)*]))
    });
    quote!([#(#entries)*])
}

/// What the struct `define` emits once every inner struct's sites are in:
/// the `macro_rules!` that carries them, re-exported beside the type.
pub fn define(define: &Ident, sites: &[Site]) -> TokenStream {
    let krate = crate::krate();
    let sites = to_tokens(sites);
    quote! {
        #[doc(hidden)]
        #[allow(unused_macros)]
        macro_rules! #define {
            ($($ctx:tt)*) => {
                #krate::__private::__nested_tests! { $($ctx)* sites #sites }
            };
        }
        #[doc(hidden)]
        #[allow(unused_imports)]
        pub(crate) use #define;
    }
}

/// The first step of flattening: ask the first inner struct for its sites.
pub fn flatten(define: &Ident, own: Vec<Site>, nested: Vec<Nested>) -> TokenStream {
    // The flattening runs in a module one level below the struct's.
    let mut nested = nested.into_iter().map(|n| Nested {
        head: from_child(&n.head),
        ..n
    });
    let Some(first) = nested.next() else {
        return self::define(define, &own);
    };
    let rest: Vec<Nested> = nested.collect();
    ask(define, &own, &first, &rest)
}

fn ask(define: &Ident, acc: &[Site], next: &Nested, rest: &[Nested]) -> TokenStream {
    let krate = crate::krate();
    let path = &next.head;
    let wire = &next.wire;
    let rust = next.rust.iter().map(|r| format_ident!("{r}"));
    let acc = to_tokens(acc);
    let rest = to_tokens(rest);
    quote! {
        #path! { flatten { krate (#krate) define #define rust [#(#rust)*] wire #wire acc #acc rest #rest } }
    }
}

/// A struct's sites under a prefix: what a tool or an outer struct sees.
fn prefixed(sites: &[Site], rust: &[String], wire: &str) -> Vec<Site> {
    sites
        .iter()
        .map(|s| Site {
            head: s.head.clone(),
            wire: format!("{wire}{}", s.wire),
            rust: rust.iter().chain(&s.rust).cloned().collect(),
        })
        .collect()
}

/// The input of `__nested_tests!`: a context, then the struct's sites.
struct Input {
    /// How the code that asked names the runtime.
    krate: Path,
    mode: Mode,
    sites: Vec<Site>,
}

enum Mode {
    /// One `#[test]` per site, inside a tool's module.
    Tests { rust: Vec<String>, wire: String },
    /// The same tests as `GeneratedTest`s, for the tool's spec.
    List { rust: Vec<String>, wire: String },
    /// One step of flattening an outer struct's sites.
    Flatten {
        define: Ident,
        rust: Vec<String>,
        wire: String,
        acc: Vec<Site>,
        rest: Vec<Nested>,
    },
}

fn idents(input: ParseStream<'_>) -> syn::Result<Vec<String>> {
    let content;
    bracketed!(content in input);
    let mut out = Vec::new();
    while !content.is_empty() {
        out.push(content.parse::<Ident>()?.to_string());
    }
    Ok(out)
}

fn keyword(input: ParseStream<'_>, word: &str) -> syn::Result<()> {
    let ident: Ident = input.parse()?;
    if ident == word {
        Ok(())
    } else {
        Err(syn::Error::new(ident.span(), format!("expected `{word}`")))
    }
}

fn entries<H: Parse>(input: ParseStream<'_>) -> syn::Result<Vec<Entry<H>>> {
    let content;
    bracketed!(content in input);
    let mut out = Vec::new();
    while !content.is_empty() {
        let inner;
        syn::parenthesized!(inner in content);
        let head: H = inner.parse()?;
        let wire: LitStr = inner.parse()?;
        let rust = idents(&inner)?;
        out.push(Entry {
            head,
            wire: wire.value(),
            rust,
        });
    }
    Ok(out)
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mode: Ident = input.parse()?;
        let content;
        braced!(content in input);
        keyword(&content, "krate")?;
        let krate_tokens;
        syn::parenthesized!(krate_tokens in content);
        let krate = Path::parse_mod_style(&krate_tokens)?;
        let mode = match mode.to_string().as_str() {
            "tests" | "list" => {
                keyword(&content, "rust")?;
                let rust = idents(&content)?;
                keyword(&content, "wire")?;
                let wire: LitStr = content.parse()?;
                if mode == "tests" {
                    Mode::Tests {
                        rust,
                        wire: wire.value(),
                    }
                } else {
                    Mode::List {
                        rust,
                        wire: wire.value(),
                    }
                }
            }
            "flatten" => {
                keyword(&content, "define")?;
                let define: Ident = content.parse()?;
                keyword(&content, "rust")?;
                let rust = idents(&content)?;
                keyword(&content, "wire")?;
                let wire: LitStr = content.parse()?;
                keyword(&content, "acc")?;
                let acc = entries(&content)?;
                keyword(&content, "rest")?;
                let rest = entries(&content)?;
                Mode::Flatten {
                    define,
                    rust,
                    wire: wire.value(),
                    acc,
                    rest,
                }
            }
            _ => return Err(syn::Error::new(mode.span(), "unknown mode")),
        };
        keyword(input, "sites")?;
        let sites = entries(input)?;
        let _: Option<Token![,]> = input.parse()?;
        Ok(Input { krate, mode, sites })
    }
}

/// `__nested_tests!`: a struct's sites, put to use in a context.
pub fn expand(input: TokenStream) -> TokenStream {
    let input: Input = match syn::parse2(input) {
        Ok(input) => input,
        Err(err) => return err.into_compile_error(),
    };
    crate::with_krate(Some(input.krate.clone()), || sites_in(input))
}

fn sites_in(input: Input) -> TokenStream {
    let krate = crate::krate();
    match input.mode {
        Mode::Tests { rust, wire } => {
            let tests = prefixed(&input.sites, &rust, &wire).into_iter().map(|s| {
                let name = test_name(&s.head, &s.rust);
                let probe = &s.head;
                let path = &s.wire;
                quote! {
                    #[cfg(test)]
                    #[::core::prelude::v1::test]
                    fn #name() {
                        #krate::__private::assert_rejects::<__SecureTool>(
                            ::core::env!("CARGO_PKG_NAME"),
                            #krate::__private::Probe::#probe(#path),
                        );
                    }
                }
            });
            quote!(#(#tests)*)
        }
        Mode::List { rust, wire } => {
            let entries = prefixed(&input.sites, &rust, &wire).into_iter().map(|s| {
                let name = test_name(&s.head, &s.rust).to_string();
                let probe = &s.head;
                let path = &s.wire;
                quote! {
                    #krate::__private::GeneratedTest {
                        name: #name,
                        probe: #krate::__private::Probe::#probe(#path),
                    }
                }
            });
            quote!(&[#(#entries),*])
        }
        Mode::Flatten {
            define,
            rust,
            wire,
            mut acc,
            rest,
        } => {
            acc.extend(prefixed(&input.sites, &rust, &wire));
            let mut rest = rest.into_iter();
            match rest.next() {
                None => self::define(&define, &acc),
                Some(next) => ask(&define, &acc, &next, &rest.collect::<Vec<_>>()),
            }
        }
    }
}

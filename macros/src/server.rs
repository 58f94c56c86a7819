//! `server!(Name { tool, .. })`: a literal `match` dispatch over declared tools.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Ident, Path, Token, Visibility, braced};

use crate::ctxt::Ctxt;

struct Input {
    attrs: Vec<Attribute>,
    vis: Visibility,
    ident: Ident,
    brace: syn::token::Brace,
    tools: Punctuated<Path, Token![,]>,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let ident = input.parse()?;
        let content;
        let brace = braced!(content in input);
        let tools = content.parse_terminated(Path::parse_mod_style, Token![,])?;
        Ok(Self {
            attrs,
            vis,
            ident,
            brace,
            tools,
        })
    }
}

/// What a malformed `server!` still declares: its name, so that code naming
/// the server reports nothing further.
struct Head {
    attrs: Vec<Attribute>,
    vis: Visibility,
    ident: Ident,
}

impl Parse for Head {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let head = Self {
            attrs: input.call(Attribute::parse_outer)?,
            vis: input.parse()?,
            ident: input.parse()?,
        };
        let _: TokenStream = input.parse()?;
        Ok(head)
    }
}

pub fn expand(input: TokenStream) -> TokenStream {
    let mut input: Input = match syn::parse2(input.clone()) {
        Ok(input) => input,
        Err(err) => {
            let mut err = err;
            err.combine(syn::Error::new(
                err.span(),
                "expected `server!(Name { tool, .. })`",
            ));
            let err = err.into_compile_error();
            return match syn::parse2::<Head>(input) {
                Ok(Head { attrs, vis, ident }) => {
                    let stub = tools(&attrs, &vis, &ident, &[]);
                    quote!(#err #stub)
                }
                Err(_) => err,
            };
        }
    };
    let mut cx = Ctxt::default();
    let krate = take_krate(&mut cx, &mut input.attrs);
    if input.tools.is_empty() {
        cx.error(
            input.brace.span.join(),
            format!(
                "server `{}` lists no tools; name at least one `#[secure_tool]` function",
                input.ident
            ),
        );
    }
    let mut names: Vec<(String, &Path)> = Vec::new();
    for path in &input.tools {
        let last = &path.segments.last().expect("a path has a segment").ident;
        let name = last.unraw().to_string();
        if names.iter().any(|(n, _)| *n == name) {
            cx.error(
                last.span(),
                format!("duplicate tool `{name}`: each tool name is listed once"),
            );
        } else {
            names.push((name, path));
        }
    }
    let errors = cx.finish().err().map(syn::Error::into_compile_error);
    let server = crate::with_krate(krate, || {
        tools(&input.attrs, &input.vis, &input.ident, &names)
    });
    quote! {
        #errors
        #server
    }
}

/// The server's struct and its `Tools` impl, dispatching to `names`.
fn tools(
    attrs: &[Attribute],
    vis: &Visibility,
    ident: &Ident,
    names: &[(String, &Path)],
) -> TokenStream {
    let krate = crate::krate();
    let specs = names
        .iter()
        .map(|(_, path)| quote_spanned!(path.span()=> &#path::__SECURE_TOOL_SPEC));
    let arms = names.iter().map(|(name, path)| {
        quote_spanned! {path.span()=>
            #name => __secure_tool_pipeline.run::<#path::__SecureTool>(__secure_tool_args, __secure_tool_request).await,
        }
    });
    quote! {
        #(#attrs)*
        #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::marker::Copy, ::core::default::Default)]
        #vis struct #ident;

        #[automatically_derived]
        impl #krate::server::Tools for #ident {
            const NAME: &'static str = ::core::env!("CARGO_PKG_NAME");
            const VERSION: &'static str = ::core::env!("CARGO_PKG_VERSION");
            const TOOLS: &'static [&'static #krate::spec::ToolSpec] = &[#(#specs),*];

            fn dispatch<'a>(
                __secure_tool_pipeline: &'a #krate::pipeline::Pipeline,
                __secure_tool_name: &'a str,
                __secure_tool_args: #krate::server::Arguments,
                __secure_tool_request: #krate::server::Request<'a>,
            ) -> impl ::core::future::Future<Output = #krate::pipeline::Trace> + ::core::marker::Send + 'a {
                async move {
                    match __secure_tool_name {
                        #(#arms)*
                        _ => __secure_tool_pipeline.unknown_tool(__secure_tool_name, __secure_tool_request).await,
                    }
                }
            }
        }
    }
}

/// `#[secure_tool(crate = "..")]` among a server's attributes: how generated
/// code names the runtime. Taken out of the attributes the struct gets.
fn take_krate(cx: &mut Ctxt, attrs: &mut Vec<Attribute>) -> Option<Path> {
    let mut krate = None;
    attrs.retain(|attr| {
        if !attr.path().is_ident("secure_tool") {
            return true;
        }
        let parsed = attr.parse_args::<syn::MetaNameValue>().and_then(|nv| {
            let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
            else {
                return Err(syn::Error::new(
                    nv.value.span(),
                    "expected a string literal",
                ));
            };
            if !nv.path.is_ident("crate") {
                return Err(syn::Error::new(
                    nv.path.span(),
                    "on a server, `#[secure_tool(..)]` takes only `crate = \"..\"`",
                ));
            }
            s.parse::<Path>()
        });
        match parsed {
            Ok(path) => krate = Some(path),
            Err(err) => cx.push(err),
        }
        false
    });
    krate
}

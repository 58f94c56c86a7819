//! Stage 4: tokens from the checked model. Reads only [`crate::model`].

use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ItemFn;
use syn::spanned::Spanned;

use crate::ctxt::Ctxt;
use crate::model::{Kind, Param, Selector, Tool};
use crate::{check, fallback, options, signature};

pub fn tool(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item_fn: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            let err = syn::Error::new(
                Span::call_site(),
                "`#[secure_tool]` applies to free functions only",
            );
            let err = err.into_compile_error();
            return quote!(#item #err);
        }
    };
    let mut cx = Ctxt::default();
    let options = options::parse(&mut cx, attr);
    let sig = signature::parse(&mut cx, &item_fn);
    let tool = check::check(&mut cx, options, sig);
    match cx.finish() {
        Ok(()) => generate(&item_fn, &tool),
        Err(err) => fallback::emit(&item_fn, &tool, err),
    }
}

fn generate(item_fn: &ItemFn, tool: &Tool) -> TokenStream {
    let vis = &item_fn.vis;
    let module = &tool.ident;
    let selectors = tool.selectors.iter().map(|s| selector(vis, s));
    let spec = spec(tool);
    let call = call(tool, &inner_vis(vis));
    let tests = tests(tool);
    quote! {
        #item_fn
        #(#selectors)*

        #[doc(hidden)]
        #[allow(non_snake_case, unused_imports, clippy::all)]
        #vis mod #module {
            use super::*;

            /// The machine-readable spec of the tool.
            pub static __SECURE_TOOL_SPEC: ::secure_tool::ToolSpec = #spec;

            #call

            #tests
        }
    }
}

/// The enum an allowlist generates, with its literal `match`.
pub fn selector(vis: &syn::Visibility, s: &Selector) -> TokenStream {
    let ident = &s.ident;
    let lits: Vec<_> = s.variants.iter().map(|(l, _)| l).collect();
    let variants: Vec<_> = s.variants.iter().map(|(_, v)| v).collect();
    let docs = lits.iter().map(|l| format!("`{}`", l.value()));
    quote! {
        /// The allowed values of a `#[secure_tool]` selector, generated from its allowlist.
        #[derive(
            ::core::clone::Clone,
            ::core::marker::Copy,
            ::core::fmt::Debug,
            ::core::cmp::PartialEq,
            ::core::cmp::Eq,
            ::core::hash::Hash,
        )]
        #vis enum #ident {
            #( #[doc = #docs] #variants, )*
        }

        #[automatically_derived]
        #[allow(dead_code)]
        impl #ident {
            /// Every allowed value, as declared.
            #vis const ALLOWED: &'static [&'static str] = &[#(#lits),*];

            /// The value exactly as a client sends it.
            #vis const fn as_str(self) -> &'static str {
                match self {
                    #( Self::#variants => #lits, )*
                }
            }

            #[doc(hidden)]
            #vis fn __secure_tool_from_allowed(value: &str) -> ::core::option::Option<Self> {
                match value {
                    #( #lits => ::core::option::Option::Some(Self::#variants), )*
                    _ => ::core::option::Option::None,
                }
            }
        }
    }
}

fn float_lit(x: f64) -> TokenStream {
    let lit = Literal::f64_suffixed(x.abs());
    if x.is_sign_negative() {
        quote!(-#lit)
    } else {
        quote!(#lit)
    }
}

fn int_lit(x: i128) -> TokenStream {
    let lit = Literal::i128_suffixed(x.unsigned_abs() as i128);
    if x < 0 { quote!(-#lit) } else { quote!(#lit) }
}

fn option(x: Option<TokenStream>) -> TokenStream {
    match x {
        Some(x) => quote!(::core::option::Option::Some(#x)),
        None => quote!(::core::option::Option::None),
    }
}

fn param_spec(name: &str, kind: TokenStream, required: bool) -> TokenStream {
    quote! {
        ::secure_tool::ParamSpec { name: #name, kind: #kind, required: #required }
    }
}

fn kind(tool: &Tool, p: &Param) -> TokenStream {
    match &p.kind {
        Kind::Float { ty, min, max } => {
            let min = option(min.map(float_lit));
            let max = option(max.map(float_lit));
            quote!(::secure_tool::Kind::Float { ty: #ty, min: #min, max: #max })
        }
        Kind::Int { ty, min, max } => {
            let (min, max) = (int_lit(*min), int_lit(*max));
            quote!(::secure_tool::Kind::Int { ty: #ty, min: #min, max: #max })
        }
        Kind::Bool => quote!(::secure_tool::Kind::Bool),
        Kind::Text { max_len } => quote!(::secure_tool::Kind::Text { max_len: #max_len }),
        Kind::Url { max_len } => quote!(::secure_tool::Kind::Url { max_len: #max_len }),
        Kind::Choice { selector, command } => {
            let lits = tool.selectors[*selector].variants.iter().map(|(l, _)| l);
            quote!(::secure_tool::Kind::Choice { allow: &[#(#lits),*], command: #command })
        }
        Kind::Confirm => quote!(::secure_tool::Kind::Confirm),
        Kind::State(_) | Kind::Caller => unreachable!("injected parameters have no spec"),
    }
}

fn spec(tool: &Tool) -> TokenStream {
    let name = &tool.name;
    let description = &tool.description;
    let mut params: Vec<TokenStream> = tool
        .arguments()
        .map(|p| param_spec(&p.name, kind(tool, p), !p.optional))
        .collect();
    if tool.confirm_added {
        params.push(param_spec(
            "confirm",
            quote!(::secure_tool::Kind::Confirm),
            true,
        ));
    }
    let access = match &tool.scope {
        Some(scope) => quote!(::secure_tool::Access::Scope(#scope)),
        None => quote!(::secure_tool::Access::Public),
    };
    let confirm = tool.confirm;
    let rate = option(tool.rate.map(|(calls, secs)| {
        quote!(::secure_tool::Rate::new(#calls, ::core::time::Duration::from_secs(#secs)))
    }));
    let ok_ty = &tool.ok_ty;
    let output_schema = quote_spanned!(tool.ret_span=> <#ok_ty as ::secure_tool::__private::IntoOutput>::output_schema);
    let untrusted =
        quote_spanned!(tool.ret_span=> <#ok_ty as ::secure_tool::__private::IntoOutput>::UNTRUSTED);
    quote! {
        ::secure_tool::ToolSpec {
            name: #name,
            description: #description,
            params: &[#(#params),*],
            access: #access,
            confirm: #confirm,
            untrusted_output: #untrusted,
            rate: #rate,
            tests: __SECURE_TOOL_TESTS,
            output_schema: #output_schema,
        }
    }
}

/// The visibility, seen from inside the tool's module, that equals `vis` seen
/// from outside it: the `Tool` impl may not be more visible than the enums it names.
fn inner_vis(vis: &syn::Visibility) -> TokenStream {
    match vis {
        syn::Visibility::Public(_) => quote!(pub),
        syn::Visibility::Inherited => quote!(pub(super)),
        syn::Visibility::Restricted(r) => {
            let path = &r.path;
            if path.is_ident("crate") || path.segments.first().is_some_and(|s| s.ident == "crate") {
                quote!(pub(in #path))
            } else if path.is_ident("self") {
                quote!(pub(super))
            } else {
                quote!(pub(in super::#path))
            }
        }
    }
}

/// The tool as the pipeline runs it: every argument gate, then the body.
fn call(tool: &Tool, vis: &TokenStream) -> TokenStream {
    let extract = tool.arguments().enumerate().map(|(i, p)| {
        let ident = &p.ident;
        let name = &p.name;
        let ty = &p.ty;
        let param = quote!(&__SECURE_TOOL_SPEC.params[#i]);
        let value = quote!(__secure_tool_args.get(#name));
        match &p.kind {
            Kind::Choice { selector, .. } => {
                let enum_ident = &tool.selectors[*selector].ident;
                quote! {
                    let __secure_tool_raw = ::secure_tool::__private::choice(#param, #value)?;
                    let #ident: #enum_ident = match #enum_ident::__secure_tool_from_allowed(__secure_tool_raw) {
                        ::core::option::Option::Some(v) => v,
                        ::core::option::Option::None => {
                            return ::core::result::Result::Err(
                                ::secure_tool::__private::not_allowed(#param, __secure_tool_raw),
                            );
                        }
                    };
                }
            }
            Kind::Confirm => quote! {
                let #ident: bool = ::secure_tool::__private::confirm(#param, #value)?;
            },
            Kind::Url { .. } => quote_spanned! {ty.span()=>
                let #ident: #ty = ::secure_tool::__private::url(#param, #value, &__secure_tool_guards.fetch).await?;
            },
            _ => quote_spanned! {ty.span()=>
                let #ident: #ty = <#ty as ::secure_tool::__private::FromArg>::from_arg(#param, #value)?;
            },
        }
    });
    let confirm_added = tool.confirm_added.then(|| {
        let i = tool.arguments().count();
        quote! {
            ::secure_tool::__private::confirm(&__SECURE_TOOL_SPEC.params[#i], __secure_tool_args.get("confirm"))?;
        }
    });
    let fn_ident = &tool.ident;
    let idents: Vec<_> = tool.arguments().map(|p| &p.ident).collect();
    let all_idents = tool.params.iter().map(|p| &p.ident);
    let injected = tool.params.iter().filter_map(|p| match &p.kind {
        Kind::State(inner) => {
            let ident = &p.ident;
            let ty = &p.ty;
            Some(quote_spanned! {ty.span()=>
                let #ident: #ty = __secure_tool_context.state::<#inner>()?;
            })
        }
        Kind::Caller => {
            let ident = &p.ident;
            Some(quote!(let #ident = __secure_tool_context.caller();))
        }
        _ => None,
    });
    let types = tool.arguments().map(|p| match &p.kind {
        Kind::Choice { selector, .. } => {
            let ident = &tool.selectors[*selector].ident;
            quote!(#ident)
        }
        Kind::Confirm => quote!(bool),
        _ => {
            let ty = &p.ty;
            quote!(#ty)
        }
    });
    let await_ = tool.is_async.then(|| quote!(.await));
    let output = quote_spanned! {tool.ret_span=>
        ::secure_tool::__private::IntoOutput::into_output(__secure_tool_result?)
    };
    quote! {
        /// The tool as the pipeline runs it.
        #vis struct __SecureTool;

        #[automatically_derived]
        impl ::secure_tool::Tool for __SecureTool {
            const SPEC: &'static ::secure_tool::ToolSpec = &__SECURE_TOOL_SPEC;
            type Args = (#(#types,)*);

            fn validate(
                __secure_tool_args: &::secure_tool::Arguments,
                __secure_tool_guards: &::secure_tool::Guards,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<Self::Args, ::secure_tool::Reject>,
            > + ::core::marker::Send {
                async move {
                    let _ = __secure_tool_guards;
                    #(#extract)*
                    #confirm_added
                    ::core::result::Result::Ok((#(#idents,)*))
                }
            }

            fn execute(
                __secure_tool_validated: Self::Args,
                __secure_tool_context: ::secure_tool::Context,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<::secure_tool::Output, ::secure_tool::Reject>,
            > + ::core::marker::Send {
                async move {
                    let (#(#idents,)*) = __secure_tool_validated;
                    #(#injected)*
                    let _ = &__secure_tool_context;
                    let __secure_tool_result = super::#fn_ident(#(#all_idents),*)#await_;
                    #output
                }
            }
        }
    }
}

/// One `#[test]` per gate and parameter, each a probe of the runtime.
fn tests(tool: &Tool) -> TokenStream {
    let mut tests = Vec::new();
    let mut listed = Vec::new();
    let mut push = |name: syn::Ident, probe: TokenStream| {
        let name_str = name.to_string();
        listed.push(quote! {
            ::secure_tool::__private::GeneratedTest {
                name: #name_str,
                probe: ::secure_tool::__private::Probe::#probe,
            }
        });
        tests.push(quote! {
            #[cfg(test)]
            #[::core::prelude::v1::test]
            fn #name() {
                ::secure_tool::__private::assert_rejects::<__SecureTool>(
                    ::core::env!("CARGO_PKG_NAME"),
                    ::secure_tool::__private::Probe::#probe,
                );
            }
        });
    };
    for p in tool.arguments() {
        let n = p.name.as_str();
        // (test name suffix, probe) for each gate the parameter's kind has.
        const ABOVE: (&str, &str) = ("above_max", "AboveMax");
        const BELOW: (&str, &str) = ("below_min", "BelowMin");
        const CONTROL: (&str, &str) = ("with_control_chars", "ControlChars");
        const LENGTH: (&str, &str) = ("over_max_len", "OverLength");
        let gates: Vec<(&str, &str)> = match &p.kind {
            Kind::Choice { command, .. } => {
                let mut gates = vec![("outside_allowlist", "OutsideAllowlist")];
                if *command {
                    gates.push(("with_shell_metacharacters", "ShellMetacharacters"));
                }
                gates
            }
            Kind::Url { .. } => vec![("to_internal_addresses", "InternalUrl"), CONTROL, LENGTH],
            Kind::Float { ty, min, max } => {
                // An f32 has a range of its own even without declared bounds.
                let f32 = *ty == "f32";
                [(max.is_some() || f32, ABOVE), (min.is_some() || f32, BELOW)]
                    .into_iter()
                    .filter_map(|(bounded, gate)| bounded.then_some(gate))
                    .collect()
            }
            Kind::Int { .. } => vec![ABOVE, BELOW],
            Kind::Text { .. } => vec![CONTROL, LENGTH],
            Kind::Bool | Kind::Confirm | Kind::State(_) | Kind::Caller => vec![],
        };
        for (suffix, probe) in gates {
            let probe = format_ident!("{probe}");
            push(
                format_ident!("rejects_{}_{}", n, suffix),
                quote!(#probe(#n)),
            );
        }
        push(
            format_ident!("rejects_{}_of_wrong_type", n),
            quote!(WrongType(#n)),
        );
        if matches!(p.kind, Kind::Confirm) {
            push(format_ident!("rejects_missing_confirm"), quote!(NoConfirm));
        } else if !p.optional {
            push(format_ident!("rejects_missing_{}", n), quote!(Missing(#n)));
        }
    }
    if tool.confirm_added {
        push(format_ident!("rejects_missing_confirm"), quote!(NoConfirm));
        push(
            format_ident!("rejects_confirm_of_wrong_type"),
            quote!(WrongType("confirm")),
        );
    }
    push(format_ident!("rejects_unknown_field"), quote!(UnknownField));
    if tool.rate.is_some() {
        push(
            format_ident!("rejects_calls_over_rate_limit"),
            quote!(OverRate),
        );
    }
    if tool.scope.is_some() {
        push(format_ident!("rejects_call_without_token"), quote!(NoToken));
        push(format_ident!("rejects_unknown_token"), quote!(UnknownToken));
        push(
            format_ident!("rejects_token_without_scope"),
            quote!(TokenWithoutScope),
        );
        push(format_ident!("rejects_role_denied"), quote!(RoleDenied));
    }
    quote! {
        /// The generated tests, for the threat model.
        pub const __SECURE_TOOL_TESTS: &[::secure_tool::__private::GeneratedTest] = &[#(#listed),*];
        #(#tests)*
    }
}

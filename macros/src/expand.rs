//! Stage 4: tokens from the checked model. Reads only [`crate::model`].

use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ItemFn;
use syn::spanned::Spanned;

use crate::ctxt::Ctxt;
use crate::model::{Kind, Param, Selector, Tool};
use crate::{check, fallback, options, probes, signature};

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
    let krate = options.krate.clone();
    let sig = signature::parse(&mut cx, &item_fn);
    let tool = check::check(&mut cx, options, sig);
    crate::with_krate(krate, || match cx.finish() {
        Ok(()) => generate(&item_fn, &tool),
        Err(err) => fallback::emit(&item_fn, &tool, err),
    })
}

fn generate(item_fn: &ItemFn, tool: &Tool) -> TokenStream {
    let krate = crate::krate();
    let vis = &item_fn.vis;
    let module = &tool.ident;
    let selectors = tool.selectors.iter().map(|s| selector(vis, s));
    let spec = spec(tool);
    let call = call(tool, &inner_vis(vis));
    let tests = tests(tool);
    let requires = requires(tool);
    quote! {
        #item_fn
        #(#selectors)*
        #requires

        #[doc(hidden)]
        #[allow(non_snake_case, unused_imports, clippy::all)]
        #vis mod #module {
            use super::*;

            /// The machine-readable spec of the tool.
            pub static __SECURE_TOOL_SPEC: #krate::spec::ToolSpec = #spec;

            #call

            #tests
        }
    }
}

/// What the tool needs from the runtime's features: a scope needs the role
/// check (`rbac`), `confirm` a way to ask the human (`consent`), a
/// `CheckedUrl` the SSRF guard's client (`fetch`). Without them the
/// declaration does not compile, and the error names the feature.
fn requires(tool: &Tool) -> TokenStream {
    let krate = crate::krate();
    let name = &tool.name;
    let rbac = tool
        .scope
        .as_ref()
        .map(|_| quote_spanned!(tool.ident.span()=> #krate::__private::requires_rbac!(#name);));
    let consent = tool
        .confirm
        .then(|| quote_spanned!(tool.ident.span()=> #krate::__private::requires_consent!(#name);));
    let human = tool.human.then(
        || quote_spanned!(tool.ident.span()=> #krate::__private::requires_approval_page!(#name);),
    );
    let guards = tool.arguments().filter_map(|p| {
        let wire = &p.wire;
        match p.kind {
            Kind::Url { .. } => Some(
                quote_spanned!(p.ty.span()=> #krate::__private::requires_fetch!(#name, #wire);),
            ),
            Kind::Path { .. } => Some(
                quote_spanned!(p.ty.span()=> #krate::__private::requires_files!(#name, #wire);),
            ),
            _ => None,
        }
    });
    quote!(#rbac #consent #human #(#guards)*)
}

/// The enum an allowlist generates, with its literal `match`.
pub fn selector(vis: &syn::Visibility, s: &Selector) -> TokenStream {
    let krate = crate::krate();
    let ident = &s.ident;
    let lits: Vec<_> = s.variants.iter().map(|(l, _)| l).collect();
    let variants: Vec<_> = s.variants.iter().map(|(_, v)| v).collect();
    let docs = lits.iter().map(|l| format!("`{}`", l.value()));
    // Hovering the enum shows which variant each literal became.
    let mapping: String = s
        .variants
        .iter()
        .map(|(l, v)| format!("\n- `\"{}\"` → `{ident}::{v}`", l.value()))
        .collect();
    let enum_doc = format!(
        "The allowed values of a `#[secure_tool]` selector, generated from its allowlist \
         (each literal becomes an UpperCamelCase variant):\n{mapping}"
    );
    quote! {
        #[doc = #enum_doc]
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

        #[automatically_derived]
        impl #krate::__private::FromArg for #ident {
            fn from_arg(
                kind: &'static #krate::spec::Kind,
                value: ::core::option::Option<&#krate::__private::Value>,
                at: #krate::__private::At<'_>,
            ) -> ::core::result::Result<Self, #krate::Reject> {
                let raw = #krate::__private::choice(kind, value, at)?;
                match Self::__secure_tool_from_allowed(raw) {
                    ::core::option::Option::Some(v) => ::core::result::Result::Ok(v),
                    ::core::option::Option::None => ::core::result::Result::Err(
                        #krate::__private::not_allowed(kind, at, raw),
                    ),
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

/// The `ParamSpec` of a parameter or field.
pub fn param_spec(selectors: &[Selector], p: &Param) -> TokenStream {
    let krate = crate::krate();
    let name = &p.wire;
    let kind = kind(selectors, &p.kind);
    let required = p.required();
    let default = option(p.default.as_ref().map(|d| {
        let json = &d.json;
        quote!(#json)
    }));
    quote! {
        #krate::spec::ParamSpec { name: #name, kind: #kind, required: #required, default: #default }
    }
}

fn kind(selectors: &[Selector], kind: &Kind) -> TokenStream {
    let krate = crate::krate();
    match kind {
        Kind::Float { ty, min, max } => {
            let min = option(min.map(float_lit));
            let max = option(max.map(float_lit));
            quote!(#krate::spec::Kind::Float { ty: #ty, min: #min, max: #max })
        }
        Kind::Int { ty, min, max } => {
            let (min, max) = (int_lit(*min), int_lit(*max));
            quote!(#krate::spec::Kind::Int { ty: #ty, min: #min, max: #max })
        }
        Kind::Bool => quote!(#krate::spec::Kind::Bool),
        Kind::Text { max_len, invisible } => {
            quote!(#krate::spec::Kind::Text { max_len: #max_len, invisible: #invisible })
        }
        Kind::Url { max_len } => quote!(#krate::spec::Kind::Url { max_len: #max_len }),
        Kind::Path { max_len } => quote!(#krate::spec::Kind::Path { max_len: #max_len }),
        Kind::Choice { selector, command } => {
            let lits = selectors[*selector].variants.iter().map(|(l, _)| l);
            quote!(#krate::spec::Kind::Choice { allow: &[#(#lits),*], command: #command })
        }
        Kind::Confirm => quote!(#krate::spec::Kind::Confirm),
        Kind::List {
            items,
            min_items,
            max_items,
            unique,
        } => {
            let items = self::kind(selectors, items);
            quote! {
                #krate::spec::Kind::List {
                    items: &#items,
                    min_items: #min_items,
                    max_items: #max_items,
                    unique: #unique,
                }
            }
        }
        Kind::Object(path) => {
            quote_spanned!(path.span()=> #krate::spec::Kind::Object(<#path as #krate::Args>::SPEC))
        }
        Kind::State(_) | Kind::Caller | Kind::Grant => {
            unreachable!("injected parameters have no spec")
        }
    }
}

fn spec(tool: &Tool) -> TokenStream {
    let krate = crate::krate();
    let name = &tool.name;
    let description = &tool.description;
    let mut params: Vec<TokenStream> = tool
        .arguments()
        .map(|p| param_spec(&tool.selectors, p))
        .collect();
    if tool.confirm_added {
        params.push(quote!(#krate::spec::ParamSpec::required(
            "confirm",
            #krate::spec::Kind::Confirm
        )));
    }
    let max_size = tool.max_size;
    let nested_tests = nested(tool).into_iter().map(|n| {
        let path = probes::from_child(&n.head);
        let wire = &n.wire;
        let rust = n.rust.iter().map(|r| format_ident!("{r}"));
        quote!(#path! { list { krate (#krate) rust [#(#rust)*] wire #wire } })
    });
    let access = match &tool.scope {
        Some(scope) => quote!(#krate::spec::Access::Scope(#scope)),
        None => quote!(#krate::spec::Access::Public),
    };
    let (confirm, human) = (tool.confirm, tool.human);
    let (read_only, idempotent, open_world) = (tool.read_only, tool.idempotent, tool.open_world);
    let states = tool.params.iter().filter_map(|p| match &p.kind {
        Kind::State(inner) => {
            let shown = quote::ToTokens::to_token_stream(inner)
                .to_string()
                .replace(' ', "");
            Some(quote_spanned! {inner.span()=>
                #krate::spec::StateNeed {
                    name: #shown,
                    type_id: ::core::any::TypeId::of::<#inner>,
                }
            })
        }
        _ => None,
    });
    let checks_owner = tool.checks_owner();
    let rate = option(tool.rate.map(
        |(calls, secs)| quote!(#krate::Rate::new(#calls, ::core::time::Duration::from_secs(#secs))),
    ));
    let ok_ty = &tool.ok_ty;
    let output_schema =
        quote_spanned!(tool.ret_span=> <#ok_ty as #krate::__private::IntoOutput>::output_schema);
    let untrusted =
        quote_spanned!(tool.ret_span=> <#ok_ty as #krate::__private::IntoOutput>::UNTRUSTED);
    quote! {
        #krate::spec::ToolSpec {
            name: #name,
            description: #description,
            params: &[#(#params),*],
            access: #access,
            confirm: #confirm,
            human: #human,
            read_only: #read_only,
            idempotent: #idempotent,
            open_world: #open_world,
            checks_owner: #checks_owner,
            untrusted_output: #untrusted,
            rate: #rate,
            max_size: #max_size,
            tests: __SECURE_TOOL_TESTS,
            nested_tests: &[#(#nested_tests),*],
            states: &[#(#states),*],
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
    let krate = crate::krate();
    let extract = tool.arguments().enumerate().map(|(i, p)| {
        let ident = &p.ident;
        let wire = &p.wire;
        let ty = &p.ty;
        let param = quote!(&__SECURE_TOOL_SPEC.params[#i]);
        let value = quote!(__secure_tool_args.get(#wire));
        match &p.kind {
            Kind::Confirm => quote! {
                let #ident: bool = #krate::__private::confirm(#param, #value)?;
            },
            Kind::Url { .. } => quote_spanned! {ty.span()=>
                let #ident: #ty = #krate::__private::url(#param, #value, &__secure_tool_guards.fetch).await?;
            },
            Kind::Path { .. } => quote_spanned! {ty.span()=>
                let #ident: #ty = #krate::__private::path(#param, #value, &__secure_tool_guards.files)?;
            },
            _ => {
                let read = read(
                    p,
                    quote!(&#param.kind),
                    value,
                    quote!(#krate::__private::At::root(#wire)),
                );
                quote!(let #ident: #ty = #read;)
            }
        }
    });
    let confirm_added = tool.confirm_added.then(|| {
        let i = tool.arguments().count();
        quote! {
            #krate::__private::confirm(&__SECURE_TOOL_SPEC.params[#i], __secure_tool_args.get("confirm"))?;
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
        Kind::Grant => {
            let ident = &p.ident;
            Some(quote!(let #ident = __secure_tool_context.grant()?;))
        }
        _ => None,
    });
    let types = tool.arguments().map(|p| match &p.kind {
        Kind::Confirm => quote!(bool),
        _ => {
            let ty = &p.ty;
            quote!(#ty)
        }
    });
    let await_ = tool.is_async.then(|| quote!(.await));
    let output = quote_spanned! {tool.ret_span=>
        #krate::__private::IntoOutput::into_output(__secure_tool_result?)
    };
    quote! {
        /// The tool as the pipeline runs it.
        #vis struct __SecureTool;

        #[automatically_derived]
        impl #krate::pipeline::Tool for __SecureTool {
            const SPEC: &'static #krate::spec::ToolSpec = &__SECURE_TOOL_SPEC;
            type Args = (#(#types,)*);

            fn validate(
                __secure_tool_args: &#krate::server::Arguments,
                __secure_tool_guards: &#krate::pipeline::Guards,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<Self::Args, #krate::Reject>,
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
                __secure_tool_context: #krate::Context,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<#krate::output::Output, #krate::Reject>,
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

/// Reads one parameter or field through its type's gates; an absent value
/// takes the declared default. `value` is an `Option<&Value>`.
pub fn read(p: &Param, kind: TokenStream, value: TokenStream, at: TokenStream) -> TokenStream {
    let krate = crate::krate();
    let ty = &p.ty;
    let from_arg = quote_spanned! {ty.span()=>
        <#ty as #krate::__private::FromArg>::from_arg
    };
    match &p.default {
        None => quote!(#from_arg(#kind, #value, #at)?),
        Some(default) => {
            let default = &default.value;
            quote! {
                match #value {
                    ::core::option::Option::None => #default,
                    __secure_tool_value => #from_arg(#kind, __secure_tool_value, #at)?,
                }
            }
        }
    }
}

/// The parameters whose types are structs that derive `Args`, reached
/// directly or as list items: their tests come from the struct.
fn nested(tool: &Tool) -> Vec<probes::Nested> {
    let mut sites = Vec::new();
    let mut nested = Vec::new();
    for p in tool.arguments() {
        probes::param(p, &p.wire, &mut sites, &mut nested);
    }
    nested
}

/// One `#[test]` per gate and parameter, each a probe of the runtime.
fn tests(tool: &Tool) -> TokenStream {
    let krate = crate::krate();
    let mut tests = Vec::new();
    let mut listed = Vec::new();
    let mut push = |name: syn::Ident, probe: TokenStream| {
        let name_str = name.to_string();
        listed.push(quote! {
            #krate::__private::GeneratedTest {
                name: #name_str,
                probe: #krate::__private::Probe::#probe,
            }
        });
        tests.push(quote! {
            #[cfg(test)]
            #[::core::prelude::v1::test]
            fn #name() {
                #krate::__private::assert_rejects::<__SecureTool>(
                    ::core::env!("CARGO_PKG_NAME"),
                    #krate::__private::Probe::#probe,
                );
            }
        });
    };
    let mut nested = Vec::new();
    for p in tool.arguments() {
        let mut sites = Vec::new();
        probes::param(p, &p.wire, &mut sites, &mut nested);
        for site in sites {
            let probe = &site.head;
            let wire = &site.wire;
            push(probes::test_name(probe, &site.rust), quote!(#probe(#wire)));
        }
        if matches!(p.kind, Kind::Confirm) {
            push(format_ident!("rejects_missing_confirm"), quote!(NoConfirm));
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
    push(
        format_ident!("rejects_arguments_over_max_size"),
        quote!(OverSize),
    );
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
        if !tool.checks_owner() {
            push(
                format_ident!("rejects_role_reaching_own_objects_only"),
                quote!(OwnOnly),
            );
        }
    }
    let nested_tests = nested.iter().map(|n| {
        let path = probes::from_child(&n.head);
        let wire = &n.wire;
        let rust = n.rust.iter().map(|r| format_ident!("{r}"));
        quote!(#path! { tests { krate (#krate) rust [#(#rust)*] wire #wire } })
    });
    quote! {
        /// The generated tests, for the threat model.
        pub const __SECURE_TOOL_TESTS: &[#krate::__private::GeneratedTest] = &[#(#listed),*];
        #(#tests)*
        #(#nested_tests)*
    }
}

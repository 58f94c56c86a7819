//! `#[derive(Args)]`: a struct as a nested JSON object, its fields gated
//! exactly as a tool's parameters are, by the same stages.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::ext::IdentExt as _;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields};

use crate::ctxt::Ctxt;
use crate::expand::{param_spec, read, selector};
use crate::model::{Kind, Object};
use crate::signature::{self, Sig, TyKind};
use crate::{check, options, probes};

pub fn expand(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(err) => return err.into_compile_error(),
    };
    let mut cx = Ctxt::default();
    let mut options = options::Options::default();
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("arg")) {
        match attr.meta.require_list() {
            Ok(list) => options::parse_container(&mut cx, list.tokens.clone(), &mut options),
            Err(err) => cx.push(err),
        }
    }
    if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
        cx.error(
            input.generics.span(),
            "an `Args` struct cannot be generic: its fields arrive as JSON with concrete types",
        );
    }
    let name = input.ident.unraw().to_string();
    let mut params = Vec::new();
    match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(fields) => {
                for field in &fields.named {
                    let ident = field.ident.clone().expect("named fields have names");
                    let (kind, optional) = signature::classify(&mut cx, &field.ty);
                    if let TyKind::Named(path) = kind.item()
                        && path.segments.last().is_some_and(|s| s.ident == input.ident)
                    {
                        cx.error(
                            field.ty.span(),
                            format!(
                                "recursive `Args` type: `{name}` contains itself through `{ident}`; \
                                 nested objects must end, so an attacker cannot nest them without bound"
                            ),
                        );
                    }
                    for attr in field.attrs.iter().filter(|a| a.path().is_ident("arg")) {
                        match attr.meta.require_list() {
                            Ok(list) => options::parse_field(
                                &mut cx,
                                list.tokens.clone(),
                                &ident,
                                &mut options,
                            ),
                            Err(err) => cx.push(err),
                        }
                    }
                    params.push(signature::Param {
                        name: ident.unraw().to_string(),
                        ident,
                        ty: field.ty.clone(),
                        kind,
                        optional,
                    });
                }
            }
            _ => cx.error(
                input.ident.span(),
                "`#[derive(Args)]` applies to structs with named fields: each field is a JSON field",
            ),
        },
        _ => cx.error(
            input.ident.span(),
            "`#[derive(Args)]` applies to structs with named fields: each field is a JSON field",
        ),
    }
    let sig = Sig {
        ident: input.ident.clone(),
        name,
        is_async: false,
        params,
        ok_ty: None,
        ret_span: Span::call_site(),
        description: String::new(),
        generics: Vec::new(),
    };
    let krate = options.krate.clone();
    let object = check::check_object(&mut cx, options, sig, input.vis.clone());
    crate::with_krate(krate, || match cx.finish() {
        Ok(()) => generate(&object),
        // A generic struct has no single `Args` impl to stand in.
        Err(err) if !input.generics.params.is_empty() => err.into_compile_error(),
        Err(err) => fallback(&object, err),
    })
}

fn generate(object: &Object) -> TokenStream {
    let krate = crate::krate();
    let ident = &object.ident;
    let name = &object.name;
    let vis = &object.vis;
    let selectors = object.selectors.iter().map(|s| selector(vis, s));
    let specs = object
        .fields
        .iter()
        .map(|f| param_spec(&object.selectors, f));
    let reads = object.fields.iter().enumerate().map(|(i, f)| {
        let field = &f.ident;
        let wire = &f.wire;
        let read = read(
            f,
            quote!(&__secure_tool_fields[#i].kind),
            quote!(__secure_tool_map.get(#wire)),
            quote!(__secure_tool_at.field(#wire)),
        );
        quote!(#field: #read)
    });
    let depths = object.fields.iter().filter_map(|f| match &f.kind {
        Kind::Object(path) => Some(path),
        Kind::List { items, .. } => match &**items {
            Kind::Object(path) => Some(path),
            _ => None,
        },
        _ => None,
    });
    let depths = depths.map(|path| {
        quote! {
            let d = <#path as #krate::Args>::DEPTH;
            if d > depth {
                depth = d;
            }
        }
    });
    let too_deep =
        format!("`{name}` nests objects deeper than `secure_tool::spec::MAX_DEPTH` allows");
    let mut sites = Vec::new();
    let mut nested = Vec::new();
    probes::object(&object.fields, &mut sites, &mut nested);
    let tests_macro = beside(ident, probes::flatten(ident, sites, nested));
    quote! {
        #(#selectors)*

        const _: () = {
            #[automatically_derived]
            impl #krate::Args for #ident {
                const SPEC: &'static #krate::spec::ObjectSpec = &#krate::spec::ObjectSpec {
                    name: #name,
                    fields: &[#(#specs),*],
                };
                const DEPTH: usize = {
                    #[allow(unused_mut)]
                    let mut depth = 0usize;
                    #(#depths)*
                    depth + 1
                };
            }

            #[automatically_derived]
            impl #krate::__private::FromArg for #ident {
                fn from_arg(
                    __secure_tool_kind: &'static #krate::spec::Kind,
                    __secure_tool_value: ::core::option::Option<&#krate::__private::Value>,
                    __secure_tool_at: #krate::__private::At<'_>,
                ) -> ::core::result::Result<Self, #krate::Reject> {
                    let __secure_tool_map = #krate::__private::object(
                        __secure_tool_kind,
                        __secure_tool_value,
                        __secure_tool_at,
                    )?;
                    let __secure_tool_fields = <Self as #krate::Args>::SPEC.fields;
                    let __secure_tool_at = &__secure_tool_at;
                    ::core::result::Result::Ok(Self {
                        #(#reads,)*
                    })
                }
            }

            const _: () = ::core::assert!(
                <#ident as #krate::Args>::DEPTH <= #krate::spec::MAX_DEPTH,
                #too_deep
            );
        };

        #tests_macro
    }
}

/// After an error: the errors, the enums the user's code names, and stand-in
/// impls so that tools naming the struct report nothing further.
fn fallback(object: &Object, errors: syn::Error) -> TokenStream {
    let krate = crate::krate();
    let errors = errors.into_compile_error();
    let ident = &object.ident;
    let name = &object.name;
    let vis = &object.vis;
    let selectors = object.selectors.iter().map(|s| selector(vis, s));
    let tests_macro = beside(ident, probes::define(ident, &[]));
    quote! {
        #errors
        #(#selectors)*
        const _: () = {
            impl #krate::Args for #ident {
                const SPEC: &'static #krate::spec::ObjectSpec =
                    &#krate::spec::ObjectSpec { name: #name, fields: &[] };
                const DEPTH: usize = 1;
            }
            impl #krate::__private::FromArg for #ident {
                fn from_arg(
                    _: &'static #krate::spec::Kind,
                    _: ::core::option::Option<&#krate::__private::Value>,
                    _: #krate::__private::At<'_>,
                ) -> ::core::result::Result<Self, #krate::Reject> {
                    ::core::unreachable!("this struct failed to compile")
                }
            }
        };
        #tests_macro
    }
}

/// The struct's test macro, defined in a module of its own (where flattening
/// can ask inner structs for theirs) and re-exported beside the type under
/// the type's name.
fn beside(ident: &syn::Ident, tests_macro: TokenStream) -> TokenStream {
    let module = format_ident!("__secure_tool_args_{}", ident);
    quote! {
        #[doc(hidden)]
        #[allow(non_snake_case, unused_imports)]
        mod #module {
            use super::*;
            #tests_macro
        }
        #[doc(hidden)]
        #[allow(unused_imports)]
        pub(crate) use #module::#ident;
    }
}

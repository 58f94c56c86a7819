//! Stage 5: when any stage failed, emit the errors together with the user's
//! function, the enums its body names and a stub tool module, so the only errors
//! the user sees are the real ones, never a cascade of "cannot find" errors.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ItemFn;

use crate::expand::selector;
use crate::model::Tool;

pub fn emit(item_fn: &ItemFn, tool: &Tool, errors: syn::Error) -> TokenStream {
    let krate = crate::krate();
    let errors = errors.into_compile_error();
    if item_fn.sig.receiver().is_some() {
        // A method sits in an `impl` block, where no module or enum may follow it.
        return quote!(#errors #item_fn);
    }
    let vis = &item_fn.vis;
    let selectors = tool.selectors.iter().map(|s| selector(vis, s));
    let module = &tool.ident;
    let name = &tool.name;
    quote! {
        #errors
        #item_fn
        #(#selectors)*

        #[doc(hidden)]
        #[allow(non_snake_case, dead_code, unused_variables)]
        #vis mod #module {
            pub static __SECURE_TOOL_SPEC: #krate::spec::ToolSpec = #krate::spec::ToolSpec {
                name: #name,
                description: "",
                params: &[],
                access: #krate::spec::Access::Public,
                confirm: false,
                human: false,
                read_only: false,
                idempotent: false,
                open_world: false,
                checks_owner: false,
                untrusted_output: false,
                rate: ::core::option::Option::None,
                max_size: 0,
                tests: &[],
                nested_tests: &[],
                states: &[],
                output_schema: || ::core::option::Option::None,
            };

            pub struct __SecureTool;

            impl #krate::pipeline::Tool for __SecureTool {
                const SPEC: &'static #krate::spec::ToolSpec = &__SECURE_TOOL_SPEC;
                type Args = ();

                async fn validate(
                    _: &#krate::server::Arguments,
                    _: &#krate::pipeline::Guards,
                ) -> ::core::result::Result<(), #krate::Reject> {
                    ::core::unreachable!("this tool failed to compile")
                }

                async fn execute(
                    _: (),
                    _: #krate::Context,
                ) -> ::core::result::Result<#krate::output::Output, #krate::Reject> {
                    ::core::unreachable!("this tool failed to compile")
                }
            }
        }
    }
}

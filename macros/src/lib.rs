use proc_macro::TokenStream;
#[proc_macro_attribute]
pub fn secure_tool(_a: TokenStream, i: TokenStream) -> TokenStream { i }
#[proc_macro]
pub fn server(_i: TokenStream) -> TokenStream { TokenStream::new() }

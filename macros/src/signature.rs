//! Stage 2: the function signature, parsed into parameters with their types.

use proc_macro2::Span;
use syn::ext::IdentExt as _;
use syn::spanned::Spanned;
use syn::{FnArg, GenericArgument, Ident, ItemFn, Pat, PathArguments, ReturnType, Safety, Type};

use crate::ctxt::Ctxt;

pub struct Sig {
    pub ident: Ident,
    pub name: String,
    pub is_async: bool,
    pub params: Vec<Param>,
    /// `T` in `Result<T, Reject>`.
    pub ok_ty: Option<Type>,
    pub ret_span: Span,
    pub description: String,
    /// Names of generic type parameters, which are reported once, as generics.
    pub generics: Vec<String>,
}

pub struct Param {
    pub ident: Ident,
    pub name: String,
    /// The type as written, for generated calls.
    pub ty: Type,
    pub kind: TyKind,
    pub optional: bool,
}

#[derive(Clone)]
pub enum TyKind {
    Float(&'static str),
    Int(&'static str),
    Bool,
    String,
    /// `CheckedUrl`: a URL the SSRF guard resolves and checks before the body.
    Url,
    /// `CheckedPath`: a path the path guard resolves beneath a root before the body.
    Path,
    /// `State<T>`: server state, injected, not a JSON argument.
    State(Box<Type>),
    /// `Principal`: the verified caller, injected, not a JSON argument.
    Caller,
    /// `Grant`: what authorization granted the call, injected.
    Grant,
    /// A type name the crate does not know: the enum an allowlist generates
    /// (a bare name), or a struct that derives `Args`.
    Named(syn::Path),
    /// `Vec<T>`: a JSON array of `T`.
    List(Box<TyKind>),
    Unsupported,
}

impl TyKind {
    /// The kind of each item of a list, or the kind itself.
    pub fn item(&self) -> &TyKind {
        match self {
            TyKind::List(item) => item,
            other => other,
        }
    }

    pub fn is_numeric(&self) -> bool {
        matches!(self.item(), TyKind::Float(_) | TyKind::Int(_))
    }

    /// Whether `allow`'s short form may pick this parameter.
    pub fn is_stringy(&self) -> bool {
        matches!(self.item(), TyKind::String) || self.item().selector_name().is_some()
    }

    /// Whether strings of this kind have a length bound.
    pub fn is_text(&self) -> bool {
        matches!(self.item(), TyKind::String | TyKind::Url | TyKind::Path)
    }

    /// The bare name an allowlist could turn into an enum.
    pub fn selector_name(&self) -> Option<&Ident> {
        match self {
            TyKind::Named(path) => path.get_ident(),
            _ => None,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            TyKind::Float(t) | TyKind::Int(t) => (*t).to_owned(),
            TyKind::Bool => "bool".to_owned(),
            TyKind::String => "String".to_owned(),
            TyKind::Url => "CheckedUrl".to_owned(),
            TyKind::Path => "CheckedPath".to_owned(),
            TyKind::State(_) => "State<…>".to_owned(),
            TyKind::Caller => "Principal".to_owned(),
            TyKind::Grant => "Grant".to_owned(),
            TyKind::Named(path) => quote::ToTokens::to_token_stream(path)
                .to_string()
                .replace(' ', ""),
            TyKind::List(item) => format!("Vec<{}>", item.describe()),
            TyKind::Unsupported => "an unsupported type".to_owned(),
        }
    }
}

const SUPPORTED: &str = "expected `f32`, `f64`, `i8`, `i16`, `i32`, `i64`, `u8`, `u16`, `u32`, `u64`, `bool`, `String`, \
                         the enum an `allow` list generates, a struct that derives `Args`, \
                         `CheckedUrl` (a URL the SSRF guard checked), `CheckedPath` (a path beneath a root), \
                         or `Vec<…>` or `Option<…>` of one of these; \
                         or, injected rather than read from the arguments, `State<T>` (server state), \
                         `Principal` (the verified caller) or `Grant` (what authorization granted)";

pub fn parse(cx: &mut Ctxt, item: &ItemFn) -> Sig {
    let sig = &item.sig;
    if let Some(c) = &sig.constness {
        cx.error(c.span, "a tool cannot be a `const fn`");
    }
    if let Safety::Unsafe(u) = &sig.safety {
        cx.error(
            u.span,
            "a tool cannot be an `unsafe fn`: its callers are untrusted by definition",
        );
    }
    if let Some(abi) = &sig.abi {
        cx.error(abi.span(), "a tool cannot declare an `extern` ABI");
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        let span = if sig.generics.params.is_empty() {
            sig.generics.where_clause.span()
        } else {
            sig.generics.params.span()
        };
        cx.error(
            span,
            "a tool cannot be generic: its arguments arrive as JSON with concrete types",
        );
    }
    if let Some(v) = &sig.variadic {
        cx.error(v.span(), "a tool cannot be variadic");
    }

    let mut params = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(r) => cx.error(
                r.self_token.span,
                "a tool is a free function; `self` receivers are not supported",
            ),
            FnArg::Typed(pt) => {
                let ident = match &*pt.pat {
                    Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                        pi.ident.clone()
                    }
                    other => {
                        cx.error(other.span(), "tool parameters must be plain names, not patterns: the name is the JSON field");
                        continue;
                    }
                };
                let (kind, optional) = classify(cx, &pt.ty);
                params.push(Param {
                    name: ident.unraw().to_string(),
                    ident,
                    ty: (*pt.ty).clone(),
                    kind,
                    optional,
                });
            }
        }
    }

    let (ok_ty, ret_span) = match &sig.output {
        ReturnType::Type(_, ty) => (result_ok(ty), ty.span()),
        ReturnType::Default => (None, sig.paren_token.span.close()),
    };
    if ok_ty.is_none() {
        cx.error(
            ret_span,
            "a tool returns `Result<T, Reject>`: `T` is the output, `Reject` a typed refusal",
        );
    }

    Sig {
        name: sig.ident.unraw().to_string(),
        ident: sig.ident.clone(),
        is_async: sig.asyncness.is_some(),
        params,
        ok_ty,
        ret_span,
        description: doc_comment(&item.attrs),
        generics: sig
            .generics
            .type_params()
            .map(|t| t.ident.to_string())
            .collect(),
    }
}

/// `T` from `Result<T, Reject>` (any path ending in `Result`, with `Reject` last).
fn result_ok(ty: &Type) -> Option<Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let mut types = args.args.iter().filter_map(|a| match a {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    });
    let ok = types.next()?.clone();
    let Type::Path(err) = types.next()? else {
        return None;
    };
    (err.path.segments.last()?.ident == "Reject" && types.next().is_none()).then_some(ok)
}

pub fn classify(cx: &mut Ctxt, ty: &Type) -> (TyKind, bool) {
    if let Some(inner) = option_inner(ty) {
        let kind = classify_list(cx, inner);
        match &kind {
            TyKind::State(_) | TyKind::Caller | TyKind::Grant | TyKind::Url | TyKind::Path => {
                cx.error(
                    inner.span(),
                    "this parameter cannot be optional; make it required",
                );
            }
            _ => {}
        }
        return (kind, true);
    }
    (classify_list(cx, ty), false)
}

/// `Vec<T>` of a type that can be an item, or a plain type.
fn classify_list(cx: &mut Ctxt, ty: &Type) -> TyKind {
    let Some(inner) = generic_inner(ty, "Vec") else {
        return classify_plain(cx, ty);
    };
    if generic_inner(inner, "Vec").is_some() {
        cx.error(
            inner.span(),
            "a list of lists is not supported; make the inner list a field of a struct that derives `Args`",
        );
        return TyKind::Unsupported;
    }
    if option_inner(inner).is_some() {
        cx.error(
            inner.span(),
            "list items cannot be optional: a `null` item is refused; use `Vec<T>`",
        );
        return TyKind::Unsupported;
    }
    match classify_plain(cx, inner) {
        TyKind::State(_) | TyKind::Caller | TyKind::Grant | TyKind::Url | TyKind::Path => {
            cx.error(
                inner.span(),
                "this type cannot be a list item; lists hold numbers, `bool`, `String`, \
                 allowlist enums and structs that derive `Args`",
            );
            TyKind::Unsupported
        }
        item => TyKind::List(Box::new(item)),
    }
}

fn option_inner(ty: &Type) -> Option<&Type> {
    generic_inner(ty, "Option")
}

/// `T` from `Name<T>`.
fn generic_inner<'t>(ty: &'t Type, name: &str) -> Option<&'t Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(t) if args.args.len() == 1 => Some(t),
        _ => None,
    }
}

pub fn classify_plain(cx: &mut Ctxt, ty: &Type) -> TyKind {
    let unsupported = |cx: &mut Ctxt, msg: String| {
        cx.error(ty.span(), msg);
        TyKind::Unsupported
    };
    match ty {
        Type::ImplTrait(_) => {
            return unsupported(cx, "`impl Trait` parameters are not supported: a tool's argument types must be concrete".into());
        }
        Type::Reference(r) => {
            let hint = match &*r.elem {
                Type::Path(p) if p.path.is_ident("str") => "; use `String`",
                _ => "",
            };
            return unsupported(cx, format!("reference parameters are not supported{hint}"));
        }
        Type::Paren(p) => return classify_plain(cx, &p.elem),
        Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last().expect("a path has a segment");
            if last.ident == "State"
                && let PathArguments::AngleBracketed(args) = &last.arguments
                && let [GenericArgument::Type(inner)] =
                    args.args.iter().collect::<Vec<_>>().as_slice()
            {
                return TyKind::State(Box::new((*inner).clone()));
            }
            if last.arguments.is_empty() {
                let name = last.ident.to_string();
                let kind = match name.as_str() {
                    "f32" => Some(TyKind::Float("f32")),
                    "f64" => Some(TyKind::Float("f64")),
                    int if secure_tool_grammar::int_range(int).is_some() => {
                        let ty = secure_tool_grammar::INTEGER_TYPES
                            .iter()
                            .find(|t| **t == int)
                            .expect("the grammar lists its integer types");
                        Some(TyKind::Int(ty))
                    }
                    "bool" => Some(TyKind::Bool),
                    "String" => Some(TyKind::String),
                    "CheckedUrl" => Some(TyKind::Url),
                    "CheckedPath" => Some(TyKind::Path),
                    "Principal" => Some(TyKind::Caller),
                    "Grant" => Some(TyKind::Grant),
                    "char" | "str" => {
                        return unsupported(
                            cx,
                            format!(
                                "`{name}` parameters are not supported; use `String`, with `max_len` to bound it"
                            ),
                        );
                    }
                    "i128" | "u128" | "isize" | "usize" => {
                        return unsupported(
                            cx,
                            format!(
                                "`{name}` parameters are not supported: JSON integers are exchanged as 64-bit; use one of `i8`..`i64`, `u8`..`u64`"
                            ),
                        );
                    }
                    _ => None,
                };
                if let Some(kind) = kind {
                    return kind;
                }
            }
            if p.path.segments.iter().all(|s| s.arguments.is_empty()) {
                return TyKind::Named(p.path.clone());
            }
        }
        _ => {}
    }
    unsupported(cx, format!("unsupported parameter type; {SUPPORTED}"))
}

fn doc_comment(attrs: &[syn::Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let syn::Meta::NameValue(nv) = &attr.meta
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
        {
            let value = s.value();
            lines.push(value.strip_prefix(' ').map(str::to_owned).unwrap_or(value));
        }
    }
    lines.join("\n").trim().to_owned()
}

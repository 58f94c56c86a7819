//! Stage 3: cross-checks between the options and the signature, one rule per function.
//! Produces the model even when something failed, so every rule still runs and
//! the fallback can emit whatever enums the user's body names.

use proc_macro2::Span;
use syn::spanned::Spanned as _;
use syn::{Ident, LitStr};

use crate::ctxt::Ctxt;
use crate::model::{
    DEFAULT_MAX_ITEMS, DEFAULT_MAX_LEN, DEFAULT_MAX_SIZE, Kind, Object, Param, Selector, Tool,
    int_range,
};
use crate::options::{Bound, MaxLen, Number, Options, Targeted};
use crate::signature::{Sig, TyKind};

pub fn check(cx: &mut Ctxt, options: Options, sig: Sig) -> Tool {
    let scope = access(cx, &options);
    let confirm = options.confirm.is_some();
    let (params, selectors, confirm_declared) = params(cx, &options, &sig, confirm);
    check_test_names(cx, &params);
    if let Some(grant) = params
        .iter()
        .find(|p| matches!(p.kind, Kind::Grant) && p.name.starts_with('_'))
    {
        cx.error(
            grant.ident.span(),
            format!(
                "`{}` is a `Grant` the body ignores: a tool that takes one admits roles that reach only the caller's own objects, so its body must check owners with it",
                grant.name
            ),
        );
    }
    if scope.is_none()
        && let Some(grant) = params.iter().find(|p| matches!(p.kind, Kind::Grant))
    {
        cx.error(
            grant.ty.span(),
            "a `Grant` parameter needs `scope = \"resource:action\"`: a public tool is granted nothing to check owners against",
        );
    }
    hints(cx, &options, &sig);
    let open_world =
        options.open_world.is_some() || params.iter().any(|p| matches!(p.kind, Kind::Url { .. }));
    let max_size = options
        .max_size
        .and_then(|(n, _)| usize::try_from(n).ok())
        .unwrap_or(DEFAULT_MAX_SIZE);
    Tool {
        ident: sig.ident,
        name: sig.name,
        description: sig.description,
        is_async: sig.is_async,
        ok_ty: sig.ok_ty,
        ret_span: sig.ret_span,
        params,
        confirm_added: confirm && !confirm_declared,
        confirm,
        human: options.human,
        read_only: options.read_only.is_some(),
        idempotent: options.idempotent.is_some(),
        open_world,
        scope,
        rate: options.rate,
        max_size,
        selectors,
    }
}

/// A struct that derives `Args`, checked as a tool's parameters are: its
/// fields' options arrive aimed at each field.
pub fn check_object(cx: &mut Ctxt, options: Options, sig: Sig, vis: syn::Visibility) -> Object {
    let (fields, selectors, _) = params(cx, &options, &sig, false);
    Object {
        ident: sig.ident,
        name: sig.name,
        vis,
        fields,
        selectors,
    }
}

/// Every parameter's kind, wire name and default, and the enums allowlists generate.
fn params(
    cx: &mut Ctxt,
    options: &Options,
    sig: &Sig,
    confirm: bool,
) -> (Vec<Param>, Vec<Selector>, bool) {
    let before = cx.error_count();
    let allow = allowlists(cx, options, sig);
    let allow_failed = options.allow_failed || cx.error_count() > before;
    let mut selectors = Vec::new();
    let mut params = Vec::new();
    let mut confirm_declared = false;

    for (i, p) in sig.params.iter().enumerate() {
        let kind = if confirm && p.name == "confirm" {
            confirm_declared = true;
            if !matches!(p.kind, TyKind::Bool) || p.optional {
                cx.error(
                    syn::spanned::Spanned::span(&p.ty),
                    "with `confirm`, a parameter named `confirm` is the consent flag and must be `bool`",
                );
            }
            Kind::Confirm
        } else {
            let cx_kind = KindCx {
                options,
                sig,
                p,
                allow: allow[i].as_ref(),
                allow_failed,
            };
            cx_kind.kind(cx, &p.kind, &mut selectors)
        };
        // The consent flag is `confirm` on the wire, whatever else is renamed:
        // the pipeline, the prompt and the probes all ask for that name.
        let wire = if matches!(kind, Kind::Confirm) {
            if let Some(r) = aimed(&options.rename, &p.name) {
                cx.error(
                    r.value.span(),
                    "the consent flag of a `confirm` tool is `confirm` on the wire; it cannot be renamed",
                );
            }
            "confirm".to_owned()
        } else {
            wire_name(options, p)
        };
        let default = default_for(options, p)
            .and_then(|expr| crate::default::check(cx, p, &kind, &selectors, expr));
        params.push(Param {
            ident: p.ident.clone(),
            name: p.name.clone(),
            wire,
            ty: p.ty.clone(),
            optional: p.optional,
            default,
            kind,
        });
    }
    check_targets(cx, options, sig);
    check_command(cx, options, sig, &allow);
    check_lists(cx, options, sig, &allow);
    check_wire_names(cx, options, &params, confirm && !confirm_declared);
    check_named(cx, options, sig);
    (params, selectors, confirm_declared)
}

/// What building one parameter's kind reads.
struct KindCx<'a> {
    options: &'a Options,
    sig: &'a Sig,
    p: &'a crate::signature::Param,
    allow: Option<&'a Vec<LitStr>>,
    allow_failed: bool,
}

impl KindCx<'_> {
    fn kind(&self, cx: &mut Ctxt, ty: &TyKind, selectors: &mut Vec<Selector>) -> Kind {
        let (options, p) = (self.options, self.p);
        match ty {
            TyKind::Named(path) => match (self.allow, path.get_ident()) {
                (Some(values), Some(name)) => {
                    selectors.push(Selector {
                        ident: name.clone(),
                        variants: variants(cx, values),
                    });
                    Kind::Choice {
                        selector: selectors.len() - 1,
                        command: options
                            .command
                            .iter()
                            .any(|c| syn::ext::IdentExt::unraw(c) == p.name),
                    }
                }
                // A failed `allow` or a generic parameter already has its error.
                _ if self.allow_failed
                    || path
                        .get_ident()
                        .is_some_and(|i| self.sig.generics.contains(&i.to_string())) =>
                {
                    Kind::Bool
                }
                _ => Kind::Object(path.clone()),
            },
            TyKind::Float(ty) => {
                let (min, max) = float_bounds(cx, options, p);
                Kind::Float { ty, min, max }
            }
            TyKind::Int(ty) => {
                let (min, max) = int_bounds(cx, options, p, ty);
                Kind::Int { ty, min, max }
            }
            TyKind::Bool | TyKind::Unsupported => Kind::Bool,
            TyKind::String => Kind::Text {
                max_len: max_len(options, p),
                invisible: options
                    .allow_invisible
                    .iter()
                    .any(|u| syn::ext::IdentExt::unraw(u) == p.name),
            },
            TyKind::Url => Kind::Url {
                max_len: max_len(options, p),
            },
            TyKind::Path => Kind::Path {
                max_len: max_len(options, p),
            },
            TyKind::State(inner) => Kind::State((**inner).clone()),
            TyKind::Caller => Kind::Caller,
            TyKind::Grant => Kind::Grant,
            TyKind::List(item) => {
                let items = self.kind(cx, item, selectors);
                let max_items = count(&options.max_items, p).unwrap_or(DEFAULT_MAX_ITEMS);
                let min_items = count(&options.min_items, p).unwrap_or(0);
                Kind::List {
                    items: Box::new(items),
                    min_items,
                    max_items,
                    unique: options
                        .unique
                        .iter()
                        .any(|u| syn::ext::IdentExt::unraw(u) == p.name),
                }
            }
        }
    }
}

/// The value of a per-parameter count option (`max_items(p = N)` or the blanket form).
fn count(options: &[MaxLen], p: &crate::signature::Param) -> Option<usize> {
    targeted(options, p).and_then(|m| usize::try_from(m.value).ok())
}

/// The option aimed at the parameter `name`.
fn aimed<'o, T: Targeted>(options: &'o [T], name: &str) -> Option<&'o T> {
    options.iter().find(|o| {
        o.target()
            .is_some_and(|t| syn::ext::IdentExt::unraw(t) == name)
    })
}

/// The option aimed at `p`, else the blanket one.
fn targeted<'o, T: Targeted>(options: &'o [T], p: &crate::signature::Param) -> Option<&'o T> {
    aimed(options, &p.name).or_else(|| options.iter().find(|o| o.target().is_none()))
}

fn default_for<'o>(options: &'o Options, p: &crate::signature::Param) -> Option<&'o syn::Expr> {
    aimed(&options.default, &p.name).map(|d| &d.value)
}

/// The parameter's name on the wire: its `rename`, else `rename_all` applied, else its name.
fn wire_name(options: &Options, p: &crate::signature::Param) -> String {
    match (aimed(&options.rename, &p.name), options.rename_all) {
        (Some(r), _) => r.value.value(),
        (None, Some((rule, _))) => rule.apply(&p.name),
        (None, None) => p.name.clone(),
    }
}

/// Wire names are plain identifiers (so a field path reads unambiguously),
/// and no two parameters share one.
fn check_wire_names(cx: &mut Ctxt, options: &Options, params: &[Param], confirm_added: bool) {
    let span_of = |p: &Param| {
        aimed(&options.rename, &p.name)
            .map(|r| r.value.span())
            .or(options.rename_all.map(|(_, span)| span))
            .unwrap_or_else(|| p.ident.span())
    };
    let mut seen: Vec<(&str, &str)> = Vec::new();
    if confirm_added {
        seen.push(("confirm", "confirm"));
    }
    if options.scope.is_some() {
        // Over stdio a scoped tool's credential travels as `token`.
        seen.push(("token", "the credential"));
    }
    for p in params {
        let valid = p
            .wire
            .starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '$')
            && p.wire
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$'));
        if !valid {
            cx.error(
                span_of(p),
                format!(
                    "wire name {:?} of `{}` is not a plain name; use ASCII letters, digits, `_`, `-` or `$`, \
                     starting with a letter, `_` or `$`",
                    p.wire, p.name
                ),
            );
            continue;
        }
        if let Some((_, other)) = seen.iter().find(|(w, _)| *w == p.wire) {
            cx.error(
                span_of(p),
                format!(
                    "`{}` and {} are both `{}` on the wire; rename one",
                    p.name,
                    if other.starts_with("the ") {
                        (*other).to_owned()
                    } else {
                        format!("`{other}`")
                    },
                    p.wire
                ),
            );
            continue;
        }
        seen.push((&p.wire, &p.name));
    }
}

/// Two parameters whose generated tests would share a name (`edits: Vec<String>`
/// and `edits_items: String` both give `rejects_edits_items_of_wrong_type`).
fn check_test_names(cx: &mut Ctxt, params: &[Param]) {
    let mut seen: Vec<(String, &Param)> = Vec::new();
    for p in params {
        let (mut sites, mut nested) = (Vec::new(), Vec::new());
        crate::probes::param(p, &p.wire, &mut sites, &mut nested);
        for site in sites {
            let name = crate::probes::test_name(&site.head, &site.rust).to_string();
            match seen.iter().find(|(n, _)| *n == name) {
                Some((_, other)) if other.name != p.name => {
                    cx.error(
                        p.ident.span(),
                        format!(
                            "`{}` and `{}` would both have a generated test `{name}`; rename one parameter",
                            other.name, p.name
                        ),
                    );
                    return;
                }
                _ => seen.push((name, p)),
            }
        }
    }
}

/// `default(p = ..)` and `rename(p = ..)` name parameters that exist.
fn check_named(cx: &mut Ctxt, options: &Options, sig: &Sig) {
    let defaults = options.default.iter().filter_map(|d| d.target.as_ref());
    let renames = options.rename.iter().filter_map(|r| r.target.as_ref());
    for (option, target) in defaults
        .map(|t| ("default", t))
        .chain(renames.map(|t| ("rename", t)))
    {
        if find(sig, target).is_none() {
            no_such_param(cx, sig, option, target);
        }
    }
}

/// `command(p)` names an allowlisted selector: a value that picks a command
/// flag must be one of a fixed set, so the caller's string never becomes an argument.
fn check_command(cx: &mut Ctxt, options: &Options, sig: &Sig, allow: &[Option<Vec<LitStr>>]) {
    for target in &options.command {
        match find(sig, target) {
            None => no_such_param(cx, sig, "command", target),
            Some((i, _)) if allow[i].is_some() => {}
            Some((_, p)) => cx.error(
                target.span(),
                format!(
                    "`command` needs an allowlisted selector, but `{}` has no `allow` list; \
                     a value that picks a command flag must be one of a fixed set",
                    p.name
                ),
            ),
        }
    }
}

/// Exactly one of `scope = ".."` and `public`: there is no silent default.
fn access(cx: &mut Ctxt, options: &Options) -> Option<String> {
    match (&options.scope, options.public) {
        (Some(_), Some(public)) => {
            cx.error(public, "`public` contradicts `scope`: a tool is either public or needs a scope; remove one");
            None
        }
        (Some(scope), None) => {
            let value = scope.value();
            if !valid_scope(&value) {
                cx.error(
                    scope.span(),
                    format!(
                        "malformed scope {value:?}; expected `resource:action` in lowercase, such as `documents:read`"
                    ),
                );
            }
            Some(value)
        }
        (None, Some(_)) => None,
        (None, None) if options.access_attempted => None,
        (None, None) => {
            // Nothing narrower than the attribute itself is missing the option.
            cx.error(
                Span::call_site(),
                "`secure_tool` needs `scope = \"resource:action\"` or `public`: who may call a tool is never left to a default",
            );
            None
        }
    }
}

fn valid_scope(scope: &str) -> bool {
    let part = |s: &str| {
        s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.')
            })
    };
    matches!(scope.split_once(':'), Some((r, a)) if part(r) && part(a))
}

fn find<'s>(sig: &'s Sig, target: &Ident) -> Option<(usize, &'s crate::signature::Param)> {
    let name = syn::ext::IdentExt::unraw(target).to_string();
    sig.params.iter().enumerate().find(|(_, p)| p.name == name)
}

fn no_such_param(cx: &mut Ctxt, sig: &Sig, option: &str, target: &Ident) {
    let names: Vec<String> = sig.params.iter().map(|p| format!("`{}`", p.name)).collect();
    let list = if names.is_empty() {
        "it has none".to_owned()
    } else {
        format!("parameters are {}", names.join(", "))
    };
    cx.error(
        target.span(),
        format!(
            "`{option}` names `{target}`, which is not a parameter of `{}`; {list}",
            sig.name
        ),
    );
}

/// Which parameter each allowlist restricts, and that it is a selector.
fn allowlists(cx: &mut Ctxt, options: &Options, sig: &Sig) -> Vec<Option<Vec<LitStr>>> {
    let mut allow: Vec<Option<Vec<LitStr>>> = vec![None; sig.params.len()];
    for a in &options.allow {
        let (index, span) = match &a.target {
            Some(target) => match find(sig, target) {
                Some((i, _)) => (i, target.span()),
                None => {
                    no_such_param(cx, sig, "allow", target);
                    continue;
                }
            },
            None => {
                let stringy: Vec<_> = sig
                    .params
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.kind.is_stringy())
                    .collect();
                match stringy.as_slice() {
                    [(i, _)] => (*i, a.span),
                    [] => {
                        cx.error(
                            a.span,
                            format!(
                                "`allow` restricts a string parameter, and `{}` has none",
                                sig.name
                            ),
                        );
                        continue;
                    }
                    many => {
                        let names: Vec<String> =
                            many.iter().map(|(_, p)| format!("`{}`", p.name)).collect();
                        cx.error(
                            a.span,
                            format!(
                                "ambiguous `allow`: `{}` has several string parameters ({}); name one: `allow({} = [..])`",
                                sig.name,
                                names.join(", "),
                                many[0].1.name
                            ),
                        );
                        continue;
                    }
                }
            }
        };
        let p = &sig.params[index];
        match p.kind.item() {
            named @ TyKind::Named(_) if named.selector_name().is_some() => {
                allow[index] = Some(a.values.clone())
            }
            TyKind::String => cx.error(
                syn::spanned::Spanned::span(&p.ty),
                format!(
                    "an allowlisted parameter never receives the raw string; declare it with a new type name, \
                     such as `{}: {}`, and `secure_tool` generates that enum",
                    p.name,
                    upper_camel(&p.name).unwrap_or_else(|| "Choice".to_owned())
                ),
            ),
            other => cx.error(
                span,
                format!("`allow` restricts string selectors, but `{}` is `{}`", p.name, other.describe()),
            ),
        }
    }
    allow
}

/// Enum variants for allowlist entries: `"add"` → `Add`, `"dry-run"` → `DryRun`.
fn variants(cx: &mut Ctxt, values: &[LitStr]) -> Vec<(LitStr, Ident)> {
    let mut out: Vec<(LitStr, Ident)> = Vec::new();
    for lit in values {
        let value = lit.value();
        let Some(name) = upper_camel(&value) else {
            cx.error(
                lit.span(),
                format!(
                    "allowlist entry {value:?} cannot name an enum variant; entries start with an ASCII letter \
                     and hold ASCII letters, digits, `-`, `_`, `.` or spaces"
                ),
            );
            continue;
        };
        if let Some((other, _)) = out.iter().find(|(_, v)| *v == name) {
            cx.error(
                lit.span(),
                format!(
                    "allowlist entries {:?} and {value:?} both become the variant `{name}`",
                    other.value()
                ),
            );
            continue;
        }
        out.push((lit.clone(), Ident::new(&name, lit.span())));
    }
    out
}

fn upper_camel(value: &str) -> Option<String> {
    if !value.starts_with(|c: char| c.is_ascii_alphabetic())
        || !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ' '))
    {
        return None;
    }
    let mut out = String::new();
    for word in value
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    Some(out)
}

/// The bound on `p` from `key(p = ..)`, else from the blanket `key = ..`.
fn bound_for<'o>(bounds: &'o [Bound], p: &crate::signature::Param) -> (Option<&'o Number>, bool) {
    match aimed(bounds, &p.name) {
        Some(b) => (Some(&b.value), true),
        None => (
            bounds.iter().find(|b| b.target.is_none()).map(|b| &b.value),
            false,
        ),
    }
}

/// Bounds of a float: `max = N` means `|x| <= N`; `min`/`max(p = ..)` refine one side.
fn float_bounds(
    cx: &mut Ctxt,
    options: &Options,
    p: &crate::signature::Param,
) -> (Option<f64>, Option<f64>) {
    let (max, max_named) = bound_for(&options.max, p);
    let (min, _) = bound_for(&options.min, p);
    let max_value = max.map(|m| m.value);
    // The blanket `max = N` is symmetric; a per-parameter `max(p = N)` is one-sided.
    let min_value = min
        .map(|m| m.value)
        .or_else(|| (!max_named).then(|| max_value.map(|m| -m)).flatten());
    match (min_value, max_value) {
        (None, None) => cx.error(
            p.ident.span(),
            format!(
                "`{0}` is a float with no bounds: declare `max = N` (meaning |x| <= N) \
                 or both `min({0} = ..)` and `max({0} = ..)`",
                p.name
            ),
        ),
        (Some(_), Some(_)) => {}
        (lo, _) => one_sided(cx, p, if lo.is_some() { min } else { max }),
    }
    if let (Some(lo), Some(hi), Some(min)) = (min_value, max_value, min)
        && lo > hi
    {
        cx.error(
            min.span,
            format!(
                "`min` {} is greater than `max` {} for `{}`",
                min.text,
                max.map_or("", |m| &m.text),
                p.name
            ),
        );
    }
    (min_value, max_value)
}

/// The error for a signed parameter with a bound on one side only.
fn one_sided(cx: &mut Ctxt, p: &crate::signature::Param, bound: Option<&Number>) {
    let Some(bound) = bound else { return };
    cx.error(
        bound.span,
        format!(
            "`{0}` is bounded on one side only, and a signed value is then unbounded \
             on the other: declare both `min({0} = ..)` and `max({0} = ..)`, or the \
             blanket `max = N` (meaning |x| <= N)",
            p.name
        ),
    );
}

/// Bounds of an integer, as exact integers inside the type's range.
fn int_bounds(
    cx: &mut Ctxt,
    options: &Options,
    p: &crate::signature::Param,
    ty: &str,
) -> (i128, i128) {
    let (lo_ty, hi_ty) = int_range(ty);
    let (max, max_named) = bound_for(&options.max, p);
    let (min, _) = bound_for(&options.min, p);
    let exact = |cx: &mut Ctxt, n: &Number| -> Option<i128> {
        match n.int {
            Some(i) if (lo_ty..=hi_ty).contains(&i) => Some(i),
            Some(_) => {
                cx.error(
                    n.span,
                    format!(
                        "bound {} does not fit in `{ty}` of `{}` ({lo_ty}..={hi_ty})",
                        n.text, p.name
                    ),
                );
                None
            }
            None => {
                cx.error(
                    n.span,
                    format!(
                        "bound {} is not a whole number, but `{}` is `{ty}`",
                        n.text, p.name
                    ),
                );
                None
            }
        }
    };
    // A signed integer with a named upper bound and no lower one would reach
    // down to the type's minimum: almost never what the declaration meant. (A
    // lower bound alone, as on an id, has the type's maximum above it.)
    if lo_ty < 0 && max_named && min.is_none() {
        one_sided(cx, p, max);
    }
    let hi = max.and_then(|m| exact(cx, m)).unwrap_or(hi_ty);
    let lo = match min {
        Some(m) => exact(cx, m).unwrap_or(lo_ty),
        // The symmetric lower side of a blanket `max`, clamped: `-N` is implied, not written.
        None if max.is_some() && !max_named => (-hi).max(lo_ty),
        None => lo_ty,
    };
    if lo > hi
        && let Some(m) = min
    {
        cx.error(
            m.span,
            format!(
                "`min` {} is greater than `max` {hi} for `{}`",
                m.text, p.name
            ),
        );
    }
    (lo, hi)
}

fn max_len(options: &Options, p: &crate::signature::Param) -> usize {
    targeted(&options.max_len, p)
        .and_then(|m| usize::try_from(m.value).ok())
        .filter(|&n| n > 0)
        .unwrap_or(DEFAULT_MAX_LEN)
}

/// The tool has a description, and its hints agree with what the macro knows.
fn hints(cx: &mut Ctxt, options: &Options, sig: &Sig) {
    if sig.description.is_empty() {
        cx.error(
            sig.ident.span(),
            format!(
                "`{}` has no doc comment: it is the description the model reads to decide \
                 when to call the tool; write what it does and when to use it in `/// …` \
                 above `fn {}`",
                sig.name, sig.name
            ),
        );
    }
    if let (Some(read_only), Some(_)) = (options.read_only, options.confirm) {
        cx.error(
            read_only,
            "a `confirm` tool changes something, so it cannot be `read_only`",
        );
    }
    if let (Some(read_only), Some(_)) = (options.read_only, options.idempotent) {
        cx.error(
            read_only,
            "`read_only` already says the tool changes nothing: drop `idempotent`",
        );
    }
}

/// Every bound names a parameter that exists and has the right type; blanket
/// bounds apply to at least one parameter; values are in range.
fn check_targets(cx: &mut Ctxt, options: &Options, sig: &Sig) {
    for (option, bounds) in [("max", &options.max), ("min", &options.min)] {
        for b in bounds.iter() {
            match &b.target {
                Some(target) => match find(sig, target) {
                    None => no_such_param(cx, sig, option, target),
                    Some((_, p)) if !p.kind.is_numeric() => {
                        let list = matches!(p.kind, TyKind::List(_));
                        let hint = match (option, &p.kind) {
                            ("max", _) if list => format!(
                                "; bound its items with `max_items({} = {})`",
                                p.name, b.value.text
                            ),
                            ("min", _) if list => format!(
                                "; require items with `min_items({} = {})`",
                                p.name, b.value.text
                            ),
                            ("max", TyKind::String) => format!(
                                "; bound its length with `max_len({} = {})`",
                                p.name, b.value.text
                            ),
                            _ => String::new(),
                        };
                        cx.error(
                            target.span(),
                            format!(
                                "`{option}` bounds numbers, but `{}` is `{}`{hint}",
                                p.name,
                                p.kind.describe()
                            ),
                        );
                    }
                    Some(_) => {}
                },
                None => {
                    if !sig.params.iter().any(|p| p.kind.is_numeric()) {
                        cx.error(
                            b.value.span,
                            format!(
                                "`{option}` bounds numbers, and `{}` has no numeric parameter",
                                sig.name
                            ),
                        );
                    }
                    if option == "max" && b.value.value < 0.0 {
                        cx.error(
                            b.value.span,
                            format!(
                                "`max = N` bounds `|x| <= N`, so N cannot be negative (got {})",
                                b.value.text
                            ),
                        );
                    }
                }
            }
        }
    }
    for m in &options.max_len {
        if m.value <= 0 {
            cx.error(
                m.span,
                format!("`max_len` must be at least 1, not {}", m.value),
            );
        }
        match &m.target {
            Some(target) => match find(sig, target) {
                None => no_such_param(cx, sig, "max_len", target),
                Some((_, p)) if !p.kind.is_text() => cx.error(
                    target.span(),
                    format!(
                        "`max_len` bounds free-text `String` parameters, but `{}` is `{}`",
                        p.name,
                        p.kind.describe()
                    ),
                ),
                Some(_) => {}
            },
            None => {
                if !sig.params.iter().any(|p| p.kind.is_text()) {
                    cx.error(
                        m.span,
                        format!(
                            "`max_len` bounds strings, and `{}` has no `String` parameter",
                            sig.name
                        ),
                    );
                }
            }
        }
    }
}

/// `max_items`, `min_items` and `unique` aim at lists, with sane counts;
/// `unique` compares scalar items only.
fn check_lists(cx: &mut Ctxt, options: &Options, sig: &Sig, allow: &[Option<Vec<LitStr>>]) {
    for (option, counts) in [
        ("max_items", &options.max_items),
        ("min_items", &options.min_items),
    ] {
        for m in counts.iter() {
            let least = if option == "max_items" { 1 } else { 0 };
            if m.value < least {
                cx.error(
                    m.span,
                    format!("`{option}` must be at least {least}, not {}", m.value),
                );
            }
            match &m.target {
                Some(target) => match find(sig, target) {
                    None => no_such_param(cx, sig, option, target),
                    Some((_, p)) if !matches!(p.kind, TyKind::List(_)) => cx.error(
                        target.span(),
                        format!(
                            "`{option}` bounds lists, but `{}` is `{}`",
                            p.name,
                            p.kind.describe()
                        ),
                    ),
                    Some(_) => {}
                },
                None if !sig.params.iter().any(|p| matches!(p.kind, TyKind::List(_))) => {
                    cx.error(
                        m.span,
                        format!(
                            "`{option}` bounds lists, and `{}` has no list parameter",
                            sig.name
                        ),
                    );
                }
                None => {}
            }
        }
    }
    for p in &sig.params {
        let min = targeted(&options.min_items, p);
        let max = targeted(&options.max_items, p).map_or(DEFAULT_MAX_ITEMS as i128, |m| m.value);
        if let Some(min) = min
            && min.value > max
            && matches!(p.kind, TyKind::List(_))
        {
            cx.error(
                min.span,
                format!(
                    "`min_items` {} is greater than `max_items` {max} for `{}`",
                    min.value, p.name
                ),
            );
        }
    }
    for target in &options.allow_invisible {
        match find(sig, target) {
            None => no_such_param(cx, sig, "allow_invisible", target),
            Some((i, p)) if !matches!(p.kind.item(), TyKind::String) || allow[i].is_some() => {
                cx.error(
                    target.span(),
                    format!(
                        "`allow_invisible` applies to free text (`String` or `Vec<String>`), but `{}` is {}",
                        p.name,
                        if allow[i].is_some() {
                            "a selector".to_owned()
                        } else {
                            format!("`{}`", p.kind.describe())
                        }
                    ),
                );
            }
            Some(_) => {}
        }
    }
    for target in &options.unique {
        match find(sig, target) {
            None => no_such_param(cx, sig, "unique", target),
            Some((i, p)) => match &p.kind {
                TyKind::List(item) if matches!(**item, TyKind::Named(_)) && allow[i].is_none() => {
                    cx.error(
                        target.span(),
                        format!(
                            "`unique` compares numbers, booleans, strings and selectors, \
                             but the items of `{}` are `{}` objects",
                            p.name,
                            item.describe()
                        ),
                    );
                }
                TyKind::List(_) => {}
                other => cx.error(
                    target.span(),
                    format!(
                        "`unique` applies to lists, but `{}` is `{}`",
                        p.name,
                        other.describe()
                    ),
                ),
            },
        }
    }
}

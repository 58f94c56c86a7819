//! Stage 1: the attribute's options, parsed with their spans. No cross-checks here.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens as _;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Ident, Lit, LitStr, Meta, MetaNameValue, Token, UnOp};

use crate::ctxt::Ctxt;

pub const OPTIONS: &[&str] = &[
    "allow",
    "max",
    "min",
    "max_len",
    "max_items",
    "min_items",
    "unique",
    "allow_invisible",
    "default",
    "rename",
    "rename_all",
    "max_size",
    "scope",
    "public",
    "confirm",
    "read_only",
    "idempotent",
    "open_world",
    "command",
    "rate",
    "crate",
];

/// The options of `#[arg(..)]` on a field of a struct that derives `Args`.
pub const FIELD_OPTIONS: &[&str] = &[
    "allow",
    "max",
    "min",
    "max_len",
    "max_items",
    "min_items",
    "unique",
    "allow_invisible",
    "default",
    "rename",
];

const EXPECTED: &str = "expected one of `allow`, `max`, `min`, `max_len`, `max_items`, `min_items`, `unique`, \
                        `allow_invisible`, `default`, `rename`, `rename_all`, `max_size`, `scope`, `public`, `confirm`, `read_only`, `idempotent`, `open_world`, `command`, `rate`, `crate`";

const FIELD_EXPECTED: &str = "expected one of `allow`, `max`, `min`, `max_len`, `max_items`, `min_items`, \
                              `unique`, `allow_invisible`, `default`, `rename`";

#[derive(Default)]
pub struct Options {
    pub allow: Vec<Allow>,
    pub max: Vec<Bound>,
    pub min: Vec<Bound>,
    pub max_len: Vec<MaxLen>,
    pub max_items: Vec<MaxLen>,
    pub min_items: Vec<MaxLen>,
    /// Lists whose items must differ: `unique(files)`.
    pub unique: Vec<Ident>,
    /// Strings that may carry invisible characters: `allow_invisible(content)`.
    pub allow_invisible: Vec<Ident>,
    pub default: Vec<Default>,
    pub rename: Vec<Rename>,
    pub rename_all: Option<(RenameAll, Span)>,
    /// `max_size = N`: the bound on the arguments as a whole, in bytes.
    pub max_size: Option<(i128, Span)>,
    /// `crate = "path"`: how generated code names the runtime.
    pub krate: Option<syn::Path>,
    pub scope: Option<LitStr>,
    pub public: Option<Span>,
    pub confirm: Option<Span>,
    /// `confirm = "human"`: approval by a person outside the MCP client.
    pub human: bool,
    /// MCP hints: `read_only`, `idempotent`, `open_world`.
    pub read_only: Option<Span>,
    pub idempotent: Option<Span>,
    pub open_world: Option<Span>,
    /// Parameters that select a command-line flag: `command(format)`.
    pub command: Vec<Ident>,
    /// `rate = "N/unit"`: calls per subject, and the period in seconds.
    pub rate: Option<(u32, u64)>,
    /// `scope` or `public` was written, or misspelt, even if it failed to parse:
    /// then a missing-access error would only repeat that failure.
    pub access_attempted: bool,
    /// An `allow` was written but failed to parse (or was misspelt): the
    /// selector it meant to declare should not be reported again as unknown.
    pub allow_failed: bool,
}

/// `allow = [..]` (no target) or one `op = [..]` inside `allow(..)`.
pub struct Allow {
    pub target: Option<Ident>,
    pub values: Vec<LitStr>,
    pub span: Span,
}

/// `max = N` / `min = N` (no target) or one `a = N` inside `max(..)` / `min(..)`.
pub struct Bound {
    pub target: Option<Ident>,
    pub value: Number,
}

/// `max_len = N` or one `p = N` inside `max_len(..)`.
pub struct MaxLen {
    pub target: Option<Ident>,
    pub value: i128,
    pub span: Span,
}

/// `default(p = lit)`, or `default = lit` on a field.
pub struct Default {
    pub target: Option<Ident>,
    pub value: Expr,
}

/// `rename(p = "wire")`, or `rename = "wire"` on a field.
pub struct Rename {
    pub target: Option<Ident>,
    pub value: LitStr,
}

/// How `rename_all` spells a Rust name on the wire.
#[derive(Clone, Copy)]
pub enum RenameAll {
    Camel,
    Pascal,
    Snake,
    ScreamingSnake,
    Kebab,
    Lower,
}

impl RenameAll {
    const ALL: &[(&str, RenameAll)] = &[
        ("camelCase", RenameAll::Camel),
        ("PascalCase", RenameAll::Pascal),
        ("snake_case", RenameAll::Snake),
        ("SCREAMING_SNAKE_CASE", RenameAll::ScreamingSnake),
        ("kebab-case", RenameAll::Kebab),
        ("lowercase", RenameAll::Lower),
    ];

    /// The wire name of a snake_case Rust name.
    pub fn apply(self, name: &str) -> String {
        let words = name.split('_').filter(|w| !w.is_empty());
        let capital = |w: &str| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        };
        match self {
            RenameAll::Camel => words
                .enumerate()
                .map(|(i, w)| if i == 0 { w.to_owned() } else { capital(w) })
                .collect(),
            RenameAll::Pascal => words.map(capital).collect(),
            RenameAll::Snake => name.to_owned(),
            RenameAll::ScreamingSnake => name.to_ascii_uppercase(),
            RenameAll::Kebab => name.replace('_', "-"),
            RenameAll::Lower => name.replace('_', ""),
        }
    }
}

/// A numeric literal, possibly negated, as written.
#[derive(Clone)]
pub struct Number {
    pub value: f64,
    /// The exact value when the literal is integral.
    pub int: Option<i128>,
    pub text: String,
    pub span: Span,
}

pub fn parse(cx: &mut Ctxt, attr: TokenStream) -> Options {
    let mut options = Options::default();
    if let Some(metas) = metas(cx, attr) {
        for meta in &metas {
            parse_meta(cx, meta, &mut options, None);
        }
    }
    options
}

fn metas(cx: &mut Ctxt, tokens: TokenStream) -> Option<Punctuated<Meta, Token![,]>> {
    match syn::parse::Parser::parse2(Punctuated::<Meta, Token![,]>::parse_terminated, tokens) {
        Ok(metas) => Some(metas),
        Err(err) => {
            cx.push(err);
            None
        }
    }
}

/// Adds the options of one field's `#[arg(..)]` to `options`, each aimed at
/// `field`, so a struct's fields are checked exactly as a tool's parameters are.
pub fn parse_field(cx: &mut Ctxt, tokens: TokenStream, field: &Ident, options: &mut Options) {
    if let Some(metas) = metas(cx, tokens) {
        for meta in &metas {
            parse_meta(cx, meta, options, Some(field));
        }
    }
}

/// The struct's own `#[arg(rename_all = "..")]`.
pub fn parse_container(cx: &mut Ctxt, tokens: TokenStream, options: &mut Options) {
    let Some(metas) = metas(cx, tokens) else {
        return;
    };
    for meta in &metas {
        match meta.path().get_ident() {
            Some(key) if key == "rename_all" => {
                let key = key.clone();
                rename_all(cx, meta, &key, options);
            }
            Some(key) if key == "crate" => {
                let key = key.clone();
                krate(cx, meta, &key, options);
            }
            _ => cx.error(
                meta.path().span(),
                "on a struct, `#[arg(..)]` takes only `rename_all = \"camelCase\"` and `crate = \"..\"`; \
                 the other options go on its fields",
            ),
        }
    }
}

/// `crate = "path"`: the path generated code names the runtime by.
fn krate(cx: &mut Ctxt, meta: &Meta, key: &Ident, options: &mut Options) {
    let Some(value) = name_value(cx, meta, "crate = \"secure_tool\"") else {
        return;
    };
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => match s.parse::<syn::Path>() {
            Ok(path) => set_once(cx, &mut options.krate, path, key),
            Err(_) => cx.error(s.span(), format!("{:?} is not a path", s.value())),
        },
        other => cx.error(
            other.span(),
            "expected a string literal: `crate = \"secure_tool\"`",
        ),
    }
}

fn rename_all(cx: &mut Ctxt, meta: &Meta, key: &Ident, options: &mut Options) {
    let Some(value) = name_value(cx, meta, "rename_all = \"camelCase\"") else {
        return;
    };
    let names: Vec<&str> = RenameAll::ALL.iter().map(|(n, _)| *n).collect();
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => match RenameAll::ALL.iter().find(|(n, _)| *n == s.value()) {
            Some((_, rule)) => set_once(cx, &mut options.rename_all, (*rule, s.span()), key),
            None => cx.error(
                s.span(),
                format!(
                    "unknown `rename_all` rule {:?}; expected one of \"{}\"",
                    s.value(),
                    names.join("\", \"")
                ),
            ),
        },
        other => cx.error(
            other.span(),
            "expected a string literal: `rename_all = \"camelCase\"`",
        ),
    }
}

fn parse_meta(cx: &mut Ctxt, meta: &Meta, options: &mut Options, field: Option<&Ident>) {
    let Some(key) = meta.path().get_ident() else {
        cx.error(
            meta.path().span(),
            format!("expected a `secure_tool` option; {EXPECTED}"),
        );
        return;
    };
    let key_text = key.to_string();
    if field.is_some() && !FIELD_OPTIONS.contains(&key_text.as_str()) {
        let hint = did_you_mean_in(&key_text, FIELD_OPTIONS)
            .map_or(String::new(), |s| format!("; did you mean `{s}`?"));
        let on_tool = if OPTIONS.contains(&key_text.as_str()) {
            format!("; `{key_text}` applies to a whole tool, not to a field")
        } else {
            hint
        };
        cx.error(
            key.span(),
            format!("unknown `arg` option `{key_text}`{on_tool}\n{FIELD_EXPECTED}"),
        );
        if key_text == "allow" || did_you_mean_in(&key_text, FIELD_OPTIONS) == Some("allow") {
            options.allow_failed = true;
        }
        return;
    }
    if matches!(key_text.as_str(), "scope" | "public")
        || matches!(did_you_mean(&key_text), Some("scope" | "public"))
    {
        options.access_attempted = true;
    }
    if key_text != "allow" && did_you_mean(&key_text) == Some("allow") {
        options.allow_failed = true;
    }
    let whole = |cx: &mut Ctxt, e: &Expr| {
        let n = number(cx, e)?;
        match n.int {
            Some(value) => Some(MaxLen {
                target: None,
                value,
                span: n.span,
            }),
            None => {
                cx.error(
                    n.span,
                    format!("`{key_text}` must be a whole number, not `{}`", n.text),
                );
                None
            }
        }
    };
    match key_text.as_str() {
        "allow" => {
            let before = cx.error_count();
            parse_allow(cx, meta, &mut options.allow, field);
            options.allow_failed |= cx.error_count() > before;
        }
        "max" => parse_keyed(cx, meta, &mut options.max, field, |cx, e| {
            number(cx, e).map(|value| Bound {
                target: None,
                value,
            })
        }),
        "min" => parse_keyed(cx, meta, &mut options.min, field, |cx, e| {
            number(cx, e).map(|value| Bound {
                target: None,
                value,
            })
        }),
        "max_len" => parse_keyed(cx, meta, &mut options.max_len, field, whole),
        "max_items" => parse_keyed(cx, meta, &mut options.max_items, field, whole),
        "min_items" => parse_keyed(cx, meta, &mut options.min_items, field, whole),
        "default" => {
            if field.is_none() && matches!(meta, Meta::NameValue(_)) {
                cx.error(
                    key.span(),
                    "`default` names the parameter it applies to: `default(dry_run = false)`",
                );
                return;
            }
            parse_keyed(cx, meta, &mut options.default, field, |_, e| {
                Some(Default {
                    target: None,
                    value: e.clone(),
                })
            });
        }
        "rename" => {
            if field.is_none() && matches!(meta, Meta::NameValue(_)) {
                cx.error(
                    key.span(),
                    "`rename` names the parameter it applies to: `rename(dry_run = \"dryRun\")`; \
                     `rename_all` renames every parameter",
                );
                return;
            }
            parse_keyed(cx, meta, &mut options.rename, field, |cx, e| match e {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => Some(Rename {
                    target: None,
                    value: s.clone(),
                }),
                other => {
                    cx.error(
                        other.span(),
                        "expected a string literal: the name on the wire",
                    );
                    None
                }
            });
        }
        "rename_all" => rename_all(cx, meta, key, options),
        "crate" => krate(cx, meta, key, options),
        "max_size" => {
            let Some(value) = name_value(cx, meta, "max_size = 65536") else {
                return;
            };
            if let Some(n) = whole(cx, value) {
                if n.value < 1 {
                    cx.error(
                        n.span,
                        format!("`max_size` must be at least 1, not {}", n.value),
                    );
                } else {
                    set_once(cx, &mut options.max_size, (n.value, n.span), key);
                }
            }
        }
        "unique" => aimed_flag(
            cx,
            meta,
            key,
            field,
            &mut options.unique,
            (
                "unique(param, ..)",
                "name the lists whose items must differ",
            ),
        ),
        "allow_invisible" => aimed_flag(
            cx,
            meta,
            key,
            field,
            &mut options.allow_invisible,
            (
                "allow_invisible(param, ..)",
                "name the strings that may carry invisible characters",
            ),
        ),
        "scope" => {
            let Some(value) = name_value(cx, meta, "scope = \"resource:action\"") else {
                return;
            };
            match value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => set_once(cx, &mut options.scope, s.clone(), key),
                other => cx.error(
                    other.span(),
                    "expected a string literal: `scope = \"resource:action\"`",
                ),
            }
        }
        "public" => flag(cx, meta, &mut options.public),
        "confirm" => match meta {
            Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) if s.value() == "human" => {
                    set_once(cx, &mut options.confirm, key.span(), key);
                    options.human = true;
                }
                other => cx.error(
                    other.span(),
                    "expected `confirm` alone (the user is asked through the MCP client), or `confirm = \"human\"` (a person approves on the server's own approval page)",
                ),
            },
            _ => flag(cx, meta, &mut options.confirm),
        },
        "read_only" => flag(cx, meta, &mut options.read_only),
        "idempotent" => flag(cx, meta, &mut options.idempotent),
        "open_world" => flag(cx, meta, &mut options.open_world),
        "rate" => {
            let Some(value) = name_value(cx, meta, "rate = \"30/min\"") else {
                return;
            };
            if let Some(rate) = parse_rate(cx, value) {
                set_once(cx, &mut options.rate, rate, key);
            }
        }
        "command" => parse_idents(
            cx,
            meta,
            &mut options.command,
            "command(param, ..)",
            "name the selector that picks a command-line flag",
        ),
        unknown => {
            let hint =
                did_you_mean(unknown).map_or(String::new(), |s| format!("; did you mean `{s}`?"));
            cx.error(
                key.span(),
                format!("unknown `secure_tool` option `{unknown}`{hint}\n{EXPECTED}"),
            );
        }
    }
}

/// A flag aimed at parameters: `key(a, b)` on a tool, `key` alone on a field.
fn aimed_flag(
    cx: &mut Ctxt,
    meta: &Meta,
    key: &Ident,
    field: Option<&Ident>,
    out: &mut Vec<Ident>,
    (form, why): (&str, &str),
) {
    let Some(field) = field else {
        return parse_idents(cx, meta, out, form, why);
    };
    if !matches!(meta, Meta::Path(_)) {
        flag_value_error(cx, meta, key);
    } else if out.iter().any(|u| u == field) {
        cx.error(key.span(), format!("duplicate `{key}` option"));
    } else {
        out.push(Ident::new(&field.to_string(), key.span()));
    }
}

fn flag_value_error(cx: &mut Ctxt, meta: &Meta, key: &Ident) {
    let span = match meta {
        Meta::List(list) => list.delimiter.span().join(),
        Meta::NameValue(nv) => nv.value.span(),
        Meta::Path(p) => p.span(),
    };
    cx.error(span, format!("`{key}` takes no value; write `{key}` alone"));
}

/// `rate = "N/s"`, `"N/min"` or `"N/h"`, with N at least 1.
fn parse_rate(cx: &mut Ctxt, expr: &Expr) -> Option<(u32, u64)> {
    const FORM: &str = "expected a rate such as `rate = \"10/s\"`, `\"30/min\"` or `\"1000/h\"`";
    let Expr::Lit(ExprLit {
        lit: Lit::Str(s), ..
    }) = expr
    else {
        cx.error(expr.span(), FORM);
        return None;
    };
    let value = s.value();
    let parsed = secure_tool_grammar::parse_rate(&value);
    if parsed.is_none() {
        cx.error(s.span(), format!("malformed rate {value:?}; {FORM}"));
    }
    parsed
}

/// `key(param, ..)`: the parameters an option applies to.
fn parse_idents(cx: &mut Ctxt, meta: &Meta, out: &mut Vec<Ident>, form: &str, why: &str) {
    let key = meta.path().get_ident().expect("checked by caller");
    let Meta::List(list) = meta else {
        cx.error(meta.path().span(), format!("expected `{form}`: {why}"));
        return;
    };
    match list.parse_args_with(Punctuated::<Ident, Token![,]>::parse_terminated) {
        Ok(idents) if !idents.is_empty() => {
            for ident in idents {
                if out.contains(&ident) {
                    cx.error(
                        ident.span(),
                        format!("duplicate `{key}` for parameter `{ident}`"),
                    );
                } else {
                    out.push(ident);
                }
            }
        }
        _ => cx.error(list.delimiter.span().join(), format!("expected `{form}`")),
    }
}

fn set_once<T>(cx: &mut Ctxt, slot: &mut Option<T>, value: T, key: &Ident) {
    if slot.is_some() {
        cx.error(key.span(), format!("duplicate `{key}` option"));
    } else {
        *slot = Some(value);
    }
}

fn flag(cx: &mut Ctxt, meta: &Meta, slot: &mut Option<Span>) {
    let key = meta.path().get_ident().expect("checked by caller");
    match meta {
        Meta::Path(_) => set_once(cx, slot, key.span(), key),
        Meta::List(list) => cx.error(
            list.delimiter.span().join(),
            format!("`{key}` takes no value; write `{key}` alone"),
        ),
        Meta::NameValue(nv) => cx.error(
            nv.value.span(),
            format!("`{key}` takes no value; write `{key}` alone"),
        ),
    }
}

fn name_value<'m>(cx: &mut Ctxt, meta: &'m Meta, form: &str) -> Option<&'m Expr> {
    match meta {
        Meta::NameValue(nv) => Some(&nv.value),
        Meta::Path(path) => {
            cx.error(
                path.span(),
                format!("`{}` needs a value: `{form}`", path.get_ident()?),
            );
            None
        }
        Meta::List(list) => {
            cx.error(list.delimiter.span().join(), format!("expected `{form}`"));
            None
        }
    }
}

/// Parses `key = value` (applies to every matching parameter) or
/// `key(param = value, ..)` (applies to each named parameter).
fn parse_keyed<T: Targeted>(
    cx: &mut Ctxt,
    meta: &Meta,
    out: &mut Vec<T>,
    field: Option<&Ident>,
    value: impl Fn(&mut Ctxt, &Expr) -> Option<T>,
) {
    let key = meta.path().get_ident().expect("checked by caller");
    match meta {
        Meta::NameValue(nv) => {
            if out.iter().any(|o| o.target() == field) {
                cx.error(key.span(), format!("duplicate `{key}` option"));
            } else if let Some(mut v) = value(cx, &nv.value) {
                if let Some(field) = field {
                    v.set_target(field.clone());
                }
                out.push(v);
            }
        }
        Meta::List(list) if field.is_some() => cx.error(
            list.delimiter.span().join(),
            format!("on a field, write `{key} = …`"),
        ),
        Meta::List(list) => {
            let pairs = match list
                .parse_args_with(Punctuated::<MetaNameValue, Token![,]>::parse_terminated)
            {
                Ok(pairs) => pairs,
                Err(err) => {
                    cx.error(err.span(), format!("expected `{key}(param = value, ..)`"));
                    return;
                }
            };
            if pairs.is_empty() {
                cx.error(
                    list.delimiter.span().join(),
                    format!("expected `{key}(param = value, ..)`"),
                );
            }
            for pair in pairs {
                let Some(target) = pair.path.get_ident() else {
                    cx.error(pair.path.span(), "expected a parameter name");
                    continue;
                };
                if out.iter().any(|o| o.target() == Some(target)) {
                    cx.error(
                        target.span(),
                        format!("duplicate `{key}` for parameter `{target}`"),
                    );
                    continue;
                }
                if let Expr::Range(range) = &pair.value
                    && let (Some(start), Some(end)) = (&range.start, &range.end)
                {
                    let (start, end) = (start.to_token_stream(), end.to_token_stream());
                    cx.error(
                        pair.value.span(),
                        format!(
                            "`{key}` takes one bound, not a range; write `min({target} = {start}), max({target} = {end})`"
                        ),
                    );
                    continue;
                }
                if let Some(mut v) = value(cx, &pair.value) {
                    v.set_target(target.clone());
                    out.push(v);
                }
            }
        }
        Meta::Path(path) => cx.error(
            path.span(),
            format!("`{key}` needs a value: `{key} = …` or `{key}(param = …)`"),
        ),
    }
}

fn parse_allow(cx: &mut Ctxt, meta: &Meta, out: &mut Vec<Allow>, field: Option<&Ident>) {
    parse_keyed(cx, meta, out, field, |cx, expr| {
        let Expr::Array(array) = expr else {
            cx.error(
                expr.span(),
                "expected a list of string literals: `[\"a\", \"b\"]`",
            );
            return None;
        };
        let mut values = Vec::new();
        for elem in &array.elems {
            match elem {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => {
                    if values.iter().any(|v: &LitStr| v.value() == s.value()) {
                        cx.error(
                            s.span(),
                            format!("duplicate allowlist entry {:?}", s.value()),
                        );
                    } else {
                        values.push(s.clone());
                    }
                }
                other => cx.error(other.span(), "allowlist entries must be string literals"),
            }
        }
        if array.elems.is_empty() {
            cx.error(
                array.bracket_token.span.join(),
                "empty allowlist: nothing could ever be called; list at least one value",
            );
            return None;
        }
        Some(Allow {
            target: None,
            values,
            span: array.span(),
        })
    });
}

fn number(cx: &mut Ctxt, expr: &Expr) -> Option<Number> {
    let (negative, lit) = match expr {
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => (true, &*u.expr),
        other => (false, other),
    };
    let parsed = match lit {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => i
            .base10_parse::<i128>()
            .ok()
            .map(|n| (n as f64, Some(n), i.base10_digits().to_owned())),
        Expr::Lit(ExprLit {
            lit: Lit::Float(f), ..
        }) => f.base10_parse::<f64>().ok().map(|x| {
            let int = (x.fract() == 0.0 && x.abs() < 1e38).then_some(x as i128);
            (x, int, f.base10_digits().to_owned())
        }),
        _ => None,
    };
    let Some((value, int, text)) = parsed else {
        let hint = match lit {
            Expr::Range(range) => match (&range.start, &range.end) {
                (Some(start), Some(end)) => format!(
                    "; a range is two bounds: `min = {}, max = {}`",
                    start.to_token_stream(),
                    end.to_token_stream()
                ),
                _ => "; a range is two bounds: `min(p = ..), max(p = ..)`".to_owned(),
            },
            _ => String::new(),
        };
        cx.error(expr.span(), format!("expected a number literal{hint}"));
        return None;
    };
    let sign = if negative { -1.0 } else { 1.0 };
    Some(Number {
        value: sign * value,
        int: int.map(|i| if negative { -i } else { i }),
        text: if negative { format!("-{text}") } else { text },
        span: expr.span(),
    })
}

/// Option kinds that can name a parameter.
pub trait Targeted {
    fn target(&self) -> Option<&Ident>;
    fn set_target(&mut self, target: Ident);
}

macro_rules! targeted {
    ($($ty:ty),*) => {$(
        impl Targeted for $ty {
            fn target(&self) -> Option<&Ident> {
                self.target.as_ref()
            }
            fn set_target(&mut self, target: Ident) {
                self.target = Some(target);
            }
        }
    )*};
}

targeted!(Allow, Bound, MaxLen, Default, Rename);

/// The closest known option to a misspelt one, by edit distance.
pub fn did_you_mean(unknown: &str) -> Option<&'static str> {
    // Names other frameworks and schemas use for the same bounds.
    const SYNONYMS: &[(&str, &str)] = &[
        ("max_length", "max_len"),
        ("maxlength", "max_len"),
        ("max_chars", "max_len"),
        ("length", "max_len"),
        ("len", "max_len"),
        ("max_size_items", "max_items"),
        ("max_count", "max_items"),
        ("min_count", "min_items"),
        ("maximum", "max"),
        ("minimum", "min"),
        ("le", "max"),
        ("ge", "min"),
        ("enum", "allow"),
        ("choices", "allow"),
        ("one_of", "allow"),
        ("allowed", "allow"),
        ("rate_limit", "rate"),
        ("confirmation", "confirm"),
        ("destructive", "confirm"),
        ("alias", "rename"),
    ];
    let folded = unknown.to_ascii_lowercase().replace('-', "_");
    SYNONYMS
        .iter()
        .find(|(name, _)| *name == folded)
        .map(|(_, option)| *option)
        .or_else(|| did_you_mean_in(unknown, OPTIONS))
}

fn did_you_mean_in(unknown: &str, options: &'static [&'static str]) -> Option<&'static str> {
    options
        .iter()
        .map(|o| (distance(unknown, o), *o))
        .filter(|(d, o)| *d <= 2.max(o.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, o)| o)
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

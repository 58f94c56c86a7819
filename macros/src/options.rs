//! Stage 1: the attribute's options, parsed with their spans. No cross-checks here.

use proc_macro2::{Span, TokenStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Ident, Lit, LitStr, Meta, MetaNameValue, Token, UnOp};

use crate::ctxt::Ctxt;

pub const OPTIONS: &[&str] = &[
    "allow", "max", "min", "max_len", "scope", "public", "confirm", "command", "rate",
];

const EXPECTED: &str = "expected one of `allow`, `max`, `min`, `max_len`, `scope`, `public`, `confirm`, `command`, `rate`";

#[derive(Default)]
pub struct Options {
    pub allow: Vec<Allow>,
    pub max: Vec<Bound>,
    pub min: Vec<Bound>,
    pub max_len: Vec<MaxLen>,
    pub scope: Option<LitStr>,
    pub public: Option<Span>,
    pub confirm: Option<Span>,
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
    let metas =
        match syn::parse::Parser::parse2(Punctuated::<Meta, Token![,]>::parse_terminated, attr) {
            Ok(metas) => metas,
            Err(err) => {
                cx.push(err);
                return options;
            }
        };
    for meta in metas {
        let Some(key) = meta.path().get_ident() else {
            cx.error(
                meta.path().span(),
                format!("expected a `secure_tool` option; {EXPECTED}"),
            );
            continue;
        };
        let key_text = key.to_string();
        if matches!(key_text.as_str(), "scope" | "public")
            || matches!(did_you_mean(&key_text), Some("scope" | "public"))
        {
            options.access_attempted = true;
        }
        if key_text != "allow" && did_you_mean(&key_text) == Some("allow") {
            options.allow_failed = true;
        }
        match key_text.as_str() {
            "allow" => {
                let before = cx.error_count();
                parse_allow(cx, &meta, &mut options.allow);
                options.allow_failed |= cx.error_count() > before;
            }
            "max" => parse_keyed(cx, &meta, &mut options.max, |cx, e| {
                number(cx, e).map(|value| Bound {
                    target: None,
                    value,
                })
            }),
            "min" => parse_keyed(cx, &meta, &mut options.min, |cx, e| {
                number(cx, e).map(|value| Bound {
                    target: None,
                    value,
                })
            }),
            "max_len" => parse_keyed(cx, &meta, &mut options.max_len, |cx, e| {
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
                            format!(
                                "`max_len` must be a whole number of chars, not `{}`",
                                n.text
                            ),
                        );
                        None
                    }
                }
            }),
            "scope" => {
                let Some(value) = name_value(cx, &meta, "scope = \"resource:action\"") else {
                    continue;
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
            "public" => flag(cx, &meta, &mut options.public),
            "confirm" => flag(cx, &meta, &mut options.confirm),
            "rate" => {
                let Some(value) = name_value(cx, &meta, "rate = \"30/min\"") else {
                    continue;
                };
                if let Some(rate) = parse_rate(cx, value) {
                    set_once(cx, &mut options.rate, rate, key);
                }
            }
            "command" => parse_command(cx, &meta, &mut options.command),
            unknown => {
                let hint = did_you_mean(unknown)
                    .map_or(String::new(), |s| format!("; did you mean `{s}`?"));
                cx.error(
                    key.span(),
                    format!("unknown `secure_tool` option `{unknown}`{hint}\n{EXPECTED}"),
                );
            }
        }
    }
    options
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
    let parsed = value.split_once('/').and_then(|(calls, unit)| {
        let calls: u32 = calls.parse().ok().filter(|&n| n > 0)?;
        let secs = match unit {
            "s" => 1,
            "min" => 60,
            "h" => 3600,
            _ => return None,
        };
        Some((calls, secs))
    });
    if parsed.is_none() {
        cx.error(s.span(), format!("malformed rate {value:?}; {FORM}"));
    }
    parsed
}

/// `command(param, ..)`: selectors whose value picks a command-line flag.
fn parse_command(cx: &mut Ctxt, meta: &Meta, out: &mut Vec<Ident>) {
    let Meta::List(list) = meta else {
        cx.error(
            meta.path().span(),
            "expected `command(param, ..)`: name the selector that picks a command-line flag",
        );
        return;
    };
    match list.parse_args_with(Punctuated::<Ident, Token![,]>::parse_terminated) {
        Ok(idents) if !idents.is_empty() => {
            for ident in idents {
                if out.contains(&ident) {
                    cx.error(
                        ident.span(),
                        format!("duplicate `command` for parameter `{ident}`"),
                    );
                } else {
                    out.push(ident);
                }
            }
        }
        _ => cx.error(
            list.delimiter.span().join(),
            "expected `command(param, ..)`",
        ),
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
    value: impl Fn(&mut Ctxt, &Expr) -> Option<T>,
) {
    let key = meta.path().get_ident().expect("checked by caller");
    match meta {
        Meta::NameValue(nv) => {
            if out.iter().any(|o| o.target().is_none()) {
                cx.error(key.span(), format!("duplicate `{key}` option"));
            } else if let Some(v) = value(cx, &nv.value) {
                out.push(v);
            }
        }
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

fn parse_allow(cx: &mut Ctxt, meta: &Meta, out: &mut Vec<Allow>) {
    parse_keyed(cx, meta, out, |cx, expr| {
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
        cx.error(expr.span(), "expected a number literal");
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
trait Targeted {
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

targeted!(Allow, Bound, MaxLen);

/// The closest known option to a misspelt one, by edit distance.
pub fn did_you_mean(unknown: &str) -> Option<&'static str> {
    OPTIONS
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

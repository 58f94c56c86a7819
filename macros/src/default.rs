//! Declared defaults, checked at compile time against the gates of their
//! parameter, so a default can never be a value the gates would refuse.

use proc_macro2::Literal;
use quote::quote;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Lit, UnOp};

use crate::ctxt::Ctxt;
use crate::model::{Default, Kind, Selector};
use crate::signature::Param;

pub fn check(
    cx: &mut Ctxt,
    p: &Param,
    kind: &Kind,
    selectors: &[Selector],
    expr: &Expr,
) -> Option<Default> {
    if p.optional {
        cx.error(
            expr.span(),
            format!(
                "`{}` is an `Option`, so absence already means `None`; give the default to a parameter of type `T`",
                p.name
            ),
        );
        return None;
    }
    value(cx, &p.name, kind, selectors, expr)
}

fn value(
    cx: &mut Ctxt,
    name: &str,
    kind: &Kind,
    selectors: &[Selector],
    expr: &Expr,
) -> Option<Default> {
    let mismatch = |cx: &mut Ctxt, expected: &str| {
        cx.error(
            expr.span(),
            format!("default of `{name}` does not fit its type: expected {expected}"),
        );
        None
    };
    match kind {
        Kind::Bool => match lit(expr) {
            Some((false, Lit::Bool(b))) => Some(Default {
                value: quote!(#b),
                json: b.value.to_string(),
            }),
            _ => mismatch(cx, "`true` or `false`"),
        },
        Kind::Int { ty, min, max } => {
            let Some((negative, Lit::Int(i))) = lit(expr) else {
                return mismatch(cx, &format!("an integer literal for `{ty}`"));
            };
            let n = i.base10_parse::<i128>().ok()? * if negative { -1 } else { 1 };
            if n < *min || n > *max {
                cx.error(
                    expr.span(),
                    format!("default {n} of `{name}` is outside its bounds {min}..={max}"),
                );
                return None;
            }
            let abs = Literal::i128_unsuffixed(n.abs());
            let value = if n < 0 { quote!(-#abs) } else { quote!(#abs) };
            Some(Default {
                value,
                json: n.to_string(),
            })
        }
        Kind::Float { min, max, .. } => {
            let x = match lit(expr) {
                Some((_, Lit::Int(i))) => i.base10_parse::<f64>().ok(),
                Some((_, Lit::Float(f))) => f.base10_parse::<f64>().ok(),
                _ => None,
            };
            let Some(x) = x else {
                return mismatch(cx, "a number literal");
            };
            let negative = matches!(lit(expr), Some((true, _)));
            let x = if negative { -x } else { x };
            if min.is_some_and(|m| x < m) || max.is_some_and(|m| x > m) || !x.is_finite() {
                cx.error(
                    expr.span(),
                    format!("default {x} of `{name}` is outside its bounds"),
                );
                return None;
            }
            let abs = Literal::f64_unsuffixed(x.abs());
            let value = if x < 0.0 { quote!(-#abs) } else { quote!(#abs) };
            Some(Default {
                value,
                json: format!("{x:?}"),
            })
        }
        Kind::Text { max_len, invisible } => {
            let Some((false, Lit::Str(s))) = lit(expr) else {
                return mismatch(cx, "a string literal");
            };
            let text = s.value();
            if text.chars().count() > *max_len {
                cx.error(
                    s.span(),
                    format!("default of `{name}` is longer than its `max_len` of {max_len} chars"),
                );
                return None;
            }
            if let Some(c) = text
                .chars()
                .find(|&c| secure_tool_grammar::is_forbidden_char(c))
                .or_else(|| {
                    (!invisible)
                        .then(|| secure_tool_grammar::first_invisible(&text))
                        .flatten()
                })
            {
                cx.error(
                    s.span(),
                    format!(
                        "default of `{name}` holds U+{:04X}, which its string gates refuse",
                        c as u32
                    ),
                );
                return None;
            }
            Some(Default {
                value: quote!(::std::string::String::from(#s)),
                json: json_string(&text),
            })
        }
        Kind::Choice { selector, .. } => {
            let Some((false, Lit::Str(s))) = lit(expr) else {
                return mismatch(cx, "one of the allowlist's strings");
            };
            let selector = &selectors[*selector];
            let Some((_, variant)) = selector
                .variants
                .iter()
                .find(|(l, _)| l.value() == s.value())
            else {
                let list: Vec<String> = selector.variants.iter().map(|(l, _)| l.value()).collect();
                cx.error(
                    s.span(),
                    format!(
                        "default {:?} of `{name}` is not in its allowlist: {}",
                        s.value(),
                        list.join(", ")
                    ),
                );
                return None;
            };
            let ident = &selector.ident;
            Some(Default {
                value: quote!(#ident::#variant),
                json: json_string(&s.value()),
            })
        }
        Kind::List {
            items,
            min_items,
            max_items,
            unique,
        } => {
            let Expr::Array(array) = expr else {
                return mismatch(cx, "a list literal such as `[]`");
            };
            let n = array.elems.len();
            if n < *min_items || n > *max_items {
                cx.error(
                    expr.span(),
                    format!("default of `{name}` has {n} items, outside {min_items}..={max_items}"),
                );
                return None;
            }
            let mut values = Vec::new();
            let mut json: Vec<String> = Vec::new();
            for elem in &array.elems {
                let d = value(cx, name, items, selectors, elem)?;
                // Compared as JSON compares them: `1` and `1.0` are one number.
                let same = |a: &str, b: &str| match (a.parse::<f64>(), b.parse::<f64>()) {
                    (Ok(x), Ok(y)) => x == y,
                    _ => a == b,
                };
                if *unique && json.iter().any(|j| same(j, &d.json)) {
                    cx.error(
                        elem.span(),
                        format!(
                            "default of `{name}` repeats {}, but its items must be unique",
                            d.json
                        ),
                    );
                    return None;
                }
                values.push(d.value);
                json.push(d.json);
            }
            Some(Default {
                value: quote!(::std::vec![#(#values),*]),
                json: format!("[{}]", json.join(",")),
            })
        }
        Kind::Object(_)
        | Kind::Url { .. }
        | Kind::Path { .. }
        | Kind::Confirm
        | Kind::State(_)
        | Kind::Caller
        | Kind::Grant => {
            cx.error(
                expr.span(),
                format!(
                    "`{name}` cannot have a default; defaults apply to numbers, booleans, strings, \
                     selectors and lists of them"
                ),
            );
            None
        }
    }
}

/// A literal, and whether it was negated.
fn lit(expr: &Expr) -> Option<(bool, Lit)> {
    match expr {
        Expr::Lit(ExprLit { lit, .. }) => Some((false, lit.clone())),
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => match &*u.expr {
            Expr::Lit(ExprLit { lit, .. }) => Some((true, lit.clone())),
            _ => None,
        },
        Expr::Group(g) => lit(&g.expr),
        _ => None,
    }
}

/// `text` as a JSON string literal.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

//! The checked model of a tool: what expansion reads, and all it reads.

use proc_macro2::Span;
use syn::{Ident, LitStr, Type};

pub struct Tool {
    pub ident: Ident,
    pub name: String,
    pub description: String,
    pub is_async: bool,
    pub ok_ty: Option<Type>,
    pub ret_span: Span,
    pub params: Vec<Param>,
    /// Whether `confirm` adds a flag the signature does not declare.
    pub confirm_added: bool,
    pub confirm: bool,
    pub scope: Option<String>,
    /// `rate = "N/unit"`: calls, and the period in seconds.
    pub rate: Option<(u32, u64)>,
    pub selectors: Vec<Selector>,
}

impl Tool {
    /// The parameters the client sends, in order: everything but injected values.
    pub fn arguments(&self) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(|p| !p.kind.injected())
    }
}

pub struct Param {
    pub ident: Ident,
    pub name: String,
    pub ty: Type,
    pub optional: bool,
    pub kind: Kind,
}

pub enum Kind {
    Float {
        ty: &'static str,
        min: Option<f64>,
        max: Option<f64>,
    },
    Int {
        ty: &'static str,
        min: i128,
        max: i128,
    },
    Bool,
    Text {
        max_len: usize,
    },
    Url {
        max_len: usize,
    },
    Choice {
        selector: usize,
        command: bool,
    },
    Confirm,
    /// Injected from the server's states, not a JSON argument.
    State(Type),
    /// Injected: the verified caller.
    Caller,
}

impl Kind {
    /// Whether the value comes from the server, not from the client's arguments.
    pub fn injected(&self) -> bool {
        matches!(self, Kind::State(_) | Kind::Caller)
    }
}

/// An enum generated from an allowlist.
pub struct Selector {
    pub ident: Ident,
    pub variants: Vec<(LitStr, Ident)>,
}

/// The inclusive range of an integer type.
pub fn int_range(ty: &str) -> (i128, i128) {
    match ty {
        "i8" => (i8::MIN.into(), i8::MAX.into()),
        "i16" => (i16::MIN.into(), i16::MAX.into()),
        "i32" => (i32::MIN.into(), i32::MAX.into()),
        "i64" => (i64::MIN.into(), i64::MAX.into()),
        "u8" => (0, u8::MAX.into()),
        "u16" => (0, u16::MAX.into()),
        "u32" => (0, u32::MAX.into()),
        _ => (0, u64::MAX.into()),
    }
}

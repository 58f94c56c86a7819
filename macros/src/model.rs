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
    /// `confirm = "human"`: a person approves outside the MCP client.
    pub human: bool,
    /// MCP hints: `readOnlyHint`, `idempotentHint`, `openWorldHint`.
    pub read_only: bool,
    pub idempotent: bool,
    pub open_world: bool,
    pub scope: Option<String>,
    /// `rate = "N/unit"`: calls, and the period in seconds.
    pub rate: Option<(u32, u64)>,
    /// The bound on the arguments as a whole, in bytes.
    pub max_size: usize,
    pub selectors: Vec<Selector>,
}

impl Tool {
    /// The parameters the client sends, in order: everything but injected values.
    pub fn arguments(&self) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(|p| !p.kind.injected())
    }

    /// Whether the body takes a `Grant`, and so checks the owner of what it touches.
    pub fn checks_owner(&self) -> bool {
        self.params.iter().any(|p| matches!(p.kind, Kind::Grant))
    }
}

pub struct Param {
    pub ident: Ident,
    /// The Rust name, without `r#`.
    pub name: String,
    /// The name on the wire: `name`, or its rename.
    pub wire: String,
    pub ty: Type,
    pub optional: bool,
    pub default: Option<Default>,
    pub kind: Kind,
}

impl Param {
    /// Whether a call must carry the field.
    pub fn required(&self) -> bool {
        !self.optional && self.default.is_none()
    }
}

/// A declared default, checked against the parameter's gates.
pub struct Default {
    /// The Rust value, as an expression of the parameter's type.
    pub value: proc_macro2::TokenStream,
    /// The same value as JSON text, for the schema.
    pub json: String,
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
        /// `allow_invisible`: characters that hide text are accepted.
        invisible: bool,
    },
    Url {
        max_len: usize,
    },
    Path {
        max_len: usize,
    },
    Choice {
        selector: usize,
        command: bool,
    },
    List {
        items: Box<Kind>,
        min_items: usize,
        max_items: usize,
        unique: bool,
    },
    /// A struct that derives `Args`.
    Object(syn::Path),
    Confirm,
    /// Injected from the server's states, not a JSON argument.
    State(Type),
    /// Injected: the verified caller.
    Caller,
    /// Injected: what authorization granted the call.
    Grant,
}

impl Kind {
    /// Whether the value comes from the server, not from the client's arguments.
    pub fn injected(&self) -> bool {
        matches!(self, Kind::State(_) | Kind::Caller | Kind::Grant)
    }
}

/// The checked model of a struct that derives `Args`.
pub struct Object {
    pub ident: Ident,
    pub name: String,
    pub vis: syn::Visibility,
    pub fields: Vec<Param>,
    pub selectors: Vec<Selector>,
}

/// An enum generated from an allowlist.
pub struct Selector {
    pub ident: Ident,
    pub variants: Vec<(LitStr, Ident)>,
}

pub use secure_tool_grammar::{DEFAULT_MAX_ITEMS, DEFAULT_MAX_LEN, DEFAULT_MAX_SIZE};

/// The inclusive range of an integer type the signature stage accepted.
pub fn int_range(ty: &str) -> (i128, i128) {
    secure_tool_grammar::int_range(ty).expect("integer types are classified by the grammar")
}

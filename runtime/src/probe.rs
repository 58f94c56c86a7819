//! The rejection tests `#[secure_tool]` generates, as data: which hostile
//! input each sends. The specs list them; [`crate::testing`] runs them.

/// The hostile input a generated test sends.
#[derive(Debug, Clone, Copy)]
pub enum Probe {
    /// Values near, but outside, the parameter's allowlist.
    OutsideAllowlist(&'static str),
    /// A number just above the parameter's upper bound.
    AboveMax(&'static str),
    /// A number just below the parameter's lower bound.
    BelowMin(&'static str),
    /// Every wrong JSON type for the parameter.
    WrongType(&'static str),
    /// Strings carrying control and bidirectional-override characters.
    ControlChars(&'static str),
    /// Strings hiding text in invisible characters: tag characters, zero-width
    /// spaces, soft hyphens, a BOM.
    InvisibleChars(&'static str),
    /// A string one char over the bound.
    OverLength(&'static str),
    /// An argument the tool does not declare.
    UnknownField,
    /// The parameter left out.
    Missing(&'static str),
    /// A destructive call without `confirm: true`.
    NoConfirm,
    /// A scoped call without a token.
    NoToken,
    /// A token nobody issued.
    UnknownToken,
    /// A valid token without the tool's scope.
    TokenWithoutScope,
    /// A valid token with the scope, for a subject whose role does not permit the action.
    RoleDenied,
    /// A valid token with the scope, for a subject whose role permits the
    /// action only on its own objects, calling a tool that does not check owners.
    OwnOnly,
    /// Shell metacharacters in a selector that feeds a command.
    ShellMetacharacters(&'static str),
    /// URLs that point inside: loopback, private, metadata, encoded and embedded forms.
    InternalUrl(&'static str),
    /// Paths that leave every root: `..` climbing out, absolute paths
    /// elsewhere, a sibling whose name starts with a root's, an over-long component.
    OutsideRoots(&'static str),
    /// One valid call more than the tool's declared rate allows.
    OverRate,
    /// A list one item longer than its bound.
    OverMaxItems(&'static str),
    /// A list one item shorter than its bound.
    UnderMinItems(&'static str),
    /// A `unique` list holding the same item twice.
    DuplicateItems(&'static str),
    /// A field the nested object at this path does not declare.
    UnknownFieldIn(&'static str),
    /// Arguments one byte over the tool's total bound.
    OverSize,
}

impl Probe {
    /// The path of the value the probe corrupts, such as `edits[0].oldText`.
    pub fn path(self) -> Option<&'static str> {
        match self {
            Probe::OutsideAllowlist(p)
            | Probe::AboveMax(p)
            | Probe::BelowMin(p)
            | Probe::WrongType(p)
            | Probe::ControlChars(p)
            | Probe::InvisibleChars(p)
            | Probe::OverLength(p)
            | Probe::Missing(p)
            | Probe::ShellMetacharacters(p)
            | Probe::InternalUrl(p)
            | Probe::OutsideRoots(p)
            | Probe::OverMaxItems(p)
            | Probe::UnderMinItems(p)
            | Probe::DuplicateItems(p)
            | Probe::UnknownFieldIn(p) => Some(p),
            Probe::UnknownField
            | Probe::NoConfirm
            | Probe::NoToken
            | Probe::UnknownToken
            | Probe::TokenWithoutScope
            | Probe::RoleDenied
            | Probe::OwnOnly
            | Probe::OverRate
            | Probe::OverSize => None,
        }
    }
}

/// A test `#[secure_tool]` generated, as the spec lists it.
#[derive(Debug, Clone, Copy)]
pub struct GeneratedTest {
    /// Its name inside the tool's module, such as `rejects_op_outside_allowlist`.
    pub name: &'static str,
    /// What it sends.
    pub probe: Probe,
}

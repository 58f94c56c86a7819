//! Guards decide "is this safe?", whoever asks. Each is a pure function first,
//! tested on its own, and bound to tools declaratively so the threat model can
//! list it.

pub mod command;
pub mod injection;
#[cfg(feature = "files")]
#[cfg_attr(docsrs, doc(cfg(feature = "files")))]
pub mod path;
/// Secret redaction. It lives in [`crate::secrets`], below the refusal type,
/// so a refusal can redact the value it shows before cutting it short.
pub use crate::secrets;
#[cfg(feature = "fetch")]
#[cfg_attr(docsrs, doc(cfg(feature = "fetch")))]
pub mod ssrf;

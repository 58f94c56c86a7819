//! Path traversal and link following (CWE-22, CWE-59).
//!
//! A [`CheckedPath`] names a file beneath one of the server's [`Roots`], and
//! every operation on it goes through a directory handle opened on that root
//! (`cap_std::fs::Dir`): the kernel, through `openat2(RESOLVE_BENEATH)` where
//! Linux has it, or cap-std's component-by-component walk with `O_NOFOLLOW`
//! elsewhere, refuses any resolution that leaves the root, whether by `..`, an
//! absolute symbolic link, or a chain of links. No path string is ever
//! compared with a root's as a prefix, and no path is checked first and
//! opened later by name: a directory swapped for a symbolic link between two
//! calls is resolved beneath the root again by the second.
//!
//! Before the body runs, the argument is refused when it holds a component
//! over 255 bytes or is over 4096 bytes, when it is absolute and lies beneath
//! no root (a sibling such as `/srv/data-evil` of the root `/srv/data` is not
//! beneath it: roots are compared component by component), when its `..`
//! climbs above the root, when an existing target resolves outside the root,
//! and when it names a FIFO, a socket or a device. Reads open files without
//! blocking, check that what they opened is a regular file, and are bounded;
//! writes go to a temporary file beside the target and are renamed over it,
//! so a failed write leaves the old content whole.

use std::io::{Read as _, Write as _};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use cap_std::ambient_authority;
use cap_std::fs::{Dir, OpenOptions};

use crate::reject::{Gate, Reject};

/// The longest path accepted, in bytes.
pub const MAX_PATH_BYTES: usize = 4096;

/// The longest path component accepted, in bytes.
pub const MAX_COMPONENT_BYTES: usize = 255;

/// The most entries a directory listing returns.
pub const MAX_ENTRIES: usize = 10_000;

/// The largest file a read returns unless the caller bounds it lower.
pub const MAX_READ_BYTES: u64 = 16 * 1024 * 1024;

/// The directories a server may touch, each opened once as a handle.
#[derive(Clone, Default)]
pub struct Roots(Arc<[Root]>);

struct Root {
    /// The canonical path the root was opened at, for absolute arguments
    /// and for display.
    path: PathBuf,
    dir: Dir,
}

impl std::fmt::Debug for Roots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.paths()).finish()
    }
}

impl Roots {
    /// Opens each directory as a root. Each must exist and be a directory;
    /// it is known by its canonical path (symbolic links in it resolved).
    pub fn open<P: AsRef<Path>>(dirs: impl IntoIterator<Item = P>) -> std::io::Result<Self> {
        let mut roots = Vec::new();
        for dir in dirs {
            let dir = dir.as_ref();
            let path = std::fs::canonicalize(dir).map_err(|e| {
                std::io::Error::new(e.kind(), format!("root {}: {e}", dir.display()))
            })?;
            let handle = Dir::open_ambient_dir(&path, ambient_authority()).map_err(|e| {
                std::io::Error::new(e.kind(), format!("root {}: {e}", path.display()))
            })?;
            if !roots.iter().any(|r: &Root| r.path == path) {
                roots.push(Root { path, dir: handle });
            }
        }
        Ok(Self(roots.into()))
    }

    /// The roots' canonical paths, in the order given.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.0.iter().map(|r| r.path.as_path())
    }

    /// Whether there is no root at all: every path is then refused.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The roots narrowed to what `client` also allows: each root beneath
    /// (or equal to) a client root stays, and each client root beneath a
    /// server root becomes a root of its own. Anything else is dropped.
    pub fn narrowed<P: AsRef<Path>>(&self, client: &[P]) -> Self {
        let mut kept: Vec<Root> = Vec::new();
        for root in self.0.iter() {
            for wanted in client {
                let wanted = lexical(wanted.as_ref());
                let narrower = if root.path.starts_with(&wanted) {
                    root.dir.try_clone().ok().map(|dir| Root {
                        path: root.path.clone(),
                        dir,
                    })
                } else if let Ok(rest) = wanted.strip_prefix(&root.path) {
                    // Opened beneath the server's root, so a link cannot widen it.
                    root.dir.open_dir(rest).ok().map(|dir| Root {
                        path: wanted.clone(),
                        dir,
                    })
                } else {
                    None
                };
                if let Some(narrower) = narrower
                    && !kept.iter().any(|r| r.path == narrower.path)
                {
                    kept.push(narrower);
                }
            }
        }
        Self(kept.into())
    }

    /// Resolves `raw`, the value of the argument `name`, beneath a root: an
    /// absolute path beneath the root it names, a relative one beneath the
    /// first root.
    pub fn check(&self, name: &str, raw: &str) -> Result<CheckedPath, Reject> {
        let refuse = |reason: String| Reject::at(Gate::Path, Some(name.to_owned().into()), reason);
        if self.0.is_empty() {
            return Err(refuse(
                "no root is configured: every path is refused".into(),
            ));
        }
        if raw.len() > MAX_PATH_BYTES {
            return Err(refuse(format!("is longer than {MAX_PATH_BYTES} bytes")));
        }
        if raw.contains('\0') {
            return Err(refuse("contains a NUL byte".into()));
        }
        let path = Path::new(raw);
        let (index, rest) = if path.is_absolute() {
            // Component by component: `/srv/data-evil` is not beneath `/srv/data`.
            self.0
                .iter()
                .enumerate()
                .find_map(|(i, r)| path.strip_prefix(&r.path).ok().map(|rest| (i, rest)))
                .ok_or_else(|| refuse("is outside every root".into()))?
        } else {
            (0, path)
        };
        let mut relative = PathBuf::new();
        for component in rest.components() {
            match component {
                Component::Normal(part) => {
                    if part.len() > MAX_COMPONENT_BYTES {
                        return Err(refuse(format!(
                            "has a component longer than {MAX_COMPONENT_BYTES} bytes"
                        )));
                    }
                    relative.push(part);
                }
                Component::CurDir => {}
                Component::ParentDir => {
                    if !relative.pop() {
                        return Err(refuse("climbs above its root with `..`".into()));
                    }
                }
                Component::RootDir | Component::Prefix(_) => {
                    return Err(refuse("is outside every root".into()));
                }
            }
        }
        let root = Arc::clone(&self.0);
        let checked = CheckedPath {
            roots: root,
            index,
            relative,
            name: name.to_owned(),
        };
        checked.inspect()?;
        Ok(checked)
    }
}

/// `path` with `.` and `..` resolved by the letter, for comparing roots.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Renames `from_name` in `from` to `to_name` in `to`, failing if the target
/// exists, even if it appeared a moment ago (Linux: `renameat2` with
/// `RENAME_NOREPLACE`; elsewhere a plain rename after the caller's check).
fn no_replace_rename(
    from: &Dir,
    from_name: &std::ffi::OsStr,
    to: &Dir,
    to_name: &std::ffi::OsStr,
) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        rustix::fs::renameat_with(
            from,
            from_name,
            to,
            to_name,
            rustix::fs::RenameFlags::NOREPLACE,
        )
        .map_err(std::io::Error::from)
    }
    #[cfg(not(target_os = "linux"))]
    {
        from.rename(from_name, to, to_name)
    }
}

/// What a [`CheckedPath`] names when it was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// Nothing yet (a file to create).
    Nothing,
    /// A regular file.
    File,
    /// A directory.
    Directory,
}

/// A path argument resolved beneath one of the server's roots. Every
/// operation goes through the root's directory handle.
#[derive(Clone)]
pub struct CheckedPath {
    roots: Arc<[Root]>,
    index: usize,
    /// Beneath the root, without `.` or `..`; empty for the root itself.
    relative: PathBuf,
    /// The argument it came from, for refusals.
    name: String,
}

impl std::fmt::Debug for CheckedPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("CheckedPath").field(&self.display()).finish()
    }
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its name.
    pub name: String,
    /// Whether it is a directory (a symbolic link is listed as what it is, never followed).
    pub is_dir: bool,
    /// Its size in bytes, for a regular file.
    pub size: u64,
}

/// What `get_file_info` reports.
#[derive(Debug, Clone)]
pub struct Info {
    /// Size in bytes.
    pub size: u64,
    /// Whether it is a directory.
    pub is_dir: bool,
    /// Whether it is a regular file.
    pub is_file: bool,
    /// Last modification, as seconds since the Unix epoch.
    pub modified: Option<u64>,
    /// Last access, as seconds since the Unix epoch.
    pub accessed: Option<u64>,
    /// Creation, where the filesystem records it.
    pub created: Option<u64>,
    /// Unix permission bits, as octal text (`644`).
    pub permissions: String,
}

impl CheckedPath {
    fn root(&self) -> &Root {
        &self.roots[self.index]
    }

    fn refuse(&self, gate: Gate, reason: impl Into<String>) -> Reject {
        Reject::at(gate, Some(self.name.clone().into()), reason.into())
    }

    /// An I/O failure as a refusal at the path gate when it is one (a link
    /// out of the root, a loop), else at the execute gate.
    fn failed(&self, e: &std::io::Error) -> Reject {
        let escape = e.kind() == std::io::ErrorKind::PermissionDenied
            && e.to_string().contains("outside of the filesystem")
            || e.raw_os_error() == Some(18); // EXDEV from RESOLVE_BENEATH
        if escape {
            return self.refuse(Gate::Path, "resolves outside its root (a symbolic link)");
        }
        if e.raw_os_error() == Some(40) {
            return self.refuse(Gate::Path, "has too many levels of symbolic links");
        }
        let what = match e.kind() {
            std::io::ErrorKind::NotFound => "does not exist".to_owned(),
            std::io::ErrorKind::AlreadyExists => "already exists".to_owned(),
            std::io::ErrorKind::NotADirectory => "is not a directory".to_owned(),
            std::io::ErrorKind::IsADirectory => "is a directory".to_owned(),
            _ => crate::guards::secrets::redact(&e.to_string()).text,
        };
        self.refuse(Gate::Execute, what)
    }

    /// The path as the client can use it again: the root's path joined with
    /// the part beneath it.
    pub fn display(&self) -> String {
        self.root().path.join(&self.relative).display().to_string()
    }

    /// The part beneath the root (empty for the root itself).
    pub fn relative(&self) -> &Path {
        &self.relative
    }

    /// `.` for the root itself, else the relative path: what the handle takes.
    fn at(&self) -> &Path {
        if self.relative.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &self.relative
        }
    }

    /// What the path names now, followed through links beneath the root; a
    /// link out of it, a loop, or a special file is refused.
    fn inspect(&self) -> Result<Found, Reject> {
        let dir = &self.root().dir;
        match dir.metadata(self.at()) {
            Ok(meta) => {
                let kind = meta.file_type();
                if kind.is_dir() {
                    Ok(Found::Directory)
                } else if kind.is_file() {
                    Ok(Found::File)
                } else {
                    Err(self.refuse(
                        Gate::Path,
                        "names a special file (a FIFO, socket or device), never opened",
                    ))
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // A dangling link may still point out of the root.
                match dir.symlink_metadata(self.at()) {
                    Ok(meta) if meta.file_type().is_symlink() => {
                        Err(self
                            .refuse(Gate::Path, "is a symbolic link to nothing beneath its root"))
                    }
                    _ => Ok(Found::Nothing),
                }
            }
            Err(e) => Err(self.failed(&e)),
        }
    }

    /// What the path names now (see [`Found`]).
    pub fn found(&self) -> Result<Found, Reject> {
        self.inspect()
    }

    /// The file's bytes, if it is a regular file of at most `max` bytes. It
    /// is opened without blocking (a FIFO swapped in cannot hang the read)
    /// and checked to be a regular file through the open handle.
    pub fn read(&self, max: u64) -> Result<Vec<u8>, Reject> {
        let max = max.min(MAX_READ_BYTES);
        let mut options = OpenOptions::new();
        options.read(true);
        #[cfg(unix)]
        {
            use cap_std::fs::OpenOptionsExt as _;
            options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
        }
        let file = self
            .root()
            .dir
            .open_with(self.at(), &options)
            .map_err(|e| self.failed(&e))?;
        let meta = file.metadata().map_err(|e| self.failed(&e))?;
        if meta.is_dir() {
            return Err(self.refuse(Gate::Execute, "is a directory"));
        }
        if !meta.is_file() {
            return Err(self.refuse(
                Gate::Path,
                "names a special file (a FIFO, socket or device), never read",
            ));
        }
        if meta.len() > max {
            return Err(self.refuse(
                Gate::Length,
                format!("is {} bytes, over the {max} a read returns", meta.len()),
            ));
        }
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        file.into_std()
            .take(max + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| self.failed(&e))?;
        if bytes.len() as u64 > max {
            return Err(self.refuse(Gate::Length, format!("grew past {max} bytes while read")));
        }
        Ok(bytes)
    }

    /// The file as UTF-8 text (see [`CheckedPath::read`]).
    pub fn read_text(&self, max: u64) -> Result<String, Reject> {
        String::from_utf8(self.read(max)?)
            .map_err(|_| self.refuse(Gate::Execute, "is not UTF-8 text"))
    }

    /// The directory the path is in, opened beneath the root, and the name
    /// of the path in it.
    fn parent(&self) -> Result<(Dir, &std::ffi::OsStr), Reject> {
        let name = self
            .relative
            .file_name()
            .ok_or_else(|| self.refuse(Gate::Path, "names a root itself"))?;
        let parent = self.relative.parent().unwrap_or(Path::new(""));
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        let dir = self
            .root()
            .dir
            .open_dir(parent)
            .map_err(|e| self.failed(&e))?;
        Ok((dir, name))
    }

    /// Replaces the file's content with `bytes` atomically: they are written
    /// to a new temporary file beside it (readable by its owner alone while
    /// it is written), synced, given the old file's permissions (a new file
    /// stays readable by its owner alone), and renamed over it. A failure
    /// leaves the old content (or no file) as it was.
    pub fn write(&self, bytes: &[u8]) -> Result<(), Reject> {
        if self.inspect()? == Found::Directory {
            return Err(self.refuse(Gate::Execute, "is a directory"));
        }
        let (dir, name) = self.parent()?;
        // The name's first 64 bytes, cut at a character: the temporary name
        // stays within a component's bound.
        let shown = name.to_string_lossy();
        let mut cut = shown.len().min(64);
        while !shown.is_char_boundary(cut) {
            cut -= 1;
        }
        let temp = format!(".{}.{}.tmp", &shown[..cut], crate::log::unique_id());
        let old = dir
            .symlink_metadata(name)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.permissions());
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use cap_std::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let file = dir
            .open_with(&temp, &options)
            .map_err(|e| self.failed(&e))?;
        // From here the temporary file is this call's own: removed on failure.
        // A new file keeps the owner-only mode it was created with; one that
        // replaces a file takes that file's permissions.
        let done = (|| -> std::io::Result<()> {
            let mut file = file.into_std();
            file.write_all(bytes)?;
            file.sync_all()?;
            if let Some(permissions) = old {
                dir.set_permissions(&temp, permissions)?;
            }
            dir.rename(&temp, &dir, name)
        })();
        if let Err(e) = done {
            let _ = dir.remove_file(&temp);
            return Err(self.failed(&e));
        }
        Ok(())
    }

    /// Creates the directory and any missing parents, beneath the root.
    pub fn create_dir_all(&self) -> Result<(), Reject> {
        self.root()
            .dir
            .create_dir_all(self.at())
            .map_err(|e| self.failed(&e))
    }

    /// The directory's entries, sorted by name, at most [`MAX_ENTRIES`].
    /// Links are never followed: a link is listed as a file.
    pub fn entries(&self) -> Result<Vec<Entry>, Reject> {
        let dir = self
            .root()
            .dir
            .open_dir(self.at())
            .map_err(|e| self.failed(&e))?;
        let mut out = Vec::new();
        for entry in dir.entries().map_err(|e| self.failed(&e))? {
            if out.len() >= MAX_ENTRIES {
                return Err(self.refuse(
                    Gate::Length,
                    format!("holds more than {MAX_ENTRIES} entries"),
                ));
            }
            let entry = entry.map_err(|e| self.failed(&e))?;
            let kind = entry.file_type().map_err(|e| self.failed(&e))?;
            let size = if kind.is_file() {
                entry.metadata().map(|m| m.len()).unwrap_or(0)
            } else {
                0
            };
            out.push(Entry {
                name: entry.file_name().to_string_lossy().into_owned(),
                is_dir: kind.is_dir(),
                size,
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// The path of the entry `name` of this directory, beneath the same root.
    pub fn child(&self, name: &str) -> Result<CheckedPath, Reject> {
        let part = Path::new(name);
        let plain = matches!(
            part.components().collect::<Vec<_>>().as_slice(),
            [Component::Normal(_)]
        );
        if !plain {
            return Err(self.refuse(Gate::Path, "names an entry that is not a plain name"));
        }
        let mut child = self.clone();
        child.relative.push(part);
        Ok(child)
    }

    /// Size, times and permissions, followed through links beneath the root.
    pub fn info(&self) -> Result<Info, Reject> {
        let meta = self
            .root()
            .dir
            .metadata(self.at())
            .map_err(|e| self.failed(&e))?;
        let secs = |t: std::io::Result<cap_std::time::SystemTime>| {
            t.ok()
                .and_then(|t| t.into_std().duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_secs())
        };
        #[cfg(unix)]
        let permissions = {
            use cap_std::fs::PermissionsExt as _;
            format!("{:o}", meta.permissions().mode() & 0o7777)
        };
        #[cfg(not(unix))]
        let permissions = if meta.permissions().readonly() {
            "read-only".to_owned()
        } else {
            "read-write".to_owned()
        };
        Ok(Info {
            size: meta.len(),
            is_dir: meta.is_dir(),
            is_file: meta.is_file(),
            modified: secs(meta.modified()),
            accessed: secs(meta.accessed()),
            created: secs(meta.created()),
            permissions,
        })
    }

    /// Moves the file or directory to `to`, which must not exist. Both ends
    /// are resolved beneath their roots by their handles. A symbolic link is
    /// not moved: a relative link moved elsewhere could point out of the root.
    pub fn rename_to(&self, to: &CheckedPath) -> Result<(), Reject> {
        if to.inspect()? != Found::Nothing {
            return Err(to.refuse(Gate::Execute, "already exists"));
        }
        let (from_dir, from_name) = self.parent()?;
        let (to_dir, to_name) = to.parent()?;
        let source = from_dir
            .symlink_metadata(from_name)
            .map_err(|e| self.failed(&e))?;
        if source.file_type().is_symlink() {
            return Err(self.refuse(
                Gate::Path,
                "is a symbolic link; moved elsewhere it could point out of its root",
            ));
        }
        let moved = no_replace_rename(&from_dir, from_name, &to_dir, to_name);
        moved.map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => to.refuse(Gate::Execute, "already exists"),
            _ if e.raw_os_error() == Some(18) => {
                self.refuse(Gate::Execute, "cannot be moved to another filesystem")
            }
            _ => self.failed(&e),
        })
    }

    /// A handle on the directory itself, through which nothing outside it can
    /// be reached: for operations this type does not offer.
    pub fn open_dir(&self) -> Result<Dir, Reject> {
        self.root()
            .dir
            .open_dir(self.at())
            .map_err(|e| self.failed(&e))
    }
}

//! The crate's error type: every failure names the path (or object) and the reason.

use std::io;
use std::path::PathBuf;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A failure of the sysfs object model.
///
/// Every variant carries the in-root path (as libndctl would have used it, e.g.
/// `/sys/devices/.../ndbus0/region1/size`) so a message points at the attribute at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The root directory given to [`crate::Ctx::with_root`] does not exist or is not a directory.
    #[error("sysfs root {root}: {source}")]
    Root {
        root: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The root exists but holds no `sys/` tree at all.
    #[error("sysfs root {root}: no sys/ directory, not a sysfs tree")]
    NotSysfs { root: PathBuf },
    /// An I/O error on a sysfs path or a device node.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// An attribute that libndctl requires is absent (or unreadable with ENXIO).
    #[error("{path}: required attribute is missing")]
    Missing { path: PathBuf },
    /// An attribute holds something that is not a valid value of its kind.
    #[error("{path}: invalid contents {value:?}: {reason}")]
    Parse {
        path: PathBuf,
        value: String,
        reason: String,
    },
    /// An attribute is longer than the 1024 bytes libndctl accepts.
    #[error("{path}: attribute larger than {limit} bytes")]
    TooLarge { path: PathBuf, limit: usize },
    /// A symbolic link points outside the configured root.
    #[error("{path}: symbolic link leads outside the root {root}")]
    Escape { path: PathBuf, root: PathBuf },
    /// Something other than a regular file (a FIFO, socket, device node, directory) where
    /// an attribute should be; it is never opened, so it cannot block or have side effects.
    #[error("{path}: {what}, not an attribute file")]
    NotRegular { path: PathBuf, what: &'static str },
    /// Symbolic link resolution did not terminate.
    #[error("{path}: too many levels of symbolic links")]
    Loop { path: PathBuf },
    /// The caller asked for something invalid for this object.
    #[error("{object}: {reason}")]
    Invalid { object: String, reason: String },
    /// The object is busy (enabled, mounted, claimed).
    #[error("{object}: busy: {reason}")]
    Busy { object: String, reason: String },
    /// The platform does not offer the operation on this object.
    #[error("{object}: not supported: {reason}")]
    Unsupported { object: String, reason: String },
    /// No driver accepted the device, or the kernel refused the change.
    #[error("{object}: {reason}")]
    Failed { object: String, reason: String },
    /// A command the firmware completed with a failing status, translated to `errno`
    /// (negative) by the DIMM family's rules.
    #[error("{object}: {reason}")]
    Firmware {
        object: String,
        reason: String,
        errno: i32,
    },
}

/// Whether a system call failed for lack of descriptors or memory (see
/// [`Error::is_resource_exhaustion`]): the one list of such errnos.
pub(crate) fn is_exhaustion(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOMEM | libc::ENOBUFS)
    )
}

/// The answer to a question about the tree whose check failed: "no" or "none" (the
/// type's default), as libndctl's failed `lstat` or listing says, unless the check ran out
/// of descriptors or memory, which says nothing about the tree and is returned.
pub(crate) fn absent_unless_exhausted<T: Default>(answer: Result<T>) -> Result<T> {
    match answer {
        Err(e) if !e.is_resource_exhaustion() => Ok(T::default()),
        other => other,
    }
}

impl Error {
    /// Whether the process or the system ran out of something (descriptors, memory)
    /// rather than the tree being wrong at the path: such a failure says nothing about
    /// the device, so a caller that skips devices it cannot read must not skip for it.
    pub fn is_resource_exhaustion(&self) -> bool {
        match self {
            Error::Root { source, .. } | Error::Io { source, .. } => is_exhaustion(source),
            _ => false,
        }
    }

    /// The negative errno that libndctl would return for this failure (for the C ABI).
    pub fn errno(&self) -> i32 {
        match self {
            Error::Root { source, .. } | Error::Io { source, .. } => {
                -(source.raw_os_error().unwrap_or(libc::EIO))
            }
            Error::NotSysfs { .. } | Error::Missing { .. } => -libc::ENXIO,
            Error::Parse { .. } => -libc::EINVAL,
            Error::TooLarge { .. } => -libc::EFBIG,
            Error::Escape { .. } => -libc::EXDEV,
            Error::Loop { .. } => -libc::ELOOP,
            Error::NotRegular { .. } => -libc::EINVAL,
            Error::Invalid { .. } => -libc::EINVAL,
            Error::Busy { .. } => -libc::EBUSY,
            Error::Failed { .. } => -libc::ENXIO,
            Error::Unsupported { .. } => -libc::EOPNOTSUPP,
            Error::Firmware { errno, .. } => *errno,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn parse(path: impl Into<PathBuf>, value: &str, reason: impl Into<String>) -> Error {
        Error::Parse {
            path: path.into(),
            value: value.chars().take(80).collect(),
            reason: reason.into(),
        }
    }

    pub(crate) fn invalid(object: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::Invalid {
            object: object.into(),
            reason: reason.into(),
        }
    }
}

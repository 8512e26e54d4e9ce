//! The engine's error type.

use std::io;

/// Everything that can go wrong while opening, reading, writing, checking or formatting a BTT.
///
/// Offsets are absolute byte offsets in the storage (not relative to the namespace or arena)
/// unless the variant says otherwise, so a message can be matched against a hex dump directly.
#[derive(Debug, thiserror::Error)]
pub enum BttError {
    /// The storage backend failed.
    #[error("I/O error at storage offset {offset:#x} (+{len:#x} bytes): {source}")]
    Io {
        /// Absolute offset of the failed access.
        offset: u64,
        /// Length of the failed access.
        len: u64,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// The file or device could not be opened or mapped.
    #[error("cannot open {path}: {source}")]
    Open {
        /// What was opened.
        path: std::path::PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// An access would reach past the end of the storage.
    #[error("access at storage offset {offset:#x} (+{len:#x} bytes) is beyond the storage size {size:#x}")]
    OutOfBounds {
        /// Absolute offset of the access.
        offset: u64,
        /// Length of the access.
        len: u64,
        /// Size of the storage.
        size: u64,
    },
    /// No valid BTT info block was found where the kernel and check-namespace look.
    #[error("no valid BTT info block at namespace offset {namespace_offset:#x}: {reason}")]
    NotFound {
        /// Start of the namespace in the storage.
        namespace_offset: u64,
        /// Why each candidate location was rejected.
        reason: String,
    },
    /// An info block is present but unusable.
    #[error("invalid BTT info block at offset {offset:#x}: {reason}")]
    InvalidInfo {
        /// Absolute offset of the info block.
        offset: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// The flog of an arena cannot be interpreted.
    #[error("invalid flog in arena at {arena_offset:#x}, lane {lane}: {reason}")]
    InvalidFlog {
        /// Absolute offset of the arena's info block.
        arena_offset: u64,
        /// Lane (flog group) index, or `u32::MAX` for the whole log.
        lane: u32,
        /// What is wrong with it.
        reason: String,
    },
    /// A map entry points outside the arena.
    #[error(
        "map entry for premap block {premap} in arena at {arena_offset:#x} is invalid: {reason}"
    )]
    InvalidMap {
        /// Absolute offset of the arena's info block.
        arena_offset: u64,
        /// Premap block number (arena-relative LBA).
        premap: u32,
        /// What is wrong with it.
        reason: String,
    },
    /// The requested LBA does not exist.
    #[error("LBA {lba} is beyond the BTT's {nlba} external blocks")]
    LbaOutOfRange {
        /// Requested external LBA.
        lba: u64,
        /// Number of external LBAs in the BTT.
        nlba: u64,
    },
    /// A caller buffer has the wrong size.
    #[error("buffer of {got} bytes given where {expected} bytes (one external LBA) are needed")]
    BadBuffer {
        /// Expected length.
        expected: usize,
        /// Actual length.
        got: usize,
    },
    /// The sector is marked bad (map entry error flag), as the kernel returns EIO.
    #[error("LBA {lba} is marked as a media error in the BTT map (entry {entry:#010x})")]
    MediaError {
        /// External LBA.
        lba: u64,
        /// Raw map entry.
        entry: u32,
    },
    /// The arena's info block has the ERROR flag set, so the kernel refuses writes to it.
    #[error("arena at {arena_offset:#x} has its ERROR flag set; it is read-only")]
    ArenaError {
        /// Absolute offset of the arena's info block.
        arena_offset: u64,
    },
    /// The BTT was opened read-only.
    #[error("BTT opened read-only")]
    ReadOnly,
    /// Bad parameters for format or open.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// The selected durability mode is not available for this storage.
    #[error("durability mode {mode} is not supported by this storage: {reason}")]
    Unsupported {
        /// The requested mode.
        mode: &'static str,
        /// Why it cannot be honoured.
        reason: String,
    },
}

/// Shorthand for results of this module.
pub type Result<T, E = BttError> = std::result::Result<T, E>;

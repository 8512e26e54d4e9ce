//! Typed errors of the label-area parser and writer.

/// Why one namespace index block is not usable.
///
/// The checks and their order are those of the kernel's `__nd_label_validate()` (and
/// libndctl's copy of it): the first failing check is the one reported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// The buffer ends before the index block does.
    #[error("index block at {offset:#x} needs {needed:#x} bytes but the buffer has {len:#x}")]
    Truncated {
        /// Offset of the index block in the label area.
        offset: usize,
        /// Bytes the block needs (its offset plus its size).
        needed: usize,
        /// Length of the buffer.
        len: usize,
    },
    /// The first 16 bytes are not `NAMESPACE_INDEX\0`.
    #[error("signature {found:?} is not \"NAMESPACE_INDEX\"")]
    Signature {
        /// The signature bytes found, up to the first NUL, lossily decoded.
        found: String,
    },
    /// The label size the block declares (by version and `labelsize`) is not the one tried.
    #[error(
        "declares {declared} labels (v{major}.{minor}, labelsize field {labelsize}), not {expected}-byte"
    )]
    LabelSize {
        /// Raw `labelsize` byte (log2(size) - 7 from v1.2 on).
        labelsize: u8,
        /// Major version in the block.
        major: u16,
        /// Minor version in the block.
        minor: u16,
        /// The size the block implies (0 when the shift is out of range).
        declared: u64,
        /// The label size being validated against.
        expected: usize,
    },
    /// The fletcher64 checksum does not match the block's contents.
    #[error("checksum {stored:#018x} does not match the computed {computed:#018x}")]
    Checksum {
        /// Checksum stored in the block.
        stored: u64,
        /// Checksum of the block with the checksum field zeroed.
        computed: u64,
    },
    /// The low two bits of the sequence number are 0, which never names a valid index.
    #[error("sequence number {seq:#x} is invalid (low two bits are 0)")]
    Sequence {
        /// The sequence number found.
        seq: u32,
    },
    /// `myoff` is not where this block sits.
    #[error("myoff {found:#x} is not the block's offset {expected:#x}")]
    MyOff {
        /// Value found.
        found: u64,
        /// Offset of this block.
        expected: u64,
    },
    /// `otheroff` is not where the other block sits.
    #[error("otheroff {found:#x} is not the other block's offset {expected:#x}")]
    OtherOff {
        /// Value found.
        found: u64,
        /// Offset of the other block.
        expected: u64,
    },
    /// `labeloff` is not the end of the two index blocks.
    #[error("labeloff {found:#x} is not the first label slot at {expected:#x}")]
    LabelOff {
        /// Value found.
        found: u64,
        /// Offset of label slot 0.
        expected: u64,
    },
    /// `mysize` is smaller than the header or larger than the index block.
    #[error("mysize {found:#x} is outside {min:#x}..={max:#x}")]
    MySize {
        /// Value found.
        found: u64,
        /// The header size (72).
        min: u64,
        /// The index block size.
        max: u64,
    },
    /// `nslot` labels do not fit in the label area after the two index blocks.
    #[error("nslot {nslot} does not fit: at most {max} labels fit in the area")]
    NSlot {
        /// Value found.
        nslot: u32,
        /// Most slots that fit.
        max: u64,
    },
}

/// A failure of the label-area parser or writer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LabelError {
    /// The area cannot hold two index blocks and two labels of this size.
    #[error("label area of {config_size} bytes is too small to host {label_size}-byte labels")]
    TooSmall {
        /// Size of the label area.
        config_size: usize,
        /// Label size tried.
        label_size: usize,
    },
    /// The area is larger than the 32-bit config size of the kernel's interface.
    #[error("label area of {config_size} bytes is larger than the 4 GiB - 1 the interface allows")]
    TooLarge {
        /// Size of the label area.
        config_size: usize,
    },
    /// A structure reaches past the end of the buffer.
    #[error("{what} at {offset:#x} needs {needed:#x} bytes, the buffer has {len:#x}")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Its offset in the buffer.
        offset: usize,
        /// Bytes it needs.
        needed: usize,
        /// Length of the buffer.
        len: usize,
    },
    /// Neither index block is valid for either label size (what the kernel calls an
    /// unlabelled DIMM). The reasons are those for the label size the blocks come closest to.
    #[error("no valid namespace index block for {label_size}-byte labels: index0: {index0}; index1: {index1}")]
    NoValidIndex {
        /// Label size whose reasons are reported.
        label_size: usize,
        /// Why index block 0 is invalid.
        index0: IndexError,
        /// Why index block 1 is invalid.
        index1: IndexError,
    },
    /// A slot number beyond the area's slots.
    #[error("slot {slot} is beyond the {nslot} label slots")]
    SlotOutOfRange {
        /// Slot asked for.
        slot: u64,
        /// Number of slots.
        nslot: u32,
    },
    /// A byte range outside the area.
    #[error("range {offset:#x}+{len:#x} is outside the {size:#x}-byte label area")]
    OutOfRange {
        /// Start of the range.
        offset: usize,
        /// Length of the range.
        len: usize,
        /// Size of the area.
        size: usize,
    },
    /// Nothing to print: ndctl's `read-labels -j` fails for this DIMM the same way.
    #[error("no {what} entries to print")]
    Empty {
        /// "index" or "label".
        what: &'static str,
    },
    /// A label size other than 128 (v1.1) or 256 (v1.2).
    #[error("{size}-byte namespace labels are not supported (128 for v1.1, 256 for v1.2)")]
    UnsupportedLabelSize {
        /// The size given.
        size: usize,
    },
}

impl From<LabelError> for crate::Error {
    fn from(e: LabelError) -> Self {
        crate::Error::Invalid {
            object: "namespace label area".to_string(),
            reason: e.to_string(),
        }
    }
}

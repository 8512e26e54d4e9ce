//! Offline parser and writer of the NVDIMM namespace label area (the DIMM's "config data").
//!
//! Everything here works on a byte buffer holding a copy of the label area; nothing touches a
//! device. The layout is the UEFI 2.7 one the Linux kernel (`drivers/nvdimm/label.[ch]`) and
//! libndctl (`ndctl/lib/dimm.c`) use:
//!
//! ```text
//! +------------+  0
//! |  index 0   |  index_size bytes (header + free bitmap, 256-byte aligned)
//! +------------+  index_size
//! |  index 1   |
//! +------------+  2 * index_size
//! |  label 0   |  128 bytes (v1.1) or 256 bytes (v1.2)
//! |  ...       |
//! |  label N-1 |  N = nslot
//! +------------+
//! ```
//!
//! Labels are never rewritten in place: a new label goes to a free slot, then the "next"
//! index block is written with the following sequence number, so the current index is the
//! valid block with the newer 2-bit cyclic sequence number.
//!
//! ```
//! use ndctl::labels::{self, LabelArea, Version};
//! let area = labels::init(Version::V1_2, 128 << 10)?;
//! let parsed = LabelArea::parse(&area)?;
//! assert_eq!(parsed.version(), Version::V1_2);
//! assert_eq!(parsed.nslot(), 510);
//! assert_eq!(parsed.active_labels().count(), 0);
//! # Ok::<(), ndctl::labels::LabelError>(())
//! ```

mod area;
mod error;
mod index;
mod json;
mod label;

pub use area::{validate, validate_index, ActiveLabels, LabelArea, LabelProblem, Validation};
pub use error::{IndexError, LabelError};
pub use index::IndexBlock;
pub use json::{read_label_index_json, read_labels_json};
pub use label::{ClaimClass, Label, LabelV12};

/// `NAMESPACE_INDEX\0`, the signature of an index block.
pub const INDEX_SIGNATURE: [u8; 16] = *b"NAMESPACE_INDEX\0";
/// Size of the fixed part of an index block (the free bitmap follows it).
pub const INDEX_HEADER_SIZE: usize = 72;
/// Index blocks are a multiple of this size.
pub const INDEX_ALIGN: usize = 256;
/// Bits of the sequence number that count.
pub const SEQ_MASK: u32 = 0x3;
/// Length of a label's name field (NUL-terminated when shorter).
pub const NAME_LEN: usize = 64;

/// Label flag: read-only label.
pub const FLAG_ROLABEL: u32 = 0x1;
/// Label flag: DIMM-local (BLK) namespace.
pub const FLAG_LOCAL: u32 = 0x2;
/// Label flag: the namespace holds a BTT (v1.1 only).
pub const FLAG_BTT: u32 = 0x4;
/// Label flag: the label is being updated (set in the first of the kernel's two writes).
pub const FLAG_UPDATING: u32 = 0x8;

/// Version of the label format, which fixes the label size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Version {
    /// v1.1: 128-byte labels (`ndctl init-labels` default).
    V1_1,
    /// v1.2: 256-byte labels with type/abstraction GUIDs and a per-label checksum.
    V1_2,
}

impl Version {
    /// Size of one label in bytes.
    pub fn label_size(self) -> usize {
        match self {
            Version::V1_1 => 128,
            Version::V1_2 => 256,
        }
    }

    /// (major, minor) written in the index blocks.
    pub fn major_minor(self) -> (u16, u16) {
        match self {
            Version::V1_1 => (1, 1),
            Version::V1_2 => (1, 2),
        }
    }

    /// The version whose labels have `size` bytes.
    pub fn from_label_size(size: usize) -> Result<Version, LabelError> {
        match size {
            128 => Ok(Version::V1_1),
            256 => Ok(Version::V1_2),
            _ => Err(LabelError::UnsupportedLabelSize { size }),
        }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (major, minor) = self.major_minor();
        write!(f, "{major}.{minor}")
    }
}

/// Fletcher64 over little-endian 32-bit words, as `nd_fletcher64(addr, len, 1)`.
///
/// A trailing partial word is ignored, as the kernel's loop over `len / 4` words does.
pub fn fletcher64(data: &[u8]) -> u64 {
    let mut lo: u32 = 0;
    let mut hi: u64 = 0;
    for w in data.chunks_exact(4) {
        lo = lo.wrapping_add(u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
        hi = hi.wrapping_add(u64::from(lo));
    }
    (hi << 32) | u64::from(lo)
}

/// The sequence number that follows `seq`: 1 → 2 → 3 → 1; 0 (never valid) stays 0.
pub fn inc_seq(seq: u32) -> u32 {
    const NEXT: [u32; 4] = [0, 2, 3, 1];
    NEXT[(seq & SEQ_MASK) as usize]
}

/// Of two sequence numbers, the newer one (masked), as the kernel's `best_seq()`.
pub fn best_seq(a: u32, b: u32) -> u32 {
    let (a, b) = (a & SEQ_MASK, b & SEQ_MASK);
    if a == 0 || a == b {
        b
    } else if b == 0 {
        a
    } else if inc_seq(a) == b {
        b
    } else {
        a
    }
}

/// Size of an index block describing `nslot` slots: header plus bitmap, 256-byte aligned.
fn index_size_for(nslot: u64) -> u64 {
    let raw = INDEX_HEADER_SIZE as u64 + nslot.div_ceil(8);
    raw.div_ceil(INDEX_ALIGN as u64) * INDEX_ALIGN as u64
}

/// How a label area of a given size is divided for a given label size.
///
/// Computed as the kernel's `nvdimm_num_label_slots()` / `sizeof_namespace_index()` do: a
/// first estimate of the slot count (config size / label size) fixes the index block size,
/// the slots are what fits after two index blocks, and the index block size is then
/// recomputed from that slot count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Size of the whole label area.
    pub config_size: usize,
    /// Size of one label (128 or 256).
    pub label_size: usize,
    /// Size of one index block.
    pub index_size: usize,
    /// Number of label slots.
    pub nslot: u32,
}

impl Geometry {
    /// The layout of a `config_size`-byte area with `label_size`-byte labels.
    pub fn new(config_size: usize, label_size: usize) -> Result<Geometry, LabelError> {
        if label_size != 128 && label_size != 256 {
            return Err(LabelError::UnsupportedLabelSize { size: label_size });
        }
        if u32::try_from(config_size).is_err() {
            return Err(LabelError::TooLarge { config_size });
        }
        let too_small = LabelError::TooSmall {
            config_size,
            label_size,
        };
        let (cfg, ls) = (config_size as u64, label_size as u64);
        let first = index_size_for(cfg / ls);
        let nslot = cfg.checked_sub(2 * first).ok_or(too_small.clone())? / ls;
        let index_size = index_size_for(nslot);
        let space = cfg - nslot * ls;
        if 2 * index_size > space || nslot < 2 {
            return Err(too_small);
        }
        Ok(Geometry {
            config_size,
            label_size,
            index_size: index_size as usize,
            // cfg < 2^32, so nslot < 2^32.
            nslot: nslot as u32,
        })
    }

    /// Offset of index block `i` (0 or 1).
    pub fn index_offset(&self, i: usize) -> usize {
        i * self.index_size
    }

    /// Offset of label slot 0.
    pub fn label_base(&self) -> usize {
        2 * self.index_size
    }

    /// Offset of label slot `slot`, if the slot exists.
    pub fn label_offset(&self, slot: u32) -> Result<usize, LabelError> {
        if slot >= self.nslot {
            return Err(LabelError::SlotOutOfRange {
                slot: u64::from(slot),
                nslot: self.nslot,
            });
        }
        Ok(self.label_base() + slot as usize * self.label_size)
    }

    /// Version implied by the label size.
    pub fn version(&self) -> Version {
        if self.label_size == 256 {
            Version::V1_2
        } else {
            Version::V1_1
        }
    }
}

/// Number of label slots a `config_size`-byte area has for `version` labels
/// (`nvdimm_num_label_slots()`; what `ndctl_dimm_init_labels()` returns).
pub fn num_label_slots(config_size: usize, version: Version) -> Result<u32, LabelError> {
    Geometry::new(config_size, version.label_size()).map(|g| g.nslot)
}

/// Size of one index block in a `config_size`-byte area with `label_size`-byte labels
/// (`ndctl_dimm_sizeof_namespace_index()`; libndctl's 0 is an error here).
pub fn sizeof_namespace_index(config_size: usize, label_size: usize) -> Result<usize, LabelError> {
    Geometry::new(config_size, label_size).map(|g| g.index_size)
}

/// The label size libndctl assumes for an area before validating it
/// (`ndctl_dimm_sizeof_namespace_label()` on a fresh read): the headers at offsets 0 and 256
/// are read without validation, and the size is 256 only when more of them say v1.2 than
/// say v1.1.
pub fn probe_label_size(buf: &[u8]) -> usize {
    let (mut v1, mut v2) = (0, 0);
    for offset in [0, INDEX_ALIGN] {
        let Ok(h) = IndexBlock::parse_header(buf.get(offset..).unwrap_or(&[])) else {
            break;
        };
        match (h.major, h.minor) {
            (1, 1) => v1 += 1,
            (1, 2) => v2 += 1,
            _ => {}
        }
    }
    if v2 > v1 {
        256
    } else {
        128
    }
}

/// A freshly initialised `config_size`-byte label area, byte for byte what
/// `ndctl init-labels [-V 1.2]` leaves on zeroed media: index block 0 with sequence 3,
/// index block 1 with sequence 2, every slot free, labels zero.
pub fn init(version: Version, config_size: usize) -> Result<Vec<u8>, LabelError> {
    let geo = Geometry::new(config_size, version.label_size())?;
    let mut buf = vec![0u8; geo.config_size];
    write_init_index(&mut buf, version)?;
    Ok(buf)
}

/// Writes the two index blocks of a fresh label area over `buf` (the whole area), as
/// `ndctl_dimm_init_labels()` does: see [`init_index_blocks`]. Old labels stay in their (now
/// free) slots. Returns the number of slots.
pub fn write_init_index(buf: &mut [u8], version: Version) -> Result<u32, LabelError> {
    let config_size = buf.len();
    let blocks = init_index_blocks(buf, config_size, version)?;
    for (off, block) in &blocks {
        buf[*off..*off + block.len()].copy_from_slice(block);
    }
    Geometry::new(config_size, version.label_size()).map(|g| g.nslot)
}

/// The two index blocks `ndctl_dimm_init_labels()` writes to a `config_size`-byte area, as
/// `(offset, bytes)`: index 0 with sequence 3, index 1 with sequence 2, every slot free.
///
/// `prefix` is what libndctl read of the area before (at least the two index blocks, e.g.
/// the `ndctl_dimm_read_label_index()` extent): like libndctl, only the header and the first
/// `ALIGN(nslot, 64) / 8` bitmap bytes (all ones, so bits past `nslot` up to the next
/// multiple of 64 are set too) are rewritten, and the rest of each block keeps the bytes
/// read. Nothing outside the two blocks is written, so with v1.2 (smaller) blocks over a
/// v1.1 area the old v1.1 index block 1 survives.
pub fn init_index_blocks(
    prefix: &[u8],
    config_size: usize,
    version: Version,
) -> Result<[(usize, Vec<u8>); 2], LabelError> {
    let geo = Geometry::new(config_size, version.label_size())?;
    let (major, minor) = version.major_minor();
    let block = |i: usize| -> Result<(usize, Vec<u8>), LabelError> {
        let off = geo.index_offset(i);
        let end = off + geo.index_size;
        let mut bytes = prefix
            .get(off..end)
            .ok_or(LabelError::Truncated {
                what: "index block",
                offset: off,
                needed: end,
                len: prefix.len(),
            })?
            .to_vec();
        let mut idx = IndexBlock::parse(&bytes)?;
        idx.signature = INDEX_SIGNATURE;
        idx.flags = [0; 3];
        idx.labelsize = (geo.label_size >> 8) as u8;
        idx.seq = 3 - i as u32;
        idx.myoff = off as u64;
        idx.mysize = geo.index_size as u64;
        idx.otheroff = geo.index_offset(1 - i) as u64;
        idx.labeloff = geo.label_base() as u64;
        idx.nslot = geo.nslot;
        idx.major = major;
        idx.minor = minor;
        let ones = (geo.nslot as usize).div_ceil(64) * 8;
        for b in idx.free.iter_mut().take(ones) {
            *b = 0xff;
        }
        idx.write(&mut bytes);
        Ok((off, bytes))
    };
    Ok([block(0)?, block(1)?])
}

/// Zeroes `len` bytes at `offset` (the whole area for `len == 0 && offset == 0`), as
/// `ndctl_dimm_zero_label_extent()` does on the device.
pub fn zero_extent(buf: &mut [u8], offset: usize, len: usize) -> Result<(), LabelError> {
    let size = buf.len();
    let len = if len == 0 && offset == 0 { size } else { len };
    let range = offset
        .checked_add(len)
        .filter(|&end| end <= size)
        .map(|end| offset..end)
        .ok_or(LabelError::OutOfRange { offset, len, size })?;
    buf[range].fill(0);
    Ok(())
}

/// Reads a little-endian integer of `N` bytes at `off`; callers have checked the length.
pub(crate) fn le<const N: usize>(b: &[u8], off: usize) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(&b[off..off + N]);
    a
}

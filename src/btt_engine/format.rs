//! On-media structures of a BTT: the info block, map entries and flog entries, with their
//! little-endian encodings and the fletcher64 checksum.

use uuid::Uuid;

/// Size of an info block (and of the BTT "page" all metadata is aligned to).
pub const INFO_SIZE: u64 = 4096;
/// The 16-byte signature at the start of every info block.
pub const SIGNATURE: [u8; 16] = *b"BTT_ARENA_INFO\0\0";
/// Info block flag: the arena saw an unrecoverable metadata error; the kernel refuses writes.
pub const INFO_FLAG_ERROR: u32 = 0x1;
/// Number of free blocks (and flog lanes) per arena written by every known implementation.
pub const DEFAULT_NFREE: u32 = 256;
/// Largest arena the kernel creates.
pub const ARENA_MAX_SIZE: u64 = 1 << 39;
/// Smallest arena (and namespace) the kernel accepts.
pub const ARENA_MIN_SIZE: u64 = 16 << 20;
/// Where a v1.1 BTT starts in its namespace.
pub const BTT1_START_OFFSET: u64 = 4096;
/// Where a v2.0 BTT starts in its namespace.
pub const BTT2_START_OFFSET: u64 = 0;
/// Internal LBA sizes are the external size rounded up to this (kernel `INT_LBASIZE_ALIGNMENT`).
pub const INT_LBASIZE_ALIGNMENT: u32 = 64;
/// External LBA sizes the kernel's BTT driver supports.
pub const SUPPORTED_LBASIZES: [u32; 7] = [512, 520, 528, 4096, 4104, 4160, 4224];

/// Bits 0-29 of a map entry: the postmap block.
pub const MAP_LBA_MASK: u32 = 0x3FFF_FFFF;
/// Bit 30 of a map entry: the block is bad, reads fail.
pub const MAP_ERR_MASK: u32 = 0x4000_0000;
/// Bit 31 of a map entry: the block reads as zeros.
pub const MAP_TRIM_MASK: u32 = 0x8000_0000;
/// Both flags set: an ordinary mapping written by a BTT write.
pub const MAP_ENT_NORMAL: u32 = 0xC000_0000;
/// Size of one map entry.
pub const MAP_ENT_SIZE: u64 = 4;
/// Size of one flog lane (group of four 16-byte slots).
pub const LOG_GRP_SIZE: u64 = 64;
/// Size of one flog slot.
pub const LOG_ENT_SIZE: u64 = 16;

/// Fletcher64 as libnvdimm computes it: 32-bit little-endian words, wrapping sums.
///
/// A trailing partial word (never present in info blocks) is zero-padded.
///
/// ```
/// use ndctl::btt_engine::format::fletcher64;
/// let words: Vec<u8> = [1u32, 2, 3].iter().flat_map(|w| w.to_le_bytes()).collect();
/// assert_eq!(fletcher64(&words), 0x0000_000A_0000_0006);
/// ```
pub fn fletcher64(data: &[u8]) -> u64 {
    let mut lo: u32 = 0;
    let mut hi: u32 = 0;
    for chunk in data.chunks(4) {
        let mut w = [0u8; 4];
        w[..chunk.len()].copy_from_slice(chunk);
        lo = lo.wrapping_add(u32::from_le_bytes(w));
        hi = hi.wrapping_add(lo);
    }
    (u64::from(hi) << 32) | u64::from(lo)
}

/// Checksum of a 4096-byte info block with its checksum field taken as zero.
pub fn info_checksum(block: &[u8; INFO_SIZE as usize]) -> u64 {
    let mut copy = *block;
    copy[0xFF8..].fill(0);
    fletcher64(&copy)
}

/// The sequence number that follows `seq` in the flog's 1 → 2 → 3 → 1 cycle (0 = unused slot).
pub fn next_seq(seq: u32) -> u32 {
    [0, 2, 3, 1][(seq & 3) as usize]
}

fn le_u16(b: &[u8], off: usize) -> u16 {
    let mut w = [0u8; 2];
    w.copy_from_slice(&b[off..off + 2]);
    u16::from_le_bytes(w)
}

fn le_u32(b: &[u8], off: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[off..off + 4]);
    u32::from_le_bytes(w)
}

fn le_u64(b: &[u8], off: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[off..off + 8]);
    u64::from_le_bytes(w)
}

fn uuid_at(b: &[u8], off: usize) -> Uuid {
    let mut w = [0u8; 16];
    w.copy_from_slice(&b[off..off + 16]);
    Uuid::from_bytes(w)
}

/// A decoded info block (`struct btt_sb`). Offsets are relative to the arena's primary info
/// block, as on media.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InfoBlock {
    /// The 16 signature bytes as found.
    pub signature: [u8; 16],
    /// UUID of this BTT instance.
    pub uuid: Uuid,
    /// UUID of the namespace that owns the BTT (nil on label-less namespaces).
    pub parent_uuid: Uuid,
    /// Flags; bit 0 is [`INFO_FLAG_ERROR`].
    pub flags: u32,
    /// Major version: 1 (at namespace + 4096) or 2 (at namespace + 0).
    pub version_major: u16,
    /// Minor version: 1 for 1.1, 0 for 2.0.
    pub version_minor: u16,
    /// Size of an LBA as the user sees it.
    pub external_lbasize: u32,
    /// LBAs this arena contributes to the BTT.
    pub external_nlba: u32,
    /// Size of a block in the data area.
    pub internal_lbasize: u32,
    /// Blocks in the data area, including the `nfree` spares.
    pub internal_nlba: u32,
    /// Number of free blocks and flog lanes.
    pub nfree: u32,
    /// Size of the info block (4096).
    pub infosize: u32,
    /// Offset of the next arena from this one, 0 for the last arena.
    pub nextoff: u64,
    /// Offset of the data area.
    pub dataoff: u64,
    /// Offset of the map.
    pub mapoff: u64,
    /// Offset of the flog.
    pub logoff: u64,
    /// Offset of the backup info block.
    pub info2off: u64,
    /// The checksum as stored.
    pub checksum: u64,
    /// True when the 3968 padding bytes are all zero.
    pub padding_zero: bool,
}

impl InfoBlock {
    /// Decode a 4096-byte block without validating it (see [`InfoBlock::verify`]).
    pub fn parse(b: &[u8; INFO_SIZE as usize]) -> InfoBlock {
        let mut signature = [0u8; 16];
        signature.copy_from_slice(&b[..16]);
        InfoBlock {
            signature,
            uuid: uuid_at(b, 0x10),
            parent_uuid: uuid_at(b, 0x20),
            flags: le_u32(b, 0x30),
            version_major: le_u16(b, 0x34),
            version_minor: le_u16(b, 0x36),
            external_lbasize: le_u32(b, 0x38),
            external_nlba: le_u32(b, 0x3C),
            internal_lbasize: le_u32(b, 0x40),
            internal_nlba: le_u32(b, 0x44),
            nfree: le_u32(b, 0x48),
            infosize: le_u32(b, 0x4C),
            nextoff: le_u64(b, 0x50),
            dataoff: le_u64(b, 0x58),
            mapoff: le_u64(b, 0x60),
            logoff: le_u64(b, 0x68),
            info2off: le_u64(b, 0x70),
            checksum: le_u64(b, 0xFF8),
            padding_zero: b[0x78..0xFF8].iter().all(|&x| x == 0),
        }
    }

    /// Encode the block with zero padding and a freshly computed checksum (the `checksum`
    /// field is ignored).
    pub fn serialize(&self) -> [u8; INFO_SIZE as usize] {
        let mut b = [0u8; INFO_SIZE as usize];
        b[..16].copy_from_slice(&self.signature);
        b[0x10..0x20].copy_from_slice(self.uuid.as_bytes());
        b[0x20..0x30].copy_from_slice(self.parent_uuid.as_bytes());
        b[0x30..0x34].copy_from_slice(&self.flags.to_le_bytes());
        b[0x34..0x36].copy_from_slice(&self.version_major.to_le_bytes());
        b[0x36..0x38].copy_from_slice(&self.version_minor.to_le_bytes());
        b[0x38..0x3C].copy_from_slice(&self.external_lbasize.to_le_bytes());
        b[0x3C..0x40].copy_from_slice(&self.external_nlba.to_le_bytes());
        b[0x40..0x44].copy_from_slice(&self.internal_lbasize.to_le_bytes());
        b[0x44..0x48].copy_from_slice(&self.internal_nlba.to_le_bytes());
        b[0x48..0x4C].copy_from_slice(&self.nfree.to_le_bytes());
        b[0x4C..0x50].copy_from_slice(&self.infosize.to_le_bytes());
        b[0x50..0x58].copy_from_slice(&self.nextoff.to_le_bytes());
        b[0x58..0x60].copy_from_slice(&self.dataoff.to_le_bytes());
        b[0x60..0x68].copy_from_slice(&self.mapoff.to_le_bytes());
        b[0x68..0x70].copy_from_slice(&self.logoff.to_le_bytes());
        b[0x70..0x78].copy_from_slice(&self.info2off.to_le_bytes());
        let sum = info_checksum(&b);
        b[0xFF8..].copy_from_slice(&sum.to_le_bytes());
        b
    }

    /// The checks the kernel and check-namespace make before trusting a block: signature and
    /// checksum. Returns the reason on failure. Field plausibility is checked by the arena
    /// loader, which knows the device size.
    pub fn verify(raw: &[u8; INFO_SIZE as usize]) -> Result<InfoBlock, String> {
        let info = InfoBlock::parse(raw);
        if info.signature != SIGNATURE {
            return Err("signature is not BTT_ARENA_INFO".into());
        }
        let sum = info_checksum(raw);
        if sum != info.checksum {
            return Err(format!(
                "checksum {:#018x} does not match the computed {:#018x}",
                info.checksum, sum
            ));
        }
        Ok(info)
    }

    /// `"1.1"` or `"2.0"`.
    pub fn version_string(&self) -> String {
        format!("{}.{}", self.version_major, self.version_minor)
    }

    /// True when the info block carries the ERROR flag.
    pub fn has_error_flag(&self) -> bool {
        self.flags & INFO_FLAG_ERROR != 0
    }

    /// Every field as a JSON object (offsets relative to the arena, as on media).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "signature": String::from_utf8_lossy(&self.signature[..14]),
            "uuid": self.uuid.hyphenated().to_string(),
            "parent_uuid": self.parent_uuid.hyphenated().to_string(),
            "flags": self.flags,
            "version_major": self.version_major,
            "version_minor": self.version_minor,
            "external_lbasize": self.external_lbasize,
            "external_nlba": self.external_nlba,
            "internal_lbasize": self.internal_lbasize,
            "internal_nlba": self.internal_nlba,
            "nfree": self.nfree,
            "infosize": self.infosize,
            "nextoff": self.nextoff,
            "dataoff": self.dataoff,
            "mapoff": self.mapoff,
            "logoff": self.logoff,
            "info2off": self.info2off,
            "checksum": format!("{:#018x}", self.checksum),
        })
    }
}

/// A decoded map entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapEntry {
    /// The raw 32-bit word.
    pub raw: u32,
}

/// What a read of a map entry yields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapState {
    /// Never written since layout: the block with the same number holds the data.
    Initial,
    /// Normal mapping.
    Mapped,
    /// Reads return zeros (trim).
    Zero,
    /// Reads fail (media error).
    Error,
}

impl MapEntry {
    /// A normal entry pointing at `postmap` (both flag bits set: the on-media spelling of
    /// "no flag" that the kernel's `btt_map_write` uses for an ordinary write).
    pub fn normal(postmap: u32) -> MapEntry {
        MapEntry {
            raw: (postmap & MAP_LBA_MASK) | MAP_ENT_NORMAL,
        }
    }

    /// Resolve the entry for premap block `premap`: initial entries map to themselves.
    pub fn postmap(self, premap: u32) -> u32 {
        match self.state() {
            MapState::Initial => premap,
            _ => self.raw & MAP_LBA_MASK,
        }
    }

    /// Which of the four flag combinations the entry has.
    pub fn state(self) -> MapState {
        match (self.raw & MAP_TRIM_MASK != 0, self.raw & MAP_ERR_MASK != 0) {
            (false, false) => MapState::Initial,
            (true, true) => MapState::Mapped,
            (true, false) => MapState::Zero,
            (false, true) => MapState::Error,
        }
    }
}

/// One 16-byte flog slot (`struct log_entry`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlogEntry {
    /// Premap block being written.
    pub lba: u32,
    /// Postmap block it was mapped to before (now free); bit 30 = that block had an error.
    pub old_map: u32,
    /// Postmap block it maps to now.
    pub new_map: u32,
    /// Sequence number (1, 2, 3; 0 = never written).
    pub seq: u32,
}

impl FlogEntry {
    /// Decode from 16 bytes.
    pub fn parse(b: &[u8]) -> FlogEntry {
        FlogEntry {
            lba: le_u32(b, 0),
            old_map: le_u32(b, 4),
            new_map: le_u32(b, 8),
            seq: le_u32(b, 12),
        }
    }

    /// Encode to 16 bytes.
    pub fn to_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[0..4].copy_from_slice(&self.lba.to_le_bytes());
        b[4..8].copy_from_slice(&self.old_map.to_le_bytes());
        b[8..12].copy_from_slice(&self.new_map.to_le_bytes());
        b[12..16].copy_from_slice(&self.seq.to_le_bytes());
        b
    }

    /// An all-zero slot is padding (or a slot never written).
    pub fn is_padding(self) -> bool {
        self == FlogEntry::default()
    }

    /// `old_map` without flag bits.
    pub fn old_block(self) -> u32 {
        self.old_map & MAP_LBA_MASK
    }

    /// `new_map` without flag bits.
    pub fn new_block(self) -> u32 {
        self.new_map & MAP_LBA_MASK
    }
}

/// Decide which of a lane's two live slots is current, following the sequence rule shared by
/// the kernel and PMDK, but with each seq checked to be in 0..=3 (the kernel's range check is
/// weaker). Returns the index (0 or 1) of the current slot.
pub fn current_slot(seq0: u32, seq1: u32) -> Result<usize, String> {
    if seq0 > 3 || seq1 > 3 {
        return Err(format!(
            "sequence numbers ({seq0}, {seq1}) out of range 0..=3"
        ));
    }
    match (seq0, seq1) {
        (0, 0) => Err("both slots have sequence number 0".into()),
        (0, _) => Ok(1),
        (_, 0) => Ok(0),
        (a, b) if a == b => Err(format!("both slots have sequence number {a}")),
        (a, b) if next_seq(a) == b => Ok(1),
        _ => Ok(0),
    }
}

/// Kernel `btt_lbasize_supported`.
pub fn lbasize_supported(lbasize: u32) -> bool {
    SUPPORTED_LBASIZES.contains(&lbasize)
}

/// Kernel internal LBA size for an external one.
pub fn internal_lbasize(external: u32) -> u32 {
    external.div_ceil(INT_LBASIZE_ALIGNMENT) * INT_LBASIZE_ALIGNMENT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fletcher_vectors() {
        let mut b = [0u8; 4096];
        assert_eq!(info_checksum(&b), 0);
        b[..16].copy_from_slice(&SIGNATURE);
        assert_eq!(info_checksum(&b), 0xa27b296bfbe3550a);
        let mut f = [0xFFu8; 4096];
        f[0xFF8..].fill(0);
        assert_eq!(fletcher64(&f), 0xfff7fe03fffffc02);
    }

    #[test]
    fn seq_rules() {
        assert_eq!(current_slot(1, 0), Ok(0));
        assert_eq!(current_slot(0, 1), Ok(1));
        assert_eq!(current_slot(1, 2), Ok(1));
        assert_eq!(current_slot(2, 3), Ok(1));
        assert_eq!(current_slot(3, 1), Ok(1));
        assert_eq!(current_slot(3, 2), Ok(0));
        assert_eq!(current_slot(1, 3), Ok(0));
        assert!(current_slot(2, 2).is_err());
        assert!(current_slot(0, 0).is_err());
        assert!(current_slot(5, 0).is_err());
    }

    #[test]
    fn info_roundtrip() {
        let mut raw = [0u8; 4096];
        raw[..16].copy_from_slice(&SIGNATURE);
        let mut info = InfoBlock::parse(&raw);
        info.external_lbasize = 4096;
        info.nextoff = 0x1234_5678_9abc;
        let ser = info.serialize();
        let back = InfoBlock::verify(&ser).unwrap();
        assert_eq!(back.nextoff, info.nextoff);
        assert_eq!(back.external_lbasize, 4096);
        assert!(back.padding_zero);
    }
}

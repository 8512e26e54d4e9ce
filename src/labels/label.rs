//! The namespace label: v1.1 (128 bytes) and v1.2 (256 bytes).

use uuid::Uuid;

use super::index::{c_string, checksum_without};
use super::{le, LabelError, Version, NAME_LEN};

/// Offset of the v1.2 checksum field.
const CHECKSUM_OFF: usize = 248;

/// One namespace label, fields as stored.
///
/// Layout: `uuid[16] name[64] flags:le32 nlabel:le16 position:le16 isetcookie:le64
/// lbasize:le64 dpa:le64 rawsize:le64 slot:le32 align:u8 reserved[3]` (128 bytes, v1.1);
/// v1.2 continues with `type_guid[16] abstraction_guid[16] reserved2[88] checksum:le64`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// Namespace UUID (bytes as stored, printed as libuuid does).
    pub uuid: Uuid,
    /// Name, NUL-terminated when shorter than 64 bytes.
    pub name: [u8; NAME_LEN],
    /// `FLAG_*` bits.
    pub flags: u32,
    /// Number of labels (DIMMs) describing the namespace.
    pub nlabel: u16,
    /// This label's position in the interleave set.
    pub position: u16,
    /// Interleave-set cookie of the region.
    pub isetcookie: u64,
    /// Sector size, 0 for plain pmem.
    pub lbasize: u64,
    /// Start of the range on this DIMM (DIMM physical address).
    pub dpa: u64,
    /// Size of the range on this DIMM.
    pub rawsize: u64,
    /// The slot the label claims to be written in.
    pub slot: u32,
    /// Physical address alignment of the namespace (v1.2; unused in v1.1).
    pub align: u8,
    /// Reserved bytes after `align`.
    pub reserved: [u8; 3],
    /// The v1.2 fields; `None` for a 128-byte label.
    pub v12: Option<LabelV12>,
}

/// Fields that only 256-byte (v1.2) labels have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelV12 {
    /// Address range type GUID (copy of the NFIT SPA range GUID), bytes as stored.
    pub type_guid: Uuid,
    /// Personality GUID (BTT, PFN, DAX, ...), bytes as stored.
    pub abstraction_guid: Uuid,
    /// Reserved bytes before the checksum.
    pub reserved2: [u8; 88],
    /// Fletcher64 of the label with this field zero.
    pub checksum: u64,
}

/// What a v1.2 label's abstraction GUID says claims the namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimClass {
    /// Null GUID (or a v1.1 label): raw/fsdax without a personality.
    None,
    /// BTT v1 (`8aed63a2-29a2-4c66-8b12-f05d15d3922a`).
    Btt,
    /// BTT v2 (`18633bfc-1735-4217-8ac9-17239282d3f8`).
    Btt2,
    /// Page-frame (fsdax) info block (`266400ba-fb9f-4677-bcb0-968f11d0d225`).
    Pfn,
    /// Device-DAX (`97a86d9c-3cdd-4eda-986f-5068b4f80088`).
    Dax,
    /// Any other GUID.
    Unknown,
}

/// A GUID in its textual form turned into the bytes a label stores (the first three
/// groups little-endian, as the kernel's `guid_t`).
fn guid_bytes(text: &str) -> Uuid {
    let u = Uuid::parse_str(text).expect("a valid GUID literal");
    let b = u.as_bytes();
    Uuid::from_bytes([
        b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13],
        b[14], b[15],
    ])
}

impl ClaimClass {
    /// The GUID a label stores for this class (bytes as on media), `None` for
    /// [`ClaimClass::Unknown`].
    pub fn guid(self) -> Option<Uuid> {
        Some(match self {
            ClaimClass::None => Uuid::nil(),
            ClaimClass::Btt => guid_bytes("8aed63a2-29a2-4c66-8b12-f05d15d3922a"),
            ClaimClass::Btt2 => guid_bytes("18633bfc-1735-4217-8ac9-17239282d3f8"),
            ClaimClass::Pfn => guid_bytes("266400ba-fb9f-4677-bcb0-968f11d0d225"),
            ClaimClass::Dax => guid_bytes("97a86d9c-3cdd-4eda-986f-5068b4f80088"),
            ClaimClass::Unknown => return None,
        })
    }

    fn from_guid(g: &Uuid) -> ClaimClass {
        [
            ClaimClass::None,
            ClaimClass::Btt,
            ClaimClass::Btt2,
            ClaimClass::Pfn,
            ClaimClass::Dax,
        ]
        .into_iter()
        .find(|c| c.guid().as_ref() == Some(g))
        .unwrap_or(ClaimClass::Unknown)
    }
}

impl Label {
    /// Parses a label from `bytes`, which must be exactly 128 (v1.1) or 256 (v1.2) bytes.
    pub fn parse(bytes: &[u8]) -> Result<Label, LabelError> {
        let version = match bytes.len() {
            128 => Version::V1_1,
            256 => Version::V1_2,
            n if n < 128 => {
                return Err(LabelError::Truncated {
                    what: "namespace label",
                    offset: 0,
                    needed: 128,
                    len: n,
                })
            }
            n => return Err(LabelError::UnsupportedLabelSize { size: n }),
        };
        let b = bytes;
        let v12 = (version == Version::V1_2).then(|| LabelV12 {
            type_guid: Uuid::from_bytes(le(b, 128)),
            abstraction_guid: Uuid::from_bytes(le(b, 144)),
            reserved2: le(b, 160),
            checksum: u64::from_le_bytes(le(b, CHECKSUM_OFF)),
        });
        Ok(Label {
            uuid: Uuid::from_bytes(le(b, 0)),
            name: le(b, 16),
            flags: u32::from_le_bytes(le(b, 80)),
            nlabel: u16::from_le_bytes(le(b, 84)),
            position: u16::from_le_bytes(le(b, 86)),
            isetcookie: u64::from_le_bytes(le(b, 88)),
            lbasize: u64::from_le_bytes(le(b, 96)),
            dpa: u64::from_le_bytes(le(b, 104)),
            rawsize: u64::from_le_bytes(le(b, 112)),
            slot: u32::from_le_bytes(le(b, 120)),
            align: b[124],
            reserved: le(b, 125),
            v12,
        })
    }

    /// A v1.1 (128-byte) or v1.2 (256-byte) label with the given identity, one label per
    /// namespace, every other field zero (set `slot`, `dpa`, `rawsize`, ... before writing).
    /// The name is cut to 63 bytes, what readers print.
    pub fn new(version: Version, uuid: Uuid, name: &str) -> Label {
        let mut n = [0u8; NAME_LEN];
        // The kernel copies at most 64 bytes and the reader stops at byte 63.
        let src = name.as_bytes();
        let len = src.len().min(NAME_LEN - 1);
        n[..len].copy_from_slice(&src[..len]);
        Label {
            uuid,
            name: n,
            flags: 0,
            nlabel: 1,
            position: 0,
            isetcookie: 0,
            lbasize: 0,
            dpa: 0,
            rawsize: 0,
            slot: 0,
            align: 0,
            reserved: [0; 3],
            v12: (version == Version::V1_2).then(|| LabelV12 {
                type_guid: Uuid::nil(),
                abstraction_guid: Uuid::nil(),
                reserved2: [0; 88],
                checksum: 0,
            }),
        }
    }

    /// The version this label is in (by its size).
    pub fn version(&self) -> Version {
        if self.v12.is_some() {
            Version::V1_2
        } else {
            Version::V1_1
        }
    }

    /// The name up to its first NUL (at most 63 bytes, as ndctl prints it), lossily decoded.
    pub fn name(&self) -> String {
        c_string(&self.name[..NAME_LEN - 1])
    }

    /// Which personality claims the namespace (v1.2 abstraction GUID).
    pub fn claim_class(&self) -> ClaimClass {
        match &self.v12 {
            Some(x) => ClaimClass::from_guid(&x.abstraction_guid),
            None => ClaimClass::None,
        }
    }

    /// Serialises the label (128 or 256 bytes by its version); a v1.2 label gets a fresh
    /// checksum, as the kernel's `nsl_calculate_checksum()`, which is stored back.
    pub fn to_bytes(&mut self) -> Vec<u8> {
        let mut b = vec![0u8; self.version().label_size()];
        b[0..16].copy_from_slice(self.uuid.as_bytes());
        b[16..80].copy_from_slice(&self.name);
        b[80..84].copy_from_slice(&self.flags.to_le_bytes());
        b[84..86].copy_from_slice(&self.nlabel.to_le_bytes());
        b[86..88].copy_from_slice(&self.position.to_le_bytes());
        b[88..96].copy_from_slice(&self.isetcookie.to_le_bytes());
        b[96..104].copy_from_slice(&self.lbasize.to_le_bytes());
        b[104..112].copy_from_slice(&self.dpa.to_le_bytes());
        b[112..120].copy_from_slice(&self.rawsize.to_le_bytes());
        b[120..124].copy_from_slice(&self.slot.to_le_bytes());
        b[124] = self.align;
        b[125..128].copy_from_slice(&self.reserved);
        if let Some(x) = &mut self.v12 {
            b[128..144].copy_from_slice(x.type_guid.as_bytes());
            b[144..160].copy_from_slice(x.abstraction_guid.as_bytes());
            b[160..CHECKSUM_OFF].copy_from_slice(&x.reserved2);
            x.checksum = checksum_without(&b, CHECKSUM_OFF);
            b[CHECKSUM_OFF..].copy_from_slice(&x.checksum.to_le_bytes());
        }
        b
    }
}

/// The checksum a v1.2 label in `bytes` (256 bytes) should carry.
pub(crate) fn label_checksum(bytes: &[u8]) -> u64 {
    checksum_without(bytes, CHECKSUM_OFF)
}

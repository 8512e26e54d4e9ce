//! The namespace index block: header fields and free-slot bitmap.

use super::{le, Geometry, IndexError, LabelError, INDEX_HEADER_SIZE, INDEX_SIGNATURE, SEQ_MASK};

/// One namespace index block, fields as stored (nothing is trusted: see
/// [`IndexBlock::check`]).
///
/// Layout: `sig[16] flags[3] labelsize:u8 seq:le32 myoff:le64 mysize:le64 otheroff:le64
/// labeloff:le64 nslot:le32 major:le16 minor:le16 checksum:le64 free[]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexBlock {
    /// `NAMESPACE_INDEX\0` in a valid block.
    pub signature: [u8; 16],
    /// Reserved, zero.
    pub flags: [u8; 3],
    /// From v1.2: log2(label size) - 7 (0 for 128, 1 for 256); ignored before v1.2.
    pub labelsize: u8,
    /// Sequence number; only the low two bits count (1, 2, 3 cyclic; 0 invalid).
    pub seq: u32,
    /// Offset of this block in the label area.
    pub myoff: u64,
    /// Size of this block.
    pub mysize: u64,
    /// Offset of the other block.
    pub otheroff: u64,
    /// Offset of label slot 0.
    pub labeloff: u64,
    /// Number of label slots.
    pub nslot: u32,
    /// Major version (1).
    pub major: u16,
    /// Minor version (1 or 2).
    pub minor: u16,
    /// Fletcher64 of the block with this field zero.
    pub checksum: u64,
    /// Free bitmap: bit `n` (byte `n / 8`, bit `n % 8`) set means slot `n` is free. Holds
    /// every byte after the header up to the end of the block as read.
    pub free: Vec<u8>,
}

impl IndexBlock {
    /// Parses the 72-byte header; the free bitmap is left empty.
    pub fn parse_header(bytes: &[u8]) -> Result<IndexBlock, LabelError> {
        if bytes.len() < INDEX_HEADER_SIZE {
            return Err(LabelError::Truncated {
                what: "index block header",
                offset: 0,
                needed: INDEX_HEADER_SIZE,
                len: bytes.len(),
            });
        }
        let b = bytes;
        Ok(IndexBlock {
            signature: le(b, 0),
            flags: le(b, 16),
            labelsize: b[19],
            seq: u32::from_le_bytes(le(b, 20)),
            myoff: u64::from_le_bytes(le(b, 24)),
            mysize: u64::from_le_bytes(le(b, 32)),
            otheroff: u64::from_le_bytes(le(b, 40)),
            labeloff: u64::from_le_bytes(le(b, 48)),
            nslot: u32::from_le_bytes(le(b, 56)),
            major: u16::from_le_bytes(le(b, 60)),
            minor: u16::from_le_bytes(le(b, 62)),
            checksum: u64::from_le_bytes(le(b, 64)),
            free: Vec::new(),
        })
    }

    /// Parses a whole block: `bytes` is the block (index-size bytes); everything after the
    /// header is kept as the free bitmap.
    pub fn parse(bytes: &[u8]) -> Result<IndexBlock, LabelError> {
        let mut idx = IndexBlock::parse_header(bytes)?;
        idx.free = bytes[INDEX_HEADER_SIZE..].to_vec();
        Ok(idx)
    }

    /// Serialises the block into `out` (the whole index block), computing the checksum over
    /// all of `out` as the kernel does; the stored `checksum` field is updated to match.
    /// Bitmap bytes beyond `free` are left as they are in `out`.
    pub fn write(&mut self, out: &mut [u8]) {
        let mut hdr = [0u8; INDEX_HEADER_SIZE];
        hdr[0..16].copy_from_slice(&self.signature);
        hdr[16..19].copy_from_slice(&self.flags);
        hdr[19] = self.labelsize;
        hdr[20..24].copy_from_slice(&self.seq.to_le_bytes());
        hdr[24..32].copy_from_slice(&self.myoff.to_le_bytes());
        hdr[32..40].copy_from_slice(&self.mysize.to_le_bytes());
        hdr[40..48].copy_from_slice(&self.otheroff.to_le_bytes());
        hdr[48..56].copy_from_slice(&self.labeloff.to_le_bytes());
        hdr[56..60].copy_from_slice(&self.nslot.to_le_bytes());
        hdr[60..62].copy_from_slice(&self.major.to_le_bytes());
        hdr[62..64].copy_from_slice(&self.minor.to_le_bytes());
        let n = out.len().min(INDEX_HEADER_SIZE);
        out[..n].copy_from_slice(&hdr[..n]);
        if out.len() > INDEX_HEADER_SIZE {
            let tail = &mut out[INDEX_HEADER_SIZE..];
            let n = tail.len().min(self.free.len());
            tail[..n].copy_from_slice(&self.free[..n]);
        }
        self.checksum = super::fletcher64(out);
        if out.len() >= INDEX_HEADER_SIZE {
            out[64..72].copy_from_slice(&self.checksum.to_le_bytes());
        }
    }

    /// The block serialised into a fresh `size`-byte buffer (bitmap padded with zeros).
    pub fn to_bytes(&mut self, size: usize) -> Vec<u8> {
        let mut out = vec![0u8; size];
        self.write(&mut out);
        out
    }

    /// The signature up to its first NUL, lossily decoded.
    pub fn signature_str(&self) -> String {
        c_string(&self.signature[..15])
    }

    /// The label size this block declares: `1 << (7 + labelsize)` from v1.2 on, 128 before;
    /// `None` when the shift is out of range.
    pub fn declared_label_size(&self) -> Option<u64> {
        let version = u32::from(self.major) * 100 + u32::from(self.minor);
        if version >= 102 {
            // Stricter than C's int shift, which wraps for labelsize >= 25.
            1u64.checked_shl(7 + u32::from(self.labelsize))
        } else {
            Some(128)
        }
    }

    /// Whether slot `slot` is marked free. Slots at or past `nslot`, or past the bitmap,
    /// count as free (never active).
    pub fn is_free(&self, slot: u32) -> bool {
        if slot >= self.nslot {
            return true;
        }
        match self.free.get((slot / 8) as usize) {
            Some(byte) => byte & (1 << (slot % 8)) != 0,
            None => true,
        }
    }

    /// Slots below `nslot` marked in use, in ascending order (the kernel's
    /// `for_each_clear_bit_le` over the bitmap).
    pub fn used_slots(&self) -> impl Iterator<Item = u32> + '_ {
        let bits = (self.free.len() as u64 * 8).min(u64::from(self.nslot)) as u32;
        (0..bits).filter(move |&s| !self.is_free(s))
    }

    /// Number of free slots below `nslot` (`nd_label_nfree()`).
    pub fn nfree(&self) -> u32 {
        let bits = (self.free.len() as u64 * 8).min(u64::from(self.nslot)) as u32;
        bits - self.used_slots().count() as u32
    }

    /// Checks this block, found as block `i` of `buf` (the whole label area), against the
    /// layout `geo`, in the kernel's order: signature, label size, checksum, sequence number,
    /// myoff, otheroff, labeloff, mysize, nslot.
    pub fn check(buf: &[u8], i: usize, geo: &Geometry) -> Result<IndexBlock, IndexError> {
        let off = geo.index_offset(i);
        let end = off + geo.index_size;
        let block = buf.get(off..end).ok_or(IndexError::Truncated {
            offset: off,
            needed: end,
            len: buf.len(),
        })?;
        let idx = IndexBlock::parse(block).map_err(|_| IndexError::Truncated {
            offset: off,
            needed: end,
            len: buf.len(),
        })?;
        if idx.signature != INDEX_SIGNATURE {
            return Err(IndexError::Signature {
                found: c_string(&idx.signature),
            });
        }
        let declared = idx.declared_label_size();
        if declared != Some(geo.label_size as u64) {
            return Err(IndexError::LabelSize {
                labelsize: idx.labelsize,
                major: idx.major,
                minor: idx.minor,
                declared: declared.unwrap_or(0),
                expected: geo.label_size,
            });
        }
        let computed = index_checksum(block);
        if computed != idx.checksum {
            return Err(IndexError::Checksum {
                stored: idx.checksum,
                computed,
            });
        }
        if idx.seq & SEQ_MASK == 0 {
            return Err(IndexError::Sequence { seq: idx.seq });
        }
        let expect = |v: usize| v as u64;
        if idx.myoff != expect(off) {
            return Err(IndexError::MyOff {
                found: idx.myoff,
                expected: expect(off),
            });
        }
        if idx.otheroff != expect(geo.index_offset(1 - i)) {
            return Err(IndexError::OtherOff {
                found: idx.otheroff,
                expected: expect(geo.index_offset(1 - i)),
            });
        }
        // libndctl does not check labeloff, the kernel does (and reads labels from there).
        if idx.labeloff != expect(geo.label_base()) {
            return Err(IndexError::LabelOff {
                found: idx.labeloff,
                expected: expect(geo.label_base()),
            });
        }
        if idx.mysize > geo.index_size as u64 || idx.mysize < INDEX_HEADER_SIZE as u64 {
            return Err(IndexError::MySize {
                found: idx.mysize,
                min: INDEX_HEADER_SIZE as u64,
                max: geo.index_size as u64,
            });
        }
        let max = ((geo.config_size - geo.label_base()) / geo.label_size) as u64;
        if u64::from(idx.nslot) > max {
            return Err(IndexError::NSlot {
                nslot: idx.nslot,
                max,
            });
        }
        Ok(idx)
    }
}

/// Fletcher64 of an index block with its checksum field taken as zero.
pub(crate) fn index_checksum(block: &[u8]) -> u64 {
    checksum_without(block, 64)
}

/// Fletcher64 of `bytes` with the 8 bytes at `at` taken as zero, without copying.
pub(crate) fn checksum_without(bytes: &[u8], at: usize) -> u64 {
    // The checksum field is 8-byte aligned, so it spans two whole words: sum the words
    // around it and feed two zero words in its place.
    let mut lo: u32 = 0;
    let mut hi: u64 = 0;
    for (n, w) in bytes.chunks_exact(4).enumerate() {
        let v = if n * 4 == at || n * 4 == at + 4 {
            0
        } else {
            u32::from_le_bytes([w[0], w[1], w[2], w[3]])
        };
        lo = lo.wrapping_add(v);
        hi = hi.wrapping_add(u64::from(lo));
    }
    (hi << 32) | u64::from(lo)
}

/// A C string (up to the first NUL) from a fixed field, lossily decoded.
pub(crate) fn c_string(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

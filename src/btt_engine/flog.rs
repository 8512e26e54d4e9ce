//! Flog ("free list + log") operations: detecting the slot layout, picking a lane's current
//! entry, the two-half durable entry write, and the in-memory free entry each lane carries.

use super::error::Result;
use super::format::{current_slot, next_seq, FlogEntry, LOG_GRP_SIZE, MAP_ERR_MASK};
use super::io::{self, Storage};
use super::layout::Geometry;

/// The four slots of one lane.
pub type Group = [FlogEntry; 4];

/// Which two of a lane's four slots hold live entries: `[0, 1]` (current layout) or `[0, 2]`
/// (Linux before 4.15).
pub type LogIndices = [usize; 2];

/// Read the whole flog of an arena (nfree × 64 bytes, bounded by validation).
pub fn read_groups<S: Storage + ?Sized>(s: &S, geo: &Geometry, nfree: u32) -> Result<Vec<Group>> {
    let mut raw = vec![0u8; nfree as usize * LOG_GRP_SIZE as usize];
    io::read_exact(s, geo.log, &mut raw)?;
    Ok(raw
        .chunks_exact(LOG_GRP_SIZE as usize)
        .map(|g| {
            let mut group = [FlogEntry::default(); 4];
            for (slot, e) in group.iter_mut().enumerate() {
                *e = FlogEntry::parse(&g[slot * 16..slot * 16 + 16]);
            }
            group
        })
        .collect())
}

/// Deduce the live slot indices the way the kernel's `log_set_indices` does: the first two
/// non-padding slots seen decide, every later lane must follow them, lanes that are still in
/// the initial state (three padding slots) say nothing, and only (0,1) and (0,2) are
/// accepted. An all-initial log is taken as (0,1).
pub fn detect_indices(groups: &[Group]) -> Result<LogIndices, String> {
    let mut idx: [Option<usize>; 2] = [None, None];
    let mut decided = false;
    let mut initial_state = true;
    for (lane, g) in groups.iter().enumerate() {
        let mut pad_count = 0;
        for (j, e) in g.iter().enumerate() {
            if !decided {
                if e.is_padding() {
                    pad_count += 1;
                    continue;
                }
                match idx {
                    [None, _] => idx[0] = Some(j),
                    [Some(first), None] if first == j => continue,
                    [Some(_), None] => {
                        idx[1] = Some(j);
                        decided = true;
                    }
                    _ => {}
                }
            } else if Some(j) == idx[0] {
                if e.is_padding() {
                    return Err(format!(
                        "lane {lane}: slot {j} is empty but earlier lanes use it for live entries"
                    ));
                }
            } else if Some(j) != idx[1] && !e.is_padding() {
                return Err(format!(
                    "lane {lane}: slot {j} holds data but the layout uses slots {:?}",
                    [idx[0], idx[1]]
                ));
            }
        }
        if pad_count < 3 {
            initial_state = false;
        }
    }
    if !initial_state && !decided {
        return Err("cannot deduce the live slots of the flog".into());
    }
    if initial_state {
        idx[1] = Some(1);
    }
    match idx {
        [Some(0), Some(1)] => Ok([0, 1]),
        [Some(0), Some(2)] => Ok([0, 2]),
        other => Err(format!(
            "unknown flog padding scheme (live slots {:?}, expected (0,1) or (0,2))",
            other
        )),
    }
}

/// The two live entries of a lane and which one is current.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lane {
    /// Entries at `indices[0]` and `indices[1]`.
    pub entries: [FlogEntry; 2],
    /// Which of the two is current (0 or 1).
    pub current: usize,
}

impl Lane {
    /// Pick the current entry of a group, or explain why the pair of sequence numbers is bad.
    pub fn from_group(g: &Group, indices: LogIndices) -> Result<Lane, String> {
        let entries = [g[indices[0]], g[indices[1]]];
        let current = current_slot(entries[0].seq, entries[1].seq)?;
        Ok(Lane { entries, current })
    }

    /// The newest entry.
    pub fn current_entry(&self) -> FlogEntry {
        self.entries[self.current]
    }

    /// Check that the current entry names a sector and two blocks of the arena (the kernel
    /// trusts them; a hostile image must not steer writes outside the data area).
    pub fn check_bounds(&self, external_nlba: u32, internal_nlba: u32) -> Result<(), String> {
        let cur = self.current_entry();
        if cur.lba >= external_nlba
            || cur.old_block() >= internal_nlba
            || cur.new_block() >= internal_nlba
        {
            return Err(format!(
                "current entry {{lba {}, old {:#x}, new {:#x}, seq {}}} out of range \
                 (external_nlba {external_nlba}, internal_nlba {internal_nlba})",
                cur.lba, cur.old_map, cur.new_map, cur.seq
            ));
        }
        Ok(())
    }

    /// The map update the current entry records, if the map (whose entry for
    /// `current_entry().lba` resolves to block `mapped`) does not show it yet: the entry's
    /// seq half landed but power failed before the map write. Kernel `btt_freelist_init`:
    /// only a map still pointing at the old block is rolled forward; any other value means a
    /// later write already moved the entry on.
    pub fn unfinished_update(&self, mapped: u32) -> Option<FlogEntry> {
        let cur = self.current_entry();
        let pending = cur.old_block() != cur.new_block()
            && mapped != cur.new_block()
            && mapped == cur.old_block();
        pending.then_some(cur)
    }
}

/// First half of a flog update: store `lba` and `old_map` into slot `indices[sub]` of
/// `lane`, without making it durable yet. If only this half ever lands, the slot still
/// carries its old sequence number and stays the older one, so it may become durable
/// together with the data block. Returns the slot's offset for [`commit_entry`].
pub fn write_entry_head<S: Storage + ?Sized>(
    s: &S,
    geo: &Geometry,
    indices: LogIndices,
    lane: u32,
    sub: usize,
    entry: FlogEntry,
) -> Result<u64> {
    let off = geo.flog_slot(lane, indices[sub]);
    io::write_all(s, off, &entry.to_bytes()[..8])?;
    Ok(off)
}

/// Second half: make the head durable, then store `new_map` and `seq` and make them
/// durable. Once this returns the entry is the lane's current one.
pub fn commit_entry<S: Storage + ?Sized>(s: &S, slot: u64, entry: FlogEntry) -> Result<()> {
    io::persist(s, slot, 8)?;
    io::write_durable(s, slot + 8, &entry.to_bytes()[8..])
}

/// Rewrite a lane in the current layout: slot 0 = the current entry with seq 1, slots 1-3
/// zero (what `ndctl check-namespace --rewrite-log` writes; valid for either padding scheme).
pub fn rewrite_lane<S: Storage + ?Sized>(
    s: &S,
    geo: &Geometry,
    lane: u32,
    current: FlogEntry,
) -> Result<()> {
    let off = geo.flog_group(lane);
    let mut raw = [0u8; LOG_GRP_SIZE as usize];
    raw[..16].copy_from_slice(&FlogEntry { seq: 1, ..current }.to_bytes());
    io::write_durable(s, off, &raw)
}

/// The in-memory free-list entry of a lane (kernel `struct free_entry`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FreeEntry {
    /// The free postmap block the next write on this lane will use.
    pub block: u32,
    /// Which live slot (0 or 1) the next flog entry overwrites: the older one.
    pub sub: usize,
    /// Sequence number for the next flog entry.
    pub seq: u32,
    /// The free block was recorded as having a media error.
    pub has_err: bool,
}

impl FreeEntry {
    /// Free entry implied by a lane (kernel `btt_freelist_init`, first half).
    pub fn from_lane(lane: &Lane) -> FreeEntry {
        let cur = lane.current_entry();
        FreeEntry {
            block: cur.old_block(),
            sub: 1 - lane.current,
            seq: next_seq(cur.seq),
            has_err: cur.old_map & MAP_ERR_MASK != 0 && cur.old_map >> 30 != 3,
        }
    }

    /// Advance after a flog entry was written (kernel `btt_flog_write` epilogue).
    pub fn advance(&mut self, written: FlogEntry) {
        self.sub = 1 - self.sub;
        self.seq = next_seq(self.seq);
        self.has_err = written.old_map & MAP_ERR_MASK != 0;
        self.block = written.old_block();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(lba: u32, seq: u32) -> FlogEntry {
        FlogEntry {
            lba,
            old_map: 100 + lba,
            new_map: 100 + lba,
            seq,
        }
    }

    #[test]
    fn indices() {
        let init: Group = [
            e(0, 1),
            FlogEntry::default(),
            FlogEntry::default(),
            FlogEntry::default(),
        ];
        assert_eq!(detect_indices(&[init, init]), Ok([0, 1]));
        let new: Group = [e(0, 1), e(1, 2), FlogEntry::default(), FlogEntry::default()];
        assert_eq!(detect_indices(&[init, new, init]), Ok([0, 1]));
        let old: Group = [e(0, 1), FlogEntry::default(), e(1, 2), FlogEntry::default()];
        assert_eq!(detect_indices(&[init, old, init]), Ok([0, 2]));
        assert!(detect_indices(&[new, old]).is_err());
        let empty = [FlogEntry::default(); 4];
        assert!(detect_indices(&[empty, empty]).is_err());
        let odd: Group = [FlogEntry::default(), e(1, 1), e(2, 2), FlogEntry::default()];
        assert!(detect_indices(&[odd]).is_err());
    }
}

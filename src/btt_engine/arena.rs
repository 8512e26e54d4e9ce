//! One loaded arena: its validated info block, geometry, flog layout, per-lane free entries,
//! read tracking table (RTT) and map locks; and the per-block read and write protocols.

use std::collections::HashMap;
use std::sync::atomic::{fence, AtomicBool, AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::error::{BttError, Result};
use super::flog::{self, FreeEntry, LogIndices};
use super::format::{FlogEntry, InfoBlock, MapEntry, MapState, INFO_SIZE, MAP_ERR_MASK};
use super::io::{self, Storage};
use super::layout::{self, Geometry};
use super::map;

/// RTT slot value while a reader holds a block (kernel `RTT_VALID`).
const RTT_VALID: u32 = 1 << 31;
/// RTT slot value when idle (kernel `RTT_INVALID`).
const RTT_INVALID: u32 = 0;

/// An unfinished map update found in the flog on load (flog written, map not).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RollForward {
    /// Lane whose current entry was not reflected in the map.
    pub lane: u32,
    /// Premap block whose map entry was stale.
    pub premap: u32,
    /// The stale postmap block (now free).
    pub old_block: u32,
    /// The postmap block the map now points to.
    pub new_block: u32,
}

/// Read the primary info block at `base` and check signature and checksum.
pub fn read_info<S: Storage + ?Sized>(s: &S, base: u64) -> Result<(InfoBlock, [u8; 4096])> {
    let mut raw = [0u8; INFO_SIZE as usize];
    io::read_exact(s, base, &mut raw)?;
    let info = InfoBlock::verify(&raw).map_err(|reason| BttError::InvalidInfo {
        offset: base,
        reason,
    })?;
    Ok((info, raw))
}

/// A loaded arena.
#[derive(Debug)]
pub struct Arena {
    /// Position in the arena chain.
    pub index: usize,
    /// The primary info block.
    pub info: InfoBlock,
    /// Absolute region offsets.
    pub geo: Geometry,
    /// First external LBA served by this arena.
    pub lba_start: u64,
    /// Live flog slots.
    pub log_indices: LogIndices,
    /// Unfinished map updates found (and, when writable, completed) on load.
    pub roll_forwards: Vec<RollForward>,
    lanes: Vec<Mutex<FreeEntry>>,
    rtt: Vec<AtomicU32>,
    map_locks: Vec<Mutex<()>>,
    // For read-only opens: premap -> postmap of map updates the flog says happened but the
    // map does not show yet (applied on writable opens instead).
    overlay: HashMap<u32, u32>,
    failed: AtomicBool,
    // Lanes handed out (min(nfree, the handle's lane limit)): only their RTT slots can be set.
    active_lanes: usize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Arena {
    /// Load the arena whose info block is at absolute offset `base` (kernel `discover_arenas`
    /// body plus `log_set_indices` and `btt_freelist_init`). With `writable`, unfinished map
    /// updates are rolled forward on media, as the kernel does; otherwise they are only
    /// applied to what this handle reads.
    pub fn load<S: Storage + ?Sized>(
        s: &S,
        index: usize,
        base: u64,
        lba_start: u64,
        writable: bool,
        max_lanes: usize,
    ) -> Result<Arena> {
        let (info, _) = read_info(s, base)?;
        let geo =
            layout::validate(&info, base, s.size()).map_err(|reason| BttError::InvalidInfo {
                offset: base,
                reason,
            })?;
        let groups = flog::read_groups(s, &geo, info.nfree)?;
        let log_indices =
            flog::detect_indices(&groups).map_err(|reason| BttError::InvalidFlog {
                arena_offset: base,
                lane: u32::MAX,
                reason,
            })?;
        let FreeList {
            lanes,
            roll_forwards,
            overlay,
        } = init_freelist(s, &info, &geo, &groups, log_indices, writable)?;
        let nfree = info.nfree as usize;
        Ok(Arena {
            index,
            geo,
            lba_start,
            log_indices,
            roll_forwards,
            lanes: lanes.into_iter().map(Mutex::new).collect(),
            rtt: (0..nfree).map(|_| AtomicU32::new(RTT_INVALID)).collect(),
            map_locks: (0..nfree).map(|_| Mutex::new(())).collect(),
            overlay,
            failed: AtomicBool::new(false),
            active_lanes: nfree.min(max_lanes).max(1),
            info,
        })
    }

    /// Number of lanes this handle hands out.
    pub fn active_lanes(&self) -> usize {
        self.active_lanes
    }

    /// Lock a lane, preferring `hint` (modulo the lanes in use) but taking any free one if
    /// it is busy. Returns the lane index actually held.
    pub fn acquire_lane(&self, hint: usize) -> (usize, MutexGuard<'_, FreeEntry>) {
        let n = self.active_lanes;
        let first = hint % n;
        for i in 0..n {
            let l = (first + i) % n;
            if let Ok(g) = self.lanes[l].try_lock() {
                return (l, g);
            }
        }
        (first, lock(&self.lanes[first]))
    }

    fn map_lookup<S: Storage + ?Sized>(&self, s: &S, premap: u32) -> Result<MapEntry> {
        if let Some(&post) = self.overlay.get(&premap) {
            return Ok(MapEntry::normal(post));
        }
        map::read_entry(s, &self.geo, premap)
    }

    fn block_offset(&self, postmap: u32) -> u64 {
        // validate() proved dataoff + internal_nlba * internal_lbasize fits; postmap is
        // checked < internal_nlba by every caller.
        self.geo.data + u64::from(postmap) * u64::from(self.info.internal_lbasize)
    }

    /// Kernel `btt_read_pg` for one block, with the caller holding lane `lane`.
    pub fn read_block<S: Storage + ?Sized>(
        &self,
        s: &S,
        lane: usize,
        premap: u32,
        buf: &mut [u8],
    ) -> Result<()> {
        let mut entry = self.map_lookup(s, premap)?;
        let post = loop {
            match entry.state() {
                MapState::Zero => {
                    buf.fill(0);
                    return Ok(());
                }
                MapState::Error => {
                    return Err(BttError::MediaError {
                        lba: self.lba_start + u64::from(premap),
                        entry: entry.raw,
                    })
                }
                MapState::Initial | MapState::Mapped => {}
            }
            let post = map::check_postmap(&self.geo, premap, entry, self.info.internal_nlba)?;
            // Announce the block before re-reading the map: a writer that takes this block
            // from a free list afterwards will see the announcement and wait.
            // The fence pairs with the one in wait_for_readers: either the writer sees this
            // announcement, or the map re-read below sees the writer's map update.
            self.rtt[lane].store(RTT_VALID | post, Ordering::Relaxed);
            fence(Ordering::SeqCst);
            let again = self.map_lookup(s, premap)?;
            if again == entry {
                break post;
            }
            entry = again;
        };
        let res = io::read_exact(s, self.block_offset(post), buf);
        self.rtt[lane].store(RTT_INVALID, Ordering::Release);
        res
    }

    /// Kernel `btt_write_pg` for one block: data into the lane's free block, flog entry in two
    /// durable halves (seq last, and only after the data is durable), then the map entry; the
    /// caller holds lane `lane` (its free entry is `fe`).
    pub fn write_block<S: Storage + ?Sized>(
        &self,
        s: &S,
        lane: usize,
        fe: &mut FreeEntry,
        premap: u32,
        buf: &[u8],
    ) -> Result<()> {
        if self.info.has_error_flag() || self.failed.load(Ordering::Relaxed) {
            return Err(BttError::ArenaError {
                arena_offset: self.geo.base,
            });
        }
        let new = fe.block;
        if new >= self.info.internal_nlba {
            return Err(BttError::InvalidFlog {
                arena_offset: self.geo.base,
                lane: lane as u32,
                reason: format!("free block {new} beyond internal_nlba"),
            });
        }
        self.wait_for_readers(new);
        let data_off = self.block_offset(new);
        io::write_all(s, data_off, buf)?;

        let _map_guard = lock(&self.map_locks[map::lock_index(premap, self.map_locks.len())]);
        let old_entry = map::read_entry(s, &self.geo, premap)?;
        let old = map::check_postmap(&self.geo, premap, old_entry, self.info.internal_nlba)?;
        let old_logged = if old_entry.state() == MapState::Error {
            old | MAP_ERR_MASK
        } else {
            old
        };
        let entry = FlogEntry {
            lba: premap,
            old_map: old_logged,
            new_map: new,
            seq: fe.seq,
        };
        // The data and the flog entry's first half (which cannot make the entry current on
        // its own) share one persistence point; the half carrying seq waits for both.
        let slot =
            flog::write_entry_head(s, &self.geo, self.log_indices, lane as u32, fe.sub, entry)?;
        io::persist(s, data_off, buf.len() as u64)?;
        flog::commit_entry(s, slot, entry)?;
        fe.advance(entry);
        if let Err(e) = map::write_entry(s, &self.geo, premap, MapEntry::normal(new)) {
            // The flog now frees `old` although the map may still point at it: further writes
            // from this handle could overwrite live data. Recovery happens on the next open.
            self.failed.store(true, Ordering::Relaxed);
            return Err(e);
        }
        Ok(())
    }

    fn wait_for_readers(&self, block: u32) {
        fence(Ordering::SeqCst);
        let busy = RTT_VALID | block;
        for slot in &self.rtt[..self.active_lanes] {
            let mut spins = 0u32;
            while slot.load(Ordering::SeqCst) == busy {
                spins += 1;
                if spins < 64 {
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
        }
    }

    /// Current free entries of all lanes (for diagnostics and tests).
    pub fn free_entries(&self) -> Vec<FreeEntry> {
        self.lanes.iter().map(|l| *lock(l)).collect()
    }
}

/// What rebuilding the free list of an arena yields.
struct FreeList {
    /// Each lane's free entry.
    lanes: Vec<FreeEntry>,
    /// Unfinished map updates found.
    roll_forwards: Vec<RollForward>,
    /// For read-only loads: the map updates rolled forward in memory only.
    overlay: HashMap<u32, u32>,
}

/// Kernel `btt_freelist_init`: each lane's current flog entry names the block that lane may
/// write next (its `old_map`); an entry whose map update did not land is completed, on media
/// when `writable`, else only in the returned overlay.
fn init_freelist<S: Storage + ?Sized>(
    s: &S,
    info: &InfoBlock,
    geo: &Geometry,
    groups: &[flog::Group],
    log_indices: LogIndices,
    writable: bool,
) -> Result<FreeList> {
    let mut list = FreeList {
        lanes: Vec::with_capacity(groups.len()),
        roll_forwards: Vec::new(),
        overlay: HashMap::new(),
    };
    for (lane, g) in groups.iter().enumerate() {
        let lane = lane as u32;
        let bad = |reason: String| BttError::InvalidFlog {
            arena_offset: geo.base,
            lane,
            reason,
        };
        let l = flog::Lane::from_group(g, log_indices).map_err(bad)?;
        l.check_bounds(info.external_nlba, info.internal_nlba)
            .map_err(bad)?;
        list.lanes.push(FreeEntry::from_lane(&l));
        let cur = l.current_entry();
        let mapped = map::read_entry(s, geo, cur.lba)?.postmap(cur.lba);
        let Some(cur) = l.unfinished_update(mapped) else {
            continue;
        };
        if writable {
            map::write_entry(s, geo, cur.lba, MapEntry::normal(cur.new_block()))?;
        } else {
            list.overlay.insert(cur.lba, cur.new_block());
        }
        list.roll_forwards.push(RollForward {
            lane,
            premap: cur.lba,
            old_block: cur.old_block(),
            new_block: cur.new_block(),
        });
    }
    Ok(list)
}

//! One loaded arena: its validated info block, geometry, flog layout, per-lane free entries,
//! read tracking table (RTT) and map locks; and the per-block read and write protocols.

use std::collections::HashMap;
use std::sync::atomic::{fence, AtomicBool, AtomicU32, AtomicU64, Ordering};
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
    lanes: Vec<Padded<Lane>>,
    // Read tracking table: one slot per concurrent reader, claimed with a compare-exchange
    // (the kernel indexes it by lane; a reader here needs no lane, only a slot).
    rtt: Vec<Padded<AtomicU32>>,
    map_locks: Vec<Padded<Mutex<()>>>,
    // For read-only opens: premap -> postmap of map updates the flog says happened but the
    // map does not show yet (applied on writable opens instead).
    overlay: HashMap<u32, u32>,
    failed: AtomicBool,
    // Lanes handed out (min(nfree, the handle's lane limit)); also the RTT slots in use.
    active_lanes: usize,
}

/// Keeps per-thread state (lanes, RTT slots, map locks) on separate cache lines, so that
/// threads working on different lanes do not bounce a shared line between CPUs.
#[derive(Debug, Default)]
#[repr(align(64))]
struct Padded<T>(T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// One lane: what it carries between writes, under its lock, and the map entry its last
/// write left to be written back, readable without the lock.
#[derive(Debug)]
struct Lane {
    state: Mutex<LaneState>,
    /// Absolute offset of the map entry this lane's last write stored without making it
    /// durable (see [`map::store_entry`]), or [`NO_ENTRY`]. Set under the entry's map lock,
    /// cleared only once the write-back is complete, so a writer of the same entry that
    /// holds the map lock and does not find it here knows the entry is durable.
    unflushed_map: AtomicU64,
}

const NO_ENTRY: u64 = u64::MAX;

/// What a lane carries between writes.
#[derive(Debug)]
pub(crate) struct LaneState {
    /// The kernel's `free_entry`: the block and flog slot the next write uses.
    free: FreeEntry,
    /// Index of this lane (its flog group).
    lane: usize,
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
            lanes: lanes
                .into_iter()
                .enumerate()
                .map(|(lane, free)| {
                    Padded(Lane {
                        state: Mutex::new(LaneState { free, lane }),
                        unflushed_map: AtomicU64::new(NO_ENTRY),
                    })
                })
                .collect(),
            rtt: (0..nfree)
                .map(|_| Padded(AtomicU32::new(RTT_INVALID)))
                .collect(),
            map_locks: (0..nfree).map(|_| Padded(Mutex::new(()))).collect(),
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
    pub(crate) fn acquire_lane(&self, hint: usize) -> MutexGuard<'_, LaneState> {
        let n = self.active_lanes;
        let first = hint % n;
        for i in 0..n {
            if let Ok(g) = self.lanes[(first + i) % n].state.try_lock() {
                return g;
            }
        }
        lock(&self.lanes[first].state)
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

    /// Announce that a reader is about to copy `block`: claim a free RTT slot (starting at
    /// `hint`) holding `RTT_VALID | block`. The compare-exchange is a full barrier, so the
    /// map re-read that follows cannot be satisfied before the announcement is visible; it
    /// pairs with the fence in [`Arena::wait_for_readers`].
    fn rtt_claim(&self, hint: usize, block: u32) -> usize {
        let n = self.active_lanes;
        let busy = RTT_VALID | block;
        let mut spins = 0u32;
        loop {
            for i in 0..n {
                let slot = (hint + i) % n;
                if self.rtt[slot]
                    .compare_exchange(RTT_INVALID, busy, Ordering::SeqCst, Ordering::Relaxed)
                    .is_ok()
                {
                    return slot;
                }
            }
            // More readers than slots: wait for one to finish.
            spins += 1;
            if spins < 64 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }

    fn rtt_release(&self, slot: usize) {
        self.rtt[slot].store(RTT_INVALID, Ordering::Release);
    }

    /// Kernel `btt_read_pg` for one block. `hint` spreads concurrent readers over the RTT.
    pub(crate) fn read_block<S: Storage + ?Sized>(
        &self,
        s: &S,
        hint: usize,
        premap: u32,
        buf: &mut [u8],
    ) -> Result<()> {
        let mut entry = self.map_lookup(s, premap)?;
        let (slot, post) = loop {
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
            // from a free list afterwards will see the announcement and wait; if the map
            // moved on meanwhile, the block may already be reused, so start over.
            let slot = self.rtt_claim(hint, post);
            let again = match self.map_lookup(s, premap) {
                Ok(e) => e,
                Err(e) => {
                    self.rtt_release(slot);
                    return Err(e);
                }
            };
            if again == entry {
                break (slot, post);
            }
            self.rtt_release(slot);
            entry = again;
        };
        let res = io::read_exact(s, self.block_offset(post), buf);
        self.rtt_release(slot);
        res
    }

    /// Kernel `btt_write_pg` for one block: data into the lane's free block, flog entry in two
    /// halves (seq last, and only after the data is durable), then the map entry; the caller
    /// holds the lane whose state is `state`.
    ///
    /// Persistence points: the data, the flog head and the write-back of the map words this
    /// write depends on share one; the flog's seq half is the second, after which the write
    /// is durable (a crash from here on rolls the map forward from the flog, as the kernel
    /// does on attach). The map entry is only stored: it is written back by this lane's next
    /// write, by the next write of the same entry, or when the handle is flushed or dropped,
    /// each before a flog entry that could make it unrecoverable lands.
    pub(crate) fn write_block<S: Storage + ?Sized>(
        &self,
        s: &S,
        state: &mut LaneState,
        premap: u32,
        buf: &[u8],
    ) -> Result<()> {
        if self.info.has_error_flag() || self.failed.load(Ordering::Relaxed) {
            return Err(BttError::ArenaError {
                arena_offset: self.geo.base,
            });
        }
        let lane = state.lane;
        let fe = &mut state.free;
        let new = fe.block;
        if new >= self.info.internal_nlba {
            return Err(BttError::InvalidFlog {
                arena_offset: self.geo.base,
                lane: lane as u32,
                reason: format!("free block {new} beyond internal_nlba"),
            });
        }
        // The map entry is read under its lock after the data copy; start fetching it now so
        // that the miss overlaps the copy instead of following it.
        let entry_off = self.geo.map_entry(premap);
        s.prefetch(entry_off, 4);
        self.wait_for_readers(new);
        // The map lock is taken before the copy, not after it: its compare-exchange is a
        // locked instruction, which waits until every store before it, the data's streaming
        // stores included, has drained. Taken after the copy it would wait for the data on
        // its own, and the flog head and write-backs below would then drain separately at
        // the persistence point; taken here, with nothing in flight, it costs nothing, and
        // the data, the flog head and the write-backs drain together at one fence.
        let _map_guard = lock(&self.map_locks[map::lock_index(premap, self.map_locks.len())]);
        let data_off = self.block_offset(new);
        io::write_all(s, data_off, buf)?;
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
        // Before this entry can become current, two map words must be durable: the one it
        // was built from (another lane may have stored it without flushing), and this lane's
        // previous update, whose flog entry becomes the older slot now and is overwritten by
        // the next write. Their write-back rides on the data's persistence point, like the
        // flog head, which cannot make the entry current on its own.
        let slot =
            flog::write_entry_head(s, &self.geo, self.log_indices, lane as u32, fe.sub, entry)?;
        // (Only an entry still waiting for write-back is flushed: on some CPUs a write-back
        // also evicts the line, and the store below would then miss.)
        let own = &self.lanes[lane].unflushed_map;
        if self.lanes[..self.active_lanes]
            .iter()
            .any(|l| l.unflushed_map.load(Ordering::Acquire) == entry_off)
        {
            io::flush(s, entry_off, 4)?;
        }
        let prev = own.load(Ordering::Relaxed);
        if prev != NO_ENTRY && prev != entry_off {
            io::flush(s, prev, 4)?;
        }
        io::persist(s, data_off, buf.len() as u64)?;
        // Both write-backs are complete now. (Release, not SeqCst: a reader of the marker
        // holds this entry's map lock or this lane's lock, which order it against the store;
        // what must not be seen early is the clear, and a store cannot pass the persistence
        // point's fence. An xchg here would stall on the store buffer for nothing.)
        own.store(NO_ENTRY, Ordering::Release);
        flog::commit_entry(s, slot, entry)?;
        fe.advance(entry);
        match map::store_entry(s, &self.geo, premap, MapEntry::normal(new)) {
            Ok(off) => {
                own.store(off, Ordering::Release);
                Ok(())
            }
            Err(e) => {
                // The flog now frees `old` although the map may still point at it: further
                // writes from this handle could overwrite live data. Recovery happens on the
                // next open.
                self.failed.store(true, Ordering::Relaxed);
                Err(e)
            }
        }
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

    /// Make every map update this arena's lanes stored without writing back durable.
    pub(crate) fn flush<S: Storage + ?Sized>(&self, s: &S) -> Result<()> {
        let mut guards = Vec::new();
        let mut last = None;
        for l in &self.lanes {
            // Holding the lane keeps its marker from changing until the write-back is done.
            let g = lock(&l.state);
            let off = l.unflushed_map.load(Ordering::Acquire);
            if off != NO_ENTRY {
                io::flush(s, off, 4)?;
                last = Some(off);
                guards.push((g, &l.unflushed_map));
            }
        }
        if let Some(off) = last {
            // One persistence point completes all the write-backs started above.
            io::persist(s, off, 4)?;
        }
        for (_g, marker) in guards {
            marker.store(NO_ENTRY, Ordering::Release);
        }
        Ok(())
    }

    /// Current free entries of all lanes (for diagnostics and tests).
    pub fn free_entries(&self) -> Vec<FreeEntry> {
        self.lanes.iter().map(|l| lock(&l.state).free).collect()
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

//! Map operations (kernel `btt_map_read` / `btt_map_write`): reading an entry, the one
//! durable map update that is the last step of a BTT write, and the lock that serialises
//! updates of one entry.

use super::error::{BttError, Result};
use super::format::MapEntry;
use super::io::{self, Storage};
use super::layout::Geometry;

/// Read the raw map entry of `premap` (kernel `btt_map_read`, without flag decoding).
pub fn read_entry<S: Storage + ?Sized>(s: &S, geo: &Geometry, premap: u32) -> Result<MapEntry> {
    Ok(MapEntry {
        raw: io::read_u32(s, geo.map_entry(premap))?,
    })
}

/// Durably store `entry` as the map entry of `premap` (kernel `btt_map_write`). The word is
/// written with one aligned store, so a reader or a crash sees the old or the new entry.
pub fn write_entry<S: Storage + ?Sized>(
    s: &S,
    geo: &Geometry,
    premap: u32,
    entry: MapEntry,
) -> Result<()> {
    let off = store_entry(s, geo, premap, entry)?;
    io::flush(s, off, 4)?;
    io::persist(s, off, 4)
}

/// [`write_entry`] without the persistence point: the entry is visible at once but becomes
/// durable only when the caller flushes and persists the returned offset. Safe only while
/// the flog entry that records this update stays current for its lane (so a crash rolls
/// the update forward), i.e. until that lane's next write, which must make it durable first.
pub fn store_entry<S: Storage + ?Sized>(
    s: &S,
    geo: &Geometry,
    premap: u32,
    entry: MapEntry,
) -> Result<u64> {
    let off = geo.map_entry(premap);
    io::store_u32(s, off, entry.raw)?;
    Ok(off)
}

/// Index of the map lock that covers `premap`: the kernel hashes the entry's cache line.
pub fn lock_index(premap: u32, nlocks: usize) -> usize {
    (premap as usize * 4 / 64) % nlocks.max(1)
}

/// Check that a decoded postmap block exists, naming the entry otherwise.
pub fn check_postmap(
    geo: &Geometry,
    premap: u32,
    entry: MapEntry,
    internal_nlba: u32,
) -> Result<u32> {
    let post = entry.postmap(premap);
    if post >= internal_nlba {
        return Err(BttError::InvalidMap {
            arena_offset: geo.base,
            premap,
            reason: format!(
                "entry {:#010x} points to block {post}, beyond internal_nlba {internal_nlba}",
                entry.raw
            ),
        });
    }
    Ok(post)
}

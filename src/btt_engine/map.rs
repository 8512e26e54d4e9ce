//! Map operations: where an entry lives, reading it, and the durable map update that is the
//! last step of a BTT write.

use super::error::{BttError, Result};
use super::format::{MapEntry, MAP_ENT_NORMAL, MAP_ERR_MASK, MAP_LBA_MASK, MAP_TRIM_MASK};
use super::io::{self, Storage};
use super::layout::Geometry;

/// Absolute offset of the map entry for `premap`. The caller has checked
/// `premap < external_nlba`, and validation put the whole map inside the storage.
pub fn entry_offset(geo: &Geometry, premap: u32) -> u64 {
    geo.map + u64::from(premap) * 4
}

/// Read the raw map entry of `premap` (kernel `btt_map_read`, without flag decoding).
pub fn read_entry<S: Storage + ?Sized>(s: &S, geo: &Geometry, premap: u32) -> Result<MapEntry> {
    Ok(MapEntry {
        raw: io::read_u32(s, entry_offset(geo, premap))?,
    })
}

/// Durably point `premap` at `postmap` as a normal entry (kernel `btt_map_write` with neither
/// flag requested, which the on-media encoding spells as both bits set).
pub fn write_normal<S: Storage + ?Sized>(
    s: &S,
    geo: &Geometry,
    premap: u32,
    postmap: u32,
) -> Result<()> {
    io::write_u32_durable(
        s,
        entry_offset(geo, premap),
        (postmap & MAP_LBA_MASK) | MAP_ENT_NORMAL,
    )
}

/// Durably mark `premap` as reading zeros (Z flag), keeping its block.
pub fn write_zero_flag<S: Storage + ?Sized>(
    s: &S,
    geo: &Geometry,
    premap: u32,
    postmap: u32,
) -> Result<()> {
    io::write_u32_durable(
        s,
        entry_offset(geo, premap),
        (postmap & MAP_LBA_MASK) | MAP_TRIM_MASK,
    )
}

/// Durably mark `premap` as a media error (E flag), keeping its block.
pub fn write_error_flag<S: Storage + ?Sized>(
    s: &S,
    geo: &Geometry,
    premap: u32,
    postmap: u32,
) -> Result<()> {
    io::write_u32_durable(
        s,
        entry_offset(geo, premap),
        (postmap & MAP_LBA_MASK) | MAP_ERR_MASK,
    )
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

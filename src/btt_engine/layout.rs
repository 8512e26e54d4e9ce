//! Arena geometry: validating an info block's offsets and sizes against the storage, and
//! computing a fresh layout the way the kernel's `create_arenas` / `alloc_arena` do.

use super::format::{
    internal_lbasize, InfoBlock, ARENA_MAX_SIZE, ARENA_MIN_SIZE, DEFAULT_NFREE, INFO_SIZE,
    LOG_ENT_SIZE, LOG_GRP_SIZE, MAP_ENT_SIZE, MAP_LBA_MASK,
};

/// Largest nfree the engine accepts from media. Every known writer uses 256; the bound keeps
/// per-arena lane state small even for hostile images.
pub const MAX_NFREE: u32 = 4096;
/// Largest internal LBA size accepted from media (the kernel's largest is 4224 + padding).
pub const MAX_INTERNAL_LBASIZE: u32 = 1 << 20;
/// Smallest external LBA size (kernel and PMDK minimum).
pub const MIN_EXTERNAL_LBASIZE: u32 = 512;

/// An arena's regions as absolute storage offsets, derived from a validated info block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Absolute offset of the primary info block (the arena start).
    pub base: u64,
    /// Absolute offset of the data area.
    pub data: u64,
    /// Absolute offset of the map.
    pub map: u64,
    /// Absolute offset of the flog.
    pub log: u64,
    /// Absolute offset of the backup info block.
    pub info2: u64,
    /// Arena size: `nextoff`, or up to the end of the backup info block for the last arena.
    pub size: u64,
}

impl Geometry {
    /// Absolute offset of the map entry of `premap` (kernel `btt_map_read`/`btt_map_write`:
    /// `mapoff + premap * MAP_ENT_SIZE`). The caller has checked `premap < external_nlba`;
    /// validation put the whole map inside the storage.
    pub fn map_entry(&self, premap: u32) -> u64 {
        self.map + u64::from(premap) * MAP_ENT_SIZE
    }

    /// Absolute offset of lane `lane`'s group of four flog slots (`logoff + lane *
    /// LOG_GRP_SIZE`). The caller has checked `lane < nfree`.
    pub fn flog_group(&self, lane: u32) -> u64 {
        self.log + u64::from(lane) * LOG_GRP_SIZE
    }

    /// Absolute offset of slot `slot` (0..4, a physical slot, not a live index) of lane
    /// `lane`'s flog group.
    pub fn flog_slot(&self, lane: u32, slot: usize) -> u64 {
        self.flog_group(lane) + slot as u64 * LOG_ENT_SIZE
    }
}

fn add(a: u64, b: u64, what: &str) -> Result<u64, String> {
    a.checked_add(b)
        .ok_or_else(|| format!("{what} overflows 64 bits"))
}

fn mul(a: u64, b: u64, what: &str) -> Result<u64, String> {
    a.checked_mul(b)
        .ok_or_else(|| format!("{what} overflows 64 bits"))
}

/// Check that an info block at absolute offset `base` describes an arena that fits in a
/// storage of `storage_size` bytes, with non-overlapping regions in the order info, data,
/// map, flog, info2, and consistent counts. Returns the absolute geometry.
pub fn validate(info: &InfoBlock, base: u64, storage_size: u64) -> Result<Geometry, String> {
    if !(1..=2).contains(&info.version_major) {
        return Err(format!(
            "unsupported version {}.{}",
            info.version_major, info.version_minor
        ));
    }
    if info.external_lbasize < MIN_EXTERNAL_LBASIZE {
        return Err(format!(
            "external_lbasize {} is below {MIN_EXTERNAL_LBASIZE}",
            info.external_lbasize
        ));
    }
    if info.internal_lbasize < info.external_lbasize || info.internal_lbasize > MAX_INTERNAL_LBASIZE
    {
        return Err(format!(
            "internal_lbasize {} must be between external_lbasize {} and {MAX_INTERNAL_LBASIZE}",
            info.internal_lbasize, info.external_lbasize
        ));
    }
    if info.nfree == 0 || info.nfree > MAX_NFREE {
        return Err(format!("nfree {} is not in 1..={MAX_NFREE}", info.nfree));
    }
    if info.external_nlba == 0 {
        return Err("external_nlba is 0".into());
    }
    if info.external_nlba.checked_add(info.nfree) != Some(info.internal_nlba) {
        return Err(format!(
            "internal_nlba {} != external_nlba {} + nfree {}",
            info.internal_nlba, info.external_nlba, info.nfree
        ));
    }
    if u64::from(info.internal_nlba) > u64::from(MAP_LBA_MASK) + 1 {
        return Err(format!(
            "internal_nlba {} does not fit the map's 30-bit block numbers",
            info.internal_nlba
        ));
    }
    if info.dataoff < INFO_SIZE {
        return Err(format!(
            "dataoff {:#x} overlaps the info block",
            info.dataoff
        ));
    }
    if info.mapoff % MAP_ENT_SIZE != 0 || info.logoff % 8 != 0 {
        return Err(format!(
            "mapoff {:#x} / logoff {:#x} misaligned (need 4 / 8)",
            info.mapoff, info.logoff
        ));
    }
    let data_end = add(
        info.dataoff,
        mul(
            u64::from(info.internal_nlba),
            u64::from(info.internal_lbasize),
            "data area size",
        )?,
        "data area end",
    )?;
    if data_end > info.mapoff {
        return Err(format!(
            "data area [{:#x}, {data_end:#x}) runs into the map at {:#x}",
            info.dataoff, info.mapoff
        ));
    }
    let map_end = add(
        info.mapoff,
        u64::from(info.external_nlba) * MAP_ENT_SIZE,
        "map end",
    )?;
    if map_end > info.logoff {
        return Err(format!(
            "map [{:#x}, {map_end:#x}) runs into the flog at {:#x}",
            info.mapoff, info.logoff
        ));
    }
    let log_end = add(
        info.logoff,
        u64::from(info.nfree) * LOG_GRP_SIZE,
        "flog end",
    )?;
    if log_end > info.info2off {
        return Err(format!(
            "flog [{:#x}, {log_end:#x}) runs into the backup info block at {:#x}",
            info.logoff, info.info2off
        ));
    }
    let arena_end = add(info.info2off, INFO_SIZE, "backup info block end")?;
    let size = if info.nextoff != 0 {
        if info.nextoff < arena_end {
            return Err(format!(
                "nextoff {:#x} points inside this arena (which ends at {arena_end:#x})",
                info.nextoff
            ));
        }
        if info.nextoff % INFO_SIZE != 0 {
            return Err(format!("nextoff {:#x} is not 4 KiB aligned", info.nextoff));
        }
        info.nextoff
    } else {
        arena_end
    };
    let abs_end = add(base, size, "arena end")?;
    if abs_end > storage_size {
        return Err(format!(
            "arena [{base:#x}, {abs_end:#x}) extends beyond the storage size {storage_size:#x}"
        ));
    }
    if info.nextoff != 0 && add(abs_end, INFO_SIZE, "next info block end")? > storage_size {
        return Err(format!(
            "next arena at {abs_end:#x} would start beyond the storage size {storage_size:#x}"
        ));
    }
    Ok(Geometry {
        base,
        data: base + info.dataoff,
        map: base + info.mapoff,
        log: base + info.logoff,
        info2: base + info.info2off,
        size,
    })
}

/// One arena of a layout planned by [`plan_arenas`]. Offsets are relative to the BTT start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedArena {
    /// Offset of the arena's info block from the BTT start.
    pub offset: u64,
    /// Arena size as the kernel computes it.
    pub size: u64,
    /// The info block fields that depend on geometry (uuids and version filled by the caller).
    pub external_lbasize: u32,
    /// See [`InfoBlock::external_nlba`].
    pub external_nlba: u32,
    /// See [`InfoBlock::internal_lbasize`].
    pub internal_lbasize: u32,
    /// See [`InfoBlock::internal_nlba`].
    pub internal_nlba: u32,
    /// See [`InfoBlock::nfree`].
    pub nfree: u32,
    /// See [`InfoBlock::nextoff`].
    pub nextoff: u64,
    /// See [`InfoBlock::dataoff`].
    pub dataoff: u64,
    /// See [`InfoBlock::mapoff`].
    pub mapoff: u64,
    /// See [`InfoBlock::logoff`].
    pub logoff: u64,
    /// See [`InfoBlock::info2off`].
    pub info2off: u64,
}

/// Kernel `alloc_arena` sizing for one arena of `size` bytes.
fn plan_one(size: u64, lbasize: u32, nfree: u32) -> Result<PlannedArena, String> {
    let page = INFO_SIZE;
    let ilbasize = internal_lbasize(lbasize);
    let logsize = (u64::from(nfree) * LOG_GRP_SIZE).div_ceil(page) * page;
    let available = (size - size % page)
        .checked_sub(2 * page + logsize + page)
        .ok_or_else(|| format!("arena of {size} bytes is too small"))?;
    let internal_nlba = available / (u64::from(ilbasize) + MAP_ENT_SIZE);
    if internal_nlba <= u64::from(nfree) || internal_nlba > u64::from(MAP_LBA_MASK) + 1 {
        return Err(format!(
            "arena of {size} bytes gives {internal_nlba} blocks, outside what a BTT can hold"
        ));
    }
    let internal_nlba = internal_nlba as u32;
    let external_nlba = internal_nlba - nfree;
    let mapsize = (u64::from(external_nlba) * MAP_ENT_SIZE).div_ceil(page) * page;
    // `available` above had the page reserved for map rounding taken out; put it back.
    let datasize = available + page - mapsize;
    let dataoff = page;
    let mapoff = dataoff + datasize;
    let logoff = mapoff + mapsize;
    let info2off = logoff + logsize;
    Ok(PlannedArena {
        offset: 0,
        size,
        external_lbasize: lbasize,
        external_nlba,
        internal_lbasize: ilbasize,
        internal_nlba,
        nfree,
        nextoff: 0,
        dataoff,
        mapoff,
        logoff,
        info2off,
    })
}

/// Split `rawsize` bytes into arenas exactly as the kernel's `create_arenas` does: chunks of
/// `arena_max` (512 GiB for the kernel), a tail under 16 MiB is left unused.
pub fn plan_arenas(
    rawsize: u64,
    lbasize: u32,
    arena_max: u64,
) -> Result<Vec<PlannedArena>, String> {
    if !(ARENA_MIN_SIZE..=ARENA_MAX_SIZE).contains(&arena_max) {
        return Err(format!(
            "arena size limit {arena_max} must be between {ARENA_MIN_SIZE} and {ARENA_MAX_SIZE}"
        ));
    }
    let mut arenas = Vec::new();
    let mut remaining = rawsize;
    let mut cur = 0u64;
    while remaining > 0 {
        let arena_size = remaining.min(arena_max);
        remaining -= arena_size;
        if arena_size < ARENA_MIN_SIZE {
            break;
        }
        let mut a = plan_one(arena_size, lbasize, DEFAULT_NFREE)?;
        a.offset = cur;
        a.nextoff = if remaining >= ARENA_MIN_SIZE {
            arena_size
        } else {
            0
        };
        cur += arena_size;
        arenas.push(a);
    }
    if arenas.is_empty() {
        return Err(format!(
            "{rawsize} bytes is below the minimum BTT size of {ARENA_MIN_SIZE}"
        ));
    }
    Ok(arenas)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_layouts() {
        // nvdimm1.img: 128 MiB v1.1 namespace, 4096-byte sectors.
        let a = &plan_arenas((128 << 20) - 4096, 4096, ARENA_MAX_SIZE).unwrap()[0];
        assert_eq!((a.external_nlba, a.internal_nlba), (32472, 32728));
        assert_eq!(
            (a.mapoff, a.logoff, a.info2off),
            (0x7fda000, 0x7ffa000, 0x7ffe000)
        );
        // nvdimm2.img: 512 MiB v1.1, 512-byte sectors.
        let a = &plan_arenas((512 << 20) - 4096, 512, ARENA_MAX_SIZE).unwrap()[0];
        assert_eq!((a.external_nlba, a.internal_nlba), (1040128, 1040384));
        assert_eq!(
            (a.mapoff, a.logoff, a.info2off),
            (0x1fc02000, 0x1fffa000, 0x1fffe000)
        );
        // nvdimm3.img: 128 MiB v2.0, 4096-byte sectors.
        let a = &plan_arenas(128 << 20, 4096, ARENA_MAX_SIZE).unwrap()[0];
        assert_eq!((a.external_nlba, a.internal_nlba), (32473, 32729));
        assert_eq!(
            (a.mapoff, a.logoff, a.info2off),
            (0x7fdb000, 0x7ffb000, 0x7fff000)
        );
    }

    #[test]
    fn arena_split() {
        let v = plan_arenas(40 << 20, 512, 16 << 20).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].nextoff, 16 << 20);
        assert_eq!(v[1].nextoff, 0);
        assert!(plan_arenas(8 << 20, 512, ARENA_MAX_SIZE).is_err());
    }
}

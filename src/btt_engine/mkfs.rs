//! Writing a fresh BTT exactly as the kernel lays one out (`btt_meta_init` /
//! `btt_arena_write_layout`): per arena, zero the map, zero the flog and write each lane's
//! initial entry, then the backup info block and last the primary one, so that a valid
//! primary info block implies a complete layout.

use std::io::Read;

use uuid::Uuid;

use super::error::{BttError, Result};
use super::format::{
    lbasize_supported, FlogEntry, InfoBlock, ARENA_MAX_SIZE, BTT1_START_OFFSET, BTT2_START_OFFSET,
    INFO_SIZE, SIGNATURE,
};
use super::io::{self, Storage};
use super::layout::{self, plan_arenas, PlannedArena};

/// Parameters of [`format_btt`].
#[derive(Clone, Debug)]
pub struct FormatOptions {
    /// External LBA (sector) size: one of 512, 520, 528, 4096, 4104, 4160, 4224.
    pub lbasize: u32,
    /// (1, 1): first info block at namespace + 4096 (label-less and v1.1-label namespaces);
    /// (2, 0): at namespace + 0 (v1.2 labels with the BTT abstraction GUID).
    pub version: (u16, u16),
    /// UUID of the BTT; `None` draws a random one.
    pub uuid: Option<Uuid>,
    /// UUID of the namespace (nil for label-less namespaces: the kernel skips the check).
    pub parent_uuid: Uuid,
    /// Namespace size; `None` means up to the end of the storage.
    pub namespace_size: Option<u64>,
    /// Largest arena (the kernel's 512 GiB by default). Smaller values give multi-arena
    /// layouts on small namespaces, which the kernel reads (it follows `nextoff`) but would
    /// not have created.
    pub arena_max_size: u64,
}

impl FormatOptions {
    /// Defaults: v1.1, random uuid, nil parent uuid, whole storage, 512 GiB arenas.
    pub fn new(lbasize: u32) -> FormatOptions {
        FormatOptions {
            lbasize,
            version: (1, 1),
            uuid: None,
            parent_uuid: Uuid::nil(),
            namespace_size: None,
            arena_max_size: ARENA_MAX_SIZE,
        }
    }
}

fn random_uuid() -> Result<Uuid> {
    let mut b = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .map_err(|source| BttError::Io {
            offset: 0,
            len: 16,
            source,
        })?;
    Ok(uuid::Builder::from_random_bytes(b).into_uuid())
}

/// Format a BTT on the namespace at `namespace_offset`, overwriting whatever BTT was there.
/// Returns the primary info blocks written, one per arena.
///
/// The data area is left untouched, as the kernel does, except that a v2.0 format clears
/// the first 4 KiB of the data area so a stale v1.1 info block there cannot be found first.
pub fn format_btt<S: Storage + ?Sized>(
    s: &S,
    namespace_offset: u64,
    opts: &FormatOptions,
) -> Result<Vec<InfoBlock>> {
    if !lbasize_supported(opts.lbasize) {
        return Err(BttError::InvalidParameter(format!(
            "sector size {} is not one the kernel supports (512, 520, 528, 4096, 4104, 4160, 4224)",
            opts.lbasize
        )));
    }
    let start_rel = match opts.version {
        (1, 1) => BTT1_START_OFFSET,
        (2, 0) => BTT2_START_OFFSET,
        (a, b) => {
            return Err(BttError::InvalidParameter(format!(
                "version {a}.{b}: only 1.1 and 2.0 exist"
            )))
        }
    };
    let storage_size = s.size();
    let avail = storage_size.checked_sub(namespace_offset).ok_or_else(|| {
        BttError::InvalidParameter(format!(
            "namespace offset {namespace_offset:#x} is beyond the storage size {storage_size:#x}"
        ))
    })?;
    let ns_size = opts.namespace_size.unwrap_or(avail);
    if ns_size > avail {
        return Err(BttError::InvalidParameter(format!(
            "namespace of {ns_size:#x} bytes at {namespace_offset:#x} does not fit in {storage_size:#x}"
        )));
    }
    let rawsize = ns_size.saturating_sub(start_rel);
    let plan = plan_arenas(rawsize, opts.lbasize, opts.arena_max_size)
        .map_err(BttError::InvalidParameter)?;
    let uuid = match opts.uuid {
        Some(u) => u,
        None => random_uuid()?,
    };
    let start = namespace_offset + start_rel;
    let mut written = Vec::with_capacity(plan.len());
    for a in &plan {
        let info = InfoBlock {
            signature: SIGNATURE,
            uuid,
            parent_uuid: opts.parent_uuid,
            flags: 0,
            version_major: opts.version.0,
            version_minor: opts.version.1,
            external_lbasize: a.external_lbasize,
            external_nlba: a.external_nlba,
            internal_lbasize: a.internal_lbasize,
            internal_nlba: a.internal_nlba,
            nfree: a.nfree,
            infosize: INFO_SIZE as u32,
            nextoff: a.nextoff,
            dataoff: a.dataoff,
            mapoff: a.mapoff,
            logoff: a.logoff,
            info2off: a.info2off,
            checksum: 0,
            padding_zero: true,
        };
        write_arena_layout(s, start + a.offset, a, &info)?;
        let raw = info.serialize();
        written.push(InfoBlock::parse(&raw));
    }
    if opts.version == (2, 0) {
        let stale = namespace_offset + BTT1_START_OFFSET;
        io::write_durable(s, stale, &[0u8; INFO_SIZE as usize])?;
    }
    Ok(written)
}

/// Zero `[off, off + len)` in bounded chunks and persist it.
fn zero_range<S: Storage + ?Sized>(s: &S, off: u64, len: u64) -> Result<()> {
    const CHUNK: u64 = 1 << 20;
    let zeros = vec![0u8; CHUNK.min(len) as usize];
    let mut done = 0;
    while done < len {
        let n = CHUNK.min(len - done);
        io::write_all(s, off + done, &zeros[..n as usize])?;
        done += n;
    }
    io::persist(s, off, len)
}

/// Kernel `btt_arena_write_layout` for one arena whose info block goes to absolute `base`.
fn write_arena_layout<S: Storage + ?Sized>(
    s: &S,
    base: u64,
    a: &PlannedArena,
    info: &InfoBlock,
) -> Result<()> {
    // The geometry the engine will later load from this info block; validating it here
    // also proves the planned layout fits the storage before anything is written.
    let geo = layout::validate(info, base, s.size()).map_err(|reason| {
        BttError::InvalidParameter(format!("planned arena at {base:#x} is invalid: {reason}"))
    })?;
    // btt_map_init: the whole map area (up to the flog) reads as initial entries.
    zero_range(s, geo.map, geo.log - geo.map)?;
    // btt_log_init: zero the flog area, then slot 0 of each lane = {i, ext+i, ext+i, 1}.
    let mut log = vec![0u8; (geo.info2 - geo.log) as usize];
    for lane in 0..a.nfree {
        let block = a.external_nlba + lane;
        let e = FlogEntry {
            lba: lane,
            old_map: block,
            new_map: block,
            seq: 1,
        };
        let off = (geo.flog_slot(lane, 0) - geo.log) as usize;
        log[off..off + 16].copy_from_slice(&e.to_bytes());
    }
    io::write_durable(s, geo.log, &log)?;
    // btt_info_write: backup first, then primary.
    let raw = info.serialize();
    io::write_durable(s, geo.info2, &raw)?;
    io::write_durable(s, geo.base, &raw)
}

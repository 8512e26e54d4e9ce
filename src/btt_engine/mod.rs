//! Offline Block Translation Table engine: open, read, write, check, repair and format the
//! BTTs that the Linux kernel's `nd_btt` driver (and PMDK's libpmemblk) keep on NVDIMM
//! namespaces, on any [`Storage`]: an image file or block device, a memory map, or memory.
//!
//! The module follows the kernel's `drivers/nvdimm/btt.c` step by step: [`format`] holds the
//! on-media structures, [`layout`] the arena geometry, [`map`] and [`flog`] the individual
//! metadata updates, [`arena`] the per-block read and write protocols, [`check`] the offline
//! checker and repairer, and [`mkfs`] the kernel-compatible layout writer.
//!
//! ```
//! use ndctl::btt_engine::{format_btt, BttMedia, FormatOptions, MemStorage};
//! let storage = MemStorage::new(20 << 20);
//! format_btt(&storage, 0, &FormatOptions::new(512)).unwrap();
//! let btt = BttMedia::open(&storage, 0).unwrap();
//! btt.write_sector(7, &[0xAB; 512]).unwrap();
//! let mut buf = [0u8; 512];
//! btt.read_sector(7, &mut buf).unwrap();
//! assert_eq!(buf, [0xAB; 512]);
//! assert!(ndctl::btt_engine::check(&storage, 0).unwrap().is_clean());
//! ```

pub mod arena;
pub mod check;
pub mod error;
pub mod flog;
pub mod format;
pub mod io;
pub mod layout;
pub mod map;
pub mod mkfs;

use std::sync::atomic::{AtomicUsize, Ordering};

pub use arena::{Arena, RollForward};
pub use check::{
    check, check_with, repair, CheckOptions, Finding, RepairOptions, Report, Severity,
};
pub use error::{BttError, Result};
pub use format::InfoBlock;
pub use io::{Durability, FileStorage, MemStorage, MmapStorage, Storage};
pub use mkfs::{format_btt, FormatOptions};

use format::{BTT1_START_OFFSET, BTT2_START_OFFSET};

/// How to open a BTT.
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    /// Never write: unfinished map updates are applied in memory only, and writes fail.
    pub read_only: bool,
    /// Use at most this many lanes per arena (never more than `nfree`). The default, twice
    /// the number of CPUs but at least 4, mirrors the kernel's per-CPU lanes while leaving
    /// room for more threads than CPUs; each write scans the RTT slots of all lanes in use.
    pub max_lanes: Option<usize>,
}

/// Where the first info block was found.
#[derive(Clone, Debug)]
pub(crate) struct Located {
    pub start: u64,
    pub info: InfoBlock,
}

/// Find the first info block of the BTT in the namespace starting at `namespace_offset`: a
/// v1.x block at +4096, else a v2.x block at +0, as the kernel and check-namespace do.
pub(crate) fn locate<S: Storage + ?Sized>(s: &S, namespace_offset: u64) -> Result<Located> {
    let mut reasons = Vec::new();
    for (rel, major) in [(BTT1_START_OFFSET, 1u16), (BTT2_START_OFFSET, 2u16)] {
        let Some(start) = namespace_offset.checked_add(rel) else {
            reasons.push(format!("+{rel:#x}: offset overflows"));
            continue;
        };
        match arena::read_info(s, start) {
            Ok((info, _)) if info.version_major == major => return Ok(Located { start, info }),
            Ok((info, _)) => reasons.push(format!(
                "+{rel:#x}: version {} found where the kernel expects {major}.x",
                info.version_string()
            )),
            Err(BttError::InvalidInfo { reason, .. }) => {
                reasons.push(format!("+{rel:#x}: {reason}"))
            }
            Err(BttError::OutOfBounds { .. }) => {
                reasons.push(format!("+{rel:#x}: beyond the end of the storage"))
            }
            Err(e) => return Err(e),
        }
    }
    Err(BttError::NotFound {
        namespace_offset,
        reason: reasons.join("; "),
    })
}

/// Upper bound on the number of arenas followed: a chain longer than this is treated as
/// corrupt rather than walked (each real arena is at least 16 MiB, so this covers 64 PiB).
pub const MAX_ARENAS: usize = 1 << 22;

/// A BTT opened on its media (a [`Storage`]): the engine that reads and writes sectors
/// through the map and flog itself. Not to be confused with [`crate::Btt`], the kernel's
/// `btt` device seen through sysfs. `BttMedia` is `Sync`: share it between threads (e.g. in
/// an `Arc`) to read and write sectors concurrently.
pub struct BttMedia<S: Storage> {
    storage: S,
    namespace_offset: u64,
    start: u64,
    arenas: Vec<Arena>,
    nlba: u64,
    lbasize: u32,
    read_only: bool,
}

impl<S: Storage> std::fmt::Debug for BttMedia<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BttMedia")
            .field("namespace_offset", &self.namespace_offset)
            .field("start", &self.start)
            .field("nlba", &self.nlba)
            .field("lbasize", &self.lbasize)
            .field("arenas", &self.arenas.len())
            .finish()
    }
}

impl<S: Storage> Drop for BttMedia<S> {
    fn drop(&mut self) {
        if let Err(e) = self.flush() {
            // Nothing is lost (the flog rolls the map forward on the next open), but say so.
            log::warn!(
                "BTT at {:#x}: flushing map updates on close: {e}",
                self.start
            );
        }
    }
}

static NEXT_LANE_HINT: AtomicUsize = AtomicUsize::new(0);
thread_local! {
    // Spread threads over lanes the way the kernel's per-CPU lanes spread CPUs.
    static LANE_HINT: usize = NEXT_LANE_HINT.fetch_add(1, Ordering::Relaxed);
}

impl<S: Storage> BttMedia<S> {
    /// Open the BTT of the namespace at `namespace_offset` for reading and writing, completing
    /// any map update a crash interrupted (as the kernel does on attach).
    pub fn open(storage: S, namespace_offset: u64) -> Result<BttMedia<S>> {
        BttMedia::open_with(storage, namespace_offset, &OpenOptions::default())
    }

    /// Open with explicit options.
    pub fn open_with(storage: S, namespace_offset: u64, opts: &OpenOptions) -> Result<BttMedia<S>> {
        let located = locate(&storage, namespace_offset)?;
        let max_lanes = opts
            .max_lanes
            .unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(4, |n| (2 * n.get()).max(4))
            })
            .max(1);
        let mut arenas: Vec<Arena> = Vec::new();
        let mut base = located.start;
        let mut lba_start = 0u64;
        loop {
            let arena = Arena::load(
                &storage,
                arenas.len(),
                base,
                lba_start,
                !opts.read_only,
                max_lanes,
            )?;
            if arena.info.version_major != located.info.version_major
                || arena.info.external_lbasize != located.info.external_lbasize
            {
                return Err(BttError::InvalidInfo {
                    offset: base,
                    reason: format!(
                        "arena {} has version {} / lbasize {}, the first arena {} / {}",
                        arenas.len(),
                        arena.info.version_string(),
                        arena.info.external_lbasize,
                        located.info.version_string(),
                        located.info.external_lbasize
                    ),
                });
            }
            lba_start += u64::from(arena.info.external_nlba);
            let next = arena.info.nextoff;
            arenas.push(arena);
            if next == 0 {
                break;
            }
            if arenas.len() >= MAX_ARENAS {
                return Err(BttError::InvalidInfo {
                    offset: base,
                    reason: format!("more than {MAX_ARENAS} arenas chained"),
                });
            }
            // validate() checked base + nextoff + 4096 <= storage size.
            base += next;
        }
        Ok(BttMedia {
            namespace_offset,
            start: located.start,
            nlba: lba_start,
            lbasize: located.info.external_lbasize,
            read_only: opts.read_only,
            arenas,
            storage,
        })
    }

    /// Size of one sector (external LBA) in bytes, integrity metadata included.
    pub fn lba_size(&self) -> u32 {
        self.lbasize
    }

    /// Number of sectors.
    pub fn nlba(&self) -> u64 {
        self.nlba
    }

    /// Version of the first arena, e.g. (1, 1) or (2, 0).
    pub fn version(&self) -> (u16, u16) {
        self.arenas
            .first()
            .map(|a| (a.info.version_major, a.info.version_minor))
            .unwrap_or((0, 0))
    }

    /// The loaded arenas.
    pub fn arenas(&self) -> &[Arena] {
        &self.arenas
    }

    /// The storage the BTT lives on.
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// Make the map updates of completed writes durable in the map itself. A completed
    /// write is durable without this (its flog entry lets the next open roll the map
    /// forward); flushing leaves media on which neither the kernel nor [`check`] finds an
    /// unfinished write. Dropping the handle flushes too.
    pub fn flush(&self) -> Result<()> {
        if self.read_only {
            return Ok(());
        }
        for a in &self.arenas {
            a.flush(&self.storage)?;
        }
        Ok(())
    }

    /// Flush, close the BTT and give the storage back.
    pub fn into_storage(self) -> Result<S> {
        self.flush()?;
        let mut me = std::mem::ManuallyDrop::new(self);
        // SAFETY: `me` is never used again and its Drop does not run; every field that owns
        // anything is moved out (storage) or dropped (arenas) exactly once here, and the rest
        // are plain values.
        unsafe {
            std::ptr::drop_in_place(&mut me.arenas);
            Ok(std::ptr::read(&me.storage))
        }
    }

    fn locate_lba(&self, lba: u64, len: usize) -> Result<(&Arena, u32)> {
        if len != self.lbasize as usize {
            return Err(BttError::BadBuffer {
                expected: self.lbasize as usize,
                got: len,
            });
        }
        if lba >= self.nlba {
            return Err(BttError::LbaOutOfRange {
                lba,
                nlba: self.nlba,
            });
        }
        let idx = self.arenas.partition_point(|a| a.lba_start <= lba) - 1;
        let arena = &self.arenas[idx];
        // lba - lba_start < external_nlba (a u32) by construction of lba_start.
        Ok((arena, (lba - arena.lba_start) as u32))
    }

    /// Read one sector into `buf` (exactly [`BttMedia::lba_size`] bytes). Sectors never written
    /// return the data of the block with the same number, as the kernel does; sectors with the
    /// zero flag read as zeros; sectors with the error flag fail with
    /// [`BttError::MediaError`].
    pub fn read_sector(&self, lba: u64, buf: &mut [u8]) -> Result<()> {
        let (arena, premap) = self.locate_lba(lba, buf.len())?;
        arena.read_block(&self.storage, LANE_HINT.with(|h| *h), premap, buf)
    }

    /// Write one sector atomically: after a crash at any point the sector holds either its
    /// old or its new contents, and once this returns the new contents are durable (subject
    /// to the storage's [`Durability`]).
    pub fn write_sector(&self, lba: u64, buf: &[u8]) -> Result<()> {
        if self.read_only {
            return Err(BttError::ReadOnly);
        }
        let (arena, premap) = self.locate_lba(lba, buf.len())?;
        let hint = LANE_HINT.with(|h| *h);
        let mut lane = arena.acquire_lane(hint);
        arena.write_block(&self.storage, &mut lane, premap, buf)
    }

    /// Check a multi-sector transfer of `len` bytes at `lba` before doing any of it: whole
    /// sectors, all inside the device. Returns the number of sectors.
    fn check_run(&self, lba: u64, len: usize) -> Result<u64> {
        let n = self.lbasize as usize;
        if len % n != 0 {
            return Err(BttError::BadBuffer {
                expected: n,
                got: len,
            });
        }
        let count = (len / n) as u64;
        match lba.checked_add(count) {
            Some(end) if end <= self.nlba => Ok(count),
            _ => Err(BttError::LbaOutOfRange {
                lba: lba.saturating_add(count.saturating_sub(1)),
                nlba: self.nlba,
            }),
        }
    }

    /// Read consecutive sectors starting at `lba`; `buf.len()` must be a multiple of the
    /// sector size. Fails before reading anything if the run leaves the device.
    pub fn read_sectors(&self, lba: u64, buf: &mut [u8]) -> Result<()> {
        self.check_run(lba, buf.len())?;
        for (i, chunk) in buf.chunks_mut(self.lbasize as usize).enumerate() {
            self.read_sector(lba + i as u64, chunk)?;
        }
        Ok(())
    }

    /// Write consecutive sectors starting at `lba`, each one atomically (like a multi-page
    /// bio in the kernel: a crash may leave some sectors new and later ones old); `buf.len()`
    /// must be a multiple of the sector size. Fails before writing anything if the run
    /// leaves the device.
    pub fn write_sectors(&self, lba: u64, buf: &[u8]) -> Result<()> {
        self.check_run(lba, buf.len())?;
        for (i, chunk) in buf.chunks(self.lbasize as usize).enumerate() {
            self.write_sector(lba + i as u64, chunk)?;
        }
        Ok(())
    }

    /// A description of the BTT and all its info blocks.
    pub fn info(&self) -> BttInfo {
        BttInfo {
            namespace_offset: self.namespace_offset,
            btt_offset: self.start,
            version: self.version(),
            external_lbasize: self.lbasize,
            external_nlba: self.nlba,
            arenas: self
                .arenas
                .iter()
                .map(|a| ArenaInfo {
                    index: a.index,
                    offset: a.geo.base,
                    external_lba_start: a.lba_start,
                    log_indices: a.log_indices,
                    info: a.info.clone(),
                })
                .collect(),
        }
    }
}

/// A snapshot of a BTT's layout, see [`BttMedia::info`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BttInfo {
    /// Start of the namespace in the storage.
    pub namespace_offset: u64,
    /// Absolute offset of the first info block.
    pub btt_offset: u64,
    /// (major, minor).
    pub version: (u16, u16),
    /// Sector size.
    pub external_lbasize: u32,
    /// Total sectors over all arenas.
    pub external_nlba: u64,
    /// Every arena.
    pub arenas: Vec<ArenaInfo>,
}

/// One arena in a [`BttInfo`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArenaInfo {
    /// Position in the chain.
    pub index: usize,
    /// Absolute offset of the primary info block.
    pub offset: u64,
    /// First external LBA of the arena.
    pub external_lba_start: u64,
    /// Live flog slots, (0,1) or (0,2).
    pub log_indices: [usize; 2],
    /// The primary info block.
    pub info: InfoBlock,
}

impl BttInfo {
    /// JSON as printed by `btt info`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "version": format!("{}.{}", self.version.0, self.version.1),
            "namespace_offset": self.namespace_offset,
            "btt_offset": self.btt_offset,
            "external_lbasize": self.external_lbasize,
            "external_nlba": self.external_nlba,
            "arenas": self.arenas.iter().map(|a| {
                let mut v = serde_json::json!({
                    "index": a.index,
                    "offset": a.offset,
                    "external_lba_start": a.external_lba_start,
                    "log_indices": a.log_indices,
                });
                if let (Some(obj), serde_json::Value::Object(fields)) =
                    (v.as_object_mut(), a.info.to_json())
                {
                    obj.extend(fields);
                }
                v
            }).collect::<Vec<_>>(),
        })
    }
}

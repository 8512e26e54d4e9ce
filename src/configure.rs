//! Namespace configuration the way `ndctl create-namespace` / `destroy-namespace` do it:
//! set up a namespace in a requested mode (raw, sector, fsdax, devdax), reconfigure an
//! existing one into another mode, and tear one down.
//!
//! The object model only exposes the kernel's individual knobs; building a mode from them
//! has a trap that this module exists to avoid. A btt, pfn or dax device writes an info
//! block at the start of the namespace, and the kernel, whenever the bare namespace is
//! enabled, looks for such a block and re-attaches the personality it describes. So
//! reconfiguring a label-less namespace by tearing down its claim and setting up a new one
//! silently ends in the *old* mode (sector 4096 read back with 512-byte sectors, devdax
//! coming back as devdax when raw was asked). [`reconfigure`] therefore zeroes the first
//! 8 KiB of the namespace through its raw block device before re-claiming it (as ndctl
//! does), and every setup checks which personality the kernel really attached: anything
//! other than the one asked for is an error, never a quiet success.

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::namespace::{Claim, Mode, Namespace};
use crate::pfn::Location;
use crate::region::Region;

/// The bytes at the start of a namespace that hold any btt (v2.0 at 0, v1.1 at 4 KiB),
/// pfn or dax (both at 4 KiB) info block.
const INFO_BLOCK_SPAN: usize = 8192;

/// What a namespace should become.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The mode to end in.
    pub mode: Mode,
    /// Capacity of a labelled namespace; `None`: the region's largest free extent (on
    /// [`create`]) or the current size (on [`reconfigure`]). Label-less namespaces have a
    /// fixed size and refuse any other.
    pub size: Option<u64>,
    /// Sector mode: the BTT's sector size (default 4096, as ndctl).
    pub sector_size: Option<u32>,
    /// fsdax: where the memmap lives (default [`Location::Pmem`], ndctl's `--map=dev`).
    pub map: Location,
    /// fsdax / devdax: the alignment (default: the kernel's).
    pub align: Option<u64>,
    /// Namespace uuid of a labelled namespace (default: random, or kept on reconfigure).
    pub uuid: Option<uuid::Uuid>,
    /// Name (`alt_name`) of a labelled namespace.
    pub name: Option<String>,
}

impl Config {
    /// A configuration for `mode` with every other setting at ndctl's default.
    pub fn new(mode: Mode) -> Config {
        Config {
            mode,
            size: None,
            sector_size: None,
            map: Location::Pmem,
            align: None,
            uuid: None,
            name: None,
        }
    }
}

fn is_labelless(ns: &Namespace) -> bool {
    ns.type_name() == "namespace_io"
}

fn random_uuid() -> Result<uuid::Uuid> {
    let mut b = [0u8; 16];
    let mut got = 0;
    while got < b.len() {
        // SAFETY: the pointer and length describe the unfilled tail of `b`.
        let n = unsafe { libc::getrandom(b[got..].as_mut_ptr().cast(), b.len() - got, 0) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(Error::Failed {
                object: "uuid".into(),
                reason: format!("getrandom: {e}"),
            });
        }
        got += n as usize;
    }
    Ok(uuid::Builder::from_random_bytes(b).into_uuid())
}

/// Create a namespace in `region` as `cfg` asks: the region's namespace seed for labelled
/// regions, the (idle) label-less namespace otherwise. Returns the namespace, enabled in
/// the requested mode.
pub fn create(region: &Arc<Region>, cfg: &Config) -> Result<Arc<Namespace>> {
    if region.read_only() {
        return Err(Error::Failed {
            object: region.devname().into(),
            reason: "region is read-only".into(),
        });
    }
    region.refresh_children()?;
    let ns = match region.namespace_seed()? {
        Some(seed) if !is_labelless(&seed) => seed,
        _ => {
            let idle = region
                .namespaces()?
                .into_iter()
                .find(|n| is_labelless(n) && n.is_valid() && !n.is_active().unwrap_or(true));
            idle.ok_or_else(|| Error::Busy {
                object: region.devname().into(),
                reason: "no namespace seed and no idle label-less namespace".into(),
            })?
        }
    };
    setup(region, &ns, cfg)?;
    Ok(ns)
}

/// Reconfigure `ns` into the mode `cfg` asks, whatever it is now (`ndctl create-namespace
/// -f -e`): tear down its btt/pfn/dax, zero any info block on the media, then set it up
/// again. A labelled namespace is deleted and re-created with its uuid, name and size
/// unless `cfg` gives others; a label-less one is reused in place. Returns the namespace
/// now carrying the configuration (for labelled regions a different object than `ns`).
pub fn reconfigure(ns: &Arc<Namespace>, cfg: &Config) -> Result<Arc<Namespace>> {
    let region = Arc::clone(ns.region());
    prepare(&region, ns)?;
    if is_labelless(ns) {
        setup(&region, ns, cfg)?;
        return Ok(Arc::clone(ns));
    }
    let mut cfg = cfg.clone();
    if cfg.size.is_none() {
        cfg.size = Some(ns.size());
    }
    if cfg.uuid.is_none() {
        cfg.uuid = ns.uuid()?;
    }
    if cfg.name.is_none() {
        cfg.name = ns.alt_name()?;
    }
    ns.delete()?;
    create(&region, &cfg)
}

/// Tear a namespace down (`ndctl destroy-namespace -f`): disable it and its claim, zero
/// any info block, and release a labelled namespace's capacity. A label-less namespace
/// stays, disabled and raw.
pub fn destroy(ns: &Arc<Namespace>) -> Result<()> {
    let region = Arc::clone(ns.region());
    prepare(&region, ns)?;
    if !is_labelless(ns) {
        ns.delete()?;
    }
    Ok(())
}

/// Disable `ns` safely, drop its claim class and zero the info block area.
fn prepare(region: &Arc<Region>, ns: &Arc<Namespace>) -> Result<()> {
    if region.read_only() {
        return Err(Error::Failed {
            object: ns.devname().into(),
            reason: format!("{} is read-only", region.devname()),
        });
    }
    ns.disable_safe()?;
    if ns.size() > 0 {
        enforce(ns, Mode::Raw)?;
    }
    if ns.size() > 0 {
        zero_info_block(ns)?;
    }
    Ok(())
}

/// Zero the first [`INFO_BLOCK_SPAN`] bytes of the namespace through its block device,
/// enabled in forced raw mode so no claim can attach meanwhile.
fn zero_info_block(ns: &Arc<Namespace>) -> Result<()> {
    ns.set_raw_mode(true)?;
    let result = ns.enable().and_then(|_| write_zeroes(ns));
    let restore = ns.set_raw_mode(false);
    let disable = ns.disable_invalidate();
    result?;
    restore?;
    disable
}

fn write_zeroes(ns: &Namespace) -> Result<()> {
    let bdev = ns.block_device()?.ok_or_else(|| Error::Failed {
        object: ns.devname().into(),
        reason: "enabled in raw mode but no block device appeared".into(),
    })?;
    let path = ns
        .device()
        .sysfs()
        .dev_node(&bdev)
        .ok_or_else(|| Error::Failed {
            object: ns.devname().into(),
            reason: format!("/dev/{bdev} does not exist"),
        })?;
    // O_EXCL: nobody else may have the namespace open while its metadata goes away.
    // O_DIRECT: the zeroes reach the media before the block device is torn down.
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_EXCL | libc::O_DIRECT)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    // O_DIRECT wants a page-aligned buffer.
    let mut backing = vec![0u8; INFO_BLOCK_SPAN + 4096];
    let skew = backing.as_ptr().align_offset(4096);
    let buf = &mut backing[skew..skew + INFO_BLOCK_SPAN];
    f.read_exact(buf).map_err(|e| Error::io(&path, e))?;
    if buf.iter().all(|&b| b == 0) {
        return Ok(());
    }
    buf.fill(0);
    f.seek(SeekFrom::Start(0))
        .and_then(|_| f.write_all(buf))
        .and_then(|_| f.sync_all())
        .map_err(|e| Error::io(&path, e))
}

/// Configure and enable `ns` (disabled, no claim) in `cfg`'s mode, then verify the mode
/// the kernel really attached.
fn setup(region: &Arc<Region>, ns: &Arc<Namespace>, cfg: &Config) -> Result<()> {
    let labelless = is_labelless(ns);
    if !labelless {
        let uuid = match cfg.uuid {
            Some(u) => u,
            None => random_uuid()?,
        };
        ns.set_uuid(uuid)?;
        if let Some(name) = &cfg.name {
            ns.set_alt_name(name)?;
        }
        let size = match cfg.size {
            Some(s) => s,
            None => region.max_available_extent()?.unwrap_or(0),
        };
        ns.set_size(size)?;
    } else if let Some(size) = cfg.size.filter(|&s| s != ns.size()) {
        return Err(Error::invalid(
            ns.devname(),
            format!(
                "a label-less namespace has the fixed size {}, not {size}",
                ns.size()
            ),
        ));
    }
    // The claim class goes into a v1.2 label (it decides BTT 2.0 vs 1.1).
    enforce(ns, cfg.mode)?;
    match cfg.mode {
        Mode::Sector => {
            let btt = region.btt_seed()?.ok_or_else(|| no_seed(region, "btt"))?;
            btt.set_uuid(random_uuid()?)?;
            btt.set_sector_size(cfg.sector_size.unwrap_or(4096))?;
            btt.set_namespace(Some(ns))?;
            btt.enable()?;
        }
        Mode::Fsdax => {
            let pfn = region.pfn_seed()?.ok_or_else(|| no_seed(region, "pfn"))?;
            pfn.set_uuid(random_uuid()?)?;
            pfn.set_location(cfg.map)?;
            if let Some(a) = cfg.align {
                pfn.set_align(a)?;
            }
            pfn.set_namespace(Some(ns))?;
            pfn.enable()?;
        }
        Mode::Devdax => {
            let dax = region.dax_seed()?.ok_or_else(|| no_seed(region, "dax"))?;
            dax.set_uuid(random_uuid()?)?;
            dax.set_location(cfg.map)?;
            if let Some(a) = cfg.align {
                dax.set_align(a)?;
            }
            dax.set_namespace(Some(ns))?;
            dax.enable()?;
        }
        Mode::Raw => {
            ns.enable()?;
        }
        Mode::Unknown => {
            return Err(Error::invalid(
                ns.devname(),
                "cannot configure mode unknown",
            ));
        }
    }
    verify_mode(ns, cfg)
}

/// Set the claim class. On a label-less namespace the kernel stores the class, then fails
/// the label update that has no label to write with ENXIO: the class is in force all the
/// same (a stale "btt" class makes the kernel refuse a pfn or dax claim with EBUSY). So,
/// as ndctl does, the class is always written and that ENXIO is not an error there.
fn enforce(ns: &Namespace, mode: Mode) -> Result<()> {
    match ns.set_enforce_mode(mode) {
        Err(e) if is_labelless(ns) && e.errno() == -libc::ENXIO => Ok(()),
        r => r,
    }
}

fn no_seed(region: &Region, what: &str) -> Error {
    Error::Failed {
        object: region.devname().into(),
        reason: format!("the region offers no {what} seed"),
    }
}

/// The personality now attached to `ns`, and the object that carries it.
fn attached(ns: &Namespace) -> Result<Option<(Mode, String)>> {
    // One read of `holder` for the three kinds (btt(), pfn() and dax() read it each).
    if let Some(c) = ns.claim()? {
        if c.is_enabled()? {
            let (mode, name) = match &c {
                Claim::Btt(b) => (Mode::Sector, b.devname()),
                Claim::Pfn(p) => (Mode::Fsdax, p.devname()),
                Claim::Dax(d) => (Mode::Devdax, d.devname()),
            };
            return Ok(Some((mode, name.to_string())));
        }
    }
    if ns.is_enabled()? {
        return Ok(Some((Mode::Raw, ns.devname().to_string())));
    }
    Ok(None)
}

/// An enable that ended in another personality than the one asked for (an info block
/// left on the media re-attached) is an error, as is one that ended in none.
fn verify_mode(ns: &Namespace, cfg: &Config) -> Result<()> {
    ns.region().refresh_children()?;
    match attached(ns)? {
        Some((mode, _)) if mode == cfg.mode => {}
        Some((mode, dev)) => {
            return Err(Error::Failed {
                object: ns.devname().into(),
                reason: format!(
                    "asked for {} mode, but the kernel attached {dev} ({} mode) from an \
                     info block on the media",
                    cfg.mode.as_str(),
                    mode.as_str()
                ),
            })
        }
        None => {
            return Err(Error::Failed {
                object: ns.devname().into(),
                reason: format!("not active after enabling it in {} mode", cfg.mode.as_str()),
            })
        }
    }
    if cfg.mode == Mode::Sector {
        let want = cfg.sector_size.unwrap_or(4096);
        let btt = ns.btt()?.ok_or_else(|| Error::Failed {
            object: ns.devname().into(),
            reason: "sector mode without a btt".into(),
        })?;
        if let Some(got) = btt.sector_size()? {
            if got != want {
                return Err(Error::Failed {
                    object: ns.devname().into(),
                    reason: format!(
                        "asked for {want}-byte sectors, the kernel attached {} with {got}-byte \
                         sectors from an info block on the media",
                        btt.devname()
                    ),
                });
            }
        }
    }
    Ok(())
}

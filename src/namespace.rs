//! Namespaces (`namespaceR.N`): the units of capacity carved from a region.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crate::badblock::{parse_badblocks, BadBlock};
use crate::btt::Btt;
use crate::children::ChildKind;
use crate::children::{tree_object, BlockDeviceName, ChildList, Node};
use crate::dax::Dax;
use crate::device_type::DeviceType;
use crate::error::{absent_unless_exhausted, Error, Result};
use crate::pfn::Pfn;
use crate::region::Region;
use crate::sysfs::{parse_size_list, AttrSet, Device};

/// Smallest namespace libndctl considers configured (`ND_MIN_NAMESPACE_SIZE`, a page).
pub const MIN_NAMESPACE_SIZE: u64 = 4096;

/// The device that claims a namespace (its `holder`).
#[derive(Debug, Clone)]
pub enum Claim {
    /// A btt device: sector mode.
    Btt(Arc<Btt>),
    /// A pfn device: fsdax mode with the memmap on the media.
    Pfn(Arc<Pfn>),
    /// A dax device: devdax mode.
    Dax(Arc<Dax>),
}

impl Claim {
    /// Whether the claiming device is bound to its driver (asked now).
    pub fn is_enabled(&self) -> Result<bool> {
        match self {
            Claim::Btt(b) => b.is_enabled(),
            Claim::Pfn(p) => p.is_enabled(),
            Claim::Dax(d) => d.is_enabled(),
        }
    }

    /// The mode the claim puts the namespace in.
    pub fn mode(&self) -> Mode {
        match self {
            Claim::Btt(_) => Mode::Sector,
            Claim::Pfn(_) => Mode::Fsdax,
            Claim::Dax(_) => Mode::Devdax,
        }
    }
}

/// How a namespace is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `memory`: a pfn device (fsdax).
    Fsdax,
    /// `safe`: a btt device (sector).
    Sector,
    /// `raw`: the namespace block device itself.
    Raw,
    /// `dax`: a device-dax character device (devdax).
    Devdax,
    /// A `holder_class` libndctl does not know.
    Unknown,
}

impl Mode {
    /// The name `ndctl` prints (`fsdax`, `sector`, `raw`, `devdax`).
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Fsdax => "fsdax",
            Mode::Sector => "sector",
            Mode::Raw => "raw",
            Mode::Devdax => "devdax",
            Mode::Unknown => "unknown",
        }
    }

    /// libndctl's `enum ndctl_namespace_mode` value.
    pub fn to_c(self) -> i32 {
        match self {
            Mode::Fsdax => 0,
            Mode::Sector => 1,
            Mode::Raw => 2,
            Mode::Devdax => 3,
            Mode::Unknown => 4,
        }
    }

    /// From libndctl's enum value.
    pub fn from_c(v: i32) -> Option<Mode> {
        Some(match v {
            0 => Mode::Fsdax,
            1 => Mode::Sector,
            2 => Mode::Raw,
            3 => Mode::Devdax,
            4 => Mode::Unknown,
            _ => return None,
        })
    }

    fn holder_class(self) -> Option<&'static str> {
        match self {
            Mode::Fsdax => Some("pfn"),
            Mode::Sector => Some("btt"),
            Mode::Raw => Some(""),
            Mode::Devdax => Some("dax"),
            Mode::Unknown => None,
        }
    }
}

/// A namespace.
#[derive(Debug)]
pub struct Namespace {
    node: Node,
    region: Arc<Region>,
    generation: u64,
    nstype: DeviceType,
    /// The size last read.
    size: AtomicU64,
    /// Whether the size must be read again (after an invalidation) before use.
    size_stale: AtomicBool,
    bdev: BlockDeviceName,
}

tree_object!(Namespace, node: Node);

/// What a namespace reads: its settings in one batch; `holder` and `mode` afresh on
/// every call, as libndctl does (a claim can change them at any time).
static NAMESPACE_ATTRS: AttrSet = AttrSet {
    cached: &[
        "nstype",
        "size",
        "alt_name",
        "uuid",
        "sector_size",
        "numa_node",
        "target_node",
    ],
    fresh: &["holder", "mode"],
    // Read when libndctl adds a namespace; asked for by binding, `raw_mode`,
    // `enforce_mode` and `resource` only.
    lazy: &["force_raw", "modalias", "holder_class", "resource"],
};

impl ChildKind for Namespace {
    const PREFIX: &'static str = "namespace";
    fn new(region: Arc<Region>, id: u32, path: PathBuf) -> Result<Arc<Namespace>> {
        let dev = Device::with_attrs(Arc::clone(region.device().sysfs()), path, &NAMESPACE_ATTRS);
        let nstype = u32::try_from(dev.req_u64("nstype")?)
            .map(DeviceType::from_code)
            .map_err(|_| Error::parse(dev.attr_path("nstype"), "", "out of range"))?;
        let size = dev.req_u64("size")?;
        dev.required_present("force_raw")?;
        if nstype.is_labelled() {
            dev.required("alt_name")?;
            dev.opt_uuid("uuid")?.ok_or_else(|| Error::Missing {
                path: dev.attr_path("uuid"),
            })?;
            if nstype == DeviceType::NamespaceBlk {
                dev.required("sector_size")?;
            }
        }
        // Required (libndctl skips a namespace without it); read when binding.
        dev.required_present("modalias")?;
        Ok(Arc::new(Namespace {
            generation: region.generation(),
            region,
            node: Node::new(dev, id),
            nstype,
            size: AtomicU64::new(size),
            size_stale: AtomicBool::new(false),
            bdev: BlockDeviceName::default(),
        }))
    }

    fn list(region: &Region) -> &ChildList<Namespace> {
        &region.children().namespaces
    }

    fn invalidate(&self) {
        self.device().invalidate();
        self.bdev.forget();
        // Read again when next asked, not now: an invalidation of the whole context
        // would otherwise read every namespace at once.
        self.size_stale.store(true, Ordering::Relaxed);
    }
}

impl Namespace {
    /// The region holding the namespace.
    pub fn region(&self) -> &Arc<Region> {
        &self.region
    }

    /// The next namespace of the same region.
    pub fn next(&self) -> Option<Arc<Namespace>> {
        self.region.child_after(self)
    }

    /// `ND_DEVICE_NAMESPACE_{IO,PMEM,BLK}`.
    pub fn ns_type(&self) -> DeviceType {
        self.nstype
    }

    /// `namespace_io`, `namespace_pmem` or `namespace_blk`.
    pub fn type_name(&self) -> &'static str {
        self.nstype.name()
    }

    /// The `modalias` used to load the driver on enable.
    pub fn modalias(&self) -> Result<String> {
        self.device().required("modalias")
    }

    /// Whether the region has not been disabled since this object was created.
    pub fn is_valid(&self) -> bool {
        self.generation == self.region.generation()
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        if self.size_stale.swap(false, Ordering::Relaxed) {
            // A size that cannot be read keeps the last one known.
            if let Ok(s) = self.device().req_u64("size") {
                self.size.store(s, Ordering::Relaxed);
            }
        }
        self.size.load(Ordering::Relaxed)
    }

    /// Remembers a size this library just wrote.
    fn set_known_size(&self, size: u64) {
        self.size.store(size, Ordering::Relaxed);
        self.size_stale.store(false, Ordering::Relaxed);
    }

    /// Physical start address; `None` when unknown (e.g. a seed of size 0).
    pub fn resource(&self) -> Result<Option<u64>> {
        self.device().opt_u64("resource")
    }

    /// Whether the namespace is forced to raw mode (`force_raw`).
    pub fn raw_mode(&self) -> Result<bool> {
        Ok(self.device().req_u64("force_raw")? != 0)
    }

    /// The mode enforced by `holder_class`; `None` when the attribute is absent.
    pub fn enforce_mode(&self) -> Result<Option<Mode>> {
        Ok(self.device().opt("holder_class")?.map(|c| match c.trim() {
            "pfn" => Mode::Fsdax,
            "btt" => Mode::Sector,
            "" => Mode::Raw,
            "dax" => Mode::Devdax,
            _ => Mode::Unknown,
        }))
    }

    /// The mode as `ndctl list` shows it: the one its claiming device gives (`claim`, as
    /// [`Namespace::claim`] found it), else the `mode` attribute, raw where there is none
    /// (IO namespaces).
    pub fn mode_with(&self, claim: Option<&Claim>) -> Result<Mode> {
        match claim {
            Some(c) => Ok(c.mode()),
            None => match self.mode() {
                Err(Error::Missing { .. }) => Ok(Mode::Raw),
                other => other,
            },
        }
    }

    /// The current mode, read now (`mode`).
    pub fn mode(&self) -> Result<Mode> {
        let path = self.device().attr_path("mode");
        match self.device().read_fresh("mode")?.into_option() {
            None => Err(Error::Missing { path }),
            Some(m) => Ok(match m.trim() {
                "memory" | "fsdax" => Mode::Fsdax,
                "safe" | "sector" => Mode::Sector,
                "raw" => Mode::Raw,
                "dax" | "devdax" => Mode::Devdax,
                _ => return Err(Error::parse(path, &m, "unknown namespace mode")),
            }),
        }
    }

    /// NUMA node.
    pub fn numa_node(&self) -> Result<Option<i32>> {
        self.device().opt_i32("numa_node")
    }

    /// NUMA node of the memory when onlined as RAM.
    pub fn target_node(&self) -> Result<Option<i32>> {
        self.device().opt_i32("target_node")
    }

    /// The namespace uuid (nil when unconfigured); `None` for IO namespaces.
    pub fn uuid(&self) -> Result<Option<uuid::Uuid>> {
        self.device().opt_uuid("uuid")
    }

    /// The friendly name (`alt_name`); `None` for IO namespaces.
    pub fn alt_name(&self) -> Result<Option<String>> {
        self.device().opt("alt_name")
    }

    /// Supported sector sizes and the index of the current one.
    pub fn sector_sizes(&self) -> Result<(Vec<u32>, Option<usize>)> {
        match self.device().opt("sector_size")? {
            Some(s) => parse_size_list(&self.device().attr_path("sector_size"), &s),
            None => Ok((Vec::new(), None)),
        }
    }

    /// The current sector size; `None` when the namespace has none.
    pub fn sector_size(&self) -> Result<Option<u32>> {
        let (sizes, cur) = self.sector_sizes()?;
        Ok(cur.and_then(|i| sizes.get(i).copied()))
    }

    /// Name of the block device of a raw namespace (`block/<name>`).
    ///
    /// `None` without one; running out of descriptors or memory while looking is an
    /// error.
    pub fn block_device(&self) -> Result<Option<String>> {
        Ok(self
            .block_device_cstr()?
            .map(|c| c.to_string_lossy().into_owned()))
    }

    /// [`Namespace::block_device`] as a C string that lives as long as the namespace
    /// (what the C library hands out).
    pub fn block_device_cstr(&self) -> Result<Option<&std::ffi::CStr>> {
        self.bdev.get(|| self.device().block_device())
    }

    fn holder(&self) -> Result<Option<String>> {
        Ok(self
            .device()
            .read_fresh("holder")?
            .into_option()
            .filter(|h| !h.trim().is_empty()))
    }

    /// The btt, pfn or dax device claiming this namespace, from one read of `holder`
    /// (libndctl reads it once per `get_btt`, `get_pfn` and `get_dax`; asking for the
    /// claim reads it once for all three). The holder's name picks the kind's list; a
    /// holder that no listed device bears is no claim, as in libndctl.
    pub fn claim(&self) -> Result<Option<Claim>> {
        let Some(h) = self.holder()? else {
            return Ok(None);
        };
        let r = &self.region;
        Ok(if let Some(b) = r.find_of::<Btt>(&h)? {
            Some(Claim::Btt(b))
        } else if let Some(p) = r.find_of::<Pfn>(&h)? {
            Some(Claim::Pfn(p))
        } else {
            r.find_of::<Dax>(&h)?.map(Claim::Dax)
        })
    }

    /// The btt device claiming this namespace.
    pub fn btt(&self) -> Result<Option<Arc<Btt>>> {
        Ok(match self.claim()? {
            Some(Claim::Btt(b)) => Some(b),
            _ => None,
        })
    }

    /// The pfn device claiming this namespace.
    pub fn pfn(&self) -> Result<Option<Arc<Pfn>>> {
        Ok(match self.claim()? {
            Some(Claim::Pfn(p)) => Some(p),
            _ => None,
        })
    }

    /// The dax device claiming this namespace.
    pub fn dax(&self) -> Result<Option<Arc<Dax>>> {
        Ok(match self.claim()? {
            Some(Claim::Dax(d)) => Some(d),
            _ => None,
        })
    }

    /// Whether the namespace is bound to a driver, asked now.
    pub fn is_enabled(&self) -> Result<bool> {
        self.device().has_driver()
    }

    /// Whether the namespace is in use: its btt/pfn/dax is enabled, or it is enabled itself.
    pub fn is_active(&self) -> Result<bool> {
        self.is_active_with(self.claim()?.as_ref())
    }

    /// [`Namespace::is_active`] for a caller that has looked up the namespace's claim
    /// ([`Namespace::claim`]) already.
    pub fn is_active_with(&self, claim: Option<&Claim>) -> Result<bool> {
        claim.map_or_else(|| self.is_enabled(), Claim::is_enabled)
    }

    /// Whether the namespace has a configuration (size and uuid, a sector size for BLK).
    pub fn is_configured(&self) -> Result<bool> {
        match self.nstype {
            DeviceType::NamespaceIo => Ok(true),
            DeviceType::NamespacePmem | DeviceType::NamespaceBlk => {
                if self.size() < MIN_NAMESPACE_SIZE {
                    return Ok(false);
                }
                if self.uuid()?.is_none_or(|u| u.is_nil()) {
                    return Ok(false);
                }
                if self.nstype == DeviceType::NamespaceBlk && self.sector_size()?.unwrap_or(0) == 0
                {
                    return Ok(false);
                }
                Ok(true)
            }
            t => Err(Error::invalid(
                self.devname(),
                format!("unknown namespace type {}", t.code()),
            )),
        }
    }

    /// Not active and either unconfigured or an IO namespace.
    pub fn is_configuration_idle(&self) -> Result<bool> {
        if self.is_active()? {
            return Ok(false);
        }
        Ok(!self.is_configured()? || self.nstype == DeviceType::NamespaceIo)
    }

    /// Media errors of the namespace's block device (`/sys/block/<bdev>/badblocks`) in
    /// raw and fsdax modes.
    pub fn badblocks(&self) -> Result<Vec<BadBlock>> {
        self.badblocks_of(self.claim()?.as_ref())
    }

    /// [`Namespace::badblocks`] for a caller that has looked up the namespace's claim
    /// ([`Namespace::claim`]) already.
    pub fn badblocks_of(&self, claim: Option<&Claim>) -> Result<Vec<BadBlock>> {
        let (owner, bdev) = match claim {
            Some(Claim::Pfn(p)) => (p.device().path(), p.block_device()?),
            // libndctl does not report badblocks through a btt.
            Some(Claim::Btt(_)) => return Ok(Vec::new()),
            _ => (self.device().path(), self.block_device()?),
        };
        let Some(bdev) = bdev else {
            return Ok(Vec::new());
        };
        // libndctl opens /sys/block/<bdev>/badblocks, a link the kernel always points at
        // the disk's directory below the device that made it: the one the block device
        // name was just listed from. Reading it there spares resolving the link.
        let dir = owner.join("block").join(&bdev);
        match self.device().sysfs().read_lines(&dir, "badblocks")? {
            Some(lines) => parse_badblocks(&dir.join("badblocks"), &lines),
            None => Ok(Vec::new()),
        }
    }

    fn write_cache_dir(&self) -> Result<PathBuf> {
        let (owner, bdev) = match self.pfn()? {
            Some(p) => (p.device().path(), p.block_device()?),
            None => (self.device().path(), self.block_device()?),
        };
        // Without a disk there is no write cache to ask about (libndctl: -ENXIO).
        let bdev = bdev.ok_or_else(|| Error::Missing {
            path: self.device().attr_path("block"),
        })?;
        // libndctl's /sys/block/<bdev>/dax, reached where that link points (see
        // `badblocks`).
        Ok(owner.join("block").join(bdev).join("dax"))
    }

    /// Whether the pmem write cache is enabled (`/sys/block/<bdev>/dax/write_cache`, read
    /// below the device that made the disk).
    pub fn write_cache_is_enabled(&self) -> Result<bool> {
        let dir = self.write_cache_dir()?;
        let sysfs = self.device().sysfs();
        match sysfs.read_attr(&dir, "write_cache")?.into_option() {
            Some(v) => Ok(crate::sysfs::parse_u64(&dir.join("write_cache"), &v)? != 0),
            None => Err(Error::Missing {
                path: dir.join("write_cache"),
            }),
        }
    }

    /// Enable or disable the pmem write cache.
    pub fn set_write_cache(&self, enabled: bool) -> Result<()> {
        let dir = self.write_cache_dir()?;
        self.device()
            .sysfs()
            .write_attr(&dir, "write_cache", if enabled { "1\n" } else { "0\n" })
    }

    fn require_idle(&self, what: &str) -> Result<()> {
        if self.is_enabled()? {
            return Err(Error::Busy {
                object: self.devname().into(),
                reason: format!("cannot set {what} while enabled"),
            });
        }
        Ok(())
    }

    /// Set the uuid (PMEM/BLK namespaces).
    pub fn set_uuid(&self, uuid: uuid::Uuid) -> Result<()> {
        self.require_idle("uuid")?;
        self.device()
            .write_remember("uuid", &uuid.hyphenated().to_string())
    }

    /// Set the friendly name (< 64 bytes).
    pub fn set_alt_name(&self, name: &str) -> Result<()> {
        if name.len() >= 64 {
            return Err(Error::invalid(
                self.devname(),
                "alt_name must be shorter than 64 bytes",
            ));
        }
        if !self.device().has("alt_name")? {
            return Err(Error::invalid(self.devname(), "namespace has no alt_name"));
        }
        self.device().write_remember("alt_name", name)
    }

    /// Set the size (the kernel allocates DPA space) of a PMEM or BLK namespace. Size 0 is
    /// refused: releasing the capacity is [`Namespace::delete`].
    pub fn set_size(&self, size: u64) -> Result<()> {
        if size == 0 {
            return Err(Error::invalid(
                self.devname(),
                "size 0: use delete to release a namespace",
            ));
        }
        self.require_idle("size")?;
        if !self.nstype.is_labelled() {
            return Err(Error::Failed {
                object: self.devname().into(),
                reason: format!("{} namespaces have a fixed size", self.type_name()),
            });
        }
        self.device().write("size", &format!("{size:#x}\n"))?;
        self.set_known_size(size);
        self.device().read_fresh("resource")?;
        Ok(())
    }

    /// Choose one of the supported sector sizes.
    pub fn set_sector_size(&self, size: u32) -> Result<()> {
        self.require_idle("sector size")?;
        self.device().write_selection("sector_size", size)
    }

    /// Set which kind of device may claim the namespace (`holder_class`).
    ///
    /// On a label-less namespace the kernel answers ENXIO (it has no label to record the
    /// class in) and that error is returned, as libndctl returns it; but the kernel has
    /// already applied the class to the live namespace by then, so a claim of another kind
    /// is refused until the class is set back. [`crate::configure`] handles this the way
    /// ndctl does: it always writes the class and ignores that ENXIO.
    pub fn set_enforce_mode(&self, mode: Mode) -> Result<()> {
        let class = mode
            .holder_class()
            .ok_or_else(|| Error::invalid(self.devname(), "cannot enforce an unknown mode"))?;
        self.device().write_remember("holder_class", class)
    }

    /// Force raw mode (ignore any btt/pfn/dax info block).
    pub fn set_raw_mode(&self, raw: bool) -> Result<()> {
        self.device()
            .write_remember("force_raw", if raw { "1\n" } else { "0\n" })
    }

    /// Bind the namespace. Returns `true` if, instead of the namespace itself, a btt, pfn
    /// or dax device claiming it became enabled.
    pub fn enable(&self) -> Result<bool> {
        if !self.is_enabled()? {
            // The kernel may hand the namespace to a claiming device: bind errors are
            // judged by the outcome below.
            let bound = self.modalias().and_then(|m| self.device().bind(Some(&m)));
            let _ = self.region.bus().wait_probe();
            self.region.refresh_children()?;
            if self.is_enabled()? {
                return Ok(false);
            }
            if self.is_active()? {
                return Ok(true);
            }
            if self.size() == 0 {
                // The kernel's drivers refuse a namespace without capacity; its answer
                // ("no driver accepted the device") would hide that.
                return Err(Error::Failed {
                    object: self.devname().into(),
                    reason: "cannot enable a namespace of size 0: it has no capacity \
                             (set a size first; a labelled region needs free label slots)"
                        .into(),
                });
            }
            return Err(match bound {
                Err(e) => e,
                Ok(()) => Error::Failed {
                    object: self.devname().into(),
                    reason: "failed to enable".into(),
                },
            });
        }
        self.region.refresh_children()?;
        Ok(false)
    }

    /// Unbind the namespace.
    pub fn disable(&self) -> Result<()> {
        self.unbind_driver()?;
        self.bdev.forget();
        Ok(())
    }

    /// Tear down any btt/pfn/dax claiming the namespace, then disable it.
    pub fn disable_invalidate(&self) -> Result<()> {
        if let Some(b) = self.btt()? {
            b.delete()?;
        }
        if let Some(p) = self.pfn()? {
            p.delete()?;
        }
        if let Some(d) = self.dax()? {
            d.delete()?;
        }
        self.disable()
    }

    /// Like [`Namespace::disable_invalidate`], but first make sure no one has the block
    /// device open (mounted file system, open handle): exclusive open of `/dev/<bdev>`.
    pub fn disable_safe(&self) -> Result<()> {
        // One read of `holder` for the claim's disk and for "active?".
        let claim = self.claim()?;
        let bdev = match &claim {
            Some(Claim::Pfn(p)) => p.block_device()?,
            Some(Claim::Btt(b)) => b.block_device()?,
            _ => self.block_device()?,
        };
        // A check that fails on the tree is "not active", as libndctl's is; running out
        // of descriptors is an error, not a reason to skip the in-use check.
        let bdev = match bdev {
            Some(b) if absent_unless_exhausted(self.is_active_with(claim.as_ref()))? => Some(b),
            _ => None,
        };
        if let Some(bdev) = bdev {
            if self.device().sysfs().dev_node(&bdev).is_some() {
                self.device()
                    .sysfs()
                    .open_dev(&bdev, libc::O_RDWR | libc::O_EXCL)
                    .map_err(|e| Error::Busy {
                        object: self.devname().into(),
                        reason: format!("{bdev} is in use: {e}"),
                    })?;
            }
        }
        self.disable_invalidate()
    }

    /// Release the namespace's capacity (size 0). Refused while enabled.
    pub fn delete(&self) -> Result<()> {
        if !self.is_valid() {
            return Ok(());
        }
        if self.is_active()? {
            return Err(Error::Busy {
                object: self.devname().into(),
                reason: "cannot delete an active namespace".into(),
            });
        }
        match self.nstype {
            DeviceType::NamespacePmem | DeviceType::NamespaceBlk => {}
            _ => return Ok(()),
        }
        match self.device().write("size", "0x0\n") {
            Ok(()) => {}
            Err(Error::Io { source, .. }) if source.raw_os_error() == Some(libc::ENXIO) => {}
            Err(e) => return Err(e),
        }
        self.set_known_size(0);
        self.region.refresh_children()
    }
}

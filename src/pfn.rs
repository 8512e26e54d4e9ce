//! Page-frame-number devices (`pfnR.N`): fsdax namespaces with a struct-page memmap.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::children::{Child, Presence};
use crate::error::{Error, Result};
use crate::namespace::Namespace;
use crate::region::Region;
use crate::sysfs::{parse_size_list, Device};

/// Where the memmap (struct page array) lives (`mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    None,
    Ram,
    Pmem,
}

impl Location {
    /// `none`, `mem` or `dev` as `ndctl list` prints it in `map`.
    pub fn map_name(self) -> &'static str {
        match self {
            Location::None => "none",
            Location::Ram => "mem",
            Location::Pmem => "dev",
        }
    }
    /// libndctl's `enum ndctl_pfn_loc`.
    pub fn to_c(self) -> i32 {
        match self {
            Location::None => 0,
            Location::Ram => 1,
            Location::Pmem => 2,
        }
    }
    /// From libndctl's enum value.
    pub fn from_c(v: i32) -> Option<Location> {
        Some(match v {
            0 => Location::None,
            1 => Location::Ram,
            2 => Location::Pmem,
            _ => return None,
        })
    }
    fn sysfs_name(self) -> &'static str {
        match self {
            Location::None => "none",
            Location::Ram => "ram",
            Location::Pmem => "pmem",
        }
    }
}

/// What pfn and dax devices have in common (libndctl implements dax on top of pfn). Both
/// [`Pfn`] and [`crate::Dax`] dereference to it, so every method here is available on
/// either.
#[derive(Debug)]
pub struct PfnCore {
    region: Arc<Region>,
    dev: Device,
    presence: Presence,
    id: u32,
    generation: u64,
    modalias: String,
    bdev: Mutex<Option<String>>,
}

impl PfnCore {
    pub(crate) fn new(region: Arc<Region>, id: u32, path: PathBuf) -> Result<PfnCore> {
        let dev = Device::new(Arc::clone(region.device().sysfs()), path);
        let modalias = dev.required("modalias")?;
        dev.opt_uuid("uuid")?.ok_or_else(|| Error::Missing {
            path: dev.attr_path("uuid"),
        })?;
        let core = PfnCore {
            generation: region.generation(),
            region,
            dev,
            presence: Presence::new(),
            id,
            modalias,
            bdev: Mutex::new(None),
        };
        core.location()?;
        Ok(core)
    }

    pub(crate) fn invalidate(&self) {
        self.dev.invalidate();
        *self.bdev.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    pub(crate) fn presence(&self) -> &Presence {
        &self.presence
    }

    /// The region.
    pub fn region(&self) -> &Arc<Region> {
        &self.region
    }

    /// The sysfs device.
    pub fn device(&self) -> &Device {
        &self.dev
    }

    /// N of `pfnR.N` / `daxR.N`.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// `pfnR.N` / `daxR.N`.
    pub fn devname(&self) -> &str {
        self.dev.name()
    }

    /// Whether the region has not been disabled since this object was created.
    pub fn is_valid(&self) -> bool {
        self.generation == self.region.generation()
    }

    /// The uuid (nil when unconfigured).
    pub fn uuid(&self) -> Result<uuid::Uuid> {
        Ok(self.dev.opt_uuid("uuid")?.unwrap_or_default())
    }

    /// Where the memmap lives (`mode`).
    pub fn location(&self) -> Result<Location> {
        let path = self.dev.attr_path("mode");
        let m = self.dev.required("mode")?;
        Ok(match m.trim() {
            "none" => Location::None,
            "ram" => Location::Ram,
            "pmem" => Location::Pmem,
            _ => return Err(Error::parse(path, &m, "expected none, ram or pmem")),
        })
    }

    /// Mapping alignment.
    pub fn align(&self) -> Result<Option<u64>> {
        self.dev.opt_u64("align")
    }

    /// Whether the kernel lets the alignment be chosen.
    pub fn has_align(&self) -> bool {
        self.dev.has("align")
    }

    /// Supported alignments.
    pub fn alignments(&self) -> Result<Vec<u64>> {
        match self.dev.opt("supported_alignments")? {
            // Kernels without the attribute support base pages and PMD pages.
            None => Ok(vec![4096, 2 << 20]),
            Some(s) => Ok(
                parse_size_list(&self.dev.attr_path("supported_alignments"), &s)?
                    .0
                    .into_iter()
                    .map(u64::from)
                    .collect(),
            ),
        }
    }

    /// Usable size; `None` for an idle seed.
    pub fn size(&self) -> Result<Option<u64>> {
        self.dev.opt_u64("size")
    }

    /// Physical start of the data; `None` for an idle seed.
    pub fn resource(&self) -> Result<Option<u64>> {
        self.dev.opt_u64("resource")
    }

    /// The namespace the device is attached to.
    pub fn namespace(&self) -> Result<Option<Arc<Namespace>>> {
        self.region.claimed_namespace(&self.dev)
    }

    /// The block device (`pmemX`); only pfn devices have one, dax devices give `None`.
    pub fn block_device(&self) -> Option<String> {
        let mut g = self.bdev.lock().unwrap_or_else(|p| p.into_inner());
        if g.is_none() {
            *g = self.dev.block_device();
        }
        g.clone()
    }

    /// Whether it is bound to a driver.
    pub fn is_enabled(&self) -> bool {
        self.dev.has_driver()
    }

    /// Whether it has any configuration (namespace, location or uuid).
    pub fn is_configured(&self) -> Result<bool> {
        Ok(self.namespace()?.is_some()
            || self.location()? != Location::None
            || !self.uuid()?.is_nil())
    }

    /// Set the uuid.
    pub fn set_uuid(&self, uuid: uuid::Uuid) -> Result<()> {
        self.dev
            .write_remember("uuid", &uuid.hyphenated().to_string())
    }

    /// Choose where the memmap lives.
    pub fn set_location(&self, loc: Location) -> Result<()> {
        self.dev.write_remember("mode", loc.sysfs_name())
    }

    /// Set the mapping alignment.
    pub fn set_align(&self, align: u64) -> Result<()> {
        self.dev.write_remember("align", &format!("{align}\n"))
    }

    /// Attach to a namespace (`None` detaches).
    pub fn set_namespace(&self, ns: Option<&Namespace>) -> Result<()> {
        self.region.set_claimed_namespace(&self.dev, ns)
    }

    /// Bind to the driver; the region then offers a new seed.
    pub fn enable(&self) -> Result<()> {
        *self.bdev.lock().unwrap_or_else(|p| p.into_inner()) = None;
        self.region.enable_claim(&self.dev, &self.modalias)
    }

    /// Unbind and detach from the namespace.
    pub fn delete(&self) -> Result<()> {
        self.region.delete_claim(&self.dev, self.is_valid())
    }
}

/// A pfn device (fsdax).
#[derive(Debug)]
pub struct Pfn {
    core: PfnCore,
}

impl std::ops::Deref for Pfn {
    type Target = PfnCore;
    fn deref(&self) -> &PfnCore {
        &self.core
    }
}

impl Child for Pfn {
    fn child_name(&self) -> &str {
        self.core.devname()
    }
    fn presence(&self) -> &Presence {
        self.core.presence()
    }
}

impl Pfn {
    pub(crate) fn new(region: Arc<Region>, id: u32, path: PathBuf) -> Result<Arc<Pfn>> {
        Ok(Arc::new(Pfn {
            core: PfnCore::new(region, id, path)?,
        }))
    }

    pub(crate) fn invalidate(&self) {
        self.core.invalidate()
    }

    /// The next pfn of the same region.
    pub fn next(&self) -> Option<Arc<Pfn>> {
        self.core.region().pfn_after(self)
    }
}

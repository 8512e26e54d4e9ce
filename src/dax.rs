//! Device-dax devices (`daxR.N`) and the dax region/devices below them.

use std::path::PathBuf;
use std::sync::Arc;

use crate::children::{Child, Presence};
use crate::error::Result;
use crate::namespace::Namespace;
use crate::pfn::{Location, PfnCore};
use crate::region::{opt_i32, Region};
use crate::sysfs::Device;

/// The dax region a configured dax device exposes (`dax_region/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaxRegion {
    pub id: Option<u64>,
    pub size: Option<u64>,
    pub available_size: Option<u64>,
    pub align: Option<u64>,
    /// The character devices (`daxX.Y`) of the region.
    pub devices: Vec<DaxChardev>,
}

/// One device-dax character device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaxChardev {
    pub name: String,
    pub size: Option<u64>,
    pub target_node: Option<i32>,
    pub numa_node: Option<i32>,
    pub align: Option<u64>,
    /// Bound to `device_dax` (`devdax`) or `kmem` (`system-ram`); `None` when unbound.
    pub mode: Option<String>,
}

/// A dax device.
#[derive(Debug)]
pub struct Dax {
    core: PfnCore,
}

impl Child for Dax {
    fn child_name(&self) -> &str {
        self.core.dev.name()
    }
    fn presence(&self) -> &Presence {
        &self.core.presence
    }
}

impl Dax {
    pub(crate) fn new(region: Arc<Region>, id: u32, path: PathBuf) -> Result<Arc<Dax>> {
        Ok(Arc::new(Dax {
            core: PfnCore::new(region, id, path)?,
        }))
    }
    pub(crate) fn invalidate(&self) {
        self.core.invalidate()
    }
    /// The region.
    pub fn region(&self) -> &Arc<Region> {
        &self.core.region
    }
    /// The next dax of the same region.
    pub fn next(&self) -> Option<Arc<Dax>> {
        self.core.region.dax_after(self)
    }
    /// The sysfs device.
    pub fn device(&self) -> &Device {
        &self.core.dev
    }
    /// N of `daxR.N`.
    pub fn id(&self) -> u32 {
        self.core.id
    }
    /// `daxR.N`.
    pub fn devname(&self) -> &str {
        self.core.dev.name()
    }
    /// Whether the region has not been disabled since this object was created.
    pub fn is_valid(&self) -> bool {
        self.core.is_valid()
    }
    /// The dax uuid (nil when unconfigured).
    pub fn uuid(&self) -> Result<uuid::Uuid> {
        self.core.uuid()
    }
    /// Where the memmap lives.
    pub fn location(&self) -> Result<Location> {
        self.core.location()
    }
    /// Mapping alignment.
    pub fn align(&self) -> Result<Option<u64>> {
        self.core.align()
    }
    /// Whether the kernel lets the alignment be chosen.
    pub fn has_align(&self) -> bool {
        self.core.has_align()
    }
    /// Supported alignments.
    pub fn alignments(&self) -> Result<Vec<u64>> {
        self.core.alignments()
    }
    /// Usable size; `None` for an idle seed.
    pub fn size(&self) -> Result<Option<u64>> {
        self.core.size()
    }
    /// Physical start of the data; `None` for an idle seed.
    pub fn resource(&self) -> Result<Option<u64>> {
        self.core.resource()
    }
    /// The namespace the dax device is attached to.
    pub fn namespace(&self) -> Result<Option<Arc<Namespace>>> {
        self.core.namespace()
    }
    /// Whether it is bound to a driver.
    pub fn is_enabled(&self) -> bool {
        self.core.is_enabled()
    }
    /// Whether it has any configuration.
    pub fn is_configured(&self) -> Result<bool> {
        self.core.is_configured()
    }
    /// Set the uuid.
    pub fn set_uuid(&self, uuid: uuid::Uuid) -> Result<()> {
        self.core.set_uuid(uuid)
    }
    /// Choose where the memmap lives.
    pub fn set_location(&self, loc: Location) -> Result<()> {
        self.core.set_location(loc)
    }
    /// Set the mapping alignment.
    pub fn set_align(&self, align: u64) -> Result<()> {
        self.core.set_align(align)
    }
    /// Attach to a namespace (`None` detaches).
    pub fn set_namespace(&self, ns: Option<&Namespace>) -> Result<()> {
        self.core.set_namespace(ns)
    }
    /// Bind to the driver.
    pub fn enable(&self) -> Result<()> {
        self.core.enable()
    }
    /// Unbind and detach.
    pub fn delete(&self) -> Result<()> {
        self.core.delete()
    }

    /// The dax region and its character devices, as libdaxctl reads them; `None` when the
    /// device has no `dax_region/` (not enabled).
    ///
    /// A character device is listed only when its `/dev` node exists, as libdaxctl does.
    pub fn dax_region(&self) -> Result<Option<DaxRegion>> {
        let dev = &self.core.dev;
        if !dev.has("dax_region") {
            return Ok(None);
        }
        let mut devices = Vec::new();
        let sysfs = dev.sysfs();
        for (_, path) in dev.children("dax")? {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            // Only daxX.Y children are character devices (dax_region is a directory too).
            if !name.contains('.') || sysfs.dev_node(&name).is_none() {
                continue;
            }
            let cd = Device::new(Arc::clone(sysfs), path);
            let mode = sysfs
                .link_basename(cd.path(), "driver")
                .map(|d| match d.as_str() {
                    "kmem" => "system-ram".to_string(),
                    _ => "devdax".to_string(),
                });
            devices.push(DaxChardev {
                size: cd.opt_u64("size")?,
                target_node: opt_i32(&cd, "target_node")?,
                numa_node: opt_i32(&cd, "numa_node")?,
                align: cd.opt_u64("align")?,
                mode,
                name,
            });
        }
        Ok(Some(DaxRegion {
            id: dev.opt_u64("dax_region/id")?,
            size: dev.opt_u64("dax_region/size")?,
            available_size: dev.opt_u64("dax_region/available_size")?,
            align: dev.opt_u64("dax_region/align")?,
            devices,
        }))
    }
}

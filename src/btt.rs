//! Block translation table devices (`bttR.N`): sector-atomic access to a namespace.
//!
//! This is the sysfs device object; the on-media format lives in [`crate::btt_engine`].

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::children::{Child, Presence};
use crate::error::{Error, Result};
use crate::namespace::Namespace;
use crate::region::Region;
use crate::sysfs::{parse_size_list, Device};

/// A btt device.
#[derive(Debug)]
pub struct Btt {
    region: Arc<Region>,
    dev: Device,
    presence: Presence,
    id: u32,
    generation: u64,
    modalias: String,
    bdev: Mutex<Option<String>>,
}

impl Child for Btt {
    fn child_name(&self) -> &str {
        self.dev.name()
    }
    fn presence(&self) -> &Presence {
        &self.presence
    }
}

impl Btt {
    pub(crate) fn new(region: Arc<Region>, id: u32, path: PathBuf) -> Result<Arc<Btt>> {
        let dev = Device::new(Arc::clone(region.device().sysfs()), path);
        let modalias = dev.required("modalias")?;
        dev.opt_uuid("uuid")?.ok_or_else(|| Error::Missing {
            path: dev.attr_path("uuid"),
        })?;
        dev.required("sector_size")?;
        Ok(Arc::new(Btt {
            generation: region.generation(),
            region,
            dev,
            presence: Presence::new(),
            id,
            modalias,
            bdev: Mutex::new(None),
        }))
    }

    pub(crate) fn invalidate(&self) {
        self.dev.invalidate();
        *self.bdev.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// The region.
    pub fn region(&self) -> &Arc<Region> {
        &self.region
    }
    /// The next btt of the same region.
    pub fn next(&self) -> Option<Arc<Btt>> {
        self.region.btt_after(self)
    }

    /// The sysfs device.
    pub fn device(&self) -> &Device {
        &self.dev
    }
    /// N of `bttR.N`.
    pub fn id(&self) -> u32 {
        self.id
    }
    /// `bttR.N`.
    pub fn devname(&self) -> &str {
        self.dev.name()
    }
    /// Whether the region has not been disabled since this object was created.
    pub fn is_valid(&self) -> bool {
        self.generation == self.region.generation()
    }
    /// The btt uuid (nil when unconfigured).
    pub fn uuid(&self) -> Result<uuid::Uuid> {
        Ok(self.dev.opt_uuid("uuid")?.unwrap_or_default())
    }
    /// Supported sector sizes and the index of the selected one.
    pub fn sector_sizes(&self) -> Result<(Vec<u32>, Option<usize>)> {
        parse_size_list(
            &self.dev.attr_path("sector_size"),
            &self.dev.required("sector_size")?,
        )
    }
    /// The selected sector size, if one is selected.
    pub fn sector_size(&self) -> Result<Option<u32>> {
        let (s, i) = self.sector_sizes()?;
        Ok(i.and_then(|i| s.get(i).copied()))
    }
    /// Usable size; `None` when the kernel does not know it yet (idle seed).
    pub fn size(&self) -> Result<Option<u64>> {
        self.dev.opt_u64("size")
    }
    /// The namespace the btt is attached to.
    pub fn namespace(&self) -> Result<Option<Arc<Namespace>>> {
        self.region.claimed_namespace(&self.dev)
    }
    /// The block device (`pmemXs`).
    pub fn block_device(&self) -> Option<String> {
        let mut g = self.bdev.lock().unwrap_or_else(|p| p.into_inner());
        if g.is_none() {
            *g = self.dev.block_device();
        }
        g.clone()
    }
    /// Whether the btt is bound to a driver.
    pub fn is_enabled(&self) -> bool {
        self.dev.has_driver()
    }
    /// Whether it has any configuration (namespace, sector size or uuid).
    pub fn is_configured(&self) -> Result<bool> {
        Ok(self.namespace()?.is_some() || self.sector_size()?.is_some() || !self.uuid()?.is_nil())
    }
    /// Set the uuid.
    pub fn set_uuid(&self, uuid: uuid::Uuid) -> Result<()> {
        self.dev
            .write_remember("uuid", &uuid.hyphenated().to_string())
    }
    /// Select a sector size.
    pub fn set_sector_size(&self, size: u32) -> Result<()> {
        self.dev.write_selection("sector_size", size)
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

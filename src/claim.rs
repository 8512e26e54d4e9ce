//! What btt, pfn and dax devices share: each *claims* a namespace of its region and gives
//! it a personality (sector atomicity, a memmap, a character device). The claim steps
//! (attach, enable, delete) live here, on the claiming device.

use std::path::PathBuf;
use std::sync::Arc;

use crate::children::{BlockDeviceName, Node};
use crate::error::{Error, Result};
use crate::namespace::Namespace;
use crate::region::Region;
use crate::sysfs::{AttrSet, Device};

/// The common part of a btt, pfn or dax device. Those objects dereference to it (and it to
/// its [`Node`]), so every method here is available on each of them.
#[derive(Debug)]
pub struct ClaimCore {
    node: Node,
    region: Arc<Region>,
    generation: u64,
    bdev: BlockDeviceName,
}

impl std::ops::Deref for ClaimCore {
    type Target = Node;
    fn deref(&self) -> &Node {
        &self.node
    }
}

impl ClaimCore {
    /// Reads what every claiming device must have (`modalias`, a parsable `uuid`).
    pub(crate) fn new(
        region: Arc<Region>,
        id: u32,
        path: PathBuf,
        attrs: &'static AttrSet,
    ) -> Result<ClaimCore> {
        let dev = Device::with_attrs(Arc::clone(region.device().sysfs()), path, attrs);
        // Required (libndctl skips the device without it); read when binding.
        dev.required_present("modalias")?;
        dev.opt_uuid("uuid")?.ok_or_else(|| Error::Missing {
            path: dev.attr_path("uuid"),
        })?;
        Ok(ClaimCore {
            node: Node::new(dev, id),
            generation: region.generation(),
            region,
            bdev: BlockDeviceName::default(),
        })
    }

    pub(crate) fn invalidate(&self) {
        self.device().invalidate();
        self.forget_block_device();
    }

    fn forget_block_device(&self) {
        self.bdev.forget();
    }

    /// The region.
    pub fn region(&self) -> &Arc<Region> {
        &self.region
    }

    /// Whether the region has not been disabled since this object was created.
    pub fn is_valid(&self) -> bool {
        self.generation == self.region.generation()
    }

    /// The uuid (nil when unconfigured).
    pub fn uuid(&self) -> Result<uuid::Uuid> {
        Ok(self.device().opt_uuid("uuid")?.unwrap_or_default())
    }

    /// Set the uuid.
    pub fn set_uuid(&self, uuid: uuid::Uuid) -> Result<()> {
        self.device()
            .write_remember("uuid", &uuid.hyphenated().to_string())
    }

    /// Usable size; `None` when the kernel does not know it yet (idle seed).
    pub fn size(&self) -> Result<Option<u64>> {
        self.device().opt_u64("size")
    }

    /// Whether it is bound to a driver.
    pub fn is_enabled(&self) -> Result<bool> {
        self.device().has_driver()
    }

    /// The block device the kernel made of the claim (`pmemXs` for a btt, `pmemX` for a
    /// pfn); dax devices have none.
    ///
    /// `None` without one; running out of descriptors or memory while looking is an
    /// error.
    pub fn block_device(&self) -> Result<Option<String>> {
        Ok(self
            .block_device_cstr()?
            .map(|c| c.to_string_lossy().into_owned()))
    }

    /// [`ClaimCore::block_device`] as a C string that lives as long as the device (what
    /// the C library hands out).
    pub fn block_device_cstr(&self) -> Result<Option<&std::ffi::CStr>> {
        self.bdev.get(|| self.device().block_device())
    }

    /// The namespace the device claims (its `namespace` attribute), looked up among the
    /// region's namespaces.
    pub fn namespace(&self) -> Result<Option<Arc<Namespace>>> {
        let dev = self.device();
        let Some(name) = dev.opt("namespace")?.filter(|n| !n.trim().is_empty()) else {
            return Ok(None);
        };
        self.region.find_of::<Namespace>(name.trim())
    }

    /// Claim a namespace (`None` releases the claim).
    pub fn set_namespace(&self, ns: Option<&Namespace>) -> Result<()> {
        self.device()
            .write_remember("namespace", ns.map(|n| n.devname()).unwrap_or("\n"))
    }

    /// Bind to the driver, let probing settle and rescan the region, where the kernel now
    /// offers a new seed.
    pub fn enable(&self) -> Result<()> {
        self.forget_block_device();
        let dev = self.device();
        if !dev.has_driver()? {
            dev.bind(Some(&dev.required("modalias")?))?;
            let _ = self.region.bus().wait_probe();
        }
        self.region.refresh_children()?;
        if dev.has_driver()? {
            Ok(())
        } else {
            Err(Error::Failed {
                object: dev.name().into(),
                reason: "failed to enable".into(),
            })
        }
    }

    /// Unbind and release the namespace. Objects of a previous generation of the region
    /// (no longer valid) are left alone.
    pub fn delete(&self) -> Result<()> {
        if !self.is_valid() {
            return Ok(());
        }
        if self.is_enabled()? {
            self.device().unbind()?;
        }
        self.set_namespace(None)?;
        self.region.refresh_children()
    }
}

//! Device-dax devices (`daxR.N`) and the dax region/devices below them.

use std::sync::Arc;

use crate::error::Result;
use crate::pfn::PfnCore;
use crate::sysfs::{AttrSet, Device};

/// What libdaxctl reads of a dax region (`dax_region/`), in one batch.
static DAX_REGION_ATTRS: AttrSet = AttrSet {
    cached: &["id", "size", "available_size", "align"],
    fresh: &[],
    lazy: &[],
};

/// What libdaxctl reads of a device-dax character device, in one batch.
static CHARDEV_ATTRS: AttrSet = AttrSet {
    cached: &["size", "target_node", "numa_node", "align"],
    fresh: &[],
    lazy: &[],
};

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

/// A dax device (devdax). Its common properties come from [`PfnCore`].
#[derive(Debug)]
pub struct Dax {
    core: PfnCore,
}

crate::pfn::pfn_kind!(Dax, "dax", daxs);

impl Dax {
    /// The dax region and its character devices, as libdaxctl reads them; `None` when the
    /// device has no `dax_region/` (not enabled).
    ///
    /// A character device is listed only when its `/dev` node exists, as libdaxctl does.
    pub fn dax_region(&self) -> Result<Option<DaxRegion>> {
        let dev = self.device();
        if !dev.has("dax_region")? {
            return Ok(None);
        }
        let mut devices = Vec::new();
        let sysfs = dev.sysfs();
        for (_, path) in dev.entries("dax")? {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            // Only daxX.Y children are character devices (dax_region is a directory too).
            if !name.contains('.') || sysfs.dev_node(&name).is_none() {
                continue;
            }
            let cd = Device::with_attrs(Arc::clone(sysfs), path, &CHARDEV_ATTRS);
            let mode = sysfs
                .link_basename(&cd.path(), "driver")?
                .map(|d| match d.as_str() {
                    "kmem" => "system-ram".to_string(),
                    _ => "devdax".to_string(),
                });
            devices.push(DaxChardev {
                size: cd.opt_u64("size")?,
                target_node: cd.opt_i32("target_node")?,
                numa_node: cd.opt_i32("numa_node")?,
                align: cd.opt_u64("align")?,
                mode,
                name,
            });
        }
        let region = Device::with_attrs(
            Arc::clone(sysfs),
            dev.attr_path("dax_region"),
            &DAX_REGION_ATTRS,
        );
        Ok(Some(DaxRegion {
            id: region.opt_u64("id")?,
            size: region.opt_u64("size")?,
            available_size: region.opt_u64("available_size")?,
            align: region.opt_u64("align")?,
            devices,
        }))
    }
}

//! Regions (`regionN`) and the lists of devices carved from them.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::badblock::{parse_badblocks, BadBlock};
use crate::btt::Btt;
use crate::bus::Bus;
use crate::children::{tree_object, ChildList, Children, Node};
use crate::dax::Dax;
use crate::device_type::DeviceType;
use crate::error::{Error, Result};
use crate::mapping::{InterleaveSet, Mapping};
use crate::namespace::Namespace;
use crate::pfn::Pfn;
use crate::sysfs::{parse_u64, AttrSet, Device};

/// Where a region's data is safe on power loss (`persistence_domain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum PersistenceDomain {
    None = 0,
    MemoryController = 10,
    CpuCache = 20,
    Unknown = i32::MAX as u32,
}

impl PersistenceDomain {
    /// The name `ndctl list` prints.
    pub fn as_str(self) -> &'static str {
        match self {
            PersistenceDomain::None => "none",
            PersistenceDomain::MemoryController => "memory_controller",
            PersistenceDomain::CpuCache => "cpu_cache",
            PersistenceDomain::Unknown => "unknown",
        }
    }
}

/// The kind of region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionType {
    Pmem,
    Blk,
}

impl RegionType {
    /// `pmem` or `blk`.
    pub fn as_str(self) -> &'static str {
        match self {
            RegionType::Pmem => "pmem",
            RegionType::Blk => "blk",
        }
    }

    /// `ND_DEVICE_REGION_PMEM` or `ND_DEVICE_REGION_BLK`.
    pub fn device_type(self) -> DeviceType {
        match self {
            RegionType::Pmem => DeviceType::RegionPmem,
            RegionType::Blk => DeviceType::RegionBlk,
        }
    }
}

/// The NUMA node attribute of a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Numa {
    /// The attribute does not exist (libndctl's `NUMA_NO_ATTR`).
    NoAttr,
    /// A node number, `-1` for none.
    Node(i32),
}

/// A region of persistent memory.
#[derive(Debug)]
pub struct Region {
    node: Node,
    me: std::sync::Weak<Region>,
    bus: Arc<Bus>,
    size: u64,
    pub(crate) num_mappings: u32,
    read_only: Mutex<bool>,
    modalias: String,
    /// `nstype` and `set_cookie` (PMEM only): read at creation, and again by the next
    /// enable after a label initialisation on a member DIMM flagged them stale (the
    /// kernel decides labelled vs label-less when the region is probed).
    kind: Mutex<(DeviceType, Option<u64>)>,
    refresh_type: AtomicBool,
    generation: AtomicU64,
    pub(crate) mappings: Mutex<Option<Vec<Arc<Mapping>>>>,
    pub(crate) iset: Mutex<Option<Arc<InterleaveSet>>>,
    /// The context ended: mappings and the interleave set (which hold the region) are
    /// made for each call, not kept (see [`crate::children::ChildList::clear`]).
    pub(crate) released: AtomicBool,
    children: Children,
}

tree_object!(Region, node: Node);

fn to_u32(dev: &Device, name: &str, v: u64) -> Result<u32> {
    u32::try_from(v).map_err(|_| Error::parse(dev.attr_path(name), &v.to_string(), "out of range"))
}

/// The region's `nstype`, and its `set_cookie` when it is a PMEM region.
fn read_kind(dev: &Device) -> Result<(DeviceType, Option<u64>)> {
    let nstype = DeviceType::from_code(to_u32(dev, "nstype", dev.req_u64("nstype")?)?);
    let cookie = if nstype == DeviceType::NamespacePmem {
        Some(dev.req_u64("set_cookie")?)
    } else {
        None
    };
    Ok((nstype, cookie))
}

/// What a region reads: its settings in one batch; its position, free capacity and seeds
/// afresh on every call, as libndctl does (namespaces and claims change them).
static REGION_ATTRS: AttrSet = AttrSet {
    cached: &[
        "size",
        "mappings",
        "read_only",
        "modalias",
        "nstype",
        "set_cookie",
        "numa_node",
        "target_node",
        "align",
        "persistence_domain",
    ],
    fresh: &[
        "resource",
        "available_size",
        "max_available_extent",
        "namespace_seed",
        "btt_seed",
        "pfn_seed",
        "dax_seed",
    ],
    lazy: &[],
};

impl Region {
    pub(crate) fn new(bus: Arc<Bus>, id: u32, path: PathBuf) -> Result<Arc<Region>> {
        let dev = Device::with_attrs(Arc::clone(bus.device().sysfs()), path, &REGION_ATTRS);
        let size = dev.req_u64("size")?;
        let num_mappings = to_u32(&dev, "mappings", dev.req_u64("mappings")?)?;
        let read_only = dev.req_u64("read_only")? != 0;
        let modalias = dev.required("modalias")?;
        let kind = read_kind(&dev)?;
        let logger = Arc::clone(dev.sysfs().logger());
        Ok(Arc::new_cyclic(|me| Region {
            node: Node::new(dev, id),
            me: me.clone(),
            bus,
            size,
            num_mappings,
            read_only: Mutex::new(read_only),
            modalias,
            kind: Mutex::new(kind),
            refresh_type: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            mappings: Mutex::new(None),
            iset: Mutex::new(None),
            released: AtomicBool::new(false),
            children: Children {
                namespaces: ChildList::new(&logger),
                btts: ChildList::new(&logger),
                pfns: ChildList::new(&logger),
                daxs: ChildList::new(&logger),
            },
        }))
    }

    pub(crate) fn release(&self) {
        let mut maps = self.mappings.lock().unwrap_or_else(|p| p.into_inner());
        let mut iset = self.iset.lock().unwrap_or_else(|p| p.into_inner());
        self.released.store(true, Ordering::Release);
        *maps = None;
        *iset = None;
        drop((maps, iset));
        for list in self.children.each() {
            list.clear();
        }
    }

    /// Forget cached attributes of the region and its children, and rescan them.
    pub(crate) fn invalidate(&self) -> Result<()> {
        self.device().invalidate();
        for list in self.children.each() {
            list.invalidate();
        }
        self.refresh_children()
    }

    pub(crate) fn arc(&self) -> Arc<Region> {
        self.me
            .upgrade()
            .unwrap_or_else(|| unreachable!("a region is only reachable through its Arc"))
    }

    /// The lists of child devices.
    pub(crate) fn children(&self) -> &Children {
        &self.children
    }

    /// The current generation; children created in an older one are no longer valid.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }

    /// The next region on the same bus.
    pub fn next(&self) -> Option<Arc<Region>> {
        self.bus.region_after(self)
    }

    /// The bus.
    pub fn bus(&self) -> &Arc<Bus> {
        &self.bus
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Number of DIMM mappings.
    pub fn num_mappings(&self) -> u32 {
        self.num_mappings
    }

    /// Interleave ways: the number of mappings, at least 1.
    pub fn interleave_ways(&self) -> u32 {
        self.num_mappings.max(1)
    }

    /// The kernel's `nstype`: which namespace type the region holds.
    pub fn nstype(&self) -> DeviceType {
        self.kind.lock().unwrap_or_else(|p| p.into_inner()).0
    }

    /// The interleave-set cookie (`set_cookie`) of a PMEM region.
    pub(crate) fn cookie(&self) -> Option<u64> {
        self.kind.lock().unwrap_or_else(|p| p.into_inner()).1
    }

    /// Mark `nstype` / `set_cookie` stale: the labels of a member DIMM were just
    /// initialised, so the next enable may probe the region as the other type (libndctl's
    /// `region_flag_refresh`).
    pub(crate) fn flag_type_refresh(&self) {
        self.refresh_type.store(true, Ordering::Relaxed);
    }

    /// Whether [`Region::flag_type_refresh`] was called since the last refresh.
    #[cfg(test)]
    pub(crate) fn type_refresh_pending(&self) -> bool {
        self.refresh_type.load(Ordering::Relaxed)
    }

    /// Re-read `nstype` / `set_cookie` if flagged stale (done by an enable that bound the
    /// region); a changed cookie drops the cached interleave set.
    pub(crate) fn refresh_type(&self) -> Result<()> {
        if !self.refresh_type.swap(false, Ordering::Relaxed) {
            return Ok(());
        }
        // Fresh values: the attributes were cached when the region was first read.
        self.device().invalidate();
        let kind = read_kind(self.device())?;
        let mut g = self.kind.lock().unwrap_or_else(|p| p.into_inner());
        if g.1 != kind.1 {
            *self.iset.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
        *g = kind;
        Ok(())
    }

    /// PMEM for `nstype` IO or PMEM, BLK otherwise (as libndctl decides).
    pub fn region_type(&self) -> RegionType {
        match self.nstype() {
            DeviceType::NamespaceIo | DeviceType::NamespacePmem => RegionType::Pmem,
            _ => RegionType::Blk,
        }
    }

    /// The `modalias` used to load the driver on enable.
    pub fn modalias(&self) -> &str {
        &self.modalias
    }

    /// Whether the region is read-only.
    pub fn read_only(&self) -> bool {
        *self.read_only.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The NFIT SPA range index (`nfit/range_index` or `papr/range_index`).
    pub fn range_index(&self) -> Result<Option<u32>> {
        for attr in ["nfit/range_index", "papr/range_index"] {
            if let Some(v) = self.device().opt_u64(attr)? {
                return to_u32(self.device(), attr, v).map(Some);
            }
        }
        Ok(None)
    }

    /// The NUMA node.
    pub fn numa(&self) -> Result<Numa> {
        Ok(match self.device().opt_i32("numa_node")? {
            None => Numa::NoAttr,
            Some(n) => Numa::Node(n),
        })
    }

    /// The NUMA node of the memory when onlined as system RAM (`target_node`).
    pub fn target_node(&self) -> Result<Option<i32>> {
        self.device().opt_i32("target_node")
    }

    /// Alignment of namespaces in the region (`align`), if the kernel has the attribute.
    pub fn align(&self) -> Result<Option<u64>> {
        self.device().opt_u64("align")
    }

    /// The persistence domain.
    pub fn persistence_domain(&self) -> Result<PersistenceDomain> {
        Ok(match self.device().opt("persistence_domain")? {
            Some(s) if s.starts_with("cpu_cache") => PersistenceDomain::CpuCache,
            Some(s) if s.starts_with("memory_controller") => PersistenceDomain::MemoryController,
            Some(s) if s.starts_with("none") => PersistenceDomain::None,
            _ => PersistenceDomain::Unknown,
        })
    }

    /// Physical start address, read now (`resource`).
    pub fn resource(&self) -> Result<Option<u64>> {
        self.device().fresh_u64("resource")
    }

    fn capacity_attr(&self, name: &str) -> Result<Option<u64>> {
        if !self.nstype().is_labelled() {
            return Ok(Some(0));
        }
        self.device().fresh_u64(name)
    }

    /// Capacity not yet allocated to namespaces, read now; 0 for IO regions.
    pub fn available_size(&self) -> Result<Option<u64>> {
        self.capacity_attr("available_size")
    }

    /// Largest contiguous free extent, read now; 0 for IO regions.
    pub fn max_available_extent(&self) -> Result<Option<u64>> {
        self.capacity_attr("max_available_extent")
    }

    /// Whether the region is bound to its driver.
    pub fn is_enabled(&self) -> Result<bool> {
        self.device().has_driver()
    }

    /// Whether the region has a `numa_node` attribute.
    pub fn has_numa(&self) -> Result<bool> {
        Ok(self.numa()? != Numa::NoAttr)
    }

    /// Known media errors (`badblocks`), read now.
    pub fn badblocks(&self) -> Result<Vec<BadBlock>> {
        let path = self.device().attr_path("badblocks");
        match self
            .device()
            .sysfs()
            .read_lines(&self.device().path(), "badblocks")?
        {
            Some(lines) => parse_badblocks(&path, &lines),
            None => Ok(Vec::new()),
        }
    }

    /// The namespaces (`namespaceR.N`).
    pub fn namespaces(&self) -> Result<Vec<Arc<Namespace>>> {
        self.list_of()
    }

    /// The btt devices (`bttR.N`).
    pub fn btts(&self) -> Result<Vec<Arc<Btt>>> {
        self.list_of()
    }

    /// The pfn devices (`pfnR.N`).
    pub fn pfns(&self) -> Result<Vec<Arc<Pfn>>> {
        self.list_of()
    }

    /// The dax devices (`daxR.N`).
    pub fn daxs(&self) -> Result<Vec<Arc<Dax>>> {
        self.list_of()
    }

    /// The idle namespace the kernel offers for configuration.
    pub fn namespace_seed(&self) -> Result<Option<Arc<Namespace>>> {
        self.seed_of()
    }

    /// The idle btt device.
    pub fn btt_seed(&self) -> Result<Option<Arc<Btt>>> {
        self.seed_of()
    }

    /// The idle pfn device.
    pub fn pfn_seed(&self) -> Result<Option<Arc<Pfn>>> {
        self.seed_of()
    }

    /// The idle dax device.
    pub fn dax_seed(&self) -> Result<Option<Arc<Dax>>> {
        self.seed_of()
    }

    /// The namespace `namespaceR.id`.
    pub fn namespace_by_id(&self, id: u32) -> Result<Option<Arc<Namespace>>> {
        Ok(self.namespaces()?.into_iter().find(|n| n.id() == id))
    }

    /// Rescan every kind of child device: after an enable the kernel creates new seeds.
    pub fn refresh_children(&self) -> Result<()> {
        for list in self.children.each() {
            list.rescan(self)?;
        }
        Ok(())
    }

    /// Bind the region to its driver, then rescan its children.
    pub fn enable(&self) -> Result<()> {
        if !self.is_enabled()? {
            self.device().bind(Some(&self.modalias))?;
            let _ = self.bus.wait_probe();
            if !self.is_enabled()? {
                return Err(Error::Failed {
                    object: self.devname().into(),
                    reason: "failed to enable".into(),
                });
            }
            self.refresh_type()?;
        }
        self.refresh_children()
    }

    fn disable(&self) -> Result<()> {
        self.unbind_driver()?;
        self.generation.fetch_add(1, Ordering::Relaxed);
        for list in self.children.each() {
            list.retire();
        }
        Ok(())
    }

    /// Unbind the region; its namespace, btt, pfn and dax objects become invalid and a
    /// later listing creates fresh ones. The region stops referencing the old objects at
    /// once (as [`Region::cleanup`] does).
    pub fn disable_invalidate(&self) -> Result<()> {
        self.disable()?;
        self.cleanup();
        Ok(())
    }

    /// Stop referencing the child objects of generations before the last disable. Objects
    /// still referenced elsewhere stay alive; through the C API (`ndctl_region_cleanup`)
    /// their handles become invalid, as in libndctl.
    pub fn cleanup(&self) {
        for list in self.children.each() {
            list.drop_retired();
        }
    }

    /// Unbind the region, keeping the (now invalid) child objects reachable by existing
    /// references, as libndctl's `disable_preserve` does.
    pub fn disable_preserve(&self) -> Result<()> {
        self.disable()
    }

    /// Set or clear the read-only flag.
    pub fn set_ro(&self, ro: bool) -> Result<()> {
        self.device()
            .write("read_only", if ro { "1\n" } else { "0\n" })?;
        *self.read_only.lock().unwrap_or_else(|p| p.into_inner()) = ro;
        Ok(())
    }

    /// Set the namespace alignment of the region.
    pub fn set_align(&self, align: u64) -> Result<()> {
        self.device()
            .write_remember("align", &format!("{align:#x}\n"))
    }

    /// Flush CPU and memory-controller write buffers for the region (`deep_flush`).
    pub fn deep_flush(&self) -> Result<()> {
        let path = self.device().attr_path("deep_flush");
        // The kernel reads 1 when the platform has flush hints that make a deep flush
        // meaningful; otherwise there is nothing to trigger and saying "done" would lie.
        match self.device().read_fresh("deep_flush")?.into_option() {
            Some(v) if parse_u64(&path, &v)? != 0 => self.device().write("deep_flush", "1"),
            Some(_) => Err(Error::Unsupported {
                object: self.devname().into(),
                reason: "the platform offers no deep flush for this region".into(),
            }),
            None => Err(Error::Missing { path }),
        }
    }
}

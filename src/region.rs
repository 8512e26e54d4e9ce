//! Regions (`regionN`), their DIMM mappings and interleave sets.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::badblock::{parse_badblocks, BadBlock};
use crate::btt::Btt;
use crate::bus::Bus;
use crate::children::{Child, ChildList, Presence};
use crate::dax::Dax;
use crate::dimm::Dimm;
use crate::error::{Error, Result};
use crate::namespace::Namespace;
use crate::pfn::Pfn;
use crate::sysfs::{parse_i64, parse_u64, Device};

/// `ND_DEVICE_*` device types (values of the kernel's `nstype` attribute and more).
pub mod device_type {
    pub const DIMM: u32 = 1;
    pub const REGION_PMEM: u32 = 2;
    pub const REGION_BLK: u32 = 3;
    pub const NAMESPACE_IO: u32 = 4;
    pub const NAMESPACE_PMEM: u32 = 5;
    pub const NAMESPACE_BLK: u32 = 6;
    pub const DAX_PMEM: u32 = 7;

    /// libndctl's name of a device type.
    pub fn name(t: u32) -> &'static str {
        match t {
            DIMM => "dimm",
            REGION_PMEM => "pmem",
            REGION_BLK => "blk",
            NAMESPACE_IO => "namespace_io",
            NAMESPACE_PMEM => "namespace_pmem",
            NAMESPACE_BLK => "namespace_blk",
            DAX_PMEM => "dax_pmem",
            _ => "unknown",
        }
    }
}

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
    pub fn device_type(self) -> u32 {
        match self {
            RegionType::Pmem => device_type::REGION_PMEM,
            RegionType::Blk => device_type::REGION_BLK,
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

/// A range of a DIMM contributing to a region (`mappingN`: `nmemX,offset,length,position`).
#[derive(Debug)]
pub struct Mapping {
    region: Arc<Region>,
    index: u32,
    dimm: Arc<Dimm>,
    dimm_name: String,
    offset: u64,
    length: u64,
    position: Option<i32>,
}

impl Mapping {
    /// The next mapping of the same region.
    pub fn next(&self) -> Option<Arc<Mapping>> {
        let maps = self.region.mappings().ok()?;
        let pos = maps
            .iter()
            .position(|m| std::ptr::eq(Arc::as_ptr(m), self))?;
        maps.get(pos + 1).cloned()
    }

    /// The region this mapping belongs to.
    pub fn region(&self) -> &Arc<Region> {
        &self.region
    }
    /// The N of `mappingN`.
    pub fn index(&self) -> u32 {
        self.index
    }
    /// The DIMM.
    pub fn dimm(&self) -> &Arc<Dimm> {
        &self.dimm
    }
    /// The DIMM's name as the attribute gives it.
    pub fn dimm_name(&self) -> &str {
        &self.dimm_name
    }
    /// DIMM physical address (DPA) where the mapping starts.
    pub fn offset(&self) -> u64 {
        self.offset
    }
    /// Length in bytes.
    pub fn length(&self) -> u64 {
        self.length
    }
    /// Position in the interleave set, `None` when the kernel does not say.
    pub fn position(&self) -> Option<i32> {
        self.position
    }
}

/// The interleave set of a PMEM region.
#[derive(Debug)]
pub struct InterleaveSet {
    region: Arc<Region>,
    cookie: u64,
}

impl InterleaveSet {
    /// The region the set describes.
    pub fn region(&self) -> &Arc<Region> {
        &self.region
    }
    /// The interleave-set cookie (`set_cookie`).
    pub fn cookie(&self) -> u64 {
        self.cookie
    }
    /// The interleave set of the next PMEM region on the bus.
    pub fn next(&self) -> Option<Arc<InterleaveSet>> {
        let mut r = self.region.next();
        while let Some(region) = r {
            if let Some(set) = region.interleave_set() {
                return Some(set);
            }
            r = region.next();
        }
        None
    }

    /// Whether any member DIMM is active.
    pub fn is_active(&self) -> Result<bool> {
        for d in self.region.dimms()? {
            match d.is_active() {
                Ok(true) => return Ok(true),
                // A member without `state` is simply not known to be active (libndctl).
                Ok(false) | Err(Error::Missing { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(false)
    }
    /// The member DIMMs.
    pub fn dimms(&self) -> Result<Vec<Arc<Dimm>>> {
        self.region.dimms()
    }
    /// The member DIMM listed after `dimm`.
    pub fn dimm_after(&self, dimm: &Dimm) -> Result<Option<Arc<Dimm>>> {
        self.region.dimm_after(dimm)
    }
}

/// A region of persistent memory.
#[derive(Debug)]
pub struct Region {
    me: std::sync::Weak<Region>,
    bus: Arc<Bus>,
    dev: Device,
    presence: Presence,
    id: u32,
    size: u64,
    num_mappings: u32,
    read_only: Mutex<bool>,
    modalias: String,
    nstype: u32,
    cookie: Option<u64>,
    generation: AtomicU64,
    mappings: Mutex<Option<Vec<Arc<Mapping>>>>,
    iset: Mutex<Option<Arc<InterleaveSet>>>,
    namespaces: ChildList<Namespace>,
    btts: ChildList<Btt>,
    pfns: ChildList<Pfn>,
    daxs: ChildList<Dax>,
}

impl Child for Region {
    fn child_name(&self) -> &str {
        self.dev.name()
    }
    fn presence(&self) -> &Presence {
        &self.presence
    }
}

fn to_u32(dev: &Device, name: &str, v: u64) -> Result<u32> {
    u32::try_from(v).map_err(|_| Error::parse(dev.attr_path(name), &v.to_string(), "out of range"))
}

impl Region {
    pub(crate) fn new(bus: Arc<Bus>, id: u32, path: PathBuf) -> Result<Arc<Region>> {
        let dev = Device::new(Arc::clone(bus.device().sysfs()), path);
        let size = dev.req_u64("size")?;
        let num_mappings = to_u32(&dev, "mappings", dev.req_u64("mappings")?)?;
        let read_only = dev.req_u64("read_only")? != 0;
        let modalias = dev.required("modalias")?;
        let nstype = to_u32(&dev, "nstype", dev.req_u64("nstype")?)?;
        let cookie = if nstype == device_type::NAMESPACE_PMEM {
            Some(dev.req_u64("set_cookie")?)
        } else {
            None
        };
        let logger = Arc::clone(dev.sysfs().logger());
        Ok(Arc::new_cyclic(|me| Region {
            me: me.clone(),
            bus,
            dev,
            presence: Presence::new(),
            id,
            size,
            num_mappings,
            read_only: Mutex::new(read_only),
            modalias,
            nstype,
            cookie,
            generation: AtomicU64::new(0),
            mappings: Mutex::new(None),
            iset: Mutex::new(None),
            namespaces: ChildList::new(&logger),
            btts: ChildList::new(&logger),
            pfns: ChildList::new(&logger),
            daxs: ChildList::new(&logger),
        }))
    }

    pub(crate) fn release(&self) {
        *self.mappings.lock().unwrap_or_else(|p| p.into_inner()) = None;
        *self.iset.lock().unwrap_or_else(|p| p.into_inner()) = None;
        self.namespaces.clear();
        self.btts.clear();
        self.pfns.clear();
        self.daxs.clear();
    }

    /// Forget cached attributes of the region and its children, and rescan them.
    pub(crate) fn invalidate(&self) -> Result<()> {
        self.dev.invalidate();
        for n in self.namespaces.all() {
            n.invalidate();
        }
        for b in self.btts.all() {
            b.invalidate();
        }
        for p in self.pfns.all() {
            p.invalidate();
        }
        for d in self.daxs.all() {
            d.invalidate();
        }
        self.refresh_children()
    }

    fn arc(&self) -> Arc<Region> {
        self.me
            .upgrade()
            .unwrap_or_else(|| unreachable!("a region is only reachable through its Arc"))
    }

    /// The current generation; children created in an older one are no longer valid.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }

    /// The next region on the same bus.
    pub fn next(&self) -> Option<Arc<Region>> {
        self.bus.region_after(self)
    }

    /// The namespace listed after `ns` in this region.
    pub fn namespace_after(&self, ns: &Namespace) -> Option<Arc<Namespace>> {
        self.namespaces.after(ns)
    }

    /// The btt listed after `btt` in this region.
    pub fn btt_after(&self, btt: &Btt) -> Option<Arc<Btt>> {
        self.btts.after(btt)
    }

    /// The pfn listed after `pfn` in this region.
    pub fn pfn_after(&self, pfn: &Pfn) -> Option<Arc<Pfn>> {
        self.pfns.after(pfn)
    }

    /// The dax listed after `dax` in this region.
    pub fn dax_after(&self, dax: &Dax) -> Option<Arc<Dax>> {
        self.daxs.after(dax)
    }

    /// The bus.
    pub fn bus(&self) -> &Arc<Bus> {
        &self.bus
    }

    /// The sysfs device.
    pub fn device(&self) -> &Device {
        &self.dev
    }

    /// N of `regionN`.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// `regionN`.
    pub fn devname(&self) -> &str {
        self.dev.name()
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
    pub fn nstype(&self) -> u32 {
        self.nstype
    }

    /// PMEM for `nstype` IO or PMEM, BLK otherwise (as libndctl decides).
    pub fn region_type(&self) -> RegionType {
        match self.nstype {
            device_type::NAMESPACE_IO | device_type::NAMESPACE_PMEM => RegionType::Pmem,
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
            if let Some(v) = self.dev.opt_u64(attr)? {
                return to_u32(&self.dev, attr, v).map(Some);
            }
        }
        Ok(None)
    }

    /// The NUMA node.
    pub fn numa(&self) -> Result<Numa> {
        match self.dev.opt_i64("numa_node")? {
            None => Ok(Numa::NoAttr),
            Some(v) => Ok(Numa::Node(i32::try_from(v).map_err(|_| {
                Error::parse(
                    self.dev.attr_path("numa_node"),
                    &v.to_string(),
                    "out of range",
                )
            })?)),
        }
    }

    /// The NUMA node of the memory when onlined as system RAM (`target_node`).
    pub fn target_node(&self) -> Result<Option<i32>> {
        opt_i32(&self.dev, "target_node")
    }

    /// Alignment of namespaces in the region (`align`), if the kernel has the attribute.
    pub fn align(&self) -> Result<Option<u64>> {
        self.dev.opt_u64("align")
    }

    /// The persistence domain.
    pub fn persistence_domain(&self) -> Result<PersistenceDomain> {
        Ok(match self.dev.opt("persistence_domain")? {
            Some(s) if s.starts_with("cpu_cache") => PersistenceDomain::CpuCache,
            Some(s) if s.starts_with("memory_controller") => PersistenceDomain::MemoryController,
            Some(s) if s.starts_with("none") => PersistenceDomain::None,
            _ => PersistenceDomain::Unknown,
        })
    }

    /// Physical start address, read now (`resource`).
    pub fn resource(&self) -> Result<Option<u64>> {
        self.dev.fresh_u64("resource")
    }

    fn capacity_attr(&self, name: &str) -> Result<Option<u64>> {
        if self.nstype != device_type::NAMESPACE_PMEM && self.nstype != device_type::NAMESPACE_BLK {
            return Ok(Some(0));
        }
        self.dev.fresh_u64(name)
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
    pub fn is_enabled(&self) -> bool {
        self.dev.has_driver()
    }

    /// Whether the region has a `numa_node` attribute.
    pub fn has_numa(&self) -> Result<bool> {
        Ok(self.numa()? != Numa::NoAttr)
    }

    /// The interleave set (PMEM regions only).
    pub fn interleave_set(&self) -> Option<Arc<InterleaveSet>> {
        let cookie = self.cookie?;
        let mut g = self.iset.lock().unwrap_or_else(|p| p.into_inner());
        Some(Arc::clone(g.get_or_insert_with(|| {
            Arc::new(InterleaveSet {
                region: self.arc(),
                cookie,
            })
        })))
    }

    /// The DIMM ranges making up the region (read on first use), in libndctl's order: it
    /// adds `mapping0..N` at the head of its list, so iteration runs from the last to the
    /// first. A mapping naming a DIMM that is not on the bus is left out (and logged), as
    /// libndctl leaves it out.
    pub fn mappings(&self) -> Result<Vec<Arc<Mapping>>> {
        let mut g = self.mappings.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(m) = g.as_ref() {
            return Ok(m.clone());
        }
        let dimms = self.bus.dimms()?;
        let mut out = Vec::new();
        let logger = self.dev.sysfs().logger();
        // The count comes from sysfs: visit only the mappingN files that exist, so a
        // count like 4294967295 costs one directory listing, not four billion lookups.
        let present = self.dev.indexes("mapping")?;
        if present.len() < self.num_mappings as usize {
            crate::ctx_log!(
                logger,
                log::Level::Info,
                "{}: mappings is {} but {} mappingN files exist",
                self.devname(),
                self.num_mappings,
                present.len()
            );
        }
        for i in present.into_iter().filter(|&i| i < self.num_mappings) {
            let name = format!("mapping{i}");
            let path = self.dev.attr_path(&name);
            let Some(v) = self.dev.opt(&name)? else {
                crate::ctx_log!(logger, log::Level::Info, "{}: unavailable", path.display());
                continue;
            };
            let fields: Vec<&str> = v.trim().split(',').collect();
            if !(3..=4).contains(&fields.len()) {
                return Err(Error::parse(
                    &path,
                    &v,
                    "expected nmemN,offset,length[,position]",
                ));
            }
            let dimm_name = fields[0].to_string();
            let dimm_id = dimm_name
                .strip_prefix("nmem")
                .and_then(|n| n.parse::<u32>().ok())
                .ok_or_else(|| Error::parse(&path, &v, "expected nmemN"))?;
            let offset = parse_u64(&path, fields[1])?;
            let length = parse_u64(&path, fields[2])?;
            let position = match fields.get(3) {
                Some(p) => {
                    let p = parse_i64(&path, p)?;
                    Some(i32::try_from(p).map_err(|_| Error::parse(&path, &v, "bad position"))?)
                }
                None => None,
            };
            let Some(dimm) = dimms.iter().find(|d| d.id() == dimm_id).cloned() else {
                crate::ctx_log!(
                    logger,
                    log::Level::Warn,
                    "{}: {dimm_name} is not on {}",
                    path.display(),
                    self.bus.devname()
                );
                continue;
            };
            out.push(Arc::new(Mapping {
                region: self.arc(),
                index: i,
                dimm,
                dimm_name,
                offset,
                length,
                position,
            }));
        }
        out.reverse();
        *g = Some(out.clone());
        Ok(out)
    }

    /// The DIMMs referenced by the region's mappings, in bus order.
    pub fn dimms(&self) -> Result<Vec<Arc<Dimm>>> {
        let maps = self.mappings()?;
        Ok(self
            .bus
            .dimms()?
            .into_iter()
            .filter(|d| maps.iter().any(|m| Arc::ptr_eq(&m.dimm, d)))
            .collect())
    }

    /// Known media errors (`badblocks`), read now.
    pub fn badblocks(&self) -> Result<Vec<BadBlock>> {
        let path = self.dev.attr_path("badblocks");
        match self.dev.sysfs().read_lines(self.dev.path(), "badblocks")? {
            Some(lines) => parse_badblocks(&path, &lines),
            None => Ok(Vec::new()),
        }
    }

    fn seed_name(&self, attr: &str) -> Result<Option<String>> {
        Ok(self
            .dev
            .read_fresh(attr)?
            .into_option()
            .filter(|s| !s.trim().is_empty()))
    }

    /// The idle namespace the kernel offers for configuration.
    pub fn namespace_seed(&self) -> Result<Option<Arc<Namespace>>> {
        let Some(name) = self.seed_name("namespace_seed")? else {
            return Ok(None);
        };
        Ok(self.namespaces()?.into_iter().find(|n| n.devname() == name))
    }

    /// The idle btt device.
    pub fn btt_seed(&self) -> Result<Option<Arc<Btt>>> {
        let Some(name) = self.seed_name("btt_seed")? else {
            return Ok(None);
        };
        Ok(self.btts()?.into_iter().find(|n| n.devname() == name))
    }

    /// The idle pfn device.
    pub fn pfn_seed(&self) -> Result<Option<Arc<Pfn>>> {
        let Some(name) = self.seed_name("pfn_seed")? else {
            return Ok(None);
        };
        Ok(self.pfns()?.into_iter().find(|n| n.devname() == name))
    }

    /// The idle dax device.
    pub fn dax_seed(&self) -> Result<Option<Arc<Dax>>> {
        let Some(name) = self.seed_name("dax_seed")? else {
            return Ok(None);
        };
        Ok(self.daxs()?.into_iter().find(|n| n.devname() == name))
    }

    fn child_prefix(&self, kind: &str) -> String {
        if let Err(e) = self.bus.wait_probe() {
            crate::ctx_log!(
                self.dev.sysfs().logger(),
                log::Level::Debug,
                "{}: wait_probe: {e}",
                self.bus.devname()
            );
        }
        format!("{kind}{}.", self.id)
    }

    /// The namespaces (`namespaceR.N`).
    pub fn namespaces(&self) -> Result<Vec<Arc<Namespace>>> {
        let me = self.arc();
        let prefix = self.child_prefix("namespace");
        self.namespaces.get(
            || self.dev.children(&prefix),
            |id, p| Namespace::new(Arc::clone(&me), id, p),
        )
    }

    /// The btt devices (`bttR.N`).
    pub fn btts(&self) -> Result<Vec<Arc<Btt>>> {
        let me = self.arc();
        let prefix = self.child_prefix("btt");
        self.btts.get(
            || self.dev.children(&prefix),
            |id, p| Btt::new(Arc::clone(&me), id, p),
        )
    }

    /// The pfn devices (`pfnR.N`).
    pub fn pfns(&self) -> Result<Vec<Arc<Pfn>>> {
        let me = self.arc();
        let prefix = self.child_prefix("pfn");
        self.pfns.get(
            || self.dev.children(&prefix),
            |id, p| Pfn::new(Arc::clone(&me), id, p),
        )
    }

    /// The dax devices (`daxR.N`).
    pub fn daxs(&self) -> Result<Vec<Arc<Dax>>> {
        let me = self.arc();
        let prefix = self.child_prefix("dax");
        self.daxs.get(
            || self.dev.children(&prefix),
            |id, p| Dax::new(Arc::clone(&me), id, p),
        )
    }

    /// The namespace `namespaceR.id`.
    pub fn namespace_by_id(&self, id: u32) -> Result<Option<Arc<Namespace>>> {
        Ok(self.namespaces()?.into_iter().find(|n| n.id() == id))
    }

    /// Rescan namespaces, btts, pfns and daxs: after an enable the kernel creates new seeds.
    pub fn refresh_children(&self) -> Result<()> {
        let me = self.arc();
        let p = self.child_prefix("namespace");
        self.namespaces.rescan(
            || self.dev.children(&p),
            |id, path| Namespace::new(Arc::clone(&me), id, path),
        )?;
        let p = self.child_prefix("btt");
        self.btts.rescan(
            || self.dev.children(&p),
            |id, path| Btt::new(Arc::clone(&me), id, path),
        )?;
        let p = self.child_prefix("pfn");
        self.pfns.rescan(
            || self.dev.children(&p),
            |id, path| Pfn::new(Arc::clone(&me), id, path),
        )?;
        let p = self.child_prefix("dax");
        self.daxs.rescan(
            || self.dev.children(&p),
            |id, path| Dax::new(Arc::clone(&me), id, path),
        )
    }

    /// The namespace a btt, pfn or dax device of this region names in `namespace`.
    pub(crate) fn claimed_namespace(&self, dev: &Device) -> Result<Option<Arc<Namespace>>> {
        let Some(name) = dev.opt("namespace")?.filter(|n| !n.trim().is_empty()) else {
            return Ok(None);
        };
        Ok(self
            .namespaces()?
            .into_iter()
            .find(|n| n.devname() == name.trim()))
    }

    /// Attach a btt, pfn or dax device to a namespace (`None` detaches).
    pub(crate) fn set_claimed_namespace(&self, dev: &Device, ns: Option<&Namespace>) -> Result<()> {
        dev.write_remember("namespace", ns.map(|n| n.devname()).unwrap_or("\n"))
    }

    /// Enable a btt, pfn or dax device: bind it, let probing settle and rescan the region,
    /// where the kernel now offers a new seed.
    pub(crate) fn enable_claim(&self, dev: &Device, modalias: &str) -> Result<()> {
        if !dev.has_driver() {
            dev.bind(Some(modalias))?;
            let _ = self.bus.wait_probe();
        }
        self.refresh_children()?;
        if dev.has_driver() {
            Ok(())
        } else {
            Err(Error::Failed {
                object: dev.name().into(),
                reason: "failed to enable".into(),
            })
        }
    }

    /// Delete a btt, pfn or dax device: unbind it and detach it from its namespace.
    /// Objects of a previous generation (`valid` false) are left alone.
    pub(crate) fn delete_claim(&self, dev: &Device, valid: bool) -> Result<()> {
        if !valid {
            return Ok(());
        }
        if dev.has_driver() {
            dev.unbind()?;
        }
        self.set_claimed_namespace(dev, None)?;
        self.refresh_children()
    }

    /// Bind the region to its driver, then rescan its children.
    pub fn enable(&self) -> Result<()> {
        if !self.is_enabled() {
            self.dev.bind(Some(&self.modalias))?;
            let _ = self.bus.wait_probe();
            if !self.is_enabled() {
                return Err(Error::Failed {
                    object: self.devname().into(),
                    reason: "failed to enable".into(),
                });
            }
        }
        self.refresh_children()
    }

    fn disable(&self) -> Result<()> {
        if self.is_enabled() {
            self.dev.unbind()?;
            if self.is_enabled() {
                return Err(Error::Busy {
                    object: self.devname().into(),
                    reason: "failed to disable".into(),
                });
            }
        }
        self.generation.fetch_add(1, Ordering::Relaxed);
        self.namespaces.retire();
        self.btts.retire();
        self.pfns.retire();
        self.daxs.retire();
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
        self.namespaces.drop_retired();
        self.btts.drop_retired();
        self.pfns.drop_retired();
        self.daxs.drop_retired();
    }

    /// The DIMM of this region listed after `dimm` on the bus (libndctl's
    /// `ndctl_region_get_next_dimm`): bus order, limited to the region's DIMMs.
    pub fn dimm_after(&self, dimm: &Dimm) -> Result<Option<Arc<Dimm>>> {
        let members = self.dimms()?;
        let mut next = dimm.next();
        while let Some(d) = next {
            if members.iter().any(|m| Arc::ptr_eq(m, &d)) {
                return Ok(Some(d));
            }
            next = d.next();
        }
        Ok(None)
    }

    /// Unbind the region, keeping the (now invalid) child objects reachable by existing
    /// references, as libndctl's `disable_preserve` does.
    pub fn disable_preserve(&self) -> Result<()> {
        self.disable()
    }

    /// Set or clear the read-only flag.
    pub fn set_ro(&self, ro: bool) -> Result<()> {
        self.dev
            .write("read_only", if ro { "1\n" } else { "0\n" })?;
        *self.read_only.lock().unwrap_or_else(|p| p.into_inner()) = ro;
        Ok(())
    }

    /// Set the namespace alignment of the region.
    pub fn set_align(&self, align: u64) -> Result<()> {
        self.dev.write_remember("align", &format!("{align:#x}\n"))
    }

    /// Flush CPU and memory-controller write buffers for the region (`deep_flush`).
    pub fn deep_flush(&self) -> Result<()> {
        let path = self.dev.attr_path("deep_flush");
        // The kernel reads 1 when the platform has flush hints that make a deep flush
        // meaningful; otherwise there is nothing to trigger and saying "done" would lie.
        match self.dev.read_fresh("deep_flush")?.into_option() {
            Some(v) if parse_u64(&path, &v)? != 0 => self.dev.write("deep_flush", "1"),
            Some(_) => Err(Error::Unsupported {
                object: self.devname().into(),
                reason: "the platform offers no deep flush for this region".into(),
            }),
            None => Err(Error::Missing { path }),
        }
    }
}

pub(crate) fn opt_i32(dev: &Device, name: &str) -> Result<Option<i32>> {
    match dev.opt_i64(name)? {
        None => Ok(None),
        Some(v) => i32::try_from(v)
            .map(Some)
            .map_err(|_| Error::parse(dev.attr_path(name), &v.to_string(), "out of range")),
    }
}

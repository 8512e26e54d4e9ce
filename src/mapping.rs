//! The DIMM ranges a region is made of (`mappingN`) and the interleave set of a PMEM region.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::dimm::Dimm;
use crate::error::{Error, Result};
use crate::region::Region;
use crate::sysfs::{parse_i64, parse_u64};

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

impl Region {
    /// The interleave set (PMEM regions only).
    pub fn interleave_set(&self) -> Option<Arc<InterleaveSet>> {
        let cookie = self.cookie()?;
        let mut g = self.iset.lock().unwrap_or_else(|p| p.into_inner());
        let make = || {
            Arc::new(InterleaveSet {
                region: self.arc(),
                cookie,
            })
        };
        if self.released.load(Ordering::Acquire) {
            return Some(make());
        }
        Some(Arc::clone(g.get_or_insert_with(make)))
    }

    /// The DIMM ranges making up the region (read on first use), in libndctl's order: it
    /// adds `mapping0..N` at the head of its list, so iteration runs from the last to the
    /// first. A mapping naming a DIMM that is not on the bus is left out (and logged), as
    /// libndctl leaves it out.
    pub fn mappings(&self) -> Result<Vec<Arc<Mapping>>> {
        self.mappings_among(None)
    }

    /// [`Region::mappings`], naming DIMMs from `bus_dimms` when the caller has listed
    /// the bus's DIMMs already (an object kept past its context lists them on each call).
    fn mappings_among(&self, bus_dimms: Option<&[Arc<Dimm>]>) -> Result<Vec<Arc<Mapping>>> {
        let mut g = self.mappings.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(m) = g.as_ref() {
            return Ok(m.clone());
        }
        let listed;
        let dimms = match bus_dimms {
            Some(d) => d,
            None => {
                listed = self.bus().dimms()?;
                &listed[..]
            }
        };
        let mut out = Vec::new();
        let logger = self.device().sysfs().logger();
        // The count comes from sysfs: visit only the mappingN files that exist, so a
        // count like 4294967295 costs one directory listing, not four billion lookups.
        let present = self.device().indexes("mapping")?;
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
            let path = self.device().attr_path(&name);
            let Some(v) = self.device().opt(&name)? else {
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
                    self.bus().devname()
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
        if !self.released.load(Ordering::Acquire) {
            *g = Some(out.clone());
        }
        Ok(out)
    }

    /// The DIMMs referenced by the region's mappings, in bus order.
    pub fn dimms(&self) -> Result<Vec<Arc<Dimm>>> {
        let bus_dimms = self.bus().dimms()?;
        let maps = self.mappings_among(Some(&bus_dimms))?;
        Ok(bus_dimms
            .into_iter()
            // By number, not by object: one context makes one object per DIMM, but an
            // object kept past its context lists afresh on each call.
            .filter(|d| maps.iter().any(|m| m.dimm.id() == d.id()))
            .collect())
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
}

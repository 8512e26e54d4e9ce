//! Page-frame-number devices (`pfnR.N`): fsdax namespaces with a struct-page memmap.

use std::path::PathBuf;
use std::sync::Arc;

use crate::claim::ClaimCore;
use crate::error::{Error, Result};
use crate::region::Region;
use crate::sysfs::{parse_size_list, AttrSet};

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
    fn sysfs_name(self) -> &'static str {
        match self {
            Location::None => "none",
            Location::Ram => "ram",
            Location::Pmem => "pmem",
        }
    }
}

/// What pfn and dax devices have in common (libndctl implements dax on top of pfn): the
/// memmap location and alignment, on top of the namespace claim. Both [`Pfn`] and
/// [`crate::Dax`] dereference to it, so every method here (and of [`ClaimCore`]) is
/// available on either.
#[derive(Debug)]
pub struct PfnCore {
    claim: ClaimCore,
}

impl std::ops::Deref for PfnCore {
    type Target = ClaimCore;
    fn deref(&self) -> &ClaimCore {
        &self.claim
    }
}

/// What a pfn or dax device reads, in one batch (libndctl reads dax devices as pfns).
static PFN_ATTRS: AttrSet = AttrSet {
    cached: &["uuid", "mode", "align", "size"],
    fresh: &[],
    lazy: &["modalias", "supported_alignments", "resource", "namespace"],
};

impl PfnCore {
    pub(crate) fn new(region: Arc<Region>, id: u32, path: PathBuf) -> Result<PfnCore> {
        let core = PfnCore {
            claim: ClaimCore::new(region, id, path, &PFN_ATTRS)?,
        };
        core.location()?;
        Ok(core)
    }

    /// Where the memmap lives (`mode`).
    pub fn location(&self) -> Result<Location> {
        let dev = self.device();
        let m = dev.required("mode")?;
        Ok(match m.trim() {
            "none" => Location::None,
            "ram" => Location::Ram,
            "pmem" => Location::Pmem,
            _ => {
                return Err(Error::parse(
                    dev.attr_path("mode"),
                    &m,
                    "expected none, ram or pmem",
                ))
            }
        })
    }

    /// Mapping alignment.
    pub fn align(&self) -> Result<Option<u64>> {
        self.device().opt_u64("align")
    }

    /// Whether the kernel lets the alignment be chosen.
    pub fn has_align(&self) -> Result<bool> {
        self.device().has("align")
    }

    /// Supported alignments.
    pub fn alignments(&self) -> Result<Vec<u64>> {
        let dev = self.device();
        match dev.opt("supported_alignments")? {
            // Kernels without the attribute support base pages and PMD pages.
            None => Ok(vec![4096, 2 << 20]),
            Some(s) => Ok(parse_size_list(&dev.attr_path("supported_alignments"), &s)?
                .0
                .into_iter()
                .map(u64::from)
                .collect()),
        }
    }

    /// Physical start of the data; `None` for an idle seed.
    pub fn resource(&self) -> Result<Option<u64>> {
        self.device().opt_u64("resource")
    }

    /// Whether it has any configuration (namespace, location or uuid).
    pub fn is_configured(&self) -> Result<bool> {
        Ok(self.namespace()?.is_some()
            || self.location()? != Location::None
            || !self.uuid()?.is_nil())
    }

    /// Choose where the memmap lives.
    pub fn set_location(&self, loc: Location) -> Result<()> {
        self.device().write_remember("mode", loc.sysfs_name())
    }

    /// Set the mapping alignment.
    pub fn set_align(&self, align: u64) -> Result<()> {
        self.device().write_remember("align", &format!("{align}\n"))
    }
}

/// A pfn device (fsdax).
#[derive(Debug)]
pub struct Pfn {
    core: PfnCore,
}

/// Declares a device kind built on [`PfnCore`] (pfn and dax): a tree object that the region
/// lists under `$prefix` in its list `$list`.
macro_rules! pfn_kind {
    ($ty:ident, $prefix:literal, $list:ident) => {
        $crate::children::tree_object!($ty, core: $crate::pfn::PfnCore);

        impl $crate::children::ChildKind for $ty {
            const PREFIX: &'static str = $prefix;
            fn new(
                region: std::sync::Arc<$crate::region::Region>,
                id: u32,
                path: std::path::PathBuf,
            ) -> $crate::error::Result<std::sync::Arc<$ty>> {
                let core = $crate::pfn::PfnCore::new(region, id, path)?;
                Ok(std::sync::Arc::new($ty { core }))
            }
            fn list(region: &$crate::region::Region) -> &$crate::children::ChildList<$ty> {
                &region.children().$list
            }
            fn invalidate(&self) {
                self.core.invalidate()
            }
        }

        impl $ty {
            /// The next device of the same kind in the region.
            pub fn next(&self) -> Option<std::sync::Arc<$ty>> {
                self.region().child_after(self)
            }
        }
    };
}
pub(crate) use pfn_kind;

pfn_kind!(Pfn, "pfn", pfns);

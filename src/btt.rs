//! Block translation table devices (`bttR.N`): sector-atomic access to a namespace.
//!
//! This is the sysfs device object; the on-media format lives in [`crate::btt_engine`].

use std::path::PathBuf;
use std::sync::Arc;

use crate::children::tree_object;
use crate::children::ChildKind;
use crate::claim::ClaimCore;
use crate::error::Result;
use crate::region::Region;
use crate::sysfs::{parse_size_list, AttrSet};

/// A btt device. Its claim of a namespace (uuid, size, namespace, enable, delete) comes
/// from [`ClaimCore`].
#[derive(Debug)]
pub struct Btt {
    claim: ClaimCore,
}

tree_object!(Btt, claim: ClaimCore);

/// What a btt reads, in one batch.
static BTT_ATTRS: AttrSet = AttrSet {
    cached: &["uuid", "sector_size", "size"],
    fresh: &[],
    lazy: &["modalias", "namespace"],
};

impl ChildKind for Btt {
    const PREFIX: &'static str = "btt";
    fn new(region: Arc<Region>, id: u32, path: PathBuf) -> Result<Arc<Btt>> {
        let claim = ClaimCore::new(region, id, path, &BTT_ATTRS)?;
        claim.device().required("sector_size")?;
        Ok(Arc::new(Btt { claim }))
    }
    fn list(region: &Region) -> &crate::children::ChildList<Btt> {
        &region.children().btts
    }
    fn invalidate(&self) {
        self.claim.invalidate()
    }
}

impl Btt {
    /// The next btt of the same region.
    pub fn next(&self) -> Option<Arc<Btt>> {
        self.region().child_after(self)
    }

    /// Supported sector sizes and the index of the selected one.
    pub fn sector_sizes(&self) -> Result<(Vec<u32>, Option<usize>)> {
        let dev = self.device();
        parse_size_list(&dev.attr_path("sector_size"), &dev.required("sector_size")?)
    }

    /// The selected sector size, if one is selected.
    pub fn sector_size(&self) -> Result<Option<u32>> {
        let (s, i) = self.sector_sizes()?;
        Ok(i.and_then(|i| s.get(i).copied()))
    }

    /// Whether it has any configuration (namespace, sector size or uuid).
    pub fn is_configured(&self) -> Result<bool> {
        Ok(self.namespace()?.is_some() || self.sector_size()?.is_some() || !self.uuid()?.is_nil())
    }

    /// Select a sector size.
    pub fn set_sector_size(&self, size: u32) -> Result<()> {
        self.device().write_selection("sector_size", size)
    }
}

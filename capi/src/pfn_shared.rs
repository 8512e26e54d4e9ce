//! The conversions the pfn and dax exports share: libndctl's dax getters are its pfn
//! getters applied to the pfn embedded in the dax, and here both devices deref to one
//! [`PfnCore`]. Each returns what the export's `guard!` expects (`None` becomes the
//! export's error value). Getters that are one call of the Rust API are written in the
//! exports themselves, as for the other objects.

use std::ffi::{c_int, c_ulong};

use ndctl::{Location, PfnCore};

use crate::ctypes::ndctl_pfn_loc;
use crate::handles::*;

/// The memmap locations in the order of libndctl's `enum ndctl_pfn_loc` (its values are
/// the positions here), for both directions of the conversion.
const LOCATIONS: [Location; 3] = [Location::None, Location::Ram, Location::Pmem];

pub(crate) fn location(p: &PfnCore) -> Option<ndctl_pfn_loc> {
    let loc = value(p.location()).map(|l| c_enum(&LOCATIONS, l).unwrap_or(-libc::EINVAL));
    Some(loc.unwrap_or(-libc::ENXIO))
}

pub(crate) fn set_location(p: &PfnCore, loc: ndctl_pfn_loc) -> Option<c_int> {
    Some(status(p.set_location(*LOCATIONS.get(index(loc)?)?)))
}

pub(crate) fn align(p: &PfnCore) -> Option<c_ulong> {
    let a = known(p.align()).and_then(|a| c_ulong::try_from(a).ok());
    Some(a.unwrap_or(0))
}

pub(crate) fn num_alignments(p: &PfnCore) -> Option<c_int> {
    c_int::try_from(value(p.alignments()).map_or(0, |v| v.len())).ok()
}

pub(crate) fn supported_alignment(p: &PfnCore, i: c_int) -> Option<c_ulong> {
    let all = value(p.alignments()).unwrap_or_default();
    let a = index(i).and_then(|i| all.get(i).copied());
    Some(a.and_then(|a| c_ulong::try_from(a).ok()).unwrap_or(c_ulong::MAX))
}

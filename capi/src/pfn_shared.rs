//! The bodies of the exports pfn and dax devices share. libndctl's dax getters are its pfn
//! getters applied to the pfn embedded in the dax; here both devices deref to one
//! [`PfnCore`] and both groups of exports call these functions. Each returns what the
//! export's `guard!` expects: `None` becomes the export's error value.

use std::ffi::{c_char, c_int, c_uint, c_ulong, c_ulonglong};

use ndctl::{Location, Namespace, PfnCore};

use crate::ctx::ndctl_ctx;
use crate::ctypes::{ndctl_pfn_loc, uuid_t};
use crate::handles::*;

/// The memmap locations in the order of libndctl's `enum ndctl_pfn_loc` (its values are
/// the positions here), for both directions of the conversion.
const LOCATIONS: [Location; 3] = [Location::None, Location::Ram, Location::Pmem];

fn location_to_c(loc: Location) -> ndctl_pfn_loc {
    c_enum(&LOCATIONS, loc).unwrap_or(-libc::EINVAL)
}

fn location_from_c(v: ndctl_pfn_loc) -> Option<Location> {
    LOCATIONS.get(index(v)?).copied()
}

pub(crate) fn region(p: &PfnCore) -> Option<*mut ndctl_region> {
    Some(ptr(p.region()))
}

pub(crate) fn bus(p: &PfnCore) -> Option<*mut ndctl_bus> {
    Some(ptr(p.region().bus()))
}

pub(crate) fn ctx(p: &PfnCore) -> Option<*mut ndctl_ctx> {
    Some(handle_of(p.region().bus().ctx()))
}

pub(crate) fn devname(p: &PfnCore) -> Option<*const c_char> {
    Some(p.devname_cstr().as_ptr())
}

pub(crate) fn id(p: &PfnCore) -> Option<c_uint> {
    Some(p.id())
}

pub(crate) fn get_uuid(p: &PfnCore, uu: uuid_t) -> Option<()> {
    uuid_out!(uu, value(p.uuid()))
}

pub(crate) fn set_uuid(p: &PfnCore, uu: uuid_t) -> Option<c_int> {
    Some(status(p.set_uuid(uuid_arg!(uu))))
}

pub(crate) fn location(p: &PfnCore) -> Option<ndctl_pfn_loc> {
    Some(value(p.location()).map_or(-libc::ENXIO, location_to_c))
}

pub(crate) fn set_location(p: &PfnCore, loc: ndctl_pfn_loc) -> Option<c_int> {
    Some(status(p.set_location(location_from_c(loc)?)))
}

pub(crate) fn align(p: &PfnCore) -> Option<c_ulong> {
    let a = known(p.align()).and_then(|a| c_ulong::try_from(a).ok());
    Some(a.unwrap_or(0))
}

pub(crate) fn has_align(p: &PfnCore) -> Option<c_int> {
    Some(c_int::from(p.has_align()))
}

pub(crate) fn set_align(p: &PfnCore, align: c_ulong) -> Option<c_int> {
    Some(status(p.set_align(ulong(align))))
}

pub(crate) fn num_alignments(p: &PfnCore) -> Option<c_int> {
    c_int::try_from(value(p.alignments()).map_or(0, |v| v.len())).ok()
}

pub(crate) fn supported_alignment(p: &PfnCore, i: c_int) -> Option<c_ulong> {
    let all = value(p.alignments()).unwrap_or_default();
    let a = index(i).and_then(|i| all.get(i).copied());
    Some(a.and_then(|a| c_ulong::try_from(a).ok()).unwrap_or(c_ulong::MAX))
}

pub(crate) fn size(p: &PfnCore) -> Option<c_ulonglong> {
    Some(known(p.size()).unwrap_or(c_ulonglong::MAX))
}

pub(crate) fn resource(p: &PfnCore) -> Option<c_ulonglong> {
    Some(known(p.resource()).unwrap_or(c_ulonglong::MAX))
}

pub(crate) fn namespace(p: &PfnCore) -> Option<*mut ndctl_namespace> {
    found(p.namespace())
}

pub(crate) fn set_namespace(p: &PfnCore, n: Option<&Namespace>) -> Option<c_int> {
    Some(status(p.set_namespace(n)))
}

pub(crate) fn is_enabled(p: &PfnCore) -> Option<c_int> {
    Some(c_int::from(p.is_enabled()))
}

pub(crate) fn is_valid(p: &PfnCore) -> Option<c_int> {
    Some(c_int::from(p.is_valid()))
}

pub(crate) fn is_configured(p: &PfnCore) -> Option<c_int> {
    Some(flag(p.is_configured()))
}

pub(crate) fn enable(p: &PfnCore) -> Option<c_int> {
    Some(enable_status(p.devname(), p.enable(), |()| 0))
}

pub(crate) fn delete(p: &PfnCore) -> Option<c_int> {
    Some(status(p.delete()))
}

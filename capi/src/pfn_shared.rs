//! The bodies of the exports pfn and dax devices share. libndctl's dax getters are its pfn
//! getters applied to the pfn embedded in the dax; here both devices deref to one
//! [`PfnCore`] and both groups of exports call these functions. Each returns what the
//! export's `guard!` expects: `None` becomes the export's error value.

use std::ffi::{c_char, c_int, c_uint, c_ulong, c_ulonglong};

use ndctl::{Location, Namespace, PfnCore};

use crate::ctx::ndctl_ctx;
use crate::ctypes::{ndctl_pfn_loc, uuid_t};
use crate::handles::{
    flag, handle_of, index, known, ndctl_bus, ndctl_namespace, ndctl_region, opt_ptr, ptr,
    put_uuid, status, ulong, value,
};

/// libndctl's `enum ndctl_pfn_loc` value of a memmap location.
fn location_to_c(loc: Location) -> ndctl_pfn_loc {
    match loc {
        Location::None => 0,
        Location::Ram => 1,
        Location::Pmem => 2,
    }
}

/// The memmap location of an `enum ndctl_pfn_loc` value; `None` for an unknown one.
fn location_from_c(v: ndctl_pfn_loc) -> Option<Location> {
    Some(match v {
        0 => Location::None,
        1 => Location::Ram,
        2 => Location::Pmem,
        _ => return None,
    })
}

pub(crate) fn region(_f: &str, p: &PfnCore) -> Option<*mut ndctl_region> {
    Some(ptr(p.region()))
}

pub(crate) fn bus(_f: &str, p: &PfnCore) -> Option<*mut ndctl_bus> {
    Some(ptr(p.region().bus()))
}

pub(crate) fn ctx(_f: &str, p: &PfnCore) -> Option<*mut ndctl_ctx> {
    Some(handle_of(p.region().bus().ctx()))
}

pub(crate) fn devname(_f: &str, p: &PfnCore) -> Option<*const c_char> {
    Some(p.devname_cstr().as_ptr())
}

pub(crate) fn id(_f: &str, p: &PfnCore) -> Option<c_uint> {
    Some(p.id())
}

pub(crate) fn get_uuid(f: &'static str, p: &PfnCore, uu: uuid_t) -> Option<()> {
    let u = value(f, p.uuid()).unwrap_or_default();
    // SAFETY: the export's contract: NULL or the caller's 16-byte uuid_t.
    unsafe { put_uuid(uu, &u) };
    Some(())
}

pub(crate) fn set_uuid(f: &'static str, p: &PfnCore, uu: uuid_t) -> Option<c_int> {
    Some(status(f, p.set_uuid(uuid_arg!(uu))))
}

pub(crate) fn location(f: &'static str, p: &PfnCore) -> Option<ndctl_pfn_loc> {
    Some(value(f, p.location()).map_or(-libc::ENXIO, location_to_c))
}

pub(crate) fn set_location(f: &'static str, p: &PfnCore, loc: ndctl_pfn_loc) -> Option<c_int> {
    Some(status(f, p.set_location(location_from_c(loc)?)))
}

pub(crate) fn align(f: &'static str, p: &PfnCore) -> Option<c_ulong> {
    let a = known(f, p.align()).and_then(|a| c_ulong::try_from(a).ok());
    Some(a.unwrap_or(0))
}

pub(crate) fn has_align(_f: &str, p: &PfnCore) -> Option<c_int> {
    Some(c_int::from(p.has_align()))
}

pub(crate) fn set_align(f: &'static str, p: &PfnCore, align: c_ulong) -> Option<c_int> {
    Some(status(f, p.set_align(ulong(align))))
}

pub(crate) fn num_alignments(f: &'static str, p: &PfnCore) -> Option<c_int> {
    c_int::try_from(value(f, p.alignments()).map_or(0, |v| v.len())).ok()
}

pub(crate) fn supported_alignment(f: &'static str, p: &PfnCore, i: c_int) -> Option<c_ulong> {
    let all = value(f, p.alignments()).unwrap_or_default();
    let a = index(i).and_then(|i| all.get(i).copied());
    Some(
        a.and_then(|a| c_ulong::try_from(a).ok())
            .unwrap_or(c_ulong::MAX),
    )
}

pub(crate) fn size(f: &'static str, p: &PfnCore) -> Option<c_ulonglong> {
    Some(known(f, p.size()).unwrap_or(c_ulonglong::MAX))
}

pub(crate) fn resource(f: &'static str, p: &PfnCore) -> Option<c_ulonglong> {
    Some(known(f, p.resource()).unwrap_or(c_ulonglong::MAX))
}

pub(crate) fn namespace(f: &'static str, p: &PfnCore) -> Option<*mut ndctl_namespace> {
    Some(opt_ptr(known(f, p.namespace())))
}

pub(crate) fn set_namespace(f: &'static str, p: &PfnCore, n: Option<&Namespace>) -> Option<c_int> {
    Some(status(f, p.set_namespace(n)))
}

pub(crate) fn is_enabled(_f: &str, p: &PfnCore) -> Option<c_int> {
    Some(c_int::from(p.is_enabled()))
}

pub(crate) fn is_valid(_f: &str, p: &PfnCore) -> Option<c_int> {
    Some(c_int::from(p.is_valid()))
}

pub(crate) fn is_configured(f: &'static str, p: &PfnCore) -> Option<c_int> {
    Some(flag(f, p.is_configured()))
}

pub(crate) fn enable(f: &'static str, p: &PfnCore) -> Option<c_int> {
    Some(status(f, p.enable()))
}

pub(crate) fn delete(f: &'static str, p: &PfnCore) -> Option<c_int> {
    Some(status(f, p.delete()))
}

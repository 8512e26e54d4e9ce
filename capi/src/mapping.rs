//! Mappings (group `mapping`) and interleave sets (group `interleave_set` of
//! `libndctl.tsv`).

use std::ffi::{c_int, c_ulonglong};

use crate::ctx::ndctl_ctx;
use crate::handles::*;

/// The first mapping of `region`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_mapping_get_first(region: *mut ndctl_region) -> *mut ndctl_mapping {
    guard!(std::ptr::null_mut(), Some(first(live!(region).mappings())))
}

/// The mapping after `mapping` in its region.
#[no_mangle]
pub unsafe extern "C" fn ndctl_mapping_get_next(mapping: *mut ndctl_mapping) -> *mut ndctl_mapping {
    guard!(std::ptr::null_mut(), Some(opt_ptr(live!(mapping).next())))
}

/// The DIMM of the mapping.
#[no_mangle]
pub unsafe extern "C" fn ndctl_mapping_get_dimm(mapping: *mut ndctl_mapping) -> *mut ndctl_dimm {
    guard!(std::ptr::null_mut(), Some(ptr(live!(mapping).dimm())))
}

/// The region of the mapping.
#[no_mangle]
pub unsafe extern "C" fn ndctl_mapping_get_region(
    mapping: *mut ndctl_mapping,
) -> *mut ndctl_region {
    guard!(std::ptr::null_mut(), Some(ptr(live!(mapping).region())))
}

/// The bus of the mapping.
#[no_mangle]
pub unsafe extern "C" fn ndctl_mapping_get_bus(mapping: *mut ndctl_mapping) -> *mut ndctl_bus {
    guard!(std::ptr::null_mut(), Some(ptr(live!(mapping).region().bus())))
}

/// The context of the mapping.
#[no_mangle]
pub unsafe extern "C" fn ndctl_mapping_get_ctx(mapping: *mut ndctl_mapping) -> *mut ndctl_ctx {
    guard!(std::ptr::null_mut(), Some(handle_of(live!(mapping).region().bus().ctx())))
}

/// DIMM physical address where the mapping starts.
#[no_mangle]
pub unsafe extern "C" fn ndctl_mapping_get_offset(mapping: *mut ndctl_mapping) -> c_ulonglong {
    guard!(c_ulonglong::MAX, Some(live!(mapping).offset()))
}

/// Length in bytes.
#[no_mangle]
pub unsafe extern "C" fn ndctl_mapping_get_length(mapping: *mut ndctl_mapping) -> c_ulonglong {
    guard!(c_ulonglong::MAX, Some(live!(mapping).length()))
}

/// Position in the interleave set (-1 when the kernel does not say).
#[no_mangle]
pub unsafe extern "C" fn ndctl_mapping_get_position(mapping: *mut ndctl_mapping) -> c_int {
    guard!(-libc::EINVAL, Some(live!(mapping).position().unwrap_or(-1)))
}

/// The interleave set of a PMEM region (NULL for others).
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_interleave_set(
    region: *mut ndctl_region,
) -> *mut ndctl_interleave_set {
    guard!(std::ptr::null_mut(), Some(opt_ptr(live!(region).interleave_set())))
}

/// The first interleave set of `bus`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_interleave_set_get_first(
    bus: *mut ndctl_bus,
) -> *mut ndctl_interleave_set {
    guard!(std::ptr::null_mut(), Some(first(live!(bus).interleave_sets())))
}

/// The interleave set of the next PMEM region on the bus.
#[no_mangle]
pub unsafe extern "C" fn ndctl_interleave_set_get_next(
    iset: *mut ndctl_interleave_set,
) -> *mut ndctl_interleave_set {
    guard!(std::ptr::null_mut(), Some(opt_ptr(live!(iset).next())))
}

/// The region the set describes.
#[no_mangle]
pub unsafe extern "C" fn ndctl_interleave_set_get_region(
    iset: *mut ndctl_interleave_set,
) -> *mut ndctl_region {
    guard!(std::ptr::null_mut(), Some(ptr(live!(iset).region())))
}

/// The interleave-set cookie.
#[no_mangle]
pub unsafe extern "C" fn ndctl_interleave_set_get_cookie(
    iset: *mut ndctl_interleave_set,
) -> c_ulonglong {
    guard!(c_ulonglong::MAX, Some(live!(iset).cookie()))
}

/// 1 if any member DIMM is active.
#[no_mangle]
pub unsafe extern "C" fn ndctl_interleave_set_is_active(iset: *mut ndctl_interleave_set) -> c_int {
    guard!(0, Some(flag(live!(iset).is_active())))
}

/// The first member DIMM in bus order.
#[no_mangle]
pub unsafe extern "C" fn ndctl_interleave_set_get_first_dimm(
    iset: *mut ndctl_interleave_set,
) -> *mut ndctl_dimm {
    guard!(std::ptr::null_mut(), Some(first(live!(iset).dimms())))
}

/// The member DIMM after `dimm`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_interleave_set_get_next_dimm(
    iset: *mut ndctl_interleave_set, dimm: *mut ndctl_dimm,
) -> *mut ndctl_dimm {
    guard!(std::ptr::null_mut(), found(live!(iset).dimm_after(live!(dimm))))
}

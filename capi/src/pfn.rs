//! PFN devices (fsdax; group `pfn` of `libndctl.tsv`).

use std::ffi::{c_char, c_int, c_uint, c_ulong, c_ulonglong};

use crate::ctx::ndctl_ctx;
use crate::ctypes::{ndctl_pfn_loc, uuid_t};
use crate::handles::*;
use crate::pfn_shared as shared;

/// The first pfn of `region`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_first(region: *mut ndctl_region) -> *mut ndctl_pfn {
    guard!(std::ptr::null_mut(), Some(first(live!(region).pfns())))
}

/// The pfn after `pfn` in its region.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_next(pfn: *mut ndctl_pfn) -> *mut ndctl_pfn {
    guard!(std::ptr::null_mut(), Some(opt_ptr(live!(pfn).next())))
}

/// The idle pfn the kernel offers for configuration.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_pfn_seed(region: *mut ndctl_region) -> *mut ndctl_pfn {
    guard!(std::ptr::null_mut(), found(live!(region).pfn_seed()))
}

/// The pfn claiming `ndns`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_get_pfn(ndns: *mut ndctl_namespace) -> *mut ndctl_pfn {
    guard!(std::ptr::null_mut(), found(live!(ndns).pfn()))
}

/// The region of `pfn`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_region(pfn: *mut ndctl_pfn) -> *mut ndctl_region {
    guard!(std::ptr::null_mut(), Some(ptr(live!(pfn).region())))
}

/// The bus of `pfn`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_bus(pfn: *mut ndctl_pfn) -> *mut ndctl_bus {
    guard!(std::ptr::null_mut(), Some(ptr(live!(pfn).region().bus())))
}

/// The context of `pfn`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_ctx(pfn: *mut ndctl_pfn) -> *mut ndctl_ctx {
    guard!(std::ptr::null_mut(), Some(handle_of(live!(pfn).region().bus().ctx())))
}

/// `pfnR.N`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_devname(pfn: *mut ndctl_pfn) -> *const c_char {
    guard!(std::ptr::null(), Some(live!(pfn).devname_cstr().as_ptr()))
}

/// N of `pfnR.N`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_id(pfn: *mut ndctl_pfn) -> c_uint {
    guard!(c_uint::MAX, Some(live!(pfn).id()))
}

/// Copies the uuid into `uu` (all zero when unconfigured).
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_uuid(pfn: *mut ndctl_pfn, uu: uuid_t) {
    guard_void!(uuid_out!(uu, value(live!(pfn).uuid())))
}

/// Sets the uuid: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_set_uuid(pfn: *mut ndctl_pfn, uu: uuid_t) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(pfn).set_uuid(uuid_arg!(uu)))))
}

/// Where the memmap lives (`NDCTL_PFN_LOC_*`; -ENXIO when unreadable).
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_location(pfn: *mut ndctl_pfn) -> ndctl_pfn_loc {
    guard!(-libc::EINVAL, shared::location(live!(pfn)))
}

/// Chooses where the memmap lives: 0, -EINVAL for an unknown location, or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_set_location(pfn: *mut ndctl_pfn, loc: ndctl_pfn_loc) -> c_int {
    guard!(-libc::EINVAL, shared::set_location(live!(pfn), loc))
}

/// Mapping alignment (0 when the kernel does not say).
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_align(pfn: *mut ndctl_pfn) -> c_ulong {
    guard!(c_ulong::MAX, shared::align(live!(pfn)))
}

/// 1 if the alignment can be chosen (`align` exists).
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_has_align(pfn: *mut ndctl_pfn) -> c_int {
    guard!(0, value(live!(pfn).has_align()).map(c_int::from))
}

/// Sets the mapping alignment: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_set_align(pfn: *mut ndctl_pfn, align: c_ulong) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(pfn).set_align(ulong(align)))))
}

/// Number of supported alignments.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_num_alignments(pfn: *mut ndctl_pfn) -> c_int {
    guard!(-libc::EINVAL, shared::num_alignments(live!(pfn)))
}

/// Supported alignment `i` (`ULONG_MAX` for `i` out of range).
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_supported_alignment(
    pfn: *mut ndctl_pfn, i: c_int,
) -> c_ulong {
    guard!(c_ulong::MAX, shared::supported_alignment(live!(pfn), i))
}

/// Usable size (`ULLONG_MAX` when unknown, e.g. an idle seed).
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_size(pfn: *mut ndctl_pfn) -> c_ulonglong {
    guard!(c_ulonglong::MAX, known(live!(pfn).size()))
}

/// Physical start of the data (`ULLONG_MAX` when unknown).
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_resource(pfn: *mut ndctl_pfn) -> c_ulonglong {
    guard!(c_ulonglong::MAX, known(live!(pfn).resource()))
}

/// The namespace the pfn is attached to.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_namespace(pfn: *mut ndctl_pfn) -> *mut ndctl_namespace {
    guard!(std::ptr::null_mut(), found(live!(pfn).namespace()))
}

/// Attaches the pfn to `ndns` (NULL detaches): 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_set_namespace(
    pfn: *mut ndctl_pfn, ndns: *mut ndctl_namespace,
) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(pfn).set_namespace(maybe!(ndns)))))
}

/// 1 if bound to a driver.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_is_enabled(pfn: *mut ndctl_pfn) -> c_int {
    guard!(0, value(live!(pfn).is_enabled()).map(c_int::from))
}

/// 1 while the region has not been disabled since the object was created.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_is_valid(pfn: *mut ndctl_pfn) -> c_int {
    guard!(0, Some(c_int::from(live!(pfn).is_valid())))
}

/// 1 if it has a namespace, a memmap location or a uuid.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_is_configured(pfn: *mut ndctl_pfn) -> c_int {
    guard!(0, Some(flag(live!(pfn).is_configured())))
}

/// Binds the pfn: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_enable(pfn: *mut ndctl_pfn) -> c_int {
    guard!(-libc::EINVAL, maybe!(pfn).map(|p| enable_status(p.devname(), p.enable(), |()| 0)))
}

/// Unbinds the pfn and detaches it from its namespace: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_delete(pfn: *mut ndctl_pfn) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(pfn).delete())))
}

/// The block device (`pmemX`; `""` when there is none).
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_block_device(pfn: *mut ndctl_pfn) -> *const c_char {
    guard!(std::ptr::null(), Some(c_str_or_empty(value(live!(pfn).block_device_cstr()).flatten())))
}

//! BTT devices (group `btt` of `libndctl.tsv`).

use std::ffi::{c_char, c_int, c_uint, c_ulonglong};

use crate::ctx::ndctl_ctx;
use crate::ctypes::uuid_t;
use crate::handles::*;

/// The first btt of `region`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_get_first(region: *mut ndctl_region) -> *mut ndctl_btt {
    guard!(std::ptr::null_mut(), Some(first(live!(region).btts())))
}

/// The btt after `btt` in its region.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_get_next(btt: *mut ndctl_btt) -> *mut ndctl_btt {
    guard!(std::ptr::null_mut(), Some(opt_ptr(live!(btt).next())))
}

/// The idle btt the kernel offers for configuration.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_btt_seed(region: *mut ndctl_region) -> *mut ndctl_btt {
    guard!(std::ptr::null_mut(), found(live!(region).btt_seed()))
}

/// The region of `btt`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_get_region(btt: *mut ndctl_btt) -> *mut ndctl_region {
    guard!(std::ptr::null_mut(), Some(ptr(live!(btt).region())))
}

/// The bus of `btt`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_get_bus(btt: *mut ndctl_btt) -> *mut ndctl_bus {
    guard!(std::ptr::null_mut(), Some(ptr(live!(btt).region().bus())))
}

/// The context of `btt`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_get_ctx(btt: *mut ndctl_btt) -> *mut ndctl_ctx {
    guard!(std::ptr::null_mut(), Some(handle_of(live!(btt).region().bus().ctx())))
}

/// `bttR.N`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_get_devname(btt: *mut ndctl_btt) -> *const c_char {
    guard!(std::ptr::null(), Some(live!(btt).devname_cstr().as_ptr()))
}

/// N of `bttR.N`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_get_id(btt: *mut ndctl_btt) -> c_uint {
    guard!(c_uint::MAX, Some(live!(btt).id()))
}

/// Copies the uuid into `uu` (all zero when unconfigured).
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_get_uuid(btt: *mut ndctl_btt, uu: uuid_t) {
    guard_void!(uuid_out!(uu, value(live!(btt).uuid())))
}

/// Sets the uuid: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_set_uuid(btt: *mut ndctl_btt, uu: uuid_t) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(btt).set_uuid(uuid_arg!(uu)))))
}

/// Number of supported sector sizes.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_get_num_sector_sizes(btt: *mut ndctl_btt) -> c_int {
    guard!(-libc::EINVAL, Some(value(live!(btt).sector_sizes()).map_or(0, |(s, _)| int(s.len()))))
}

/// Supported sector size `i` (`UINT_MAX` for `i` out of range).
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_get_supported_sector_size(
    btt: *mut ndctl_btt, i: c_int,
) -> c_uint {
    guard!(
        c_uint::MAX,
        Some(sector_size(live!(btt).sector_sizes(), index(i).map(Some), c_uint::MAX))
    )
}

/// The selected sector size (`UINT_MAX` when none is selected).
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_get_sector_size(btt: *mut ndctl_btt) -> c_uint {
    guard!(c_uint::MAX, Some(sector_size(live!(btt).sector_sizes(), Some(None), c_uint::MAX)))
}

/// Selects a sector size: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_set_sector_size(
    btt: *mut ndctl_btt, sector_size: c_uint,
) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(btt).set_sector_size(sector_size))))
}

/// Usable size (`ULLONG_MAX` when unknown, e.g. an idle seed).
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_get_size(btt: *mut ndctl_btt) -> c_ulonglong {
    guard!(c_ulonglong::MAX, known(live!(btt).size()))
}

/// The namespace the btt is attached to.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_get_namespace(btt: *mut ndctl_btt) -> *mut ndctl_namespace {
    guard!(std::ptr::null_mut(), found(live!(btt).namespace()))
}

/// Attaches the btt to `ndns` (NULL detaches): 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_set_namespace(
    btt: *mut ndctl_btt, ndns: *mut ndctl_namespace,
) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(btt).set_namespace(maybe!(ndns)))))
}

/// The block device (`pmemXs`; `""` when there is none).
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_get_block_device(btt: *mut ndctl_btt) -> *const c_char {
    guard!(std::ptr::null(), Some(c_str_or_empty(value(live!(btt).block_device_cstr()).flatten())))
}

/// 1 if bound to a driver.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_is_enabled(btt: *mut ndctl_btt) -> c_int {
    guard!(0, value(live!(btt).is_enabled()).map(c_int::from))
}

/// 1 while the region has not been disabled since the object was created.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_is_valid(btt: *mut ndctl_btt) -> c_int {
    guard!(0, Some(c_int::from(live!(btt).is_valid())))
}

/// 1 if it has a namespace, a selected sector size or a uuid.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_is_configured(btt: *mut ndctl_btt) -> c_int {
    guard!(0, Some(flag(live!(btt).is_configured(),)))
}

/// Binds the btt: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_enable(btt: *mut ndctl_btt) -> c_int {
    guard!(-libc::EINVAL, maybe!(btt).map(|b| enable_status(b.devname(), b.enable(), |()| 0)))
}

/// Unbinds the btt and detaches it from its namespace: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_delete(btt: *mut ndctl_btt) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(btt).delete())))
}

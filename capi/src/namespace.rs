//! Namespaces (group `namespace` of `libndctl.tsv`).

use std::ffi::{c_char, c_int, c_uint, c_ulonglong};

use ndctl::Mode;

use crate::ctx::ndctl_ctx;
use crate::ctypes::{ndctl_namespace_mode, uuid_t};
use crate::handles::*;

/// The first namespace of `region`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_get_first(
    region: *mut ndctl_region,
) -> *mut ndctl_namespace {
    guard!(std::ptr::null_mut(), Some(first(live!(region).namespaces())))
}

/// The namespace after `ndns` in its region.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_get_next(
    ndns: *mut ndctl_namespace,
) -> *mut ndctl_namespace {
    guard!(std::ptr::null_mut(), Some(opt_ptr(live!(ndns).next())))
}

/// The region of `ndns`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_get_region(
    ndns: *mut ndctl_namespace,
) -> *mut ndctl_region {
    guard!(std::ptr::null_mut(), Some(ptr(live!(ndns).region())))
}

/// The bus of `ndns`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_get_bus(ndns: *mut ndctl_namespace) -> *mut ndctl_bus {
    guard!(std::ptr::null_mut(), Some(ptr(live!(ndns).region().bus())))
}

/// The context of `ndns`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_get_ctx(ndns: *mut ndctl_namespace) -> *mut ndctl_ctx {
    guard!(std::ptr::null_mut(), Some(handle_of(live!(ndns).region().bus().ctx())))
}

/// `namespaceR.N`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_get_devname(ndns: *mut ndctl_namespace) -> *const c_char {
    guard!(std::ptr::null(), Some(live!(ndns).devname_cstr().as_ptr()))
}

/// N of `namespaceR.N`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_get_id(ndns: *mut ndctl_namespace) -> c_uint {
    guard!(c_uint::MAX, Some(live!(ndns).id()))
}

/// `ND_DEVICE_NAMESPACE_{IO,PMEM,BLK}`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_get_type(ndns: *mut ndctl_namespace) -> c_uint {
    guard!(c_uint::MAX, Some(live!(ndns).ns_type().code()))
}

/// `namespace_io`, `namespace_pmem` or `namespace_blk`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_get_type_name(
    ndns: *mut ndctl_namespace,
) -> *const c_char {
    guard!(std::ptr::null(), c_name(live!(ndns).ns_type().name()))
}

/// The current mode, read now; -ENXIO when unreadable or unknown.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_get_mode(
    ndns: *mut ndctl_namespace,
) -> ndctl_namespace_mode {
    guard!(-libc::EINVAL, Some(or_debug(live!(ndns).mode(), -libc::ENXIO, |m| m.to_c())))
}

/// The mode enforced by `holder_class` (`NDCTL_NS_MODE_MEMORY` when the kernel has none).
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_get_enforce_mode(
    ndns: *mut ndctl_namespace,
) -> ndctl_namespace_mode {
    guard!(-libc::EINVAL, Some(known(live!(ndns).enforce_mode()).map_or(0, Mode::to_c)))
}

/// Sets which kind of device may claim the namespace: 0 or a negative errno (-EINVAL for
/// `NDCTL_NS_MODE_UNKNOWN` or an invalid value).
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_set_enforce_mode(
    ndns: *mut ndctl_namespace, mode: ndctl_namespace_mode,
) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(ndns).set_enforce_mode(Mode::from_c(mode)?))))
}

/// 1 if forced to raw mode, 0 if not (negative errno if unreadable).
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_get_raw_mode(ndns: *mut ndctl_namespace) -> c_int {
    guard!(-libc::EINVAL, Some(flag(live!(ndns).raw_mode())))
}

/// Forces or releases raw mode; returns the new setting (1/0) or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_set_raw_mode(
    ndns: *mut ndctl_namespace, raw_mode: c_int,
) -> c_int {
    let raw = raw_mode != 0;
    guard!(-libc::EINVAL, Some(errno_or(live!(ndns).set_raw_mode(raw), |()| c_int::from(raw))))
}

/// Size in bytes.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_get_size(ndns: *mut ndctl_namespace) -> c_ulonglong {
    guard!(c_ulonglong::MAX, Some(live!(ndns).size()))
}

/// Sets the size of a PMEM/BLK namespace: 0, -EINVAL for size 0 (use
/// `ndctl_namespace_delete()`), -EBUSY while enabled, -ENXIO for IO namespaces.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_set_size(
    ndns: *mut ndctl_namespace, size: c_ulonglong,
) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(ndns).set_size(size))))
}

/// Physical start address (`ULLONG_MAX` when unknown).
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_get_resource(ndns: *mut ndctl_namespace) -> c_ulonglong {
    guard!(c_ulonglong::MAX, known(live!(ndns).resource()))
}

/// NUMA node (-1 when unknown).
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_get_numa_node(ndns: *mut ndctl_namespace) -> c_int {
    guard!(-libc::EINVAL, Some(known(live!(ndns).numa_node()).unwrap_or(-1)))
}

/// NUMA node of the memory when onlined as RAM (-1 when unknown).
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_get_target_node(ndns: *mut ndctl_namespace) -> c_int {
    guard!(-libc::EINVAL, Some(known(live!(ndns).target_node()).unwrap_or(-1)))
}

/// Copies the uuid into `uu` (all zero for IO namespaces and unconfigured ones).
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_get_uuid(ndns: *mut ndctl_namespace, uu: uuid_t) {
    guard_void!(uuid_out!(uu, known(live!(ndns).uuid())))
}

/// Sets the uuid: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_set_uuid(ndns: *mut ndctl_namespace, uu: uuid_t) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(ndns).set_uuid(uuid_arg!(uu)))))
}

/// The friendly name (`""` when the namespace has none).
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_get_alt_name(ndns: *mut ndctl_namespace) -> *const c_char {
    guard!(std::ptr::null(), opt_name_of(live!(ndns), "alt_name", |o| known(o.alt_name())))
}

/// Sets the friendly name (shorter than 64 bytes): 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_set_alt_name(
    ndns: *mut ndctl_namespace, alt_name: *const c_char,
) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(ndns).set_alt_name(str_arg!(alt_name).to_str().ok()?))))
}

/// Number of supported sector sizes.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_get_num_sector_sizes(ndns: *mut ndctl_namespace) -> c_int {
    guard!(-libc::EINVAL, Some(value(live!(ndns).sector_sizes()).map_or(0, |(s, _)| int(s.len()))))
}

/// Supported sector size `i`: 0 when the namespace has none, `UINT_MAX` for `i` out of range.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_get_supported_sector_size(
    ndns: *mut ndctl_namespace, i: c_int,
) -> c_uint {
    guard!(c_uint::MAX, Some(sector_size(live!(ndns).sector_sizes(), index(i).map(Some), 0)))
}

/// The selected sector size: 0 when the namespace has none, `UINT_MAX` when none is
/// selected.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_get_sector_size(ndns: *mut ndctl_namespace) -> c_uint {
    guard!(c_uint::MAX, Some(sector_size(live!(ndns).sector_sizes(), Some(None), 0)))
}

/// Selects a sector size: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_set_sector_size(
    ndns: *mut ndctl_namespace, sector_size: c_uint,
) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(ndns).set_sector_size(sector_size))))
}

/// The block device of a raw namespace (`""` when there is none).
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_get_block_device(
    ndns: *mut ndctl_namespace,
) -> *const c_char {
    guard!(std::ptr::null(), Some(c_str_or_empty(value(live!(ndns).block_device_cstr()).flatten())))
}

/// The btt claiming the namespace.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_get_btt(ndns: *mut ndctl_namespace) -> *mut ndctl_btt {
    guard!(std::ptr::null_mut(), found(live!(ndns).btt()))
}

/// 1 if the namespace is bound to a driver.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_is_enabled(ndns: *mut ndctl_namespace) -> c_int {
    guard!(0, value(live!(ndns).is_enabled()).map(c_int::from))
}

/// Whether the namespace is in use (itself or through its btt/pfn/dax).
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_is_active(ndns: *mut ndctl_namespace) -> bool {
    guard!(false, value(live!(ndns).is_active()))
}

/// 1 while the region has not been disabled since the object was created.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_is_valid(ndns: *mut ndctl_namespace) -> c_int {
    guard!(0, Some(c_int::from(live!(ndns).is_valid())))
}

/// 1 if configured (size and uuid; a sector size for BLK), 0 if not, -ENXIO for an unknown
/// namespace type.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_is_configured(ndns: *mut ndctl_namespace) -> c_int {
    guard!(0, Some(or_debug(live!(ndns).is_configured(), -libc::ENXIO, c_int::from)))
}

/// 1 if not active and either unconfigured or an IO namespace.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_is_configuration_idle(
    ndns: *mut ndctl_namespace,
) -> c_int {
    guard!(0, Some(value(live!(ndns).is_configuration_idle()).map_or(0, c_int::from)))
}

/// Binds the namespace: 0 if it is enabled, 1 if a btt/pfn/dax claiming it was enabled
/// instead, or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_enable(ndns: *mut ndctl_namespace) -> c_int {
    guard!(-libc::EINVAL, maybe!(ndns).map(|n| enable_status(n.devname(), n.enable(), c_int::from)))
}

/// Unbinds the namespace: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_disable(ndns: *mut ndctl_namespace) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(ndns).disable())))
}

/// Deletes any btt/pfn/dax claiming the namespace, then disables it.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_disable_invalidate(ndns: *mut ndctl_namespace) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(ndns).disable_invalidate())))
}

/// Like `ndctl_namespace_disable_invalidate()`, but fails (-EBUSY) while the block device
/// is in use, e.g. mounted.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_disable_safe(ndns: *mut ndctl_namespace) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(ndns).disable_safe())))
}

/// Releases the namespace's capacity (size 0); -EBUSY while active.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_delete(ndns: *mut ndctl_namespace) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(ndns).delete())))
}

/// 1 if the pmem write cache is enabled, 0 if not, negative errno when unknown.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_write_cache_is_enabled(
    ndns: *mut ndctl_namespace,
) -> c_int {
    guard!(0, Some(errno_or(live!(ndns).write_cache_is_enabled(), c_int::from)))
}

/// Enables the pmem write cache: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_enable_write_cache(ndns: *mut ndctl_namespace) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(ndns).set_write_cache(true))))
}

/// Disables the pmem write cache: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_disable_write_cache(ndns: *mut ndctl_namespace) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(ndns).set_write_cache(false))))
}

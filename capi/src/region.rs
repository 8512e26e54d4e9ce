//! Regions (group `region` of `libndctl.tsv`).

use std::ffi::{c_char, c_int, c_uint, c_ulong, c_ulonglong};

use ndctl::region::Numa;

use crate::ctx::ndctl_ctx;
use crate::ctypes::ndctl_persistence_domain;
use crate::handles::*;

/// libndctl's `NUMA_NO_NODE`.
const NUMA_NO_NODE: c_int = -1;
/// libndctl's `NUMA_NO_ATTR`: the region has no `numa_node` attribute.
const NUMA_NO_ATTR: c_int = -2;

/// The first region of `bus`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_first(bus: *mut ndctl_bus) -> *mut ndctl_region {
    guard!(std::ptr::null_mut(), Some(first(live!(bus).regions())))
}

/// The region after `region` on its bus.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_next(region: *mut ndctl_region) -> *mut ndctl_region {
    guard!(std::ptr::null_mut(), Some(opt_ptr(live!(region).next())))
}

/// The region whose physical range contains `address`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_region_by_physical_address(
    bus: *mut ndctl_bus, address: c_ulonglong,
) -> *mut ndctl_region {
    guard!(std::ptr::null_mut(), found(live!(bus).region_by_physical_address(address)))
}

/// The bus of `region`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_bus(region: *mut ndctl_region) -> *mut ndctl_bus {
    guard!(std::ptr::null_mut(), Some(ptr(live!(region).bus())))
}

/// The context of `region`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_ctx(region: *mut ndctl_region) -> *mut ndctl_ctx {
    guard!(std::ptr::null_mut(), Some(handle_of(live!(region).bus().ctx())))
}

/// `regionN`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_devname(region: *mut ndctl_region) -> *const c_char {
    guard!(std::ptr::null(), Some(live!(region).devname_cstr().as_ptr()))
}

/// N of `regionN`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_id(region: *mut ndctl_region) -> c_uint {
    guard!(c_uint::MAX, Some(live!(region).id()))
}

/// Size in bytes.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_size(region: *mut ndctl_region) -> c_ulonglong {
    guard!(c_ulonglong::MAX, Some(live!(region).size()))
}

/// Physical start address, read now (`ULLONG_MAX` when unknown).
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_resource(region: *mut ndctl_region) -> c_ulonglong {
    guard!(c_ulonglong::MAX, known(live!(region).resource()))
}

/// Unallocated capacity, read now (0 for IO regions, `ULLONG_MAX` when unreadable).
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_available_size(region: *mut ndctl_region) -> c_ulonglong {
    guard!(c_ulonglong::MAX, known(live!(region).available_size()))
}

/// Largest free extent, read now (0 for IO regions, `ULLONG_MAX` when unreadable).
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_max_available_extent(
    region: *mut ndctl_region,
) -> c_ulonglong {
    guard!(c_ulonglong::MAX, known(live!(region).max_available_extent()))
}

/// Number of DIMM mappings.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_mappings(region: *mut ndctl_region) -> c_uint {
    guard!(c_uint::MAX, Some(live!(region).num_mappings()))
}

/// Interleave ways: the number of mappings, at least 1.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_interleave_ways(region: *mut ndctl_region) -> c_uint {
    guard!(c_uint::MAX, Some(live!(region).interleave_ways()))
}

/// The kernel's `nstype` (`ND_DEVICE_NAMESPACE_*`).
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_nstype(region: *mut ndctl_region) -> c_uint {
    guard!(c_uint::MAX, Some(live!(region).nstype().code()))
}

/// `ND_DEVICE_REGION_PMEM` or `ND_DEVICE_REGION_BLK`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_type(region: *mut ndctl_region) -> c_uint {
    guard!(c_uint::MAX, Some(live!(region).region_type().device_type().code()))
}

/// `pmem` or `blk`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_type_name(region: *mut ndctl_region) -> *const c_char {
    guard!(std::ptr::null(), c_name(live!(region).region_type().device_type().name()))
}

/// NFIT SPA range index (`UINT_MAX` when the region has none).
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_range_index(region: *mut ndctl_region) -> c_uint {
    guard!(c_uint::MAX, known(live!(region).range_index()))
}

/// 1 if the region is read-only, 0 if not (-EINVAL for NULL).
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_ro(region: *mut ndctl_region) -> c_int {
    guard!(-libc::EINVAL, Some(c_int::from(live!(region).read_only())))
}

/// Sets or clears read-only; returns the new setting (1/0) or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_set_ro(region: *mut ndctl_region, ro: c_int) -> c_int {
    let ro = ro != 0;
    guard!(-libc::EINVAL, Some(errno_or(live!(region).set_ro(ro), |()| c_int::from(ro))))
}

/// NUMA node; `NUMA_NO_ATTR` (-2) without the attribute, `NUMA_NO_NODE` (-1) if unreadable.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_numa_node(region: *mut ndctl_region) -> c_int {
    guard!(-libc::EINVAL, {
        Some(match value(live!(region).numa()) {
            Some(Numa::NoAttr) => NUMA_NO_ATTR,
            Some(Numa::Node(n)) => n,
            None => NUMA_NO_NODE,
        })
    })
}

/// 1 if the region has a `numa_node` attribute.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_has_numa(region: *mut ndctl_region) -> c_int {
    guard!(0, Some(value(live!(region).has_numa()).map_or(0, c_int::from)))
}

/// NUMA node of the memory when onlined as RAM (-1 when unknown).
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_target_node(region: *mut ndctl_region) -> c_int {
    guard!(-libc::EINVAL, Some(known(live!(region).target_node()).unwrap_or(-1)))
}

/// Namespace alignment (`ULONG_MAX` when the kernel has no `align`).
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_align(region: *mut ndctl_region) -> c_ulong {
    guard!(c_ulong::MAX, known(live!(region).align()).and_then(|a| c_ulong::try_from(a).ok()))
}

/// Sets the namespace alignment: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_set_align(
    region: *mut ndctl_region, align: c_ulong,
) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(region).set_align(crate::handles::ulong(align)))))
}

/// The persistence domain (`PERSISTENCE_UNKNOWN` when unknown or for NULL).
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_persistence_domain(
    region: *mut ndctl_region,
) -> ndctl_persistence_domain {
    guard!(c_int::MAX, value(live!(region).persistence_domain()).map(persistence_domain))
}

/// 1 if the region is bound to its driver.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_is_enabled(region: *mut ndctl_region) -> c_int {
    guard!(0, value(live!(region).is_enabled()).map(c_int::from))
}

/// Binds the region and rescans its children: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_enable(region: *mut ndctl_region) -> c_int {
    guard!(-libc::EINVAL, maybe!(region).map(|r| enable_status(r.devname(), r.enable(), |()| 0)))
}

/// Unbinds the region and releases its namespace/btt/pfn/dax objects (their handles become
/// invalid): 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_disable_invalidate(region: *mut ndctl_region) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(region).disable_invalidate())))
}

/// Unbinds the region keeping its (now invalid) child objects until
/// `ndctl_region_cleanup()`: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_disable_preserve(region: *mut ndctl_region) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(region).disable_preserve())))
}

/// Releases child objects left invalid by `ndctl_region_disable_preserve()`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_cleanup(region: *mut ndctl_region) {
    guard_void!(live!(region).cleanup())
}

/// Flushes write buffers for the region (`deep_flush`): 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_deep_flush(region: *mut ndctl_region) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(region).deep_flush())))
}

/// The first DIMM (in bus order) that the region maps.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_first_dimm(region: *mut ndctl_region) -> *mut ndctl_dimm {
    guard!(std::ptr::null_mut(), Some(first(live!(region).dimms())))
}

/// The region's DIMM after `dimm` in bus order.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_next_dimm(
    region: *mut ndctl_region, dimm: *mut ndctl_dimm,
) -> *mut ndctl_dimm {
    guard!(std::ptr::null_mut(), found(live!(region).dimm_after(live!(dimm))))
}

/// The idle namespace the kernel offers for configuration.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_namespace_seed(
    region: *mut ndctl_region,
) -> *mut crate::handles::ndctl_namespace {
    guard!(std::ptr::null_mut(), found(live!(region).namespace_seed()))
}

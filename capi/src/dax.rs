//! Device-dax devices (group `dax` of `libndctl.tsv`), including the libdaxctl region of a
//! dax device.

use std::ffi::{c_char, c_int, c_uint, c_ulong, c_ulonglong};

use crate::ctx::ndctl_ctx;
use crate::ctypes::{ndctl_pfn_loc, uuid_t};
use crate::handles::*;
use crate::pfn_shared as shared;

/// `struct daxctl_ctx`: a libdaxctl context (opaque; see `ndctl_get_daxctl_ctx()`).
pub struct daxctl_ctx {
    _opaque: [u8; 0],
}

/// `struct daxctl_region`: a libdaxctl region (opaque; see `ndctl_dax_get_daxctl_region()`).
pub struct daxctl_region {
    _opaque: [u8; 0],
}

/// The first dax of `region`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_get_first(region: *mut ndctl_region) -> *mut ndctl_dax {
    guard!(std::ptr::null_mut(), Some(first(live!(region).daxs())))
}

/// The dax after `dax` in its region.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_get_next(dax: *mut ndctl_dax) -> *mut ndctl_dax {
    guard!(std::ptr::null_mut(), Some(opt_ptr(live!(dax).next())))
}

/// The idle dax the kernel offers for configuration.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_dax_seed(region: *mut ndctl_region) -> *mut ndctl_dax {
    guard!(std::ptr::null_mut(), found(live!(region).dax_seed()))
}

/// The dax claiming `ndns`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_get_dax(ndns: *mut ndctl_namespace) -> *mut ndctl_dax {
    guard!(std::ptr::null_mut(), found(live!(ndns).dax()))
}

/// The region of `dax`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_get_region(dax: *mut ndctl_dax) -> *mut ndctl_region {
    guard!(std::ptr::null_mut(), Some(ptr(live!(dax).region())))
}

/// The bus of `dax`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_get_bus(dax: *mut ndctl_dax) -> *mut ndctl_bus {
    guard!(std::ptr::null_mut(), Some(ptr(live!(dax).region().bus())))
}

/// The context of `dax`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_get_ctx(dax: *mut ndctl_dax) -> *mut ndctl_ctx {
    guard!(std::ptr::null_mut(), Some(handle_of(live!(dax).region().bus().ctx())))
}

/// `daxR.N`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_get_devname(dax: *mut ndctl_dax) -> *const c_char {
    guard!(std::ptr::null(), Some(live!(dax).devname_cstr().as_ptr()))
}

/// N of `daxR.N`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_get_id(dax: *mut ndctl_dax) -> c_uint {
    guard!(c_uint::MAX, Some(live!(dax).id()))
}

/// Copies the uuid into `uu` (all zero when unconfigured).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_get_uuid(dax: *mut ndctl_dax, uu: uuid_t) {
    guard_void!(uuid_out!(uu, value(live!(dax).uuid())))
}

/// Sets the uuid: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_set_uuid(dax: *mut ndctl_dax, uu: uuid_t) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(dax).set_uuid(uuid_arg!(uu)))))
}

/// Where the memmap lives (`NDCTL_PFN_LOC_*`; -ENXIO when unreadable).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_get_location(dax: *mut ndctl_dax) -> ndctl_pfn_loc {
    guard!(-libc::EINVAL, shared::location(live!(dax)))
}

/// Chooses where the memmap lives: 0, -EINVAL for an unknown location, or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_set_location(dax: *mut ndctl_dax, loc: ndctl_pfn_loc) -> c_int {
    guard!(-libc::EINVAL, shared::set_location(live!(dax), loc))
}

/// Mapping alignment (0 when the kernel does not say).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_get_align(dax: *mut ndctl_dax) -> c_ulong {
    guard!(c_ulong::MAX, shared::align(live!(dax)))
}

/// 1 if the alignment can be chosen (`align` exists).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_has_align(dax: *mut ndctl_dax) -> c_int {
    guard!(0, value(live!(dax).has_align()).map(c_int::from))
}

/// Sets the mapping alignment: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_set_align(dax: *mut ndctl_dax, align: c_ulong) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(dax).set_align(ulong(align)))))
}

/// Number of supported alignments.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_get_num_alignments(dax: *mut ndctl_dax) -> c_int {
    guard!(-libc::EINVAL, shared::num_alignments(live!(dax)))
}

/// Supported alignment `i` (`ULONG_MAX` for `i` out of range).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_get_supported_alignment(
    dax: *mut ndctl_dax, i: c_int,
) -> c_ulong {
    guard!(c_ulong::MAX, shared::supported_alignment(live!(dax), i))
}

/// Usable size (`ULLONG_MAX` when unknown, e.g. an idle seed).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_get_size(dax: *mut ndctl_dax) -> c_ulonglong {
    guard!(c_ulonglong::MAX, known(live!(dax).size()))
}

/// Physical start of the data (`ULLONG_MAX` when unknown).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_get_resource(dax: *mut ndctl_dax) -> c_ulonglong {
    guard!(c_ulonglong::MAX, known(live!(dax).resource()))
}

/// The namespace the dax is attached to.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_get_namespace(dax: *mut ndctl_dax) -> *mut ndctl_namespace {
    guard!(std::ptr::null_mut(), found(live!(dax).namespace()))
}

/// Attaches the dax to `ndns` (NULL detaches): 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_set_namespace(
    dax: *mut ndctl_dax, ndns: *mut ndctl_namespace,
) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(dax).set_namespace(maybe!(ndns)))))
}

/// 1 if bound to a driver.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_is_enabled(dax: *mut ndctl_dax) -> c_int {
    guard!(0, value(live!(dax).is_enabled()).map(c_int::from))
}

/// 1 while the region has not been disabled since the object was created.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_is_valid(dax: *mut ndctl_dax) -> c_int {
    guard!(0, Some(c_int::from(live!(dax).is_valid())))
}

/// 1 if it has a namespace, a memmap location or a uuid.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_is_configured(dax: *mut ndctl_dax) -> c_int {
    guard!(0, Some(flag(live!(dax).is_configured())))
}

/// Binds the dax: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_enable(dax: *mut ndctl_dax) -> c_int {
    guard!(-libc::EINVAL, maybe!(dax).map(|p| enable_status(p.devname(), p.enable(), |()| 0)))
}

/// Unbinds the dax and detaches it from its namespace: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_delete(dax: *mut ndctl_dax) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(dax).delete())))
}

/// The libdaxctl region of the dax device (created once per dax device from its sysfs
/// directory, region id and uuid, as libndctl does); NULL with a logged reason when
/// libdaxctl.so.1 cannot be loaded.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_get_daxctl_region(dax: *mut ndctl_dax) -> *mut daxctl_region {
    guard!(std::ptr::null_mut(), {
        let d = live!(dax);
        let c = crate::handles::context_of(d.region().bus().ctx())?;
        let uuid = value(d.uuid()).unwrap_or_default();
        let path = d.device().sysfs().host_path(&d.device().path());
        let id = d.region().id();
        c.daxctl_object(|state, priority| state.region(priority, dax as usize, id, &uuid, &path))
    })
}

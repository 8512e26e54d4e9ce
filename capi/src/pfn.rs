//! PFN devices (fsdax; group `pfn` of `libndctl.tsv`).
// The safety contract of every export is libndctl's: pointer arguments are NULL or live
// handles of an unreleased context (see `crate::handles`); it is stated once here rather
// than in each function's documentation, which becomes the C header.
#![allow(clippy::missing_safety_doc)]

use std::ffi::{c_char, c_int, c_uint, c_ulong, c_ulonglong};

use ndctl::Location;

use crate::ctx::ndctl_ctx;
use crate::ctypes::{ndctl_pfn_loc, uuid_t};
use crate::ffi::{ffi_guard, ffi_guard_void, obj};
use crate::handles::{
    first, flag, get_uuid, handle_of, index, known, ndctl_bus, ndctl_namespace, ndctl_pfn,
    ndctl_region, opt_ptr, owned_str, ptr, put_uuid, status, value, EMPTY,
};

/// The first pfn of `region`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_first(region: *mut ndctl_region) -> *mut ndctl_pfn {
    ffi_guard("ndctl_pfn_get_first", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live region handle.
        Some(first("ndctl_pfn_get_first", unsafe { obj(region) }?.pfns()))
    })
}

/// The pfn after `pfn` in its region.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_next(pfn: *mut ndctl_pfn) -> *mut ndctl_pfn {
    ffi_guard("ndctl_pfn_get_next", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live pfn handle.
        Some(opt_ptr(unsafe { obj(pfn) }?.next()))
    })
}

/// The idle pfn the kernel offers for configuration.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_pfn_seed(region: *mut ndctl_region) -> *mut ndctl_pfn {
    ffi_guard("ndctl_region_get_pfn_seed", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live region handle.
        let r = unsafe { obj(region) }?;
        Some(opt_ptr(known("ndctl_region_get_pfn_seed", r.pfn_seed())))
    })
}

/// The pfn claiming `ndns`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_get_pfn(ndns: *mut ndctl_namespace) -> *mut ndctl_pfn {
    ffi_guard("ndctl_namespace_get_pfn", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live namespace handle.
        Some(opt_ptr(known(
            "ndctl_namespace_get_pfn",
            unsafe { obj(ndns) }?.pfn(),
        )))
    })
}

/// The region of `pfn`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_region(pfn: *mut ndctl_pfn) -> *mut ndctl_region {
    ffi_guard("ndctl_pfn_get_region", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live pfn handle.
        Some(ptr(unsafe { obj(pfn) }?.region()))
    })
}

/// The bus of `pfn`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_bus(pfn: *mut ndctl_pfn) -> *mut ndctl_bus {
    ffi_guard("ndctl_pfn_get_bus", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live pfn handle.
        Some(ptr(unsafe { obj(pfn) }?.region().bus()))
    })
}

/// The context of `pfn`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_ctx(pfn: *mut ndctl_pfn) -> *mut ndctl_ctx {
    ffi_guard("ndctl_pfn_get_ctx", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live pfn handle.
        Some(handle_of(unsafe { obj(pfn) }?.region().bus().ctx()))
    })
}

/// `pfnR.N`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_devname(pfn: *mut ndctl_pfn) -> *const c_char {
    ffi_guard("ndctl_pfn_get_devname", std::ptr::null(), || {
        // SAFETY: NULL or a live pfn handle.
        let p = unsafe { obj(pfn) }?;
        owned_str(p.region().bus().ctx(), p, "devname", p.devname())
    })
}

/// N of `pfnR.N`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_id(pfn: *mut ndctl_pfn) -> c_uint {
    ffi_guard("ndctl_pfn_get_id", c_uint::MAX, || {
        // SAFETY: NULL or a live pfn handle.
        Some(unsafe { obj(pfn) }?.id())
    })
}

/// Copies the uuid into `uu` (all zero when unconfigured).
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_uuid(pfn: *mut ndctl_pfn, uu: uuid_t) {
    ffi_guard_void("ndctl_pfn_get_uuid", || {
        // SAFETY: NULL or a live pfn handle.
        let p = unsafe { obj(pfn) }?;
        let u = value("ndctl_pfn_get_uuid", p.uuid()).unwrap_or_default();
        // SAFETY: NULL or the caller's 16-byte uuid_t.
        unsafe { put_uuid(uu, &u) };
        Some(())
    })
}

/// Sets the uuid: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_set_uuid(pfn: *mut ndctl_pfn, uu: uuid_t) -> c_int {
    ffi_guard("ndctl_pfn_set_uuid", -libc::EINVAL, || {
        // SAFETY: NULL or a live pfn handle; NULL or the caller's 16-byte uuid_t.
        let (p, u) = unsafe { (obj(pfn)?, get_uuid(uu)?) };
        Some(status("ndctl_pfn_set_uuid", p.set_uuid(u)))
    })
}

/// Where the memmap lives (`NDCTL_PFN_LOC_*`; -ENXIO when unreadable).
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_location(pfn: *mut ndctl_pfn) -> ndctl_pfn_loc {
    ffi_guard("ndctl_pfn_get_location", -libc::EINVAL, || {
        // SAFETY: NULL or a live pfn handle.
        let p = unsafe { obj(pfn) }?;
        Some(value("ndctl_pfn_get_location", p.location()).map_or(-libc::ENXIO, Location::to_c))
    })
}

/// Chooses where the memmap lives: 0, -EINVAL for an unknown location, or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_set_location(pfn: *mut ndctl_pfn, loc: ndctl_pfn_loc) -> c_int {
    ffi_guard("ndctl_pfn_set_location", -libc::EINVAL, || {
        // SAFETY: NULL or a live pfn handle.
        let p = unsafe { obj(pfn) }?;
        let loc = Location::from_c(loc)?;
        Some(status("ndctl_pfn_set_location", p.set_location(loc)))
    })
}

/// Mapping alignment (0 when the kernel does not say).
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_align(pfn: *mut ndctl_pfn) -> c_ulong {
    ffi_guard("ndctl_pfn_get_align", c_ulong::MAX, || {
        // SAFETY: NULL or a live pfn handle.
        let p = unsafe { obj(pfn) }?;
        Some(
            known("ndctl_pfn_get_align", p.align())
                .and_then(|a| c_ulong::try_from(a).ok())
                .unwrap_or(0),
        )
    })
}

/// 1 if the alignment can be chosen (`align` exists).
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_has_align(pfn: *mut ndctl_pfn) -> c_int {
    ffi_guard("ndctl_pfn_has_align", 0, || {
        // SAFETY: NULL or a live pfn handle.
        Some(c_int::from(unsafe { obj(pfn) }?.has_align()))
    })
}

/// Sets the mapping alignment: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_set_align(pfn: *mut ndctl_pfn, align: c_ulong) -> c_int {
    ffi_guard("ndctl_pfn_set_align", -libc::EINVAL, || {
        // SAFETY: NULL or a live pfn handle.
        let p = unsafe { obj(pfn) }?;
        Some(status(
            "ndctl_pfn_set_align",
            p.set_align(crate::handles::ulong(align)),
        ))
    })
}

/// Number of supported alignments.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_num_alignments(pfn: *mut ndctl_pfn) -> c_int {
    ffi_guard("ndctl_pfn_get_num_alignments", -libc::EINVAL, || {
        // SAFETY: NULL or a live pfn handle.
        let p = unsafe { obj(pfn) }?;
        let n = value("ndctl_pfn_get_num_alignments", p.alignments()).map_or(0, |v| v.len());
        c_int::try_from(n).ok()
    })
}

/// Supported alignment `i` (`ULONG_MAX` for `i` out of range).
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_supported_alignment(
    pfn: *mut ndctl_pfn,
    i: c_int,
) -> c_ulong {
    ffi_guard("ndctl_pfn_get_supported_alignment", c_ulong::MAX, || {
        // SAFETY: NULL or a live pfn handle.
        let p = unsafe { obj(pfn) }?;
        let all = value("ndctl_pfn_get_supported_alignment", p.alignments()).unwrap_or_default();
        Some(
            index(i)
                .and_then(|i| all.get(i).copied())
                .and_then(|a| c_ulong::try_from(a).ok())
                .unwrap_or(c_ulong::MAX),
        )
    })
}

/// Usable size (`ULLONG_MAX` when unknown, e.g. an idle seed).
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_size(pfn: *mut ndctl_pfn) -> c_ulonglong {
    ffi_guard("ndctl_pfn_get_size", c_ulonglong::MAX, || {
        // SAFETY: NULL or a live pfn handle.
        let p = unsafe { obj(pfn) }?;
        Some(known("ndctl_pfn_get_size", p.size()).unwrap_or(c_ulonglong::MAX))
    })
}

/// Physical start of the data (`ULLONG_MAX` when unknown).
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_resource(pfn: *mut ndctl_pfn) -> c_ulonglong {
    ffi_guard("ndctl_pfn_get_resource", c_ulonglong::MAX, || {
        // SAFETY: NULL or a live pfn handle.
        let p = unsafe { obj(pfn) }?;
        Some(known("ndctl_pfn_get_resource", p.resource()).unwrap_or(c_ulonglong::MAX))
    })
}

/// The namespace the pfn is attached to.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_namespace(pfn: *mut ndctl_pfn) -> *mut ndctl_namespace {
    ffi_guard("ndctl_pfn_get_namespace", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live pfn handle.
        let p = unsafe { obj(pfn) }?;
        Some(opt_ptr(known("ndctl_pfn_get_namespace", p.namespace())))
    })
}

/// Attaches the pfn to `ndns` (NULL detaches): 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_set_namespace(
    pfn: *mut ndctl_pfn,
    ndns: *mut ndctl_namespace,
) -> c_int {
    ffi_guard("ndctl_pfn_set_namespace", -libc::EINVAL, || {
        // SAFETY: NULL or live pfn and namespace handles.
        let (p, n) = unsafe { (obj(pfn)?, obj(ndns)) };
        Some(status("ndctl_pfn_set_namespace", p.set_namespace(n)))
    })
}

/// 1 if bound to a driver.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_is_enabled(pfn: *mut ndctl_pfn) -> c_int {
    ffi_guard("ndctl_pfn_is_enabled", 0, || {
        // SAFETY: NULL or a live pfn handle.
        Some(c_int::from(unsafe { obj(pfn) }?.is_enabled()))
    })
}

/// 1 while the region has not been disabled since the object was created.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_is_valid(pfn: *mut ndctl_pfn) -> c_int {
    ffi_guard("ndctl_pfn_is_valid", 0, || {
        // SAFETY: NULL or a live pfn handle.
        Some(c_int::from(unsafe { obj(pfn) }?.is_valid()))
    })
}

/// 1 if it has a namespace, a memmap location or a uuid.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_is_configured(pfn: *mut ndctl_pfn) -> c_int {
    ffi_guard("ndctl_pfn_is_configured", 0, || {
        // SAFETY: NULL or a live pfn handle.
        Some(flag(
            "ndctl_pfn_is_configured",
            unsafe { obj(pfn) }?.is_configured(),
        ))
    })
}

/// Binds the pfn: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_enable(pfn: *mut ndctl_pfn) -> c_int {
    ffi_guard("ndctl_pfn_enable", -libc::EINVAL, || {
        // SAFETY: NULL or a live pfn handle.
        Some(status("ndctl_pfn_enable", unsafe { obj(pfn) }?.enable()))
    })
}

/// Unbinds the pfn and detaches it from its namespace: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_delete(pfn: *mut ndctl_pfn) -> c_int {
    ffi_guard("ndctl_pfn_delete", -libc::EINVAL, || {
        // SAFETY: NULL or a live pfn handle.
        Some(status("ndctl_pfn_delete", unsafe { obj(pfn) }?.delete()))
    })
}

/// The block device (`pmemX`; `""` when there is none).
#[no_mangle]
pub unsafe extern "C" fn ndctl_pfn_get_block_device(pfn: *mut ndctl_pfn) -> *const c_char {
    ffi_guard("ndctl_pfn_get_block_device", std::ptr::null(), || {
        // SAFETY: NULL or a live pfn handle.
        let p = unsafe { obj(pfn) }?;
        match p.block_device() {
            Some(name) => owned_str(p.region().bus().ctx(), p, "block_device", &name),
            None => Some(EMPTY.as_ptr()),
        }
    })
}

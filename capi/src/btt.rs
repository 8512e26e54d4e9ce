//! BTT devices (group `btt` of `libndctl.tsv`).
// The safety contract of every export is libndctl's: pointer arguments are NULL or live
// handles of an unreleased context (see `crate::handles`); it is stated once here rather
// than in each function's documentation, which becomes the C header.
#![allow(clippy::missing_safety_doc)]

use std::ffi::{c_char, c_int, c_uint, c_ulonglong};

use crate::ctx::ndctl_ctx;
use crate::ctypes::uuid_t;
use crate::ffi::{ffi_guard, ffi_guard_void, obj};
use crate::handles::{
    first, flag, get_uuid, handle_of, index, known, ndctl_btt, ndctl_bus, ndctl_namespace,
    ndctl_region, opt_ptr, owned_str, ptr, put_uuid, status, value, EMPTY,
};

fn sector_sizes(b: &ndctl::Btt, func: &'static str) -> (Vec<u32>, Option<usize>) {
    value(func, b.sector_sizes()).unwrap_or_default()
}

/// The first btt of `region`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_get_first(region: *mut ndctl_region) -> *mut ndctl_btt {
    ffi_guard("ndctl_btt_get_first", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live region handle.
        Some(first("ndctl_btt_get_first", unsafe { obj(region) }?.btts()))
    })
}

/// The btt after `btt` in its region.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_get_next(btt: *mut ndctl_btt) -> *mut ndctl_btt {
    ffi_guard("ndctl_btt_get_next", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live btt handle.
        Some(opt_ptr(unsafe { obj(btt) }?.next()))
    })
}

/// The idle btt the kernel offers for configuration.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_btt_seed(region: *mut ndctl_region) -> *mut ndctl_btt {
    ffi_guard("ndctl_region_get_btt_seed", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live region handle.
        let r = unsafe { obj(region) }?;
        Some(opt_ptr(known("ndctl_region_get_btt_seed", r.btt_seed())))
    })
}

/// The region of `btt`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_get_region(btt: *mut ndctl_btt) -> *mut ndctl_region {
    ffi_guard("ndctl_btt_get_region", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live btt handle.
        Some(ptr(unsafe { obj(btt) }?.region()))
    })
}

/// The bus of `btt`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_get_bus(btt: *mut ndctl_btt) -> *mut ndctl_bus {
    ffi_guard("ndctl_btt_get_bus", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live btt handle.
        Some(ptr(unsafe { obj(btt) }?.region().bus()))
    })
}

/// The context of `btt`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_get_ctx(btt: *mut ndctl_btt) -> *mut ndctl_ctx {
    ffi_guard("ndctl_btt_get_ctx", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live btt handle.
        Some(handle_of(unsafe { obj(btt) }?.region().bus().ctx()))
    })
}

/// `bttR.N`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_get_devname(btt: *mut ndctl_btt) -> *const c_char {
    ffi_guard("ndctl_btt_get_devname", std::ptr::null(), || {
        // SAFETY: NULL or a live btt handle.
        let b = unsafe { obj(btt) }?;
        owned_str(b.region().bus().ctx(), b, "devname", b.devname())
    })
}

/// N of `bttR.N`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_get_id(btt: *mut ndctl_btt) -> c_uint {
    ffi_guard("ndctl_btt_get_id", c_uint::MAX, || {
        // SAFETY: NULL or a live btt handle.
        Some(unsafe { obj(btt) }?.id())
    })
}

/// Copies the uuid into `uu` (all zero when unconfigured).
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_get_uuid(btt: *mut ndctl_btt, uu: uuid_t) {
    ffi_guard_void("ndctl_btt_get_uuid", || {
        // SAFETY: NULL or a live btt handle.
        let b = unsafe { obj(btt) }?;
        let u = value("ndctl_btt_get_uuid", b.uuid()).unwrap_or_default();
        // SAFETY: NULL or the caller's 16-byte uuid_t.
        unsafe { put_uuid(uu, &u) };
        Some(())
    })
}

/// Sets the uuid: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_set_uuid(btt: *mut ndctl_btt, uu: uuid_t) -> c_int {
    ffi_guard("ndctl_btt_set_uuid", -libc::EINVAL, || {
        // SAFETY: NULL or a live btt handle; NULL or the caller's 16-byte uuid_t.
        let (b, u) = unsafe { (obj(btt)?, get_uuid(uu)?) };
        Some(status("ndctl_btt_set_uuid", b.set_uuid(u)))
    })
}

/// Number of supported sector sizes.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_get_num_sector_sizes(btt: *mut ndctl_btt) -> c_int {
    ffi_guard("ndctl_btt_get_num_sector_sizes", -libc::EINVAL, || {
        // SAFETY: NULL or a live btt handle.
        let b = unsafe { obj(btt) }?;
        c_int::try_from(sector_sizes(b, "ndctl_btt_get_num_sector_sizes").0.len()).ok()
    })
}

/// Supported sector size `i` (`UINT_MAX` for `i` out of range).
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_get_supported_sector_size(
    btt: *mut ndctl_btt,
    i: c_int,
) -> c_uint {
    ffi_guard("ndctl_btt_get_supported_sector_size", c_uint::MAX, || {
        // SAFETY: NULL or a live btt handle.
        let b = unsafe { obj(btt) }?;
        let (sizes, _) = sector_sizes(b, "ndctl_btt_get_supported_sector_size");
        Some(
            index(i)
                .and_then(|i| sizes.get(i).copied())
                .unwrap_or(c_uint::MAX),
        )
    })
}

/// The selected sector size (`UINT_MAX` when none is selected).
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_get_sector_size(btt: *mut ndctl_btt) -> c_uint {
    ffi_guard("ndctl_btt_get_sector_size", c_uint::MAX, || {
        // SAFETY: NULL or a live btt handle.
        let b = unsafe { obj(btt) }?;
        let (sizes, cur) = sector_sizes(b, "ndctl_btt_get_sector_size");
        Some(
            cur.and_then(|i| sizes.get(i).copied())
                .unwrap_or(c_uint::MAX),
        )
    })
}

/// Selects a sector size: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_set_sector_size(
    btt: *mut ndctl_btt,
    sector_size: c_uint,
) -> c_int {
    ffi_guard("ndctl_btt_set_sector_size", -libc::EINVAL, || {
        // SAFETY: NULL or a live btt handle.
        let b = unsafe { obj(btt) }?;
        Some(status(
            "ndctl_btt_set_sector_size",
            b.set_sector_size(sector_size),
        ))
    })
}

/// Usable size (`ULLONG_MAX` when unknown, e.g. an idle seed).
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_get_size(btt: *mut ndctl_btt) -> c_ulonglong {
    ffi_guard("ndctl_btt_get_size", c_ulonglong::MAX, || {
        // SAFETY: NULL or a live btt handle.
        let b = unsafe { obj(btt) }?;
        Some(known("ndctl_btt_get_size", b.size()).unwrap_or(c_ulonglong::MAX))
    })
}

/// The namespace the btt is attached to.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_get_namespace(btt: *mut ndctl_btt) -> *mut ndctl_namespace {
    ffi_guard("ndctl_btt_get_namespace", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live btt handle.
        let b = unsafe { obj(btt) }?;
        Some(opt_ptr(known("ndctl_btt_get_namespace", b.namespace())))
    })
}

/// Attaches the btt to `ndns` (NULL detaches): 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_set_namespace(
    btt: *mut ndctl_btt,
    ndns: *mut ndctl_namespace,
) -> c_int {
    ffi_guard("ndctl_btt_set_namespace", -libc::EINVAL, || {
        // SAFETY: NULL or live btt and namespace handles.
        let (b, n) = unsafe { (obj(btt)?, obj(ndns)) };
        Some(status("ndctl_btt_set_namespace", b.set_namespace(n)))
    })
}

/// The block device (`pmemXs`; `""` when there is none).
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_get_block_device(btt: *mut ndctl_btt) -> *const c_char {
    ffi_guard("ndctl_btt_get_block_device", std::ptr::null(), || {
        // SAFETY: NULL or a live btt handle.
        let b = unsafe { obj(btt) }?;
        match b.block_device() {
            Some(name) => owned_str(b.region().bus().ctx(), b, "block_device", &name),
            None => Some(EMPTY.as_ptr()),
        }
    })
}

/// 1 if bound to a driver.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_is_enabled(btt: *mut ndctl_btt) -> c_int {
    ffi_guard("ndctl_btt_is_enabled", 0, || {
        // SAFETY: NULL or a live btt handle.
        Some(c_int::from(unsafe { obj(btt) }?.is_enabled()))
    })
}

/// 1 while the region has not been disabled since the object was created.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_is_valid(btt: *mut ndctl_btt) -> c_int {
    ffi_guard("ndctl_btt_is_valid", 0, || {
        // SAFETY: NULL or a live btt handle.
        Some(c_int::from(unsafe { obj(btt) }?.is_valid()))
    })
}

/// 1 if it has a namespace, a selected sector size or a uuid.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_is_configured(btt: *mut ndctl_btt) -> c_int {
    ffi_guard("ndctl_btt_is_configured", 0, || {
        // SAFETY: NULL or a live btt handle.
        Some(flag(
            "ndctl_btt_is_configured",
            unsafe { obj(btt) }?.is_configured(),
        ))
    })
}

/// Binds the btt: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_enable(btt: *mut ndctl_btt) -> c_int {
    ffi_guard("ndctl_btt_enable", -libc::EINVAL, || {
        // SAFETY: NULL or a live btt handle.
        Some(status("ndctl_btt_enable", unsafe { obj(btt) }?.enable()))
    })
}

/// Unbinds the btt and detaches it from its namespace: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_btt_delete(btt: *mut ndctl_btt) -> c_int {
    ffi_guard("ndctl_btt_delete", -libc::EINVAL, || {
        // SAFETY: NULL or a live btt handle.
        Some(status("ndctl_btt_delete", unsafe { obj(btt) }?.delete()))
    })
}

//! Device-dax devices (group `dax` of `libndctl.tsv`), including the libdaxctl region of a
//! dax device.
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
    first, flag, get_uuid, handle_of, index, known, ndctl_bus, ndctl_dax, ndctl_namespace,
    ndctl_region, opt_ptr, owned_str, ptr, put_uuid, status, value,
};

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
    ffi_guard("ndctl_dax_get_first", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live region handle.
        Some(first("ndctl_dax_get_first", unsafe { obj(region) }?.daxs()))
    })
}

/// The dax after `dax` in its region.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_get_next(dax: *mut ndctl_dax) -> *mut ndctl_dax {
    ffi_guard("ndctl_dax_get_next", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live dax handle.
        Some(opt_ptr(unsafe { obj(dax) }?.next()))
    })
}

/// The idle dax the kernel offers for configuration.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_dax_seed(region: *mut ndctl_region) -> *mut ndctl_dax {
    ffi_guard("ndctl_region_get_dax_seed", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live region handle.
        let r = unsafe { obj(region) }?;
        Some(opt_ptr(known("ndctl_region_get_dax_seed", r.dax_seed())))
    })
}

/// The dax claiming `ndns`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_get_dax(ndns: *mut ndctl_namespace) -> *mut ndctl_dax {
    ffi_guard("ndctl_namespace_get_dax", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live namespace handle.
        Some(opt_ptr(known(
            "ndctl_namespace_get_dax",
            unsafe { obj(ndns) }?.dax(),
        )))
    })
}

/// The region of `dax`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_get_region(dax: *mut ndctl_dax) -> *mut ndctl_region {
    ffi_guard("ndctl_dax_get_region", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live dax handle.
        Some(ptr(unsafe { obj(dax) }?.region()))
    })
}

/// The bus of `dax`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_get_bus(dax: *mut ndctl_dax) -> *mut ndctl_bus {
    ffi_guard("ndctl_dax_get_bus", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live dax handle.
        Some(ptr(unsafe { obj(dax) }?.region().bus()))
    })
}

/// The context of `dax`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_get_ctx(dax: *mut ndctl_dax) -> *mut ndctl_ctx {
    ffi_guard("ndctl_dax_get_ctx", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live dax handle.
        Some(handle_of(unsafe { obj(dax) }?.region().bus().ctx()))
    })
}

/// `daxR.N`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_get_devname(dax: *mut ndctl_dax) -> *const c_char {
    ffi_guard("ndctl_dax_get_devname", std::ptr::null(), || {
        // SAFETY: NULL or a live dax handle.
        let p = unsafe { obj(dax) }?;
        owned_str(p.region().bus().ctx(), p, "devname", p.devname())
    })
}

/// N of `daxR.N`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_get_id(dax: *mut ndctl_dax) -> c_uint {
    ffi_guard("ndctl_dax_get_id", c_uint::MAX, || {
        // SAFETY: NULL or a live dax handle.
        Some(unsafe { obj(dax) }?.id())
    })
}

/// Copies the uuid into `uu` (all zero when unconfigured).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_get_uuid(dax: *mut ndctl_dax, uu: uuid_t) {
    ffi_guard_void("ndctl_dax_get_uuid", || {
        // SAFETY: NULL or a live dax handle.
        let p = unsafe { obj(dax) }?;
        let u = value("ndctl_dax_get_uuid", p.uuid()).unwrap_or_default();
        // SAFETY: NULL or the caller's 16-byte uuid_t.
        unsafe { put_uuid(uu, &u) };
        Some(())
    })
}

/// Sets the uuid: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_set_uuid(dax: *mut ndctl_dax, uu: uuid_t) -> c_int {
    ffi_guard("ndctl_dax_set_uuid", -libc::EINVAL, || {
        // SAFETY: NULL or a live dax handle; NULL or the caller's 16-byte uuid_t.
        let (p, u) = unsafe { (obj(dax)?, get_uuid(uu)?) };
        Some(status("ndctl_dax_set_uuid", p.set_uuid(u)))
    })
}

/// Where the memmap lives (`NDCTL_PFN_LOC_*`; -ENXIO when unreadable).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_get_location(dax: *mut ndctl_dax) -> ndctl_pfn_loc {
    ffi_guard("ndctl_dax_get_location", -libc::EINVAL, || {
        // SAFETY: NULL or a live dax handle.
        let p = unsafe { obj(dax) }?;
        Some(value("ndctl_dax_get_location", p.location()).map_or(-libc::ENXIO, Location::to_c))
    })
}

/// Chooses where the memmap lives: 0, -EINVAL for an unknown location, or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_set_location(dax: *mut ndctl_dax, loc: ndctl_pfn_loc) -> c_int {
    ffi_guard("ndctl_dax_set_location", -libc::EINVAL, || {
        // SAFETY: NULL or a live dax handle.
        let p = unsafe { obj(dax) }?;
        let loc = Location::from_c(loc)?;
        Some(status("ndctl_dax_set_location", p.set_location(loc)))
    })
}

/// Mapping alignment (0 when the kernel does not say).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_get_align(dax: *mut ndctl_dax) -> c_ulong {
    ffi_guard("ndctl_dax_get_align", c_ulong::MAX, || {
        // SAFETY: NULL or a live dax handle.
        let p = unsafe { obj(dax) }?;
        Some(
            known("ndctl_dax_get_align", p.align())
                .and_then(|a| c_ulong::try_from(a).ok())
                .unwrap_or(0),
        )
    })
}

/// 1 if the alignment can be chosen (`align` exists).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_has_align(dax: *mut ndctl_dax) -> c_int {
    ffi_guard("ndctl_dax_has_align", 0, || {
        // SAFETY: NULL or a live dax handle.
        Some(c_int::from(unsafe { obj(dax) }?.has_align()))
    })
}

/// Sets the mapping alignment: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_set_align(dax: *mut ndctl_dax, align: c_ulong) -> c_int {
    ffi_guard("ndctl_dax_set_align", -libc::EINVAL, || {
        // SAFETY: NULL or a live dax handle.
        let p = unsafe { obj(dax) }?;
        Some(status(
            "ndctl_dax_set_align",
            p.set_align(crate::handles::ulong(align)),
        ))
    })
}

/// Number of supported alignments.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_get_num_alignments(dax: *mut ndctl_dax) -> c_int {
    ffi_guard("ndctl_dax_get_num_alignments", -libc::EINVAL, || {
        // SAFETY: NULL or a live dax handle.
        let p = unsafe { obj(dax) }?;
        let n = value("ndctl_dax_get_num_alignments", p.alignments()).map_or(0, |v| v.len());
        c_int::try_from(n).ok()
    })
}

/// Supported alignment `i` (`ULONG_MAX` for `i` out of range).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_get_supported_alignment(
    dax: *mut ndctl_dax,
    i: c_int,
) -> c_ulong {
    ffi_guard("ndctl_dax_get_supported_alignment", c_ulong::MAX, || {
        // SAFETY: NULL or a live dax handle.
        let p = unsafe { obj(dax) }?;
        let all = value("ndctl_dax_get_supported_alignment", p.alignments()).unwrap_or_default();
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
pub unsafe extern "C" fn ndctl_dax_get_size(dax: *mut ndctl_dax) -> c_ulonglong {
    ffi_guard("ndctl_dax_get_size", c_ulonglong::MAX, || {
        // SAFETY: NULL or a live dax handle.
        let p = unsafe { obj(dax) }?;
        Some(known("ndctl_dax_get_size", p.size()).unwrap_or(c_ulonglong::MAX))
    })
}

/// Physical start of the data (`ULLONG_MAX` when unknown).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_get_resource(dax: *mut ndctl_dax) -> c_ulonglong {
    ffi_guard("ndctl_dax_get_resource", c_ulonglong::MAX, || {
        // SAFETY: NULL or a live dax handle.
        let p = unsafe { obj(dax) }?;
        Some(known("ndctl_dax_get_resource", p.resource()).unwrap_or(c_ulonglong::MAX))
    })
}

/// The namespace the dax is attached to.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_get_namespace(dax: *mut ndctl_dax) -> *mut ndctl_namespace {
    ffi_guard("ndctl_dax_get_namespace", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live dax handle.
        let p = unsafe { obj(dax) }?;
        Some(opt_ptr(known("ndctl_dax_get_namespace", p.namespace())))
    })
}

/// Attaches the dax to `ndns` (NULL detaches): 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_set_namespace(
    dax: *mut ndctl_dax,
    ndns: *mut ndctl_namespace,
) -> c_int {
    ffi_guard("ndctl_dax_set_namespace", -libc::EINVAL, || {
        // SAFETY: NULL or live dax and namespace handles.
        let (p, n) = unsafe { (obj(dax)?, obj(ndns)) };
        Some(status("ndctl_dax_set_namespace", p.set_namespace(n)))
    })
}

/// 1 if bound to a driver.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_is_enabled(dax: *mut ndctl_dax) -> c_int {
    ffi_guard("ndctl_dax_is_enabled", 0, || {
        // SAFETY: NULL or a live dax handle.
        Some(c_int::from(unsafe { obj(dax) }?.is_enabled()))
    })
}

/// 1 while the region has not been disabled since the object was created.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_is_valid(dax: *mut ndctl_dax) -> c_int {
    ffi_guard("ndctl_dax_is_valid", 0, || {
        // SAFETY: NULL or a live dax handle.
        Some(c_int::from(unsafe { obj(dax) }?.is_valid()))
    })
}

/// 1 if it has a namespace, a memmap location or a uuid.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_is_configured(dax: *mut ndctl_dax) -> c_int {
    ffi_guard("ndctl_dax_is_configured", 0, || {
        // SAFETY: NULL or a live dax handle.
        Some(flag(
            "ndctl_dax_is_configured",
            unsafe { obj(dax) }?.is_configured(),
        ))
    })
}

/// Binds the dax: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_enable(dax: *mut ndctl_dax) -> c_int {
    ffi_guard("ndctl_dax_enable", -libc::EINVAL, || {
        // SAFETY: NULL or a live dax handle.
        Some(status("ndctl_dax_enable", unsafe { obj(dax) }?.enable()))
    })
}

/// Unbinds the dax and detaches it from its namespace: 0 or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_delete(dax: *mut ndctl_dax) -> c_int {
    ffi_guard("ndctl_dax_delete", -libc::EINVAL, || {
        // SAFETY: NULL or a live dax handle.
        Some(status("ndctl_dax_delete", unsafe { obj(dax) }?.delete()))
    })
}

/// The libdaxctl region of the dax device (created once per dax device from its sysfs
/// directory, region id and uuid, as libndctl does); NULL with a logged reason when
/// libdaxctl.so.1 cannot be loaded.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dax_get_daxctl_region(dax: *mut ndctl_dax) -> *mut daxctl_region {
    ffi_guard("ndctl_dax_get_daxctl_region", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live dax handle.
        let d = unsafe { obj(dax) }?;
        let c = crate::handles::context_of(d.region().bus().ctx())?;
        let uuid = value("ndctl_dax_get_daxctl_region", d.uuid()).unwrap_or_default();
        let path = d.device().sysfs().host_path(d.device().path());
        let priority = c.priority();
        let mut state = c.daxctl();
        match state.region(priority, dax as usize, d.region().id(), &uuid, &path) {
            Ok(r) => Some(r.cast()),
            Err(why) => {
                let prio = if state.first_report() {
                    crate::log::LOG_ERR
                } else {
                    crate::log::LOG_DEBUG
                };
                drop(state);
                c.log(prio, file!(), line!(), "ndctl_dax_get_daxctl_region", &why);
                None
            }
        }
    })
}

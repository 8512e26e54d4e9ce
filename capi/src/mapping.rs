//! Mappings (group `mapping`) and interleave sets (group `interleave_set` of
//! `libndctl.tsv`).
// The safety contract of every export is libndctl's: pointer arguments are NULL or live
// handles of an unreleased context (see `crate::handles`); it is stated once here rather
// than in each function's documentation, which becomes the C header.
#![allow(clippy::missing_safety_doc)]

use std::ffi::{c_int, c_ulonglong};

use crate::ctx::ndctl_ctx;
use crate::ffi::{ffi_guard, obj};
use crate::handles::{
    first, flag, handle_of, known, ndctl_bus, ndctl_dimm, ndctl_interleave_set, ndctl_mapping,
    ndctl_region, opt_ptr, ptr,
};

/// The first mapping of `region`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_mapping_get_first(region: *mut ndctl_region) -> *mut ndctl_mapping {
    ffi_guard("ndctl_mapping_get_first", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live region handle.
        Some(first(
            "ndctl_mapping_get_first",
            unsafe { obj(region) }?.mappings(),
        ))
    })
}

/// The mapping after `mapping` in its region.
#[no_mangle]
pub unsafe extern "C" fn ndctl_mapping_get_next(mapping: *mut ndctl_mapping) -> *mut ndctl_mapping {
    ffi_guard("ndctl_mapping_get_next", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live mapping handle.
        Some(opt_ptr(unsafe { obj(mapping) }?.next()))
    })
}

/// The DIMM of the mapping.
#[no_mangle]
pub unsafe extern "C" fn ndctl_mapping_get_dimm(mapping: *mut ndctl_mapping) -> *mut ndctl_dimm {
    ffi_guard("ndctl_mapping_get_dimm", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live mapping handle.
        Some(ptr(unsafe { obj(mapping) }?.dimm()))
    })
}

/// The region of the mapping.
#[no_mangle]
pub unsafe extern "C" fn ndctl_mapping_get_region(
    mapping: *mut ndctl_mapping,
) -> *mut ndctl_region {
    ffi_guard("ndctl_mapping_get_region", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live mapping handle.
        Some(ptr(unsafe { obj(mapping) }?.region()))
    })
}

/// The bus of the mapping.
#[no_mangle]
pub unsafe extern "C" fn ndctl_mapping_get_bus(mapping: *mut ndctl_mapping) -> *mut ndctl_bus {
    ffi_guard("ndctl_mapping_get_bus", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live mapping handle.
        Some(ptr(unsafe { obj(mapping) }?.region().bus()))
    })
}

/// The context of the mapping.
#[no_mangle]
pub unsafe extern "C" fn ndctl_mapping_get_ctx(mapping: *mut ndctl_mapping) -> *mut ndctl_ctx {
    ffi_guard("ndctl_mapping_get_ctx", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live mapping handle.
        Some(handle_of(unsafe { obj(mapping) }?.region().bus().ctx()))
    })
}

/// DIMM physical address where the mapping starts.
#[no_mangle]
pub unsafe extern "C" fn ndctl_mapping_get_offset(mapping: *mut ndctl_mapping) -> c_ulonglong {
    ffi_guard("ndctl_mapping_get_offset", c_ulonglong::MAX, || {
        // SAFETY: NULL or a live mapping handle.
        Some(unsafe { obj(mapping) }?.offset())
    })
}

/// Length in bytes.
#[no_mangle]
pub unsafe extern "C" fn ndctl_mapping_get_length(mapping: *mut ndctl_mapping) -> c_ulonglong {
    ffi_guard("ndctl_mapping_get_length", c_ulonglong::MAX, || {
        // SAFETY: NULL or a live mapping handle.
        Some(unsafe { obj(mapping) }?.length())
    })
}

/// Position in the interleave set (-1 when the kernel does not say).
#[no_mangle]
pub unsafe extern "C" fn ndctl_mapping_get_position(mapping: *mut ndctl_mapping) -> c_int {
    ffi_guard("ndctl_mapping_get_position", -libc::EINVAL, || {
        // SAFETY: NULL or a live mapping handle.
        Some(unsafe { obj(mapping) }?.position().unwrap_or(-1))
    })
}

/// The interleave set of a PMEM region (NULL for others).
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_interleave_set(
    region: *mut ndctl_region,
) -> *mut ndctl_interleave_set {
    ffi_guard(
        "ndctl_region_get_interleave_set",
        std::ptr::null_mut(),
        || {
            // SAFETY: NULL or a live region handle.
            Some(opt_ptr(unsafe { obj(region) }?.interleave_set()))
        },
    )
}

/// The first interleave set of `bus`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_interleave_set_get_first(
    bus: *mut ndctl_bus,
) -> *mut ndctl_interleave_set {
    ffi_guard(
        "ndctl_interleave_set_get_first",
        std::ptr::null_mut(),
        || {
            // SAFETY: NULL or a live bus handle.
            let b = unsafe { obj(bus) }?;
            Some(first("ndctl_interleave_set_get_first", b.interleave_sets()))
        },
    )
}

/// The interleave set of the next PMEM region on the bus.
#[no_mangle]
pub unsafe extern "C" fn ndctl_interleave_set_get_next(
    iset: *mut ndctl_interleave_set,
) -> *mut ndctl_interleave_set {
    ffi_guard(
        "ndctl_interleave_set_get_next",
        std::ptr::null_mut(),
        || {
            // SAFETY: NULL or a live interleave-set handle.
            Some(opt_ptr(unsafe { obj(iset) }?.next()))
        },
    )
}

/// The region the set describes.
#[no_mangle]
pub unsafe extern "C" fn ndctl_interleave_set_get_region(
    iset: *mut ndctl_interleave_set,
) -> *mut ndctl_region {
    ffi_guard(
        "ndctl_interleave_set_get_region",
        std::ptr::null_mut(),
        || {
            // SAFETY: NULL or a live interleave-set handle.
            Some(ptr(unsafe { obj(iset) }?.region()))
        },
    )
}

/// The interleave-set cookie.
#[no_mangle]
pub unsafe extern "C" fn ndctl_interleave_set_get_cookie(
    iset: *mut ndctl_interleave_set,
) -> c_ulonglong {
    ffi_guard("ndctl_interleave_set_get_cookie", c_ulonglong::MAX, || {
        // SAFETY: NULL or a live interleave-set handle.
        Some(unsafe { obj(iset) }?.cookie())
    })
}

/// 1 if any member DIMM is active.
#[no_mangle]
pub unsafe extern "C" fn ndctl_interleave_set_is_active(iset: *mut ndctl_interleave_set) -> c_int {
    ffi_guard("ndctl_interleave_set_is_active", 0, || {
        // SAFETY: NULL or a live interleave-set handle.
        let s = unsafe { obj(iset) }?;
        Some(flag("ndctl_interleave_set_is_active", s.is_active()))
    })
}

/// The first member DIMM in bus order.
#[no_mangle]
pub unsafe extern "C" fn ndctl_interleave_set_get_first_dimm(
    iset: *mut ndctl_interleave_set,
) -> *mut ndctl_dimm {
    ffi_guard(
        "ndctl_interleave_set_get_first_dimm",
        std::ptr::null_mut(),
        || {
            // SAFETY: NULL or a live interleave-set handle.
            let s = unsafe { obj(iset) }?;
            Some(first("ndctl_interleave_set_get_first_dimm", s.dimms()))
        },
    )
}

/// The member DIMM after `dimm`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_interleave_set_get_next_dimm(
    iset: *mut ndctl_interleave_set,
    dimm: *mut ndctl_dimm,
) -> *mut ndctl_dimm {
    ffi_guard(
        "ndctl_interleave_set_get_next_dimm",
        std::ptr::null_mut(),
        || {
            // SAFETY: NULL or live interleave-set and DIMM handles.
            let (s, d) = unsafe { (obj(iset)?, obj(dimm)?) };
            Some(opt_ptr(known(
                "ndctl_interleave_set_get_next_dimm",
                s.dimm_after(d),
            )))
        },
    )
}

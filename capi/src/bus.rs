//! Buses (group `bus` of `libndctl.tsv`).
// The safety contract of every export is libndctl's: pointer arguments are NULL or live
// handles of an unreleased context (see `crate::handles`); it is stated once here rather
// than in each function's documentation, which becomes the C header.
#![allow(clippy::missing_safety_doc)]

use std::ffi::{c_char, c_int, c_uint, c_ulonglong};

use crate::ctx::ndctl_ctx;
use crate::ctypes::ndctl_persistence_domain;
use crate::ffi::{c_str_arg, ffi_guard, obj};
use crate::handles::{
    first, handle_of, known, ndctl_bus, opt_ptr, owned_str, persistence_domain, value,
};

/// The first bus of the context (NULL if none or for a NULL context).
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_first(ctx: *mut ndctl_ctx) -> *mut ndctl_bus {
    ffi_guard("ndctl_bus_get_first", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live context handle.
        let c = unsafe { obj(ctx) }?;
        Some(first("ndctl_bus_get_first", c.ctx().buses()))
    })
}

/// The bus after `bus` (NULL at the end).
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_next(bus: *mut ndctl_bus) -> *mut ndctl_bus {
    ffi_guard("ndctl_bus_get_next", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live bus handle.
        Some(opt_ptr(unsafe { obj(bus) }?.next()))
    })
}

/// The context owning `bus`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_ctx(bus: *mut ndctl_bus) -> *mut ndctl_ctx {
    ffi_guard("ndctl_bus_get_ctx", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live bus handle.
        Some(handle_of(unsafe { obj(bus) }?.ctx()))
    })
}

/// The bus whose provider is `provider` (NULL if none or for NULL arguments).
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_by_provider(
    ctx: *mut ndctl_ctx,
    provider: *const c_char,
) -> *mut ndctl_bus {
    ffi_guard("ndctl_bus_get_by_provider", std::ptr::null_mut(), || {
        // SAFETY: NULL or a live context handle; NULL or a C string.
        let (c, p) = unsafe { (obj(ctx)?, c_str_arg(provider)?) };
        let p = p.to_str().ok()?;
        Some(opt_ptr(known(
            "ndctl_bus_get_by_provider",
            c.ctx().bus_by_provider(p),
        )))
    })
}

/// Name of bus command `cmd` (`"unknown"` for others); the bus is not consulted.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_cmd_name(_bus: *mut ndctl_bus, cmd: c_int) -> *const c_char {
    ffi_guard("ndctl_bus_get_cmd_name", std::ptr::null(), || {
        Some(
            crate::handles::static_cstr(ndctl::bus::cmd_name(u32::try_from(cmd).unwrap_or(0)))
                .as_ptr(),
        )
    })
}

/// `ndbusK` (NULL for a NULL bus).
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_devname(bus: *mut ndctl_bus) -> *const c_char {
    ffi_guard("ndctl_bus_get_devname", std::ptr::null(), || {
        // SAFETY: NULL or a live bus handle.
        let b = unsafe { obj(bus) }?;
        owned_str(b.ctx(), b, "devname", b.devname())
    })
}

/// The provider, e.g. `ACPI.NFIT` (NULL for a NULL bus).
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_provider(bus: *mut ndctl_bus) -> *const c_char {
    ffi_guard("ndctl_bus_get_provider", std::ptr::null(), || {
        // SAFETY: NULL or a live bus handle.
        let b = unsafe { obj(bus) }?;
        owned_str(b.ctx(), b, "provider", b.provider())
    })
}

/// N of `ndctlN` (`UINT_MAX` for a NULL bus).
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_id(bus: *mut ndctl_bus) -> c_uint {
    ffi_guard("ndctl_bus_get_id", c_uint::MAX, || {
        // SAFETY: NULL or a live bus handle.
        Some(unsafe { obj(bus) }?.id())
    })
}

/// Major number of `/dev/ndctlN` (`UINT_MAX` for a NULL bus).
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_major(bus: *mut ndctl_bus) -> c_uint {
    ffi_guard("ndctl_bus_get_major", c_uint::MAX, || {
        // SAFETY: NULL or a live bus handle.
        Some(unsafe { obj(bus) }?.major())
    })
}

/// Minor number of `/dev/ndctlN` (`UINT_MAX` for a NULL bus).
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_minor(bus: *mut ndctl_bus) -> c_uint {
    ffi_guard("ndctl_bus_get_minor", c_uint::MAX, || {
        // SAFETY: NULL or a live bus handle.
        Some(unsafe { obj(bus) }?.minor())
    })
}

/// NFIT revision; `UINT_MAX` without an NFIT (or for a NULL bus).
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_revision(bus: *mut ndctl_bus) -> c_uint {
    ffi_guard("ndctl_bus_get_revision", c_uint::MAX, || {
        // SAFETY: NULL or a live bus handle.
        let b = unsafe { obj(bus) }?;
        Some(known("ndctl_bus_get_revision", b.revision()).unwrap_or(c_uint::MAX))
    })
}

/// 1 if the bus has an ACPI NFIT.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_has_nfit(bus: *mut ndctl_bus) -> c_int {
    ffi_guard("ndctl_bus_has_nfit", 0, || {
        // SAFETY: NULL or a live bus handle.
        let b = unsafe { obj(bus) }?;
        Some(value("ndctl_bus_has_nfit", b.has_nfit()).map_or(0, c_int::from))
    })
}

/// 1 if the bus comes from a device-tree node.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_has_of_node(bus: *mut ndctl_bus) -> c_int {
    ffi_guard("ndctl_bus_has_of_node", 0, || {
        // SAFETY: NULL or a live bus handle.
        let b = unsafe { obj(bus) }?;
        Some(value("ndctl_bus_has_of_node", b.has_of_node()).map_or(0, c_int::from))
    })
}

/// 1 if the bus belongs to a CXL topology.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_has_cxl(bus: *mut ndctl_bus) -> c_int {
    ffi_guard("ndctl_bus_has_cxl", 0, || {
        // SAFETY: NULL or a live bus handle.
        Some(c_int::from(unsafe { obj(bus) }?.has_cxl()))
    })
}

/// 1 if this is an IBM PAPR SCM bus.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_is_papr_scm(bus: *mut ndctl_bus) -> c_int {
    ffi_guard("ndctl_bus_is_papr_scm", 0, || {
        // SAFETY: NULL or a live bus handle.
        let b = unsafe { obj(bus) }?;
        Some(value("ndctl_bus_is_papr_scm", b.is_papr_scm()).map_or(0, c_int::from))
    })
}

/// 1 if the bus supports `ND_CMD_*` command `cmd`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_is_cmd_supported(bus: *mut ndctl_bus, cmd: c_int) -> c_int {
    ffi_guard("ndctl_bus_is_cmd_supported", 0, || {
        // SAFETY: NULL or a live bus handle.
        let b = unsafe { obj(bus) }?;
        Some(u32::try_from(cmd).map_or(0, |c| c_int::from(b.is_cmd_supported(c))))
    })
}

/// 1 if the NFIT bus function `cmd` (`NFIT_CMD_*`) is in the bus's DSM mask.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_is_nfit_cmd_supported(bus: *mut ndctl_bus, cmd: c_int) -> c_int {
    ffi_guard("ndctl_bus_is_nfit_cmd_supported", 0, || {
        // SAFETY: NULL or a live bus handle.
        let b = unsafe { obj(bus) }?;
        let Ok(cmd) = u32::try_from(cmd) else {
            return Some(0);
        };
        Some(
            value(
                "ndctl_bus_is_nfit_cmd_supported",
                b.is_nfit_cmd_supported(cmd),
            )
            .map_or(0, c_int::from),
        )
    })
}

/// Flushes the bus's asynchronous device probing: 0, or -ENXIO if `wait_probe` is
/// unreadable (-EINVAL for a NULL bus).
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_wait_probe(bus: *mut ndctl_bus) -> c_int {
    ffi_guard("ndctl_bus_wait_probe", -libc::EINVAL, || {
        // SAFETY: NULL or a live bus handle.
        let b = unsafe { obj(bus) }?;
        Some(match b.wait_probe() {
            Ok(()) => 0,
            Err(e) => {
                crate::log::call_log(
                    ::log::Level::Debug,
                    "ndctl_bus_wait_probe",
                    format_args!("{e}"),
                );
                -libc::ENXIO
            }
        })
    })
}

/// The least capable persistence domain of the bus's regions (`PERSISTENCE_UNKNOWN` when
/// there are none, on failure, or for a NULL bus).
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_persistence_domain(
    bus: *mut ndctl_bus,
) -> ndctl_persistence_domain {
    ffi_guard("ndctl_bus_get_persistence_domain", c_int::MAX, || {
        // SAFETY: NULL or a live bus handle.
        let b = unsafe { obj(bus) }?;
        value("ndctl_bus_get_persistence_domain", b.persistence_domain()).map(persistence_domain)
    })
}

/// Asks the platform (NFIT Translate SPA) which DIMM and DIMM physical address back the
/// system physical address `addr`. 0 on success; -ENOTTY when the bus lacks the function,
/// -EINVAL for an address outside every region or NULL arguments, else the ioctl's error.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_nfit_translate_spa(
    bus: *mut ndctl_bus,
    addr: c_ulonglong,
    handle: *mut c_uint,
    dpa: *mut c_ulonglong,
) -> c_int {
    ffi_guard("ndctl_bus_nfit_translate_spa", -libc::EINVAL, || {
        // SAFETY: NULL or a live bus handle.
        let b = unsafe { obj(bus) }?;
        if handle.is_null() || dpa.is_null() {
            return None;
        }
        match b.nfit_translate_spa(addr) {
            Ok((h, d)) => {
                // SAFETY: non-NULL out pointers provided by the caller.
                unsafe {
                    *handle = h;
                    *dpa = d;
                }
                Some(0)
            }
            Err(e) => {
                crate::log::call_log(
                    ::log::Level::Debug,
                    "ndctl_bus_nfit_translate_spa",
                    format_args!("{e}"),
                );
                Some(e.errno())
            }
        }
    })
}

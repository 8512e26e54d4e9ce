//! Buses (group `bus` of `libndctl.tsv`).

use std::ffi::{c_char, c_int, c_uint, c_ulonglong};

use ndctl::bus::BusCmd;

use crate::ctx::ndctl_ctx;
use crate::ctypes::ndctl_persistence_domain;
use crate::handles::*;

/// The first bus of the context (NULL if none or for a NULL context).
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_first(ctx: *mut ndctl_ctx) -> *mut ndctl_bus {
    guard!(std::ptr::null_mut(), Some(first(live!(ctx).ctx().buses())))
}

/// The bus after `bus` (NULL at the end).
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_next(bus: *mut ndctl_bus) -> *mut ndctl_bus {
    guard!(std::ptr::null_mut(), Some(opt_ptr(live!(bus).next())))
}

/// The context owning `bus`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_ctx(bus: *mut ndctl_bus) -> *mut ndctl_ctx {
    guard!(std::ptr::null_mut(), Some(handle_of(live!(bus).ctx())))
}

/// The bus whose provider is `provider` (NULL if none or for NULL arguments).
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_by_provider(
    ctx: *mut ndctl_ctx, provider: *const c_char,
) -> *mut ndctl_bus {
    guard!(std::ptr::null_mut(), {
        found(live!(ctx).ctx().bus_by_provider(str_arg!(provider).to_str().ok()?))
    })
}

/// Name of bus command `cmd` (`"unknown"` for others); the bus is not consulted.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_cmd_name(_bus: *mut ndctl_bus, cmd: c_int) -> *const c_char {
    guard!(std::ptr::null(), c_name(bus_cmd(cmd).map_or("unknown", BusCmd::name)))
}

/// `ndbusK` (NULL for a NULL bus).
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_devname(bus: *mut ndctl_bus) -> *const c_char {
    guard!(std::ptr::null(), Some(live!(bus).devname_cstr().as_ptr()))
}

/// The provider, e.g. `ACPI.NFIT` (NULL for a NULL bus).
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_provider(bus: *mut ndctl_bus) -> *const c_char {
    guard!(std::ptr::null(), name_of(live!(bus), "provider", |o| o.provider()))
}

/// N of `ndctlN` (`UINT_MAX` for a NULL bus).
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_id(bus: *mut ndctl_bus) -> c_uint {
    guard!(c_uint::MAX, Some(live!(bus).id()))
}

/// Major number of `/dev/ndctlN` (`UINT_MAX` for a NULL bus).
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_major(bus: *mut ndctl_bus) -> c_uint {
    guard!(c_uint::MAX, Some(live!(bus).major()))
}

/// Minor number of `/dev/ndctlN` (`UINT_MAX` for a NULL bus).
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_minor(bus: *mut ndctl_bus) -> c_uint {
    guard!(c_uint::MAX, Some(live!(bus).minor()))
}

/// NFIT revision; `UINT_MAX` without an NFIT (or for a NULL bus).
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_revision(bus: *mut ndctl_bus) -> c_uint {
    guard!(c_uint::MAX, known(live!(bus).revision()))
}

/// 1 if the bus has an ACPI NFIT.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_has_nfit(bus: *mut ndctl_bus) -> c_int {
    guard!(0, Some(value(live!(bus).has_nfit()).map_or(0, c_int::from)))
}

/// 1 if the bus comes from a device-tree node.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_has_of_node(bus: *mut ndctl_bus) -> c_int {
    guard!(0, Some(value(live!(bus).has_of_node()).map_or(0, c_int::from)))
}

/// 1 if the bus belongs to a CXL topology.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_has_cxl(bus: *mut ndctl_bus) -> c_int {
    guard!(0, Some(c_int::from(live!(bus).has_cxl())))
}

/// 1 if this is an IBM PAPR SCM bus.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_is_papr_scm(bus: *mut ndctl_bus) -> c_int {
    guard!(0, Some(value(live!(bus).is_papr_scm()).map_or(0, c_int::from)))
}

/// 1 if the bus supports `ND_CMD_*` command `cmd`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_is_cmd_supported(bus: *mut ndctl_bus, cmd: c_int) -> c_int {
    guard!(0, maybe!(bus).map(|b| bus_cmd(cmd).map_or(0, |c| c_int::from(b.is_cmd_supported(c)))))
}

/// 1 if the NFIT bus function `cmd` (`NFIT_CMD_*`) is in the bus's DSM mask.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_is_nfit_cmd_supported(bus: *mut ndctl_bus, cmd: c_int) -> c_int {
    guard!(0, {
        let (b, cmd) = (live!(bus), u32::try_from(cmd).ok()?);
        Some(value(b.is_nfit_cmd_supported(cmd)).map_or(0, c_int::from))
    })
}

/// Flushes the bus's asynchronous device probing: 0, or -ENXIO if `wait_probe` is
/// unreadable (-EINVAL for a NULL bus).
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_wait_probe(bus: *mut ndctl_bus) -> c_int {
    guard!(-libc::EINVAL, Some(or_debug(live!(bus).wait_probe(), -libc::ENXIO, |()| 0)))
}

/// The least capable persistence domain of the bus's regions (`PERSISTENCE_UNKNOWN` when
/// there are none, on failure, or for a NULL bus).
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_persistence_domain(
    bus: *mut ndctl_bus,
) -> ndctl_persistence_domain {
    guard!(c_int::MAX, value(live!(bus).persistence_domain()).map(persistence_domain))
}

/// Asks the platform (NFIT Translate SPA) which DIMM and DIMM physical address back the
/// system physical address `addr`. 0 on success; -ENOTTY when the bus lacks the function,
/// -EINVAL for an address outside every region or NULL arguments, else the ioctl's error.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_nfit_translate_spa(
    bus: *mut ndctl_bus, addr: c_ulonglong, handle: *mut c_uint, dpa: *mut c_ulonglong,
) -> c_int {
    guard!(-libc::EINVAL, {
        let b = live!(bus);
        // SAFETY: the export's contract: NULL or writable out pointers.
        let (handle, dpa) = unsafe { (handle.as_mut()?, dpa.as_mut()?) };
        Some(errno_or(b.nfit_translate_spa(addr), |(h, d)| {
            (*handle, *dpa) = (h, d);
            0
        }))
    })
}

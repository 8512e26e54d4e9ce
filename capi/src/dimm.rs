//! DIMMs (group `dimm` of `libndctl.tsv`).
//!
//! Numeric identity attributes the DIMM does not have read as all ones in their C type
//! (libndctl initialises them to -1), as do all unsigned getters for a NULL DIMM.

use std::ffi::{c_char, c_int, c_longlong, c_uchar, c_uint, c_ulonglong, c_ushort};

use ndctl::dimm::{DimmCmd, DimmFlags, Handle};

use crate::ctx::ndctl_ctx;
use crate::handles::*;

/// The health flags (all clear when unreadable).
fn flags(d: &ndctl::Dimm) -> DimmFlags {
    value(d.flags()).unwrap_or_default()
}

/// The NFIT handle as libndctl stores it (all ones when unknown).
fn raw_handle(d: &ndctl::Dimm) -> u32 {
    known(d.handle()).unwrap_or(u32::MAX)
}

/// The first DIMM of `bus`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_first(bus: *mut ndctl_bus) -> *mut ndctl_dimm {
    guard!(std::ptr::null_mut(), Some(first(live!(bus).dimms())))
}

/// The DIMM after `dimm` on its bus.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_next(dimm: *mut ndctl_dimm) -> *mut ndctl_dimm {
    guard!(std::ptr::null_mut(), Some(opt_ptr(live!(dimm).next())))
}

/// The DIMM with NFIT handle `handle` on `bus`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_by_handle(
    bus: *mut ndctl_bus, handle: c_uint,
) -> *mut ndctl_dimm {
    guard!(std::ptr::null_mut(), found(live!(bus).dimm_by_handle(handle)))
}

/// The DIMM backing system physical address `address` (asking the platform for interleaved
/// regions).
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_dimm_by_physical_address(
    bus: *mut ndctl_bus, address: c_ulonglong,
) -> *mut ndctl_dimm {
    guard!(std::ptr::null_mut(), found(live!(bus).dimm_by_physical_address(address)))
}

/// The bus of `dimm`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_bus(dimm: *mut ndctl_dimm) -> *mut ndctl_bus {
    guard!(std::ptr::null_mut(), Some(ptr(live!(dimm).bus())))
}

/// The context of `dimm`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_ctx(dimm: *mut ndctl_dimm) -> *mut ndctl_ctx {
    guard!(std::ptr::null_mut(), Some(handle_of(live!(dimm).bus().ctx())))
}

/// `nmemN`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_devname(dimm: *mut ndctl_dimm) -> *const c_char {
    guard!(std::ptr::null(), Some(live!(dimm).devname_cstr().as_ptr()))
}

/// Name of DIMM command `cmd` (`"unknown"` for others); the DIMM is not consulted.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_cmd_name(
    _dimm: *mut ndctl_dimm, cmd: c_int,
) -> *const c_char {
    guard!(std::ptr::null(), c_name(dimm_cmd(cmd).map_or("unknown", DimmCmd::name)))
}

/// N of `nmemN`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_id(dimm: *mut ndctl_dimm) -> c_uint {
    guard!(c_uint::MAX, Some(live!(dimm).id()))
}

/// Major number of `/dev/nmemN`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_major(dimm: *mut ndctl_dimm) -> c_uint {
    guard!(c_uint::MAX, Some(live!(dimm).major()))
}

/// Minor number of `/dev/nmemN`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_minor(dimm: *mut ndctl_dimm) -> c_uint {
    guard!(c_uint::MAX, Some(live!(dimm).minor()))
}

/// The NFIT device handle (`UINT_MAX` when unknown).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_handle(dimm: *mut ndctl_dimm) -> c_uint {
    guard!(c_uint::MAX, Some(raw_handle(live!(dimm))))
}

/// Node field of the NFIT handle.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_handle_get_node(dimm: *mut ndctl_dimm) -> c_uint {
    guard!(c_uint::MAX, Some(Handle(raw_handle(live!(dimm))).node()))
}

/// Socket field of the NFIT handle.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_handle_get_socket(dimm: *mut ndctl_dimm) -> c_uint {
    guard!(c_uint::MAX, Some(Handle(raw_handle(live!(dimm))).socket()))
}

/// Memory-controller field of the NFIT handle.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_handle_get_imc(dimm: *mut ndctl_dimm) -> c_uint {
    guard!(c_uint::MAX, Some(Handle(raw_handle(live!(dimm))).imc()))
}

/// Channel field of the NFIT handle.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_handle_get_channel(dimm: *mut ndctl_dimm) -> c_uint {
    guard!(c_uint::MAX, Some(Handle(raw_handle(live!(dimm))).channel()))
}

/// DIMM field of the NFIT handle.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_handle_get_dimm(dimm: *mut ndctl_dimm) -> c_uint {
    guard!(c_uint::MAX, Some(Handle(raw_handle(live!(dimm))).dimm()))
}

/// SMBIOS physical id (`USHRT_MAX` when unknown).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_phys_id(dimm: *mut ndctl_dimm) -> c_ushort {
    guard!(c_ushort::MAX, known(live!(dimm).phys_id()))
}

/// Vendor id (`USHRT_MAX` when unknown).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_vendor(dimm: *mut ndctl_dimm) -> c_ushort {
    guard!(c_ushort::MAX, known(live!(dimm).vendor()))
}

/// Device id (`USHRT_MAX` when unknown).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_device(dimm: *mut ndctl_dimm) -> c_ushort {
    guard!(c_ushort::MAX, known(live!(dimm).device_id()))
}

/// Revision id (`USHRT_MAX` when unknown).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_revision(dimm: *mut ndctl_dimm) -> c_ushort {
    guard!(c_ushort::MAX, known(live!(dimm).revision()))
}

/// Subsystem vendor id (`USHRT_MAX` when unknown).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_subsystem_vendor(dimm: *mut ndctl_dimm) -> c_ushort {
    guard!(c_ushort::MAX, known(live!(dimm).subsystem_vendor()))
}

/// Subsystem device id (`USHRT_MAX` when unknown).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_subsystem_device(dimm: *mut ndctl_dimm) -> c_ushort {
    guard!(c_ushort::MAX, known(live!(dimm).subsystem_device()))
}

/// Subsystem revision id (`USHRT_MAX` when unknown).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_subsystem_revision(dimm: *mut ndctl_dimm) -> c_ushort {
    guard!(c_ushort::MAX, known(live!(dimm).subsystem_revision()))
}

/// Manufacturing date from the unique id (`USHRT_MAX` when unknown).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_manufacturing_date(dimm: *mut ndctl_dimm) -> c_ushort {
    guard!(c_ushort::MAX, known(live!(dimm).manufacturing_date()))
}

/// Manufacturing location from the unique id (`UCHAR_MAX` when unknown).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_manufacturing_location(dimm: *mut ndctl_dimm) -> c_uchar {
    guard!(c_uchar::MAX, known(live!(dimm).manufacturing_location()))
}

/// Serial number (`UINT_MAX` when unknown).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_serial(dimm: *mut ndctl_dimm) -> c_uint {
    guard!(c_uint::MAX, known(live!(dimm).serial()))
}

/// The unique id, e.g. `8089-a2-1751-000004c9`; NULL when the DIMM has none.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_unique_id(dimm: *mut ndctl_dimm) -> *const c_char {
    guard!(std::ptr::null(), {
        let d = live!(dimm);
        owned_str(crate::handles::Handle::owner(d), d, "unique_id", &known(d.unique_id())?)
    })
}

/// The dirty shutdown count; -ENOENT where the platform has none (-EINVAL for NULL).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_dirty_shutdown(dimm: *mut ndctl_dimm) -> c_longlong {
    let (einval, enoent) = (c_longlong::from(-libc::EINVAL), c_longlong::from(-libc::ENOENT));
    guard!(einval, Some(known(live!(dimm).dirty_shutdown()).map_or(enoent, |v| v as c_longlong)))
}

/// The first interface format code (`USHRT_MAX` when unknown).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_format(dimm: *mut ndctl_dimm) -> c_ushort {
    // libndctl keeps the code in an int and returns its low 16 bits.
    guard!(c_ushort::MAX, known(live!(dimm).format(0)).map(|f| f as c_ushort))
}

/// Number of interface format codes (1 or 2; -EINVAL for NULL).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_formats(dimm: *mut ndctl_dimm) -> c_int {
    guard!(-libc::EINVAL, Some(value(live!(dimm).formats()).map_or(1, |n| n as c_int)))
}

/// Interface format code `i` (-1 when unknown; -EINVAL for `i` out of range or NULL).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_formatN(dimm: *mut ndctl_dimm, i: c_int) -> c_int {
    guard!(-libc::EINVAL, {
        let (d, i) = (live!(dimm), u32::try_from(i).ok()?);
        (i < value(d.formats()).unwrap_or(1)).then(|| known(d.format(i)).map_or(-1, |f| f as c_int))
    })
}

/// 1 if the label area is locked, 0 if not, -1 if unknown (-EINVAL for NULL).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_locked(dimm: *mut ndctl_dimm) -> c_int {
    guard!(-libc::EINVAL, Some(known(live!(dimm).locked()).map_or(-1, c_int::from)))
}

/// 1 if the DIMM is aliased (has labels), 0 if not, -1 if unknown (-EINVAL for NULL).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_aliased(dimm: *mut ndctl_dimm) -> c_int {
    guard!(-libc::EINVAL, Some(known(live!(dimm).aliased()).map_or(-1, c_int::from)))
}

/// 1 if any failure or event flag is set.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_has_errors(dimm: *mut ndctl_dimm) -> c_int {
    guard!(0, Some(c_int::from(flags(live!(dimm)).has_errors())))
}

/// 1 if the platform sends health notifications (`smart_notify`).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_has_notifications(dimm: *mut ndctl_dimm) -> c_int {
    guard!(0, Some(c_int::from(flags(live!(dimm)).smart_notify)))
}

/// 1 if the last save failed (`save_fail`).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_failed_save(dimm: *mut ndctl_dimm) -> c_int {
    guard!(0, Some(c_int::from(flags(live!(dimm)).save_fail)))
}

/// 1 if the DIMM is not armed (`not_armed`).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_failed_arm(dimm: *mut ndctl_dimm) -> c_int {
    guard!(0, Some(c_int::from(flags(live!(dimm)).not_armed)))
}

/// 1 if the last restore failed (`restore_fail`).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_failed_restore(dimm: *mut ndctl_dimm) -> c_int {
    guard!(0, Some(c_int::from(flags(live!(dimm)).restore_fail)))
}

/// 1 if the last flush failed (`flush_fail`).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_failed_flush(dimm: *mut ndctl_dimm) -> c_int {
    guard!(0, Some(c_int::from(flags(live!(dimm)).flush_fail)))
}

/// 1 if the DIMM could not be mapped (`map_fail`).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_failed_map(dimm: *mut ndctl_dimm) -> c_int {
    guard!(0, Some(c_int::from(flags(live!(dimm)).map_fail)))
}

/// 1 if a SMART event is pending (`smart_event`).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_smart_pending(dimm: *mut ndctl_dimm) -> c_int {
    guard!(0, Some(c_int::from(flags(live!(dimm)).smart_event)))
}

/// Re-reads the health flags.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_refresh_flags(dimm: *mut ndctl_dimm) {
    guard_void!(value(live!(dimm).refresh_flags()).map(drop))
}

/// 1 if the DIMM supports `ND_CMD_*` command `cmd`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_is_cmd_supported(dimm: *mut ndctl_dimm, cmd: c_int) -> c_int {
    guard!(0, maybe!(dimm).map(|d| dimm_cmd(cmd).map_or(0, |c| c_int::from(d.is_cmd_supported(c)))))
}

/// 1 if a driver is bound.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_is_enabled(dimm: *mut ndctl_dimm) -> c_int {
    guard!(0, value(live!(dimm).is_enabled()).map(c_int::from))
}

/// 1 if a region using the DIMM is active, 0 if not, negative errno if unreadable.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_is_active(dimm: *mut ndctl_dimm) -> c_int {
    guard!(0, Some(crate::handles::flag(live!(dimm).is_active())))
}

/// Binds the DIMM to its driver: 0, or a negative errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_enable(dimm: *mut ndctl_dimm) -> c_int {
    guard!(-libc::EINVAL, maybe!(dimm).map(|d| enable_status(d.devname(), d.enable(), |()| 0)))
}

/// Unbinds the DIMM: 0, or a negative errno (-EBUSY if it stays bound).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_disable(dimm: *mut ndctl_dimm) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(dimm).disable())))
}

//! Firmware update and activation (group `firmware` of `libndctl.tsv`).

use std::ffi::{c_int, c_uint, c_ulonglong, c_void};

use ndctl::bus::{FwaMethod, FwaState};
use ndctl::cmd::family::Family;
use ndctl::dimm::FwaResult;
use ndctl::Command;

use crate::cmd::{ndctl_cmd, new_cmd};
use crate::ctypes::{ndctl_fwa_method, ndctl_fwa_result, ndctl_fwa_state, ND_FW_STATUS};
use crate::ffi::in_buf;
use crate::handles::*;

// The C enums number these variants from 0 in this order.

fn fwa_state(s: FwaState) -> ndctl_fwa_state {
    use FwaState::*;
    c_enum(&[Invalid, Idle, Armed, Busy, ArmOverflow], s).unwrap_or(0)
}

fn fwa_method(m: FwaMethod) -> ndctl_fwa_method {
    use FwaMethod::*;
    c_enum(&[Reset, Suspend, Live], m).unwrap_or(0)
}

fn fwa_result(r: FwaResult) -> ndctl_fwa_result {
    use FwaResult::*;
    c_enum(&[Invalid, None, Success, NotStaged, NeedReset, Fail], r).unwrap_or(0)
}

/// A firmware getter's value as libndctl gives it: 0 for a command of a DIMM outside the
/// Intel family (libndctl has no firmware ops for it), all ones with errno EINVAL (`None`)
/// for an Intel command that is not the completed command the getter reads.
fn fw_get<T: From<u8>>(cmd: *mut ndctl_cmd, get: fn(&Command) -> Option<T>) -> Option<T> {
    let c = live!(cmd).get();
    get(&c).or_else(|| {
        if c.family() != Some(Family::Intel) {
            return Some(T::from(0));
        }
        crate::ffi::set_errno(libc::EINVAL)
    })
}

/// Intel "get firmware info" for `dimm`; NULL when the DIMM's family has no firmware
/// update or the DSM is not offered.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_cmd_new_fw_get_info(dimm: *mut ndctl_dimm) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), Some(new_cmd(live_arc!(dimm).fw_get_info())))
}

/// Intel "start firmware update"; NULL when not offered.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_cmd_new_fw_start_update(
    dimm: *mut ndctl_dimm,
) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), Some(new_cmd(live_arc!(dimm).fw_start_update())))
}

/// Intel "send firmware data": `len` bytes of `data` at image offset `offset`, in the
/// context of `start`; NULL when refused.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_cmd_new_fw_send(
    start: *mut ndctl_cmd, offset: c_uint, len: c_uint, data: *mut c_void,
) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), {
        let s = live!(start).get();
        // SAFETY: the caller provides `len` readable bytes at `data` (NULL only for 0).
        let bytes = if len == 0 { &[][..] } else { unsafe { in_buf(data, len as usize) }? };
        Some(new_cmd(s.fw_send(offset, bytes)))
    })
}

/// Intel "finish firmware update" in the context of `start`; NULL when refused.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_cmd_new_fw_finish(start: *mut ndctl_cmd) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), Some(new_cmd(live!(start).get().fw_finish())))
}

/// Intel "finish firmware update" with the abort flag; NULL when refused.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_cmd_new_fw_abort(start: *mut ndctl_cmd) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), Some(new_cmd(live!(start).get().fw_abort())))
}

/// Intel "finish status query" in the context of `start`; NULL when refused.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_cmd_new_fw_finish_query(
    start: *mut ndctl_cmd,
) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), Some(new_cmd(live!(start).get().fw_finish_query())))
}

/// Firmware storage size of a completed get-info; UINT_MAX (errno EINVAL) otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_fw_info_get_storage_size(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(c_uint::MAX, fw_get(cmd, Command::fw_info_storage_size))
}

/// Largest send chunk of a completed get-info; UINT_MAX (errno EINVAL) otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_fw_info_get_max_send_len(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(c_uint::MAX, fw_get(cmd, Command::fw_info_max_send_len))
}

/// Query interval of a completed get-info; UINT_MAX (errno EINVAL) otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_fw_info_get_query_interval(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(c_uint::MAX, fw_get(cmd, Command::fw_info_query_interval))
}

/// Longest finish time of a completed get-info; UINT_MAX (errno EINVAL) otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_fw_info_get_max_query_time(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(c_uint::MAX, fw_get(cmd, Command::fw_info_max_query_time))
}

/// Running firmware version of a completed get-info; ULLONG_MAX (errno EINVAL) otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_fw_info_get_run_version(cmd: *mut ndctl_cmd) -> c_ulonglong {
    guard!(c_ulonglong::MAX, fw_get(cmd, Command::fw_info_run_version))
}

/// Staged firmware version of a completed get-info; ULLONG_MAX (errno EINVAL) otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_fw_info_get_updated_version(cmd: *mut ndctl_cmd) -> c_ulonglong {
    guard!(c_ulonglong::MAX, fw_get(cmd, Command::fw_info_updated_version))
}

/// Context of a completed start-update; UINT_MAX (errno EINVAL) otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_fw_start_get_context(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(c_uint::MAX, fw_get(cmd, Command::fw_start_get_context))
}

/// Updated firmware revision of a completed finish query; ULLONG_MAX (errno EINVAL)
/// otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_fw_fquery_get_fw_rev(cmd: *mut ndctl_cmd) -> c_ulonglong {
    guard!(c_ulonglong::MAX, fw_get(cmd, Command::fw_fquery_fw_rev))
}

/// The firmware status as an `enum ND_FW_STATUS`; `FW_EUNKNOWN` outside the Intel family.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_fw_xlat_firmware_status(cmd: *mut ndctl_cmd) -> ND_FW_STATUS {
    guard!(6, Some(live!(cmd).get().fw_xlat_firmware_status() as ND_FW_STATUS))
}

/// 0 when the DIMM offers the whole firmware-update sequence; -ENOTTY (family without
/// it), -EOPNOTSUPP (no `ND_CMD_CALL`) or -EIO (a DSM function missing) otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_fw_update_supported(dimm: *mut ndctl_dimm) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(dimm).fw_update_supported())))
}

/// The platform's firmware activation state (`firmware/activate`); `NDCTL_FWA_INVALID`
/// when it has none.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_fw_activate_state(bus: *mut ndctl_bus) -> ndctl_fwa_state {
    guard!(0, Some(live!(bus).fw_activate_state().map_or(0, fwa_state)))
}

/// How the platform activates firmware (`firmware/capability`); reset when unknown.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_fw_activate_method(bus: *mut ndctl_bus) -> ndctl_fwa_method {
    guard!(0, Some(live!(bus).fw_activate_method().map_or(0, fwa_method)))
}

/// Activates staged firmware (`NDCTL_FWA_METHOD_LIVE` or `_SUSPEND`): 0 or -errno
/// (-EINVAL for another method).
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_activate_firmware(
    bus: *mut ndctl_bus, method: ndctl_fwa_method,
) -> c_int {
    guard!(-libc::EINVAL, {
        let m = match method {
            1 => FwaMethod::Suspend,
            2 => FwaMethod::Live,
            _ => return Some(error(&format_args!("method: {method} invalid"), -libc::EINVAL)),
        };
        Some(status(live!(bus).activate_firmware(m)))
    })
}

/// Sets `nfit/firmware_activate_noidle`: 0 or -errno (-EOPNOTSUPP without an NFIT).
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_set_fw_activate_noidle(bus: *mut ndctl_bus) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(bus).set_fw_activate_noidle(true))))
}

/// Clears `nfit/firmware_activate_noidle`: 0 or -errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_clear_fw_activate_noidle(bus: *mut ndctl_bus) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(bus).set_fw_activate_noidle(false))))
}

/// Sets `nfit/firmware_activate_nosuspend`: 0 or -errno (-EOPNOTSUPP without an NFIT).
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_set_fw_activate_nosuspend(bus: *mut ndctl_bus) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(bus).set_fw_activate_nosuspend(true))))
}

/// Clears `nfit/firmware_activate_nosuspend`: 0 or -errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_clear_fw_activate_nosuspend(bus: *mut ndctl_bus) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(bus).set_fw_activate_nosuspend(false))))
}

/// The DIMM's firmware activation state; `NDCTL_FWA_INVALID` when it has none.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_fw_activate_state(
    dimm: *mut ndctl_dimm,
) -> ndctl_fwa_state {
    guard!(0, Some(live!(dimm).fw_activate_state().map_or(0, fwa_state)))
}

/// Result of the last activation (`firmware/result`); `NDCTL_FWA_RESULT_INVALID` when
/// unknown.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_fw_activate_result(
    dimm: *mut ndctl_dimm,
) -> ndctl_fwa_result {
    guard!(0, Some(live!(dimm).fw_activate_result().map_or(0, fwa_result)))
}

/// libndctl's arm/disarm: `NDCTL_FWA_INVALID` when the DIMM has no activation state or the
/// write fails, else `NDCTL_FWA_ARMED` (for disarm too, as libndctl answers).
fn set_arm(d: &ndctl::Dimm, arm: bool) -> ndctl_fwa_state {
    match d.fw_activate_state() {
        Ok(s) if s != FwaState::Invalid => or_debug(d.fw_activate_arm(arm), 0, |()| 2),
        _ => 0,
    }
}

/// Arms the DIMM for activation.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_fw_activate_arm(dimm: *mut ndctl_dimm) -> ndctl_fwa_state {
    guard!(0, Some(set_arm(live!(dimm), true)))
}

/// Disarms the DIMM.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_fw_activate_disarm(dimm: *mut ndctl_dimm) -> ndctl_fwa_state {
    guard!(0, Some(set_arm(live!(dimm), false)))
}

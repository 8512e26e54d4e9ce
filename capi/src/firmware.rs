//! Firmware update and activation (group `firmware` of `libndctl.tsv`): the Intel-family
//! update commands over [`ndctl::cmd::firmware`], and the sysfs activation controls of
//! buses and DIMMs.
//!
//! The C enums cross as `int`: `enum ndctl_fwa_state`, `enum ndctl_fwa_method`,
//! `enum ndctl_fwa_result` and `enum ND_FW_STATUS` are converted from the crate's Rust
//! enums here. A NULL object gives -EINVAL in an enum or `int`, UINT_MAX / ULLONG_MAX in
//! an unsigned result, and NULL for a command.

use std::ffi::{c_int, c_uint, c_ulonglong, c_void};

use ndctl::bus::{FwaMethod, FwaState};
use ndctl::cmd::{FwInfo, FwStatus, FwUpdateSupport};
use ndctl::dimm::FwaResult;

use crate::cmd::{arc_of, ndctl_cmd, new_cmd};
use crate::ctypes::{ndctl_fwa_method, ndctl_fwa_result, ndctl_fwa_state, ND_FW_STATUS};
use crate::handles::{ndctl_bus, ndctl_dimm, status};

/// `NDCTL_FWA_INVALID`.
const FWA_INVALID: ndctl_fwa_state = 0;
/// `NDCTL_FWA_ARMED`.
const FWA_ARMED: ndctl_fwa_state = 2;
/// `FW_EUNKNOWN`.
const FW_EUNKNOWN: ND_FW_STATUS = 6;

fn fwa_state(s: FwaState) -> ndctl_fwa_state {
    match s {
        FwaState::Invalid => FWA_INVALID,
        FwaState::Idle => 1,
        FwaState::Armed => FWA_ARMED,
        FwaState::Busy => 3,
        FwaState::ArmOverflow => 4,
    }
}

fn fwa_method(m: FwaMethod) -> ndctl_fwa_method {
    match m {
        FwaMethod::Reset => 0,
        FwaMethod::Suspend => 1,
        FwaMethod::Live => 2,
    }
}

fn fwa_method_from(m: ndctl_fwa_method) -> Option<FwaMethod> {
    match m {
        0 => Some(FwaMethod::Reset),
        1 => Some(FwaMethod::Suspend),
        2 => Some(FwaMethod::Live),
        _ => None,
    }
}

fn fwa_result(r: FwaResult) -> ndctl_fwa_result {
    match r {
        FwaResult::Invalid => 0,
        FwaResult::None => 1,
        FwaResult::Success => 2,
        FwaResult::NotStaged => 3,
        FwaResult::NeedReset => 4,
        FwaResult::Fail => 5,
    }
}

/// `enum ND_FW_STATUS`.
fn nd_fw_status(s: FwStatus) -> ND_FW_STATUS {
    match s {
        FwStatus::Success => 0,
        FwStatus::NotSupported => 1,
        FwStatus::NotExist => 2,
        FwStatus::Invalid => 3,
        FwStatus::HwError => 4,
        FwStatus::Retry => 5,
        FwStatus::Unknown => FW_EUNKNOWN,
        FwStatus::NoResources => 7,
        FwStatus::NotReady => 8,
        FwStatus::Busy => 9,
        FwStatus::InvalidContext => 10,
        FwStatus::AlreadyDone => 11,
        FwStatus::BadFirmware => 12,
        FwStatus::Aborted => 13,
        FwStatus::Sequence => 14,
    }
}

fn set_errno(e: c_int) {
    // SAFETY: errno is thread-local and always writable.
    unsafe { *libc::__errno_location() = e };
}

/// libndctl's getter dispatch: only a command of an Intel-family DIMM has the firmware
/// getters (a field of a command that is not the right completed one is "all ones" with
/// errno EINVAL); any other command answers 0.
fn fw_field<T: Copy + From<u8>>(
    cmd: &ndctl::Command,
    all_ones: T,
    field: impl FnOnce(&ndctl::Command) -> ndctl::Result<T>,
) -> T {
    let intel = cmd
        .target()
        .dimm()
        .is_some_and(|d| matches!(d.cmd_family(), Ok(Some(ndctl::cmd::abi::family::INTEL))));
    if !intel {
        return T::from(0);
    }
    match field(cmd) {
        Ok(v) => v,
        Err(e) => {
            ::log::debug!("{e}");
            set_errno(libc::EINVAL);
            all_ones
        }
    }
}

fn info_u32(cmd: &ndctl_cmd, get: fn(&FwInfo) -> u32) -> c_uint {
    fw_field(&cmd.get(), c_uint::MAX, |c| c.fw_info().map(|i| get(&i)))
}

fn info_u64(cmd: &ndctl_cmd, get: fn(&FwInfo) -> u64) -> c_ulonglong {
    fw_field(&cmd.get(), c_ulonglong::MAX, |c| {
        c.fw_info().map(|i| get(&i))
    })
}

/// An Intel "get firmware info" command for `dimm`; NULL when the DIMM has no firmware
/// update (another family, no `cmd_call`, function not in `dsm_mask`).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_cmd_new_fw_get_info(dimm: *mut ndctl_dimm) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), |f| {
        // SAFETY: the export's contract: NULL or a live handle.
        let d = unsafe { arc_of(dimm) }?;
        Some(new_cmd(f, d.fw_get_info()))
    })
}

/// An Intel "start firmware update" command for `dimm`; NULL when unsupported.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_cmd_new_fw_start_update(
    dimm: *mut ndctl_dimm,
) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), |f| {
        // SAFETY: the export's contract: NULL or a live handle.
        let d = unsafe { arc_of(dimm) }?;
        Some(new_cmd(f, d.fw_start_update()))
    })
}

/// A "send firmware data" command carrying `len` bytes of `data` for image offset
/// `offset`, in the context of the submitted start command `start`; NULL otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_cmd_new_fw_send(
    start: *mut ndctl_cmd,
    offset: c_uint,
    len: c_uint,
    data: *mut c_void,
) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), |f| {
        let start = live!(start);
        let len = usize::try_from(len).ok()?;
        let bytes: &[u8] = if len == 0 {
            &[]
        } else if data.is_null() {
            return None;
        } else {
            // SAFETY: the caller provides `len` readable bytes at `data` (libndctl's
            // contract); they are copied into the command before this returns.
            unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) }
        };
        Some(new_cmd(f, start.get().fw_send(offset, bytes)))
    })
}

/// A "finish firmware update" command for the submitted start command; NULL otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_cmd_new_fw_finish(start: *mut ndctl_cmd) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), |f| Some(new_cmd(
        f,
        live!(start).get().fw_finish()
    )))
}

/// An "abort firmware update" command for the submitted start command; NULL otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_cmd_new_fw_abort(start: *mut ndctl_cmd) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), |f| Some(new_cmd(
        f,
        live!(start).get().fw_abort()
    )))
}

/// A "finish status query" command for the submitted start command; NULL otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_cmd_new_fw_finish_query(
    start: *mut ndctl_cmd,
) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), |f| Some(new_cmd(
        f,
        live!(start).get().fw_finish_query()
    )))
}

/// Firmware storage size of a completed get-info; UINT_MAX (errno EINVAL) for another
/// command of an Intel DIMM, 0 for commands of other DIMMs.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_fw_info_get_storage_size(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(c_uint::MAX, Some(info_u32(live!(cmd), |i| i.storage_size)))
}

/// Largest send-data piece of a completed get-info; UINT_MAX (errno EINVAL) otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_fw_info_get_max_send_len(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(c_uint::MAX, Some(info_u32(live!(cmd), |i| i.max_send_len)))
}

/// Finish-query interval (µs) of a completed get-info; UINT_MAX (errno EINVAL) otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_fw_info_get_query_interval(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(
        c_uint::MAX,
        Some(info_u32(live!(cmd), |i| i.query_interval))
    )
}

/// Longest finish time (µs) of a completed get-info; UINT_MAX (errno EINVAL) otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_fw_info_get_max_query_time(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(
        c_uint::MAX,
        Some(info_u32(live!(cmd), |i| i.max_query_time))
    )
}

/// Running firmware version of a completed get-info; ULLONG_MAX (errno EINVAL) otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_fw_info_get_run_version(cmd: *mut ndctl_cmd) -> c_ulonglong {
    guard!(
        c_ulonglong::MAX,
        Some(info_u64(live!(cmd), |i| i.run_version))
    )
}

/// Staged firmware version of a completed get-info; ULLONG_MAX (errno EINVAL) otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_fw_info_get_updated_version(cmd: *mut ndctl_cmd) -> c_ulonglong {
    guard!(
        c_ulonglong::MAX,
        Some(info_u64(live!(cmd), |i| i.updated_version))
    )
}

/// Update context of a completed start; UINT_MAX (errno EINVAL) otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_fw_start_get_context(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(c_uint::MAX, {
        Some(fw_field(&live!(cmd).get(), c_uint::MAX, |c| {
            c.fw_start_context()
        }))
    })
}

/// Firmware revision of a completed finish query; ULLONG_MAX (errno EINVAL) otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_fw_fquery_get_fw_rev(cmd: *mut ndctl_cmd) -> c_ulonglong {
    guard!(c_ulonglong::MAX, {
        Some(fw_field(&live!(cmd).get(), c_ulonglong::MAX, |c| {
            c.fw_query_fw_rev()
        }))
    })
}

/// The firmware status of an Intel DSM call as `enum ND_FW_STATUS`; FW_EUNKNOWN for
/// other commands, -EINVAL for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_fw_xlat_firmware_status(cmd: *mut ndctl_cmd) -> ND_FW_STATUS {
    guard!(
        -libc::EINVAL,
        Some(nd_fw_status(live!(cmd).get().fw_status()))
    )
}

/// 0 when `dimm` can update its firmware; -ENOTTY for a family without firmware update,
/// -EOPNOTSUPP without `cmd_call`, -EIO when `dsm_mask` lacks an update function.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_fw_update_supported(dimm: *mut ndctl_dimm) -> c_int {
    guard!(-libc::EINVAL, |f| {
        Some(match live!(dimm).fw_update_support() {
            Ok(FwUpdateSupport::Supported) => 0,
            Ok(FwUpdateSupport::NoFamilySupport) => -libc::ENOTTY,
            Ok(FwUpdateSupport::NoCommandCall) => -libc::EOPNOTSUPP,
            Ok(FwUpdateSupport::MissingFunctions) => -libc::EIO,
            Err(e) => {
                ::log::debug!(target: f, "{e}");
                e.errno()
            }
        })
    })
}

/// The bus's firmware activation state (`firmware/activate`), NDCTL_FWA_INVALID when it
/// has none.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_fw_activate_state(bus: *mut ndctl_bus) -> ndctl_fwa_state {
    guard!(-libc::EINVAL, |f| {
        Some(match live!(bus).fw_activate_state() {
            Ok(s) => fwa_state(s),
            Err(e) => {
                ::log::debug!(target: f, "{e}");
                FWA_INVALID
            }
        })
    })
}

/// How the bus activates firmware (`firmware/capability`): NDCTL_FWA_METHOD_RESET when
/// it cannot without a reset.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_fw_activate_method(bus: *mut ndctl_bus) -> ndctl_fwa_method {
    guard!(-libc::EINVAL, |f| {
        Some(fwa_method(live!(bus).fw_activate_method().unwrap_or_else(
            |e| {
                ::log::debug!(target: f, "{e}");
                FwaMethod::Reset
            },
        )))
    })
}

/// Activates the armed DIMMs' staged firmware with `method` (LIVE or SUSPEND): 0 or
/// -errno; -EINVAL for any other method.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_activate_firmware(
    bus: *mut ndctl_bus,
    method: ndctl_fwa_method,
) -> c_int {
    guard!(-libc::EINVAL, |f| {
        let bus = live!(bus);
        let Some(m) = fwa_method_from(method) else {
            ::log::error!(target: f, "{}: method: {method} invalid", bus.devname());
            return Some(-libc::EINVAL);
        };
        Some(status(f, bus.activate_firmware(m)))
    })
}

/// Sets the NFIT "no idle" activation option: 0 or -errno (-EOPNOTSUPP without NFIT).
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_set_fw_activate_noidle(bus: *mut ndctl_bus) -> c_int {
    guard!(-libc::EINVAL, |f| Some(status(
        f,
        live!(bus).set_fw_activate_noidle(true)
    )))
}

/// Clears the NFIT "no idle" activation option: 0 or -errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_clear_fw_activate_noidle(bus: *mut ndctl_bus) -> c_int {
    guard!(-libc::EINVAL, |f| Some(status(
        f,
        live!(bus).set_fw_activate_noidle(false)
    )))
}

/// Sets the NFIT "no suspend" activation option: 0 or -errno (-EOPNOTSUPP without NFIT).
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_set_fw_activate_nosuspend(bus: *mut ndctl_bus) -> c_int {
    guard!(-libc::EINVAL, |f| Some(status(
        f,
        live!(bus).set_fw_activate_nosuspend(true)
    )))
}

/// Clears the NFIT "no suspend" activation option: 0 or -errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_clear_fw_activate_nosuspend(bus: *mut ndctl_bus) -> c_int {
    guard!(-libc::EINVAL, |f| Some(status(
        f,
        live!(bus).set_fw_activate_nosuspend(false)
    )))
}

/// The DIMM's firmware activation state, NDCTL_FWA_INVALID when it has none.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_fw_activate_state(
    dimm: *mut ndctl_dimm,
) -> ndctl_fwa_state {
    guard!(-libc::EINVAL, |f| {
        Some(match live!(dimm).fw_activate_state() {
            Ok(s) => fwa_state(s),
            Err(e) => {
                ::log::debug!(target: f, "{e}");
                FWA_INVALID
            }
        })
    })
}

/// The outcome of the DIMM's last activation, NDCTL_FWA_RESULT_INVALID when unknown.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_fw_activate_result(
    dimm: *mut ndctl_dimm,
) -> ndctl_fwa_result {
    guard!(-libc::EINVAL, |f| {
        Some(fwa_result(live!(dimm).fw_activate_result().unwrap_or_else(
            |e| {
                ::log::debug!(target: f, "{e}");
                FwaResult::Invalid
            },
        )))
    })
}

/// libndctl reports a successful arm or disarm alike as NDCTL_FWA_ARMED (the write went
/// through), and any failure as NDCTL_FWA_INVALID.
fn armed(func: &'static str, r: ndctl::Result<()>) -> ndctl_fwa_state {
    match r {
        Ok(()) => FWA_ARMED,
        Err(e) => {
            ::log::debug!(target: func, "{e}");
            FWA_INVALID
        }
    }
}

/// Arms the DIMM for the next activation: NDCTL_FWA_ARMED, or NDCTL_FWA_INVALID.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_fw_activate_arm(dimm: *mut ndctl_dimm) -> ndctl_fwa_state {
    guard!(-libc::EINVAL, |f| Some(armed(
        f,
        live!(dimm).fw_activate_arm()
    )))
}

/// Disarms the DIMM: NDCTL_FWA_ARMED when the write succeeded (as libndctl reports it),
/// NDCTL_FWA_INVALID otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_fw_activate_disarm(dimm: *mut ndctl_dimm) -> ndctl_fwa_state {
    guard!(-libc::EINVAL, |f| Some(armed(
        f,
        live!(dimm).fw_activate_disarm()
    )))
}

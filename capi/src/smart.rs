//! SMART and health (group `smart` of `libndctl.tsv`) over [`ndctl::cmd::family`]: the
//! builders return NULL when the DIMM's family has no such command, the getters return
//! what libndctl's per-family getter returns (including its failure value, 0 or
//! `UINT_MAX` depending on the family), and the setters 0, -EINVAL for a command in the
//! wrong state, or -ENXIO when the family lacks the operation.

use std::ffi::{c_int, c_uchar, c_uint};
use std::os::fd::AsRawFd;

use ndctl::cmd::family::{Inject, SmartField, ThresholdField};

use crate::cmd::{ndctl_cmd, new_cmd};
use crate::handles::*;

/// A setter's result as libndctl returns it: a missing operation is -ENXIO.
fn set_status(r: ndctl::Result<()>) -> c_int {
    match r {
        Err(ndctl::Error::Unsupported { object, reason }) => {
            debug(&format_args!("{object}: {reason}"), -libc::ENXIO)
        }
        r => status(r),
    }
}

fn smart_value(cmd: *mut ndctl_cmd, field: SmartField) -> Option<c_uint> {
    Some(live!(cmd).get().smart_value(field))
}

fn threshold_value(cmd: *mut ndctl_cmd, field: ThresholdField) -> Option<c_uint> {
    Some(live!(cmd).get().threshold_value(field))
}

fn set_threshold(cmd: *mut ndctl_cmd, field: ThresholdField, val: c_uint) -> Option<c_int> {
    Some(set_status(live!(cmd).get().set_threshold(field, val)))
}

fn inject(cmd: *mut ndctl_cmd, what: Inject) -> Option<c_int> {
    Some(set_status(live!(cmd).get().smart_inject(what)))
}

/// A SMART command for `dimm`; NULL when its command family has none.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_cmd_new_smart(dimm: *mut ndctl_dimm) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), Some(new_cmd(live_arc!(dimm).smart())))
}

/// A SMART threshold command for `dimm`; NULL when its command family has none.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_cmd_new_smart_threshold(
    dimm: *mut ndctl_dimm,
) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), Some(new_cmd(live_arc!(dimm).smart_threshold())))
}

/// A set-threshold command initialised from a completed threshold command; NULL otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_cmd_new_smart_set_threshold(
    cmd: *mut ndctl_cmd,
) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), Some(new_cmd(live!(cmd).get().smart_set_threshold())))
}

/// A SMART injection command for `dimm`; NULL when its command family has none.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_cmd_new_smart_inject(dimm: *mut ndctl_dimm) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), Some(new_cmd(live_arc!(dimm).smart_inject())))
}

/// A command acknowledging the dirty shutdown count; NULL when the family has none.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_cmd_new_ack_shutdown_count(
    dimm: *mut ndctl_dimm,
) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), Some(new_cmd(live_arc!(dimm).ack_shutdown_count())))
}

/// `ND_SMART_*_VALID` bits of a completed SMART command; UINT_MAX for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_get_flags(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(c_uint::MAX, smart_value(cmd, SmartField::Flags))
}

/// `ND_SMART_*_HEALTH` bits of a completed SMART command; UINT_MAX for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_get_health(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(c_uint::MAX, smart_value(cmd, SmartField::Health))
}

/// Media temperature (SMART encoding); UINT_MAX for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_get_temperature(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(c_uint::MAX, smart_value(cmd, SmartField::MediaTemperature))
}

/// Media temperature (SMART encoding); UINT_MAX for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_get_media_temperature(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(c_uint::MAX, smart_value(cmd, SmartField::MediaTemperature))
}

/// Controller temperature (SMART encoding); UINT_MAX for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_get_ctrl_temperature(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(c_uint::MAX, smart_value(cmd, SmartField::CtrlTemperature))
}

/// Spare capacity left in percent; UINT_MAX for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_get_spares(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(c_uint::MAX, smart_value(cmd, SmartField::Spares))
}

/// `ND_SMART_*_TRIP` bits of the tripped alarms; UINT_MAX for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_get_alarm_flags(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(c_uint::MAX, smart_value(cmd, SmartField::AlarmFlags))
}

/// Life used in percent; UINT_MAX for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_get_life_used(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(c_uint::MAX, smart_value(cmd, SmartField::LifeUsed))
}

/// Last shutdown state (0 clean); UINT_MAX for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_get_shutdown_state(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(c_uint::MAX, smart_value(cmd, SmartField::ShutdownState))
}

/// Dirty shutdown count; UINT_MAX for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_get_shutdown_count(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(c_uint::MAX, smart_value(cmd, SmartField::ShutdownCount))
}

/// Size of the vendor-specific data; UINT_MAX for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_get_vendor_size(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(c_uint::MAX, smart_value(cmd, SmartField::VendorSize))
}

/// The vendor-specific data area of a completed SMART command (valid while the command
/// lives); NULL otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_get_vendor_data(cmd: *mut ndctl_cmd) -> *mut c_uchar {
    // The area lies in the command's buffer, never reallocated while the command lives.
    guard!(std::ptr::null_mut(), {
        quiet(live!(cmd).get().smart_vendor_area()).map(|a| a.as_ptr().cast_mut())
    })
}

/// `ND_SMART_*_TRIP` bits of the enabled alarms; UINT_MAX for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_threshold_get_alarm_control(
    cmd: *mut ndctl_cmd,
) -> c_uint {
    guard!(c_uint::MAX, threshold_value(cmd, ThresholdField::AlarmControl))
}

/// Media temperature threshold (SMART encoding); UINT_MAX for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_threshold_get_temperature(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(c_uint::MAX, threshold_value(cmd, ThresholdField::MediaTemperature))
}

/// Media temperature threshold (SMART encoding); UINT_MAX for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_threshold_get_media_temperature(
    cmd: *mut ndctl_cmd,
) -> c_uint {
    guard!(c_uint::MAX, threshold_value(cmd, ThresholdField::MediaTemperature))
}

/// Controller temperature threshold (SMART encoding); UINT_MAX for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_threshold_get_ctrl_temperature(
    cmd: *mut ndctl_cmd,
) -> c_uint {
    guard!(c_uint::MAX, threshold_value(cmd, ThresholdField::CtrlTemperature))
}

/// Spares threshold in percent; UINT_MAX for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_threshold_get_spares(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(c_uint::MAX, threshold_value(cmd, ThresholdField::Spares))
}

/// The alarms an unsubmitted set-threshold command can enable; 0 for any other command,
/// UINT_MAX for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_threshold_get_supported_alarms(
    cmd: *mut ndctl_cmd,
) -> c_uint {
    guard!(c_uint::MAX, Some(live!(cmd).get().supported_alarms().map_or(0, |a| a.0)))
}

/// Sets the enabled alarms of a set-threshold command; -EINVAL for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_threshold_set_alarm_control(
    cmd: *mut ndctl_cmd, val: c_uint,
) -> c_int {
    guard!(-libc::EINVAL, set_threshold(cmd, ThresholdField::AlarmControl, val))
}

/// Sets the media temperature threshold of a set-threshold command; -EINVAL for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_threshold_set_temperature(
    cmd: *mut ndctl_cmd, val: c_uint,
) -> c_int {
    guard!(-libc::EINVAL, set_threshold(cmd, ThresholdField::MediaTemperature, val))
}

/// Sets the media temperature threshold of a set-threshold command; -EINVAL for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_threshold_set_media_temperature(
    cmd: *mut ndctl_cmd, val: c_uint,
) -> c_int {
    guard!(-libc::EINVAL, set_threshold(cmd, ThresholdField::MediaTemperature, val))
}

/// Sets the controller temperature threshold of a set-threshold command; -EINVAL for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_threshold_set_ctrl_temperature(
    cmd: *mut ndctl_cmd, val: c_uint,
) -> c_int {
    guard!(-libc::EINVAL, set_threshold(cmd, ThresholdField::CtrlTemperature, val))
}

/// Sets the spares threshold of a set-threshold command; -EINVAL for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_threshold_set_spares(
    cmd: *mut ndctl_cmd, val: c_uint,
) -> c_int {
    guard!(-libc::EINVAL, set_threshold(cmd, ThresholdField::Spares, val))
}

/// Adds a media temperature injection (or its removal) to an injection command; -ENXIO
/// when the family cannot inject it, -EINVAL for NULL or a command in the wrong state.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_inject_media_temperature(
    cmd: *mut ndctl_cmd, enable: bool, mtemp: c_uint,
) -> c_int {
    guard!(-libc::EINVAL, inject(cmd, Inject::MediaTemperature { enable, value: mtemp }))
}

/// Adds a controller temperature injection to an injection command; -ENXIO when the
/// family cannot inject it (no family libndctl knows can), -EINVAL for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_inject_ctrl_temperature(
    cmd: *mut ndctl_cmd, enable: bool, ctemp: c_uint,
) -> c_int {
    guard!(-libc::EINVAL, inject(cmd, Inject::CtrlTemperature { enable, value: ctemp }))
}

/// Adds a spares injection to an injection command; -ENXIO when the family cannot
/// inject it, -EINVAL for NULL or a command in the wrong state.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_inject_spares(
    cmd: *mut ndctl_cmd, enable: bool, spares: c_uint,
) -> c_int {
    guard!(-libc::EINVAL, inject(cmd, Inject::Spares { enable, value: spares }))
}

/// Adds a fatal-health injection to an injection command; -ENXIO when the family cannot
/// inject it, -EINVAL for NULL or a command in the wrong state.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_inject_fatal(cmd: *mut ndctl_cmd, enable: bool) -> c_int {
    guard!(-libc::EINVAL, inject(cmd, Inject::Fatal { enable }))
}

/// Adds an unsafe-shutdown injection to an injection command; -ENXIO when the family
/// cannot inject it, -EINVAL for NULL or a command in the wrong state.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_inject_unsafe_shutdown(
    cmd: *mut ndctl_cmd, enable: bool,
) -> c_int {
    guard!(-libc::EINVAL, inject(cmd, Inject::UnsafeShutdown { enable }))
}

/// `ND_SMART_INJECT_*` bits of what `dimm` can inject; -ENOTTY when its family cannot
/// inject, -EOPNOTSUPP without `cmd_call`, -EIO when the DSM mask excludes injection,
/// -EINVAL for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_smart_inject_supported(dimm: *mut ndctl_dimm) -> c_int {
    guard!(-libc::EINVAL, Some(errno_or(live!(dimm).smart_inject_supported(), |t| int(t.0))))
}

/// The descriptor of the DIMM's health flags attribute, for poll(); -1 when it cannot be
/// opened, -EINVAL for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_health_eventfd(dimm: *mut ndctl_dimm) -> c_int {
    guard!(-libc::EINVAL, Some(live!(dimm).health_eventfd().map_or(-1, |fd| fd.as_raw_fd())))
}

/// The health bits of a SMART command submitted now; UINT_MAX when it cannot be built or
/// fails (and for NULL).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_health(dimm: *mut ndctl_dimm) -> c_uint {
    guard!(c_uint::MAX, value(live_arc!(dimm).smart_health_bits()))
}

/// The `ND_SMART_*_VALID` bits of a SMART command submitted now; UINT_MAX when it cannot
/// be built or fails (and for NULL).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_flags(dimm: *mut ndctl_dimm) -> c_uint {
    guard!(c_uint::MAX, quiet(live_arc!(dimm).smart_flags()))
}

/// 1 if a SMART command submitted now declares `flag` valid, 0 otherwise (and for NULL).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_is_flag_supported(
    dimm: *mut ndctl_dimm, flag: c_uint,
) -> c_int {
    guard!(0, {
        let valid = quiet(live_arc!(dimm).smart_flags());
        Some(valid.map_or(0, |v| c_int::from(v != c_uint::MAX && v & flag != 0)))
    })
}

/// `ND_EVENT_*` bits from the alarms and shutdown state of a SMART command submitted now;
/// UINT_MAX when it cannot be built or fails (and for NULL).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_event_flags(dimm: *mut ndctl_dimm) -> c_uint {
    guard!(c_uint::MAX, value(live_arc!(dimm).event_flags()))
}

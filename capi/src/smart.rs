//! SMART health, thresholds and injection (group `smart / health` of `libndctl.tsv`).
//!
//! libndctl dispatches these to the DIMM family's operations: a command of a DIMM whose
//! family has none answers the neutral default (0, NULL, -ENXIO). The Intel family is
//! implemented in the crate; an accessor of a command that did not complete answers
//! libndctl's "unknown" (UINT_MAX with errno, or 0 for bit sets).

use std::ffi::{c_int, c_uchar, c_uint};
use std::fs::File;
use std::os::fd::AsRawFd;

use ndctl::cmd::smart_errno;

use crate::cmd::{arc_of, ndctl_cmd, new_cmd};
use crate::handles::ndctl_dimm;
use crate::state::Table;

/// Whether the command belongs to a DIMM whose family has SMART operations here (Intel).
fn has_ops(c: &ndctl::Command) -> bool {
    c.target()
        .dimm()
        .is_some_and(|d| matches!(d.cmd_family(), Ok(Some(0))))
}

fn set_errno(e: i32) {
    // SAFETY: errno is thread-local and always writable.
    unsafe { *libc::__errno_location() = e };
}

/// An accessor whose "unknown" is UINT_MAX with errno set (0 without family operations).
fn field(c: &ndctl::Command, v: Option<u32>) -> c_uint {
    if !has_ops(c) {
        return 0;
    }
    v.unwrap_or_else(|| {
        set_errno(-smart_errno(c));
        c_uint::MAX
    })
}

/// A setter's result: 0, -EINVAL for the wrong or a submitted command, -ENXIO without
/// family operations.
fn setter(
    c: &mut ndctl::Command,
    f: impl FnOnce(&mut ndctl::Command) -> ndctl::Result<()>,
) -> c_int {
    if !has_ops(c) {
        return -libc::ENXIO;
    }
    match f(c) {
        Ok(()) => 0,
        Err(_) => -libc::EINVAL,
    }
}

/// `ndctl_cmd_smart_get_alarm_flags`: see the module documentation for the unknown value.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_get_alarm_flags(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(0, {
        let c = live!(cmd).get();
        Some(field(&c, c.smart_alarm_flags()))
    })
}

/// `ndctl_cmd_smart_get_ctrl_temperature`: see the module documentation for the unknown value.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_get_ctrl_temperature(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(0, {
        let c = live!(cmd).get();
        Some(field(&c, c.smart_ctrl_temperature()))
    })
}

/// `ndctl_cmd_smart_get_life_used`: see the module documentation for the unknown value.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_get_life_used(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(0, {
        let c = live!(cmd).get();
        Some(field(&c, c.smart_life_used()))
    })
}

/// `ndctl_cmd_smart_get_media_temperature`: see the module documentation for the unknown value.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_get_media_temperature(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(0, {
        let c = live!(cmd).get();
        Some(field(&c, c.smart_media_temperature()))
    })
}

/// `ndctl_cmd_smart_get_temperature`: see the module documentation for the unknown value.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_get_temperature(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(0, {
        let c = live!(cmd).get();
        Some(field(&c, c.smart_media_temperature()))
    })
}

/// `ndctl_cmd_smart_get_shutdown_count`: see the module documentation for the unknown value.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_get_shutdown_count(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(0, {
        let c = live!(cmd).get();
        Some(field(&c, c.smart_shutdown_count()))
    })
}

/// `ndctl_cmd_smart_get_shutdown_state`: see the module documentation for the unknown value.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_get_shutdown_state(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(0, {
        let c = live!(cmd).get();
        Some(field(&c, c.smart_shutdown_state()))
    })
}

/// `ndctl_cmd_smart_get_spares`: see the module documentation for the unknown value.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_get_spares(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(0, {
        let c = live!(cmd).get();
        Some(field(&c, c.smart_spares()))
    })
}

/// `ndctl_cmd_smart_get_vendor_size`: see the module documentation for the unknown value.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_get_vendor_size(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(0, {
        let c = live!(cmd).get();
        Some(field(&c, c.smart_vendor_size()))
    })
}

/// `ndctl_cmd_smart_threshold_get_ctrl_temperature`: see the module documentation for the unknown value.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_threshold_get_ctrl_temperature(
    cmd: *mut ndctl_cmd,
) -> c_uint {
    guard!(0, {
        let c = live!(cmd).get();
        Some(field(&c, c.smart_threshold_ctrl_temperature()))
    })
}

/// `ndctl_cmd_smart_threshold_get_media_temperature`: see the module documentation for the unknown value.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_threshold_get_media_temperature(
    cmd: *mut ndctl_cmd,
) -> c_uint {
    guard!(0, {
        let c = live!(cmd).get();
        Some(field(&c, c.smart_threshold_media_temperature()))
    })
}

/// `ndctl_cmd_smart_threshold_get_temperature`: see the module documentation for the unknown value.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_threshold_get_temperature(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(0, {
        let c = live!(cmd).get();
        Some(field(&c, c.smart_threshold_media_temperature()))
    })
}

/// `ndctl_cmd_smart_threshold_get_spares`: see the module documentation for the unknown value.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_threshold_get_spares(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(0, {
        let c = live!(cmd).get();
        Some(field(&c, c.smart_threshold_spares()))
    })
}

/// `ndctl_cmd_smart_get_flags`: 0 when the command did not complete.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_get_flags(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(0, Some(live!(cmd).get().smart_flags().unwrap_or(0)))
}

/// `ndctl_cmd_smart_get_health`: 0 when the command did not complete.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_get_health(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(0, Some(live!(cmd).get().smart_health().unwrap_or(0)))
}

/// `ndctl_cmd_smart_threshold_get_alarm_control`: 0 when the command did not complete.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_threshold_get_alarm_control(
    cmd: *mut ndctl_cmd,
) -> c_uint {
    guard!(
        0,
        Some(
            live!(cmd)
                .get()
                .smart_threshold_alarm_control()
                .unwrap_or(0)
        )
    )
}

/// `ndctl_cmd_smart_threshold_set_alarm_control`: 0, -EINVAL unless an unsubmitted set-threshold command, -ENXIO without
/// family operations.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_threshold_set_alarm_control(
    cmd: *mut ndctl_cmd,
    val: c_uint,
) -> c_int {
    guard!(
        -libc::EINVAL,
        Some(setter(&mut live!(cmd).get(), |c| c
            .smart_threshold_set_alarm_control(val)))
    )
}

/// `ndctl_cmd_smart_threshold_set_ctrl_temperature`: 0, -EINVAL unless an unsubmitted set-threshold command, -ENXIO without
/// family operations.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_threshold_set_ctrl_temperature(
    cmd: *mut ndctl_cmd,
    val: c_uint,
) -> c_int {
    guard!(
        -libc::EINVAL,
        Some(setter(&mut live!(cmd).get(), |c| c
            .smart_threshold_set_ctrl_temperature(val)))
    )
}

/// `ndctl_cmd_smart_threshold_set_media_temperature`: 0, -EINVAL unless an unsubmitted set-threshold command, -ENXIO without
/// family operations.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_threshold_set_media_temperature(
    cmd: *mut ndctl_cmd,
    val: c_uint,
) -> c_int {
    guard!(
        -libc::EINVAL,
        Some(setter(&mut live!(cmd).get(), |c| c
            .smart_threshold_set_media_temperature(val)))
    )
}

/// `ndctl_cmd_smart_threshold_set_temperature`: 0, -EINVAL unless an unsubmitted set-threshold command, -ENXIO without
/// family operations.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_threshold_set_temperature(
    cmd: *mut ndctl_cmd,
    val: c_uint,
) -> c_int {
    guard!(
        -libc::EINVAL,
        Some(setter(&mut live!(cmd).get(), |c| c
            .smart_threshold_set_media_temperature(val)))
    )
}

/// `ndctl_cmd_smart_threshold_set_spares`: 0, -EINVAL unless an unsubmitted set-threshold command, -ENXIO without
/// family operations.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_threshold_set_spares(
    cmd: *mut ndctl_cmd,
    val: c_uint,
) -> c_int {
    guard!(
        -libc::EINVAL,
        Some(setter(&mut live!(cmd).get(), |c| c.smart_threshold_set_spares(val)))
    )
}

/// `ndctl_cmd_smart_inject_media_temperature`: 0, -EINVAL unless an unsubmitted SMART inject command, -ENXIO without
/// family operations.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_inject_media_temperature(
    cmd: *mut ndctl_cmd,
    enable: bool,
    val: c_uint,
) -> c_int {
    guard!(
        -libc::EINVAL,
        Some(setter(&mut live!(cmd).get(), |c| c
            .smart_inject_media_temperature(enable, val)))
    )
}

/// `ndctl_cmd_smart_inject_spares`: 0, -EINVAL unless an unsubmitted SMART inject command, -ENXIO without
/// family operations.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_inject_spares(
    cmd: *mut ndctl_cmd,
    enable: bool,
    val: c_uint,
) -> c_int {
    guard!(
        -libc::EINVAL,
        Some(setter(&mut live!(cmd).get(), |c| c
            .smart_inject_spares(enable, val)))
    )
}

/// `ndctl_cmd_smart_inject_fatal`: 0, -EINVAL unless an unsubmitted SMART inject command, -ENXIO without
/// family operations.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_inject_fatal(cmd: *mut ndctl_cmd, enable: bool) -> c_int {
    guard!(
        -libc::EINVAL,
        Some(setter(&mut live!(cmd).get(), |c| c.smart_inject_fatal(enable)))
    )
}

/// `ndctl_cmd_smart_inject_unsafe_shutdown`: 0, -EINVAL unless an unsubmitted SMART inject command, -ENXIO without
/// family operations.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_inject_unsafe_shutdown(
    cmd: *mut ndctl_cmd,
    enable: bool,
) -> c_int {
    guard!(
        -libc::EINVAL,
        Some(setter(&mut live!(cmd).get(), |c| c
            .smart_inject_unsafe_shutdown(enable)))
    )
}

/// `ndctl_cmd_smart_inject_ctrl_temperature`: no family implemented here (nor Intel in
/// libndctl) offers controller-temperature injection: -ENXIO.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_inject_ctrl_temperature(
    cmd: *mut ndctl_cmd,
    enable: bool,
    val: c_uint,
) -> c_int {
    guard!(-libc::EINVAL, {
        let _ = (live!(cmd), enable, val);
        Some(-libc::ENXIO)
    })
}

/// Alarms a set-threshold command can enable; 0 otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_threshold_get_supported_alarms(
    cmd: *mut ndctl_cmd,
) -> c_uint {
    guard!(0, Some(live!(cmd).get().smart_threshold_supported_alarms()))
}

/// The vendor data area of a completed SMART command (valid while the command lives);
/// NULL otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_smart_get_vendor_data(cmd: *mut ndctl_cmd) -> *mut c_uchar {
    guard!(std::ptr::null_mut(), {
        let c = live!(cmd).get();
        // The buffer never moves after the command is built, so the pointer stays valid
        // until the command is freed, as libndctl's does.
        Some(
            c.smart_vendor_data()
                .map_or(std::ptr::null_mut(), |d| d.as_ptr().cast_mut()),
        )
    })
}

/// A SMART command for `dimm`; NULL when its family or the DSM is not supported.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_cmd_new_smart(dimm: *mut ndctl_dimm) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), |f| {
        // SAFETY: the export's contract: NULL or a live handle.
        let d = unsafe { arc_of(dimm) }?;
        Some(new_cmd(f, d.smart()))
    })
}

/// A SMART threshold command; NULL when not supported.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_cmd_new_smart_threshold(
    dimm: *mut ndctl_dimm,
) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), |f| {
        // SAFETY: the export's contract: NULL or a live handle.
        let d = unsafe { arc_of(dimm) }?;
        Some(new_cmd(f, d.smart_threshold()))
    })
}

/// A set-threshold command from a completed threshold command; NULL otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_cmd_new_smart_set_threshold(
    cmd: *mut ndctl_cmd,
) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), |f| {
        Some(new_cmd(f, live!(cmd).get().smart_set_threshold()))
    })
}

/// A SMART inject command; NULL when not supported.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_cmd_new_smart_inject(dimm: *mut ndctl_dimm) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), |f| {
        // SAFETY: the export's contract: NULL or a live handle.
        let d = unsafe { arc_of(dimm) }?;
        Some(new_cmd(f, d.smart_inject()))
    })
}

/// An "ack shutdown count" command; NULL when not supported.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_cmd_new_ack_shutdown_count(
    dimm: *mut ndctl_dimm,
) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), |f| {
        // SAFETY: the export's contract: NULL or a live handle.
        let d = unsafe { arc_of(dimm) }?;
        Some(new_cmd(f, d.ack_shutdown_count()))
    })
}

/// Injections the DIMM accepts (`ND_SMART_INJECT_*`), or -ENOTTY / -EOPNOTSUPP / -EIO.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_smart_inject_supported(dimm: *mut ndctl_dimm) -> c_int {
    guard!(-libc::EINVAL, |f| {
        Some(match live!(dimm).smart_inject_supported() {
            Ok(bits) => c_int::try_from(bits).unwrap_or(c_int::MAX),
            Err(e) => {
                crate::log::call_log(::log::Level::Debug, f, format_args!("{e}"));
                e.errno()
            }
        })
    })
}

/// Submits a fresh SMART command for one of the DIMM-level getters; logs like libndctl
/// (`err` for health and event flags, `dbg` for flags).
fn smart_now(f: &'static str, dimm: *mut ndctl_dimm, loud: bool) -> Option<ndctl::Command> {
    // SAFETY: the export's contract: NULL or a live handle.
    let d = unsafe { arc_of(dimm) }?;
    let log = |msg: &str| {
        if loud {
            crate::log::call_log(
                ::log::Level::Error,
                f,
                format_args!("{}: {msg}", d.devname()),
            );
        } else {
            crate::log::call_log(
                ::log::Level::Debug,
                f,
                format_args!("{}: {msg}", d.devname()),
            );
        }
    };
    let Ok(mut cmd) = d.smart() else {
        log("no smart command support");
        return None;
    };
    match cmd.submit() {
        Ok(0) => Some(cmd),
        Ok(_) => {
            log("smart command failed");
            None
        }
        Err(e) => {
            log("smart command failed");
            set_errno(-e.errno());
            None
        }
    }
}

/// Health bits from a fresh SMART command; UINT_MAX when it cannot be had.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_health(dimm: *mut ndctl_dimm) -> c_uint {
    guard!(c_uint::MAX, |f| {
        let c = smart_now(f, dimm, true)?;
        Some(c.smart_health().unwrap_or(0))
    })
}

/// Valid-field bits from a fresh SMART command; UINT_MAX when it cannot be had.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_flags(dimm: *mut ndctl_dimm) -> c_uint {
    guard!(c_uint::MAX, |f| {
        let c = smart_now(f, dimm, false)?;
        Some(c.smart_flags().unwrap_or(0))
    })
}

/// Whether a fresh SMART command reports `flag` valid; 0 when it cannot be had.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_is_flag_supported(
    dimm: *mut ndctl_dimm,
    flag: c_uint,
) -> c_int {
    guard!(0, |f| {
        let c = smart_now(f, dimm, false)?;
        Some(c_int::from(c.smart_flags().unwrap_or(0) & flag != 0))
    })
}

/// `ND_EVENT_*` bits from a fresh SMART command's alarms and shutdown state; UINT_MAX
/// when it cannot be had.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_event_flags(dimm: *mut ndctl_dimm) -> c_uint {
    guard!(c_uint::MAX, |f| {
        let c = smart_now(f, dimm, true)?;
        let alarms = c.smart_alarm_flags().unwrap_or(c_uint::MAX);
        let mut events = 0;
        for (trip, event) in [(1 << 0, 1 << 0), (1 << 1, 1 << 1), (1 << 2, 1 << 2)] {
            if alarms & trip != 0 {
                events |= event;
            }
        }
        // Unclean shutdown (ND_EVENT_UNCLEAN_SHUTDOWN), as libndctl: any non-zero state,
        // and its "unknown" value counts too.
        if c.smart_shutdown_state().unwrap_or(c_uint::MAX) != 0 {
            events |= 1 << 4;
        }
        Some(events)
    })
}

/// The DIMM's health event descriptor (its `flags` attribute, opened once and kept for the
/// DIMM's life, to poll for health changes); -1 when there is none.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_health_eventfd(dimm: *mut ndctl_dimm) -> c_int {
    static EVENTFDS: Table<Option<File>> = Table::new();
    guard!(-1, |f| {
        // SAFETY: the export's contract: NULL or a live handle.
        let d = unsafe { arc_of(dimm) }?;
        Some(EVENTFDS.upsert(
            &d,
            || {
                d.open_health_events()
                    .map_err(|e| crate::log::call_log(::log::Level::Debug, f, format_args!("{e}")))
                    .ok()
            },
            |file| file.as_ref().map_or(-1, |fl| fl.as_raw_fd()),
        ))
    })
}

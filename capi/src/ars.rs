//! Address range scrub and clear error (group `ars / scrub / clear-error` of
//! `libndctl.tsv`).

use std::ffi::{c_int, c_uint, c_ulonglong};

use crate::cmd::{ndctl_cmd, new_cmd};
use crate::ctypes::ndctl_range;
use crate::handles::*;

/// The bus's scrub state, or the errno libndctl gives for it: EOPNOTSUPP without
/// `nfit/scrub`, ENXIO when it is unreadable or garbled.
fn scrub(bus: &ndctl::Bus) -> Result<ndctl::bus::ScrubState, c_int> {
    match bus.scrub_state() {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(libc::EOPNOTSUPP),
        Err(_) => Err(libc::ENXIO),
    }
}

/// An ARS capabilities command for `address`..`address + len`; NULL when the bus does
/// not offer `ars_cap`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_cmd_new_ars_cap(
    bus: *mut ndctl_bus, address: c_ulonglong, len: c_ulonglong,
) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), Some(new_cmd(live_arc!(bus).ars_cap(address, len))))
}

/// An ARS start of scrub `type` over a completed ARS cap's range; NULL when refused.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_cmd_new_ars_start(
    ars_cap: *mut ndctl_cmd, r#type: c_int,
) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), {
        let cap = live!(ars_cap).get();
        // Only the low 16 bits can name a scrub type; others match nothing.
        let ty = u16::try_from(r#type).unwrap_or(0);
        Some(new_cmd(cap.ars_start(ty)))
    })
}

/// An ARS status sized by a completed ARS cap; NULL when refused.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_cmd_new_ars_status(ars_cap: *mut ndctl_cmd) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), Some(new_cmd(live!(ars_cap).get().ars_status())))
}

/// A clear error for `address`..`address + len` inside a completed ARS cap's range,
/// aligned to its clear unit; NULL when refused.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_cmd_new_clear_error(
    address: c_ulonglong, len: c_ulonglong, ars_cap: *mut ndctl_cmd,
) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), Some(new_cmd(live!(ars_cap).get().clear_error(address, len))))
}

/// ARS status buffer size of a completed ARS cap; 0 otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_ars_cap_get_size(ars_cap: *mut ndctl_cmd) -> c_uint {
    guard!(0, Some(live!(ars_cap).get().ars_cap_size().unwrap_or(0)))
}

/// Fills `range` with a completed ARS cap's range: 0, or -EINVAL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_ars_cap_get_range(
    ars_cap: *mut ndctl_cmd, range: *mut ndctl_range,
) -> c_int {
    guard!(-libc::EINVAL, {
        let (address, length) = live!(ars_cap).get().ars_cap_range()?;
        // SAFETY: the export's contract: NULL or a writable struct ndctl_range.
        let out = unsafe { range.as_mut() }?;
        *out = ndctl_range { address, length };
        Some(0)
    })
}

/// Clear-error unit of a completed ARS cap; 0 otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_ars_cap_get_clear_unit(ars_cap: *mut ndctl_cmd) -> c_uint {
    guard!(0, Some(live!(ars_cap).get().ars_cap_clear_unit().unwrap_or(0)))
}

/// 1 while the platform still scrubs, per a valid ARS status; 0 otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_ars_in_progress(cmd: *mut ndctl_cmd) -> c_int {
    guard!(0, Some(c_int::from(live!(cmd).get().ars_in_progress())))
}

/// Error records of a valid ARS status (those that fit its buffer); 0 otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_ars_num_records(ars_stat: *mut ndctl_cmd) -> c_uint {
    guard!(0, Some(live!(ars_stat).get().ars_num_records().unwrap_or(0)))
}

/// Address of error record `rec_index`; 0 when there is none.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_ars_get_record_addr(
    ars_stat: *mut ndctl_cmd, rec_index: c_uint,
) -> c_ulonglong {
    guard!(0, Some(live!(ars_stat).get().ars_record(rec_index).map_or(0, |r| r.address)))
}

/// Length of error record `rec_index`; 0 when there is none.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_ars_get_record_len(
    ars_stat: *mut ndctl_cmd, rec_index: c_uint,
) -> c_ulonglong {
    guard!(0, Some(live!(ars_stat).get().ars_record(rec_index).map_or(0, |r| r.length)))
}

/// 1 when the platform had more error records than fit; -EINVAL for an invalid status.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_ars_stat_get_flag_overflow(ars_stat: *mut ndctl_cmd) -> c_int {
    guard!(-libc::EINVAL, live!(ars_stat).get().ars_overflow().map(c_int::from))
}

/// Bytes cleared by a completed clear error; 0 otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_clear_error_get_cleared(
    clear_err: *mut ndctl_cmd,
) -> c_ulonglong {
    guard!(0, Some(live!(clear_err).get().clear_error_cleared().unwrap_or(0)))
}

/// Completed scrubs (`nfit/scrub`); UINT_MAX with errno set when unknown.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_scrub_count(bus: *mut ndctl_bus) -> c_uint {
    guard!(c_uint::MAX, scrub(live!(bus)).map_or_else(crate::ffi::set_errno, |s| Some(s.count)))
}

/// 1 while a scrub runs, 0 when idle, -EOPNOTSUPP without `nfit/scrub`, -ENXIO when
/// garbled.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_get_scrub_state(bus: *mut ndctl_bus) -> c_int {
    guard!(-libc::EINVAL, Some(scrub(live!(bus)).map_or_else(|e| -e, |s| c_int::from(s.active))))
}

/// Asks the kernel for a scrub: 0 or -errno (-EOPNOTSUPP without an NFIT).
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_start_scrub(bus: *mut ndctl_bus) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(bus).request_scrub())))
}

/// Waits for a running scrub, re-reading every `poll_interval` seconds, at most
/// `timeout` seconds (0: forever): 0, -ETIMEDOUT or -errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_poll_scrub_completion(
    bus: *mut ndctl_bus, poll_interval: c_uint, timeout: c_uint,
) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(bus).poll_scrub_completion(poll_interval, timeout))))
}

/// Waits for a running scrub, however long: 0 or -errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_wait_for_scrub_completion(bus: *mut ndctl_bus) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(bus).wait_for_scrub_completion())))
}

//! The SMART / health exports on the nfit_test capture: which DIMMs get commands (the
//! Intel-family DIMMs whose `dsm_mask` offers them), what libndctl's getters and setters
//! return for commands that cannot reach a kernel (the capture's `/dev` nodes are
//! placeholders) or are in the wrong state, and NULL handling.

use std::ffi::{c_uint, CStr};
use std::ptr::null_mut;

use ndctl_capi::bus::*;
use ndctl_capi::cmd::*;
use ndctl_capi::ctx::*;
use ndctl_capi::dimm::*;
use ndctl_capi::handles::ndctl_dimm;
use ndctl_capi::smart::*;
use ndctl_testsupport::capi::{new_ctx, nfit_capture};

/// The DIMM named `name` of the context.
unsafe fn dimm(ctx: *mut ndctl_ctx, name: &str) -> *mut ndctl_dimm {
    // SAFETY: handles of the live context (the caller's contract).
    unsafe {
        let mut bus = ndctl_bus_get_first(ctx);
        while !bus.is_null() {
            let mut d = ndctl_dimm_get_first(bus);
            while !d.is_null() {
                if CStr::from_ptr(ndctl_dimm_get_devname(d)).to_str() == Ok(name) {
                    return d;
                }
                d = ndctl_dimm_get_next(d);
            }
            bus = ndctl_bus_get_next(bus);
        }
    }
    panic!("no {name}");
}

#[test]
fn smart_commands_on_the_nfit_test_capture() {
    let dir = nfit_capture("sysfs-01-dsm.tar.gz");
    let ctx = new_ctx(dir.path(), ndctl_new);
    // SAFETY: handles of the live context; every command is unreferenced once.
    unsafe {
        let d0 = dimm(ctx, "nmem0");
        let smart = ndctl_dimm_cmd_new_smart(d0);
        assert!(!smart.is_null());
        assert_eq!(ndctl_cmd_get_type(smart), 10, "ND_CMD_CALL");
        assert_eq!(ndctl_cmd_get_status(smart), 1);
        // Intel getters of a command that never completed: 0 for flags and health,
        // UINT_MAX for the values, NULL vendor data.
        assert_eq!(ndctl_cmd_smart_get_flags(smart), 0);
        assert_eq!(ndctl_cmd_smart_get_health(smart), 0);
        assert_eq!(ndctl_cmd_smart_get_temperature(smart), c_uint::MAX);
        assert_eq!(ndctl_cmd_smart_get_media_temperature(smart), c_uint::MAX);
        assert_eq!(ndctl_cmd_smart_get_ctrl_temperature(smart), c_uint::MAX);
        assert_eq!(ndctl_cmd_smart_get_spares(smart), c_uint::MAX);
        assert_eq!(ndctl_cmd_smart_get_alarm_flags(smart), c_uint::MAX);
        assert_eq!(ndctl_cmd_smart_get_life_used(smart), c_uint::MAX);
        assert_eq!(ndctl_cmd_smart_get_shutdown_state(smart), c_uint::MAX);
        assert_eq!(ndctl_cmd_smart_get_shutdown_count(smart), c_uint::MAX);
        assert_eq!(ndctl_cmd_smart_get_vendor_size(smart), c_uint::MAX);
        assert!(ndctl_cmd_smart_get_vendor_data(smart).is_null());
        // The capture's /dev/nmem0 is not the character device sysfs names.
        assert_eq!(ndctl_cmd_submit(smart), -libc::ENXIO);
        assert_eq!(ndctl_cmd_get_status(smart), -libc::ENXIO);
        assert_eq!(ndctl_cmd_smart_get_spares(smart), c_uint::MAX);
        // A SMART command is neither a threshold nor an injection request.
        assert!(ndctl_dimm_cmd_new_smart_set_threshold(smart).is_null());
        assert_eq!(ndctl_cmd_smart_threshold_get_alarm_control(smart), 0);
        assert_eq!(ndctl_cmd_smart_threshold_get_spares(smart), c_uint::MAX);
        assert_eq!(ndctl_cmd_smart_threshold_set_spares(smart, 1), -libc::EINVAL);
        assert_eq!(ndctl_cmd_smart_threshold_get_supported_alarms(smart), 0);
        assert_eq!(ndctl_cmd_smart_inject_fatal(smart, true), -libc::EINVAL);
        ndctl_cmd_unref(smart);

        let thresh = ndctl_dimm_cmd_new_smart_threshold(d0);
        assert!(!thresh.is_null());
        assert!(ndctl_dimm_cmd_new_smart_set_threshold(thresh).is_null(), "not completed");
        assert_eq!(ndctl_cmd_smart_threshold_get_temperature(thresh), c_uint::MAX);
        assert_eq!(ndctl_cmd_smart_threshold_get_media_temperature(thresh), c_uint::MAX);
        assert_eq!(ndctl_cmd_smart_threshold_get_ctrl_temperature(thresh), c_uint::MAX);
        assert_eq!(ndctl_cmd_smart_threshold_set_alarm_control(thresh, 1), -libc::EINVAL);
        assert_eq!(ndctl_cmd_smart_threshold_set_temperature(thresh, 1), -libc::EINVAL);
        assert_eq!(ndctl_cmd_smart_threshold_set_media_temperature(thresh, 1), -libc::EINVAL);
        assert_eq!(ndctl_cmd_smart_threshold_set_ctrl_temperature(thresh, 1), -libc::EINVAL);
        ndctl_cmd_unref(thresh);

        // Injection: values are recorded in the unsubmitted request; the Intel family has
        // no controller temperature injection (ndctl inject-smart -N reports ENXIO).
        assert_eq!(ndctl_dimm_smart_inject_supported(d0), 0x1f);
        let inj = ndctl_dimm_cmd_new_smart_inject(d0);
        assert!(!inj.is_null());
        assert_eq!(ndctl_cmd_smart_inject_media_temperature(inj, true, 52 * 16), 0);
        assert_eq!(ndctl_cmd_smart_inject_spares(inj, true, 7), 0);
        assert_eq!(ndctl_cmd_smart_inject_fatal(inj, false), 0);
        assert_eq!(ndctl_cmd_smart_inject_unsafe_shutdown(inj, true), 0);
        assert_eq!(ndctl_cmd_smart_inject_ctrl_temperature(inj, true, 0), -libc::ENXIO);
        assert_eq!(ndctl_cmd_submit(inj), -libc::ENXIO);
        assert_eq!(ndctl_cmd_smart_inject_spares(inj, true, 8), -libc::EINVAL);
        ndctl_cmd_unref(inj);

        let ack = ndctl_dimm_cmd_new_ack_shutdown_count(d0);
        assert!(!ack.is_null());
        assert_eq!(ndctl_cmd_submit_xlat(ack), -libc::ENXIO);
        ndctl_cmd_unref(ack);

        // Health helpers submit a SMART command each: they fail here.
        assert_eq!(ndctl_dimm_get_health(d0), c_uint::MAX);
        assert_eq!(ndctl_dimm_get_flags(d0), c_uint::MAX);
        assert_eq!(ndctl_dimm_get_event_flags(d0), c_uint::MAX);
        assert_eq!(ndctl_dimm_is_flag_supported(d0, 1), 0);
        let fd = ndctl_dimm_get_health_eventfd(d0);
        assert!(fd >= 0, "nfit/flags is readable in the capture");
        assert_eq!(ndctl_dimm_get_health_eventfd(d0), fd);

        // nfit_test.1's DIMMs offer none of the SMART functions (dsm_mask 0x470).
        let d4 = dimm(ctx, "nmem4");
        assert!(ndctl_dimm_cmd_new_smart(d4).is_null());
        assert!(ndctl_dimm_cmd_new_smart_threshold(d4).is_null());
        assert!(ndctl_dimm_cmd_new_smart_inject(d4).is_null());
        assert_eq!(ndctl_dimm_smart_inject_supported(d4), -libc::EIO);
        assert_eq!(ndctl_dimm_get_health(d4), c_uint::MAX);
        ndctl_unref(ctx);
    }
}

#[test]
fn null_arguments_are_refused() {
    // SAFETY: NULL is a valid argument of every export here.
    unsafe {
        let c: *mut ndctl_cmd = null_mut();
        let d: *mut ndctl_dimm = null_mut();
        assert!(ndctl_dimm_cmd_new_smart(d).is_null());
        assert!(ndctl_dimm_cmd_new_smart_threshold(d).is_null());
        assert!(ndctl_dimm_cmd_new_smart_set_threshold(c).is_null());
        assert!(ndctl_dimm_cmd_new_smart_inject(d).is_null());
        assert!(ndctl_dimm_cmd_new_ack_shutdown_count(d).is_null());
        assert_eq!(ndctl_cmd_smart_get_flags(c), c_uint::MAX);
        assert_eq!(ndctl_cmd_smart_get_shutdown_count(c), c_uint::MAX);
        assert!(ndctl_cmd_smart_get_vendor_data(c).is_null());
        assert_eq!(ndctl_cmd_smart_threshold_get_supported_alarms(c), c_uint::MAX);
        assert_eq!(ndctl_cmd_smart_threshold_set_spares(c, 1), -libc::EINVAL);
        assert_eq!(ndctl_cmd_smart_inject_fatal(c, true), -libc::EINVAL);
        assert_eq!(ndctl_dimm_smart_inject_supported(d), -libc::EINVAL);
        assert_eq!(ndctl_dimm_get_health_eventfd(d), -libc::EINVAL);
        assert_eq!(ndctl_dimm_get_health(d), c_uint::MAX);
        assert_eq!(ndctl_dimm_get_flags(d), c_uint::MAX);
        assert_eq!(ndctl_dimm_get_event_flags(d), c_uint::MAX);
        assert_eq!(ndctl_dimm_is_flag_supported(d, 1), 0);
    }
}

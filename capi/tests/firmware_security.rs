//! Firmware update, firmware activation and DIMM security through the C ABI on the
//! nfit_test capture taken after firmware commands ran (`sysfs-01-dsm`: bus 0 armed for
//! activation, its DIMMs with security and activation files; bus 1 without either).
//! The capture's `/dev` nodes are placeholders, so commands build as libndctl builds them
//! and then fail to submit with ENXIO; sysfs writes land in the unpacked files, where the
//! exact bytes libndctl writes are checked.

use std::ffi::{c_uint, c_ulonglong, CStr};
use std::fs;
use std::path::PathBuf;
use std::ptr::null_mut;
use std::time::{Duration, Instant};

use ndctl_capi::ars::*;
use ndctl_capi::bus::*;
use ndctl_capi::cmd::*;
use ndctl_capi::ctx::*;
use ndctl_capi::dimm::*;
use ndctl_capi::firmware::*;
use ndctl_capi::handles::{ndctl_bus, ndctl_dimm};
use ndctl_capi::security::*;
use ndctl_testsupport::capi::{new_ctx, nfit_capture};

const BUS0: &str = "sys/devices/platform/nfit_test.0/ndbus0";

fn capture_root() -> tempfile::TempDir {
    nfit_capture("sysfs-01-dsm.tar.gz")
}

unsafe fn bus_by_provider(ctx: *mut ndctl_ctx, provider: &str) -> *mut ndctl_bus {
    // SAFETY: live context and its buses.
    unsafe {
        let mut bus = ndctl_bus_get_first(ctx);
        while !bus.is_null() {
            let p = CStr::from_ptr(ndctl_bus_get_provider(bus)).to_string_lossy();
            if p == provider {
                return bus;
            }
            bus = ndctl_bus_get_next(bus);
        }
    }
    panic!("no bus {provider}");
}

unsafe fn dimm_by_name(bus: *mut ndctl_bus, name: &str) -> *mut ndctl_dimm {
    // SAFETY: live bus and its DIMMs.
    unsafe {
        let mut d = ndctl_dimm_get_first(bus);
        while !d.is_null() {
            if CStr::from_ptr(ndctl_dimm_get_devname(d)).to_string_lossy() == name {
                return d;
            }
            d = ndctl_dimm_get_next(d);
        }
    }
    panic!("no DIMM {name}");
}

/// Reads a stand-in sysfs file and empties it, so the next check sees one write.
fn take(path: &PathBuf) -> Vec<u8> {
    let v = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    fs::write(path, "").unwrap();
    v
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

#[test]
fn activation_state_method_and_result_as_the_kernel_wrote_them() {
    let dir = capture_root();
    let ctx = new_ctx(dir.path(), ndctl_new);
    // SAFETY: live handles of `ctx`.
    unsafe {
        let bus0 = bus_by_provider(ctx, "nfit_test.0");
        let bus1 = bus_by_provider(ctx, "nfit_test.1");
        assert_eq!(ndctl_bus_get_fw_activate_state(bus0), 2, "armed");
        assert_eq!(ndctl_bus_get_fw_activate_method(bus0), 1, "quiesce = suspend");
        assert_eq!(ndctl_bus_get_fw_activate_state(bus1), 0, "invalid");
        assert_eq!(ndctl_bus_get_fw_activate_method(bus1), 0, "reset");
        let nmem0 = dimm_by_name(bus0, "nmem0");
        let nmem4 = dimm_by_name(bus1, "nmem4");
        assert_eq!(ndctl_dimm_get_fw_activate_state(nmem0), 1, "idle");
        assert_eq!(ndctl_dimm_get_fw_activate_result(nmem0), 1, "none");
        assert_eq!(ndctl_dimm_get_fw_activate_state(nmem4), 0);
        assert_eq!(ndctl_dimm_get_fw_activate_result(nmem4), 0);
        assert_eq!(ndctl_dimm_fw_update_supported(nmem0), 0);
        assert_eq!(ndctl_dimm_fw_update_supported(nmem4), -libc::EIO);

        // Garbage is no state.
        let state = dir.path().join(BUS0).join("firmware/activate");
        fs::write(&state, "sideways\n").unwrap();
        assert_eq!(ndctl_bus_get_fw_activate_state(bus0), 0);
        fs::write(&state, "overflow\n").unwrap();
        assert_eq!(ndctl_bus_get_fw_activate_state(bus0), 4);
        ndctl_unref(ctx);
    }
}

#[test]
fn activation_writes_what_libndctl_writes() {
    let dir = capture_root();
    let bus_activate = dir.path().join(BUS0).join("firmware/activate");
    let noidle = dir.path().join(BUS0).join("nfit/firmware_activate_noidle");
    let dimm_activate = dir.path().join(BUS0).join("nmem0/firmware/activate");
    let ctx = new_ctx(dir.path(), ndctl_new);
    // SAFETY: live handles of `ctx`.
    unsafe {
        let bus0 = bus_by_provider(ctx, "nfit_test.0");
        let bus1 = bus_by_provider(ctx, "nfit_test.1");
        fs::write(&bus_activate, "").unwrap();
        assert_eq!(ndctl_bus_activate_firmware(bus0, 2), 0);
        assert_eq!(take(&bus_activate), b"live\n\0");
        assert_eq!(ndctl_bus_activate_firmware(bus0, 1), 0);
        assert_eq!(take(&bus_activate), b"quiesce\n\0");
        assert_eq!(ndctl_bus_activate_firmware(bus0, 0), -libc::EINVAL);
        assert_eq!(ndctl_bus_activate_firmware(bus0, 77), -libc::EINVAL);
        assert!(take(&bus_activate).is_empty());
        assert_eq!(ndctl_bus_activate_firmware(bus1, 2), -libc::ENOENT);

        fs::write(&noidle, "").unwrap();
        assert_eq!(ndctl_bus_set_fw_activate_noidle(bus0), 0);
        assert_eq!(take(&noidle), b"1\n\0");
        assert_eq!(ndctl_bus_clear_fw_activate_noidle(bus0), 0);
        assert_eq!(take(&noidle), b"0\n\0");
        // Linux 6.1 has no nosuspend switch; bus 1 has an NFIT but no switches either.
        assert_eq!(ndctl_bus_set_fw_activate_nosuspend(bus0), -libc::ENOENT);
        assert_eq!(ndctl_bus_clear_fw_activate_nosuspend(bus0), -libc::ENOENT);
        assert_eq!(ndctl_bus_set_fw_activate_noidle(bus1), -libc::ENOENT);

        let nmem0 = dimm_by_name(bus0, "nmem0");
        fs::write(&dimm_activate, "idle").unwrap();
        assert_eq!(ndctl_dimm_fw_activate_arm(nmem0), 2);
        assert_eq!(take(&dimm_activate), b"arm\0");
        fs::write(&dimm_activate, "armed").unwrap();
        // libndctl reports a successful disarm as NDCTL_FWA_ARMED too.
        assert_eq!(ndctl_dimm_fw_activate_disarm(nmem0), 2);
        assert_eq!(take(&dimm_activate), b"disarm\0");
        // An empty file is no activation state: libndctl refuses without writing.
        assert_eq!(ndctl_dimm_fw_activate_arm(nmem0), 0);
        assert!(take(&dimm_activate).is_empty());
        let nmem4 = dimm_by_name(bus1, "nmem4");
        assert_eq!(ndctl_dimm_fw_activate_arm(nmem4), 0);
        assert_eq!(ndctl_dimm_fw_activate_disarm(nmem4), 0);
        ndctl_unref(ctx);
    }
}

#[test]
fn firmware_update_commands_build_and_fail_to_submit_like_libndctl() {
    let dir = capture_root();
    let ctx = new_ctx(dir.path(), ndctl_new);
    // SAFETY: live handles of `ctx`; every command is released.
    unsafe {
        let bus0 = bus_by_provider(ctx, "nfit_test.0");
        let bus1 = bus_by_provider(ctx, "nfit_test.1");
        let nmem0 = dimm_by_name(bus0, "nmem0");
        let nmem4 = dimm_by_name(bus1, "nmem4");
        // nfit_test.1's DIMMs offer no firmware function.
        assert!(ndctl_dimm_cmd_new_fw_get_info(nmem4).is_null());
        assert!(ndctl_dimm_cmd_new_fw_start_update(nmem4).is_null());

        let info = ndctl_dimm_cmd_new_fw_get_info(nmem0);
        assert!(!info.is_null());
        assert_eq!(ndctl_cmd_get_type(info), 10, "ND_CMD_CALL");
        assert_eq!(ndctl_cmd_get_status(info), 1, "built");
        assert_eq!(ndctl_cmd_submit(info), -libc::ENXIO);
        assert_eq!(ndctl_cmd_get_status(info), -libc::ENXIO);
        // Getters of a command that did not complete: all ones, errno EINVAL.
        assert_eq!(ndctl_cmd_fw_info_get_storage_size(info), c_uint::MAX);
        assert_eq!(errno(), libc::EINVAL);
        assert_eq!(ndctl_cmd_fw_info_get_max_send_len(info), c_uint::MAX);
        assert_eq!(ndctl_cmd_fw_info_get_query_interval(info), c_uint::MAX);
        assert_eq!(ndctl_cmd_fw_info_get_max_query_time(info), c_uint::MAX);
        assert_eq!(ndctl_cmd_fw_info_get_run_version(info), c_ulonglong::MAX);
        assert_eq!(ndctl_cmd_fw_info_get_updated_version(info), c_ulonglong::MAX);
        // The wrong getter for the command kind: all ones as well.
        assert_eq!(ndctl_cmd_fw_start_get_context(info), c_uint::MAX);
        assert_eq!(ndctl_cmd_fw_fquery_get_fw_rev(info), c_ulonglong::MAX);
        // The untouched status word reads as success, as in libndctl.
        assert_eq!(ndctl_cmd_fw_xlat_firmware_status(info), 0);
        ndctl_cmd_unref(info);

        let start = ndctl_dimm_cmd_new_fw_start_update(nmem0);
        assert!(!start.is_null());
        assert_eq!(ndctl_cmd_submit(start), -libc::ENXIO);
        assert_eq!(ndctl_cmd_fw_start_get_context(start), c_uint::MAX);
        let data = [0x5au8; 16];
        let send = ndctl_dimm_cmd_new_fw_send(start, 0, 16, data.as_ptr().cast_mut().cast());
        assert!(!send.is_null());
        assert_eq!(ndctl_cmd_get_type(send), 10);
        // A length with no data is refused instead of read from NULL.
        assert!(ndctl_dimm_cmd_new_fw_send(start, 0, 16, null_mut()).is_null());
        let finish = ndctl_dimm_cmd_new_fw_finish(start);
        let abort = ndctl_dimm_cmd_new_fw_abort(start);
        let query = ndctl_dimm_cmd_new_fw_finish_query(start);
        for c in [send, finish, abort, query] {
            assert!(!c.is_null());
            assert_eq!(ndctl_cmd_submit(c), -libc::ENXIO);
            assert_eq!(ndctl_cmd_fw_xlat_firmware_status(c), 0);
            ndctl_cmd_unref(c);
        }
        // Only a start command leads to the later steps.
        let info = ndctl_dimm_cmd_new_fw_get_info(nmem0);
        assert!(ndctl_dimm_cmd_new_fw_finish(info).is_null());
        assert!(ndctl_dimm_cmd_new_fw_send(info, 0, 0, null_mut()).is_null());
        ndctl_cmd_unref(info);
        ndctl_cmd_unref(start);

        // A bus command has no firmware getters (libndctl answers 0) and an unknown
        // firmware update status.
        let cap = ndctl_bus_cmd_new_ars_cap(bus0, 0, 4096);
        assert!(!cap.is_null());
        assert_eq!(ndctl_cmd_fw_info_get_storage_size(cap), 0);
        assert_eq!(ndctl_cmd_fw_start_get_context(cap), 0);
        assert_eq!(ndctl_cmd_fw_fquery_get_fw_rev(cap), 0);
        assert_eq!(ndctl_cmd_fw_xlat_firmware_status(cap), 6, "FW_EUNKNOWN");
        assert!(ndctl_dimm_cmd_new_fw_finish(cap).is_null());
        ndctl_cmd_unref(cap);
        ndctl_unref(ctx);
    }
}

#[test]
fn security_state_and_commands() {
    let dir = capture_root();
    let security = dir.path().join(BUS0).join("nmem1/security");
    let frozen = dir.path().join(BUS0).join("nmem1/frozen");
    let ctx = new_ctx(dir.path(), ndctl_new);
    // SAFETY: live handles of `ctx`.
    unsafe {
        let bus0 = bus_by_provider(ctx, "nfit_test.0");
        let bus1 = bus_by_provider(ctx, "nfit_test.1");
        let nmem1 = dimm_by_name(bus0, "nmem1");
        let nmem4 = dimm_by_name(bus1, "nmem4");
        assert_eq!(ndctl_dimm_get_security(nmem1), 0, "disabled");
        assert!(!ndctl_dimm_security_is_frozen(nmem1));
        assert_eq!(ndctl_dimm_get_security(nmem4), -1, "no security file");
        assert!(!ndctl_dimm_security_is_frozen(nmem4));
        for (text, want) in [
            ("unlocked\n", 1),
            ("locked\n", 2),
            ("frozen\n", 3),
            ("overwrite\n", 4),
            ("what\n", -1),
        ] {
            fs::write(&security, text).unwrap();
            assert_eq!(ndctl_dimm_get_security(nmem1), want, "{text:?}");
        }
        fs::write(&security, "frozen\n").unwrap();
        assert!(ndctl_dimm_security_is_frozen(nmem1));
        fs::write(&security, "unlocked\n").unwrap();
        fs::write(&frozen, "1\n").unwrap();
        assert!(ndctl_dimm_security_is_frozen(nmem1));
        fs::write(&frozen, "0\n").unwrap();
        assert!(!ndctl_dimm_security_is_frozen(nmem1));

        fs::write(&security, "").unwrap();
        assert_eq!(ndctl_dimm_update_passphrase(nmem1, 0, 1234), 0);
        assert_eq!(take(&security), b"update 0 1234\n\0");
        assert_eq!(ndctl_dimm_disable_passphrase(nmem1, 1234), 0);
        assert_eq!(take(&security), b"disable 1234\n\0");
        assert_eq!(ndctl_dimm_disable_master_passphrase(nmem1, 99), 0);
        assert_eq!(take(&security), b"disable_master 99\n\0");
        assert_eq!(ndctl_dimm_freeze_security(nmem1), 0);
        assert_eq!(take(&security), b"freeze\0");
        assert_eq!(ndctl_dimm_secure_erase(nmem1, 5), 0);
        assert_eq!(take(&security), b"erase 5\n\0");
        assert_eq!(ndctl_dimm_overwrite(nmem1, 6), 0);
        assert_eq!(take(&security), b"overwrite 6\n\0");
        assert_eq!(ndctl_dimm_update_master_passphrase(nmem1, 7, 8), 0);
        assert_eq!(take(&security), b"master_update 7 8\n\0");
        assert_eq!(ndctl_dimm_master_secure_erase(nmem1, -3), 0);
        assert_eq!(take(&security), b"master_erase -3\n\0");

        // No security file: the open fails and nothing is created.
        assert_eq!(ndctl_dimm_freeze_security(nmem4), -libc::ENOENT);
        assert_eq!(ndctl_dimm_overwrite(nmem4, 1), -libc::ENOENT);
        assert_eq!(ndctl_dimm_wait_overwrite(nmem4), -libc::ENOENT);
        assert!(!dir.path().join(BUS0).join("../../nfit_test.1/ndbus1/nmem4/security").exists());
        ndctl_unref(ctx);
    }
}

#[test]
fn wait_overwrite_reports_how_it_ended() {
    let dir = capture_root();
    let security = dir.path().join(BUS0).join("nmem2/security");
    let ctx = new_ctx(dir.path(), ndctl_new);
    // SAFETY: live handles of `ctx`.
    unsafe {
        let bus0 = bus_by_provider(ctx, "nfit_test.0");
        let nmem2 = dimm_by_name(bus0, "nmem2");
        // Nothing running: 0 at once.
        assert_eq!(ndctl_dimm_wait_overwrite(nmem2), 0);
        for (end, want) in [("disabled\n", 1), ("locked\n", 0)] {
            fs::write(&security, "overwrite\n").unwrap();
            let path = security.clone();
            let writer = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(200));
                let tmp = path.with_file_name(".security.new");
                fs::write(&tmp, end).unwrap();
                fs::rename(&tmp, &path).unwrap();
            });
            let began = Instant::now();
            assert_eq!(ndctl_dimm_wait_overwrite(nmem2), want, "{end:?}");
            assert!(began.elapsed() >= Duration::from_millis(150));
            writer.join().unwrap();
        }
        ndctl_unref(ctx);
    }
}

/// libndctl dereferences a NULL object; here each export answers with its "invalid"
/// value instead (the enum's INVALID / RESET / UNKNOWN member, all ones, NULL, -EINVAL).
#[test]
fn null_objects_give_the_error_values() {
    // SAFETY: NULL is a valid argument of every export here.
    unsafe {
        let cmd: *mut ndctl_cmd = null_mut();
        let bus: *mut ndctl_bus = null_mut();
        let dimm: *mut ndctl_dimm = null_mut();
        assert!(ndctl_dimm_cmd_new_fw_get_info(dimm).is_null());
        assert!(ndctl_dimm_cmd_new_fw_start_update(dimm).is_null());
        assert!(ndctl_dimm_cmd_new_fw_send(cmd, 0, 0, null_mut()).is_null());
        assert!(ndctl_dimm_cmd_new_fw_finish(cmd).is_null());
        assert!(ndctl_dimm_cmd_new_fw_abort(cmd).is_null());
        assert!(ndctl_dimm_cmd_new_fw_finish_query(cmd).is_null());
        assert_eq!(ndctl_cmd_fw_info_get_storage_size(cmd), c_uint::MAX);
        assert_eq!(ndctl_cmd_fw_info_get_run_version(cmd), c_ulonglong::MAX);
        assert_eq!(ndctl_cmd_fw_start_get_context(cmd), c_uint::MAX);
        assert_eq!(ndctl_cmd_fw_fquery_get_fw_rev(cmd), c_ulonglong::MAX);
        assert_eq!(ndctl_cmd_fw_xlat_firmware_status(cmd), 6, "FW_EUNKNOWN");
        assert_eq!(ndctl_dimm_fw_update_supported(dimm), -libc::EINVAL);
        assert_eq!(ndctl_bus_get_fw_activate_state(bus), 0, "NDCTL_FWA_INVALID");
        assert_eq!(ndctl_bus_get_fw_activate_method(bus), 0, "NDCTL_FWA_METHOD_RESET");
        assert_eq!(ndctl_bus_activate_firmware(bus, 2), -libc::EINVAL);
        assert_eq!(ndctl_bus_set_fw_activate_noidle(bus), -libc::EINVAL);
        assert_eq!(ndctl_bus_clear_fw_activate_nosuspend(bus), -libc::EINVAL);
        assert_eq!(ndctl_dimm_get_fw_activate_state(dimm), 0);
        assert_eq!(ndctl_dimm_get_fw_activate_result(dimm), 0);
        assert_eq!(ndctl_dimm_fw_activate_arm(dimm), 0);
        assert_eq!(ndctl_dimm_fw_activate_disarm(dimm), 0);
        assert_eq!(ndctl_dimm_get_security(dimm), -1, "NDCTL_SECURITY_INVALID");
        assert!(!ndctl_dimm_security_is_frozen(dimm));
        assert_eq!(ndctl_dimm_update_passphrase(dimm, 1, 2), -libc::EINVAL);
        assert_eq!(ndctl_dimm_freeze_security(dimm), -libc::EINVAL);
        assert_eq!(ndctl_dimm_wait_overwrite(dimm), -libc::EINVAL);
        assert_eq!(ndctl_dimm_master_secure_erase(dimm, 1), -libc::EINVAL);
    }
}

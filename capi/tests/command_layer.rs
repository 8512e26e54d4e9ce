//! The command layer through its C ABI on the nfit_test capture: badblock iterators over
//! the kernel's `badblocks` files, scrub state, error-injection support, and libndctl's
//! results for commands that cannot reach a kernel (placeholder `/dev` nodes) or that are
//! built from commands that never completed.

use std::ffi::{c_int, c_uint, CStr};
use std::fs;
use std::ptr::null_mut;

use ndctl_capi::ars::*;
use ndctl_capi::badblock::*;
use ndctl_capi::bus::*;
use ndctl_capi::cmd::*;
use ndctl_capi::ctx::*;
use ndctl_capi::ctypes::{badblock, ndctl_range};
use ndctl_capi::dimm::*;
use ndctl_capi::handles::ndctl_bus;
use ndctl_capi::namespace::*;
use ndctl_capi::region::*;
use ndctl_testsupport::capi::{new_ctx, nfit_capture};

fn capture_root() -> tempfile::TempDir {
    let dir = nfit_capture("sysfs-02-namespaces.tar.gz");
    let put = |rel: &str, text: &str| fs::write(dir.path().join(rel), text).unwrap();
    put("sys/devices/platform/nfit_test.0/ndbus0/region0/badblocks", "8 1\n4096 16\n");
    put(
        "sys/devices/platform/nfit_test.0/ndbus0/region0/namespace0.0/block/pmem0/badblocks",
        "0 8\n",
    );
    dir
}

unsafe fn name(p: *const std::ffi::c_char) -> String {
    // SAFETY: the caller passes a NUL-terminated string from the library.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

unsafe fn collect(
    first: impl Fn() -> *mut badblock, next: impl Fn() -> *mut badblock,
) -> Vec<(u64, u32)> {
    let mut v = Vec::new();
    let mut bb = first();
    while !bb.is_null() {
        // SAFETY: a non-NULL badblock from the library, valid until the next call.
        let b = unsafe { *bb };
        v.push((b.offset, b.len));
        bb = next();
        assert!(v.len() < 100, "iteration does not end");
    }
    v
}

#[test]
fn badblock_iterators_read_the_kernel_lists() {
    let dir = capture_root();
    let ctx = new_ctx(dir.path(), ndctl_new);
    // SAFETY: handles of the live context.
    unsafe {
        let mut checked = 0;
        let mut bus = ndctl_bus_get_first(ctx);
        while !bus.is_null() {
            let mut region = ndctl_region_get_first(bus);
            while !region.is_null() {
                let rname = name(ndctl_region_get_devname(region));
                // Twice: first_badblock restarts the iteration.
                for _ in 0..2 {
                    let got = collect(
                        || ndctl_region_get_first_badblock(region),
                        || ndctl_region_get_next_badblock(region),
                    );
                    let want = if rname == "region0"
                        && name(ndctl_bus_get_provider(bus)) == "nfit_test.0"
                    {
                        vec![(8, 1), (4096, 16)]
                    } else {
                        vec![]
                    };
                    assert_eq!(got, want, "{rname}");
                    checked += 1;
                }
                assert!(ndctl_region_get_next_badblock(region).is_null(), "exhausted");
                let mut ns = ndctl_namespace_get_first(region);
                while !ns.is_null() {
                    let nname = name(ndctl_namespace_get_devname(ns));
                    let got = collect(
                        || ndctl_namespace_get_first_badblock(ns),
                        || ndctl_namespace_get_next_badblock(ns),
                    );
                    let want = if nname == "namespace0.0" && rname == "region0" {
                        vec![(0, 8)]
                    } else {
                        vec![]
                    };
                    assert_eq!(got, want, "{nname}");
                    ns = ndctl_namespace_get_next(ns);
                }
                region = ndctl_region_get_next(region);
            }
            bus = ndctl_bus_get_next(bus);
        }
        assert!(checked >= 8);
        ndctl_unref(ctx);
    }
}

#[test]
fn commands_fail_as_libndctl_without_a_kernel() {
    let dir = capture_root();
    let ctx = new_ctx(dir.path(), ndctl_new);
    // SAFETY: handles of the live context; commands are unreferenced once.
    unsafe {
        let bus0 = ndctl_bus_get_by_provider(ctx, c"nfit_test.0".as_ptr());
        let bus1 = ndctl_bus_get_by_provider(ctx, c"nfit_test.1".as_ptr());
        assert!(!bus0.is_null() && !bus1.is_null());
        assert_eq!(ndctl_bus_has_error_injection(bus0), 1);
        assert_eq!(ndctl_bus_has_error_injection(bus1), 0);
        assert_eq!(ndctl_bus_get_scrub_count(bus0), 5);
        assert_eq!(ndctl_bus_get_scrub_state(bus0), 0);
        assert_eq!(ndctl_bus_wait_for_scrub_completion(bus0), 0);

        // ARS cap: built (status 1), submission fails on the placeholder node with ENXIO.
        let cap = ndctl_bus_cmd_new_ars_cap(bus0, 0, 1 << 30);
        assert!(!cap.is_null());
        assert_eq!(ndctl_cmd_get_type(cap), 1);
        assert_eq!(ndctl_cmd_get_status(cap), 1);
        assert_eq!(ndctl_cmd_get_firmware_status(cap), 0);
        assert_eq!(ndctl_cmd_submit(cap), -libc::ENXIO);
        assert_eq!(ndctl_cmd_get_status(cap), -libc::ENXIO);
        assert_eq!(ndctl_cmd_submit_xlat(cap), -libc::ENXIO);
        let mut range = ndctl_range::default();
        assert_eq!(ndctl_cmd_ars_cap_get_range(cap, &mut range), -libc::EINVAL);
        assert_eq!(ndctl_cmd_ars_cap_get_clear_unit(cap), 0);
        assert_eq!(ndctl_cmd_ars_cap_get_size(cap), 0);
        // Nothing can be derived from a failed cap.
        assert!(ndctl_bus_cmd_new_ars_start(cap, 2).is_null());
        assert!(ndctl_bus_cmd_new_ars_status(cap).is_null());
        assert!(ndctl_bus_cmd_new_clear_error(0, 4096, cap).is_null());
        assert_eq!(ndctl_cmd_clear_error_get_cleared(cap), 0);
        assert_eq!(ndctl_cmd_ars_num_records(cap), 0);
        assert_eq!(ndctl_cmd_ars_in_progress(cap), 0);
        assert_eq!(ndctl_cmd_ars_stat_get_flag_overflow(cap), -libc::EINVAL);
        ndctl_cmd_ref(cap);
        ndctl_cmd_unref(cap);
        ndctl_cmd_unref(cap);

        // Error injection needs the ARS cap, which fails the same way.
        let region = ndctl_region_get_first(bus0);
        let ns = ndctl_namespace_get_first(region);
        assert!(!ns.is_null());
        assert!(ndctl_namespace_inject_error2(ns, 0, 1, 0) < 0);
        assert!(ndctl_namespace_uninject_error(ns, 0, 1) < 0);
        assert!(ndctl_namespace_injection_status(ns) < 0);
        assert!(ndctl_namespace_injection_get_first_bb(ns).is_null());
        assert_eq!(ndctl_bb_get_block(null_mut()), u64::MAX);
        assert_eq!(ndctl_bb_get_count(null_mut()), u64::MAX);
        let ns1 = ndctl_namespace_get_first(ndctl_region_get_first(bus1));
        assert_eq!(ndctl_namespace_inject_error(ns1, 0, 1, false), -libc::EOPNOTSUPP);
        assert_eq!(ndctl_namespace_injection_status(ns1), -libc::EOPNOTSUPP);

        // Label area of a DIMM: config size fails to submit, so no read is possible.
        let dimm = ndctl_dimm_get_first(bus0);
        let size = ndctl_dimm_cmd_new_cfg_size(dimm);
        assert!(!size.is_null());
        assert_eq!(ndctl_cmd_get_type(size), 4);
        assert_eq!(ndctl_cmd_submit_xlat(size), -libc::ENXIO);
        assert_eq!(ndctl_cmd_cfg_size_get_size(size), 0);
        assert!(ndctl_dimm_cmd_new_cfg_read(size).is_null());
        assert!(ndctl_dimm_cmd_new_cfg_write(size).is_null());
        assert_eq!(ndctl_cmd_cfg_read_set_extent(size, 8, 0), -libc::EINVAL);
        let mut buf = [0u8; 8];
        assert_eq!(
            ndctl_cmd_cfg_read_get_data(size, buf.as_mut_ptr().cast(), 8, 0),
            -(libc::EINVAL as isize)
        );
        ndctl_cmd_unref(size);
        assert!(ndctl_dimm_read_labels(dimm).is_null());
        assert!(ndctl_dimm_read_label_index(dimm).is_null());
        assert!(ndctl_dimm_read_label_extent(dimm, 256, 0).is_null());
        assert_eq!(ndctl_dimm_zero_labels(dimm), -libc::EINVAL);
        // No label area was read, so there is no label state.
        assert_eq!(ndctl_dimm_validate_labels(dimm), -libc::EINVAL);
        assert_eq!(ndctl_dimm_init_labels(dimm, 1), -libc::EINVAL);
        assert_eq!(ndctl_dimm_init_labels(dimm, 7), -libc::EINVAL);
        assert_eq!(ndctl_dimm_sizeof_namespace_label(dimm), 128);
        assert_eq!(ndctl_dimm_sizeof_namespace_index(dimm), 0);
        // nfit_test DIMMs do not offer the vendor pass-through.
        assert!(ndctl_dimm_cmd_new_vendor_specific(dimm, 1, 8, 8).is_null());
        let avail: std::ffi::c_ulong = ndctl_dimm_get_available_labels(dimm);
        assert_ne!(avail, std::ffi::c_ulong::MAX);
        ndctl_unref(ctx);
    }
}

#[test]
fn null_commands_are_refused_without_crashing() {
    // SAFETY: NULL is a valid argument of every export here.
    unsafe {
        let null: *mut ndctl_cmd = null_mut();
        assert_eq!(ndctl_cmd_submit(null), -libc::EINVAL);
        assert_eq!(ndctl_cmd_get_status(null), -libc::EINVAL);
        assert_eq!(ndctl_cmd_get_firmware_status(null), c_uint::MAX);
        ndctl_cmd_ref(null);
        ndctl_cmd_unref(null);
        assert!(ndctl_bus_cmd_new_ars_cap(null_mut(), 0, 0).is_null());
        assert!(ndctl_bus_cmd_new_clear_error(0, 0, null).is_null());
        assert_eq!(ndctl_cmd_ars_cap_get_range(null, null_mut()), -libc::EINVAL);
        assert_eq!(ndctl_cmd_clear_error_get_cleared(null), 0);
        assert!(ndctl_region_get_first_badblock(null_mut()).is_null());
        assert!(ndctl_namespace_get_next_badblock(null_mut()).is_null());
        let rc: c_int = ndctl_bus_start_scrub(null_mut());
        assert_eq!(rc, -libc::EINVAL);
    }
}

/// A context on `dir`, its log silenced (the tests that call this fail commands on
/// purpose, and each failure would log), and its `nfit_test.0` bus.
fn quiet_nfit_bus(dir: &tempfile::TempDir) -> (*mut ndctl_ctx, *mut ndctl_bus) {
    let ctx = new_ctx(dir.path(), ndctl_new);
    // SAFETY: a live context; the provider name is a C string.
    unsafe {
        ndctl_set_log_priority(ctx, 0);
        (ctx, ndctl_bus_get_by_provider(ctx, c"nfit_test.0".as_ptr()))
    }
}

fn open_fds() -> usize {
    fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn iterating_and_submitting_use_no_lasting_descriptors() {
    let dir = capture_root();
    // 200 failing submissions would each log an error.
    let (ctx, bus) = quiet_nfit_bus(&dir);
    // SAFETY: handles of the live context; commands are unreferenced once.
    unsafe {
        let region = ndctl_region_get_first(bus);
        let _warm = ndctl_region_get_first_badblock(region);
        let before = open_fds();
        for _ in 0..200 {
            // Abandoned half-way: libndctl would keep its FILE open until the next first().
            assert!(!ndctl_region_get_first_badblock(region).is_null());
            let cap = ndctl_bus_cmd_new_ars_cap(bus, 0, 4096);
            assert_eq!(ndctl_cmd_submit(cap), -libc::ENXIO);
            ndctl_cmd_unref(cap);
        }
        // Other tests of this binary may open files meanwhile; allow a little slack.
        assert!(open_fds() <= before + 4, "descriptors grow: {before} -> {}", open_fds());
        ndctl_unref(ctx);
    }
}

#[test]
fn security_through_the_c_abi() {
    use ndctl_capi::security::*;
    let dir = capture_root();
    let ctx = new_ctx(dir.path(), ndctl_new);
    let attr = dir.path().join("sys/devices/platform/nfit_test.0/ndbus0/nmem0/security");
    // SAFETY: handles of the live context.
    unsafe {
        let bus = ndctl_bus_get_by_provider(ctx, c"nfit_test.0".as_ptr());
        let mut dimm = ndctl_dimm_get_first(bus);
        while name(ndctl_dimm_get_devname(dimm)) != "nmem0" {
            dimm = ndctl_dimm_get_next(dimm);
        }
        assert_eq!(ndctl_dimm_get_security(dimm), 0, "disabled");
        assert!(!ndctl_dimm_security_is_frozen(dimm));
        assert_eq!(ndctl_dimm_wait_overwrite(dimm), 0, "no overwrite running");
        assert_eq!(ndctl_dimm_update_passphrase(dimm, 1, 2), 0);
        assert!(fs::read_to_string(&attr).unwrap().starts_with("update 1 2\n"));
        assert_eq!(ndctl_dimm_freeze_security(dimm), 0);
        fs::write(&attr, "frozen\n").unwrap();
        assert_eq!(ndctl_dimm_get_security(dimm), 3);
        assert!(ndctl_dimm_security_is_frozen(dimm));
        fs::write(&attr, "bogus\n").unwrap();
        assert_eq!(ndctl_dimm_get_security(dimm), -1, "NDCTL_SECURITY_INVALID");
        assert_eq!(ndctl_dimm_wait_overwrite(dimm), -libc::EOPNOTSUPP);
        fs::remove_file(&attr).unwrap();
        assert!(ndctl_dimm_secure_erase(dimm, 5) < 0, "no security attribute");
        assert_eq!(ndctl_dimm_get_security(null_mut()), -1);
        assert_eq!(ndctl_dimm_overwrite(null_mut(), 1), -libc::EINVAL);
        ndctl_unref(ctx);
    }
}

#[test]
fn firmware_activation_through_the_c_abi() {
    use ndctl_capi::firmware::*;
    let dir = capture_root();
    let ctx = new_ctx(dir.path(), ndctl_new);
    let base = dir.path().join("sys/devices/platform/nfit_test.0/ndbus0");
    // SAFETY: handles of the live context; commands are unreferenced once.
    unsafe {
        let bus = ndctl_bus_get_by_provider(ctx, c"nfit_test.0".as_ptr());
        assert_eq!(ndctl_bus_get_fw_activate_state(bus), 2, "armed (captured)");
        assert_eq!(ndctl_bus_get_fw_activate_method(bus), 1, "quiesce = suspend");
        assert_eq!(ndctl_bus_activate_firmware(bus, 0), -libc::EINVAL, "reset");
        assert_eq!(ndctl_bus_activate_firmware(bus, 2), 0);
        assert!(fs::read_to_string(base.join("firmware/activate")).unwrap().starts_with("live\n"));
        assert_eq!(ndctl_bus_set_fw_activate_noidle(bus), 0);
        assert!(fs::read_to_string(base.join("nfit/firmware_activate_noidle"))
            .unwrap()
            .starts_with("1\n"));
        let mut dimm = ndctl_dimm_get_first(bus);
        while name(ndctl_dimm_get_devname(dimm)) != "nmem0" {
            dimm = ndctl_dimm_get_next(dimm);
        }
        assert_eq!(ndctl_dimm_get_fw_activate_state(dimm), 1, "idle");
        assert_eq!(ndctl_dimm_get_fw_activate_result(dimm), 1, "none");
        assert_eq!(ndctl_dimm_fw_activate_arm(dimm), 2, "armed");
        assert!(fs::read_to_string(base.join("nmem0/firmware/activate"))
            .unwrap()
            .starts_with("arm"));
        assert_eq!(ndctl_dimm_fw_update_supported(dimm), 0);
        // Update commands build, and fail to submit on the placeholder node.
        let info = ndctl_dimm_cmd_new_fw_get_info(dimm);
        assert!(!info.is_null());
        assert_eq!(ndctl_cmd_submit(info), -libc::ENXIO);
        assert_eq!(ndctl_cmd_fw_info_get_storage_size(info), c_uint::MAX);
        assert_eq!(ndctl_cmd_fw_info_get_run_version(info), u64::MAX);
        ndctl_cmd_unref(info);
        let start = ndctl_dimm_cmd_new_fw_start_update(dimm);
        assert!(!start.is_null());
        let mut chunk = [0u8; 16];
        let send = ndctl_dimm_cmd_new_fw_send(start, 0, 16, chunk.as_mut_ptr().cast());
        assert!(!send.is_null());
        assert_eq!(ndctl_cmd_fw_start_get_context(start), c_uint::MAX, "not submitted");
        ndctl_cmd_unref(send);
        ndctl_cmd_unref(start);
        assert_eq!(ndctl_cmd_fw_xlat_firmware_status(null_mut()), 6, "FW_EUNKNOWN");
        // Without the attribute a DIMM has no activation state and cannot be armed.
        fs::remove_file(base.join("nmem0/firmware/activate")).unwrap();
        assert_eq!(ndctl_dimm_get_fw_activate_state(dimm), 0);
        assert_eq!(ndctl_dimm_fw_activate_disarm(dimm), 0);
        ndctl_unref(ctx);
    }
}

#[test]
fn smart_through_the_c_abi() {
    use ndctl_capi::smart::*;
    let dir = capture_root();
    let (ctx, bus) = quiet_nfit_bus(&dir);
    // SAFETY: handles of the live context; commands are unreferenced once.
    unsafe {
        let dimm = ndctl_dimm_get_first(bus);
        // Intel-family nfit_test DIMMs: every injection kind.
        assert_eq!(ndctl_dimm_smart_inject_supported(dimm), 0x1f);
        let fd = ndctl_dimm_get_health_eventfd(dimm);
        assert!(fd >= 0, "health event fd");
        assert_eq!(ndctl_dimm_get_health_eventfd(dimm), fd, "opened once");
        // No kernel behind the placeholder node.
        assert_eq!(ndctl_dimm_get_health(dimm), c_uint::MAX);
        assert_eq!(ndctl_dimm_get_flags(dimm), c_uint::MAX);
        assert_eq!(ndctl_dimm_is_flag_supported(dimm, 1), 0);
        assert_eq!(ndctl_dimm_get_event_flags(dimm), c_uint::MAX);
        let smart = ndctl_dimm_cmd_new_smart(dimm);
        assert!(!smart.is_null());
        assert_eq!(ndctl_cmd_get_type(smart), 10, "ND_CMD_CALL");
        assert_eq!(ndctl_cmd_smart_get_temperature(smart), c_uint::MAX, "not submitted");
        assert_eq!(ndctl_cmd_smart_get_flags(smart), 0);
        assert!(ndctl_cmd_smart_get_vendor_data(smart).is_null());
        assert_eq!(ndctl_cmd_submit(smart), -libc::ENXIO);
        assert_eq!(ndctl_cmd_smart_get_spares(smart), c_uint::MAX);
        ndctl_cmd_unref(smart);
        let thresh = ndctl_dimm_cmd_new_smart_threshold(dimm);
        assert!(ndctl_dimm_cmd_new_smart_set_threshold(thresh).is_null(), "not completed");
        ndctl_cmd_unref(thresh);
        let inj = ndctl_dimm_cmd_new_smart_inject(dimm);
        assert_eq!(ndctl_cmd_smart_inject_fatal(inj, true), 0);
        assert_eq!(ndctl_cmd_smart_inject_spares(inj, true, 5), 0);
        assert_eq!(ndctl_cmd_smart_inject_ctrl_temperature(inj, true, 5), -libc::ENXIO);
        assert_eq!(ndctl_cmd_smart_threshold_set_spares(inj, 5), -libc::EINVAL);
        assert_eq!(ndctl_cmd_submit(inj), -libc::ENXIO);
        assert_eq!(ndctl_cmd_smart_inject_fatal(inj, true), -libc::EINVAL, "submitted");
        ndctl_cmd_unref(inj);
        let ack = ndctl_dimm_cmd_new_ack_shutdown_count(dimm);
        assert!(!ack.is_null());
        ndctl_cmd_unref(ack);
        // A bus command has no SMART operations.
        let cap = ndctl_bus_cmd_new_ars_cap(bus, 0, 4096);
        assert_eq!(ndctl_cmd_smart_get_media_temperature(cap), 0);
        assert_eq!(ndctl_cmd_smart_threshold_set_alarm_control(cap, 1), -libc::ENXIO);
        ndctl_cmd_unref(cap);
        ndctl_unref(ctx);
    }
}

/// ndctl 76's `inject-smart` unrefs its last injection command twice; libndctl survives
/// that, so must we: the second unref is recognised and ignored, and a reference taken
/// with `ndctl_cmd_ref` still keeps a command alive through one unref.
#[test]
fn a_second_unref_of_a_released_command_is_ignored() {
    use ndctl_capi::smart::*;
    let dir = capture_root();
    let (ctx, bus) = quiet_nfit_bus(&dir);
    // SAFETY: handles of the live context; the double unref is the behaviour under test.
    unsafe {
        let dimm = ndctl_dimm_get_first(bus);
        for _ in 0..100 {
            let inj = ndctl_dimm_cmd_new_smart_inject(dimm);
            assert!(!inj.is_null());
            assert_eq!(ndctl_cmd_smart_inject_fatal(inj, true), 0);
            ndctl_cmd_unref(inj);
            ndctl_cmd_unref(inj);
        }
        let held = ndctl_dimm_cmd_new_smart(dimm);
        ndctl_cmd_ref(held);
        ndctl_cmd_unref(held);
        assert_eq!(ndctl_cmd_get_type(held), 10, "one reference left");
        ndctl_cmd_unref(held);
        ndctl_cmd_unref(held);
        ndctl_unref(ctx);
    }
}

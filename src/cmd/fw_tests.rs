//! Firmware update, firmware activation and security on a generated nfit_test tree:
//! every Intel payload field at its packed offset, the whole `ND_FW_STATUS` translation,
//! update support per family / `commands` / `dsm_mask`, activation and security state
//! parsing, and the exact bytes written to sysfs (its files are regular files here, so a
//! write that sysfs would take whole is checked on a file emptied before it).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::firmware::intel_fw;
use super::*;
use crate::bus::{FwaMethod, FwaState};
use crate::dimm::{FwaResult, SecurityState};
use crate::Ctx;
use ndctl_testsupport::fixture::nfit_test::{write_tree, Variant};

fn tree() -> (tempfile::TempDir, Ctx) {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), Variant::Pmem).unwrap();
    let ctx = Ctx::with_root(dir.path()).unwrap();
    (dir, ctx)
}

fn bus(ctx: &Ctx, provider: &str) -> Arc<Bus> {
    ctx.buses()
        .unwrap()
        .into_iter()
        .find(|b| b.provider() == provider)
        .unwrap_or_else(|| panic!("{provider}"))
}

fn dimm(ctx: &Ctx, name: &str) -> Arc<Dimm> {
    ctx.buses()
        .unwrap()
        .into_iter()
        .flat_map(|b| b.dimms().unwrap())
        .find(|d| d.devname() == name)
        .unwrap_or_else(|| panic!("{name}"))
}

/// The file behind an in-root sysfs path.
fn host(root: &Path, logical: &Path) -> PathBuf {
    root.join(logical.strip_prefix("/").unwrap())
}

/// Pretends the kernel completed `cmd`, with `fill` written into its package payload.
fn complete(cmd: &mut Command, fill: impl FnOnce(&mut [u8])) {
    fill(cmd.call_payload_mut());
    cmd.status = 0;
}

fn pkg(cmd: &Command) -> (u64, u64, u32, u32) {
    let b = cmd.payload();
    (
        abi::get_u64(b, abi::PKG_FAMILY).unwrap(),
        abi::get_u64(b, abi::PKG_COMMAND).unwrap(),
        abi::get_u32(b, abi::PKG_SIZE_IN).unwrap(),
        abi::get_u32(b, abi::PKG_SIZE_OUT).unwrap(),
    )
}

/// Reads a stand-in sysfs file and empties it for the next write.
fn take(path: &Path) -> Vec<u8> {
    let v = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    fs::write(path, "").unwrap();
    v
}

#[test]
fn get_info_decodes_every_field_at_its_packed_offset() {
    let (_d, ctx) = tree();
    let d = dimm(&ctx, "nmem1");
    let mut info = d.fw_get_info().unwrap();
    assert_eq!(pkg(&info), (0, 12, 0, 44));
    assert_eq!(info.payload().len(), abi::PKG_HDR + 44);
    assert_eq!(info.status(), STATUS_BUILT);
    assert_eq!(info.fw_info_storage_size(), None);
    assert_eq!(info.fw_info_run_version(), None);
    // struct nd_intel_fw_info: status, storage_size, max_send_len, query_interval,
    // max_query_time, update_cap (u8) + 3 reserved, fis_version, run_version,
    // updated_version; packed, little-endian.
    complete(&mut info, |p| {
        p[..44].copy_from_slice(&[
            0, 0, 0, 0, // status
            0x00, 0x00, 0x20, 0x00, // storage_size
            0x00, 0x10, 0x00, 0x00, // max_send_len
            0x90, 0xd0, 0x03, 0x00, // query_interval
            0x40, 0x4b, 0x4c, 0x00, // max_query_time
            0x03, 0xee, 0xee, 0xee, // update_cap, reserved
            0x05, 0x01, 0x00, 0x00, // fis_version
            0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // run_version
            0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11, // updated_version
        ]);
    });
    assert_eq!(info.fw_info_storage_size(), Some(0x0020_0000));
    assert_eq!(info.fw_info_max_send_len(), Some(0x1000));
    assert_eq!(info.fw_info_query_interval(), Some(250_000));
    assert_eq!(info.fw_info_max_query_time(), Some(5_000_000));
    assert_eq!(info.fw_info_run_version(), Some(0x0102_0304_0506_0708));
    assert_eq!(info.fw_info_updated_version(), Some(0x1112_1314_1516_1718));
    assert_eq!(info.fw_xlat_firmware_status(), FwStatus::Success);
    // An info is neither a start nor a query, and leads to no later command.
    assert_eq!(info.fw_start_get_context(), None);
    assert_eq!(info.fw_fquery_fw_rev(), None);
    assert!(info.fw_send(0, &[1]).is_err());
    assert!(info.fw_finish().is_err());
    assert!(info.fw_abort().is_err());
    assert!(info.fw_finish_query().is_err());
}

#[test]
fn later_commands_carry_the_start_context_even_before_it_completed() {
    let (_d, ctx) = tree();
    let d = dimm(&ctx, "nmem0");
    let mut start = d.fw_start_update().unwrap();
    assert_eq!(pkg(&start), (0, 13, 0, 8));
    // libndctl reads the context field as it stands: 0 before the start ran.
    let finish = start.fw_finish().unwrap();
    assert_eq!(abi::get_u32(finish.call_payload(), 4), Some(0));
    // The submission fails on the tree's regular-file node; the start did not complete.
    assert!(start.submit().is_err());
    assert!(start.status() < 0);
    assert_eq!(start.fw_start_get_context(), None);

    complete(&mut start, |p| {
        abi::put_u32(p, 4, 0x1234_5678);
    });
    assert_eq!(start.fw_start_get_context(), Some(0x1234_5678));
    let send = start.fw_send(u32::MAX, &[]).unwrap();
    assert_eq!(pkg(&send), (0, 14, 12, 4));
    assert_eq!(
        send.call_payload(),
        &[
            0x78, 0x56, 0x34, 0x12, // context
            0xff, 0xff, 0xff, 0xff, // offset
            0, 0, 0, 0, // length
            0, 0, 0, 0, // status (output)
        ][..]
    );
    let abort = start.fw_abort().unwrap();
    assert_eq!(pkg(&abort), (0, 15, 8, 4));
    assert_eq!(
        abort.call_payload(),
        &[1, 0, 0, 0, 0x78, 0x56, 0x34, 0x12, 0, 0, 0, 0][..]
    );
    let query = start.fw_finish_query().unwrap();
    assert_eq!(pkg(&query), (0, 16, 4, 12));
    assert_eq!(&query.call_payload()[..4], &[0x78, 0x56, 0x34, 0x12]);
}

#[test]
fn the_send_status_follows_the_data() {
    let (_d, ctx) = tree();
    let d = dimm(&ctx, "nmem0");
    let start = d.fw_start_update().unwrap();
    let data: Vec<u8> = (0..=255).collect();
    let mut send = start.fw_send(0x40, &data).unwrap();
    assert_eq!(pkg(&send), (0, 14, 12 + 256, 4));
    assert_eq!(&send.call_payload()[12..268], &data[..]);
    abi::put_u32(send.call_payload_mut(), 12 + 256, 0x0001_0007);
    assert_eq!(send.firmware_status(), 0x0001_0007);
    assert_eq!(send.fw_xlat_firmware_status(), FwStatus::InvalidContext);
    assert_eq!(send.xlat_firmware_status(), -libc::ENOMSG);
}

#[test]
fn nd_fw_status_translation_covers_every_intel_status() {
    use FwStatus::*;
    let (_d, ctx) = tree();
    let d = dimm(&ctx, "nmem0");
    let mut start = d.fw_start_update().unwrap();
    let mut finish = start.fw_finish().unwrap();
    let mut query = start.fw_finish_query().unwrap();
    let mut info = d.fw_get_info().unwrap();
    // (command, offset of its status in the payload)
    let mut set = |which: u32, status: u32| -> FwStatus {
        let (cmd, at) = match which {
            intel_fw::START_UPDATE => (&mut start, 0),
            intel_fw::FINISH_UPDATE => (&mut finish, 8),
            intel_fw::FINISH_STATUS_QUERY => (&mut query, 4),
            _ => (&mut info, 0),
        };
        abi::put_u32(cmd.call_payload_mut(), at, status);
        cmd.fw_xlat_firmware_status()
    };
    let (s, f, q, i) = (
        intel_fw::START_UPDATE,
        intel_fw::FINISH_UPDATE,
        intel_fw::FINISH_STATUS_QUERY,
        intel_fw::GET_INFO,
    );
    let cases = [
        (i, 0, Success),
        (i, 0xabcd_0000, Success),
        (i, 1, NotSupported),
        (i, 2, NotExist),
        (i, 3, Invalid),
        (i, 4, HardwareError),
        (i, 5, Retry),
        (i, 6, Unknown),
        (i, 8, NoResources),
        (i, 9, NotReady),
        (i, 10, Unknown),
        (i, 0xffff, Unknown),
        (s, 0x1_0007, Busy),
        (q, 0x1_0007, InvalidContext),
        (f, 0x1_0007, InvalidContext),
        (f, 0x2_0007, AlreadyDone),
        (q, 0x2_0007, Busy),
        (f, 0x3_0007, BadFirmware),
        (q, 0x3_0007, BadFirmware),
        (f, 0x4_0007, Aborted),
        (q, 0x4_0007, Sequence),
        (s, 0x4_0007, Sequence),
        (f, 0x5_0007, Unknown),
        (f, 0x0_0007, Unknown),
        (f, u32::MAX, Unknown),
    ];
    for (which, status, want) in cases {
        assert_eq!(
            set(which, status),
            want,
            "function {which} status {status:#x}"
        );
    }
    // Commands outside the Intel family have no firmware-update status.
    let size = d.cfg_size().unwrap();
    assert_eq!(size.fw_xlat_firmware_status(), Unknown);
    let cap = bus(&ctx, "nfit_test.0").ars_cap(0, 4096).unwrap();
    assert_eq!(cap.fw_xlat_firmware_status(), Unknown);
    assert!(cap.fw_finish().is_err());
}

#[test]
fn update_support_follows_family_commands_and_dsm_mask() {
    let (dir, ctx) = tree();
    // nfit_test.0's DIMMs offer every firmware function (dsm_mask 0x7ffff476).
    let d = dimm(&ctx, "nmem0");
    d.fw_update_supported().unwrap();
    // nfit_test.1's (dsm_mask 0x470) offer none: EIO, and no command builds.
    let d4 = dimm(&ctx, "nmem4");
    assert_eq!(d4.fw_update_supported().unwrap_err().errno(), -libc::EIO);
    assert_eq!(d4.fw_get_info().unwrap_err().errno(), -libc::EOPNOTSUPP);
    assert!(d4.fw_start_update().is_err());

    let family = host(dir.path(), &d.device().attr_path("nfit/family"));
    let commands = host(dir.path(), &d.device().attr_path("commands"));
    let mask = host(dir.path(), &d.device().attr_path("nfit/dsm_mask"));
    let reopen = || dimm(&Ctx::with_root(dir.path()).unwrap(), "nmem0");

    // Another family has no firmware update: ENOTTY, and nothing builds.
    fs::write(&family, "3\n").unwrap();
    let d = reopen();
    assert_eq!(d.fw_update_supported().unwrap_err().errno(), -libc::ENOTTY);
    assert!(matches!(
        d.fw_get_info().unwrap_err(),
        Error::Unsupported { .. }
    ));
    // An Intel DIMM without cmd_call: EOPNOTSUPP.
    fs::write(&family, "0\n").unwrap();
    fs::write(&commands, "smart get_size get_data set_data\n").unwrap();
    let d = reopen();
    assert_eq!(
        d.fw_update_supported().unwrap_err().errno(),
        -libc::EOPNOTSUPP
    );
    assert!(d.fw_get_info().is_err());
    // One function missing from the mask (finish query, 16) is enough for EIO.
    fs::write(&commands, "smart get_size get_data set_data cmd_call\n").unwrap();
    fs::write(&mask, format!("{:#x}\n", 0x7fff_f476u64 & !(1 << 16))).unwrap();
    let d = reopen();
    assert_eq!(d.fw_update_supported().unwrap_err().errno(), -libc::EIO);
    assert!(d.fw_get_info().is_ok());
    assert!(d.fw_start_update().unwrap().fw_finish_query().is_err());
    // Garbage in the mask is a parse error, not a guess.
    fs::write(&mask, "0xzz\n").unwrap();
    let d = reopen();
    assert!(matches!(
        d.fw_update_supported().unwrap_err(),
        Error::Parse { .. }
    ));
    // Without a dsm_mask libndctl cannot tell and lets the firmware answer.
    fs::remove_file(&mask).unwrap();
    let d = reopen();
    d.fw_update_supported().unwrap();
    assert!(d.fw_get_info().is_ok());
}

#[test]
fn activation_state_method_and_result_parsing() {
    let (dir, ctx) = tree();
    let b = bus(&ctx, "nfit_test.0");
    let state = host(dir.path(), &b.device().attr_path("firmware/activate"));
    let cap = host(dir.path(), &b.device().attr_path("firmware/capability"));
    assert_eq!(b.fw_activate_state().unwrap(), FwaState::Idle);
    assert_eq!(b.fw_activate_method().unwrap(), FwaMethod::Suspend);
    for (text, want) in [
        ("idle\n", FwaState::Idle),
        ("armed\n", FwaState::Armed),
        ("busy\n", FwaState::Busy),
        ("overflow\n", FwaState::ArmOverflow),
        ("Armed\n", FwaState::Invalid),
        ("\n", FwaState::Invalid),
    ] {
        fs::write(&state, text).unwrap();
        assert_eq!(b.fw_activate_state().unwrap(), want, "{text:?}");
    }
    fs::remove_file(&state).unwrap();
    assert_eq!(b.fw_activate_state().unwrap(), FwaState::Invalid);
    for (text, want) in [
        ("live\n", FwaMethod::Live),
        ("quiesce\n", FwaMethod::Suspend),
        ("none\n", FwaMethod::Reset),
    ] {
        fs::write(&cap, text).unwrap();
        let b = bus(&Ctx::with_root(dir.path()).unwrap(), "nfit_test.0");
        assert_eq!(b.fw_activate_method().unwrap(), want, "{text:?}");
    }
    let b1 = bus(&ctx, "nfit_test.1");
    assert_eq!(b1.fw_activate_state().unwrap(), FwaState::Invalid);
    assert_eq!(b1.fw_activate_method().unwrap(), FwaMethod::Reset);

    let d = dimm(&ctx, "nmem0");
    let result = host(dir.path(), &d.device().attr_path("firmware/result"));
    for (text, want) in [
        ("none\n", FwaResult::None),
        ("success\n", FwaResult::Success),
        ("fail\n", FwaResult::Fail),
        ("not_staged\n", FwaResult::NotStaged),
        ("need_reset\n", FwaResult::NeedReset),
        ("busy\n", FwaResult::Invalid),
    ] {
        fs::write(&result, text).unwrap();
        assert_eq!(d.fw_activate_result().unwrap(), want, "{text:?}");
    }
    let d4 = dimm(&ctx, "nmem4");
    assert_eq!(d4.fw_activate_state().unwrap(), FwaState::Invalid);
    assert_eq!(d4.fw_activate_result().unwrap(), FwaResult::Invalid);
}

#[test]
fn activation_writes_libndctls_words() {
    let (dir, ctx) = tree();
    let b = bus(&ctx, "nfit_test.0");
    let state = host(dir.path(), &b.device().attr_path("firmware/activate"));
    fs::write(&state, "").unwrap();
    b.activate_firmware(FwaMethod::Live).unwrap();
    assert_eq!(take(&state), b"live\n\0");
    b.activate_firmware(FwaMethod::Suspend).unwrap();
    assert_eq!(take(&state), b"quiesce\n\0");
    assert_eq!(
        b.activate_firmware(FwaMethod::Reset).unwrap_err().errno(),
        -libc::EINVAL
    );
    assert!(take(&state).is_empty(), "nothing written for reset");
    let b1 = bus(&ctx, "nfit_test.1");
    assert_eq!(
        b1.activate_firmware(FwaMethod::Live).unwrap_err().errno(),
        -libc::ENOENT
    );

    let noidle = host(
        dir.path(),
        &b.device().attr_path("nfit/firmware_activate_noidle"),
    );
    let nosuspend = host(
        dir.path(),
        &b.device().attr_path("nfit/firmware_activate_nosuspend"),
    );
    fs::write(&noidle, "").unwrap();
    fs::write(&nosuspend, "").unwrap();
    b.set_fw_activate_noidle(true).unwrap();
    assert_eq!(take(&noidle), b"1\n\0");
    b.set_fw_activate_noidle(false).unwrap();
    assert_eq!(take(&noidle), b"0\n\0");
    b.set_fw_activate_nosuspend(true).unwrap();
    assert_eq!(take(&nosuspend), b"1\n\0");
    b.set_fw_activate_nosuspend(false).unwrap();
    assert_eq!(take(&nosuspend), b"0\n\0");

    let d = dimm(&ctx, "nmem1");
    let arm = host(dir.path(), &d.device().attr_path("firmware/activate"));
    fs::write(&arm, "").unwrap();
    d.fw_activate_arm(true).unwrap();
    assert_eq!(take(&arm), b"arm\0");
    d.fw_activate_arm(false).unwrap();
    assert_eq!(take(&arm), b"disarm\0");
}

#[test]
fn activation_switches_need_an_nfit_bus() {
    let (dir, ctx) = tree();
    let b = bus(&ctx, "nfit_test.0");
    fs::remove_file(host(dir.path(), &b.device().attr_path("nfit/revision"))).unwrap();
    let b = bus(&Ctx::with_root(dir.path()).unwrap(), "nfit_test.0");
    assert!(!b.has_nfit().unwrap());
    for r in [
        b.set_fw_activate_noidle(true),
        b.set_fw_activate_noidle(false),
        b.set_fw_activate_nosuspend(true),
        b.set_fw_activate_nosuspend(false),
    ] {
        assert_eq!(r.unwrap_err().errno(), -libc::EOPNOTSUPP);
    }
}

#[test]
fn security_state_parsing_and_frozen() {
    let (dir, ctx) = tree();
    let d = dimm(&ctx, "nmem0");
    let security = host(dir.path(), &d.device().attr_path("security"));
    let frozen = host(dir.path(), &d.device().attr_path("frozen"));
    assert_eq!(d.security().unwrap(), Some(SecurityState::Disabled));
    for (text, want) in [
        ("disabled\n", SecurityState::Disabled),
        ("unlocked\n", SecurityState::Unlocked),
        ("locked\n", SecurityState::Locked),
        ("frozen\n", SecurityState::Frozen),
        ("overwrite\n", SecurityState::Overwrite),
    ] {
        fs::write(&security, text).unwrap();
        assert_eq!(d.security().unwrap(), Some(want), "{text:?}");
    }
    fs::write(&security, "sleepy\n").unwrap();
    assert!(matches!(d.security().unwrap_err(), Error::Parse { .. }));
    fs::write(&security, "unlocked\n").unwrap();
    fs::write(&frozen, "1\n").unwrap();
    assert!(d.security_frozen().unwrap());
    fs::write(&frozen, "0\n").unwrap();
    assert!(!d.security_frozen().unwrap());
    // Kernels before the `frozen` attribute report frozen as the state.
    fs::remove_file(&frozen).unwrap();
    fs::write(&security, "frozen\n").unwrap();
    assert!(d.security_frozen().unwrap());
    // nfit_test.1's DIMMs have no security at all.
    let d4 = dimm(&ctx, "nmem4");
    assert_eq!(d4.security().unwrap(), None);
    assert!(!d4.security_frozen().unwrap());
}

#[test]
fn security_without_the_attribute_fails_with_enoent_and_creates_nothing() {
    let (dir, ctx) = tree();
    let d4 = dimm(&ctx, "nmem4");
    let security = host(dir.path(), &d4.device().attr_path("security"));
    for r in [
        d4.update_passphrase(1, 2),
        d4.disable_passphrase(1),
        d4.disable_master_passphrase(1),
        d4.freeze_security(),
        d4.secure_erase(1),
        d4.overwrite(1),
        d4.update_master_passphrase(1, 2),
        d4.master_secure_erase(1),
    ] {
        assert_eq!(r.unwrap_err().errno(), -libc::ENOENT);
    }
    assert_eq!(d4.wait_overwrite().unwrap_err().errno(), -libc::ENOENT);
    assert!(!security.exists());
}

#[test]
fn security_keys_pass_through_as_c_longs() {
    let (dir, ctx) = tree();
    let d = dimm(&ctx, "nmem2");
    let security = host(dir.path(), &d.device().attr_path("security"));
    fs::write(&security, "").unwrap();
    d.update_passphrase(i64::MIN, i64::MAX).unwrap();
    assert_eq!(
        take(&security),
        format!("update {} {}\n\0", i64::MIN, i64::MAX).as_bytes()
    );
    d.secure_erase(-1).unwrap();
    assert_eq!(take(&security), b"erase -1\n\0");
    d.freeze_security().unwrap();
    assert_eq!(take(&security), b"freeze\0");
}

#[test]
fn wait_overwrite_reports_whether_it_ended_disabled() {
    for (end, want) in [("disabled\n", true), ("locked\n", false)] {
        let (dir, ctx) = tree();
        let d = dimm(&ctx, "nmem3");
        let security = host(dir.path(), &d.device().attr_path("security"));
        assert!(!d.wait_overwrite().unwrap(), "none running");
        fs::write(&security, "overwrite\n").unwrap();
        let writer = {
            let security = security.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(200));
                let tmp = security.with_file_name(".security.new");
                fs::write(&tmp, end).unwrap();
                fs::rename(&tmp, &security).unwrap();
            })
        };
        let began = Instant::now();
        assert_eq!(d.wait_overwrite().unwrap(), want, "{end:?}");
        assert!(began.elapsed() >= Duration::from_millis(150));
        assert!(began.elapsed() < Duration::from_secs(10));
        writer.join().unwrap();
    }
}

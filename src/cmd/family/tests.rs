//! SMART commands per family: request encoding on a generated nfit_test tree (its `/dev`
//! nodes are regular files, so no ioctl is ever issued), reply decoding of payloads built
//! as the kernel lays them out, and the `ndctl list -H` object against what the real
//! ndctl printed on the real nfit_test.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ndctl_testsupport::fixture::nfit_test::{write_tree, Variant};
use serde_json::Value;

use super::*;
use crate::cmd::abi::nd_cmd;
use crate::cmd::STATUS_BUILT;
use crate::dimm::DimmCmd;
use crate::Ctx;

/// A generated nfit_test tree; `edit` may change DIMM attributes before the context
/// reads them.
fn tree_with(edit: impl FnOnce(&Path)) -> (tempfile::TempDir, Ctx) {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), Variant::Pmem).unwrap();
    edit(dir.path());
    let ctx = Ctx::with_root(dir.path()).unwrap();
    (dir, ctx)
}

fn find_dir(root: &Path, name: &str) -> PathBuf {
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                if e.file_name() == name {
                    return e.path();
                }
                stack.push(e.path());
            }
        }
    }
    panic!("{name} not under {}", root.display());
}

/// Makes nmem0 a DIMM of `family` offering the DSM functions of `mask`.
fn as_family(root: &Path, family: u32, mask: u64) {
    let nfit = find_dir(root, "nmem0").join("nfit");
    fs::write(nfit.join("family"), format!("{family}\n")).unwrap();
    fs::write(nfit.join("dsm_mask"), format!("{mask:#x}\n")).unwrap();
}

fn dimm(ctx: &Ctx, name: &str) -> Arc<Dimm> {
    ctx.buses()
        .unwrap()
        .into_iter()
        .flat_map(|b| b.dimms().unwrap())
        .find(|d| d.devname() == name)
        .unwrap_or_else(|| panic!("no {name}"))
}

/// Pretends the kernel completed `cmd` with `payload` as its package payload.
fn complete(cmd: &mut Command, payload: &[u8]) {
    let p = cmd.pkg_payload_mut();
    p[..payload.len()].copy_from_slice(payload);
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

/// `struct nd_intel_smart` as the kernel's nfit_test starts it (`smart_def` in
/// tools/testing/nvdimm/test/nfit.c), with the media temperature, spares, shutdown state
/// and count given.
fn nfit_test_smart(mtemp_c: u32, spares: u8, dirty: bool, count: u32) -> Vec<u8> {
    use intel::*;
    let mut p = vec![0u8; SMART_SIZE];
    // HEALTH, SPARES, USED, MTEMP, CTEMP, SHUTDOWN_COUNT, ALARM and SHUTDOWN valid.
    let flags: u32 = 1 | 2 | 4 | 8 | 16 | 32 | (1 << 9) | (1 << 10);
    p[SMART_FLAGS..SMART_FLAGS + 4].copy_from_slice(&flags.to_le_bytes());
    p[SMART_HEALTH] = 1; // non-critical
    p[SMART_SPARES] = spares;
    p[SMART_LIFE_USED] = 5;
    p[SMART_ALARM_FLAGS] = 1 | 2; // spare and temperature trips
    p[SMART_MEDIA_TEMPERATURE..][..2].copy_from_slice(&((mtemp_c * 16) as u16).to_le_bytes());
    p[SMART_CTRL_TEMPERATURE..][..2].copy_from_slice(&(25u16 * 16).to_le_bytes());
    p[SMART_SHUTDOWN_COUNT..][..4].copy_from_slice(&count.to_le_bytes());
    p[SMART_AIT_STATUS] = 1;
    p[SMART_PMIC_TEMPERATURE..][..2].copy_from_slice(&(40u16 * 16).to_le_bytes());
    p[SMART_SHUTDOWN_STATE] = u8::from(dirty);
    p
}

/// `struct nd_intel_smart_threshold` as nfit_test starts it (`smart_t_data`).
fn nfit_test_thresholds() -> Vec<u8> {
    use intel::*;
    let mut p = vec![0u8; THRESH_SIZE];
    p[THRESH_ALARM_CONTROL..][..2].copy_from_slice(&3u16.to_le_bytes());
    p[THRESH_SPARES] = 5;
    p[THRESH_MEDIA_TEMPERATURE..][..2].copy_from_slice(&(40u16 * 16).to_le_bytes());
    p[THRESH_CTRL_TEMPERATURE..][..2].copy_from_slice(&(30u16 * 16).to_le_bytes());
    p
}

/// A file of the real nfit_test guest run (`phases/<phase>/<name>`).
fn guest_file(phase: &str, name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/nfit_test-6.1/guest-results.tar.gz");
    let want = format!("phases/{phase}/{name}");
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(fs::File::open(path).unwrap()));
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        if e.path().unwrap().to_string_lossy().trim_start_matches("./") == want {
            let mut s = String::new();
            e.read_to_string(&mut s).unwrap();
            return serde_json::from_str(&s).unwrap();
        }
    }
    panic!("{want} not in the guest results");
}

fn fixture_health(phase: &str, name: &str, dev: &str) -> Value {
    guest_file(phase, name)
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["dev"] == dev)
        .unwrap_or_else(|| panic!("{dev} not in {name}"))["health"]
        .clone()
}

/// The health object our list prints for an Intel reply and threshold reply.
fn intel_json(smart: &[u8], thresh: &[u8]) -> Value {
    let h = intel::decode_health("nmem0", smart).unwrap();
    let t = intel::decode_thresholds("nmem0", thresh).unwrap();
    Value::Object(json::smart_json(
        &|f| h.value(f),
        Some(&|f: ThresholdField| t.value(f)),
    ))
}

/// Key order matters: ndctl prints json-c objects in insertion order.
fn keys(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[test]
fn nfit_test_reply_lists_as_the_real_ndctl_printed_it() {
    let ours = intel_json(&nfit_test_smart(23, 75, false, 42), &nfit_test_thresholds());
    for dev in ["nmem0", "nmem1", "nmem2", "nmem3"] {
        let want = fixture_health("01-dsm", "list-DH.json", dev);
        assert_eq!(ours, want, "{dev}");
        assert_eq!(keys(&ours), keys(&want), "{dev}: key order");
    }
    // After `inject-smart -m 52 -s 7` and `-U` (one more unsafe shutdown, now dirty).
    let ours = intel_json(&nfit_test_smart(52, 7, true, 43), &nfit_test_thresholds());
    let want = fixture_health("01-dsm", "list-DH-after-inject.json", "nmem0");
    assert_eq!(ours, want);
    assert_eq!(keys(&ours), keys(&want));
    // After `inject-smart -N`: values restored, the count stays.
    let ours = intel_json(&nfit_test_smart(23, 75, false, 43), &nfit_test_thresholds());
    assert_eq!(
        ours,
        fixture_health("01-dsm", "list-DH-after-uninject.json", "nmem0")
    );
}

#[test]
fn intel_reply_decodes_into_the_neutral_type() {
    let h = intel::decode_health("nmem0", &nfit_test_smart(23, 75, false, 42)).unwrap();
    assert_eq!(h.state(), HealthState::NonCritical);
    assert_eq!(h.media_temperature.unwrap().celsius(), 23.0);
    assert_eq!(h.ctrl_temperature, Some(Temperature(25 * 16)));
    assert_eq!(h.spares, Some(75));
    assert_eq!(
        h.alarm_flags,
        Some(AlarmFlags(
            AlarmFlags::SPARES | AlarmFlags::MEDIA_TEMPERATURE
        ))
    );
    assert_eq!(h.life_used, Some(5));
    assert_eq!(h.shutdown_state, Some(0));
    assert_eq!(h.shutdown_count, Some(42));
    assert_eq!(h.vendor_size, Some(0));
    assert!(h
        .flags
        .contains(HealthFlags::CTRL_TEMPERATURE | HealthFlags::SHUTDOWN_COUNT));
    assert!(!h.flags.contains(HealthFlags::VENDOR));
    // Intel bits outside libndctl's set are dropped.
    let mut p = nfit_test_smart(23, 75, false, 42);
    p[intel::SMART_FLAGS + 1] |= 1; // bit 8
    p[intel::SMART_HEALTH] = 0x80 | 4;
    let h = intel::decode_health("nmem0", &p).unwrap();
    assert!(!h.flags.contains(1 << 8));
    assert_eq!((h.health, h.state()), (HEALTH_FATAL, HealthState::Fatal));
}

#[test]
fn payload_layouts_have_the_kernel_sizes() {
    // Packed sizes libndctl asserts at build time: 132, 12, 11, 19 and 5 bytes.
    assert_eq!(intel::SMART_SIZE, 132);
    assert_eq!(intel::SMART_VENDOR_DATA + 92, intel::SMART_SIZE);
    assert_eq!(intel::THRESH_SIZE, 12);
    assert_eq!(intel::SET_THRESH_STATUS + 4, 11);
    assert_eq!(intel::INJECT_STATUS + 4, 19);
    // HPE1: 124 bytes of data after in_valid_flags and status; the vendor area ends it.
    assert_eq!(hpe1::SMART_VENDOR_DATA + 60, 8 + 124);
    assert_eq!(msft::SMART_SIZE, 4 + 9);
    assert_eq!(hyperv::INFO_SIZE, 8);
    assert_eq!(papr::PKG_SIZE, 8 + 184);
    assert_eq!(papr::DSC, 8 + 16, "dimm_dsc is naturally aligned");
}

#[test]
fn intel_smart_request_and_reply_on_a_dimm() {
    let (_d, ctx) = tree_with(|_| {});
    let d = dimm(&ctx, "nmem0");
    assert_eq!(Family::of(&d).unwrap(), Some(Family::Intel));
    let mut cmd = d.smart().unwrap();
    assert_eq!(cmd.status(), STATUS_BUILT);
    assert_eq!(cmd.cmd_type(), nd_cmd::CALL);
    assert_eq!(pkg(&cmd), (0, 1, 0, 132));
    assert_eq!(cmd.payload().len(), 64 + 132);
    // Not completed: typed error, and libndctl's failure values (Intel: 0 for flags and
    // health, UINT_MAX for the fields).
    assert!(matches!(cmd.health(), Err(Error::Invalid { .. })));
    assert_eq!(cmd.smart_value(SmartField::Flags), 0);
    assert_eq!(cmd.smart_value(SmartField::Health), 0);
    assert_eq!(cmd.smart_value(SmartField::Spares), u32::MAX);
    assert_eq!(cmd.smart_value(SmartField::ShutdownCount), u32::MAX);
    complete(&mut cmd, &nfit_test_smart(23, 75, false, 42));
    assert_eq!(cmd.health().unwrap().shutdown_count, Some(42));
    assert_eq!(cmd.smart_value(SmartField::MediaTemperature), 23 * 16);
    assert_eq!(cmd.smart_value(SmartField::Flags), 0x63f);
    assert_eq!(cmd.firmware_status(), 0);
    assert_eq!(cmd.smart_vendor_data().unwrap(), &[] as &[u8]);
    assert_eq!(cmd.smart_vendor_area().unwrap().len(), 92);
    // A vendor size beyond the area is refused, not trusted.
    let mut p = nfit_test_smart(23, 75, false, 42);
    p[intel::SMART_VENDOR_SIZE..][..4].copy_from_slice(&93u32.to_le_bytes());
    complete(&mut cmd, &p);
    assert!(cmd.smart_vendor_data().is_err());
    p[intel::SMART_VENDOR_SIZE..][..4].copy_from_slice(&3u32.to_le_bytes());
    p[intel::SMART_VENDOR_DATA..][..3].copy_from_slice(b"abc");
    complete(&mut cmd, &p);
    assert_eq!(cmd.smart_vendor_data().unwrap(), b"abc");
    // A failed submission is no reply either.
    cmd.status = -libc::EIO;
    assert!(cmd.health().is_err());
    assert_eq!(cmd.smart_value(SmartField::LifeUsed), u32::MAX);
}

#[test]
fn intel_thresholds_read_modify_write() {
    let (_d, ctx) = tree_with(|_| {});
    let d = dimm(&ctx, "nmem0");
    let mut t = d.smart_threshold().unwrap();
    assert_eq!(pkg(&t), (0, 2, 0, 12));
    assert!(t.smart_set_threshold().is_err(), "not completed");
    assert_eq!(t.threshold_value(ThresholdField::AlarmControl), 0);
    assert_eq!(t.threshold_value(ThresholdField::Spares), u32::MAX);
    complete(&mut t, &nfit_test_thresholds());
    let th = t.thresholds().unwrap();
    assert_eq!(
        th.alarm_control,
        AlarmFlags(AlarmFlags::SPARES | AlarmFlags::MEDIA_TEMPERATURE)
    );
    assert_eq!(th.media_temperature.unwrap().celsius(), 40.0);
    assert_eq!(th.ctrl_temperature.unwrap().celsius(), 30.0);
    assert_eq!(th.spares, Some(5));

    let mut set = t.smart_set_threshold().unwrap();
    assert_eq!(pkg(&set), (0, 17, 7, 4));
    assert_eq!(set.status(), STATUS_BUILT);
    // Starts from the current thresholds.
    assert_eq!(&set.call_payload()[..7], &[3, 0, 5, 0x80, 0x02, 0xe0, 0x01]);
    assert_eq!(set.supported_alarms().unwrap(), AlarmFlags(7));
    set.set_threshold(ThresholdField::AlarmControl, 7).unwrap();
    set.set_threshold(
        ThresholdField::MediaTemperature,
        encode_smart_temperature(45.5),
    )
    .unwrap();
    set.set_threshold(ThresholdField::CtrlTemperature, 0x1_0000 | (35 * 16))
        .unwrap();
    set.set_threshold(ThresholdField::Spares, 0x1ff).unwrap();
    let p = set.call_payload();
    assert_eq!(abi::get_u16(p, 0), Some(7));
    assert_eq!(p[2], 0xff, "spares keep the field's low byte");
    assert_eq!(abi::get_u16(p, 3), Some(45 * 16));
    assert_eq!(abi::get_u16(p, 5), Some(35 * 16));
    // Once submitted, the request no longer takes values.
    set.status = 0;
    assert!(matches!(
        set.set_threshold(ThresholdField::Spares, 1),
        Err(Error::Invalid { .. })
    ));
    assert!(set.supported_alarms().is_err());
    // A SMART command is not a threshold command.
    let smart = d.smart().unwrap();
    assert!(smart.thresholds().is_err());
    assert!(smart.smart_set_threshold().is_err());
}

#[test]
fn intel_injection_encodes_each_value() {
    let (_d, ctx) = tree_with(|_| {});
    let d = dimm(&ctx, "nmem0");
    assert_eq!(d.smart_inject_supported().unwrap(), InjectTypes(0x1f));
    let mut inj = d.smart_inject().unwrap();
    assert_eq!(pkg(&inj), (0, 18, 15, 4));
    inj.smart_inject(Inject::MediaTemperature {
        enable: true,
        value: 52 * 16,
    })
    .unwrap();
    inj.smart_inject(Inject::Spares {
        enable: true,
        value: 7,
    })
    .unwrap();
    inj.smart_inject(Inject::Fatal { enable: false }).unwrap();
    inj.smart_inject(Inject::UnsafeShutdown { enable: true })
        .unwrap();
    // libndctl's Intel ops have no controller temperature injection (ENXIO in C).
    assert!(matches!(
        inj.smart_inject(Inject::CtrlTemperature {
            enable: true,
            value: 0
        }),
        Err(Error::Unsupported { .. })
    ));
    let p = inj.call_payload();
    assert_eq!(abi::get_u64(p, 0), Some(0xf));
    assert_eq!(p[8], 1);
    assert_eq!(abi::get_u16(p, 9), Some(52 * 16));
    assert_eq!((p[11], p[12], p[13], p[14]), (1, 7, 0, 1));
    // The firmware status sits after the 15 input bytes; its "injection disabled"
    // extended status translates to ENXIO.
    abi::put_u32(inj.pkg_payload_mut(), 15, 0x1_0007);
    assert_eq!(inj.firmware_status(), 0x1_0007);
    assert_eq!(inj.xlat_firmware_status(), -libc::ENXIO);
    inj.status = 0;
    assert!(inj.smart_inject(Inject::Fatal { enable: true }).is_err());

    let ack = d.ack_shutdown_count().unwrap();
    assert_eq!(pkg(&ack), (0, 10, 1, 4));
    assert_eq!(ack.call_payload()[0], 1, "latch enabled");
}

#[test]
fn a_dimm_without_the_functions_is_refused() {
    let (_d, ctx) = tree_with(|_| {});
    // nfit_test.1's DIMMs: Intel family, dsm_mask 0x470 (no SMART functions).
    let d = dimm(&ctx, "nmem4");
    assert!(!d.is_cmd_supported(DimmCmd::Smart));
    assert!(matches!(d.smart(), Err(Error::Unsupported { .. })));
    assert!(matches!(
        d.smart_threshold(),
        Err(Error::Unsupported { .. })
    ));
    assert!(matches!(d.smart_inject(), Err(Error::Unsupported { .. })));
    assert_eq!(d.smart_inject_supported().unwrap_err().errno(), -libc::EIO);
    assert!(health_json(&d).is_none(), "ndctl prints no health key");
    // The function is there but no ioctl can be made on this tree: "unknown".
    let d = dimm(&ctx, "nmem0");
    assert_eq!(
        health_json(&d),
        Some(serde_json::json!({"health_state": "unknown"}))
    );
    assert!(d.health().is_err());
    assert!(d.smart_flags().is_err());
}

#[test]
fn families_without_an_operation_fail_cleanly() {
    // No family at all.
    let (_d, ctx) = tree_with(|root| {
        fs::remove_file(find_dir(root, "nmem0").join("nfit/family")).unwrap();
    });
    let d = dimm(&ctx, "nmem0");
    assert_eq!(Family::of(&d).unwrap(), None);
    assert!(matches!(d.smart(), Err(Error::Unsupported { .. })));
    assert_eq!(
        d.smart_inject_supported().unwrap_err().errno(),
        -libc::ENOTTY
    );
    // HPE type 2 has no operations in libndctl.
    let (_d, ctx) = tree_with(|root| as_family(root, 2, u64::MAX >> 1));
    let d = dimm(&ctx, "nmem0");
    assert!(d.smart().is_err() && d.ack_shutdown_count().is_err());
    // A command of another kind reads as libndctl's default 0.
    let cfg = dimm(&ctx, "nmem1").cfg_size().unwrap();
    assert_eq!(cfg.smart_value(SmartField::Flags), 0);
    assert!(cfg.health().is_err());
}

#[test]
fn hpe1_requests_and_replies() {
    let (_d, ctx) = tree_with(|root| as_family(root, 1, 0b110));
    let d = dimm(&ctx, "nmem0");
    let mut cmd = d.smart().unwrap();
    assert_eq!(pkg(&cmd), (1, 1, 4, 132));
    assert_eq!(abi::get_u32(cmd.call_payload(), 0), Some(0x23f));
    // The preset status reads as a failure until the firmware writes one.
    assert_eq!(cmd.firmware_status(), 3);
    assert_eq!(cmd.smart_value(SmartField::Flags), u32::MAX);
    let mut p = vec![0u8; 8 + 124];
    p[4..8].fill(0); // status 0
    p[hpe1::SMART_VALID_FLAGS..][..4].copy_from_slice(&0x23fu32.to_le_bytes());
    p[hpe1::SMART_STAT_SUMMARY] = 2;
    p[hpe1::SMART_CURR_TEMP..][..2].copy_from_slice(&(31u16 * 16).to_le_bytes());
    p[hpe1::SMART_SPARE_BLOCKS] = 90;
    p[hpe1::SMART_ALARM_TRIPS..][..2].copy_from_slice(&1u16.to_le_bytes());
    p[hpe1::SMART_DEVICE_LIFE] = 12;
    p[hpe1::SMART_LAST_SHUTDOWN] = 2; // last save good
    p[hpe1::SMART_VENDOR_SIZE..][..2].copy_from_slice(&2u16.to_le_bytes());
    p[hpe1::SMART_VENDOR_DATA..][..2].copy_from_slice(b"hp");
    complete(&mut cmd, &p);
    let h = cmd.health().unwrap();
    assert_eq!(
        h.flags,
        HealthFlags(
            HealthFlags::HEALTH
                | HealthFlags::MEDIA_TEMPERATURE
                | HealthFlags::SPARES
                | HealthFlags::ALARM
                | HealthFlags::USED
                | HealthFlags::SHUTDOWN
                | HealthFlags::VENDOR
        )
    );
    assert_eq!(h.state(), HealthState::Critical);
    assert_eq!(h.media_temperature.unwrap().celsius(), 31.0);
    assert_eq!(
        h.alarm_flags,
        Some(AlarmFlags(AlarmFlags::MEDIA_TEMPERATURE))
    );
    assert_eq!(
        (h.spares, h.life_used, h.shutdown_state),
        (Some(90), Some(12), Some(0))
    );
    assert_eq!(cmd.smart_vendor_data().unwrap(), b"hp");
    // Not reported by the family: 0 through the C getters.
    assert_eq!(cmd.smart_value(SmartField::CtrlTemperature), 0);
    assert_eq!(cmd.smart_value(SmartField::ShutdownCount), 0);
    p[hpe1::SMART_LAST_SHUTDOWN] = 3;
    complete(&mut cmd, &p);
    assert_eq!(cmd.health().unwrap().shutdown_state, Some(1));

    let mut t = d.smart_threshold().unwrap();
    assert_eq!(pkg(&t), (1, 2, 0, 132));
    let mut tp = vec![0u8; 36];
    tp[hpe1::THRESH_ALARM_CTL..][..2].copy_from_slice(&3u16.to_le_bytes());
    tp[hpe1::THRESH_TEMP..][..2].copy_from_slice(&(50u16 * 16).to_le_bytes());
    tp[hpe1::THRESH_SPARES] = 10;
    complete(&mut t, &tp);
    let th = t.thresholds().unwrap();
    assert_eq!(
        th.alarm_control,
        AlarmFlags(AlarmFlags::SPARES | AlarmFlags::MEDIA_TEMPERATURE)
    );
    assert_eq!((th.spares, th.ctrl_temperature), (Some(10), None));
    assert!(
        t.smart_set_threshold().is_err(),
        "HPE1 cannot set thresholds"
    );
    assert!(d.smart_inject().is_err() && d.ack_shutdown_count().is_err());
    assert_eq!(
        d.smart_inject_supported().unwrap_err().errno(),
        -libc::ENOTTY
    );
}

#[test]
fn msft_health() {
    let (_d, ctx) = tree_with(|root| as_family(root, 3, 1 << 11));
    let d = dimm(&ctx, "nmem0");
    assert!(d.is_cmd_supported(DimmCmd::Smart));
    let mut cmd = d.smart().unwrap();
    assert_eq!(pkg(&cmd), (3, 11, 0, 13));
    assert_eq!(cmd.smart_value(SmartField::Health), u32::MAX);
    let mut p = vec![0u8; 13];
    p[msft::TEMP..][..2].copy_from_slice(&27u16.to_le_bytes());
    p[msft::WARN_THRESH_STAT] = 4;
    p[msft::NVM_LIFETIME] = 97;
    complete(&mut cmd, &p);
    let h = cmd.health().unwrap();
    assert_eq!(h.state(), HealthState::NonCritical);
    assert_eq!(h.media_temperature.unwrap().celsius(), 27.0);
    assert_eq!(
        h.alarm_flags,
        Some(AlarmFlags(AlarmFlags::CTRL_TEMPERATURE))
    );
    assert_eq!(h.life_used, Some(3));
    assert_eq!(cmd.smart_value(SmartField::Flags), 0x20d);
    assert_eq!(cmd.smart_value(SmartField::Spares), 0, "not an MSFT value");
    // Zero lifetime left is fatal.
    p[msft::NVM_LIFETIME] = 0;
    complete(&mut cmd, &p);
    assert_eq!(cmd.health().unwrap().state(), HealthState::Fatal);
    assert!(d.smart_threshold().is_err() && d.smart_inject().is_err());
    // The firmware status translation of the family.
    abi::put_u32(cmd.pkg_payload_mut(), 0, 2);
    assert_eq!(cmd.xlat_firmware_status(), -libc::EINVAL);
}

#[test]
fn hyperv_health() {
    let (_d, ctx) = tree_with(|root| as_family(root, 4, 0b110));
    let d = dimm(&ctx, "nmem0");
    let mut cmd = d.smart().unwrap();
    assert_eq!(pkg(&cmd), (4, 1, 0, 8));
    assert_eq!(cmd.smart_value(SmartField::Flags), 0);
    complete(&mut cmd, &[0, 0, 0, 0, 0b1000, 0, 0, 0]);
    let h = cmd.health().unwrap();
    assert_eq!(h.state(), HealthState::NonCritical);
    // The shutdown count needs a second command, which cannot be submitted here.
    assert_eq!(h.flags, HealthFlags(HealthFlags::HEALTH));
    assert_eq!(h.shutdown_count, None);
    assert_eq!(cmd.smart_value(SmartField::ShutdownCount), u32::MAX);
    complete(&mut cmd, &[0, 0, 0, 0, 0b111, 0, 0, 0]);
    assert_eq!(cmd.health().unwrap().health, HEALTH_CRITICAL | HEALTH_FATAL);
    // A failing status in the reply makes it no reply.
    complete(&mut cmd, &[1, 0, 0, 0, 0, 0, 0, 0]);
    assert!(cmd.health().is_err());
    assert_eq!(cmd.smart_value(SmartField::Health), u32::MAX);
}

#[test]
fn papr_health_and_injection() {
    let (_d, ctx) = tree_with(|root| as_family(root, 5, 0));
    let d = dimm(&ctx, "nmem0");
    assert_eq!(Family::of(&d).unwrap(), Some(Family::Papr));
    let mut cmd = d.smart().unwrap();
    assert_eq!(pkg(&cmd), (5, 1, 0, 192));
    assert_eq!(cmd.smart_value(SmartField::Flags), 0);
    let mut p = vec![0u8; 192];
    p[papr::EXTENSION_FLAGS..][..4].copy_from_slice(&3u32.to_le_bytes());
    p[papr::BAD_SHUTDOWN] = 1;
    p[papr::DIMM_HEALTH..][..2].copy_from_slice(&2u16.to_le_bytes());
    p[papr::FUEL_GAUGE..][..2].copy_from_slice(&80u16.to_le_bytes());
    p[papr::DSC..][..8].copy_from_slice(&9u64.to_le_bytes());
    complete(&mut cmd, &p);
    let h = cmd.health().unwrap();
    assert_eq!(h.state(), HealthState::Critical);
    assert_eq!(
        (h.life_used, h.shutdown_count, h.shutdown_state),
        (Some(20), Some(9), Some(1))
    );
    assert_eq!(h.flags.0, 0x1 | 0x400 | 0x4 | 0x20);
    // Without the extension flags neither life used nor the count is valid (0 in C).
    p[papr::EXTENSION_FLAGS] = 0;
    complete(&mut cmd, &p);
    assert_eq!(cmd.smart_value(SmartField::LifeUsed), 0);
    assert_eq!(cmd.smart_value(SmartField::ShutdownCount), 0);
    // An unknown health value is garbage, not a bit.
    p[papr::DIMM_HEALTH] = 9;
    complete(&mut cmd, &p);
    assert!(cmd.health().is_err());
    assert_eq!(cmd.smart_value(SmartField::Health), 0);

    assert_eq!(
        d.smart_inject_supported().unwrap_err().errno(),
        -libc::EIO,
        "dsm_mask 0 excludes the injection PDSM"
    );
    let mut inj = d.smart_inject().unwrap();
    assert_eq!(pkg(&inj), (5, 2, 192, 192));
    assert_eq!(inj.payload().len(), 64 + 2 * 192);
    inj.smart_inject(Inject::UnsafeShutdown { enable: true })
        .unwrap();
    inj.smart_inject(Inject::Fatal { enable: true }).unwrap();
    let q = inj.call_payload();
    assert_eq!(abi::get_u32(q, papr::INJECT_FLAGS), Some(3));
    assert_eq!(
        (
            q[papr::INJECT_FATAL_ENABLE],
            q[papr::INJECT_UNSAFE_SHUTDOWN_ENABLE]
        ),
        (1, 1)
    );
    assert!(matches!(
        inj.smart_inject(Inject::Spares {
            enable: true,
            value: 1
        }),
        Err(Error::Unsupported { .. })
    ));
    assert!(d.smart_threshold().is_err() && d.ack_shutdown_count().is_err());
}

#[test]
fn garbage_and_short_replies_give_errors_not_panics() {
    // Every decoder on every truncation and on pseudo-random bytes of many lengths.
    type Decode = fn(&str, &[u8]) -> Result<()>;
    let decoders: [(&str, Decode); 7] = [
        ("intel", |n, p| intel::decode_health(n, p).map(drop)),
        ("intel thresholds", |n, p| {
            intel::decode_thresholds(n, p).map(drop)
        }),
        ("hpe1", |n, p| hpe1::decode_health(n, p).map(drop)),
        ("hpe1 thresholds", |n, p| {
            hpe1::decode_thresholds(n, p).map(drop)
        }),
        ("msft", |n, p| msft::decode_health(n, p).map(drop)),
        ("hyperv", |n, p| hyperv::decode_health(n, p).map(drop)),
        ("papr", |n, p| papr::decode_health(n, p).map(drop)),
    ];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut bytes = vec![0u8; 400];
    for b in bytes.iter_mut() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        *b = seed as u8;
    }
    for (what, decode) in decoders {
        let mut ok_from = None;
        for len in 0..=bytes.len() {
            if decode("nmem0", &bytes[..len]).is_ok() && ok_from.is_none() {
                ok_from = Some(len);
            }
        }
        // Short replies fail; whether a full garbage reply decodes depends on the family
        // (PAPR refuses an unknown health value).
        if let Some(n) = ok_from {
            assert!(n >= 8, "{what}: decoded {n} bytes");
            let e = decode("nmem0", &bytes[..n - 1]).unwrap_err();
            assert!(e.to_string().contains("nmem0"), "{what}: {e}");
        }
    }
    assert!(intel::decode_health("nmem0", &[0; 131]).is_err());
    assert!(papr::decode_health("nmem0", &[0; 31]).is_err());
}

#[test]
fn json_follows_the_flags() {
    // Only what the flags declare valid, in ndctl's order; thresholds only when given.
    let h = Health {
        flags: HealthFlags(HealthFlags::HEALTH | HealthFlags::SHUTDOWN_COUNT),
        health: HEALTH_CRITICAL,
        shutdown_count: Some(7),
        ..Health::default()
    };
    let v = Value::Object(json::smart_json(&|f| h.value(f), None));
    assert_eq!(
        v,
        serde_json::json!({"health_state": "critical", "shutdown_count": 7})
    );
    let t = Thresholds {
        alarm_control: AlarmFlags(AlarmFlags::CTRL_TEMPERATURE),
        ctrl_temperature: Some(Temperature(0x8010)),
        ..Thresholds::default()
    };
    let v = Value::Object(json::smart_json(&|_| 0, Some(&|f| t.value(f))));
    assert_eq!(
        keys(&v),
        [
            "alarm_enabled_media_temperature",
            "alarm_enabled_ctrl_temperature",
            "controller_temperature_threshold",
            "alarm_enabled_spares"
        ]
    );
    assert_eq!(v["controller_temperature_threshold"], -1.0);
}

// Expected values were read from Debian's libndctl 76.1 on x86-64
// (capi's tests/c/misc-diff.c compares the full range against it when it is installed).
#[test]
fn temperature_decode_matches_libndctl() {
    assert_eq!(decode_smart_temperature(0x170), 23.0);
    assert_eq!(decode_smart_temperature(0x8170), -23.0);
    assert_eq!(decode_smart_temperature(0x1), 0.0625);
    assert_eq!(decode_smart_temperature(0x10170), 4119.0);
    assert_eq!(decode_smart_temperature(0x18170), -4119.0);
    assert!(decode_smart_temperature(0x8000).is_sign_negative());
    assert_eq!(
        decode_smart_temperature(u32::MAX),
        -(0xffff_7fffu32 as f64) / 16.0
    );
    assert_eq!(Temperature(0x170).celsius(), 23.0);
    assert_eq!(Temperature::from_celsius(-23.5), Temperature(0x8170));
}

#[test]
fn temperature_encode_matches_libndctl() {
    let cases: &[(f64, u32)] = &[
        (0.0, 0),
        (-0.0, 0),
        (23.0, 0x170),
        (-23.0, 0x8170),
        (23.99, 0x170),
        (0.0625, 0),
        (-0.01, 0x8000),
        (2048.0, 0x8000),
        (4096.0, 0x10000),
        (-4096.0, 0x18000),
        (1e9, 0xb9ac_a000),
        (-1e9, 0xb9ac_a000),
        (4_294_967_295.0, 0xffff_fff0),
        (4_294_967_296.0, 0),
        (5e9, 0xa05f_2000),
        (-5e9, 0xa05f_a000),
        (9.2e18, 0xd980_0000),
        (9.3e18, 0),
        (-1e20, 0x8000),
        (f64::NAN, 0),
        (f64::INFINITY, 0),
        (f64::NEG_INFINITY, 0x8000),
    ];
    for &(t, want) in cases {
        assert_eq!(encode_smart_temperature(t), want, "encode({t})");
    }
}

#[test]
fn health_eventfd_is_the_flags_attribute_kept_open() {
    let (_d, ctx) = tree_with(|_| {});
    let d = dimm(&ctx, "nmem0");
    use std::os::fd::AsRawFd;
    let fd = d.health_eventfd().expect("nfit/flags opens").as_raw_fd();
    assert!(fd >= 0);
    assert_eq!(
        d.health_eventfd().unwrap().as_raw_fd(),
        fd,
        "one descriptor"
    );
    let (_d, ctx) = tree_with(|root| {
        fs::remove_file(find_dir(root, "nmem0").join("nfit/flags")).unwrap();
    });
    assert!(dimm(&ctx, "nmem0").health_eventfd().is_none());
}

#[test]
fn families_with_emulated_smart_report_the_smart_command() {
    // nmem4 lists no `smart` in `commands`; as a Hyper-V DIMM it still reports it.
    let (_d, ctx) = tree_with(|root| {
        let nfit = find_dir(root, "nmem4").join("nfit");
        fs::write(nfit.join("family"), "4\n").unwrap();
    });
    let d = dimm(&ctx, "nmem4");
    assert!(d.is_cmd_supported(DimmCmd::Smart));
    assert!(!d.is_cmd_supported(DimmCmd::SmartThreshold));
}

#[test]
fn papr_by_bus_translates_its_status_without_a_family_attribute() {
    // libndctl picks PAPR operations for any DIMM on an `ibm,pmemory` bus; such a DIMM need
    // not have a `family` attribute, and its commands' status must still be translated the
    // PAPR way (the signed errno the package carries).
    let (_d, ctx) = tree_with(|root| {
        let nfit = find_dir(root, "nmem0").join("nfit");
        let _ = fs::remove_file(nfit.join("family"));
        fs::write(nfit.join("dsm_mask"), "0x0\n").unwrap();
        let bus = find_dir(root, "ndbus0");
        fs::create_dir_all(bus.join("of_node")).unwrap();
        fs::write(bus.join("of_node/compatible"), "ibm,pmemory\n").unwrap();
    });
    let d = dimm(&ctx, "nmem0");
    assert_eq!(d.cmd_family().unwrap(), None);
    assert_eq!(Family::of(&d).unwrap(), Some(Family::Papr));
    let mut cmd = d.smart().unwrap();
    let mut p = vec![0u8; 192];
    p[..4].copy_from_slice(&(-libc::EIO).to_le_bytes());
    complete(&mut cmd, &p);
    assert_eq!(cmd.xlat_firmware_status(), -libc::EIO);
}

//! The command layer on the real-kernel captures: sysfs-only parts (badblocks, scrub
//! state, error-injection support) read what the kernel wrote, and every command submitted
//! on a capture's `/dev` placeholders (regular files) fails cleanly with ENXIO.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use ndctl::cmd::{ArsType, InjectFlags};
use ndctl::{BadBlock, Ctx};
use ndctl_testsupport::captures::*;

fn nfit_test_capture() -> std::path::PathBuf {
    nfit_test_captures()
        .into_iter()
        .find(|p| p.to_string_lossy().contains("02-namespaces"))
        .expect("the nfit_test namespaces capture")
}

fn write(root: &Path, rel: &str, text: &str) {
    fs::write(root.join(rel), text).unwrap_or_else(|e| panic!("{rel}: {e}"));
}

#[test]
fn badblocks_of_regions_and_namespaces() {
    let dir = unpack_capture(&nfit_test_capture());
    let root = dir.path();
    // No capture recorded media errors; give the kernel's files some.
    write(
        root,
        "sys/devices/platform/nfit_test.0/ndbus0/region0/badblocks",
        "8 1\n4096 16\n",
    );
    write(
        root,
        "sys/devices/platform/nfit_test.0/ndbus0/region0/namespace0.0/block/pmem0/badblocks",
        "0 8\n",
    );
    write(
        root,
        "sys/devices/platform/nfit_test.0/ndbus0/region1/pfn1.0/block/pmem1/badblocks",
        "24 2\n",
    );
    let ctx = Ctx::with_root(root).unwrap();
    let mut seen = 0;
    for bus in ctx.buses().unwrap() {
        for region in bus.regions().unwrap() {
            let bbs = region.badblocks().unwrap();
            for ns in region.namespaces().unwrap() {
                let nbb = ns.badblocks().unwrap();
                match ns.devname() {
                    "namespace0.0" => assert_eq!(nbb, vec![BadBlock { offset: 0, len: 8 }]),
                    "namespace1.0" => assert_eq!(nbb, vec![BadBlock { offset: 24, len: 2 }]),
                    _ => assert!(nbb.is_empty(), "{}", ns.devname()),
                }
                seen += nbb.len();
            }
            if region.devname() == "region0" {
                assert_eq!(
                    bbs,
                    vec![
                        BadBlock { offset: 8, len: 1 },
                        BadBlock {
                            offset: 4096,
                            len: 16
                        }
                    ]
                );
            } else {
                assert!(bbs.is_empty(), "{}", region.devname());
            }
            seen += bbs.len();
        }
    }
    assert_eq!(seen, 4);
}

#[test]
fn garbled_badblocks_are_an_error_naming_the_file() {
    let dir = unpack_capture(&nfit_test_capture());
    let rel = "sys/devices/platform/nfit_test.0/ndbus0/region0/badblocks";
    write(dir.path(), rel, "8 one\n");
    let ctx = Ctx::with_root(dir.path()).unwrap();
    let region = ctx
        .buses()
        .unwrap()
        .into_iter()
        .flat_map(|b| b.regions().unwrap())
        .find(|r| r.devname() == "region0")
        .unwrap();
    let e = region.badblocks().unwrap_err();
    assert!(e.to_string().contains("region0/badblocks"), "{e}");
}

#[test]
fn scrub_state_and_error_injection_support_from_sysfs() {
    let dir = unpack_capture(&nfit_test_capture());
    let ctx = Ctx::with_root(dir.path()).unwrap();
    let buses = ctx.buses().unwrap();
    let bus0 = buses
        .iter()
        .find(|b| b.provider() == "nfit_test.0")
        .unwrap();
    let bus1 = buses
        .iter()
        .find(|b| b.provider() == "nfit_test.1")
        .unwrap();
    // nfit_test.0 offers inject set/clear/get (dsm_mask 0x3a0), nfit_test.1 nothing.
    assert!(bus0.has_error_injection().unwrap());
    assert!(!bus1.has_error_injection().unwrap());
    let st = bus0.scrub_state().unwrap().unwrap();
    assert_eq!((st.count, st.active), (5, false));
    // Idle: waiting returns at once.
    bus0.wait_for_scrub_completion().unwrap();
    bus0.poll_scrub_completion(1, 1).unwrap();
}

#[test]
fn waiting_for_a_running_scrub_times_out() {
    let dir = unpack_capture(&nfit_test_capture());
    write(
        dir.path(),
        "sys/devices/platform/nfit_test.0/ndbus0/nfit/scrub",
        "5+\n",
    );
    let ctx = Ctx::with_root(dir.path()).unwrap();
    let bus = ctx
        .buses()
        .unwrap()
        .into_iter()
        .find(|b| b.provider() == "nfit_test.0")
        .unwrap();
    let t = Instant::now();
    let e = bus.poll_scrub_completion(1, 1).unwrap_err();
    assert_eq!(e.errno(), -libc::ETIMEDOUT, "{e}");
    assert!(t.elapsed() < Duration::from_secs(10));
}

#[test]
fn commands_on_every_capture_fail_cleanly_without_a_control_node() {
    let mut submitted = 0;
    for capture in kernel_captures().into_iter().chain(nfit_test_captures()) {
        let dir = unpack_capture(&capture);
        let ctx = Ctx::with_root(dir.path()).unwrap();
        for bus in ctx.buses().unwrap() {
            if let Ok(mut cap) = bus.ars_cap(0, u64::MAX) {
                let e = cap.submit().unwrap_err();
                assert_eq!(e.errno(), -libc::ENXIO, "{}: {e}", capture.display());
                assert_eq!(cap.status(), -libc::ENXIO);
                assert!(cap.ars_start(ArsType::PERSISTENT).is_err());
                submitted += 1;
            }
            for dimm in bus.dimms().unwrap() {
                match dimm.read_labels() {
                    Ok(_) => panic!("{}: label read on a placeholder node", capture.display()),
                    Err(e) => assert!(
                        [-libc::ENXIO, -libc::EOPNOTSUPP].contains(&e.errno()),
                        "{}: {e}",
                        capture.display()
                    ),
                }
                submitted += 1;
            }
            for region in bus.regions().unwrap() {
                for ns in region.namespaces().unwrap() {
                    if bus.has_error_injection().unwrap() {
                        assert!(ns.inject_error(0, 1, InjectFlags::default()).is_err());
                        assert!(ns.injection_status().is_err());
                    } else {
                        let e = ns.injection_status().unwrap_err();
                        assert_eq!(e.errno(), -libc::EOPNOTSUPP, "{e}");
                    }
                }
            }
        }
    }
    assert!(submitted > 20, "only {submitted} commands tried");
}

#[test]
fn security_commands_are_written_to_the_security_attribute() {
    use ndctl::dimm::SecurityState;
    let dir = unpack_capture(&nfit_test_capture());
    let rel = "sys/devices/platform/nfit_test.0/ndbus0/nmem0/security";
    let ctx = Ctx::with_root(dir.path()).unwrap();
    let dimm = ctx
        .buses()
        .unwrap()
        .into_iter()
        .flat_map(|b| b.dimms().unwrap())
        .find(|d| d.devname() == "nmem0")
        .unwrap();
    assert_eq!(dimm.security().unwrap(), Some(SecurityState::Disabled));
    assert!(!dimm.security_frozen().unwrap());
    let read = || fs::read_to_string(dir.path().join(rel)).unwrap();
    type Step = fn(&ndctl::Dimm) -> ndctl::Result<()>;
    let steps: [(Step, &str); 8] = [
        (|d| d.update_passphrase(12, 34), "update 12 34\n"),
        (|d| d.disable_passphrase(-5), "disable -5\n"),
        (|d| d.disable_master_passphrase(7), "disable_master 7\n"),
        (|d| d.freeze_security(), "freeze"),
        (|d| d.secure_erase(8), "erase 8\n"),
        (|d| d.overwrite(9), "overwrite 9\n"),
        (|d| d.update_master_passphrase(1, 2), "master_update 1 2\n"),
        (|d| d.master_secure_erase(3), "master_erase 3\n"),
    ];
    for (step, want) in steps {
        step(&dimm).unwrap();
        // Written as libndctl writes attributes: the string and its NUL.
        assert!(read().starts_with(&format!("{want}\0")), "{:?}", read());
    }
    // No overwrite running: nothing to wait for.
    fs::write(dir.path().join(rel), "disabled\n").unwrap();
    assert!(!dimm.wait_overwrite().unwrap());
    // A running overwrite that finishes while we wait (a plain file never notifies, so
    // this also shows the wait re-checks by itself).
    fs::write(dir.path().join(rel), "overwrite\n").unwrap();
    let path = dir.path().join(rel);
    let finisher = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        fs::write(path, "disabled\n").unwrap();
    });
    let t = Instant::now();
    assert!(dimm.wait_overwrite().unwrap());
    assert!(t.elapsed() < Duration::from_secs(10));
    finisher.join().unwrap();
    // Frozen, by state or by the `frozen` attribute.
    fs::write(dir.path().join(rel), "frozen\n").unwrap();
    assert!(dimm.security_frozen().unwrap());
    fs::write(dir.path().join(rel), "locked\n").unwrap();
    fs::write(
        dir.path()
            .join("sys/devices/platform/nfit_test.0/ndbus0/nmem0/frozen"),
        "1\n",
    )
    .unwrap();
    assert!(dimm.security_frozen().unwrap());
}

/// A deliberate difference from libndctl (README, `ndctl_namespace_inject_error2`):
/// injecting into a namespace without a resource (an unconfigured seed) is refused with
/// EINVAL before any command is built; libndctl adds the block offset to `ULLONG_MAX` and
/// injects at whatever address that wraps to.
#[test]
fn injection_into_a_namespace_without_a_resource_is_refused() {
    let mut refused = 0;
    for capture in nfit_test_captures() {
        let dir = unpack_capture(&capture);
        // The kernel fails a seed's `resource` read (ENXIO); the capture kept it empty:
        // answer it as missing instead.
        for seed in glob_files(dir.path(), "resource") {
            if fs::read(&seed).unwrap().is_empty() {
                fs::remove_file(&seed).unwrap();
            }
        }
        let ctx = Ctx::with_root(dir.path()).unwrap();
        for bus in ctx.buses().unwrap() {
            if !bus.has_error_injection().unwrap() {
                continue;
            }
            for region in bus.regions().unwrap() {
                for ns in region.namespaces().unwrap() {
                    if ns.resource().unwrap().is_some() || ns.pfn().unwrap().is_some() {
                        continue;
                    }
                    for r in [
                        ns.inject_error(8, 1, InjectFlags::default()),
                        ns.uninject_error(8, 1, InjectFlags::default()),
                    ] {
                        let e = r.unwrap_err();
                        assert_eq!(e.errno(), -libc::EINVAL, "{}: {e}", ns.devname());
                        assert!(e.to_string().contains("resource unknown"), "{e}");
                    }
                    refused += 1;
                }
            }
        }
    }
    assert!(refused > 0, "no capture has a namespace without a resource");
}

/// Every regular file called `name` below `dir`.
fn glob_files(dir: &Path, name: &str) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let t = e.file_type().unwrap();
            if t.is_dir() {
                todo.push(e.path());
            } else if t.is_file() && e.file_name() == name {
                out.push(e.path());
            }
        }
    }
    out
}

//! Running out of descriptors is an error naming the path, never a shorter listing.
//!
//! This file holds one test on purpose: it lowers the process's `RLIMIT_NOFILE`, which
//! would starve tests running beside it in the same process.

use ndctl::Ctx;
use ndctl_testsupport::fixture::nfit_test::{write_platform, Platform};

/// What the context finds: per bus, each region with its DIMM and namespace counts.
fn census(root: &std::path::Path) -> Result<Vec<String>, ndctl::Error> {
    let ctx = Ctx::with_root(root)?;
    let mut out = Vec::new();
    for bus in ctx.buses()? {
        for r in bus.regions()? {
            let claims = r
                .namespaces()?
                .iter()
                .map(|n| n.claim().map(|c| c.is_some()))
                .collect::<Result<Vec<bool>, _>>()?;
            out.push(format!(
                "{}/{}: {} dimms, {} namespaces, {} claimed",
                bus.devname(),
                r.devname(),
                r.dimms()?.len(),
                claims.len(),
                claims.iter().filter(|c| **c).count()
            ));
        }
    }
    Ok(out)
}

fn open_descriptors() -> u64 {
    std::fs::read_dir("/proc/self/fd").unwrap().count() as u64
}

fn set_soft_limit(n: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid rlimit; only the soft limit changes.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        lim.rlim_cur = n.min(lim.rlim_max);
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
    }
}

#[test]
fn too_few_descriptors_give_an_error_not_fewer_devices() {
    let dir = tempfile::tempdir().unwrap();
    write_platform(dir.path(), Platform::scale(16)).unwrap();
    let full = census(dir.path()).unwrap();
    assert!(!full.is_empty());

    let mut saved = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: reads the current limits into a valid struct.
    assert_eq!(
        unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut saved) },
        0
    );
    let base = open_descriptors();
    let mut errors = 0;
    let mut reached_full = false;
    for margin in 0..40 {
        set_soft_limit(base + margin);
        let got = census(dir.path());
        set_soft_limit(saved.rlim_cur);
        match got {
            Ok(list) => {
                assert_eq!(list, full, "with {margin} spare descriptors");
                reached_full = true;
                break;
            }
            Err(e) => {
                let text = e.to_string();
                assert!(
                    e.is_resource_exhaustion() && text.contains("/sys"),
                    "with {margin} spare descriptors: {text}"
                );
                errors += 1;
            }
        }
    }
    assert!(errors > 0, "the smallest limits must fail");
    assert!(
        reached_full,
        "40 spare descriptors are enough for the whole census"
    );
}

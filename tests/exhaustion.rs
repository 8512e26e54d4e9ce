//! Running out of descriptors is an error naming the path, never a shorter listing.
//!
//! This file holds one test on purpose: it lowers the process's `RLIMIT_NOFILE`, which
//! would starve tests running beside it in the same process.

use ndctl::sysfs::Resolver;
use ndctl::Ctx;
use ndctl_testsupport::fixture::nfit_test::{write_platform, Platform};

/// What the context finds: per bus, each region with its DIMM and namespace counts.
fn census(root: &std::path::Path, resolver: Resolver) -> Result<Vec<String>, ndctl::Error> {
    let ctx = Ctx::with_resolver(root, resolver)?;
    let mut out = Vec::new();
    for bus in ctx.buses()? {
        for r in bus.regions()? {
            let claims = r
                .namespaces()?
                .iter()
                .map(|n| n.claim().map(|c| c.is_some()))
                .collect::<Result<Vec<bool>, _>>()?;
            let disks = r
                .namespaces()?
                .iter()
                .map(|n| n.block_device().map(|d| d.is_some()))
                .collect::<Result<Vec<bool>, _>>()?;
            out.push(format!(
                "{}/{}: {} dimms, {} namespaces, {} claimed, {} with a disk",
                bus.devname(),
                r.devname(),
                r.dimms()?.len(),
                claims.len(),
                claims.iter().filter(|c| **c).count(),
                disks.iter().filter(|d| **d).count()
            ));
        }
    }
    Ok(out)
}

/// The soft limit that leaves exactly `spare` descriptor numbers free.
///
/// `RLIMIT_NOFILE` bounds descriptor numbers, not their count: a new descriptor takes the
/// lowest free number below the limit. The harness may hold descriptors far above the
/// low ones (a job server's pipe at 251, say) and leave holes, so the limit is found by
/// counting the free numbers below it, not by adding `spare` to the number open.
fn limit_leaving(spare: u64) -> u64 {
    let me = format!("/proc/{}/fd", std::process::id());
    // The listing's own descriptor (it points at the listed directory) is closed after.
    let open: std::collections::BTreeSet<u64> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| std::fs::read_link(e.path()).ok() != Some(me.clone().into()))
        .map(|e| e.file_name().to_str().unwrap().parse().unwrap())
        .collect();
    let mut free = 0;
    let mut limit = 0;
    loop {
        if !open.contains(&limit) {
            if free == spare {
                return limit;
            }
            free += 1;
        }
        limit += 1;
    }
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
    // Both ways of confining paths: they open different descriptors at different steps.
    for resolver in [Resolver::Auto, Resolver::Userspace] {
        let full = census(dir.path(), resolver).unwrap();
        assert!(!full.is_empty());
        sweep_limits(
            || census(dir.path(), resolver),
            &full,
            &format!("{resolver:?}"),
        );
    }
}

/// Runs `census` with 0, 1, 2, ... descriptors to spare: each run must fail with an
/// exhaustion error naming where, until one has enough and finds all of `full`.
fn sweep_limits(
    census: impl Fn() -> Result<Vec<String>, ndctl::Error>,
    full: &[String],
    how: &str,
) {
    let mut saved = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: reads the current limits into a valid struct.
    assert_eq!(
        unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut saved) },
        0
    );
    let mut errors = 0;
    let mut reached_full = false;
    for margin in 0..40 {
        set_soft_limit(limit_leaving(margin));
        let got = census();
        set_soft_limit(saved.rlim_cur);
        match got {
            Ok(list) => {
                assert_eq!(list, full, "{how}, with {margin} spare descriptors");
                reached_full = true;
                break;
            }
            Err(e) => {
                let text = e.to_string();
                // With no descriptor to spare the root itself cannot be opened; after
                // that, the error names the sysfs path whose step failed.
                let names_where = matches!(e, ndctl::Error::Root { .. }) || text.contains("/sys");
                assert!(
                    e.is_resource_exhaustion() && names_where,
                    "{how}, with {margin} spare descriptors: {text}"
                );
                eprintln!("{how}, {margin} spare descriptors: {text}");
                errors += 1;
            }
        }
    }
    assert!(errors > 0, "{how}: the smallest limits must fail");
    assert!(
        reached_full,
        "{how}: 40 spare descriptors are enough for the whole census"
    );
}

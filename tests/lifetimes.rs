//! Objects that outlive their context: still usable, and freed with their last reference.
//!
//! The object tree has parent <-> child references; the context breaks those cycles when
//! it ends. An object kept past that (a helper that makes a context, finds a region and
//! returns it) used to rebuild the cycles on its next listing, and the whole tree, with
//! the context's descriptors, then leaked when it was dropped.

use std::sync::{Arc, Weak};

use ndctl::namespace::Claim;
use ndctl::region::Region;
use ndctl::sysfs::Sysfs;
use ndctl::Ctx;
use ndctl_testsupport::fixture::nfit_test::{write_platform, Platform};

/// A region of a fresh context whose handle is gone by the time the region comes back.
fn region_of_a_context_that_ended(root: &std::path::Path) -> (Arc<Region>, Weak<Sysfs>) {
    let ctx = Ctx::with_root(root).unwrap();
    let sysfs = Arc::downgrade(ctx.sysfs());
    let bus = ctx.buses().unwrap().into_iter().next().expect("a bus");
    let region = bus
        .regions()
        .unwrap()
        .into_iter()
        .find(|r| !r.namespaces().unwrap().is_empty())
        .expect("a region with namespaces");
    (region, sysfs)
}

#[test]
fn an_object_kept_past_its_context_works_and_is_freed_with_its_last_reference() {
    let dir = tempfile::tempdir().unwrap();
    write_platform(dir.path(), Platform::scale(16)).unwrap();

    let (region, sysfs) = region_of_a_context_that_ended(dir.path());
    let weak_region = Arc::downgrade(&region);
    // Everything below the region still answers, listed afresh for each call.
    let namespaces = region.namespaces().unwrap();
    assert!(!namespaces.is_empty());
    assert!(namespaces.iter().any(|ns| ns.size() > 0));
    let mut claims = 0;
    for ns in &namespaces {
        if let Some(c) = ns.claim().unwrap() {
            claims += 1;
            let (name, back) = match &c {
                Claim::Btt(b) => (b.devname(), b.namespace().unwrap()),
                Claim::Pfn(p) => (p.devname(), p.namespace().unwrap()),
                Claim::Dax(d) => (d.devname(), d.namespace().unwrap()),
            };
            let back = back.map(|n| n.devname().to_string());
            assert_eq!(back.as_deref(), Some(ns.devname()), "{name}");
        }
    }
    assert!(claims > 0, "the scale platform has claimed namespaces");
    assert!(region.namespace_seed().unwrap().is_some());
    assert!(!region.mappings().unwrap().is_empty());
    assert!(!region.dimms().unwrap().is_empty());
    // The interleave set, made for this call, names the region it came from.
    let iset = region
        .interleave_set()
        .expect("a PMEM region has an interleave set");
    assert_eq!(iset.region().devname(), region.devname());
    drop(iset);
    // Two listings give equal names (the objects are new each time: the context that
    // made them one is gone).
    let again: Vec<String> = region
        .namespaces()
        .unwrap()
        .iter()
        .map(|n| n.devname().to_string())
        .collect();
    let first: Vec<String> = namespaces.iter().map(|n| n.devname().to_string()).collect();
    assert_eq!(again, first);

    drop(namespaces);
    drop(region);
    assert!(
        weak_region.upgrade().is_none(),
        "the region is freed with its last reference"
    );
    assert!(
        sysfs.upgrade().is_none(),
        "the context's tree (and its descriptors) is freed with the last object"
    );
}

#[test]
fn a_context_dropped_after_use_frees_everything() {
    let dir = tempfile::tempdir().unwrap();
    write_platform(dir.path(), Platform::scale(16)).unwrap();
    let ctx = Ctx::with_root(dir.path()).unwrap();
    let sysfs = Arc::downgrade(ctx.sysfs());
    for bus in ctx.buses().unwrap() {
        for r in bus.regions().unwrap() {
            for ns in r.namespaces().unwrap() {
                let _ = ns.claim().unwrap();
            }
            let _ = r.mappings().unwrap();
            let _ = r.interleave_set();
        }
    }
    drop(ctx);
    assert!(sysfs.upgrade().is_none());
}

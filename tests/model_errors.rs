//! The object model on small hand-made trees: missing and empty roots, garbage attributes,
//! unknown (ENXIO-style) values and links that try to leave the root.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use ndctl::{Ctx, Error};

const BUS: &str = "sys/devices/platform/test.0/ndbus0";

fn write(root: &Path, rel: &str, value: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, value).unwrap();
}

/// One bus with one region holding one namespace and an idle btt seed.
fn mini_tree() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let r = t.path();
    write(r, &format!("{BUS}/provider"), "test.0\n");
    write(r, &format!("{BUS}/commands"), "ars_cap ars_start \n");
    write(r, &format!("{BUS}/wait_probe"), "1\n");
    write(r, &format!("{BUS}/ndctl0/dev"), "246:0\n");
    fs::create_dir_all(r.join("sys/class/nd")).unwrap();
    symlink(
        "../../devices/platform/test.0/ndbus0/ndctl0",
        r.join("sys/class/nd/ndctl0"),
    )
    .unwrap();
    fs::create_dir_all(r.join("sys/dev/char")).unwrap();
    symlink(
        "../../devices/platform/test.0/ndbus0/ndctl0",
        r.join("sys/dev/char/246:0"),
    )
    .unwrap();
    symlink("..", r.join(format!("{BUS}/ndctl0/device"))).unwrap();
    let reg = format!("{BUS}/region0");
    for (k, v) in [
        ("size", "33554432"),
        ("mappings", "0"),
        ("read_only", "0"),
        ("modalias", "nd:t2"),
        ("nstype", "4"),
        ("numa_node", "-1"),
        ("btt_seed", "btt0.0"),
    ] {
        write(r, &format!("{reg}/{k}"), &format!("{v}\n"));
    }
    let ns = format!("{reg}/namespace0.0");
    for (k, v) in [
        ("nstype", "4"),
        ("size", "33554432"),
        ("force_raw", "0"),
        ("modalias", "nd:t4"),
        ("mode", "raw"),
        ("holder", ""),
    ] {
        write(r, &format!("{ns}/{k}"), &format!("{v}\n"));
    }
    let btt = format!("{reg}/btt0.0");
    for (k, v) in [
        ("modalias", "nd:t5"),
        ("uuid", ""),
        ("sector_size", "512 520 528 4096 4104 4160 4224 "),
        ("namespace", ""),
    ] {
        write(r, &format!("{btt}/{k}"), &format!("{v}\n"));
    }
    t
}

#[test]
fn missing_root_is_a_clear_error() {
    let e = Ctx::with_root("/nonexistent/ndctl-test-root").unwrap_err();
    assert!(matches!(e, Error::Root { .. }), "{e}");
    assert!(
        e.to_string().contains("/nonexistent/ndctl-test-root"),
        "{e}"
    );
}

#[test]
fn empty_tree_is_a_clear_error() {
    let t = tempfile::tempdir().unwrap();
    let ctx = Ctx::with_root(t.path()).unwrap();
    let e = ctx.buses().unwrap_err();
    assert!(matches!(e, Error::NotSysfs { .. }), "{e}");
    assert!(e.to_string().contains("not a sysfs tree"), "{e}");
}

#[test]
fn sysfs_without_nd_class_has_no_buses() {
    let t = tempfile::tempdir().unwrap();
    fs::create_dir_all(t.path().join("sys/class")).unwrap();
    let ctx = Ctx::with_root(t.path()).unwrap();
    assert!(ctx.buses().unwrap().is_empty());
}

#[test]
fn mini_tree_navigates_both_ways() {
    let t = mini_tree();
    let ctx = Ctx::with_root(t.path()).unwrap();
    let buses = ctx.buses().unwrap();
    assert_eq!(buses.len(), 1);
    let bus = &buses[0];
    assert_eq!(bus.provider(), "test.0");
    assert_eq!(bus.devname(), "ndbus0");
    assert_eq!((bus.major(), bus.minor()), (246, 0));
    use ndctl::bus::BusCmd;
    assert!(bus.is_cmd_supported(BusCmd::ArsCap) && bus.is_cmd_supported(BusCmd::ArsStart));
    assert!(!bus.is_cmd_supported(BusCmd::ArsStatus));
    let region = &bus.regions().unwrap()[0];
    assert!(std::sync::Arc::ptr_eq(region.bus(), bus));
    assert_eq!(region.size(), 32 << 20);
    assert!(
        region.interleave_set().is_none(),
        "IO regions have no interleave set"
    );
    let ns = &region.namespaces().unwrap()[0];
    assert!(std::sync::Arc::ptr_eq(ns.region(), region));
    assert_eq!(ns.type_name(), "namespace_io");
    assert_eq!(ns.uuid().unwrap(), None);
    // The idle btt: its size is unknown (ENXIO in a live kernel, absent here).
    let btt = region.btt_seed().unwrap().expect("btt seed");
    assert_eq!(btt.size().unwrap(), None);
    assert!(btt.uuid().unwrap().is_nil());
    assert_eq!(btt.sector_sizes().unwrap().0.len(), 7);
    assert!(!btt.is_configured().unwrap());
    // Objects are created once and stay identical.
    let again = &bus.regions().unwrap()[0];
    assert!(std::sync::Arc::ptr_eq(again, region));
}

#[test]
fn garbage_attribute_names_the_file() {
    let t = mini_tree();
    write(t.path(), &format!("{BUS}/region0/size"), "12abc\n");
    let ctx = Ctx::with_root(t.path()).unwrap();
    let bus = &ctx.buses().unwrap()[0];
    let e = bus.regions().unwrap_err();
    assert!(matches!(e, Error::Parse { .. }), "{e}");
    assert!(e.to_string().contains("region0/size"), "{e}");
}

#[test]
fn huge_and_truncated_attributes_are_errors() {
    let t = mini_tree();
    write(
        t.path(),
        &format!("{BUS}/region0/size"),
        "999999999999999999999999999\n",
    );
    let ctx = Ctx::with_root(t.path()).unwrap();
    let e = ctx.buses().unwrap()[0].regions().unwrap_err();
    assert!(e.to_string().contains("out of range"), "{e}");

    let t = mini_tree();
    write(t.path(), &format!("{BUS}/region0/size"), "");
    let ctx = Ctx::with_root(t.path()).unwrap();
    let e = ctx.buses().unwrap()[0].regions().unwrap_err();
    assert!(e.to_string().contains("truncated"), "{e}");

    let t = mini_tree();
    write(t.path(), &format!("{BUS}/region0/size"), &"9".repeat(5000));
    let ctx = Ctx::with_root(t.path()).unwrap();
    let e = ctx.buses().unwrap()[0].regions().unwrap_err();
    assert!(matches!(e, Error::TooLarge { .. }), "{e}");
}

#[test]
fn missing_required_attribute_skips_the_object() {
    let t = mini_tree();
    fs::remove_file(t.path().join(format!("{BUS}/region0/namespace0.0/nstype"))).unwrap();
    let ctx = Ctx::with_root(t.path()).unwrap();
    let region = &ctx.buses().unwrap()[0].regions().unwrap()[0];
    assert!(region.namespaces().unwrap().is_empty());
}

/// `modalias` and `force_raw` are required as libndctl requires them (a namespace or btt
/// without one is skipped), but read only when asked for: their presence is what the
/// directory listing shows. Deliberate difference: libndctl reads them when it adds the
/// device and drops a namespace whose `force_raw` it cannot parse; here the namespace is
/// listed and `raw_mode()` reports the garbage, naming the file.
#[test]
fn required_attributes_read_when_asked_are_still_required() {
    for (dev, attr) in [
        ("namespace0.0", "modalias"),
        ("namespace0.0", "force_raw"),
        ("btt0.0", "modalias"),
    ] {
        let t = mini_tree();
        fs::remove_file(t.path().join(format!("{BUS}/region0/{dev}/{attr}"))).unwrap();
        let ctx = Ctx::with_root(t.path()).unwrap();
        let region = &ctx.buses().unwrap()[0].regions().unwrap()[0];
        let names: Vec<String> = if dev.starts_with("btt") {
            region
                .btts()
                .unwrap()
                .iter()
                .map(|b| b.devname().to_string())
                .collect()
        } else {
            region
                .namespaces()
                .unwrap()
                .iter()
                .map(|n| n.devname().to_string())
                .collect()
        };
        assert!(
            names.is_empty(),
            "{dev} without {attr} is skipped: {names:?}"
        );
    }
    let t = mini_tree();
    write(
        t.path(),
        &format!("{BUS}/region0/namespace0.0/force_raw"),
        "maybe\n",
    );
    let ctx = Ctx::with_root(t.path()).unwrap();
    let region = &ctx.buses().unwrap()[0].regions().unwrap()[0];
    let ns = &region.namespaces().unwrap()[0];
    assert_eq!(ns.size(), 33554432, "listed");
    let e = ns.raw_mode().unwrap_err();
    assert!(matches!(e, Error::Parse { .. }), "{e}");
    assert!(e.to_string().contains("namespace0.0/force_raw"), "{e}");
}

#[test]
fn bus_link_leaving_the_root_is_refused() {
    let t = mini_tree();
    let link = t.path().join("sys/dev/char/246:0");
    fs::remove_file(&link).unwrap();
    symlink("../../../../../../../../../../etc", &link).unwrap();
    let ctx = Ctx::with_root(t.path()).unwrap();
    let e = ctx.buses().unwrap_err();
    assert!(matches!(e, Error::Escape { .. }), "{e}");
}

#[test]
fn invalidate_rereads_attributes_and_keeps_objects() {
    let t = mini_tree();
    let ctx = Ctx::with_root(t.path()).unwrap();
    let region = ctx.buses().unwrap()[0].regions().unwrap()[0].clone();
    let ns = region.namespaces().unwrap()[0].clone();
    assert_eq!(ns.size(), 32 << 20);
    write(
        t.path(),
        &format!("{BUS}/region0/namespace0.0/size"),
        "16777216\n",
    );
    assert_eq!(ns.size(), 32 << 20, "cached until invalidated");
    ctx.invalidate().unwrap();
    assert_eq!(ns.size(), 16 << 20);
    let same = region.namespaces().unwrap()[0].clone();
    assert!(std::sync::Arc::ptr_eq(&same, &ns));
}

#[test]
fn writes_go_to_the_tree_under_the_root() {
    let t = mini_tree();
    let ctx = Ctx::with_root(t.path()).unwrap();
    let region = ctx.buses().unwrap()[0].regions().unwrap()[0].clone();
    region.set_ro(true).unwrap();
    let written = fs::read(t.path().join(format!("{BUS}/region0/read_only"))).unwrap();
    assert_eq!(written, b"1\n\0");
    assert!(region.read_only());
}

#[test]
fn next_walks_siblings_like_get_next() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    ndctl_testsupport::fixture::nfit_test::write_tree(
        &root,
        ndctl_testsupport::fixture::nfit_test::Variant::WithBlk,
    )
    .unwrap();
    let ctx = Ctx::with_root(&root).unwrap();
    let buses = ctx.buses().unwrap();
    let mut walked = vec![buses[0].clone()];
    while let Some(n) = walked.last().unwrap().next() {
        walked.push(n);
    }
    assert_eq!(walked.len(), buses.len());
    let bus = ctx.bus_by_provider("nfit_test.0").unwrap().unwrap();
    let regions = bus.regions().unwrap();
    assert_eq!(regions.len(), 6, "two PMEM and four BLK regions");
    let mut r = Some(regions[0].clone());
    let mut n = 0;
    while let Some(x) = r {
        assert!(std::sync::Arc::ptr_eq(&x, &regions[n]));
        n += 1;
        r = x.next();
    }
    assert_eq!(n, regions.len());
    let blk = regions
        .iter()
        .find(|r| r.region_type() == ndctl::region::RegionType::Blk)
        .unwrap();
    let nss = blk.namespaces().unwrap();
    assert!(nss.iter().any(|n| n.type_name() == "namespace_blk"));
    let first = &nss[0];
    assert_eq!(first.next().is_some(), nss.len() > 1);
    let maps = blk.mappings().unwrap();
    assert_eq!(maps.len(), 1);
    assert!(maps[0].next().is_none());
    // Interleave sets: only the PMEM regions have one.
    let sets: Vec<_> = regions.iter().filter_map(|r| r.interleave_set()).collect();
    assert_eq!(sets.len(), 2);
    assert!(std::sync::Arc::ptr_eq(&sets[0].next().unwrap(), &sets[1]));
}

#[test]
fn deep_flush_and_dimm_state_report_what_cannot_be_done() {
    let t = mini_tree();
    let reg = format!("{BUS}/region0");
    let ctx = Ctx::with_root(t.path()).unwrap();
    let region = ctx.buses().unwrap()[0].regions().unwrap()[0].clone();
    // No deep_flush attribute: an error naming it, not a silent success.
    let e = region.deep_flush().unwrap_err();
    assert!(matches!(e, Error::Missing { .. }), "{e}");
    // The platform says flushing is pointless: unsupported, nothing written.
    write(t.path(), &format!("{reg}/deep_flush"), "0\n");
    let e = region.deep_flush().unwrap_err();
    assert!(matches!(e, Error::Unsupported { .. }), "{e}");
    assert_eq!(e.errno(), -libc::EOPNOTSUPP);
    // Garbage is an error, never read as "no".
    write(t.path(), &format!("{reg}/deep_flush"), "yes\n");
    assert!(matches!(region.deep_flush(), Err(Error::Parse { .. })));
    // Supported: the flush request is written.
    write(t.path(), &format!("{reg}/deep_flush"), "1\n");
    region.deep_flush().unwrap();
    assert_eq!(
        fs::read(t.path().join(format!("{reg}/deep_flush"))).unwrap(),
        b"1\0"
    );
}

#[test]
fn invalidate_reports_garbage_that_appeared() {
    let t = mini_tree();
    let ctx = Ctx::with_root(t.path()).unwrap();
    let region = ctx.buses().unwrap()[0].regions().unwrap()[0].clone();
    assert_eq!(region.namespaces().unwrap().len(), 1);
    // A new namespace with a garbled size shows up: the rescan must say so.
    let ns = format!("{BUS}/region0/namespace0.1");
    for (k, v) in [
        ("nstype", "4"),
        ("size", "lots"),
        ("force_raw", "0"),
        ("modalias", "nd:t4"),
    ] {
        write(t.path(), &format!("{ns}/{k}"), &format!("{v}\n"));
    }
    let e = ctx.invalidate().unwrap_err();
    assert!(e.to_string().contains("namespace0.1/size"), "{e}");
}

#[test]
fn mappings_follow_libndctl_order_and_need_a_known_dimm() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    ndctl_testsupport::fixture::nfit_test::write_tree(
        &root,
        ndctl_testsupport::fixture::nfit_test::Variant::Pmem,
    )
    .unwrap();
    let ctx = Ctx::with_root(&root).unwrap();
    let bus = ctx.bus_by_provider("nfit_test.0").unwrap().unwrap();
    let four_way = bus
        .regions()
        .unwrap()
        .into_iter()
        .find(|r| r.num_mappings() == 4)
        .expect("the 4-way region");
    let maps = four_way.mappings().unwrap();
    let order: Vec<u32> = maps.iter().map(|m| m.index()).collect();
    assert_eq!(
        order,
        vec![3, 2, 1, 0],
        "libndctl lists mapping0..N head-first"
    );
    let mut walked = vec![maps[0].clone()];
    while let Some(n) = walked.last().unwrap().next() {
        walked.push(n);
    }
    assert_eq!(walked.len(), 4);
    for m in &maps {
        assert_eq!(m.dimm().devname(), m.dimm_name());
    }

    // A mapping that names a DIMM the bus does not have is left out.
    let rel = four_way
        .device()
        .path()
        .join("mapping0")
        .strip_prefix("/")
        .unwrap()
        .to_path_buf();
    fs::write(root.join(&rel), "nmem99,0,16777216,0\n").unwrap();
    ctx.invalidate().unwrap();
    let fresh = Ctx::with_root(&root).unwrap();
    let region = fresh
        .bus_by_provider("nfit_test.0")
        .unwrap()
        .unwrap()
        .regions()
        .unwrap()
        .into_iter()
        .find(|r| r.num_mappings() == 4)
        .unwrap();
    let order: Vec<u32> = region
        .mappings()
        .unwrap()
        .iter()
        .map(|m| m.index())
        .collect();
    assert_eq!(order, vec![3, 2, 1]);
}

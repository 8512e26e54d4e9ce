//! The nfit_test generator against the real Linux 6.1 capture of a freshly loaded
//! `nfit_test` (tests/fixtures/nfit_test-6.1/sysfs-00-loaded.tar.gz).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use ndctl_testsupport::captures::{read_tarball, Entry};
use ndctl_testsupport::fixture::nfit_test::{write_tree, Platform, Variant};
use ndctl_testsupport::fixture::sysfs_tree::{Node, SysfsTree};

fn loaded_capture() -> BTreeMap<String, Entry> {
    let mut entries = read_tarball(
        &ndctl_testsupport::captures::fixtures_dir().join("nfit_test-6.1/sysfs-00-loaded.tar.gz"),
    );
    entries.remove("MANIFEST.tsv");
    entries
}

fn as_entries(tree: &SysfsTree) -> BTreeMap<String, Entry> {
    tree.iter()
        .filter(|(path, _)| *path == "sys" || path.starts_with("sys/"))
        .map(|(path, node)| {
            let e = match node {
                Node::Dir { mode } => Entry::Dir(*mode),
                Node::File { mode, contents } => Entry::File(*mode, contents.clone()),
                Node::Symlink { target } => Entry::Link(target.clone()),
            };
            (path.to_string(), e)
        })
        .collect()
}

fn show(e: &Entry) -> String {
    match e {
        Entry::Dir(m) => format!("dir {m:o}"),
        Entry::File(m, c) => format!("file {m:o} {:?}", String::from_utf8_lossy(c)),
        Entry::Link(t) => format!("link -> {t}"),
    }
}

/// Every (path, type, mode, contents or link target) of the generated PMEM platform equals
/// the capture, for the whole captured scope (both platform devices with their ndbus
/// subtrees, the nd/dax/platform bus views, the class views and the block/char links).
#[test]
fn pmem_variant_equals_the_loaded_capture() {
    let generated = as_entries(&Platform::nfit_test(Variant::Pmem).render().unwrap());
    let captured = loaded_capture();
    // The capture's root `sys` directory exists in both.
    let mut diffs = Vec::new();
    for (path, e) in &captured {
        match generated.get(path) {
            None => diffs.push(format!("missing   {path}: {}", show(e))),
            Some(g) if g != e => diffs.push(format!(
                "differs   {path}: generated {} / captured {}",
                show(g),
                show(e)
            )),
            Some(_) => {}
        }
    }
    for (path, g) in &generated {
        if !captured.contains_key(path) {
            diffs.push(format!("extra     {path}: {}", show(g)));
        }
    }
    assert!(
        diffs.is_empty(),
        "{} difference(s) from the capture:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
    assert!(generated.len() > 1000, "{}", generated.len());
}

/// The files written empty as "ENXIO" are exactly those the capture's manifest marks with
/// ENXIO ("No such device or address").
#[test]
fn enxio_files_match_the_manifest() {
    let tree = Platform::nfit_test(Variant::Pmem).render().unwrap();
    let generated: BTreeSet<String> = tree.enxio_paths().map(str::to_string).collect();
    let captured = ndctl_testsupport::captures::manifest_read_errors(
        &ndctl_testsupport::captures::fixtures_dir().join("nfit_test-6.1/sysfs-00-loaded.tar.gz"),
        "No such device or address",
    );
    assert_eq!(generated, captured);
}

/// Reads back what `write_tree` put on disk.
fn read_back(root: &Path) -> BTreeMap<String, Entry> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Entry>) {
        for e in fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let meta = fs::symlink_metadata(&path).unwrap();
            let mode = meta.permissions().mode() & 0o7777;
            if meta.file_type().is_symlink() {
                let t = fs::read_link(&path).unwrap().to_string_lossy().into_owned();
                out.insert(rel, Entry::Link(t));
            } else if meta.is_dir() {
                out.insert(rel, Entry::Dir(mode));
                walk(root, &path, out);
            } else {
                out.insert(rel, Entry::File(mode, fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

#[test]
fn written_trees_match_their_description() {
    for variant in [Variant::Pmem, Variant::WithBlk] {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let tree = write_tree(&root, variant).unwrap();
        let on_disk = read_back(&root);
        let described: BTreeMap<String, Entry> = tree
            .sysfs
            .iter()
            // ENXIO attributes are described but deliberately not written.
            .filter(|(p, _)| !tree.sysfs.enxio_paths().any(|x| x == *p))
            .map(|(p, n)| {
                let e = match n {
                    Node::Dir { mode } => Entry::Dir(*mode),
                    Node::File { mode, contents } => Entry::File(*mode, contents.clone()),
                    Node::Symlink { target } => Entry::Link(target.clone()),
                };
                (p.to_string(), e)
            })
            .collect();
        assert_eq!(on_disk, described, "{variant:?}");

        // Discovery as libndctl does it resolves inside the root.
        for bus in &tree.platform.buses {
            let ctl = root.join(format!("sys/class/nd/ndctl{}", bus.ndctl_id));
            let devno = fs::read_to_string(ctl.join("dev")).unwrap();
            let device = root.join(format!("sys/dev/char/{}/device", devno.trim()));
            let bus_dir = fs::canonicalize(device).unwrap();
            assert!(bus_dir.starts_with(fs::canonicalize(&root).unwrap()));
            assert_eq!(
                bus_dir.file_name().unwrap().to_str().unwrap(),
                format!("ndbus{}", bus.bus_id)
            );
            assert_eq!(
                fs::read_to_string(bus_dir.join("provider")).unwrap().trim(),
                bus.provider
            );
        }
        for node in tree.platform.device_nodes() {
            assert!(
                root.join("dev").join(&node).is_file(),
                "{variant:?}: dev/{node}"
            );
        }
        // Writing twice into the same root is refused rather than mixing trees.
        assert!(write_tree(&root, variant).is_err());
    }
}

/// The seed-document topology: DIMM handles, regions by range index and their mappings.
#[test]
fn both_variants_have_the_nfit_test_topology() {
    for variant in [Variant::Pmem, Variant::WithBlk] {
        let p = Platform::nfit_test(variant);
        let bus0 = p
            .buses
            .iter()
            .find(|b| b.provider == "nfit_test.0")
            .unwrap();
        let handles: Vec<u32> = bus0.dimms.iter().map(|d| d.handle).collect();
        assert_eq!(handles, [0x0, 0x1, 0x100, 0x101]);
        let pmem: Vec<(u32, u64, usize)> = bus0
            .regions
            .iter()
            .filter(|r| r.nstype != 6)
            .map(|r| (r.range_index, r.size, r.mappings.len()))
            .collect();
        assert_eq!(pmem, [(1, 32 << 20, 2), (2, 64 << 20, 4)]);
        let bus1 = p
            .buses
            .iter()
            .find(|b| b.provider == "nfit_test.1")
            .unwrap();
        let handles: Vec<u32> = bus1.dimms.iter().map(|d| d.handle).collect();
        assert_eq!(handles, [0x10000, 0x10001]);
        assert!(bus1
            .regions
            .iter()
            .any(|r| r.read_only && r.size == 32 << 20));
        let blk: Vec<u32> = bus0
            .regions
            .iter()
            .filter(|r| r.nstype == 6)
            .map(|r| r.id)
            .collect();
        match variant {
            Variant::Pmem => assert!(blk.is_empty()),
            Variant::WithBlk => assert_eq!(blk, [2, 3, 4, 5]),
        }
    }
}

/// The generator's `dev/` nodes are the ones the test support derives for the capture.
#[test]
fn device_nodes_match_those_derived_from_the_capture() {
    let unpacked = ndctl_testsupport::captures::unpack_capture(
        &ndctl_testsupport::captures::fixtures_dir().join("nfit_test-6.1/sysfs-00-loaded.tar.gz"),
    );
    let derived = ndctl_testsupport::captures::device_node_names(unpacked.path());
    let generated: BTreeSet<String> = Platform::nfit_test(Variant::Pmem)
        .device_nodes()
        .into_iter()
        .collect();
    assert_eq!(generated, derived);
}

#[test]
fn kernel_captures_record_enxio_for_seeds_and_label_less_dimms() {
    // What a sysfs reader must treat as "unknown" on the QEMU captures too.
    let initial = ndctl_testsupport::captures::manifest_read_errors(
        &ndctl_testsupport::captures::fixtures_dir().join("kernel-6.1/sysfs-00-initial.tar.gz"),
        "No such device or address",
    );
    assert!(!initial.is_empty());
    for p in &initial {
        let name = p.rsplit('/').next().unwrap();
        assert!(
            ["size", "resource", "family", "dsm_mask", "available_slots"].contains(&name),
            "unexpected ENXIO attribute {p}"
        );
    }
}

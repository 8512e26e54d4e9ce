//! Tests of the shared test support in `tests/common`.

use std::fs;
use std::path::Path;

use ndctl_testsupport::captures::*;
use serde_json::json;

#[test]
fn all_nine_kernel_captures_pair_with_a_guest_phase() {
    let captures = kernel_captures();
    assert_eq!(captures.len(), 9, "{captures:?}");
    let mut phases = Vec::new();
    for capture in &captures {
        let results = guest_results_for(capture);
        let phase = guest_phase_for(capture, &results);
        let json = guest_json_for(capture, &results);
        let buses = json
            .as_array()
            .unwrap_or_else(|| panic!("{phase}: top level is not an array"));
        assert!(!buses.is_empty(), "{phase}: no bus in the JSON");
        assert!(buses.iter().all(|b| b.get("provider").is_some()), "{phase}");
        phases.push(phase);
    }
    // One capture per phase, in order; the guest calls the first two phases differently.
    assert_eq!(
        phases,
        [
            "00-modules",
            "01-init-labels",
            "02-raw",
            "03-sector",
            "04-fsdax",
            "05-devdax",
            "06-labelless-sector",
            "07-v1.2-labels",
            "08-final"
        ]
    );
}

#[test]
fn nfit_test_captures_pair_even_when_manifests_coincide() {
    // 00-load and 01-dsm only differ in attribute contents, so their manifests are equal
    // and the phase number decides.
    let phases: Vec<String> = nfit_test_captures()
        .iter()
        .map(|c| guest_phase_for(c, &guest_results_for(c)))
        .collect();
    assert_eq!(phases, ["00-load", "01-dsm", "02-namespaces"]);
    let c = &nfit_test_captures()[0];
    let json = guest_json_for(c, &guest_results_for(c));
    let providers: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["provider"].as_str())
        .collect();
    assert!(
        providers.contains(&"nfit_test.0") && providers.contains(&"nfit_test.1"),
        "{providers:?}"
    );
}

fn capture(name: &str) -> std::path::PathBuf {
    fixtures_dir().join("kernel-6.1").join(name)
}

#[test]
fn unpacked_capture_keeps_links_and_gets_device_nodes() {
    let dir = unpack_capture(&capture("sysfs-05-devdax.tar.gz"));
    let root = dir.path();
    let ctl = root.join("sys/class/nd/ndctl0");
    let target = fs::read_link(&ctl).expect("sys/class/nd/ndctl0 is a symlink");
    assert!(target.is_relative(), "{target:?}");
    assert!(
        ctl.join("dev").is_file(),
        "the relative link resolves inside the root"
    );
    let dev_of = fs::read_to_string(ctl.join("dev")).unwrap();
    assert!(dev_of.trim().contains(':'), "{dev_of:?}");

    for node in [
        "ndctl0", "nmem0", "nmem1", "nmem2", "pmem1", "pmem1.1s", "dax1.3",
    ] {
        let p = root.join("dev").join(node);
        assert!(p.is_file(), "missing placeholder {}", p.display());
    }
    // Nothing invented: every placeholder has a sysfs origin.
    let names = device_node_names(root);
    let placed: Vec<String> = fs::read_dir(root.join("dev"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(placed.len(), names.len());

    // Modes survive: resource attributes are root-only, bind files write-only.
    use std::os::unix::fs::PermissionsExt;
    let bind = root.join("sys/bus/nd/drivers/nd_pmem/bind");
    assert_eq!(
        fs::metadata(&bind).unwrap().permissions().mode() & 0o777,
        0o200
    );
}

#[test]
fn every_capture_unpacks_with_its_manifest_entries() {
    for c in kernel_captures().iter().chain(nfit_test_captures().iter()) {
        let dir = unpack_capture(c);
        let manifest = fs::read_to_string(dir.path().join("MANIFEST.tsv")).unwrap();
        for line in manifest.lines() {
            let fields: Vec<&str> = line.split('\t').collect();
            let (kind, path) = (fields[0], fields[2]);
            let p = dir.path().join(path.trim_start_matches('/'));
            let meta = fs::symlink_metadata(&p)
                .unwrap_or_else(|e| panic!("{}: {}: {e}", c.display(), p.display()));
            let ok = match kind {
                "d" => meta.is_dir(),
                "f" => meta.is_file(),
                "l" => meta.file_type().is_symlink(),
                _ => false,
            };
            assert!(ok, "{}: {path} is not of type {kind}", c.display());
        }
    }
}

#[test]
fn json_arrays_compare_as_multisets() {
    let a = json!([{"dev": "ndbus0", "regions": [{"dev": "region0"}, {"dev": "region1"}]}, 3]);
    let b = json!([3, {"regions": [{"dev": "region1"}, {"dev": "region0"}], "dev": "ndbus0"}]);
    assert!(json_eq_unordered(&a, &b));
    assert!(json_diff(&a, &b).is_empty());

    assert!(!json_eq_unordered(&json!([1, 1, 2]), &json!([1, 2, 2])));
    assert!(!json_eq_unordered(&json!([1, 2]), &json!([1, 2, 3])));
    assert!(!json_eq_unordered(
        &json!({"a": 1}),
        &json!({"a": 1, "b": 2})
    ));
    assert!(!json_eq_unordered(&json!({"a": 1}), &json!({"a": "1"})));
    assert!(json_eq_unordered(&json!(null), &json!(null)));
}

#[test]
fn json_diff_names_the_differing_field() {
    let actual = json!([{"dev": "region1", "namespaces": [{"dev": "namespace1.0", "size": 1}, {"dev": "namespace1.1", "size": 5}]}]);
    let expected = json!([{"dev": "region1", "namespaces": [{"dev": "namespace1.1", "size": 5}, {"dev": "namespace1.0", "size": 2}]}]);
    let diffs = json_diff(&actual, &expected);
    assert_eq!(
        diffs,
        ["$[dev=region1].namespaces[dev=namespace1.0].size: actual 1 != expected 2"]
    );

    let diffs = json_diff(&json!({"a": [1, 2, 3]}), &json!({"a": [4, 2], "b": true}));
    assert!(
        diffs.contains(&"$.b: only in expected: true".to_string()),
        "{diffs:?}"
    );
    assert!(
        diffs.contains(&"$.a[]: only in actual: 1".to_string()),
        "{diffs:?}"
    );
    assert!(
        diffs.contains(&"$.a[]: only in expected: 4".to_string()),
        "{diffs:?}"
    );
}

#[test]
fn key_order_is_reported_separately() {
    let a: serde_json::Value =
        serde_json::from_str(r#"[{"dev":"x","size":1,"mode":"raw"}]"#).unwrap();
    let b: serde_json::Value =
        serde_json::from_str(r#"[{"dev":"x","mode":"raw","size":1}]"#).unwrap();
    assert!(json_eq_unordered(&a, &b));
    let d = json_key_order_diffs(&a, &b);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(d[0].starts_with("$[dev=x]: keys"), "{d:?}");
    assert!(json_key_order_diffs(&a, &a).is_empty());
}

#[test]
fn fixture_files_are_in_the_repository() {
    for (dir, count) in [("kernel-6.1", 10), ("nfit_test-6.1", 4)] {
        let n = fs::read_dir(fixtures_dir().join(dir)).unwrap().count();
        assert!(n >= count, "{dir}: {n} files");
    }
    assert!(Path::new(&fixtures_dir().join("kernel-6.1/guest-results.tar.gz")).is_file());
}

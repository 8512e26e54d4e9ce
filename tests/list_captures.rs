//! `ndctl list` over real-kernel sysfs captures must print what the real ndctl printed.
//!
//! Ground truth: `tests/fixtures/kernel-6.1/guest-results.tar.gz` holds the JSON the real
//! `ndctl list` (Debian 76.1) printed inside the guest when each capture was taken. Arrays
//! are compared as multisets: their order follows `readdir()`, which differs between kernfs
//! and the file system the capture is unpacked on.

use std::fs;
use std::path::Path;

use ndctl::list::list;
use ndctl::Ctx;
use ndctl_testsupport::captures::*;
use ndctl_testsupport::list_cli::parse_args;
use serde_json::Value;

/// A capture keeps the files the kernel refused with ENXIO as empty files; make them
/// unreadable again (absent), which is what the library treats as "unknown".
fn unpack_for_library(capture: &Path) -> tempfile::TempDir {
    let dir = unpack_capture(capture);
    for p in manifest_read_errors(capture, "No such device or address") {
        let host = dir.path().join(p.trim_start_matches('/'));
        fs::remove_file(&host).unwrap_or_else(|e| panic!("{}: {e}", host.display()));
    }
    dir
}

fn run_list(ctx: &Ctx, args: &[&str]) -> Value {
    let opts = parse_args(args).unwrap();
    list(ctx, &opts).unwrap().expect("buses present")
}

#[test]
fn nine_kernel_captures_match_real_ndctl_via_ndctl_root() {
    let captures = kernel_captures();
    assert_eq!(captures.len(), 9, "all nine phases must be present");
    for capture in captures {
        let dir = unpack_for_library(&capture);
        // The environment variable is the documented way to point the library at a tree.
        std::env::set_var(ndctl::ctx::ROOT_ENV, dir.path());
        let ctx = Ctx::new().unwrap();
        std::env::remove_var(ndctl::ctx::ROOT_ENV);
        let results = guest_results_for(&capture);
        let expected = guest_json_for(&capture, &results);
        let ours = run_list(&ctx, &["-BDRNXi", "-vvv"]);
        assert!(
            json_eq_unordered(&ours, &expected),
            "{}: -BDRNXi -vvv differs:\n{}",
            capture.display(),
            json_diff(&ours, &expected).join("\n")
        );
        assert!(
            json_key_order_diffs(&ours, &expected).is_empty(),
            "{}: key order differs: {:?}",
            capture.display(),
            json_key_order_diffs(&ours, &expected)
        );
    }
}

fn guest_file(capture: &Path, name: &str) -> Value {
    let results = guest_results_for(capture);
    let phase = guest_phase_for(capture, &results);
    let want = format!("./phases/{phase}/{name}");
    let file = fs::File::open(&results).unwrap();
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        if e.path().unwrap().to_string_lossy() == want
            || format!("./{}", e.path().unwrap().to_string_lossy()) == want
        {
            return serde_json::from_reader(&mut e).unwrap();
        }
    }
    panic!("{want} not in {}", results.display());
}

#[test]
fn nine_kernel_captures_match_real_ndctl_human_output() {
    for capture in kernel_captures() {
        let dir = unpack_for_library(&capture);
        let ctx = Ctx::with_root(dir.path()).unwrap();
        // The guest ran -BDRNXFHMi -u; F and H need DIMM commands these DIMMs lack.
        let ours = run_list(&ctx, &["-BDRNXFHMi", "-u"]);
        let expected = guest_file(&capture, "ndctl-list-human.json");
        assert!(
            json_eq_unordered(&ours, &expected),
            "{}: human output differs:\n{}",
            capture.display(),
            json_diff(&ours, &expected).join("\n")
        );
    }
}

/// Remove what a static tree cannot reproduce: DIMM health and firmware come from DSM
/// ioctls, and the scrub state changed between the listing and the capture.
fn strip_live_state(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for k in ["health", "firmware", "scrub_state"] {
                m.remove(k);
            }
            m.values_mut().for_each(strip_live_state);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_live_state),
        _ => {}
    }
}

#[test]
fn nfit_test_captures_match_real_ndctl_except_command_data() {
    for capture in nfit_test_captures() {
        let dir = unpack_for_library(&capture);
        let ctx = Ctx::with_root(dir.path()).unwrap();
        let mut ours = run_list(&ctx, &["-BDRNXi", "-vvv"]);
        let mut expected = guest_json_for(&capture, &guest_results_for(&capture));
        strip_live_state(&mut ours);
        strip_live_state(&mut expected);
        assert!(
            json_eq_unordered(&ours, &expected),
            "{}: differs:\n{}",
            capture.display(),
            json_diff(&ours, &expected).join("\n")
        );
    }
}

#[test]
fn generated_nfit_test_tree_lists_like_the_loaded_kernel() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    ndctl_testsupport::fixture::nfit_test::write_tree(
        &root,
        ndctl_testsupport::fixture::nfit_test::Variant::Pmem,
    )
    .unwrap();
    let ctx = Ctx::with_root(&root).unwrap();
    let mut ours = run_list(&ctx, &["-BDRNXi", "-vvv"]);
    let loaded = nfit_test_captures()
        .into_iter()
        .find(|c| c.to_string_lossy().contains("00-loaded"))
        .expect("00-loaded capture");
    let mut expected = guest_json_for(&loaded, &guest_results_for(&loaded));
    strip_live_state(&mut ours);
    strip_live_state(&mut expected);
    assert_json_eq_unordered(&ours, &expected);
}

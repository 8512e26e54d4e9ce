//! The real-kernel captures in `tests/fixtures`, their ndctl JSON, and JSON comparison.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use serde_json::Value;
use tempfile::TempDir;

/// `tests/fixtures` of this crate.
pub fn fixtures_dir() -> PathBuf {
    crate::repo_dir().join("tests/fixtures")
}

/// The nine QEMU/Linux 6.1 captures (`tests/fixtures/kernel-6.1/sysfs-*.tar.gz`), in phase
/// order.
pub fn kernel_captures() -> Vec<PathBuf> {
    captures_in(&fixtures_dir().join("kernel-6.1"))
}

/// The nfit_test/Linux 6.1 captures (`tests/fixtures/nfit_test-6.1/sysfs-*.tar.gz`).
pub fn nfit_test_captures() -> Vec<PathBuf> {
    captures_in(&fixtures_dir().join("nfit_test-6.1"))
}

/// The `guest-results.tar.gz` next to a capture.
pub fn guest_results_for(capture: &Path) -> PathBuf {
    capture
        .parent()
        .expect("a capture lives in a fixtures directory")
        .join("guest-results.tar.gz")
}

fn captures_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("readable fixtures directory").path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with("sysfs-") && name.ends_with(".tar.gz")
        })
        .collect();
    v.sort();
    v
}

fn open_tarball(path: &Path) -> tar::Archive<GzDecoder<File>> {
    let f = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    tar::Archive::new(GzDecoder::new(f))
}

/// A tar member path without its leading `./`; `""` for the archive root.
fn member_name(raw: &Path) -> String {
    let s = raw.to_string_lossy();
    let s = s.strip_prefix("./").unwrap_or(&s);
    s.trim_end_matches('/').to_string()
}

/// One entry of a capture, comparable with a generated tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// Directory with its mode bits.
    Dir(u32),
    /// Regular file with mode bits and contents.
    File(u32, Vec<u8>),
    /// Symlink with its (relative) target.
    Link(String),
}

/// Every member of a capture tarball keyed by path relative to the capture root
/// (`sys/...`, `MANIFEST.tsv`), the root itself excluded.
pub fn read_tarball(tarball: &Path) -> BTreeMap<String, Entry> {
    let mut archive = open_tarball(tarball);
    let mut out = BTreeMap::new();
    for member in archive.entries().expect("a readable tarball") {
        let mut member = member.expect("a readable tar member");
        let name = member_name(&member.path().expect("a tar member path"));
        if name.is_empty() || name == "." {
            continue;
        }
        let mode = member.header().mode().expect("a tar mode") & 0o7777;
        let entry = match member.header().entry_type() {
            tar::EntryType::Directory => Entry::Dir(mode),
            tar::EntryType::Symlink => Entry::Link(
                member
                    .link_name()
                    .expect("a symlink target")
                    .expect("a symlink target")
                    .to_string_lossy()
                    .into_owned(),
            ),
            tar::EntryType::Regular => {
                let mut data = Vec::new();
                member.read_to_end(&mut data).expect("readable member data");
                Entry::File(mode, data)
            }
            other => panic!(
                "{}: {name}: unexpected tar entry type {other:?}",
                tarball.display()
            ),
        };
        out.insert(name, entry);
    }
    out
}

/// Unpacks a capture into a fresh temporary directory (symlinks kept as they are, modes
/// kept) and adds the `dev/` placeholders of [`add_dev_placeholders`].
pub fn unpack_capture(tarball: &Path) -> TempDir {
    let dir = tempfile::Builder::new()
        .prefix("ndctl-capture-")
        .tempdir()
        .expect("a temporary directory");
    let mut archive = open_tarball(tarball);
    archive.set_preserve_permissions(true);
    archive
        .unpack(dir.path())
        .unwrap_or_else(|e| panic!("unpacking {}: {e}", tarball.display()));
    add_dev_placeholders(dir.path());
    dir
}

/// Names of the device nodes a sysfs tree under `root` implies: `ndctlN` (entries of
/// `sys/class/nd`), every character and block device linked from `sys/dev/{char,block}`
/// (`nmemN`, `ndctlN`, `pmemX`, `pmemX.Ys`, `daxX.Y`), `sys/block/*` and
/// `sys/bus/dax/devices/*`.
pub fn device_node_names(root: &Path) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let entry_names = |dir: &str| -> Vec<(String, PathBuf)> {
        match fs::read_dir(root.join(dir)) {
            Ok(rd) => rd
                .map(|e| e.expect("a readable directory entry"))
                .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
                .collect(),
            Err(_) => Vec::new(),
        }
    };
    for dir in ["sys/class/nd", "sys/block", "sys/bus/dax/devices"] {
        names.extend(entry_names(dir).into_iter().map(|(n, _)| n));
    }
    for dir in ["sys/dev/char", "sys/dev/block"] {
        for (_, path) in entry_names(dir) {
            if let Ok(target) = fs::read_link(&path) {
                if let Some(base) = target.file_name() {
                    names.insert(base.to_string_lossy().into_owned());
                }
            }
        }
    }
    names
}

/// Creates `dev/<name>` (an empty regular file) for every [`device_node_names`] entry.
pub fn add_dev_placeholders(root: &Path) {
    let dev = root.join("dev");
    fs::create_dir_all(&dev).unwrap_or_else(|e| panic!("{}: {e}", dev.display()));
    for name in device_node_names(root) {
        let p = dev.join(&name);
        if !p.exists() {
            File::create(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        }
    }
}

/// The phase number of a capture file name (`sysfs-05-devdax.tar.gz` gives `"05"`).
fn capture_phase_number(capture: &Path) -> String {
    let name = capture.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.trim_start_matches("sysfs-")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect()
}

/// What one guest phase left behind that matters here.
#[derive(Default)]
struct GuestPhase {
    manifest: Option<Vec<u8>>,
    ndctl_list: Option<Vec<u8>>,
}

/// Per guest phase name: its sysfs-manifest.tsv and ndctl-list.json.
fn guest_phases(guest_results: &Path) -> BTreeMap<String, GuestPhase> {
    let mut phases: BTreeMap<String, GuestPhase> = BTreeMap::new();
    let mut archive = open_tarball(guest_results);
    for member in archive.entries().expect("a readable tarball") {
        let mut member = member.expect("a readable tar member");
        let name = member_name(&member.path().expect("a tar member path"));
        let parts: Vec<&str> = name.split('/').collect();
        let ["phases", phase, file] = parts.as_slice() else {
            continue;
        };
        if *file != "sysfs-manifest.tsv" && *file != "ndctl-list.json" {
            continue;
        }
        let mut data = Vec::new();
        member.read_to_end(&mut data).expect("readable member data");
        let slot = phases.entry(phase.to_string()).or_default();
        if *file == "sysfs-manifest.tsv" {
            slot.manifest = Some(data);
        } else {
            slot.ndctl_list = Some(data);
        }
    }
    phases
}

fn pick_phase(
    capture: &Path,
    guest_results: &Path,
    phases: &BTreeMap<String, GuestPhase>,
) -> String {
    let manifest = match read_tarball(capture).remove("MANIFEST.tsv") {
        Some(Entry::File(_, data)) => data,
        _ => panic!("{}: no MANIFEST.tsv", capture.display()),
    };
    let matching: Vec<&String> = phases
        .iter()
        .filter(|(_, p)| p.manifest.as_deref() == Some(manifest.as_slice()))
        .map(|(name, _)| name)
        .collect();
    match matching.as_slice() {
        [one] => (*one).clone(),
        [] => panic!(
            "{}: no phase of {} has the same manifest (phases: {:?})",
            capture.display(),
            guest_results.display(),
            phases.keys().collect::<Vec<_>>()
        ),
        several => {
            let number = capture_phase_number(capture);
            let by_number: Vec<&&String> = several
                .iter()
                .filter(|p| p.split('-').next() == Some(number.as_str()))
                .collect();
            match by_number.as_slice() {
                [one] => (**one).clone(),
                _ => panic!(
                    "{}: manifest matches phases {several:?} and the phase number {number:?} does not pick one",
                    capture.display()
                ),
            }
        }
    }
}

/// The guest phase that produced `capture`: the one whose `sysfs-manifest.tsv` equals the
/// capture's `MANIFEST.tsv` (phase names differ between the two, e.g. `00-initial` vs
/// `00-modules`). The manifest records paths, types, modes and read status but no
/// contents, so two phases can share one (nfit_test's `00-load` and `01-dsm`); the phase
/// number in the capture's file name then decides.
pub fn guest_phase_for(capture: &Path, guest_results: &Path) -> String {
    pick_phase(capture, guest_results, &guest_phases(guest_results))
}

/// The `ndctl list -BDRNXi -vvv` JSON that the real ndctl printed for `capture`.
///
/// For the nfit_test captures this JSON also holds what ndctl got through ioctls (DIMM
/// `health`, `firmware`) and a bus `scrub_state` that changed before the capture was
/// taken; a static tree cannot reproduce those. The QEMU captures have neither.
pub fn guest_json_for(capture: &Path, guest_results: &Path) -> Value {
    let phases = guest_phases(guest_results);
    let phase = pick_phase(capture, guest_results, &phases);
    let json = phases
        .get(&phase)
        .and_then(|p| p.ndctl_list.as_ref())
        .unwrap_or_else(|| {
            panic!(
                "{}: phase {phase} has no ndctl-list.json",
                guest_results.display()
            )
        });
    serde_json::from_slice(json).unwrap_or_else(|e| {
        panic!(
            "{}: phases/{phase}/ndctl-list.json: {e}",
            guest_results.display()
        )
    })
}

/// Semantic JSON equality in which arrays are compared as multisets (ndctl lists objects
/// in readdir order, which differs between kernfs and a disk filesystem) and objects as
/// maps (key order is checked separately by [`json_key_order_diffs`]).
fn unordered_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && unmatched(x, y).0.is_empty(),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| unordered_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Pairs equal elements greedily (equality is an equivalence, so greedy is exact) and
/// returns the indices left over on each side, plus the pairs found.
#[allow(clippy::type_complexity)]
fn unmatched(x: &[Value], y: &[Value]) -> (Vec<usize>, Vec<usize>, Vec<(usize, usize)>) {
    let mut used = vec![false; y.len()];
    let mut left = Vec::new();
    let mut pairs = Vec::new();
    for (i, v) in x.iter().enumerate() {
        match (0..y.len()).find(|&j| !used[j] && unordered_eq(v, &y[j])) {
            Some(j) => {
                used[j] = true;
                pairs.push((i, j));
            }
            None => left.push(i),
        }
    }
    let right = (0..y.len()).filter(|&j| !used[j]).collect();
    (left, right, pairs)
}

fn label(v: &Value) -> Option<String> {
    v.get("dev").and_then(Value::as_str).map(str::to_string)
}

fn diff_into(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    if unordered_eq(a, b) {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                match y.get(k) {
                    Some(w) => diff_into(&format!("{path}.{k}"), v, w, out),
                    None => out.push(format!("{path}.{k}: only in actual: {v}")),
                }
            }
            for (k, w) in y {
                if !x.contains_key(k) {
                    out.push(format!("{path}.{k}: only in expected: {w}"));
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            let (mut left, mut right, _) = unmatched(x, y);
            // Pair leftovers that describe the same device ("dev") to show what differs
            // inside them rather than two whole objects.
            left.retain(|&i| {
                let Some(name) = label(&x[i]) else {
                    return true;
                };
                match right
                    .iter()
                    .position(|&j| label(&y[j]).as_deref() == Some(name.as_str()))
                {
                    Some(pos) => {
                        let j = right.remove(pos);
                        diff_into(&format!("{path}[dev={name}]"), &x[i], &y[j], out);
                        false
                    }
                    None => true,
                }
            });
            if let ([i], [j]) = (left.as_slice(), right.as_slice()) {
                diff_into(&format!("{path}[{i}]"), &x[*i], &y[*j], out);
                return;
            }
            for i in left {
                out.push(format!("{path}[]: only in actual: {}", x[i]));
            }
            for j in right {
                out.push(format!("{path}[]: only in expected: {}", y[j]));
            }
        }
        _ => out.push(format!("{path}: actual {a} != expected {b}")),
    }
}

/// The differences between `actual` and `expected` (arrays unordered), one line each,
/// with a path like `$[dev=region1].namespaces[dev=namespace1.0].size`.
pub fn json_diff(actual: &Value, expected: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff_into("$", actual, expected, &mut out);
    out
}

/// Whether two JSON values are equal with arrays compared without regard to order; on a
/// mismatch the differences are printed to stderr.
pub fn json_eq_unordered(actual: &Value, expected: &Value) -> bool {
    let diffs = json_diff(actual, expected);
    if diffs.is_empty() {
        return true;
    }
    eprintln!("JSON mismatch ({} difference(s)):", diffs.len());
    for d in &diffs {
        eprintln!("  {d}");
    }
    false
}

/// Panics with a readable diff unless the values are equal (arrays unordered).
pub fn assert_json_eq_unordered(actual: &Value, expected: &Value) {
    let diffs = json_diff(actual, expected);
    assert!(diffs.is_empty(), "JSON mismatch:\n  {}", diffs.join("\n  "));
}

/// For two values equal under [`json_eq_unordered`], the objects whose keys come in a
/// different order (ndctl's key order is part of its output format).
pub fn json_key_order_diffs(actual: &Value, expected: &Value) -> Vec<String> {
    fn walk(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let kx: Vec<&String> = x.keys().collect();
                let ky: Vec<&String> = y.keys().collect();
                if kx != ky {
                    out.push(format!("{path}: keys {kx:?} != expected order {ky:?}"));
                }
                for (k, v) in x {
                    if let Some(w) = y.get(k) {
                        walk(&format!("{path}.{k}"), v, w, out);
                    }
                }
            }
            (Value::Array(x), Value::Array(y)) => {
                for (i, j) in unmatched(x, y).2 {
                    let name = label(&x[i]).map_or_else(|| i.to_string(), |n| format!("dev={n}"));
                    walk(&format!("{path}[{name}]"), &x[i], &y[j], out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk("$", actual, expected, &mut out);
    out
}

/// The paths (relative to the capture root, `sys/...`) whose read failed in the guest
/// with `reason` (a substring of the manifest's `ERR:` text, e.g.
/// `"No such device or address"` for ENXIO). Such files are stored empty.
pub fn manifest_read_errors(capture: &Path, reason: &str) -> BTreeSet<String> {
    let manifest = match read_tarball(capture).remove("MANIFEST.tsv") {
        Some(Entry::File(_, data)) => String::from_utf8(data).expect("a UTF-8 manifest"),
        _ => panic!("{}: no MANIFEST.tsv", capture.display()),
    };
    manifest
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            match fields.as_slice() {
                ["f", _, path, info] if info.starts_with("ERR:") && info.contains(reason) => {
                    Some(path.trim_start_matches('/').to_string())
                }
                _ => None,
            }
        })
        .collect()
}

//! Shared helpers of capi's integration tests: the function table, the artifacts of the
//! current build, and linking/compiling C against them.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// One row of `capi/libndctl.tsv`.
#[derive(Debug, Clone)]
pub struct Row {
    pub name: String,
    pub node: String,
    pub group: String,
    /// `object` (this 259 functions) or `command`.
    pub layer: String,
    pub prototype: String,
}

pub use crate::repo_dir;

/// The C library's crate directory.
pub fn capi_dir() -> PathBuf {
    repo_dir().join("capi")
}

/// Where capi's build script leaves the version script, export list and header for this
/// build: next to the static archive, in the profile directory above the test binary's
/// `deps/`.
pub fn out_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let deps = exe.parent().expect("deps directory");
    deps.parent().expect("profile directory").to_path_buf()
}

pub fn table() -> Vec<Row> {
    let path = capi_dir().join("libndctl.tsv");
    let text = fs::read_to_string(&path).expect("read libndctl.tsv");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            assert_eq!(c.len(), 6, "malformed row: {l}");
            Row {
                name: c[0].into(),
                node: c[1].into(),
                group: c[2].into(),
                layer: c[3].into(),
                prototype: c[5].into(),
            }
        })
        .collect()
}

/// Functions the build exported: the names in the generated version script.
pub fn defined_functions() -> BTreeSet<String> {
    let text = fs::read_to_string(out_dir().join("libndctl.sym")).expect("read libndctl.sym");
    text.lines()
        .map(str::trim)
        .filter_map(|l| l.strip_suffix(';'))
        .filter(|l| l.starts_with("ndctl_"))
        .map(str::to_owned)
        .collect()
}

/// The static archive cargo built for this test run (`deps/libndctl_capi-<hash>.a`; cargo
/// copies it to the profile directory only for `cargo build`).
pub fn archive() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let deps = exe.parent().expect("deps directory");
    let mut best: Option<(std::time::SystemTime, PathBuf)> = None;
    for entry in fs::read_dir(deps).expect("list deps").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("libndctl_capi-") && name.ends_with(".a") {
            let mtime = entry
                .metadata()
                .and_then(|m| m.modified())
                .expect("archive mtime");
            if best.as_ref().is_none_or(|(t, _)| mtime > *t) {
                best = Some((mtime, entry.path()));
            }
        }
    }
    best.expect("libndctl_capi-*.a next to the test binary").1
}

/// Links libndctl.so.6 from this build's archive (once per test binary) and returns the
/// directory holding `libndctl.so`, `libndctl.so.6` and the real file.
pub fn shared_library_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("test executable path");
        let stem = exe
            .file_name()
            .expect("exe name")
            .to_string_lossy()
            .into_owned();
        let dir = out_dir().join(format!("lib-{stem}"));
        let out = Command::new(repo_dir().join("scripts/link-libndctl.sh"))
            .arg("--out")
            .arg(&dir)
            .env("LIBNDCTL_A", archive())
            .env("LIBNDCTL_SYM", out_dir().join("libndctl.sym"))
            .env("LIBNDCTL_EXPORTS", out_dir().join("libndctl-exports.ld"))
            .output()
            .expect("run scripts/link-libndctl.sh");
        check(&out, "link-libndctl.sh");
        dir
    })
}

/// Panics with the command's output unless it succeeded.
pub fn check(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn run(cmd: &mut Command, what: &str) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    check(&out, what);
    out
}

/// Makes Debian's libndctl available (scripts/fetch-debian-libndctl.sh) and returns its
/// sysroot, or `None` after printing why it is not available here.
pub fn debian_sysroot() -> Option<PathBuf> {
    static ROOT: OnceLock<Option<PathBuf>> = OnceLock::new();
    ROOT.get_or_init(|| {
        let out = Command::new(repo_dir().join("scripts/fetch-debian-libndctl.sh"))
            .output()
            .ok()?;
        if !out.status.success() {
            eprintln!(
                "SKIP: Debian's libndctl is not available: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return None;
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        stdout.lines().last().map(|l| PathBuf::from(l.trim()))
    })
    .clone()
}

/// Include and library directories of Debian's libndctl under `sysroot`.
pub fn debian_dirs(sysroot: &Path) -> (PathBuf, PathBuf) {
    let include = sysroot.join("usr/include");
    let libdir = [
        "usr/lib/x86_64-linux-gnu",
        "usr/lib/aarch64-linux-gnu",
        "usr/lib64",
        "usr/lib",
    ]
    .iter()
    .map(|d| sysroot.join(d))
    .find(|d| d.join("libndctl.so.6").exists())
    .unwrap_or_else(|| sysroot.join("usr/lib"));
    (include, libdir)
}

/// A scratch directory that lives as long as the returned guard.
pub fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("ndctl-capi-test")
        .tempdir()
        .expect("create temp dir")
}

pub fn cc() -> String {
    std::env::var("CC").unwrap_or_else(|_| "cc".into())
}

/// A command for a C program linked against `libdir`'s libndctl. LD_LIBRARY_PATH is set
/// explicitly because cargo's own LD_LIBRARY_PATH (target/<profile>, where
/// scripts/link-libndctl.sh may have left another build) would win over the RUNPATH.
pub fn c_program(exe: &Path, libdir: &Path) -> Command {
    let mut cmd = Command::new(exe);
    cmd.env("LD_LIBRARY_PATH", libdir);
    cmd
}

/// Serialises the capi tests' changes to the process environment (`NDCTL_ROOT`,
/// `NDCTL_LOG`), which all threads of a test binary share.
pub static ENV_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `f` with the environment variables `vars` set, under [`ENV_LOCK`], and removes them
/// again afterwards.
pub fn with_env<R>(vars: &[(&str, &std::ffi::OsStr)], f: impl FnOnce() -> R) -> R {
    let _g = ENV_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    for (k, v) in vars {
        std::env::set_var(k, v);
    }
    let r = f();
    for (k, _) in vars {
        std::env::remove_var(k);
    }
    r
}

/// `ndctl_new`'s signature: the tests pass the library's function, which this crate, a
/// dependency of the library's tests, cannot name itself.
pub type NewFn<C> = unsafe extern "C" fn(*mut *mut C) -> std::ffi::c_int;

/// A context on the tree at `root`, made by `new` (`ndctl_new`) with `NDCTL_ROOT` set;
/// panics when there is none.
pub fn new_ctx<C>(root: &Path, new: NewFn<C>) -> *mut C {
    let mut ctx = std::ptr::null_mut();
    // SAFETY: `new` is ndctl_new, which writes a context through a valid out pointer.
    let rc = with_env(&[("NDCTL_ROOT", root.as_os_str())], || unsafe {
        new(&mut ctx)
    });
    assert_eq!(rc, 0, "ndctl_new on {}", root.display());
    assert!(
        !ctx.is_null(),
        "ndctl_new on {} returned NULL",
        root.display()
    );
    ctx
}

/// The captured nfit_test sysfs tree `name` of `tests/fixtures/nfit_test-6.1`, unpacked
/// into a scratch directory.
pub fn nfit_capture(name: &str) -> tempfile::TempDir {
    crate::captures::unpack_capture(&repo_dir().join("tests/fixtures/nfit_test-6.1").join(name))
}

//! Trees with mount points inside. Paths below `/sys` are opened relative to the tree's
//! `sys` directory without leaving its mount (`RESOLVE_NO_XDEV`), so that the file system
//! is known once per context; a device directory or attribute that is a mount point of
//! its own must still be read, the general way, with the same values and rules.
//!
//! Mounting needs root and a private mount namespace: the test runs itself again under
//! `unshare -m` (util-linux) and, unprivileged, is skipped with the reason printed.

use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Command;

use ndctl::sysfs::{Attr, Resolver, Sysfs};

const CHILD: &str = "NDCTL_MOUNTS_TEST_CHILD";
const NAME: &str = "mount_points_inside_the_tree_are_read_the_general_way";

fn mount(src: &Path, target: &Path, fstype: &str, flags: libc::c_ulong) {
    let c = |p: &[u8]| CString::new(p).unwrap();
    let (s, t, f) = (
        c(src.as_os_str().as_bytes()),
        c(target.as_os_str().as_bytes()),
        c(fstype.as_bytes()),
    );
    // SAFETY: valid NUL-terminated strings; no data argument.
    let r = unsafe { libc::mount(s.as_ptr(), t.as_ptr(), f.as_ptr(), flags, std::ptr::null()) };
    assert_eq!(
        r,
        0,
        "mount {}: {}",
        target.display(),
        std::io::Error::last_os_error()
    );
}

#[test]
fn mount_points_inside_the_tree_are_read_the_general_way() {
    if std::env::var_os(CHILD).is_none() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("SKIP {NAME}: needs root (mounts in a private mount namespace)");
            return;
        }
        let out = Command::new("unshare")
            .args(["-m", "--propagation", "private"])
            .arg(std::env::current_exe().unwrap())
            .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .output()
            .expect("unshare (util-linux)");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success(),
            "in a private mount namespace:\n{text}"
        );
        assert!(text.contains("1 passed"), "the test ran there:\n{text}");
        return;
    }

    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let region = dir.path().join("sys/devices/bus0/region0");
    fs::create_dir_all(&region).unwrap();
    // The device directory is a tmpfs of its own, and one attribute a file bound from
    // elsewhere over the one in it.
    mount(Path::new("tmpfs"), &region, "tmpfs", 0);
    fs::write(region.join("size"), "0x10\n").unwrap();
    fs::write(region.join("holder"), "btt0.0\n").unwrap();
    fs::write(region.join("uuid"), "stale\n").unwrap();
    fs::write(outside.path().join("uuid"), "fresh\n").unwrap();
    mount(
        &outside.path().join("uuid"),
        &region.join("uuid"),
        "",
        libc::MS_BIND,
    );
    // A character device mounted over a regular file: the listing still says "regular
    // file" (it reports what the mount covers); the device must not be opened.
    fs::write(region.join("covered"), "0\n").unwrap();
    mount(
        Path::new("/dev/null"),
        &region.join("covered"),
        "",
        libc::MS_BIND,
    );

    let p = Path::new("/sys/devices/bus0/region0");
    let value = |v: &str| Attr::Value(v.into());
    for (resolver, ring) in [
        (Resolver::Auto, true),
        (Resolver::Auto, false),
        (Resolver::Userspace, true),
        (Resolver::Userspace, false),
    ] {
        let s = Sysfs::with_resolver(dir.path(), resolver).unwrap();
        s.set_io_uring(ring);
        let ring = format!("{resolver:?}, io_uring {ring}");
        let (v, regular) = s.read_attrs(p, &["size", "uuid", "absent"], &["holder"]);
        let v: Vec<Attr> = v.into_iter().map(|r| r.unwrap()).collect();
        assert_eq!(
            v,
            vec![value("0x10"), value("fresh"), Attr::Missing],
            "ring {ring}"
        );
        assert_eq!(regular, vec![true, true, false, true], "ring {ring}");
        let (v, _) = s.read_attrs(p, &["covered"], &[]);
        assert!(
            matches!(v[0], Err(ndctl::Error::NotRegular { .. })),
            "ring {ring}: {:?}",
            v[0]
        );
        assert_eq!(s.read_known_regular(p, "holder").unwrap(), value("btt0.0"));
        let listed: Vec<Attr> = s
            .read_listed(p, &["size", "uuid"])
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(listed, vec![value("0x10"), value("fresh")], "ring {ring}");
        let mut names = s.list_dir(p).unwrap();
        names.sort();
        assert_eq!(names, ["covered", "holder", "size", "uuid"], "ring {ring}");
    }
}

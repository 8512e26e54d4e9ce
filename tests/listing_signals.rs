//! Directory listings stay whole while signals arrive.
//!
//! `getdents64` stops between two entries when the calling thread has a signal pending
//! and returns what it had so far: a call that leaves room in its buffer is then not the
//! end of the directory. Besides real signals (a program's `SIGCHLD` or timer handler),
//! io_uring flags its submitter that way (`TIF_NOTIFY_SIGNAL`) when it queues work for
//! it, so the library's own batches cause it. Seen in the qemu guest as devices that
//! vanished for one lookup (an empty listing of a live device, so "nstype is missing").
//!
//! Here a second thread sends the listing thread a signal (a no-op handler, `SA_RESTART`)
//! as fast as it can while the library lists the same directories over and over: on
//! sysfs (the host's `/sys`) and on tmpfs (a generated tree in `/dev/shm`); every listing
//! must hold every name.

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ndctl::sysfs::{Attr, Sysfs};

extern "C" fn ignore(_: libc::c_int) {}

/// Runs `list` repeatedly for `how_long` while another thread signals this one
/// (`SIGUSR2`, handled by a no-op); returns how many signals were sent and how many
/// listings ran.
fn under_signal_storm(how_long: Duration, mut list: impl FnMut()) -> (u64, u64) {
    // SAFETY: installs a handler that does nothing, for a signal no other test uses.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = ignore as extern "C" fn(libc::c_int) as usize;
        sa.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut sa.sa_mask);
        assert_eq!(libc::sigaction(libc::SIGUSR2, &sa, std::ptr::null_mut()), 0);
    }
    // SAFETY: plain system calls.
    let pid = unsafe { libc::getpid() };
    let tid = unsafe { libc::gettid() };
    let stop = Arc::new(AtomicBool::new(false));
    let storm = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut sent = 0u64;
            while !stop.load(Ordering::Relaxed) {
                // SAFETY: signals one thread of this process, which handles SIGUSR2.
                let r = unsafe { libc::syscall(libc::SYS_tgkill, pid, tid, libc::SIGUSR2) };
                assert_eq!(r, 0, "tgkill: {}", std::io::Error::last_os_error());
                sent += 1;
            }
            sent
        })
    };
    let t = Instant::now();
    let mut runs = 0u64;
    while t.elapsed() < how_long {
        list();
        runs += 1;
    }
    // The storm ends before this thread may: no signal goes to a thread id reused later.
    stop.store(true, Ordering::Relaxed);
    let sent = storm.join().expect("storm thread");
    (sent, runs)
}

fn names_by_std(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with('.'))
        .collect();
    v.sort();
    v
}

/// Lists `dirs` (host path, the same in the tree) under a signal storm; with `last`, also
/// reads that attribute of the first directory in a batch, which finds it by listing.
fn check_whole(s: &Sysfs, dirs: &[(&Path, &Path)], last: Option<&str>, what: &str) {
    let mut want: Vec<Vec<String>> = dirs.iter().map(|(host, _)| names_by_std(host)).collect();
    let mut short = Vec::new();
    let (sent, runs) = under_signal_storm(Duration::from_secs(2), || {
        if let Some(name) = last {
            let (values, _) = s.read_attrs(dirs[0].1, &[name], &[]);
            if !matches!(values[0], Ok(Attr::Value(_))) {
                short.push(format!("batch read of {name}: {:?}", values[0]));
            }
        }
        for ((host, inroot), want) in dirs.iter().zip(want.iter_mut()) {
            let mut got = s.list_dir(inroot).unwrap();
            got.sort();
            if &got != want {
                // The host's sysfs may change under the test (a module loaded): what
                // counts is a listing shorter than the directory, not a directory that
                // changed.
                let now = names_by_std(host);
                if &now != want {
                    *want = now;
                    continue;
                }
                short.push(format!(
                    "{}: {} of {} names",
                    inroot.display(),
                    got.len(),
                    want.len()
                ));
            }
        }
    });
    assert!(sent > 0, "{what}: no signal was sent");
    assert!(
        short.is_empty(),
        "{what}: {} of {runs} rounds ({sent} signals) listed short, e.g. {:?}",
        short.len(),
        &short[..short.len().min(3)]
    );
    eprintln!("{what}: {runs} rounds, {sent} signals, every listing whole");
}

#[test]
fn sysfs_listings_are_whole_under_signals() {
    // Directories of this host's sysfs with many entries (a device's attributes, the
    // module list): each listing is one or two getdents64 calls.
    let candidates = [
        "/sys/module",
        "/sys/kernel",
        "/sys/devices/system/cpu",
        "/sys/class",
    ];
    let dirs: Vec<(&Path, &Path)> = candidates
        .iter()
        .map(Path::new)
        .filter(|p| p.is_dir() && names_by_std(p).len() > 3)
        .map(|p| (p, p))
        .collect();
    if dirs.is_empty() {
        eprintln!("SKIP sysfs_listings_are_whole_under_signals: this host has no /sys to list");
        return;
    }
    let s = Sysfs::new(Path::new("/")).unwrap();
    check_whole(&s, &dirs, None, "sysfs");
}

#[test]
fn tmpfs_listings_are_whole_under_signals() {
    let Ok(dir) = tempfile::tempdir_in("/dev/shm") else {
        eprintln!("SKIP tmpfs_listings_are_whole_under_signals: no /dev/shm");
        return;
    };
    let d = dir.path().join("sys/devices/bus0/region0");
    fs::create_dir_all(&d).unwrap();
    for i in 0..300 {
        fs::write(d.join(format!("attr{i:03}")), "1\n").unwrap();
    }
    let s = Sysfs::new(dir.path()).unwrap();
    let inroot = Path::new("/sys/devices/bus0/region0");
    // A batch finds the file by listing the directory (the listing order is tmpfs's).
    check_whole(&s, &[(&d, inroot)], Some("attr000"), "tmpfs");
}

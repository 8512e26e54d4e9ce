//! Enumeration at scale: our `list` and a C walker over our `libndctl.so.6`, side by side
//! with Debian's real `ndctl` and the same walker over Debian's libndctl.
//!
//! ```text
//! cargo bench --bench list_bench                 # 1,000, 10,000 and 100,000 namespaces
//! cargo bench --bench list_bench -- --quick      # 100 and 1,000 (a CI-sized run)
//! cargo bench --bench list_bench -- --sizes 500,2000 --runs 7
//! ```
//!
//! Each size is a tree written by the project's generator (`Platform::scale`: one bus,
//! eight DIMMs, the namespaces in raw, sector, fsdax and devdax mode, attribute formats of
//! the real kernel's captures) on a tmpfs, files of equal mode and contents hard-linked to
//! one another so that 100,000 namespaces (10.7 million entries) fit in memory. The real library can only read `/sys`, so the
//! benchmark enters a private mount namespace, binds the tree over `/sys` and puts a tmpfs
//! with the tree's device-dax nodes over `/dev` (libdaxctl looks them up); our programs
//! read the same `/sys` (root `/`, as deployed: through `NDCTL_ROOT` they handed libdaxctl
//! longer host paths than Debian's library does, which its quadratic region lookup
//! compares). That needs root: without it the benchmark says
//! so and exits without measuring. With root, a baseline that cannot run or outputs that
//! differ are fatal: no time is reported for programs that disagree.
//!
//! Per size and program: median wall, user and system time over `--runs` alternating
//! runs (ours first on even runs, the real one first on odd runs), peak RSS (the child's
//! `ru_maxrss` from `wait4`), system calls per namespace (`strace -f -c`, a separate
//! untimed run) and the ratios ours / real. Results and analysis: docs/list-bench.md.

use std::ffi::CString;
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use ndctl_testsupport::captures::{json_diff, json_eq_unordered};
use ndctl_testsupport::fixture::nfit_test::{write_rendered, ClaimMode, Platform, DAX_MAJOR};
use ndctl_testsupport::fixture::sysfs_tree::{Node, SysfsTree};
use ndctl_testsupport::repo_dir;
use serde_json::Value;

const LIST_ARGS: &[&str] = &["list", "-BDRNXi", "-vvv"];

struct Args {
    sizes: Vec<usize>,
    runs: usize,
}

fn parse_args() -> Args {
    let mut a = Args {
        sizes: vec![1_000, 10_000, 100_000],
        runs: 5,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => a.sizes = vec![100, 1_000],
            "--sizes" => {
                a.sizes = it
                    .next()
                    .expect("--sizes needs a list")
                    .split(',')
                    .map(|s| s.trim().parse().expect("--sizes: numbers"))
                    .collect()
            }
            "--runs" => a.runs = it.next().and_then(|r| r.parse().ok()).expect("--runs N"),
            // cargo bench passes --bench to every bench target.
            "--bench" => {}
            other => panic!("list_bench: unknown argument {other}"),
        }
    }
    a
}

fn sh(cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    if !out.status.success() {
        panic!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A program of the comparison and how to start it.
struct Program {
    name: &'static str,
    exe: PathBuf,
    args: Vec<String>,
    /// `LD_LIBRARY_PATH` (set explicitly: cargo's own points at target/release, which
    /// may hold our libndctl.so.6).
    libdir: Option<PathBuf>,
}

impl Program {
    fn command(&self) -> Command {
        let mut c = Command::new(&self.exe);
        c.args(&self.args);
        c.env_remove("LD_LIBRARY_PATH").env_remove("NDCTL_ROOT");
        if let Some(l) = &self.libdir {
            c.env("LD_LIBRARY_PATH", l);
        }
        c
    }
}

struct Sample {
    wall: Duration,
    user: Duration,
    sys: Duration,
    maxrss_kib: u64,
}

fn tv(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
}

/// One timed run with output to /dev/null. The program runs under `/usr/bin/time -f %M`:
/// a child forked from this (large) benchmark process would carry the benchmark's RSS
/// into its `ru_maxrss`, one forked from `time` does not. User and system time are those
/// of `time` and the program it reaped (wait4).
fn timed(p: &Program, scratch: &Path) -> Sample {
    let inner = p.command();
    let rss_file = scratch.join(format!("rss-{}.txt", p.name));
    let mut c = Command::new("/usr/bin/time");
    c.args(["-f", "%M", "-o"]).arg(&rss_file).arg(&p.exe);
    c.args(&p.args);
    c.env_clear();
    for (k, v) in inner.get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    c.stdout(Stdio::null()).stderr(Stdio::null());
    let start = Instant::now();
    let child = c
        .spawn()
        .unwrap_or_else(|e| panic!("{}: cannot start: {e}", p.name));
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data filled by wait4.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waiting for our own child with valid out-pointers.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    let wall = start.elapsed();
    assert_eq!(r, pid, "{}: wait4 failed", p.name);
    let st = ExitStatus::from_raw(status);
    assert!(st.success(), "{}: exited with {st}", p.name);
    std::mem::forget(child);
    let rss = fs::read_to_string(&rss_file).expect("time's report");
    Sample {
        wall,
        user: tv(ru.ru_utime),
        sys: tv(ru.ru_stime),
        maxrss_kib: rss
            .lines()
            .last()
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or_else(|| panic!("{}: no peak RSS in {rss:?}", p.name)),
    }
}

/// Runs `p` once under `strace` with `options` (before `-o`), untimed, in `p`'s
/// environment, and returns strace's report.
fn traced(p: &Program, scratch: &Path, what: &str, options: &[&str]) -> String {
    let report = scratch.join(format!("{what}-{}.txt", p.name));
    let inner = p.command();
    let mut c = Command::new("strace");
    c.args(options)
        .arg("-o")
        .arg(&report)
        .arg(&p.exe)
        .args(&p.args);
    c.env_clear();
    for (k, v) in inner.get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    c.env("PATH", std::env::var_os("PATH").unwrap_or_default());
    c.stdout(Stdio::null()).stderr(Stdio::null());
    let st = c.status().expect("strace");
    assert!(st.success(), "strace {}: {st}", p.name);
    fs::read_to_string(&report).expect("strace report")
}

/// Total system calls of one run (`strace -f -c`), not timed.
fn syscalls(p: &Program, scratch: &Path) -> u64 {
    let text = traced(p, scratch, "strace", &["-f", "-c"]);
    text.lines()
        .find(|l| l.trim_end().ends_with("total"))
        .and_then(|l| l.split_whitespace().nth(3)?.parse().ok())
        .unwrap_or_else(|| panic!("no total in strace report:\n{text}"))
}

/// Whether a run of `p` had an open fail with EMFILE (traced for failed opens only).
fn ran_out_of_descriptors(p: &Program, scratch: &Path) -> bool {
    let options = [
        "-f",
        "--seccomp-bpf",
        "-e",
        "trace=open,openat,openat2",
        "-e",
        "status=failed",
    ];
    traced(p, scratch, "emfile", &options).contains("EMFILE")
}

fn output(p: &Program) -> String {
    sh(&mut p.command(), p.name)
}

/// DIMM health and firmware come from ioctls and a tree has no kernel behind it (the real
/// library still prints what its failed commands left); our listing has no firmware
/// objects yet. Both sides drop `health` and `firmware`, as tests/list_captures.rs does.
fn strip_ioctl_fields(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("health");
            m.remove("firmware");
            m.values_mut().for_each(strip_ioctl_fields);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_ioctl_fields),
        _ => {}
    }
}

fn walk_lines(text: &str, known: &[String]) -> Vec<String> {
    let mut v: Vec<String> = text
        .lines()
        .filter(|l| !known.iter().any(|k| line_matches(l, k)))
        .map(String::from)
        .collect();
    v.sort();
    v
}

/// The patterns of tests/c/known-differences.txt are `^<object path> <getter>=`.
fn line_matches(line: &str, pattern: &str) -> bool {
    // Only the two forms used there: "^bus:[^/ ]+ name=".
    let p = pattern.trim_start_matches('^');
    match p.split_once("[^/ ]+") {
        Some((pre, post)) => line.strip_prefix(pre).is_some_and(|rest| {
            rest.find(' ')
                .is_some_and(|i| !rest[..i].contains('/') && rest[i..].starts_with(post))
        }),
        None => line.starts_with(p),
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn cstr(p: &Path) -> CString {
    CString::new(p.as_os_str().as_encoded_bytes()).expect("path without NUL")
}

fn mount(src: &str, target: &Path, fstype: &str, flags: libc::c_ulong, data: &str) {
    let (s, t, f, d) = (
        CString::new(src).unwrap(),
        cstr(target),
        CString::new(fstype).unwrap(),
        CString::new(data).unwrap(),
    );
    // SAFETY: valid NUL-terminated strings.
    let r = unsafe { libc::mount(s.as_ptr(), t.as_ptr(), f.as_ptr(), flags, d.as_ptr().cast()) };
    assert_eq!(
        r,
        0,
        "mount {src} on {}: {}",
        target.display(),
        std::io::Error::last_os_error()
    );
}

fn umount(target: &Path) {
    let t = cstr(target);
    // SAFETY: valid path; failure (not mounted) is fine.
    unsafe { libc::umount2(t.as_ptr(), libc::MNT_DETACH) };
}

fn mknod(path: &Path, major: u32, minor: u32, mode: libc::mode_t) {
    let p = cstr(path);
    // SAFETY: valid path.
    let r = unsafe {
        libc::mknod(
            p.as_ptr(),
            libc::S_IFCHR | mode,
            libc::makedev(major, minor),
        )
    };
    assert_eq!(r, 0, "mknod {}", path.display());
}

/// Put the tree over /sys and a /dev with what the programs open or look up.
fn enter_tree(root: &Path, platform: &Platform) {
    umount(Path::new("/sys"));
    umount(Path::new("/dev"));
    mount(
        root.join("sys").to_str().unwrap(),
        Path::new("/sys"),
        "",
        libc::MS_BIND,
        "",
    );
    mount("list-bench-dev", Path::new("/dev"), "tmpfs", 0, "mode=755");
    mknod(Path::new("/dev/null"), 1, 3, 0o666);
    for bus in &platform.buses {
        for r in &bus.regions {
            for ns in &r.namespaces {
                if let Some(c) = ns.claim.as_ref().filter(|c| c.mode == ClaimMode::Devdax) {
                    let node = PathBuf::from(format!("/dev/dax{}.{}", r.id, ns.id));
                    mknod(&node, DAX_MAJOR, c.dax_minor, 0o600);
                }
            }
        }
    }
}

fn main() {
    let args = parse_args();
    assert!(
        Path::new("/usr/bin/time").exists() && Command::new("strace").arg("-V").output().is_ok(),
        "list_bench needs /usr/bin/time and strace (apt-get install time strace)"
    );
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } != 0 {
        println!(
            "SKIP list_bench: needs root (a private mount namespace with the generated tree \
             bound over /sys, for Debian's libndctl, which reads only /sys)"
        );
        return;
    }
    let repo = repo_dir();
    let work = repo.join("target/list-bench");
    let _ = fs::create_dir_all(&work);

    eprintln!("== building our list (release) and libndctl.so.6 (release)");
    sh(
        Command::new("cargo")
            .current_dir(&repo)
            .args([
                "build",
                "--release",
                "-q",
                "-p",
                "ndctl",
                "--example",
                "list",
            ])
            .env_remove("LD_LIBRARY_PATH"),
        "cargo build --example list",
    );
    let our_lib = work.join("lib");
    sh(
        Command::new(repo.join("scripts/link-libndctl.sh"))
            .args(["--release", "--out"])
            .arg(&our_lib),
        "link-libndctl.sh",
    );
    eprintln!("== fetching Debian's ndctl and libndctl (scripts/fetch-debian-libndctl.sh)");
    let real_ndctl = PathBuf::from(
        sh(
            Command::new(repo.join("scripts/fetch-debian-libndctl.sh")).arg("--ndctl"),
            "fetch-debian-libndctl.sh --ndctl (the baseline)",
        )
        .lines()
        .last()
        .expect("path of ndctl")
        .trim(),
    );
    let tool_root = real_ndctl.parent().unwrap().parent().unwrap().to_path_buf();
    let debian_libdir = [
        "lib/x86_64-linux-gnu",
        "lib/aarch64-linux-gnu",
        "lib64",
        "lib",
    ]
    .iter()
    .map(|d| tool_root.join(d))
    .find(|d| d.join("libndctl.so.6").exists())
    .expect("Debian's libndctl.so.6 next to its ndctl");
    let sysroot = PathBuf::from(
        sh(
            &mut Command::new(repo.join("scripts/fetch-debian-libndctl.sh")),
            "fetch-debian-libndctl.sh",
        )
        .lines()
        .last()
        .expect("sysroot")
        .trim(),
    );
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let walk_c = repo.join("tests/c/walk.c");
    let build_walk = |out: &Path, include: &Path, libdir: &Path| {
        sh(
            Command::new(&cc)
                .args(["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-I"])
                .arg(include)
                .arg(&walk_c)
                .arg("-o")
                .arg(out)
                .arg(format!("-L{}", libdir.display()))
                .arg("-lndctl"),
            "cc walk.c",
        );
    };
    let walk_ours = work.join("walk-ours");
    let walk_real = work.join("walk-debian");
    build_walk(&walk_ours, &repo.join("include"), &our_lib);
    // Debian's header, linked against the library unpacked beside its ndctl.
    build_walk(&walk_real, &sysroot.join("usr/include"), &debian_libdir);
    let known: Vec<String> = fs::read_to_string(repo.join("tests/c/known-differences.txt"))
        .expect("known-differences.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(String::from)
        .collect();

    let list_ours = Program {
        name: "list-ours",
        exe: repo.join("target/release/examples/list"),
        args: LIST_ARGS[1..].iter().map(|s| s.to_string()).collect(),
        libdir: None,
    };
    let list_real = Program {
        name: "list-debian",
        exe: real_ndctl.clone(),
        args: LIST_ARGS.iter().map(|s| s.to_string()).collect(),
        libdir: Some(debian_libdir.clone()),
    };
    let walker_ours = Program {
        name: "walk-ours",
        exe: walk_ours,
        args: Vec::new(),
        libdir: Some(our_lib.clone()),
    };
    let walker_real = Program {
        name: "walk-debian",
        exe: walk_real,
        args: Vec::new(),
        libdir: Some(debian_libdir),
    };

    raise_descriptor_limit();

    // Everything built: from here on, a private mount namespace.
    // SAFETY: plain syscalls on this single-threaded process.
    unsafe {
        assert_eq!(
            libc::unshare(libc::CLONE_NEWNS),
            0,
            "unshare(CLONE_NEWNS): {}",
            std::io::Error::last_os_error()
        );
    }
    mount(
        "none",
        Path::new("/"),
        "",
        libc::MS_REC | libc::MS_PRIVATE,
        "",
    );
    let trees = work.join("trees");
    let _ = fs::create_dir_all(&trees);
    // No inode limit: every hard link of a shared file counts as an inode on tmpfs, and
    // 100,000 namespaces are 10.7 million entries (the memory check is too_big_for's).
    mount(
        "list-bench-trees",
        &trees,
        "tmpfs",
        0,
        "mode=755,nr_inodes=0",
    );

    println!(
        "list_bench: `list -BDRNXi -vvv` (ours: examples/list; real: Debian's ndctl) and \
         tests/c/walk.c (over our libndctl.so.6 / Debian's), medians of {} alternating runs",
        args.runs
    );
    println!(
        "{:>8} {:<12} {:>9} {:>9} {:>9} {:>10} {:>9} | {:>6} {:>6} {:>6} {:>6} {:>6}",
        "ns",
        "program",
        "wall ms",
        "user ms",
        "sys ms",
        "RSS KiB",
        "sysc/ns",
        "wall",
        "cpu",
        "sysc",
        "RSS",
        "us/ns"
    );
    println!("(ratios: ours / real; cpu = user + sys; us/ns = wall per namespace)");
    let mut not_measured: Vec<String> = Vec::new();
    for &n in &args.sizes {
        let root = trees.join(n.to_string());
        let t0 = Instant::now();
        let platform = Platform::scale(n);
        let sysfs = platform.render().expect("render the scale tree");
        if let Some(why) = too_big_for(&trees, &sysfs) {
            println!("SKIP {n} namespaces: {why}");
            not_measured.push(format!("{n} ({why})"));
            continue;
        }
        let tree = match write_rendered(&root, platform, sysfs, true) {
            Ok(t) => t,
            Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => {
                let _ = fs::remove_dir_all(&root);
                let why = format!("the tree did not fit in the tmpfs ({e})");
                println!("SKIP {n} namespaces: {why}");
                not_measured.push(format!("{n} ({why})"));
                continue;
            }
            Err(e) => panic!("write the scale tree: {e}"),
        };
        eprintln!(
            "== {n} namespaces: tree of {} entries written in {:.1?}",
            tree.sysfs.len(),
            t0.elapsed()
        );
        drop(tree.sysfs);
        enter_tree(&root, &tree.platform);

        // Identical output before any time is reported.
        let mut ours: Value = serde_json::from_str(&output(&list_ours)).expect("our list: JSON");
        let mut real: Value = serde_json::from_str(&output(&list_real)).expect("real list: JSON");
        strip_ioctl_fields(&mut ours);
        strip_ioctl_fields(&mut real);
        let mut pairs = vec![(&list_ours, &list_real), (&walker_ours, &walker_real)];
        if !json_eq_unordered(&ours, &real) {
            let d = json_diff(&ours, &real);
            if !ran_out_of_descriptors(&list_real, &work) {
                panic!(
                    "{n}: our list differs from the real ndctl's ({} differences), first:\n{}",
                    d.len(),
                    d.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
                );
            }
            let why = format!(
                "list at {n}: Debian's ndctl ran out of descriptors (EMFILE) under this \
                 machine's limit and printed another list ({} differences); see \
                 raise_descriptor_limit",
                d.len()
            );
            println!("SKIP {why}");
            not_measured.push(why);
            pairs.remove(0);
        }
        let wo = walk_lines(&output(&walker_ours), &known);
        let wr = walk_lines(&output(&walker_real), &known);
        if wo != wr {
            let only_ours: Vec<_> = wo
                .iter()
                .filter(|l| wr.binary_search(l).is_err())
                .take(10)
                .collect();
            let only_real: Vec<_> = wr
                .iter()
                .filter(|l| wo.binary_search(l).is_err())
                .take(10)
                .collect();
            panic!("{n}: the walkers differ;\nonly ours: {only_ours:#?}\nonly Debian's: {only_real:#?}");
        }

        for (a, b) in pairs {
            let (mut sa, mut sb) = (Vec::new(), Vec::new());
            for i in 0..args.runs {
                if i % 2 == 0 {
                    sa.push(timed(a, &work));
                    sb.push(timed(b, &work));
                } else {
                    sb.push(timed(b, &work));
                    sa.push(timed(a, &work));
                }
            }
            let ca = syscalls(a, &work);
            let cb = syscalls(b, &work);
            let row = |p: &Program, s: &[Sample], calls: u64| {
                let wall = median(s.iter().map(|x| x.wall).collect());
                let user = median(s.iter().map(|x| x.user).collect());
                let sys = median(s.iter().map(|x| x.sys).collect());
                let rss = s.iter().map(|x| x.maxrss_kib).max().unwrap_or(0);
                (p.name, wall, user, sys, rss, calls as f64 / n as f64)
            };
            let ra = row(a, &sa, ca);
            let rb = row(b, &sb, cb);
            for r in [&ra, &rb] {
                print!(
                    "{:>8} {:<12} {:>9.1} {:>9.1} {:>9.1} {:>10} {:>9.1} |",
                    n,
                    r.0,
                    r.1.as_secs_f64() * 1e3,
                    r.2.as_secs_f64() * 1e3,
                    r.3.as_secs_f64() * 1e3,
                    r.4,
                    r.5
                );
                let per_ns = r.1.as_secs_f64() * 1e6 / n as f64;
                if std::ptr::eq(r, &ra) {
                    println!(
                        " {:>6.2} {:>6.2} {:>6.2} {:>6.2} {:>6.1}",
                        ra.1.as_secs_f64() / rb.1.as_secs_f64(),
                        (ra.2 + ra.3).as_secs_f64() / (rb.2 + rb.3).as_secs_f64(),
                        ra.5 / rb.5,
                        ra.4 as f64 / rb.4 as f64,
                        per_ns
                    );
                } else {
                    println!(" {:>6} {:>6} {:>6} {:>6} {:>6.1}", "", "", "", "", per_ns);
                }
            }
        }
        umount(Path::new("/sys"));
        umount(Path::new("/dev"));
        fs::remove_dir_all(&root).expect("remove the tree");
    }
    if !not_measured.is_empty() {
        println!("NOT MEASURED on this machine: {}", not_measured.join("; "));
    }
}

/// Why `tree` cannot be written to the tmpfs at `trees`, if it cannot. Files of equal
/// mode and contents are written as hard links of one inode (a tmpfs file takes at least a
/// page however short), so the tree needs a page per distinct value; tmpfs counts an inode
/// per entry (links included), and the kernel keeps a dentry per entry, counted against the
/// memory available.
fn too_big_for(trees: &Path, tree: &SysfsTree) -> Option<String> {
    let c = CString::new(trees.as_os_str().as_encoded_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: a valid path and a buffer of the right type.
    if unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: filled by statvfs.
    let st = unsafe { st.assume_init() };
    let values: std::collections::HashSet<_> = tree
        .iter()
        .filter_map(|(_, node)| match node {
            Node::File { mode, contents } => Some((*mode, contents.as_slice())),
            Node::Dir { .. } | Node::Symlink { .. } => None,
        })
        .collect();
    let entries = tree.len() as u64;
    // tmpfs counts each hard link against its inode limit.
    let inodes = entries;
    // A page per distinct value, and about 1 KiB of kernel memory per entry (dentry and,
    // for directories and symlinks, an inode), which must fit beside the tmpfs pages.
    let pages = values.len() as u64 * 4096;
    let kernel = entries * 1024;
    // (The fields' integer types differ between targets.)
    #[allow(clippy::unnecessary_cast)]
    let (free, free_inodes) = (
        st.f_bavail as u64 * st.f_frsize as u64,
        // A tmpfs without an inode limit reports none at all.
        if st.f_files == 0 {
            u64::MAX
        } else {
            st.f_favail as u64
        },
    );
    let available = mem_available().unwrap_or(u64::MAX);
    (inodes > free_inodes || pages > free || pages + kernel > available).then(|| {
        format!(
            "a tree of {entries} entries needs {inodes} inodes and about {} MiB of tmpfs \
             plus {} MiB of kernel memory; this machine offers {free_inodes} inodes, {} MiB \
             of tmpfs and {} MiB of available memory",
            pages >> 20,
            kernel >> 20,
            free >> 20,
            available >> 20
        )
    })
}

/// Lets the programs (which inherit it) open as many descriptors as the kernel allows.
///
/// Debian's `ndctl list` keeps one open per raw namespace whose disk has a `badblocks`
/// file (the list of bad blocks is read through a stream that stays open), and a dozen
/// more: 279 at 1,000 namespaces, about 25,000 at 100,000, where it fails with EMFILE
/// under a limit of 20,000 and prints a different list. Ours keeps none; both run under
/// the same limit. Without CAP_SYS_RESOURCE the hard limit stays, and the soft one is
/// raised to it; a list the real ndctl could not finish is then reported as not measured.
fn raise_descriptor_limit() {
    let most = fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()
        .and_then(|s| s.trim().parse::<libc::rlim_t>().ok())
        .unwrap_or(1 << 20);
    let lim = libc::rlimit {
        rlim_cur: most,
        rlim_max: most,
    };
    // SAFETY: a valid rlimit; as root, raising the hard limit up to fs.nr_open is allowed.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } == 0 {
        return;
    }
    let why = std::io::Error::last_os_error();
    let mut lim = lim;
    // SAFETY: a valid out pointer.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 {
        lim.rlim_cur = lim.rlim_max;
        // SAFETY: a valid rlimit, the soft limit at most the hard one.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
    }
    println!(
        "NOTE: descriptor limit {} (could not raise it to {most}: {why})",
        lim.rlim_cur
    );
}

/// `MemAvailable` from `/proc/meminfo`, in bytes.
fn mem_available() -> Option<u64> {
    let info = fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

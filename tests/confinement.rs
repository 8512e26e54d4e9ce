//! Confinement and reliability on copies of a real-kernel capture, tried as an attacker
//! would: links out of the root (absolute, climbing `../`, loops) at every directory level
//! the library walks, for reads, writes, binds and directory listings; FIFOs, sockets and
//! device nodes where attributes should be; counts far beyond the directory; odd device
//! names; an unprivileged run; `list` into a closed pipe; environment variables in a
//! privileged (setuid) process.
//!
//! Every hostile case runs with both resolvers (`openat2` and the userspace fallback), each
//! with attribute batches through io_uring and through per-file calls, in a
//! thread with a time bound, and checks that nothing outside the root was touched: the
//! outside tree is watched with inotify (any open, read, listing or write of it is an
//! event), its files' contents and mtimes are compared before and after, and every outside
//! file holds a marker that must not show up in any output, error or log record.

use std::collections::BTreeMap;
use std::ffi::{CString, OsStr};
use std::fs;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use ndctl::list::list;
use ndctl::logging::LogSink;
use ndctl::sysfs::Resolver;
use ndctl::Ctx;
use ndctl_testsupport::captures::*;
use ndctl_testsupport::list_cli::parse_args;

const BUS: &str = "sys/devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0012:00/ndbus0";
const MARKER: &str = "OUTSIDE-THE-ROOT-MARKER";
/// Generous for a 2-core machine running other builds; a hang is forever.
const TIME_BOUND: Duration = Duration::from_secs(60);

/// How a context reads the tree: which resolver confines paths, and whether attribute
/// batches go through io_uring or make their own calls per file.
#[derive(Debug, Clone, Copy)]
struct Way {
    resolver: Resolver,
    io_uring: bool,
}

fn resolvers() -> Vec<Way> {
    let mut v = Vec::new();
    for resolver in [Resolver::Auto, Resolver::Userspace] {
        for io_uring in [true, false] {
            v.push(Way { resolver, io_uring });
        }
    }
    v
}

fn ctx_for(root: &Path, way: Way) -> ndctl::Result<Ctx> {
    let ctx = Ctx::with_resolver(root, way.resolver)?;
    ctx.sysfs().set_io_uring(way.io_uring);
    Ok(ctx)
}

// ---------------------------------------------------------------------------------------
// Trees

/// The unpacked capture with its ENXIO files removed (as unreadable as on the live kernel).
fn pristine(name: &str) -> &'static Path {
    static CAPTURES: OnceLock<Mutex<BTreeMap<String, &'static tempfile::TempDir>>> =
        OnceLock::new();
    let mut map = CAPTURES
        .get_or_init(|| Mutex::new(BTreeMap::new()))
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let dir = map.entry(name.to_string()).or_insert_with(|| {
        let capture = fixtures_dir().join("kernel-6.1").join(name);
        let dir = unpack_capture(&capture);
        for p in manifest_read_errors(&capture, "No such device or address") {
            fs::remove_file(dir.path().join(&p)).unwrap();
        }
        Box::leak(Box::new(dir))
    });
    dir.path()
}

/// Where scratch trees go: a tmpfs when there is one (creating the ~900 files of a capture
/// copy is 20 times faster there than on this machine's disk), else the temporary directory.
fn scratch() -> PathBuf {
    let shm = Path::new("/dev/shm");
    match tempfile::tempdir_in(shm) {
        Ok(_) => shm.to_path_buf(),
        Err(_) => std::env::temp_dir(),
    }
}

/// A fresh copy of a capture to spoil.
fn copy_of(name: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("ndctl-confine-")
        .tempdir_in(scratch())
        .unwrap();
    cp_a(&pristine(name).join("."), dir.path());
    dir
}

fn cp_a(from: &Path, to: &Path) {
    let st = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(st.success(), "cp -a {} {}", from.display(), to.display());
}

fn mkfifo(p: &Path) {
    let c = CString::new(p.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid path.
    assert_eq!(
        unsafe { libc::mkfifo(c.as_ptr(), 0o644) },
        0,
        "{}",
        p.display()
    );
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

// ---------------------------------------------------------------------------------------
// The outside: a tree next to the root that must never be touched.

struct Outside {
    dir: tempfile::TempDir,
    before: BTreeMap<PathBuf, (Vec<u8>, SystemTime)>,
    inotify: Option<OwnedFd>,
}

impl Outside {
    fn new() -> Outside {
        Outside {
            dir: tempfile::Builder::new()
                .prefix("ndctl-outside-")
                .tempdir_in(scratch())
                .unwrap(),
            before: BTreeMap::new(),
            inotify: None,
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fill every regular file with the marker (whatever reads one shows it), remember
    /// contents and mtimes, and start watching every directory.
    fn arm(&mut self) {
        let files = walk(self.path());
        for (p, is_dir) in &files {
            if !is_dir {
                fs::write(p, format!("{MARKER}\n")).unwrap();
            }
        }
        // SAFETY: plain syscall; the descriptor is owned below.
        let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        assert!(fd >= 0);
        // SAFETY: a fresh descriptor.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        for (p, is_dir) in walk(self.path()) {
            if is_dir {
                let c = CString::new(p.as_os_str().as_bytes()).unwrap();
                let mask = libc::IN_OPEN
                    | libc::IN_ACCESS
                    | libc::IN_MODIFY
                    | libc::IN_ATTRIB
                    | libc::IN_CREATE
                    | libc::IN_DELETE
                    | libc::IN_MOVED_FROM
                    | libc::IN_MOVED_TO
                    | libc::IN_CLOSE_WRITE;
                // SAFETY: valid descriptor and path.
                let w = unsafe { libc::inotify_add_watch(fd.as_raw_fd(), c.as_ptr(), mask) };
                assert!(w >= 0, "watch {}", p.display());
            }
        }
        self.before = snapshot(self.path());
        // Drain what setting up produced.
        let _ = read_events(&fd);
        self.inotify = Some(fd);
    }

    fn assert_untouched(&self, what: &str) {
        let events = self.inotify.as_ref().map(read_events).unwrap_or_default();
        assert!(
            events.is_empty(),
            "{what}: the outside tree was accessed: {events:?}"
        );
        assert_eq!(
            snapshot(self.path()),
            self.before,
            "{what}: the outside tree changed"
        );
    }
}

fn walk(dir: &Path) -> Vec<(PathBuf, bool)> {
    let mut out = vec![(dir.to_path_buf(), true)];
    let mut i = 0;
    while i < out.len() {
        let (p, is_dir) = out[i].clone();
        if is_dir {
            for e in fs::read_dir(&p).unwrap() {
                let e = e.unwrap();
                let t = e.file_type().unwrap();
                if t.is_dir() {
                    out.push((e.path(), true));
                } else if t.is_file() {
                    out.push((e.path(), false));
                }
            }
        }
        i += 1;
    }
    out
}

fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, SystemTime)> {
    walk(dir)
        .into_iter()
        .filter(|(_, d)| !d)
        .map(|(p, _)| {
            let m = fs::symlink_metadata(&p).unwrap();
            let data = fs::read(&p).unwrap();
            (p, (data, m.modified().unwrap()))
        })
        .collect()
}

/// Pending inotify events as (mask, name).
fn read_events(fd: &OwnedFd) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        // SAFETY: the buffer is writable for its length.
        let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            return out;
        }
        let mut off = 0usize;
        while off < n as usize {
            // SAFETY: the kernel wrote whole inotify_event records into the buffer.
            let ev = unsafe { &*(buf.as_ptr().add(off) as *const libc::inotify_event) };
            let hdr = std::mem::size_of::<libc::inotify_event>();
            let name = &buf[off + hdr..off + hdr + ev.len as usize];
            let name = String::from_utf8_lossy(name)
                .trim_end_matches('\0')
                .to_string();
            out.push((ev.mask, name));
            off += hdr + ev.len as usize;
        }
    }
}

// ---------------------------------------------------------------------------------------
// What the library is asked to do.

/// Collects a context's log records.
#[derive(Default)]
struct Records(Mutex<Vec<String>>);

impl LogSink for Records {
    fn log(&self, r: &log::Record<'_>) {
        self.0
            .lock()
            .unwrap()
            .push(format!("{} {}: {}", r.level(), r.target(), r.args()));
    }
}

/// Run `f` in a thread; it must return within the time bound and not panic.
fn bounded<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let h = std::thread::spawn(move || {
        let r = f();
        let _ = tx.send(());
        r
    });
    match rx.recv_timeout(TIME_BOUND) {
        Ok(()) => h.join().unwrap_or_else(|_| panic!("{what}: panicked")),
        Err(_) => panic!("{what}: did not return within {TIME_BOUND:?} (hang)"),
    }
}

/// A result as text, errors by their message (what a user sees).
fn show<T: std::fmt::Debug>(r: ndctl::Result<T>) -> String {
    match r {
        Ok(v) => format!("Ok({v:?})"),
        Err(e) => format!("Err({e})"),
    }
}

/// Everything a user of the library does with a tree: the full listing, and on every
/// object the reads, writes and binds (enable / disable) the object model offers.
/// Returns the text of every result, error and log record.
fn exercise(root: &Path, resolver: Way) -> String {
    let mut out = String::new();
    let ctx = match ctx_for(root, resolver) {
        Ok(c) => c,
        Err(e) => return format!("ctx: {e}\n"),
    };
    let records = Arc::new(Records::default());
    ctx.logger().set_sink(records.clone());
    let opts = parse_args(["-BDRNXi", "-vvv"]).unwrap();
    out += &format!("list: {}\n", show(list(&ctx, &opts)));
    let opts = parse_args(["-DN"]).unwrap();
    out += &format!("list -DN: {}\n", show(list(&ctx, &opts)));
    match ctx.buses() {
        Err(e) => out += &format!("buses: {e}\n"),
        Ok(buses) => {
            for bus in buses {
                out += &format!("bus {} {}\n", bus.devname(), bus.provider());
                if let Ok(dimms) = bus.dimms() {
                    for d in dimms {
                        out += &format!("dimm {}\n", show(d.disable()));
                        out += &format!("dimm {}\n", show(d.enable()));
                    }
                }
                let Ok(regions) = bus.regions() else { continue };
                for r in regions {
                    out += &format!("mappings {}\n", show(r.mappings().map(|m| m.len())));
                    out += &format!("badblocks {}\n", show(r.badblocks()));
                    let Ok(nss) = r.namespaces() else { continue };
                    for ns in nss {
                        out += &format!("wc {}\n", show(ns.write_cache_is_enabled()));
                        out += &format!("set wc {}\n", show(ns.set_write_cache(false)));
                        out += &format!("ns bb {}\n", show(ns.badblocks()));
                        out += &format!("disable {}\n", show(ns.disable()));
                        out += &format!("enable {}\n", show(ns.enable()));
                    }
                    out += &format!("region enable {}\n", show(r.enable()));
                }
            }
        }
    }
    for r in records.0.lock().unwrap().iter() {
        out += r;
        out.push('\n');
    }
    out
}

// ---------------------------------------------------------------------------------------
// Links out of the root at every level.

#[derive(Debug, Clone, Copy)]
enum LinkKind {
    /// An absolute host path to the outside copy.
    Absolute,
    /// A relative path climbing above the root, then down to the outside copy.
    DotDot,
    /// A link to itself.
    Loop,
}

/// Every directory level the library walks, as paths relative to the root.
fn levels() -> Vec<(&'static str, String)> {
    vec![
        ("class/nd directory", "sys/class/nd".into()),
        ("class/nd/ndctl0 link", "sys/class/nd/ndctl0".into()),
        ("dev/char link to the bus", "sys/dev/char/246:0".into()),
        ("bus directory", BUS.into()),
        ("dimm directory", format!("{BUS}/nmem0")),
        ("region directory", format!("{BUS}/region1")),
        ("namespace directory", format!("{BUS}/region1/namespace1.0")),
        (
            "namespace block directory",
            format!("{BUS}/region1/namespace1.0/block"),
        ),
        ("block link", "sys/block/pmem1".into()),
        ("block dax directory", "sys/block/pmem1/dax".into()),
        ("drivers directory", "sys/bus/nd/drivers".into()),
        ("driver directory", "sys/bus/nd/drivers/nd_pmem".into()),
        ("driver link", format!("{BUS}/region0/namespace0.0/driver")),
    ]
}

/// Replace `rel` in `root` by a link of `kind` leading out to a copy in `outside`.
fn plant(root: &Path, rel: &str, kind: LinkKind, outside: &Path) {
    let at = root.join(rel);
    let real = fs::canonicalize(&at).unwrap();
    let copy = outside.join("copy");
    if !copy.exists() {
        cp_a(&real, &copy);
    }
    let meta = fs::symlink_metadata(&at).unwrap();
    if meta.file_type().is_symlink() {
        fs::remove_file(&at).unwrap();
    } else {
        fs::remove_dir_all(&at).unwrap();
    }
    let target: PathBuf = match kind {
        LinkKind::Absolute => copy,
        LinkKind::DotDot => {
            let depth = Path::new(rel).components().count() + 3;
            let mut t = PathBuf::new();
            for _ in 0..depth {
                t.push("..");
            }
            t.join(copy.strip_prefix("/").unwrap())
        }
        LinkKind::Loop => PathBuf::from(at.file_name().unwrap()),
    };
    symlink(&target, &at).unwrap();
}

#[test]
fn links_out_of_the_root_at_every_level_are_not_followed() {
    let mut cases = 0;
    for (what, rel) in levels() {
        for kind in [LinkKind::Absolute, LinkKind::DotDot, LinkKind::Loop] {
            for resolver in resolvers() {
                let root = copy_of("sysfs-04-fsdax.tar.gz");
                // An idle namespace, so that enabling it binds through the drivers.
                let idle = root
                    .path()
                    .join(format!("{BUS}/region1/namespace1.0/driver"));
                if !rel.ends_with("namespace1.0") && !rel.contains("namespace1.0/") {
                    let _ = fs::remove_file(idle);
                }
                let mut outside = Outside::new();
                plant(root.path(), &rel, kind, outside.path());
                outside.arm();
                let label = format!("{what} ({kind:?}, {resolver:?})");
                let r = root.path().to_path_buf();
                let text = bounded(&label, move || exercise(&r, resolver));
                outside.assert_untouched(&label);
                assert!(
                    !text.contains(MARKER),
                    "{label}: outside contents were read:\n{text}"
                );
                cases += 1;
            }
        }
    }
    assert_eq!(cases, levels().len() * 3 * resolvers().len());
}

#[test]
fn the_exercise_reaches_reads_writes_and_binds_on_an_intact_tree() {
    // Non-vacuity: on an intact copy the same exercise lists, reads the write cache,
    // writes it and binds through the drivers.
    for resolver in resolvers() {
        let root = copy_of("sysfs-04-fsdax.tar.gz");
        fs::remove_file(
            root.path()
                .join(format!("{BUS}/region1/namespace1.0/driver")),
        )
        .unwrap();
        // Watch the drivers' bind files inside the root for the bind writes.
        // SAFETY: plain syscall; the descriptor is owned below.
        let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        assert!(fd >= 0);
        // SAFETY: a fresh descriptor.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        for d in fs::read_dir(root.path().join("sys/bus/nd/drivers")).unwrap() {
            let c = CString::new(d.unwrap().path().as_os_str().as_bytes()).unwrap();
            // SAFETY: valid descriptor and path.
            let w = unsafe { libc::inotify_add_watch(fd.as_raw_fd(), c.as_ptr(), libc::IN_MODIFY) };
            assert!(w >= 0);
        }
        let r = root.path().to_path_buf();
        let text = bounded("intact", move || exercise(&r, resolver));
        let binds = read_events(&fd);
        assert!(text.contains("String(\"namespace1.0\")"), "{text}");
        assert!(text.contains("wc Ok("), "{text}");
        assert!(text.contains("set wc Ok(())"), "{text}");
        let wc = fs::read_to_string(root.path().join("sys/block/pmem1/dax/write_cache")).unwrap();
        assert!(
            wc.starts_with('0'),
            "write_cache written inside the root: {wc:?}"
        );
        // The binds wrote into drivers' bind files inside the root.
        assert!(
            binds.iter().any(|(_, name)| name == "bind"),
            "{resolver:?}: no bind write seen: {binds:?}\n{text}"
        );
    }
}

#[test]
fn openat2_is_used_where_the_kernel_has_it() {
    let root = pristine("sysfs-04-fsdax.tar.gz");
    match ndctl::sysfs::Sysfs::with_resolver(root, Resolver::Openat2) {
        Ok(s) => assert_eq!(s.resolver(), Resolver::Openat2),
        Err(e) => eprintln!("skipped: this kernel does not offer openat2: {e}"),
    }
    let s = ndctl::sysfs::Sysfs::with_resolver(root, Resolver::Userspace).unwrap();
    assert_eq!(s.resolver(), Resolver::Userspace);
}

// ---------------------------------------------------------------------------------------
// Not regular files where attributes should be.

#[derive(Debug, Clone, Copy)]
enum Special {
    Fifo,
    Socket,
    CharDevice,
}

impl Special {
    fn describe(self) -> &'static str {
        match self {
            Special::Fifo => "a FIFO, not an attribute file",
            Special::Socket => "a socket, not an attribute file",
            Special::CharDevice => "a character device, not an attribute file",
        }
    }

    /// Put one at `at` (replacing what is there).
    fn make(self, at: &Path, scratch_dir: &Path) {
        let _ = fs::remove_file(at);
        match self {
            Special::Fifo => mkfifo(at),
            Special::Socket => {
                // Bound at a short path (sun_path is 108 bytes), then moved into place;
                // the listener may go away, the socket file stays.
                let short = scratch_dir.join("s");
                let _l = std::os::unix::net::UnixListener::bind(&short).unwrap();
                fs::rename(&short, at).unwrap();
            }
            Special::CharDevice => {
                let c = CString::new(at.as_os_str().as_bytes()).unwrap();
                // SAFETY: a valid path; (1, 3) is /dev/null's number, harmless if opened.
                let rc =
                    unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o644, libc::makedev(1, 3)) };
                assert_eq!(rc, 0, "mknod {}", at.display());
            }
        }
    }
}

#[test]
fn fifos_sockets_and_device_nodes_never_block_or_get_opened() {
    // Attributes read while listing, written (write cache), bound through and unbound
    // through, read as lists (badblocks), and the bus's control device number.
    let places = [
        format!("{BUS}/region1/size"),
        format!("{BUS}/region1/namespace1.2/alt_name"),
        format!("{BUS}/nmem1/dev"),
        format!("{BUS}/region0/badblocks"),
        "sys/class/nd/ndctl0/dev".to_string(),
        "sys/block/pmem1/dax/write_cache".to_string(),
        // Every driver's bind: the bind tries them all, and must fail on each.
        "sys/bus/nd/drivers/*/bind".to_string(),
        "sys/bus/nd/drivers/nd_pmem/unbind".to_string(),
    ];
    let mut kinds = vec![Special::Fifo, Special::Socket];
    if is_root() {
        kinds.push(Special::CharDevice);
    } else {
        eprintln!("skipped the device-node cases: mknod needs root");
    }
    for resolver in resolvers() {
        for place in &places {
            for &kind in &kinds {
                let root = copy_of("sysfs-04-fsdax.tar.gz");
                let p = root.path();
                // An idle namespace, so that enabling it binds through the drivers.
                fs::remove_file(p.join(format!("{BUS}/region1/namespace1.0/driver"))).unwrap();
                match place.split_once("*") {
                    Some((dir, file)) => {
                        for drv in fs::read_dir(p.join(dir)).unwrap() {
                            let at = drv.unwrap().path().join(file.trim_start_matches('/'));
                            kind.make(&at, p);
                        }
                    }
                    None => kind.make(&p.join(place), p),
                }
                let r = p.to_path_buf();
                let label = format!("{kind:?} at {place} ({resolver:?})");
                let text = bounded(&label, move || exercise(&r, resolver));
                assert!(text.contains(kind.describe()), "{label}:\n{text}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Counts.

#[test]
fn a_count_far_beyond_the_directory_costs_nothing() {
    for resolver in resolvers() {
        let root = copy_of("sysfs-04-fsdax.tar.gz");
        fs::write(
            root.path().join(format!("{BUS}/region1/mappings")),
            "4294967295\n",
        )
        .unwrap();
        let r = root.path().to_path_buf();
        let n = bounded("mappings", move || {
            let ctx = ctx_for(&r, resolver).unwrap();
            let bus = &ctx.buses().unwrap()[0];
            let region = bus
                .regions()
                .unwrap()
                .into_iter()
                .find(|r| r.devname() == "region1")
                .unwrap();
            let opts = parse_args(["-BDRNXi", "-vvv"]).unwrap();
            list(&ctx, &opts).unwrap();
            region.mappings().unwrap().len()
        });
        // The directory holds mapping0 only.
        assert_eq!(n, 1);
    }
}

// ---------------------------------------------------------------------------------------
// Odd device names.

#[test]
fn duplicate_and_odd_device_names_are_decided_and_logged() {
    for resolver in resolvers() {
        let root = copy_of("sysfs-04-fsdax.tar.gz");
        let b = root.path().join(BUS);
        cp_a(
            &b.join("region1/namespace1.0"),
            &b.join("region1/namespace1.00"),
        );
        cp_a(&b.join("region0"), &b.join("region99999999999999999999"));
        let odd = b.join(OsStr::from_bytes(b"region2\xff"));
        cp_a(&b.join("region0"), &odd);
        let ctx = ctx_for(root.path(), resolver).unwrap();
        let records = Arc::new(Records::default());
        ctx.logger().set_sink(records.clone());
        let bus = &ctx.buses().unwrap()[0];
        let regions: Vec<String> = bus
            .regions()
            .unwrap()
            .iter()
            .map(|r| r.devname().to_string())
            .collect();
        let mut sorted = regions.clone();
        sorted.sort();
        assert_eq!(sorted, ["region0", "region1", "region2"], "{resolver:?}");
        let region1 = bus
            .regions()
            .unwrap()
            .into_iter()
            .find(|r| r.devname() == "region1")
            .unwrap();
        let ns: Vec<String> = region1
            .namespaces()
            .unwrap()
            .iter()
            .map(|n| n.devname().to_string())
            .collect();
        let ids: Vec<&String> = ns
            .iter()
            .filter(|n| *n == "namespace1.0" || *n == "namespace1.00")
            .collect();
        assert_eq!(ids.len(), 1, "one device per id, like libndctl: {ns:?}");
        let logs = records.0.lock().unwrap().join("\n");
        assert!(logs.contains("same device number 0"), "{logs}");
        assert!(
            logs.contains("region99999999999999999999: skipped: device number out of range"),
            "{logs}"
        );
        assert!(
            logs.contains("region2\\xff: skipped: name is not UTF-8"),
            "{logs}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Per-context logging in the crate.

#[test]
fn two_contexts_log_to_their_own_sinks() {
    let a_root = tempfile::tempdir().unwrap();
    fs::create_dir_all(a_root.path().join("sys/devices")).unwrap();
    let b_root = copy_of("sysfs-04-fsdax.tar.gz");
    fs::write(b_root.path().join(format!("{BUS}/region1/mappings")), "7\n").unwrap();
    let a = Ctx::with_root(a_root.path()).unwrap();
    let b = Ctx::with_root(b_root.path()).unwrap();
    let (ra, rb) = (Arc::new(Records::default()), Arc::new(Records::default()));
    a.logger().set_sink(ra.clone());
    b.logger().set_sink(rb.clone());
    assert!(a.buses().unwrap().is_empty());
    for r in b.buses().unwrap()[0].regions().unwrap() {
        r.mappings().unwrap();
    }
    let (la, lb) = (ra.0.lock().unwrap().clone(), rb.0.lock().unwrap().clone());
    assert!(la.iter().any(|m| m.contains("no NVDIMM buses")), "{la:?}");
    assert!(lb.iter().any(|m| m.contains("mappings is 7")), "{lb:?}");
    assert!(!la.iter().any(|m| m.contains("mappings is")), "{la:?}");
    assert!(!lb.iter().any(|m| m.contains("no NVDIMM buses")), "{lb:?}");
    // The threshold is per context too.
    b.logger().set_level(log::LevelFilter::Error);
    rb.0.lock().unwrap().clear();
    b.invalidate().unwrap();
    for r in b.buses().unwrap()[0].regions().unwrap() {
        r.mappings().unwrap();
    }
    assert!(rb.0.lock().unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------
// The list program: unprivileged, into a closed pipe, setuid.

fn list_exe() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let p = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples/list");
    assert!(p.exists(), "{} missing: run via cargo test", p.display());
    p
}

/// A copy of the list program and a capture in a directory anyone may enter.
fn world_readable_setup(capture: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let top = tempfile::Builder::new()
        .prefix("ndctl-nonroot-")
        .tempdir()
        .unwrap();
    fs::set_permissions(top.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let exe = top.path().join("list");
    fs::copy(list_exe(), &exe).unwrap();
    fs::set_permissions(&exe, fs::Permissions::from_mode(0o755)).unwrap();
    let root = top.path().join("root");
    fs::create_dir(&root).unwrap();
    cp_a(&pristine(capture).join("."), &root);
    fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).unwrap();
    (top, exe, root)
}

const NOBODY: u32 = 65534;

#[test]
fn unprivileged_listing_of_a_real_capture_shows_what_it_can_read() {
    if !is_root() {
        eprintln!("skipped: dropping to another user needs root");
        return;
    }
    let (_top, exe, root) = world_readable_setup("sysfs-05-devdax.tar.gz");
    // Non-vacuity: the capture has attributes only root may read, as on the kernel.
    let align = walk(&root)
        .into_iter()
        .find(|(p, d)| !d && p.ends_with("dax_region/align"))
        .expect("a dax_region/align in the devdax capture")
        .0;
    assert_eq!(fs::metadata(&align).unwrap().mode() & 0o777, 0o400);
    for args in [&["-N"][..], &["-BDRNXi", "-vvv"][..]] {
        let run = |as_nobody: bool| {
            let mut c = Command::new(&exe);
            c.args(args).env("NDCTL_ROOT", &root);
            if as_nobody {
                c.uid(NOBODY).gid(NOBODY);
            }
            let out = c.output().unwrap();
            (
                out.status,
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        };
        let (st_root, out_root, _) = run(false);
        let (st, out, err) = run(true);
        assert!(st_root.success());
        assert!(st.success(), "{args:?} as nobody: {st:?}\n{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let v_root: serde_json::Value = serde_json::from_str(&out_root).unwrap();
        let names = |v: &serde_json::Value| {
            let mut n: Vec<String> = Vec::new();
            collect_devs(v, &mut n);
            n.sort();
            n
        };
        assert!(!names(&v).is_empty());
        assert_eq!(
            names(&v),
            names(&v_root),
            "{args:?}: same devices as root sees"
        );
    }
}

fn collect_devs(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            if let Some(serde_json::Value::String(d)) = m.get("dev") {
                out.push(d.clone());
            }
            m.values().for_each(|x| collect_devs(x, out));
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_devs(x, out)),
        _ => {}
    }
}

#[test]
fn list_into_a_closed_pipe_exits_quietly() {
    let root = pristine("sysfs-04-fsdax.tar.gz");
    let mut fds = [0; 2];
    // SAFETY: a two-element array for pipe(2).
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: fresh descriptors from pipe2, owned here.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(r); // every write now fails with EPIPE
    let exe = list_exe();
    let root = root.to_path_buf();
    let out = bounded("list | closed pipe", move || {
        Command::new(exe)
            .args(["-BDRNXi", "-vvv"])
            .env("NDCTL_ROOT", root)
            .stdout(Stdio::from(w))
            .stderr(Stdio::piped())
            .output()
            .unwrap()
    });
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {err}", out.status);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.is_empty(), "quiet: {err}");
}

#[test]
fn a_privileged_process_ignores_ndctl_root() {
    if !is_root() {
        eprintln!("skipped: making a setuid-root program needs root");
        return;
    }
    let (top, exe, root) = world_readable_setup("sysfs-04-fsdax.tar.gz");
    // SAFETY: statvfs fills the struct for a valid path.
    let nosuid = unsafe {
        let c = CString::new(top.path().as_os_str().as_bytes()).unwrap();
        let mut st: libc::statvfs = std::mem::zeroed();
        libc::statvfs(c.as_ptr(), &mut st) == 0 && st.f_flag & libc::ST_NOSUID != 0
    };
    if nosuid {
        eprintln!("skipped: the temporary directory is on a nosuid mount");
        return;
    }
    let marker = "secure-getenv-test-provider";
    fs::write(root.join(format!("{BUS}/provider")), format!("{marker}\n")).unwrap();
    let run = || {
        let out = Command::new(&exe)
            .arg("-B")
            .env("NDCTL_ROOT", &root)
            .uid(NOBODY)
            .gid(NOBODY)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(
        run().contains(marker),
        "an ordinary process honours NDCTL_ROOT"
    );
    fs::set_permissions(&exe, fs::Permissions::from_mode(0o4755)).unwrap();
    assert!(
        !run().contains(marker),
        "a setuid process must not take its root from the environment"
    );
}

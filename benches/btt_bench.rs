//! BTT engine vs PMDK libpmemblk, same run, same machine, same sizes.
//!
//! Formats a BTT on a file in /dev/shm (mapped, cache-flush durability) and creates a
//! libpmemblk pool of the same size next to it (`PMEM_IS_PMEM_FORCE=1`, so PMDK flushes CPU
//! caches too), then runs sequential write/read and random write/read with 4096- and
//! 512-byte blocks on 1 and 2 threads, and times `check` against `pmempool check`. Prints
//! throughput for both, the ratio ours / theirs, and the copy limit: the same accesses as
//! bare block copies on the same kind of mapping (a write persisted with one fence, no BTT
//! metadata), which no BTT can beat.
//!
//! Run: `scripts/fetch-libpmemblk.sh && cargo bench --bench btt_bench [-- --size BYTES]
//! [--rand-ops N] [--reps N] [--dir DIR] [--work NAME] [--ours-only]`. libpmemblk is loaded at run time
//! (dlopen), so the crate builds without it; when it cannot be loaded the bench fails with
//! the reason, unless `--ours-only` asks for our figures alone.
//!
//! cargo runs benches with the target directory on `LD_LIBRARY_PATH`; if the project's own
//! `libndctl.so.6` has been linked there, libpmem (which needs libndctl) would load ours
//! instead of Debian's. The bench therefore re-executes itself once with the target
//! directory removed from `LD_LIBRARY_PATH`, loads libpmemblk by the absolute path the
//! system's loader cache gives, and refuses to run if the libndctl it dragged in is not a
//! system copy.

use std::ffi::{c_char, c_int, c_longlong, c_void, CStr, CString};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ndctl::btt_engine::{
    check, format_btt, BttMedia, Durability, FileStorage, FormatOptions, MmapStorage, Storage,
};

/// A block device under test.
trait Dev: Sync {
    fn nblock(&self) -> u64;
    fn read(&self, lba: u64, buf: &mut [u8]);
    fn write(&self, lba: u64, buf: &[u8]);
}

impl Dev for BttMedia<MmapStorage> {
    fn nblock(&self) -> u64 {
        self.nlba()
    }
    fn read(&self, lba: u64, buf: &mut [u8]) {
        self.read_sector(lba, buf).expect("btt read");
    }
    fn write(&self, lba: u64, buf: &[u8]) {
        self.write_sector(lba, buf).expect("btt write");
    }
}

type CreateFn = unsafe extern "C" fn(*const c_char, usize, usize, u32) -> *mut c_void;
type RwFn = unsafe extern "C" fn(*mut c_void, *mut c_void, c_longlong) -> c_int;
type WFn = unsafe extern "C" fn(*mut c_void, *const c_void, c_longlong) -> c_int;
type NblockFn = unsafe extern "C" fn(*mut c_void) -> usize;
type CloseFn = unsafe extern "C" fn(*mut c_void);
type ErrFn = unsafe extern "C" fn() -> *const c_char;

/// libpmemblk entry points, resolved with dlopen so the bench builds without the library.
struct Pmemblk {
    create: CreateFn,
    read: RwFn,
    write: WFn,
    nblock: NblockFn,
    close: CloseFn,
    errormsg: ErrFn,
}

/// Where the system's loader cache (not `LD_LIBRARY_PATH`) finds `soname`, from
/// `ldconfig -p`.
fn system_library(soname: &str) -> Option<PathBuf> {
    let out = std::process::Command::new("ldconfig")
        .arg("-p")
        .output()
        .or_else(|_| {
            std::process::Command::new("/sbin/ldconfig")
                .arg("-p")
                .output()
        })
        .ok()?;
    String::from_utf8_lossy(&out.stdout).lines().find_map(|l| {
        let l = l.trim();
        let (name, rest) = l.split_once(' ')?;
        if name != soname || !rest.contains("x86-64") && cfg!(target_arch = "x86_64") {
            return None;
        }
        Some(PathBuf::from(rest.rsplit_once("=> ")?.1))
    })
}

/// The file a loaded symbol comes from.
///
/// # Safety
/// `sym` must be an address returned by dlsym.
unsafe fn object_of(sym: *mut c_void) -> Option<PathBuf> {
    let mut info: libc::Dl_info = std::mem::zeroed();
    if libc::dladdr(sym, &mut info) == 0 || info.dli_fname.is_null() {
        return None;
    }
    let name = CStr::from_ptr(info.dli_fname)
        .to_string_lossy()
        .into_owned();
    std::fs::canonicalize(&name)
        .ok()
        .or(Some(PathBuf::from(name)))
}

fn dlerror() -> String {
    // SAFETY: dlerror returns NULL or a thread-local NUL-terminated message.
    unsafe {
        let e = libc::dlerror();
        if e.is_null() {
            "unknown dlopen error".into()
        } else {
            CStr::from_ptr(e).to_string_lossy().into_owned()
        }
    }
}

impl Pmemblk {
    /// Load Debian's libpmemblk by absolute path and check that its libndctl is a system
    /// copy, not one from `target_dir`. Returns the library and a line describing what was
    /// loaded.
    fn load(target_dir: Option<&Path>) -> Result<(Pmemblk, String), String> {
        let path = system_library("libpmemblk.so.1").ok_or(
            "libpmemblk.so.1 is not in the system's loader cache (ldconfig -p); \
             run scripts/fetch-libpmemblk.sh (as root) to install it from Debian",
        )?;
        let c = CString::new(path.as_os_str().to_string_lossy().as_bytes())
            .map_err(|e| e.to_string())?;
        // SAFETY: dlopen/dlsym with NUL-terminated names; the symbols have the prototypes of
        // libpmemblk.h (PMDK 1.12).
        unsafe {
            let h = libc::dlopen(c.as_ptr(), libc::RTLD_NOW);
            if h.is_null() {
                return Err(format!("dlopen {}: {}", path.display(), dlerror()));
            }
            let sym = |name: &CStr| {
                let p = libc::dlsym(h, name.as_ptr());
                if p.is_null() {
                    Err(format!("{name:?} missing from {}", path.display()))
                } else {
                    Ok(p)
                }
            };
            // libpmem pulls libndctl in; make sure it is not the project's own.
            let ndctl = libc::dlopen(
                c"libndctl.so.6".as_ptr(),
                libc::RTLD_NOW | libc::RTLD_NOLOAD,
            );
            let ndctl_path = if ndctl.is_null() {
                None
            } else {
                let p = libc::dlsym(ndctl, c"ndctl_new".as_ptr());
                let path = if p.is_null() { None } else { object_of(p) };
                libc::dlclose(ndctl);
                path
            };
            if let (Some(n), Some(t)) = (ndctl_path.as_ref(), target_dir) {
                if n.starts_with(t) {
                    return Err(format!(
                        "libpmem loaded the project's libndctl ({}) instead of the system's; \
                         the baseline would not be libpmemblk as shipped",
                        n.display()
                    ));
                }
            }
            let lib = Pmemblk {
                create: std::mem::transmute::<*mut c_void, CreateFn>(sym(c"pmemblk_create")?),
                read: std::mem::transmute::<*mut c_void, RwFn>(sym(c"pmemblk_read")?),
                write: std::mem::transmute::<*mut c_void, WFn>(sym(c"pmemblk_write")?),
                nblock: std::mem::transmute::<*mut c_void, NblockFn>(sym(c"pmemblk_nblock")?),
                close: std::mem::transmute::<*mut c_void, CloseFn>(sym(c"pmemblk_close")?),
                errormsg: std::mem::transmute::<*mut c_void, ErrFn>(sym(c"pmemblk_errormsg")?),
            };
            let what = format!(
                "baseline: {} (libndctl: {})",
                path.display(),
                ndctl_path
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "not loaded".into())
            );
            Ok((lib, what))
        }
    }
}

/// The cargo target directory this bench binary was built in (`target/<profile>/deps/..`).
fn target_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?.canonicalize().ok()?;
    Some(exe.parent()?.parent()?.parent()?.to_path_buf())
}

/// cargo puts the target directory (which may hold the project's `libndctl.so.6`) on
/// `LD_LIBRARY_PATH`, where it would shadow the system's libndctl for libpmem. Re-execute
/// once without those entries; the bench itself needs none of them.
fn reexec_without_target_libs(target: &Path) {
    const MARK: &str = "NDCTL_BTT_BENCH_REEXECED";
    let Some(old) = std::env::var_os("LD_LIBRARY_PATH") else {
        return;
    };
    if std::env::var_os(MARK).is_some() {
        return;
    }
    let keep: Vec<PathBuf> = std::env::split_paths(&old)
        .filter(|p| {
            let p = p.canonicalize().unwrap_or_else(|_| p.clone());
            !p.starts_with(target)
        })
        .collect();
    if keep.len() == std::env::split_paths(&old).count() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut cmd = std::process::Command::new(exe);
    cmd.args(std::env::args_os().skip(1)).env(MARK, "1");
    match std::env::join_paths(&keep) {
        Ok(p) if !keep.is_empty() => cmd.env("LD_LIBRARY_PATH", p),
        _ => cmd.env_remove("LD_LIBRARY_PATH"),
    };
    let err = cmd.exec();
    eprintln!("btt_bench: re-exec without the target directory on LD_LIBRARY_PATH failed: {err}");
    std::process::exit(1);
}

struct Pool {
    lib: Arc<Pmemblk>,
    pool: *mut c_void,
    nblock: u64,
}

// SAFETY: libpmemblk pools are documented thread-safe (per-lane locks inside).
unsafe impl Send for Pool {}
// SAFETY: as above.
unsafe impl Sync for Pool {}

impl Pool {
    fn create(lib: Arc<Pmemblk>, path: &Path, bsize: usize, size: usize) -> Result<Pool, String> {
        let _ = std::fs::remove_file(path);
        let c = CString::new(path.as_os_str().to_string_lossy().as_bytes())
            .map_err(|e| e.to_string())?;
        // SAFETY: valid C string; PMDK creates the file.
        let pool = unsafe { (lib.create)(c.as_ptr(), bsize, size, 0o600) };
        if pool.is_null() {
            // SAFETY: returns a static thread-local message.
            let msg = unsafe { std::ffi::CStr::from_ptr((lib.errormsg)()) };
            return Err(format!("pmemblk_create: {}", msg.to_string_lossy()));
        }
        // SAFETY: pool is open.
        let nblock = unsafe { (lib.nblock)(pool) } as u64;
        Ok(Pool { lib, pool, nblock })
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // SAFETY: closes the pool opened in create.
        unsafe { (self.lib.close)(self.pool) }
    }
}

impl Dev for Pool {
    fn nblock(&self) -> u64 {
        self.nblock
    }
    fn read(&self, lba: u64, buf: &mut [u8]) {
        // SAFETY: buf holds bsize bytes; lba < nblock.
        let r = unsafe { (self.lib.read)(self.pool, buf.as_mut_ptr().cast(), lba as c_longlong) };
        assert_eq!(r, 0, "pmemblk_read");
    }
    fn write(&self, lba: u64, buf: &[u8]) {
        // SAFETY: as in read.
        let r = unsafe { (self.lib.write)(self.pool, buf.as_ptr().cast(), lba as c_longlong) };
        assert_eq!(r, 0, "pmemblk_write");
    }
}

#[derive(Clone, Copy, Debug)]
enum Work {
    SeqWrite,
    RandWrite,
    RandRead,
    SeqRead,
}

impl Work {
    fn name(self) -> &'static str {
        match self {
            Work::SeqWrite => "seq write",
            Work::RandWrite => "rand write",
            Work::RandRead => "rand read",
            Work::SeqRead => "seq read",
        }
    }
}

fn splitmix(s: &mut u64) -> u64 {
    *s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *s;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// CPU time the calling thread has used.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid timespec to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// One timed run.
#[derive(Clone, Copy)]
struct Sample {
    ops: u64,
    wall: Duration,
    /// CPU time of the worker threads together: unlike wall time, it does not grow when
    /// other processes take the CPUs away (it still includes stalls on fences and misses).
    cpu: Duration,
}

impl Sample {
    fn per_wall_second(self) -> f64 {
        self.ops as f64 / self.wall.as_secs_f64()
    }
    fn per_cpu_second(self) -> f64 {
        self.ops as f64 / self.cpu.as_secs_f64()
    }
}

/// Run a workload.
fn run(dev: &dyn Dev, work: Work, threads: u64, bsize: usize, rand_ops: u64) -> Sample {
    let n = dev.nblock();
    let ops = match work {
        Work::SeqWrite | Work::SeqRead => n,
        Work::RandWrite | Work::RandRead => rand_ops,
    };
    let start = Instant::now();
    let cpu = std::thread::scope(|sc| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                sc.spawn(move || {
                    let cpu0 = thread_cpu_time();
                    let mut buf = vec![(t as u8).wrapping_add(1); bsize];
                    let mut rng = 0x1234_5678 ^ (t << 40) ^ bsize as u64;
                    let (lo, hi) = (ops * t / threads, ops * (t + 1) / threads);
                    for i in lo..hi {
                        match work {
                            Work::SeqWrite => dev.write(i, &buf),
                            Work::SeqRead => dev.read(i, &mut buf),
                            Work::RandWrite => dev.write(splitmix(&mut rng) % n, &buf),
                            Work::RandRead => dev.read(splitmix(&mut rng) % n, &mut buf),
                        }
                    }
                    thread_cpu_time() - cpu0
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("bench thread"))
            .sum::<Duration>()
    });
    Sample {
        ops,
        wall: start.elapsed(),
        cpu,
    }
}

/// The copy limit: the bench's accesses as bare block copies on a mapping like ours (a write
/// is one copy plus one persistence fence, a read one copy), with no map, flog or lanes.
/// With `commit_word`, a write also makes one aligned 8-byte word durable after its data,
/// as a second persistence point: the least any atomic, durable-on-return block write
/// needs (the data must be durable before the word that commits it).
struct CopyOnly {
    storage: MmapStorage,
    bsize: u64,
    nblock: u64,
    commit_word: bool,
}

/// Room for the commit words of [`CopyOnly`] (one cache line for each of 256 slots) before
/// its blocks.
const COMMIT_AREA: u64 = 256 * 64;

impl CopyOnly {
    fn new(path: &Path, size: u64, bsize: u32, commit_word: bool) -> CopyOnly {
        let _ = std::fs::remove_file(path);
        let f = std::fs::File::create(path).expect("create copy-limit file");
        f.set_len(size).expect("size copy-limit file");
        drop(f);
        let storage = MmapStorage::open(path, Durability::CacheFlush).expect("map copy file");
        CopyOnly {
            storage,
            bsize: u64::from(bsize),
            nblock: (size - COMMIT_AREA) / u64::from(bsize),
            commit_word,
        }
    }
}

impl Dev for CopyOnly {
    fn nblock(&self) -> u64 {
        self.nblock
    }
    fn read(&self, lba: u64, buf: &mut [u8]) {
        self.storage
            .read_at(COMMIT_AREA + lba * self.bsize, buf)
            .expect("copy read");
    }
    fn write(&self, lba: u64, buf: &[u8]) {
        let off = COMMIT_AREA + lba * self.bsize;
        self.storage.write_at(off, buf).expect("copy write");
        self.storage
            .persist(off, buf.len() as u64)
            .expect("copy persist");
        if self.commit_word {
            let word = (lba % 256) * 64;
            self.storage
                .write_at(word, &lba.to_le_bytes())
                .expect("commit word");
            self.storage.persist(word, 8).expect("commit persist");
        }
    }
}

struct Opts {
    size: u64,
    dir: PathBuf,
    rand_ops: u64,
    reps: usize,
    ours_only: bool,
    /// Run only the workloads whose name contains this (e.g. "rand write").
    work: Option<String>,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn parse_opts() -> Opts {
    let mut o = Opts {
        size: 1 << 30,
        dir: PathBuf::from("/dev/shm"),
        rand_ops: 300_000,
        reps: 3,
        ours_only: false,
        work: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let val = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--size" => o.size = val.parse().expect("--size BYTES"),
            "--dir" => o.dir = PathBuf::from(val),
            "--rand-ops" => o.rand_ops = val.parse().expect("--rand-ops N"),
            "--reps" => o.reps = val.parse::<usize>().expect("--reps N").max(1),
            "--work" => o.work = Some(val),
            "--ours-only" => {
                o.ours_only = true;
                i += 1;
                continue;
            }
            _ => {
                // cargo bench passes --bench; ignore anything else.
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    o
}

fn our_btt(path: &Path, size: u64, bsize: u32) -> BttMedia<MmapStorage> {
    let _ = std::fs::remove_file(path);
    let f = std::fs::File::create(path).expect("create bench file");
    f.set_len(size).expect("size bench file");
    drop(f);
    let s = MmapStorage::open(path, Durability::CacheFlush).expect("map bench file");
    format_btt(&s, 0, &FormatOptions::new(bsize)).expect("format");
    BttMedia::open(s, 0).expect("open")
}

/// Time `pmempool check` on a pool; a failure to run it or a failed check stops the bench.
fn time_pmempool_check(path: &Path) -> Duration {
    let start = Instant::now();
    let out = std::process::Command::new("pmempool")
        .arg("check")
        .arg(path)
        .output()
        .unwrap_or_else(|e| {
            eprintln!("btt_bench: FAILED: cannot run pmempool: {e}");
            std::process::exit(1)
        });
    let t = start.elapsed();
    if !out.status.success() {
        eprintln!(
            "btt_bench: FAILED: pmempool check {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stdout).trim()
        );
        std::process::exit(1);
    }
    t
}

fn main() {
    let target = target_dir();
    if let Some(t) = target.as_deref() {
        reexec_without_target_libs(t);
    }
    // libpmem reads this when it is loaded: treat the /dev/shm mapping as persistent memory
    // and flush CPU caches, like our CacheFlush mode.
    std::env::set_var("PMEM_IS_PMEM_FORCE", "1");
    let o = parse_opts();
    let lib = if o.ours_only {
        println!("--ours-only: no libpmemblk baseline, no ratios");
        None
    } else {
        match Pmemblk::load(target.as_deref()) {
            Ok((l, what)) => {
                println!("{what}");
                Some(Arc::new(l))
            }
            Err(e) => {
                eprintln!("btt_bench: FAILED: cannot load the libpmemblk baseline: {e}");
                eprintln!("(pass --ours-only to measure the BTT engine alone)");
                std::process::exit(1);
            }
        }
    };
    if lib.is_some() && which("pmempool").is_none() {
        eprintln!(
            "btt_bench: FAILED: pmempool (the check baseline) is not on PATH; \
             run scripts/fetch-libpmemblk.sh (as root) to install pmdk-tools"
        );
        std::process::exit(1);
    }
    println!(
        "BTT bench: {} MiB in {}, ours = ndctl btt_engine (mmap, clwb/clflushopt + sfence), \
         theirs = PMDK libpmemblk (PMEM_IS_PMEM_FORCE=1), copy = bare block copies on the same \
         kind of mapping (write + one fence; the limit for any BTT); {} random ops per run, \
         median of {} alternating runs",
        o.size >> 20,
        o.dir.display(),
        o.rand_ops,
        o.reps
    );
    println!("load average at start: {}", load_average());
    println!(
        "ratio = ours / pmemblk ops per wall second; cpu ratio = the same per CPU second of \
         the worker threads (robust to other load); ours/copy = ours / the copy limit; \
         2-point = copy + one durable 8-byte commit word per write (the floor of an atomic \
         durable write); all wall"
    );
    println!(
        "{:>5} {:>10} {:>3} {:>12} {:>13} {:>7} {:>9} {:>12} {:>10} {:>12} {:>10}",
        "bsize",
        "workload",
        "thr",
        "ours ops/s",
        "pmemblk ops/s",
        "ratio",
        "cpu ratio",
        "copy ops/s",
        "ours/copy",
        "2-point/s",
        "ours/2-pt"
    );
    let ours_path = o.dir.join("ndctl-btt-bench.img");
    let theirs_path = o.dir.join("ndctl-pmemblk-bench.pool");
    let copy_path = o.dir.join("ndctl-copy-bench.img");
    let copy2_path = o.dir.join("ndctl-copy2-bench.img");
    for bsize in [4096u32, 512] {
        let btt = our_btt(&ours_path, o.size, bsize);
        let pool = lib.as_ref().map(|l| {
            Pool::create(Arc::clone(l), &theirs_path, bsize as usize, o.size as usize)
                .expect("pmemblk pool")
        });
        let copy = CopyOnly::new(&copy_path, o.size, bsize, false);
        let copy2 = CopyOnly::new(&copy2_path, o.size, bsize, true);
        // Untimed warm-up: fault in every page of the files and map every block, so the
        // timed runs see a steady state (first-touch page faults dominate otherwise).
        run(&btt, Work::SeqWrite, 1, bsize as usize, 0);
        if let Some(p) = pool.as_ref() {
            run(p, Work::SeqWrite, 1, bsize as usize, 0);
        }
        run(&copy, Work::SeqWrite, 1, bsize as usize, 0);
        run(&copy2, Work::SeqWrite, 1, bsize as usize, 0);
        for threads in [1u64, 2] {
            for work in [
                Work::SeqWrite,
                Work::RandWrite,
                Work::RandRead,
                Work::SeqRead,
            ] {
                if o.work
                    .as_ref()
                    .is_some_and(|w| !work.name().contains(w.as_str()))
                {
                    continue;
                }
                // Alternate the implementations and keep the median of each, so that noise
                // from other load on the machine hits them alike.
                let mut ours_v = Vec::new();
                let mut theirs_v = Vec::new();
                let mut copy_v = Vec::new();
                let mut copy2_v = Vec::new();
                let writes = matches!(work, Work::SeqWrite | Work::RandWrite);
                for _ in 0..o.reps {
                    ours_v.push(run(&btt, work, threads, bsize as usize, o.rand_ops));
                    if let Some(p) = pool.as_ref() {
                        theirs_v.push(run(p, work, threads, bsize as usize, o.rand_ops));
                    }
                    copy_v.push(run(&copy, work, threads, bsize as usize, o.rand_ops));
                    if writes {
                        copy2_v.push(run(&copy2, work, threads, bsize as usize, o.rand_ops));
                    }
                }
                let wall = |v: &[Sample]| {
                    median(&mut v.iter().map(|s| s.per_wall_second()).collect::<Vec<_>>())
                };
                let cpu = |v: &[Sample]| {
                    median(&mut v.iter().map(|s| s.per_cpu_second()).collect::<Vec<_>>())
                };
                let ours = wall(&ours_v);
                let copy = wall(&copy_v);
                let two_points = if writes {
                    let c2 = wall(&copy2_v);
                    format!("{c2:>12.0} {:>9.2}x", ours / c2)
                } else {
                    format!("{:>12} {:>10}", "-", "-")
                };
                let (theirs, ratio, cpu_ratio) = match pool.as_ref() {
                    Some(_) => {
                        let th = wall(&theirs_v);
                        (
                            format!("{th:.0}"),
                            format!("{:.2}x", ours / th),
                            format!("{:.2}x", cpu(&ours_v) / cpu(&theirs_v)),
                        )
                    }
                    None => ("-".into(), "-".into(), "-".into()),
                };
                println!(
                    "{bsize:>5} {:>10} {threads:>3} {ours:>12.0} {theirs:>13} {ratio:>7} {cpu_ratio:>9} {copy:>12.0} {:>9.2}x {two_points}",
                    work.name(),
                    ours / copy
                );
            }
        }
        drop(btt);
        drop(pool);
        drop(copy);
        drop(copy2);
        // Check time on the fully written images.
        let s = FileStorage::open(&ours_path, false, Durability::None).expect("reopen");
        let start = Instant::now();
        let report = check(&s, 0).expect("check");
        let ours = start.elapsed();
        assert!(report.is_clean(), "{report}");
        if lib.is_some() {
            let th = time_pmempool_check(&theirs_path);
            println!(
                "{bsize:>5} check: ours {:.1} ms, pmempool check {:.1} ms, ours/theirs time {:.2} ({:.2}x faster)",
                ours.as_secs_f64() * 1e3,
                th.as_secs_f64() * 1e3,
                ours.as_secs_f64() / th.as_secs_f64(),
                th.as_secs_f64() / ours.as_secs_f64()
            );
        } else {
            println!("{bsize:>5} check: ours {:.1} ms", ours.as_secs_f64() * 1e3);
        }
    }
    for p in [&ours_path, &theirs_path, &copy_path, &copy2_path] {
        let _ = std::fs::remove_file(p);
    }
    println!("load average at end: {}", load_average());
}

/// The 1, 5 and 15 minute load averages: how much else ran on the machine meanwhile.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// `name` as found on PATH.
fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

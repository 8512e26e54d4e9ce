//! BTT engine vs PMDK libpmemblk, same run, same machine, same sizes.
//!
//! Formats a BTT on a file in /dev/shm (mapped, cache-flush durability) and creates a
//! libpmemblk pool of the same size next to it (`PMEM_IS_PMEM_FORCE=1`, so PMDK flushes CPU
//! caches too), then runs sequential write/read and random write/read with 4096- and
//! 512-byte blocks on 1 and 2 threads, and times `check` against `pmempool check`. Prints
//! throughput for both and the ratio ours / theirs.
//!
//! Run: `scripts/fetch-libpmemblk.sh && cargo bench --bench btt_bench [-- --size BYTES]
//! [--rand-ops N] [--reps N] [--dir DIR]`. libpmemblk is loaded at run time (dlopen), so the crate
//! builds without it; without it the bench prints our numbers only and says so.

use std::ffi::{c_char, c_int, c_longlong, c_void, CString};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ndctl::btt_engine::{
    check, format_btt, BttMedia, Durability, FileStorage, FormatOptions, MmapStorage,
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

impl Pmemblk {
    fn load() -> Result<Pmemblk, String> {
        // SAFETY: dlopen/dlsym with NUL-terminated names; the symbols have the prototypes of
        // libpmemblk.h (PMDK 1.12).
        unsafe {
            let h = libc::dlopen(c"libpmemblk.so.1".as_ptr(), libc::RTLD_NOW);
            if h.is_null() {
                return Err("libpmemblk.so.1 not found (run scripts/fetch-libpmemblk.sh)".into());
            }
            let sym = |name: &std::ffi::CStr| {
                let p = libc::dlsym(h, name.as_ptr());
                if p.is_null() {
                    Err(format!("{name:?} missing from libpmemblk"))
                } else {
                    Ok(p)
                }
            };
            Ok(Pmemblk {
                create: std::mem::transmute::<*mut c_void, CreateFn>(sym(c"pmemblk_create")?),
                read: std::mem::transmute::<*mut c_void, RwFn>(sym(c"pmemblk_read")?),
                write: std::mem::transmute::<*mut c_void, WFn>(sym(c"pmemblk_write")?),
                nblock: std::mem::transmute::<*mut c_void, NblockFn>(sym(c"pmemblk_nblock")?),
                close: std::mem::transmute::<*mut c_void, CloseFn>(sym(c"pmemblk_close")?),
                errormsg: std::mem::transmute::<*mut c_void, ErrFn>(sym(c"pmemblk_errormsg")?),
            })
        }
    }
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

/// Run a workload; returns (ops, elapsed).
fn run(dev: &dyn Dev, work: Work, threads: u64, bsize: usize, rand_ops: u64) -> (u64, Duration) {
    let n = dev.nblock();
    let ops = match work {
        Work::SeqWrite | Work::SeqRead => n,
        Work::RandWrite | Work::RandRead => rand_ops,
    };
    let start = Instant::now();
    std::thread::scope(|sc| {
        for t in 0..threads {
            sc.spawn(move || {
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
            });
        }
    });
    (ops, start.elapsed())
}

struct Opts {
    size: u64,
    dir: PathBuf,
    rand_ops: u64,
    reps: usize,
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

fn time_pmempool_check(path: &Path) -> Option<Duration> {
    let start = Instant::now();
    let out = std::process::Command::new("pmempool")
        .arg("check")
        .arg(path)
        .output()
        .ok()?;
    let t = start.elapsed();
    if !out.status.success() {
        eprintln!(
            "pmempool check failed: {}",
            String::from_utf8_lossy(&out.stdout).trim()
        );
        return None;
    }
    Some(t)
}

fn main() {
    // libpmem reads this when it is loaded: treat the /dev/shm mapping as persistent memory
    // and flush CPU caches, like our CacheFlush mode.
    std::env::set_var("PMEM_IS_PMEM_FORCE", "1");
    let o = parse_opts();
    let lib = match Pmemblk::load() {
        Ok(l) => Some(Arc::new(l)),
        Err(e) => {
            println!("NOTE: no baseline: {e}");
            None
        }
    };
    println!(
        "BTT bench: {} MiB in {}, ours = ndctl btt_engine (mmap, clwb/clflushopt + sfence), \
         theirs = PMDK libpmemblk (PMEM_IS_PMEM_FORCE=1); {} random ops per run, median of {} \
         alternating runs",
        o.size >> 20,
        o.dir.display(),
        o.rand_ops,
        o.reps
    );
    println!(
        "{:>5} {:>10} {:>3} {:>14} {:>14} {:>7}",
        "bsize", "workload", "thr", "ours ops/s", "pmemblk ops/s", "ratio"
    );
    let ours_path = o.dir.join("ndctl-btt-bench.img");
    let theirs_path = o.dir.join("ndctl-pmemblk-bench.pool");
    for bsize in [4096u32, 512] {
        let btt = our_btt(&ours_path, o.size, bsize);
        let pool = lib.as_ref().map(|l| {
            Pool::create(Arc::clone(l), &theirs_path, bsize as usize, o.size as usize)
                .expect("pmemblk pool")
        });
        // Untimed warm-up: fault in every page of both files and map every block, so the
        // timed runs see a steady state (first-touch page faults dominate otherwise).
        run(&btt, Work::SeqWrite, 1, bsize as usize, 0);
        if let Some(p) = pool.as_ref() {
            run(p, Work::SeqWrite, 1, bsize as usize, 0);
        }
        for threads in [1u64, 2] {
            for work in [
                Work::SeqWrite,
                Work::RandWrite,
                Work::RandRead,
                Work::SeqRead,
            ] {
                // Alternate the two implementations and keep the median of each, so that
                // noise from other load on the machine hits both alike.
                let mut ours_v = Vec::new();
                let mut theirs_v = Vec::new();
                for _ in 0..o.reps {
                    let (ops, t) = run(&btt, work, threads, bsize as usize, o.rand_ops);
                    ours_v.push(ops as f64 / t.as_secs_f64());
                    if let Some(p) = pool.as_ref() {
                        let (ops, t) = run(p, work, threads, bsize as usize, o.rand_ops);
                        theirs_v.push(ops as f64 / t.as_secs_f64());
                    }
                }
                let ours = median(&mut ours_v);
                let theirs = pool.as_ref().map(|_| median(&mut theirs_v));
                match theirs {
                    Some(th) => println!(
                        "{bsize:>5} {:>10} {threads:>3} {ours:>14.0} {th:>14.0} {:>6.2}x",
                        work.name(),
                        ours / th
                    ),
                    None => println!(
                        "{bsize:>5} {:>10} {threads:>3} {ours:>14.0} {:>14} {:>7}",
                        work.name(),
                        "-",
                        "-"
                    ),
                }
            }
        }
        drop(btt);
        drop(pool);
        // Check time on the fully written images.
        let s = FileStorage::open(&ours_path, false, Durability::None).expect("reopen");
        let start = Instant::now();
        let report = check(&s, 0).expect("check");
        let ours = start.elapsed();
        assert!(report.is_clean(), "{report}");
        match lib.as_ref().and_then(|_| time_pmempool_check(&theirs_path)) {
            Some(th) => println!(
                "{bsize:>5} check: ours {:.1} ms, pmempool check {:.1} ms, ours/theirs time {:.2} ({:.2}x faster)",
                ours.as_secs_f64() * 1e3,
                th.as_secs_f64() * 1e3,
                ours.as_secs_f64() / th.as_secs_f64(),
                th.as_secs_f64() / ours.as_secs_f64()
            ),
            None => println!("{bsize:>5} check: ours {:.1} ms (no pmempool)", ours.as_secs_f64() * 1e3),
        }
    }
    let _ = std::fs::remove_file(&ours_path);
    let _ = std::fs::remove_file(&theirs_path);
}

//! `kernel_checks`: the guest side of `tests/kernel/run.sh`. Runs inside a QEMU guest
//! booted with the stock Debian kernel, against the live libnvdimm sysfs, with Debian's
//! `ndctl` as the oracle:
//!
//! ```text
//! kernel_checks qemu|nfit OUTDIR
//! ```
//! Every check is an assertion on the kernel's state (sysfs and `/dev`), not only on a
//! return code. Results go to `OUTDIR/checks.tsv` (`name<TAB>PASS|FAIL<TAB>detail`) and to
//! stdout; `list` JSON pairs that differ are kept in OUTDIR for inspection.
//!
//! Not useful outside such a guest: it creates and destroys namespaces on every region.

use std::fs;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ndctl::configure::{self, Config};
use ndctl::{Bus, Ctx, Location, Mode, Namespace, Region};
use serde_json::Value;

const BIN: &str = "/opt/ndctl-rs/bin";
const MIB: u64 = 1 << 20;

type R<T = String> = Result<T, String>;

struct Report {
    out: PathBuf,
    tsv: fs::File,
    failed: usize,
}

impl Report {
    fn new(out: &Path) -> Report {
        let tsv = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(out.join("checks.tsv"))
            .expect("cannot write checks.tsv in the result directory");
        Report {
            out: out.to_path_buf(),
            tsv,
            failed: 0,
        }
    }

    /// Run one named check; `Ok(detail)` passes, `Err(why)` fails.
    fn check(&mut self, name: &str, f: impl FnOnce() -> R) -> bool {
        let t = Instant::now();
        let r = f();
        let secs = t.elapsed().as_secs_f32();
        let (st, detail) = match &r {
            Ok(d) => ("PASS", d.clone()),
            Err(e) => ("FAIL", e.clone()),
        };
        let detail = detail.replace(['\t', '\n'], " ");
        println!("CHECK {st} {name} ({secs:.1}s) {detail}");
        let _ = writeln!(self.tsv, "{name}\t{st}\t{detail}");
        let _ = self.tsv.flush();
        if r.is_err() {
            self.failed += 1;
        }
        r.is_ok()
    }
}

fn fail<T>(msg: impl Into<String>) -> R<T> {
    Err(msg.into())
}

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!($($fmt)+));
        }
    };
}

fn e2s<E: std::fmt::Display>(what: &str) -> impl Fn(E) -> String + '_ {
    move |e| format!("{what}: {e}")
}

// ------------------------------------------------------------------ commands

struct Out {
    rc: i32,
    stdout: String,
    stderr: String,
}

fn run(cmd: &str, args: &[&str]) -> R<Out> {
    let o = Command::new(cmd)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{cmd}: {e}"))?;
    Ok(Out {
        rc: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    })
}

fn run_ok(cmd: &str, args: &[&str]) -> R<String> {
    let o = run(cmd, args)?;
    ensure!(
        o.rc == 0,
        "{cmd} {} -> rc {}: {}",
        args.join(" "),
        o.rc,
        o.stderr.trim()
    );
    Ok(o.stdout)
}

fn run_stdin(cmd: &str, args: &[&str], input: &[u8]) -> R<Out> {
    let mut child = Command::new(cmd)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{cmd}: {e}"))?;
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(input)
        .map_err(e2s("stdin"))?;
    let o = child.wait_with_output().map_err(e2s(cmd))?;
    Ok(Out {
        rc: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    })
}

// ------------------------------------------------------------------ sysfs / dev (oracle)

fn nd(dev: &str) -> PathBuf {
    Path::new("/sys/bus/nd/devices").join(dev)
}

fn attr(dev: &str, name: &str) -> R<String> {
    let p = nd(dev).join(name);
    fs::read_to_string(&p)
        .map(|s| s.trim().to_string())
        .map_err(|e| format!("{}: {e}", p.display()))
}

fn bound(dev: &str) -> bool {
    nd(dev).join("driver").exists()
}

fn bdev_bytes(name: &str) -> R<u64> {
    let p = Path::new("/sys/class/block").join(name).join("size");
    let s = fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    let sectors: u64 = s.trim().parse().map_err(e2s("size"))?;
    Ok(sectors * 512)
}

/// The block device directory names under a nd device's `block/`.
fn block_of(dev: &str) -> Option<String> {
    let d = fs::read_dir(nd(dev).join("block")).ok()?;
    d.flatten()
        .next()
        .map(|e| e.file_name().to_string_lossy().into_owned())
}

fn dev_node(name: &str) -> R<PathBuf> {
    let p = Path::new("/dev").join(name);
    ensure!(p.exists(), "{} does not exist", p.display());
    Ok(p)
}

/// The nd devices (btt/pfn/dax) whose `namespace` attribute names `ns` and that are bound.
fn claims_of(ns: &str) -> Vec<String> {
    let mut v = Vec::new();
    if let Ok(d) = fs::read_dir("/sys/bus/nd/devices") {
        for e in d.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if (n.starts_with("btt") || n.starts_with("pfn") || n.starts_with("dax"))
                && attr(&n, "namespace").ok().as_deref() == Some(ns)
                && bound(&n)
            {
                v.push(n);
            }
        }
    }
    v.sort();
    v
}

/// Every btt/pfn/dax that names a namespace, and every bound namespace: for failure
/// details.
fn nd_state() -> String {
    let mut v = Vec::new();
    if let Ok(d) = fs::read_dir("/sys/bus/nd/devices") {
        for e in d.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            let ns = attr(&n, "namespace").unwrap_or_default();
            if !ns.is_empty() || (n.starts_with("namespace") && bound(&n)) {
                v.push(format!(
                    "{n}{}{}",
                    if bound(&n) { "(bound)" } else { "" },
                    if ns.is_empty() {
                        String::new()
                    } else {
                        format!("->{ns}")
                    }
                ));
            }
        }
    }
    v.sort();
    v.join(" ")
}

// ------------------------------------------------------------------ list comparison

fn normalise(v: &mut Value) {
    match v {
        Value::Array(a) => {
            for x in a.iter_mut() {
                normalise(x);
            }
            a.sort_by_key(|x| x.to_string());
        }
        Value::Object(o) => {
            for (_, x) in o.iter_mut() {
                normalise(x);
            }
        }
        _ => {}
    }
}

fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                match y.get(k) {
                    None => return Some(format!("{path}.{k} only in ndctl")),
                    Some(w) => {
                        if let Some(d) = first_difference(v, w, &format!("{path}.{k}")) {
                            return Some(d);
                        }
                    }
                }
            }
            y.keys()
                .find(|k| !x.contains_key(*k))
                .map(|k| format!("{path}.{k} only in ours"))
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (v, w))| first_difference(v, w, &format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!(
            "{path}: ndctl {} vs ours {}",
            short(&a.to_string()),
            short(&b.to_string())
        )),
    }
}

fn short(s: &str) -> String {
    s.chars().take(160).collect()
}

fn parse_list(out: &str) -> R<Value> {
    if out.trim().is_empty() {
        return Ok(Value::Array(vec![]));
    }
    serde_json::from_str(out).map_err(e2s("JSON"))
}

fn list_equal(rep: &mut Report, state: &str, args: &[&str]) {
    let out = rep.out.clone();
    rep.check(&format!("list-{state}"), || {
        // The kernel changes some values on its own between two listings (nfit_test starts
        // an ARS scrub after a namespace is created: `scrub_state` goes active, then idle),
        // so a difference is retried a few times before it counts; a retry is reported.
        let mut last = None;
        for attempt in 1..=4 {
            let theirs = run_ok("ndctl", &[&["list"], args].concat())?;
            let ours = run_ok(&format!("{BIN}/list"), args)?;
            let mut a = parse_list(&theirs)?;
            let mut b = parse_list(&ours)?;
            normalise(&mut a);
            normalise(&mut b);
            if a == b {
                let mut note = String::new();
                if attempt > 1 {
                    note.push_str(&format!(
                        " (equal on try {attempt}: the kernel changed state between listings)"
                    ));
                }
                return Ok(format!("ndctl list {} identical{note}", args.join(" ")));
            }
            last = Some((
                theirs,
                ours,
                first_difference(&a, &b, "").unwrap_or_else(|| "differ".into()),
            ));
            std::thread::sleep(std::time::Duration::from_secs(2));
        }
        let (theirs, ours, diff) = last.unwrap_or_default();
        let _ = fs::write(out.join(format!("list-{state}.ndctl.json")), &theirs);
        let _ = fs::write(out.join(format!("list-{state}.ours.json")), &ours);
        Err(diff)
    });
}

fn list_state(rep: &mut Report, state: &str) {
    list_equal(rep, state, &["-BDRNXi", "-vvv"]);
}

// ------------------------------------------------------------------ object model lookups

/// The region whose (single) DIMM has NFIT handle `handle`, from a fresh context.
fn region_by_handle(handle: u32) -> R<Arc<Region>> {
    let ctx = Ctx::new().map_err(e2s("ctx"))?;
    for bus in ctx.buses().map_err(e2s("buses"))? {
        for r in bus.regions().map_err(e2s("regions"))? {
            for d in r.dimms().map_err(e2s("dimms"))? {
                if d.handle().map_err(e2s("handle"))? == Some(handle) {
                    return Ok(r);
                }
            }
        }
    }
    // The count tells a leak of contexts (each holds descriptors) from a missing DIMM;
    // the census what the library saw against what the directories hold.
    let fds = fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0);
    let mut seen = Vec::new();
    for bus in ctx.buses().map_err(e2s("buses"))? {
        let dimms: Vec<String> = match bus.dimms() {
            Ok(ds) => ds
                .iter()
                .map(|d| format!("{} {:?}", d.devname(), d.handle().ok().flatten()))
                .collect(),
            Err(e) => vec![format!("dimms: {e}")],
        };
        seen.push(format!(
            "{}: dimms [{}], directory [{}]",
            bus.devname(),
            dimms.join(", "),
            dir_names(&bus.device().path(), |n| n.starts_with("nmem")
                || n.starts_with("region"))
        ));
        for r in bus.regions().map_err(e2s("regions"))? {
            seen.push(region_census(&r));
        }
    }
    fail(format!(
        "no region with DIMM handle {handle:#x} ({fds} descriptors open in this process): {}",
        seen.join("; ")
    ))
}

/// Entries of a directory whose names pass `keep`, sorted, for failure messages.
fn dir_names(dir: &Path, keep: impl Fn(&str) -> bool) -> String {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| keep(n))
                .collect()
        })
        .unwrap_or_else(|e| vec![format!("unreadable: {e}")]);
    v.sort();
    v.join(", ")
}

/// What the library lists of a region against what its directory holds.
fn region_census(r: &Region) -> String {
    let show = |v: Result<Vec<String>, ndctl::Error>| match v {
        Ok(v) => v.join(", "),
        Err(e) => format!("error: {e}"),
    };
    let maps = show(
        r.mappings()
            .map(|ms| ms.iter().map(|m| m.dimm().devname().to_string()).collect()),
    );
    let dimms = show(
        r.dimms()
            .map(|ds| ds.iter().map(|d| d.devname().to_string()).collect()),
    );
    let nss = show(r.namespaces().map(|ns| {
        ns.iter()
            .map(|n| format!("{} {}", n.devname(), n.type_name()))
            .collect()
    }));
    let seed = fs::read_to_string(r.device().path().join("namespace_seed"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|e| e.to_string());
    format!(
        "{} (enabled {:?}, namespace_seed {seed:?}): mappings [{maps}], dimms [{dimms}], \
         namespaces [{nss}], directory [{}]",
        r.devname(),
        r.is_enabled(),
        dir_names(&r.device().path(), |n| {
            n.starts_with("mapping") || n.starts_with("namespace") || n == "driver"
        })
    )
}

/// `configure::create`, whose failure also says what the region listed (`what` names the
/// step).
fn create_in(r: &Arc<Region>, c: &Config, what: &str) -> R<Arc<Namespace>> {
    configure::create(r, c).map_err(|e| format!("{what}: {e}: {}", region_census(r)))
}

/// The namespace named `name` of the region, or a failure that says what was listed.
fn namespace_named(r: &Region, name: &str) -> R<Arc<Namespace>> {
    r.namespaces()
        .map_err(e2s("namespaces"))?
        .into_iter()
        .find(|n| n.devname() == name)
        .ok_or_else(|| format!("namespace {name} vanished: {}", region_census(r)))
}

fn nmem_by_handle(handle: u32) -> R<String> {
    let ctx = Ctx::new().map_err(e2s("ctx"))?;
    for bus in ctx.buses().map_err(e2s("buses"))? {
        for d in bus.dimms().map_err(e2s("dimms"))? {
            if d.handle().map_err(e2s("handle"))? == Some(handle) {
                return Ok(d.devname().to_string());
            }
        }
    }
    fail(format!("no DIMM with handle {handle:#x}"))
}

fn io_namespace(region: &Region) -> R<Arc<Namespace>> {
    // No second look: a region's label-less namespace is always there, and a lookup that
    // missed it once was the library's listing stopping early (tests/listing_signals.rs).
    let nss = region.namespaces().map_err(e2s("namespaces"))?;
    match nss.iter().find(|n| n.type_name() == "namespace_io") {
        Some(ns) => Ok(Arc::clone(ns)),
        None => fail(format!(
            "{}: no label-less namespace: {}",
            region.devname(),
            region_census(region)
        )),
    }
}

/// Wait until the buses stop changing (probing is asynchronous).
fn settle(min_regions: usize) -> R<String> {
    let t = Instant::now();
    let mut last = String::new();
    let mut stable = 0;
    while t.elapsed() < Duration::from_secs(90) {
        let mut names: Vec<String> = fs::read_dir("/sys/bus/nd/devices")
            .map(|d| {
                d.flatten()
                    .map(|e| {
                        let n = e.file_name().to_string_lossy().into_owned();
                        let b = bound(&n);
                        format!("{n}:{b}")
                    })
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        let now = names.join(" ");
        let regions = names.iter().filter(|n| n.starts_with("region")).count();
        if now == last && regions >= min_regions {
            stable += 1;
            if stable >= 3 {
                return Ok(format!(
                    "{} nd devices after {:.1}s",
                    names.len(),
                    t.elapsed().as_secs_f32()
                ));
            }
        } else {
            stable = 0;
        }
        last = now;
        std::thread::sleep(Duration::from_millis(500));
    }
    fail(format!("nd bus did not settle: {last}"))
}

// ------------------------------------------------------------------ state assertions

/// Assert the kernel's view of `ns` in `cfg`'s mode; returns a one-line description.
fn assert_mode(ns: &str, cfg: &Config) -> R {
    let claims = claims_of(ns);
    match cfg.mode {
        Mode::Raw => {
            ensure!(claims.is_empty(), "{ns}: raw asked, claimed by {claims:?}");
            ensure!(bound(ns), "{ns}: not bound to nd_pmem");
            let b = block_of(ns).ok_or(format!("{ns}: no block device"))?;
            dev_node(&b)?;
            Ok(format!("{ns} raw /dev/{b} {} bytes", bdev_bytes(&b)?))
        }
        Mode::Sector => {
            ensure!(
                claims.len() == 1 && claims[0].starts_with("btt"),
                "{ns}: claims {claims:?}"
            );
            ensure!(!bound(ns), "{ns} itself is bound beside its btt");
            let btt = &claims[0];
            let want = cfg.sector_size.unwrap_or(4096);
            let ss = attr(btt, "sector_size")?;
            ensure!(
                ss.contains(&format!("[{want}]")),
                "{btt}: sector_size {ss}, wanted {want}"
            );
            let b = block_of(btt).ok_or(format!("{btt}: no block device"))?;
            dev_node(&b)?;
            let lbs: u64 =
                fs::read_to_string(format!("/sys/class/block/{b}/queue/logical_block_size"))
                    .map_err(e2s("logical_block_size"))?
                    .trim()
                    .parse()
                    .map_err(e2s("logical_block_size"))?;
            let data = if want >= 4096 { 4096 } else { 512 };
            ensure!(
                lbs == data,
                "/dev/{b}: logical block size {lbs}, wanted {data}"
            );
            Ok(format!(
                "{ns} sector {btt} {want} /dev/{b} {} bytes",
                bdev_bytes(&b)?
            ))
        }
        Mode::Fsdax => {
            ensure!(
                claims.len() == 1 && claims[0].starts_with("pfn"),
                "{ns}: claims {claims:?}"
            );
            let pfn = &claims[0];
            let m = attr(pfn, "mode")?;
            let want = if cfg.map == Location::Ram {
                "ram"
            } else {
                "pmem"
            };
            ensure!(m == want, "{pfn}: mode {m}, wanted {want}");
            if let Some(a) = cfg.align {
                let got = attr(pfn, "align")?;
                ensure!(got == a.to_string(), "{pfn}: align {got}, wanted {a}");
            }
            let b = block_of(pfn).ok_or(format!("{pfn}: no block device"))?;
            dev_node(&b)?;
            Ok(format!("{ns} fsdax {pfn} map={m} /dev/{b}"))
        }
        Mode::Devdax => {
            ensure!(
                claims.len() == 1 && claims[0].starts_with("dax"),
                "{ns}: claims {claims:?}"
            );
            let dax = &claims[0];
            if let Some(a) = cfg.align {
                let got = attr(dax, "align")?;
                ensure!(got == a.to_string(), "{dax}: align {got}, wanted {a}");
            }
            // The device-dax character device is a child of the nd dax device.
            let dir = nd(dax);
            let chr = fs::read_dir(&dir)
                .map_err(|e| format!("{}: {e}", dir.display()))?
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .find(|n| n.starts_with("dax") && dir.join(n).join("dev").exists())
                .ok_or(format!("{dax}: no daxX.Y device"))?;
            dev_node(&chr)?;
            Ok(format!("{ns} devdax {dax} /dev/{chr}"))
        }
        Mode::Unknown => fail("unknown mode"),
    }
}

fn cfg(mode: Mode, size: Option<u64>) -> Config {
    let mut c = Config::new(mode);
    c.size = size;
    c
}

fn sector(ss: u32, size: Option<u64>) -> Config {
    let mut c = cfg(Mode::Sector, size);
    c.sector_size = Some(ss);
    c
}

fn fsdax(map: Location, size: Option<u64>) -> Config {
    let mut c = cfg(Mode::Fsdax, size);
    c.map = map;
    c
}

fn devdax(align: u64, size: Option<u64>) -> Config {
    let mut c = cfg(Mode::Devdax, size);
    c.align = Some(align);
    c
}

fn describe(c: &Config) -> String {
    match c.mode {
        Mode::Sector => format!("sector{}", c.sector_size.unwrap_or(4096)),
        Mode::Fsdax => format!("fsdax-{}", c.map.map_name()),
        Mode::Devdax => format!("devdax-{}", c.align.map(|a| a / 1024).unwrap_or(0)) + "k",
        m => m.as_str().to_string(),
    }
}

fn errno_of(e: &ndctl::Error) -> i32 {
    -e.errno()
}

// ------------------------------------------------------------------ platform A: QEMU

const H_V11: u32 = 1;
const H_IO: u32 = 2;
const H_V12: u32 = 3;
const H_BIG: u32 = 4;

fn qemu(rep: &mut Report) {
    if !rep.check("settle", || settle(4)) {
        return;
    }
    list_state(rep, "initial");
    rep.check("init-labels-v1.1-and-v1.2", || {
        let a = nmem_by_handle(H_V11)?;
        let b = nmem_by_handle(H_V12)?;
        run_ok("ndctl", &["disable-region", "all"])?;
        run_ok("ndctl", &["init-labels", "-f", "-V", "1.1", &a])?;
        run_ok("ndctl", &["init-labels", "-f", "-V", "1.2", &b])?;
        run_ok("ndctl", &["enable-region", "all"])?;
        settle(4)?;
        for h in [H_V11, H_V12] {
            let r = region_by_handle(h)?;
            let seed = r
                .namespace_seed()
                .map_err(e2s("seed"))?
                .ok_or("no namespace seed")?;
            ensure!(
                seed.type_name() == "namespace_pmem",
                "{}: seed {} is {}",
                r.devname(),
                seed.devname(),
                seed.type_name()
            );
            ensure!(attr(seed.devname(), "size")? == "0", "seed not empty");
            ensure!(
                nd(seed.devname()).join("uuid").exists(),
                "labelled seed without uuid"
            );
        }
        Ok(format!(
            "{a} v1.1, {b} v1.2; both regions offer an empty labelled seed"
        ))
    });
    list_state(rep, "labels-initialised");

    enforce_mode_labelless(rep);
    size0_enable(rep);
    for (h, tag) in [(H_V11, "v1.1"), (H_V12, "v1.2")] {
        rust_write_path_labelled(rep, h, tag);
    }
    rust_labelless_reconfig(rep);
    busy_requests(rep);
    region_cycle(rep);
    c_write_path(rep);
    for (h, tag, version) in [
        (H_V11, "v1.1", "1.1"),
        (H_V12, "v1.2", "2.0"),
        (H_IO, "io", "1.1"),
    ] {
        for lbasize in [512u32, 4096, 520, 4160] {
            engine_to_kernel(rep, h, tag, version, lbasize);
        }
    }
    big_two_arenas(rep);
    engine_to_kernel(rep, H_BIG, "big", "1.1", 4096);
    // Last on the labelled regions: a refused size leaves the seed holding the uuid it
    // was given, which the kernel then refuses to change (EBUSY).
    capacity_requests(rep);
    list_state(rep, "final");
}

fn enforce_mode_labelless(rep: &mut Report) {
    rep.check("enforce-mode-labelless-is-enxio", || {
        let r = region_by_handle(H_IO)?;
        let ns = io_namespace(&r)?;
        ns.disable_invalidate().map_err(e2s("disable"))?;
        let res = ns.set_enforce_mode(Mode::Sector);
        // ENXIO, yet the class is in force: the kernel stores it before failing the
        // label update.
        let class = attr(ns.devname(), "holder_class");
        let reset = ns.set_enforce_mode(Mode::Raw);
        let class_after = attr(ns.devname(), "holder_class");
        let _ = ns.enable();
        let e = match res {
            Ok(()) => return fail("the kernel accepted holder_class on a label-less namespace"),
            Err(e) => e,
        };
        ensure!(errno_of(&e) == libc::ENXIO, "unexpected error {e}");
        ensure!(
            class.as_deref() == Ok("btt"),
            "holder_class after the failed write: {class:?}"
        );
        ensure!(
            reset.as_ref().err().map(errno_of) == Some(libc::ENXIO),
            "resetting to raw: {reset:?}"
        );
        ensure!(
            class_after.as_deref() == Ok(""),
            "holder_class after reset: {class_after:?}"
        );
        ensure!(bound(ns.devname()), "not re-enabled");
        Ok(format!(
            "{}: set_enforce_mode -> ENXIO ({e}) but holder_class reads btt until reset; \
             configure writes it and ignores that ENXIO",
            ns.devname()
        ))
    });
}

fn size0_enable(rep: &mut Report) {
    rep.check("enable-size0-names-cause", || {
        let r = region_by_handle(H_V11)?;
        let seed = r
            .namespace_seed()
            .map_err(e2s("seed"))?
            .ok_or_else(|| format!("no seed: {}", region_census(&r)))?;
        ensure!(seed.size() == 0, "seed has size {}", seed.size());
        match seed.enable() {
            Ok(_) => fail("enabling a size-0 namespace succeeded"),
            Err(e) => {
                let m = e.to_string();
                ensure!(m.contains("size 0"), "message does not name the cause: {m}");
                ensure!(!bound(seed.devname()), "seed got bound");
                Ok(m)
            }
        }
    });
}

fn rust_write_path_labelled(rep: &mut Report, handle: u32, tag: &str) {
    let modes = [
        cfg(Mode::Raw, Some(64 * MIB)),
        sector(512, Some(64 * MIB)),
        sector(4096, Some(64 * MIB)),
        sector(520, Some(64 * MIB)),
        sector(4160, Some(64 * MIB)),
        fsdax(Location::Ram, Some(64 * MIB)),
        fsdax(Location::Pmem, Some(64 * MIB)),
        devdax(4096, Some(64 * MIB)),
        devdax(2 * MIB, Some(64 * MIB)),
    ];
    for c in modes {
        let name = format!("rust-{tag}-create-{}", describe(&c));
        let mut created = None;
        rep.check(&name, || {
            let r = region_by_handle(handle)?;
            let ns = create_in(&r, &c, "create")?;
            created = Some(ns.devname().to_string());
            ensure!(
                attr(ns.devname(), "size")? == (64 * MIB).to_string(),
                "size attribute"
            );
            assert_mode(ns.devname(), &c)
        });
        list_state(rep, &format!("{tag}-{}", describe(&c)));
        if c.mode == Mode::Raw {
            rep.check(&format!("rust-{tag}-resize-disable-enable"), || {
                let r = region_by_handle(handle)?;
                let name = created.clone().ok_or("nothing created")?;
                let ns = namespace_named(&r, &name)?;
                ns.disable_safe().map_err(e2s("disable"))?;
                ensure!(!bound(&name), "{name} still bound after disable");
                ensure!(block_of(&name).is_none(), "{name} still has a block device");
                ns.set_size(128 * MIB).map_err(e2s("resize"))?;
                ensure!(
                    attr(&name, "size")? == (128 * MIB).to_string(),
                    "size after resize"
                );
                ns.enable().map_err(e2s("enable"))?;
                assert_mode(&name, &c)?;
                let b = block_of(&name).ok_or("no block device")?;
                ensure!(
                    bdev_bytes(&b)? == 128 * MIB,
                    "/dev/{b} is {} bytes",
                    bdev_bytes(&b)?
                );
                Ok(format!("{name} resized to 128 MiB, /dev/{b} follows"))
            });
            list_state(rep, &format!("{tag}-raw-resized"));
        }
        rep.check(&format!("rust-{tag}-destroy-{}", describe(&c)), || {
            let name = created.clone().ok_or("nothing created")?;
            let r = region_by_handle(handle)?;
            let ns = namespace_named(&r, &name)?;
            configure::destroy(&ns).map_err(e2s("destroy"))?;
            ensure!(
                claims_of(&name).is_empty(),
                "claims left: {:?}",
                claims_of(&name)
            );
            ensure!(!bound(&name), "still bound");
            let size = attr(&name, "size").unwrap_or_else(|_| "gone".into());
            ensure!(size == "0" || size == "gone", "size {size} after destroy");
            Ok(format!("{name} destroyed (size {size})"))
        });
    }
    list_state(rep, &format!("{tag}-after-write-path"));
}

fn rust_labelless_reconfig(rep: &mut Report) {
    // Every mode to every mode (raw, sector, fsdax, devdax: all 16 pairs) at least once;
    // the two transitions of the bug report (sector 4096 -> 512, devdax -> raw) are in it.
    let seq = [
        sector(4096, None),
        sector(512, None),
        fsdax(Location::Pmem, None),
        devdax(2 * MIB, None),
        cfg(Mode::Raw, None),
        devdax(4096, None),
        sector(4160, None),
        fsdax(Location::Ram, None),
        sector(520, None),
        cfg(Mode::Raw, None),
        fsdax(Location::Ram, None),
        devdax(2 * MIB, None),
        sector(4096, None),
        cfg(Mode::Raw, None),
        sector(512, None),
        devdax(4096, None),
        devdax(2 * MIB, None),
        fsdax(Location::Pmem, None),
        fsdax(Location::Ram, None),
        cfg(Mode::Raw, None),
    ];
    let mut prev = "raw".to_string();
    for (step, c) in seq.into_iter().enumerate() {
        let d = describe(&c);
        rep.check(&format!("rust-io-reconfig-{prev}-to-{d}"), || {
            let r = region_by_handle(H_IO)?;
            let ns = io_namespace(&r)?;
            let size = ns.size();
            let ns = configure::reconfigure(&ns, &c)
                .map_err(|e| format!("reconfigure: {e} [{}]", nd_state()))?;
            let desc = assert_mode(ns.devname(), &c)?;
            if c.mode == Mode::Sector {
                // The whole namespace minus BTT metadata: an old arena read with another
                // sector size would be a fraction of it.
                let btt = &claims_of(ns.devname())[0];
                let b = block_of(btt).ok_or("no bdev")?;
                let bytes = bdev_bytes(&b)?;
                ensure!(
                    bytes > size / 10 * 8,
                    "/dev/{b}: {bytes} bytes of a {size}-byte namespace"
                );
            }
            Ok(desc)
        });
        list_state(rep, &format!("io-{:02}-{d}", step + 1));
        prev = d;
    }
}

fn capacity_requests(rep: &mut Report) {
    rep.check("errno-too-large-is-enospc", || {
        let r = region_by_handle(H_V11)?;
        let seed = r
            .namespace_seed()
            .map_err(e2s("seed"))?
            .ok_or_else(|| format!("no seed: {}", region_census(&r)))?;
        let avail = r.available_size().map_err(e2s("available"))?.unwrap_or(0);
        seed.set_uuid(uuid::Uuid::from_u128(0x1234))
            .map_err(e2s("uuid"))?;
        let res = seed.set_size(avail + 256 * MIB);
        match res {
            Ok(()) => {
                let _ = seed.delete();
                fail("accepted a size beyond the available capacity")
            }
            Err(e) => {
                ensure!(
                    errno_of(&e) == libc::ENOSPC,
                    "errno {} ({e}), wanted ENOSPC",
                    errno_of(&e)
                );
                ensure!(attr(seed.devname(), "size")? == "0", "size changed");
                Ok(format!("{e}"))
            }
        }
    });
    rep.check("errno-misaligned-size-is-einval", || {
        let r = region_by_handle(H_V11)?;
        let seed = r
            .namespace_seed()
            .map_err(e2s("seed"))?
            .ok_or_else(|| format!("no seed: {}", region_census(&r)))?;
        match seed.set_size(64 * MIB + 4096) {
            Ok(()) => {
                let _ = seed.delete();
                fail("accepted a size that is not a multiple of the region's alignment")
            }
            Err(e) => {
                ensure!(
                    errno_of(&e) == libc::EINVAL,
                    "errno {} ({e}), wanted EINVAL",
                    errno_of(&e)
                );
                Ok(format!("{e}"))
            }
        }
    });
    list_state(rep, "after-capacity-requests");
}

fn busy_requests(rep: &mut Report) {
    rep.check("errno-busy", || {
        let r = region_by_handle(H_V11)?;
        let ns = create_in(&r, &cfg(Mode::Raw, Some(64 * MIB)), "create")?;
        let name = ns.devname().to_string();
        let b = block_of(&name).ok_or("no bdev")?;
        let mut msgs = vec![];
        // The kernel's answer to a size change of an enabled namespace.
        match fs::write(nd(&name).join("size"), "0x8000000\n") {
            Ok(()) => return fail("kernel accepted a resize of an enabled namespace"),
            Err(e) => {
                ensure!(e.raw_os_error() == Some(libc::EBUSY), "kernel said {e}");
            }
        }
        let e = ns
            .set_size(128 * MIB)
            .err()
            .ok_or("set_size of an enabled namespace passed")?;
        ensure!(
            errno_of(&e) == libc::EBUSY,
            "set_size: errno {}",
            errno_of(&e)
        );
        msgs.push(e.to_string());
        let e = ns
            .delete()
            .err()
            .ok_or("delete of an active namespace passed")?;
        ensure!(
            errno_of(&e) == libc::EBUSY,
            "delete: errno {}",
            errno_of(&e)
        );
        msgs.push(e.to_string());
        // Held open exclusively: a safe disable must refuse.
        let held = fs::OpenOptions::new()
            .read(true)
            .custom_flags_excl(&dev_node(&b)?)?;
        let e = ns
            .disable_safe()
            .err()
            .ok_or("disable_safe of an open namespace passed")?;
        ensure!(
            errno_of(&e) == libc::EBUSY,
            "disable_safe: errno {}",
            errno_of(&e)
        );
        ensure!(bound(&name), "disabled while held open");
        drop(held);
        msgs.push(e.to_string());
        configure::destroy(&ns).map_err(e2s("destroy"))?;
        Ok(msgs.join("; "))
    });
    rep.check("errno-bad-sector-size-and-align", || {
        let r = region_by_handle(H_V11)?;
        let mut msgs = vec![];
        let res = configure::create(&r, &sector(1000, Some(64 * MIB)));
        let e = res.err().ok_or("sector size 1000 accepted")?;
        ensure!(
            errno_of(&e) == libc::EINVAL,
            "sector 1000: errno {} ({e})",
            errno_of(&e)
        );
        msgs.push(e.to_string());
        cleanup_region(&r)?;
        let res = configure::create(&r, &devdax(3 * MIB, Some(64 * MIB)));
        let e = res.err().ok_or("devdax align 3M accepted")?;
        ensure!(
            errno_of(&e) == libc::EINVAL,
            "align 3M: errno {} ({e})",
            errno_of(&e)
        );
        msgs.push(e.to_string());
        cleanup_region(&r)?;
        Ok(msgs.join("; "))
    });
    list_state(rep, "after-impossible-requests");
}

/// Destroy every namespace with capacity that is not active (leftovers of failed setups).
fn cleanup_region(r: &Arc<Region>) -> R<()> {
    let r = region_by_handle(
        r.dimms().map_err(e2s("dimms"))?[0]
            .handle()
            .map_err(e2s("handle"))?
            .unwrap_or(0),
    )?;
    for ns in r.namespaces().map_err(e2s("namespaces"))? {
        if ns.size() > 0 && ns.type_name() == "namespace_pmem" {
            configure::destroy(&ns).map_err(e2s("cleanup destroy"))?;
        }
    }
    for b in r.btts().map_err(e2s("btts"))? {
        if !b.is_enabled().map_err(e2s("btt enabled"))? && b.namespace().ok().flatten().is_some() {
            b.delete().map_err(e2s("btt delete"))?;
        }
    }
    for d in r.daxs().map_err(e2s("daxs"))? {
        if !d.is_enabled().map_err(e2s("dax enabled"))? && d.namespace().ok().flatten().is_some() {
            d.delete().map_err(e2s("dax delete"))?;
        }
    }
    Ok(())
}

trait ExclOpen {
    fn custom_flags_excl(&mut self, p: &Path) -> R<fs::File>;
}

impl ExclOpen for fs::OpenOptions {
    fn custom_flags_excl(&mut self, p: &Path) -> R<fs::File> {
        use std::os::unix::fs::OpenOptionsExt;
        self.custom_flags(libc::O_EXCL)
            .open(p)
            .map_err(|e| format!("{}: {e}", p.display()))
    }
}

fn region_cycle(rep: &mut Report) {
    rep.check("rust-region-disable-enable-seeds", || {
        let r = region_by_handle(H_V11)?;
        let a = create_in(&r, &cfg(Mode::Raw, Some(64 * MIB)), "create a")?;
        let b = create_in(&r, &sector(4096, Some(64 * MIB)), "create b")?;
        let (an, bn) = (a.devname().to_string(), b.devname().to_string());
        let rn = r.devname().to_string();
        r.disable_invalidate().map_err(e2s("region disable"))?;
        ensure!(!bound(&rn), "{rn} still bound");
        ensure!(
            !nd(&an).exists() && !nd(&bn).exists(),
            "namespaces survive a disabled region"
        );
        r.enable().map_err(e2s("region enable"))?;
        settle(4)?;
        let r = region_by_handle(H_V11)?;
        ensure!(bound(&rn), "{rn} not bound after enable");
        // Labels bring both namespaces back; the seeds the library reports are the ones
        // the kernel now names.
        let mut got = vec![];
        for ns in r.namespaces().map_err(e2s("namespaces"))? {
            if ns.size() > 0 {
                got.push(ns.devname().to_string());
            }
        }
        ensure!(
            got.len() == 2,
            "namespaces with capacity after re-enable: {got:?}"
        );
        let seed = r
            .namespace_seed()
            .map_err(e2s("seed"))?
            .ok_or("no namespace seed")?;
        ensure!(
            seed.devname() == attr(&rn, "namespace_seed")?,
            "namespace seed {} vs sysfs {}",
            seed.devname(),
            attr(&rn, "namespace_seed")?
        );
        let bs = r
            .btt_seed()
            .map_err(e2s("btt seed"))?
            .ok_or("no btt seed")?;
        ensure!(
            bs.devname() == attr(&rn, "btt_seed")?,
            "btt seed {} vs sysfs {}",
            bs.devname(),
            attr(&rn, "btt_seed")?
        );
        let ps = r
            .pfn_seed()
            .map_err(e2s("pfn seed"))?
            .ok_or("no pfn seed")?;
        ensure!(ps.devname() == attr(&rn, "pfn_seed")?, "pfn seed");
        let ds = r
            .dax_seed()
            .map_err(e2s("dax seed"))?
            .ok_or("no dax seed")?;
        ensure!(ds.devname() == attr(&rn, "dax_seed")?, "dax seed");
        let sec = r
            .namespaces()
            .map_err(e2s("namespaces"))?
            .into_iter()
            .find(|n| n.size() > 0 && claims_of(n.devname()).iter().any(|c| c.starts_with("btt")))
            .ok_or("the sector namespace did not come back as sector")?;
        let detail = format!(
            "{an},{bn} -> {got:?}; seeds {} {} {} {}; sector on {}",
            seed.devname(),
            bs.devname(),
            ps.devname(),
            ds.devname(),
            sec.devname()
        );
        list_state_inline("region-cycled")?;
        for ns in r.namespaces().map_err(e2s("namespaces"))? {
            if ns.size() > 0 {
                configure::destroy(&ns).map_err(e2s("destroy"))?;
            }
        }
        Ok(detail)
    });
    list_state(rep, "after-region-cycle");
}

/// A list comparison inside another check.
fn list_state_inline(state: &str) -> R<()> {
    let args = ["-BDRNXi", "-vvv"];
    let mut a = parse_list(&run_ok("ndctl", &[&["list"], &args[..]].concat())?)?;
    let mut b = parse_list(&run_ok(&format!("{BIN}/list"), &args)?)?;
    normalise(&mut a);
    normalise(&mut b);
    ensure!(
        a == b,
        "list {state}: {}",
        first_difference(&a, &b, "").unwrap_or_default()
    );
    Ok(())
}

fn c_write_path(rep: &mut Report) {
    for (h, tag) in [(H_V11, "v1.1"), (H_V12, "v1.2"), (H_IO, "io")] {
        let region = match region_by_handle(h) {
            Ok(r) => r.devname().to_string(),
            Err(e) => {
                rep.check(&format!("c-{tag}"), || Err(e.clone()));
                continue;
            }
        };
        let o = run(&format!("{BIN}/c_write_path"), &[&region]);
        let o = match o {
            Ok(o) => o,
            Err(e) => {
                rep.check(&format!("c-{tag}"), || Err(e.clone()));
                continue;
            }
        };
        // The C program prints one "CHECK name PASS|FAIL detail" line per step.
        let mut seen = 0;
        for line in o.stdout.lines() {
            let mut it = line.splitn(4, ' ');
            if it.next() != Some("CHECK") {
                continue;
            }
            let (Some(name), Some(st)) = (it.next(), it.next()) else {
                continue;
            };
            let detail = it.next().unwrap_or("").to_string();
            seen += 1;
            rep.check(&format!("c-{tag}-{name}"), || {
                if st == "PASS" {
                    Ok(detail.clone())
                } else {
                    Err(detail.clone())
                }
            });
        }
        rep.check(&format!("c-{tag}-exit"), || {
            ensure!(
                o.rc == 0 && seen > 0,
                "rc {} after {seen} steps: {}",
                o.rc,
                o.stderr.trim()
            );
            Ok(format!("{seen} steps"))
        });
        list_state(rep, &format!("c-{tag}-done"));
    }
}

// ------------------------------------------------------------------ BTT engine <-> kernel

fn pattern(lba: u64, len: usize, salt: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (lba as u8).wrapping_mul(31) ^ (i as u8).wrapping_mul(7) ^ salt ^ ((i >> 8) as u8))
        .collect()
}

fn engine_to_kernel(rep: &mut Report, handle: u32, tag: &str, version: &str, lbasize: u32) {
    let name = format!("btt-engine-{tag}-btt{version}-{lbasize}");
    let mut lbas = vec![0u64, 1, 7, 100, 1000];
    let mut state: Option<(String, String)> = None; // (namespace, raw bdev)
    let ok = rep.check(&format!("{name}-attached-by-kernel"), || {
        let r = region_by_handle(handle)?;
        let ns = if handle == H_IO || handle == H_BIG {
            configure::reconfigure(&io_namespace(&r)?, &cfg(Mode::Raw, None)).map_err(e2s("raw"))?
        } else {
            create_in(&r, &cfg(Mode::Raw, Some(64 * MIB)), "create raw")?
        };
        let nsn = ns.devname().to_string();
        let raw = block_of(&nsn).ok_or("no raw bdev")?;
        let dev = format!("/dev/{raw}");
        let parent = ns
            .uuid()
            .map_err(e2s("uuid"))?
            .unwrap_or(uuid::Uuid::nil())
            .to_string();
        run_ok(
            &format!("{BIN}/btt"),
            &[
                "format",
                &dev,
                "--lbasize",
                &lbasize.to_string(),
                "--version",
                version,
                "--parent-uuid",
                &parent,
            ],
        )?;
        let info: Value = serde_json::from_str(&run_ok(&format!("{BIN}/btt"), &["info", &dev])?)
            .map_err(e2s("btt info JSON"))?;
        let nlba = info["external_nlba"]
            .as_u64()
            .ok_or("btt info: no external_nlba")?;
        let arenas = info["arenas"].as_array().map_or(0, |a| a.len());
        let want_arenas = if handle == H_BIG { 2 } else { 1 };
        ensure!(arenas == want_arenas, "the engine laid out {arenas} arenas");
        // The last LBA too: on the big DIMM it lives in the second arena.
        lbas.push(nlba - 1);
        for &l in &lbas {
            let o = run_stdin(
                &format!("{BIN}/btt"),
                &["write", &dev, &l.to_string()],
                &pattern(l, lbasize as usize, 0x11),
            )?;
            ensure!(o.rc == 0, "btt write {l}: {}", o.stderr.trim());
        }
        state = Some((nsn.clone(), raw.clone()));
        ns.disable().map_err(e2s("disable"))?;
        if ns.type_name() != "namespace_io" {
            ns.set_enforce_mode(Mode::Sector)
                .map_err(e2s("enforce sector"))?;
        }
        let claimed = ns.enable().map_err(e2s("enable"))?;
        ensure!(
            claimed,
            "the kernel did not attach the engine's BTT (namespace enabled raw)"
        );
        let claims = claims_of(&nsn);
        ensure!(
            claims.len() == 1 && claims[0].starts_with("btt"),
            "claims {claims:?}"
        );
        let btt = &claims[0];
        let ss = attr(btt, "sector_size")?;
        ensure!(
            ss.contains(&format!("[{lbasize}]")),
            "{btt}: sector_size {ss}"
        );
        let bdev = block_of(btt).ok_or("btt without bdev")?;
        let f = fs::File::open(dev_node(&bdev)?).map_err(e2s("open"))?;
        let data = if lbasize >= 4096 { 4096 } else { 512 };
        for &l in &lbas {
            let mut buf = vec![0u8; data];
            f.read_exact_at(&mut buf, l * data as u64)
                .map_err(e2s("read"))?;
            ensure!(
                buf == pattern(l, lbasize as usize, 0x11)[..data],
                "LBA {l} differs through /dev/{bdev}"
            );
        }
        Ok(format!(
            "{btt} on {nsn} ({arenas} arena(s)), /dev/{bdev}: {} LBAs byte-exact",
            lbas.len()
        ))
    });
    if !ok {
        let _ = cleanup_btt_test(handle, state.as_ref().map(|s| s.0.as_str()));
        return;
    }
    let (nsn, raw) = state.clone().expect("set on success");
    if lbasize == 512 || lbasize == 4096 {
        rep.check(&format!("{name}-ndctl-check-namespace"), || {
            // The checker refuses an online namespace: ndctl's own offline workflow.
            run_ok("ndctl", &["disable-namespace", &nsn])?;
            let o = run("ndctl", &["check-namespace", "-v", &nsn])?;
            run_ok("ndctl", &["enable-namespace", &nsn])?;
            ensure!(
                o.rc == 0,
                "ndctl check-namespace rc {}: {}",
                o.rc,
                o.stderr.trim()
            );
            ensure!(!claims_of(&nsn).is_empty(), "not re-enabled after check");
            Ok(format!(
                "clean: {}",
                o.stderr.lines().last().unwrap_or("").trim()
            ))
        });
    }
    rep.check(&format!("{name}-kernel-writes-engine-reads"), || {
        let btt = claims_of(&nsn).first().cloned().ok_or("btt not enabled")?;
        let bdev = block_of(&btt).ok_or("btt without bdev")?;
        let data = if lbasize >= 4096 { 4096 } else { 512 };
        let f = fs::OpenOptions::new()
            .write(true)
            .open(dev_node(&bdev)?)
            .map_err(e2s("open"))?;
        let nblocks = bdev_bytes(&bdev)? / data as u64;
        let kl = [0u64, 2, 100, nblocks - 1];
        for &l in &kl {
            f.write_all_at(&pattern(l, data, 0x77), l * data as u64)
                .map_err(e2s("write"))?;
        }
        f.sync_all().map_err(e2s("fsync"))?;
        drop(f);
        let r = region_by_handle(handle)?;
        let ns = namespace_named(&r, &nsn)?;
        // Reach the media under the BTT: the namespace forced raw.
        let b = ns.btt().map_err(e2s("btt"))?.ok_or("no btt object")?;
        b.delete().map_err(e2s("btt disable"))?;
        ns.set_raw_mode(true).map_err(e2s("force raw"))?;
        ns.enable().map_err(e2s("enable raw"))?;
        let dev = dev_node(&raw)?;
        let dev = dev.to_string_lossy();
        for &l in &kl {
            let got = engine_read(&dev, l)?;
            ensure!(
                got.len() == lbasize as usize,
                "btt read {l}: {} bytes",
                got.len()
            );
            ensure!(
                got[..data] == pattern(l, data, 0x77)[..],
                "LBA {l}: engine reads other bytes than the kernel wrote"
            );
        }
        let o = run(&format!("{BIN}/btt"), &["check", &dev])?;
        ensure!(o.rc == 0, "btt check: {}", o.stdout.trim());
        Ok(format!(
            "{} kernel-written LBAs read back by the engine; btt check clean",
            kl.len()
        ))
    });
    let _ = cleanup_btt_test(handle, Some(&nsn));
}

/// One sector read through the engine's CLI (`btt read`), as raw bytes.
fn engine_read(dev: &str, lba: u64) -> R<Vec<u8>> {
    let o = Command::new(format!("{BIN}/btt"))
        .args(["read", dev, &lba.to_string()])
        .output()
        .map_err(e2s("btt read"))?;
    ensure!(
        o.status.success(),
        "btt read {dev} {lba}: {}",
        String::from_utf8_lossy(&o.stderr).trim()
    );
    Ok(o.stdout)
}

fn cleanup_btt_test(handle: u32, nsn: Option<&str>) -> R<()> {
    let r = region_by_handle(handle)?;
    for ns in r.namespaces().map_err(e2s("namespaces"))? {
        if Some(ns.devname()) == nsn {
            let _ = ns.set_raw_mode(false);
            if handle == H_IO || handle == H_BIG {
                configure::reconfigure(&ns, &cfg(Mode::Raw, None)).map_err(e2s("raw"))?;
            } else {
                configure::destroy(&ns).map_err(e2s("destroy"))?;
            }
        }
    }
    Ok(())
}

fn big_two_arenas(rep: &mut Report) {
    rep.check("btt-kernel-two-arenas", || {
        let r = region_by_handle(H_BIG)?;
        let ns = io_namespace(&r)?;
        let nsn = ns.devname().to_string();
        let ns = configure::reconfigure(&ns, &sector(4096, None)).map_err(e2s("sector"))?;
        assert_mode(&nsn, &sector(4096, None))?;
        let btt = claims_of(&nsn)[0].clone();
        let bdev = block_of(&btt).ok_or("no bdev")?;
        let n = bdev_bytes(&bdev)? / 4096;
        let f = fs::OpenOptions::new().write(true).open(dev_node(&bdev)?).map_err(e2s("open"))?;
        // One LBA in the first arena, two in the second.
        let lbas = [0u64, n - 2, n - 1];
        for &l in &lbas {
            f.write_all_at(&pattern(l, 4096, 0x5a), l * 4096).map_err(e2s("write"))?;
        }
        f.sync_all().map_err(e2s("fsync"))?;
        drop(f);
        let b = ns.btt().map_err(e2s("btt"))?.ok_or("no btt object")?;
        b.delete().map_err(e2s("btt disable"))?;
        ns.set_raw_mode(true).map_err(e2s("raw"))?;
        ns.enable().map_err(e2s("enable raw"))?;
        let raw = block_of(&nsn).ok_or("no raw bdev")?;
        let dev = format!("/dev/{raw}");
        let info = run_ok(&format!("{BIN}/btt"), &["info", &dev])?;
        let v: Value = serde_json::from_str(&info).map_err(e2s("info JSON"))?;
        let arenas = v
            .get("arenas")
            .and_then(|a| a.as_array())
            .map(|a| a.len())
            .ok_or("btt info shows no arenas list")?;
        ensure!(arenas == 2, "{arenas} arenas");
        for &l in &lbas {
            ensure!(engine_read(&dev, l)? == pattern(l, 4096, 0x5a), "LBA {l} differs through the engine");
        }
        let o = run(&format!("{BIN}/btt"), &["check", &dev])?;
        ensure!(o.rc == 0, "btt check: {}", o.stdout.trim());
        ns.set_raw_mode(false).map_err(e2s("unraw"))?;
        configure::reconfigure(&ns, &cfg(Mode::Raw, None)).map_err(e2s("raw"))?;
        Ok(format!("{btt}: {n} LBAs in 2 arenas; kernel writes in both read back by the engine; check clean"))
    });
    list_state(rep, "after-two-arenas");
}

// ------------------------------------------------------------------ platform B: nfit_test

fn nfit(rep: &mut Report) {
    if !rep.check("settle", || settle(4)) {
        return;
    }
    let out = rep.out.clone();
    rep.check("nfit-mocked-modules", || {
        let p = fs::read_to_string(out.join("libnvdimm-path.txt")).map_err(e2s("modinfo"))?;
        ensure!(
            p.contains("/extra/libnvdimm.ko"),
            "libnvdimm is {}",
            p.trim()
        );
        let m = fs::read_to_string("/proc/modules").map_err(e2s("/proc/modules"))?;
        ensure!(
            m.lines().any(|l| l.starts_with("nfit_test ")),
            "nfit_test not loaded"
        );
        Ok(format!("libnvdimm from {}", p.trim()))
    });
    rep.check("nfit-buses", || {
        let ctx = Ctx::new().map_err(e2s("ctx"))?;
        let mut seen = vec![];
        for bus in ctx.buses().map_err(e2s("buses"))? {
            let n = bus.dimms().map_err(e2s("dimms"))?.len();
            seen.push(format!("{}:{n}", bus.provider()));
        }
        seen.sort();
        ensure!(seen == ["nfit_test.0:4", "nfit_test.1:2"], "buses {seen:?}");
        Ok(seen.join(" "))
    });
    list_state(rep, "nfit-initial");
    list_equal(rep, "nfit-bus0", &["-BDRNXi", "-vvv", "-b", "nfit_test.0"]);
    list_equal(rep, "nfit-bus1", &["-BDRNXi", "-vvv", "-b", "nfit_test.1"]);
    rep.check("nfit-init-labels", || {
        run_ok("ndctl", &["disable-region", "-b", "nfit_test.0", "all"])?;
        run_ok("ndctl", &["init-labels", "-f", "-b", "nfit_test.0", "all"])?;
        run_ok("ndctl", &["enable-region", "-b", "nfit_test.0", "all"])?;
        settle(4)?;
        Ok("nfit_test.0 DIMMs labelled".into())
    });
    list_state(rep, "nfit-labelled");
    for c in [
        fsdax(Location::Pmem, Some(16 * MIB)),
        sector(4096, Some(32 * MIB)),
        devdax(2 * MIB, Some(16 * MIB)),
        cfg(Mode::Raw, Some(16 * MIB)),
    ] {
        let d = describe(&c);
        rep.check(&format!("nfit-create-{d}"), || {
            let bus = nfit_bus0()?;
            let r = bus
                .regions()
                .map_err(e2s("regions"))?
                .into_iter()
                .filter(|r| {
                    r.namespace_seed()
                        .ok()
                        .flatten()
                        .is_some_and(|s| s.type_name() == "namespace_pmem")
                })
                .max_by_key(|r| r.available_size().ok().flatten().unwrap_or(0))
                .ok_or("no labelled pmem region")?;
            let ns = create_in(&r, &c, "create")?;
            assert_mode(ns.devname(), &c)
        });
        list_state(rep, &format!("nfit-{d}"));
    }
    list_equal(
        rep,
        "nfit-bus1-final",
        &["-BDRNXi", "-vvv", "-b", "nfit_test.1"],
    );
    cmd_groups(rep);
    // Last: it reloads nfit_test.
    cli_on_both_libraries(rep);
}

// ------------------------------------------------------------------ command groups (issue 8)

/// One run of a command-groups program: its output split into `== group` sections.
struct GroupRun {
    sections: Vec<(String, Vec<String>)>,
    rc: i32,
    stderr: String,
}

fn run_groups(what: &str, cmd: &str, env: Option<(&str, &str)>, out: &Path) -> R<GroupRun> {
    reset_nfit_test().map_err(|e| format!("reset before {what}: {e}"))?;
    let mut c = Command::new(cmd);
    c.stdin(Stdio::null());
    if let Some((k, v)) = env {
        c.env(k, v);
    }
    let o = c.output().map_err(|e| format!("{cmd}: {e}"))?;
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let _ = fs::write(out.join(format!("cmd-groups-{what}.txt")), &stdout);
    let mut sections: Vec<(String, Vec<String>)> = Vec::new();
    for line in stdout.lines() {
        if let Some(g) = line.strip_prefix("== ") {
            sections.push((g.to_string(), Vec::new()));
        } else if let Some(last) = sections.last_mut() {
            last.1.push(line.to_string());
        } else {
            sections.push(("preamble".into(), vec![line.to_string()]));
        }
    }
    Ok(GroupRun {
        sections,
        rc: o.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    })
}

/// Compare one group of two runs line by line; the first difference fails it.
fn compare_group(oracle: &[String], ours: &[String]) -> R {
    for (i, (a, b)) in oracle.iter().zip(ours).enumerate() {
        ensure!(a == b, "line {}: Debian `{a}` vs ours `{b}`", i + 1);
    }
    ensure!(
        oracle.len() == ours.len(),
        "Debian printed {} lines, ours {} (first extra: `{}`)",
        oracle.len(),
        ours.len(),
        oracle
            .get(ours.len())
            .or(ours.get(oracle.len()))
            .cloned()
            .unwrap_or_default()
    );
    ensure!(!oracle.is_empty(), "no lines");
    Ok(format!("{} lines equal", oracle.len()))
}

/// Compare `ours` with the oracle run group by group. `skipped` names the oracle's groups
/// that `ours` does not run by design (said in the exit check, not silently dropped).
fn compare_runs(
    rep: &mut Report,
    prefix: &str,
    oracle: &GroupRun,
    ours: &GroupRun,
    skipped: &[&str],
) {
    rep.check(&format!("{prefix}-exit"), || {
        ensure!(
            oracle.rc == 0 && ours.rc == 0,
            "exit Debian {} ours {}: {} {}",
            oracle.rc,
            ours.rc,
            oracle.stderr.trim(),
            ours.stderr.trim()
        );
        let want: Vec<&String> = oracle
            .sections
            .iter()
            .map(|s| &s.0)
            .filter(|g| !skipped.contains(&g.as_str()))
            .collect();
        let have: Vec<&String> = ours.sections.iter().map(|s| &s.0).collect();
        ensure!(want == have, "groups Debian {want:?} vs ours {have:?}");
        let mut d = format!("{} groups", have.len());
        if !skipped.is_empty() {
            d += &format!(" (not in this program: {})", skipped.join(", "));
        }
        Ok(d)
    });
    for (name, lines) in &oracle.sections {
        if skipped.contains(&name.as_str()) {
            continue;
        }
        let theirs = ours
            .sections
            .iter()
            .find(|s| &s.0 == name)
            .map(|s| s.1.as_slice());
        rep.check(&format!("{prefix}-{name}"), || match theirs {
            Some(t) => compare_group(lines, t),
            None => fail(format!("group {name} missing from our run")),
        });
    }
}

/// The command groups of issue 8 on the nfit_test mock: one C program on Debian's
/// libndctl and on ours, and the Rust API's twin of it, each from a fresh nfit_test.
fn cmd_groups(rep: &mut Report) {
    let out = rep.out.clone();
    let c_bin = format!("{BIN}/cmd_groups");
    let debian = match run_groups(
        "debian",
        &c_bin,
        Some(("LD_LIBRARY_PATH", "/usr/lib/x86_64-linux-gnu")),
        &out,
    ) {
        Ok(r) => r,
        Err(e) => {
            rep.check("cmdgroups-debian", || Err(e.clone()));
            return;
        }
    };
    match run_groups("capi", &c_bin, None, &out) {
        Ok(ours) => compare_runs(rep, "cmdgroups-c", &debian, &ours, &[]),
        Err(e) => {
            rep.check("cmdgroups-c", || Err(e.clone()));
        }
    }
    match run_groups("rust", &format!("{BIN}/cmd_groups_rs"), None, &out) {
        // The Rust twin drives the command groups; the object-layer groups of the C
        // program (topology, BTT/PFN/DAX creation, the BTT size table and block I/O) go through the same Rust code via the
        // C run on our library and the list checks.
        Ok(ours) => compare_runs(
            rep,
            "cmdgroups-rust",
            &debian,
            &ours,
            &[
                "topology",
                "btt",
                "pfn_dax",
                "btt_table",
                "eventfd_ro",
                "autodetect",
                "validate_dax",
                "topology_end",
            ],
        ),
        Err(e) => {
            rep.check("cmdgroups-rust", || Err(e.clone()));
        }
    }
    rep.check("cmdgroups-final-reset", || {
        reset_nfit_test()?;
        Ok("nfit_test reloaded".into())
    });
}

/// The library's warnings (a device skipped for a missing attribute, say) on stderr, which
/// the guest's console keeps: a lookup that comes up short then shows why.
struct WarnToStderr;

impl log::Log for WarnToStderr {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::Level::Warn
    }
    fn log(&self, r: &log::Record) {
        if self.enabled(r.metadata()) {
            eprintln!("library {}: {}", r.level(), r.args());
        }
    }
    fn flush(&self) {}
}

static WARN_TO_STDERR: WarnToStderr = WarnToStderr;

fn main() {
    let _ = log::set_logger(&WARN_TO_STDERR);
    log::set_max_level(log::LevelFilter::Warn);
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: kernel_checks qemu|nfit OUTDIR");
        std::process::exit(2);
    }
    let out = PathBuf::from(&args[2]);
    let mut rep = Report::new(&out);
    let t = Instant::now();
    match args[1].as_str() {
        "qemu" => qemu(&mut rep),
        "nfit" => nfit(&mut rep),
        p => {
            eprintln!("kernel_checks: unknown platform {p}");
            std::process::exit(2);
        }
    }
    println!(
        "kernel_checks: {} failed, {:.0}s",
        rep.failed,
        t.elapsed().as_secs_f32()
    );
    std::process::exit(if rep.failed == 0 { 0 } else { 1 });
}

// ------------------------------------------------------------------ Debian's ndctl on both libraries

/// Debian's libndctl in the guest; `LD_LIBRARY_PATH` beats the binaries' search path.
const DEBIAN_LIB: &str = "/usr/lib/x86_64-linux-gnu";
/// Ours.
const OUR_LIB: &str = "/opt/ndctl-rs/lib";

/// Reload nfit_test: the module keeps its emulated DIMM state (label areas, injected errors
/// and SMART values, security and firmware state) in memory it allocates at load, so a
/// reload starts every sequence from the same state.
fn reset_nfit_test() -> R<()> {
    // A sequence that stopped early may have left PMDK's filesystem mounted.
    let _ = run("umount", &[PMDK_MNT]);
    // Disabled regions make the removal quick and keep active namespaces out of teardown.
    let _ = run("ndctl", &["disable-region", "all"]);
    run_ok("modprobe", &["-r", "nfit_test"])?;
    run_ok("modprobe", &["nfit_test"])?;
    settle(4)?;
    Ok(())
}

/// One command of a sequence and what it printed.
struct Step {
    name: String,
    argv: Vec<String>,
    out: Out,
    /// JSON keys whose values the kernel changes on its own timing (compared masked).
    volatile: &'static [&'static str],
}

/// A sequence of commands run with one library.
struct Seq {
    lib: &'static str,
    steps: Vec<Step>,
}

impl Seq {
    fn cmd(
        &mut self,
        name: &str,
        prog: &str,
        args: &[&str],
        volatile: &'static [&'static str],
    ) -> &Out {
        let o = Command::new(prog)
            .args(args)
            .env("LD_LIBRARY_PATH", self.lib)
            .stdin(Stdio::null())
            .output();
        let out = match o {
            Ok(o) => Out {
                rc: o.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            },
            Err(e) => Out {
                rc: -1,
                stdout: String::new(),
                stderr: format!("cannot run {prog}: {e}"),
            },
        };
        let mut argv = vec![prog.to_string()];
        argv.extend(args.iter().map(|a| a.to_string()));
        self.steps.push(Step {
            name: name.to_string(),
            argv,
            out,
            volatile,
        });
        &self.steps.last().expect("just pushed").out
    }

    fn ndctl(&mut self, name: &str, args: &[&str]) -> &Out {
        self.cmd(name, "ndctl", args, &[])
    }

    /// The `dev` of the JSON object a command printed (create-namespace).
    fn created(&mut self, name: &str, args: &[&str]) -> R<String> {
        let o = self.ndctl(name, args);
        let v: Value = serde_json::from_str(&o.stdout)
            .map_err(|e| format!("{name}: rc {} {}: {e}", o.rc, o.stderr.trim()))?;
        v["dev"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("{name}: no dev in {}", short(&o.stdout)))
    }
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Replace every uuid in `s` (namespaces created by the CLI get random ones from libuuid).
fn mask_uuids(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s.is_char_boundary(i)
            && s.len() - i >= 36
            && s.is_char_boundary(i + 36)
            && is_uuid(&s[i..i + 36])
        {
            out.push_str("<uuid>");
            i += 36;
        } else {
            let c = s[i..].chars().next().expect("in bounds");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

fn mask_json(v: &mut Value, volatile: &[&str]) {
    match v {
        Value::String(s) => *s = mask_uuids(s),
        Value::Array(a) => a.iter_mut().for_each(|x| mask_json(x, volatile)),
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                if volatile.contains(&k.as_str()) {
                    *x = Value::String("<volatile>".into());
                } else {
                    mask_json(x, volatile);
                }
            }
        }
        _ => {}
    }
}

/// Lines of PMDK's `pmempool info` that hold values chosen at pool creation (pool and run
/// uuids, creation time, the header checksum over them).
const PMEMPOOL_VOLATILE_LINES: [&str; 4] = ["UUID", "Creation Time", "Checksum", "Run ID"];

fn text_norm(s: &str) -> Vec<String> {
    mask_uuids(s)
        .lines()
        .map(|l| {
            match PMEMPOOL_VOLATILE_LINES
                .iter()
                .find(|k| l.trim_start().starts_with(*k))
            {
                Some(k) => format!("{k}: <volatile>"),
                None => l.trim_end().to_string(),
            }
        })
        .collect()
}

/// stdout as compared: JSON parsed, masked and normalised as the list comparisons do;
/// other text with uuids and pool-creation values masked.
fn stdout_norm(s: &Step) -> Result<Value, Vec<String>> {
    let t = s.out.stdout.trim();
    if t.starts_with('[') || t.starts_with('{') {
        // Several JSON documents in a row (read-labels of several DIMMs) are compared as
        // an array of them.
        let docs: Result<Vec<Value>, _> = serde_json::Deserializer::from_str(t)
            .into_iter::<Value>()
            .collect();
        if let Ok(mut docs) = docs {
            for d in docs.iter_mut() {
                mask_json(d, s.volatile);
                normalise(d);
            }
            return Ok(if docs.len() == 1 {
                docs.remove(0)
            } else {
                Value::Array(docs)
            });
        }
    }
    Err(text_norm(&s.out.stdout))
}

/// stderr split into the command's own lines and libndctl's log lines (`libndctl:
/// <function>: ...`). At the default priority libndctl logs only errors, so there is no
/// debug noise to ignore: both are compared, and the check says which differed.
fn stderr_norm(s: &str) -> (Vec<String>, Vec<String>) {
    text_norm(s)
        .into_iter()
        .partition(|l| !l.starts_with("libndctl: "))
}

fn first_line_difference(a: &[String], b: &[String]) -> String {
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        if x != y {
            return format!(
                "line {}: Debian {:?} vs ours {:?}",
                i + 1,
                short(x),
                short(y)
            );
        }
    }
    format!("Debian {} lines vs ours {}", a.len(), b.len())
}

fn compare_steps(d: &Step, o: &Step) -> R {
    let cmdline = d.argv.join(" ");
    ensure!(
        d.argv == o.argv,
        "the sequences diverged: Debian ran `{cmdline}`, ours `{}`",
        o.argv.join(" ")
    );
    ensure!(
        d.out.rc == o.out.rc,
        "`{cmdline}`: exit status Debian {} vs ours {}; stderr Debian {:?} / ours {:?}",
        d.out.rc,
        o.out.rc,
        short(d.out.stderr.trim()),
        short(o.out.stderr.trim())
    );
    let what = match (stdout_norm(d), stdout_norm(o)) {
        (Ok(a), Ok(b)) => {
            ensure!(
                a == b,
                "`{cmdline}`: JSON differs: {}",
                first_difference(&a, &b, "")
                    .unwrap_or_default()
                    .replace("ndctl", "Debian")
            );
            "same JSON".to_string()
        }
        (Err(a), Err(b)) => {
            ensure!(
                a == b,
                "`{cmdline}`: stdout {}",
                first_line_difference(&a, &b)
            );
            if a.iter().all(|l| l.is_empty()) {
                "no stdout".to_string()
            } else {
                format!("same stdout ({} lines)", a.len())
            }
        }
        (Ok(_), Err(b)) => {
            return fail(format!(
                "`{cmdline}`: Debian printed JSON, ours {:?}",
                short(&b.join(" "))
            ))
        }
        (Err(a), Ok(_)) => {
            return fail(format!(
                "`{cmdline}`: ours printed JSON, Debian {:?}",
                short(&a.join(" "))
            ))
        }
    };
    let (ea, la) = stderr_norm(&d.out.stderr);
    let (eb, lb) = stderr_norm(&o.out.stderr);
    ensure!(
        ea == eb,
        "`{cmdline}`: stderr {}",
        first_line_difference(&ea, &eb)
    );
    ensure!(
        la == lb,
        "`{cmdline}`: libndctl's log lines on stderr {}",
        first_line_difference(&la, &lb)
    );
    let mut msg = format!("`{cmdline}` rc {}, {what}", d.out.rc);
    if ea.iter().any(|l| !l.is_empty()) {
        msg.push_str(&format!(
            ", same stderr ({:?})",
            short(ea.join(" / ").trim())
        ));
    }
    if !la.is_empty() {
        msg.push_str(&format!(
            ", same libndctl log ({:?})",
            short(&la.join(" / "))
        ));
    }
    if !d.volatile.is_empty() {
        msg.push_str(&format!(
            " [timing-dependent keys masked: {}]",
            d.volatile.join(",")
        ));
    }
    Ok(msg)
}

/// The nfit_test object names a sequence works on, looked up after the reload.
struct Names {
    /// nfit_test.0's DIMMs by handle 0x0, 0x1, 0x100, 0x101.
    dimms: [String; 4],
    /// nfit_test.0's 4-way and 2-way interleaved regions.
    r4: String,
    r2: String,
}

/// nfit_test.0, read afresh (a new context sees what the last step changed).
fn nfit_bus0() -> R<Arc<Bus>> {
    let ctx = Ctx::new().map_err(e2s("ctx"))?;
    let buses = ctx.buses().map_err(e2s("buses"))?;
    buses
        .into_iter()
        .find(|b| b.provider() == "nfit_test.0")
        .ok_or_else(|| "no nfit_test.0".to_string())
}

fn nfit_names() -> R<Names> {
    let d = |h| nmem_by_handle(h);
    let dimms = [d(0)?, d(1)?, d(0x100)?, d(0x101)?];
    // Once in a CI run (of many), a lookup right after the reload and settle found no
    // 4-way region, and the same lookup a step later did: nfit_test re-evaluates its
    // _FIT shortly after loading. Look again for a few seconds before failing.
    let mut tries = 0;
    loop {
        tries += 1;
        let bus = nfit_bus0()?;
        let (mut r4, mut r2) = (None, None);
        for r in bus.regions().map_err(e2s("regions"))? {
            match r.dimms().map_err(e2s("dimms"))?.len() {
                4 => r4 = Some(r.devname().to_string()),
                2 => r2 = Some(r.devname().to_string()),
                _ => {}
            }
        }
        match (r4, r2) {
            (Some(r4), Some(r2)) => {
                if tries > 1 {
                    println!("nfit_names: regions found on try {tries}");
                }
                return Ok(Names { dimms, r4, r2 });
            }
            (r4, _) if tries >= 5 => {
                return fail(format!(
                    "nfit_test.0 has no {} region (after {tries} tries)",
                    if r4.is_none() { "4-way" } else { "2-way" },
                ));
            }
            _ => std::thread::sleep(Duration::from_secs(1)),
        }
    }
}

/// Wait (up to 2 minutes) until the DIMM's `security` reads a state again: during an
/// overwrite 6.1 answers `overwrite` or, until its first completion poll, ENOTTY.
fn overwrite_done(dimm: &str) -> R<()> {
    let t = Instant::now();
    loop {
        match attr(dimm, "security") {
            Ok(s) if s != "overwrite" => return Ok(()),
            last => ensure!(
                t.elapsed() < Duration::from_secs(120),
                "{dimm}: overwrite still running after 2 minutes ({last:?})"
            ),
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The user key that ndctl's passphrases are encrypted with (ndctl's default name).
const MASTER_KEY: &str = "nvdimm-master";
const KEY_DIR: &str = "/etc/ndctl/keys";

/// A clean key setup for one sequence: no DIMM keys left in the user keyring or in
/// ndctl's key directory from the previous sequence (the reload forgot the passphrases),
/// and a fresh master key, loaded and saved as ndctl expects it.
fn cli_keys() -> R<()> {
    let _ = fs::remove_dir_all(KEY_DIR);
    fs::create_dir_all(KEY_DIR).map_err(e2s(KEY_DIR))?;
    run_ok("keyctl", &["clear", "@u"])?;
    // The user keyring must be reachable from the session for the kernel to use its keys
    // when ndctl names them (it may be linked already).
    let _ = run("keyctl", &["link", "@u", "@s"]);
    let master: Vec<u8> = (0u8..32).map(|i| i.wrapping_mul(37) ^ 0x5c).collect();
    let o = run_stdin("keyctl", &["padd", "user", MASTER_KEY, "@u"], &master)?;
    ensure!(o.rc == 0, "keyctl padd: {}", o.stderr.trim());
    // What `keyctl pipe` of a user key prints: its payload.
    let blob = format!("{KEY_DIR}/{MASTER_KEY}.blob");
    fs::write(&blob, &master).map_err(e2s(&blob))?;
    Ok(())
}

/// Where PMDK's pool file lives (a non-DAX ext2 mount of the fsdax namespace).
const PMDK_MNT: &str = "/mnt/pmdk";

/// A firmware image for nfit_test's emulated Intel update: the mock accepts any content
/// up to its 1 MiB storage; 192 KiB makes ndctl send it in several chunks.
const FW_IMAGE: &str = "/tmp/nfit-fw.img";
const FW_IMAGE_LEN: usize = 196_608;

/// The fixed sequence of Debian's `ndctl` (and PMDK's `pmempool`) commands, run on a freshly
/// loaded nfit_test with the library in `seq.lib`. Errors are lookups that make the rest of
/// the sequence meaningless.
fn cli_sequence(seq: &mut Seq) -> R<()> {
    let n = nfit_names()?;
    let [d0, d1, d2, d3] = [&n.dimms[0], &n.dimms[1], &n.dimms[2], &n.dimms[3]];
    let (r4, r2) = (n.r4.as_str(), n.r2.as_str());
    // nfit_test scrubs at load: wait for it so that no listing catches it half-way.
    seq.ndctl("wait-scrub-initial", &["wait-scrub", "all"]);
    seq.ndctl("list-DH-initial", &["list", "-DH"]);

    // Labels: v1.1, check, zero, refused re-init, v1.2.
    seq.ndctl(
        "disable-region",
        &["disable-region", "-b", "nfit_test.0", "all"],
    );
    seq.ndctl("read-labels-unlabelled", &["read-labels", "-j", d0]);
    seq.ndctl("check-labels-unlabelled", &["check-labels", d0]);
    seq.ndctl(
        "init-labels-v1.1",
        &["init-labels", "-V", "1.1", "-b", "nfit_test.0", "all"],
    );
    seq.ndctl(
        "check-labels-v1.1",
        &["check-labels", "-b", "nfit_test.0", "all"],
    );
    seq.ndctl("read-labels-v1.1", &["read-labels", "-j", d0, d1]);
    seq.ndctl("zero-labels", &["zero-labels", d0]);
    seq.ndctl("check-labels-zeroed", &["check-labels", d0]);
    seq.ndctl("init-labels-refused", &["init-labels", d1]);
    seq.ndctl(
        "init-labels-v1.2",
        &["init-labels", "-f", "-b", "nfit_test.0", "all"],
    );
    seq.ndctl("read-labels-index-v1.2", &["read-labels", "-u", "-I", d2]);
    seq.ndctl(
        "enable-region",
        &["enable-region", "-b", "nfit_test.0", "all"],
    );

    // Namespaces in three modes, and one that does not fit.
    let fsdax = seq.created(
        "create-namespace-fsdax",
        &[
            "create-namespace",
            "-r",
            r2,
            "-m",
            "fsdax",
            "-M",
            "mem",
            "-s",
            "16M",
        ],
    )?;
    let sector = seq.created(
        "create-namespace-sector",
        &[
            "create-namespace",
            "-r",
            r4,
            "-m",
            "sector",
            "-l",
            "4096",
            "-s",
            "32M",
        ],
    )?;
    let devdax = seq.created(
        "create-namespace-devdax",
        &[
            "create-namespace",
            "-r",
            r4,
            "-m",
            "devdax",
            "-a",
            "4k",
            "-s",
            "16M",
        ],
    )?;
    seq.ndctl(
        "create-namespace-too-big",
        &["create-namespace", "-r", r2, "-m", "raw", "-s", "1G"],
    );
    seq.ndctl("list-X-devdax", &["list", "-X", "-n", &devdax]);
    seq.ndctl("read-labels-with-namespaces", &["read-labels", "-j", d0]);
    seq.ndctl("list-RNu-created", &["list", "-RNu", "-b", "nfit_test.0"]);

    // The BTT checker: refused online, clean offline.
    seq.ndctl("check-namespace-active", &["check-namespace", &sector]);
    seq.ndctl("disable-namespace-sector", &["disable-namespace", &sector]);
    seq.ndctl("check-namespace", &["check-namespace", &sector]);
    seq.ndctl(
        "check-namespace-repair",
        &["check-namespace", "--repair", &sector],
    );
    seq.ndctl("enable-namespace-sector", &["enable-namespace", &sector]);

    // Error injection on the fsdax namespace; the kernel learns the badblocks from the
    // scrub the injection's notification starts.
    seq.ndctl(
        "inject-error",
        &["inject-error", "-B", "64", "-n", "8", &fsdax],
    );
    seq.ndctl("inject-error-status", &["inject-error", "-t", &fsdax]);
    seq.ndctl("wait-scrub-injected", &["wait-scrub", "nfit_test.0"]);
    seq.ndctl("list-M-injected", &["list", "-M", "-n", &fsdax]);
    seq.ndctl(
        "inject-error-uninject",
        &["inject-error", "-d", "-B", "64", "-n", "8", &fsdax],
    );
    seq.ndctl(
        "inject-error-status-uninjected",
        &["inject-error", "-t", &fsdax],
    );

    // PMDK's badblock path: a pool file on a filesystem on the fsdax namespace's block
    // device; PMDK finds the namespace of the file's device through libndctl, reads its
    // badblocks (namespace iterator) and maps them into the file through its extents.
    // (Not on device-dax, where PMDK would also clear them through ARS commands: mapping
    // nfit_test's vmalloc'd memory through device-dax oopses the 6.1 kernel, and the
    // filesystem is not mounted -o dax for the same reason.)
    let blockdev = block_of(&fsdax)
        .or_else(|| claims_of(&fsdax).iter().find_map(|c| block_of(c)))
        .ok_or_else(|| format!("{fsdax}: no block device"))?;
    let pool = format!("{PMDK_MNT}/pool.obj");
    seq.cmd(
        "mke2fs",
        "mke2fs",
        &["-F", "-b", "4096", &format!("/dev/{blockdev}")],
        &[],
    );
    seq.cmd(
        "mount-ext2",
        "mount",
        &["-t", "ext4", &format!("/dev/{blockdev}"), PMDK_MNT],
        &[],
    );
    seq.cmd(
        "pmempool-create",
        "pmempool",
        &["create", "obj", "--size=10M", &pool],
        &[],
    );
    seq.cmd(
        "pmempool-info-clean",
        "pmempool",
        &["info", "--bad-blocks=yes", &pool],
        &[],
    );
    seq.ndctl(
        "inject-error-pool",
        &["inject-error", "-B", "12288", "-n", "16", &fsdax],
    );
    seq.ndctl("wait-scrub-pool", &["wait-scrub", "nfit_test.0"]);
    seq.ndctl("list-M-pool", &["list", "-M", "-n", &fsdax]);
    seq.cmd(
        "pmempool-info-badblocks",
        "pmempool",
        &["info", "--bad-blocks=yes", &pool],
        &[],
    );
    seq.cmd(
        "pmempool-check-badblocks",
        "pmempool",
        &["check", "-v", &pool],
        &[],
    );
    seq.cmd("umount-ext2", "umount", &[PMDK_MNT], &[]);

    // Scrub on demand: whether the scrub is still running when start-scrub prints the
    // bus is the kernel's timing.
    seq.cmd(
        "start-scrub",
        "ndctl",
        &["start-scrub", "nfit_test.0"],
        &["scrub_state"],
    );
    seq.ndctl("wait-scrub", &["wait-scrub", "nfit_test.0"]);

    // SMART injection, then health as list shows it.
    seq.ndctl(
        "inject-smart-fields",
        &[
            "inject-smart",
            "-m",
            "52",
            "-M",
            "50",
            "-s",
            "20",
            "-S",
            "30",
            "-U",
            d1,
        ],
    );
    seq.ndctl("inject-smart-fatal", &["inject-smart", "-f", d2]);
    seq.ndctl("list-DH-injected", &["list", "-DH"]);
    seq.ndctl("inject-smart-uninject-all", &["inject-smart", "-N", d1]);
    seq.ndctl("list-DH-uninjected", &["list", "-DH", "-d", d1]);

    // Firmware update of all four DIMMs (the mock arms three and overflows on the
    // fourth), disarm, force-arm, activation.
    fs::write(
        FW_IMAGE,
        (0..FW_IMAGE_LEN)
            .map(|i| (i % 251) as u8)
            .collect::<Vec<u8>>(),
    )
    .map_err(e2s(FW_IMAGE))?;
    seq.ndctl(
        "update-firmware",
        &[
            "update-firmware",
            "-f",
            FW_IMAGE,
            "-b",
            "nfit_test.0",
            "all",
        ],
    );
    seq.ndctl("list-BF-staged", &["list", "-BF", "-b", "nfit_test.0"]);
    seq.ndctl(
        "update-firmware-disarm",
        &["update-firmware", "-D", "-b", "nfit_test.0", "all"],
    );
    seq.ndctl(
        "update-firmware-arm-force",
        &[
            "update-firmware",
            "-A",
            "--force",
            "-b",
            "nfit_test.0",
            "all",
        ],
    );
    seq.ndctl("list-BDF-armed", &["list", "-BDF", "-b", "nfit_test.0"]);
    seq.ndctl(
        "activate-firmware-dry-run",
        &["activate-firmware", "--dry-run", "nfit_test.0"],
    );
    // The mock reports the bus busy for 3 s after an activation, and the DIMMs' state
    // and result with it: what activate-firmware prints right after depends on timing.
    seq.cmd(
        "activate-firmware",
        "ndctl",
        &["activate-firmware", "--force", "nfit_test.0"],
        &["activate_state", "need_powercycle", "next_version"],
    );
    std::thread::sleep(Duration::from_secs(4));
    seq.ndctl("list-BDF-activated", &["list", "-BDF", "-b", "nfit_test.0"]);

    // Security: the DIMMs must be idle (regions disabled).
    seq.ndctl(
        "disable-region-sanitize",
        &["disable-region", "-b", "nfit_test.0", "all"],
    );
    seq.ndctl(
        "sanitize-dimm-crypto-erase-no-key",
        &["sanitize-dimm", "--crypto-erase", d2],
    );
    seq.ndctl(
        "sanitize-dimm-crypto-erase-zero-key",
        &["sanitize-dimm", "--crypto-erase", "--zero-key", d2],
    );
    // A passphrase from the kernel keyring (an encrypted key under the user master key
    // that cli_keys() installs): set, update, crypto-erase with it, set again, remove.
    let master = format!("user:{MASTER_KEY}");
    seq.ndctl("setup-passphrase", &["setup-passphrase", d2, "-k", &master]);
    seq.ndctl("list-D-passphrase", &["list", "-D", "-d", d2]);
    seq.ndctl("update-passphrase", &["update-passphrase", d2]);
    seq.ndctl(
        "sanitize-dimm-crypto-erase",
        &["sanitize-dimm", "--crypto-erase", d2],
    );
    seq.ndctl("list-D-erased", &["list", "-D", "-d", d2]);
    seq.ndctl(
        "setup-passphrase-again",
        &["setup-passphrase", d2, "-k", &master],
    );
    seq.ndctl("remove-passphrase", &["remove-passphrase", d2]);
    seq.ndctl(
        "sanitize-dimm-overwrite",
        &["sanitize-dimm", "--overwrite", d3],
    );
    seq.ndctl("wait-overwrite", &["wait-overwrite", d3]);
    // The kernel polls the overwrite's completion 10 s apart: whether it is over when the
    // next command runs is timing, so wait for it in sysfs before going on.
    overwrite_done(d3)?;
    seq.ndctl("list-D-sanitized", &["list", "-D", "-b", "nfit_test.0"]);
    // Freeze: refused without security enabled, then frozen with a passphrase, after
    // which an erase is refused.
    seq.ndctl("freeze-security-disabled", &["freeze-security", d2]);
    seq.ndctl(
        "setup-passphrase-to-freeze",
        &["setup-passphrase", d1, "-k", &master],
    );
    seq.ndctl("freeze-security", &["freeze-security", d1]);
    seq.ndctl("list-D-frozen", &["list", "-D", "-d", d1]);
    seq.ndctl(
        "sanitize-dimm-frozen",
        &["sanitize-dimm", "--crypto-erase", d1],
    );
    seq.ndctl(
        "enable-region-sanitized",
        &["enable-region", "-b", "nfit_test.0", "all"],
    );

    // Destroy: refused while active without --force, then forced, then the rest.
    seq.ndctl("destroy-namespace-active", &["destroy-namespace", &fsdax]);
    seq.ndctl("destroy-namespace", &["destroy-namespace", "-f", &fsdax]);
    seq.ndctl(
        "destroy-namespace-all",
        &[
            "destroy-namespace",
            "-f",
            "-r",
            "all",
            "-b",
            "nfit_test.0",
            "all",
        ],
    );
    seq.ndctl("list-RNi-final", &["list", "-RNi", "-b", "nfit_test.0"]);
    Ok(())
}

/// Run [`cli_sequence`] on Debian's libndctl and on ours, from the same freshly loaded
/// nfit_test, and compare every command's exit status, stdout and stderr.
fn cli_on_both_libraries(rep: &mut Report) {
    let mut runs = Vec::new();
    // ext2 through the ext4 driver, which needs crc32c; nothing of this touches libndctl.
    for m in ["crc32c_generic", "ext4"] {
        let _ = run("modprobe", &[m]);
    }
    let _ = fs::create_dir_all(PMDK_MNT);
    for (tag, lib) in [("debian", DEBIAN_LIB), ("ours", OUR_LIB)] {
        let mut seq = Seq {
            lib,
            steps: Vec::new(),
        };
        let mut setup = Ok(());
        rep.check(&format!("cli-{tag}-sequence"), || {
            reset_nfit_test()?;
            cli_keys()?;
            let t = Instant::now();
            setup = cli_sequence(&mut seq);
            setup.clone()?;
            Ok(format!(
                "{} commands with LD_LIBRARY_PATH={lib} in {:.0}s on a reloaded nfit_test",
                seq.steps.len(),
                t.elapsed().as_secs_f32()
            ))
        });
        let log: String = seq
            .steps
            .iter()
            .map(|s| {
                format!(
                    "$ {}\n[rc {}]\n{}{}\n",
                    s.argv.join(" "),
                    s.out.rc,
                    s.out.stdout,
                    s.out.stderr
                )
            })
            .collect();
        let _ = fs::write(rep.out.join(format!("cli-{tag}.log")), log);
        runs.push(seq);
    }
    let _ = reset_nfit_test();
    let (debian, ours) = (&runs[0], &runs[1]);
    for (i, d) in debian.steps.iter().enumerate() {
        rep.check(&format!("cli-{}", d.name), || match ours.steps.get(i) {
            None => fail(format!(
                "our sequence stopped before `{}`",
                d.argv.join(" ")
            )),
            Some(o) if o.name != d.name => {
                fail(format!("step {i}: Debian ran {}, ours {}", d.name, o.name))
            }
            Some(o) => compare_steps(d, o),
        });
    }
    if ours.steps.len() > debian.steps.len() {
        rep.check("cli-sequence-length", || {
            fail(format!(
                "Debian's sequence stopped after {} commands, ours ran {}",
                debian.steps.len(),
                ours.steps.len()
            ))
        });
    }
    // Equal is not enough for PMDK: the badblock path must have seen the injected error.
    rep.check("cli-pmdk-badblocks-seen", || {
        let step = |name: &str| {
            ours.steps
                .iter()
                .find(|s| s.name == name)
                .ok_or_else(|| format!("no {name} step"))
        };
        let info = step("pmempool-info-badblocks")?;
        ensure!(
            info.out.stdout.contains("bad blocks:"),
            "pmempool info listed no bad blocks (rc {}): {}",
            info.out.rc,
            short(&(info.out.stdout.clone() + &info.out.stderr))
        );
        let clean = step("pmempool-info-clean")?;
        ensure!(
            clean.out.rc == 0 && !clean.out.stdout.contains("bad blocks:"),
            "pmempool info before the injection: rc {} {}",
            clean.out.rc,
            short(&(clean.out.stdout.clone() + &clean.out.stderr))
        );
        let check = step("pmempool-check-badblocks")?;
        let listed: Vec<&str> = info
            .out
            .stdout
            .lines()
            .skip_while(|l| !l.contains("bad blocks:"))
            .skip(2)
            .take_while(|l| !l.trim().is_empty())
            .map(str::trim)
            .collect();
        Ok(format!(
            "on our libndctl pmempool info listed bad blocks {listed:?} (offset/length in the \
             pool file, 512-byte units) that were not there before the injection; check: rc {} {:?}",
            check.out.rc,
            short(check.out.stdout.trim())
        ))
    });
}

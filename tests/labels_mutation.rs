//! Property test: label areas from the real dumps, randomly mutated (byte flips, interesting
//! field values with and without fixed-up checksums, truncations), never make the parser,
//! validator, JSON dumper or writers panic, never make one allocation larger than the
//! buffer, and never take long.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ndctl::labels::{self, IndexBlock, Label, LabelArea, Version};
use ndctl_testsupport::captures::{fixtures_dir, read_tarball, Entry};

/// Records the largest allocation requested.
struct Tracking;
static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        System.alloc_zeroed(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOC: Tracking = Tracking;

/// The tests share `LARGEST`: run them one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// The most one allocation may take for a `len`-byte area: the area itself, or the JSON
/// text of an area whose every slot holds a label (about 2.5 bytes of text per byte).
fn bound(len: usize) -> usize {
    4 * len + (1 << 16)
}

/// splitmix64: deterministic, seedable, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
}

/// The label dumps of both guest-results tarballs plus fresh areas of both versions.
fn bases() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for fixture in ["kernel-6.1", "nfit_test-6.1"] {
        let entries = read_tarball(&fixtures_dir().join(fixture).join("guest-results.tar.gz"));
        for (name, e) in entries {
            if let Entry::File(_, data) = e {
                if name.contains("/labels-nmem") && name.ends_with(".bin") {
                    out.push(data);
                }
            }
        }
    }
    assert_eq!(out.len(), 7, "label dumps in the fixtures");
    for v in [Version::V1_1, Version::V1_2] {
        out.push(labels::init(v, 128 << 10).unwrap());
        out.push(labels::init(v, 2048).unwrap());
    }
    out
}

const INTERESTING: [u64; 14] = [
    0,
    1,
    2,
    3,
    4,
    72,
    127,
    128,
    255,
    256,
    0x200,
    0x7FFF_FFFF,
    0xFFFF_FFFF,
    u64::MAX,
];

/// Offsets of the index headers for either label size, where mutations matter most.
fn hot_offsets(len: usize) -> Vec<usize> {
    let mut v = vec![0];
    for ls in [128, 256] {
        if let Ok(isz) = labels::sizeof_namespace_index(len, ls) {
            v.push(isz);
            v.push(2 * isz);
        }
    }
    v
}

fn mutate(buf: &mut Vec<u8>, rng: &mut Rng) {
    let hot = hot_offsets(buf.len());
    for _ in 0..1 + rng.below(4) {
        if buf.is_empty() {
            break;
        }
        let base = hot[rng.below(hot.len() as u64) as usize];
        let pos = match rng.below(3) {
            0 => base + rng.below(72) as usize,
            1 => base + rng.below(1024) as usize,
            _ => rng.below(buf.len() as u64) as usize,
        }
        .min(buf.len() - 1);
        match rng.below(4) {
            0 => buf[pos] ^= 1 << rng.below(8),
            1 => buf[pos] = rng.next() as u8,
            2 => {
                // A header-field-sized interesting value at an aligned spot.
                let width = [2usize, 4, 8][rng.below(3) as usize];
                let p = pos & !(width - 1);
                let v = INTERESTING[rng.below(INTERESTING.len() as u64) as usize]
                    .wrapping_add(rng.below(3));
                let bytes = v.to_le_bytes();
                let end = (p + width).min(buf.len());
                buf[p..end].copy_from_slice(&bytes[..end - p]);
            }
            _ => {
                let v = rng.next().to_le_bytes();
                let end = (pos + 8).min(buf.len());
                buf[pos..end].copy_from_slice(&v[..end - pos]);
            }
        }
    }
    // Half of the time make the index blocks (for the label size they claim) and v1.2
    // labels pass their checksums again, so the checks behind the checksum run.
    if rng.below(2) == 0 {
        fix_checksums(buf);
    }
    match rng.below(8) {
        0 => {
            let n = rng.below(buf.len() as u64 + 1) as usize;
            buf.truncate(n);
        }
        1 => {
            let n = buf.len().saturating_sub(rng.below(1024) as usize);
            buf.truncate(n);
        }
        _ => {}
    }
}

fn fix_checksums(buf: &mut [u8]) {
    let ls = labels::probe_label_size(buf);
    let Ok(isz) = labels::sizeof_namespace_index(buf.len(), ls) else {
        return;
    };
    for i in 0..2 {
        let block = &mut buf[i * isz..(i + 1) * isz];
        if let Ok(mut idx) = IndexBlock::parse(block) {
            idx.write(block);
        }
    }
    if ls == 256 {
        for chunk in buf[2 * isz..].chunks_exact_mut(256).take(8) {
            let mut l = Label::parse(chunk).unwrap();
            chunk.copy_from_slice(&l.to_bytes());
        }
    }
}

/// Outcomes seen, to show the mutations reach past the first checks.
#[derive(Default, Debug)]
struct Seen {
    parsed: u64,
    active: u64,
    errors: BTreeSet<String>,
}

fn exercise(buf: &[u8], rng: &mut Rng, seen: &mut Seen) {
    let v = labels::validate(buf);
    for e in v.index.iter().flatten() {
        let kind = format!("{e:?}");
        seen.errors
            .insert(kind[..kind.find([' ', '{']).unwrap_or(kind.len())].to_string());
    }
    if let Some(e) = &v.error {
        let kind = format!("{e:?}");
        seen.errors
            .insert(kind[..kind.find([' ', '{']).unwrap_or(kind.len())].to_string());
    }
    let _ = (v.to_string(), v.problems(), v.result(), v.is_clean());
    let _ = labels::probe_label_size(buf);
    if let Ok(area) = LabelArea::parse(buf) {
        let n = area.active_labels().count();
        assert!(n <= area.current_index().nslot as usize);
        seen.parsed += 1;
        seen.active += n as u64;
        let _ = area.label_problems();
        let _ = area.nfree();
        for _ in 0..4 {
            let slot = rng.next() as u32 >> rng.below(32);
            if let Ok(l) = area.label(slot) {
                let _ = (l.name(), l.claim_class());
            }
            let _ = area.slot_problem(slot);
        }
        for i in 0..3 {
            let _ = area.index(i);
        }
    }
    let _ = labels::read_labels_json("nmem0", buf).map(|j| j.to_string());
    let cut = buf.len().min(rng.below(4096) as usize);
    let _ = labels::read_label_index_json("nmem0", &buf[..cut], buf.len());
    let claimed = rng.below(buf.len() as u64 * 2 + 2) as usize;
    let _ = labels::validate_index(&buf[..cut], claimed).to_string();
    let _ = labels::init_index_blocks(&buf[..cut], claimed.min(buf.len()), Version::V1_2);
    let _ = IndexBlock::parse(buf);
    let off = rng.below(buf.len() as u64 + 1) as usize;
    for len in [0, 100, 128, 256, 300] {
        if let Some(s) = buf.get(off..off.saturating_add(len)) {
            let _ = Label::parse(s);
        }
    }
    let mut copy = buf.to_vec();
    let version = if rng.below(2) == 0 {
        Version::V1_1
    } else {
        Version::V1_2
    };
    if labels::write_init_index(&mut copy, version).is_ok() {
        // A fresh index over any contents parses, and when it is the one in charge no label
        // is active. (A v1.2 index over v1.1 contents can leave the old v1.1 index block 1
        // valid, and the kernel's probe order then picks it, as on a real DIMM.)
        let area = LabelArea::parse(&copy).expect("a just-initialised area parses");
        if area.version() == version {
            assert_eq!(area.active_labels().count(), 0);
        }
    }
    let _ = labels::zero_extent(
        &mut copy,
        rng.below(buf.len() as u64 + 8) as usize,
        rng.below(1 << 20) as usize,
    );
}

#[test]
fn mutated_label_areas_never_panic() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let bases = bases();
    let iterations = 700u64;
    let seed = 0x001A_BE15_u64;
    let mut slowest = Duration::ZERO;
    let mut seen = Seen::default();
    let start = Instant::now();
    for (b, base) in bases.iter().enumerate() {
        for i in 0..iterations {
            let mut rng = Rng(seed ^ ((b as u64) << 40) ^ (i << 8));
            let mut buf = base.clone();
            mutate(&mut buf, &mut rng);
            LARGEST.store(0, Ordering::Relaxed);
            let t = Instant::now();
            let r = catch_unwind(AssertUnwindSafe(|| exercise(&buf, &mut rng, &mut seen)));
            slowest = slowest.max(t.elapsed());
            assert!(
                r.is_ok(),
                "panic on base {b}, iteration {i} (seed {seed:#x})"
            );
            let largest = LARGEST.load(Ordering::Relaxed);
            let bound = bound(buf.len());
            assert!(
                largest <= bound,
                "base {b}, iteration {i}: an allocation of {largest} bytes exceeds {bound}"
            );
        }
    }
    eprintln!(
        "{} mutated areas in {:?}, slowest {:?}",
        bases.len() as u64 * iterations,
        start.elapsed(),
        slowest
    );
    eprintln!("{seen:?}");
    assert!(seen.parsed > 1000 && seen.active > 1000, "{seen:?}");
    for kind in [
        "Signature",
        "LabelSize",
        "Checksum",
        "Sequence",
        "MyOff",
        "OtherOff",
        "LabelOff",
        "MySize",
        "NSlot",
        "TooSmall",
    ] {
        assert!(seen.errors.contains(kind), "no {kind} error seen: {seen:?}");
    }
    assert!(
        slowest < Duration::from_secs(2),
        "one area took {slowest:?}"
    );
}

#[test]
fn hostile_headers_stay_bounded() {
    // Every header field at its extreme, checksum fixed, on both sizes.
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for base in bases() {
        for field in [19usize, 20, 24, 32, 40, 48, 56, 60, 62] {
            for v in [0u64, 1, u64::MAX, 0x8000_0000, 0x200] {
                let mut buf = base.clone();
                for blk in hot_offsets(buf.len()) {
                    if blk + 72 <= buf.len() {
                        let w = match field {
                            19 => 1,
                            20 | 56 => 4,
                            60 | 62 => 2,
                            _ => 8,
                        };
                        buf[blk + field..blk + field + w].copy_from_slice(&v.to_le_bytes()[..w]);
                    }
                }
                fix_checksums(&mut buf);
                LARGEST.store(0, Ordering::Relaxed);
                exercise(&buf, &mut Rng(v ^ field as u64), &mut Seen::default());
                assert!(LARGEST.load(Ordering::Relaxed) <= bound(buf.len()));
            }
        }
    }
}

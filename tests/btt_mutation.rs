//! Property test: randomly mutated images (metadata bytes, interesting field values, with and
//! without a fixed-up checksum) never make check, repair, open, read or write panic, and no
//! single allocation grows beyond the image size.

use ndctl_testsupport::btt as btt_support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};

use btt_support::{pattern, Rng};
use ndctl::btt_engine::format::InfoBlock;
use ndctl::btt_engine::{
    check, format_btt, repair, BttMedia, FormatOptions, MemStorage, RepairOptions,
};

/// Records the largest allocation requested while armed.
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

const IMAGE: usize = (16 << 20) + 4096;

struct Base {
    image: Vec<u8>,
    regions: Vec<(u64, u64)>, // metadata regions worth mutating: (offset, len)
    lbasize: usize,
    nlba: u64,
}

fn base(lbasize: u32, version: (u16, u16)) -> Base {
    let s = MemStorage::new(IMAGE);
    let mut o = FormatOptions::new(lbasize);
    o.version = version;
    format_btt(&s, 0, &o).unwrap();
    let btt = BttMedia::open(&s, 0).unwrap();
    for i in 0..200u64 {
        let lba = (i * 7) % 50;
        btt.write_sector(lba, &pattern(lba, i, lbasize as usize))
            .unwrap();
    }
    let a = &btt.arenas()[0];
    let g = a.geo.clone();
    let maplen = u64::from(a.info.external_nlba) * 4;
    let regions = vec![
        (g.base, 0x80),      // info block fields
        (g.base + 0xFF8, 8), // checksum
        (g.map, 256),        // map entries of written LBAs
        (g.map, maplen),     // anywhere in the map
        (g.log, 256 * 64),   // flog
        (g.info2, 0x80),     // backup info fields
    ];
    let nlba = btt.nlba();
    drop(btt);
    Base {
        image: s.into_vec(),
        regions,
        lbasize: lbasize as usize,
        nlba,
    }
}

const INTERESTING: [u32; 12] = [
    0,
    1,
    2,
    3,
    4,
    255,
    256,
    0x3FFF_FFFF,
    0x4000_0000,
    0x8000_0000,
    0xC000_0000,
    0xFFFF_FFFF,
];

fn mutate(img: &mut [u8], b: &Base, rng: &mut Rng) {
    let n = 1 + rng.below(4);
    for _ in 0..n {
        let (off, len) = b.regions[rng.below(b.regions.len() as u64) as usize];
        let pos = (off + rng.below(len)) as usize;
        match rng.below(4) {
            0 => img[pos] ^= 1 << rng.below(8),
            1 => img[pos] = rng.next() as u8,
            2 => {
                let p = pos & !3;
                let v = INTERESTING[rng.below(INTERESTING.len() as u64) as usize]
                    .wrapping_add(rng.below(3) as u32);
                img[p..p + 4].copy_from_slice(&v.to_le_bytes());
            }
            _ => {
                let p = pos & !7;
                let v = match rng.below(3) {
                    0 => rng.next(),
                    1 => 1u64 << rng.below(64),
                    _ => IMAGE as u64 - 4096 * rng.below(4),
                };
                img[p..p + 8].copy_from_slice(&v.to_le_bytes());
            }
        }
    }
    // Half of the time make mutated info blocks pass the checksum so that the field
    // validation behind it gets exercised.
    if rng.below(2) == 0 {
        for &(off, _) in [b.regions[0], b.regions[5]].iter() {
            let start = off as usize;
            let raw: &mut [u8; 4096] = (&mut img[start..start + 4096]).try_into().unwrap();
            let mut info = InfoBlock::parse(raw);
            info.padding_zero = true;
            let pad: Vec<u8> = raw[0x78..0xFF8].to_vec();
            *raw = info.serialize();
            raw[0x78..0xFF8].copy_from_slice(&pad);
            let sum = ndctl::btt_engine::format::info_checksum(raw);
            raw[0xFF8..].copy_from_slice(&sum.to_le_bytes());
        }
    }
}

fn exercise(img: Vec<u8>, b: &Base, rng: &mut Rng) {
    let s = MemStorage::from_vec(img);
    let _ = check(&s, 0).map(|r| (r.to_json().to_string(), r.to_string()));
    if let Ok(btt) = BttMedia::open(&s, 0) {
        let _ = btt.info().to_json();
        let mut buf = vec![0u8; b.lbasize];
        for _ in 0..6 {
            let _ = btt.read_sector(
                rng.below(b.nlba.max(btt.nlba()).saturating_add(2)),
                &mut buf,
            );
        }
        for _ in 0..6 {
            let lba = rng.below(60);
            let _ = btt.write_sector(lba, &pattern(lba, 9, b.lbasize));
        }
    }
    let _ = repair(
        &s,
        0,
        &RepairOptions {
            rewrite_log: true,
            ..Default::default()
        },
    );
    let reopened = BttMedia::open(&s, 0);
    if let Ok(btt) = reopened {
        let mut buf = vec![0u8; b.lbasize];
        for lba in 0..4 {
            let _ = btt.read_sector(lba, &mut buf);
        }
    }
}

fn run(lbasize: u32, version: (u16, u16), iterations: u64, seed: u64) {
    let b = base(lbasize, version);
    for i in 0..iterations {
        let mut rng = Rng(seed ^ (i << 20));
        let mut img = b.image.clone();
        mutate(&mut img, &b, &mut rng);
        LARGEST.store(0, Ordering::Relaxed);
        let r = catch_unwind(AssertUnwindSafe(|| exercise(img, &b, &mut rng)));
        assert!(
            r.is_ok(),
            "panic on mutation iteration {i} (seed {seed:#x})"
        );
        let largest = LARGEST.load(Ordering::Relaxed);
        assert!(
            largest <= IMAGE,
            "iteration {i}: an allocation of {largest} bytes exceeds the image size"
        );
    }
}

#[test]
fn mutated_4k_images_never_panic() {
    run(4096, (1, 1), 400, 0xB77);
}

#[test]
fn mutated_512_v2_images_never_panic() {
    run(512, (2, 0), 150, 0x5EED);
}

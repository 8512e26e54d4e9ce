//! Shared helpers for the BTT integration tests: unpacking the kernel-written images and
//! parsing the lists of sectors the kernel wrote.

use std::fs::File;
use std::path::{Path, PathBuf};

/// Directory holding the copied kernel fixtures.
pub fn fixtures() -> PathBuf {
    crate::repo_dir().join("tests/fixtures/btt")
}

/// One kernel-written image: file name, namespace offset, namespace size, writes list.
pub struct KernelImage {
    pub file: &'static str,
    pub ns_offset: u64,
    pub ns_size: u64,
    pub writes: &'static str,
    pub version: (u16, u16),
    pub lbasize: u32,
    pub nlba: u64,
}

/// The three images of nvdimm-images.tar.gz (offsets from media-signatures.txt).
pub const IMAGES: [KernelImage; 3] = [
    KernelImage {
        file: "nvdimm1.img",
        ns_offset: 0x800_0000,
        ns_size: 128 << 20,
        writes: "btt-writes-pmem1.1s.txt",
        version: (1, 1),
        lbasize: 4096,
        nlba: 32472,
    },
    KernelImage {
        file: "nvdimm2.img",
        ns_offset: 0,
        ns_size: 512 << 20,
        writes: "btt-writes-pmem0s.txt",
        version: (1, 1),
        lbasize: 512,
        nlba: 1040128,
    },
    KernelImage {
        file: "nvdimm3.img",
        ns_offset: 0,
        ns_size: 128 << 20,
        writes: "btt-writes-pmem2s.txt",
        version: (2, 0),
        lbasize: 4096,
        nlba: 32473,
    },
];

/// Unpack one image (sparse) from the fixture tarball into `dir`; returns its path.
pub fn unpack(dir: &Path, name: &str) -> PathBuf {
    let f = File::open(fixtures().join("nvdimm-images.tar.gz")).expect("fixture tarball");
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(f));
    for entry in ar.entries().expect("tar entries") {
        let mut entry = entry.expect("tar entry");
        let path = entry.path().expect("entry path").into_owned();
        if path.file_name().and_then(|n| n.to_str()) == Some(name) {
            let out = dir.join(name);
            entry.unpack(&out).expect("unpack image");
            return out;
        }
    }
    panic!("{name} not in the fixture tarball");
}

/// A sector the kernel wrote: its LBA and final contents.
pub struct Written {
    pub lba: u64,
    pub data: Vec<u8>,
    pub sha256: String,
}

/// Parse `btt-writes-*.txt`: `lba=N pattern='TEXT\n'*COUNT sha256=...` lines (the
/// `first-write` lines describe overwritten contents and are skipped).
pub fn writes(name: &str) -> (u32, Vec<Written>) {
    let text = std::fs::read_to_string(fixtures().join(name)).expect("writes file");
    let mut sector = 0;
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("device=") {
            let ss = rest
                .split_whitespace()
                .find_map(|w| w.strip_prefix("sector_size="));
            sector = ss.expect("sector_size").parse().expect("number");
            continue;
        }
        if !line.starts_with("lba=") || line.contains("first-write") {
            continue;
        }
        let lba: u64 = line[4..line.find(' ').unwrap()].parse().unwrap();
        let p0 = line.find("pattern='").unwrap() + 9;
        let p1 = line[p0..].find("\\n'*").unwrap() + p0;
        let text = &line[p0..p1];
        let rest = &line[p1 + 4..];
        let count: usize = rest[..rest.find(' ').unwrap()].parse().unwrap();
        let sha = rest[rest.find("sha256=").unwrap() + 7..].to_string();
        let data = format!("{text}\n").repeat(count).into_bytes();
        out.push(Written {
            lba,
            data,
            sha256: sha,
        });
    }
    assert!(!out.is_empty() && sector > 0, "{name}: nothing parsed");
    (sector, out)
}

/// Deterministic pseudo-random numbers (SplitMix64) so tests need no extra crates.
pub struct Rng(pub u64);

impl Rng {
    // A generator step, not an iterator: it never ends, so `Iterator` would only add noise.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A sector's worth of bytes that identifies (lba, version).
pub fn pattern(lba: u64, version: u64, len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len);
    let mut i = 0u64;
    while v.len() < len {
        let word = lba.wrapping_mul(0x1_0000_0001) ^ version.rotate_left(32) ^ i;
        v.extend_from_slice(&word.to_le_bytes());
        i += 1;
    }
    v.truncate(len);
    v
}

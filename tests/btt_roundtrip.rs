//! Format + random write/read round trips for both versions and every supported sector size,
//! on memory, file (pread/pwrite) and mapped storage; multi-arena layouts; several threads.

use ndctl_testsupport::btt as btt_support;

use std::sync::Arc;

use btt_support::{pattern, Rng};
use ndctl::btt_engine::format::SUPPORTED_LBASIZES;
use ndctl::btt_engine::{
    check, format_btt, BttError, BttMedia, Durability, FileStorage, FormatOptions, MemStorage,
    MmapStorage, Storage,
};

/// Random writes with a model, read everything written back, reopen, read again, check.
fn exercise<S: Storage>(s: S, version: (u16, u16), lbasize: u32, writes: u64, seed: u64) -> S {
    let mut o = FormatOptions::new(lbasize);
    o.version = version;
    let infos = format_btt(&s, 0, &o).unwrap();
    assert!(infos.iter().all(|i| i.version_major == version.0));
    let btt = BttMedia::open(s, 0).unwrap();
    assert_eq!(btt.version(), version);
    assert_eq!(btt.lba_size(), lbasize);
    let n = lbasize as usize;
    let nlba = btt.nlba();
    let mut rng = Rng(seed);
    let mut model = std::collections::BTreeMap::new();
    for v in 0..writes {
        // Concentrate on a small range so blocks get remapped many times.
        let lba = if v % 3 == 0 {
            rng.below(nlba)
        } else {
            rng.below(40)
        };
        let data = pattern(lba, v, n);
        btt.write_sector(lba, &data).unwrap();
        model.insert(lba, data);
    }
    let verify = |btt: &BttMedia<S>| {
        let mut buf = vec![0u8; n];
        for (lba, data) in &model {
            btt.read_sector(*lba, &mut buf).unwrap();
            assert!(&buf == data, "v{version:?} lbasize {lbasize}: LBA {lba}");
        }
    };
    verify(&btt);
    let s = btt.into_storage().unwrap();
    let report = check(&s, 0).unwrap();
    assert!(report.is_clean(), "{report}");
    let btt = BttMedia::open(s, 0).unwrap();
    verify(&btt);
    btt.into_storage().unwrap()
}

#[test]
fn every_sector_size_and_version_in_memory() {
    for version in [(1, 1), (2, 0)] {
        for (i, &lbasize) in SUPPORTED_LBASIZES.iter().enumerate() {
            exercise(MemStorage::new(17 << 20), version, lbasize, 700, i as u64);
        }
    }
}

#[test]
fn file_and_mmap_storage() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("img");
    std::fs::File::create(&path)
        .unwrap()
        .set_len(20 << 20)
        .unwrap();
    let s = FileStorage::open(&path, true, Durability::Sync).unwrap();
    exercise(s, (1, 1), 4096, 200, 1);
    let s = MmapStorage::open(&path, Durability::Sync).unwrap();
    exercise(s, (2, 0), 512, 200, 2);
    let s = MmapStorage::open(&path, Durability::CacheFlush).unwrap();
    exercise(s, (1, 1), 520, 200, 3);
    let s = MmapStorage::open(&path, Durability::None).unwrap();
    let s = exercise(s, (2, 0), 4224, 200, 4);
    drop(s);
    // What the mapping wrote is what pread sees.
    let s = FileStorage::open(&path, false, Durability::None).unwrap();
    assert!(check(&s, 0).unwrap().is_clean());
    assert!(FileStorage::open(&path, true, Durability::CacheFlush).is_err());
}

#[test]
fn multi_arena_layout() {
    let s = MemStorage::new(52 << 20);
    let mut o = FormatOptions::new(512);
    o.arena_max_size = 16 << 20;
    let infos = format_btt(&s, 0, &o).unwrap();
    // 52 MiB - 4 KiB: three 16 MiB arenas, the 4 MiB tail is unused.
    assert_eq!(infos.len(), 3);
    assert_eq!(infos[0].nextoff, 16 << 20);
    assert_eq!(infos[2].nextoff, 0);
    let btt = BttMedia::open(&s, 0).unwrap();
    assert_eq!(btt.arenas().len(), 3);
    let total: u64 = infos.iter().map(|i| u64::from(i.external_nlba)).sum();
    assert_eq!(btt.nlba(), total);
    let a1 = btt.arenas()[1].lba_start;
    let a2 = btt.arenas()[2].lba_start;
    let lbas = [0, a1 - 1, a1, a1 + 1, a2 - 1, a2, total - 1];
    for (v, &lba) in lbas.iter().enumerate() {
        btt.write_sector(lba, &pattern(lba, v as u64, 512)).unwrap();
    }
    let mut buf = vec![0u8; 512];
    for (v, &lba) in lbas.iter().enumerate() {
        btt.read_sector(lba, &mut buf).unwrap();
        assert_eq!(buf, pattern(lba, v as u64, 512));
    }
    assert!(btt.read_sector(total, &mut buf).is_err());

    // A run of sectors across the arena boundary, in one call each way.
    let run: Vec<u8> = (a1 - 2..a1 + 3)
        .flat_map(|lba| pattern(lba, 100, 512))
        .collect();
    btt.write_sectors(a1 - 2, &run).unwrap();
    let mut back = vec![0u8; run.len()];
    btt.read_sectors(a1 - 2, &mut back).unwrap();
    assert_eq!(back, run);
    // A run that leaves the device or splits a sector is refused before any I/O.
    let before = s.to_vec();
    assert!(matches!(
        btt.write_sectors(total - 2, &run),
        Err(BttError::LbaOutOfRange { .. })
    ));
    assert!(matches!(
        btt.write_sectors(0, &run[..700]),
        Err(BttError::BadBuffer { .. })
    ));
    assert!(s.to_vec() == before, "a refused run wrote to the media");
    assert!(btt.read_sectors(total - 1, &mut back).is_err());

    let r = check(&s, 0).unwrap();
    assert!(r.is_clean(), "{r}");
    assert_eq!(r.arenas.len(), 3);
    let j = btt.info().to_json();
    assert_eq!(j["arenas"].as_array().unwrap().len(), 3);
    assert_eq!(j["arenas"][1]["external_lba_start"], a1);
}

#[test]
fn format_rejects_bad_parameters() {
    let s = MemStorage::new(20 << 20);
    assert!(format_btt(&s, 0, &FormatOptions::new(1000)).is_err());
    let mut o = FormatOptions::new(512);
    o.version = (1, 2);
    assert!(format_btt(&s, 0, &o).is_err());
    let small = MemStorage::new(15 << 20);
    assert!(format_btt(&small, 0, &FormatOptions::new(512)).is_err());
    assert!(format_btt(&s, 30 << 20, &FormatOptions::new(512)).is_err());
    let mut o = FormatOptions::new(512);
    o.namespace_size = Some(40 << 20);
    assert!(format_btt(&s, 0, &o).is_err());
}

/// v2.0 over an old v1.1 BTT: the stale v1.1 info block at +4096 must not win.
#[test]
fn reformat_between_versions() {
    let s = MemStorage::new(20 << 20);
    format_btt(&s, 0, &FormatOptions::new(512)).unwrap();
    let mut o = FormatOptions::new(4096);
    o.version = (2, 0);
    format_btt(&s, 0, &o).unwrap();
    let btt = BttMedia::open(&s, 0).unwrap();
    assert_eq!((btt.version(), btt.lba_size()), ((2, 0), 4096));
    drop(btt);
    format_btt(&s, 0, &FormatOptions::new(512)).unwrap();
    let btt = BttMedia::open(&s, 0).unwrap();
    assert_eq!((btt.version(), btt.lba_size()), ((1, 1), 512));
}

/// Several threads write and read overlapping sectors. Each sector's contents always carry
/// its own LBA and a version some writer wrote (never a reused block's data).
#[test]
fn concurrent_readers_and_writers() {
    let s = MemStorage::new(17 << 20);
    format_btt(&s, 0, &FormatOptions::new(512)).unwrap();
    let btt = Arc::new(BttMedia::open(s, 0).unwrap());
    let hot = 24u64;
    for lba in 0..hot {
        btt.write_sector(lba, &pattern(lba, 0, 512)).unwrap();
    }
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let btt = Arc::clone(&btt);
            std::thread::spawn(move || {
                let mut rng = Rng(100 + t);
                let mut buf = vec![0u8; 512];
                for i in 0..1500u64 {
                    let lba = rng.below(hot);
                    if (i + t) % 2 == 0 {
                        let v = (t << 32) | (i + 1);
                        btt.write_sector(lba, &pattern(lba, v, 512)).unwrap();
                    } else {
                        btt.read_sector(lba, &mut buf).unwrap();
                        // Recover the version from the first word and verify the rest.
                        let w0 = u64::from_le_bytes(buf[..8].try_into().unwrap());
                        let v = (w0 ^ lba.wrapping_mul(0x1_0000_0001)).rotate_right(32);
                        assert_eq!(
                            buf,
                            pattern(lba, v, 512),
                            "torn or foreign data at LBA {lba}"
                        );
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let btt = Arc::try_unwrap(btt).unwrap();
    let s = btt.into_storage().unwrap();
    let r = check(&s, 0).unwrap();
    assert!(r.is_clean(), "{r}");
}

#[test]
fn btt_is_send_and_sync() {
    fn assert_sync<T: Send + Sync>() {}
    assert_sync::<BttMedia<MemStorage>>();
    assert_sync::<BttMedia<FileStorage>>();
    assert_sync::<BttMedia<MmapStorage>>();
    assert_sync::<BttMedia<Arc<dyn Storage>>>();
}

/// Storage that parks the first read at a chosen offset until released, to hold a reader in
/// the middle of a data-block read.
struct PausingStorage {
    inner: MemStorage,
    pause_at: std::sync::atomic::AtomicU64,
    entered: std::sync::Mutex<std::sync::mpsc::Sender<()>>,
    release: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
}

impl Storage for PausingStorage {
    fn size(&self) -> u64 {
        self.inner.size()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        use std::sync::atomic::Ordering;
        if self
            .pause_at
            .compare_exchange(offset, u64::MAX, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            self.entered.lock().unwrap().send(()).unwrap();
            self.release.lock().unwrap().recv().unwrap();
        }
        self.inner.read_at(offset, buf)
    }
    fn write_at(&self, offset: u64, buf: &[u8]) -> std::io::Result<()> {
        self.inner.write_at(offset, buf)
    }
    fn persist(&self, offset: u64, len: u64) -> std::io::Result<()> {
        self.inner.persist(offset, len)
    }
}

/// The RTT: a writer must not reuse a block a reader is still copying from. A reader is
/// parked inside the data read of LBA 5's block; a writer then frees that block (first write
/// of LBA 5) and would reuse it on its next write, which must wait until the reader is done.
#[test]
fn writer_waits_for_reader_of_reused_block() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let (entered_tx, entered_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel();
    let s = PausingStorage {
        inner: MemStorage::new(17 << 20),
        pause_at: std::sync::atomic::AtomicU64::new(u64::MAX),
        entered: std::sync::Mutex::new(entered_tx),
        release: std::sync::Mutex::new(release_rx),
    };
    format_btt(&s, 0, &FormatOptions::new(512)).unwrap();
    let opts = ndctl::btt_engine::OpenOptions {
        read_only: false,
        max_lanes: Some(2),
    };
    let btt = Arc::new(BttMedia::open_with(s, 0, &opts).unwrap());
    let lba = 5u64;
    btt.write_sector(lba, &pattern(lba, 1, 512)).unwrap();
    // Where LBA 5 lives now.
    let a = &btt.arenas()[0];
    let post = btt.storage().read_u32(a.geo.map + lba * 4).unwrap() & 0x3FFF_FFFF;
    let block_off = a.geo.data + u64::from(post) * 512;
    btt.storage().pause_at.store(block_off, Ordering::SeqCst);

    let reader = {
        let btt = Arc::clone(&btt);
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 512];
            btt.read_sector(lba, &mut buf).unwrap();
            buf
        })
    };
    entered_rx.recv().unwrap();
    // Reader parked on the old block. This write takes a free block and frees `post`; the
    // writer's lane will hand out `post` on the next write.
    btt.write_sector(lba, &pattern(lba, 2, 512)).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let btt = Arc::clone(&btt);
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            btt.write_sector(lba, &pattern(lba, 3, 512)).unwrap();
            done.store(true, Ordering::SeqCst);
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(
        !done.load(Ordering::SeqCst),
        "writer reused a block a reader was still reading"
    );
    release_tx.send(()).unwrap();
    assert_eq!(reader.join().unwrap(), pattern(lba, 1, 512));
    writer.join().unwrap();
    let mut buf = vec![0u8; 512];
    btt.read_sector(lba, &mut buf).unwrap();
    assert_eq!(buf, pattern(lba, 3, 512));
}

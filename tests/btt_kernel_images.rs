//! The three BTTs written by a real Linux 6.1 kernel: open, read every sector the kernel
//! wrote, check clean (without writing), and compare our format's layout with the kernel's.

use ndctl_testsupport::btt as btt_support;

use btt_support::{unpack, writes, IMAGES};
use ndctl::btt_engine::format::{FlogEntry, InfoBlock, INFO_SIZE};
use ndctl::btt_engine::{
    check_with, format_btt, BttMedia, CheckOptions, Durability, FileStorage, FormatOptions,
    MemStorage, OpenOptions, Storage,
};

/// LBAs whose map entries the kernel's writes changed: dd went through the page cache, so on
/// the 512-byte-sector device every write rewrote the whole 4 KiB page (8 sectors).
fn touched(lbasize: u32, list: &[btt_support::Written]) -> Vec<u64> {
    let per_page = if lbasize < 4096 { 8 } else { 1 };
    let mut v: Vec<u64> = list
        .iter()
        .flat_map(|w| {
            let first = w.lba / per_page * per_page;
            first..first + per_page
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

fn read_only(path: &std::path::Path) -> FileStorage {
    FileStorage::open(path, false, Durability::None).expect("open image")
}

#[test]
fn kernel_images_read_back_every_written_sector() {
    let dir = tempfile::tempdir().unwrap();
    for img in &IMAGES {
        let path = unpack(dir.path(), img.file);
        let btt = BttMedia::open_with(
            read_only(&path),
            img.ns_offset,
            &OpenOptions {
                read_only: true,
                ..Default::default()
            },
        )
        .unwrap_or_else(|e| panic!("{}: {e}", img.file));
        assert_eq!(btt.version(), img.version, "{}", img.file);
        assert_eq!(btt.lba_size(), img.lbasize);
        assert_eq!(btt.nlba(), img.nlba);
        assert_eq!(btt.arenas().len(), 1);
        let (sector, list) = writes(img.writes);
        assert_eq!(sector, img.lbasize);
        let mut buf = vec![0u8; img.lbasize as usize];
        for w in &list {
            assert_eq!(w.data.len(), img.lbasize as usize);
            btt.read_sector(w.lba, &mut buf).unwrap();
            assert!(buf == w.data, "{}: LBA {} differs", img.file, w.lba);
        }
        // The last LBA is written; the one after it does not exist.
        assert!(list.iter().any(|w| w.lba == img.nlba - 1));
        assert!(btt.read_sector(img.nlba, &mut buf).is_err());
        // LBA 0 was written (twice), so its map entry is a normal one now.
        let a = &btt.arenas()[0];
        let raw = btt.storage().read_u32(a.geo.map).unwrap();
        assert_eq!(raw >> 30, 3, "LBA 0 map entry {raw:#x} is a normal entry");
    }
}

#[test]
fn kernel_images_info_matches_media_signatures() {
    let dir = tempfile::tempdir().unwrap();
    // Values from media-signatures.txt.
    let expect = [
        (
            0x800_1000u64,
            32728u32,
            0x7fda000u64,
            0x7ffa000u64,
            0x7ffe000u64,
        ),
        (0x1000, 1040384, 0x1fc02000, 0x1fffa000, 0x1fffe000),
        (0x0, 32729, 0x7fdb000, 0x7ffb000, 0x7fff000),
    ];
    for (img, e) in IMAGES.iter().zip(expect) {
        let path = unpack(dir.path(), img.file);
        let btt = BttMedia::open_with(
            read_only(&path),
            img.ns_offset,
            &OpenOptions {
                read_only: true,
                ..Default::default()
            },
        )
        .unwrap();
        let info = btt.info();
        assert_eq!(info.btt_offset, e.0);
        let a = &info.arenas[0];
        assert_eq!(a.info.internal_nlba, e.1);
        assert_eq!(
            (a.info.mapoff, a.info.logoff, a.info.info2off),
            (e.2, e.3, e.4)
        );
        assert_eq!(
            (a.info.dataoff, a.info.nfree, a.info.flags),
            (0x1000, 256, 0)
        );
        assert_eq!(a.log_indices, [0, 1]);
        let json = info.to_json();
        assert_eq!(
            json["version"],
            format!("{}.{}", img.version.0, img.version.1)
        );
        assert_eq!(json["external_nlba"], img.nlba);
        assert_eq!(json["arenas"][0]["info2off"], e.4);
    }
}

#[test]
fn kernel_images_check_clean_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    for img in &IMAGES {
        let path = unpack(dir.path(), img.file);
        // Opened O_RDONLY: any write attempt by check would fail with EBADF.
        let s = read_only(&path);
        let opts = CheckOptions {
            namespace_size: Some(img.ns_size),
            parent_uuid: None,
        };
        let report = check_with(&s, img.ns_offset, &opts).unwrap();
        assert!(report.is_clean(), "{}:\n{report}", img.file);
        let a = &report.arenas[0];
        let (_, list) = writes(img.writes);
        let n = touched(img.lbasize, &list).len() as u64;
        assert_eq!(a.map_mapped, n, "{}:\n{report}", img.file);
        assert_eq!(a.map_initial, img.nlba - n);
        assert_eq!(a.unfinished_writes, 0);
        let json = report.to_json();
        assert_eq!(json["consistent"], true);
    }
}

/// Formatting a namespace of the same size with the same uuids must give the kernel's info
/// block byte for byte, and the kernel's map and flog except where its writes changed them.
#[test]
fn format_matches_kernel_layout() {
    let dir = tempfile::tempdir().unwrap();
    for img in &IMAGES {
        let path = unpack(dir.path(), img.file);
        let kernel = read_only(&path);
        let btt = BttMedia::open_with(
            &kernel,
            img.ns_offset,
            &OpenOptions {
                read_only: true,
                ..Default::default()
            },
        )
        .unwrap();
        let kinfo = btt.info().arenas[0].info.clone();
        let start_rel = btt.info().btt_offset - img.ns_offset;
        let mine = MemStorage::new(img.ns_size as usize);
        let opts = FormatOptions {
            lbasize: img.lbasize,
            version: img.version,
            uuid: Some(kinfo.uuid),
            parent_uuid: kinfo.parent_uuid,
            namespace_size: None,
            arena_max_size: ndctl::btt_engine::format::ARENA_MAX_SIZE,
        };
        let written = format_btt(&mine, 0, &opts).unwrap();
        assert_eq!(written.len(), 1);
        assert_eq!(written[0], kinfo, "{}", img.file);

        let read = |s: &dyn Storage, off: u64, len: u64| {
            let mut v = vec![0u8; len as usize];
            s.read_at(off, &mut v).unwrap();
            v
        };
        // Info block and its backup: identical bytes.
        for off in [0, kinfo.info2off] {
            assert_eq!(
                read(&mine, start_rel + off, INFO_SIZE),
                read(&kernel, img.ns_offset + start_rel + off, INFO_SIZE),
                "{}: info block at +{off:#x}",
                img.file
            );
        }
        assert!(InfoBlock::verify(&read(&mine, start_rel, INFO_SIZE).try_into().unwrap()).is_ok());
        // Map: identical except the entries of the LBAs the kernel wrote.
        let (_, list) = writes(img.writes);
        let maplen = kinfo.logoff - kinfo.mapoff;
        let m_mine = read(&mine, start_rel + kinfo.mapoff, maplen);
        let m_kern = read(&kernel, img.ns_offset + start_rel + kinfo.mapoff, maplen);
        let mut differing = Vec::new();
        for (i, (a, b)) in m_mine.chunks(4).zip(m_kern.chunks(4)).enumerate() {
            if a != b {
                differing.push(i as u64);
            }
        }
        assert_eq!(
            differing,
            touched(img.lbasize, &list),
            "{}: map differences",
            img.file
        );
        // Flog: lanes the kernel never used are byte-identical to ours; used lanes still have
        // our initial entry's free block history in one of their slots' lineage.
        let loglen = kinfo.info2off - kinfo.logoff;
        let l_mine = read(&mine, start_rel + kinfo.logoff, loglen);
        let l_kern = read(&kernel, img.ns_offset + start_rel + kinfo.logoff, loglen);
        assert_eq!(
            l_mine[256 * 64..],
            l_kern[256 * 64..],
            "{}: flog tail",
            img.file
        );
        let mut used = 0;
        for lane in 0..256usize {
            let a = &l_mine[lane * 64..lane * 64 + 64];
            let b = &l_kern[lane * 64..lane * 64 + 64];
            if a != b {
                used += 1;
                let k1 = FlogEntry::parse(&b[16..32]);
                assert_ne!(
                    k1.seq, 0,
                    "{}: lane {lane} differs but slot 1 unused",
                    img.file
                );
            } else {
                let e = FlogEntry::parse(&a[..16]);
                assert_eq!(
                    (e.lba, e.old_map, e.new_map, e.seq),
                    (
                        lane as u32,
                        kinfo.external_nlba + lane as u32,
                        kinfo.external_nlba + lane as u32,
                        1
                    )
                );
            }
        }
        // 8 writes were spread over the guest's 2 CPUs' lanes.
        assert!((1..=2).contains(&used), "{}: {used} lanes used", img.file);
    }
}

/// Write through our engine into a copy of each kernel image, then read both the kernel's
/// and our sectors back after reopening, and check clean.
#[test]
fn write_into_kernel_images() {
    let dir = tempfile::tempdir().unwrap();
    for img in &IMAGES {
        let path = unpack(dir.path(), img.file);
        let s = FileStorage::open(&path, true, Durability::None).unwrap();
        let btt = BttMedia::open(&s, img.ns_offset).unwrap();
        let n = img.lbasize as usize;
        let mut rng = btt_support::Rng(7);
        let (_, list) = writes(img.writes);
        let mut mine = Vec::new();
        for v in 0..600u64 {
            let lba = loop {
                let l = rng.below(img.nlba);
                if !list.iter().any(|w| w.lba == l) {
                    break l;
                }
            };
            let data = btt_support::pattern(lba, v, n);
            btt.write_sector(lba, &data).unwrap();
            mine.retain(|(l, _)| *l != lba);
            mine.push((lba, data));
        }
        drop(btt);
        let btt = BttMedia::open(&s, img.ns_offset).unwrap();
        let mut buf = vec![0u8; n];
        for w in &list {
            btt.read_sector(w.lba, &mut buf).unwrap();
            assert!(buf == w.data);
        }
        for (lba, data) in &mine {
            btt.read_sector(*lba, &mut buf).unwrap();
            assert!(&buf == data, "{}: LBA {lba}", img.file);
        }
        let opts = CheckOptions {
            namespace_size: Some(img.ns_size),
            parent_uuid: None,
        };
        let report = check_with(&s, img.ns_offset, &opts).unwrap();
        assert!(report.is_clean(), "{}:\n{report}", img.file);
    }
}

//! Injected corruption: every fault is detected by check, the repairable ones are repaired,
//! the others are refused with a reason, and the engine never panics on them.

use ndctl_testsupport::btt as btt_support;

use btt_support::{pattern, unpack, IMAGES};
use ndctl::btt_engine::format::{FlogEntry, InfoBlock, INFO_FLAG_ERROR, INFO_SIZE};
use ndctl::btt_engine::{
    check, check_with, format_btt, repair, BttError, BttMedia, CheckOptions, Durability,
    FileStorage, FormatOptions, MemStorage, OpenOptions, RepairOptions, Severity, Storage,
};

const SIZE: usize = 20 << 20;
const LBASIZE: usize = 512;

/// A small v1.1 BTT with 64 written sectors (LBA i holds pattern(i, 1)).
fn fixture() -> (MemStorage, Geo) {
    let s = MemStorage::new(SIZE);
    let mut o = FormatOptions::new(LBASIZE as u32);
    o.uuid = Some(uuid::Uuid::from_u128(0x1234));
    format_btt(&s, 0, &o).unwrap();
    let geo = {
        let btt = BttMedia::open(&s, 0).unwrap();
        for lba in 0..64u64 {
            btt.write_sector(lba, &pattern(lba, 1, LBASIZE)).unwrap();
        }
        let a = &btt.arenas()[0];
        Geo {
            base: a.geo.base,
            map: a.geo.map,
            log: a.geo.log,
            info2: a.geo.info2,
            internal_nlba: a.info.internal_nlba,
        }
    };
    assert!(check(&s, 0).unwrap().is_clean());
    (s, geo)
}

#[derive(Clone, Copy)]
struct Geo {
    base: u64,
    map: u64,
    log: u64,
    info2: u64,
    internal_nlba: u32,
}

fn rd32(s: &MemStorage, off: u64) -> u32 {
    s.read_u32(off).unwrap()
}
fn wr32(s: &MemStorage, off: u64, v: u32) {
    s.write_u32(off, v).unwrap()
}
fn rd_entry(s: &MemStorage, off: u64) -> FlogEntry {
    let mut b = [0u8; 16];
    s.read_at(off, &mut b).unwrap();
    FlogEntry::parse(&b)
}
fn wr_entry(s: &MemStorage, off: u64, e: FlogEntry) {
    s.write_at(off, &e.to_bytes()).unwrap()
}

fn assert_data_intact(s: &MemStorage) {
    let btt = BttMedia::open(s, 0).unwrap();
    let mut buf = vec![0u8; LBASIZE];
    for lba in 0..64u64 {
        btt.read_sector(lba, &mut buf).unwrap();
        assert_eq!(buf, pattern(lba, 1, LBASIZE), "LBA {lba}");
    }
}

fn codes(r: &ndctl::btt_engine::Report, sev: Severity) -> Vec<&'static str> {
    r.findings
        .iter()
        .filter(|f| f.severity == sev)
        .map(|f| f.code)
        .collect()
}

#[test]
fn check_never_writes() {
    let (s, g) = fixture();
    // Plenty to repair, but check must leave every byte alone.
    wr32(&s, g.info2 + 100, 0xdead_beef);
    wr32(&s, g.base + 0xFF8, 1);
    let before = s.to_vec();
    let r = check(&s, 0).unwrap();
    assert!(!r.is_clean());
    assert!(s.to_vec() == before);
}

#[test]
fn bad_primary_checksum_is_restored_from_backup() {
    let (s, g) = fixture();
    wr32(&s, g.base + 0x3C, 12345); // external_nlba, checksum now wrong
    let r = check(&s, 0).unwrap();
    assert_eq!(
        codes(&r, Severity::Repairable),
        ["info-primary-invalid"],
        "{r}"
    );
    assert!(matches!(
        BttMedia::open(&s, 0),
        Err(BttError::NotFound { .. })
    ));
    let r = repair(&s, 0, &RepairOptions::default()).unwrap();
    assert!(r.is_clean(), "{r}");
    assert_eq!(r.repairs.len(), 1);
    assert_data_intact(&s);
}

#[test]
fn wiped_primary_is_restored_from_backup() {
    let (s, g) = fixture();
    s.write_at(g.base, &[0u8; INFO_SIZE as usize]).unwrap();
    let r = check(&s, 0).unwrap();
    assert!(r.has("info-primary-invalid"), "{r}");
    assert!(r.errors().next().is_none(), "{r}");
    assert!(repair(&s, 0, &RepairOptions::default()).unwrap().is_clean());
    assert_data_intact(&s);
}

#[test]
fn corrupt_backup_is_rewritten_from_primary() {
    let (s, g) = fixture();
    wr32(&s, g.info2 + 0x200, 7); // padding byte: backup checksum now wrong
    let r = check(&s, 0).unwrap();
    assert_eq!(codes(&r, Severity::Repairable), ["info2-mismatch"]);
    // The kernel never reads the backup: the BTT still opens.
    assert_data_intact(&s);
    let r = repair(&s, 0, &RepairOptions::default()).unwrap();
    assert!(r.is_clean(), "{r}");
    let mut a = [0u8; 4096];
    let mut b = [0u8; 4096];
    s.read_at(g.base, &mut a).unwrap();
    s.read_at(g.info2, &mut b).unwrap();
    assert_eq!(a, b);
}

#[test]
fn out_of_range_map_entry_is_reported_not_repaired() {
    let (s, g) = fixture();
    wr32(&s, g.map + 5 * 4, 0xC000_0000 | (g.internal_nlba + 10));
    let r = check(&s, 0).unwrap();
    assert!(
        codes(&r, Severity::Error).contains(&"map-out-of-range"),
        "{r}"
    );
    // Block of LBA 5 is now owned by nobody.
    assert!(r.has("block-unreferenced"));
    let before = s.to_vec();
    let r = repair(&s, 0, &RepairOptions::default()).unwrap();
    assert!(!r.is_clean());
    assert!(r.repairs.is_empty());
    assert!(
        s.to_vec() == before,
        "repair must not touch what it cannot fix"
    );
    // Reading the bad sector fails cleanly; writing it too (old block unknown).
    let btt = BttMedia::open(&s, 0).unwrap();
    let mut buf = vec![0u8; LBASIZE];
    assert!(matches!(
        btt.read_sector(5, &mut buf),
        Err(BttError::InvalidMap { premap: 5, .. })
    ));
    assert!(btt.write_sector(5, &buf).is_err());
    btt.read_sector(6, &mut buf).unwrap();
}

#[test]
fn duplicate_mapping_is_reported() {
    let (s, g) = fixture();
    let six = rd32(&s, g.map + 6 * 4);
    wr32(&s, g.map + 5 * 4, six);
    let r = check(&s, 0).unwrap();
    let errs = codes(&r, Severity::Error);
    assert!(errs.contains(&"map-duplicate"), "{r}");
    assert!(errs.contains(&"block-unreferenced"), "{r}");
    let j = r.to_json();
    assert_eq!(j["consistent"], false);
    assert!(j["errors"].as_u64().unwrap() >= 2);
}

#[test]
fn free_block_also_mapped_is_reported() {
    let (s, g) = fixture();
    // Point LBA 1000 (never written) at lane 0's free block.
    let lane0 = rd_entry(&s, g.log);
    let lane0b = rd_entry(&s, g.log + 16);
    let cur =
        if lane0b.seq != 0 && (lane0.seq == 0 || lane0b.seq == [0, 2, 3, 1][lane0.seq as usize]) {
            lane0b
        } else {
            lane0
        };
    wr32(&s, g.map + 1000 * 4, 0xC000_0000 | cur.old_block());
    let r = check(&s, 0).unwrap();
    assert!(r.has("free-block-in-use"), "{r}");
    assert!(r.has("block-unreferenced"), "{r}");
}

/// The first 8-byte half of a flog update landed, the second (with seq) did not: the entry is
/// ignored, the old mapping stays, and the image is consistent.
#[test]
fn torn_flog_first_half_is_harmless() {
    let (s, g) = fixture();
    let lane = 200u64; // never used by the fixture writes (one thread uses one lane)
    let off = g.log + lane * 64 + 16; // slot 1, the older (empty) one
    let torn = FlogEntry {
        lba: 3,
        old_map: 77,
        new_map: 0,
        seq: 0,
    };
    wr_entry(&s, off, torn);
    let r = check(&s, 0).unwrap();
    assert!(r.is_clean(), "{r}");
    assert_data_intact(&s);
}

#[test]
fn torn_flog_seq_corruption_is_detected() {
    let (s, g) = fixture();
    // Both live slots with the same sequence number.
    let lane = 200u64;
    let e0 = rd_entry(&s, g.log + lane * 64);
    wr_entry(&s, g.log + lane * 64 + 16, FlogEntry { seq: e0.seq, ..e0 });
    let r = check(&s, 0).unwrap();
    assert!(codes(&r, Severity::Error).contains(&"flog-seq"), "{r}");
    assert!(matches!(
        BttMedia::open(&s, 0),
        Err(BttError::InvalidFlog { lane: 200, .. })
    ));
    // Out-of-range sequence number.
    let (s, g) = fixture();
    let e0 = rd_entry(&s, g.log + lane * 64);
    wr_entry(&s, g.log + lane * 64, FlogEntry { seq: 5, ..e0 });
    assert!(check(&s, 0).unwrap().has("flog-seq"));
    assert!(BttMedia::open(&s, 0).is_err());
}

#[test]
fn torn_flog_second_half_only_is_detected() {
    // Corruption the protocol never produces: new_map and seq landed without lba/old_map.
    let (s, g) = fixture();
    let lane = 201u64;
    let bad = FlogEntry {
        lba: 0,
        old_map: 0,
        new_map: 40,
        seq: 2,
    };
    wr_entry(&s, g.log + lane * 64 + 16, bad);
    let r = check(&s, 0).unwrap();
    assert!(!r.is_clean(), "{r}");
    assert!(r.errors().next().is_some(), "{r}");
}

#[test]
fn out_of_range_flog_entry_is_detected() {
    let (s, g) = fixture();
    let lane = 202u64;
    let e0 = rd_entry(&s, g.log + lane * 64);
    wr_entry(
        &s,
        g.log + lane * 64,
        FlogEntry {
            old_map: g.internal_nlba + 5,
            new_map: g.internal_nlba + 5,
            ..e0
        },
    );
    let r = check(&s, 0).unwrap();
    assert!(r.has("flog-out-of-range"), "{r}");
    assert!(matches!(
        BttMedia::open(&s, 0),
        Err(BttError::InvalidFlog { .. })
    ));
}

/// Flog written, map update lost: check flags it, a read-only open reads the new data
/// without writing, repair (and a writable open) complete the update as the kernel does.
#[test]
fn unfinished_write_is_rolled_forward() {
    let (s, g) = fixture();
    let old_entry = rd32(&s, g.map + 9 * 4);
    {
        let btt = BttMedia::open(&s, 0).unwrap();
        btt.write_sector(9, &pattern(9, 2, LBASIZE)).unwrap();
    }
    wr32(&s, g.map + 9 * 4, old_entry); // the map write "never happened"
    let r = check(&s, 0).unwrap();
    assert_eq!(codes(&r, Severity::Repairable), ["unfinished-write"], "{r}");
    assert_eq!(r.arenas[0].unfinished_writes, 1);

    let before = s.to_vec();
    let ro = BttMedia::open_with(
        &s,
        0,
        &OpenOptions {
            read_only: true,
            ..Default::default()
        },
    )
    .unwrap();
    let mut buf = vec![0u8; LBASIZE];
    ro.read_sector(9, &mut buf).unwrap();
    assert_eq!(buf, pattern(9, 2, LBASIZE));
    assert!(matches!(ro.write_sector(9, &buf), Err(BttError::ReadOnly)));
    assert_eq!(ro.arenas()[0].roll_forwards.len(), 1);
    drop(ro);
    assert!(s.to_vec() == before);

    let r = repair(&s, 0, &RepairOptions::default()).unwrap();
    assert!(r.is_clean(), "{r}");
    assert_eq!(r.repairs.len(), 1);
    let btt = BttMedia::open(&s, 0).unwrap();
    assert!(btt.arenas()[0].roll_forwards.is_empty());
    btt.read_sector(9, &mut buf).unwrap();
    assert_eq!(buf, pattern(9, 2, LBASIZE));
}

/// Convert the flog to the pre-4.15 (0,2) layout by moving slot 1 to slot 2 in every lane.
fn make_old_layout(s: &MemStorage, g: Geo) {
    for lane in 0..256u64 {
        let e1 = rd_entry(s, g.log + lane * 64 + 16);
        wr_entry(s, g.log + lane * 64 + 16, FlogEntry::default());
        wr_entry(s, g.log + lane * 64 + 32, e1);
    }
}

#[test]
fn old_flog_layout_works_and_is_rewritten_on_request() {
    let (s, g) = fixture();
    make_old_layout(&s, g);
    let r = check(&s, 0).unwrap();
    assert!(r.is_clean(), "{r}");
    assert!(r.has("flog-old-layout"));
    assert_eq!(r.arenas[0].log_indices, Some([0, 2]));
    {
        let btt = BttMedia::open(&s, 0).unwrap();
        assert_eq!(btt.arenas()[0].log_indices, [0, 2]);
        // Writes keep using slots 0 and 2.
        for _ in 0..5 {
            btt.write_sector(3, &pattern(3, 1, LBASIZE)).unwrap();
        }
    }
    let r = check(&s, 0).unwrap();
    assert!(r.is_clean(), "{r}");
    assert_eq!(r.arenas[0].log_indices, Some([0, 2]));
    // Without the option, repair leaves the layout alone.
    let r = repair(&s, 0, &RepairOptions::default()).unwrap();
    assert!(r.repairs.is_empty());
    let r = repair(
        &s,
        0,
        &RepairOptions {
            rewrite_log: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(r.is_clean(), "{r}");
    assert_eq!(r.arenas[0].log_indices, Some([0, 1]));
    assert_eq!(r.repairs.len(), 256);
    assert_data_intact(&s);
}

#[test]
fn unknown_flog_layout_is_refused() {
    let (s, g) = fixture();
    let e = rd_entry(&s, g.log + 5 * 64);
    wr_entry(&s, g.log + 5 * 64 + 48, e); // slot 3 in use
    let r = check(&s, 0).unwrap();
    assert!(codes(&r, Severity::Error).contains(&"flog-layout"), "{r}");
    assert!(matches!(
        BttMedia::open(&s, 0),
        Err(BttError::InvalidFlog { lane: u32::MAX, .. })
    ));
}

#[test]
fn error_flag_makes_arena_read_only() {
    let (s, g) = fixture();
    for off in [g.base, g.info2] {
        let mut raw = [0u8; 4096];
        s.read_at(off, &mut raw).unwrap();
        let mut info = InfoBlock::parse(&raw);
        info.flags |= INFO_FLAG_ERROR;
        s.write_at(off, &info.serialize()).unwrap();
    }
    let r = check(&s, 0).unwrap();
    assert_eq!(codes(&r, Severity::Error), ["info-error-flag"], "{r}");
    let btt = BttMedia::open(&s, 0).unwrap();
    let mut buf = vec![0u8; LBASIZE];
    btt.read_sector(1, &mut buf).unwrap();
    assert_eq!(buf, pattern(1, 1, LBASIZE));
    assert!(matches!(
        btt.write_sector(1, &buf),
        Err(BttError::ArenaError { .. })
    ));
}

#[test]
fn zero_and_error_flags_are_honoured() {
    let (s, g) = fixture();
    let e10 = rd32(&s, g.map + 10 * 4);
    let e11 = rd32(&s, g.map + 11 * 4);
    wr32(&s, g.map + 10 * 4, (e10 & 0x3FFF_FFFF) | 0x8000_0000);
    wr32(&s, g.map + 11 * 4, (e11 & 0x3FFF_FFFF) | 0x4000_0000);
    let r = check(&s, 0).unwrap();
    assert!(r.is_clean(), "{r}");
    assert_eq!((r.arenas[0].map_zero, r.arenas[0].map_error), (1, 1));
    let btt = BttMedia::open(&s, 0).unwrap();
    let mut buf = vec![1u8; LBASIZE];
    btt.read_sector(10, &mut buf).unwrap();
    assert!(buf.iter().all(|&b| b == 0));
    assert!(matches!(
        btt.read_sector(11, &mut buf),
        Err(BttError::MediaError { lba: 11, .. })
    ));
    // Writing the bad sector replaces it; the flog remembers the old block had an error.
    btt.write_sector(11, &pattern(11, 5, LBASIZE)).unwrap();
    btt.read_sector(11, &mut buf).unwrap();
    assert_eq!(buf, pattern(11, 5, LBASIZE));
    assert!(btt.arenas()[0].free_entries().iter().any(|f| f.has_err));
    drop(btt);
    let r = check(&s, 0).unwrap();
    assert!(r.is_clean(), "{r}");
    // The error-flagged free block gets reused normally.
    let btt = BttMedia::open(&s, 0).unwrap();
    for i in 0..300u64 {
        btt.write_sector(11, &pattern(11, 6 + i, LBASIZE)).unwrap();
    }
    btt.read_sector(11, &mut buf).unwrap();
    assert_eq!(buf, pattern(11, 305, LBASIZE));
}

#[test]
fn no_btt_is_reported() {
    let s = MemStorage::new(SIZE);
    let r = check(&s, 0).unwrap();
    assert_eq!(codes(&r, Severity::Error), ["no-btt"]);
    assert!(matches!(
        BttMedia::open(&s, 0),
        Err(BttError::NotFound { .. })
    ));
    // Far beyond the storage: still a report, not a panic.
    let r = check(&s, u64::MAX - 10).unwrap();
    assert!(!r.is_clean());
}

#[test]
fn geometry_beyond_storage_is_refused() {
    let (s, g) = fixture();
    let mut raw = [0u8; 4096];
    s.read_at(g.base, &mut raw).unwrap();
    let mut info = InfoBlock::parse(&raw);
    info.mapoff = 1 << 40;
    s.write_at(g.base, &info.serialize()).unwrap();
    let r = check(&s, 0).unwrap();
    assert!(codes(&r, Severity::Error).contains(&"info-geometry"), "{r}");
    assert!(matches!(
        BttMedia::open(&s, 0),
        Err(BttError::InvalidInfo { .. })
    ));
}

#[test]
fn parent_uuid_mismatch_is_reported() {
    let s = MemStorage::new(SIZE);
    let mut o = FormatOptions::new(4096);
    o.parent_uuid = uuid::Uuid::from_u128(1);
    format_btt(&s, 0, &o).unwrap();
    let ok = CheckOptions {
        parent_uuid: Some(uuid::Uuid::from_u128(1)),
        ..Default::default()
    };
    assert!(check_with(&s, 0, &ok).unwrap().is_clean());
    let bad = CheckOptions {
        parent_uuid: Some(uuid::Uuid::from_u128(2)),
        ..Default::default()
    };
    assert!(check_with(&s, 0, &bad).unwrap().has("parent-uuid"));
}

/// ndctl's own btt-check.sh cases on a kernel-written image: wipe info2, wipe the primary
/// info block, scribble over the map.
#[test]
fn kernel_image_corruptions() {
    let dir = tempfile::tempdir().unwrap();
    let img = &IMAGES[0]; // v1.1 at 0x8000000 in a 1 GiB file: needs the namespace size.
    let path = unpack(dir.path(), img.file);
    let s = FileStorage::open(&path, true, Durability::Sync).unwrap();
    let opts = CheckOptions {
        namespace_size: Some(img.ns_size),
        parent_uuid: None,
    };
    let ropts = RepairOptions {
        check: opts.clone(),
        rewrite_log: false,
    };
    let start = img.ns_offset + 4096;
    let info2 = start + 0x7ffe000;
    // Wipe info2.
    s.write_at(info2, &[0u8; 4096]).unwrap();
    assert!(check_with(&s, img.ns_offset, &opts)
        .unwrap()
        .has("info2-mismatch"));
    assert!(repair(&s, img.ns_offset, &ropts).unwrap().is_clean());
    // Wipe the primary.
    s.write_at(start, &[0u8; 4096]).unwrap();
    let r = check_with(&s, img.ns_offset, &opts).unwrap();
    assert!(r.has("info-primary-invalid"), "{r}");
    assert!(repair(&s, img.ns_offset, &ropts).unwrap().is_clean());
    // Scribble over the map.
    let map = start + 0x7fda000;
    s.write_at(map + 4096, &[0x5Au8; 4096]).unwrap();
    let r = check_with(&s, img.ns_offset, &opts).unwrap();
    assert!(r.errors().count() > 0, "{r}");
    assert!(!repair(&s, img.ns_offset, &ropts).unwrap().is_clean());
    // The sectors the kernel wrote (all below the scribble) still read back.
    let btt = BttMedia::open(&s, img.ns_offset).unwrap();
    let (_, list) = btt_support::writes(img.writes);
    let mut buf = vec![0u8; 4096];
    for w in list.iter().filter(|w| w.lba < 1024) {
        btt.read_sector(w.lba, &mut buf).unwrap();
        assert!(buf == w.data);
    }
}

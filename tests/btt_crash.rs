//! Crash consistency: record every write and persist of a random workload, then rebuild the
//! media as a power loss at every persistence point would leave it (volatile writes dropped,
//! kept, or torn at 8-byte granularity), reopen, and verify: each sector holds its old or its
//! new contents, no acknowledged write is lost, and check passes.

use ndctl_testsupport::btt as btt_support;

use std::collections::BTreeMap;

use btt_support::{pattern, Rng};
use ndctl::btt_engine::{check, format_btt, BttMedia, FormatOptions, MemStorage, Storage};
use ndctl_testsupport::crash::{Loss, RecordingStorage};

struct Write {
    lba: u64,
    data: Vec<u8>,
}

/// Run `writes` random writes (each from a fresh thread, so they spread over lanes) with
/// start/ack markers. Returns the recording and the writes in order.
fn record(
    rec: &RecordingStorage,
    lbasize: usize,
    writes: usize,
    hot: u64,
    seed: u64,
) -> Vec<Write> {
    let btt = BttMedia::open(rec, 0).unwrap();
    let mut rng = Rng(seed);
    let mut log = Vec::new();
    for i in 0..writes {
        let lba = rng.below(hot);
        let data = pattern(lba, i as u64 + 1, lbasize);
        rec.mark(2 * i as u64);
        std::thread::scope(|sc| {
            sc.spawn(|| btt.write_sector(lba, &data).unwrap())
                .join()
                .unwrap()
        });
        rec.mark(2 * i as u64 + 1);
        log.push(Write { lba, data });
    }
    log
}

/// Verify one crash image; Err describes the first violation.
fn verify_image(
    img: Vec<u8>,
    marks: &[u64],
    log: &[Write],
    lbasize: usize,
    hot: u64,
) -> Result<(), String> {
    let s = MemStorage::from_vec(img);
    let before = check(&s, 0).map_err(|e| e.to_string())?;
    if let Some(f) = before.errors().next() {
        return Err(format!("check before recovery: {}", f.message));
    }
    let acked: usize = marks.iter().filter(|m| *m % 2 == 1).count();
    let inflight = marks
        .iter()
        .any(|m| *m == 2 * acked as u64)
        .then_some(acked);
    // Expected contents: the last acknowledged write per LBA (zeros if none).
    let mut expect: BTreeMap<u64, Vec<u8>> = (0..hot).map(|l| (l, vec![0u8; lbasize])).collect();
    for w in &log[..acked] {
        expect.insert(w.lba, w.data.clone());
    }
    {
        let btt = BttMedia::open(&s, 0).map_err(|e| format!("reopen: {e}"))?;
        let mut buf = vec![0u8; lbasize];
        for (lba, old) in &expect {
            btt.read_sector(*lba, &mut buf).map_err(|e| e.to_string())?;
            let new = inflight.map(|i| &log[i]).filter(|w| w.lba == *lba);
            let ok = buf == *old || new.is_some_and(|w| buf == w.data);
            if !ok {
                return Err(format!(
                    "LBA {lba} holds neither its acknowledged nor its in-flight contents \
                     ({acked} writes acknowledged)"
                ));
            }
        }
    }
    let after = check(&s, 0).map_err(|e| e.to_string())?;
    if !after.is_clean() {
        return Err(format!("check after recovery:\n{after}"));
    }
    // The recovered free lists must be usable: write every hot sector once more.
    let btt = BttMedia::open(&s, 0).map_err(|e| e.to_string())?;
    for lba in 0..hot {
        btt.write_sector(lba, &pattern(lba, 1 << 40, lbasize))
            .map_err(|e| e.to_string())?;
    }
    drop(btt);
    let again = check(&s, 0).map_err(|e| e.to_string())?;
    if !again.is_clean() {
        return Err(format!("check after post-recovery writes:\n{again}"));
    }
    Ok(())
}

/// Walk every persistence point; returns (points, images verified) or the first failure.
fn crash_everywhere(
    rec: &RecordingStorage,
    log: &[Write],
    lbasize: usize,
    hot: u64,
) -> Result<(usize, usize), String> {
    let mut replay = rec.replay();
    let mut points = 0;
    let mut images = 0;
    while let Some(p) = replay.next_point() {
        points += 1;
        let mut losses = vec![Loss::DropAll, Loss::KeepAll];
        if p.volatile_writes > 0 {
            losses.push(Loss::Tear(p.event as u64));
            losses.push(Loss::Tear(!(p.event as u64)));
        }
        for loss in losses {
            verify_image(replay.image(loss), &p.marks, log, lbasize, hot)
                .map_err(|e| format!("crash before persist event {} ({loss:?}): {e}", p.event))?;
            images += 1;
        }
    }
    // After the last persist everything acknowledged must be there even if nothing else is.
    let all: Vec<u64> = (0..2 * log.len() as u64).collect();
    verify_image(replay.image(Loss::DropAll), &all, log, lbasize, hot)
        .map_err(|e| format!("end of run: {e}"))?;
    Ok((points, images + 1))
}

fn fresh(lbasize: u32, version: (u16, u16)) -> Vec<u8> {
    let s = MemStorage::new((16 << 20) + 4096);
    let mut o = FormatOptions::new(lbasize);
    o.version = version;
    format_btt(&s, 0, &o).unwrap();
    s.into_vec()
}

/// The persist calls that `writes` writes and the close make on a recording storage (whose
/// `flush` is a persist) lie in this range. Each write persists its data, its flog head and
/// its flog seq half; it also writes back its lane's previous map update and the entry it
/// read, when those still wait for it; closing writes back each lane's last update and
/// fences once.
fn persistence_points(writes: usize) -> std::ops::RangeInclusive<usize> {
    3 * writes + 1..=6 * writes + 1
}

#[test]
fn crash_at_every_persistence_point_4k() {
    let rec = RecordingStorage::new(fresh(4096, (1, 1)));
    let log = record(&rec, 4096, 40, 6, 11);
    let (points, images) = crash_everywhere(&rec, &log, 4096, 6).unwrap();
    assert!(persistence_points(40).contains(&points), "{points}");
    assert!(images > 3 * points);
}

#[test]
fn crash_at_every_persistence_point_512_v2() {
    let rec = RecordingStorage::new(fresh(512, (2, 0)));
    let log = record(&rec, 512, 25, 4, 12);
    let (points, _) = crash_everywhere(&rec, &log, 512, 4).unwrap();
    assert!(persistence_points(25).contains(&points), "{points}");
}

/// Crash in the middle of recovery itself: the roll-forward map write of the reopen is
/// interrupted too, and a second reopen still recovers.
#[test]
fn crash_during_recovery() {
    let rec = RecordingStorage::new(fresh(4096, (1, 1)));
    let log = record(&rec, 4096, 3, 2, 13);
    let mut replay = rec.replay();
    // Stop at the first persistence point after the third write was acknowledged (the
    // close's map flush): its flog entry is durable, its map update is not.
    let mut target = None;
    while let Some(p) = replay.next_point() {
        if p.marks.contains(&5) {
            target = Some(p);
            break;
        }
    }
    let p = target.unwrap();
    let img = replay.image(Loss::DropAll);
    let rec2 = RecordingStorage::new(img);
    {
        let btt = BttMedia::open(&rec2, 0).unwrap();
        assert!(!btt.arenas()[0].roll_forwards.is_empty());
    }
    let mut r2 = rec2.replay();
    r2.next_point().expect("the roll-forward is persisted");
    for loss in [Loss::DropAll, Loss::KeepAll] {
        verify_image(r2.image(loss), &p.marks, &log, 4096, 2).unwrap();
    }
}

/// Negative control: if persist did nothing, the harness must notice lost writes.
#[test]
fn harness_detects_missing_persistence() {
    struct NoPersist(RecordingStorage);
    impl Storage for NoPersist {
        fn size(&self) -> u64 {
            self.0.size()
        }
        fn read_at(&self, o: u64, b: &mut [u8]) -> std::io::Result<()> {
            self.0.read_at(o, b)
        }
        fn write_at(&self, o: u64, b: &[u8]) -> std::io::Result<()> {
            self.0.write_at(o, b)
        }
        fn persist(&self, _o: u64, _l: u64) -> std::io::Result<()> {
            Ok(())
        }
    }
    let s = NoPersist(RecordingStorage::new(fresh(4096, (1, 1))));
    let btt = BttMedia::open(&s, 0).unwrap();
    btt.write_sector(1, &pattern(1, 1, 4096)).unwrap();
    s.0.mark(0);
    s.0.mark(1);
    drop(btt);
    let log = [Write {
        lba: 1,
        data: pattern(1, 1, 4096),
    }];
    let err = crash_everywhere(&s.0, &log, 4096, 2).unwrap_err();
    assert!(err.contains("neither its acknowledged"), "{err}");
}

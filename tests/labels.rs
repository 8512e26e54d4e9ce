//! The label-area parser and writer against the label areas a real Linux 6.1 kernel and
//! `ndctl` 76.1 wrote (`labels-nmem*.bin` in the guest results, with `ndctl read-labels -j`
//! beside them), plus hand-made corruptions of them.

use std::collections::BTreeSet;
use std::path::Path;

use ndctl::labels::{
    self, best_seq, fletcher64, inc_seq, validate, ClaimClass, Geometry, IndexBlock, IndexError,
    Label, LabelArea, LabelError, LabelProblem, Version,
};
use serde_json::Value;

use ndctl_testsupport::captures::{fixtures_dir, read_tarball, Entry};

/// One label dump with what the real ndctl printed for it.
struct Dump {
    /// `kernel-6.1/07-v1.2-labels/nmem2`, for messages.
    name: String,
    /// Fixture directory (`kernel-6.1`, `nfit_test-6.1`).
    fixture: String,
    /// Phase directory name.
    phase: String,
    dev: String,
    bin: Vec<u8>,
    /// The DIMM's object from `ndctl read-labels -j`.
    json: Value,
    /// `ndctl list -BDRNXi -vvv` of the phase.
    list: Value,
}

fn file(entries: &std::collections::BTreeMap<String, Entry>, name: &str) -> Option<Vec<u8>> {
    match entries.get(name) {
        Some(Entry::File(_, data)) => Some(data.clone()),
        _ => None,
    }
}

/// Every `labels-nmem*.bin` in the two guest-results tarballs.
fn dumps() -> Vec<Dump> {
    let mut out = Vec::new();
    for fixture in ["kernel-6.1", "nfit_test-6.1"] {
        let tarball = fixtures_dir().join(fixture).join("guest-results.tar.gz");
        let entries = read_tarball(&tarball);
        for (name, entry) in &entries {
            let Entry::File(_, bin) = entry else { continue };
            let path = Path::new(name);
            let base = path.file_name().unwrap().to_str().unwrap();
            let Some(dev) = base
                .strip_prefix("labels-")
                .and_then(|b| b.strip_suffix(".bin"))
            else {
                continue;
            };
            let dir = path.parent().unwrap().to_str().unwrap();
            let phase = Path::new(dir).file_name().unwrap().to_str().unwrap();
            // ndctl's JSON: labels-nmemN.json, or nmemN's entry of read-labels-all.json.
            let json = match file(&entries, &format!("{dir}/labels-{dev}.json")) {
                Some(j) => {
                    let v: Value = serde_json::from_slice(&j).unwrap();
                    v.as_array().unwrap()[0].clone()
                }
                None => {
                    let all = file(&entries, &format!("{dir}/read-labels-all.json"))
                        .unwrap_or_else(|| panic!("{name}: no ndctl JSON beside it"));
                    let v: Value = serde_json::from_slice(&all).unwrap();
                    v.as_array()
                        .unwrap()
                        .iter()
                        .find(|d| d["dev"] == dev)
                        .unwrap_or_else(|| panic!("{name}: {dev} not in read-labels-all.json"))
                        .clone()
                }
            };
            let list = file(&entries, &format!("{dir}/ndctl-list.json"))
                .map(|l| serde_json::from_slice(&l).unwrap())
                .unwrap_or(Value::Null);
            out.push(Dump {
                name: format!("{fixture}/{phase}/{dev}"),
                fixture: fixture.to_string(),
                phase: phase.to_string(),
                dev: dev.to_string(),
                bin: bin.clone(),
                json,
                list,
            });
        }
    }
    out
}

fn dump(fixture: &str, phase: &str, dev: &str) -> Dump {
    dumps()
        .into_iter()
        .find(|d| d.fixture == fixture && d.phase == phase && d.dev == dev)
        .unwrap_or_else(|| panic!("no dump {fixture}/{phase}/{dev}"))
}

#[test]
fn all_dumps_are_found() {
    let names: Vec<String> = dumps().into_iter().map(|d| d.name).collect();
    assert_eq!(
        names.len(),
        7,
        "expected the 6 kernel-6.1 dumps and 1 nfit_test-6.1 dump, got {names:?}"
    );
}

#[test]
fn json_equals_real_ndctl_read_labels() {
    for d in dumps() {
        let ours =
            labels::read_labels_json(&d.dev, &d.bin).unwrap_or_else(|e| panic!("{}: {e}", d.name));
        // Compare the serialised text so that key order and number forms count too.
        assert_eq!(
            serde_json::to_string_pretty(&ours).unwrap(),
            serde_json::to_string_pretty(&d.json).unwrap(),
            "{}",
            d.name
        );
    }
}

#[test]
fn index_only_json_equals_index_part_for_v1_1() {
    // `read-labels -I` sizes the index area for 128-byte labels; for a v1.1 area that is
    // exactly what the full read prints under "index".
    for d in dumps() {
        if labels::probe_label_size(&d.bin) != 128 {
            continue;
        }
        let isz = labels::sizeof_namespace_index(d.bin.len(), 128).unwrap();
        let ours = labels::read_label_index_json(&d.dev, &d.bin[..2 * isz], d.bin.len()).unwrap();
        assert_eq!(ours["index"], d.json["index"], "{}", d.name);
        assert!(ours.get("label").is_none());
    }
}

#[test]
fn kernel_dumps_parse_with_the_version_ndctl_reports() {
    for d in dumps().into_iter().filter(|d| d.fixture == "kernel-6.1") {
        let area = LabelArea::parse(&d.bin).unwrap_or_else(|e| panic!("{}: {e}", d.name));
        let idx = &d.json["index"][area.current()];
        let want = match (idx["major"].as_u64(), idx["minor"].as_u64()) {
            (Some(1), Some(1)) => Version::V1_1,
            (Some(1), Some(2)) => Version::V1_2,
            other => panic!("{}: unexpected version {other:?}", d.name),
        };
        assert_eq!(area.version(), want, "{}", d.name);
        assert_eq!(area.label_size() as u64, idx["labelsize"].as_u64().unwrap());
        assert_eq!(
            u64::from(area.current_index().nslot),
            idx["nslot"].as_u64().unwrap()
        );
        assert_eq!(area.nslot(), area.current_index().nslot);
        assert_eq!(labels::probe_label_size(&d.bin), area.label_size());
        let v = validate(&d.bin);
        assert!(v.is_clean(), "{}: {v}", d.name);
        assert_eq!(v.result(), Ok(area.nslot()));
        assert_eq!(v.libndctl_label_size(), area.label_size());
        // The current index is the one with the newer sequence number.
        let seqs = [0, 1].map(|i| d.json["index"][i]["seq"].as_u64().unwrap() as u32);
        let newer = best_seq(seqs[0], seqs[1]);
        assert_eq!(seqs[area.current()] & 3, newer, "{}", d.name);
    }
}

/// The namespace UUID a label carries for each namespace of `list` whose region maps `dev`.
fn listed_label_uuids(list: &Value, dev: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![list];
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(a) => stack.extend(a),
            Value::Object(o) => {
                let maps_dev = o
                    .get("mappings")
                    .and_then(Value::as_array)
                    .is_some_and(|m| m.iter().any(|m| m["dimm"] == dev));
                if maps_dev {
                    for ns in o["namespaces"].as_array().into_iter().flatten() {
                        let uuid = ns.get("raw_uuid").or(ns.get("uuid"));
                        if let Some(u) = uuid.and_then(Value::as_str) {
                            if u != "00000000-0000-0000-0000-000000000000" {
                                out.insert(u.to_string());
                            }
                        }
                    }
                }
                stack.extend(o.values());
            }
            _ => {}
        }
    }
    out
}

#[test]
fn active_labels_are_the_namespaces_the_kernel_listed() {
    let mut checked = 0;
    for d in dumps().into_iter().filter(|d| d.fixture == "kernel-6.1") {
        let area = LabelArea::parse(&d.bin).unwrap();
        let active: BTreeSet<String> = area
            .active_labels()
            .map(|(slot, l)| {
                assert_eq!(l.slot, slot);
                assert_eq!(l.nlabel, 1, "{}: QEMU regions are not interleaved", d.name);
                l.uuid.to_string()
            })
            .collect();
        assert_eq!(
            active,
            listed_label_uuids(&d.list, &d.dev),
            "{}: active labels vs ndctl list",
            d.name
        );
        checked += active.len();
    }
    assert!(checked >= 10, "only {checked} labels cross-checked");
}

#[test]
fn v1_2_labels_carry_guids_and_checksums() {
    let d = dump("kernel-6.1", "07-v1.2-labels", "nmem2");
    let area = LabelArea::parse(&d.bin).unwrap();
    let pmem_range = "66f0d379-b4f3-4074-ac43-0d3318b78cdb";
    let mut classes = Vec::new();
    for (_, l) in area.active_labels() {
        let x = l.v12.as_ref().expect("v1.2 fields");
        // Stored as a little-endian GUID, printed by ndctl in stored byte order.
        assert_eq!(
            x.type_guid.to_string(),
            "79d3f066-f3b4-7440-ac43-0d3318b78cdb"
        );
        assert_ne!(x.type_guid.to_string(), pmem_range);
        classes.push((l.name(), l.claim_class()));
    }
    assert_eq!(
        classes,
        vec![
            ("ns-sector-v12".to_string(), ClaimClass::Btt2),
            ("ns-fsdax-v12".to_string(), ClaimClass::Pfn),
        ]
    );
}

#[test]
fn labels_and_index_blocks_round_trip() {
    for d in dumps().into_iter().filter(|d| d.fixture == "kernel-6.1") {
        let area = LabelArea::parse(&d.bin).unwrap();
        let geo = area.geometry();
        for i in 0..2 {
            let off = geo.index_offset(i);
            let raw = &d.bin[off..off + geo.index_size];
            let mut idx = IndexBlock::parse(raw).unwrap();
            let stored = idx.checksum;
            assert_eq!(idx.to_bytes(geo.index_size), raw, "{} index{i}", d.name);
            assert_eq!(idx.checksum, stored);
        }
        for (slot, mut l) in area.active_labels() {
            let off = geo.label_offset(slot).unwrap();
            let raw = &d.bin[off..off + geo.label_size];
            assert_eq!(l.to_bytes(), raw, "{} slot {slot}", d.name);
        }
        if area.version() == Version::V1_1 {
            // Without a checksum every slot, used or not, round-trips.
            for slot in 0..geo.nslot {
                let mut l = area.label(slot).unwrap();
                let off = geo.label_offset(slot).unwrap();
                assert_eq!(l.to_bytes(), &d.bin[off..off + 128]);
            }
        }
    }
}

#[test]
fn init_matches_what_ndctl_init_labels_wrote() {
    // Phase 01 ran `ndctl init-labels -f nmem0` and `ndctl init-labels -f -V 1.2 nmem2` on
    // never-used QEMU label areas.
    for (dev, version) in [("nmem0", Version::V1_1), ("nmem2", Version::V1_2)] {
        let d = dump("kernel-6.1", "01-init-labels", dev);
        let ours = labels::init(version, d.bin.len()).unwrap();
        if let Some(pos) = ours.iter().zip(&d.bin).position(|(a, b)| a != b) {
            panic!("{}: first difference at byte {pos:#x}", d.name);
        }
        assert_eq!(ours.len(), d.bin.len());
    }
}

#[test]
fn init_parses_back_for_every_dump_size() {
    let mut sizes: BTreeSet<usize> = dumps().iter().map(|d| d.bin.len()).collect();
    sizes.extend([1024, 4096, 128 << 10, 1 << 20]);
    for size in sizes {
        for version in [Version::V1_1, Version::V1_2] {
            let buf = labels::init(version, size).unwrap();
            let area = LabelArea::parse(&buf).unwrap_or_else(|e| panic!("{size} {version}: {e}"));
            let geo = Geometry::new(size, version.label_size()).unwrap();
            assert_eq!(area.version(), version);
            assert_eq!(area.geometry(), geo);
            assert_eq!(area.current(), 0, "seq 3 beats seq 2");
            assert_eq!(area.next(), 1);
            assert_eq!(area.nfree(), geo.nslot);
            assert_eq!(area.active_labels().count(), 0);
            assert_eq!(labels::num_label_slots(size, version), Ok(geo.nslot));
            assert!(2 * geo.index_size + geo.nslot as usize * geo.label_size <= size);
            let v = validate(&buf);
            assert!(v.is_clean(), "{size} {version}: {v}");
            for i in 0..2 {
                let idx = area.index(i).unwrap().unwrap();
                assert_eq!(idx.seq, 3 - i as u32);
                assert_eq!((idx.major, idx.minor), version.major_minor());
                assert_eq!(idx.mysize as usize, geo.index_size);
            }
            let json = labels::read_labels_json("nmem9", &buf).unwrap();
            assert_eq!(json["index"][0]["nslot"], geo.nslot);
            assert_eq!(json["index"][1]["seq"], 2);
            assert_eq!(json["index"][0]["labelsize"], version.label_size());
            // A zeroed slot 0 claims slot 0, so ndctl prints exactly one (empty) label.
            assert_eq!(json["label"].as_array().unwrap().len(), 1);
        }
    }
    // 128 KiB, the nfit_test and common DIMM size: 1020 v1.1 slots as ndctl reports.
    assert_eq!(labels::num_label_slots(128 << 10, Version::V1_1), Ok(1020));
    assert_eq!(labels::num_label_slots(256 << 10, Version::V1_1), Ok(2040));
    assert_eq!(labels::num_label_slots(256 << 10, Version::V1_2), Ok(1022));
}

#[test]
fn reinit_frees_every_slot_but_keeps_stale_labels_like_ndctl() {
    let d = dump("kernel-6.1", "08-final", "nmem0");
    let mut buf = d.bin.clone();
    assert_eq!(labels::write_init_index(&mut buf, Version::V1_1), Ok(2040));
    let area = LabelArea::parse(&buf).unwrap();
    assert_eq!(area.active_labels().count(), 0);
    assert_eq!(area.nfree(), 2040);
    // The label slots themselves are untouched...
    let base = area.geometry().label_base();
    assert_eq!(buf[base..], d.bin[base..]);
    // ...so read-labels still prints them (it checks only the slot field).
    let json = labels::read_labels_json("nmem0", &buf).unwrap();
    assert_eq!(json["label"], d.json["label"]);
    // Re-initialising as v1.2 writes the two 256-byte-label index blocks at 0 and 0x100
    // only, as ndctl does: the v1.1 index block 1 at 0x200 survives, still valid, and the
    // kernel (which tries 128-byte labels first) keeps seeing a v1.1 area.
    labels::write_init_index(&mut buf, Version::V1_2).unwrap();
    let area = LabelArea::parse(&buf).unwrap();
    assert_eq!((area.version(), area.current()), (Version::V1_1, 1));
    assert!(matches!(
        validate(&buf).index[0],
        Some(IndexError::LabelSize { declared: 256, .. })
    ));
    // Zeroed first, the area becomes v1.2.
    labels::zero_extent(&mut buf, 0, 0).unwrap();
    labels::write_init_index(&mut buf, Version::V1_2).unwrap();
    let area = LabelArea::parse(&buf).unwrap();
    assert_eq!((area.version(), area.current()), (Version::V1_2, 0));
}

#[test]
fn zeroing() {
    let d = dump("kernel-6.1", "08-final", "nmem2");
    let mut buf = d.bin.clone();
    labels::zero_extent(&mut buf, 0, 0).unwrap();
    assert!(buf.iter().all(|&b| b == 0));
    assert!(matches!(
        LabelArea::parse(&buf),
        Err(LabelError::NoValidIndex {
            index0: IndexError::Signature { .. },
            index1: IndexError::Signature { .. },
            ..
        })
    ));
    // Zeroing only the index area of one block leaves the other current.
    let mut buf = d.bin.clone();
    labels::zero_extent(&mut buf, 0, 256).unwrap();
    let area = LabelArea::parse(&buf).unwrap();
    assert_eq!(area.current(), 1);
    assert_eq!(area.active_labels().count(), 2);
    let size = buf.len();
    assert_eq!(
        labels::zero_extent(&mut buf, size - 8, 16),
        Err(LabelError::OutOfRange {
            offset: size - 8,
            len: 16,
            size
        })
    );
    assert!(labels::zero_extent(&mut buf, usize::MAX, 2).is_err());
}

// ---------------------------------------------------------------------------------------
// Corruptions.

/// Rewrites index block `i` of `buf` (a valid area) through `f`, fixing its checksum.
fn edit_index(buf: &mut [u8], i: usize, f: impl FnOnce(&mut IndexBlock)) {
    let geo = LabelArea::parse(buf).unwrap().geometry();
    let off = geo.index_offset(i);
    let block = &mut buf[off..off + geo.index_size];
    let mut idx = IndexBlock::parse(block).unwrap();
    f(&mut idx);
    idx.write(block);
}

fn v11() -> Vec<u8> {
    dump("kernel-6.1", "08-final", "nmem0").bin
}

#[test]
fn bad_checksum() {
    let mut buf = v11();
    buf[0x20] ^= 1; // mysize of index 0
    let v = validate(&buf);
    assert!(
        matches!(v.index[0], Some(IndexError::Checksum { .. })),
        "{v}"
    );
    assert_eq!(v.index[1], None);
    assert_eq!(v.current, Some(1), "the other block takes over");
    assert!(!v.is_clean() && v.is_valid());
    buf[0x200 + 0x48] ^= 0x80; // a free-bitmap byte of index 1
    match LabelArea::parse(&buf) {
        Err(LabelError::NoValidIndex {
            label_size: 128,
            index0: IndexError::Checksum { stored, computed },
            index1: IndexError::Checksum { .. },
        }) => assert_ne!(stored, computed),
        other => panic!("{other:?}"),
    }
    assert!(validate(&buf).result().is_err());
}

#[test]
fn bad_sequence_numbers() {
    for seq in [0, 4, 0x100] {
        let mut buf = v11();
        edit_index(&mut buf, 0, |i| i.seq = seq);
        let v = validate(&buf);
        assert_eq!(v.index[0], Some(IndexError::Sequence { seq }));
        assert_eq!(v.current, Some(1));
    }
}

#[test]
fn current_index_follows_the_cyclic_sequence() {
    // (seq0, seq1) -> current, per the kernel's best_seq(): 1 -> 2 -> 3 -> 1.
    let cases = [
        ((3, 2), 0),
        ((2, 3), 1),
        ((1, 3), 0),
        ((3, 1), 1),
        ((1, 2), 1),
        ((2, 1), 0),
        ((2, 2), 1),
        ((5, 2), 1), // only the low two bits count: 5 is 1, and 2 follows 1
        ((7, 1), 1), // 7 is 3, and 1 follows 3
        ((6, 1), 0), // 6 is 2; 1 does not follow 2, so 2 is newer
        ((4, 3), 1), // 4 is 0, never valid: block 0 fails
    ];
    for ((s0, s1), want) in cases {
        let mut buf = labels::init(Version::V1_2, 128 << 10).unwrap();
        edit_index(&mut buf, 1, |i| i.seq = s1);
        edit_index(&mut buf, 0, |i| i.seq = s0);
        let area = LabelArea::parse(&buf).unwrap();
        assert_eq!(area.current(), want, "seqs ({s0}, {s1})");
    }
    assert_eq!([0, 1, 2, 3].map(inc_seq), [0, 2, 3, 1]);
}

#[test]
fn nslot_too_large() {
    let mut buf = v11();
    let max = ((buf.len() - 1024) / 128) as u64;
    for nslot in [max as u32 + 1, u32::MAX, 0x0200_0000] {
        edit_index(&mut buf, 1, |i| i.nslot = nslot);
        let v = validate(&buf);
        assert_eq!(v.index[1], Some(IndexError::NSlot { nslot, max }));
        assert_eq!(v.current, Some(0));
    }
    // The largest nslot that fits is accepted.
    edit_index(&mut buf, 1, |i| i.nslot = max as u32);
    assert_eq!(validate(&buf).index[1], None);
}

#[test]
fn offsets_out_of_range() {
    type Edit = fn(&mut IndexBlock);
    let cases: [(Edit, IndexError); 5] = [
        (
            |i| i.myoff = u64::MAX,
            IndexError::MyOff {
                found: u64::MAX,
                expected: 0,
            },
        ),
        (
            |i| i.otheroff = 1 << 40,
            IndexError::OtherOff {
                found: 1 << 40,
                expected: 0x200,
            },
        ),
        (
            |i| i.labeloff = 0x800,
            IndexError::LabelOff {
                found: 0x800,
                expected: 0x400,
            },
        ),
        (
            |i| i.mysize = 0x201,
            IndexError::MySize {
                found: 0x201,
                min: 72,
                max: 0x200,
            },
        ),
        (
            |i| i.mysize = 71,
            IndexError::MySize {
                found: 71,
                min: 72,
                max: 0x200,
            },
        ),
    ];
    for (edit, want) in cases {
        let mut buf = v11();
        edit_index(&mut buf, 0, edit);
        edit_index(&mut buf, 1, edit);
        match LabelArea::parse(&buf) {
            Err(LabelError::NoValidIndex { index0, .. }) => assert_eq!(index0, want),
            other => panic!("want {want}, got {other:?}"),
        }
    }
}

#[test]
fn label_size_mismatch_and_bad_signature() {
    let mut buf = v11();
    edit_index(&mut buf, 0, |i| {
        i.minor = 2;
        i.labelsize = 1;
    });
    assert!(matches!(
        validate(&buf).index[0],
        Some(IndexError::LabelSize {
            declared: 256,
            expected: 128,
            ..
        })
    ));
    edit_index(&mut buf, 1, |i| i.signature = *b"NAMESPACE_INDEY\0");
    // Neither block is valid for 128; for 256 block 0 gets past the label size check.
    match LabelArea::parse(&buf) {
        Err(LabelError::NoValidIndex {
            label_size: 256, ..
        }) => {}
        other => panic!("{other:?}"),
    }
    let mut buf = v11();
    edit_index(&mut buf, 1, |i| i.labelsize = 200);
    assert_eq!(
        validate(&buf).index[1],
        None,
        "labelsize is ignored before v1.2"
    );
}

#[test]
fn truncated_buffers() {
    let full = v11();
    // Too small to hold two index blocks and two labels.
    for len in [0, 1, 100, 600, 767] {
        assert!(
            matches!(
                LabelArea::parse(&full[..len]),
                Err(LabelError::TooSmall { .. })
            ),
            "{len}"
        );
        assert!(validate(&full[..len]).result().is_err());
        assert!(labels::init(Version::V1_1, len).is_err());
    }
    // Cut short, the index blocks describe more slots than fit.
    let cut = &full[..200 << 10];
    match LabelArea::parse(cut) {
        Err(LabelError::NoValidIndex {
            index0: IndexError::NSlot { nslot: 2040, .. },
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    // Structures parsed from short slices.
    assert_eq!(
        Label::parse(&full[..100]),
        Err(LabelError::Truncated {
            what: "namespace label",
            offset: 0,
            needed: 128,
            len: 100
        })
    );
    assert!(matches!(
        IndexBlock::parse_header(&full[..71]),
        Err(LabelError::Truncated { needed: 72, .. })
    ));
    assert!(matches!(
        Label::parse(&full[..200]),
        Err(LabelError::UnsupportedLabelSize { size: 200 })
    ));
    // Read as a 1100-byte area, the slots hold index bytes and none names its own slot:
    // ndctl prints nothing for the DIMM.
    assert_eq!(
        labels::read_labels_json("nmem0", &full[..1100]),
        Err(LabelError::Empty { what: "label" })
    );
    assert!(matches!(
        labels::read_labels_json("nmem0", &full[..100]),
        Err(LabelError::TooSmall { .. })
    ));
    assert!(matches!(
        Geometry::new(5 << 30, 128),
        Err(LabelError::TooLarge { .. })
    ));
}

#[test]
fn bad_labels_are_skipped_and_reported() {
    let d = dump("kernel-6.1", "08-final", "nmem2");
    let mut buf = d.bin.clone();
    let geo = LabelArea::parse(&buf).unwrap().geometry();
    let off = geo.label_offset(1).unwrap();
    buf[off + 20] ^= 0x01; // a name byte of the ns-sector-v12 label
    let area = LabelArea::parse(&buf).unwrap();
    let active: Vec<u32> = area.active_labels().map(|(s, _)| s).collect();
    assert_eq!(active, vec![2]);
    assert!(matches!(
        area.label_problems()[..],
        [LabelProblem::Checksum { slot: 1, .. }]
    ));
    let v = validate(&buf);
    assert!(v.is_valid() && !v.is_clean());
    assert_eq!(v.problems().len(), 1, "{v}");

    // v1.1 labels have no checksum; a label in the wrong slot is skipped.
    let mut buf = v11();
    let geo = LabelArea::parse(&buf).unwrap().geometry();
    let off = geo.label_offset(3).unwrap();
    buf[off + 120..off + 124].copy_from_slice(&7u32.to_le_bytes());
    let area = LabelArea::parse(&buf).unwrap();
    assert_eq!(
        area.label_problems(),
        vec![LabelProblem::SlotMismatch { slot: 3, found: 7 }]
    );
    assert_eq!(area.active_labels().count(), 3);
}

#[test]
fn written_labels_are_found() {
    // Write labels with the public writers the way the kernel does (label into a free slot,
    // then the next index with the following sequence number) and read them back.
    for version in [Version::V1_1, Version::V1_2] {
        let mut buf = labels::init(version, 128 << 10).unwrap();
        let area = LabelArea::parse(&buf).unwrap();
        let (geo, cur) = (area.geometry(), area.current());
        let mut next = area.current_index().clone();
        let mut label = Label::new(version, uuid::Uuid::from_u128(0x1234), "written");
        label.slot = 5;
        label.dpa = 0x1000;
        label.rawsize = 1 << 24;
        if let Some(x) = &mut label.v12 {
            x.abstraction_guid = ClaimClass::Dax.guid().unwrap();
        }
        let off = geo.label_offset(5).unwrap();
        let bytes = label.to_bytes();
        buf[off..off + bytes.len()].copy_from_slice(&bytes);
        next.free[0] &= !(1 << 5);
        next.seq = inc_seq(next.seq);
        next.myoff = geo.index_offset(1 - cur) as u64;
        next.otheroff = geo.index_offset(cur) as u64;
        let ioff = geo.index_offset(1 - cur);
        next.write(&mut buf[ioff..ioff + geo.index_size]);
        let area = LabelArea::parse(&buf).unwrap();
        assert_eq!(area.current(), 1 - cur);
        let got: Vec<(u32, Label)> = area.active_labels().collect();
        assert_eq!(got, vec![(5, label.clone())]);
        assert_eq!(got[0].1.name(), "written");
        let want_class = if version == Version::V1_2 {
            ClaimClass::Dax
        } else {
            ClaimClass::None
        };
        assert_eq!(got[0].1.claim_class(), want_class);
        assert_eq!(area.nfree(), geo.nslot - 1);
        assert!(validate(&buf).is_clean());
    }
}

#[test]
fn fletcher64_is_the_kernels() {
    // Words 1, 2, 3: lo = 6, hi = 1 + 3 + 6 = 10.
    let data = [1u32, 2, 3].map(u32::to_le_bytes).concat();
    assert_eq!(fletcher64(&data), (10 << 32) | 6);
    // A trailing partial word is ignored.
    let mut longer = data.clone();
    longer.push(0xff);
    assert_eq!(fletcher64(&longer), fletcher64(&data));
    assert_eq!(fletcher64(&[]), 0);
}

#[test]
fn nfit_test_area_is_not_labelled() {
    // nfit_test fills its label areas with "labelN" until init-labels runs.
    let d = dump("nfit_test-6.1", "01-dsm", "nmem0");
    let err = LabelArea::parse(&d.bin).unwrap_err();
    match &err {
        LabelError::NoValidIndex {
            index0: IndexError::Signature { found },
            ..
        } => assert_eq!(found, "label0"),
        other => panic!("{other:?}"),
    }
    let v = validate(&d.bin);
    assert_eq!(
        v.libndctl_label_size(),
        256,
        "libndctl keeps the last size it tried"
    );
    assert!(v.problems()[0].contains("label0"), "{v}");
    let e: ndctl::Error = err.into();
    assert_eq!(e.errno(), -22);
    assert!(e.to_string().contains("label0"), "{e}");
}

#[test]
fn index_only_validation_and_init_work_on_the_index_read() {
    // ndctl init-labels / check-labels read only the index extent sized for 128-byte labels
    // (ndctl_dimm_read_label_index) and know the config size from the size command.
    for d in dumps() {
        let size = d.bin.len();
        let extent = 2 * labels::sizeof_namespace_index(size, 128).unwrap();
        let prefix = &d.bin[..extent];
        let full = validate(&d.bin);
        let v = labels::validate_index(prefix, size);
        assert_eq!(v.current, full.current, "{}", d.name);
        assert_eq!(v.index, full.index, "{}", d.name);
        assert_eq!(v.label_size, full.label_size, "{}", d.name);
        assert_eq!(v.result(), full.result(), "{}", d.name);
        // Too short a read cannot show the blocks.
        let short = labels::validate_index(&prefix[..100], size);
        assert!(!short.is_valid());
        for i in 0..2 {
            assert!(
                matches!(short.index[i], Some(IndexError::Truncated { len: 100, .. })),
                "{}: {short}",
                d.name
            );
        }
    }
    for (dev, version) in [("nmem0", Version::V1_1), ("nmem2", Version::V1_2)] {
        let d = dump("kernel-6.1", "01-init-labels", dev);
        let size = d.bin.len();
        let extent = 2 * labels::sizeof_namespace_index(size, 128).unwrap();
        let blocks = labels::init_index_blocks(&vec![0u8; extent], size, version).unwrap();
        for (off, bytes) in blocks {
            assert_eq!(
                bytes,
                &d.bin[off..off + bytes.len()],
                "{} at {off:#x}",
                d.name
            );
        }
        assert!(matches!(
            labels::init_index_blocks(&[0u8; 100], size, version),
            Err(LabelError::Truncated { .. })
        ));
    }
}

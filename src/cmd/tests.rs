//! Command construction, payload encoding and decoding, status convention and submission
//! failures, on a generated nfit_test tree (its `/dev` nodes are regular files, so every
//! real submission fails before any ioctl).

use std::fs;
use std::sync::Arc;

use super::*;
use crate::bus::BusCmd;
use crate::dimm::DimmCmd;
use crate::Ctx;
use ndctl_testsupport::fixture::nfit_test::{write_tree, Variant};

fn tree() -> (tempfile::TempDir, Ctx) {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), Variant::Pmem).unwrap();
    let ctx = Ctx::with_root(dir.path()).unwrap();
    (dir, ctx)
}

fn first_bus(ctx: &Ctx) -> Arc<Bus> {
    ctx.buses()
        .unwrap()
        .into_iter()
        .find(|b| b.is_cmd_supported(BusCmd::ArsCap))
        .expect("an nfit_test bus with ARS")
}

fn first_dimm(ctx: &Ctx) -> Arc<Dimm> {
    ctx.buses()
        .unwrap()
        .into_iter()
        .flat_map(|b| b.dimms().unwrap())
        .find(|d| d.is_cmd_supported(DimmCmd::GetConfigSize))
        .expect("a DIMM with a label area")
}

/// Pretends the kernel completed `cmd` with `fill` written into its buffer.
fn complete(cmd: &mut Command, fill: impl FnOnce(&mut [u8])) {
    fill(&mut cmd.buf);
    cmd.status = 0;
}

fn completed_cap(bus: &Arc<Bus>, unit: u32, types: u32) -> Command {
    let mut cap = bus.ars_cap(0x1000_0000, 0x100_0000).unwrap();
    complete(&mut cap, |b| {
        abi::put_u32(b, abi::ARS_CAP_STATUS, types << 16);
        abi::put_u32(b, abi::ARS_CAP_MAX_ARS_OUT, 48 + 2 * 24);
        abi::put_u32(b, abi::ARS_CAP_CLEAR_ERR_UNIT, unit);
    });
    cap
}

#[test]
fn ars_cap_encodes_its_range_and_starts_built() {
    let (_d, ctx) = tree();
    let bus = first_bus(&ctx);
    let cap = bus.ars_cap(0x1234_5678_9abc, 0x1000).unwrap();
    assert_eq!(cap.status(), STATUS_BUILT);
    assert_eq!(cap.cmd_type(), nd_cmd::ARS_CAP);
    assert_eq!(cap.payload().len(), 32);
    assert_eq!(abi::get_u64(cap.payload(), 0), Some(0x1234_5678_9abc));
    assert_eq!(abi::get_u64(cap.payload(), 8), Some(0x1000));
    assert_eq!(cap.firmware_status(), 0);
    // Nothing derived from an unsubmitted cap.
    assert_eq!(cap.ars_cap_range(), None);
    assert_eq!(cap.ars_cap_clear_unit(), None);
    assert!(cap.ars_start(ArsType::PERSISTENT).is_err());
    assert!(cap.ars_status().is_err());
    assert!(cap.clear_error(0x1234_5678_9abc, 0x100).is_err());
}

#[test]
fn commands_derived_from_a_completed_cap() {
    let (_d, ctx) = tree();
    let bus = first_bus(&ctx);
    let cap = completed_cap(&bus, 256, u32::from(ArsType::PERSISTENT));
    assert_eq!(cap.ars_cap_range(), Some((0x1000_0000, 0x100_0000)));
    assert_eq!(cap.ars_cap_clear_unit(), Some(256));
    assert_eq!(cap.ars_cap_size(), Some(96));

    let start = cap.ars_start(ArsType::PERSISTENT).unwrap();
    assert_eq!(start.cmd_type(), nd_cmd::ARS_START);
    assert_eq!(abi::get_u64(start.payload(), 0), Some(0x1000_0000));
    assert_eq!(abi::get_u64(start.payload(), 8), Some(0x100_0000));
    assert_eq!(abi::get_u16(start.payload(), 16), Some(2));
    // The platform did not list volatile scrubs.
    assert!(matches!(
        cap.ars_start(ArsType::VOLATILE),
        Err(Error::Unsupported { .. })
    ));

    let status = cap.ars_status().unwrap();
    assert_eq!(status.payload().len(), 96 + 4);
    assert_eq!(abi::get_u32(status.payload(), 4), Some(96));

    let clear = cap.clear_error(0x1000_0200, 0x200).unwrap();
    assert_eq!(abi::get_u64(clear.payload(), 0), Some(0x1000_0200));
    assert_eq!(abi::get_u64(clear.payload(), 8), Some(0x200));
    assert_eq!(clear.clear_error_cleared(), None, "not submitted");
    // Unaligned, outside the range, or wrapping around.
    assert!(cap.clear_error(0x1000_0080, 0x200).is_err());
    assert!(cap.clear_error(0x0fff_fe00, 0x200).is_err());
    assert!(cap.clear_error(0x1100_0000, 0x200).is_err());
    assert!(cap.clear_error(0x1000_0000, u64::MAX - 0xff).is_err());
}

#[test]
fn a_clear_unit_that_is_not_a_power_of_two_is_refused() {
    let (_d, ctx) = tree();
    let bus = first_bus(&ctx);
    for unit in [0, 3, 384] {
        let cap = completed_cap(&bus, unit, 3);
        assert!(cap.ars_status().is_err(), "unit {unit}");
        assert!(cap.clear_error(0x1000_0000, 0).is_err(), "unit {unit}");
    }
}

#[test]
fn ars_status_records_are_bounded_by_the_buffer() {
    let (_d, ctx) = tree();
    let bus = first_bus(&ctx);
    let cap = completed_cap(&bus, 256, 2);
    let mut st = cap.ars_status().unwrap();
    complete(&mut st, |b| {
        abi::put_u32(b, abi::ARS_STATUS_STATUS, 1 << 16); // still scrubbing
        abi::put_u16(b, abi::ARS_STATUS_FLAGS, 1);
        abi::put_u32(b, abi::ARS_STATUS_NUM_RECORDS, 1_000_000);
        for i in 0..2 {
            let at = 48 + i * 24;
            abi::put_u32(b, at, 0x11 + i as u32);
            abi::put_u64(b, at + 8, 0x1000_0000 + 0x1000 * i as u64);
            abi::put_u64(b, at + 16, 512);
        }
    });
    assert!(st.ars_in_progress());
    assert_eq!(st.ars_overflow(), Some(true));
    assert_eq!(st.ars_num_records(), Some(2), "1e6 claimed, 2 fit");
    assert_eq!(
        st.ars_records(),
        vec![
            ArsRecord {
                handle: 0x11,
                address: 0x1000_0000,
                length: 512
            },
            ArsRecord {
                handle: 0x12,
                address: 0x1000_1000,
                length: 512
            },
        ]
    );
    assert_eq!(st.ars_record(2), None);
    // A failing firmware status invalidates the output.
    abi::put_u32(&mut st.buf, 0, 2);
    assert_eq!(st.ars_num_records(), None);
    assert!(!st.ars_in_progress());
    // So does a failed submission.
    abi::put_u32(&mut st.buf, 0, 0);
    st.status = -libc::ENXIO;
    assert_eq!(st.ars_num_records(), None);
    // A positive residual is an underrun, which is fine.
    st.status = 40;
    assert_eq!(st.ars_num_records(), Some(2));
}

#[test]
fn commands_the_object_does_not_advertise_are_refused() {
    let (d, ctx) = tree();
    let bus = first_bus(&ctx);
    let dimm = first_dimm(&ctx);
    // nfit_test DIMMs do not offer the vendor pass-through.
    assert!(!dimm.is_cmd_supported(DimmCmd::Vendor));
    let e = dimm.vendor_cmd(1, 8, 8).unwrap_err();
    assert_eq!(e.errno(), -libc::EOPNOTSUPP, "{e}");
    // A bus without ARS in `commands`.
    let commands = bus.device().sysfs().host_path(&bus.path().join("commands"));
    fs::write(&commands, "clear_error\n").unwrap();
    let ctx2 = Ctx::with_root(d.path()).unwrap();
    let bus2 = ctx2
        .buses()
        .unwrap()
        .into_iter()
        .find(|b| b.devname() == bus.devname())
        .unwrap();
    let e = bus2.ars_cap(0, 1).unwrap_err();
    assert_eq!(e.errno(), -libc::EOPNOTSUPP, "{e}");
    // A DIMM DSM the dsm_mask does not list.
    match Command::dimm_call(&dimm, 63, &[], 8, 0) {
        Err(e) => assert_eq!(e.errno(), -libc::EOPNOTSUPP, "{e}"),
        Ok(_) => panic!("function 63 accepted"),
    }
}

#[test]
fn submission_on_a_regular_file_or_missing_node_fails_cleanly() {
    let (d, ctx) = tree();
    let bus = first_bus(&ctx);
    let mut cap = bus.ars_cap(0, 4096).unwrap();
    let e = cap.submit().unwrap_err();
    assert_eq!(e.errno(), -libc::ENXIO, "{e}");
    assert_eq!(cap.status(), -libc::ENXIO);
    assert!(
        e.to_string().contains(&format!("/dev/{}", bus.ctl_name())),
        "{e}"
    );

    fs::remove_file(d.path().join("dev").join(bus.ctl_name())).unwrap();
    let e = cap.submit().unwrap_err();
    assert_eq!(e.errno(), -libc::ENOENT, "{e}");
    assert_eq!(cap.status(), -libc::ENOENT);

    // A FIFO is never opened (opening it could block).
    let fifo = d.path().join("dev").join(bus.ctl_name());
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let e = cap.submit().unwrap_err();
    assert_eq!(e.errno(), -libc::ENXIO, "{e}");

    let dimm = first_dimm(&ctx);
    let mut size = dimm.cfg_size().unwrap();
    let e = size.submit_xlat().unwrap_err();
    assert_eq!(e.errno(), -libc::ENXIO, "{e}");
    assert_eq!(size.status(), -libc::ENXIO);
    assert!(size.cfg_read().is_err());
    assert!(dimm.read_labels().is_err());
    assert!(dimm.read_label_index().is_err());
}

fn mknod_char(path: &std::path::Path, major: u32, minor: u32) -> bool {
    let _ = fs::remove_file(path);
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; mknod does not touch memory otherwise.
    unsafe {
        libc::mknod(
            c.as_ptr(),
            libc::S_IFCHR | 0o600,
            libc::makedev(major, minor),
        ) == 0
    }
}

#[test]
fn submission_checks_the_node_numbers_then_reports_the_ioctl_error() {
    let (d, ctx) = tree();
    let dimm = first_dimm(&ctx);
    let node = d.path().join("dev").join(dimm.devname());
    // /dev/null's numbers: a real character device that is not this DIMM.
    if !mknod_char(&node, 1, 3) {
        eprintln!("SKIP: creating a character device node needs root (CAP_MKNOD)");
        return;
    }
    let mut size = dimm.cfg_size().unwrap();
    let e = size.submit().unwrap_err();
    assert_eq!(e.errno(), -libc::ENXIO, "wrong major:minor: {e}");

    // Make sysfs agree with the node: now the ioctl reaches /dev/null, which refuses it.
    let dev_attr = dimm
        .device()
        .sysfs()
        .host_path(&dimm.device().path().join("dev"));
    fs::write(dev_attr, "1:3\n").unwrap();
    let ctx2 = Ctx::with_root(d.path()).unwrap();
    let dimm2 = first_dimm(&ctx2);
    assert_eq!((dimm2.major(), dimm2.minor()), (1, 3));
    let mut size = dimm2.cfg_size().unwrap();
    let e = size.submit().unwrap_err();
    assert_eq!(e.errno(), -libc::ENOTTY, "{e}");
    assert_eq!(size.status(), -libc::ENOTTY);
}

#[test]
fn config_area_transfers_share_one_image() {
    let (_d, ctx) = tree();
    let dimm = first_dimm(&ctx);
    let mut size = dimm.cfg_size().unwrap();
    assert_eq!(size.payload().len(), 12);
    assert!(size.cfg_read().is_err(), "size not submitted");
    complete(&mut size, |b| {
        abi::put_u32(b, abi::CONFIG_SIZE_CONFIG_SIZE, 1000);
        abi::put_u32(b, abi::CONFIG_SIZE_MAX_XFER, 96);
    });
    assert_eq!(size.cfg_size_get_size(), Some(1000));
    let mut read = size.cfg_read().unwrap();
    assert_eq!(read.payload().len(), 12 + 96);
    assert_eq!(read.cfg_extent(), Some((0, 1000)));
    assert!(read.cfg_set_extent(100, 901).is_err());
    read.cfg_set_extent(300, 200).unwrap();
    assert!(read.cfg_read_bytes().is_err(), "not submitted");
    // Pretend the read completed with bytes 200..500 = their offset mod 251.
    {
        let t = read.xfer.as_ref().unwrap();
        let mut img = lock_image(t);
        for (i, b) in img.iter_mut().enumerate().take(500).skip(200) {
            *b = (i % 251) as u8;
        }
    }
    read.status = 0;
    assert_eq!(read.cfg_read_size().unwrap(), 300);
    let mut buf = [0u8; 8];
    assert_eq!(
        read.cfg_read_data(&mut buf, 496).unwrap(),
        4,
        "clamped to the extent"
    );
    assert_eq!(&buf[..4], &[245, 246, 247, 248]);
    assert!(
        read.cfg_read_data(&mut buf, 100).is_err(),
        "before the extent"
    );

    let mut write = read.cfg_write().unwrap();
    assert_eq!(write.payload().len(), 8 + 96 + 4);
    assert_eq!(write.cfg_extent(), Some((200, 300)));
    assert_eq!(write.cfg_write_data(&[9; 4], 200).unwrap(), 4);
    assert_eq!(read.cfg_read_bytes().unwrap()[..4], [9; 4], "shared image");
    assert_eq!(write.cfg_write_zero().unwrap(), 300);
    assert!(read.cfg_read_bytes().unwrap().iter().all(|&b| b == 0));
    // The firmware status of a write sits after the bytes of the current chunk.
    abi::put_u32(&mut write.buf, abi::SET_DATA_IN_LENGTH, 4);
    abi::put_u32(&mut write.buf, 12, 7);
    assert_eq!(write.firmware_status(), 7);
    write.status = -libc::EIO;
    assert!(
        write.cfg_write_zero().is_err(),
        "submitted writes are final"
    );
}

fn lock_image(t: &cfg::Transfer) -> std::sync::MutexGuard<'_, Vec<u8>> {
    t.image_for_tests()
}

#[test]
fn a_config_size_of_zero_or_garbage_is_refused() {
    let (_d, ctx) = tree();
    let dimm = first_dimm(&ctx);
    for (size, xfer) in [(0, 128), (1024, 0), (u32::MAX, 4096)] {
        let mut c = dimm.cfg_size().unwrap();
        complete(&mut c, |b| {
            abi::put_u32(b, abi::CONFIG_SIZE_CONFIG_SIZE, size);
            abi::put_u32(b, abi::CONFIG_SIZE_MAX_XFER, xfer);
        });
        assert!(c.cfg_read().is_err(), "{size} {xfer}");
    }
}

#[test]
fn kernel_lengths_never_exceed_the_buffer() {
    let (_d, ctx) = tree();
    let bus = first_bus(&ctx);
    let cap = completed_cap(&bus, 256, 2);
    let mut st = cap.ars_status().unwrap();
    assert!(st.kernel_len().unwrap() <= st.buf.len());
    // A corrupted out_length would let the kernel write past the buffer: refused.
    abi::put_u32(&mut st.buf, abi::ARS_STATUS_OUT_LENGTH, 1 << 20);
    let file = tempfile::tempfile().unwrap();
    let e = st.ioctl(&file).unwrap_err();
    assert_eq!(e.errno(), -libc::EINVAL, "{e}");
}

#[test]
fn xlat_is_zero_for_bus_commands() {
    let (_d, ctx) = tree();
    let bus = first_bus(&ctx);
    let mut cap = completed_cap(&bus, 256, 2);
    abi::put_u32(&mut cap.buf, abi::ARS_CAP_STATUS, 3);
    assert_eq!(cap.xlat_firmware_status(), 0);
}

/// A config read pretending the kernel returned `area` (whole extent).
fn completed_read(dimm: &Arc<Dimm>, area: &[u8]) -> Command {
    let mut size = dimm.cfg_size().unwrap();
    complete(&mut size, |b| {
        abi::put_u32(b, abi::CONFIG_SIZE_CONFIG_SIZE, area.len() as u32);
        abi::put_u32(b, abi::CONFIG_SIZE_MAX_XFER, 4096);
    });
    let mut read = size.cfg_read().unwrap();
    lock_image(read.xfer.as_ref().unwrap()).copy_from_slice(area);
    read.status = 0;
    read
}

#[test]
fn label_state_over_a_read_probes_validates_and_writes_through_the_read() {
    use crate::labels::{self, Version};
    let (_d, ctx) = tree();
    let dimm = first_dimm(&ctx);
    let area = labels::init(Version::V1_2, 128 << 10).unwrap();
    let read = completed_read(&dimm, &area);
    let mut state = DimmLabels::new(read.share().unwrap(), None).unwrap();
    assert_eq!(state.config_size(), 128 << 10);
    assert_eq!(state.sizeof_namespace_label(), 256, "two v1.2 headers");
    assert_eq!(state.sizeof_namespace_index().unwrap(), 256);
    assert_eq!(state.validate().unwrap(), 510);

    // A blank area: nothing validates, and libndctl then remembers 256-byte labels.
    let blank = completed_read(&dimm, &vec![0; 128 << 10]);
    let mut state = DimmLabels::new(blank, None).unwrap();
    assert_eq!(
        state.sizeof_namespace_label(),
        128,
        "no headers: v1.1 assumed"
    );
    assert!(state.validate().is_err());
    assert_eq!(state.sizeof_namespace_label(), 256);
    // Initialising writes through config writes: on a placeholder node the write fails.
    let e = state.init(Version::V1_1).unwrap_err();
    assert_eq!(e.errno(), -libc::ENXIO, "{e}");
    assert_eq!(
        state.sizeof_namespace_label(),
        128,
        "the requested version's size"
    );

    // Only a completed read carries label state.
    assert!(DimmLabels::new(dimm.cfg_size().unwrap(), None).is_err());
    assert!(dimm.cfg_size().unwrap().share().is_err());
}

#[test]
fn a_shared_read_sees_writes_made_through_the_other() {
    let (_d, ctx) = tree();
    let dimm = first_dimm(&ctx);
    let read = completed_read(&dimm, &[1u8; 1024]);
    let other = read.share().unwrap();
    let mut w = other.cfg_write().unwrap();
    w.cfg_write_data(&[7, 7], 10).unwrap();
    let mut buf = [0u8; 4];
    read.cfg_read_data(&mut buf, 9).unwrap();
    assert_eq!(buf, [1, 7, 7, 1]);
}

#[test]
fn firmware_update_commands_encode_the_intel_payloads() {
    use super::firmware::intel_fw;
    let (_d, ctx) = tree();
    let dimm = first_dimm(&ctx);
    if dimm.cmd_family().unwrap() != Some(abi::family::INTEL) {
        eprintln!("SKIP: the generated DIMM is not of the Intel family");
        return;
    }
    let info = dimm.fw_get_info().unwrap();
    assert_eq!(info.cmd_type(), nd_cmd::CALL);
    assert_eq!(abi::get_u64(info.payload(), abi::PKG_COMMAND), Some(12));
    assert_eq!(abi::get_u32(info.payload(), abi::PKG_SIZE_IN), Some(0));
    assert_eq!(abi::get_u32(info.payload(), abi::PKG_SIZE_OUT), Some(44));
    assert_eq!(info.fw_info_storage_size(), None, "not submitted");

    let mut start = dimm.fw_start_update().unwrap();
    complete(&mut start, |b| {
        abi::put_u32(b, abi::PKG_HDR + 4, 0xc0ffee);
    });
    assert_eq!(start.fw_start_get_context(), Some(0xc0ffee));

    let send = start.fw_send(4096, &[1, 2, 3]).unwrap();
    let p = send.call_payload();
    assert_eq!(abi::get_u32(send.payload(), abi::PKG_SIZE_IN), Some(12 + 3));
    assert_eq!(abi::get_u32(send.payload(), abi::PKG_SIZE_OUT), Some(4));
    assert_eq!(abi::get_u32(p, 0), Some(0xc0ffee));
    assert_eq!(abi::get_u32(p, 4), Some(4096));
    assert_eq!(abi::get_u32(p, 8), Some(3));
    assert_eq!(&p[12..15], &[1, 2, 3]);

    let finish = start.fw_finish().unwrap();
    assert_eq!(finish.call_payload()[0], 0);
    assert_eq!(abi::get_u32(finish.call_payload(), 4), Some(0xc0ffee));
    let abort = start.fw_abort().unwrap();
    assert_eq!(abort.call_payload()[0], 1, "abort flag");
    let mut query = start.fw_finish_query().unwrap();
    assert_eq!(abi::get_u32(query.payload(), abi::PKG_SIZE_IN), Some(4));
    assert_eq!(abi::get_u32(query.payload(), abi::PKG_SIZE_OUT), Some(12));
    complete(&mut query, |b| {
        abi::put_u32(b, abi::PKG_HDR + 4, 0x0002_0007); // extended "busy"
        abi::put_u64(b, abi::PKG_HDR + 8, 0x0102_0304_0506_0708);
    });
    assert_eq!(query.fw_fquery_fw_rev(), Some(0x0102_0304_0506_0708));
    assert_eq!(query.firmware_status(), 0x0002_0007);
    assert_eq!(query.fw_xlat_firmware_status(), FwStatus::Busy);
    assert_eq!(query.xlat_firmware_status(), -libc::ENOMSG);

    let mut fin = start.fw_finish().unwrap();
    complete(&mut fin, |b| {
        abi::put_u32(b, abi::PKG_HDR + 8, 0x0002_0007);
    });
    assert_eq!(fin.fw_xlat_firmware_status(), FwStatus::AlreadyDone);
    // Only a start command carries a context.
    assert!(info.fw_send(0, &[]).is_err());
    assert_eq!(intel_fw::SEND_DATA, 14);
}

#[test]
fn label_init_flags_the_member_regions_whose_type_the_next_enable_rereads() {
    use crate::device_type::DeviceType;
    use crate::labels::Version;
    let (dir, ctx) = tree();
    let dimm = first_dimm(&ctx);
    let regions = dimm.bus().regions().unwrap();
    let (member, other): (Vec<_>, Vec<_>) = regions
        .into_iter()
        .partition(|r| r.dimms().unwrap().iter().any(|d| Arc::ptr_eq(d, &dimm)));
    assert!(!member.is_empty(), "the DIMM maps into a region");
    // A fresh nfit_test: blank label areas, so the kernel probed the regions label-less.
    let region = &member[0];
    assert_eq!(region.nstype(), DeviceType::NamespaceIo);
    assert!(region.interleave_set().is_none());
    assert_eq!(region.available_size().unwrap(), Some(0));

    // Once labelled and re-probed, the kernel calls it PMEM; nothing re-reads that
    // unprompted (libndctl reads nstype once, too).
    let rdir = dir
        .path()
        .join(region.device().path().strip_prefix("/").unwrap());
    fs::write(rdir.join("nstype"), "5\n").unwrap();
    fs::write(rdir.join("set_cookie"), "0x1234\n").unwrap();
    fs::write(rdir.join("available_size"), "33554432\n").unwrap();
    region.refresh_type().unwrap();
    assert_eq!(region.nstype(), DeviceType::NamespaceIo, "not flagged");

    // Initialising labels flags the DIMM's regions (before its writes, which fail on a
    // placeholder node), and only those; the refresh an enable makes then re-reads them.
    let blank = completed_read(&dimm, &vec![0; 128 << 10]);
    let mut state = DimmLabels::new(blank, None).unwrap();
    assert!(state.init(Version::V1_2).is_err());
    assert!(member.iter().all(|r| r.type_refresh_pending()));
    assert!(other.iter().all(|r| !r.type_refresh_pending()));
    region.refresh_type().unwrap();
    assert_eq!(region.nstype(), DeviceType::NamespacePmem);
    assert_eq!(region.interleave_set().map(|i| i.cookie()), Some(0x1234));
    assert_eq!(region.available_size().unwrap(), Some(32 << 20));
    assert!(!region.type_refresh_pending());
}

#[test]
fn command_numbers_are_the_kernels_and_round_trip() {
    use crate::bus::BusCmd;
    use crate::dimm::DimmCmd;
    for c in BusCmd::ALL {
        assert_eq!(BusCmd::from_number(c.number()), Some(c));
    }
    for (i, c) in DimmCmd::ALL.into_iter().enumerate() {
        assert_eq!(c.number(), i as u32 + 1, "{c:?}");
        assert_eq!(DimmCmd::from_number(c.number()), Some(c));
    }
    assert_eq!(BusCmd::Call.number(), 10);
    assert_eq!(BusCmd::from_number(5), None);
    assert_eq!(DimmCmd::from_number(0), None);
    assert_eq!(DimmCmd::from_number(11), None);
}

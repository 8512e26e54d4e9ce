//! The object layer through its C ABI: every getter, navigation in both directions,
//! iteration, seeds, setters and the context machinery, on the generated nfit_test trees
//! (expected values from the platform description the tree was generated from) and on the
//! nine real-kernel captures (expected values from the Rust API, plus navigation checks).
//!
//! `NDCTL_ROOT` is process-wide, so contexts are created under a lock.

use ndctl_testsupport::captures as kernel;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{c_char, c_int, CStr};
use std::fs;
use std::path::Path;
use std::ptr::null_mut;
use std::sync::Mutex;

use ndctl_capi::btt::*;
use ndctl_capi::bus::*;
use ndctl_capi::ctx::*;
use ndctl_capi::dax::*;
use ndctl_capi::dimm::*;
use ndctl_capi::mapping::*;
use ndctl_capi::namespace::*;
use ndctl_capi::pfn::*;
use ndctl_capi::region::*;
use ndctl_testsupport::capi::{new_ctx, with_env};
use ndctl_testsupport::fixture::nfit_test::{write_tree, NamespaceKind, Variant};

fn s(p: *const c_char) -> String {
    assert!(!p.is_null(), "unexpected NULL string");
    // SAFETY: non-NULL strings from the library are NUL-terminated and owned by the context.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

fn uuid_of(get: impl FnOnce(*mut u8)) -> uuid::Uuid {
    let mut b = [0xa5u8; 16];
    get(b.as_mut_ptr());
    uuid::Uuid::from_bytes(b)
}

/// Every object of a kind reached by first/next.
fn iterate<P, T>(
    parent: *mut P, first: unsafe extern "C" fn(*mut P) -> *mut T,
    next: unsafe extern "C" fn(*mut T) -> *mut T,
) -> Vec<*mut T> {
    let mut out = Vec::new();
    // SAFETY: live handles from the library.
    let mut cur = unsafe { first(parent) };
    while !cur.is_null() {
        assert!(out.len() < 10_000, "iteration does not end");
        out.push(cur);
        // SAFETY: as above.
        cur = unsafe { next(cur) };
    }
    out
}

#[test]
fn nfit_test_tree_values_through_the_c_abi() {
    for variant in [Variant::Pmem, Variant::WithBlk] {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let tree = write_tree(&root, variant).unwrap();
        let ctx = new_ctx(&root, ndctl_new);
        // SAFETY: every handle below comes from this live context.
        unsafe { check_platform(ctx, &tree, variant) };
        // SAFETY: the context's last reference.
        assert!(unsafe { ndctl_unref(ctx) }.is_null());
    }
}

unsafe fn check_platform(
    ctx: *mut ndctl_ctx, tree: &ndctl_testsupport::fixture::nfit_test::Tree, variant: Variant,
) {
    unsafe {
        let buses = iterate(ctx, ndctl_bus_get_first, ndctl_bus_get_next);
        assert_eq!(buses.len(), tree.platform.buses.len(), "{variant:?}");
        let mut seen_providers = BTreeSet::new();
        let mut blk_block_devices = 0;
        for &bus in &buses {
            let provider = s(ndctl_bus_get_provider(bus));
            let spec = tree.platform.buses.iter().find(|b| b.provider == provider).unwrap();
            seen_providers.insert(provider.clone());
            assert_eq!(ndctl_bus_get_ctx(bus), ctx);
            assert_eq!(ndctl_bus_get_by_provider(ctx, ndctl_bus_get_provider(bus)), bus);
            assert_eq!(s(ndctl_bus_get_devname(bus)), format!("ndbus{}", spec.bus_id));
            assert_eq!(ndctl_bus_get_id(bus), spec.ndctl_id);
            assert_eq!(ndctl_bus_get_revision(bus), spec.nfit_revision);
            assert_eq!(ndctl_bus_has_nfit(bus), 1);
            assert_eq!(ndctl_bus_wait_probe(bus), 0);
            for (cmd, name) in
                [(1, "ars_cap"), (2, "ars_start"), (3, "ars_status"), (4, "clear_error")]
            {
                assert_eq!(
                    ndctl_bus_is_cmd_supported(bus, cmd),
                    c_int::from(spec.commands.iter().any(|c| c == name))
                );
                assert_eq!(s(ndctl_bus_get_cmd_name(bus, cmd)), name);
            }
            assert_eq!(s(ndctl_bus_get_cmd_name(bus, 99)), "unknown");
            assert_eq!(
                ndctl_bus_is_nfit_cmd_supported(bus, 5),
                c_int::from(spec.nfit_dsm_mask & (1 << 5) != 0)
            );
            // The devname pointer is stable and owned by the context.
            assert_eq!(ndctl_bus_get_devname(bus), ndctl_bus_get_devname(bus));

            // DIMMs.
            let dimms = iterate(bus, ndctl_dimm_get_first, ndctl_dimm_get_next);
            assert_eq!(dimms.len(), spec.dimms.len());
            for &dimm in &dimms {
                let d = spec.dimms.iter().find(|d| d.id == ndctl_dimm_get_id(dimm)).unwrap();
                assert_eq!(s(ndctl_dimm_get_devname(dimm)), format!("nmem{}", d.id));
                assert_eq!(ndctl_dimm_get_bus(dimm), bus);
                assert_eq!(ndctl_dimm_get_ctx(dimm), ctx);
                assert_eq!(ndctl_dimm_get_handle(dimm), d.handle);
                assert_eq!(ndctl_dimm_get_by_handle(bus, d.handle), dimm);
                let h = ndctl::dimm::Handle(d.handle);
                assert_eq!(
                    (
                        ndctl_dimm_handle_get_node(dimm),
                        ndctl_dimm_handle_get_socket(dimm),
                        ndctl_dimm_handle_get_imc(dimm),
                        ndctl_dimm_handle_get_channel(dimm),
                        ndctl_dimm_handle_get_dimm(dimm)
                    ),
                    (h.node(), h.socket(), h.imc(), h.channel(), h.dimm())
                );
                assert_eq!(u32::from(ndctl_dimm_get_phys_id(dimm)), d.phys_id);
                assert_eq!(ndctl_dimm_get_vendor(dimm), d.vendor);
                assert_eq!(ndctl_dimm_get_device(dimm), d.device);
                assert_eq!(ndctl_dimm_get_revision(dimm), d.rev_id);
                assert_eq!(ndctl_dimm_get_subsystem_vendor(dimm), d.subsystem_vendor);
                assert_eq!(ndctl_dimm_get_subsystem_device(dimm), d.subsystem_device);
                assert_eq!(ndctl_dimm_get_subsystem_revision(dimm), d.subsystem_rev_id);
                assert_eq!(ndctl_dimm_get_serial(dimm), d.serial);
                assert_eq!(ndctl_dimm_get_manufacturing_location(dimm), d.manufacturing_location);
                assert_eq!(ndctl_dimm_get_manufacturing_date(dimm), d.manufacturing_date);
                assert_eq!(s(ndctl_dimm_get_unique_id(dimm)), d.unique_id());
                // libndctl clamps the count to 1..2 (nfit_test.1 says 0).
                assert_eq!(ndctl_dimm_get_formats(dimm), d.formats.clamp(1, 2) as c_int);
                assert_eq!(ndctl_dimm_get_format(dimm), d.format);
                assert_eq!(ndctl_dimm_get_formatN(dimm, 0), c_int::from(d.format));
                assert_eq!(ndctl_dimm_get_formatN(dimm, 7), -libc::EINVAL);
                assert_eq!(ndctl_dimm_get_dirty_shutdown(dimm), d.dirty_shutdown as i64);
                let has = |f: &str| c_int::from(d.nfit_flags.iter().any(|x| x == f));
                assert_eq!(ndctl_dimm_failed_arm(dimm), has("not_armed"));
                assert_eq!(ndctl_dimm_failed_save(dimm), has("save_fail"));
                assert_eq!(ndctl_dimm_failed_flush(dimm), has("flush_fail"));
                assert_eq!(ndctl_dimm_failed_restore(dimm), has("restore_fail"));
                assert_eq!(ndctl_dimm_failed_map(dimm), has("map_fail"));
                assert_eq!(ndctl_dimm_smart_pending(dimm), has("smart_event"));
                ndctl_dimm_refresh_flags(dimm);
                assert_eq!(ndctl_dimm_failed_arm(dimm), has("not_armed"));
                let top = |f: &str| c_int::from(d.flags.iter().any(|x| x == f));
                assert_eq!(ndctl_dimm_locked(dimm), top("lock"));
                assert_eq!(ndctl_dimm_aliased(dimm), top("alias"));
                assert_eq!(ndctl_dimm_is_active(dimm), c_int::from(d.active));
                assert_eq!(ndctl_dimm_is_enabled(dimm), c_int::from(d.enabled));
                for (cmd, name) in [
                    (1, "smart"),
                    (4, "get_size"),
                    (5, "get_data"),
                    (6, "set_data"),
                    (10, "cmd_call"),
                ] {
                    assert_eq!(
                        ndctl_dimm_is_cmd_supported(dimm, cmd),
                        c_int::from(d.commands.iter().any(|c| c == name))
                    );
                    assert_eq!(s(ndctl_dimm_get_cmd_name(dimm, cmd)), name);
                }
            }
            if provider == "nfit_test.1" {
                let d0 = ndctl_dimm_get_by_handle(bus, 0x10000);
                assert!(!d0.is_null());
                assert_eq!(ndctl_dimm_failed_save(d0), 1);
                assert_eq!(ndctl_dimm_has_errors(d0), 1);
                assert_eq!(ndctl_dimm_failed_map(ndctl_dimm_get_by_handle(bus, 0x10001)), 1);
            }

            // Regions, mappings, interleave sets.
            let regions = iterate(bus, ndctl_region_get_first, ndctl_region_get_next);
            assert_eq!(regions.len(), spec.regions.len());
            let mut isets = 0;
            for &region in &regions {
                let r = spec.regions.iter().find(|r| r.id == ndctl_region_get_id(region)).unwrap();
                assert_eq!(s(ndctl_region_get_devname(region)), format!("region{}", r.id));
                assert_eq!(ndctl_region_get_bus(region), bus);
                assert_eq!(ndctl_region_get_ctx(region), ctx);
                assert_eq!(ndctl_region_get_size(region), r.size);
                // BLK regions have no resource attribute.
                let resource = if r.nstype == 6 { u64::MAX } else { r.resource };
                assert_eq!(ndctl_region_get_resource(region), resource);
                assert_eq!(ndctl_region_get_range_index(region), r.range_index);
                assert_eq!(ndctl_region_get_nstype(region), r.nstype);
                assert_eq!(ndctl_region_get_ro(region), c_int::from(r.read_only));
                assert_eq!(ndctl_region_get_numa_node(region), r.numa_node);
                assert_eq!(ndctl_region_has_numa(region), 1);
                assert_eq!(ndctl_region_get_align(region), r.align);
                assert_eq!(ndctl_region_is_enabled(region), c_int::from(r.enabled));
                assert_eq!(ndctl_region_get_mappings(region) as usize, r.mappings.len());
                assert_eq!(
                    ndctl_region_get_interleave_ways(region) as usize,
                    r.mappings.len().max(1)
                );
                let want_type = if r.nstype == 6 { (3, "blk") } else { (2, "pmem") };
                assert_eq!(
                    (ndctl_region_get_type(region), s(ndctl_region_get_type_name(region)).as_str()),
                    want_type
                );
                if r.nstype == 5 || r.nstype == 6 {
                    assert_eq!(ndctl_region_get_available_size(region), r.available_size);
                    assert_eq!(
                        ndctl_region_get_max_available_extent(region),
                        r.max_available_extent
                    );
                } else {
                    assert_eq!(ndctl_region_get_available_size(region), 0);
                }
                if r.size > 0 && r.nstype != 6 {
                    assert_eq!(ndctl_bus_get_region_by_physical_address(bus, r.resource), region);
                    assert_eq!(
                        ndctl_bus_get_region_by_physical_address(bus, r.resource + r.size - 1),
                        region
                    );
                }

                let mappings = iterate(region, ndctl_mapping_get_first, ndctl_mapping_get_next);
                assert_eq!(mappings.len(), r.mappings.len());
                // libndctl lists mapping<N-1> first.
                for (m, want) in mappings.iter().zip(r.mappings.iter().rev()) {
                    assert_eq!(ndctl_mapping_get_region(*m), region);
                    assert_eq!(ndctl_mapping_get_bus(*m), bus);
                    assert_eq!(ndctl_mapping_get_ctx(*m), ctx);
                    assert_eq!(ndctl_dimm_get_id(ndctl_mapping_get_dimm(*m)), want.dimm);
                    assert_eq!(ndctl_mapping_get_offset(*m), want.offset);
                    assert_eq!(ndctl_mapping_get_length(*m), want.length);
                    assert_eq!(ndctl_mapping_get_position(*m), want.position as c_int);
                }
                let mut members = Vec::new();
                let mut d = ndctl_region_get_first_dimm(region);
                while !d.is_null() {
                    members.push(ndctl_dimm_get_id(d));
                    d = ndctl_region_get_next_dimm(region, d);
                }
                let want: BTreeSet<u32> = r.mappings.iter().map(|m| m.dimm).collect();
                assert_eq!(members.iter().copied().collect::<BTreeSet<_>>(), want);
                assert_eq!(members.len(), want.len(), "each member DIMM once");
                if r.mappings.len() == 1 && r.size > 0 && r.nstype != 6 {
                    let dimm = ndctl_bus_get_dimm_by_physical_address(bus, r.resource);
                    assert_eq!(ndctl_dimm_get_id(dimm), r.mappings[0].dimm);
                }

                let iset = ndctl_region_get_interleave_set(region);
                if r.nstype == 5 {
                    isets += 1;
                    assert!(!iset.is_null());
                    assert_eq!(ndctl_interleave_set_get_region(iset), region);
                    assert_eq!(ndctl_interleave_set_get_cookie(iset), r.set_cookie);
                    let mut n = 0;
                    let mut d = ndctl_interleave_set_get_first_dimm(iset);
                    while !d.is_null() {
                        n += 1;
                        d = ndctl_interleave_set_get_next_dimm(iset, d);
                    }
                    assert_eq!(n, want.len());
                    let any_active = r
                        .mappings
                        .iter()
                        .any(|m| spec.dimms.iter().any(|d| d.id == m.dimm && d.active));
                    assert_eq!(ndctl_interleave_set_is_active(iset), c_int::from(any_active));
                } else {
                    assert!(iset.is_null());
                }

                // Namespaces and seeds.
                let namespaces =
                    iterate(region, ndctl_namespace_get_first, ndctl_namespace_get_next);
                assert_eq!(namespaces.len(), r.namespaces.len());
                for &ns in &namespaces {
                    let n =
                        r.namespaces.iter().find(|n| n.id == ndctl_namespace_get_id(ns)).unwrap();
                    assert_eq!(
                        s(ndctl_namespace_get_devname(ns)),
                        format!("namespace{}.{}", r.id, n.id)
                    );
                    assert_eq!(ndctl_namespace_get_region(ns), region);
                    assert_eq!(ndctl_namespace_get_bus(ns), bus);
                    assert_eq!(ndctl_namespace_get_ctx(ns), ctx);
                    assert_eq!(ndctl_namespace_get_size(ns), n.size);
                    assert_eq!(ndctl_namespace_get_resource(ns), n.resource.unwrap_or(u64::MAX));
                    assert_eq!(ndctl_namespace_get_numa_node(ns), n.numa_node);
                    assert_eq!(ndctl_namespace_is_valid(ns), 1);
                    let (nstype, tname) = match n.kind {
                        NamespaceKind::Io => (4, "namespace_io"),
                        NamespaceKind::Pmem => (5, "namespace_pmem"),
                        NamespaceKind::Blk => (6, "namespace_blk"),
                    };
                    assert_eq!(ndctl_namespace_get_type(ns), nstype);
                    assert_eq!(s(ndctl_namespace_get_type_name(ns)), tname);
                    let uu = uuid_of(|p| ndctl_namespace_get_uuid(ns, p));
                    match &n.uuid {
                        Some(u) if !u.is_empty() => {
                            assert_eq!(uu, uuid::Uuid::parse_str(u).unwrap())
                        }
                        _ => assert!(uu.is_nil(), "{uu}"),
                    }
                    if n.kind == NamespaceKind::Io {
                        assert_eq!(s(ndctl_namespace_get_alt_name(ns)), "");
                        assert_eq!(ndctl_namespace_get_num_sector_sizes(ns), 0);
                        assert_eq!(ndctl_namespace_get_sector_size(ns), 0);
                        assert_eq!(ndctl_namespace_is_configured(ns), 1);
                    } else {
                        assert_eq!(s(ndctl_namespace_get_alt_name(ns)), n.alt_name);
                    }
                    if let Some(sz) = n.sector_size {
                        assert_eq!(ndctl_namespace_get_sector_size(ns), sz);
                        let count = ndctl_namespace_get_num_sector_sizes(ns);
                        let all: Vec<u32> = (0..count)
                            .map(|i| ndctl_namespace_get_supported_sector_size(ns, i))
                            .collect();
                        assert!(all.contains(&sz), "{all:?}");
                        assert_eq!(ndctl_namespace_get_supported_sector_size(ns, count), u32::MAX);
                    }
                    match &n.block_device {
                        Some(b) => {
                            assert_eq!(s(ndctl_namespace_get_block_device(ns)), b.name);
                            if n.kind == NamespaceKind::Blk {
                                blk_block_devices += 1;
                            }
                        }
                        None => assert_eq!(s(ndctl_namespace_get_block_device(ns)), ""),
                    }
                    assert_eq!(ndctl_namespace_get_mode(ns), 2, "raw");
                    assert!(ndctl_namespace_get_btt(ns).is_null());
                    assert!(ndctl_namespace_get_pfn(ns).is_null());
                    assert!(ndctl_namespace_get_dax(ns).is_null());
                    assert_eq!(ndctl_namespace_is_active(ns), ndctl_namespace_is_enabled(ns) == 1);
                }
                let seed = ndctl_region_get_namespace_seed(region);
                if r.enabled && !r.namespaces.is_empty() {
                    assert_eq!(ndctl_namespace_get_id(seed), r.namespace_seed, "region{}", r.id);
                }
                // foreach_safe semantics: the next element is fetched before the body.
                let mut safe = 0;
                let mut cur = ndctl_namespace_get_first(region);
                let mut next =
                    if cur.is_null() { null_mut() } else { ndctl_namespace_get_next(cur) };
                while !cur.is_null() {
                    safe += 1;
                    cur = next;
                    next = if cur.is_null() { null_mut() } else { ndctl_namespace_get_next(cur) };
                }
                assert_eq!(safe, namespaces.len());
                // Children of a region without them: NULL first elements.
                for b in iterate(region, ndctl_btt_get_first, ndctl_btt_get_next) {
                    assert_eq!(ndctl_btt_get_region(b), region);
                }
            }
            let iset_count =
                iterate(bus, ndctl_interleave_set_get_first, ndctl_interleave_set_get_next).len();
            assert_eq!(iset_count, isets);
        }
        assert_eq!(
            seen_providers,
            ["nfit_test.0", "nfit_test.1"].map(String::from).into_iter().collect()
        );
        if variant == Variant::WithBlk {
            assert_eq!(blk_block_devices, 4, "the four enabled BLK namespaces have disks");
        }
    }
}

#[test]
fn setters_write_sysfs_and_refresh_strings() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    write_tree(&root, Variant::WithBlk).unwrap();
    let ctx = new_ctx(&root, ndctl_new);
    // SAFETY: handles from the live context; strings are NUL-terminated literals.
    unsafe {
        let bus = ndctl_bus_get_by_provider(ctx, c"nfit_test.0".as_ptr());
        let region = iterate(bus, ndctl_region_get_first, ndctl_region_get_next)
            .into_iter()
            .find(|&r| ndctl_region_get_nstype(r) == 5)
            .unwrap();
        let seed = ndctl_region_get_namespace_seed(region);
        assert!(!seed.is_null());
        assert_eq!(ndctl_namespace_is_enabled(seed), 0);
        let host = |attr: &str| {
            let rel = format!(
                "sys/devices/platform/nfit_test.0/ndbus0/{}/{}/{attr}",
                s(ndctl_region_get_devname(region)),
                s(ndctl_namespace_get_devname(seed))
            );
            // The library writes the terminating NUL too, as libndctl does.
            fs::read_to_string(root.join(rel)).unwrap().trim_end_matches(['\0', '\n']).to_string()
        };
        let before = ndctl_namespace_get_alt_name(seed);
        assert_eq!(ndctl_namespace_set_alt_name(seed, c"wired".as_ptr()), 0);
        assert_eq!(host("alt_name").trim_end(), "wired");
        ndctl_invalidate(ctx);
        let after = ndctl_namespace_get_alt_name(seed);
        assert_eq!(s(after), "wired");
        // The old pointer stays readable: strings live as long as the context.
        assert_eq!(s(before), "");

        let u = uuid::Uuid::from_bytes([0x11; 16]);
        let mut b = *u.as_bytes();
        assert_eq!(ndctl_namespace_set_uuid(seed, b.as_mut_ptr()), 0);
        assert_eq!(host("uuid").trim_end(), u.hyphenated().to_string());
        assert_eq!(ndctl_namespace_set_size(seed, 0), -libc::EINVAL);
        assert_eq!(ndctl_namespace_set_size(seed, 16 << 20), 0);
        assert_eq!(host("size").trim_end(), "0x1000000");
        assert_eq!(ndctl_namespace_get_size(seed), 16 << 20);
        assert_eq!(ndctl_namespace_set_enforce_mode(seed, 4), -libc::EINVAL);
        assert_eq!(ndctl_namespace_set_enforce_mode(seed, 1), 0);
        assert_eq!(host("holder_class").trim_end(), "btt");
        assert_eq!(ndctl_namespace_set_raw_mode(seed, 5), 1);
        assert_eq!(host("force_raw").trim_end(), "1");
        assert_eq!(ndctl_region_set_ro(region, 7), 1);
        assert_eq!(ndctl_region_get_ro(region), 1);
        ndctl_region_set_ro(region, 0);

        // An IO namespace has a fixed size; libndctl checks "enabled" first.
        let bus1 = ndctl_bus_get_by_provider(ctx, c"nfit_test.1".as_ptr());
        let io = iterate(bus1, ndctl_region_get_first, ndctl_region_get_next)
            .into_iter()
            .flat_map(|r| iterate(r, ndctl_namespace_get_first, ndctl_namespace_get_next))
            .find(|&n| ndctl_namespace_get_type(n) == 4)
            .unwrap();
        let want = if ndctl_namespace_is_enabled(io) == 1 { -libc::EBUSY } else { -libc::ENXIO };
        assert_eq!(ndctl_namespace_set_size(io, 1 << 20), want);

        // References and the other context state.
        assert_eq!(ndctl_ref(ctx), ctx);
        assert!(ndctl_unref(ctx).is_null());
        assert_eq!(ndctl_get_log_priority(ctx), 3, "still alive after one unref");
        assert_eq!(s(ndctl_get_config_path(ctx)), "/etc/ndctl.conf.d");
        let mut path = *b"/tmp/ndctl-conf\0";
        assert_eq!(ndctl_set_config_path(ctx, path.as_mut_ptr().cast()), 0);
        path[1] = b'X';
        assert_eq!(&path[..3], b"/Xm");
        assert_eq!(s(ndctl_get_config_path(ctx)), "/tmp/ndctl-conf", "a copy is kept");
        let mut token = 5u8;
        ndctl_set_userdata(ctx, (&mut token as *mut u8).cast());
        assert_eq!(ndctl_get_userdata(ctx), (&mut token as *mut u8).cast());
        ndctl_set_private_data(ctx, null_mut());
        assert!(ndctl_get_private_data(ctx).is_null());
        let dctx = ndctl_get_daxctl_ctx(ctx);
        assert_eq!(ndctl_get_daxctl_ctx(ctx), dctx, "one daxctl context per context");
        assert!(ndctl_unref(ctx).is_null());
    }
}

type Seen = Vec<(c_int, String, String)>;
static LOGGED: Mutex<Seen> = Mutex::new(Vec::new());

extern "C" {
    fn vsnprintf(
        buf: *mut c_char, size: usize, format: *const c_char, args: *mut std::ffi::c_void,
    ) -> c_int;
}

unsafe extern "C" fn capture(
    _ctx: *mut ndctl_ctx, priority: c_int, _file: *const c_char, _line: c_int, func: *const c_char,
    format: *const c_char, args: *mut std::ffi::c_void,
) {
    let mut buf = [0 as c_char; 512];
    // SAFETY: buffer and size match; format/args come from the library's shim.
    unsafe { vsnprintf(buf.as_mut_ptr(), buf.len(), format, args) };
    // vsnprintf NUL-terminates; func comes from the library.
    let (msg, func) = (s(buf.as_ptr()), s(func));
    LOGGED.lock().unwrap().push((priority, func, msg));
}

#[test]
fn log_callback_gets_context_and_crate_messages() {
    let dir = tempfile::tempdir().unwrap();
    // A tree with sys/ but no NVDIMM class: the crate logs a debug record.
    fs::create_dir_all(dir.path().join("sys/devices")).unwrap();
    let ctx = new_ctx(dir.path(), ndctl_new);
    // SAFETY: live context; `capture` has the callback signature.
    unsafe {
        ndctl_set_log_priority(ctx, 7);
        ndctl_set_log_fn(ctx, Some(capture));
        assert!(ndctl_bus_get_first(ctx).is_null());
        let seen = LOGGED.lock().unwrap().clone();
        assert!(
            seen.iter().any(|(p, f, m)| *p == 6
                && f == "ndctl_set_log_fn"
                && m.contains("custom logging function")),
            "{seen:?}"
        );
        assert!(
            seen.iter().any(|(p, _, m)| *p == 7 && m.contains("no NVDIMM buses")),
            "crate record forwarded: {seen:?}"
        );
        ndctl_set_log_fn(ctx, None);
        ndctl_set_log_priority(ctx, 3);
        assert_eq!(ndctl_get_log_priority(ctx), 3);
        ndctl_unref(ctx);
    }
}

#[test]
fn ndctl_log_environment_sets_the_priority() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("sys")).unwrap();
    let mut ctx = null_mut();
    let vars = [("NDCTL_ROOT", dir.path().as_os_str()), ("NDCTL_LOG", "info".as_ref())];
    // SAFETY: valid out pointer.
    assert_eq!(with_env(&vars, || unsafe { ndctl_new(&mut ctx) }), 0);
    // SAFETY: live context.
    unsafe {
        assert_eq!(ndctl_get_log_priority(ctx), 6);
        ndctl_unref(ctx);
    }
    // A root that does not exist is an error, not a context.
    let missing = dir.path().join("missing");
    let mut ctx = null_mut();
    // SAFETY: valid out pointer.
    let rc = with_env(&[("NDCTL_ROOT", missing.as_os_str())], || unsafe { ndctl_new(&mut ctx) });
    assert_eq!(rc, -libc::ENOENT);
    // SAFETY: NULL is a documented error input.
    assert_eq!(unsafe { ndctl_new(std::ptr::null_mut()) }, -libc::EINVAL);
}

/// What one walk over a capture saw, for the non-vacuity checks.
#[derive(Default)]
struct Totals {
    namespaces: usize,
    claimed: BTreeMap<&'static str, usize>,
    daxctl_regions: usize,
}

#[test]
fn kernel_captures_agree_with_the_rust_api() {
    // tests/common looks for fixtures next to the package being tested; they are the root
    // crate's.
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/kernel-6.1");
    let mut captures: Vec<_> = fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("sysfs-"))
        .collect();
    captures.sort();
    assert_eq!(captures.len(), 9);
    let mut totals = Totals::default();
    for capture in &captures {
        let dir = kernel::unpack_capture(capture);
        for p in kernel::manifest_read_errors(capture, "No such device or address") {
            fs::remove_file(dir.path().join(&p)).unwrap();
        }
        let rust = ndctl::Ctx::with_root(dir.path()).unwrap();
        let ctx = new_ctx(dir.path(), ndctl_new);
        // SAFETY: handles of the live context.
        unsafe { walk_capture(ctx, &rust, capture, &mut totals) };
        // SAFETY: last reference.
        unsafe { ndctl_unref(ctx) };
    }
    assert!(totals.namespaces > 9, "{}", totals.namespaces);
    for kind in ["btt", "pfn", "dax"] {
        assert!(
            totals.claimed.get(kind).copied().unwrap_or(0) > 0,
            "no namespace claimed by a {kind}"
        );
    }
    if ndctl_capi_daxctl_available() {
        assert!(totals.daxctl_regions > 0);
    }
}

fn ndctl_capi_daxctl_available() -> bool {
    // SAFETY: dlopen/dlclose of a system library by soname.
    unsafe {
        let h = libc::dlopen(c"libdaxctl.so.1".as_ptr(), libc::RTLD_NOW);
        if h.is_null() {
            return false;
        }
        libc::dlclose(h);
        true
    }
}

unsafe fn walk_capture(
    ctx: *mut ndctl_ctx, rust: &ndctl::Ctx, capture: &Path, totals: &mut Totals,
) {
    let name = capture.file_name().unwrap().to_string_lossy().into_owned();
    unsafe {
        let rbuses = rust.buses().unwrap();
        let buses = iterate(ctx, ndctl_bus_get_first, ndctl_bus_get_next);
        assert_eq!(buses.len(), rbuses.len(), "{name}");
        for (&bus, rb) in buses.iter().zip(&rbuses) {
            assert_eq!(s(ndctl_bus_get_devname(bus)), rb.devname(), "{name}: libndctl order");
            assert_eq!(s(ndctl_bus_get_provider(bus)), rb.provider());
            assert_eq!(
                (ndctl_bus_get_major(bus), ndctl_bus_get_minor(bus)),
                (rb.major(), rb.minor())
            );
            assert_eq!(
                ndctl_bus_get_persistence_domain(bus),
                rb.persistence_domain().unwrap() as u32 as c_int
            );
            let dimms = iterate(bus, ndctl_dimm_get_first, ndctl_dimm_get_next);
            let rdimms = rb.dimms().unwrap();
            assert_eq!(dimms.len(), rdimms.len());
            for (&d, rd) in dimms.iter().zip(&rdimms) {
                assert_eq!(s(ndctl_dimm_get_devname(d)), rd.devname());
                assert_eq!(ndctl_dimm_get_handle(d), rd.handle().unwrap().unwrap_or(u32::MAX));
                assert_eq!(ndctl_dimm_get_by_handle(bus, ndctl_dimm_get_handle(d)), d);
            }
            let regions = iterate(bus, ndctl_region_get_first, ndctl_region_get_next);
            let rregions = rb.regions().unwrap();
            assert_eq!(regions.len(), rregions.len());
            for (&r, rr) in regions.iter().zip(&rregions) {
                assert_eq!(s(ndctl_region_get_devname(r)), rr.devname());
                assert_eq!(ndctl_region_get_size(r), rr.size());
                assert_eq!(
                    ndctl_region_get_resource(r),
                    rr.resource().unwrap().unwrap_or(u64::MAX)
                );
                assert_eq!(
                    ndctl_region_get_available_size(r),
                    rr.available_size().unwrap().unwrap_or(u64::MAX)
                );
                let numa = match rr.numa().unwrap() {
                    ndctl::region::Numa::NoAttr => -2,
                    ndctl::region::Numa::Node(n) => n,
                };
                assert_eq!(ndctl_region_get_numa_node(r), numa);
                assert_eq!(
                    ndctl_region_get_target_node(r),
                    rr.target_node().unwrap().unwrap_or(-1)
                );
                let seed = ndctl_region_get_namespace_seed(r);
                match rr.namespace_seed().unwrap() {
                    Some(ns) => assert_eq!(s(ndctl_namespace_get_devname(seed)), ns.devname()),
                    None => assert!(seed.is_null()),
                }
                for (kind, c_seed, r_seed) in [
                    (
                        "btt",
                        ndctl_region_get_btt_seed(r) as usize,
                        rr.btt_seed().unwrap().map(|x| std::sync::Arc::as_ptr(&x) as usize),
                    ),
                    (
                        "pfn",
                        ndctl_region_get_pfn_seed(r) as usize,
                        rr.pfn_seed().unwrap().map(|x| std::sync::Arc::as_ptr(&x) as usize),
                    ),
                    (
                        "dax",
                        ndctl_region_get_dax_seed(r) as usize,
                        rr.dax_seed().unwrap().map(|x| std::sync::Arc::as_ptr(&x) as usize),
                    ),
                ] {
                    // Different contexts: compare presence, not identity.
                    assert_eq!(
                        c_seed != 0,
                        r_seed.is_some(),
                        "{name}: {kind} seed of {}",
                        rr.devname()
                    );
                }
                let nss = iterate(r, ndctl_namespace_get_first, ndctl_namespace_get_next);
                let rnss = rr.namespaces().unwrap();
                assert_eq!(nss.len(), rnss.len());
                for (&ns, rns) in nss.iter().zip(&rnss) {
                    totals.namespaces += 1;
                    assert_eq!(s(ndctl_namespace_get_devname(ns)), rns.devname());
                    assert_eq!(ndctl_namespace_get_region(ns), r);
                    assert_eq!(ndctl_namespace_get_size(ns), rns.size());
                    let mode = rns.mode().map(ndctl::Mode::to_c).unwrap_or(-libc::ENXIO);
                    assert_eq!(ndctl_namespace_get_mode(ns), mode, "{name}: {}", rns.devname());
                    let uu = uuid_of(|p| ndctl_namespace_get_uuid(ns, p));
                    assert_eq!(uu, rns.uuid().unwrap().unwrap_or_default());
                    assert_eq!(
                        s(ndctl_namespace_get_block_device(ns)),
                        rns.block_device().unwrap().unwrap_or_default()
                    );
                    assert_eq!(ndctl_namespace_is_active(ns), rns.is_active().unwrap());
                    let btt = ndctl_namespace_get_btt(ns);
                    if !btt.is_null() {
                        *totals.claimed.entry("btt").or_default() += 1;
                        assert_eq!(ndctl_btt_get_namespace(btt), ns, "{name}: btt -> namespace");
                        assert_eq!(ndctl_btt_get_region(btt), r);
                        assert!(!s(ndctl_btt_get_block_device(btt)).is_empty());
                        assert_ne!(ndctl_btt_get_sector_size(btt), u32::MAX);
                        assert!(!uuid_of(|p| ndctl_btt_get_uuid(btt, p)).is_nil());
                        assert_eq!(ndctl_btt_is_configured(btt), 1);
                    }
                    let pfn = ndctl_namespace_get_pfn(ns);
                    if !pfn.is_null() {
                        *totals.claimed.entry("pfn").or_default() += 1;
                        assert_eq!(ndctl_pfn_get_namespace(pfn), ns, "{name}: pfn -> namespace");
                        assert_eq!(ndctl_namespace_get_mode(ns), 0, "fsdax");
                        assert!(!s(ndctl_pfn_get_block_device(pfn)).is_empty());
                        assert_ne!(ndctl_pfn_get_size(pfn), u64::MAX);
                        assert!(ndctl_pfn_get_num_alignments(pfn) > 0);
                        assert_eq!(
                            ndctl_pfn_get_supported_alignment(pfn, -1),
                            u64::MAX as std::ffi::c_ulong
                        );
                    }
                    let dax = ndctl_namespace_get_dax(ns);
                    if !dax.is_null() {
                        *totals.claimed.entry("dax").or_default() += 1;
                        assert_eq!(ndctl_dax_get_namespace(dax), ns, "{name}: dax -> namespace");
                        assert_eq!(ndctl_namespace_get_mode(ns), 3, "devdax");
                        assert_eq!(ndctl_dax_is_enabled(dax), 1);
                        let dr = ndctl_dax_get_daxctl_region(dax);
                        if ndctl_capi_daxctl_available() {
                            assert!(!dr.is_null());
                            assert_eq!(ndctl_dax_get_daxctl_region(dax), dr, "created once");
                            totals.daxctl_regions += 1;
                        }
                    }
                }
                let rbtts = rr.btts().unwrap();
                let btts = iterate(r, ndctl_btt_get_first, ndctl_btt_get_next);
                assert_eq!(btts.len(), rbtts.len());
                for (&b, rbt) in btts.iter().zip(&rbtts) {
                    assert_eq!(s(ndctl_btt_get_devname(b)), rbt.devname());
                    assert_eq!(ndctl_btt_get_size(b), rbt.size().unwrap().unwrap_or(u64::MAX));
                }
                let pfns = iterate(r, ndctl_pfn_get_first, ndctl_pfn_get_next);
                assert_eq!(pfns.len(), rr.pfns().unwrap().len());
                let daxs = iterate(r, ndctl_dax_get_first, ndctl_dax_get_next);
                assert_eq!(daxs.len(), rr.daxs().unwrap().len());
                for &d in &daxs {
                    assert_eq!(ndctl_dax_get_region(d), r);
                    assert_eq!(ndctl_dax_get_bus(d), bus);
                    assert_eq!(ndctl_dax_get_ctx(d), ctx);
                }
            }
        }
    }
}

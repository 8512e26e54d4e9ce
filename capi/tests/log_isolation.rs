//! Logging through the C ABI is per context, as in libndctl: a callback installed with
//! `ndctl_set_log_fn()` sees only its own context's records (the crate's and the C layer's),
//! also while other contexts log and are created and released on other threads.
//!
//! `NDCTL_ROOT` is process-wide, so contexts are created under a lock.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::fs;
use std::sync::Mutex;

use ndctl_capi::bus::*;
use ndctl_capi::ctx::*;
use ndctl_capi::region::*;
use ndctl_testsupport::capi::new_ctx;
use ndctl_testsupport::fixture::nfit_test::{write_tree, Variant};

/// (context handle, priority, function, message) of one callback.
type Seen = Vec<(usize, c_int, String, String)>;

static SEEN_A: Mutex<Seen> = Mutex::new(Vec::new());
static SEEN_B: Mutex<Seen> = Mutex::new(Vec::new());
static SEEN_C: Mutex<Seen> = Mutex::new(Vec::new());

extern "C" {
    fn vsnprintf(buf: *mut c_char, size: usize, format: *const c_char, args: *mut c_void) -> c_int;
}

/// # Safety
/// Called by the library with its own arguments.
unsafe fn record(
    into: &Mutex<Seen>, ctx: *mut ndctl_ctx, priority: c_int, func: *const c_char,
    format: *const c_char, args: *mut c_void,
) {
    let mut buf = [0 as c_char; 1024];
    // SAFETY: buffer and size match; format/args come from the library's shim.
    unsafe { vsnprintf(buf.as_mut_ptr(), buf.len(), format, args) };
    // SAFETY: vsnprintf NUL-terminates; func is a C string from the library.
    let (msg, func) = unsafe {
        (
            CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned(),
            CStr::from_ptr(func).to_string_lossy().into_owned(),
        )
    };
    into.lock().unwrap().push((ctx as usize, priority, func, msg));
}

macro_rules! callback {
    ($name:ident, $into:ident) => {
        unsafe extern "C" fn $name(
            ctx: *mut ndctl_ctx, priority: c_int, _file: *const c_char, _line: c_int,
            func: *const c_char, format: *const c_char, args: *mut c_void,
        ) {
            // SAFETY: forwarded arguments of the library's call.
            unsafe { record(&$into, ctx, priority, func, format, args) }
        }
    };
}

callback!(capture_a, SEEN_A);
callback!(capture_b, SEEN_B);
callback!(capture_c, SEEN_C);

#[test]
fn each_callback_sees_only_its_own_context() {
    // A: sys/ without the nd class; the crate logs "no NVDIMM buses" at debug.
    let a_dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(a_dir.path().join("sys/devices")).unwrap();
    // B: an nfit_test tree whose region0 has a garbled `mappings`: listing regions fails
    // and the C layer reports the error through B.
    let b_dir = tempfile::tempdir().unwrap();
    let b_root = b_dir.path().join("root");
    write_tree(&b_root, Variant::Pmem).unwrap();
    let mut garbled = 0;
    for bus in fs::read_dir(b_root.join("sys/devices/platform")).unwrap() {
        let bus = bus.unwrap().path();
        for e in fs::read_dir(&bus).unwrap().flatten() {
            let m = e.path().join("region0/mappings");
            if m.exists() {
                fs::write(&m, "garbage\n").unwrap();
                garbled += 1;
            }
        }
    }
    assert!(garbled > 0, "the nfit_test tree has a region0");
    // C: contexts created and released over and over on another thread.
    let c_dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(c_dir.path().join("sys/devices")).unwrap();

    let a = new_ctx(a_dir.path(), ndctl_new);
    let b = new_ctx(&b_root, ndctl_new);
    // SAFETY: live contexts; the callbacks have the callback signature.
    unsafe {
        ndctl_set_log_priority(a, 7);
        ndctl_set_log_fn(a, Some(capture_a));
        ndctl_set_log_priority(b, 7);
        ndctl_set_log_fn(b, Some(capture_b));
    }
    let (a_addr, b_addr) = (a as usize, b as usize);
    let c_root = c_dir.path().to_path_buf();
    let churn = std::thread::spawn(move || {
        let mut handles = Vec::new();
        for _ in 0..50 {
            let c = new_ctx(&c_root, ndctl_new);
            handles.push(c as usize);
            // SAFETY: live context until the unref below.
            unsafe {
                ndctl_set_log_priority(c, 7);
                ndctl_set_log_fn(c, Some(capture_c));
                assert!(ndctl_bus_get_first(c).is_null());
                ndctl_unref(c);
            }
        }
        handles
    });
    let b_addr2 = b_addr;
    let logger = std::thread::spawn(move || {
        let b = b_addr2 as *mut ndctl_ctx;
        for _ in 0..50 {
            // SAFETY: b stays alive until both threads are joined.
            unsafe {
                ndctl_invalidate(b);
                let bus = ndctl_bus_get_first(b);
                assert!(!bus.is_null());
                let _ = ndctl_region_get_first(bus);
            }
        }
    });
    // SAFETY: a is live.
    unsafe {
        for _ in 0..50 {
            assert!(ndctl_bus_get_first(a).is_null());
            ndctl_invalidate(a);
        }
    }
    let c_handles = churn.join().unwrap();
    logger.join().unwrap();

    let seen_a = SEEN_A.lock().unwrap().clone();
    let seen_b = SEEN_B.lock().unwrap().clone();
    let seen_c = SEEN_C.lock().unwrap().clone();
    assert!(seen_a.iter().all(|r| r.0 == a_addr), "A saw another context: {seen_a:?}");
    assert!(seen_b.iter().all(|r| r.0 == b_addr), "B saw another context");
    assert!(seen_c.iter().all(|r| c_handles.contains(&r.0)), "C saw another context");
    // Each saw its own kind of record...
    assert!(seen_a.iter().any(|r| r.1 == 7 && r.3.contains("no NVDIMM buses")));
    assert!(
        seen_b
            .iter()
            .any(|r| r.1 == 3 && r.2 == "ndctl_region_get_first" && r.3.contains("mappings")),
        "B's error report: {:?}",
        &seen_b[..seen_b.len().min(5)]
    );
    assert!(seen_c.iter().any(|r| r.3.contains("no NVDIMM buses")));
    // ...and none of the others'.
    assert!(!seen_a.iter().any(|r| r.3.contains("mappings")));
    assert!(!seen_c.iter().any(|r| r.3.contains("mappings")));
    assert!(!seen_b.iter().any(|r| r.3.contains("no NVDIMM buses")));

    // A callback removed (NULL) is never called again for that context.
    let before = SEEN_A.lock().unwrap().len();
    // SAFETY: a and b are live; released last.
    unsafe {
        ndctl_set_log_fn(a, None);
        ndctl_set_log_priority(a, 0);
        assert!(ndctl_bus_get_first(a).is_null());
        ndctl_unref(a);
        ndctl_unref(b);
    }
    assert_eq!(SEEN_A.lock().unwrap().len(), before);
}

static SEEN_D: Mutex<Seen> = Mutex::new(Vec::new());
callback!(capture_d, SEEN_D);

/// A failed enable is reported at error priority in libndctl's words, which `ndctl` users
/// see on stderr (`<device>: failed to enable`); the cause is only debug output.
#[test]
fn a_failed_enable_is_an_error_in_libndctls_words() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    write_tree(&root, Variant::Pmem).unwrap();
    // region0 of every bus without its driver: disabled, and no driver will take it.
    let mut unbound = 0;
    for bus in fs::read_dir(root.join("sys/devices/platform")).unwrap() {
        for e in fs::read_dir(bus.unwrap().path()).unwrap().flatten() {
            if fs::remove_file(e.path().join("region0/driver")).is_ok() {
                unbound += 1;
            }
        }
    }
    assert!(unbound > 0, "the nfit_test tree has a bound region0");
    let ctx = new_ctx(&root, ndctl_new);
    // SAFETY: live context and handles; the callback has the callback signature.
    unsafe {
        ndctl_set_log_priority(ctx, 3);
        ndctl_set_log_fn(ctx, Some(capture_d));
        let bus = ndctl_bus_get_first(ctx);
        let mut region = ndctl_region_get_first(bus);
        while !region.is_null() && ndctl_region_is_enabled(region) != 0 {
            region = ndctl_region_get_next(region);
        }
        assert!(!region.is_null(), "a disabled region");
        let name = CStr::from_ptr(ndctl_region_get_devname(region)).to_string_lossy().into_owned();
        assert!(ndctl_region_enable(region) < 0);
        let seen = SEEN_D.lock().unwrap().clone();
        assert_eq!(
            seen.iter().map(|r| (r.1, r.2.as_str(), r.3.trim_end())).collect::<Vec<_>>(),
            [(3, "ndctl_region_enable", format!("{name}: failed to enable").as_str())],
            "only the error, at priority 3"
        );
        ndctl_unref(ctx);
    }
}

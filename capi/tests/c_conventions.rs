//! The C conventions of the library tested through its Rust API: the panic and NULL
//! boundary every export crosses (`ffi`), the log sink that formats messages for a
//! `va_list` callback, libndctl's `NDCTL_LOG` syntax and priority mapping, and the
//! context-free size getters.

use std::cell::RefCell;
use std::ffi::{c_char, c_int};

use ndctl_capi::ctypes::va_list;
use ndctl_capi::ffi::{c_str_arg, ffi_guard, obj};
use ndctl_capi::handles::Handle;
use ndctl_capi::log::*;
use ndctl_capi::misc::*;

/// A stand-in object handle that belongs to no context.
#[derive(Debug, PartialEq)]
struct Obj(u64);

impl Handle for Obj {}

#[test]
fn guard_passes_value_through() {
    assert_eq!(ffi_guard("t", -1, || Some(7)), 7);
}

#[test]
fn guard_maps_none_to_error_value() {
    let null: *const Obj = std::ptr::null();
    // SAFETY: NULL is an accepted input of `obj`.
    assert_eq!(ffi_guard("t", -22, || unsafe { obj(null) }.map(|v| v.0 as i32)), -22);
}

#[test]
fn guard_catches_panics() {
    let r =
        ffi_guard("ndctl_test_panic", 0u32, || -> Option<u32> { panic!("deliberate test panic") });
    assert_eq!(r, 0);
    let r = ffi_guard("ndctl_test_panic", 5u32, || -> Option<u32> { std::panic::panic_any(42u8) });
    assert_eq!(r, 5);
}

#[test]
fn void_guard_survives_panic() {
    ffi_guard("t", (), || panic!("deliberate test panic"));
}

#[test]
fn handles_and_strings() {
    let v = Obj(3);
    // SAFETY: pointer to a live local.
    assert_eq!(unsafe { obj(&v as *const Obj) }, Some(&Obj(3)));
    // SAFETY: NULL and a literal C string are both valid inputs.
    unsafe {
        assert!(c_str_arg(std::ptr::null()).is_none());
        assert_eq!(c_str_arg(c"nfit_test.0".as_ptr()), Some(c"nfit_test.0"));
    }
}

extern "C" {
    // On x86-64 and AArch64 a va_list parameter is passed as a pointer, so the callback
    // below can hand its `args` straight to vsnprintf.
    fn vsnprintf(buf: *mut c_char, size: usize, format: *const c_char, args: va_list) -> c_int;
}

/// (ctx, priority, file, line, function, formatted message) of one callback.
type Seen = (usize, c_int, String, c_int, String, String);

thread_local! {
    static SEEN: RefCell<Vec<Seen>> =
        const { RefCell::new(Vec::new()) };
}

unsafe extern "C" fn capture(
    ctx: *mut u8, priority: c_int, file: *const c_char, line: c_int, func: *const c_char,
    format: *const c_char, args: va_list,
) {
    let mut buf = [0 as c_char; 256];
    // SAFETY: buffer size matches; format and args come from the shim.
    unsafe { vsnprintf(buf.as_mut_ptr(), buf.len(), format, args) };
    // SAFETY: vsnprintf NUL-terminates; file/func are valid C strings from emit().
    let (text, file, func) = unsafe {
        (
            std::ffi::CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned(),
            std::ffi::CStr::from_ptr(file).to_string_lossy().into_owned(),
            std::ffi::CStr::from_ptr(func).to_string_lossy().into_owned(),
        )
    };
    SEEN.with(|s| s.borrow_mut().push((ctx as usize, priority, file, line, func, text)));
}

#[test]
fn user_callback_receives_formatted_message_through_va_list() {
    let mut ctx_obj = 0u8;
    let ctx: *mut u8 = &mut ctx_obj;
    let sink = ContextSink::new(ctx, Some(capture as LogFn<u8>));
    // SAFETY: `capture` has the LogFn signature and accepts any ctx.
    unsafe {
        sink.emit(LOG_DEBUG, "ctx.rs", 42, "ndctl_new", "ctx created");
        sink.emit(LOG_ERR, "bus.rs", 7, "add_bus", "50% done\n");
        sink.emit(LOG_INFO, "x.rs", 1, "f", "nul\0inside");
    }
    let seen = SEEN.with(|s| s.borrow().clone());
    assert_eq!(seen.len(), 3);
    assert_eq!(
        seen[0],
        (ctx as usize, LOG_DEBUG, "ctx.rs".into(), 42, "ndctl_new".into(), "ctx created\n".into())
    );
    // A '%' in the message must not be interpreted as a format directive.
    assert_eq!(seen[1].5, "50% done\n");
    assert_eq!(seen[2].5, "nul?inside\n");
}

#[test]
fn ndctl_log_values() {
    assert_eq!(parse_log_priority("7"), 7);
    assert_eq!(parse_log_priority("3 "), 3);
    assert_eq!(parse_log_priority("-1"), -1);
    assert_eq!(parse_log_priority("debug"), LOG_DEBUG);
    assert_eq!(parse_log_priority("info"), LOG_INFO);
    assert_eq!(parse_log_priority("err"), LOG_ERR);
    assert_eq!(parse_log_priority("error"), LOG_ERR);
    assert_eq!(parse_log_priority("notice"), LOG_NOTICE);
    assert_eq!(parse_log_priority("6x"), 0);
    assert_eq!(parse_log_priority("verbose"), 0);
    assert_eq!(parse_log_priority(""), 0);
    assert_eq!(parse_log_priority(" 6"), 6);
    assert_eq!(parse_log_priority(" debug"), 0);
    assert_eq!(parse_log_priority("+4\n"), 4);
}

#[test]
fn levels() {
    assert_eq!(level_filter(LOG_ERR), ::log::LevelFilter::Error);
    assert_eq!(level_filter(LOG_DEBUG), ::log::LevelFilter::Trace);
    assert_eq!(level_filter(0), ::log::LevelFilter::Off);
    assert_eq!(record_priority(::log::Level::Info), LOG_INFO);
    for p in [LOG_ERR, 4, LOG_INFO, LOG_DEBUG] {
        assert_eq!(record_priority(priority_level(p)), p);
    }
}

#[test]
fn sizes() {
    assert_eq!(ndctl_min_namespace_size(), 16 * 1024 * 1024);
    assert_eq!(ndctl_sizeof_namespace_index(), 256);
    assert_eq!(ndctl_sizeof_namespace_label(), 128);
}

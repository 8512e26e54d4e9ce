//! The boundary every exported function crosses: panics never unwind into C, and a NULL
//! object pointer yields the function's documented error value instead of a crash.
//!
//! An export states its error value and its body once, e.g.
//! `guard!(c_uint::MAX, Some(live!(bus).id()))`; the macros below supply the rest (the
//! export's own name for logs, the panic boundary, the NULL check; see `capi/README.md`).
//! `live!(handle)` borrows the object behind a handle and turns NULL into the error value.
//! Whatever the body logs goes out under the export's name (see [`crate::log::call_scope`]).
//! The build script and cbindgen read the signature, which stays written out in full.
//!
//! The safety contract of every export is libndctl's and is stated here once: a handle
//! argument is NULL or a handle of a context that has not been released, and a buffer
//! argument is NULL or as large as libndctl documents.

use std::any::Any;
use std::ffi::{c_char, CStr};
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::handles::*;

/// Runs `body` behind a panic boundary.
///
/// Returns `on_error` when `body` returns `None` (a NULL object pointer or another failure
/// libndctl reports with the same value) or when it panics. A panic is reported on stderr,
/// the sink libndctl uses by default, naming the exported function `func` (its name, or a
/// path ending in it: [`export_name`]), because there may be no context to log through.
///
/// `AssertUnwindSafe` is sound here because after a panic the caller only sees the error
/// value; objects the body was changing stay owned by their context, which libndctl's API
/// does not promise to keep consistent after a failed call either.
pub fn ffi_guard<R>(func: &'static str, on_error: R, body: impl FnOnce() -> Option<R>) -> R {
    let mut body = Some(body);
    let mut value = None;
    guarded(func, &mut || {
        if let Some(body) = body.take() {
            value = body();
        }
    });
    value.unwrap_or(on_error)
}

/// What every export's guard does whatever its types: one copy behind a `dyn` call
/// rather than one per export (400 of them: the copies made up a quarter of the code).
#[inline(never)]
fn guarded(func: &'static str, body: &mut dyn FnMut()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| crate::log::call_scope(func, body))) {
        report_panic(export_name(func), payload.as_ref());
    }
}

fn report_panic(func: &str, payload: &(dyn Any + Send)) {
    let what = if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.as_str()
    } else {
        "non-string panic payload"
    };
    // Writing to stderr can fail (closed fd); there is nowhere left to report that.
    let _ = writeln!(std::io::stderr(), "libndctl: {func}: internal error, call failed: {what}");
}

/// The name of the exported function a [`guard!`] sits in, from the type name of a local
/// item (`ndctl_capi::region::ndctl_region_get_size::here`).
pub fn export_name(local_item: &'static str) -> &'static str {
    let path = local_item.strip_suffix("::here").unwrap_or(local_item);
    path.rsplit("::").next().unwrap_or(path)
}

/// Runs an export's body behind [`ffi_guard`] under the export's own name.
///
/// `guard!(on_error, body)`, where `body` is an `Option` of the return value (`None`:
/// return `on_error`); `guard_void!(body)` for exports returning `void`.
macro_rules! guard {
    ($on_error:expr, $body:expr $(,)?) => {{
        fn here() {}
        // The name is cut out of the type name only when something is reported (see
        // `export_name`): every call pays for the scope, few for a message.
        $crate::ffi::ffi_guard(::std::any::type_name_of_val(&here), $on_error, || $body)
    }};
}

/// [`guard!`] for exports returning `void`: the body is an `Option<()>` or `()`.
macro_rules! guard_void {
    ($body:expr $(,)?) => {
        guard!((), ::std::option::Option::<()>::from($body))
    };
}

/// The object behind a handle argument; NULL returns the export's error value (`?`).
macro_rules! live {
    ($handle:expr) => {
        maybe!($handle)?
    };
}

/// The object behind an optional handle argument (`None` for NULL).
macro_rules! maybe {
    ($handle:expr) => {
        // SAFETY: the contract of every export (module docs): NULL or a live handle.
        unsafe { $crate::ffi::obj($handle) }
    };
}

/// An owning `Arc` of the object behind a handle argument, for calls whose result keeps
/// the object (a command holds its DIMM or bus); NULL returns the export's error value.
macro_rules! live_arc {
    ($handle:expr) => {{
        let handle = $handle;
        live!(handle);
        // SAFETY: the contract of every export (module docs): NULL or a live handle.
        unsafe { $crate::ffi::arc_of(handle) }?
    }};
}

/// A C string argument; NULL returns the export's error value (`?`).
macro_rules! str_arg {
    ($ptr:expr) => {
        // SAFETY: the contract of every export: NULL or a NUL-terminated string.
        unsafe { $crate::ffi::c_str_arg($ptr) }?
    };
}

/// A `uuid_t` argument read into a [`uuid::Uuid`]; NULL returns the export's error value.
macro_rules! uuid_arg {
    ($ptr:expr) => {
        // SAFETY: the contract of every export: NULL or 16 readable bytes.
        unsafe { $crate::handles::get_uuid($ptr) }?
    };
}

/// Copies a uuid (`Option`: all zero when unknown) into a `uuid_t` argument; nothing for
/// NULL. `Some(())`, for [`guard_void!`].
macro_rules! uuid_out {
    ($dst:expr, $uuid:expr) => {{
        let uuid = $uuid;
        // SAFETY: the contract of every export: NULL or 16 writable bytes.
        unsafe { $crate::handles::put_uuid($dst, uuid) }
    }};
}

/// Borrows the object behind a C handle; `None` for NULL. The call's messages go to the
/// object's context from here on (see [`crate::log::enter_call`]).
///
/// # Safety
/// `ptr` must be NULL or a handle this library handed out that is still alive (owned by a
/// context that has not been released).
pub unsafe fn obj<'a, T: Handle>(ptr: *const T) -> Option<&'a T> {
    // SAFETY: the caller guarantees NULL or a live handle.
    let o = unsafe { ptr.as_ref() }?;
    crate::log::enter_call(o.logger());
    Some(o)
}

/// An owning `Arc` of the object behind a handle of the object layer (handles are
/// `Arc::as_ptr` of objects their context keeps alive).
///
/// # Safety
/// `p` must be NULL or a live object handle.
pub unsafe fn arc_of<T>(p: *mut T) -> Option<std::sync::Arc<T>> {
    // SAFETY: `p` came from `Arc::as_ptr` of an Arc that is still alive (the caller's
    // contract), so taking one more strong reference and owning it is sound.
    (!p.is_null()).then(|| unsafe {
        std::sync::Arc::increment_strong_count(p.cast_const());
        std::sync::Arc::from_raw(p.cast_const())
    })
}

/// Sets the calling thread's `errno`, which some libndctl getters set beside their
/// "unknown" value; `None`, which makes the export return that value.
pub fn set_errno<T>(errno: std::ffi::c_int) -> Option<T> {
    // SAFETY: errno is thread-local and always writable.
    unsafe { *libc::__errno_location() = errno };
    None
}

/// `n` bytes of a caller's input buffer; `None` for NULL.
///
/// # Safety
/// `p` must be NULL or point to `n` readable bytes that outlive the call.
pub unsafe fn in_buf<'a>(p: *const std::ffi::c_void, n: usize) -> Option<&'a [u8]> {
    // SAFETY: non-NULL and `n` readable bytes per the caller's guarantee.
    (!p.is_null()).then(|| unsafe { std::slice::from_raw_parts(p.cast::<u8>(), n) })
}

/// `n` bytes of a caller's output buffer; `None` for NULL.
///
/// # Safety
/// `p` must be NULL or point to `n` writable bytes, not aliased during the call.
pub unsafe fn out_buf<'a>(p: *mut std::ffi::c_void, n: usize) -> Option<&'a mut [u8]> {
    // SAFETY: non-NULL and `n` writable, unaliased bytes per the caller's guarantee.
    (!p.is_null()).then(|| unsafe { std::slice::from_raw_parts_mut(p.cast::<u8>(), n) })
}

/// Borrows a NUL-terminated C string argument; `None` for NULL.
///
/// # Safety
/// `ptr` must be NULL or point to a NUL-terminated string that outlives the call.
pub unsafe fn c_str_arg<'a>(ptr: *const c_char) -> Option<&'a CStr> {
    // SAFETY: non-NULL and NUL-terminated per the caller's guarantee.
    (!ptr.is_null()).then(|| unsafe { CStr::from_ptr(ptr) })
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Handle for u32 {}

    #[test]
    fn macros_name_the_export_and_check_null() {
        fn ndctl_test_export(p: *const u32) -> i64 {
            guard!(-22, {
                assert_eq!(crate::log::call_func(), "ndctl_test_export");
                Some(i64::from(*live!(p)))
            })
        }
        let v = 9u32;
        assert_eq!(ndctl_test_export(&v), 9);
        assert_eq!(ndctl_test_export(std::ptr::null()), -22);
        fn ndctl_test_void(p: *const u32) {
            guard_void!({
                let _ = live!(p);
                None
            })
        }
        ndctl_test_void(std::ptr::null());
        assert_eq!(export_name("a::b::ndctl_x::here"), "ndctl_x");
    }
}

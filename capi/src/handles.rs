//! What every object-layer export shares: the C names of the object handles, the registry
//! that finds a context's C handle from any of its objects, and the conversions between
//! the Rust API's values and libndctl's C conventions.
//!
//! Object handles (`struct ndctl_bus *`, ...) are `Arc::as_ptr` of the Rust objects. The
//! context keeps every object it ever created alive until it is released (see
//! `ndctl::children`), so a handle stays valid for the context's lifetime, as libndctl
//! promises. Unknown values become libndctl's defaults (`ULLONG_MAX`, `UINT_MAX`, -1, ...);
//! the caller of each helper names the default.
#![allow(non_camel_case_types)]

use std::collections::HashMap;
use std::ffi::{c_char, c_int, CStr, CString};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use crate::ctx::ndctl_ctx;
use crate::ctypes::uuid_t;

/// `struct ndctl_bus`: an [`ndctl::Bus`].
pub type ndctl_bus = ndctl::Bus;
/// `struct ndctl_dimm`: an [`ndctl::Dimm`].
pub type ndctl_dimm = ndctl::Dimm;
/// `struct ndctl_region`: an [`ndctl::Region`].
pub type ndctl_region = ndctl::Region;
/// `struct ndctl_mapping`: an [`ndctl::Mapping`].
pub type ndctl_mapping = ndctl::Mapping;
/// `struct ndctl_interleave_set`: an [`ndctl::InterleaveSet`].
pub type ndctl_interleave_set = ndctl::InterleaveSet;
/// `struct ndctl_namespace`: an [`ndctl::Namespace`].
pub type ndctl_namespace = ndctl::Namespace;
/// `struct ndctl_btt`: an [`ndctl::Btt`].
pub type ndctl_btt = ndctl::Btt;
/// `struct ndctl_pfn`: an [`ndctl::Pfn`].
pub type ndctl_pfn = ndctl::Pfn;
/// `struct ndctl_dax`: an [`ndctl::Dax`].
pub type ndctl_dax = ndctl::Dax;

/// Live contexts: (identity of the Rust context, address of its C handle).
static CONTEXTS: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());

fn contexts() -> MutexGuard<'static, Vec<(usize, usize)>> {
    CONTEXTS.lock().unwrap_or_else(|p| p.into_inner())
}

/// Records that `handle` is the C handle of the Rust context with identity `id`.
pub(crate) fn register(id: usize, handle: *mut ndctl_ctx) {
    contexts().push((id, handle as usize));
}

/// Forgets a released handle.
pub(crate) fn unregister(handle: *mut ndctl_ctx) {
    contexts().retain(|&(_, h)| h != handle as usize);
}

/// The C handle of a Rust context; NULL if the context was not created through `ndctl_new`
/// or is already released.
pub(crate) fn handle_of(ctx: Option<ndctl::Ctx>) -> *mut ndctl_ctx {
    let Some(ctx) = ctx else {
        return std::ptr::null_mut();
    };
    let id = ctx.id();
    contexts()
        .iter()
        .find(|&&(i, _)| i == id)
        .map_or(std::ptr::null_mut(), |&(_, h)| h as *mut ndctl_ctx)
}

/// The C context that owns an object, for per-context state (strings, daxctl).
pub(crate) fn context_of(ctx: Option<ndctl::Ctx>) -> Option<&'static ndctl_ctx> {
    // SAFETY: a registered handle is live until ndctl_unref() unregisters it, which happens
    // before it is freed; libndctl's API does not allow using objects of a released context.
    unsafe { handle_of(ctx).as_ref() }
}

/// A string owned by `obj`'s context, valid until the context is released.
pub(crate) fn owned_str<T>(
    ctx: Option<ndctl::Ctx>,
    obj: *const T,
    key: &'static str,
    value: &str,
) -> Option<*const c_char> {
    Some(context_of(ctx)?.intern(obj as usize, key, value))
}

/// An object handle whose context's logger an exported call logs through (see
/// [`crate::log::enter_call`]).
pub trait Handle {
    /// The logger of the context owning the object.
    fn logger(&self) -> Option<Arc<ndctl::logging::Logger>>;
}

macro_rules! handle_logger {
    ($($t:ty => |$o:ident| $e:expr;)*) => {$(
        impl Handle for $t {
            fn logger(&self) -> Option<Arc<ndctl::logging::Logger>> {
                let $o = self;
                Some(Arc::clone($e.sysfs().logger()))
            }
        }
    )*};
}

handle_logger! {
    ndctl_bus => |o| o.device();
    ndctl_dimm => |o| o.device();
    ndctl_region => |o| o.device();
    ndctl_mapping => |o| o.region().device();
    ndctl_interleave_set => |o| o.region().device();
    ndctl_namespace => |o| o.device();
    ndctl_btt => |o| o.device();
    ndctl_pfn => |o| o.device();
    ndctl_dax => |o| o.device();
}

impl Handle for ndctl_ctx {
    fn logger(&self) -> Option<Arc<ndctl::logging::Logger>> {
        Some(Arc::clone(self.ctx().logger()))
    }
}

/// The C handle of an object.
pub(crate) fn ptr<T>(a: &Arc<T>) -> *mut T {
    Arc::as_ptr(a).cast_mut()
}

/// The C handle of an optional object (NULL for none).
pub(crate) fn opt_ptr<T>(a: Option<Arc<T>>) -> *mut T {
    a.as_ref().map_or(std::ptr::null_mut(), ptr)
}

/// Logs a failure of the Rust API at error priority under the exported function's name,
/// through the context of the handle the call was given.
pub(crate) fn report(func: &'static str, e: &ndctl::Error) {
    crate::log::call_log(::log::Level::Error, func, format_args!("{e}"));
}

/// The value of a call whose failure libndctl reports as "unknown".
pub(crate) fn value<T>(func: &'static str, r: ndctl::Result<T>) -> Option<T> {
    r.map_err(|e| report(func, &e)).ok()
}

/// Like [`value`] for attributes that may be absent.
pub(crate) fn known<T>(func: &'static str, r: ndctl::Result<Option<T>>) -> Option<T> {
    value(func, r).flatten()
}

/// 0 on success, else the negative errno libndctl returns for the failure.
pub(crate) fn status(func: &'static str, r: ndctl::Result<()>) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => {
            crate::log::call_log(::log::Level::Debug, func, format_args!("{e}"));
            e.errno()
        }
    }
}

/// The status of an enable: libndctl reports every failure to enable at error level, in
/// its own words (`<device>: failed to enable`, which `ndctl` users see on stderr); the
/// cause goes to the debug log.
pub(crate) fn enable_status(func: &'static str, devname: &str, r: ndctl::Result<()>) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => enable_failed(func, devname, &e),
    }
}

/// Logs a failed enable as libndctl does (see [`enable_status`]); returns its errno.
pub(crate) fn enable_failed(func: &'static str, devname: &str, e: &ndctl::Error) -> c_int {
    crate::log::call_log(::log::Level::Debug, func, format_args!("{e}"));
    crate::log::call_log(
        ::log::Level::Error,
        func,
        format_args!("{devname}: failed to enable"),
    );
    e.errno()
}

/// 1/0 for a predicate, or the negative errno when it cannot be decided.
pub(crate) fn flag(func: &'static str, r: ndctl::Result<bool>) -> c_int {
    match r {
        Ok(b) => c_int::from(b),
        Err(e) => {
            report(func, &e);
            e.errno()
        }
    }
}

/// The first object of a listing (NULL for none or on failure).
pub(crate) fn first<T>(func: &'static str, r: ndctl::Result<Vec<Arc<T>>>) -> *mut T {
    opt_ptr(value(func, r).and_then(|v| v.into_iter().next()))
}

/// Copies a uuid into the caller's `uuid_t` (16 bytes); nothing for a NULL destination.
///
/// # Safety
/// `dst` must be NULL or point to 16 writable bytes.
pub(crate) unsafe fn put_uuid(dst: uuid_t, uuid: &uuid::Uuid) {
    if !dst.is_null() {
        // SAFETY: the caller guarantees 16 writable bytes; the source is a separate value.
        unsafe { std::ptr::copy_nonoverlapping(uuid.as_bytes().as_ptr(), dst, 16) };
    }
}

/// Reads a caller's `uuid_t`; `None` for NULL.
///
/// # Safety
/// `src` must be NULL or point to 16 readable bytes.
pub(crate) unsafe fn get_uuid(src: uuid_t) -> Option<uuid::Uuid> {
    if src.is_null() {
        return None;
    }
    let mut b = [0u8; 16];
    // SAFETY: the caller guarantees 16 readable bytes.
    unsafe { std::ptr::copy_nonoverlapping(src, b.as_mut_ptr(), 16) };
    Some(uuid::Uuid::from_bytes(b))
}

/// The empty string libndctl returns when a name is unknown.
pub(crate) const EMPTY: &CStr = c"";

/// A NUL-terminated copy of one of the crate's fixed names (command, device-type and
/// mode names), made once and kept for the life of the process: the set is small and
/// closed, and C callers may hold the pointer forever.
pub(crate) fn static_cstr(name: &'static str) -> &'static CStr {
    static NAMES: OnceLock<Mutex<HashMap<&'static str, &'static CStr>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    names.entry(name).or_insert_with(|| {
        // The crate's names never contain NUL; "unknown" would be the honest fallback.
        let c = CString::new(name).unwrap_or_else(|_| CString::from(c"unknown"));
        Box::leak(c.into_boxed_c_str())
    })
}

/// `ndctl_device_type_name()`: libndctl's names of `ND_DEVICE_*` values.
pub(crate) fn device_type_name(t: u32) -> &'static CStr {
    static_cstr(ndctl::device_type::DeviceType::from_code(t).name())
}

/// `enum ndctl_persistence_domain` of the Rust value (the Rust enum carries libndctl's
/// values).
pub(crate) fn persistence_domain(d: ndctl::region::PersistenceDomain) -> c_int {
    c_int::try_from(d as u32).unwrap_or(c_int::MAX)
}

/// A C `unsigned long` as the API's u64 (the same type on LP64, wider on 32-bit targets).
#[allow(clippy::useless_conversion)]
pub(crate) fn ulong(v: std::ffi::c_ulong) -> u64 {
    u64::from(v)
}

/// A list position as libndctl's `int` index argument: `None` for a negative index.
pub(crate) fn index(i: c_int) -> Option<usize> {
    usize::try_from(i).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_round_trip_and_null() {
        let u = uuid::Uuid::from_bytes([7; 16]);
        let mut buf = [0u8; 16];
        // SAFETY: a 16-byte local buffer and NULL are valid arguments.
        unsafe {
            put_uuid(buf.as_mut_ptr(), &u);
            assert_eq!(get_uuid(buf.as_mut_ptr()), Some(u));
            put_uuid(std::ptr::null_mut(), &u);
            assert_eq!(get_uuid(std::ptr::null_mut()), None);
        }
    }

    #[test]
    fn type_names() {
        assert_eq!(device_type_name(5), c"namespace_pmem");
        assert_eq!(device_type_name(99), c"unknown");
        assert_eq!(index(-1), None);
        assert_eq!(index(3), Some(3));
    }
}

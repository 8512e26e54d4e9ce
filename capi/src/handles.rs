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
use std::ffi::{c_char, c_int, c_uint, CStr, CString};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use ndctl::bus::BusCmd;
use ndctl::dimm::DimmCmd;

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

/// Locks `m`, also after a panic elsewhere left it poisoned: every value the C layer keeps
/// under a lock stays consistent between statements, and a panic must not break the
/// library for the rest of the process.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Records that `handle` is the C handle of the Rust context with identity `id`.
pub(crate) fn register(id: usize, handle: *mut ndctl_ctx) {
    lock(&CONTEXTS).push((id, handle as usize));
}

/// Forgets a released handle.
pub(crate) fn unregister(handle: *mut ndctl_ctx) {
    lock(&CONTEXTS).retain(|&(_, h)| h != handle as usize);
}

/// The C handle of a Rust context; NULL if the context was not created through `ndctl_new`
/// or is already released.
pub(crate) fn handle_of(ctx: Option<ndctl::Ctx>) -> *mut ndctl_ctx {
    let id = ctx.map(|c| c.id());
    let found = lock(&CONTEXTS).iter().find(|&&(i, _)| Some(i) == id).map(|&(_, h)| h);
    found.map_or(std::ptr::null_mut(), |h| h as *mut ndctl_ctx)
}

/// The C context that owns an object, for per-context state (strings, daxctl).
pub(crate) fn context_of(ctx: Option<ndctl::Ctx>) -> Option<&'static ndctl_ctx> {
    // SAFETY: a registered handle is live until ndctl_unref() unregisters it, which happens
    // before it is freed; libndctl's API does not allow using objects of a released context.
    unsafe { handle_of(ctx).as_ref() }
}

/// A string owned by `obj`'s context, valid until the context is released (the empty
/// string is a static one: nothing to keep per object).
pub(crate) fn owned_str<T>(
    ctx: Option<ndctl::Ctx>, obj: *const T, key: &'static str, value: &str,
) -> Option<*const c_char> {
    if value.is_empty() {
        return Some(c"".as_ptr());
    }
    Some(context_of(ctx)?.intern(obj as usize, key, value))
}

/// A string an object owns, or libndctl's empty string for none.
pub(crate) fn c_str_or_empty(s: Option<&std::ffi::CStr>) -> *const c_char {
    s.unwrap_or(c"").as_ptr()
}

/// The name `get` reads from an object (`key` tells its names apart), as a string its
/// context owns.
pub(crate) fn name_of<T: Handle>(
    o: &T, key: &'static str, get: fn(&T) -> &str,
) -> Option<*const c_char> {
    owned_str(o.owner(), o, key, get(o))
}

/// Like [`name_of`] for a name the object may lack: libndctl's empty string then.
pub(crate) fn opt_name_of<T: Handle>(
    o: &T, key: &'static str, get: fn(&T) -> Option<String>,
) -> Option<*const c_char> {
    get(o).map_or(Some(c"".as_ptr()), |n| owned_str(o.owner(), o, key, &n))
}

/// An object handle whose context's logger an exported call logs through (see
/// [`crate::log::enter_call`]).
pub trait Handle {
    /// The logger of the context owning the object (none for records of no context).
    fn logger(&self) -> Option<Arc<ndctl::logging::Logger>> {
        self.owner().map(|c| Arc::clone(c.logger()))
    }

    /// The Rust context owning the object (for the strings its C context hands out).
    fn owner(&self) -> Option<ndctl::Ctx> {
        None
    }
}

macro_rules! handle_owner {
    ($($t:ty => |$o:ident| $ctx:expr;)*) => {$(
        impl Handle for $t {
            fn owner(&self) -> Option<ndctl::Ctx> {
                let $o = self;
                $ctx
            }
        }
    )*};
}

handle_owner! {
    ndctl_bus => |o| o.ctx();
    ndctl_dimm => |o| o.bus().ctx();
    ndctl_region => |o| o.bus().ctx();
    ndctl_mapping => |o| o.region().bus().ctx();
    ndctl_interleave_set => |o| o.region().bus().ctx();
    ndctl_namespace => |o| o.region().bus().ctx();
    ndctl_btt => |o| o.region().bus().ctx();
    ndctl_pfn => |o| o.region().bus().ctx();
    ndctl_dax => |o| o.region().bus().ctx();
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

/// The C handle of an object the Rust API may not find (NULL for none; a failure is
/// logged as an error).
pub(crate) fn found<T>(r: ndctl::Result<Option<Arc<T>>>) -> Option<*mut T> {
    Some(opt_ptr(known(r)))
}

/// Logs a failure at debug priority (libndctl's `dbg()`) under the exported function's
/// name, through the context of the handle the call was given; returns `v`, what the
/// export gives back for the failure.
pub(crate) fn debug<T>(e: &dyn std::fmt::Display, v: T) -> T {
    crate::log::call_log(::log::Level::Debug, format_args!("{e}"));
    v
}

/// [`debug`] at error priority (libndctl's `err()`).
pub(crate) fn error<T>(e: &dyn std::fmt::Display, v: T) -> T {
    crate::log::call_log(::log::Level::Error, format_args!("{e}"));
    v
}

/// The value of a call whose failure libndctl reports as "unknown" (logged as an error).
pub(crate) fn value<T>(r: ndctl::Result<T>) -> Option<T> {
    r.map_err(|e| error(&e, ())).ok()
}

/// [`value`] for failures libndctl only mentions at debug priority.
pub(crate) fn quiet<T>(r: ndctl::Result<T>) -> Option<T> {
    r.map_err(|e| debug(&e, ())).ok()
}

/// Like [`value`] for attributes that may be absent.
pub(crate) fn known<T>(r: ndctl::Result<Option<T>>) -> Option<T> {
    value(r).flatten()
}

/// `ok(value)` on success, else the negative errno libndctl returns for the failure (logged
/// at debug priority).
pub(crate) fn errno_or<T>(r: ndctl::Result<T>, ok: impl FnOnce(T) -> c_int) -> c_int {
    r.map_or_else(|e| debug(&e, e.errno()), ok)
}

/// `ok(value)`, or `on_err` for a failure (logged at debug priority).
pub(crate) fn or_debug<T, R>(r: ndctl::Result<T>, on_err: R, ok: impl FnOnce(T) -> R) -> R {
    r.map_or_else(|e| debug(&e, on_err), ok)
}

/// 0 on success, else the negative errno libndctl returns for the failure.
pub(crate) fn status(r: ndctl::Result<()>) -> c_int {
    errno_or(r, |()| 0)
}

/// The status of an enable of the device `devname` (`ok` of what it enabled on success):
/// libndctl reports every failure to enable at error level, in its own words (`<device>:
/// failed to enable`, which `ndctl` users see on stderr); the cause goes to the debug log.
pub(crate) fn enable_status<T>(devname: &str, r: ndctl::Result<T>, ok: fn(T) -> c_int) -> c_int {
    r.map_or_else(|e| error(&format_args!("{devname}: failed to enable"), debug(&e, e.errno())), ok)
}

/// 1/0 for a predicate, or the negative errno when it cannot be decided.
pub(crate) fn flag(r: ndctl::Result<bool>) -> c_int {
    match r {
        Ok(b) => c_int::from(b),
        Err(e) => error(&e, e.errno()),
    }
}

/// The first object of a listing (NULL for none or on failure).
pub(crate) fn first<T>(r: ndctl::Result<Vec<Arc<T>>>) -> *mut T {
    opt_ptr(value(r).and_then(|v| v.into_iter().next()))
}

/// Copies a uuid (all zero when unknown, as libndctl's) into the caller's `uuid_t` (16
/// bytes); nothing for a NULL destination.
///
/// # Safety
/// `dst` must be NULL or point to 16 writable bytes.
pub(crate) unsafe fn put_uuid(dst: uuid_t, uuid: Option<uuid::Uuid>) -> Option<()> {
    let uuid = uuid.unwrap_or_default();
    if !dst.is_null() {
        // SAFETY: the caller guarantees 16 writable bytes; the source is a separate value.
        unsafe { std::ptr::copy_nonoverlapping(uuid.as_bytes().as_ptr(), dst, 16) };
    }
    Some(())
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

/// A NUL-terminated copy of one of the crate's fixed names (command and device-type
/// names), made once and kept for the life of the process: the set is small and closed,
/// and C callers may hold the pointer forever.
pub(crate) fn c_name(name: &'static str) -> Option<*const c_char> {
    static NAMES: OnceLock<Mutex<HashMap<&'static str, &'static CStr>>> = OnceLock::new();
    let mut names = lock(NAMES.get_or_init(|| Mutex::new(HashMap::new())));
    let c = names.entry(name).or_insert_with(|| {
        // The crate's names never contain NUL; "unknown" would be the honest fallback.
        let c = CString::new(name).unwrap_or_else(|_| CString::from(c"unknown"));
        Box::leak(c.into_boxed_c_str())
    });
    Some(c.as_ptr())
}

/// The bus command of `ND_CMD_*` number `n` (the crate knows the kernel's numbers).
pub(crate) fn bus_cmd(n: c_int) -> Option<BusCmd> {
    BusCmd::from_number(u32::try_from(n).ok()?)
}

/// The DIMM command of `ND_CMD_*` number `n`.
pub(crate) fn dimm_cmd(n: c_int) -> Option<DimmCmd> {
    DimmCmd::from_number(u32::try_from(n).ok()?)
}

/// The value of `v` in a C enum that numbers the values of `order` from 0, as libndctl's
/// enums do; `None` for a value the table lacks.
pub(crate) fn c_enum<T: PartialEq>(order: &[T], v: T) -> Option<c_int> {
    order.iter().position(|o| *o == v).map(int)
}

/// A count or size as a C `int`, saturating (libndctl's values never come near the limit).
pub(crate) fn int<N: TryInto<c_int>>(n: N) -> c_int {
    n.try_into().unwrap_or(c_int::MAX)
}

/// `enum ndctl_persistence_domain` of the Rust value (the Rust enum carries libndctl's
/// values).
pub(crate) fn persistence_domain(d: ndctl::region::PersistenceDomain) -> c_int {
    int(d as u32)
}

/// A C `unsigned long` as the API's u64 (the same type on LP64, wider on 32-bit targets).
#[allow(clippy::useless_conversion)]
pub(crate) fn ulong(v: std::ffi::c_ulong) -> u64 {
    u64::from(v)
}

/// Sector size `at` of a (supported sizes, selected index) listing, the selected one for
/// `Some(None)`; UINT_MAX where there is none (`None`: a negative index), but `empty` when
/// there are no sizes at all (or they are unreadable).
pub(crate) fn sector_size(
    r: ndctl::Result<(Vec<u32>, Option<usize>)>, at: Option<Option<usize>>, empty: c_uint,
) -> c_uint {
    let (sizes, cur) = value(r).unwrap_or_default();
    let none = if sizes.is_empty() { empty } else { c_uint::MAX };
    at.and_then(|i| i.or(cur)).and_then(|i| sizes.get(i).copied()).unwrap_or(none)
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
            put_uuid(buf.as_mut_ptr(), Some(u));
            assert_eq!(get_uuid(buf.as_mut_ptr()), Some(u));
            put_uuid(std::ptr::null_mut(), Some(u));
            assert_eq!(get_uuid(std::ptr::null_mut()), None);
        }
    }

    #[test]
    fn type_names() {
        assert_eq!(index(-1), None);
        assert_eq!(index(3), Some(3));
        // The C command numbers are checked through the exports against libndctl's
        // names (object_layer, differential_walk).
    }
}

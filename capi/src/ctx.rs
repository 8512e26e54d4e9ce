//! The library context (`struct ndctl_ctx`, group `ctx` of `libndctl.tsv`).
//!
//! A C context is a heap handle around an [`ndctl::Ctx`] plus what only C needs: the
//! reference count, the two user pointers, the log priority and sink, the config path, the
//! strings handed out by getters and the libdaxctl state. Logging is the Rust context's
//! own [`ndctl::logging::Logger`] with a [`ContextSink`]: the crate's records about this
//! context and the C layer's messages reach this context's callback and no other.

use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::ctypes::va_list;
use crate::daxctl;
use crate::handles::*;
use crate::log::{
    level_filter, parse_log_priority, priority_level, ContextSink, LogFn, Silent, LOG_DEBUG,
    LOG_ERR, LOG_INFO,
};

/// libndctl's default configuration directory (`NDCTL_CONF_DIR`).
pub const DEFAULT_CONFIG_PATH: &CStr = c"/etc/ndctl.conf.d";

/// Environment variable that overrides the log priority (`NDCTL_LOG`).
pub const LOG_ENV: &str = "NDCTL_LOG";

/// Strings handed to C. A value that changes gets a new copy; the old one stays allocated
/// until the context is released, because C may still hold a pointer to it.
#[derive(Default)]
struct Strings {
    current: HashMap<(usize, &'static str), CString>,
    retired: Vec<CString>,
}

/// `struct ndctl_ctx`: a libndctl context.
pub struct ndctl_ctx {
    ctx: ndctl::Ctx,
    refcount: AtomicUsize,
    userdata: AtomicPtr<c_void>,
    private_data: AtomicPtr<c_void>,
    log_priority: AtomicI32,
    strings: Mutex<Strings>,
    daxctl: Mutex<daxctl::State>,
}

fn to_c(value: &str) -> CString {
    CString::new(value.replace('\0', "")).unwrap_or_default()
}

impl Strings {
    fn get(&mut self, key: (usize, &'static str), value: &str) -> *const c_char {
        let fresh = to_c(value);
        if self.current.get(&key) != Some(&fresh) {
            self.retired.extend(self.current.insert(key, fresh));
        }
        self.current.get(&key).map_or(std::ptr::null(), |s| s.as_ptr())
    }
}

impl ndctl_ctx {
    /// The Rust context.
    pub fn ctx(&self) -> &ndctl::Ctx {
        &self.ctx
    }

    /// The current log priority (syslog level).
    pub fn priority(&self) -> c_int {
        self.log_priority.load(Ordering::Relaxed)
    }

    /// A NUL-terminated copy of `value`, stable until the context is released; `owner` and
    /// `key` name the getter (e.g. a namespace's address and `"alt_name"`).
    pub fn intern(&self, owner: usize, key: &'static str, value: &str) -> *const c_char {
        lock(&self.strings).get((owner, key), value)
    }

    /// Emits `msg` through this context's sink, under the running export's name, if its
    /// priority admits `priority`.
    pub fn log(&self, priority: c_int, msg: &str) {
        if self.priority() >= priority {
            crate::log::call_log_to(self.ctx.logger(), priority_level(priority), msg);
        }
    }

    /// Sets the priority here (for `ndctl_get_log_priority`), as the threshold of the
    /// Rust context's logger and of the libdaxctl context, if one exists.
    fn set_priority(&self, priority: c_int) {
        self.log_priority.store(priority, Ordering::Relaxed);
        self.ctx.logger().set_level(level_filter(priority));
        self.daxctl().set_priority(priority);
    }

    /// Installs a user callback (stderr for none) as this context's log sink.
    fn set_sink(&self, callback: Option<LogFn<ndctl_ctx>>) {
        let me = std::ptr::from_ref(self).cast_mut();
        self.ctx.logger().set_sink(Arc::new(ContextSink::new(me, callback)));
    }

    /// The libdaxctl state.
    pub(crate) fn daxctl(&self) -> MutexGuard<'_, daxctl::State> {
        lock(&self.daxctl)
    }

    /// A libdaxctl object `get` makes from the state (given this context's log priority);
    /// `None` with the reason logged, at error priority the first time only.
    pub(crate) fn daxctl_object<T>(
        &self, get: impl FnOnce(&mut daxctl::State, c_int) -> Result<*mut c_void, String>,
    ) -> Option<*mut T> {
        let mut state = self.daxctl();
        let why = match get(&mut state, self.priority()) {
            Ok(p) => return Some(p.cast()),
            Err(why) => why,
        };
        let priority = if state.first_report() { LOG_ERR } else { LOG_DEBUG };
        drop(state);
        self.log(priority, &why);
        None
    }
}

/// Creates a context on the tree named by `NDCTL_ROOT` (default `/`) and stores it in
/// `*ctx` with one reference. Returns 0, or a negative errno (-EINVAL for a NULL `ctx`,
/// -ENOENT when `NDCTL_ROOT` does not exist, ...). The log priority is `LOG_ERR` unless
/// `NDCTL_LOG` says otherwise (a number, or `err`, `info`, `debug`, `notice`).
#[no_mangle]
pub unsafe extern "C" fn ndctl_new(ctx: *mut *mut ndctl_ctx) -> c_int {
    guard!(-libc::EINVAL, {
        // SAFETY: the export's contract: NULL or a writable out pointer.
        let out = unsafe { ctx.as_mut() }?;
        let rust = match ndctl::Ctx::new() {
            Ok(c) => c,
            Err(e) => {
                // No context exists yet to log through: stderr, as libndctl's default.
                eprintln!("libndctl: ndctl_new: {e}");
                return Some(e.errno());
            }
        };
        // secure_getenv semantics, as libndctl reads NDCTL_LOG.
        let priority = ndctl::env::secure_var(LOG_ENV)
            .map_or(LOG_ERR, |v| parse_log_priority(&v.to_string_lossy()));
        let id = rust.id();
        let handle = Box::into_raw(Box::new(ndctl_ctx {
            ctx: rust,
            refcount: AtomicUsize::new(1),
            userdata: AtomicPtr::new(std::ptr::null_mut()),
            private_data: AtomicPtr::new(std::ptr::null_mut()),
            log_priority: AtomicI32::new(priority),
            strings: Mutex::new(Strings::default()),
            daxctl: Mutex::new(daxctl::State::default()),
        }));
        register(id, handle);
        // SAFETY: handle was just created and registered.
        let c = unsafe { &*handle };
        c.set_priority(priority);
        c.set_sink(None);
        c.log(LOG_INFO, &format!("ctx {handle:p} created"));
        c.log(LOG_DEBUG, &format!("log_priority={priority}"));
        *out = handle;
        Some(0)
    })
}

/// Takes another reference on `ctx`; returns `ctx` (NULL for NULL).
#[no_mangle]
pub unsafe extern "C" fn ndctl_ref(ctx: *mut ndctl_ctx) -> *mut ndctl_ctx {
    guard!(std::ptr::null_mut(), {
        live!(ctx).refcount.fetch_add(1, Ordering::Relaxed);
        Some(ctx)
    })
}

/// Drops a reference; the last one releases the context and every object, string and
/// libdaxctl object obtained through it. Always returns NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_unref(ctx: *mut ndctl_ctx) -> *mut ndctl_ctx {
    guard!(std::ptr::null_mut(), {
        let c = live!(ctx);
        if c.refcount.fetch_sub(1, Ordering::AcqRel) > 1 {
            return Some(std::ptr::null_mut());
        }
        c.log(LOG_INFO, &format!("context {ctx:p} released"));
        unregister(ctx);
        // Nothing may reach the callback with this handle once it is freed.
        c.ctx.logger().set_sink(Arc::new(Silent));
        c.daxctl().release();
        // SAFETY: the last reference: the handle came from Box::into_raw in ndctl_new and
        // is no longer registered anywhere.
        drop(unsafe { Box::from_raw(ctx) });
        Some(std::ptr::null_mut())
    })
}

/// Installs a logging callback (NULL restores the default: stderr).
#[no_mangle]
pub unsafe extern "C" fn ndctl_set_log_fn(
    ctx: *mut ndctl_ctx,
    log_fn: Option<
        unsafe extern "C" fn(
            ctx: *mut ndctl_ctx,
            priority: c_int,
            file: *const c_char,
            line: c_int,
            func: *const c_char,
            format: *const c_char,
            args: va_list,
        ),
    >,
) {
    guard_void!({
        let c = live!(ctx);
        let log_fn: Option<LogFn<ndctl_ctx>> = log_fn;
        c.set_sink(log_fn);
        let addr = log_fn.map_or(std::ptr::null(), |f| f as *const c_void);
        c.log(LOG_INFO, &format!("custom logging function {addr:p} registered"));
    })
}

/// The log priority (syslog level); -EINVAL for a NULL context.
#[no_mangle]
pub unsafe extern "C" fn ndctl_get_log_priority(ctx: *mut ndctl_ctx) -> c_int {
    guard!(-libc::EINVAL, Some(live!(ctx).priority()))
}

/// Sets the log priority (also of the context's libdaxctl context, if one exists).
#[no_mangle]
pub unsafe extern "C" fn ndctl_set_log_priority(ctx: *mut ndctl_ctx, priority: c_int) {
    guard_void!(live!(ctx).set_priority(priority))
}

/// Stores a pointer for logging callbacks.
#[no_mangle]
pub unsafe extern "C" fn ndctl_set_userdata(ctx: *mut ndctl_ctx, userdata: *mut c_void) {
    guard_void!(live!(ctx).userdata.store(userdata, Ordering::Relaxed))
}

/// The pointer stored by `ndctl_set_userdata()` (NULL for a NULL context).
#[no_mangle]
pub unsafe extern "C" fn ndctl_get_userdata(ctx: *mut ndctl_ctx) -> *mut c_void {
    guard!(std::ptr::null_mut(), Some(live!(ctx).userdata.load(Ordering::Relaxed)))
}

/// Stores a second, independent user pointer.
#[no_mangle]
pub unsafe extern "C" fn ndctl_set_private_data(ctx: *mut ndctl_ctx, data: *mut c_void) {
    guard_void!(live!(ctx).private_data.store(data, Ordering::Relaxed))
}

/// The pointer stored by `ndctl_set_private_data()` (NULL for a NULL context).
#[no_mangle]
pub unsafe extern "C" fn ndctl_get_private_data(ctx: *mut ndctl_ctx) -> *mut c_void {
    guard!(std::ptr::null_mut(), Some(live!(ctx).private_data.load(Ordering::Relaxed)))
}

/// Forgets cached attributes and rescans the buses; existing objects stay valid.
#[no_mangle]
pub unsafe extern "C" fn ndctl_invalidate(ctx: *mut ndctl_ctx) {
    guard_void!(crate::handles::value(live!(ctx).ctx.invalidate()))
}

/// Sets the configuration directory (a copy is kept). -EINVAL for NULL arguments.
#[no_mangle]
pub unsafe extern "C" fn ndctl_set_config_path(
    ctx: *mut ndctl_ctx, config_path: *mut c_char,
) -> c_int {
    guard!(-libc::EINVAL, {
        let c = live!(ctx);
        // Kept among the context's strings under an owner no object has.
        c.intern(0, "config_path", &str_arg!(config_path).to_string_lossy());
        Some(0)
    })
}

/// The configuration directory, `/etc/ndctl.conf.d` unless set (NULL for a NULL context).
#[no_mangle]
pub unsafe extern "C" fn ndctl_get_config_path(ctx: *mut ndctl_ctx) -> *const c_char {
    guard!(std::ptr::null(), {
        let g = lock(&live!(ctx).strings);
        Some(
            g.current.get(&(0, "config_path")).map_or(DEFAULT_CONFIG_PATH.as_ptr(), |s| s.as_ptr()),
        )
    })
}

/// The context's libdaxctl context, created on first use from libdaxctl.so.1; NULL (with a
/// logged reason) when libdaxctl cannot be loaded.
#[no_mangle]
pub unsafe extern "C" fn ndctl_get_daxctl_ctx(ctx: *mut ndctl_ctx) -> *mut crate::dax::daxctl_ctx {
    guard!(std::ptr::null_mut(), live!(ctx).daxctl_object(|state, priority| state.ctx(priority)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_keep_old_copies_alive() {
        let mut s = Strings::default();
        let a = s.get((1, "k"), "one");
        assert_eq!(s.get((1, "k"), "one"), a, "same value, same pointer");
        let b = s.get((1, "k"), "two");
        assert_ne!(a, b);
        assert_eq!(s.retired.len(), 1);
        // SAFETY: both pointers are owned by `s`, which is alive.
        unsafe {
            assert_eq!(CStr::from_ptr(a), c"one");
            assert_eq!(CStr::from_ptr(b), c"two");
        }
        let n = s.get((2, "k"), "a\0b");
        // SAFETY: owned by `s`.
        assert_eq!(unsafe { CStr::from_ptr(n) }, c"ab");
    }
}

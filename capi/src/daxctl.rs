//! libdaxctl, loaded at run time.
//!
//! libndctl hands out libdaxctl objects (`ndctl_get_daxctl_ctx()`,
//! `ndctl_dax_get_daxctl_region()`). Linking libdaxctl would make it a hard dependency of
//! every libndctl user, so it is opened with `dlopen("libdaxctl.so.1")` the first time one of
//! those functions is called; where it is not installed they return NULL and the context logs
//! why.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::sync::OnceLock;

/// The soname libndctl itself links against.
const SONAME: &CStr = c"libdaxctl.so.1";

type NewFn = unsafe extern "C" fn(*mut *mut c_void) -> c_int;
type UnrefFn = unsafe extern "C" fn(*mut c_void);
type SetPriorityFn = unsafe extern "C" fn(*mut c_void, c_int);
type NewRegionFn = unsafe extern "C" fn(*mut c_void, c_int, *mut u8, *const c_char) -> *mut c_void;

/// The libdaxctl functions libndctl uses.
pub(crate) struct Lib {
    new: NewFn,
    unref: UnrefFn,
    set_log_priority: SetPriorityFn,
    new_region: NewRegionFn,
    region_unref: UnrefFn,
}

static LIB: OnceLock<Result<Lib, String>> = OnceLock::new();

/// libdaxctl, or why it cannot be used.
pub(crate) fn lib() -> Result<&'static Lib, &'static str> {
    LIB.get_or_init(load).as_ref().map_err(String::as_str)
}

fn load() -> Result<Lib, String> {
    // SAFETY: dlopen with a NUL-terminated name; the handle is kept for the life of the
    // process (never dlclose'd), so the function pointers below stay valid.
    let handle = unsafe { libc::dlopen(SONAME.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if handle.is_null() {
        return Err(dl_error("cannot load libdaxctl.so.1"));
    }
    let sym = |name: &CStr| -> Result<*mut c_void, String> {
        // SAFETY: valid handle and NUL-terminated symbol name.
        let p = unsafe { libc::dlsym(handle, name.as_ptr()) };
        if p.is_null() {
            Err(dl_error(&format!("libdaxctl.so.1 lacks {}", name.to_string_lossy())))
        } else {
            Ok(p)
        }
    };
    // SAFETY: each symbol is the libdaxctl function of that name, whose C prototype the
    // corresponding type alias spells out.
    unsafe {
        Ok(Lib {
            new: std::mem::transmute::<*mut c_void, NewFn>(sym(c"daxctl_new")?),
            unref: std::mem::transmute::<*mut c_void, UnrefFn>(sym(c"daxctl_unref")?),
            set_log_priority: std::mem::transmute::<*mut c_void, SetPriorityFn>(sym(
                c"daxctl_set_log_priority",
            )?),
            new_region: std::mem::transmute::<*mut c_void, NewRegionFn>(sym(c"daxctl_new_region")?),
            region_unref: std::mem::transmute::<*mut c_void, UnrefFn>(sym(c"daxctl_region_unref")?),
        })
    }
}

fn dl_error(what: &str) -> String {
    // SAFETY: dlerror returns NULL or a NUL-terminated message owned by libdl.
    let detail = unsafe { libc::dlerror().as_ref().map(|e| CStr::from_ptr(e).to_string_lossy()) };
    detail.filter(|d| !d.is_empty()).map_or_else(|| what.to_string(), |d| format!("{what}: {d}"))
}

/// The libdaxctl state of one ndctl context: its `struct daxctl_ctx` and the
/// `struct daxctl_region` of each dax device asked for (keyed by the dax handle address).
#[derive(Default)]
pub(crate) struct State {
    ctx: usize,
    regions: Vec<(usize, usize)>,
    /// The reason libdaxctl is unavailable was already logged at error priority.
    reported: bool,
}

impl State {
    /// The daxctl context, created on first use with the given log priority.
    pub(crate) fn ctx(&mut self, priority: c_int) -> Result<*mut c_void, String> {
        if self.ctx != 0 {
            return Ok(self.ctx as *mut c_void);
        }
        let lib = lib().map_err(str::to_string)?;
        let mut c: *mut c_void = std::ptr::null_mut();
        // SAFETY: daxctl_new writes a new context through the out pointer.
        let rc = unsafe { (lib.new)(&mut c) };
        if rc < 0 || c.is_null() {
            return Err(format!("daxctl_new failed: {rc}"));
        }
        // SAFETY: c is the live context just created.
        unsafe { (lib.set_log_priority)(c, priority) };
        self.ctx = c as usize;
        Ok(c)
    }

    /// Whether the unavailability must still be logged at error priority (first time only).
    pub(crate) fn first_report(&mut self) -> bool {
        !std::mem::replace(&mut self.reported, true)
    }

    /// Forwards a log priority to the daxctl context, if there is one.
    pub(crate) fn set_priority(&self, priority: c_int) {
        if self.ctx == 0 {
            return;
        }
        if let Ok(lib) = lib() {
            // SAFETY: self.ctx is a live daxctl context created by this state.
            unsafe { (lib.set_log_priority)(self.ctx as *mut c_void, priority) };
        }
    }

    /// The daxctl region of the dax device `owner`, created once from the device's host
    /// path, the region id and the dax uuid, as libndctl does.
    pub(crate) fn region(
        &mut self, priority: c_int, owner: usize, id: u32, uuid: &uuid::Uuid,
        path: &std::path::Path,
    ) -> Result<*mut c_void, String> {
        if let Some(&(_, r)) = self.regions.iter().find(|&&(o, _)| o == owner) {
            return Ok(r as *mut c_void);
        }
        let ctx = self.ctx(priority)?;
        let lib = lib().map_err(str::to_string)?;
        let id = c_int::try_from(id).map_err(|_| format!("region id {id} out of range"))?;
        let path = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| format!("{}: path contains NUL", path.display()))?;
        let mut uu = *uuid.as_bytes();
        // SAFETY: live context, 16-byte uuid buffer, NUL-terminated path; libdaxctl copies
        // what it keeps.
        let r = unsafe { (lib.new_region)(ctx, id, uu.as_mut_ptr(), path.as_ptr()) };
        if r.is_null() {
            return Err(format!("daxctl_new_region({}) failed", path.to_string_lossy()));
        }
        self.regions.push((owner, r as usize));
        Ok(r)
    }

    /// Drops the regions and the context (when the ndctl context is released).
    pub(crate) fn release(&mut self) {
        let Ok(lib) = lib() else { return };
        for (_, r) in self.regions.drain(..) {
            // SAFETY: each region was created by daxctl_new_region and is released once.
            unsafe { (lib.region_unref)(r as *mut c_void) };
        }
        if self.ctx != 0 {
            // SAFETY: the context was created by daxctl_new and is released once.
            unsafe { (lib.unref)(self.ctx as *mut c_void) };
            self.ctx = 0;
        }
    }
}

//! Commands (groups `cmd: generic`, `cmd: config-area / labels` and `cmd: vendor-specific`
//! of `libndctl.tsv`): `struct ndctl_cmd` is a reference-counted [`ndctl::Command`].
//!
//! A builder that libndctl makes fail (command not advertised, source command not
//! completed) returns NULL and logs the reason at debug priority, as libndctl does.

use std::collections::BTreeSet;
use std::ffi::{c_int, c_uint, c_ulong, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use ndctl::cmd::DimmLabels;
use ndctl::labels::Version;

use crate::ctypes::{ndctl_namespace_version, ssize_t};
use crate::handles::{ndctl_dimm, status};
use crate::state::Table;

/// `struct ndctl_cmd`: a command and its reference count.
pub struct ndctl_cmd {
    refs: AtomicUsize,
    cmd: Mutex<ndctl::Command>,
    /// The logger of the context the command's bus or DIMM belongs to, kept apart from the
    /// command so that finding it never takes the command's lock.
    logger: Arc<ndctl::logging::Logger>,
}

impl ndctl_cmd {
    /// The command, locked for the duration of one export.
    pub(crate) fn get(&self) -> MutexGuard<'_, ndctl::Command> {
        self.cmd.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl crate::handles::Handle for ndctl_cmd {
    /// A command logs through the context of the bus or DIMM it was built for.
    fn logger(&self) -> Option<Arc<ndctl::logging::Logger>> {
        Some(Arc::clone(&self.logger))
    }
}

/// The addresses of the commands C holds references to.
///
/// ndctl 76's `inject-smart` drops its last command twice (the `out:` path unrefs the
/// command the last injection already released). libndctl survives that by decrementing
/// a counter in freed heap memory; here an unref of a command that is no longer live is
/// recognised and ignored instead of touching freed memory.
static LIVE_CMDS: Mutex<BTreeSet<usize>> = Mutex::new(BTreeSet::new());

fn live_cmds() -> MutexGuard<'static, BTreeSet<usize>> {
    LIVE_CMDS.lock().unwrap_or_else(|p| p.into_inner())
}

/// Hands a built command to C with one reference, or logs why there is none (NULL).
pub(crate) fn new_cmd(func: &'static str, r: ndctl::Result<ndctl::Command>) -> *mut ndctl_cmd {
    match r {
        Ok(cmd) => {
            let p = Box::into_raw(Box::new(ndctl_cmd {
                refs: AtomicUsize::new(1),
                logger: Arc::clone(cmd.target().bus().device().sysfs().logger()),
                cmd: Mutex::new(cmd),
            }));
            live_cmds().insert(p as usize);
            p
        }
        Err(e) => {
            crate::log::call_log(::log::Level::Debug, func, format_args!("{e}"));
            std::ptr::null_mut()
        }
    }
}

/// An owning `Arc` of the object behind a handle of the object layer (handles are
/// `Arc::as_ptr` of objects their context keeps alive).
///
/// # Safety
/// `p` must be NULL or a live object handle.
pub(crate) unsafe fn arc_of<T>(p: *mut T) -> Option<Arc<T>> {
    if p.is_null() {
        return None;
    }
    // SAFETY: `p` came from `Arc::as_ptr` of an Arc that is still alive (the caller's
    // contract), so taking one more strong reference and owning it is sound.
    unsafe {
        Arc::increment_strong_count(p.cast_const());
        Some(Arc::from_raw(p.cast_const()))
    }
}

/// The submission result as libndctl's `int`.
fn submitted(func: &'static str, r: ndctl::Result<u32>) -> c_int {
    match r {
        Ok(n) => c_int::try_from(n).unwrap_or(c_int::MAX),
        Err(e) => {
            // The crate already logged an unusable node at error priority.
            crate::log::call_log(::log::Level::Debug, func, format_args!("{e}"));
            e.errno()
        }
    }
}

fn ssize(v: usize) -> ssize_t {
    ssize_t::try_from(v).unwrap_or(ssize_t::MAX)
}

/// Takes another reference on `cmd`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_ref(cmd: *mut ndctl_cmd) {
    guard_void!({
        live!(cmd).refs.fetch_add(1, Ordering::Relaxed);
        Some(())
    })
}

/// Drops a reference on `cmd`; the last one frees it. A command already freed (a second
/// unref of the last reference, see `LIVE_CMDS`) is left alone.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_unref(cmd: *mut ndctl_cmd) {
    guard_void!(|f| {
        // The set's lock is held across the decrement so that a concurrent last unref
        // cannot free the command between the membership test and the decrement.
        let mut live = live_cmds();
        if !cmd.is_null() && !live.contains(&(cmd as usize)) {
            crate::log::call_log(
                ::log::Level::Debug,
                f,
                format_args!("{cmd:p}: not a live command (already released)"),
            );
            return Some(());
        }
        if live!(cmd).refs.fetch_sub(1, Ordering::AcqRel) == 1 {
            live.remove(&(cmd as usize));
            drop(live);
            // SAFETY: the last reference: `cmd` came from Box::into_raw in `new_cmd` and
            // nobody else holds it any more.
            drop(unsafe { Box::from_raw(cmd) });
        }
        Some(())
    })
}

/// The `ND_CMD_*` number of `cmd`; -EINVAL for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_get_type(cmd: *mut ndctl_cmd) -> c_int {
    guard!(-libc::EINVAL, {
        Some(c_int::try_from(live!(cmd).get().cmd_type()).unwrap_or(c_int::MAX))
    })
}

/// 1 built, 0 success, -errno, or the residual byte count; -EINVAL for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_get_status(cmd: *mut ndctl_cmd) -> c_int {
    guard!(-libc::EINVAL, Some(live!(cmd).get().status()))
}

/// The firmware's status word; UINT_MAX for NULL or a command without one.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_get_firmware_status(cmd: *mut ndctl_cmd) -> c_uint {
    guard!(c_uint::MAX, Some(live!(cmd).get().firmware_status()))
}

/// The firmware status as a negative errno by the DIMM family's rules; 0 when there are
/// none (bus commands); -EINVAL for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_xlat_firmware_status(cmd: *mut ndctl_cmd) -> c_int {
    guard!(-libc::EINVAL, Some(live!(cmd).get().xlat_firmware_status()))
}

/// Sends `cmd` to the kernel: 0, the residual byte count, or -errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_submit(cmd: *mut ndctl_cmd) -> c_int {
    guard!(-libc::EINVAL, |f| Some(submitted(
        f,
        live!(cmd).get().submit()
    )))
}

/// [`ndctl_cmd_submit`], then a failing firmware status translated to -errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_submit_xlat(cmd: *mut ndctl_cmd) -> c_int {
    guard!(-libc::EINVAL, |f| {
        let mut c = live!(cmd).get();
        let rc = submitted(f, c.submit());
        if rc < 0 {
            return Some(rc);
        }
        Some(match c.xlat_firmware_status() {
            0 => rc,
            x => x,
        })
    })
}

/// A config-size command for `dimm`; NULL when the DIMM does not offer `get_size`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_cmd_new_cfg_size(dimm: *mut ndctl_dimm) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), |f| {
        // SAFETY: the export's contract: NULL or a live handle.
        let d = unsafe { arc_of(dimm) }?;
        Some(new_cmd(f, d.cfg_size()))
    })
}

/// A read of the whole config area from a completed config-size command.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_cmd_new_cfg_read(cfg_size: *mut ndctl_cmd) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), |f| {
        Some(new_cmd(f, live!(cfg_size).get().cfg_read()))
    })
}

/// A write of the extent of a completed read, sharing its data.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_cmd_new_cfg_write(cfg_read: *mut ndctl_cmd) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), |f| {
        Some(new_cmd(f, live!(cfg_read).get().cfg_write()))
    })
}

/// The config area size of a completed config-size command; 0 otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_cfg_size_get_size(cfg_size: *mut ndctl_cmd) -> c_uint {
    guard!(
        0,
        Some(live!(cfg_size).get().cfg_size_get_size().unwrap_or(0))
    )
}

fn set_extent(
    func: &'static str,
    cmd: &ndctl_cmd,
    kind: ndctl::cmd::Kind,
    len: c_uint,
    offset: c_uint,
) -> c_int {
    let mut c = cmd.get();
    if c.kind() != kind {
        return -libc::EINVAL;
    }
    status(func, c.cfg_set_extent(len, offset))
}

/// Restricts an unsubmitted read to `len` bytes at `offset`; -EINVAL otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_cfg_read_set_extent(
    cfg_read: *mut ndctl_cmd,
    len: c_uint,
    offset: c_uint,
) -> c_int {
    guard!(-libc::EINVAL, |f| {
        Some(set_extent(
            f,
            live!(cfg_read),
            ndctl::cmd::Kind::CfgRead,
            len,
            offset,
        ))
    })
}

/// Restricts an unsubmitted write to `len` bytes at `offset`; -EINVAL otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_cfg_write_set_extent(
    cfg_write: *mut ndctl_cmd,
    len: c_uint,
    offset: c_uint,
) -> c_int {
    guard!(-libc::EINVAL, |f| {
        Some(set_extent(
            f,
            live!(cfg_write),
            ndctl::cmd::Kind::CfgWrite,
            len,
            offset,
        ))
    })
}

/// Copies up to `len` bytes at config-area offset `offset` of a completed read into `buf`:
/// the bytes copied, the read's -errno, or -EINVAL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_cfg_read_get_data(
    cfg_read: *mut ndctl_cmd,
    buf: *mut c_void,
    len: c_uint,
    offset: c_uint,
) -> ssize_t {
    guard!(-(libc::EINVAL as ssize_t), {
        let c = live!(cfg_read).get();
        if c.kind() == ndctl::cmd::Kind::CfgRead && c.status() < 0 {
            return Some(c.status() as ssize_t);
        }
        if buf.is_null() {
            return Some(-(libc::EINVAL as ssize_t));
        }
        // Only the bytes inside the extent are touched, as in libndctl: `len` may exceed
        // the caller's buffer when the extent ends first.
        let n = c.cfg_clamp(len, offset).unwrap_or(0);
        let mut tmp = vec![0u8; n];
        Some(match c.cfg_read_data(&mut tmp, offset) {
            Ok(got) => {
                // SAFETY: `got` <= n <= the bytes libndctl would write at `buf`.
                unsafe { std::ptr::copy_nonoverlapping(tmp.as_ptr(), buf.cast::<u8>(), got) };
                ssize(got)
            }
            Err(e) => e.errno() as ssize_t,
        })
    })
}

/// Bytes covered by a completed read; its -errno; -EINVAL otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_cfg_read_get_size(cfg_read: *mut ndctl_cmd) -> ssize_t {
    guard!(-(libc::EINVAL as ssize_t), {
        Some(match live!(cfg_read).get().cfg_read_size() {
            Ok(n) => n as ssize_t,
            Err(e) => e.errno() as ssize_t,
        })
    })
}

/// Puts `len` bytes from `buf` at config-area offset `offset` into an unsubmitted write:
/// the bytes taken or -EINVAL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_cfg_write_set_data(
    cfg_write: *mut ndctl_cmd,
    buf: *mut c_void,
    len: c_uint,
    offset: c_uint,
) -> ssize_t {
    guard!(-(libc::EINVAL as ssize_t), {
        let mut c = live!(cfg_write).get();
        if buf.is_null() {
            return Some(-(libc::EINVAL as ssize_t));
        }
        let n = c.cfg_clamp(len, offset).unwrap_or(0);
        // SAFETY: libndctl reads exactly the `n` bytes inside the extent from `buf`.
        let src = unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), n) };
        Some(match c.cfg_write_data(src, offset) {
            Ok(n) => ssize(n),
            Err(e) => e.errno() as ssize_t,
        })
    })
}

/// Zeroes the extent of an unsubmitted write: the bytes zeroed or -EINVAL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_cfg_write_zero_data(cfg_write: *mut ndctl_cmd) -> ssize_t {
    guard!(-(libc::EINVAL as ssize_t), {
        Some(match live!(cfg_write).get().cfg_write_zero() {
            Ok(n) => ssize(n),
            Err(e) => e.errno() as ssize_t,
        })
    })
}

/// Completed read of `len` bytes at `offset` of the config area (all of it for 0, 0);
/// NULL on failure.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_read_label_extent(
    dimm: *mut ndctl_dimm,
    len: c_uint,
    offset: c_uint,
) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), |f| {
        // SAFETY: the export's contract: NULL or a live handle.
        let d = unsafe { arc_of(dimm) }?;
        let r = d.read_label_extent(len, offset);
        // A read of the whole area is also the DIMM's label state, as in libndctl.
        if len == 0 && offset == 0 {
            remember_labels(&d, &r, None);
        }
        Some(new_cmd(f, r))
    })
}

/// Completed read of the whole config area; NULL on failure.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_read_labels(dimm: *mut ndctl_dimm) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), |f| {
        // SAFETY: the export's contract: NULL or a live handle.
        let d = unsafe { arc_of(dimm) }?;
        let r = d.read_labels();
        remember_labels(&d, &r, None);
        Some(new_cmd(f, r))
    })
}

/// Completed read of the two namespace index blocks; NULL on failure.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_read_label_index(dimm: *mut ndctl_dimm) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), |f| {
        // SAFETY: the export's contract: NULL or a live handle.
        let d = unsafe { arc_of(dimm) }?;
        let r = d.read_label_index();
        // libndctl sizes the index read with 128-byte labels and keeps that size.
        remember_labels(&d, &r, Some(128));
        Some(new_cmd(f, r))
    })
}

/// libndctl's zeroing, step by step for its error codes: -EINVAL when the read fails,
/// -EBUSY while the DIMM is active, -ENOTTY without a write command, -ENXIO when the data
/// cannot be zeroed, then the write's and the re-enable's own errors.
fn zero_extent(func: &'static str, d: &Arc<ndctl::Dimm>, len: c_uint, offset: c_uint) -> c_int {
    let step = |code: c_int, e: ndctl::Error| {
        crate::log::call_log(::log::Level::Debug, func, format_args!("{e}"));
        code
    };
    let read = match d.read_label_extent(len, offset) {
        Ok(r) => r,
        Err(e) => return step(-libc::EINVAL, e),
    };
    match d.is_active() {
        Ok(false) => {}
        Ok(true) => {
            crate::log::call_log(
                ::log::Level::Debug,
                func,
                format_args!("{}: regions active, abort label write", d.devname()),
            );
            return -libc::EBUSY;
        }
        Err(e) => return step(e.errno(), e),
    }
    let mut write = match read.cfg_write() {
        Ok(w) => w,
        Err(e) => return step(-libc::ENOTTY, e),
    };
    if let Err(e) = write.cfg_write_zero() {
        return step(-libc::ENXIO, e);
    }
    match write.submit_xlat() {
        Ok(_) => {}
        Err(e) => return step(e.errno(), e),
    }
    if !d.is_enabled() {
        return 0;
    }
    status(func, d.disable().and_then(|()| d.enable()))
}

/// Zeroes `len` bytes at `offset` of the config area (all for 0, 0): 0, -EBUSY while the
/// DIMM is active, or -errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_zero_label_extent(
    dimm: *mut ndctl_dimm,
    len: c_uint,
    offset: c_uint,
) -> c_int {
    guard!(-libc::EINVAL, |f| {
        // SAFETY: the export's contract: NULL or a live handle.
        let d = unsafe { arc_of(dimm) }?;
        Some(zero_extent(f, &d, len, offset))
    })
}

/// Zeroes the whole config area.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_zero_labels(dimm: *mut ndctl_dimm) -> c_int {
    guard!(-libc::EINVAL, |f| {
        // SAFETY: the export's contract: NULL or a live handle.
        let d = unsafe { arc_of(dimm) }?;
        Some(zero_extent(f, &d, 0, 0))
    })
}

/// Free label slots the kernel reports (`available_slots`); ULONG_MAX with errno set when
/// unknown.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_available_labels(dimm: *mut ndctl_dimm) -> c_ulong {
    guard!(c_ulong::MAX, {
        let r = live!(dimm).available_labels();
        let errno = match r {
            Ok(Some(n)) => return Some(c_ulong::from(n)),
            Ok(None) => libc::ENXIO,
            Err(e) => -e.errno(),
        };
        // SAFETY: errno is thread-local and always writable.
        unsafe { *libc::__errno_location() = errno };
        None
    })
}

/// A vendor pass-through command; NULL when the DIMM does not offer `vendor`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_cmd_new_vendor_specific(
    dimm: *mut ndctl_dimm,
    opcode: c_uint,
    input_size: usize,
    output_size: usize,
) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), |f| {
        // SAFETY: the export's contract: NULL or a live handle.
        let d = unsafe { arc_of(dimm) }?;
        Some(new_cmd(f, d.vendor_cmd(opcode, input_size, output_size)))
    })
}

/// Copies up to `len` bytes of input into a vendor command: the bytes taken or -EINVAL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_vendor_set_input(
    cmd: *mut ndctl_cmd,
    buf: *mut c_void,
    len: c_uint,
) -> ssize_t {
    guard!(-(libc::EINVAL as ssize_t), {
        let mut c = live!(cmd).get();
        if buf.is_null() {
            return Some(-(libc::EINVAL as ssize_t));
        }
        let n = c.vendor_input_len().unwrap_or(0).min(len as usize);
        // SAFETY: libndctl reads min(len, input size) bytes from `buf`.
        let src = unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), n) };
        Some(match c.vendor_set_input(src) {
            Ok(n) => ssize(n),
            Err(e) => e.errno() as ssize_t,
        })
    })
}

/// The output size of a completed vendor command; its status when not 0 (libndctl);
/// -EINVAL for another command.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_vendor_get_output_size(cmd: *mut ndctl_cmd) -> ssize_t {
    guard!(-(libc::EINVAL as ssize_t), {
        let c = live!(cmd).get();
        if c.kind() != ndctl::cmd::Kind::Vendor {
            return Some(-(libc::EINVAL as ssize_t));
        }
        if c.status() != 0 {
            return Some(c.status() as ssize_t);
        }
        Some(
            c.vendor_output()
                .map_or(-(libc::EINVAL as ssize_t), |o| ssize(o.len())),
        )
    })
}

/// Copies up to `len` output bytes of a completed vendor command: the bytes copied, or
/// what [`ndctl_cmd_vendor_get_output_size`] returns when negative.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_vendor_get_output(
    cmd: *mut ndctl_cmd,
    buf: *mut c_void,
    len: c_uint,
) -> ssize_t {
    guard!(-(libc::EINVAL as ssize_t), {
        let c = live!(cmd).get();
        if c.kind() != ndctl::cmd::Kind::Vendor {
            return Some(-(libc::EINVAL as ssize_t));
        }
        if c.status() < 0 {
            return Some(c.status() as ssize_t);
        }
        let out = c.vendor_output().ok()?;
        // A non-zero status stands for the output size, as in libndctl.
        let avail = match usize::try_from(c.status()) {
            Ok(0) | Err(_) => out.len(),
            Ok(s) => s.min(out.len()),
        };
        let n = avail.min(len as usize);
        if n > 0 && buf.is_null() {
            return Some(-(libc::EINVAL as ssize_t));
        }
        if n > 0 {
            // SAFETY: the caller provides `len` writable bytes at `buf`; n <= len.
            unsafe { std::ptr::copy_nonoverlapping(out.as_ptr(), buf.cast::<u8>(), n) };
        }
        Some(ssize(n))
    })
}

/// Each DIMM's label state (libndctl's `struct nvdimm_data`), from its last whole-area or
/// index read.
static LABELS: Table<DimmLabels> = Table::new();

fn remember_labels(
    d: &Arc<ndctl::Dimm>,
    r: &ndctl::Result<ndctl::Command>,
    label_size: Option<usize>,
) {
    if let Ok(read) = r {
        if let Ok(state) = read.share().and_then(|c| DimmLabels::new(c, label_size)) {
            LABELS.set(d, state);
        }
    }
}

/// Runs `f` on the DIMM's label state; -EINVAL (logged as libndctl does) without one.
fn with_labels(
    func: &'static str,
    dimm: *mut ndctl_dimm,
    f: impl FnOnce(&mut DimmLabels) -> c_int,
) -> c_int {
    LABELS.get(dimm as usize, f).unwrap_or_else(|| {
        crate::log::call_log(
            ::log::Level::Error,
            func,
            format_args!("needs to be initialized by ndctl_dimm_read_labels"),
        );
        -libc::EINVAL
    })
}

/// Writes two fresh index blocks of version `v` (`NDCTL_NS_VERSION_1_1` / `_1_2`) after
/// `ndctl_dimm_read_labels` (or `_read_label_index`): the number of label slots, or
/// -errno (-EINVAL without a read, -ENXIO when a write fails).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_init_labels(
    dimm: *mut ndctl_dimm,
    v: ndctl_namespace_version,
) -> c_int {
    guard!(-libc::EINVAL, |f| {
        live!(dimm);
        let version = match v {
            0 => Version::V1_1,
            1 => Version::V1_2,
            _ => return Some(-libc::EINVAL),
        };
        Some(with_labels(f, dimm, |state| match state.init(version) {
            Ok(n) => c_int::try_from(n).unwrap_or(c_int::MAX),
            Err(e) => {
                crate::log::call_log(::log::Level::Debug, f, format_args!("{e}"));
                -libc::ENXIO
            }
        }))
    })
}

/// Validates the index blocks read by `ndctl_dimm_read_labels` (or `_read_label_index`):
/// the number of label slots, or -EINVAL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_validate_labels(dimm: *mut ndctl_dimm) -> c_int {
    guard!(-libc::EINVAL, |f| {
        live!(dimm);
        Some(with_labels(f, dimm, |state| match state.validate() {
            Ok(n) => c_int::try_from(n).unwrap_or(c_int::MAX),
            Err(e) => {
                crate::log::call_log(::log::Level::Debug, f, format_args!("{e}"));
                -libc::EINVAL
            }
        }))
    })
}

/// Size of one namespace index block for the DIMM's label area and label size; 0 when
/// the area is too small (or was never read).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_sizeof_namespace_index(dimm: *mut ndctl_dimm) -> c_uint {
    guard!(0, |f| {
        live!(dimm);
        let size = LABELS.get(dimm as usize, |state| state.sizeof_namespace_index());
        Some(match size {
            Some(Ok(n)) => c_uint::try_from(n).unwrap_or(0),
            Some(Err(e)) => {
                crate::log::call_log(::log::Level::Error, f, format_args!("{e}"));
                0
            }
            None => {
                crate::log::call_log(
                    ::log::Level::Error,
                    f,
                    format_args!("label area (0) too small to host labels"),
                );
                0
            }
        })
    })
}

/// The DIMM's namespace label size: 128 (v1.1) or 256 (v1.2), as validated, initialised
/// or probed from the index headers read last; 128 before any read.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_sizeof_namespace_label(dimm: *mut ndctl_dimm) -> c_uint {
    guard!(0, {
        live!(dimm);
        let size = LABELS
            .get(dimm as usize, |state| state.sizeof_namespace_label())
            .unwrap_or(128);
        Some(c_uint::try_from(size).unwrap_or(0))
    })
}

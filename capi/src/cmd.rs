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
use crate::ffi::{in_buf, out_buf};
use crate::handles::*;
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
        lock(&self.cmd)
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

/// Hands a built command to C with one reference, or logs why there is none (NULL).
pub(crate) fn new_cmd(r: ndctl::Result<ndctl::Command>) -> *mut ndctl_cmd {
    match r {
        Ok(cmd) => {
            let p = Box::into_raw(Box::new(ndctl_cmd {
                refs: AtomicUsize::new(1),
                logger: Arc::clone(cmd.target().bus().device().sysfs().logger()),
                cmd: Mutex::new(cmd),
            }));
            lock(&LIVE_CMDS).insert(p as usize);
            p
        }
        Err(e) => debug(&e, std::ptr::null_mut()),
    }
}

/// The submission result as libndctl's `int`.
fn submitted(r: ndctl::Result<u32>) -> c_int {
    // The crate already logged an unusable node at error priority.
    errno_or(r, int)
}

fn ssize(v: usize) -> ssize_t {
    ssize_t::try_from(v).unwrap_or(ssize_t::MAX)
}

/// -EINVAL as the `ssize_t` of the data exports.
const EINVAL: ssize_t = -(libc::EINVAL as ssize_t);

/// A byte count, or the failure's negative errno, as an `ssize_t`.
fn ssize_or(r: ndctl::Result<usize>) -> ssize_t {
    r.map_or_else(|e| e.errno() as ssize_t, ssize)
}

/// Takes another reference on `cmd`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_ref(cmd: *mut ndctl_cmd) {
    guard_void!({
        live!(cmd).refs.fetch_add(1, Ordering::Relaxed);
    })
}

/// Drops a reference on `cmd`; the last one frees it. A command already freed (a second
/// unref of the last reference, see `LIVE_CMDS`) is left alone.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_unref(cmd: *mut ndctl_cmd) {
    guard_void!({
        // The set's lock is held across the decrement so that a concurrent last unref
        // cannot free the command between the membership test and the decrement.
        let mut live = lock(&LIVE_CMDS);
        if !cmd.is_null() && !live.contains(&(cmd as usize)) {
            // Not under the lock: the log goes to the caller's callback, which may make
            // or release commands itself.
            drop(live);
            return debug(
                &format_args!("{cmd:p}: not a live command (already released)"),
                Some(()),
            );
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
    guard!(-libc::EINVAL, Some(int(live!(cmd).get().cmd_type())))
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
    guard!(-libc::EINVAL, Some(submitted(live!(cmd).get().submit())))
}

/// [`ndctl_cmd_submit`], then a failing firmware status translated to -errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_submit_xlat(cmd: *mut ndctl_cmd) -> c_int {
    guard!(-libc::EINVAL, Some(submitted(live!(cmd).get().submit_xlat())))
}

/// A config-size command for `dimm`; NULL when the DIMM does not offer `get_size`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_cmd_new_cfg_size(dimm: *mut ndctl_dimm) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), Some(new_cmd(live_arc!(dimm).cfg_size())))
}

/// A read of the whole config area from a completed config-size command.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_cmd_new_cfg_read(cfg_size: *mut ndctl_cmd) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), Some(new_cmd(live!(cfg_size).get().cfg_read())))
}

/// A write of the extent of a completed read, sharing its data.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_cmd_new_cfg_write(cfg_read: *mut ndctl_cmd) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), Some(new_cmd(live!(cfg_read).get().cfg_write())))
}

/// The config area size of a completed config-size command; 0 otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_cfg_size_get_size(cfg_size: *mut ndctl_cmd) -> c_uint {
    guard!(0, Some(live!(cfg_size).get().cfg_size_get_size().unwrap_or(0)))
}

fn set_extent(cmd: &ndctl_cmd, kind: ndctl::cmd::Kind, len: c_uint, offset: c_uint) -> c_int {
    let mut c = cmd.get();
    if c.kind() == kind {
        status(c.cfg_set_extent(len, offset))
    } else {
        -libc::EINVAL
    }
}

/// Restricts an unsubmitted read to `len` bytes at `offset`; -EINVAL otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_cfg_read_set_extent(
    cfg_read: *mut ndctl_cmd, len: c_uint, offset: c_uint,
) -> c_int {
    guard!(-libc::EINVAL, Some(set_extent(live!(cfg_read), ndctl::cmd::Kind::CfgRead, len, offset)))
}

/// Restricts an unsubmitted write to `len` bytes at `offset`; -EINVAL otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_cfg_write_set_extent(
    cfg_write: *mut ndctl_cmd, len: c_uint, offset: c_uint,
) -> c_int {
    guard!(-libc::EINVAL, {
        Some(set_extent(live!(cfg_write), ndctl::cmd::Kind::CfgWrite, len, offset))
    })
}

/// Copies up to `len` bytes at config-area offset `offset` of a completed read into `buf`:
/// the bytes copied, the read's -errno, or -EINVAL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_cfg_read_get_data(
    cfg_read: *mut ndctl_cmd, buf: *mut c_void, len: c_uint, offset: c_uint,
) -> ssize_t {
    guard!(EINVAL, {
        let c = live!(cfg_read).get();
        if c.kind() == ndctl::cmd::Kind::CfgRead && c.status() < 0 {
            return Some(c.status() as ssize_t);
        }
        // Only the bytes inside the extent are touched, as in libndctl: `len` may exceed
        // the caller's buffer when the extent ends first.
        let n = c.cfg_clamp(len, offset).unwrap_or(0);
        // SAFETY: libndctl writes at most the `n` bytes inside the extent to `buf`.
        Some(ssize_or(c.cfg_read_data(unsafe { out_buf(buf, n) }?, offset)))
    })
}

/// Bytes covered by a completed read; its -errno; -EINVAL otherwise.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_cfg_read_get_size(cfg_read: *mut ndctl_cmd) -> ssize_t {
    guard!(EINVAL, Some(ssize_or(live!(cfg_read).get().cfg_read_size().map(|n| n as usize))))
}

/// Puts `len` bytes from `buf` at config-area offset `offset` into an unsubmitted write:
/// the bytes taken or -EINVAL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_cfg_write_set_data(
    cfg_write: *mut ndctl_cmd, buf: *mut c_void, len: c_uint, offset: c_uint,
) -> ssize_t {
    guard!(EINVAL, {
        let mut c = live!(cfg_write).get();
        let n = c.cfg_clamp(len, offset).unwrap_or(0);
        // SAFETY: libndctl reads exactly the `n` bytes inside the extent from `buf`.
        Some(ssize_or(c.cfg_write_data(unsafe { in_buf(buf, n) }?, offset)))
    })
}

/// Zeroes the extent of an unsubmitted write: the bytes zeroed or -EINVAL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_cfg_write_zero_data(cfg_write: *mut ndctl_cmd) -> ssize_t {
    guard!(EINVAL, Some(ssize_or(live!(cfg_write).get().cfg_write_zero())))
}

/// Completed read of `len` bytes at `offset` of the config area (all of it for 0, 0);
/// NULL on failure.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_read_label_extent(
    dimm: *mut ndctl_dimm, len: c_uint, offset: c_uint,
) -> *mut ndctl_cmd {
    // A read of the whole area is also the DIMM's label state, as in libndctl.
    let whole = len == 0 && offset == 0;
    guard!(std::ptr::null_mut(), {
        read(live_arc!(dimm), |d| d.read_label_extent(len, offset), whole.then_some(None))
    })
}

/// Completed read of the whole config area; NULL on failure.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_read_labels(dimm: *mut ndctl_dimm) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), read(live_arc!(dimm), |d| d.read_labels(), Some(None)))
}

/// Completed read of the two namespace index blocks; NULL on failure.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_read_label_index(dimm: *mut ndctl_dimm) -> *mut ndctl_cmd {
    // libndctl sizes the index read with 128-byte labels and keeps that size.
    guard!(std::ptr::null_mut(), read(live_arc!(dimm), |d| d.read_label_index(), Some(Some(128))))
}

/// Zeroes `len` bytes at `offset` of the config area (all for 0, 0): 0, -EBUSY while the
/// DIMM is active, or -errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_zero_label_extent(
    dimm: *mut ndctl_dimm, len: c_uint, offset: c_uint,
) -> c_int {
    guard!(-libc::EINVAL, Some(status(live_arc!(dimm).zero_label_extent(len, offset))))
}

/// Zeroes the whole config area.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_zero_labels(dimm: *mut ndctl_dimm) -> c_int {
    guard!(-libc::EINVAL, Some(status(live_arc!(dimm).zero_labels())))
}

/// Free label slots the kernel reports (`available_slots`); ULONG_MAX with errno set when
/// unknown.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_available_labels(dimm: *mut ndctl_dimm) -> c_ulong {
    guard!(c_ulong::MAX, {
        match live!(dimm).available_labels() {
            Ok(Some(n)) => Some(c_ulong::from(n)),
            Ok(None) => crate::ffi::set_errno(libc::ENXIO),
            Err(e) => crate::ffi::set_errno(-e.errno()),
        }
    })
}

/// A vendor pass-through command; NULL when the DIMM does not offer `vendor`.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_cmd_new_vendor_specific(
    dimm: *mut ndctl_dimm, opcode: c_uint, input_size: usize, output_size: usize,
) -> *mut ndctl_cmd {
    guard!(std::ptr::null_mut(), {
        Some(new_cmd(live_arc!(dimm).vendor_cmd(opcode, input_size, output_size)))
    })
}

/// Copies up to `len` bytes of input into a vendor command: the bytes taken or -EINVAL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_vendor_set_input(
    cmd: *mut ndctl_cmd, buf: *mut c_void, len: c_uint,
) -> ssize_t {
    guard!(EINVAL, {
        let mut c = live!(cmd).get();
        let n = c.vendor_input_len().unwrap_or(0).min(len as usize);
        // SAFETY: libndctl reads min(len, input size) bytes from `buf`.
        Some(ssize_or(c.vendor_set_input(unsafe { in_buf(buf, n) }?)))
    })
}

/// The output of a completed vendor command as libndctl sizes it (a positive status
/// stands for the output size), or what libndctl returns instead: -EINVAL for another
/// command, the status when negative.
fn vendor_output(c: &ndctl::Command) -> Result<&[u8], ssize_t> {
    if c.kind() != ndctl::cmd::Kind::Vendor {
        return Err(EINVAL);
    }
    let size = usize::try_from(c.status()).map_err(|_| c.status() as ssize_t)?;
    let out = c.vendor_output().map_err(|_| EINVAL)?;
    Ok(if size == 0 { out } else { &out[..size.min(out.len())] })
}

/// The output size of a completed vendor command; its status when not 0 (libndctl);
/// -EINVAL for another command.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_vendor_get_output_size(cmd: *mut ndctl_cmd) -> ssize_t {
    guard!(EINVAL, {
        let c = live!(cmd).get();
        // A positive status is the size itself, as libndctl returns it.
        Some(match (c.kind(), c.status()) {
            (ndctl::cmd::Kind::Vendor, s) if s > 0 => s as ssize_t,
            _ => vendor_output(&c).map_or_else(|e| e, |o| ssize(o.len())),
        })
    })
}

/// Copies up to `len` output bytes of a completed vendor command: the bytes copied, or
/// what [`ndctl_cmd_vendor_get_output_size`] returns when negative.
#[no_mangle]
pub unsafe extern "C" fn ndctl_cmd_vendor_get_output(
    cmd: *mut ndctl_cmd, buf: *mut c_void, len: c_uint,
) -> ssize_t {
    guard!(EINVAL, {
        let c = live!(cmd).get();
        let out = match vendor_output(&c) {
            Ok(out) => &out[..out.len().min(len as usize)],
            Err(e) => return Some(e),
        };
        if !out.is_empty() {
            // SAFETY: the caller provides `len` writable bytes at `buf`; out.len() <= len.
            unsafe { out_buf(buf, out.len()) }?.copy_from_slice(out);
        }
        Some(ssize(out.len()))
    })
}

/// Each DIMM's label state (libndctl's `struct nvdimm_data`), from its last whole-area or
/// index read.
static LABELS: Table<DimmLabels> = Table::new();

/// The command of a label-area read of `d`; the read also becomes the DIMM's label
/// state when `labels` is `Some` (with the label size libndctl fixes for it, if any).
fn read(
    d: Arc<ndctl::Dimm>, read: impl FnOnce(&Arc<ndctl::Dimm>) -> ndctl::Result<ndctl::Command>,
    labels: Option<Option<usize>>,
) -> Option<*mut ndctl_cmd> {
    let r = read(&d);
    if let (Ok(cmd), Some(label_size)) = (&r, labels) {
        if let Ok(state) = cmd.share().and_then(|c| DimmLabels::new(c, label_size)) {
            LABELS.set(&d, state);
        }
    }
    Some(new_cmd(r))
}

/// Runs `f` on the DIMM's label state; -EINVAL (logged as libndctl does) without one.
fn with_labels(dimm: &ndctl_dimm, f: impl FnOnce(&mut DimmLabels) -> c_int) -> c_int {
    let none = || error(&"needs to be initialized by ndctl_dimm_read_labels", -libc::EINVAL);
    LABELS.get(dimm, f).unwrap_or_else(none)
}

/// Writes two fresh index blocks of version `v` (`NDCTL_NS_VERSION_1_1` / `_1_2`) after
/// `ndctl_dimm_read_labels` (or `_read_label_index`): the number of label slots, or
/// -errno (-EINVAL without a read, -ENXIO when a write fails).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_init_labels(
    dimm: *mut ndctl_dimm, v: ndctl_namespace_version,
) -> c_int {
    guard!(-libc::EINVAL, {
        let d = live!(dimm);
        let version = [Version::V1_1, Version::V1_2].get(usize::try_from(v).ok()?).copied()?;
        Some(with_labels(d, |state| or_debug(state.init(version), -libc::ENXIO, int)))
    })
}

/// Validates the index blocks read by `ndctl_dimm_read_labels` (or `_read_label_index`):
/// the number of label slots, or -EINVAL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_validate_labels(dimm: *mut ndctl_dimm) -> c_int {
    guard!(-libc::EINVAL, {
        Some(with_labels(live!(dimm), |state| or_debug(state.validate(), -libc::EINVAL, int)))
    })
}

/// Size of one namespace index block for the DIMM's label area and label size; 0 when
/// the area is too small (or was never read).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_sizeof_namespace_index(dimm: *mut ndctl_dimm) -> c_uint {
    guard!(0, {
        match LABELS.get(live!(dimm), |state| state.sizeof_namespace_index()) {
            Some(size) => value(size).and_then(|n| c_uint::try_from(n).ok()),
            None => error(&"label area (0) too small to host labels", None),
        }
    })
}

/// The DIMM's namespace label size: 128 (v1.1) or 256 (v1.2), as validated, initialised
/// or probed from the index headers read last; 128 before any read.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_sizeof_namespace_label(dimm: *mut ndctl_dimm) -> c_uint {
    let size = |state: &mut DimmLabels| state.sizeof_namespace_label();
    guard!(0, c_uint::try_from(LABELS.get(live!(dimm), size).unwrap_or(128)).ok())
}

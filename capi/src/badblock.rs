//! Known media errors and error injection (group `badblock / error injection` of
//! `libndctl.tsv`).
//!
//! libndctl iterates a region's or namespace's `badblocks` attribute with a cursor kept in
//! the object. Here `..._get_first_badblock` reads the whole list at once (no file stays
//! open between calls, so iterating costs no descriptors) into a cursor keyed by the
//! object's handle; the returned `struct badblock *` points into that cursor and is
//! overwritten by the next call, as libndctl's is. The injected-error list of a namespace
//! (`struct ndctl_bb`) is kept the same way and accumulates across
//! `ndctl_namespace_injection_status` calls, merged, like libndctl's.

use std::collections::HashMap;
use std::ffi::{c_int, c_uint, c_ulonglong};
use std::sync::{Mutex, MutexGuard};

use ndctl::cmd::{merge_injected, InjectFlags};

use crate::ctypes::badblock;
use crate::handles::{flag, ndctl_bus, ndctl_namespace, ndctl_region, report, status};

/// `struct ndctl_bb`: one run of injected errors, in 512-byte blocks of the namespace.
#[derive(Debug, PartialEq, Eq)]
pub struct ndctl_bb {
    block: u64,
    count: u64,
}

/// Where an object's badblock iteration stands.
struct Cursor {
    items: Vec<ndctl::BadBlock>,
    next: usize,
    current: Box<badblock>,
}

fn lock<T>(m: &'static Mutex<T>) -> MutexGuard<'static, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

static CURSORS: Mutex<Option<HashMap<usize, Cursor>>> = Mutex::new(None);
// Boxed so that a run's address (the C handle) survives changes to the list.
#[allow(clippy::vec_box)]
static INJECTED: Mutex<Option<HashMap<usize, Vec<Box<ndctl_bb>>>>> = Mutex::new(None);

fn first_of(
    func: &'static str,
    key: usize,
    list: ndctl::Result<Vec<ndctl::BadBlock>>,
) -> *mut badblock {
    let mut all = lock(&CURSORS);
    let map = all.get_or_insert_with(HashMap::new);
    match list {
        Ok(items) => {
            let c = map.entry(key).or_insert_with(|| Cursor {
                items: Vec::new(),
                next: 0,
                current: Box::default(),
            });
            c.items = items;
            c.next = 0;
            advance(c)
        }
        Err(e) => {
            ::log::debug!(target: func, "{e}");
            map.remove(&key);
            std::ptr::null_mut()
        }
    }
}

fn advance(c: &mut Cursor) -> *mut badblock {
    match c.items.get(c.next) {
        Some(b) => {
            c.next += 1;
            *c.current = badblock {
                offset: b.offset,
                len: b.len,
            };
            &mut *c.current
        }
        None => {
            // Exhausted, like libndctl's closed iterator.
            c.items.clear();
            std::ptr::null_mut()
        }
    }
}

fn next_of(key: usize) -> *mut badblock {
    let mut all = lock(&CURSORS);
    match all.as_mut().and_then(|m| m.get_mut(&key)) {
        Some(c) => advance(c),
        None => std::ptr::null_mut(),
    }
}

/// The first known media error of `region` (re-reading `badblocks`); NULL for none.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_first_badblock(
    region: *mut ndctl_region,
) -> *mut badblock {
    guard!(std::ptr::null_mut(), |f| {
        Some(first_of(f, region as usize, live!(region).badblocks()))
    })
}

/// The next media error of `region` after `ndctl_region_get_first_badblock`; NULL at the end.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_next_badblock(
    region: *mut ndctl_region,
) -> *mut badblock {
    guard!(std::ptr::null_mut(), {
        live!(region);
        Some(next_of(region as usize))
    })
}

/// The first known media error of the block device of `ndns` (raw or fsdax mode); NULL
/// for none, and for BTT and device-dax namespaces.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_get_first_badblock(
    ndns: *mut ndctl_namespace,
) -> *mut badblock {
    guard!(std::ptr::null_mut(), |f| {
        let ns = live!(ndns);
        let list = match ns.dax() {
            Ok(Some(_)) => Ok(Vec::new()),
            Ok(None) => ns.badblocks(),
            Err(e) => Err(e),
        };
        Some(first_of(f, ndns as usize, list))
    })
}

/// The next media error of `ndns`; NULL at the end.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_get_next_badblock(
    ndns: *mut ndctl_namespace,
) -> *mut badblock {
    guard!(std::ptr::null_mut(), {
        live!(ndns);
        Some(next_of(ndns as usize))
    })
}

/// 1 when the bus offers NFIT error injection (inject set, get and clear), else 0.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_has_error_injection(bus: *mut ndctl_bus) -> c_int {
    guard!(0, |f| Some(
        flag(f, live!(bus).has_error_injection()).max(0)
    ))
}

fn inject(
    func: &'static str,
    ns: &ndctl::Namespace,
    block: u64,
    count: u64,
    flags: c_uint,
    on: bool,
) -> c_int {
    let flags = InjectFlags::from_bits(flags);
    let r = if on {
        ns.inject_error(block, count, flags)
    } else {
        ns.uninject_error(block, count, flags)
    };
    // libndctl reports a failed injection (not a bus without injection) as an error.
    if let Err(e @ (ndctl::Error::Io { .. } | ndctl::Error::Firmware { .. })) = &r {
        report(func, e);
    }
    match r {
        // libndctl returns -EINVAL for a zero count (its loop never ran).
        Ok(()) if count == 0 => -libc::EINVAL,
        r => status(func, r),
    }
}

/// Injects media errors into `count` blocks from `block` (flags: bit 0 notify, bit 1
/// saturate): 0 or -errno (-EOPNOTSUPP without error injection).
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_inject_error2(
    ndns: *mut ndctl_namespace,
    block: c_ulonglong,
    count: c_ulonglong,
    flags: c_uint,
) -> c_int {
    guard!(-libc::EINVAL, |f| Some(inject(
        f,
        live!(ndns),
        block,
        count,
        flags,
        true
    )))
}

/// [`ndctl_namespace_inject_error2`] with only the notify option.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_inject_error(
    ndns: *mut ndctl_namespace,
    block: c_ulonglong,
    count: c_ulonglong,
    notify: bool,
) -> c_int {
    guard!(-libc::EINVAL, |f| {
        Some(inject(
            f,
            live!(ndns),
            block,
            count,
            c_uint::from(notify),
            true,
        ))
    })
}

/// Removes injected errors from `count` blocks from `block`: 0 or -errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_uninject_error2(
    ndns: *mut ndctl_namespace,
    block: c_ulonglong,
    count: c_ulonglong,
    flags: c_uint,
) -> c_int {
    guard!(-libc::EINVAL, |f| Some(inject(
        f,
        live!(ndns),
        block,
        count,
        flags,
        false
    )))
}

/// [`ndctl_namespace_uninject_error2`] without options.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_uninject_error(
    ndns: *mut ndctl_namespace,
    block: c_ulonglong,
    count: c_ulonglong,
) -> c_int {
    guard!(-libc::EINVAL, |f| Some(inject(
        f,
        live!(ndns),
        block,
        count,
        0,
        false
    )))
}

/// Queries the platform's injected errors inside `ndns` and merges them into the
/// namespace's list: 0 or -errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_injection_status(ndns: *mut ndctl_namespace) -> c_int {
    guard!(-libc::EINVAL, |f| {
        let runs = match live!(ndns).injection_status() {
            Ok(r) => r,
            Err(e) => return Some(status(f, Err(e))),
        };
        let mut all = lock(&INJECTED);
        let list = all
            .get_or_insert_with(HashMap::new)
            .entry(ndns as usize)
            .or_default();
        let mut merged: Vec<(u64, u64)> = list.iter().map(|b| (b.block, b.count)).collect();
        for (b, c) in runs {
            merge_injected(&mut merged, b, c);
        }
        // Entries that did not change keep their address (a caller may hold one).
        let mut old: Vec<Box<ndctl_bb>> = std::mem::take(list);
        for (block, count) in merged {
            let bb = match old
                .iter()
                .position(|o| o.block == block && o.count == count)
            {
                Some(i) => old.swap_remove(i),
                None => Box::new(ndctl_bb { block, count }),
            };
            list.push(bb);
        }
        Some(0)
    })
}

/// The first injected-error run of `ndns` (after `ndctl_namespace_injection_status`);
/// NULL for none.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_injection_get_first_bb(
    ndns: *mut ndctl_namespace,
) -> *mut ndctl_bb {
    guard!(std::ptr::null_mut(), {
        live!(ndns);
        let mut all = lock(&INJECTED);
        let list = all.as_mut().and_then(|m| m.get_mut(&(ndns as usize)));
        Some(
            list.and_then(|l| l.first_mut())
                .map_or(std::ptr::null_mut(), |b| &mut **b as *mut _),
        )
    })
}

/// The injected-error run after `bb`; NULL at the end.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_injection_get_next_bb(
    ndns: *mut ndctl_namespace,
    bb: *mut ndctl_bb,
) -> *mut ndctl_bb {
    guard!(std::ptr::null_mut(), {
        live!(ndns);
        let mut all = lock(&INJECTED);
        let list = all.as_mut().and_then(|m| m.get_mut(&(ndns as usize)))?;
        let at = list.iter().position(|b| std::ptr::eq(&**b, bb))?;
        Some(
            list.get_mut(at + 1)
                .map_or(std::ptr::null_mut(), |b| &mut **b as *mut _),
        )
    })
}

/// First block of an injected-error run; ULLONG_MAX with errno EINVAL for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bb_get_block(bb: *mut ndctl_bb) -> c_ulonglong {
    guard!(c_ulonglong::MAX, {
        if bb.is_null() {
            // SAFETY: errno is thread-local and always writable.
            unsafe { *libc::__errno_location() = libc::EINVAL };
        }
        Some(live!(bb).block)
    })
}

/// Blocks in an injected-error run; ULLONG_MAX with errno EINVAL for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bb_get_count(bb: *mut ndctl_bb) -> c_ulonglong {
    guard!(c_ulonglong::MAX, {
        if bb.is_null() {
            // SAFETY: errno is thread-local and always writable.
            unsafe { *libc::__errno_location() = libc::EINVAL };
        }
        Some(live!(bb).count)
    })
}

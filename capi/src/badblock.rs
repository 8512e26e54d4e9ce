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

use std::any::Any;
use std::ffi::{c_int, c_uint, c_ulonglong};
use std::sync::Arc;

use ndctl::cmd::{merge_injected, InjectFlags};

use crate::ctypes::badblock;
use crate::handles::*;
use crate::state::Table;

/// `struct ndctl_bb`: one run of injected errors, in 512-byte blocks of the namespace.
#[derive(Debug, PartialEq, Eq)]
pub struct ndctl_bb {
    block: u64,
    count: u64,
}

// A badblock record belongs to no context: its getters log nothing of their own.
impl crate::handles::Handle for ndctl_bb {}

/// Where an object's badblock iteration stands.
struct Cursor {
    items: Vec<ndctl::BadBlock>,
    next: usize,
    current: Box<badblock>,
}

static CURSORS: Table<Cursor> = Table::new();
// Boxed so that a run's address (the C handle) survives changes to the list.
#[allow(clippy::vec_box)]
static INJECTED: Table<Vec<Box<ndctl_bb>>> = Table::new();

/// Starts `owner`'s iteration over the media errors `list` reads: the first one.
fn first_of<T: Any + Send + Sync>(
    owner: Arc<T>, list: fn(&T) -> ndctl::Result<Vec<ndctl::BadBlock>>,
) -> *mut badblock {
    let items = quiet(list(&owner)).unwrap_or_default();
    let new = || Cursor { items: Vec::new(), next: 0, current: Box::default() };
    CURSORS.upsert(&owner, new, |c| {
        c.items = items;
        c.next = 0;
        advance(c)
    })
}

fn advance(c: &mut Cursor) -> *mut badblock {
    match c.items.get(c.next) {
        Some(b) => {
            c.next += 1;
            *c.current = badblock { offset: b.offset, len: b.len };
            &mut *c.current
        }
        None => {
            // Exhausted, like libndctl's closed iterator.
            c.items.clear();
            std::ptr::null_mut()
        }
    }
}

/// The next media error of `owner`'s iteration.
fn next_of<T>(owner: &T) -> *mut badblock {
    CURSORS.get(owner, advance).unwrap_or(std::ptr::null_mut())
}

/// The media errors of a namespace's block device: none for device-dax, which has none.
fn block_badblocks(ns: &ndctl::Namespace) -> ndctl::Result<Vec<ndctl::BadBlock>> {
    ns.dax()?.map_or_else(|| ns.badblocks(), |_| Ok(Vec::new()))
}

/// What an `ndctl_bb` getter reads; ULLONG_MAX with errno EINVAL for NULL, as libndctl.
fn bb_field(bb: *mut ndctl_bb, get: fn(&ndctl_bb) -> u64) -> Option<c_ulonglong> {
    Some(get(maybe!(bb).or_else(|| crate::ffi::set_errno(libc::EINVAL))?))
}

/// The first known media error of `region` (re-reading `badblocks`); NULL for none.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_first_badblock(
    region: *mut ndctl_region,
) -> *mut badblock {
    guard!(std::ptr::null_mut(), Some(first_of(live_arc!(region), |r| r.badblocks())))
}

/// The next media error of `region` after `ndctl_region_get_first_badblock`; NULL at the end.
#[no_mangle]
pub unsafe extern "C" fn ndctl_region_get_next_badblock(
    region: *mut ndctl_region,
) -> *mut badblock {
    guard!(std::ptr::null_mut(), Some(next_of(live!(region))))
}

/// The first known media error of the block device of `ndns` (raw or fsdax mode); NULL
/// for none, and for BTT and device-dax namespaces.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_get_first_badblock(
    ndns: *mut ndctl_namespace,
) -> *mut badblock {
    guard!(std::ptr::null_mut(), Some(first_of(live_arc!(ndns), block_badblocks)))
}

/// The next media error of `ndns`; NULL at the end.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_get_next_badblock(
    ndns: *mut ndctl_namespace,
) -> *mut badblock {
    guard!(std::ptr::null_mut(), Some(next_of(live!(ndns))))
}

/// 1 when the bus offers NFIT error injection (inject set, get and clear), else 0.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bus_has_error_injection(bus: *mut ndctl_bus) -> c_int {
    guard!(0, Some(flag(live!(bus).has_error_injection()).max(0)))
}

fn inject(ns: &ndctl::Namespace, block: u64, count: u64, flags: c_uint, on: bool) -> c_int {
    let op = if on { ndctl::Namespace::inject_error } else { ndctl::Namespace::uninject_error };
    let r = op(ns, block, count, InjectFlags::from_bits(flags));
    // libndctl reports a failed injection (not a bus without injection) as an error.
    if let Err(e @ (ndctl::Error::Io { .. } | ndctl::Error::Firmware { .. })) = &r {
        error(&e, ());
    }
    match r {
        // libndctl returns -EINVAL for a zero count (its loop never ran).
        Ok(()) if count == 0 => -libc::EINVAL,
        r => status(r),
    }
}

/// Injects media errors into `count` blocks from `block` (flags: bit 0 notify, bit 1
/// saturate): 0 or -errno (-EOPNOTSUPP without error injection).
///
/// Differs from libndctl on a namespace without a resource (not configured, or a
/// disabled raw namespace): -EINVAL here, where libndctl adds the block offset to
/// `ULLONG_MAX`, wraps around, passes its bounds check and asks the platform to inject
/// at that bogus address (nfit_test accepts it: 0). Same for `uninject` and
/// `injection_status` (libndctl queries from the wrapped address and finds nothing: 0).
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_inject_error2(
    ndns: *mut ndctl_namespace, block: c_ulonglong, count: c_ulonglong, flags: c_uint,
) -> c_int {
    guard!(-libc::EINVAL, Some(inject(live!(ndns), block, count, flags, true)))
}

/// [`ndctl_namespace_inject_error2`] with only the notify option.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_inject_error(
    ndns: *mut ndctl_namespace, block: c_ulonglong, count: c_ulonglong, notify: bool,
) -> c_int {
    guard!(-libc::EINVAL, Some(inject(live!(ndns), block, count, c_uint::from(notify), true)))
}

/// Removes injected errors from `count` blocks from `block`: 0 or -errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_uninject_error2(
    ndns: *mut ndctl_namespace, block: c_ulonglong, count: c_ulonglong, flags: c_uint,
) -> c_int {
    guard!(-libc::EINVAL, Some(inject(live!(ndns), block, count, flags, false)))
}

/// [`ndctl_namespace_uninject_error2`] without options.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_uninject_error(
    ndns: *mut ndctl_namespace, block: c_ulonglong, count: c_ulonglong,
) -> c_int {
    guard!(-libc::EINVAL, Some(inject(live!(ndns), block, count, 0, false)))
}

/// Queries the platform's injected errors inside `ndns` and merges them into the
/// namespace's list: 0 or -errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_injection_status(ndns: *mut ndctl_namespace) -> c_int {
    guard!(-libc::EINVAL, {
        let ns = live_arc!(ndns);
        Some(errno_or(ns.injection_status(), |runs| {
            INJECTED.upsert(&ns, Vec::new, |list| merge_into(list, runs));
            0
        }))
    })
}

/// Merges fresh runs into a namespace's list like libndctl; runs that did not change keep
/// their address (a caller may hold one).
#[allow(clippy::vec_box)]
fn merge_into(list: &mut Vec<Box<ndctl_bb>>, runs: Vec<(u64, u64)>) {
    let mut merged: Vec<(u64, u64)> = list.iter().map(|b| (b.block, b.count)).collect();
    for (b, c) in runs {
        merge_injected(&mut merged, b, c);
    }
    let mut old: Vec<Box<ndctl_bb>> = std::mem::take(list);
    for (block, count) in merged {
        let bb = match old.iter().position(|o| o.block == block && o.count == count) {
            Some(i) => old.swap_remove(i),
            None => Box::new(ndctl_bb { block, count }),
        };
        list.push(bb);
    }
}

/// The first injected-error run of `ndns` (after `ndctl_namespace_injection_status`);
/// NULL for none.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_injection_get_first_bb(
    ndns: *mut ndctl_namespace,
) -> *mut ndctl_bb {
    let first = |l: &mut Vec<Box<ndctl_bb>>| l.first_mut().map(|b| &mut **b as *mut ndctl_bb);
    guard!(std::ptr::null_mut(), INJECTED.get(live!(ndns), first).flatten())
}

/// The injected-error run after `bb`; NULL at the end.
#[no_mangle]
pub unsafe extern "C" fn ndctl_namespace_injection_get_next_bb(
    ndns: *mut ndctl_namespace, bb: *mut ndctl_bb,
) -> *mut ndctl_bb {
    guard!(std::ptr::null_mut(), {
        INJECTED.get(live!(ndns), |list| {
            let at = list.iter().position(|b| std::ptr::eq(&**b, bb))?;
            Some(list.get_mut(at + 1).map_or(std::ptr::null_mut(), |b| &mut **b as *mut _))
        })?
    })
}

/// First block of an injected-error run; ULLONG_MAX with errno EINVAL for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bb_get_block(bb: *mut ndctl_bb) -> c_ulonglong {
    guard!(c_ulonglong::MAX, bb_field(bb, |b| b.block))
}

/// Blocks in an injected-error run; ULLONG_MAX with errno EINVAL for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_bb_get_count(bb: *mut ndctl_bb) -> c_ulonglong {
    guard!(c_ulonglong::MAX, bb_field(bb, |b| b.count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_keeps_unchanged_runs_in_place() {
        let mut list = Vec::new();
        merge_into(&mut list, vec![(2, 1), (10, 2)]);
        let kept: *const ndctl_bb = &*list[1];
        merge_into(&mut list, vec![(3, 1), (40, 1)]);
        let runs: Vec<(u64, u64)> = list.iter().map(|b| (b.block, b.count)).collect();
        assert_eq!(runs, vec![(2, 2), (10, 2), (40, 1)]);
        assert!(std::ptr::eq(kept, &*list[1]), "unchanged run moved");
    }

    #[test]
    fn state_of_a_dropped_object_is_forgotten() {
        static T: Table<u32> = Table::new();
        let a = Arc::new(5u64);
        let key = Arc::as_ptr(&a) as usize;
        T.upsert(&a, || 1, |v| *v += 1);
        assert_eq!(T.get(&*a, |v| *v), Some(2));
        drop(a);
        assert_eq!(T.get_at(key, |v| *v), None);
        let b = Arc::new(6u64);
        T.upsert(&b, || 7, |_| ());
        assert_eq!(T.len(), 1, "dead entry purged");
    }
}

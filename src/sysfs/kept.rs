//! Attribute files kept open between calls, so that a value libndctl re-reads on every
//! call (`holder`, `mode`, seeds, `wait_probe`, ...) costs one `pread(2)` instead of an
//! open, a read and a close.
//!
//! A read at offset 0 of an open sysfs attribute makes the kernel produce the value again
//! (kernfs restarts its `show()` for a read from the start), so a kept descriptor gives
//! the value of the moment, not a copy. A removed attribute, or one of a removed device,
//! answers `ENODEV` through a descriptor opened before: the path is then opened again
//! (a device of the same name made since is a new file).
//!
//! Outside sysfs (the generated and captured trees the tests and benchmarks use) a file
//! may be replaced by an unlink or a rename while its old inode stays readable; there a
//! kept descriptor is checked with `fstat` before each reuse (still a regular file, still
//! linked), and dropped otherwise.
//!
//! At most [`CAPACITY`] descriptors per context, the most recently read kept; all are
//! `O_CLOEXEC` and closed with the context.

use std::collections::VecDeque;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;
use std::sync::Mutex;

/// How many attribute files a context keeps open. A caller reads a few attributes of
/// one device, then of the next (a namespace's `holder` and `mode`, its bus's
/// `wait_probe`, its region's seeds): a handful of slots catches the repeats.
pub(crate) const CAPACITY: usize = 16;

/// One kept attribute file.
#[derive(Debug)]
struct Slot {
    /// The in-root path's bytes (compared as bytes: `Path`'s `==` walks components).
    path: Box<[u8]>,
    file: File,
    /// On sysfs, where a removed attribute answers `ENODEV` and nothing is replaced
    /// in place: no check before a reuse.
    sysfs: bool,
}

/// The kept descriptors of one context, most recently used first.
#[derive(Debug, Default)]
pub(crate) struct Kept {
    slots: Mutex<VecDeque<Slot>>,
}

/// Whether `file` lives on sysfs (one `fstatfs`).
pub(crate) fn on_sysfs(file: &File) -> bool {
    super::root::fs_of(file.as_raw_fd()) == super::root::SysFs::Sysfs
}

/// Whether a file outside sysfs may still be read as the path's value: a regular file
/// that is still linked.
fn still_in_place(file: &File) -> bool {
    file.metadata()
        .map(|m| m.file_type().is_file() && m.nlink() > 0)
        .unwrap_or(false)
}

/// One read of at most `limit` bytes from the start of `file`.
pub(crate) fn read_from_start(file: &File, limit: usize) -> io::Result<Vec<u8>> {
    super::root::read_exact_size(limit, |buf| file.read_at(buf, 0))
}

/// What a kept descriptor gave.
pub(crate) enum Reuse {
    /// No usable descriptor for the path: open it.
    Open,
    /// The read through the kept descriptor (an error other than "gone").
    Read(io::Result<Vec<u8>>),
}

impl Kept {
    fn slots(&self) -> std::sync::MutexGuard<'_, VecDeque<Slot>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads `path` through its kept descriptor, if there is one still standing for it.
    /// The descriptor is taken out while it is read (no lock is held across the call)
    /// and put back first in line unless the file is gone.
    pub(crate) fn read(&self, path: &Path, limit: usize) -> Reuse {
        let slot = {
            let mut g = self.slots();
            let key = path.as_os_str().as_bytes();
            match g.iter().position(|s| &*s.path == key) {
                Some(i) => g.remove(i),
                None => None,
            }
        };
        let Some(slot) = slot else {
            return Reuse::Open;
        };
        if !slot.sysfs && !still_in_place(&slot.file) {
            return Reuse::Open;
        }
        match read_from_start(&slot.file, limit) {
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::ENODEV | libc::ENOENT | libc::ESTALE)
                ) =>
            {
                Reuse::Open
            }
            r => {
                self.put(slot);
                Reuse::Read(r)
            }
        }
    }

    /// Keeps `file`, just opened and read as `path` (`sysfs`: what [`on_sysfs`] said of
    /// it), first in line; the least recently read descriptor beyond [`CAPACITY`] is
    /// closed.
    pub(crate) fn keep(&self, path: &Path, file: File, sysfs: bool) {
        self.put(Slot {
            path: path.as_os_str().as_bytes().into(),
            file,
            sysfs,
        });
    }

    fn put(&self, slot: Slot) {
        let evicted = {
            let mut g = self.slots();
            g.retain(|s| s.path != slot.path);
            g.push_front(slot);
            if g.len() > CAPACITY {
                g.pop_back()
            } else {
                None
            }
        };
        drop(evicted);
    }

    /// Closes the kept descriptors of files in `dir` (the device was invalidated: its
    /// next reads open afresh).
    pub(crate) fn forget_in(&self, dir: &Path) {
        let dir = dir.as_os_str().as_bytes();
        let in_dir = |p: &[u8]| {
            p.strip_prefix(dir)
                .and_then(|rest| rest.strip_prefix(b"/"))
                .is_some_and(|name| !name.contains(&b'/'))
        };
        let mut gone = Vec::new();
        {
            let mut g = self.slots();
            while let Some(i) = g.iter().position(|s| in_dir(&s.path)) {
                gone.extend(g.remove(i));
            }
        }
        drop(gone);
    }

    /// How many descriptors are kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.slots().len()
    }
}

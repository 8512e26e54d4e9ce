//! Batched attribute reads through io_uring: many `open`, `read`, `close` triples in one
//! system call.
//!
//! Each file is one linked chain: `OPENAT2` into a fixed-file slot, a `READ` of that slot
//! and a `CLOSE` of it. The read is hard-linked to the close, because a short read (every
//! attribute read is one: the buffer is larger than the value) severs an ordinary link and
//! would cancel the close. Every chain of a batch goes to the kernel in one
//! `io_uring_enter`.
//!
//! A [`Ring`] belongs to one context (no process-wide state but the fork counter, which
//! only tells a forked child not to use its parent's ring). Everything the kernel may
//! still touch while requests are in flight (names, `open_how`, buffers) is owned by the
//! ring, so a ring whose wait failed is leaked rather than freed under the kernel.

use std::ffi::CString;
use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

use io_uring::{opcode, squeue, types, IoUring};

/// Chains per submission (and fixed-file slots). Three entries each.
const SLOTS: u32 = 32;

/// Counts forks, so that a child does not submit to the ring it inherited: its copy of
/// the ring's memory is no longer the one the kernel reads.
static FORKS: AtomicU64 = AtomicU64::new(0);
static FORK_HOOK: Once = Once::new();

extern "C" fn after_fork_in_child() {
    FORKS.fetch_add(1, Ordering::Relaxed);
}

/// An io_uring with [`SLOTS`] sparse fixed-file slots, and the memory its requests use.
pub(crate) struct Ring {
    ring: IoUring,
    forks: u64,
    how: Box<types::OpenHow>,
    names: Vec<CString>,
    bufs: Vec<u8>,
    limit: usize,
}

impl std::fmt::Debug for Ring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ring").field("slots", &SLOTS).finish()
    }
}

/// What one chain gave: the bytes read, or the errno of the open or the read.
pub(crate) type Outcome = Result<Vec<u8>, io::Error>;

impl Ring {
    /// A ring whose reads take at most `limit` bytes per file. Fails where io_uring is
    /// missing or forbidden (ENOSYS, a seccomp EPERM, `kernel.io_uring_disabled`), lacks
    /// sparse file tables (before 5.19), or cannot open into a fixed slot: the probe opens
    /// `probe_dir` (a directory descriptor) into a slot and closes it.
    pub(crate) fn new(limit: usize, probe_dir: RawFd) -> io::Result<Ring> {
        FORK_HOOK.call_once(|| {
            // SAFETY: registers a handler that only increments an atomic.
            unsafe { libc::pthread_atfork(None, None, Some(after_fork_in_child)) };
        });
        let ring = IoUring::new(SLOTS * 4)?;
        ring.submitter().register_files_sparse(SLOTS)?;
        let mut r = Ring {
            ring,
            forks: FORKS.load(Ordering::Relaxed),
            how: Box::new(types::OpenHow::new()),
            names: Vec::new(),
            bufs: vec![0; SLOTS as usize * limit],
            limit,
        };
        let dot = CString::new(".").map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        match r.read_at(probe_dir, &[dot], libc::O_PATH, 0)?.pop() {
            // A path-only descriptor cannot be read: EBADF from the read proves the open
            // into the slot worked and the chain ran.
            Some(Err(e)) if e.raw_os_error() == Some(libc::EBADF) => Ok(r),
            Some(Ok(_)) => Ok(r),
            Some(Err(e)) => Err(e),
            None => Err(io::Error::from_raw_os_error(libc::EIO)),
        }
    }

    /// Whether this ring may be used by the current process (false in a forked child).
    pub(crate) fn usable(&self) -> bool {
        self.forks == FORKS.load(Ordering::Relaxed)
    }

    /// Opens every name relative to `dirfd` with `openat2(flags, resolve)`, reads it once
    /// into a buffer of the ring's limit and closes it. One entry per name, in order.
    ///
    /// An `Err` of the whole call means the kernel refused the submission or the wait;
    /// requests may still be in flight, so the caller must not use or drop the ring again
    /// (see [`Ring::abandon`]).
    pub(crate) fn read_at(
        &mut self,
        dirfd: RawFd,
        names: &[CString],
        flags: libc::c_int,
        resolve: u64,
    ) -> io::Result<Vec<Outcome>> {
        // No O_CLOEXEC: a direct (fixed-slot) descriptor has no close-on-exec flag, and
        // the kernel refuses it there with EINVAL.
        *self.how = types::OpenHow::new().flags(flags as u64).resolve(resolve);
        let mut out = Vec::with_capacity(names.len());
        for chunk in names.chunks(SLOTS as usize) {
            self.names.clear();
            self.names.extend(chunk.iter().cloned());
            out.extend(self.submit_chunk(dirfd)?);
        }
        Ok(out)
    }

    fn submit_chunk(&mut self, dirfd: RawFd) -> io::Result<Vec<Outcome>> {
        let n = self.names.len();
        let limit = self.limit;
        {
            let mut sq = self.ring.submission();
            for (i, name) in self.names.iter().enumerate() {
                let slot = i as u32;
                let dest = types::DestinationSlot::try_from_slot_target(slot)
                    .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
                let open = opcode::OpenAt2::new(types::Fd(dirfd), name.as_ptr(), &*self.how)
                    .file_index(Some(dest))
                    .build()
                    .flags(squeue::Flags::IO_LINK)
                    .user_data(tag(i, Op::Open));
                // SAFETY: the buffer slice belongs to the ring and outlives the request.
                let buf = unsafe { self.bufs.as_mut_ptr().add(i * limit) };
                let read = opcode::Read::new(types::Fixed(slot), buf, limit as u32)
                    .build()
                    .flags(squeue::Flags::IO_HARDLINK)
                    .user_data(tag(i, Op::Read));
                let close = opcode::Close::new(types::Fixed(slot))
                    .build()
                    .user_data(tag(i, Op::Close));
                // SAFETY: every pointer in the entries (name, open_how, buffer) is owned by
                // the ring and stays valid until the completions are reaped below, or
                // forever if the ring is abandoned.
                unsafe {
                    sq.push_multiple(&[open, read, close])
                        .map_err(|_| io::Error::from_raw_os_error(libc::EBUSY))?;
                }
            }
        }
        let mut opened: Vec<Option<i32>> = vec![None; n];
        let mut read: Vec<Option<i32>> = vec![None; n];
        let mut seen = 0;
        let want = 3 * n;
        let mut first = true;
        while seen < want {
            let r = if first {
                self.ring.submit_and_wait(want - seen)
            } else {
                self.ring.submitter().submit_and_wait(want - seen)
            };
            match r {
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
                Err(e) => return Err(e),
            }
            first = false;
            for cqe in self.ring.completion() {
                seen += 1;
                let (i, op) = untag(cqe.user_data());
                if i >= n {
                    continue;
                }
                match op {
                    Op::Open => opened[i] = Some(cqe.result()),
                    Op::Read => read[i] = Some(cqe.result()),
                    Op::Close => {}
                }
            }
        }
        Ok((0..n)
            .map(|i| match (opened[i], read[i]) {
                (Some(o), _) if o < 0 => Err(io::Error::from_raw_os_error(-o)),
                (_, Some(r)) if r < 0 => Err(io::Error::from_raw_os_error(-r)),
                (_, Some(r)) => {
                    let start = i * limit;
                    Ok(self.bufs[start..start + (r as usize).min(limit)].to_vec())
                }
                _ => Err(io::Error::from_raw_os_error(libc::EIO)),
            })
            .collect())
    }

    /// Whether `path` (relative to `dirfd`) can be opened with `openat2(flags, resolve)`:
    /// an open into a slot hard-linked to its close, in one `io_uring_enter`. `Ok(())`
    /// when it opened, else the open's errno. Same contract as [`Ring::read_at`] for an
    /// `Err` of the submission itself, which comes back as `Err(Err(..))`.
    pub(crate) fn open_close_at(
        &mut self,
        dirfd: RawFd,
        path: CString,
        flags: libc::c_int,
        resolve: u64,
    ) -> io::Result<io::Result<()>> {
        *self.how = types::OpenHow::new().flags(flags as u64).resolve(resolve);
        self.names.clear();
        self.names.push(path);
        let dest = types::DestinationSlot::try_from_slot_target(0)
            .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        let open = opcode::OpenAt2::new(types::Fd(dirfd), self.names[0].as_ptr(), &*self.how)
            .file_index(Some(dest))
            .build()
            .flags(squeue::Flags::IO_HARDLINK)
            .user_data(tag(0, Op::Open));
        let close = opcode::Close::new(types::Fixed(0))
            .build()
            .user_data(tag(0, Op::Close));
        // SAFETY: the name and open_how are owned by the ring (see submit_chunk).
        unsafe {
            self.ring
                .submission()
                .push_multiple(&[open, close])
                .map_err(|_| io::Error::from_raw_os_error(libc::EBUSY))?;
        }
        let mut opened = None;
        let mut seen = 0;
        let mut first = true;
        while seen < 2 {
            let r = if first {
                self.ring.submit_and_wait(2 - seen)
            } else {
                self.ring.submitter().submit_and_wait(2 - seen)
            };
            match r {
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
                Err(e) => return Err(e),
            }
            first = false;
            for cqe in self.ring.completion() {
                seen += 1;
                if let (0, Op::Open) = untag(cqe.user_data()) {
                    opened = Some(cqe.result());
                }
            }
        }
        Ok(match opened {
            Some(r) if r < 0 => Err(io::Error::from_raw_os_error(-r)),
            Some(_) => Ok(()),
            None => Err(io::Error::from_raw_os_error(libc::EIO)),
        })
    }

    /// Gives up a ring whose requests may still be in flight: its memory is never freed,
    /// because the kernel may still write into it.
    pub(crate) fn abandon(self: Box<Self>) {
        Box::leak(self);
    }
}

#[derive(Clone, Copy)]
enum Op {
    Open,
    Read,
    Close,
}

fn tag(i: usize, op: Op) -> u64 {
    (i as u64) << 2 | op as u64
}

fn untag(v: u64) -> (usize, Op) {
    let op = match v & 3 {
        0 => Op::Open,
        1 => Op::Read,
        _ => Op::Close,
    };
    ((v >> 2) as usize, op)
}

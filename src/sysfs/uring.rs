//! Batched attribute reads through io_uring: the opens and closes of many files in one
//! system call, the reads in between made inline with `read(2)`.
//!
//! A batch is one `io_uring_enter` that submits an `OPENAT2` per file (each relative to
//! the same directory descriptor) together with the `CLOSE`s of the previous batch's
//! descriptors, then one `read(2)` per opened file. Its own descriptors stay open until
//! the next submission closes them (or the ring is dropped): at most one batch's worth
//! ([`CHUNK`] files and their directory), all `O_CLOEXEC`, and one `io_uring_enter` per
//! batch instead of two. The reads are not submitted to the
//! ring: sysfs (kernfs) and tmpfs files cannot be read without blocking, so io_uring
//! hands every such read to an io-wq worker thread, and the thread switch per file costs
//! more CPU than the system calls it saves (measured: the walker's system time doubled).
//! On sysfs the opens go to io-wq too (kernfs dentries are revalidated only outside RCU
//! walk, which io_uring's inline open cannot leave), so a context whose `sys` is sysfs
//! makes no ring at all; the ring serves trees on tmpfs and other file systems.
//!
//! A [`Ring`] belongs to one context (no process-wide state but the fork counter, which
//! only tells a forked child not to use its parent's ring). Everything the kernel may
//! still read while requests are in flight (names, `open_how`) is owned by the ring, so a
//! ring whose wait failed is leaked rather than freed under the kernel.

use std::ffi::CString;
use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

use io_uring::{opcode, squeue, types, IoUring};

/// Opens per submission.
const CHUNK: usize = 32;

/// Counts forks, so that a child does not submit to the ring it inherited: its copy of
/// the ring's memory is no longer the one the kernel reads.
static FORKS: AtomicU64 = AtomicU64::new(0);
static FORK_HOOK: Once = Once::new();

extern "C" fn after_fork_in_child() {
    FORKS.fetch_add(1, Ordering::Relaxed);
}

/// An io_uring, the memory its requests use, and the descriptors waiting to be closed.
pub(crate) struct Ring {
    ring: IoUring,
    forks: u64,
    how: Box<types::OpenHow>,
    names: Vec<CString>,
    /// The most a read takes.
    limit: usize,
    /// Descriptors read and done with, closed by the next submission or on drop.
    to_close: Vec<RawFd>,
}

impl std::fmt::Debug for Ring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ring")
            .field("to_close", &self.to_close.len())
            .finish()
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        for fd in self.to_close.drain(..) {
            // SAFETY: a descriptor the ring's open returned and nobody else owns.
            unsafe { libc::close(fd) };
        }
    }
}

/// What one file gave: the bytes read, or the errno of the open or the read.
pub(crate) type Outcome = Result<Vec<u8>, io::Error>;

impl Ring {
    /// A ring whose reads take at most `limit` bytes per file. Fails where io_uring is
    /// missing or forbidden (ENOSYS, a seccomp EPERM, `kernel.io_uring_disabled`) or
    /// cannot open files (before 5.6): the probe opens `probe_dir` (a directory
    /// descriptor) through the ring.
    pub(crate) fn new(limit: usize, probe_dir: RawFd) -> io::Result<Ring> {
        FORK_HOOK.call_once(|| {
            // SAFETY: registers a handler that only increments an atomic.
            unsafe { libc::pthread_atfork(None, None, Some(after_fork_in_child)) };
        });
        let ring = IoUring::new(4 * CHUNK as u32)?;
        let mut r = Ring {
            ring,
            forks: FORKS.load(Ordering::Relaxed),
            how: Box::new(types::OpenHow::new()),
            names: Vec::new(),
            limit,
            to_close: Vec::new(),
        };
        let dot = CString::new(".").map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        r.open_close_at(probe_dir, dot, libc::O_PATH, 0)??;
        Ok(r)
    }

    /// Whether this ring may be used by the current process (false in a forked child).
    pub(crate) fn usable(&self) -> bool {
        self.forks == FORKS.load(Ordering::Relaxed)
    }

    /// Opens every name relative to `dirfd` with `openat2(flags | O_CLOEXEC, resolve)`
    /// (all in one submission per [`CHUNK`] names, which also closes the descriptors
    /// waiting from before) and reads each once into a buffer of the ring's limit. One
    /// entry per name, in order. The descriptors wait for the next submission to close
    /// them.
    ///
    /// An `Err` of the whole call means the kernel refused the submission or the wait;
    /// requests may still be in flight, so the caller must not use or drop the ring again
    /// (see [`Ring::abandon`]).
    ///
    /// With `close_dir`, `dirfd` itself is closed with them: the caller hands it over
    /// (whatever the result: after an `Err` it may or may not be closed, so it must not
    /// be used or closed again).
    pub(crate) fn read_at(
        &mut self,
        dirfd: RawFd,
        names: &[CString],
        flags: libc::c_int,
        resolve: u64,
        close_dir: bool,
    ) -> io::Result<Vec<Outcome>> {
        *self.how = types::OpenHow::new()
            .flags((flags | libc::O_CLOEXEC) as u64)
            .resolve(resolve);
        let mut out = Vec::with_capacity(names.len());
        for chunk in names.chunks(CHUNK) {
            self.names.clear();
            self.names.extend(chunk.iter().cloned());
            for opened in self.open_chunk(dirfd)? {
                out.push(opened.and_then(|fd| self.read_and_keep(fd)));
            }
        }
        if close_dir {
            self.to_close.push(dirfd);
        }
        Ok(out)
    }

    /// One `read(2)` of `fd` of at most the ring's limit; `fd` waits to be closed.
    fn read_and_keep(&mut self, fd: RawFd) -> Outcome {
        self.to_close.push(fd);
        super::root::read_exact_size(self.limit, |buf| {
            // SAFETY: the buffer is writable for its full length.
            let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
            usize::try_from(n).map_err(|_| io::Error::last_os_error())
        })
    }

    /// Submits the pending closes and an open of every name in `self.names`; the
    /// descriptors (or errnos) of the opens, in order.
    fn open_chunk(&mut self, dirfd: RawFd) -> io::Result<Vec<io::Result<RawFd>>> {
        let mut entries = Vec::with_capacity(self.to_close.len() + self.names.len());
        for fd in self.to_close.drain(..) {
            entries.push(
                opcode::Close::new(types::Fd(fd))
                    .build()
                    .user_data(tag(0, Op::Close)),
            );
        }
        for (i, name) in self.names.iter().enumerate() {
            entries.push(
                opcode::OpenAt2::new(types::Fd(dirfd), name.as_ptr(), &*self.how)
                    .build()
                    .user_data(tag(i, Op::Open)),
            );
        }
        let n = self.names.len();
        let mut opened: Vec<io::Result<RawFd>> = (0..n)
            .map(|_| Err(io::Error::from_raw_os_error(libc::EIO)))
            .collect();
        // SAFETY: the names and open_how the entries point to are owned by the ring.
        for (i, op, res) in unsafe { self.run(&entries)? } {
            if op == Op::Open && i < n {
                opened[i] = if res < 0 {
                    Err(io::Error::from_raw_os_error(-res))
                } else {
                    Ok(res)
                };
            }
        }
        Ok(opened)
    }

    /// Whether `path` (relative to `dirfd`) can be opened with `openat2(flags, resolve)`,
    /// in one `io_uring_enter` (the descriptor waits for the next one to close it). `Ok(())`
    /// when it opened, else the open's errno. Same contract as [`Ring::read_at`] for an
    /// `Err` of the submission itself, which comes back as `Err(..)` of the outer result.
    pub(crate) fn open_close_at(
        &mut self,
        dirfd: RawFd,
        path: CString,
        flags: libc::c_int,
        resolve: u64,
    ) -> io::Result<io::Result<()>> {
        *self.how = types::OpenHow::new()
            .flags((flags | libc::O_CLOEXEC) as u64)
            .resolve(resolve);
        self.names.clear();
        self.names.push(path);
        Ok(match self.open_chunk(dirfd)?.pop() {
            Some(Ok(fd)) => {
                self.to_close.push(fd);
                Ok(())
            }
            Some(Err(e)) => Err(e),
            None => Err(io::Error::from_raw_os_error(libc::EIO)),
        })
    }

    /// Submits `entries` and waits for all their completions: `(index, op, result)`.
    ///
    /// # Safety
    /// Every pointer in the entries must stay valid until the completions are reaped,
    /// or forever if this returns an error (the caller then abandons the ring).
    unsafe fn run(&mut self, entries: &[squeue::Entry]) -> io::Result<Vec<(usize, Op, i32)>> {
        let mut out = Vec::with_capacity(entries.len());
        if entries.is_empty() {
            return Ok(out);
        }
        // SAFETY: as the caller guarantees.
        unsafe {
            self.ring
                .submission()
                .push_multiple(entries)
                .map_err(|_| io::Error::from_raw_os_error(libc::EBUSY))?;
        }
        let want = entries.len();
        let mut first = true;
        while out.len() < want {
            let r = if first {
                self.ring.submit_and_wait(want - out.len())
            } else {
                self.ring.submitter().submit_and_wait(want - out.len())
            };
            match r {
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
                Err(e) => return Err(e),
            }
            first = false;
            for cqe in self.ring.completion() {
                let (i, op) = untag(cqe.user_data());
                out.push((i, op, cqe.result()));
            }
        }
        Ok(out)
    }

    /// The descriptors waiting for the next submission to close them.
    #[cfg(test)]
    pub(crate) fn waiting(&self) -> &[RawFd] {
        &self.to_close
    }

    /// Gives up a ring whose requests may still be in flight: its memory is never freed,
    /// because the kernel may still read it (the descriptors it holds stay open).
    pub(crate) fn abandon(self: Box<Self>) {
        Box::leak(self);
    }

    /// Gives up, in a forked child, the ring inherited from the parent: the child's
    /// copies of the descriptors waiting to be closed are closed with `close(2)` (the
    /// parent's ring closes the parent's own), the ring itself is left alone (its
    /// memory is shared with nothing the child submits).
    pub(crate) fn abandon_in_child(mut self: Box<Self>) {
        for fd in self.to_close.drain(..) {
            // SAFETY: the child's copy of a descriptor this ring opened; nobody else in
            // the child owns it.
            unsafe { libc::close(fd) };
        }
        Box::leak(self);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Open,
    Close,
}

fn tag(i: usize, op: Op) -> u64 {
    (i as u64) << 2 | op as u64
}

fn untag(v: u64) -> (usize, Op) {
    let op = match v & 3 {
        0 => Op::Open,
        _ => Op::Close,
    };
    ((v >> 2) as usize, op)
}

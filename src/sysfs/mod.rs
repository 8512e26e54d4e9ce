//! The only place that touches the file system for sysfs attributes and `/dev` nodes.
//!
//! Every path the library uses is an *in-root* absolute path such as
//! `/sys/devices/.../ndbus0/region1/size`. Three rooms:
//!
//! * [`root`]: confinement. Paths are resolved component by component relative to a
//!   descriptor of the root directory, never as host path strings, and only a
//!   [`Resolved`] path is ever read, written, listed or read as a link; `openat2` with
//!   `RESOLVE_IN_ROOT` guards the opens where the kernel has it. No link, absolute or
//!   relative, leads out of the root; only regular files are read or written.
//! * [`parse`]: the text of attributes (numbers, device numbers, uuids, size lists).
//! * [`device`]: a device directory with its attribute cache and driver bind / unbind.
//!
//! [`Sysfs`] ties them together with the attribute conventions of libndctl (one bounded
//! read, one trailing newline stripped, ENXIO and EACCES mean "unknown").

pub mod device;
// Control nodes and polled attributes (the command layer's file handles).
mod devnode;
pub mod parse;
pub mod root;
// Attribute files kept open for re-reads.
mod kept;
// Batched reads through io_uring.
mod uring;

use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use log::Level;

use crate::ctx_log;
use crate::error::{absent_unless_exhausted, Error, Result};
use crate::logging::Logger;

pub use device::{AttrSet, Device};
pub use parse::{parse_devnum, parse_i64, parse_size_list, parse_u64, parse_uuid};
pub use root::{Kind, Resolved, Resolver};

/// libndctl refuses attributes of this size or more (`SYSFS_ATTR_SIZE`).
pub const ATTR_SIZE_LIMIT: usize = 1024;
/// Lists such as `badblocks` may be longer than one attribute buffer; cap them anyway so a
/// hostile file cannot make us allocate without bound.
pub const LIST_SIZE_LIMIT: usize = 16 << 20;

/// What reading an attribute gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attr {
    /// The contents, with one trailing newline removed.
    Value(String),
    /// The file does not exist.
    Missing,
    /// The kernel refused the read with ENXIO ("no such device or address"), as it does
    /// for sizes of seed devices and some DIMM attributes, or the caller may not read it
    /// (EACCES / EPERM: several attributes are mode 0400). libndctl treats such
    /// attributes as unknown.
    Unavailable,
}

impl Attr {
    /// The value, or `None` when the attribute is missing or unavailable.
    pub fn into_option(self) -> Option<String> {
        match self {
            Attr::Value(v) => Some(v),
            Attr::Missing | Attr::Unavailable => None,
        }
    }
}

/// Environment variable that turns batched reads through io_uring off (`0` or `off`):
/// every attribute is then opened, read and closed with its own system calls.
pub const IO_URING_ENV: &str = "NDCTL_IO_URING";

/// The context's io_uring, made on the first batch.
#[derive(Debug)]
enum RingState {
    Untried,
    Ready(Box<uring::Ring>),
    Off,
}

/// What a batch gave for one name: its value (or the error reading it) and whether the
/// directory listed it as a regular file.
#[derive(Debug)]
pub struct Fetched {
    /// The value, as [`Sysfs::read_attr`] would give it.
    pub attr: Result<Attr>,
    /// Whether the listing showed a regular file of that name.
    pub regular: bool,
}

/// A sysfs (and `/dev`) tree below a root directory.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::create_dir_all(dir.path().join("sys/class/nd")).unwrap();
/// let sysfs = ndctl::sysfs::Sysfs::new(dir.path()).unwrap();
/// assert!(sysfs.list_dir(std::path::Path::new("/sys/class/nd")).unwrap().is_empty());
/// ```
#[derive(Debug)]
pub struct Sysfs {
    root: root::Root,
    logger: Arc<Logger>,
    io_uring: AtomicBool,
    ring: Mutex<RingState>,
    kept: kept::Kept,
    /// The parent directory the last device was made in (see [`Sysfs::shared_dir`]).
    last_dir: Mutex<Option<Arc<[u8]>>>,
}

impl Sysfs {
    /// Use `root` (a host directory) as `/`. The directory must exist.
    pub fn new(root: impl Into<PathBuf>) -> Result<Sysfs> {
        Sysfs::with_resolver(root, Resolver::Auto)
    }

    /// Like [`Sysfs::new`] with a choice of resolver: [`Resolver::Userspace`] forces the
    /// fallback that runs on kernels without `openat2` (the tests use it to cover both);
    /// [`Resolver::Openat2`] fails if the kernel does not offer `openat2`.
    pub fn with_resolver(root: impl Into<PathBuf>, resolver: Resolver) -> Result<Sysfs> {
        let root = root.into();
        let root = root::Root::open(&root, resolver)?;
        let logger = Arc::new(Logger::new());
        if let Some(why) = root.fallback_reason() {
            ctx_log!(logger, Level::Debug, "{why}; resolving paths in userspace");
        }
        let io_uring = !matches!(
            crate::env::secure_var(IO_URING_ENV)
                .as_deref()
                .and_then(OsStr::to_str),
            Some("0" | "off" | "no")
        );
        Ok(Sysfs {
            root,
            logger,
            io_uring: AtomicBool::new(io_uring),
            ring: Mutex::new(RingState::Untried),
            kept: kept::Kept::default(),
            last_dir: Mutex::new(None),
        })
    }

    /// Turn batched reads through io_uring on or off (they are on unless
    /// [`IO_URING_ENV`] says `0` or `off`); off, a batch makes an `open`, `read` and
    /// `close` per attribute. The tests use it to cover both paths.
    pub fn set_io_uring(&self, on: bool) {
        self.io_uring.store(on, Ordering::Relaxed);
    }

    /// Whether batches go through io_uring: it is allowed and the kernel offers it (the
    /// ring is made on the first call).
    pub fn uses_io_uring(&self) -> bool {
        if !self.io_uring.load(Ordering::Relaxed) {
            return false;
        }
        let mut g = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        self.ring_ready(&mut g).is_some()
    }

    /// The ring, made on first use; `None` where io_uring is unavailable (logged once).
    fn ring_ready<'a>(&self, state: &'a mut RingState) -> Option<&'a mut uring::Ring> {
        if let RingState::Ready(r) = state {
            if !r.usable() {
                // A forked child: the ring's memory is a copy the kernel does not read.
                // Leaking the parent's ring in the child is harmless; using it is not.
                match std::mem::replace(state, RingState::Untried) {
                    RingState::Ready(old) => old.abandon_in_child(),
                    other => *state = other,
                }
            }
        }
        if let RingState::Untried = state {
            match self.root.sys_fs() {
                // io_uring opens a file inline only when the path resolves from the dentry
                // cache without leaving RCU walk (LOOKUP_CACHED); kernfs revalidates every
                // dentry outside it, so every open of a sysfs file goes to an io-wq worker
                // thread: slower than opening each file directly (measured on a host's
                // /sys: 1.2-2.1x the time, thousands of context switches), and each
                // completion queued for this thread shows as a pending signal to its next
                // system call. The ring serves trees on other file systems (tmpfs).
                Some(root::SysFs::Sysfs) => {
                    ctx_log!(
                        self.logger,
                        Level::Debug,
                        "sys is sysfs: reading attributes without io_uring"
                    );
                    *state = RingState::Off;
                    return None;
                }
                // Not known (yet): no `sys` directory, no openat2 to open it confined, or
                // out of descriptors just now. No ring for this batch; asked again next
                // time, as the `sys` directory is.
                None => return None,
                Some(_) => {}
            }
            *state = match uring::Ring::new(ATTR_SIZE_LIMIT, self.root.raw_fd()) {
                Ok(r) => RingState::Ready(Box::new(r)),
                Err(e) => {
                    ctx_log!(
                        self.logger,
                        Level::Debug,
                        "io_uring unavailable ({e}); reading attributes one call at a time"
                    );
                    RingState::Off
                }
            };
        }
        match state {
            RingState::Ready(r) => Some(r),
            _ => None,
        }
    }

    /// Runs `f` with the ring if batches may use it. A ring whose submission failed is
    /// given up (its requests may be in flight) and batches go on without it.
    fn with_ring<T>(
        &self,
        f: impl FnOnce(&mut uring::Ring) -> io::Result<T>,
    ) -> Option<io::Result<T>> {
        if !self.io_uring.load(Ordering::Relaxed) {
            return None;
        }
        let mut g = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        let ring = self.ring_ready(&mut g)?;
        let r = f(ring);
        if let Err(e) = &r {
            ctx_log!(
                self.logger,
                Level::Debug,
                "io_uring failed ({e}); reading attributes one call at a time"
            );
            if let RingState::Ready(old) = std::mem::replace(&mut *g, RingState::Off) {
                old.abandon();
            }
        }
        Some(r)
    }

    /// The descriptors the ring keeps until its next submission (`None` without a ring).
    #[cfg(test)]
    fn ring_waiting(&self) -> Option<Vec<std::os::fd::RawFd>> {
        match &*self.ring.lock().unwrap_or_else(|p| p.into_inner()) {
            RingState::Ready(r) => Some(r.waiting().to_vec()),
            _ => None,
        }
    }

    /// The host directory used as `/`.
    pub fn root(&self) -> &Path {
        self.root.host()
    }

    /// The resolver in use: [`Resolver::Openat2`] or [`Resolver::Userspace`].
    pub fn resolver(&self) -> Resolver {
        self.root.resolver()
    }

    /// The log sink and threshold of the context this tree belongs to.
    pub fn logger(&self) -> &Arc<Logger> {
        &self.logger
    }

    /// The host path of an in-root path, resolved inside the root first (so it names what
    /// the library would read), to hand a device directory to a library that reads it
    /// itself, like libdaxctl.
    ///
    /// This is the one exception to confinement: whoever opens the returned string does
    /// so by host path, and a link created after this call is not checked. Nothing in
    /// this crate opens it. An unresolvable path is returned joined as it is.
    pub fn host_path(&self, path: &Path) -> PathBuf {
        let inner = match self.root.resolve(path, true) {
            Ok((r, _)) => r.into_path_buf(),
            Err(_) => path.to_path_buf(),
        };
        let rel = inner.strip_prefix("/").unwrap_or(&inner);
        if rel.as_os_str().is_empty() {
            self.root().to_path_buf()
        } else {
            self.root().join(rel)
        }
    }

    /// Resolve every symbolic link of an in-root path, like `realpath(3)` inside the root.
    ///
    /// Absolute link targets are taken relative to the root; a `..` that would climb above
    /// the root is an [`Error::Escape`]. Every component must exist.
    pub fn resolve(&self, path: &Path) -> Result<Resolved> {
        Ok(self.root.resolve(path, true)?.0)
    }

    /// Map a failed read of `path` to libndctl's view (see [`classify_read_error`]),
    /// logging a refused permission at debug level.
    fn read_failure(&self, path: &Path, e: Error) -> Result<Attr> {
        match e {
            Error::Io { source, .. } => {
                if matches!(source.raw_os_error(), Some(libc::EACCES | libc::EPERM)) {
                    ctx_log!(
                        self.logger,
                        Level::Debug,
                        "{}: {source}; treated as unknown",
                        path.display()
                    );
                }
                classify_read_error(path, source)
            }
            e => Err(e),
        }
    }

    fn open_for_read(&self, path: &Path) -> Result<File> {
        if let Some(done) = self.root.open_regular_direct(path) {
            return done;
        }
        let resolved = self.resolve(path)?;
        self.root.open_regular(&resolved, libc::O_RDONLY)
    }

    /// Read one attribute file `dir/name` the way libndctl does: a single read into a
    /// buffer of [`ATTR_SIZE_LIMIT`] bytes (a value that fills it is refused), one trailing
    /// newline stripped.
    pub fn read_attr(&self, dir: &Path, name: &str) -> Result<Attr> {
        let path = dir.join(name);
        let mut file = match self.open_for_read(&path) {
            Ok(f) => f,
            Err(e) => return self.read_failure(&path, e),
        };
        self.read_opened(path, &mut file)
    }

    fn read_opened(&self, path: PathBuf, file: &mut File) -> Result<Attr> {
        match root::read_once(file, ATTR_SIZE_LIMIT) {
            Ok(b) => Self::value_of(|| path, b),
            Err(e) => self.read_failure(&path, Error::io(&path, e)),
        }
    }

    /// Read an attribute that an earlier listing of its directory showed as a regular
    /// file, for values read afresh on every call. The file is kept open (see
    /// `sysfs/kept.rs`): the next read of the same attribute is one `pread` at offset 0, which
    /// sysfs answers with the value of that moment. The first read opens it confined to
    /// the root, refusing links and not blocking, and checks that it is still a regular
    /// file (outside sysfs, where a file can be swapped after the listing). A path that
    /// needs the resolver's walk, or whose final component has become a link, is read by
    /// [`Sysfs::read_attr`] and not kept.
    pub fn read_known_regular(&self, dir: &Path, name: &str) -> Result<Attr> {
        let path = dir.join(name);
        if let kept::Reuse::Read(r) = self.kept.read(&path, ATTR_SIZE_LIMIT) {
            return match r {
                Ok(b) => Self::value_of(|| path, b),
                Err(e) => self.read_failure(&path, Error::io(&path, e)),
            };
        }
        let (file, on_sysfs) = match self.root.open_known_regular(&path) {
            Some(Ok(f)) => f,
            Some(Err(e)) if e.raw_os_error() != Some(libc::ELOOP) => {
                return self.read_failure(&path, Error::io(&path, e))
            }
            _ => return self.read_attr(dir, name),
        };
        let sysfs = on_sysfs.unwrap_or_else(|| kept::on_sysfs(&file));
        if !sysfs {
            use std::os::unix::fs::MetadataExt;
            let mode = file.metadata().map_err(|e| Error::io(&path, e))?.mode();
            if mode & libc::S_IFMT != libc::S_IFREG {
                return Err(Error::NotRegular {
                    what: root::describe_dtype(((mode & libc::S_IFMT) >> 12) as u8),
                    path,
                });
            }
        }
        match kept::read_from_start(&file, ATTR_SIZE_LIMIT) {
            Ok(b) => {
                self.kept.keep(&path, file, sysfs);
                Self::value_of(|| path, b)
            }
            Err(e) => self.read_failure(&path, Error::io(&path, e)),
        }
    }

    /// The in-root path `dir` in an allocation shared with the devices made in it before:
    /// a scan makes a directory's devices one after the other, so remembering the last
    /// one shares the path of a region among all its namespaces.
    pub(crate) fn shared_dir(&self, dir: &[u8]) -> Arc<[u8]> {
        let mut last = self.last_dir.lock().unwrap_or_else(|p| p.into_inner());
        match &*last {
            Some(d) if **d == *dir => Arc::clone(d),
            _ => {
                let d: Arc<[u8]> = Arc::from(dir);
                *last = Some(Arc::clone(&d));
                d
            }
        }
    }

    /// Close the kept descriptors of attributes in `dir` (see `sysfs/kept.rs`).
    pub fn forget_kept(&self, dir: &Path) {
        self.kept.forget_in(dir);
    }

    /// Read the attributes `read` of the directory `dir` together, and learn which of
    /// `probe` are regular files, in the fewest system calls: the directory is opened
    /// once (confined to the root, refusing links) and listed; a name it does not hold is
    /// [`Attr::Missing`] without a call; a name it lists as anything but a regular file is
    /// [`Error::NotRegular`] without being opened; the regular files are opened relative
    /// to the directory (one component, `RESOLVE_BENEATH`, no links, `O_NONBLOCK`), read
    /// once and closed: all opened in one `io_uring_enter` where io_uring is available
    /// (their closes in one more), else with an `openat` and a
    /// `close` each; read with one `read` each. A name that is a link (read through the root's resolver
    /// as [`Sysfs::read_attr`] does), has more than one component, or a directory that
    /// cannot be opened this way, goes through [`Sysfs::read_attr`] with its exact
    /// semantics.
    ///
    /// The values are those [`Sysfs::read_attr`] gives, in the order of `read`; the
    /// flags cover `read` followed by `probe`.
    pub fn read_attrs(
        &self,
        dir: &Path,
        read: &[&str],
        probe: &[&str],
    ) -> (Vec<Result<Attr>>, Vec<bool>) {
        let single = |n: &str| {
            !n.is_empty() && n != "." && n != ".." && !n.contains('/') && !n.contains('\0')
        };
        let (fd, end) = match self.root.open_dir_for_batch(dir) {
            Ok(fd) => fd,
            Err(_) => {
                let values = read.iter().map(|n| self.read_attr(dir, n)).collect();
                return (values, vec![false; read.len() + probe.len()]);
            }
        };
        // The listed type of each wanted name (`None`: not listed).
        let wanted: Vec<&str> = read.iter().chain(probe).copied().collect();
        let mut types: Vec<Option<u8>> = vec![None; wanted.len()];
        let listed = root::dir_entries(&fd, end, |name, dtype| {
            for (i, w) in wanted.iter().enumerate() {
                if w.as_bytes() == name {
                    types[i] = Some(dtype);
                }
            }
        });
        if listed.is_err() {
            let values = read.iter().map(|n| self.read_attr(dir, n)).collect();
            return (values, vec![false; wanted.len()]);
        }
        let dtype_of = |n: &str| wanted.iter().position(|w| *w == n).and_then(|i| types[i]);
        let regular: Vec<bool> = read
            .iter()
            .chain(probe)
            .map(|n| single(n) && dtype_of(n) == Some(libc::DT_REG))
            .collect();
        let mut values: Vec<Option<Result<Attr>>> = Vec::with_capacity(read.len());
        let mut batch: Vec<(usize, CString)> = Vec::new();
        for (i, n) in read.iter().enumerate() {
            let v = if !single(n) {
                Some(self.read_attr(dir, n))
            } else {
                match dtype_of(n) {
                    None => Some(Ok(Attr::Missing)),
                    Some(libc::DT_REG) => match CString::new(*n) {
                        Ok(c) => {
                            batch.push((i, c));
                            None
                        }
                        Err(_) => Some(self.read_attr(dir, n)),
                    },
                    Some(libc::DT_LNK | libc::DT_UNKNOWN) => Some(self.read_attr(dir, n)),
                    Some(t) => Some(Err(Error::NotRegular {
                        path: dir.join(n),
                        what: root::describe_dtype(t),
                    })),
                }
            };
            values.push(v);
        }
        if !batch.is_empty() {
            let names: Vec<CString> = batch.iter().map(|(_, c)| c.clone()).collect();
            let flags = libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOFOLLOW;
            let resolve =
                // Not across a mount either: a listing reports the type of the file a
                // mount covers, not of what is mounted on it.
                root::RESOLVE_BELOW;
            use std::os::fd::{AsRawFd, IntoRawFd};
            let raw = fd.as_raw_fd();
            // The ring closes the directory with the files (one call fewer per device).
            let outcomes: Vec<Option<io::Result<Vec<u8>>>> =
                match self.with_ring(|r| r.read_at(raw, &names, flags, resolve, true)) {
                    Some(r) => {
                        let _handed_over = fd.into_raw_fd();
                        match r {
                            Ok(v) => v.into_iter().map(Some).collect(),
                            // The ring is given up; each value is read on its own.
                            Err(_) => names.iter().map(|_| None).collect(),
                        }
                    }
                    None => {
                        let openat2 = self.resolver() == Resolver::Openat2;
                        let v = names
                            .iter()
                            .map(|c| {
                                let name = OsStr::from_bytes(c.as_bytes());
                                Some(
                                    root::open_in_dir(&fd, name, openat2)
                                        .and_then(|mut f| root::read_once(&mut f, ATTR_SIZE_LIMIT)),
                                )
                            })
                            .collect();
                        drop(fd);
                        v
                    }
                };
            for ((i, _), outcome) in batch.iter().zip(outcomes) {
                let Some(outcome) = outcome else {
                    values[*i] = Some(self.read_attr(dir, read[*i]));
                    continue;
                };
                values[*i] = Some(self.listed_value(dir, read[*i], outcome));
            }
        } else {
            drop(fd);
        }
        let values = values
            .into_iter()
            .map(|v| v.unwrap_or(Ok(Attr::Missing)))
            .collect();
        (values, regular)
    }

    /// Reads attributes of `dir` that a listing of it (a batch of [`Sysfs::read_attrs`])
    /// showed as regular files, together and without listing again: below `/sys`, where
    /// io_uring is available, each is opened relative to the tree's `sys` directory
    /// without leaving its mount or following a link, all in one `io_uring_enter`, read
    /// once and closed in one more; a name that became a link or crosses a mount goes
    /// through [`Sysfs::read_attr`]. Elsewhere this is a batch of [`Sysfs::read_attrs`].
    pub fn read_listed(&self, dir: &Path, names: &[&str]) -> Vec<Result<Attr>> {
        if let Some((sys, rel)) = self.root.sys_relative(dir) {
            let paths: Option<Vec<CString>> = names
                .iter()
                .map(|n| CString::new(rel.join(n).as_os_str().as_bytes()).ok())
                .collect();
            let flags = libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOFOLLOW;
            let resolve = root::RESOLVE_BELOW;
            if let Some(paths) = paths.filter(|_| names.iter().all(|n| !n.contains('/'))) {
                if let Some(Ok(outcomes)) =
                    self.with_ring(|r| r.read_at(sys, &paths, flags, resolve, false))
                {
                    return names
                        .iter()
                        .zip(outcomes)
                        .map(|(n, o)| self.listed_value(dir, n, o))
                        .collect();
                }
            }
        }
        self.read_attrs(dir, names, &[]).0
    }

    /// The value of `dir/name` (at `path`) from what a batch's open and read of a listed
    /// file gave: a name that became a link since the listing, or a mount point, goes
    /// through the resolver, which checks the type of what it opens.
    fn listed_value(&self, dir: &Path, name: &str, outcome: uring::Outcome) -> Result<Attr> {
        match outcome {
            Ok(b) => Self::value_of(|| dir.join(name), b),
            Err(e) if matches!(e.raw_os_error(), Some(libc::ELOOP | libc::EXDEV)) => {
                self.read_attr(dir, name)
            }
            Err(e) => {
                let path = dir.join(name);
                self.read_failure(&path, Error::io(&path, e))
            }
        }
    }

    /// An attribute's bytes as libndctl keeps them: refused if they fill the buffer,
    /// one trailing newline stripped, UTF-8. `path` names the file in an error (made only
    /// then: most values are fine, and a batch reads thousands).
    fn value_of(path: impl FnOnce() -> PathBuf, mut buf: Vec<u8>) -> Result<Attr> {
        if buf.len() >= ATTR_SIZE_LIMIT {
            return Err(Error::TooLarge {
                path: path(),
                limit: ATTR_SIZE_LIMIT,
            });
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        match String::from_utf8(buf) {
            Ok(s) => Ok(Attr::Value(s)),
            Err(e) => Err(Error::parse(
                path(),
                &String::from_utf8_lossy(e.as_bytes()),
                "not valid UTF-8",
            )),
        }
    }

    /// Read a list attribute (one record per line, e.g. `badblocks`), which may be longer
    /// than one attribute buffer, up to [`LIST_SIZE_LIMIT`] bytes. `None` when missing or
    /// unavailable.
    pub fn read_lines(&self, dir: &Path, name: &str) -> Result<Option<Vec<String>>> {
        let path = dir.join(name);
        let read = self.open_for_read(&path).and_then(|mut f| {
            root::read_bounded(&mut f, LIST_SIZE_LIMIT).map_err(|e| Error::io(&path, e))
        });
        let buf = match read {
            Ok(b) => b,
            Err(e) => {
                self.read_failure(&path, e)?;
                return Ok(None);
            }
        };
        if buf.len() > LIST_SIZE_LIMIT {
            return Err(Error::TooLarge {
                path,
                limit: LIST_SIZE_LIMIT,
            });
        }
        let text = String::from_utf8(buf).map_err(|e| {
            Error::parse(&path, &String::from_utf8_lossy(e.as_bytes()), "not UTF-8")
        })?;
        Ok(Some(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect(),
        ))
    }

    /// Write an attribute as libndctl does: the string and its terminating NUL in one write.
    pub fn write_attr(&self, dir: &Path, name: &str, value: &str) -> Result<()> {
        let path = dir.join(name);
        let resolved = self.resolve(&path)?;
        let mut file = self
            .root
            .open_regular(&resolved, libc::O_WRONLY)
            .map_err(|e| match e {
                Error::Io { source, .. } => Error::io(&path, source),
                e => e,
            })?;
        let mut bytes = Vec::with_capacity(value.len() + 1);
        bytes.extend_from_slice(value.as_bytes());
        bytes.push(0);
        let n = root::write_once(&mut file, &bytes).map_err(|e| Error::io(&path, e))?;
        if n < value.len() {
            return Err(Error::io(
                &path,
                io::Error::new(io::ErrorKind::WriteZero, "short write"),
            ));
        }
        Ok(())
    }

    /// Names in a directory, in `readdir()` order, dot entries skipped.
    pub fn list_dir(&self, dir: &Path) -> Result<Vec<String>> {
        Ok(self
            .list_dir_typed(dir)?
            .into_iter()
            .map(|(name, _)| name)
            .collect())
    }

    /// Entries of a directory with a flag telling whether each is a symbolic link. Names
    /// starting with a dot are left out; names that are not UTF-8 are left out and logged
    /// (the object model names devices by strings, and such a name cannot be written back
    /// to `bind` or looked up in `/dev` unchanged).
    pub fn list_dir_typed(&self, dir: &Path) -> Result<Vec<(String, bool)>> {
        let entries = match self.root.read_dir_direct(dir) {
            Some(r) => r?,
            None => {
                let resolved = self.resolve(dir)?;
                self.root.read_dir(&resolved)?
            }
        };
        let mut out = Vec::new();
        for (name, is_link) in entries {
            if name.as_encoded_bytes().first() == Some(&b'.') {
                continue;
            }
            match name.into_string() {
                Ok(name) => out.push((name, is_link)),
                Err(name) => ctx_log!(
                    self.logger,
                    Level::Warn,
                    "{}/{}: skipped: name is not UTF-8",
                    dir.display(),
                    name.as_encoded_bytes().escape_ascii()
                ),
            }
        }
        Ok(out)
    }

    /// Whether an in-root path exists (following links inside the root).
    ///
    /// A path that cannot be resolved inside the root (absent, a link leading out, a loop,
    /// no permission) does not exist here, as an `lstat` that fails says for libndctl.
    /// Running out of descriptors or memory on the way is an error: "absent" would then be
    /// a guess that hides a device.
    pub fn exists(&self, path: &Path) -> Result<bool> {
        match self.exists_plain(path) {
            Some(v) => Ok(v),
            None => absent_unless_exhausted(self.resolve(path).map(|_| true)),
        }
    }

    /// Whether a plain in-root path (no `.`, `..`) holding no link exists, in one
    /// `io_uring_enter` (an `O_PATH` open confined to the root and refusing links, and its
    /// close). `None` when the answer needs the resolver: a link on the way (which the
    /// resolver follows inside the root), no `openat2`, no io_uring.
    fn exists_plain(&self, path: &Path) -> Option<bool> {
        if self.resolver() != Resolver::Openat2 {
            return None;
        }
        let rel = root::Root::plain_relative(path)?;
        let c = CString::new(rel.as_bytes()).ok()?;
        let resolve =
            libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS;
        let root = self.root.raw_fd();
        match self.with_ring(|r| r.open_close_at(root, c, libc::O_PATH, resolve))? {
            Ok(Ok(())) => Some(true),
            Ok(Err(e)) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => {
                Some(false)
            }
            _ => None,
        }
    }

    /// Whether an in-root path is a directory (following links inside the root); what
    /// cannot be resolved is not one, running out of resources is an error (see
    /// [`Sysfs::exists`]).
    pub fn is_dir(&self, path: &Path) -> Result<bool> {
        absent_unless_exhausted(
            self.root
                .resolve(path, true)
                .map(|(_, kind)| kind == Kind::Dir),
        )
    }

    /// Whether an in-root path is itself a symbolic link (`lstat`), as libndctl tests
    /// `driver` links; errors as for [`Sysfs::is_dir`].
    pub fn is_symlink(&self, dir: &Path, name: &str) -> Result<bool> {
        absent_unless_exhausted(
            self.root
                .resolve(&dir.join(name), false)
                .map(|(_, kind)| kind == Kind::Symlink),
        )
    }

    /// Like [`Sysfs::is_symlink`] for a directory the resolver made (a device directory,
    /// free of links), in one call where `openat2` is available (see
    /// [`root::Root::ends_in_link`]).
    pub fn is_symlink_in_resolved(&self, dir: &Path, name: &str) -> Result<bool> {
        let path = dir.join(name);
        match self.root.ends_in_link(&path) {
            Some(v) => Ok(v),
            None => self.is_symlink(dir, name),
        }
    }

    /// The final component of where the link `dir/name` points, if it is a link that can
    /// be read; running out of resources is an error (see [`Sysfs::exists`]).
    pub fn link_basename(&self, dir: &Path, name: &str) -> Result<Option<String>> {
        let link = self
            .root
            .resolve(&dir.join(name), false)
            .map(|(p, kind)| (kind == Kind::Symlink).then_some(p));
        let Some(p) = absent_unless_exhausted(link)? else {
            return Ok(None);
        };
        let Some(target) = absent_unless_exhausted(self.root.read_link(&p).map(Some))? else {
            return Ok(None);
        };
        Ok(target
            .file_name()
            .and_then(|n| n.to_str())
            .map(String::from))
    }

    fn dev_path(name: &str) -> Option<PathBuf> {
        if name.is_empty() || name.contains('/') || name.starts_with('.') {
            return None;
        }
        Some(Path::new("/dev").join(name))
    }

    /// The resolved in-root path of a `/dev` node, if such a node exists under the root.
    pub fn dev_node(&self, name: &str) -> Option<PathBuf> {
        let logical = Self::dev_path(name)?;
        // A node reached without a link is its own resolved path.
        match self.exists_plain(&logical) {
            Some(true) => return Some(logical),
            Some(false) => return None,
            None => {}
        }
        Some(self.resolve(&logical).ok()?.into_path_buf())
    }

    /// Open the `/dev` node `name` under the root with `flags` (e.g. `O_RDWR | O_EXCL`).
    /// Only a device node (or, in a captured tree, a regular placeholder file) is opened;
    /// a FIFO, socket or directory is refused before any open.
    pub fn open_dev(&self, name: &str, flags: libc::c_int) -> Result<File> {
        let logical = Self::dev_path(name).ok_or_else(|| {
            Error::io(
                Path::new("/dev").join(name),
                io::Error::from_raw_os_error(libc::EINVAL),
            )
        })?;
        let resolved = self.resolve(&logical)?;
        self.root
            .open_checked(&resolved, flags, &[Kind::Device, Kind::File])
            .map_err(|e| match e {
                Error::Io { source, .. } => Error::io(&logical, source),
                e => e,
            })
    }
}

/// Map a read failure to libndctl's view: absent is "missing", ENXIO and a refused
/// permission are "unknown", anything else is an error naming the path.
pub fn classify_read_error(path: &Path, e: io::Error) -> Result<Attr> {
    match e.raw_os_error() {
        Some(libc::ENOENT) | Some(libc::ENOTDIR) => Ok(Attr::Missing),
        Some(libc::ENXIO) | Some(libc::EACCES) | Some(libc::EPERM) => Ok(Attr::Unavailable),
        _ => Err(Error::io(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    fn tree() -> (tempfile::TempDir, Sysfs) {
        tree_with(Resolver::Auto)
    }

    fn tree_with(resolver: Resolver) -> (tempfile::TempDir, Sysfs) {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("sys/devices/bus0/region0")).unwrap();
        let s = Sysfs::with_resolver(dir.path(), resolver).unwrap();
        (dir, s)
    }

    const BOTH: [Resolver; 2] = [Resolver::Auto, Resolver::Userspace];

    #[test]
    fn the_requested_resolver_is_used() {
        let (_d, s) = tree_with(Resolver::Userspace);
        assert_eq!(s.resolver(), Resolver::Userspace);
        let (_d, s) = tree_with(Resolver::Auto);
        // This machine's kernel (>= 5.6) has openat2 unless a filter forbids it.
        assert!(matches!(
            s.resolver(),
            Resolver::Openat2 | Resolver::Userspace
        ));
    }

    #[test]
    fn only_regular_files_are_opened() {
        for r in BOTH {
            let (dir, s) = tree_with(r);
            let d = dir.path().join("sys/devices/bus0/region0");
            let fifo =
                std::ffi::CString::new(d.join("fifo").as_os_str().as_encoded_bytes()).unwrap();
            // SAFETY: a valid path.
            assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
            let _sock = std::os::unix::net::UnixListener::bind(d.join("sock")).unwrap();
            fs::create_dir(d.join("subdir")).unwrap();
            let p = Path::new("/sys/devices/bus0/region0");
            for name in ["fifo", "sock", "subdir"] {
                let e = s.read_attr(p, name).unwrap_err();
                assert!(matches!(e, Error::NotRegular { .. }), "{r:?} {name}: {e}");
                let e = s.write_attr(p, name, "1").unwrap_err();
                assert!(matches!(e, Error::NotRegular { .. }), "{r:?} {name}: {e}");
                assert!(s.read_lines(p, name).is_err(), "{r:?} {name}");
            }
            assert!(s.open_dev("../sys", libc::O_RDONLY).is_err());
        }
    }

    #[test]
    fn a_permission_error_makes_the_attribute_unknown() {
        let p = Path::new("/sys/x/align");
        for errno in [libc::EACCES, libc::EPERM] {
            assert_eq!(
                classify_read_error(p, io::Error::from_raw_os_error(errno)).unwrap(),
                Attr::Unavailable
            );
        }
    }

    #[test]
    fn reads_strip_one_newline_and_cap_size() {
        let (dir, s) = tree();
        let r = dir.path().join("sys/devices/bus0/region0");
        fs::write(r.join("size"), "42\n\n").unwrap();
        fs::write(r.join("big"), vec![b'1'; 4096]).unwrap();
        fs::write(r.join("bin"), [0xff, 0xfe]).unwrap();
        let d = Path::new("/sys/devices/bus0/region0");
        assert_eq!(s.read_attr(d, "size").unwrap(), Attr::Value("42\n".into()));
        assert!(matches!(s.read_attr(d, "big"), Err(Error::TooLarge { .. })));
        assert!(matches!(s.read_attr(d, "bin"), Err(Error::Parse { .. })));
        assert_eq!(s.read_attr(d, "nope").unwrap(), Attr::Missing);
    }

    #[test]
    fn enxio_is_unknown_other_errors_are_errors() {
        let p = Path::new("/sys/x/size");
        assert_eq!(
            classify_read_error(p, io::Error::from_raw_os_error(libc::ENXIO)).unwrap(),
            Attr::Unavailable
        );
        assert_eq!(
            classify_read_error(p, io::Error::from_raw_os_error(libc::ENOENT)).unwrap(),
            Attr::Missing
        );
        let e = classify_read_error(p, io::Error::from_raw_os_error(libc::EIO)).unwrap_err();
        assert!(e.to_string().contains("/sys/x/size"), "{e}");
        assert_eq!(e.errno(), -libc::EIO);
    }

    #[test]
    fn links_resolve_inside_the_root_and_never_escape() {
        for r in BOTH {
            links_resolve_inside_the_root_and_never_escape_with(r);
        }
    }

    fn links_resolve_inside_the_root_and_never_escape_with(r: Resolver) {
        let (dir, s) = tree_with(r);
        let root = dir.path();
        symlink("devices/bus0", root.join("sys/bus0link")).unwrap();
        symlink("/sys/devices", root.join("sys/abs")).unwrap();
        symlink(
            "../../../../../../../../etc",
            root.join("sys/devices/bus0/evil"),
        )
        .unwrap();
        symlink("loop2", root.join("sys/loop1")).unwrap();
        symlink("loop1", root.join("sys/loop2")).unwrap();
        assert_eq!(
            s.resolve(Path::new("/sys/bus0link/region0"))
                .unwrap()
                .as_path(),
            Path::new("/sys/devices/bus0/region0")
        );
        // An absolute target means the root's /, not the host's.
        assert_eq!(
            s.resolve(Path::new("/sys/abs/bus0")).unwrap().as_path(),
            Path::new("/sys/devices/bus0")
        );
        assert!(matches!(
            s.resolve(Path::new("/sys/devices/bus0/evil/hostname")),
            Err(Error::Escape { .. })
        ));
        assert!(matches!(
            s.resolve(Path::new("/sys/loop1")),
            Err(Error::Loop { .. })
        ));
        // Reading through the escaping link must not reach the host's /etc.
        let d = Path::new("/sys/devices/bus0");
        assert!(matches!(
            s.read_attr(d, "evil/passwd"),
            Err(Error::Escape { .. })
        ));
    }

    #[test]
    fn final_component_links_are_resolved_in_root() {
        for r in BOTH {
            final_component_links_are_resolved_in_root_with(r);
        }
    }

    fn final_component_links_are_resolved_in_root_with(r: Resolver) {
        let (dir, s) = tree_with(r);
        let r = dir.path().join("sys/devices/bus0/region0");
        fs::write(dir.path().join("sys/devices/target"), "5\n").unwrap();
        symlink("../../target", r.join("ok")).unwrap();
        symlink("/../../../../etc/passwd", r.join("abs")).unwrap();
        let d = Path::new("/sys/devices/bus0/region0");
        assert_eq!(s.read_attr(d, "ok").unwrap(), Attr::Value("5".into()));
        // Climbing above the root, even from an absolute target, is refused.
        assert!(matches!(s.read_attr(d, "abs"), Err(Error::Escape { .. })));
    }

    #[test]
    fn missing_root_is_a_clear_error() {
        let e = Sysfs::new("/nonexistent/ndctl-root").unwrap_err();
        assert!(matches!(e, Error::Root { .. }));
        assert!(e.to_string().contains("/nonexistent/ndctl-root"));
    }

    #[test]
    fn device_cache_and_children() {
        let (dir, s) = tree();
        let s = Arc::new(s);
        let b = dir.path().join("sys/devices/bus0");
        fs::create_dir_all(b.join("region1")).unwrap();
        fs::create_dir_all(b.join("regionx")).unwrap();
        fs::create_dir_all(b.join("nmem0")).unwrap();
        fs::write(b.join("region0/size"), "0x10\n").unwrap();
        let dev = Device::new(s, PathBuf::from("/sys/devices/bus0"));
        let mut ids: Vec<u32> = dev
            .children("region")
            .unwrap()
            .iter()
            .map(|c| c.0)
            .collect();
        ids.sort();
        assert_eq!(ids, vec![0, 1]);
        let r0 = Device::new(
            dev.sysfs().clone(),
            PathBuf::from("/sys/devices/bus0/region0"),
        );
        assert_eq!(r0.req_u64("size").unwrap(), 16);
        fs::write(b.join("region0/size"), "0x20\n").unwrap();
        assert_eq!(r0.req_u64("size").unwrap(), 16, "cached");
        r0.invalidate();
        assert_eq!(r0.req_u64("size").unwrap(), 32);
        assert!(matches!(r0.req_u64("nope"), Err(Error::Missing { .. })));
    }

    /// Every way a batch can run: both resolvers, with and without io_uring.
    fn ways() -> Vec<(tempfile::TempDir, Sysfs, &'static str)> {
        let mut v = Vec::new();
        for r in BOTH {
            for ring in [true, false] {
                let (d, s) = tree_with(r);
                s.set_io_uring(ring);
                v.push((d, s, if ring { "io_uring" } else { "per file" }));
            }
        }
        v
    }

    #[test]
    fn a_batch_reads_as_read_attr_does() {
        for (dir, s, how) in ways() {
            let r = dir.path().join("sys/devices/bus0/region0");
            fs::write(r.join("size"), "0x10\n").unwrap();
            fs::write(r.join("empty"), "").unwrap();
            fs::write(r.join("big"), vec![b'x'; ATTR_SIZE_LIMIT]).unwrap();
            fs::write(r.join("bad"), [0xff, 0xfe]).unwrap();
            fs::create_dir(r.join("adir")).unwrap();
            fs::write(dir.path().join("sys/devices/target"), "5\n").unwrap();
            symlink("../../target", r.join("link")).unwrap();
            nix::unistd::mkfifo(&r.join("fifo"), nix::sys::stat::Mode::S_IRWXU).unwrap();
            let d = Path::new("/sys/devices/bus0/region0");
            let names = [
                "size", "empty", "absent", "big", "bad", "adir", "link", "fifo", "x/y",
            ];
            let (values, regular) = s.read_attrs(d, &names, &["size", "fifo"]);
            for (n, v) in names.iter().zip(&values) {
                let one = s.read_attr(d, n);
                assert_eq!(format!("{v:?}"), format!("{one:?}"), "{how}: {n}");
            }
            assert_eq!(values[0].as_ref().unwrap(), &Attr::Value("0x10".into()));
            assert_eq!(values[1].as_ref().unwrap(), &Attr::Value(String::new()));
            assert_eq!(values[2].as_ref().unwrap(), &Attr::Missing);
            assert!(matches!(values[3], Err(Error::TooLarge { .. })), "{how}");
            assert!(matches!(values[4], Err(Error::Parse { .. })), "{how}");
            assert!(matches!(values[5], Err(Error::NotRegular { .. })), "{how}");
            assert_eq!(values[6].as_ref().unwrap(), &Attr::Value("5".into()));
            assert!(
                matches!(values[7], Err(Error::NotRegular { what: "a FIFO", .. })),
                "{how}: {:?}",
                values[7]
            );
            assert_eq!(values[8].as_ref().unwrap(), &Attr::Missing);
            assert_eq!(
                regular,
                [true, true, false, true, true, false, false, false, false, true, false],
                "{how}"
            );
            // A directory that is not there: every name is missing, as read one by one.
            let (values, _) = s.read_attrs(Path::new("/sys/devices/nope"), &["size"], &[]);
            assert_eq!(values[0].as_ref().unwrap(), &Attr::Missing, "{how}");
        }
    }

    #[test]
    fn a_batch_stays_beneath_its_directory() {
        for (dir, s, how) in ways() {
            let r = dir.path().join("sys/devices/bus0/region0");
            symlink("/../../../../etc/passwd", r.join("abs")).unwrap();
            let d = Path::new("/sys/devices/bus0/region0");
            let (values, _) = s.read_attrs(d, &["abs", "../region0/abs"], &[]);
            assert!(matches!(values[0], Err(Error::Escape { .. })), "{how}");
            assert!(matches!(values[1], Err(Error::Escape { .. })), "{how}");
            // A directory reached through a link is read through the resolver.
            symlink("region0", dir.path().join("sys/devices/bus0/alias")).unwrap();
            fs::write(r.join("size"), "7\n").unwrap();
            let (values, _) = s.read_attrs(Path::new("/sys/devices/bus0/alias"), &["size"], &[]);
            assert_eq!(
                values[0].as_ref().unwrap(),
                &Attr::Value("7".into()),
                "{how}"
            );
        }
    }

    #[test]
    fn io_uring_can_be_turned_off() {
        let (_d, s) = tree();
        s.set_io_uring(false);
        assert!(!s.uses_io_uring());
    }

    /// On sysfs every io_uring open runs in a worker thread (kernfs dentries cannot be
    /// revalidated in RCU walk), slower than opening directly: no ring there. A tree on
    /// another file system gets one where the kernel offers io_uring.
    #[test]
    fn io_uring_is_used_off_sysfs_only() {
        let Ok(host) = Sysfs::new("/") else {
            eprintln!("SKIP io_uring_is_used_off_sysfs_only: / cannot be a root");
            return;
        };
        match host.root.sys_fs() {
            Some(root::SysFs::Sysfs) => assert!(!host.uses_io_uring(), "a ring on sysfs"),
            other => eprintln!("SKIP (sysfs half): this host's /sys is {other:?}"),
        }
        let Ok(dir) = tempfile::tempdir_in("/dev/shm") else {
            eprintln!("SKIP io_uring_is_used_off_sysfs_only (tmpfs half): no /dev/shm");
            return;
        };
        fs::create_dir_all(dir.path().join("sys/devices")).unwrap();
        let s = Sysfs::new(dir.path()).unwrap();
        if s.root.sys_fs() != Some(root::SysFs::Tmpfs) {
            eprintln!("SKIP io_uring_is_used_off_sysfs_only (tmpfs half): /dev/shm is no tmpfs");
            return;
        }
        // Where the kernel refuses io_uring (seccomp, io_uring_disabled) there is no ring
        // to see; a probe of our own tells that apart from the library declining it.
        let offered = io_uring::IoUring::new(2).is_ok();
        assert_eq!(
            s.uses_io_uring(),
            offered,
            "tmpfs tree, kernel offers: {offered}"
        );
    }

    static TEST_ATTRS: AttrSet = AttrSet {
        cached: &["size", "uuid"],
        fresh: &["holder"],
        lazy: &["modalias"],
    };

    #[test]
    fn a_kind_batch_is_cached_until_written_or_invalidated() {
        for (dir, s, how) in ways() {
            let s = Arc::new(s);
            let r = dir.path().join("sys/devices/bus0/region0");
            fs::write(r.join("size"), "0x10\n").unwrap();
            fs::write(r.join("holder"), "btt0.0\n").unwrap();
            let dev = Device::with_attrs(
                Arc::clone(&s),
                PathBuf::from("/sys/devices/bus0/region0"),
                &TEST_ATTRS,
            );
            assert_eq!(dev.req_u64("size").unwrap(), 16, "{how}");
            assert_eq!(dev.opt("uuid").unwrap(), None, "{how}");
            // Values read in the batch stay until a write or an invalidation.
            fs::write(r.join("size"), "0x20\n").unwrap();
            fs::write(r.join("uuid"), "x\n").unwrap();
            assert_eq!(dev.req_u64("size").unwrap(), 16, "{how}: cached");
            assert_eq!(dev.opt("uuid").unwrap(), None, "{how}: cached");
            // Fresh values are read every time.
            assert_eq!(dev.opt("holder").unwrap().as_deref(), Some("btt0.0"));
            fs::write(r.join("holder"), "pfn0.0\n").unwrap();
            assert_eq!(
                dev.read_fresh("holder").unwrap(),
                Attr::Value("pfn0.0".into()),
                "{how}"
            );
            // A write drops the value it wrote over; the others stay.
            dev.write("size", "0x30").unwrap();
            // (A plain file keeps the NUL libndctl writes; the kernel would not.)
            fs::write(r.join("size"), "0x30\n").unwrap();
            assert_eq!(dev.req_u64("size").unwrap(), 0x30, "{how}: re-read");
            assert_eq!(dev.opt("uuid").unwrap(), None, "{how}");
            dev.write_remember("uuid", "y\n").unwrap();
            assert_eq!(dev.opt("uuid").unwrap().as_deref(), Some("y"), "{how}");
            dev.invalidate();
            fs::write(r.join("uuid"), "z\n").unwrap();
            assert_eq!(dev.opt("uuid").unwrap().as_deref(), Some("z"), "{how}");
            // Binding is never cached: a driver link that appears is seen at once.
            assert!(!dev.has_driver().unwrap(), "{how}");
            symlink("../../../bus/nd/drivers/nd_region", r.join("driver")).unwrap();
            assert!(dev.has_driver().unwrap(), "{how}");
            fs::remove_file(r.join("driver")).unwrap();
            assert!(!dev.has_driver().unwrap(), "{how}");
            // So is existence.
            assert!(!dev.has("align").unwrap(), "{how}");
            fs::write(r.join("align"), "4096\n").unwrap();
            assert!(dev.has("align").unwrap(), "{how}");
        }
    }

    /// On tmpfs a listing larger than any buffer comes whole, and a batch finds a name
    /// listed last.
    #[test]
    fn listings_on_tmpfs_are_whole() {
        let Ok(dir) = tempfile::tempdir_in("/dev/shm") else {
            eprintln!("SKIP listings_on_tmpfs_are_whole: no /dev/shm");
            return;
        };
        let d = dir.path().join("sys/devices/bus0/region0");
        fs::create_dir_all(&d).unwrap();
        let s = Sysfs::new(dir.path()).unwrap();
        let sysfs_kind = root::fs_of({
            use std::os::fd::AsRawFd;
            fs::File::open(dir.path().join("sys")).unwrap().as_raw_fd()
        });
        if sysfs_kind != root::SysFs::Tmpfs {
            eprintln!("SKIP listings_on_tmpfs_are_whole: /dev/shm is no tmpfs");
            return;
        }
        // 1,500 names of 120 bytes: about 200 KiB of records, a dozen full buffers.
        let long = "x".repeat(110);
        for i in 0..1500 {
            fs::write(d.join(format!("{long}{i:05}")), "1\n").unwrap();
        }
        fs::write(d.join("size"), "0x10\n").unwrap();
        let p = Path::new("/sys/devices/bus0/region0");
        assert_eq!(s.list_dir(p).unwrap().len(), 1501);
        let last = format!("{long}01499");
        let (values, regular) = s.read_attrs(p, &["size", &last, "absent"], &[]);
        assert_eq!(values[0].as_ref().unwrap(), &Attr::Value("0x10".into()));
        assert_eq!(values[1].as_ref().unwrap(), &Attr::Value("1".into()));
        assert_eq!(values[2].as_ref().unwrap(), &Attr::Missing);
        assert_eq!(regular, vec![true, true, false]);
        // A small directory, listed in one call, is whole too.
        let small = Path::new("/sys/devices/bus0");
        assert_eq!(s.list_dir(small).unwrap(), vec!["region0".to_string()]);
    }

    #[test]
    fn fresh_values_are_reread_through_kept_descriptors_within_a_bound() {
        for (dir, s, how) in ways() {
            let s = Arc::new(s);
            let base = dir.path().join("sys/devices/bus0");
            let mut devs = Vec::new();
            for i in 0..kept::CAPACITY + 4 {
                let d = base.join(format!("region{i}"));
                fs::create_dir_all(&d).unwrap();
                fs::write(d.join("holder"), format!("btt{i}.0\n")).unwrap();
                devs.push(Device::with_attrs(
                    Arc::clone(&s),
                    PathBuf::from(format!("/sys/devices/bus0/region{i}")),
                    &TEST_ATTRS,
                ));
            }
            for (i, dev) in devs.iter().enumerate() {
                let want = format!("btt{i}.0");
                assert_eq!(dev.opt("holder").unwrap().as_deref(), Some(&*want), "{how}");
                assert!(s.kept.len() <= kept::CAPACITY, "{how}: bounded");
            }
            // The userspace resolver reads every value by its path: nothing is kept.
            if s.resolver() != Resolver::Openat2 {
                assert_eq!(s.kept.len(), 0, "{how}");
                continue;
            }
            let r0 = base.join(format!("region{}", kept::CAPACITY + 3));
            let dev = devs.last().unwrap();
            // Rewritten in place: the kept descriptor reads the new value.
            fs::write(r0.join("holder"), "pfn0.0\n").unwrap();
            assert_eq!(
                dev.opt("holder").unwrap().as_deref(),
                Some("pfn0.0"),
                "{how}"
            );
            // Replaced by a rename (outside sysfs the old inode stays readable): the path's
            // new file is read, not the kept one.
            fs::write(r0.join("holder.new"), "dax0.0\n").unwrap();
            fs::rename(r0.join("holder.new"), r0.join("holder")).unwrap();
            assert_eq!(
                dev.opt("holder").unwrap().as_deref(),
                Some("dax0.0"),
                "{how}"
            );
            // Removed: missing, as without a kept descriptor.
            fs::remove_file(r0.join("holder")).unwrap();
            assert_eq!(dev.read_fresh("holder").unwrap(), Attr::Missing, "{how}");
            // An invalidation closes the device's kept descriptors.
            fs::write(r0.join("holder"), "btt9.9\n").unwrap();
            assert_eq!(
                dev.opt("holder").unwrap().as_deref(),
                Some("btt9.9"),
                "{how}"
            );
            let before = s.kept.len();
            dev.invalidate();
            assert_eq!(s.kept.len(), before - 1, "{how}");
        }
    }

    #[test]
    fn a_batch_leaves_open_only_its_own_descriptors_until_the_next_submission() {
        for (dir, s, how) in ways() {
            let s = Arc::new(s);
            let base = dir.path().join("sys/devices/bus0");
            let devs: Vec<Device> = (0..40)
                .map(|i| {
                    let d = base.join(format!("region{i}"));
                    fs::create_dir_all(&d).unwrap();
                    fs::write(d.join("size"), format!("{i}\n")).unwrap();
                    fs::write(d.join("holder"), format!("btt{i}.0\n")).unwrap();
                    Device::with_attrs(
                        Arc::clone(&s),
                        PathBuf::from(format!("/sys/devices/bus0/region{i}")),
                        &TEST_ATTRS,
                    )
                })
                .collect();
            let mut checked = 0;
            for (i, dev) in devs.iter().enumerate() {
                assert_eq!(dev.opt("size").unwrap().as_deref(), Some(&*i.to_string()));
                let waiting = s.ring_waiting().unwrap_or_default();
                // At most this device's files and its directory, not those of the devices
                // before: each submission closed what the one before left.
                assert!(
                    waiting.len() <= TEST_ATTRS.cached.len() + 1,
                    "{how}: {} descriptors waiting after device {i}",
                    waiting.len()
                );
                checked += usize::from(!waiting.is_empty());
                for fd in waiting {
                    // SAFETY: F_GETFD only reads the descriptor's flags.
                    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
                    assert!(flags >= 0, "{how}: descriptor {fd} is open");
                    assert_ne!(flags & libc::FD_CLOEXEC, 0, "{how}: {fd} is close-on-exec");
                }
            }
            if how == "io_uring" && s.resolver() == Resolver::Openat2 {
                if s.uses_io_uring() {
                    assert_eq!(
                        checked,
                        devs.len(),
                        "{how}: every batch went through the ring"
                    );
                } else {
                    eprintln!("io_uring unavailable here: no waiting descriptors to check");
                }
            }
        }
    }

    #[test]
    fn a_fresh_read_of_a_file_swapped_for_a_link_or_fifo_keeps_the_rules() {
        for (dir, s, how) in ways() {
            let s = Arc::new(s);
            let r = dir.path().join("sys/devices/bus0/region0");
            fs::write(r.join("holder"), "a\n").unwrap();
            let dev = Device::with_attrs(
                Arc::clone(&s),
                PathBuf::from("/sys/devices/bus0/region0"),
                &TEST_ATTRS,
            );
            assert_eq!(dev.opt("holder").unwrap().as_deref(), Some("a"), "{how}");
            // Listed as a regular file, now a link out of the root: refused.
            fs::remove_file(r.join("holder")).unwrap();
            symlink("/../../../../etc/passwd", r.join("holder")).unwrap();
            assert!(
                matches!(dev.read_fresh("holder"), Err(Error::Escape { .. })),
                "{how}"
            );
            // Now a FIFO (after the listing that showed a regular file): the read returns
            // at once, whatever it gives (no writer: nothing).
            fs::remove_file(r.join("holder")).unwrap();
            nix::unistd::mkfifo(&r.join("holder"), nix::sys::stat::Mode::S_IRWXU).unwrap();
            assert!(
                !matches!(dev.read_fresh("holder"), Ok(Attr::Value(v)) if !v.is_empty()),
                "{how}"
            );
            // Listed again (after an invalidation), it is refused without being opened.
            dev.invalidate();
            assert!(
                matches!(
                    dev.read_fresh("holder"),
                    Err(Error::NotRegular { what: "a FIFO", .. })
                ),
                "{how}"
            );
        }
    }
}

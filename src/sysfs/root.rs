//! Confinement of paths in the root: the one place that calls into the file system for
//! sysfs and `/dev`.
//!
//! A [`Root`] holds a directory file descriptor of the root. Paths are never turned into
//! host path strings: the resolver walks an in-root path one component at a time, each
//! looked up relative to the descriptor of the directory before it, never following a
//! link implicitly (`O_NOFOLLOW`, `AT_SYMLINK_NOFOLLOW`). It reads links itself and
//! interprets their targets inside the root: an absolute target starts again at the root,
//! and a `..` that would climb above the root is refused ([`Error::Escape`]). What comes out
//! is a [`Resolved`] path, a type only the resolver can make, and every read, write,
//! directory listing and link read takes one.
//!
//! Opening a resolved path again goes through `openat2(RESOLVE_IN_ROOT |
//! RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS)` where the kernel has it (Linux 5.6+, and
//! not forbidden by a seccomp filter): even if the tree changes between resolution and
//! open, the kernel does not let the open leave the root or follow a link. Elsewhere the
//! same walk with `O_NOFOLLOW` at every component does the open.
//!
//! Only regular files are read or written: the type is checked with `fstatat` before the
//! open (so a FIFO or device node is never opened) and again on the open descriptor (so a
//! file swapped in between is caught), and files are opened with `O_NONBLOCK`.

use std::collections::VecDeque;
use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{is_exhaustion, Error, Result};

/// Same bound as the kernel's `MAXSYMLINKS`.
const MAX_SYMLINKS: usize = 40;

/// How paths are opened inside the root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolver {
    /// `openat2()` with `RESOLVE_IN_ROOT` where the kernel offers it, else [`Resolver::Userspace`].
    Auto,
    /// The component-by-component walk over directory descriptors only (what `Auto` falls
    /// back to on kernels before 5.6 or under a seccomp filter that forbids `openat2`).
    Userspace,
    /// `openat2()` with `RESOLVE_IN_ROOT`; reported by [`Root::resolver`] when in use.
    Openat2,
}

/// An in-root path every component of which the resolver has looked up: absolute, without
/// `.` or `..`, and (apart from the last component of a no-follow resolution) without
/// symbolic links. Only [`Root`] makes one, so a function taking a `&Resolved` cannot be
/// handed a path that was merely joined together.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Resolved(PathBuf);

impl Resolved {
    /// The in-root path (e.g. `/sys/devices/.../region1`).
    pub fn as_path(&self) -> &Path {
        &self.0
    }

    /// The path as an owned in-root path.
    pub fn into_path_buf(self) -> PathBuf {
        self.0
    }

    fn parent_and_name(&self) -> Option<(PathBuf, &OsStr)> {
        Some((self.0.parent()?.to_path_buf(), self.0.file_name()?))
    }
}

impl std::ops::Deref for Resolved {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Resolved {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

/// What the resolver found at the end of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A directory.
    Dir,
    /// A regular file.
    File,
    /// A symbolic link (only at the end of a no-follow resolution).
    Symlink,
    /// A character or block device node.
    Device,
    /// Anything else: FIFO, socket.
    Other,
}

impl Kind {
    fn of(mode: libc::mode_t) -> Kind {
        match mode & libc::S_IFMT {
            libc::S_IFDIR => Kind::Dir,
            libc::S_IFREG => Kind::File,
            libc::S_IFLNK => Kind::Symlink,
            libc::S_IFCHR | libc::S_IFBLK => Kind::Device,
            _ => Kind::Other,
        }
    }

    fn describe(mode: libc::mode_t) -> &'static str {
        match mode & libc::S_IFMT {
            libc::S_IFDIR => "a directory",
            libc::S_IFLNK => "a symbolic link",
            libc::S_IFCHR => "a character device",
            libc::S_IFBLK => "a block device",
            libc::S_IFIFO => "a FIFO",
            libc::S_IFSOCK => "a socket",
            _ => "not a regular file",
        }
    }
}

/// The root directory, held open.
#[derive(Debug)]
pub struct Root {
    fd: OwnedFd,
    host: PathBuf,
    openat2: AtomicBool,
    /// Why `openat2` is not used although it was asked for (for the context's log).
    fallback_reason: Option<String>,
    /// The tree's `sys` directory and what it is mounted on, found on first use.
    sys: std::sync::OnceLock<Option<SysMount>>,
}

/// The file system the tree's `sys` directory lives on, as far as reading it cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SysFs {
    /// sysfs (kernfs): only directories, links and attribute files, which answer a read
    /// at offset 0 with the value of that moment and `ENODEV` once removed.
    Sysfs,
    /// tmpfs (the generated trees of tests and benchmarks).
    Tmpfs,
    /// Anything else.
    Other,
}

impl SysFs {
    /// How a listing's end shows on this file system (see [`ListingEnd`]).
    pub(crate) fn listing_end(self) -> ListingEnd {
        match self {
            SysFs::Sysfs => ListingEnd::KernfsMark,
            SysFs::Tmpfs | SysFs::Other => ListingEnd::EmptyCall,
        }
    }
}

/// `<root>/sys`, opened confined, and its file system.
#[derive(Debug)]
struct SysMount {
    fd: OwnedFd,
    fs: SysFs,
}

/// `statfs.f_type` of sysfs and of tmpfs.
const SYSFS_MAGIC: i64 = 0x6265_6572;
const TMPFS_MAGIC: i64 = 0x0102_1994;

/// How an open below a directory descriptor resolves: beneath it, on its mount, no links.
pub(crate) const RESOLVE_BELOW: u64 = libc::RESOLVE_BENEATH
    | libc::RESOLVE_NO_XDEV
    | libc::RESOLVE_NO_SYMLINKS
    | libc::RESOLVE_NO_MAGICLINKS;

/// What file system `fd` lives on (one `fstatfs`); `Other` if it cannot tell.
pub(crate) fn fs_of(fd: RawFd) -> SysFs {
    let mut st = std::mem::MaybeUninit::<libc::statfs>::uninit();
    // SAFETY: a valid descriptor and a buffer of the right type.
    if unsafe { libc::fstatfs(fd, st.as_mut_ptr()) } != 0 {
        return SysFs::Other;
    }
    // SAFETY: fstatfs filled it. (`f_type`'s integer type differs between targets.)
    #[allow(clippy::unnecessary_cast)]
    let t = unsafe { st.assume_init() }.f_type as i64;
    match t {
        SYSFS_MAGIC => SysFs::Sysfs,
        TMPFS_MAGIC => SysFs::Tmpfs,
        _ => SysFs::Other,
    }
}

fn cstr(name: &OsStr) -> io::Result<CString> {
    CString::new(name.as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn openat(dir: RawFd, name: &OsStr, flags: libc::c_int) -> io::Result<OwnedFd> {
    let c = cstr(name)?;
    // SAFETY: a valid NUL-terminated name; the returned descriptor is owned by us.
    let fd = cvt(unsafe { libc::openat(dir, c.as_ptr(), flags | libc::O_CLOEXEC, 0) })?;
    // SAFETY: fd was just returned by openat and is not owned elsewhere.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn lstat_at(dir: RawFd, name: &OsStr) -> io::Result<libc::stat> {
    let c = cstr(name)?;
    // SAFETY: stat is plain data; fstatat fills it on success.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid descriptor, name and output buffer.
    cvt(unsafe { libc::fstatat(dir, c.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) })?;
    Ok(st)
}

fn fstat(fd: RawFd) -> io::Result<libc::stat> {
    // SAFETY: as in lstat_at.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid descriptor and output buffer.
    cvt(unsafe { libc::fstat(fd, &mut st) })?;
    Ok(st)
}

fn readlink_at(dir: RawFd, name: &OsStr) -> io::Result<PathBuf> {
    let c = cstr(name)?;
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    // SAFETY: the buffer is writable for its full length.
    let n = unsafe { libc::readlinkat(dir, c.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let n = n as usize;
    if n >= buf.len() {
        return Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
    }
    buf.truncate(n);
    Ok(PathBuf::from(OsString::from_vec(buf)))
}

#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

fn openat2(dir: RawFd, path: &OsStr, flags: libc::c_int) -> io::Result<OwnedFd> {
    openat2_resolve(
        dir,
        path,
        flags,
        libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS | libc::RESOLVE_NO_SYMLINKS,
    )
}

fn openat2_resolve(
    dir: RawFd,
    path: &OsStr,
    flags: libc::c_int,
    resolve: u64,
) -> io::Result<OwnedFd> {
    let c = cstr(path)?;
    let how = OpenHow {
        flags: (flags | libc::O_CLOEXEC) as u64,
        mode: 0,
        resolve,
    };
    // SAFETY: openat2(2) with a valid descriptor, path and open_how of the size passed.
    let r = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir,
            c.as_ptr(),
            &how as *const OpenHow,
            std::mem::size_of::<OpenHow>(),
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new descriptor returned by the kernel, owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(r as RawFd) })
}

fn components(path: &Path) -> VecDeque<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => None,
        })
        .collect()
}

/// A directory of the walk: its name and its descriptor.
struct Step {
    name: OsString,
    fd: OwnedFd,
}

impl Root {
    /// Open `host` (a host directory, trusted: it is the caller's choice of root).
    pub fn open(host: &Path, resolver: Resolver) -> Result<Root> {
        let host = std::fs::canonicalize(host).map_err(|source| Error::Root {
            root: host.to_path_buf(),
            source,
        })?;
        let c = cstr(host.as_os_str()).map_err(|source| Error::Root {
            root: host.clone(),
            source,
        })?;
        // SAFETY: valid NUL-terminated path.
        let fd = unsafe {
            libc::open(
                c.as_ptr(),
                libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(Error::Root {
                root: host,
                source: io::Error::last_os_error(),
            });
        }
        // SAFETY: fd was just opened and is owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let mut fallback_reason = None;
        let use_openat2 = match resolver {
            Resolver::Userspace => false,
            Resolver::Auto | Resolver::Openat2 => {
                // Probe once: ENOSYS (kernel < 5.6) or EPERM (seccomp) mean "not here".
                match openat2(fd.as_raw_fd(), OsStr::new("."), libc::O_PATH) {
                    Ok(_) => true,
                    // Out of descriptors or memory says nothing about the kernel; a
                    // fallback chosen for it would stay for the context's life.
                    Err(e) if resolver == Resolver::Openat2 || is_exhaustion(&e) => {
                        return Err(Error::Root {
                            root: host,
                            source: e,
                        })
                    }
                    Err(e) => {
                        fallback_reason = Some(format!("openat2 unavailable ({e})"));
                        false
                    }
                }
            }
        };
        Ok(Root {
            fd,
            host,
            openat2: AtomicBool::new(use_openat2),
            fallback_reason,
            sys: std::sync::OnceLock::new(),
        })
    }

    /// The host directory used as `/`.
    pub fn host(&self) -> &Path {
        &self.host
    }

    /// Which resolver opens files: [`Resolver::Openat2`] or [`Resolver::Userspace`].
    pub fn resolver(&self) -> Resolver {
        if self.openat2.load(Ordering::Relaxed) {
            Resolver::Openat2
        } else {
            Resolver::Userspace
        }
    }

    /// Why the userspace resolver is used although `openat2` was asked for, if so.
    pub fn fallback_reason(&self) -> Option<&str> {
        self.fallback_reason.as_deref()
    }

    /// Resolve an in-root path like `realpath(3)` inside the root: every link is read and
    /// followed inside the root (with `follow_last` false the last component is kept even
    /// if it is a link). Every component must exist; errors name `path`.
    pub fn resolve(&self, path: &Path, follow_last: bool) -> Result<(Resolved, Kind)> {
        if let Some(done) = self.resolve_direct(path, follow_last) {
            return done;
        }
        let mut pending = components(path);
        let mut steps: Vec<Step> = Vec::new();
        let mut links = 0;
        let here = |steps: &[Step], name: &OsStr| -> PathBuf {
            let mut p = PathBuf::from("/");
            for s in steps {
                p.push(&s.name);
            }
            p.push(name);
            p
        };
        while let Some(part) = pending.pop_front() {
            if part == ".." {
                if steps.pop().is_none() {
                    return Err(Error::Escape {
                        path: path.to_path_buf(),
                        root: self.host.clone(),
                    });
                }
                continue;
            }
            let dir = steps
                .last()
                .map_or(self.fd.as_raw_fd(), |s| s.fd.as_raw_fd());
            let last = pending.is_empty();
            // Fast path for the common case, a real directory: one openat that refuses links.
            match openat(
                dir,
                &part,
                libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW,
            ) {
                Ok(fd) => {
                    steps.push(Step { name: part, fd });
                    continue;
                }
                Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTDIR | libc::ELOOP)) => {}
                Err(e) => return Err(Error::io(here(&steps, &part), e)),
            }
            let st = lstat_at(dir, &part).map_err(|e| Error::io(here(&steps, &part), e))?;
            let kind = Kind::of(st.st_mode);
            match kind {
                Kind::Symlink if last && !follow_last => {
                    return Ok((Resolved(here(&steps, &part)), kind));
                }
                Kind::Symlink => {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(Error::Loop {
                            path: path.to_path_buf(),
                        });
                    }
                    let target =
                        readlink_at(dir, &part).map_err(|e| Error::io(here(&steps, &part), e))?;
                    if target.is_absolute() {
                        steps.clear();
                    }
                    for c in components(&target).into_iter().rev() {
                        pending.push_front(c);
                    }
                }
                // Became a directory since the open above: the tree is changing under us.
                Kind::Dir => {
                    return Err(Error::io(
                        here(&steps, &part),
                        io::Error::from_raw_os_error(libc::EAGAIN),
                    ))
                }
                _ if last => return Ok((Resolved(here(&steps, &part)), kind)),
                _ => {
                    return Err(Error::io(
                        here(&steps, &part),
                        io::Error::from_raw_os_error(libc::ENOTDIR),
                    ))
                }
            }
        }
        let mut out = PathBuf::from("/");
        for s in &steps {
            out.push(&s.name);
        }
        Ok((Resolved(out), Kind::Dir))
    }

    /// The in-root path as a name relative to the root descriptor, if it holds only plain
    /// components (no `.`, `..`): such a path names itself when no component is a link.
    pub(crate) fn plain_relative(path: &Path) -> Option<&OsStr> {
        // On the bytes: every lookup comes here, and `Path::components` costs more than
        // the check. A path `components` would also accept (`a//b`, `a/./b`, a trailing
        // slash) is refused and takes the walk.
        let rel = path.as_os_str().as_bytes().strip_prefix(b"/")?;
        let plain = !rel.is_empty()
            && rel
                .split(|&b| b == b'/')
                .all(|c| !c.is_empty() && c != b"." && c != b"..");
        plain.then(|| OsStr::from_bytes(rel))
    }

    /// `path` (a plain relative path, see [`Root::plain_relative`]) relative to `sys`.
    fn below_sys(rel: &OsStr) -> Option<&Path> {
        let below = rel.as_bytes().strip_prefix(b"sys/")?;
        Some(Path::new(OsStr::from_bytes(below)))
    }

    /// The common case in one system call: with `openat2`, a plain path whose components
    /// are no links is resolved by the kernel inside the root (`RESOLVE_NO_SYMLINKS`, and
    /// an `O_PATH | O_NOFOLLOW` open that stops at a final link). `None` when the path
    /// needs the walk (a link on the way, a final link to follow, no `openat2`): the walk
    /// then decides, with its exact errors. A missing component is reported here, naming
    /// the whole path.
    fn resolve_direct(&self, path: &Path, follow_last: bool) -> Option<Result<(Resolved, Kind)>> {
        if !self.openat2.load(Ordering::Relaxed) {
            return None;
        }
        let rel = Self::plain_relative(path)?;
        match openat2(self.fd.as_raw_fd(), rel, libc::O_PATH | libc::O_NOFOLLOW) {
            Ok(fd) => {
                let kind = Kind::of(fstat(fd.as_raw_fd()).ok()?.st_mode);
                if kind == Kind::Symlink && follow_last {
                    return None;
                }
                Some(Ok((Resolved(path.to_path_buf()), kind)))
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Some(Err(Error::io(path, e))),
            Err(_) => None,
        }
    }

    /// Open a plain in-root path that holds no link as a regular file for reading, in
    /// the fewest calls that keep the guarantees: an `O_PATH` open (which opens no
    /// device) whose type is checked, then the real open, checked to be the same file.
    /// `None` when the path needs the walk of [`Root::resolve`].
    pub fn open_regular_direct(&self, path: &Path) -> Option<Result<File>> {
        if !self.openat2.load(Ordering::Relaxed) {
            return None;
        }
        let rel = Self::plain_relative(path)?;
        let err = |e| Error::io(path, e);
        // Below /sys, relative to `sys` without leaving its mount (a mount point on the
        // way: from the root). sysfs holds no device node or FIFO, so there the file is
        // opened at once, without the probe, and its type checked on the descriptor.
        let open = |flags: libc::c_int| match self.open_on_sys(path, flags) {
            Some((Err(e), _)) if e.raw_os_error() == Some(libc::EXDEV) => {
                (openat2(self.fd.as_raw_fd(), rel, flags), SysFs::Other)
            }
            Some(done) => done,
            None => (openat2(self.fd.as_raw_fd(), rel, flags), SysFs::Other),
        };
        let rw = libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOFOLLOW;
        if self.sys_mount().is_some_and(|m| m.fs == SysFs::Sysfs) {
            // Only what stays on the sysfs mount is opened unprobed: a path that crosses a
            // mount point (EXDEV) may end at anything bound there, and takes the probe.
            match self.open_on_sys(path, rw) {
                Some((Ok(fd), SysFs::Sysfs)) => {
                    return Some(match fstat(fd.as_raw_fd()) {
                        Ok(st) if Kind::of(st.st_mode) == Kind::File => Ok(File::from(fd)),
                        Ok(st) => Err(Error::NotRegular {
                            path: path.to_path_buf(),
                            what: Kind::describe(st.st_mode),
                        }),
                        Err(e) => Err(err(e)),
                    })
                }
                Some((Err(e), SysFs::Sysfs)) if e.raw_os_error() != Some(libc::EXDEV) => {
                    return match e.raw_os_error() {
                        Some(libc::ENOENT) => Some(Err(err(e))),
                        _ => None,
                    }
                }
                _ => {}
            }
        }
        let probe = match open(libc::O_PATH | libc::O_NOFOLLOW).0 {
            Ok(fd) => fd,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Some(Err(err(e))),
            Err(_) => return None,
        };
        let before = match fstat(probe.as_raw_fd()) {
            Ok(st) => st,
            Err(e) => return Some(Err(err(e))),
        };
        match Kind::of(before.st_mode) {
            Kind::File => {}
            Kind::Symlink => return None,
            _ => {
                return Some(Err(Error::NotRegular {
                    path: path.to_path_buf(),
                    what: Kind::describe(before.st_mode),
                }))
            }
        }
        drop(probe);
        let fd = match open(rw).0 {
            Ok(fd) => fd,
            Err(e) => return Some(Err(err(e))),
        };
        let after = match fstat(fd.as_raw_fd()) {
            Ok(st) => st,
            Err(e) => return Some(Err(err(e))),
        };
        if after.st_dev != before.st_dev
            || after.st_ino != before.st_ino
            || Kind::of(after.st_mode) != Kind::File
        {
            return Some(Err(Error::NotRegular {
                path: path.to_path_buf(),
                what: "replaced while being opened",
            }));
        }
        Some(Ok(File::from(fd)))
    }

    /// The root's descriptor, for requests the ring makes relative to it (each with
    /// `RESOLVE_IN_ROOT`).
    pub(crate) fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Whether `path` ends in a symbolic link, in one call where `openat2` is available:
    /// the path is opened as a directory with `RESOLVE_NO_SYMLINKS`, so a final link is
    /// refused with ELOOP before anything is opened. Only for paths whose directory is
    /// known to be free of links (a device directory as the resolver made it): an ELOOP
    /// then names the last component. `None` when the answer needs the walk.
    pub(crate) fn ends_in_link(&self, path: &Path) -> Option<bool> {
        if !self.openat2.load(Ordering::Relaxed) {
            return None;
        }
        let rel = Self::plain_relative(path)?;
        match openat2(self.fd.as_raw_fd(), rel, libc::O_PATH | libc::O_DIRECTORY) {
            Ok(_) => Some(false),
            Err(e) => match e.raw_os_error() {
                Some(libc::ELOOP) => Some(true),
                Some(libc::ENOENT | libc::ENOTDIR) => Some(false),
                _ => None,
            },
        }
    }

    /// The file system of the tree's `sys` directory, where it is known (it is opened
    /// confined, with `openat2`).
    pub(crate) fn sys_fs(&self) -> Option<SysFs> {
        self.sys_mount().map(|m| m.fs)
    }

    /// `<root>/sys` and its file system, opened on first use (a tree without it yet is
    /// asked again next time, as is one that ran out of descriptors or memory; any other
    /// failure is final).
    fn sys_mount(&self) -> Option<&SysMount> {
        if let Some(m) = self.sys.get() {
            return m.as_ref();
        }
        if !self.openat2.load(Ordering::Relaxed) {
            return None;
        }
        let m = match openat2(
            self.fd.as_raw_fd(),
            OsStr::new("sys"),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW,
        ) {
            Ok(fd) => Some(SysMount {
                fs: fs_of(fd.as_raw_fd()),
                fd,
            }),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) || is_exhaustion(&e) => return None,
            Err(_) => None,
        };
        self.sys.get_or_init(|| m).as_ref()
    }

    /// Opens the plain in-root path `path` below `/sys` relative to the tree's `sys`
    /// directory without leaving its mount (`RESOLVE_BENEATH | RESOLVE_NO_XDEV`, no
    /// links): what it opens lives on the file system [`Root::sys_mount`] found, so that
    /// is known without asking per file. `None` when the path is not of that shape or
    /// the tree has no such directory; `EXDEV` when the path crosses a mount point (the
    /// caller then opens it the general way).
    fn open_on_sys(&self, path: &Path, flags: libc::c_int) -> Option<(io::Result<OwnedFd>, SysFs)> {
        let rel = Self::below_sys(Self::plain_relative(path)?)?;
        let sys = self.sys_mount()?;
        let resolve = RESOLVE_BELOW;
        Some((
            openat2_resolve(sys.fd.as_raw_fd(), rel.as_os_str(), flags, resolve),
            sys.fs,
        ))
    }

    /// The tree's `sys` directory (a descriptor that stays the root's) and `path`
    /// relative to it, for opens that must not leave its mount (see
    /// [`Root::open_on_sys`]); `None` for a path not below `/sys` or a tree without it.
    pub(crate) fn sys_relative<'a>(&self, path: &'a Path) -> Option<(RawFd, &'a Path)> {
        let rel = Self::below_sys(Self::plain_relative(path)?)?;
        Some((self.sys_mount()?.fd.as_raw_fd(), rel))
    }

    /// Open a plain in-root path already known to be a regular file (its directory
    /// listing said so) for reading: one `openat2` confined to the root (below `/sys`,
    /// to its mount: see [`Root::open_on_sys`]), no links, `O_NONBLOCK | O_NOFOLLOW`, so
    /// a file swapped since cannot block, be a link or lead out of the root. With the
    /// file, whether it is known to be on sysfs (`None`: not known). `None` when the path
    /// needs the walk.
    pub(crate) fn open_known_regular(
        &self,
        path: &Path,
    ) -> Option<io::Result<(File, Option<bool>)>> {
        if !self.openat2.load(Ordering::Relaxed) {
            return None;
        }
        let flags = libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOFOLLOW;
        match self.open_on_sys(path, flags) {
            Some((Ok(fd), fs)) => return Some(Ok((File::from(fd), Some(fs == SysFs::Sysfs)))),
            Some((Err(e), _)) if e.raw_os_error() != Some(libc::EXDEV) => return Some(Err(e)),
            _ => {}
        }
        let rel = Self::plain_relative(path)?;
        Some(openat2(self.fd.as_raw_fd(), rel, flags).map(|fd| (File::from(fd), None)))
    }

    /// Open the directory `dir` for listing and as the base of one-component opens,
    /// refusing any link on the way (a link anywhere is an error, ELOOP with `openat2`).
    /// With it, how the end of its listing shows ([`SysFs::listing_end`]; the general
    /// way when the file system is not known).
    pub(crate) fn open_dir_for_batch(&self, dir: &Path) -> io::Result<(OwnedFd, ListingEnd)> {
        let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW;
        match self.open_on_sys(dir, flags) {
            Some((Ok(fd), fs)) => return Ok((fd, fs.listing_end())),
            Some((Err(e), _)) if e.raw_os_error() != Some(libc::EXDEV) => return Err(e),
            _ => {}
        }
        self.open_dir(dir, libc::O_RDONLY)
            .map(|fd| (fd, ListingEnd::EmptyCall))
    }

    /// Open the directory `dir` (resolved) with `flags`, refusing any link on the way.
    fn open_dir(&self, dir: &Path, flags: libc::c_int) -> io::Result<OwnedFd> {
        let flags = flags | libc::O_DIRECTORY | libc::O_NOFOLLOW;
        let rel = dir.strip_prefix("/").unwrap_or(dir);
        if self.openat2.load(Ordering::Relaxed) {
            let rel = if rel.as_os_str().is_empty() {
                OsStr::new(".")
            } else {
                rel.as_os_str()
            };
            return openat2(self.fd.as_raw_fd(), rel, flags);
        }
        let parts: Vec<OsString> = components(rel).into_iter().collect();
        if parts.is_empty() {
            return openat(self.fd.as_raw_fd(), OsStr::new("."), flags);
        }
        let mut cur: Option<OwnedFd> = None;
        for (i, part) in parts.iter().enumerate() {
            if part == ".." {
                return Err(io::Error::from_raw_os_error(libc::EXDEV));
            }
            let f = if i + 1 == parts.len() {
                flags
            } else {
                libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW
            };
            let dir = cur.as_ref().map_or(self.fd.as_raw_fd(), |f| f.as_raw_fd());
            cur = Some(openat(dir, part, f)?);
        }
        cur.ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))
    }

    /// The parent directory of `p` (opened as a path-only descriptor) and the last name.
    fn parent(&self, p: &Resolved) -> io::Result<(OwnedFd, OsString)> {
        let (parent, name) = p
            .parent_and_name()
            .ok_or_else(|| io::Error::from_raw_os_error(libc::EISDIR))?;
        Ok((self.open_dir(&parent, libc::O_PATH)?, name.to_os_string()))
    }

    /// Open the regular file `p` with `flags` (plus `O_NONBLOCK | O_NOFOLLOW`). Anything
    /// but a regular file is refused without being opened.
    pub fn open_regular(&self, p: &Resolved, flags: libc::c_int) -> Result<File> {
        self.open_checked(p, flags, &[Kind::File])
    }

    /// Open `p` with `flags` if its type is one of `allowed` (checked before and after the
    /// open, which has `O_NONBLOCK | O_NOFOLLOW`).
    pub fn open_checked(&self, p: &Resolved, flags: libc::c_int, allowed: &[Kind]) -> Result<File> {
        let err = |e| Error::io(p.as_path(), e);
        let (dir, name) = self.parent(p).map_err(err)?;
        let before = lstat_at(dir.as_raw_fd(), &name).map_err(err)?;
        if !allowed.contains(&Kind::of(before.st_mode)) {
            return Err(Error::NotRegular {
                path: p.as_path().to_path_buf(),
                what: Kind::describe(before.st_mode),
            });
        }
        let fd = openat(
            dir.as_raw_fd(),
            &name,
            flags | libc::O_NONBLOCK | libc::O_NOFOLLOW,
        )
        .map_err(err)?;
        let after = fstat(fd.as_raw_fd()).map_err(err)?;
        if after.st_dev != before.st_dev
            || after.st_ino != before.st_ino
            || !allowed.contains(&Kind::of(after.st_mode))
        {
            return Err(Error::NotRegular {
                path: p.as_path().to_path_buf(),
                what: "replaced while being opened",
            });
        }
        Ok(File::from(fd))
    }

    /// Open the character device `p` if it is numbered `rdev` (checked before the open, so a
    /// FIFO or another device is never opened, and again on the opened file). Anything else
    /// is ENXIO, as libndctl treats a control node that is not the object's device.
    pub fn open_char_device(
        &self,
        p: &Resolved,
        flags: libc::c_int,
        rdev: libc::dev_t,
    ) -> Result<File> {
        let err = |e| Error::io(p.as_path(), e);
        let is_it =
            |st: &libc::stat| st.st_mode & libc::S_IFMT == libc::S_IFCHR && st.st_rdev == rdev;
        let (dir, name) = self.parent(p).map_err(err)?;
        let before = lstat_at(dir.as_raw_fd(), &name).map_err(err)?;
        if !is_it(&before) {
            return Err(err(io::Error::from_raw_os_error(libc::ENXIO)));
        }
        let fd = openat(dir.as_raw_fd(), &name, flags | libc::O_NOFOLLOW).map_err(err)?;
        let after = fstat(fd.as_raw_fd()).map_err(err)?;
        if after.st_ino != before.st_ino || !is_it(&after) {
            return Err(err(io::Error::from_raw_os_error(libc::ENXIO)));
        }
        Ok(File::from(fd))
    }

    /// The entries of the directory `p` in `readdir()` order, `.` and `..` left out, each
    /// with whether it is a symbolic link.
    pub fn read_dir(&self, p: &Resolved) -> Result<Vec<(OsString, bool)>> {
        let fd = self
            .open_dir(p, libc::O_RDONLY)
            .map_err(|e| Error::io(p.as_path(), e))?;
        self.read_dir_fd(p, fd, ListingEnd::EmptyCall)
    }

    /// Like [`Root::read_dir`] for a plain path that was not resolved, in the fewest calls:
    /// with `openat2` the directory is opened directly, links refused. `None` when the
    /// path needs the walk (a link on the way, no `openat2`).
    pub fn read_dir_direct(&self, path: &Path) -> Option<Result<Vec<(OsString, bool)>>> {
        if !self.openat2.load(Ordering::Relaxed) {
            return None;
        }
        Self::plain_relative(path)?;
        match self.open_dir_for_batch(path) {
            Ok((fd, end)) => Some(self.read_dir_fd(path, fd, end)),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Some(Err(Error::io(path, e))),
            Err(_) => None,
        }
    }

    fn read_dir_fd(&self, p: &Path, fd: OwnedFd, end: ListingEnd) -> Result<Vec<(OsString, bool)>> {
        let mut out = Vec::new();
        dir_entries(&fd, end, |name, dtype| {
            let name = OsStr::from_bytes(name);
            let is_link = match dtype {
                libc::DT_LNK => true,
                libc::DT_UNKNOWN => lstat_at(fd.as_raw_fd(), name)
                    .map(|st| Kind::of(st.st_mode) == Kind::Symlink)
                    .unwrap_or(false),
                _ => false,
            };
            out.push((name.to_os_string(), is_link));
        })
        .map_err(|e| Error::io(p, e))?;
        Ok(out)
    }

    /// The target of the link `p` (a no-follow resolution ending in a link).
    pub fn read_link(&self, p: &Resolved) -> Result<PathBuf> {
        let err = |e| Error::io(p.as_path(), e);
        let (dir, name) = self.parent(p).map_err(err)?;
        readlink_at(dir.as_raw_fd(), &name).map_err(err)
    }
}

/// How the end of a directory shows in `getdents64`.
///
/// A call may stop before the directory ends and return what it has: the kernel's
/// `filldir64` stops between two entries when the caller has a signal pending, and
/// io_uring flags its submitter that way (`TIF_NOTIFY_SIGNAL`) when it queues work for
/// it. So a call that left room in its buffer is not the end, and only a file system
/// that marks the end says so in the first call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListingEnd {
    /// The end is a call that returns nothing.
    EmptyCall,
    /// kernfs (sysfs): once a listing has reached the end, the last record's `d_off`
    /// (the position a next call would start from) is `INT_MAX`; a listing that stopped
    /// early leaves there the name hash of the entry it stopped at, always below it.
    KernfsMark,
}

/// The `d_off` kernfs leaves in the last record of a listing that reached the end.
const KERNFS_END: i64 = i32::MAX as i64;

/// Calls `seen` with every entry of an open directory (`getdents64`), `.` and `..` left
/// out, and the type the file system reported (`DT_*`; `DT_UNKNOWN` where it reports
/// none). Nothing is kept: a region directory holds thousands of entries, of which the
/// caller wants a few. On sysfs ([`ListingEnd::KernfsMark`]) a directory listed in one
/// call costs one call.
pub(crate) fn dir_entries(
    fd: &OwnedFd,
    end: ListingEnd,
    seen: impl FnMut(&[u8], u8),
) -> io::Result<()> {
    const BUF: usize = 16 << 10;
    // Not zeroed (a listing per device: zeroing 16 KiB each time showed in profiles):
    // only the bytes the kernel wrote are made part of the vector and read.
    let mut buf: Vec<u8> = Vec::with_capacity(BUF);
    list_records(
        &mut buf,
        |buf| {
            buf.clear();
            // SAFETY: getdents64 writes at most the buffer's capacity into it; the
            // length is set to what it reports having written, capped at the capacity.
            let n = unsafe {
                libc::syscall(
                    libc::SYS_getdents64,
                    fd.as_raw_fd(),
                    buf.as_mut_ptr(),
                    buf.capacity(),
                )
            };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            let n = usize::try_from(n).unwrap_or(0).min(buf.capacity());
            // SAFETY: the kernel initialised the first `n` bytes (n <= capacity).
            unsafe { buf.set_len(n) };
            Ok(())
        },
        end,
        seen,
    )
}

/// The loop of [`dir_entries`], apart from the system call: `getdents` fills `buf` with
/// the next records (leaving it empty at the end of the directory).
fn list_records(
    buf: &mut Vec<u8>,
    mut getdents: impl FnMut(&mut Vec<u8>) -> io::Result<()>,
    end: ListingEnd,
    mut seen: impl FnMut(&[u8], u8),
) -> io::Result<()> {
    loop {
        match getdents(buf) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        if buf.is_empty() {
            return Ok(());
        }
        let last_off = dirent_records(buf, &mut seen)?;
        if end == ListingEnd::KernfsMark && last_off == Some(KERNFS_END) {
            return Ok(());
        }
    }
}

/// Calls `seen` with each record of one `getdents64` result (`struct linux_dirent64`:
/// u64 d_ino, i64 d_off, u16 d_reclen, u8 d_type, the name), `.` and `..` left out;
/// returns the last record's `d_off`. A record the buffer does not hold whole is EIO.
fn dirent_records(buf: &[u8], seen: &mut impl FnMut(&[u8], u8)) -> io::Result<Option<i64>> {
    let n = buf.len();
    let mut at = 0;
    let mut last_off = None;
    while at + 19 <= n {
        let reclen = u16::from_ne_bytes([buf[at + 16], buf[at + 17]]) as usize;
        if reclen < 19 || at + reclen > n {
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
        let mut off = [0u8; 8];
        off.copy_from_slice(&buf[at + 8..at + 16]);
        last_off = Some(i64::from_ne_bytes(off));
        let dtype = buf[at + 18];
        let name = &buf[at + 19..at + reclen];
        let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
        if name != b"." && name != b".." {
            seen(name, dtype);
        }
        at += reclen;
    }
    if at != n {
        return Err(io::Error::from_raw_os_error(libc::EIO));
    }
    Ok(last_off)
}

/// What a `DT_*` type is, in the words of [`Error::NotRegular`].
pub(crate) fn describe_dtype(dtype: u8) -> &'static str {
    match dtype {
        libc::DT_DIR => "a directory",
        libc::DT_LNK => "a symbolic link",
        libc::DT_CHR => "a character device",
        libc::DT_BLK => "a block device",
        libc::DT_FIFO => "a FIFO",
        libc::DT_SOCK => "a socket",
        _ => "not a regular file",
    }
}

/// Open `name` (one component) relative to the directory `dir` for reading, without
/// following a link, crossing a mount point or blocking: with `openat2`
/// (`RESOLVE_BENEATH | RESOLVE_NO_XDEV`), or else after an `lstat` that shows a regular
/// file (a directory listing reports what a mount covers, `lstat` what is mounted).
/// `ELOOP` or `EXDEV` when the name must go through the resolver instead.
pub(crate) fn open_in_dir(dir: &OwnedFd, name: &OsStr, use_openat2: bool) -> io::Result<File> {
    let flags = libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOFOLLOW;
    if use_openat2 {
        let resolve = RESOLVE_BELOW;
        return openat2_resolve(dir.as_raw_fd(), name, flags, resolve).map(File::from);
    }
    if Kind::of(lstat_at(dir.as_raw_fd(), name)?.st_mode) != Kind::File {
        return Err(io::Error::from_raw_os_error(libc::ELOOP));
    }
    openat(dir.as_raw_fd(), name, flags).map(File::from)
}

/// Read from an open file once into a buffer of `limit` bytes (one `read(2)`, as libndctl
/// reads an attribute).
pub fn read_once(file: &mut File, limit: usize) -> io::Result<Vec<u8>> {
    read_exact_size(limit, |buf| file.read(buf))
}

/// One read of at most `limit` bytes through `read`, returned in an allocation of the
/// size read (values outlive the call in caches: a buffer of the limit per value would
/// stay allocated with it).
pub(crate) fn read_exact_size(
    limit: usize,
    mut read: impl FnMut(&mut [u8]) -> io::Result<usize>,
) -> io::Result<Vec<u8>> {
    // Attributes are read with a limit of one kernel attribute buffer or less: zeroing a
    // page per read showed in profiles, a quarter of one does not.
    let mut stack = [0u8; super::ATTR_SIZE_LIMIT];
    let mut heap = Vec::new();
    let buf: &mut [u8] = if limit <= stack.len() {
        &mut stack[..limit]
    } else {
        heap.resize(limit, 0);
        &mut heap
    };
    let n = loop {
        match read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => break r?,
        }
    };
    Ok(buf[..n.min(buf.len())].to_vec())
}

/// Read an open file to its end, at most `limit` bytes (one more tells the caller it was
/// larger).
pub fn read_bounded(file: &mut File, limit: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    file.take(limit as u64 + 1).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Write `bytes` with a single `write(2)`; returns how many were taken.
pub fn write_once(file: &mut File, bytes: &[u8]) -> io::Result<usize> {
    loop {
        match file.write(bytes) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{list_records, ListingEnd, Root, KERNFS_END};
    use std::ffi::OsStr;
    use std::io;
    use std::path::Path;

    /// One `struct linux_dirent64` record as the kernel lays it out.
    fn record(name: &str, off: i64) -> Vec<u8> {
        let reclen = (19 + name.len() + 1).div_ceil(8) * 8;
        let mut r = vec![0u8; reclen];
        r[..8].copy_from_slice(&1u64.to_ne_bytes());
        r[8..16].copy_from_slice(&off.to_ne_bytes());
        r[16..18].copy_from_slice(&(reclen as u16).to_ne_bytes());
        r[18] = libc::DT_REG;
        r[19..19 + name.len()].copy_from_slice(name.as_bytes());
        r
    }

    /// Lists the calls' results in turn (then empty calls); the names seen and how many
    /// calls were made.
    fn list(calls: &[Vec<u8>], end: ListingEnd) -> io::Result<(Vec<String>, usize)> {
        let mut made = 0;
        let mut names = Vec::new();
        let mut buf = Vec::with_capacity(4096);
        list_records(
            &mut buf,
            |b| {
                b.clear();
                if let Some(c) = calls.get(made) {
                    b.extend_from_slice(c);
                }
                made += 1;
                Ok(())
            },
            end,
            |n, _| names.push(String::from_utf8_lossy(n).into_owned()),
        )?;
        Ok((names, made))
    }

    #[test]
    fn a_listing_that_stopped_early_is_read_on() {
        // What kernfs returns when a signal is pending after the dots: the dots alone,
        // the last d_off the hash of the entry it stopped at; then the rest, ending with
        // its end mark.
        let first = [record(".", 1), record("..", 2)].concat();
        let second = [record("nstype", 100), record("size", KERNFS_END)].concat();
        let (names, calls) =
            list(&[first.clone(), second.clone()], ListingEnd::KernfsMark).unwrap();
        assert_eq!(names, ["nstype", "size"]);
        assert_eq!(calls, 2, "the end mark saves the empty call");
        // Where there is no mark, only an empty call ends the listing.
        let (names, calls) = list(&[first, second], ListingEnd::EmptyCall).unwrap();
        assert_eq!(names, ["nstype", "size"]);
        assert_eq!(calls, 3);
    }

    #[test]
    fn a_kernfs_listing_whole_in_one_call_costs_one_call() {
        let all = [
            record(".", 1),
            record("..", 2),
            record("uevent", KERNFS_END),
        ]
        .concat();
        let (names, calls) = list(&[all], ListingEnd::KernfsMark).unwrap();
        assert_eq!((names, calls), (vec!["uevent".to_string()], 1));
        // An empty kernfs directory: the dots, the last one marked.
        let dots = [record(".", 1), record("..", KERNFS_END)].concat();
        assert_eq!(list(&[dots], ListingEnd::KernfsMark).unwrap(), (vec![], 1));
    }

    #[test]
    fn a_record_cut_short_is_an_error() {
        let mut r = record("namespace0.0", 5);
        r.truncate(r.len() - 3);
        let e = list(&[r.clone()], ListingEnd::EmptyCall).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EIO));
        // A record length smaller than the header.
        let mut bad = record("x", 5);
        bad[16..18].copy_from_slice(&8u16.to_ne_bytes());
        let e = list(&[bad], ListingEnd::EmptyCall).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EIO));
    }

    #[test]
    fn only_plain_absolute_paths_take_the_direct_way() {
        let rel = |p: &str| Root::plain_relative(Path::new(p)).map(OsStr::to_owned);
        assert_eq!(
            rel("/sys/devices/x").as_deref(),
            Some(OsStr::new("sys/devices/x"))
        );
        assert_eq!(rel("/a").as_deref(), Some(OsStr::new("a")));
        for walk in [
            "/", "", "a/b", "/a//b", "/a/./b", "/a/../b", "/..", "/a/", "/./a",
        ] {
            assert_eq!(rel(walk), None, "{walk:?}");
        }
        let sys = |p: &str| Root::below_sys(OsStr::new(p)).map(Path::to_owned);
        assert_eq!(sys("sys/class/nd").as_deref(), Some(Path::new("class/nd")));
        assert_eq!(sys("sys"), None);
        assert_eq!(sys("sysfs/x"), None);
        assert_eq!(sys("dev/x"), None);
    }
}

//! The only place that touches the file system for sysfs attributes and `/dev` nodes.
//!
//! Every path the library uses is an *in-root* absolute path such as
//! `/sys/devices/.../ndbus0/region1/size`. [`Sysfs`] maps it below the configured root
//! directory and resolves symbolic links itself, so that a link can never lead outside the
//! root (the kernel's links are relative, a fixture's may be hostile).

use std::collections::{HashMap, VecDeque};
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::{Error, Result};

// Control nodes and polled attributes (the command layer's file handles).
mod devnode;

/// libndctl refuses attributes of this size or more (`SYSFS_ATTR_SIZE`).
pub const ATTR_SIZE_LIMIT: usize = 1024;
/// Lists such as `badblocks` may be longer than one attribute buffer; cap them anyway so a
/// hostile file cannot make us allocate without bound.
const LIST_SIZE_LIMIT: usize = 16 << 20;
/// Same bound as the kernel's `MAXSYMLINKS`.
const MAX_SYMLINKS: usize = 40;

/// What reading an attribute gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attr {
    /// The contents, with one trailing newline removed.
    Value(String),
    /// The file does not exist.
    Missing,
    /// The kernel refused the read with ENXIO ("no such device or address"): libndctl treats
    /// such attributes (sizes of seed devices, some DIMM attributes) as unknown.
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
    root: PathBuf,
}

impl Sysfs {
    /// Use `root` (a host directory) as `/`. The directory must exist.
    pub fn new(root: impl Into<PathBuf>) -> Result<Sysfs> {
        let root = root.into();
        let root = fs::canonicalize(&root).map_err(|source| Error::Root {
            root: root.clone(),
            source,
        })?;
        let meta = fs::metadata(&root).map_err(|source| Error::Root {
            root: root.clone(),
            source,
        })?;
        if !meta.is_dir() {
            return Err(Error::Root {
                root,
                source: io::Error::from_raw_os_error(libc::ENOTDIR),
            });
        }
        Ok(Sysfs { root })
    }

    /// The host directory used as `/`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The host path of an in-root path, without resolving anything (e.g. to hand a
    /// device directory to a library that reads it itself, like libdaxctl).
    pub fn host_path(&self, path: &Path) -> PathBuf {
        self.host(path)
    }

    fn host(&self, path: &Path) -> PathBuf {
        let rel = path.strip_prefix("/").unwrap_or(path);
        if rel.as_os_str().is_empty() {
            self.root.clone()
        } else {
            self.root.join(rel)
        }
    }

    /// Resolve every symbolic link of an in-root path, like `realpath(3)` inside the root.
    ///
    /// Absolute link targets are taken relative to the root; a `..` that would climb above
    /// the root is an [`Error::Escape`]. Every component must exist.
    pub fn resolve(&self, path: &Path) -> Result<PathBuf> {
        let mut pending: VecDeque<OsString> = VecDeque::new();
        push_components(&mut pending, path, false);
        let mut out = PathBuf::from("/");
        let mut links = 0;
        while let Some(part) = pending.pop_front() {
            if part == "." {
                continue;
            }
            if part == ".." {
                if !out.pop() {
                    return Err(Error::Escape {
                        path: path.to_path_buf(),
                        root: self.root.clone(),
                    });
                }
                continue;
            }
            let candidate = out.join(&part);
            let host = self.host(&candidate);
            let meta = fs::symlink_metadata(&host).map_err(|e| Error::io(&candidate, e))?;
            if meta.file_type().is_symlink() {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(Error::Loop {
                        path: path.to_path_buf(),
                    });
                }
                let target = fs::read_link(&host).map_err(|e| Error::io(&candidate, e))?;
                if target.is_absolute() {
                    out = PathBuf::from("/");
                }
                push_components(&mut pending, &target, true);
            } else {
                out = candidate;
            }
        }
        Ok(out)
    }

    /// Open `dir/name` for reading or writing after resolving it inside the root.
    ///
    /// The fast path opens the host path with `O_NOFOLLOW` when `dir` is already resolved
    /// and `name` is a single component; only when that meets a link is the slow resolver
    /// used, so the file opened is always inside the root.
    fn open_in(&self, dir: &Path, name: &str, write: bool) -> Result<File> {
        let mut opts = OpenOptions::new();
        if write {
            opts.write(true);
        } else {
            opts.read(true);
        }
        opts.custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW);
        let logical = dir.join(name);
        if !name.contains('/') {
            match opts.open(self.host(&logical)) {
                Ok(f) => return Ok(f),
                Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {}
                Err(e) => return Err(Error::io(&logical, e)),
            }
        }
        let resolved = self.resolve(&logical)?;
        opts.open(self.host(&resolved))
            .map_err(|e| Error::io(&logical, e))
    }

    /// Read one attribute file `dir/name` the way libndctl does: a single bounded read, one
    /// trailing newline stripped.
    pub fn read_attr(&self, dir: &Path, name: &str) -> Result<Attr> {
        let path = dir.join(name);
        let mut file = match self.open_in(dir, name, false) {
            Ok(f) => f,
            Err(Error::Io { source, .. }) => return classify_read_error(&path, source),
            Err(e) => return Err(e),
        };
        let mut buf = Vec::with_capacity(64);
        let n = match (&mut file)
            .take(ATTR_SIZE_LIMIT as u64)
            .read_to_end(&mut buf)
        {
            Ok(n) => n,
            Err(e) => return classify_read_error(&path, e),
        };
        if n >= ATTR_SIZE_LIMIT {
            return Err(Error::TooLarge {
                path,
                limit: ATTR_SIZE_LIMIT,
            });
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        match String::from_utf8(buf) {
            Ok(s) => Ok(Attr::Value(s)),
            Err(e) => Err(Error::parse(
                &path,
                &String::from_utf8_lossy(e.as_bytes()),
                "not valid UTF-8",
            )),
        }
    }

    /// Read a list attribute (one record per line, e.g. `badblocks`) of unbounded length,
    /// capped at 16 MiB.
    pub fn read_lines(&self, dir: &Path, name: &str) -> Result<Option<Vec<String>>> {
        let path = dir.join(name);
        let file = match self.open_in(dir, name, false) {
            Ok(f) => f,
            Err(Error::Io { source, .. }) => {
                classify_read_error(&path, source)?;
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let mut buf = Vec::new();
        file.take(LIST_SIZE_LIMIT as u64 + 1)
            .read_to_end(&mut buf)
            .map_err(|e| Error::io(&path, e))?;
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
        let mut file = self.open_in(dir, name, true)?;
        let mut bytes = Vec::with_capacity(value.len() + 1);
        bytes.extend_from_slice(value.as_bytes());
        bytes.push(0);
        let n = file.write(&bytes).map_err(|e| Error::io(&path, e))?;
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

    /// Entries of a directory with a flag telling whether each is a symbolic link.
    pub fn list_dir_typed(&self, dir: &Path) -> Result<Vec<(String, bool)>> {
        let resolved = self.resolve(dir)?;
        let rd = fs::read_dir(self.host(&resolved)).map_err(|e| Error::io(dir, e))?;
        let mut out = Vec::new();
        for entry in rd {
            let entry = entry.map_err(|e| Error::io(dir, e))?;
            let name = entry.file_name();
            if name.as_bytes().first() == Some(&b'.') {
                continue;
            }
            let Some(name) = name.to_str() else { continue };
            let is_link = entry.file_type().map(|t| t.is_symlink()).unwrap_or(false);
            out.push((name.to_string(), is_link));
        }
        Ok(out)
    }

    /// Whether an in-root path exists (following links inside the root).
    pub fn exists(&self, path: &Path) -> bool {
        self.resolve(path).is_ok()
    }

    /// Whether an in-root path is itself a symbolic link (`lstat`), as libndctl tests
    /// `driver` links.
    pub fn is_symlink(&self, dir: &Path, name: &str) -> bool {
        let host = match self.resolve(dir) {
            Ok(d) => self.host(&d.join(name)),
            Err(_) => return false,
        };
        fs::symlink_metadata(host)
            .map(|m| m.file_type().is_symlink())
            .unwrap_or(false)
    }

    /// The final component of where the link `dir/name` points, if it is a link.
    pub fn link_basename(&self, dir: &Path, name: &str) -> Option<String> {
        let host = self.host(&self.resolve(dir).ok()?.join(name));
        let target = fs::read_link(host).ok()?;
        target
            .file_name()
            .and_then(|n| n.to_str())
            .map(String::from)
    }

    /// The host path of a `/dev` node, if such a node exists under the root.
    pub fn dev_node(&self, name: &str) -> Option<PathBuf> {
        if name.is_empty() || name.contains('/') || name.starts_with('.') {
            return None;
        }
        let logical = Path::new("/dev").join(name);
        let resolved = self.resolve(&logical).ok()?;
        Some(self.host(&resolved))
    }
}

fn push_components(queue: &mut VecDeque<OsString>, path: &Path, front: bool) {
    let parts: Vec<OsString> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            Component::CurDir => Some(OsString::from(".")),
            Component::RootDir | Component::Prefix(_) => None,
        })
        .collect();
    if front {
        for p in parts.into_iter().rev() {
            queue.push_front(p);
        }
    } else {
        queue.extend(parts);
    }
}

/// Map a read failure to libndctl's view: absent and ENXIO are "unknown", anything else is an
/// error naming the path.
pub fn classify_read_error(path: &Path, e: io::Error) -> Result<Attr> {
    match e.raw_os_error() {
        Some(libc::ENOENT) | Some(libc::ENOTDIR) => Ok(Attr::Missing),
        Some(libc::ENXIO) => Ok(Attr::Unavailable),
        _ => Err(Error::io(path, e)),
    }
}

/// Parse an unsigned number as `strtoull(s, NULL, 0)` would, but strictly: the whole string
/// (surrounding blanks aside) must be one number and it must fit.
pub fn parse_u64(path: &Path, s: &str) -> Result<u64> {
    let t = s.trim();
    let (digits, radix) = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        (h, 16)
    } else if t.len() > 1 && t.starts_with('0') {
        (&t[1..], 8)
    } else {
        (t, 10)
    };
    if digits.is_empty() {
        return Err(Error::parse(path, s, "empty or truncated number"));
    }
    u64::from_str_radix(digits, radix).map_err(|e| {
        let reason = match e.kind() {
            std::num::IntErrorKind::PosOverflow => "number out of range",
            _ => "not a number",
        };
        Error::parse(path, s, reason)
    })
}

/// Parse a signed number (`numa_node`, `target_node` may be `-1`).
pub fn parse_i64(path: &Path, s: &str) -> Result<i64> {
    let t = s.trim();
    if let Some(rest) = t.strip_prefix('-') {
        let v = parse_u64(path, rest)?;
        if v > i64::MAX as u64 + 1 {
            return Err(Error::parse(path, s, "number out of range"));
        }
        Ok((v as i128).wrapping_neg() as i64)
    } else {
        let v = parse_u64(path, t)?;
        i64::try_from(v).map_err(|_| Error::parse(path, s, "number out of range"))
    }
}

/// Parse a `"MAJOR:MINOR"` device number.
pub fn parse_devnum(path: &Path, s: &str) -> Result<(u32, u32)> {
    let (ma, mi) = s
        .trim()
        .split_once(':')
        .ok_or_else(|| Error::parse(path, s, "expected MAJOR:MINOR"))?;
    let conv = |x: &str| -> Result<u32> {
        if x.is_empty() || !x.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::parse(path, s, "expected MAJOR:MINOR"));
        }
        x.parse::<u32>()
            .map_err(|_| Error::parse(path, s, "device number out of range"))
    };
    Ok((conv(ma)?, conv(mi)?))
}

/// Parse a uuid attribute; an empty attribute is the null uuid (unconfigured seed).
pub fn parse_uuid(path: &Path, s: &str) -> Result<uuid::Uuid> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(uuid::Uuid::nil());
    }
    uuid::Uuid::parse_str(t).map_err(|e| Error::parse(path, s, e.to_string()))
}

/// A `sector_size`-style list: `"512 [4096] "` gives the sizes and the index of the
/// bracketed current one.
pub fn parse_size_list(path: &Path, s: &str) -> Result<(Vec<u32>, Option<usize>)> {
    let mut sizes = Vec::new();
    let mut current = None;
    for tok in s.split_whitespace() {
        let (num, bracketed) = match tok.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            Some(inner) => (inner, true),
            None => (tok, false),
        };
        let v = parse_u64(path, num)?;
        let v = u32::try_from(v).map_err(|_| Error::parse(path, s, "size out of range"))?;
        if bracketed {
            if current.is_some() {
                return Err(Error::parse(path, s, "more than one current value"));
            }
            current = Some(sizes.len());
        }
        sizes.push(v);
    }
    Ok((sizes, current))
}

/// A directory of a device in sysfs, with a cache of its attributes.
///
/// Attributes are read at most once until [`Device::invalidate`]; the few that libndctl
/// re-reads on every call are fetched with [`Device::read_fresh`].
#[derive(Debug)]
pub struct Device {
    sysfs: Arc<Sysfs>,
    path: PathBuf,
    name: String,
    cache: Mutex<HashMap<String, Attr>>,
}

impl Device {
    /// A device at the resolved in-root directory `path`.
    pub fn new(sysfs: Arc<Sysfs>, path: PathBuf) -> Device {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Device {
            sysfs,
            path,
            name,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The in-root path of the device directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The device name (last component of the path), e.g. `region1`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The tree this device lives in.
    pub fn sysfs(&self) -> &Arc<Sysfs> {
        &self.sysfs
    }

    fn cache(&self) -> MutexGuard<'_, HashMap<String, Attr>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The in-root path of one attribute.
    pub fn attr_path(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Read an attribute (cached).
    pub fn read(&self, name: &str) -> Result<Attr> {
        if let Some(v) = self.cache().get(name) {
            return Ok(v.clone());
        }
        self.read_fresh(name)
    }

    /// Read an attribute from the file system now, refreshing the cache.
    pub fn read_fresh(&self, name: &str) -> Result<Attr> {
        let v = self.sysfs.read_attr(&self.path, name)?;
        self.cache().insert(name.to_string(), v.clone());
        Ok(v)
    }

    /// The attribute's value, `None` if missing or unavailable (cached).
    pub fn opt(&self, name: &str) -> Result<Option<String>> {
        Ok(self.read(name)?.into_option())
    }

    /// The attribute's value; missing or unavailable is an error (libndctl aborts the
    /// object in that case).
    pub fn required(&self, name: &str) -> Result<String> {
        self.opt(name)?.ok_or_else(|| Error::Missing {
            path: self.attr_path(name),
        })
    }

    /// An optional unsigned number.
    pub fn opt_u64(&self, name: &str) -> Result<Option<u64>> {
        match self.opt(name)? {
            Some(v) => Ok(Some(parse_u64(&self.attr_path(name), &v)?)),
            None => Ok(None),
        }
    }

    /// A required unsigned number.
    pub fn req_u64(&self, name: &str) -> Result<u64> {
        let v = self.required(name)?;
        parse_u64(&self.attr_path(name), &v)
    }

    /// An optional signed number.
    pub fn opt_i64(&self, name: &str) -> Result<Option<i64>> {
        match self.opt(name)? {
            Some(v) => Ok(Some(parse_i64(&self.attr_path(name), &v)?)),
            None => Ok(None),
        }
    }

    /// An optional unsigned number read now (not cached).
    pub fn fresh_u64(&self, name: &str) -> Result<Option<u64>> {
        match self.read_fresh(name)?.into_option() {
            Some(v) => Ok(Some(parse_u64(&self.attr_path(name), &v)?)),
            None => Ok(None),
        }
    }

    /// An optional uuid; empty is the nil uuid.
    pub fn opt_uuid(&self, name: &str) -> Result<Option<uuid::Uuid>> {
        match self.opt(name)? {
            Some(v) => Ok(Some(parse_uuid(&self.attr_path(name), &v)?)),
            None => Ok(None),
        }
    }

    /// Write an attribute and drop its cached value.
    pub fn write(&self, name: &str, value: &str) -> Result<()> {
        self.cache().remove(name);
        self.sysfs.write_attr(&self.path, name, value)
    }

    /// Write an attribute and remember what was written as its value (minus a trailing
    /// newline), as libndctl keeps the settings it made instead of re-reading them.
    pub fn write_remember(&self, name: &str, value: &str) -> Result<()> {
        self.write(name, value)?;
        self.cache().insert(
            name.to_string(),
            Attr::Value(value.trim_end_matches('\n').to_string()),
        );
        Ok(())
    }

    /// Select `size` in a `sector_size`-style list attribute: write it, and remember the
    /// list with the new selection bracketed.
    pub fn write_selection(&self, name: &str, size: u32) -> Result<()> {
        let current = self.opt(name)?.unwrap_or_default();
        let (sizes, _) = parse_size_list(&self.attr_path(name), &current)?;
        self.write(name, &format!("{size}\n"))?;
        let list: Vec<String> = sizes
            .iter()
            .map(|s| {
                if *s == size {
                    format!("[{s}]")
                } else {
                    s.to_string()
                }
            })
            .collect();
        self.cache().insert(
            name.to_string(),
            Attr::Value(format!("{} ", list.join(" "))),
        );
        Ok(())
    }

    /// Forget every cached attribute.
    pub fn invalidate(&self) {
        self.cache().clear();
    }

    /// Whether a driver is bound (`driver` is a symbolic link).
    pub fn has_driver(&self) -> bool {
        self.sysfs.is_symlink(&self.path, "driver")
    }

    /// Whether a file or directory `name` exists in the device directory.
    pub fn has(&self, name: &str) -> bool {
        self.sysfs.exists(&self.path.join(name))
    }

    /// Child entries whose name is `prefix` followed by a number (libndctl's
    /// `sscanf("<prefix>%d")`), as `(number, resolved path)`, in readdir order.
    pub fn children(&self, prefix: &str) -> Result<Vec<(u32, PathBuf)>> {
        let mut out = Vec::new();
        for (name, is_link) in self.sysfs.list_dir_typed(&self.path)? {
            let Some(rest) = name.strip_prefix(prefix) else {
                continue;
            };
            let digits: &str = &rest[..rest.bytes().take_while(u8::is_ascii_digit).count()];
            let Ok(id) = digits.parse::<u32>() else {
                continue;
            };
            let path = self.path.join(&name);
            let path = if is_link {
                match self.sysfs.resolve(&path) {
                    Ok(p) => p,
                    Err(e) => {
                        log::warn!("{}: skipped: {e}", path.display());
                        continue;
                    }
                }
            } else {
                path
            };
            out.push((id, path));
        }
        Ok(out)
    }

    /// The single entry of the `block/` subdirectory (libndctl's `get_block_device`);
    /// `None` if there is none or more than one.
    pub fn block_device(&self) -> Option<String> {
        let names = self.sysfs.list_dir(&self.path.join("block")).ok()?;
        match names.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        }
    }
}

impl Device {
    /// Bind the device to whichever `nd` driver accepts it (libndctl's `util_bind`): write
    /// its name to `/sys/bus/nd/drivers/*/bind` until one write succeeds.
    ///
    /// On the real root the module named by `modalias` is loaded first with `modprobe`, as
    /// libndctl does with libkmod; under any other root there is no kernel to load into.
    pub fn bind(&self, modalias: Option<&str>) -> Result<()> {
        if let Some(alias) = modalias {
            if self.sysfs.root() == Path::new("/") {
                let status = std::process::Command::new("modprobe")
                    .args(["-q", "-b", alias])
                    .status();
                if let Err(e) = status {
                    log::debug!("{}: modprobe {alias}: {e}", self.name);
                }
            }
        }
        let drivers = Path::new("/sys/bus/nd/drivers");
        let mut last = None;
        for drv in self.sysfs.list_dir(drivers)? {
            match self
                .sysfs
                .write_attr(&drivers.join(&drv), "bind", &self.name)
            {
                Ok(()) => {
                    log::debug!("{}: bound to {drv}", self.name);
                    self.invalidate();
                    return Ok(());
                }
                Err(e) => last = Some(e),
            }
        }
        Err(Error::Failed {
            object: self.name.clone(),
            reason: match last {
                Some(e) => format!("no nd driver accepted the device (last error: {e})"),
                None => "no nd drivers found".into(),
            },
        })
    }

    /// Unbind the device from its driver (`driver/unbind`).
    pub fn unbind(&self) -> Result<()> {
        let res = self
            .sysfs
            .write_attr(&self.path, "driver/unbind", &self.name);
        self.invalidate();
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tree() -> (tempfile::TempDir, Sysfs) {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("sys/devices/bus0/region0")).unwrap();
        let s = Sysfs::new(dir.path()).unwrap();
        (dir, s)
    }

    #[test]
    fn numbers_parse_like_strtoull_but_strictly() {
        let p = Path::new("/x");
        assert_eq!(parse_u64(p, "1234").unwrap(), 1234);
        assert_eq!(parse_u64(p, "0x1F").unwrap(), 31);
        assert_eq!(parse_u64(p, "010").unwrap(), 8);
        assert_eq!(parse_u64(p, "0").unwrap(), 0);
        assert_eq!(parse_u64(p, " 7 ").unwrap(), 7);
        for bad in [
            "",
            "0x",
            "12abc",
            "-1",
            "99999999999999999999999",
            "1 2",
            "\u{0}",
        ] {
            let e = parse_u64(p, bad).unwrap_err();
            assert!(matches!(e, Error::Parse { .. }), "{bad:?}: {e}");
            assert!(e.to_string().starts_with("/x: invalid contents"), "{e}");
        }
        assert_eq!(parse_i64(p, "-1").unwrap(), -1);
        assert_eq!(parse_i64(p, "-9223372036854775808").unwrap(), i64::MIN);
        assert!(parse_i64(p, "-9223372036854775809").is_err());
        assert!(parse_i64(p, "18446744073709551615").is_err());
    }

    #[test]
    fn other_attribute_kinds() {
        let p = Path::new("/x");
        assert_eq!(parse_devnum(p, "246:0").unwrap(), (246, 0));
        for bad in ["246", ":1", "a:b", "1:99999999999"] {
            assert!(parse_devnum(p, bad).is_err(), "{bad}");
        }
        assert!(parse_uuid(p, "").unwrap().is_nil());
        assert_eq!(
            parse_uuid(p, "7524bf7f-b935-4f5c-ab43-6ddd6a1aad8c")
                .unwrap()
                .to_string(),
            "7524bf7f-b935-4f5c-ab43-6ddd6a1aad8c"
        );
        assert!(parse_uuid(p, "7524bf7f-b935").is_err());
        assert_eq!(
            parse_size_list(p, "512 [4096] ").unwrap(),
            (vec![512, 4096], Some(1))
        );
        assert_eq!(
            parse_size_list(p, "512 520 528 4096 4104 4160 4224 ").unwrap(),
            (vec![512, 520, 528, 4096, 4104, 4160, 4224], None)
        );
        assert!(parse_size_list(p, "[512] [4096]").is_err());
        assert!(parse_size_list(p, "512 [x]").is_err());
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
        let (dir, s) = tree();
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
            s.resolve(Path::new("/sys/bus0link/region0")).unwrap(),
            Path::new("/sys/devices/bus0/region0")
        );
        // An absolute target means the root's /, not the host's.
        assert_eq!(
            s.resolve(Path::new("/sys/abs/bus0")).unwrap(),
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
        let (dir, s) = tree();
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
}

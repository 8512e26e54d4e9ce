//! The attribute cache of a device directory, and driver bind / unbind.

use std::collections::{HashMap, HashSet};
use std::ffi::CStr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use log::Level;

use super::parse::{child_id, parse_i64, parse_size_list, parse_u64, parse_uuid};
use super::{Attr, Sysfs};
use crate::ctx_log;
use crate::error::{absent_unless_exhausted, Error, Result};

/// The attributes a kind of device reads (a static list next to the kind): fetched
/// together, in one batch, the first time any of them is asked for.
#[derive(Debug)]
pub struct AttrSet {
    /// Read in the batch and cached until the device is invalidated.
    pub cached: &'static [&'static str],
    /// Re-read on every call, as libndctl re-reads them; the batch only learns from the
    /// directory listing that each is a regular file. The first read opens it confined
    /// and keeps the descriptor; later reads are one `pread` at offset 0
    /// ([`Sysfs::read_known_regular`]).
    pub fresh: &'static [&'static str],
    /// Cached like `cached`, but read in a second batch of their own the first time one
    /// of them is asked for: what libndctl reads when it adds a device but few callers
    /// ask for (`modalias` is only needed to bind). The first batch learns from its
    /// listing whether each is there ([`Device::required_present`]).
    pub lazy: &'static [&'static str],
}

impl AttrSet {
    /// No batch: every attribute is read on its own.
    pub const NONE: AttrSet = AttrSet {
        cached: &[],
        fresh: &[],
        lazy: &[],
    };

    /// How many values the cache holds a place for: `cached`, then `lazy`.
    fn stored(&self) -> usize {
        self.cached.len() + self.lazy.len()
    }

    fn cached_index(&self, name: &str) -> Option<usize> {
        self.cached.iter().position(|n| *n == name)
    }

    /// The place of a cached or lazy name in the cache.
    fn stored_index(&self, name: &str) -> Option<usize> {
        self.cached.iter().chain(self.lazy).position(|n| *n == name)
    }

    fn is_fresh(&self, name: &str) -> bool {
        self.fresh.contains(&name)
    }

    fn is_lazy(&self, name: &str) -> bool {
        self.lazy.contains(&name)
    }

    /// The names the first batch only probes (learns the type of): `fresh`, then `lazy`.
    fn probed(&self) -> Vec<&'static str> {
        self.fresh.iter().chain(self.lazy).copied().collect()
    }

    /// The place of a name in the first batch's flags: `cached`, `fresh`, `lazy`.
    fn index(&self, name: &str) -> Option<usize> {
        self.cached
            .iter()
            .chain(self.fresh)
            .chain(self.lazy)
            .position(|n| *n == name)
    }
}

const UNSET: u8 = 0;
const VALUE: u8 = 1;
const MISSING: u8 = 2;
const UNAVAILABLE: u8 = 3;
/// Bytes per entry of the kind's list in [`Cache::packed`]: state and length.
const SPAN: usize = 3;

/// A device's cached attributes, packed in one allocation: an entry per name of the
/// kind's list (`SPAN` bytes: state, 16-bit length of the value), then the values' text
/// one after the other (a value starts where the ones before it end). Values are shorter
/// than an attribute buffer and lists hold a few dozen names, so 16 bits reach them all;
/// a value beyond that is simply not cached. Other names (rare) are kept beside it.
#[derive(Debug, Default)]
struct Cache {
    /// Whether the kind's batch was read since the last invalidation.
    loaded: bool,
    /// Whether the kind's lazy batch was read since the last invalidation.
    lazy_loaded: bool,
    /// Bit `i`: entry `i` of the kind's list (cached, then fresh) is a regular file.
    regular: u64,
    packed: Box<[u8]>,
    /// Names outside the kind's list (rare: boxed, so that a device without any pays
    /// a pointer, not an empty vector).
    // A thin pointer: the box is the point (8 bytes per device where a Vec takes 24).
    #[allow(clippy::box_collection)]
    other: Option<Box<Vec<NamedAttr>>>,
}

/// An attribute outside the kind's list, with its name.
type NamedAttr = (Box<str>, Attr);

impl Cache {
    /// Entry `i` of the packed list, if set.
    fn entry(&self, n: usize, i: usize) -> Option<Attr> {
        let heads = self.packed.get(..n * SPAN)?;
        let len_of = |e: &[u8]| usize::from(u16::from_le_bytes([e[1], e[2]]));
        let start: usize = heads.chunks_exact(SPAN).take(i).map(len_of).sum();
        let e = heads.get(i * SPAN..(i + 1) * SPAN)?;
        match e[0] {
            VALUE => {
                let at = n * SPAN + start;
                let text = self.packed.get(at..at + len_of(e))?;
                Some(Attr::Value(std::str::from_utf8(text).ok()?.to_string()))
            }
            MISSING => Some(Attr::Missing),
            UNAVAILABLE => Some(Attr::Unavailable),
            _ => None,
        }
    }

    /// Packs `values` (one per name of the kind's list).
    fn pack(&mut self, values: &[Option<Attr>]) {
        let n = values.len();
        let mut heads = Vec::with_capacity(n * SPAN);
        let mut text: Vec<u8> = Vec::with_capacity(
            values
                .iter()
                .map(|v| match v {
                    Some(Attr::Value(s)) => s.len(),
                    _ => 0,
                })
                .sum(),
        );
        for v in values {
            let (state, len) = match v {
                Some(Attr::Value(s)) => match u16::try_from(s.len()) {
                    Ok(len) => {
                        text.extend_from_slice(s.as_bytes());
                        (VALUE, len)
                    }
                    Err(_) => (UNSET, 0),
                },
                Some(Attr::Missing) => (MISSING, 0),
                Some(Attr::Unavailable) => (UNAVAILABLE, 0),
                None => (UNSET, 0),
            };
            heads.push(state);
            heads.extend_from_slice(&len.to_le_bytes());
        }
        let mut packed = Vec::with_capacity(heads.len() + text.len());
        packed.extend_from_slice(&heads);
        packed.extend_from_slice(&text);
        self.packed = packed.into_boxed_slice();
    }

    fn unpack(&self, n: usize) -> Vec<Option<Attr>> {
        (0..n).map(|i| self.entry(n, i)).collect()
    }

    fn get(&self, set: &AttrSet, name: &str) -> Option<Attr> {
        if let Some(i) = set.stored_index(name) {
            return self.entry(set.stored(), i);
        }
        self.other
            .iter()
            .flat_map(|o| o.iter())
            .find(|(n, _)| &**n == name)
            .map(|(_, v)| v.clone())
    }

    fn put(&mut self, set: &AttrSet, name: &str, v: Attr) {
        // Values re-read on every call are not kept: nothing would read them back.
        if set.is_fresh(name) {
            return;
        }
        let Some(i) = set.stored_index(name) else {
            self.remove(set, name);
            self.other
                .get_or_insert_with(Box::default)
                .push((name.into(), v));
            return;
        };
        let mut values = self.unpack(set.stored());
        values[i] = Some(v);
        self.pack(&values);
    }

    fn remove(&mut self, set: &AttrSet, name: &str) {
        if let Some(i) = set.stored_index(name) {
            if self.entry(set.stored(), i).is_some() {
                let mut values = self.unpack(set.stored());
                values[i] = None;
                self.pack(&values);
            }
        } else {
            if let Some(other) = &mut self.other {
                other.retain(|(n, _)| &**n != name);
            }
        }
    }
}

/// Bytes a device name (with its NUL) can take inside [`DevName`]: every name of the nd
/// tree (`namespace12.3456`, `dax0.12`, `ndbus0`) fits.
const NAME_INLINE: usize = 22;

/// The last component of a device's path, NUL-terminated: inline when short, so that a
/// device needs no allocation of its own for its name.
#[derive(Debug)]
enum DevName {
    Inline { len: u8, bytes: [u8; NAME_INLINE] },
    Heap(Box<[u8]>),
}

impl DevName {
    fn new(name: &[u8]) -> DevName {
        if name.len() < NAME_INLINE {
            let mut bytes = [0; NAME_INLINE];
            bytes[..name.len()].copy_from_slice(name);
            // Shorter than NAME_INLINE, so it fits in a u8.
            DevName::Inline {
                len: name.len() as u8,
                bytes,
            }
        } else {
            let mut v = Vec::with_capacity(name.len() + 1);
            v.extend_from_slice(name);
            v.push(0);
            DevName::Heap(v.into_boxed_slice())
        }
    }

    /// The name and its NUL.
    fn bytes_nul(&self) -> &[u8] {
        match self {
            DevName::Inline { len, bytes } => &bytes[..usize::from(*len) + 1],
            DevName::Heap(b) => b,
        }
    }

    /// The name without its NUL.
    fn bytes(&self) -> &[u8] {
        let b = self.bytes_nul();
        &b[..b.len() - 1]
    }
}

/// A directory of a device in sysfs, with a cache of its attributes.
///
/// Attributes are read at most once until [`Device::invalidate`]; the few that libndctl
/// re-reads on every call are fetched with [`Device::read_fresh`]. A device made with
/// [`Device::with_attrs`] reads its kind's whole list in one batch on first use
/// ([`Sysfs::read_attrs`]).
#[derive(Debug)]
pub struct Device {
    sysfs: Arc<Sysfs>,
    /// The in-root path of the parent directory, shared with the device's siblings
    /// (thousands of namespaces of a region hold one copy of the region's path).
    dir: Arc<[u8]>,
    /// The last component of the path.
    name: DevName,
    set: &'static AttrSet,
    cache: Mutex<Cache>,
}

impl Device {
    /// A device at the resolved in-root directory `path`, reading each attribute on its
    /// own.
    pub fn new(sysfs: Arc<Sysfs>, path: PathBuf) -> Device {
        Device::with_attrs(sysfs, path, &AttrSet::NONE)
    }

    /// A device at the resolved in-root directory `path` whose kind reads `set`.
    pub fn with_attrs(sysfs: Arc<Sysfs>, path: PathBuf, set: &'static AttrSet) -> Device {
        use std::os::unix::ffi::OsStrExt;
        let bytes = path.as_os_str().as_bytes();
        let (dir, name) = match bytes.iter().rposition(|&b| b == b'/') {
            // A directory right below `/` keeps its slash.
            Some(0) => (&b"/"[..], &bytes[1..]),
            Some(i) => (&bytes[..i], &bytes[i + 1..]),
            None => (&b""[..], bytes),
        };
        Device {
            dir: sysfs.shared_dir(dir),
            sysfs,
            name: DevName::new(name),
            set,
            cache: Mutex::new(Cache::default()),
        }
    }

    /// The in-root path of the device directory.
    pub fn path(&self) -> PathBuf {
        use std::os::unix::ffi::OsStrExt;
        let name = self.name.bytes();
        let mut p = Vec::with_capacity(self.dir.len() + 1 + name.len());
        p.extend_from_slice(&self.dir);
        if !self.dir.is_empty() && !self.dir.ends_with(b"/") {
            p.push(b'/');
        }
        p.extend_from_slice(name);
        PathBuf::from(std::ffi::OsStr::from_bytes(&p))
    }

    fn name_nul(&self) -> &[u8] {
        self.name.bytes_nul()
    }

    /// The device name (last component of the path), e.g. `region1`; empty if it is not
    /// UTF-8 (scans leave such names out: no device of the tree has one).
    pub fn name(&self) -> &str {
        let n = self.name_nul();
        std::str::from_utf8(&n[..n.len().saturating_sub(1)]).unwrap_or("")
    }

    /// The device name as a C string, as long-lived as the device (empty if the name
    /// holds a NUL or is not UTF-8, as [`Device::name`]).
    pub fn name_cstr(&self) -> &CStr {
        if self.name().is_empty() {
            return c"";
        }
        CStr::from_bytes_with_nul(self.name_nul()).unwrap_or(c"")
    }

    /// The tree this device lives in.
    pub fn sysfs(&self) -> &Arc<Sysfs> {
        &self.sysfs
    }

    fn cache(&self) -> MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The in-root path of one attribute.
    pub fn attr_path(&self, name: &str) -> PathBuf {
        self.path().join(name)
    }

    /// Reads the kind's batch unless it was read since the last invalidation.
    fn load(&self) {
        let set = self.set;
        if self.cache().loaded
            || (set.cached.is_empty() && set.fresh.is_empty() && set.lazy.is_empty())
        {
            return;
        }
        let (values, regular) = self
            .sysfs
            .read_attrs(&self.path(), set.cached, &set.probed());
        let mut c = self.cache();
        if c.loaded {
            return;
        }
        c.loaded = true;
        c.regular = regular
            .iter()
            .take(64)
            .enumerate()
            .fold(0, |m, (i, r)| if *r { m | 1 << i } else { m });
        Self::merge(&mut c, set, 0, values);
    }

    /// Reads the kind's lazy attributes in one batch unless they were read since the
    /// last invalidation.
    fn load_lazy(&self) {
        let set = self.set;
        if set.lazy.is_empty() || self.cache().lazy_loaded {
            return;
        }
        self.load();
        let (known, unknown): (Vec<usize>, Vec<usize>) = {
            let c = self.cache();
            (0..set.lazy.len()).partition(|&i| {
                let bit = set.cached.len() + set.fresh.len() + i;
                bit < 64 && c.regular & (1 << bit) != 0
            })
        };
        // Listed as regular files: read without listing again. The others (missing,
        // links, not listed as files) the way a first batch reads them.
        let dir = self.path();
        let mut values: Vec<Option<Result<Attr>>> = (0..set.lazy.len()).map(|_| None).collect();
        let names: Vec<&str> = known.iter().map(|&i| set.lazy[i]).collect();
        for (&i, v) in known.iter().zip(self.sysfs.read_listed(&dir, &names)) {
            values[i] = Some(v);
        }
        if !unknown.is_empty() {
            let names: Vec<&str> = unknown.iter().map(|&i| set.lazy[i]).collect();
            for (&i, v) in unknown
                .iter()
                .zip(self.sysfs.read_attrs(&dir, &names, &[]).0)
            {
                values[i] = Some(v);
            }
        }
        let values: Vec<Result<Attr>> = values
            .into_iter()
            .map(|v| v.unwrap_or(Ok(Attr::Missing)))
            .collect();
        let mut c = self.cache();
        if c.lazy_loaded {
            return;
        }
        c.lazy_loaded = true;
        Self::merge(&mut c, set, set.cached.len(), values);
    }

    /// Puts a batch's values into the cache from place `at` on. An error is not cached:
    /// the getter that asks gets it, read again. A value written since the batch started
    /// wins over what the batch read.
    fn merge(c: &mut Cache, set: &AttrSet, at: usize, values: Vec<Result<Attr>>) {
        let mut merged = c.unpack(set.stored());
        for (slot, v) in merged.iter_mut().skip(at).zip(values) {
            if slot.is_none() {
                *slot = v.ok();
            }
        }
        c.pack(&merged);
    }

    /// Read an attribute (cached).
    pub fn read(&self, name: &str) -> Result<Attr> {
        if let Some(v) = self.cache().get(self.set, name) {
            return Ok(v);
        }
        let batch = if self.set.cached_index(name).is_some() {
            !self.cache().loaded
        } else if self.set.is_lazy(name) {
            !self.cache().lazy_loaded
        } else {
            false
        };
        if batch {
            self.load();
            self.load_lazy_if(name);
            if let Some(v) = self.cache().get(self.set, name) {
                return Ok(v);
            }
        }
        self.read_fresh(name)
    }

    fn load_lazy_if(&self, name: &str) {
        if self.set.is_lazy(name) {
            self.load_lazy();
        }
    }

    /// Checks that a required attribute is there, as libndctl does when it adds a
    /// device, without reading it when the kind's listing showed it as a regular file
    /// (its value is read when asked for). Otherwise it is read now: missing or
    /// unavailable is [`Error::Missing`].
    ///
    /// libndctl reads a required attribute at once and drops the device if the read
    /// fails; a listed file whose read would fail keeps the device here, and the getter
    /// that asks for the value gets the error (a deliberate difference: on sysfs these
    /// files always read).
    pub fn required_present(&self, name: &str) -> Result<()> {
        if let Some(i) = self.set.index(name).filter(|&i| i < 64) {
            self.load();
            if self.cache().regular & (1 << i) != 0 {
                return Ok(());
            }
        }
        self.required(name).map(drop)
    }

    /// Read an attribute from the file system now, refreshing the cache.
    pub fn read_fresh(&self, name: &str) -> Result<Attr> {
        let known_regular = match self.set.index(name) {
            Some(i) if i < 64 => {
                self.load();
                self.cache().regular & (1 << i) != 0
            }
            _ => false,
        };
        let v = if known_regular {
            self.sysfs.read_known_regular(&self.path(), name)?
        } else {
            self.sysfs.read_attr(&self.path(), name)?
        };
        self.cache().put(self.set, name, v.clone());
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

    /// An optional signed number that must fit an `i32` (NUMA nodes).
    pub fn opt_i32(&self, name: &str) -> Result<Option<i32>> {
        match self.opt_i64(name)? {
            None => Ok(None),
            Some(v) => i32::try_from(v)
                .map(Some)
                .map_err(|_| Error::parse(self.attr_path(name), &v.to_string(), "out of range")),
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
        self.cache().remove(self.set, name);
        self.sysfs.write_attr(&self.path(), name, value)
    }

    /// Write an attribute and remember what was written as its value (minus a trailing
    /// newline), as libndctl keeps the settings it made instead of re-reading them.
    pub fn write_remember(&self, name: &str, value: &str) -> Result<()> {
        self.write(name, value)?;
        self.cache().put(
            self.set,
            name,
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
        self.cache()
            .put(self.set, name, Attr::Value(format!("{} ", list.join(" "))));
        Ok(())
    }

    /// Forget every cached attribute (and what the last batch listed): the next read
    /// fetches the kind's batch again.
    pub fn invalidate(&self) {
        *self.cache() = Cache::default();
        self.sysfs.forget_kept(&self.path());
    }

    /// Whether a driver is bound (`driver` is a symbolic link), asked now: binding is
    /// the kernel's to change at any time, and libndctl asks every time.
    /// Running out of descriptors or memory while asking is an error, not "unbound".
    pub fn has_driver(&self) -> Result<bool> {
        self.sysfs.is_symlink_in_resolved(&self.path(), "driver")
    }

    /// Whether a file or directory `name` exists in the device directory (errors as for
    /// [`Device::has_driver`]).
    pub fn has(&self, name: &str) -> Result<bool> {
        self.sysfs.exists(&self.path().join(name))
    }

    /// Child entries whose name is `prefix` followed by a number (libndctl's
    /// `sscanf("<prefix>%d")`), as `(number, resolved path)`, in readdir order.
    ///
    /// libndctl keys a device by this number: of two entries with the same number (say
    /// `namespace1.0` and `namespace1.00`) the first in readdir order is kept. An entry
    /// whose number does not fit, whose name is not UTF-8, or whose link cannot be resolved
    /// inside the root is skipped. Every skip is logged with its reason. Running out of
    /// descriptors or memory while resolving is an error, not a skip.
    pub fn children(&self, prefix: &str) -> Result<Vec<(u32, PathBuf)>> {
        let mut seen: HashMap<u32, String> = HashMap::new();
        let mut out = Vec::new();
        for (id, name, path) in self.numbered(prefix)? {
            if let Some(first) = seen.get(&id) {
                ctx_log!(
                    self.sysfs.logger(),
                    Level::Warn,
                    "{}: skipped: same device number {id} as {first}",
                    path.display()
                );
                continue;
            }
            seen.insert(id, name);
            out.push((id, path));
        }
        Ok(out)
    }

    /// Like [`Device::children`] but without keying by number: every entry whose name is
    /// `prefix` followed by a number (for libdaxctl's `daxX.Y` character devices, where X
    /// is shared).
    pub fn entries(&self, prefix: &str) -> Result<Vec<(u32, PathBuf)>> {
        Ok(self
            .numbered(prefix)?
            .into_iter()
            .map(|(id, _, path)| (id, path))
            .collect())
    }

    fn numbered(&self, prefix: &str) -> Result<Vec<(u32, String, PathBuf)>> {
        let logger = self.sysfs.logger();
        let mut out = Vec::new();
        let dir = self.path();
        for (name, is_link) in self.sysfs.list_dir_typed(&dir)? {
            let id = match child_id(prefix, &name) {
                None => continue,
                Some(Ok(id)) => id,
                Some(Err(why)) => {
                    ctx_log!(
                        logger,
                        Level::Warn,
                        "{}/{name}: skipped: {why}",
                        dir.display()
                    );
                    continue;
                }
            };
            let path = dir.join(&name);
            let path = if is_link {
                match self.sysfs.resolve(&path) {
                    Ok(p) => p.into_path_buf(),
                    // Out of descriptors or memory: the link may be fine, and a device
                    // left out for it would look absent.
                    Err(e) if e.is_resource_exhaustion() => return Err(e),
                    Err(e) => {
                        ctx_log!(logger, Level::Warn, "{}: skipped: {e}", path.display());
                        continue;
                    }
                }
            } else {
                path
            };
            out.push((id, name, path));
        }
        Ok(out)
    }

    /// The in-root numbers `N` of the entries named exactly `<prefix>N` (e.g. the
    /// `mappingN` attributes that exist), ascending.
    pub fn indexes(&self, prefix: &str) -> Result<Vec<u32>> {
        let mut v: Vec<u32> = self
            .sysfs
            .list_dir(&self.path())?
            .iter()
            .filter_map(|n| super::parse::exact_index(prefix, n))
            .collect::<HashSet<u32>>()
            .into_iter()
            .collect();
        v.sort_unstable();
        Ok(v)
    }

    /// The single entry of the `block/` subdirectory (libndctl's `get_block_device`);
    /// `None` if there is none or more than one, or the directory cannot be listed (as
    /// libndctl answers ""), but running out of descriptors or memory is an error: "no
    /// disk" would then be a guess.
    pub fn block_device(&self) -> Result<Option<String>> {
        let names = absent_unless_exhausted(self.sysfs.list_dir(&self.path().join("block")))?;
        Ok(match names.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        })
    }
}

impl Device {
    /// Bind the device to whichever `nd` driver accepts it (libndctl's `util_bind`): write
    /// its name to `/sys/bus/nd/drivers/*/bind` until one write succeeds.
    ///
    /// On the real root the module named by `modalias` is loaded first with `modprobe`, as
    /// libndctl does with libkmod; under any other root there is no kernel to load into.
    pub fn bind(&self, modalias: Option<&str>) -> Result<()> {
        let logger = self.sysfs.logger();
        if let Some(alias) = modalias {
            if self.sysfs.root() == Path::new("/") {
                let status = std::process::Command::new("modprobe")
                    .args(["-q", "-b", alias])
                    .status();
                if let Err(e) = status {
                    ctx_log!(
                        logger,
                        Level::Debug,
                        "{}: modprobe {alias}: {e}",
                        self.name()
                    );
                }
            }
        }
        let drivers = Path::new("/sys/bus/nd/drivers");
        let mut last = None;
        for drv in self.sysfs.list_dir(drivers)? {
            match self
                .sysfs
                .write_attr(&drivers.join(&drv), "bind", self.name())
            {
                Ok(()) => {
                    ctx_log!(logger, Level::Debug, "{}: bound to {drv}", self.name());
                    self.invalidate();
                    return Ok(());
                }
                Err(e) => last = Some(e),
            }
        }
        Err(Error::Failed {
            object: self.name().to_string(),
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
            .write_attr(&self.path(), "driver/unbind", self.name());
        self.invalidate();
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_gives_back_the_path_it_was_made_with() {
        let tmp = tempfile::tempdir().unwrap();
        let sysfs = Arc::new(Sysfs::new(tmp.path()).unwrap());
        let long = format!("sys/devices/{}", "n".repeat(NAME_INLINE + 5));
        for p in [
            "sys/devices/platform/nfit_test.0/ndbus0/region1/namespace1.7",
            "/sys/devices/bus0",
            "/bus0",
            "bus0",
            long.as_str(),
        ] {
            let d = Device::new(Arc::clone(&sysfs), PathBuf::from(p));
            assert_eq!(d.path(), Path::new(p));
            let name = p.rsplit('/').next().unwrap();
            assert_eq!(d.name(), name);
            assert_eq!(d.name_cstr().to_str().unwrap(), name);
        }
        // Siblings share their directory's path.
        let a = Device::new(Arc::clone(&sysfs), PathBuf::from("sys/r/namespace1.0"));
        let b = Device::new(Arc::clone(&sysfs), PathBuf::from("sys/r/namespace1.1"));
        assert!(Arc::ptr_eq(&a.dir, &b.dir));
    }

    #[test]
    fn packed_values_come_back_as_stored() {
        let long = "x".repeat(usize::from(u16::MAX) + 1);
        let values = vec![
            Some(Attr::Value("4".into())),
            None,
            Some(Attr::Missing),
            Some(Attr::Value(String::new())),
            Some(Attr::Unavailable),
            Some(Attr::Value(long)),
            Some(Attr::Value("0x250000000".into())),
        ];
        let mut c = Cache::default();
        c.pack(&values);
        let got = c.unpack(values.len());
        assert_eq!(got[0], Some(Attr::Value("4".into())));
        assert_eq!(got[1], None);
        assert_eq!(got[2], Some(Attr::Missing));
        assert_eq!(got[3], Some(Attr::Value(String::new())));
        assert_eq!(got[4], Some(Attr::Unavailable));
        // Too long for a 16-bit length: not cached (read again when asked).
        assert_eq!(got[5], None);
        assert_eq!(got[6], Some(Attr::Value("0x250000000".into())));
        // Past the list, or a list longer than what was packed: nothing.
        assert_eq!(c.entry(values.len(), values.len()), None);
        assert_eq!(c.entry(values.len() + 100, 0), None);
    }
}

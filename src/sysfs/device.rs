//! The attribute cache of a device directory, and driver bind / unbind.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use log::Level;

use super::parse::{child_id, parse_i64, parse_size_list, parse_u64, parse_uuid};
use super::{Attr, Sysfs};
use crate::ctx_log;
use crate::error::{Error, Result};

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
    ///
    /// libndctl keys a device by this number: of two entries with the same number (say
    /// `namespace1.0` and `namespace1.00`) the first in readdir order is kept. An entry
    /// whose number does not fit, whose name is not UTF-8, or whose link cannot be resolved
    /// inside the root is skipped. Every skip is logged with its reason.
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
        for (name, is_link) in self.sysfs.list_dir_typed(&self.path)? {
            let id = match child_id(prefix, &name) {
                None => continue,
                Some(Ok(id)) => id,
                Some(Err(why)) => {
                    ctx_log!(
                        logger,
                        Level::Warn,
                        "{}/{name}: skipped: {why}",
                        self.path.display()
                    );
                    continue;
                }
            };
            let path = self.path.join(&name);
            let path = if is_link {
                match self.sysfs.resolve(&path) {
                    Ok(p) => p.into_path_buf(),
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
            .list_dir(&self.path)?
            .iter()
            .filter_map(|n| super::parse::exact_index(prefix, n))
            .collect::<HashSet<u32>>()
            .into_iter()
            .collect();
        v.sort_unstable();
        Ok(v)
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
        let logger = self.sysfs.logger();
        if let Some(alias) = modalias {
            if self.sysfs.root() == Path::new("/") {
                let status = std::process::Command::new("modprobe")
                    .args(["-q", "-b", alias])
                    .status();
                if let Err(e) = status {
                    ctx_log!(logger, Level::Debug, "{}: modprobe {alias}: {e}", self.name);
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
                    ctx_log!(logger, Level::Debug, "{}: bound to {drv}", self.name);
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

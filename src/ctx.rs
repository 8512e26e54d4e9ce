//! The library context: the root of the object tree and the sysfs root it reads.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};

use crate::bus::Bus;
use crate::children::ChildList;
use crate::dimm::Dimm;
use crate::error::{Error, Result};
use crate::logging::Logger;
use crate::sysfs::{parse_devnum, Resolver, Sysfs};

/// Environment variable naming the directory used as `/` (default `/`).
pub const ROOT_ENV: &str = "NDCTL_ROOT";

#[derive(Debug)]
pub(crate) struct CtxInner {
    pub(crate) sysfs: Arc<Sysfs>,
    buses: ChildList<Bus>,
    me: Weak<CtxInner>,
}

impl Drop for CtxInner {
    fn drop(&mut self) {
        for bus in self.buses.everything() {
            bus.release();
        }
        self.buses.clear();
    }
}

/// A libndctl context: owns every object found below one sysfs root.
///
/// Objects are created when a level is first listed and stay valid (and identical) for the
/// life of the context; attributes are read once and cached until [`Ctx::invalidate`].
///
/// ```no_run
/// let ctx = ndctl::Ctx::new()?; // the root named by $NDCTL_ROOT, default /
/// for bus in ctx.buses()? {
///     println!("{} {}", bus.devname(), bus.provider());
/// }
/// # Ok::<(), ndctl::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Ctx {
    inner: Arc<CtxInner>,
}

impl Ctx {
    /// A context on the root named by the `NDCTL_ROOT` environment variable, or `/`.
    ///
    /// The variable is read with `secure_getenv` semantics ([`crate::env::secure_var`]):
    /// a setuid or file-capability program always gets `/`.
    pub fn new() -> Result<Ctx> {
        let root = crate::env::secure_var(ROOT_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/"));
        Ctx::with_root(root)
    }

    /// A context reading `<root>/sys` and `<root>/dev` instead of `/sys` and `/dev`.
    pub fn with_root(root: impl AsRef<Path>) -> Result<Ctx> {
        Ctx::with_resolver(root, Resolver::Auto)
    }

    /// Like [`Ctx::with_root`] with a choice of how paths are confined in the root (see
    /// [`Resolver`]; `Userspace` forces the fallback used where `openat2` is missing).
    pub fn with_resolver(root: impl AsRef<Path>, resolver: Resolver) -> Result<Ctx> {
        let sysfs = Arc::new(Sysfs::with_resolver(root.as_ref(), resolver)?);
        let logger = Arc::clone(sysfs.logger());
        Ok(Ctx {
            inner: Arc::new_cyclic(|me| CtxInner {
                sysfs,
                buses: ChildList::new(&logger),
                me: me.clone(),
            }),
        })
    }

    /// The sysfs tree this context reads.
    pub fn sysfs(&self) -> &Arc<Sysfs> {
        &self.inner.sysfs
    }

    /// The host directory used as `/`.
    pub fn root(&self) -> &Path {
        self.inner.sysfs.root()
    }

    /// This context's log sink and threshold: records of the library about this context
    /// (skipped devices, unreadable attributes, probing) go there and nowhere else. The
    /// default sink is the `log` facade.
    pub fn logger(&self) -> &Arc<Logger> {
        self.inner.sysfs.logger()
    }

    pub(crate) fn from_inner(inner: Arc<CtxInner>) -> Ctx {
        Ctx { inner }
    }

    /// Every bus, found from `/sys/class/nd/ndctl*` as libndctl does.
    ///
    /// A root without `sys/` is an error ([`Error::NotSysfs`]); a system without the
    /// `nd` class (no NVDIMM support loaded) simply has no buses.
    pub fn buses(&self) -> Result<Vec<Arc<Bus>>> {
        let inner = &self.inner;
        inner
            .buses
            .get(|| scan_buses(inner), |id, path| make_bus(inner, id, path))
    }

    /// Re-scan the buses (new ones are added, known ones kept) and forget every cached
    /// attribute, so the next reads see the current state of the tree.
    pub fn invalidate(&self) -> Result<()> {
        let inner = &self.inner;
        let mut first_error = None;
        for bus in inner.buses.all() {
            if let Err(e) = bus.invalidate() {
                first_error.get_or_insert(e);
            }
        }
        let rescan = inner
            .buses
            .rescan(|| scan_buses(inner), |id, path| make_bus(inner, id, path));
        match first_error {
            Some(e) => Err(e),
            None => rescan,
        }
    }

    /// The bus listed after `bus` (libndctl's `ndctl_bus_get_next`).
    pub fn bus_after(&self, bus: &Bus) -> Option<Arc<Bus>> {
        self.inner.buses.after(bus)
    }

    /// An identity for this context, equal for all clones of it (for bindings that keep
    /// per-context state).
    pub fn id(&self) -> usize {
        Arc::as_ptr(&self.inner) as usize
    }

    /// The bus whose provider is `provider` (e.g. `nfit_test.0`, `ACPI.NFIT`).
    pub fn bus_by_provider(&self, provider: &str) -> Result<Option<Arc<Bus>>> {
        Ok(self.buses()?.into_iter().find(|b| b.provider() == provider))
    }

    /// The first DIMM with this NFIT handle on any bus.
    pub fn dimm_by_handle(&self, handle: u32) -> Result<Option<Arc<Dimm>>> {
        for bus in self.buses()? {
            if let Some(d) = bus.dimm_by_handle(handle)? {
                return Ok(Some(d));
            }
        }
        Ok(None)
    }
}

fn scan_buses(inner: &CtxInner) -> Result<Vec<(u32, PathBuf)>> {
    let sysfs = &inner.sysfs;
    if !sysfs.is_dir(Path::new("/sys"))? {
        return Err(Error::NotSysfs {
            root: sysfs.root().to_path_buf(),
        });
    }
    let class = Path::new("/sys/class/nd");
    // Keyed by the number of ndctlN, as libndctl keys buses; the bus directory is found
    // in make_bus.
    let class_dir = crate::sysfs::Device::new(Arc::clone(sysfs), class.to_path_buf());
    match class_dir.children("ndctl") {
        Ok(n) => Ok(n),
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            crate::ctx_log!(
                sysfs.logger(),
                log::Level::Debug,
                "{}: absent, no NVDIMM buses",
                class.display()
            );
            Ok(Vec::new())
        }
        Err(e) => Err(e),
    }
}

fn make_bus(inner: &CtxInner, id: u32, ctl: PathBuf) -> Result<Arc<Bus>> {
    let sysfs = &inner.sysfs;
    let dev = sysfs
        .read_attr(&ctl, "dev")?
        .into_option()
        .ok_or_else(|| Error::Missing {
            path: ctl.join("dev"),
        })?;
    let (major, minor) = parse_devnum(&ctl.join("dev"), &dev)?;
    let bus_path = sysfs
        .resolve(&PathBuf::from(format!(
            "/sys/dev/char/{major}:{minor}/device"
        )))?
        .into_path_buf();
    Bus::new(
        inner.me.clone(),
        Arc::clone(sysfs),
        id,
        major,
        minor,
        ctl,
        bus_path,
    )
}

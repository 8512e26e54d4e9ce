//! NVDIMM buses (`ndbusK`, controlled through `ndctlN`).

use std::path::PathBuf;
use std::sync::{Arc, Weak};

use crate::children::{Child, ChildList, Node};
use crate::ctx::{Ctx, CtxInner};
use crate::dimm::Dimm;
use crate::error::{Error, Result};
use crate::mapping::InterleaveSet;
use crate::region::{PersistenceDomain, Region};
use crate::sysfs::{AttrSet, Device, Sysfs};

/// What a bus reads: its provider and commands once; `wait_probe` on every call (each
/// waits for the kernel's probing to settle).
static BUS_ATTRS: AttrSet = AttrSet {
    cached: &["provider", "commands"],
    fresh: &["wait_probe"],
    lazy: &[],
};

/// A command of the kernel's bus command set (the `ND_CMD_*` ioctls of `/dev/ndctlN`).
///
/// ```
/// use ndctl::bus::BusCmd;
/// assert_eq!(BusCmd::ArsCap.name(), "ars_cap");
/// assert_eq!(BusCmd::ALL.len(), 5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BusCmd {
    /// Address range scrub capabilities of a physical range.
    ArsCap,
    /// Start an address range scrub.
    ArsStart,
    /// Progress and error records of an address range scrub.
    ArsStatus,
    /// Clear media errors in a range.
    ClearError,
    /// A function of the bus's DSM family (`ND_CMD_CALL`).
    Call,
}

impl BusCmd {
    /// Every bus command, in the kernel's order.
    pub const ALL: [BusCmd; 5] = [
        BusCmd::ArsCap,
        BusCmd::ArsStart,
        BusCmd::ArsStatus,
        BusCmd::ClearError,
        BusCmd::Call,
    ];

    /// The kernel's name of the command (`nvdimm_bus_cmd_name`), as the bus's `commands`
    /// attribute lists it.
    pub fn name(self) -> &'static str {
        match self {
            BusCmd::ArsCap => "ars_cap",
            BusCmd::ArsStart => "ars_start",
            BusCmd::ArsStatus => "ars_status",
            BusCmd::ClearError => "clear_error",
            BusCmd::Call => "cmd_call",
        }
    }

    /// The kernel's `ND_CMD_*` number of the command.
    pub fn number(self) -> u32 {
        use crate::cmd::abi::nd_cmd;
        match self {
            BusCmd::ArsCap => nd_cmd::ARS_CAP,
            BusCmd::ArsStart => nd_cmd::ARS_START,
            BusCmd::ArsStatus => nd_cmd::ARS_STATUS,
            BusCmd::ClearError => nd_cmd::CLEAR_ERROR,
            BusCmd::Call => nd_cmd::CALL,
        }
    }

    /// The bus command of `ND_CMD_*` number `n`, if it names one.
    pub fn from_number(n: u32) -> Option<BusCmd> {
        BusCmd::ALL.into_iter().find(|c| c.number() == n)
    }

    fn bit(self) -> u64 {
        1 << self as u32
    }
}

/// The bus commands libndctl recognises in `commands` (the rest are ignored).
const BUS_COMMANDS: [BusCmd; 4] = [
    BusCmd::ArsCap,
    BusCmd::ArsStart,
    BusCmd::ArsStatus,
    BusCmd::ClearError,
];

/// State of an address-range scrub as reported by `nfit/scrub`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScrubState {
    /// Completed scrubs.
    pub count: u32,
    /// A scrub is running (`+` suffix).
    pub active: bool,
}

/// Platform firmware activation state (`firmware/activate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FwaState {
    Invalid,
    Idle,
    Armed,
    Busy,
    ArmOverflow,
}

impl FwaState {
    /// The kernel's word for each state (`firmware/activate`), which `ndctl list` prints.
    const NAMES: [(FwaState, &'static str); 4] = [
        (FwaState::Idle, "idle"),
        (FwaState::Armed, "armed"),
        (FwaState::Busy, "busy"),
        (FwaState::ArmOverflow, "overflow"),
    ];

    /// Read `firmware/activate` of a bus or DIMM now; absent or unknown is `Invalid`.
    pub(crate) fn read(dev: &Device) -> Result<FwaState> {
        let v = dev.read_fresh("firmware/activate")?.into_option();
        Ok(Self::NAMES
            .iter()
            .find(|(_, n)| Some(*n) == v.as_deref())
            .map_or(FwaState::Invalid, |(s, _)| *s))
    }

    /// The kernel's word for the state; `None` for `Invalid`.
    pub fn name(self) -> Option<&'static str> {
        Self::NAMES
            .iter()
            .find(|(s, _)| *s == self)
            .map(|(_, n)| *n)
    }
}

/// How the platform activates firmware (`firmware/capability`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FwaMethod {
    Reset,
    Suspend,
    Live,
}

impl FwaMethod {
    /// libndctl's name of the method (`ndctl list`'s `activate_method`); the kernel calls
    /// the suspend method `quiesce`.
    pub fn name(self) -> &'static str {
        match self {
            FwaMethod::Reset => "reset",
            FwaMethod::Suspend => "suspend",
            FwaMethod::Live => "live",
        }
    }

    /// The kernel's word for the method (`firmware/capability`, `firmware/activate`);
    /// reset has none: it is what a platform without either offers.
    pub fn kernel_word(self) -> Option<&'static str> {
        match self {
            FwaMethod::Reset => None,
            FwaMethod::Suspend => Some("quiesce"),
            FwaMethod::Live => Some("live"),
        }
    }
}

/// An NVDIMM bus.
#[derive(Debug)]
pub struct Bus {
    me: Weak<Bus>,
    ctx: Weak<CtxInner>,
    /// The bus directory (`.../ndbusK`) with the id of `ndctlN`.
    node: Node,
    ctl: Device,
    major: u32,
    minor: u32,
    provider: String,
    cmd_mask: u64,
    dimms: ChildList<Dimm>,
    regions: ChildList<Region>,
}

impl std::ops::Deref for Bus {
    type Target = Node;
    fn deref(&self) -> &Node {
        &self.node
    }
}

impl Child for Bus {
    fn node(&self) -> &Node {
        &self.node
    }
    // Buses are found as `/sys/class/nd/ndctlN`.
    fn child_name(&self) -> &str {
        self.ctl.name()
    }
}

impl Bus {
    pub(crate) fn new(
        ctx: Weak<CtxInner>,
        sysfs: Arc<Sysfs>,
        id: u32,
        major: u32,
        minor: u32,
        ctl: PathBuf,
        bus_path: PathBuf,
    ) -> Result<Arc<Bus>> {
        let dev = Device::with_attrs(Arc::clone(&sysfs), bus_path, &BUS_ATTRS);
        // libndctl reads these through ndctlN/device, which is the bus directory.
        let provider = dev.required("provider")?;
        let commands = dev.required("commands")?;
        let cmd_mask = BUS_COMMANDS
            .iter()
            .filter(|c| commands.split_whitespace().any(|t| t == c.name()))
            .fold(0u64, |m, c| m | c.bit());
        let logger = Arc::clone(dev.sysfs().logger());
        Ok(Arc::new_cyclic(|me| Bus {
            me: me.clone(),
            ctx,
            ctl: Device::new(sysfs, ctl),
            node: Node::new(dev, id),
            major,
            minor,
            provider,
            cmd_mask,
            dimms: ChildList::new(&logger),
            regions: ChildList::new(&logger),
        }))
    }

    pub(crate) fn release(&self) {
        for r in self.regions.everything() {
            r.release();
        }
        self.regions.clear();
        self.dimms.clear();
    }

    /// Forget cached attributes of the bus and everything below it, and rescan.
    /// Every object is refreshed even if one rescan fails; the first failure is returned.
    pub(crate) fn invalidate(&self) -> Result<()> {
        self.device().invalidate();
        self.ctl.invalidate();
        for d in self.dimms.all() {
            d.invalidate();
        }
        let mut first_error = None;
        for r in self.regions.all() {
            if let Err(e) = r.invalidate() {
                first_error.get_or_insert(e);
            }
        }
        let rescan = self.rescan_children();
        match first_error {
            Some(e) => Err(e),
            None => rescan,
        }
    }

    fn rescan_children(&self) -> Result<()> {
        let me = self.arc();
        self.dimms.rescan(
            || self.scan("nmem"),
            |id, p| Dimm::new(Arc::clone(&me), id, p),
        )?;
        self.regions.rescan(
            || self.scan("region"),
            |id, p| Region::new(Arc::clone(&me), id, p),
        )
    }

    pub(crate) fn arc(&self) -> Arc<Bus> {
        self.me
            .upgrade()
            .unwrap_or_else(|| unreachable!("a bus is only reachable through its Arc"))
    }

    /// The context owning this bus.
    pub fn ctx(&self) -> Option<Ctx> {
        self.ctx.upgrade().map(Ctx::from_inner)
    }

    /// Major number of `/dev/ndctlN`.
    pub fn major(&self) -> u32 {
        self.major
    }

    /// Minor number of `/dev/ndctlN`.
    pub fn minor(&self) -> u32 {
        self.minor
    }

    /// The in-root path of the bus directory (`ndctl_bus_get_devname`'s directory).
    pub fn path(&self) -> std::path::PathBuf {
        self.device().path()
    }

    /// The control device name, `ndctlN`.
    pub fn ctl_name(&self) -> &str {
        self.ctl.name()
    }

    /// The provider, e.g. `ACPI.NFIT`, `nfit_test.0`, `e820`, `of_pmem`.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// Whether the bus supports command `cmd` (its `commands` attribute lists it).
    pub fn is_cmd_supported(&self, cmd: BusCmd) -> bool {
        self.cmd_mask & cmd.bit() != 0
    }

    /// Whether the bus is described by an ACPI NFIT (`nfit/revision` exists).
    pub fn has_nfit(&self) -> Result<bool> {
        Ok(self.device().opt("nfit/revision")?.is_some())
    }

    /// The NFIT revision, `None` without an NFIT.
    pub fn revision(&self) -> Result<Option<u32>> {
        match self.device().opt_u64("nfit/revision")? {
            Some(v) => u32::try_from(v).map(Some).map_err(|_| {
                Error::parse(
                    self.device().attr_path("nfit/revision"),
                    &v.to_string(),
                    "out of range",
                )
            }),
            None => Ok(None),
        }
    }

    /// The NFIT bus DSM mask (`nfit/dsm_mask`), 0 when absent.
    pub fn nfit_dsm_mask(&self) -> Result<u64> {
        Ok(self.device().opt_u64("nfit/dsm_mask")?.unwrap_or(0))
    }

    /// Whether the NFIT bus function `cmd` is supported.
    pub fn is_nfit_cmd_supported(&self, cmd: u32) -> Result<bool> {
        Ok(cmd < 64 && self.nfit_dsm_mask()? & (1 << cmd) != 0)
    }

    /// Whether the bus comes from a device tree node (`of_node/compatible`).
    pub fn has_of_node(&self) -> Result<bool> {
        Ok(self.device().opt("of_node/compatible")?.is_some())
    }

    /// Whether this is an IBM PAPR SCM bus (or its test emulation).
    pub fn is_papr_scm(&self) -> Result<bool> {
        Ok(matches!(
            self.device()
                .read_fresh("of_node/compatible")?
                .into_option()
                .as_deref(),
            Some("ibm,pmemory") | Some("nvdimm_test")
        ))
    }

    /// Whether the bus belongs to a CXL topology. libndctl's own check is broken (it
    /// reports CXL whenever `../subsys` does not resolve); we report what the
    /// attribute says: the bus's parent has a `subsys` link resolving under `/sys/bus/cxl`.
    pub fn has_cxl(&self) -> bool {
        let parent = match self.device().path().parent() {
            Some(p) => p.join("subsys"),
            None => return false,
        };
        self.device()
            .sysfs()
            .resolve(&parent)
            .map(|p| p.starts_with("/sys/bus/cxl"))
            .unwrap_or(false)
    }

    /// Address-range-scrub state, read now; `None` if the bus has no `nfit/scrub`.
    pub fn scrub_state(&self) -> Result<Option<ScrubState>> {
        let path = self.device().attr_path("nfit/scrub");
        match self.device().read_fresh("nfit/scrub")?.into_option() {
            None => Ok(None),
            Some(v) => {
                let t = v.trim();
                let (num, active) = match t.strip_suffix('+') {
                    Some(n) => (n, true),
                    None => (t, false),
                };
                let count = crate::sysfs::parse_u64(&path, num)?;
                let count =
                    u32::try_from(count).map_err(|_| Error::parse(&path, &v, "out of range"))?;
                Ok(Some(ScrubState { count, active }))
            }
        }
    }

    /// Start an address range scrub (`nfit/scrub` ← 1).
    pub fn start_scrub(&self) -> Result<()> {
        self.device().write("nfit/scrub", "1\n")
    }

    /// Firmware activation state, read now.
    pub fn fw_activate_state(&self) -> Result<FwaState> {
        FwaState::read(self.device())
    }

    /// Firmware activation method.
    pub fn fw_activate_method(&self) -> Result<FwaMethod> {
        let word = self.device().opt("firmware/capability")?;
        Ok([FwaMethod::Suspend, FwaMethod::Live]
            .into_iter()
            .find(|m| m.kernel_word() == word.as_deref())
            .unwrap_or(FwaMethod::Reset))
    }

    /// Ask the kernel to finish probing devices of this bus, as libndctl does before it
    /// trusts the tree: read `wait_probe` (the kernel flushes asynchronous probing on that
    /// read) and, with the `udev` feature on the real root, wait until udev's event queue
    /// is empty, polling every millisecond for up to `NDCTL_TIMEOUT` iterations (default
    /// 5000; 0 waits forever).
    pub fn wait_probe(&self) -> Result<()> {
        let logger = self.device().sysfs().logger();
        let limit = crate::env::secure_var("NDCTL_TIMEOUT")
            .and_then(|v| {
                crate::sysfs::parse_u64(std::path::Path::new("NDCTL_TIMEOUT"), &v.to_string_lossy())
                    .map_err(|e| {
                        crate::ctx_log!(logger, log::Level::Warn, "{e}; using the default 5000")
                    })
                    .ok()
            })
            .unwrap_or(5000);
        let mut tries = 0u64;
        loop {
            match self.device().read_fresh("wait_probe")? {
                crate::sysfs::Attr::Value(_) => {}
                _ => {
                    return Err(Error::Missing {
                        path: self.device().attr_path("wait_probe"),
                    })
                }
            }
            if udev_queue_is_empty(self.device().sysfs()) {
                return Ok(());
            }
            tries += 1;
            if limit != 0 && tries >= limit {
                crate::ctx_log!(
                    logger,
                    log::Level::Info,
                    "{}: udev queue still busy after {tries} tries",
                    self.devname()
                );
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    /// [`Bus::wait_probe`] before a scan, as libndctl does: a tree without the attribute,
    /// or a failed read, is scanned as it is (the failure is logged at debug level).
    pub(crate) fn settle_before_scan(&self) {
        if let Err(e) = self.wait_probe() {
            crate::ctx_log!(
                self.device().sysfs().logger(),
                log::Level::Debug,
                "{}: wait_probe: {e}",
                self.devname()
            );
        }
    }

    fn scan(&self, prefix: &str) -> Result<Vec<(u32, PathBuf)>> {
        self.settle_before_scan();
        self.device().children(prefix)
    }

    /// The DIMMs (`nmemN`) on this bus.
    pub fn dimms(&self) -> Result<Vec<Arc<Dimm>>> {
        let me = self.arc();
        self.dimms.get(
            || self.scan("nmem"),
            |id, p| Dimm::new(Arc::clone(&me), id, p),
        )
    }

    /// The regions (`regionN`) on this bus.
    pub fn regions(&self) -> Result<Vec<Arc<Region>>> {
        let me = self.arc();
        self.regions.get(
            || self.scan("region"),
            |id, p| Region::new(Arc::clone(&me), id, p),
        )
    }

    /// The bus after this one in its context's list.
    pub fn next(&self) -> Option<Arc<Bus>> {
        self.ctx().and_then(|c| c.bus_after(self))
    }

    /// The DIMM listed after `dimm` on this bus.
    pub fn dimm_after(&self, dimm: &Dimm) -> Option<Arc<Dimm>> {
        self.dimms.after(dimm)
    }

    /// The region listed after `region` on this bus.
    pub fn region_after(&self, region: &Region) -> Option<Arc<Region>> {
        self.regions.after(region)
    }

    /// The DIMM with this NFIT handle.
    pub fn dimm_by_handle(&self, handle: u32) -> Result<Option<Arc<Dimm>>> {
        for d in self.dimms()? {
            if d.handle()? == Some(handle) {
                return Ok(Some(d));
            }
        }
        Ok(None)
    }

    /// The PMEM region whose NFIT SPA range index is `index`.
    pub fn region_by_range_index(&self, index: u32) -> Result<Option<Arc<Region>>> {
        for r in self.regions()? {
            if r.range_index()? == Some(index) {
                return Ok(Some(r));
            }
        }
        Ok(None)
    }

    /// The region whose physical address range contains `address`.
    pub fn region_by_physical_address(&self, address: u64) -> Result<Option<Arc<Region>>> {
        for r in self.regions()? {
            if let Some(start) = r.resource()? {
                if address >= start && address - start < r.size() {
                    return Ok(Some(r));
                }
            }
        }
        Ok(None)
    }

    /// The DIMM whose mapping in a region contains the physical `address`.
    pub fn dimm_by_physical_address(&self, address: u64) -> Result<Option<Arc<Dimm>>> {
        let Some(region) = self.region_by_physical_address(address)? else {
            return Ok(None);
        };
        // Without an interleave description the address can only be attributed when the
        // region has a single mapping (libndctl asks the platform via an NFIT DSM for the
        // interleaved case, which is a command-layer operation).
        let mappings = region.mappings()?;
        match mappings.as_slice() {
            [one] => Ok(Some(Arc::clone(one.dimm()))),
            [] => Ok(None),
            // An interleaved region: only the platform knows (NFIT Translate SPA).
            _ if self.has_nfit()? => match self.nfit_translate_spa(address) {
                Ok((handle, _)) => self.dimm_by_handle(handle),
                Err(e) => {
                    crate::ctx_log!(
                        self.device().sysfs().logger(),
                        log::Level::Debug,
                        "{}: translate spa {address:#x}: {e}",
                        self.devname()
                    );
                    Ok(None)
                }
            },
            _ => Ok(None),
        }
    }

    /// The interleave sets of the bus's PMEM regions, in region order.
    pub fn interleave_sets(&self) -> Result<Vec<Arc<InterleaveSet>>> {
        Ok(self
            .regions()?
            .iter()
            .filter_map(|r| r.interleave_set())
            .collect())
    }

    /// The least capable persistence domain among the bus's regions.
    pub fn persistence_domain(&self) -> Result<PersistenceDomain> {
        let mut worst: Option<PersistenceDomain> = None;
        for r in self.regions()? {
            let d = r.persistence_domain()?;
            worst = Some(match worst {
                Some(w) if (w as u32) >= (d as u32) => w,
                _ => d,
            });
        }
        Ok(worst.unwrap_or(PersistenceDomain::Unknown))
    }
}

/// Whether udev has no events pending. Without the `udev` feature, or on a root other than
/// `/` (a captured tree has no udev behind it), there is nothing to wait for.
#[cfg(feature = "udev")]
fn udev_queue_is_empty(sysfs: &Sysfs) -> bool {
    if sysfs.root() != std::path::Path::new("/") {
        return true;
    }
    // SAFETY: plain libudev calls on objects created and released here; NULL results are
    // checked before use.
    unsafe {
        let udev = udev::ffi::udev_new();
        if udev.is_null() {
            return true;
        }
        let queue = udev::ffi::udev_queue_new(udev);
        let empty = queue.is_null() || udev::ffi::udev_queue_get_queue_is_empty(queue) != 0;
        if !queue.is_null() {
            udev::ffi::udev_queue_unref(queue);
        }
        udev::ffi::udev_unref(udev);
        empty
    }
}

#[cfg(not(feature = "udev"))]
fn udev_queue_is_empty(_sysfs: &Sysfs) -> bool {
    true
}

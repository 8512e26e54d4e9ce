//! NVDIMMs (`nmemN`).

use std::path::PathBuf;
use std::sync::Arc;

use crate::bus::{Bus, FwaState};
use crate::children::{tree_object, Node};
use crate::error::{Error, Result};
use crate::sysfs::{parse_devnum, parse_u64, AttrSet, Device};

/// What a DIMM reads in its own directory: its identity once; its state afresh on every
/// call, as libndctl does. (The family's attributes live in a subdirectory, `nfit/`, and
/// are read one by one.)
static DIMM_ATTRS: AttrSet = AttrSet {
    cached: &["dev", "commands", "modalias", "flags"],
    fresh: &["state", "available_slots", "security", "frozen"],
    lazy: &[],
};

/// A command of the kernel's DIMM command set (the `ND_CMD_*` ioctls of `/dev/nmemN`).
///
/// ```
/// use ndctl::dimm::DimmCmd;
/// assert_eq!(DimmCmd::GetConfigSize.name(), "get_size");
/// assert_eq!(DimmCmd::ALL.len(), 10);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DimmCmd {
    /// Health and SMART data.
    Smart,
    /// SMART alarm thresholds.
    SmartThreshold,
    /// DIMM flags.
    Flags,
    /// Size of the label (config) area.
    GetConfigSize,
    /// Read from the label area.
    GetConfigData,
    /// Write to the label area.
    SetConfigData,
    /// Size of the vendor command effect log.
    EffectSize,
    /// The vendor command effect log.
    EffectLog,
    /// Vendor-specific pass-through.
    Vendor,
    /// A function of the DIMM's DSM family (`ND_CMD_CALL`).
    Call,
}

impl DimmCmd {
    /// Every DIMM command, in the kernel's order.
    pub const ALL: [DimmCmd; 10] = [
        DimmCmd::Smart,
        DimmCmd::SmartThreshold,
        DimmCmd::Flags,
        DimmCmd::GetConfigSize,
        DimmCmd::GetConfigData,
        DimmCmd::SetConfigData,
        DimmCmd::EffectSize,
        DimmCmd::EffectLog,
        DimmCmd::Vendor,
        DimmCmd::Call,
    ];

    /// The kernel's `ND_CMD_*` number of the command.
    pub fn number(self) -> u32 {
        use crate::cmd::abi::nd_cmd;
        match self {
            DimmCmd::Smart => nd_cmd::SMART,
            DimmCmd::SmartThreshold => nd_cmd::SMART_THRESHOLD,
            DimmCmd::Flags => nd_cmd::DIMM_FLAGS,
            DimmCmd::GetConfigSize => nd_cmd::GET_CONFIG_SIZE,
            DimmCmd::GetConfigData => nd_cmd::GET_CONFIG_DATA,
            DimmCmd::SetConfigData => nd_cmd::SET_CONFIG_DATA,
            DimmCmd::EffectSize => nd_cmd::VENDOR_EFFECT_LOG_SIZE,
            DimmCmd::EffectLog => nd_cmd::VENDOR_EFFECT_LOG,
            DimmCmd::Vendor => nd_cmd::VENDOR,
            DimmCmd::Call => nd_cmd::CALL,
        }
    }

    /// The DIMM command of `ND_CMD_*` number `n`, if it names one.
    pub fn from_number(n: u32) -> Option<DimmCmd> {
        DimmCmd::ALL.into_iter().find(|c| c.number() == n)
    }

    /// The kernel's name of the command (`nvdimm_cmd_name`), as the DIMM's `commands`
    /// attribute lists it.
    pub fn name(self) -> &'static str {
        match self {
            DimmCmd::Smart => "smart",
            DimmCmd::SmartThreshold => "smart_thresh",
            DimmCmd::Flags => "flags",
            DimmCmd::GetConfigSize => "get_size",
            DimmCmd::GetConfigData => "get_data",
            DimmCmd::SetConfigData => "set_data",
            DimmCmd::EffectSize => "effect_size",
            DimmCmd::EffectLog => "effect_log",
            DimmCmd::Vendor => "vendor",
            DimmCmd::Call => "cmd_call",
        }
    }

    fn bit(self) -> u64 {
        1 << self as u32
    }
}

/// The parts of an NFIT device handle:
/// `(node & 0xfff) << 16 | (socket & 0xf) << 12 | (imc & 0xf) << 8 | (channel & 0xf) << 4 | (dimm & 0xf)`.
///
/// ```
/// let h = ndctl::dimm::Handle(0x10101);
/// assert_eq!((h.node(), h.socket(), h.imc(), h.channel(), h.dimm()), (1, 0, 1, 0, 1));
/// assert_eq!(ndctl::dimm::Handle::new(1, 0, 1, 0, 1), h);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Handle(pub u32);

impl Handle {
    /// `DIMM_HANDLE(node, socket, imc, channel, dimm)`.
    pub fn new(node: u32, socket: u32, imc: u32, channel: u32, dimm: u32) -> Handle {
        Handle(
            (node & 0xfff) << 16
                | (socket & 0xf) << 12
                | (imc & 0xf) << 8
                | (channel & 0xf) << 4
                | (dimm & 0xf),
        )
    }
    pub fn node(self) -> u32 {
        (self.0 >> 16) & 0xfff
    }
    pub fn socket(self) -> u32 {
        (self.0 >> 12) & 0xf
    }
    pub fn imc(self) -> u32 {
        (self.0 >> 8) & 0xf
    }
    pub fn channel(self) -> u32 {
        (self.0 >> 4) & 0xf
    }
    pub fn dimm(self) -> u32 {
        self.0 & 0xf
    }
}

/// Health flags from `<family>/flags` (NFIT memory-device state flags).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DimmFlags {
    pub not_armed: bool,
    pub save_fail: bool,
    pub flush_fail: bool,
    pub smart_event: bool,
    pub restore_fail: bool,
    pub map_fail: bool,
    pub smart_notify: bool,
}

impl DimmFlags {
    fn parse(s: &str) -> DimmFlags {
        let mut f = DimmFlags::default();
        for t in s.split_whitespace() {
            match t {
                "not_armed" => f.not_armed = true,
                "save_fail" => f.save_fail = true,
                "flush_fail" => f.flush_fail = true,
                "smart_event" => f.smart_event = true,
                "restore_fail" => f.restore_fail = true,
                "map_fail" => f.map_fail = true,
                "smart_notify" => f.smart_notify = true,
                _ => {}
            }
        }
        f
    }

    /// Any failure or event flag set (libndctl's `has_errors`).
    pub fn has_errors(&self) -> bool {
        self.not_armed
            || self.save_fail
            || self.flush_fail
            || self.smart_event
            || self.restore_fail
            || self.map_fail
    }
}

/// Security state (`security`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityState {
    Disabled,
    Unlocked,
    Locked,
    Frozen,
    Overwrite,
}

impl SecurityState {
    /// The name `ndctl list` prints.
    pub fn as_str(self) -> &'static str {
        match self {
            SecurityState::Disabled => "disabled",
            SecurityState::Unlocked => "unlocked",
            SecurityState::Locked => "locked",
            SecurityState::Frozen => "frozen",
            SecurityState::Overwrite => "overwrite",
        }
    }
}

/// Result of the last firmware activation (`firmware/result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FwaResult {
    Invalid,
    None,
    Success,
    NotStaged,
    NeedReset,
    Fail,
}

/// An NVDIMM.
#[derive(Debug)]
pub struct Dimm {
    node: Node,
    bus: Arc<Bus>,
    major: u32,
    minor: u32,
    cmd_mask: u64,
    modalias: String,
    /// `nfit`, `papr` or `cxl`: the subdirectory with the platform attributes.
    prefix: &'static str,
    /// `<prefix>/flags` kept open for poll() (libndctl's `health_eventfd`), opened on
    /// first use; `None` when it cannot be opened.
    health_event: std::sync::OnceLock<Option<std::fs::File>>,
}

tree_object!(Dimm, node: Node);

impl Dimm {
    pub(crate) fn new(bus: Arc<Bus>, id: u32, path: PathBuf) -> Result<Arc<Dimm>> {
        let dev = Device::with_attrs(Arc::clone(bus.device().sysfs()), path, &DIMM_ATTRS);
        let devnum = dev.required("dev")?;
        let (major, minor) = parse_devnum(&dev.attr_path("dev"), &devnum)?;
        let commands = dev.required("commands")?;
        let cmd_mask = DimmCmd::ALL
            .iter()
            .filter(|c| commands.split_whitespace().any(|t| t == c.name()))
            .fold(0u64, |m, c| m | c.bit());
        let modalias = dev.required("modalias")?;
        let prefix = if bus.has_nfit()? {
            "nfit"
        } else if bus.has_of_node()? {
            "papr"
        } else if bus.has_cxl() {
            "cxl"
        } else {
            "nfit"
        };
        let dimm = Dimm {
            node: Node::new(dev, id),
            bus,
            major,
            minor,
            cmd_mask,
            modalias,
            prefix,
            health_event: std::sync::OnceLock::new(),
        };
        // NFIT DIMMs cannot be used without their handle and physical id (libndctl drops
        // the DIMM when either is unreadable).
        if dimm.prefix == "nfit" && dimm.device().has("nfit")? {
            dimm.device().req_u64("nfit/handle")?;
            dimm.device().req_u64("nfit/phys_id")?;
        }
        Ok(Arc::new(dimm))
    }

    pub(crate) fn invalidate(&self) {
        self.device().invalidate();
    }

    fn pattr(&self, name: &str) -> String {
        format!("{}/{}", self.prefix, name)
    }

    fn opt_u64(&self, name: &str) -> Result<Option<u64>> {
        self.device().opt_u64(&self.pattr(name))
    }

    fn opt_u32(&self, name: &str) -> Result<Option<u32>> {
        let attr = self.pattr(name);
        match self.device().opt_u64(&attr)? {
            None => Ok(None),
            Some(v) => u32::try_from(v).map(Some).map_err(|_| {
                Error::parse(
                    self.device().attr_path(&attr),
                    &v.to_string(),
                    "out of range",
                )
            }),
        }
    }

    fn opt_u16(&self, name: &str) -> Result<Option<u16>> {
        let attr = self.pattr(name);
        match self.device().opt_u64(&attr)? {
            None => Ok(None),
            Some(v) => u16::try_from(v).map(Some).map_err(|_| {
                Error::parse(
                    self.device().attr_path(&attr),
                    &v.to_string(),
                    "out of range",
                )
            }),
        }
    }

    /// The bus this DIMM sits on.
    pub fn bus(&self) -> &Arc<Bus> {
        &self.bus
    }

    /// The next DIMM on the same bus.
    pub fn next(&self) -> Option<Arc<Dimm>> {
        self.bus.dimm_after(self)
    }

    /// Major number of `/dev/nmemN`.
    pub fn major(&self) -> u32 {
        self.major
    }

    /// Minor number of `/dev/nmemN`.
    pub fn minor(&self) -> u32 {
        self.minor
    }

    /// The `modalias` used to load the driver on enable.
    pub fn modalias(&self) -> &str {
        &self.modalias
    }

    /// Whether the DIMM supports command `cmd` (its `commands` attribute lists it). As in
    /// libndctl, a DIMM of the MSFT, Hyper-V or PAPR family supports SMART whatever
    /// `commands` says: its health comes from the family's DSMs.
    pub fn is_cmd_supported(&self, cmd: DimmCmd) -> bool {
        if cmd == DimmCmd::Smart && self.smart_from_family() {
            return true;
        }
        self.cmd_mask & cmd.bit() != 0
    }

    /// A PAPR DIMM (on an `ibm,pmemory` bus) or one of the MSFT (3) or Hyper-V (4)
    /// family, whose SMART is emulated by family DSMs.
    fn smart_from_family(&self) -> bool {
        let compatible = self.bus.device().opt("of_node/compatible");
        if matches!(
            compatible.as_ref().map(|c| c.as_deref()),
            Ok(Some("ibm,pmemory"))
        ) {
            return true;
        }
        matches!(self.cmd_family(), Ok(Some(3..=5)))
    }

    /// The NFIT device handle.
    pub fn handle(&self) -> Result<Option<u32>> {
        self.opt_u32("handle")
    }

    /// The SMBIOS physical id.
    pub fn phys_id(&self) -> Result<Option<u16>> {
        self.opt_u16("phys_id")
    }

    /// Vendor id.
    pub fn vendor(&self) -> Result<Option<u16>> {
        self.opt_u16("vendor")
    }

    /// Device id.
    pub fn device_id(&self) -> Result<Option<u16>> {
        self.opt_u16("device")
    }

    /// Revision id.
    pub fn revision(&self) -> Result<Option<u16>> {
        self.opt_u16("rev_id")
    }

    /// Serial number.
    pub fn serial(&self) -> Result<Option<u32>> {
        self.opt_u32("serial")
    }

    /// Subsystem vendor id.
    pub fn subsystem_vendor(&self) -> Result<Option<u16>> {
        self.opt_u16("subsystem_vendor")
    }

    /// Subsystem device id.
    pub fn subsystem_device(&self) -> Result<Option<u16>> {
        self.opt_u16("subsystem_device")
    }

    /// Subsystem revision id.
    pub fn subsystem_revision(&self) -> Result<Option<u16>> {
        self.opt_u16("subsystem_rev_id")
    }

    /// The DSM command family (`family`), e.g. 0 for Intel.
    pub fn cmd_family(&self) -> Result<Option<u32>> {
        self.opt_u32("family")
    }

    /// The DSM function mask (`dsm_mask`).
    pub fn dsm_mask(&self) -> Result<Option<u64>> {
        self.opt_u64("dsm_mask")
    }

    /// The unique id (`id`), e.g. `8089-a2-1751-000004c9` or `8680-56341200`.
    pub fn unique_id(&self) -> Result<Option<String>> {
        if self.prefix == "cxl" {
            return self.device().opt("cxl/id");
        }
        self.device().opt(&self.pattr("id"))
    }

    /// Parse `VVVV-LL-DDDD-SSSSSSSS` into (location, date); shorter ids carry neither.
    fn id_parts(&self) -> Result<Option<(u8, u16)>> {
        let Some(id) = self.unique_id()? else {
            return Ok(None);
        };
        let parts: Vec<&str> = id.split('-').collect();
        if parts.len() != 4 {
            return Ok(None);
        }
        let path = self.device().attr_path(&self.pattr("id"));
        let loc = u8::from_str_radix(parts[1], 16)
            .map_err(|_| Error::parse(&path, &id, "bad manufacturing location"))?;
        let date = u16::from_str_radix(parts[2], 16)
            .map_err(|_| Error::parse(&path, &id, "bad manufacturing date"))?;
        Ok(Some((loc, date)))
    }

    /// Manufacturing location (from the unique id).
    pub fn manufacturing_location(&self) -> Result<Option<u8>> {
        Ok(self.id_parts()?.map(|p| p.0))
    }

    /// Manufacturing date (from the unique id).
    pub fn manufacturing_date(&self) -> Result<Option<u16>> {
        Ok(self.id_parts()?.map(|p| p.1))
    }

    /// Number of interface format codes (`formats`, clamped to 1..2 like libndctl).
    pub fn formats(&self) -> Result<u32> {
        Ok(self.opt_u32("formats")?.unwrap_or(1).clamp(1, 2))
    }

    /// Interface format code `i` (`format`, `format1`).
    pub fn format(&self, i: u32) -> Result<Option<u32>> {
        match i {
            0 => self.opt_u32("format"),
            1 => self.opt_u32("format1"),
            _ => Ok(None),
        }
    }

    /// The dirty shutdown count, `None` where the platform has none.
    pub fn dirty_shutdown(&self) -> Result<Option<u64>> {
        self.opt_u64("dirty_shutdown")
    }

    /// Health/state flags (`<family>/flags`), cached until [`Dimm::refresh_flags`].
    pub fn flags(&self) -> Result<DimmFlags> {
        Ok(self
            .device()
            .opt(&self.pattr("flags"))?
            .map(|s| DimmFlags::parse(&s))
            .unwrap_or_default())
    }

    /// The health flags attribute (`<prefix>/flags`) opened read-only, for poll(): sysfs
    /// signals a health event on it with `POLLPRI` (`ndctl_dimm_get_health_eventfd`). The
    /// descriptor is opened once and lives as long as the DIMM; `None` when the attribute
    /// cannot be opened (as libndctl's -1).
    pub fn health_eventfd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        use std::os::fd::AsFd;
        self.health_event
            .get_or_init(|| {
                self.device()
                    .sysfs()
                    .open_attr_for_poll(&self.device().path(), &self.pattr("flags"))
                    .inspect_err(|e| {
                        crate::ctx_log!(
                            self.device().sysfs().logger(),
                            log::Level::Debug,
                            "{}: no health event file: {e}",
                            self.devname()
                        )
                    })
                    .ok()
            })
            .as_ref()
            .map(|f| f.as_fd())
    }

    /// Re-read the health flags.
    pub fn refresh_flags(&self) -> Result<DimmFlags> {
        self.device().read_fresh(&self.pattr("flags"))?;
        self.flags()
    }

    /// Tokens of the top-level `flags` attribute (`lock`, `alias`, `label`); `None` if absent.
    fn top_flags(&self) -> Result<Option<Vec<String>>> {
        Ok(self
            .device()
            .opt("flags")?
            .map(|s| s.split_whitespace().map(String::from).collect()))
    }

    /// Whether the label area is locked; `None` if unknown.
    pub fn locked(&self) -> Result<Option<bool>> {
        Ok(self.top_flags()?.map(|t| t.iter().any(|x| x == "lock")))
    }

    /// Whether the DIMM is aliased (has labels); `None` if unknown.
    pub fn aliased(&self) -> Result<Option<bool>> {
        Ok(self.top_flags()?.map(|t| t.iter().any(|x| x == "alias")))
    }

    /// Whether a driver is bound.
    pub fn is_enabled(&self) -> Result<bool> {
        self.device().has_driver()
    }

    /// Whether a region using this DIMM is active (`state` is `active`).
    pub fn is_active(&self) -> Result<bool> {
        match self.device().read_fresh("state")?.into_option() {
            Some(state) => Ok(state.trim() == "active"),
            None => Err(Error::Missing {
                path: self.device().attr_path("state"),
            }),
        }
    }

    /// Free label slots (`available_slots`), read now.
    pub fn available_labels(&self) -> Result<Option<u32>> {
        match self.device().fresh_u64("available_slots")? {
            None => Ok(None),
            Some(v) => u32::try_from(v).map(Some).map_err(|_| {
                Error::parse(
                    self.device().attr_path("available_slots"),
                    &v.to_string(),
                    "out of range",
                )
            }),
        }
    }

    /// Security state, read now; `None` if the DIMM has no security attribute.
    pub fn security(&self) -> Result<Option<SecurityState>> {
        let path = self.device().attr_path("security");
        match self.device().read_fresh("security")?.into_option() {
            None => Ok(None),
            Some(s) => Ok(Some(match s.trim() {
                "disabled" => SecurityState::Disabled,
                "unlocked" => SecurityState::Unlocked,
                "locked" => SecurityState::Locked,
                "frozen" => SecurityState::Frozen,
                "overwrite" => SecurityState::Overwrite,
                _ => return Err(Error::parse(path, &s, "unknown security state")),
            })),
        }
    }

    /// Whether security is frozen (`frozen`).
    pub fn security_is_frozen(&self) -> Result<bool> {
        match self.device().read_fresh("frozen")?.into_option() {
            None => Ok(self.security()? == Some(SecurityState::Frozen)),
            Some(v) => Ok(parse_u64(&self.device().attr_path("frozen"), &v)? != 0),
        }
    }

    /// Firmware activation state of this DIMM.
    pub fn fw_activate_state(&self) -> Result<FwaState> {
        FwaState::read(self.device())
    }

    /// Result of the last firmware activation.
    pub fn fw_activate_result(&self) -> Result<FwaResult> {
        Ok(
            match self
                .device()
                .read_fresh("firmware/result")?
                .into_option()
                .as_deref()
            {
                Some("none") => FwaResult::None,
                Some("success") => FwaResult::Success,
                Some("fail") => FwaResult::Fail,
                Some("not_staged") => FwaResult::NotStaged,
                Some("need_reset") => FwaResult::NeedReset,
                _ => FwaResult::Invalid,
            },
        )
    }

    /// Bind the DIMM to its driver.
    pub fn enable(&self) -> Result<()> {
        if self.is_enabled()? {
            return Ok(());
        }
        self.device().bind(Some(&self.modalias))?;
        if self.is_enabled()? {
            Ok(())
        } else {
            Err(Error::Failed {
                object: self.devname().into(),
                reason: "failed to enable".into(),
            })
        }
    }

    /// Unbind the DIMM from its driver.
    pub fn disable(&self) -> Result<()> {
        if !self.is_enabled()? {
            return Ok(());
        }
        self.device().unbind()?;
        if self.is_enabled()? {
            Err(Error::Busy {
                object: self.devname().into(),
                reason: "failed to disable".into(),
            })
        } else {
            Ok(())
        }
    }
}

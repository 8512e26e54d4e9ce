//! SMART health, thresholds, SMART error injection and "ack shutdown count" through the
//! DIMM's DSM command family (`ND_CMD_CALL` on `/dev/nmemN`), as libndctl's per-family ops
//! tables (`intel.c`, `hpe1.c`, `msft.c`, `hyperv.c`, `papr.c`) do them.
//!
//! Every family encodes its own request and reply; the submodules hold those layouts and
//! translate a reply into the family-neutral [`Health`] and [`Thresholds`], with the
//! libndctl constants (`ND_SMART_*`). A DIMM whose family has no such operation fails with
//! [`Error::Unsupported`], as libndctl's builders return NULL.
//!
//! ```no_run
//! let ctx = ndctl::Ctx::new()?;
//! for bus in ctx.buses()? {
//!     for dimm in bus.dimms()? {
//!         match dimm.health() {
//!             Ok(h) => println!("{}: {:?} {:?}", dimm.devname(), h.state(), h.media_temperature),
//!             Err(e) => println!("{}: {e}", dimm.devname()),
//!         }
//!     }
//! }
//! # Ok::<(), ndctl::Error>(())
//! ```

mod hpe1;
mod hyperv;
mod intel;
mod json;
mod msft;
mod papr;
#[cfg(test)]
mod tests;

use crate::dimm::DimmCmd;
use std::io;
use std::sync::Arc;

use super::abi::{self, family as fam};
use super::{Command, Kind, Target, STATUS_BUILT};
use crate::dimm::Dimm;
use crate::error::{Error, Result};

pub use json::health_json;

/// A DIMM command family with SMART operations (`NVDIMM_FAMILY_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// Intel DSM (also what `nfit_test` emulates).
    Intel,
    /// HPE type 1.
    Hpe1,
    /// Microsoft.
    Msft,
    /// Hyper-V virtual NVDIMM.
    Hyperv,
    /// IBM PAPR SCM.
    Papr,
}

impl Family {
    /// The family whose operations libndctl uses for `dimm`: PAPR for a DIMM on an
    /// `ibm,pmemory` device-tree bus, otherwise the NFIT `family` attribute. `None` when
    /// libndctl has no operations for it (no family, HPE type 2, unknown numbers).
    pub fn of(dimm: &Dimm) -> Result<Option<Family>> {
        let compatible = dimm.bus().device().opt("of_node/compatible")?;
        if compatible.as_deref() == Some("ibm,pmemory") {
            return Ok(Some(Family::Papr));
        }
        Ok(dimm.cmd_family()?.and_then(Family::from_number))
    }

    /// The family of `NVDIMM_FAMILY_*` number `n`, if libndctl has operations for it.
    pub fn from_number(n: u32) -> Option<Family> {
        match n {
            fam::INTEL => Some(Family::Intel),
            fam::HPE1 => Some(Family::Hpe1),
            fam::MSFT => Some(Family::Msft),
            fam::HYPERV => Some(Family::Hyperv),
            fam::PAPR => Some(Family::Papr),
            _ => None,
        }
    }

    /// The `NVDIMM_FAMILY_*` number (`nd_cmd_pkg.nd_family`).
    pub fn number(self) -> u32 {
        match self {
            Family::Intel => fam::INTEL,
            Family::Hpe1 => fam::HPE1,
            Family::Msft => fam::MSFT,
            Family::Hyperv => fam::HYPERV,
            Family::Papr => fam::PAPR,
        }
    }

    /// Which fields of a SMART reply the family reports (libndctl's ops table has a getter
    /// for them); the others read 0 through the C API.
    pub fn reports(self, field: SmartField) -> bool {
        use SmartField::*;
        match self {
            Family::Intel => true,
            Family::Hpe1 => !matches!(field, CtrlTemperature | ShutdownCount),
            Family::Msft => matches!(
                field,
                Flags | Health | MediaTemperature | AlarmFlags | LifeUsed
            ),
            Family::Hyperv => matches!(field, Flags | Health | ShutdownCount),
            Family::Papr => matches!(
                field,
                Flags | Health | ShutdownState | LifeUsed | ShutdownCount
            ),
        }
    }

    /// What libndctl's getter of `field` returns for a command that is not a completed
    /// SMART command of this family (families differ: 0 or `UINT_MAX`).
    pub fn invalid_value(self, field: SmartField) -> u32 {
        match (self, field) {
            (Family::Papr, _) => 0,
            (Family::Intel | Family::Hyperv, SmartField::Flags) => 0,
            (Family::Intel, SmartField::Health) => 0,
            _ => u32::MAX,
        }
    }
}

/// One value of a SMART reply, as libndctl's `ndctl_cmd_smart_get_*` getters name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SmartField {
    /// [`HealthFlags`] bits.
    Flags,
    /// `ND_SMART_*_HEALTH` bits.
    Health,
    /// Media temperature, SMART-encoded.
    MediaTemperature,
    /// Controller temperature, SMART-encoded.
    CtrlTemperature,
    /// Spare capacity left, percent.
    Spares,
    /// [`AlarmFlags`] bits.
    AlarmFlags,
    /// Life used, percent.
    LifeUsed,
    /// 0 clean, non-zero dirty.
    ShutdownState,
    /// Dirty shutdown count.
    ShutdownCount,
    /// Size of the vendor data.
    VendorSize,
}

/// One value of a SMART threshold reply (`ndctl_cmd_smart_threshold_get_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ThresholdField {
    /// [`AlarmFlags`] of the enabled alarms.
    AlarmControl,
    /// Media temperature alarm threshold, SMART-encoded.
    MediaTemperature,
    /// Controller temperature alarm threshold, SMART-encoded.
    CtrlTemperature,
    /// Spares alarm threshold, percent.
    Spares,
}

/// Which values of a SMART reply are valid (`ND_SMART_*_VALID` of libndctl.h).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct HealthFlags(pub u32);

impl HealthFlags {
    /// `ND_SMART_HEALTH_VALID`.
    pub const HEALTH: u32 = 1 << 0;
    /// `ND_SMART_SPARES_VALID`.
    pub const SPARES: u32 = 1 << 1;
    /// `ND_SMART_USED_VALID`.
    pub const USED: u32 = 1 << 2;
    /// `ND_SMART_MTEMP_VALID` (= `ND_SMART_TEMP_VALID`).
    pub const MEDIA_TEMPERATURE: u32 = 1 << 3;
    /// `ND_SMART_CTEMP_VALID`.
    pub const CTRL_TEMPERATURE: u32 = 1 << 4;
    /// `ND_SMART_SHUTDOWN_COUNT_VALID`.
    pub const SHUTDOWN_COUNT: u32 = 1 << 5;
    /// `ND_SMART_AIT_STATUS_VALID`.
    pub const AIT_STATUS: u32 = 1 << 6;
    /// `ND_SMART_PTEMP_VALID`.
    pub const PMIC_TEMPERATURE: u32 = 1 << 7;
    /// `ND_SMART_ALARM_VALID`.
    pub const ALARM: u32 = 1 << 9;
    /// `ND_SMART_SHUTDOWN_VALID`.
    pub const SHUTDOWN: u32 = 1 << 10;
    /// `ND_SMART_VENDOR_VALID`.
    pub const VENDOR: u32 = 1 << 11;

    /// True when every bit of `bits` is set.
    pub fn contains(self, bits: u32) -> bool {
        self.0 & bits == bits
    }
}

/// Alarm trip bits (`ND_SMART_SPARE_TRIP`, `_MTEMP_TRIP`, `_CTEMP_TRIP`): in a SMART
/// reply the alarms that tripped, in a threshold reply the alarms that are enabled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct AlarmFlags(pub u32);

impl AlarmFlags {
    /// `ND_SMART_SPARE_TRIP`.
    pub const SPARES: u32 = 1 << 0;
    /// `ND_SMART_MTEMP_TRIP` (= `ND_SMART_TEMP_TRIP`).
    pub const MEDIA_TEMPERATURE: u32 = 1 << 1;
    /// `ND_SMART_CTEMP_TRIP`.
    pub const CTRL_TEMPERATURE: u32 = 1 << 2;

    /// True when every bit of `bits` is set.
    pub fn contains(self, bits: u32) -> bool {
        self.0 & bits == bits
    }
}

/// `ND_SMART_NON_CRITICAL_HEALTH`.
pub const HEALTH_NON_CRITICAL: u32 = 1 << 0;
/// `ND_SMART_CRITICAL_HEALTH`.
pub const HEALTH_CRITICAL: u32 = 1 << 1;
/// `ND_SMART_FATAL_HEALTH`.
pub const HEALTH_FATAL: u32 = 1 << 2;

/// The overall health a SMART reply reports, the most severe of its health bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HealthState {
    /// No health bit set.
    Ok,
    /// `ND_SMART_NON_CRITICAL_HEALTH`.
    NonCritical,
    /// `ND_SMART_CRITICAL_HEALTH`.
    Critical,
    /// `ND_SMART_FATAL_HEALTH`.
    Fatal,
}

impl HealthState {
    /// From `ND_SMART_*_HEALTH` bits; the most severe wins.
    pub fn from_bits(bits: u32) -> HealthState {
        if bits & HEALTH_FATAL != 0 {
            HealthState::Fatal
        } else if bits & HEALTH_CRITICAL != 0 {
            HealthState::Critical
        } else if bits & HEALTH_NON_CRITICAL != 0 {
            HealthState::NonCritical
        } else {
            HealthState::Ok
        }
    }

    /// The name `ndctl list -H` prints.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Ok => "ok",
            HealthState::NonCritical => "non-critical",
            HealthState::Critical => "critical",
            HealthState::Fatal => "fatal",
        }
    }
}

/// Sign bit of a SMART temperature.
const TEMPERATURE_SIGN: u32 = 1 << 15;

/// A temperature in the SMART encoding: 1/16 degree Celsius, bit 15 the sign, every other
/// bit magnitude (`0x170` is 23.0, `0x8170` is -23.0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Temperature(pub u32);

impl Temperature {
    /// Degrees Celsius (`ndctl_decode_smart_temperature`).
    pub fn celsius(self) -> f64 {
        decode_smart_temperature(self.0)
    }

    /// The encoding of `celsius` (`ndctl_encode_smart_temperature`).
    pub fn from_celsius(celsius: f64) -> Temperature {
        Temperature(encode_smart_temperature(celsius))
    }
}

/// Degrees Celsius of a SMART-encoded temperature (see [`Temperature`]).
///
/// ```
/// use ndctl::cmd::family::decode_smart_temperature;
/// assert_eq!(decode_smart_temperature(0x170), 23.0);
/// assert_eq!(decode_smart_temperature(0x8170), -23.0);
/// ```
pub fn decode_smart_temperature(raw: u32) -> f64 {
    let magnitude = f64::from(raw & !TEMPERATURE_SIGN) / 16.0;
    if raw & TEMPERATURE_SIGN != 0 {
        -magnitude
    } else {
        magnitude
    }
}

/// The SMART encoding of `celsius` (see [`Temperature`]); fractions of a degree are
/// dropped.
///
/// libndctl's C code does not reject out-of-range input (its double-to-integer conversion
/// is undefined there); this reproduces what Debian's x86-64 build returns, so both agree
/// bit for bit: the whole degrees are taken modulo 2^32 before the multiplication by 16
/// (which wraps), NaN and magnitudes of 2^63 or more give magnitude 0, and any negative
/// input (including -inf) sets the sign bit.
///
/// ```
/// use ndctl::cmd::family::encode_smart_temperature;
/// assert_eq!(encode_smart_temperature(23.99), 0x170);
/// assert_eq!(encode_smart_temperature(-23.0), 0x8170);
/// ```
pub fn encode_smart_temperature(celsius: f64) -> u32 {
    let negative = celsius < 0.0;
    let magnitude = if negative { -celsius } else { celsius };
    // Mirrors a 64-bit truncating conversion whose "invalid" result has zero low bits.
    let whole = if magnitude.is_finite() && magnitude < 9_223_372_036_854_775_808.0 {
        // Truncation toward zero is the documented intent; the value fits in i64 here.
        (magnitude as i64) as u32
    } else {
        0
    };
    let encoded = whole.wrapping_mul(16);
    if negative {
        encoded | TEMPERATURE_SIGN
    } else {
        encoded
    }
}

/// A decoded SMART reply, whatever the DIMM's family. A field is `None` when the family
/// does not report it at all; whether a reported value is meaningful is told by
/// [`Health::flags`], as in libndctl.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    /// Which values are valid.
    pub flags: HealthFlags,
    /// `ND_SMART_*_HEALTH` bits (see [`Health::state`]).
    pub health: u32,
    /// Media temperature.
    pub media_temperature: Option<Temperature>,
    /// Controller temperature.
    pub ctrl_temperature: Option<Temperature>,
    /// Spare capacity left, percent.
    pub spares: Option<u32>,
    /// Alarms that tripped.
    pub alarm_flags: Option<AlarmFlags>,
    /// Life used, percent.
    pub life_used: Option<u32>,
    /// Last shutdown: 0 clean, otherwise dirty.
    pub shutdown_state: Option<u32>,
    /// Dirty shutdown count.
    pub shutdown_count: Option<u64>,
    /// Size of the vendor-specific data.
    pub vendor_size: Option<u32>,
}

impl Health {
    /// The most severe health state reported.
    pub fn state(&self) -> HealthState {
        HealthState::from_bits(self.health)
    }

    /// `field` as libndctl's getter returns it for a valid reply (0 for what the family
    /// does not report).
    pub fn value(&self, field: SmartField) -> u32 {
        let opt = match field {
            SmartField::Flags => Some(self.flags.0),
            SmartField::Health => Some(self.health),
            SmartField::MediaTemperature => self.media_temperature.map(|t| t.0),
            SmartField::CtrlTemperature => self.ctrl_temperature.map(|t| t.0),
            SmartField::Spares => self.spares,
            SmartField::AlarmFlags => self.alarm_flags.map(|a| a.0),
            SmartField::LifeUsed => self.life_used,
            SmartField::ShutdownState => self.shutdown_state,
            // libndctl returns the count as an unsigned int.
            SmartField::ShutdownCount => self.shutdown_count.map(|c| c as u32),
            SmartField::VendorSize => self.vendor_size,
        };
        opt.unwrap_or(0)
    }
}

/// A decoded SMART threshold reply. A field is `None` when the family does not report it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Thresholds {
    /// The alarms that are enabled.
    pub alarm_control: AlarmFlags,
    /// Media temperature alarm threshold.
    pub media_temperature: Option<Temperature>,
    /// Controller temperature alarm threshold.
    pub ctrl_temperature: Option<Temperature>,
    /// Spares alarm threshold, percent.
    pub spares: Option<u32>,
}

impl Thresholds {
    /// `field` as libndctl's getter returns it for a valid reply (0 for what the family
    /// does not report).
    pub fn value(&self, field: ThresholdField) -> u32 {
        match field {
            ThresholdField::AlarmControl => Some(self.alarm_control.0),
            ThresholdField::MediaTemperature => self.media_temperature.map(|t| t.0),
            ThresholdField::CtrlTemperature => self.ctrl_temperature.map(|t| t.0),
            ThresholdField::Spares => self.spares,
        }
        .unwrap_or(0)
    }
}

/// SMART values a DIMM lets you inject (`ND_SMART_INJECT_*`, the result of
/// [`Dimm::smart_inject_supported`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct InjectTypes(pub u32);

impl InjectTypes {
    /// `ND_SMART_INJECT_SPARES_REMAINING`.
    pub const SPARES_REMAINING: u32 = 1 << 0;
    /// `ND_SMART_INJECT_MEDIA_TEMPERATURE`.
    pub const MEDIA_TEMPERATURE: u32 = 1 << 1;
    /// `ND_SMART_INJECT_CTRL_TEMPERATURE`.
    pub const CTRL_TEMPERATURE: u32 = 1 << 2;
    /// `ND_SMART_INJECT_HEALTH_STATE`.
    pub const HEALTH_STATE: u32 = 1 << 3;
    /// `ND_SMART_INJECT_UNCLEAN_SHUTDOWN`.
    pub const UNCLEAN_SHUTDOWN: u32 = 1 << 4;

    /// True when every bit of `bits` is set.
    pub fn contains(self, bits: u32) -> bool {
        self.0 & bits == bits
    }
}

/// One SMART value to inject (or, with `enable` false, to restore) through a command from
/// [`Dimm::smart_inject`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inject {
    /// Media temperature (SMART-encoded).
    MediaTemperature { enable: bool, value: u32 },
    /// Controller temperature (SMART-encoded); no family libndctl knows offers it.
    CtrlTemperature { enable: bool, value: u32 },
    /// Spare capacity, percent.
    Spares { enable: bool, value: u32 },
    /// Fatal health state.
    Fatal { enable: bool },
    /// An unsafe (dirty) shutdown.
    UnsafeShutdown { enable: bool },
}

/// `ND_EVENT_SPARES_REMAINING`.
pub const EVENT_SPARES_REMAINING: u32 = 1 << 0;
/// `ND_EVENT_MEDIA_TEMPERATURE`.
pub const EVENT_MEDIA_TEMPERATURE: u32 = 1 << 1;
/// `ND_EVENT_CTRL_TEMPERATURE`.
pub const EVENT_CTRL_TEMPERATURE: u32 = 1 << 2;
/// `ND_EVENT_HEALTH_STATE`.
pub const EVENT_HEALTH_STATE: u32 = 1 << 3;
/// `ND_EVENT_UNCLEAN_SHUTDOWN`.
pub const EVENT_UNCLEAN_SHUTDOWN: u32 = 1 << 4;

/// What a SMART-family command does, for the checks of the getters and setters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Smart,
    Threshold,
    SetThreshold,
    Inject,
}

fn no_family(dimm: &Dimm, what: &str) -> Error {
    Error::Unsupported {
        object: dimm.devname().to_string(),
        reason: format!("{what}: the DIMM's command family has no such operation"),
    }
}

/// The family of `dimm`, or the error libndctl's NULL builder stands for.
fn family_for(dimm: &Dimm, what: &str) -> Result<Family> {
    Family::of(dimm)?.ok_or_else(|| no_family(dimm, what))
}

/// Builds an `ND_CMD_CALL` package for `function` of `family` with `size_in` input bytes
/// and `size_out` output bytes, the firmware status at `status_at` bytes into the payload.
/// `checked` applies libndctl's checks: `cmd_call` among the DIMM's commands, and the
/// function not excluded by a known `dsm_mask` (an unknown mask lets the kernel decide).
/// `extra` bytes follow the declared payload, for families whose kernel side reads more
/// than it declares.
fn call(
    dimm: &Arc<Dimm>,
    family: Family,
    function: u32,
    (size_in, size_out): (usize, usize),
    status_at: usize,
    checked: bool,
) -> Result<Command> {
    if checked {
        if !dimm.is_cmd_supported(DimmCmd::Call) {
            return Err(super::unsupported(dimm.devname(), "cmd_call"));
        }
        if super::dsm_excluded(dimm, function)? {
            return Err(Error::Unsupported {
                object: dimm.devname().to_string(),
                reason: format!("DSM function {function} is not in the DIMM's dsm_mask"),
            });
        }
    }
    let (Ok(i), Ok(o)) = (u32::try_from(size_in), u32::try_from(size_out)) else {
        return Err(Error::invalid(dimm.devname(), "payload too large"));
    };
    let mut cmd = Command::new(
        Target::Dimm(Arc::clone(dimm)),
        Kind::DimmCall {
            family: family.number(),
            function,
        },
        abi::PKG_HDR + size_in + size_out,
    )?;
    cmd.init_pkg(u64::from(family.number()), function, i, o);
    // libndctl leaves the firmware-size field 0 in these requests.
    abi::put_u32(&mut cmd.buf, abi::PKG_FW_SIZE, 0);
    cmd.call_status_at = Some(abi::PKG_HDR + status_at);
    Ok(cmd)
}

impl Dimm {
    /// A SMART health command (`ndctl_dimm_cmd_new_smart`); submit it, then read it with
    /// [`Command::health`].
    pub fn smart(self: &Arc<Self>) -> Result<Command> {
        match family_for(self, "smart")? {
            Family::Intel => intel::new_smart(self),
            Family::Hpe1 => hpe1::new_smart(self),
            Family::Msft => msft::new_smart(self),
            Family::Hyperv => hyperv::new_smart(self),
            Family::Papr => papr::new_smart(self),
        }
    }

    /// A SMART threshold command (`ndctl_dimm_cmd_new_smart_threshold`); read it with
    /// [`Command::thresholds`].
    pub fn smart_threshold(self: &Arc<Self>) -> Result<Command> {
        match family_for(self, "smart threshold")? {
            Family::Intel => intel::new_threshold(self),
            Family::Hpe1 => hpe1::new_threshold(self),
            _ => Err(no_family(self, "smart threshold")),
        }
    }

    /// A SMART injection command (`ndctl_dimm_cmd_new_smart_inject`); choose the values
    /// with [`Command::smart_inject`], then submit it.
    pub fn smart_inject(self: &Arc<Self>) -> Result<Command> {
        match family_for(self, "smart inject")? {
            Family::Intel => intel::new_inject(self),
            Family::Papr => papr::new_inject(self),
            _ => Err(no_family(self, "smart inject")),
        }
    }

    /// A command that acknowledges the dirty shutdown count, so that the next unsafe
    /// shutdown is counted (`ndctl_dimm_cmd_new_ack_shutdown_count`).
    pub fn ack_shutdown_count(self: &Arc<Self>) -> Result<Command> {
        match family_for(self, "ack shutdown count")? {
            Family::Intel => intel::new_ack_shutdown_count(self),
            _ => Err(no_family(self, "ack shutdown count")),
        }
    }

    /// Which SMART values can be injected (`ndctl_dimm_smart_inject_supported`).
    ///
    /// Fails as libndctl does: ENOTTY when the family has no injection, EOPNOTSUPP
    /// without `cmd_call`, EIO when the `dsm_mask` excludes the injection function.
    pub fn smart_inject_supported(&self) -> Result<InjectTypes> {
        let node = format!("/dev/{}", self.devname());
        let (function, types) = match Family::of(self)? {
            Some(Family::Intel) => (
                intel::SMART_INJECT,
                InjectTypes::SPARES_REMAINING
                    | InjectTypes::MEDIA_TEMPERATURE
                    | InjectTypes::CTRL_TEMPERATURE
                    | InjectTypes::HEALTH_STATE
                    | InjectTypes::UNCLEAN_SHUTDOWN,
            ),
            Some(Family::Papr) => (
                papr::PDSM_SMART_INJECT,
                InjectTypes::HEALTH_STATE | InjectTypes::UNCLEAN_SHUTDOWN,
            ),
            // libndctl's wrapper answers -ENOTTY when the ops table lacks the operation.
            _ => return Err(Error::io(node, io::Error::from_raw_os_error(libc::ENOTTY))),
        };
        if !self.is_cmd_supported(DimmCmd::Call) {
            return Err(super::unsupported(self.devname(), "cmd_call"));
        }
        if super::dsm_excluded(self, function)? {
            crate::ctx_log!(
                self.device().sysfs().logger(),
                log::Level::Debug,
                "{}: smart injection functions unsupported",
                self.devname()
            );
            return Err(Error::io(node, io::Error::from_raw_os_error(libc::EIO)));
        }
        Ok(InjectTypes(types))
    }

    /// Builds, submits and decodes a SMART command: the DIMM's health now.
    pub fn health(self: &Arc<Self>) -> Result<Health> {
        let mut cmd = self.smart()?;
        cmd.submit_xlat()?;
        cmd.health()
    }

    /// Builds, submits and decodes a SMART threshold command.
    pub fn thresholds(self: &Arc<Self>) -> Result<Thresholds> {
        let mut cmd = self.smart_threshold()?;
        cmd.submit_xlat()?;
        cmd.thresholds()
    }

    /// A fresh SMART reply, submitted without firmware-status translation and required to
    /// transfer everything (what `ndctl_dimm_get_health` and friends do).
    fn fresh_smart(self: &Arc<Self>) -> Result<Command> {
        let mut cmd = self.smart()?;
        let residual = cmd.submit()?;
        if residual != 0 {
            return Err(Error::invalid(
                self.devname(),
                format!("smart command transferred {residual} bytes less than asked"),
            ));
        }
        Ok(cmd)
    }

    /// libndctl's `ndctl_dimm_get_flags`: a fresh SMART command's [`HealthFlags`] as its
    /// getter returns them (0 or `UINT_MAX` for an invalid reply, per family).
    pub fn smart_flags(self: &Arc<Self>) -> Result<u32> {
        Ok(self.fresh_smart()?.smart_value(SmartField::Flags))
    }

    /// libndctl's `ndctl_dimm_get_health`: a fresh SMART command's health bits.
    pub fn smart_health_bits(self: &Arc<Self>) -> Result<u32> {
        Ok(self.fresh_smart()?.smart_value(SmartField::Health))
    }

    /// libndctl's `ndctl_dimm_get_event_flags`: `ND_EVENT_*` bits from the alarms and the
    /// shutdown state of a fresh SMART command.
    pub fn event_flags(self: &Arc<Self>) -> Result<u32> {
        let cmd = self.fresh_smart()?;
        let alarms = cmd.smart_value(SmartField::AlarmFlags);
        let mut events = 0;
        for (alarm, event) in [
            (AlarmFlags::SPARES, EVENT_SPARES_REMAINING),
            (AlarmFlags::MEDIA_TEMPERATURE, EVENT_MEDIA_TEMPERATURE),
            (AlarmFlags::CTRL_TEMPERATURE, EVENT_CTRL_TEMPERATURE),
        ] {
            if alarms & alarm != 0 {
                events |= event;
            }
        }
        if cmd.smart_value(SmartField::ShutdownState) != 0 {
            events |= EVENT_UNCLEAN_SHUTDOWN;
        }
        Ok(events)
    }
}

impl Command {
    /// The command family whose operations libndctl uses for this command's DIMM
    /// ([`Family::of`]); `None` for a bus command or a DIMM without such a family. The
    /// firmware-update getters, for one, exist only for [`Family::Intel`].
    pub fn family(&self) -> Option<Family> {
        Family::of(self.target.dimm()?).ok().flatten()
    }

    /// The payload after the `nd_cmd_pkg` header.
    fn pkg_payload(&self) -> &[u8] {
        self.buf.get(abi::PKG_HDR..).unwrap_or(&[])
    }

    fn pkg_payload_mut(&mut self) -> &mut [u8] {
        self.buf.get_mut(abi::PKG_HDR..).unwrap_or(&mut [])
    }

    /// Checks that this is `op` of `family` in the state its getters or setters need:
    /// completed (status 0) for replies, built and not yet submitted for requests.
    fn check_op(&self, family: Family, op: Op) -> Result<()> {
        let function = match (family, op) {
            (Family::Intel, Op::Smart) => intel::SMART,
            (Family::Intel, Op::Threshold) => intel::SMART_THRESHOLD,
            (Family::Intel, Op::SetThreshold) => intel::SMART_SET_THRESHOLD,
            (Family::Intel, Op::Inject) => intel::SMART_INJECT,
            (Family::Hpe1, Op::Smart) => hpe1::SMART,
            (Family::Hpe1, Op::Threshold) => hpe1::SMART_THRESHOLD,
            (Family::Msft, Op::Smart) => msft::NHEALTH,
            (Family::Hyperv, Op::Smart) => hyperv::GET_HEALTH_INFO,
            (Family::Papr, Op::Smart) => papr::PDSM_HEALTH,
            (Family::Papr, Op::Inject) => papr::PDSM_SMART_INJECT,
            _ => return Err(self.not_op(op, "the DIMM's family has no such command")),
        };
        if self.kind
            != (Kind::DimmCall {
                family: family.number(),
                function,
            })
        {
            return Err(self.not_op(op, "a different command"));
        }
        let want = match op {
            Op::Smart | Op::Threshold => 0,
            Op::SetThreshold | Op::Inject => STATUS_BUILT,
        };
        // PAPR's injection request is checked by its firmware status only.
        if (family, op) != (Family::Papr, Op::Inject) && self.status != want {
            return Err(self.not_op(op, &format!("command status {}", self.status)));
        }
        // PAPR and Hyper-V replies carry their status first; libndctl refuses to read a
        // reply whose status is not 0.
        if matches!(family, Family::Papr | Family::Hyperv) {
            match abi::get_u32(self.pkg_payload(), 0) {
                Some(0) => {}
                Some(s) => return Err(self.not_op(op, &format!("firmware status {s:#x}"))),
                None => return Err(self.not_op(op, "no payload")),
            }
        }
        Ok(())
    }

    fn not_op(&self, op: Op, why: &str) -> Error {
        let what = match op {
            Op::Smart => "a completed smart command",
            Op::Threshold => "a completed smart threshold command",
            Op::SetThreshold => "an unsubmitted smart set-threshold command",
            Op::Inject => "an unsubmitted smart inject command",
        };
        Error::invalid(self.target.name(), format!("expected {what} ({why})"))
    }

    /// The decoded reply of a completed SMART command.
    ///
    /// Fails when this is not a SMART command of the DIMM's family that completed (status
    /// 0), or when the reply is malformed. On Hyper-V the shutdown count comes from a
    /// second command (`GET_SHUTDOWN_INFO`) submitted here, as libndctl does.
    pub fn health(&self) -> Result<Health> {
        let family = self
            .family()
            .ok_or_else(|| self.not_op(Op::Smart, "no command family"))?;
        self.check_op(family, Op::Smart)?;
        let name = self.target.name();
        let p = self.pkg_payload();
        match family {
            Family::Intel => intel::decode_health(name, p),
            Family::Hpe1 => hpe1::decode_health(name, p),
            Family::Msft => msft::decode_health(name, p),
            Family::Papr => papr::decode_health(name, p),
            Family::Hyperv => {
                let mut h = hyperv::decode_health(name, p)?;
                if let Some(dimm) = self.target.dimm() {
                    if let Ok(count) = hyperv::shutdown_count(dimm) {
                        h.flags.0 |= HealthFlags::SHUTDOWN_COUNT;
                        h.shutdown_count = Some(count.into());
                    }
                }
                Ok(h)
            }
        }
    }

    /// The vendor-specific data of a completed SMART command (`vendor_size` bytes).
    /// Fails when the family has none or the reply's size exceeds its vendor area.
    pub fn smart_vendor_data(&self) -> Result<&[u8]> {
        let area = self.smart_vendor_area()?;
        let size = self.health()?.vendor_size.unwrap_or(0);
        usize::try_from(size)
            .ok()
            .and_then(|n| area.get(..n))
            .ok_or_else(|| {
                Error::invalid(
                    self.target.name(),
                    format!(
                        "vendor_size {size} exceeds the {}-byte vendor area",
                        area.len()
                    ),
                )
            })
    }

    /// The whole vendor-data area of a completed SMART command, whatever `vendor_size`
    /// says (where libndctl's `ndctl_cmd_smart_get_vendor_data` points).
    pub fn smart_vendor_area(&self) -> Result<&[u8]> {
        let family = self
            .family()
            .ok_or_else(|| self.not_op(Op::Smart, "no command family"))?;
        self.check_op(family, Op::Smart)?;
        let p = self.pkg_payload();
        let area = match family {
            Family::Intel => intel::vendor_area(p),
            Family::Hpe1 => hpe1::vendor_area(p),
            _ => None,
        };
        area.ok_or_else(|| {
            Error::invalid(
                self.target.name(),
                "the DIMM's family reports no vendor data",
            )
        })
    }

    /// `field` of this command as libndctl's `ndctl_cmd_smart_get_*` returns it: the
    /// value of a valid reply, the family's failure value (0 or `UINT_MAX`) otherwise,
    /// and 0 when the family does not report the field or there is no family.
    pub fn smart_value(&self, field: SmartField) -> u32 {
        let Some(family) = self.family() else {
            return 0;
        };
        if !family.reports(field) {
            return 0;
        }
        if family == Family::Hyperv && field == SmartField::ShutdownCount {
            // libndctl asks the firmware again, whatever this command is.
            return self
                .target
                .dimm()
                .and_then(|d| hyperv::shutdown_count(d).ok())
                .unwrap_or(u32::MAX);
        }
        match self.health() {
            Ok(h) => h.value(field),
            Err(_) => family.invalid_value(field),
        }
    }

    /// The decoded reply of a completed SMART threshold command.
    pub fn thresholds(&self) -> Result<Thresholds> {
        let family = self
            .family()
            .ok_or_else(|| self.not_op(Op::Threshold, "no command family"))?;
        self.check_op(family, Op::Threshold)?;
        let name = self.target.name();
        let p = self.pkg_payload();
        match family {
            Family::Intel => intel::decode_thresholds(name, p),
            Family::Hpe1 => hpe1::decode_thresholds(name, p),
            _ => Err(self.not_op(Op::Threshold, "no thresholds in this family")),
        }
    }

    /// `field` as libndctl's `ndctl_cmd_smart_threshold_get_*` returns it: the value of a
    /// valid reply, the family's failure value otherwise (Intel: 0 for the alarm control,
    /// `UINT_MAX` for the rest; HPE1: `UINT_MAX`), 0 for what the family lacks.
    pub fn threshold_value(&self, field: ThresholdField) -> u32 {
        let family = self.family();
        let reports = match family {
            Some(Family::Intel) => true,
            Some(Family::Hpe1) => field != ThresholdField::CtrlTemperature,
            _ => false,
        };
        if !reports {
            return 0;
        }
        match self.thresholds() {
            Ok(t) => t.value(field),
            Err(_) if family == Some(Family::Intel) && field == ThresholdField::AlarmControl => 0,
            Err(_) => u32::MAX,
        }
    }

    /// A set-threshold request initialised from this completed threshold command
    /// (`ndctl_dimm_cmd_new_smart_set_threshold`): a read-modify-write of the thresholds.
    pub fn smart_set_threshold(&self) -> Result<Command> {
        let dimm = self
            .target
            .dimm()
            .ok_or_else(|| self.not_op(Op::Threshold, "not a DIMM command"))?;
        match self.family() {
            Some(Family::Intel) => {
                self.check_op(Family::Intel, Op::Threshold)?;
                intel::new_set_threshold(dimm, self.pkg_payload())
            }
            _ => Err(no_family(dimm, "smart set threshold")),
        }
    }

    /// The alarms a set-threshold request can enable
    /// (`ndctl_cmd_smart_threshold_get_supported_alarms`).
    pub fn supported_alarms(&self) -> Result<AlarmFlags> {
        match self.family() {
            Some(Family::Intel) => {
                self.check_op(Family::Intel, Op::SetThreshold)?;
                Ok(AlarmFlags(
                    AlarmFlags::SPARES
                        | AlarmFlags::MEDIA_TEMPERATURE
                        | AlarmFlags::CTRL_TEMPERATURE,
                ))
            }
            _ => Err(self.not_op(Op::SetThreshold, "no thresholds in this family")),
        }
    }

    /// Sets one value of an unsubmitted set-threshold request
    /// (`ndctl_cmd_smart_threshold_set_*`). The value is stored in the field's width, as
    /// libndctl does (a temperature keeps its low 16 bits, spares its low 8).
    ///
    /// Fails with [`Error::Unsupported`] when the DIMM's family has no thresholds to set,
    /// and [`Error::Invalid`] when this is not an unsubmitted set-threshold request.
    pub fn set_threshold(&mut self, field: ThresholdField, value: u32) -> Result<()> {
        match self.family() {
            Some(Family::Intel) => {
                self.check_op(Family::Intel, Op::SetThreshold)?;
                let name = self.target.name().to_string();
                intel::set_threshold(&name, self.pkg_payload_mut(), field, value)
            }
            _ => Err(Error::Unsupported {
                object: self.target.name().to_string(),
                reason: "setting smart thresholds".into(),
            }),
        }
    }

    /// Adds one value to an unsubmitted SMART injection request
    /// (`ndctl_cmd_smart_inject_*`); several can be combined in one request.
    ///
    /// Fails with [`Error::Unsupported`] when the DIMM's family cannot inject that value
    /// (Intel and PAPR have no controller temperature injection; PAPR only injects the
    /// fatal state and unsafe shutdowns), and [`Error::Invalid`] when this is not an
    /// unsubmitted injection request.
    pub fn smart_inject(&mut self, inject: Inject) -> Result<()> {
        let family = self.family();
        let supported = match (family, inject) {
            (Some(Family::Intel), Inject::CtrlTemperature { .. }) => false,
            (Some(Family::Intel), _) => true,
            (Some(Family::Papr), Inject::Fatal { .. } | Inject::UnsafeShutdown { .. }) => true,
            _ => false,
        };
        let Some(family) = family.filter(|_| supported) else {
            return Err(Error::Unsupported {
                object: self.target.name().to_string(),
                reason: format!("smart injection of {inject:?}"),
            });
        };
        self.check_op(family, Op::Inject)?;
        let name = self.target.name().to_string();
        let p = self.pkg_payload_mut();
        match family {
            Family::Intel => intel::inject(&name, p, inject),
            _ => papr::inject(&name, p, inject),
        }
    }
}

/// Bounds-checked little-endian reads of a family reply; a read past the end is a typed
/// error naming the object and the reply, never a panic or a made-up value.
struct Reply<'a> {
    name: &'a str,
    what: &'static str,
    p: &'a [u8],
}

impl<'a> Reply<'a> {
    /// A reply that must hold at least `len` bytes.
    fn new(name: &'a str, what: &'static str, p: &'a [u8], len: usize) -> Result<Reply<'a>> {
        if p.len() < len {
            return Err(Error::invalid(
                name,
                format!("{what} reply of {} bytes, expected {len}", p.len()),
            ));
        }
        Ok(Reply { name, what, p })
    }

    fn short(&self, at: usize, n: usize) -> Error {
        Error::invalid(
            self.name,
            format!(
                "{} reply of {} bytes has no {n}-byte field at {at}",
                self.what,
                self.p.len()
            ),
        )
    }

    fn u8(&self, at: usize) -> Result<u8> {
        self.p.get(at).copied().ok_or_else(|| self.short(at, 1))
    }

    fn u16(&self, at: usize) -> Result<u16> {
        abi::get_u16(self.p, at).ok_or_else(|| self.short(at, 2))
    }

    fn u32(&self, at: usize) -> Result<u32> {
        abi::get_u32(self.p, at).ok_or_else(|| self.short(at, 4))
    }

    fn u64(&self, at: usize) -> Result<u64> {
        abi::get_u64(self.p, at).ok_or_else(|| self.short(at, 8))
    }
}

/// Writes `bytes` at `at` of a request payload, failing (and writing nothing) when the
/// payload is too short for the field.
fn put_field(name: &str, p: &mut [u8], at: usize, bytes: &[u8]) -> Result<()> {
    if abi::put(p, at, bytes) {
        Ok(())
    } else {
        Err(Error::invalid(
            name,
            format!(
                "request of {} bytes has no {}-byte field at {at}",
                p.len(),
                bytes.len()
            ),
        ))
    }
}

/// Translates the bits of `from` found in `table` (family bit, libndctl bit).
fn translate(from: u32, table: &[(u32, u32)]) -> u32 {
    table
        .iter()
        .filter(|(f, _)| from & f != 0)
        .fold(0, |acc, (_, to)| acc | to)
}

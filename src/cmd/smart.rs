//! SMART health, thresholds, SMART injection and "ack shutdown count" through the DIMM's
//! DSM family. The Intel family (which nfit_test emulates) is implemented; the other
//! families' builders fail with [`Error::Unsupported`] naming the family.
//!
//! Values come back in libndctl's family-neutral encoding (`ND_SMART_*` flag bits,
//! temperatures in 1/16 °C with bit 15 as sign, as the firmware reports them).

use std::sync::Arc;

use super::abi::{self, family};
use super::{Command, Kind};
use crate::dimm::Dimm;
use crate::error::{Error, Result};

/// Intel DSM function numbers of SMART.
mod intel {
    pub const SMART: u32 = 1;
    pub const SMART_THRESHOLD: u32 = 2;
    pub const ENABLE_LSS_STATUS: u32 = 10;
    pub const SMART_SET_THRESHOLD: u32 = 17;
    pub const SMART_INJECT: u32 = 18;
}

// `nd_intel_smart` output offsets (132 bytes, status first).
const SMART_SIZE: usize = 132;
const SMART_FLAGS: usize = 4;
const SMART_HEALTH: usize = 12;
const SMART_SPARES: usize = 13;
const SMART_LIFE_USED: usize = 14;
const SMART_ALARM_FLAGS: usize = 15;
const SMART_MEDIA_TEMP: usize = 16;
const SMART_CTRL_TEMP: usize = 18;
const SMART_SHUTDOWN_COUNT: usize = 20;
const SMART_SHUTDOWN_STATE: usize = 35;
const SMART_VENDOR_SIZE: usize = 36;
const SMART_VENDOR_DATA: usize = 40;
// `nd_intel_smart_threshold` output offsets (12 bytes).
const THRESH_SIZE: usize = 12;
const THRESH_ALARM_CONTROL: usize = 4;
const THRESH_SPARES: usize = 6;
const THRESH_MEDIA_TEMP: usize = 7;
const THRESH_CTRL_TEMP: usize = 9;
// `nd_intel_smart_set_threshold` input offsets (7 bytes in, status out).
const SET_THRESH_IN: usize = 7;
const SET_ALARM_CONTROL: usize = 0;
const SET_SPARES: usize = 2;
const SET_MEDIA_TEMP: usize = 3;
const SET_CTRL_TEMP: usize = 5;
// `nd_intel_smart_inject` input offsets (15 bytes in, status out).
const INJECT_IN: usize = 15;
const INJ_FLAGS: usize = 0;
const INJ_MTEMP_ENABLE: usize = 8;
const INJ_MTEMP: usize = 9;
const INJ_SPARE_ENABLE: usize = 11;
const INJ_SPARES: usize = 12;
const INJ_FATAL_ENABLE: usize = 13;
const INJ_SHUTDOWN_ENABLE: usize = 14;
const INJECT_MTEMP: u64 = 1 << 0;
const INJECT_SPARE: u64 = 1 << 1;
const INJECT_FATAL: u64 = 1 << 2;
const INJECT_SHUTDOWN: u64 = 1 << 3;

/// libndctl's family-neutral `ND_SMART_*` bits.
pub mod flags {
    /// `ND_SMART_HEALTH_VALID` .. `ND_SMART_VENDOR_VALID`: valid fields of a SMART reply.
    pub const HEALTH_VALID: u32 = 1 << 0;
    /// Spares valid.
    pub const SPARES_VALID: u32 = 1 << 1;
    /// Life used valid.
    pub const USED_VALID: u32 = 1 << 2;
    /// Media temperature valid.
    pub const MTEMP_VALID: u32 = 1 << 3;
    /// Controller temperature valid.
    pub const CTEMP_VALID: u32 = 1 << 4;
    /// Shutdown count valid.
    pub const SHUTDOWN_COUNT_VALID: u32 = 1 << 5;
    /// AIT status valid.
    pub const AIT_STATUS_VALID: u32 = 1 << 6;
    /// PMIC temperature valid.
    pub const PTEMP_VALID: u32 = 1 << 7;
    /// Alarm flags valid.
    pub const ALARM_VALID: u32 = 1 << 9;
    /// Shutdown state valid.
    pub const SHUTDOWN_VALID: u32 = 1 << 10;
    /// Vendor data valid.
    pub const VENDOR_VALID: u32 = 1 << 11;
    /// Alarm: spares below threshold.
    pub const SPARE_TRIP: u32 = 1 << 0;
    /// Alarm: media temperature above threshold.
    pub const MTEMP_TRIP: u32 = 1 << 1;
    /// Alarm: controller temperature above threshold.
    pub const CTEMP_TRIP: u32 = 1 << 2;
    /// Health: non-critical.
    pub const NON_CRITICAL_HEALTH: u32 = 1 << 0;
    /// Health: critical.
    pub const CRITICAL_HEALTH: u32 = 1 << 1;
    /// Health: fatal.
    pub const FATAL_HEALTH: u32 = 1 << 2;
    /// SMART injection kinds (`ND_SMART_INJECT_*`).
    pub const INJECT_SPARES_REMAINING: u32 = 1 << 0;
    /// Inject media temperature.
    pub const INJECT_MEDIA_TEMPERATURE: u32 = 1 << 1;
    /// Inject controller temperature.
    pub const INJECT_CTRL_TEMPERATURE: u32 = 1 << 2;
    /// Inject health state.
    pub const INJECT_HEALTH_STATE: u32 = 1 << 3;
    /// Inject unclean shutdown.
    pub const INJECT_UNCLEAN_SHUTDOWN: u32 = 1 << 4;
}

impl Dimm {
    fn smart_family(&self) -> Result<()> {
        match self.cmd_family()? {
            Some(family::INTEL) => Ok(()),
            f => Err(Error::Unsupported {
                object: self.devname().to_string(),
                reason: format!("SMART commands of DSM family {f:?} are not implemented"),
            }),
        }
    }

    /// SMART health data (`ndctl_dimm_cmd_new_smart`).
    pub fn smart(self: &Arc<Self>) -> Result<Command> {
        self.smart_family()?;
        Command::dimm_call(self, intel::SMART, &[], SMART_SIZE, 0)
    }

    /// SMART alarm thresholds (`ndctl_dimm_cmd_new_smart_threshold`).
    pub fn smart_threshold(self: &Arc<Self>) -> Result<Command> {
        self.smart_family()?;
        Command::dimm_call(self, intel::SMART_THRESHOLD, &[], THRESH_SIZE, 0)
    }

    /// SMART error injection, to be filled with the `smart_inject_*` setters
    /// (`ndctl_dimm_cmd_new_smart_inject`).
    pub fn smart_inject(self: &Arc<Self>) -> Result<Command> {
        self.smart_family()?;
        Command::dimm_call(self, intel::SMART_INJECT, &[0; INJECT_IN], 4, 0)
    }

    /// Acknowledges the dirty-shutdown count (Intel "enable latch system shutdown
    /// status"; `ndctl_dimm_cmd_new_ack_shutdown_count`).
    pub fn ack_shutdown_count(self: &Arc<Self>) -> Result<Command> {
        self.smart_family()?;
        Command::dimm_call(self, intel::ENABLE_LSS_STATUS, &[1], 4, 0)
    }

    /// Which SMART injections the DIMM accepts (`ND_SMART_INJECT_*` bits;
    /// `ndctl_dimm_smart_inject_supported`): ENOTTY for a family without them,
    /// EOPNOTSUPP without `ND_CMD_CALL`, EIO when `dsm_mask` lacks the function.
    pub fn smart_inject_supported(&self) -> Result<u32> {
        if self.smart_family().is_err() {
            return Err(Error::io(
                self.device().attr_path("family"),
                std::io::Error::from_raw_os_error(libc::ENOTTY),
            ));
        }
        if !self.is_cmd_supported(abi::nd_cmd::CALL) {
            return Err(super::unsupported(self.devname(), "cmd_call"));
        }
        if self
            .dsm_mask()?
            .is_some_and(|m| m & (1 << intel::SMART_INJECT) == 0)
        {
            return Err(Error::io(
                self.device().attr_path("dsm_mask"),
                std::io::Error::from_raw_os_error(libc::EIO),
            ));
        }
        Ok(flags::INJECT_SPARES_REMAINING
            | flags::INJECT_MEDIA_TEMPERATURE
            | flags::INJECT_CTRL_TEMPERATURE
            | flags::INJECT_HEALTH_STATE
            | flags::INJECT_UNCLEAN_SHUTDOWN)
    }
}

/// Why a SMART accessor has no value: the submission's -errno, or EINVAL.
pub fn smart_errno(cmd: &Command) -> i32 {
    if cmd.status < 0 {
        cmd.status
    } else {
        -libc::EINVAL
    }
}

impl Command {
    fn intel_call(&self, function: u32) -> bool {
        self.kind
            == (Kind::DimmCall {
                family: family::INTEL,
                function,
            })
    }

    /// Byte `at` of the output of a completed Intel call `function`.
    fn out_at(&self, function: u32, at: usize) -> Option<usize> {
        if self.status != 0 || !self.intel_call(function) {
            return None;
        }
        let size_in = usize::try_from(self.u32_at(abi::PKG_SIZE_IN)?).ok()?;
        abi::PKG_HDR.checked_add(size_in)?.checked_add(at)
    }

    fn out_u8(&self, function: u32, at: usize) -> Option<u32> {
        self.buf
            .get(self.out_at(function, at)?)
            .map(|&b| u32::from(b))
    }

    fn out_u16(&self, function: u32, at: usize) -> Option<u32> {
        abi::get_u16(&self.buf, self.out_at(function, at)?).map(u32::from)
    }

    fn out_u32(&self, function: u32, at: usize) -> Option<u32> {
        self.u32_at(self.out_at(function, at)?)
    }

    /// Valid-field bits (`ND_SMART_*_VALID`) of a completed SMART command.
    pub fn smart_flags(&self) -> Option<u32> {
        // The Intel bits coincide with libndctl's, bit for bit.
        const KNOWN: u32 = flags::HEALTH_VALID
            | flags::SPARES_VALID
            | flags::USED_VALID
            | flags::MTEMP_VALID
            | flags::CTEMP_VALID
            | flags::SHUTDOWN_COUNT_VALID
            | flags::AIT_STATUS_VALID
            | flags::PTEMP_VALID
            | flags::ALARM_VALID
            | flags::SHUTDOWN_VALID
            | flags::VENDOR_VALID;
        self.out_u32(intel::SMART, SMART_FLAGS).map(|f| f & KNOWN)
    }

    /// Health bits (`ND_SMART_*_HEALTH`) of a completed SMART command.
    pub fn smart_health(&self) -> Option<u32> {
        self.out_u8(intel::SMART, SMART_HEALTH).map(|h| h & 0x7)
    }

    /// Media temperature (1/16 °C, bit 15 the sign) of a completed SMART command.
    pub fn smart_media_temperature(&self) -> Option<u32> {
        self.out_u16(intel::SMART, SMART_MEDIA_TEMP)
    }

    /// Controller temperature of a completed SMART command.
    pub fn smart_ctrl_temperature(&self) -> Option<u32> {
        self.out_u16(intel::SMART, SMART_CTRL_TEMP)
    }

    /// Remaining spares (percent) of a completed SMART command.
    pub fn smart_spares(&self) -> Option<u32> {
        self.out_u8(intel::SMART, SMART_SPARES)
    }

    /// Alarm trip bits (`ND_SMART_*_TRIP`) of a completed SMART command.
    pub fn smart_alarm_flags(&self) -> Option<u32> {
        self.out_u8(intel::SMART, SMART_ALARM_FLAGS)
    }

    /// Life used (percent) of a completed SMART command.
    pub fn smart_life_used(&self) -> Option<u32> {
        self.out_u8(intel::SMART, SMART_LIFE_USED)
    }

    /// Last shutdown state (0 clean) of a completed SMART command.
    pub fn smart_shutdown_state(&self) -> Option<u32> {
        self.out_u8(intel::SMART, SMART_SHUTDOWN_STATE)
    }

    /// Dirty shutdown count of a completed SMART command.
    pub fn smart_shutdown_count(&self) -> Option<u32> {
        self.out_u32(intel::SMART, SMART_SHUTDOWN_COUNT)
    }

    /// Vendor data size the firmware reports in a completed SMART command.
    pub fn smart_vendor_size(&self) -> Option<u32> {
        self.out_u32(intel::SMART, SMART_VENDOR_SIZE)
    }

    /// The vendor data area of a completed SMART command (92 bytes; the firmware's
    /// vendor size says how many count).
    pub fn smart_vendor_data(&self) -> Option<&[u8]> {
        let at = self.out_at(intel::SMART, SMART_VENDOR_DATA)?;
        self.buf.get(at..at + (SMART_SIZE - SMART_VENDOR_DATA))
    }

    /// Alarm-enable bits (`ND_SMART_*_TRIP`) of a completed threshold command.
    pub fn smart_threshold_alarm_control(&self) -> Option<u32> {
        self.out_u16(intel::SMART_THRESHOLD, THRESH_ALARM_CONTROL)
            .map(|a| a & 0x7)
    }

    /// Media temperature threshold of a completed threshold command.
    pub fn smart_threshold_media_temperature(&self) -> Option<u32> {
        self.out_u16(intel::SMART_THRESHOLD, THRESH_MEDIA_TEMP)
    }

    /// Controller temperature threshold of a completed threshold command.
    pub fn smart_threshold_ctrl_temperature(&self) -> Option<u32> {
        self.out_u16(intel::SMART_THRESHOLD, THRESH_CTRL_TEMP)
    }

    /// Spares threshold of a completed threshold command.
    pub fn smart_threshold_spares(&self) -> Option<u32> {
        self.out_u8(intel::SMART_THRESHOLD, THRESH_SPARES)
    }

    /// A set-threshold command starting from this completed threshold command's values
    /// (`ndctl_dimm_cmd_new_smart_set_threshold`: read-modify-write).
    pub fn smart_set_threshold(&self) -> Result<Command> {
        let base = self.out_at(intel::SMART_THRESHOLD, 0).ok_or_else(|| {
            Error::invalid(
                self.target.name(),
                "expected a completed smart threshold command",
            )
        })?;
        let dimm = self
            .target
            .dimm()
            .ok_or_else(|| Error::invalid(self.target.name(), "not a DIMM command"))?;
        let mut input = [0u8; SET_THRESH_IN];
        let src = |at: usize, n: usize| self.buf.get(base + at..base + at + n);
        for (to, from, n) in [
            (SET_ALARM_CONTROL, THRESH_ALARM_CONTROL, 2),
            (SET_SPARES, THRESH_SPARES, 1),
            (SET_MEDIA_TEMP, THRESH_MEDIA_TEMP, 2),
            (SET_CTRL_TEMP, THRESH_CTRL_TEMP, 2),
        ] {
            if let Some(b) = src(from, n) {
                input[to..to + n].copy_from_slice(b);
            }
        }
        Command::dimm_call(dimm, intel::SMART_SET_THRESHOLD, &input, 4, 0)
    }

    fn built(&self, function: u32, what: &str) -> Result<()> {
        if self.status == super::STATUS_BUILT && self.intel_call(function) {
            Ok(())
        } else {
            Err(Error::invalid(
                self.target.name(),
                format!("expected an unsubmitted {what} command"),
            ))
        }
    }

    fn set_in(&mut self, at: usize, bytes: &[u8]) {
        abi::put(&mut self.buf, abi::PKG_HDR + at, bytes);
    }

    /// The alarms a set-threshold command can enable (`ND_SMART_*_TRIP`), 0 for another
    /// command.
    pub fn smart_threshold_supported_alarms(&self) -> u32 {
        if self
            .built(intel::SMART_SET_THRESHOLD, "set threshold")
            .is_ok()
        {
            flags::SPARE_TRIP | flags::MTEMP_TRIP | flags::CTEMP_TRIP
        } else {
            0
        }
    }

    /// Sets the alarm-enable bits of an unsubmitted set-threshold command (truncated to
    /// the field's 16 bits, as libndctl stores it).
    pub fn smart_threshold_set_alarm_control(&mut self, v: u32) -> Result<()> {
        self.built(intel::SMART_SET_THRESHOLD, "set threshold")?;
        self.set_in(SET_ALARM_CONTROL, &(v as u16).to_le_bytes());
        Ok(())
    }

    /// Sets the spares threshold (8 bits).
    pub fn smart_threshold_set_spares(&mut self, v: u32) -> Result<()> {
        self.built(intel::SMART_SET_THRESHOLD, "set threshold")?;
        self.set_in(SET_SPARES, &[v as u8]);
        Ok(())
    }

    /// Sets the media temperature threshold (16 bits).
    pub fn smart_threshold_set_media_temperature(&mut self, v: u32) -> Result<()> {
        self.built(intel::SMART_SET_THRESHOLD, "set threshold")?;
        self.set_in(SET_MEDIA_TEMP, &(v as u16).to_le_bytes());
        Ok(())
    }

    /// Sets the controller temperature threshold (16 bits).
    pub fn smart_threshold_set_ctrl_temperature(&mut self, v: u32) -> Result<()> {
        self.built(intel::SMART_SET_THRESHOLD, "set threshold")?;
        self.set_in(SET_CTRL_TEMP, &(v as u16).to_le_bytes());
        Ok(())
    }

    fn inject_flag(&mut self, flag: u64) -> Result<()> {
        self.built(intel::SMART_INJECT, "smart inject")?;
        let cur = self.u64_at(abi::PKG_HDR + INJ_FLAGS).unwrap_or(0);
        abi::put_u64(&mut self.buf, abi::PKG_HDR + INJ_FLAGS, cur | flag);
        Ok(())
    }

    /// Injects (or clears) a media temperature of an unsubmitted SMART inject command.
    pub fn smart_inject_media_temperature(&mut self, enable: bool, v: u32) -> Result<()> {
        self.inject_flag(INJECT_MTEMP)?;
        self.set_in(INJ_MTEMP_ENABLE, &[u8::from(enable)]);
        self.set_in(INJ_MTEMP, &(v as u16).to_le_bytes());
        Ok(())
    }

    /// Injects (or clears) a spares value.
    pub fn smart_inject_spares(&mut self, enable: bool, v: u32) -> Result<()> {
        self.inject_flag(INJECT_SPARE)?;
        self.set_in(INJ_SPARE_ENABLE, &[u8::from(enable)]);
        self.set_in(INJ_SPARES, &[v as u8]);
        Ok(())
    }

    /// Injects (or clears) a fatal health state.
    pub fn smart_inject_fatal(&mut self, enable: bool) -> Result<()> {
        self.inject_flag(INJECT_FATAL)?;
        self.set_in(INJ_FATAL_ENABLE, &[u8::from(enable)]);
        Ok(())
    }

    /// Injects (or clears) an unsafe shutdown.
    pub fn smart_inject_unsafe_shutdown(&mut self, enable: bool) -> Result<()> {
        self.inject_flag(INJECT_SHUTDOWN)?;
        self.set_in(INJ_SHUTDOWN_ENABLE, &[u8::from(enable)]);
        Ok(())
    }
}

impl Dimm {
    /// Opens the DIMM's health flags attribute (`nfit/flags`, or `papr/flags`) for
    /// polling: sysfs signals it when the health changes (libndctl's health event fd).
    pub fn open_health_events(&self) -> Result<std::fs::File> {
        let sysfs = self.device().sysfs();
        sysfs
            .open_attr_for_poll(self.device().path(), "nfit/flags")
            .or_else(|_| sysfs.open_attr_for_poll(self.device().path(), "papr/flags"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intel_layouts_match_libndctl_build_asserts() {
        assert_eq!(SMART_VENDOR_DATA + 92, SMART_SIZE);
        assert_eq!(SMART_SHUTDOWN_STATE + 1 + 4, SMART_VENDOR_DATA);
        assert_eq!(THRESH_CTRL_TEMP + 2 + 1, THRESH_SIZE);
        assert_eq!(SET_CTRL_TEMP + 2 + 4, 11);
        assert_eq!(INJ_SHUTDOWN_ENABLE + 1 + 4, 19);
        assert_eq!(INJECT_IN, INJ_SHUTDOWN_ENABLE + 1);
    }
}

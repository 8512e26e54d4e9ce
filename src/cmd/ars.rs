//! Address range scrub and clear error: `ND_CMD_ARS_CAP`, `ND_CMD_ARS_START`,
//! `ND_CMD_ARS_STATUS` and `ND_CMD_CLEAR_ERROR` on the bus.

use crate::bus::BusCmd;
use std::sync::Arc;

use super::abi;
use super::{unsupported, Command, Kind, Target, MAX_BUFFER};
use crate::bus::Bus;
use crate::error::{Error, Result};

/// One media error reported by ARS status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArsRecord {
    /// NFIT handle of the DIMM (0 when the platform does not say).
    pub handle: u32,
    /// System physical address of the error.
    pub address: u64,
    /// Length of the error range in bytes.
    pub length: u64,
}

/// Scrub types of ARS start (`ND_ARS_VOLATILE`, `ND_ARS_PERSISTENT`), combinable.
pub struct ArsType;

impl ArsType {
    /// `ND_ARS_VOLATILE`.
    pub const VOLATILE: u16 = abi::ARS_VOLATILE;
    /// `ND_ARS_PERSISTENT`.
    pub const PERSISTENT: u16 = abi::ARS_PERSISTENT;
}

impl Bus {
    /// `ND_CMD_ARS_CAP` for the range `address`..`address + len`
    /// (`ndctl_bus_cmd_new_ars_cap`). Fails with [`Error::Unsupported`] when the bus does
    /// not list `ars_cap` in `commands`.
    pub fn ars_cap(self: &Arc<Self>, address: u64, len: u64) -> Result<Command> {
        if !self.is_cmd_supported(BusCmd::ArsCap) {
            return Err(unsupported(self.devname(), "ars_cap"));
        }
        let mut cmd = Command::new(
            Target::Bus(Arc::clone(self)),
            Kind::ArsCap,
            abi::ARS_CAP_SIZE,
        )?;
        abi::put_u64(&mut cmd.buf, abi::ARS_CAP_ADDRESS, address);
        abi::put_u64(&mut cmd.buf, abi::ARS_CAP_LENGTH, len);
        Ok(cmd)
    }
}

impl Command {
    fn bus_or_fail(&self) -> Arc<Bus> {
        Arc::clone(self.target.bus())
    }

    /// Checks that `self` is a completed ARS cap with a success status and a usable
    /// (power of two) clear unit, as libndctl requires before deriving commands from it.
    fn valid_ars_cap(&self) -> Result<()> {
        self.require(Kind::ArsCap, "ars_cap")?;
        if self.firmware_status() & abi::ARS_STATUS_MASK != 0 {
            return Err(Error::invalid(
                self.target.name(),
                format!(
                    "ars_cap failed with firmware status {:#x}",
                    self.firmware_status()
                ),
            ));
        }
        match self.ars_cap_clear_unit() {
            Some(u) if u.is_power_of_two() => Ok(()),
            u => Err(Error::invalid(
                self.target.name(),
                format!("ars_cap clear unit {u:?} is not a power of two"),
            )),
        }
    }

    /// `ND_CMD_ARS_START` of scrub `ty` ([`ArsType`] bits) over this ARS cap's range
    /// (`ndctl_bus_cmd_new_ars_start`). The cap must have succeeded and list `ty` among
    /// the supported scrub types.
    pub fn ars_start(&self, ty: u16) -> Result<Command> {
        let bus = self.bus_or_fail();
        if !bus.is_cmd_supported(BusCmd::ArsStart) {
            return Err(unsupported(bus.devname(), "ars_start"));
        }
        self.valid_ars_cap()?;
        if (self.firmware_status() >> abi::ARS_EXT_STATUS_SHIFT) & u32::from(ty) == 0 {
            return Err(Error::Unsupported {
                object: bus.devname().to_string(),
                reason: format!("ars_cap does not list scrub type {ty:#x}"),
            });
        }
        let mut cmd = Command::new(Target::Bus(bus), Kind::ArsStart, abi::ARS_START_SIZE)?;
        let (a, l) = self.ars_cap_range().unwrap_or((0, 0));
        abi::put_u64(&mut cmd.buf, abi::ARS_START_ADDRESS, a);
        abi::put_u64(&mut cmd.buf, abi::ARS_START_LENGTH, l);
        abi::put_u16(&mut cmd.buf, abi::ARS_START_TYPE, ty);
        Ok(cmd)
    }

    /// `ND_CMD_ARS_STATUS` with the output buffer size the ARS cap reported
    /// (`ndctl_bus_cmd_new_ars_status`).
    pub fn ars_status(&self) -> Result<Command> {
        let bus = self.bus_or_fail();
        if !bus.is_cmd_supported(BusCmd::ArsStatus) {
            return Err(unsupported(bus.devname(), "ars_status"));
        }
        self.valid_ars_cap()?;
        let out = self.ars_cap_size().unwrap_or(0);
        let out_len = usize::try_from(out).unwrap_or(usize::MAX);
        if out == 0 || out_len > MAX_BUFFER {
            return Err(Error::invalid(
                bus.devname(),
                format!("ars_cap reports an ARS status size of {out} bytes"),
            ));
        }
        // Older kernels write 4 bytes past out_length (libndctl allocates the same slack);
        // the header is always there so that the accessors have fields to read.
        let len = out_len.max(abi::ARS_STATUS_HDR) + 4;
        let mut cmd = Command::new(Target::Bus(bus), Kind::ArsStatus, len)?;
        abi::put_u32(&mut cmd.buf, abi::ARS_STATUS_OUT_LENGTH, out);
        Ok(cmd)
    }

    /// `ND_CMD_CLEAR_ERROR` for `address`..`address + len`, which must lie in this ARS
    /// cap's range and be aligned to its clear unit (`ndctl_bus_cmd_new_clear_error`).
    pub fn clear_error(&self, address: u64, len: u64) -> Result<Command> {
        let bus = self.bus_or_fail();
        // libndctl gates this on ars_status support (not clear_error); the kernel
        // refuses an unadvertised clear_error at submission anyway.
        if !bus.is_cmd_supported(BusCmd::ArsStatus) {
            return Err(unsupported(bus.devname(), "ars_status"));
        }
        self.valid_ars_cap()?;
        let (base, size) = self.ars_cap_range().unwrap_or((0, 0));
        let end = base.checked_add(size);
        let req_end = address.checked_add(len);
        let inside = matches!((end, req_end), (Some(e), Some(r)) if address >= base && r <= e);
        if !inside {
            return Err(Error::invalid(
                bus.devname(),
                format!("clear error {address:#x}+{len:#x} outside the ars_cap range {base:#x}+{size:#x}"),
            ));
        }
        let unit = u64::from(self.ars_cap_clear_unit().unwrap_or(1));
        if (address | len) & (unit - 1) != 0 {
            return Err(Error::invalid(
                bus.devname(),
                format!(
                    "clear error {address:#x}+{len:#x} not aligned to the clear unit {unit:#x}"
                ),
            ));
        }
        let mut cmd = Command::new(Target::Bus(bus), Kind::ClearError, abi::CLEAR_ERROR_SIZE)?;
        abi::put_u64(&mut cmd.buf, abi::CLEAR_ERROR_ADDRESS, address);
        abi::put_u64(&mut cmd.buf, abi::CLEAR_ERROR_LENGTH, len);
        Ok(cmd)
    }

    /// ARS status output size of a completed ARS cap (`max_ars_out`).
    pub fn ars_cap_size(&self) -> Option<u32> {
        self.completed(Kind::ArsCap)
            .then(|| self.u32_at(abi::ARS_CAP_MAX_ARS_OUT))
            .flatten()
    }

    /// The range (address, length) of a completed ARS cap.
    pub fn ars_cap_range(&self) -> Option<(u64, u64)> {
        if !self.completed(Kind::ArsCap) {
            return None;
        }
        Some((
            self.u64_at(abi::ARS_CAP_ADDRESS)?,
            self.u64_at(abi::ARS_CAP_LENGTH)?,
        ))
    }

    /// The clear-error unit in bytes of a completed ARS cap.
    pub fn ars_cap_clear_unit(&self) -> Option<u32> {
        self.completed(Kind::ArsCap)
            .then(|| self.u32_at(abi::ARS_CAP_CLEAR_ERR_UNIT))
            .flatten()
    }

    /// A submitted ARS status whose firmware status is success (a positive residual is
    /// fine: the firmware need not fill the buffer).
    fn valid_ars_status(&self) -> bool {
        // libndctl accepts a built but unsubmitted command too (its zeroed buffer then
        // reads as "no records").
        self.kind == Kind::ArsStatus
            && self.status >= 0
            && self.firmware_status() & abi::ARS_STATUS_MASK == 0
    }

    /// Whether the platform still scrubs (ARS status extended status 1).
    pub fn ars_in_progress(&self) -> bool {
        self.valid_ars_status() && self.firmware_status() == 1 << abi::ARS_EXT_STATUS_SHIFT
    }

    /// Number of error records of a valid ARS status: the platform's count, limited to the
    /// records that actually fit in the buffer.
    pub fn ars_num_records(&self) -> Option<u32> {
        if !self.valid_ars_status() {
            return None;
        }
        let claimed = self.u32_at(abi::ARS_STATUS_NUM_RECORDS)?;
        let room = self.buf.len().saturating_sub(abi::ARS_STATUS_HDR) / abi::ARS_RECORD_SIZE;
        Some(claimed.min(u32::try_from(room).unwrap_or(u32::MAX)))
    }

    /// Error record `i` of a valid ARS status.
    pub fn ars_record(&self, i: u32) -> Option<ArsRecord> {
        if i >= self.ars_num_records()? {
            return None;
        }
        let at = abi::ARS_STATUS_HDR + usize::try_from(i).ok()? * abi::ARS_RECORD_SIZE;
        Some(ArsRecord {
            handle: self.u32_at(at + abi::ARS_RECORD_HANDLE)?,
            address: self.u64_at(at + abi::ARS_RECORD_ERR_ADDRESS)?,
            length: self.u64_at(at + abi::ARS_RECORD_LENGTH)?,
        })
    }

    /// All error records of a valid ARS status (empty otherwise).
    pub fn ars_records(&self) -> Vec<ArsRecord> {
        (0..self.ars_num_records().unwrap_or(0))
            .filter_map(|i| self.ars_record(i))
            .collect()
    }

    /// Whether the platform had more records than the buffer holds.
    pub fn ars_overflow(&self) -> Option<bool> {
        if !self.valid_ars_status() {
            return None;
        }
        Some(abi::get_u16(&self.buf, abi::ARS_STATUS_FLAGS)? & abi::ARS_STAT_FLAG_OVERFLOW != 0)
    }

    /// Bytes actually cleared by a completed clear error.
    pub fn clear_error_cleared(&self) -> Option<u64> {
        self.completed(Kind::ClearError)
            .then(|| self.u64_at(abi::CLEAR_ERROR_CLEARED))
            .flatten()
    }
}

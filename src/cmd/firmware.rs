//! Firmware update through the Intel DSM family (get info, start, send, finish, abort,
//! finish-status query) and firmware activation through sysfs (`firmware/activate` of the
//! bus and its DIMMs, the NFIT bus's `firmware_activate_noidle` / `_nosuspend`).

use crate::dimm::DimmCmd;
use std::sync::Arc;

use super::abi::{self, family};
use super::family::Family;
use super::{unsupported, Command, Kind};
use crate::bus::{Bus, FwaMethod};
use crate::dimm::Dimm;
use crate::error::{Error, Result};

/// Intel DSM function numbers of the firmware update.
pub mod intel_fw {
    /// Firmware information.
    pub const GET_INFO: u32 = 12;
    /// Start an update (returns a context).
    pub const START_UPDATE: u32 = 13;
    /// Send a chunk of the image.
    pub const SEND_DATA: u32 = 14;
    /// Finish (or abort) the update.
    pub const FINISH_UPDATE: u32 = 15;
    /// Query the finish status.
    pub const FINISH_STATUS_QUERY: u32 = 16;
}

// Packed Intel payloads (offsets in the package payload).
/// `nd_intel_fw_info`: status, storage_size, max_send_len, query_interval, max_query_time,
/// update_cap, reserved[3], fis_version, run_version (u64), updated_version (u64).
const FW_INFO_SIZE: usize = 44;
const FW_INFO_STORAGE_SIZE: usize = 4;
const FW_INFO_MAX_SEND_LEN: usize = 8;
const FW_INFO_QUERY_INTERVAL: usize = 12;
const FW_INFO_MAX_QUERY_TIME: usize = 16;
const FW_INFO_RUN_VERSION: usize = 28;
const FW_INFO_UPDATED_VERSION: usize = 36;
/// `nd_intel_fw_start`: status, context.
const FW_START_SIZE: usize = 8;
const FW_START_CONTEXT: usize = 4;
/// `nd_intel_fw_send_data`: context, offset, length, data[length], then a u32 status.
const FW_SEND_HDR: usize = 12;
/// `nd_intel_fw_finish_update`: ctrl_flags (u8), reserved[3], context, status.
const FW_FINISH_IN: usize = 8;
/// `nd_intel_fw_finish_query`: context (in), then status and updated_fw_rev (u64) out;
/// the revision's offset in the output.
const FW_FQUERY_REV: usize = 4;

/// libndctl's `enum ND_FW_STATUS`: the firmware-update view of a firmware status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum FwStatus {
    /// `FW_SUCCESS`.
    Success = 0,
    /// `FW_ENOTSUPP`.
    NotSupported = 1,
    /// `FW_ENOTEXIST`.
    NotExist = 2,
    /// `FW_EINVAL`.
    Invalid = 3,
    /// `FW_EHWERR`.
    HardwareError = 4,
    /// `FW_ERETRY`.
    Retry = 5,
    /// `FW_EUNKNOWN`.
    Unknown = 6,
    /// `FW_ENORES`.
    NoResources = 7,
    /// `FW_ENOTREADY`.
    NotReady = 8,
    /// `FW_EBUSY`.
    Busy = 9,
    /// `FW_EINVAL_CTX`.
    InvalidContext = 10,
    /// `FW_ALREADY_DONE`.
    AlreadyDone = 11,
    /// `FW_EBADFW`.
    BadFirmware = 12,
    /// `FW_ABORTED`.
    Aborted = 13,
    /// `FW_ESEQUENCE`.
    Sequence = 14,
}

impl Dimm {
    fn intel_fw_family(&self) -> Result<()> {
        if Family::of(self)? == Some(Family::Intel) {
            Ok(())
        } else {
            Err(Error::Unsupported {
                object: self.devname().to_string(),
                reason: "firmware update needs the Intel DSM family".into(),
            })
        }
    }

    /// Whether the DIMM offers the whole firmware-update sequence
    /// (`ndctl_dimm_fw_update_supported`): ENOTTY for a family without it, EOPNOTSUPP
    /// without `ND_CMD_CALL`, EIO when a DSM function is missing from `dsm_mask`.
    pub fn fw_update_supported(&self) -> Result<()> {
        if self.intel_fw_family().is_err() {
            return Err(Error::io(
                self.device().attr_path("family"),
                std::io::Error::from_raw_os_error(libc::ENOTTY),
            ));
        }
        if !self.is_cmd_supported(DimmCmd::Call) {
            return Err(unsupported(self.devname(), "cmd_call"));
        }
        let mask = self.dsm_mask()?;
        let all = [
            intel_fw::GET_INFO,
            intel_fw::START_UPDATE,
            intel_fw::SEND_DATA,
            intel_fw::FINISH_UPDATE,
            intel_fw::FINISH_STATUS_QUERY,
        ];
        if mask.is_some_and(|m| all.iter().any(|f| m & (1 << f) == 0)) {
            return Err(Error::io(
                self.device().attr_path("dsm_mask"),
                std::io::Error::from_raw_os_error(libc::EIO),
            ));
        }
        Ok(())
    }

    /// Intel "get firmware info" (`ndctl_dimm_cmd_new_fw_get_info`).
    pub fn fw_get_info(self: &Arc<Self>) -> Result<Command> {
        self.intel_fw_family()?;
        Command::dimm_call(self, intel_fw::GET_INFO, &[], FW_INFO_SIZE, 0)
    }

    /// Intel "start firmware update" (`ndctl_dimm_cmd_new_fw_start_update`).
    pub fn fw_start_update(self: &Arc<Self>) -> Result<Command> {
        self.intel_fw_family()?;
        Command::dimm_call(self, intel_fw::START_UPDATE, &[], FW_START_SIZE, 0)
    }

    /// Writes `arm` or `disarm` to the DIMM's `firmware/activate`
    /// (`ndctl_dimm_fw_activate_arm` / `_disarm`).
    pub fn fw_activate_arm(&self, arm: bool) -> Result<()> {
        self.device()
            .write("firmware/activate", if arm { "arm" } else { "disarm" })
    }
}

impl Command {
    fn dimm_of(&self) -> Result<&Arc<Dimm>> {
        self.target
            .dimm()
            .ok_or_else(|| Error::invalid(self.target.name(), "not a DIMM command"))
    }

    fn is_intel_call(&self, function: u32) -> bool {
        self.kind
            == (Kind::DimmCall {
                family: family::INTEL,
                function,
            })
    }

    /// The context a completed or built start-update command carries (what the follow-up
    /// commands send back), as libndctl reads it.
    fn start_context(&self) -> Result<u32> {
        if !self.is_intel_call(intel_fw::START_UPDATE) {
            return Err(Error::invalid(
                self.target.name(),
                "expected a firmware start command",
            ));
        }
        Ok(abi::get_u32(self.call_payload(), FW_START_CONTEXT).unwrap_or(0))
    }

    /// Intel "send firmware data": `data` at image offset `offset`, in this start's context
    /// (`ndctl_dimm_cmd_new_fw_send`).
    pub fn fw_send(&self, offset: u32, data: &[u8]) -> Result<Command> {
        let ctx = self.start_context()?;
        let len = u32::try_from(data.len())
            .map_err(|_| Error::invalid(self.target.name(), "firmware chunk too large"))?;
        let mut input = Vec::with_capacity(FW_SEND_HDR + data.len());
        input.extend_from_slice(&ctx.to_le_bytes());
        input.extend_from_slice(&offset.to_le_bytes());
        input.extend_from_slice(&len.to_le_bytes());
        input.extend_from_slice(data);
        Command::dimm_call(self.dimm_of()?, intel_fw::SEND_DATA, &input, 4, 0)
    }

    fn fw_finish_flags(&self, ctrl_flags: u8) -> Result<Command> {
        let ctx = self.start_context()?;
        let mut input = [0u8; FW_FINISH_IN];
        input[0] = ctrl_flags;
        abi::put_u32(&mut input, 4, ctx);
        Command::dimm_call(self.dimm_of()?, intel_fw::FINISH_UPDATE, &input, 4, 0)
    }

    /// Intel "finish firmware update" (`ndctl_dimm_cmd_new_fw_finish`).
    pub fn fw_finish(&self) -> Result<Command> {
        self.fw_finish_flags(0)
    }

    /// Intel "finish firmware update" with the abort flag (`ndctl_dimm_cmd_new_fw_abort`).
    pub fn fw_abort(&self) -> Result<Command> {
        self.fw_finish_flags(1)
    }

    /// Intel "finish status query" (`ndctl_dimm_cmd_new_fw_finish_query`).
    pub fn fw_finish_query(&self) -> Result<Command> {
        let ctx = self.start_context()?;
        Command::dimm_call(
            self.dimm_of()?,
            intel_fw::FINISH_STATUS_QUERY,
            &ctx.to_le_bytes(),
            12,
            0,
        )
    }

    /// A field of a completed Intel call's output (`None` for another command).
    fn completed_field(&self, function: u32, out_at: usize, wide: bool) -> Option<u64> {
        if self.status != 0 || !self.is_intel_call(function) {
            return None;
        }
        let size_in = usize::try_from(self.u32_at(abi::PKG_SIZE_IN)?).ok()?;
        let at = abi::PKG_HDR.checked_add(size_in)?.checked_add(out_at)?;
        if wide {
            self.u64_at(at)
        } else {
            self.u32_at(at).map(u64::from)
        }
    }

    fn info32(&self, at: usize) -> Option<u32> {
        self.completed_field(intel_fw::GET_INFO, at, false)
            .and_then(|v| u32::try_from(v).ok())
    }

    /// Firmware storage size of a completed get-info.
    pub fn fw_info_storage_size(&self) -> Option<u32> {
        self.info32(FW_INFO_STORAGE_SIZE)
    }

    /// Largest chunk a send may carry, per a completed get-info.
    pub fn fw_info_max_send_len(&self) -> Option<u32> {
        self.info32(FW_INFO_MAX_SEND_LEN)
    }

    /// Suggested interval between finish queries (µs), per a completed get-info.
    pub fn fw_info_query_interval(&self) -> Option<u32> {
        self.info32(FW_INFO_QUERY_INTERVAL)
    }

    /// Longest a finish may take (µs), per a completed get-info.
    pub fn fw_info_max_query_time(&self) -> Option<u32> {
        self.info32(FW_INFO_MAX_QUERY_TIME)
    }

    /// Running firmware version of a completed get-info.
    pub fn fw_info_run_version(&self) -> Option<u64> {
        self.completed_field(intel_fw::GET_INFO, FW_INFO_RUN_VERSION, true)
    }

    /// Staged (updated) firmware version of a completed get-info.
    pub fn fw_info_updated_version(&self) -> Option<u64> {
        self.completed_field(intel_fw::GET_INFO, FW_INFO_UPDATED_VERSION, true)
    }

    /// Context of a completed start-update.
    pub fn fw_start_get_context(&self) -> Option<u32> {
        self.completed_field(intel_fw::START_UPDATE, FW_START_CONTEXT, false)
            .and_then(|v| u32::try_from(v).ok())
    }

    /// Updated firmware revision of a completed finish query.
    pub fn fw_fquery_fw_rev(&self) -> Option<u64> {
        self.completed_field(intel_fw::FINISH_STATUS_QUERY, FW_FQUERY_REV, true)
    }

    /// The firmware status in firmware-update terms (`ndctl_cmd_fw_xlat_firmware_status`);
    /// [`FwStatus::Unknown`] for a command outside the Intel family.
    pub fn fw_xlat_firmware_status(&self) -> FwStatus {
        let Kind::DimmCall {
            family: family::INTEL,
            function,
        } = self.kind
        else {
            return FwStatus::Unknown;
        };
        let status = self.firmware_status();
        match status & 0xffff {
            0 => FwStatus::Success,
            1 => FwStatus::NotSupported,
            2 => FwStatus::NotExist,
            3 => FwStatus::Invalid,
            4 => FwStatus::HardwareError,
            5 => FwStatus::Retry,
            8 => FwStatus::NoResources,
            9 => FwStatus::NotReady,
            7 => match status & 0xffff_0000 {
                0x1_0000 if function == intel_fw::START_UPDATE => FwStatus::Busy,
                0x1_0000 => FwStatus::InvalidContext,
                0x2_0000 if function == intel_fw::FINISH_UPDATE => FwStatus::AlreadyDone,
                0x2_0000 => FwStatus::Busy,
                0x3_0000 => FwStatus::BadFirmware,
                0x4_0000 if function == intel_fw::FINISH_UPDATE => FwStatus::Aborted,
                0x4_0000 => FwStatus::Sequence,
                _ => FwStatus::Unknown,
            },
            _ => FwStatus::Unknown,
        }
    }
}

impl Bus {
    /// Activates staged firmware with `method` (`live` or `quiesce` into
    /// `firmware/activate`; `ndctl_bus_activate_firmware`). Reset is not a method one can
    /// ask for (EINVAL).
    pub fn activate_firmware(&self, method: FwaMethod) -> Result<()> {
        let Some(word) = method.kernel_word() else {
            return Err(Error::invalid(
                self.devname(),
                "activation method reset is not selectable",
            ));
        };
        self.device()
            .write("firmware/activate", &format!("{word}\n"))
    }

    fn write_nfit_fwa(&self, name: &str, on: bool) -> Result<()> {
        if !self.has_nfit()? {
            return Err(Error::Unsupported {
                object: self.devname().to_string(),
                reason: format!("{name} needs an NFIT bus"),
            });
        }
        self.device()
            .write(&format!("nfit/{name}"), if on { "1\n" } else { "0\n" })
    }

    /// Sets or clears `nfit/firmware_activate_noidle` (`ndctl_bus_set_fw_activate_noidle`
    /// / `_clear_`).
    pub fn set_fw_activate_noidle(&self, on: bool) -> Result<()> {
        self.write_nfit_fwa("firmware_activate_noidle", on)
    }

    /// Sets or clears `nfit/firmware_activate_nosuspend`
    /// (`ndctl_bus_set_fw_activate_nosuspend` / `_clear_`).
    pub fn set_fw_activate_nosuspend(&self, on: bool) -> Result<()> {
        self.write_nfit_fwa("firmware_activate_nosuspend", on)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intel_payload_sizes_match_libndctl() {
        // libndctl's BUILD_ASSERTs on the packed Intel structures.
        assert_eq!(FW_INFO_SIZE, 44);
        assert_eq!(FW_INFO_UPDATED_VERSION + 8, FW_INFO_SIZE);
        assert_eq!(FW_START_SIZE, 8);
        assert_eq!(FW_SEND_HDR, 12);
        assert_eq!(FW_FINISH_IN + 4, 12);
        assert_eq!(4 + FW_FQUERY_REV + 8, 16);
    }
}

//! Firmware update through the Intel DSM family (`NVDIMM_FAMILY_INTEL` functions 12–16,
//! sent as `ND_CMD_CALL` packages on `/dev/nmemN`): get info, start an update, send the
//! image in pieces, finish or abort, and query the finish status.
//!
//! Only DIMMs of the Intel family have these commands (libndctl gives them to no other
//! family); every builder fails with [`Error::Unsupported`] for the others, and when the
//! DIMM's `dsm_mask` does not offer the function. The commands after "start" carry the
//! context the firmware returned to "start", so they are built from the start command.
//!
//! ```no_run
//! # fn demo(dimm: &std::sync::Arc<ndctl::Dimm>, image: &[u8]) -> ndctl::Result<()> {
//! use ndctl::cmd::FwStatus;
//! let mut info = dimm.fw_get_info()?;
//! info.submit()?;
//! let info = info.fw_info()?;
//! let mut start = dimm.fw_start_update()?;
//! start.submit()?;
//! assert_eq!(start.fw_status(), FwStatus::Success);
//! let step = usize::try_from(info.max_send_len).unwrap_or(usize::MAX).max(1);
//! for (i, piece) in image.chunks(step).enumerate() {
//!     let offset = u32::try_from(i * step).unwrap_or(u32::MAX);
//!     let mut send = start.fw_send(offset, piece)?;
//!     send.submit()?;
//! }
//! let mut finish = start.fw_finish()?;
//! finish.submit()?;
//! # Ok(()) }
//! ```

use std::sync::Arc;

use super::abi::{self, family, get_u32, get_u64, nd_cmd};
use super::{Command, Kind};
use crate::dimm::Dimm;
use crate::error::{Error, Result};

/// Intel DSM function numbers of the firmware update (`ND_INTEL_FW_*`).
pub mod intel_fw {
    /// `ND_INTEL_FW_GET_INFO`.
    pub const GET_INFO: u32 = 12;
    /// `ND_INTEL_FW_START_UPDATE`.
    pub const START_UPDATE: u32 = 13;
    /// `ND_INTEL_FW_SEND_DATA`.
    pub const SEND_DATA: u32 = 14;
    /// `ND_INTEL_FW_FINISH_UPDATE` (also the abort, with control flag 1).
    pub const FINISH_UPDATE: u32 = 15;
    /// `ND_INTEL_FW_FINISH_STATUS_QUERY`.
    pub const FINISH_STATUS_QUERY: u32 = 16;
    /// Every function a firmware update needs.
    pub const ALL: [u32; 5] = [
        GET_INFO,
        START_UPDATE,
        SEND_DATA,
        FINISH_UPDATE,
        FINISH_STATUS_QUERY,
    ];
}

// Packed Intel payloads (libndctl's intel.h), offsets from the start of the package
// payload. Input and output share the buffer: the input comes first, the output follows.
//
// struct nd_intel_fw_info { u32 status; u32 storage_size; u32 max_send_len;
//   u32 query_interval; u32 max_query_time; u8 update_cap; u8 reserved[3];
//   u32 fis_version; u64 run_version; u64 updated_version; }            /* 44 */
/// Size of `struct nd_intel_fw_info` (all output).
pub const FW_INFO_SIZE: usize = 44;
const INFO_STORAGE_SIZE: usize = 4;
const INFO_MAX_SEND_LEN: usize = 8;
const INFO_QUERY_INTERVAL: usize = 12;
const INFO_MAX_QUERY_TIME: usize = 16;
const INFO_UPDATE_CAP: usize = 20;
const INFO_FIS_VERSION: usize = 24;
const INFO_RUN_VERSION: usize = 28;
const INFO_UPDATED_VERSION: usize = 36;

// struct nd_intel_fw_start { u32 status; u32 context; }                   /* 8, output */
/// Size of `struct nd_intel_fw_start` (all output).
pub const FW_START_SIZE: usize = 8;
const START_CONTEXT: usize = 4;

// struct nd_intel_fw_send_data { u32 context; u32 offset; u32 length; u8 data[]; }
// followed by the u32 status (the output).
/// Size of the input header of `struct nd_intel_fw_send_data` before its data.
pub const FW_SEND_HDR: usize = 12;
const SEND_CONTEXT: usize = 0;
const SEND_OFFSET: usize = 4;
const SEND_LENGTH: usize = 8;

// struct nd_intel_fw_finish_update { u8 ctrl_flags; u8 reserved[3]; u32 context;
//   u32 status; }                                              /* 12: 8 in, 4 out */
/// Size of `struct nd_intel_fw_finish_update`.
pub const FW_FINISH_SIZE: usize = 12;
const FINISH_CTRL_FLAGS: usize = 0;
const FINISH_CONTEXT: usize = 4;
/// Input part of the finish payload (everything before its status).
const FINISH_IN: usize = 8;

// struct nd_intel_fw_finish_query { u32 context; u32 status; u64 updated_fw_rev; }
//                                                              /* 16: 4 in, 12 out */
/// Size of `struct nd_intel_fw_finish_query`.
pub const FW_QUERY_SIZE: usize = 16;
const QUERY_CONTEXT: usize = 0;
const QUERY_IN: usize = 4;
const QUERY_FW_REV: usize = 8;

/// `ND_INTEL_STATUS_EXTEND`: the reason is in the upper 16 bits.
const STATUS_EXTEND: u32 = 7;

/// A firmware update command's outcome as libndctl names it (`enum ND_FW_STATUS`,
/// `ndctl_cmd_fw_xlat_firmware_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FwStatus {
    /// The function succeeded.
    Success,
    /// The DIMM does not support the function.
    NotSupported,
    /// The function does not exist.
    NotExist,
    /// Invalid input.
    Invalid,
    /// Hardware error.
    HwError,
    /// Try again.
    Retry,
    /// Unknown status, or not an Intel firmware update command.
    Unknown,
    /// Out of resources.
    NoResources,
    /// Not ready.
    NotReady,
    /// Busy: another update is running (start), or the finish is still in progress (query).
    Busy,
    /// The context does not belong to the running update.
    InvalidContext,
    /// The update was already finished.
    AlreadyDone,
    /// The firmware image was rejected.
    BadFirmware,
    /// The update was aborted.
    Aborted,
    /// Commands arrived in the wrong order.
    Sequence,
}

/// What the firmware reports before an update (`struct nd_intel_fw_info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FwInfo {
    /// Bytes of firmware image storage.
    pub storage_size: u32,
    /// Largest piece one "send data" may carry.
    pub max_send_len: u32,
    /// Microseconds to wait between finish-status queries.
    pub query_interval: u32,
    /// Microseconds after which a finish that still runs has failed.
    pub max_query_time: u32,
    /// Update capability flags.
    pub update_cap: u8,
    /// Firmware interface specification version.
    pub fis_version: u32,
    /// Version of the running firmware.
    pub run_version: u64,
    /// Version of the staged firmware (0: none).
    pub updated_version: u64,
}

/// Whether a DIMM can update its firmware (`ndctl_dimm_fw_update_supported`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FwUpdateSupport {
    /// Every function of the update is offered (or the DIMM does not say which it offers).
    Supported,
    /// The DIMM's command family has no firmware update (libndctl: -ENOTTY).
    NoFamilySupport,
    /// The DIMM does not accept `ND_CMD_CALL` (libndctl: -EOPNOTSUPP).
    NoCommandCall,
    /// `dsm_mask` lacks at least one of the update functions (libndctl: -EIO).
    MissingFunctions,
}

impl FwUpdateSupport {
    /// True for [`FwUpdateSupport::Supported`].
    pub fn is_supported(self) -> bool {
        self == FwUpdateSupport::Supported
    }
}

/// Decodes an Intel firmware status word for firmware update function `function`.
pub fn fw_status_from(function: u32, status: u32) -> FwStatus {
    match status & 0xffff {
        0 => FwStatus::Success,
        1 => FwStatus::NotSupported,
        2 => FwStatus::NotExist,
        3 => FwStatus::Invalid,
        4 => FwStatus::HwError,
        5 => FwStatus::Retry,
        STATUS_EXTEND => match status & 0xffff_0000 {
            // The same extended codes mean different things per function.
            0x1_0000 if function == intel_fw::START_UPDATE => FwStatus::Busy,
            0x1_0000 => FwStatus::InvalidContext,
            0x2_0000 if function == intel_fw::FINISH_UPDATE => FwStatus::AlreadyDone,
            0x2_0000 => FwStatus::Busy,
            0x3_0000 => FwStatus::BadFirmware,
            0x4_0000 if function == intel_fw::FINISH_UPDATE => FwStatus::Aborted,
            0x4_0000 => FwStatus::Sequence,
            _ => FwStatus::Unknown,
        },
        8 => FwStatus::NoResources,
        9 => FwStatus::NotReady,
        _ => FwStatus::Unknown,
    }
}

impl Dimm {
    /// Whether the DIMM can update its firmware: an Intel-family DIMM that accepts
    /// `ND_CMD_CALL` and whose `dsm_mask` (when present) offers all five functions.
    pub fn fw_update_support(&self) -> Result<FwUpdateSupport> {
        if self.cmd_family()? != Some(family::INTEL) {
            return Ok(FwUpdateSupport::NoFamilySupport);
        }
        if !self.is_cmd_supported(nd_cmd::CALL) {
            return Ok(FwUpdateSupport::NoCommandCall);
        }
        // Without a dsm_mask libndctl cannot tell, and lets the firmware answer.
        let Some(mask) = self.dsm_mask()? else {
            return Ok(FwUpdateSupport::Supported);
        };
        if intel_fw::ALL.iter().all(|f| mask & (1 << f) != 0) {
            Ok(FwUpdateSupport::Supported)
        } else {
            Ok(FwUpdateSupport::MissingFunctions)
        }
    }

    /// Intel "get firmware info" (`ndctl_dimm_cmd_new_fw_get_info`); read the result with
    /// [`Command::fw_info`] after submission.
    pub fn fw_get_info(self: &Arc<Self>) -> Result<Command> {
        intel_call(self, intel_fw::GET_INFO, &[], FW_INFO_SIZE)
    }

    /// Intel "start firmware update" (`ndctl_dimm_cmd_new_fw_start_update`); once
    /// submitted, it holds the context the later commands are built from.
    pub fn fw_start_update(self: &Arc<Self>) -> Result<Command> {
        intel_call(self, intel_fw::START_UPDATE, &[], FW_START_SIZE)
    }
}

/// An Intel-family call with the firmware status at the start of the output.
fn intel_call(dimm: &Arc<Dimm>, function: u32, input: &[u8], out_len: usize) -> Result<Command> {
    if dimm.cmd_family()? != Some(family::INTEL) {
        return Err(Error::Unsupported {
            object: dimm.devname().to_string(),
            reason: "firmware update needs a DIMM of the Intel DSM family".into(),
        });
    }
    Command::dimm_call(dimm, function, input, out_len, 0)
}

impl Command {
    /// The Intel firmware update function of this command, if it is one.
    pub fn fw_function(&self) -> Option<u32> {
        match self.kind {
            Kind::DimmCall {
                family: family::INTEL,
                function,
            } if intel_fw::ALL.contains(&function) => Some(function),
            _ => None,
        }
    }

    /// libndctl's translation of the firmware status of a firmware update command
    /// (`ndctl_cmd_fw_xlat_firmware_status`). libndctl applies the same table to the
    /// status of any Intel DSM call, and so does this; [`FwStatus::Unknown`] for
    /// commands that are not Intel DSM calls.
    pub fn fw_status(&self) -> FwStatus {
        match self.kind {
            Kind::DimmCall {
                family: family::INTEL,
                function,
            } => fw_status_from(function, self.firmware_status()),
            _ => FwStatus::Unknown,
        }
    }

    /// The output of a completed "get firmware info".
    pub fn fw_info(&self) -> Result<FwInfo> {
        self.require_fw(intel_fw::GET_INFO, "firmware get-info")?;
        let p = self.call_payload();
        let bad = || self.fw_truncated("firmware info");
        Ok(FwInfo {
            storage_size: get_u32(p, INFO_STORAGE_SIZE).ok_or_else(bad)?,
            max_send_len: get_u32(p, INFO_MAX_SEND_LEN).ok_or_else(bad)?,
            query_interval: get_u32(p, INFO_QUERY_INTERVAL).ok_or_else(bad)?,
            max_query_time: get_u32(p, INFO_MAX_QUERY_TIME).ok_or_else(bad)?,
            update_cap: *p.get(INFO_UPDATE_CAP).ok_or_else(bad)?,
            fis_version: get_u32(p, INFO_FIS_VERSION).ok_or_else(bad)?,
            run_version: get_u64(p, INFO_RUN_VERSION).ok_or_else(bad)?,
            updated_version: get_u64(p, INFO_UPDATED_VERSION).ok_or_else(bad)?,
        })
    }

    /// The update context of a completed "start firmware update".
    pub fn fw_start_context(&self) -> Result<u32> {
        self.require_fw(intel_fw::START_UPDATE, "firmware start")?;
        get_u32(self.call_payload(), START_CONTEXT)
            .ok_or_else(|| self.fw_truncated("firmware start"))
    }

    /// The firmware revision reported by a completed finish-status query.
    pub fn fw_query_fw_rev(&self) -> Result<u64> {
        self.require_fw(intel_fw::FINISH_STATUS_QUERY, "firmware finish query")?;
        get_u64(self.call_payload(), QUERY_FW_REV)
            .ok_or_else(|| self.fw_truncated("firmware finish query"))
    }

    /// "Send firmware data": `data` for image offset `offset`, in the context of this
    /// start command (`ndctl_dimm_cmd_new_fw_send`; see [`Command::fw_finish`]).
    pub fn fw_send(&self, offset: u32, data: &[u8]) -> Result<Command> {
        let (dimm, context) = self.fw_context()?;
        let length = u32::try_from(data.len())
            .map_err(|_| Error::invalid(dimm.devname(), "firmware piece larger than 4 GiB"))?;
        let mut input = vec![0u8; FW_SEND_HDR];
        abi::put_u32(&mut input, SEND_CONTEXT, context);
        abi::put_u32(&mut input, SEND_OFFSET, offset);
        abi::put_u32(&mut input, SEND_LENGTH, length);
        input.extend_from_slice(data);
        // The status follows the data (libndctl reserves the last 4 bytes for it).
        intel_call(&dimm, intel_fw::SEND_DATA, &input, 4)
    }

    /// "Finish firmware update" for this start command (`ndctl_dimm_cmd_new_fw_finish`).
    ///
    /// The commands after a start carry the context the firmware returned to it; built
    /// from a start that was not submitted successfully they carry context 0, which the
    /// firmware rejects (libndctl builds them the same way). Other commands are refused.
    pub fn fw_finish(&self) -> Result<Command> {
        self.fw_finish_with(0)
    }

    /// "Finish firmware update" with the abort flag, dropping the staged image
    /// (`ndctl_dimm_cmd_new_fw_abort`).
    pub fn fw_abort(&self) -> Result<Command> {
        self.fw_finish_with(1)
    }

    /// "Finish status query" for this start command
    /// (`ndctl_dimm_cmd_new_fw_finish_query`); submit it again while
    /// [`Command::fw_status`] is [`FwStatus::Busy`].
    pub fn fw_finish_query(&self) -> Result<Command> {
        let (dimm, context) = self.fw_context()?;
        let mut input = [0u8; QUERY_IN];
        abi::put_u32(&mut input, QUERY_CONTEXT, context);
        intel_call(
            &dimm,
            intel_fw::FINISH_STATUS_QUERY,
            &input,
            FW_QUERY_SIZE - QUERY_IN,
        )
    }

    fn fw_finish_with(&self, ctrl_flags: u8) -> Result<Command> {
        let (dimm, context) = self.fw_context()?;
        let mut input = [0u8; FINISH_IN];
        input[FINISH_CTRL_FLAGS] = ctrl_flags;
        abi::put_u32(&mut input, FINISH_CONTEXT, context);
        intel_call(
            &dimm,
            intel_fw::FINISH_UPDATE,
            &input,
            FW_FINISH_SIZE - FINISH_IN,
        )
    }

    /// The DIMM and the context of a start command. Like libndctl, the context is taken
    /// from the start command as it stands: what the firmware returned once it completed
    /// (0 before), so that the firmware, not the library, judges a stale context.
    fn fw_context(&self) -> Result<(Arc<Dimm>, u32)> {
        if self.fw_function() != Some(intel_fw::START_UPDATE) {
            return Err(Error::invalid(
                self.target.name(),
                "expected an Intel firmware start command",
            ));
        }
        let context = get_u32(self.call_payload(), START_CONTEXT)
            .ok_or_else(|| self.fw_truncated("firmware start"))?;
        let dimm = self
            .target
            .dimm()
            .ok_or_else(|| Error::invalid(self.target.name(), "not a DIMM command"))?;
        Ok((Arc::clone(dimm), context))
    }

    fn require_fw(&self, function: u32, what: &str) -> Result<()> {
        let kind = Kind::DimmCall {
            family: family::INTEL,
            function,
        };
        self.require(kind, what)
    }

    fn fw_truncated(&self, what: &str) -> Error {
        Error::invalid(
            self.target.name(),
            format!("{what} payload shorter than its layout"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::abi::PKG_HDR;
    use crate::fixture::nfit_test::{write_tree, Variant};
    use crate::Ctx;

    fn tree() -> (tempfile::TempDir, Ctx) {
        let dir = tempfile::tempdir().unwrap();
        write_tree(dir.path(), Variant::Pmem).unwrap();
        let ctx = Ctx::with_root(dir.path()).unwrap();
        (dir, ctx)
    }

    fn dimm(ctx: &Ctx, name: &str) -> Arc<Dimm> {
        ctx.buses()
            .unwrap()
            .into_iter()
            .flat_map(|b| b.dimms().unwrap())
            .find(|d| d.devname() == name)
            .unwrap_or_else(|| panic!("{name}"))
    }

    /// Pretends the kernel completed `cmd`, with `fill` written into its package payload.
    fn complete(cmd: &mut Command, fill: impl FnOnce(&mut [u8])) {
        fill(cmd.call_payload_mut());
        cmd.status = 0;
    }

    fn pkg(cmd: &Command) -> (u64, u64, u32, u32) {
        let b = cmd.payload();
        (
            abi::get_u64(b, abi::PKG_FAMILY).unwrap(),
            abi::get_u64(b, abi::PKG_COMMAND).unwrap(),
            abi::get_u32(b, abi::PKG_SIZE_IN).unwrap(),
            abi::get_u32(b, abi::PKG_SIZE_OUT).unwrap(),
        )
    }

    fn started(d: &Arc<Dimm>, context: u32) -> Command {
        let mut start = d.fw_start_update().unwrap();
        complete(&mut start, |p| {
            abi::put_u32(p, START_CONTEXT, context);
        });
        start
    }

    #[test]
    fn layouts_match_libndctl_build_asserts() {
        // intel.c asserts these sizes of the packed structures.
        assert_eq!(FW_INFO_SIZE, 44);
        assert_eq!(INFO_UPDATED_VERSION + 8, FW_INFO_SIZE);
        assert_eq!(FW_START_SIZE, 8);
        assert_eq!(FW_SEND_HDR, 12);
        assert_eq!(FW_FINISH_SIZE, 12);
        assert_eq!(FW_QUERY_SIZE, 16);
        assert_eq!(QUERY_FW_REV + 8, FW_QUERY_SIZE);
    }

    #[test]
    fn info_and_start_packages() {
        let (_d, ctx) = tree();
        let d = dimm(&ctx, "nmem0");
        let info = d.fw_get_info().unwrap();
        assert_eq!(pkg(&info), (0, 12, 0, 44));
        assert_eq!(info.payload().len(), PKG_HDR + 44);
        assert_eq!(info.cmd_type(), nd_cmd::CALL);
        assert_eq!(info.status(), super::super::STATUS_BUILT);
        // Nothing is read from a command the kernel has not completed.
        assert!(info.fw_info().is_err());
        let start = d.fw_start_update().unwrap();
        assert_eq!(pkg(&start), (0, 13, 0, 8));
        assert!(start.fw_start_context().is_err());
        // Built from an unsubmitted start, the later commands carry context 0.
        for cmd in [
            start.fw_send(0, b"abc").unwrap(),
            start.fw_finish().unwrap(),
            start.fw_abort().unwrap(),
        ] {
            let at = if cmd.fw_function() == Some(intel_fw::SEND_DATA) {
                SEND_CONTEXT
            } else {
                FINISH_CONTEXT
            };
            assert_eq!(abi::get_u32(cmd.call_payload(), at), Some(0));
        }
        let q = start.fw_finish_query().unwrap();
        assert_eq!(abi::get_u32(q.call_payload(), QUERY_CONTEXT), Some(0));
    }

    #[test]
    fn info_decodes_little_endian_fields() {
        let (_d, ctx) = tree();
        let d = dimm(&ctx, "nmem1");
        let mut info = d.fw_get_info().unwrap();
        complete(&mut info, |p| {
            abi::put_u32(p, 0, 0);
            abi::put_u32(p, INFO_STORAGE_SIZE, 0x0020_0000);
            abi::put_u32(p, INFO_MAX_SEND_LEN, 0x1000);
            abi::put_u32(p, INFO_QUERY_INTERVAL, 250_000);
            abi::put_u32(p, INFO_MAX_QUERY_TIME, 5_000_000);
            p[INFO_UPDATE_CAP] = 3;
            abi::put_u32(p, INFO_FIS_VERSION, 0x0105);
            abi::put_u64(p, INFO_RUN_VERSION, 0x0102_0304_0506_0708);
            abi::put_u64(p, INFO_UPDATED_VERSION, 0x1112_1314_1516_1718);
        });
        // Spot-check the byte order against the raw buffer.
        assert_eq!(info.call_payload()[INFO_RUN_VERSION], 0x08);
        assert_eq!(
            info.fw_info().unwrap(),
            FwInfo {
                storage_size: 0x0020_0000,
                max_send_len: 0x1000,
                query_interval: 250_000,
                max_query_time: 5_000_000,
                update_cap: 3,
                fis_version: 0x0105,
                run_version: 0x0102_0304_0506_0708,
                updated_version: 0x1112_1314_1516_1718,
            }
        );
        assert_eq!(info.fw_status(), FwStatus::Success);
        // An info is not a start, a query or a start for derived commands.
        assert!(info.fw_start_context().is_err());
        assert!(info.fw_query_fw_rev().is_err());
        assert!(info.fw_send(0, &[1]).is_err());
    }

    #[test]
    fn commands_after_start_carry_its_context() {
        let (_d, ctx) = tree();
        let d = dimm(&ctx, "nmem0");
        let start = started(&d, 0xdead_beef);
        assert_eq!(start.fw_start_context().unwrap(), 0xdead_beef);

        let send = start.fw_send(0x2000, &[0xa1, 0xa2, 0xa3]).unwrap();
        assert_eq!(pkg(&send), (0, 14, 12 + 3, 4));
        let p = send.call_payload();
        assert_eq!(p.len(), 12 + 3 + 4);
        assert_eq!(p[..4], 0xdead_beef_u32.to_le_bytes());
        assert_eq!(abi::get_u32(p, SEND_OFFSET), Some(0x2000));
        assert_eq!(abi::get_u32(p, SEND_LENGTH), Some(3));
        assert_eq!(p[12..15], [0xa1, 0xa2, 0xa3]);
        // The firmware status of a send sits after the data.
        let mut send = send;
        abi::put_u32(send.call_payload_mut(), 15, 0x1_0007);
        assert_eq!(send.firmware_status(), 0x1_0007);
        assert_eq!(send.fw_status(), FwStatus::InvalidContext);

        let finish = start.fw_finish().unwrap();
        assert_eq!(pkg(&finish), (0, 15, 8, 4));
        let p = finish.call_payload();
        assert_eq!(p[0], 0, "finish has control flags 0");
        assert_eq!(abi::get_u32(p, FINISH_CONTEXT), Some(0xdead_beef));

        let abort = start.fw_abort().unwrap();
        assert_eq!(pkg(&abort), (0, 15, 8, 4));
        assert_eq!(abort.call_payload()[0], 1, "abort has control flag 1");
        assert_eq!(
            abi::get_u32(abort.call_payload(), FINISH_CONTEXT),
            Some(0xdead_beef)
        );

        let mut query = start.fw_finish_query().unwrap();
        assert_eq!(pkg(&query), (0, 16, 4, 12));
        assert_eq!(
            abi::get_u32(query.call_payload(), QUERY_CONTEXT),
            Some(0xdead_beef)
        );
        assert!(query.fw_query_fw_rev().is_err());
        complete(&mut query, |p| {
            abi::put_u32(p, 4, 0);
            abi::put_u64(p, QUERY_FW_REV, 0x0a0b_0c0d_0e0f_1011);
        });
        assert_eq!(query.fw_query_fw_rev().unwrap(), 0x0a0b_0c0d_0e0f_1011);
        assert_eq!(query.firmware_status(), 0);
    }

    #[test]
    fn a_failed_submission_is_not_a_completed_start() {
        let (_d, ctx) = tree();
        let d = dimm(&ctx, "nmem0");
        let mut start = d.fw_start_update().unwrap();
        // The tree's /dev nodes are regular files: the submission fails before any ioctl.
        assert!(start.submit().is_err());
        assert!(start.status() < 0);
        assert!(start.fw_start_context().is_err());
        assert_eq!(
            abi::get_u32(start.fw_finish().unwrap().call_payload(), FINISH_CONTEXT),
            Some(0)
        );
    }

    #[test]
    fn status_translation_follows_libndctl() {
        use FwStatus::*;
        let f = intel_fw::FINISH_UPDATE;
        let s = intel_fw::START_UPDATE;
        let q = intel_fw::FINISH_STATUS_QUERY;
        let cases = [
            (s, 0, Success),
            (s, 0xabcd_0000, Success),
            (s, 1, NotSupported),
            (s, 2, NotExist),
            (s, 3, Invalid),
            (s, 4, HwError),
            (s, 5, Retry),
            (s, 6, Unknown),
            (s, 8, NoResources),
            (s, 9, NotReady),
            (s, 10, Unknown),
            (s, 0x1_0007, Busy),
            (q, 0x1_0007, InvalidContext),
            (f, 0x2_0007, AlreadyDone),
            (q, 0x2_0007, Busy),
            (f, 0x3_0007, BadFirmware),
            (q, 0x3_0007, BadFirmware),
            (f, 0x4_0007, Aborted),
            (q, 0x4_0007, Sequence),
            (f, 0x5_0007, Unknown),
            (f, 0x0_0007, Unknown),
            (f, u32::MAX, Unknown),
        ];
        for (function, status, want) in cases {
            assert_eq!(
                fw_status_from(function, status),
                want,
                "{function} {status:#x}"
            );
        }
    }

    #[test]
    fn the_abort_translates_as_the_finish_it_is() {
        let (_d, ctx) = tree();
        let d = dimm(&ctx, "nmem0");
        let start = started(&d, 7);
        let mut abort = start.fw_abort().unwrap();
        abi::put_u32(abort.call_payload_mut(), FINISH_IN, 0x4_0007);
        assert_eq!(abort.fw_status(), FwStatus::Aborted);
        // The Intel xlat of the generic layer sees an extended status.
        assert_eq!(abort.xlat_firmware_status(), -libc::ENOMSG);
    }

    #[test]
    fn support_follows_family_commands_and_dsm_mask() {
        let (dir, ctx) = tree();
        // nfit_test.0's DIMMs offer every firmware function (dsm_mask 0x7ffff476).
        let d = dimm(&ctx, "nmem0");
        assert_eq!(d.fw_update_support().unwrap(), FwUpdateSupport::Supported);
        // nfit_test.1's DIMMs (dsm_mask 0x470) offer none of them.
        let d4 = dimm(&ctx, "nmem4");
        assert_eq!(
            d4.fw_update_support().unwrap(),
            FwUpdateSupport::MissingFunctions
        );
        let e = d4.fw_get_info().unwrap_err();
        assert_eq!(e.errno(), -libc::EOPNOTSUPP, "{e}");

        // Another family has no firmware update at all.
        let family = d.device().path().join("nfit/family");
        let host = dir.path().join(family.strip_prefix("/").unwrap());
        std::fs::write(&host, "3\n").unwrap();
        let ctx = Ctx::with_root(dir.path()).unwrap();
        let d = dimm(&ctx, "nmem0");
        assert_eq!(
            d.fw_update_support().unwrap(),
            FwUpdateSupport::NoFamilySupport
        );
        assert!(matches!(
            d.fw_get_info().unwrap_err(),
            Error::Unsupported { .. }
        ));
        assert!(d.fw_start_update().is_err());

        // An Intel DIMM without cmd_call cannot be updated.
        std::fs::write(&host, "0\n").unwrap();
        let commands = dir.path().join(
            d.device()
                .path()
                .join("commands")
                .strip_prefix("/")
                .unwrap(),
        );
        std::fs::write(&commands, "smart get_size get_data set_data\n").unwrap();
        let ctx = Ctx::with_root(dir.path()).unwrap();
        let d = dimm(&ctx, "nmem0");
        assert_eq!(
            d.fw_update_support().unwrap(),
            FwUpdateSupport::NoCommandCall
        );
        assert!(d.fw_get_info().is_err());
    }

    #[test]
    fn garbage_in_the_dsm_mask_is_an_error() {
        let (dir, ctx) = tree();
        let d = dimm(&ctx, "nmem0");
        let mask = dir.path().join(
            d.device()
                .path()
                .join("nfit/dsm_mask")
                .strip_prefix("/")
                .unwrap(),
        );
        std::fs::write(&mask, "0xzz\n").unwrap();
        let ctx = Ctx::with_root(dir.path()).unwrap();
        let d = dimm(&ctx, "nmem0");
        assert!(matches!(
            d.fw_update_support().unwrap_err(),
            Error::Parse { .. }
        ));
    }

    #[test]
    fn non_firmware_commands_translate_as_unknown() {
        let (_d, ctx) = tree();
        let d = dimm(&ctx, "nmem0");
        let size = d.cfg_size().unwrap();
        assert_eq!(size.fw_status(), FwStatus::Unknown);
        assert_eq!(size.fw_function(), None);
        assert!(size.fw_info().is_err());
        assert!(size.fw_send(0, &[]).is_err());
    }
}

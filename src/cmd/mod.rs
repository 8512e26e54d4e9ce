//! Commands: the ioctls libnvdimm accepts on a bus's `/dev/ndctlN` and a DIMM's
//! `/dev/nmemN`, as typed [`Command`] objects (libndctl's `struct ndctl_cmd`).
//!
//! A command is built by a method of the bus or DIMM (`Bus::ars_cap`, `Dimm::cfg_size`,
//! ...) which fails with [`Error::Unsupported`] when sysfs does not advertise the command
//! (`commands`, `nfit/dsm_mask`). It is then [`Command::submit`]ted, and its results are
//! read with typed accessors that bounds-check every field against the buffer: nothing the
//! kernel or firmware writes (lengths, counts) is trusted.
//!
//! The status follows libndctl ([`Command::status`]): [`STATUS_BUILT`] (1) before
//! submission, then 0 on success, a negative errno when the open or the ioctl failed, or a
//! positive residual byte count when the firmware transferred less than asked.
//!
//! ```no_run
//! let ctx = ndctl::Ctx::new()?;
//! for bus in ctx.buses()? {
//!     let mut cap = bus.ars_cap(0, u64::MAX)?;
//!     cap.submit()?;
//!     println!("{}: clear unit {:?}", bus.devname(), cap.ars_cap_clear_unit());
//! }
//! # Ok::<(), ndctl::Error>(())
//! ```

pub mod abi;
mod ars;
mod cfg;
pub mod family;
mod firmware;
mod inject;
mod labels;
mod scrub;
mod security;
mod translate;

use crate::dimm::DimmCmd;
use std::io;
use std::os::fd::AsRawFd;
use std::sync::Arc;

use crate::bus::Bus;
use crate::dimm::Dimm;
use crate::error::{Error, Result};

pub use ars::{ArsRecord, ArsType};
pub use cfg::sizeof_namespace_index;
pub use firmware::{intel_fw, FwStatus};
pub use inject::{merge_injected, InjectFlags, InjectedBlocks};
pub use labels::DimmLabels;

use abi::{get_u32, nd_cmd};

/// True when a known `dsm_mask` excludes `function` (libndctl's `DIMM_DSM_UNSUPPORTED`);
/// without a mask (older kernels) the kernel decides.
pub(crate) fn dsm_excluded(dimm: &Dimm, function: u32) -> Result<bool> {
    Ok(match dimm.dsm_mask()? {
        None => false,
        Some(mask) => function >= 64 || mask & (1 << function) == 0,
    })
}

/// [`Command::status`] of a command that was built but not submitted yet.
pub const STATUS_BUILT: i32 = 1;

/// Largest buffer a command allocates because the kernel or a caller asked for it (ARS
/// status output, label area, vendor payload): far above any real platform, low enough
/// that a garbage size cannot exhaust memory.
pub const MAX_BUFFER: usize = 64 << 20;

/// Where a command goes.
#[derive(Debug, Clone)]
pub enum Target {
    /// `/dev/ndctlN` of the bus.
    Bus(Arc<Bus>),
    /// `/dev/nmemN` of the DIMM.
    Dimm(Arc<Dimm>),
}

impl Target {
    /// The bus of the command (the DIMM's bus for a DIMM command).
    pub fn bus(&self) -> &Arc<Bus> {
        match self {
            Target::Bus(b) => b,
            Target::Dimm(d) => d.bus(),
        }
    }

    /// The DIMM of a DIMM command.
    pub fn dimm(&self) -> Option<&Arc<Dimm>> {
        match self {
            Target::Bus(_) => None,
            Target::Dimm(d) => Some(d),
        }
    }

    fn name(&self) -> &str {
        match self {
            Target::Bus(b) => b.ctl_name(),
            Target::Dimm(d) => d.devname(),
        }
    }
}

/// What a command does; fixes its payload layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `ND_CMD_ARS_CAP` (bus).
    ArsCap,
    /// `ND_CMD_ARS_START` (bus).
    ArsStart,
    /// `ND_CMD_ARS_STATUS` (bus).
    ArsStatus,
    /// `ND_CMD_CLEAR_ERROR` (bus).
    ClearError,
    /// `ND_CMD_GET_CONFIG_SIZE` (DIMM).
    CfgSize,
    /// `ND_CMD_GET_CONFIG_DATA` (DIMM), moved in `max_xfer` chunks.
    CfgRead,
    /// `ND_CMD_SET_CONFIG_DATA` (DIMM), moved in `max_xfer` chunks.
    CfgWrite,
    /// `ND_CMD_VENDOR` (DIMM).
    Vendor,
    /// `ND_CMD_CALL` on a bus: NFIT bus function `function` (family 0).
    BusCall {
        /// `NFIT_CMD_*`.
        function: u32,
    },
    /// `ND_CMD_CALL` on a DIMM: DSM `function` of the DIMM's command family.
    DimmCall {
        /// `NVDIMM_FAMILY_*`.
        family: u32,
        /// The family's function number.
        function: u32,
    },
}

impl Kind {
    /// The `ND_CMD_*` number (`ndctl_cmd_get_type`).
    pub fn nd_cmd(self) -> u32 {
        match self {
            Kind::ArsCap => nd_cmd::ARS_CAP,
            Kind::ArsStart => nd_cmd::ARS_START,
            Kind::ArsStatus => nd_cmd::ARS_STATUS,
            Kind::ClearError => nd_cmd::CLEAR_ERROR,
            Kind::CfgSize => nd_cmd::GET_CONFIG_SIZE,
            Kind::CfgRead => nd_cmd::GET_CONFIG_DATA,
            Kind::CfgWrite => nd_cmd::SET_CONFIG_DATA,
            Kind::Vendor => nd_cmd::VENDOR,
            Kind::BusCall { .. } | Kind::DimmCall { .. } => nd_cmd::CALL,
        }
    }

    fn ioctl(self) -> u64 {
        match self {
            Kind::ArsCap => abi::IOCTL_ARS_CAP,
            Kind::ArsStart => abi::IOCTL_ARS_START,
            Kind::ArsStatus => abi::IOCTL_ARS_STATUS,
            Kind::ClearError => abi::IOCTL_CLEAR_ERROR,
            Kind::CfgSize => abi::IOCTL_GET_CONFIG_SIZE,
            Kind::CfgRead => abi::IOCTL_GET_CONFIG_DATA,
            Kind::CfgWrite => abi::IOCTL_SET_CONFIG_DATA,
            Kind::Vendor => abi::IOCTL_VENDOR,
            Kind::BusCall { .. } | Kind::DimmCall { .. } => abi::IOCTL_CALL,
        }
    }
}

/// A typed command: its target, its kind, the ioctl payload and libndctl's status.
#[derive(Debug)]
pub struct Command {
    target: Target,
    kind: Kind,
    buf: Vec<u8>,
    status: i32,
    /// Byte offset of the firmware status of a DIMM family call in `buf`.
    call_status_at: Option<usize>,
    /// The chunked transfer of a config-area read or write.
    xfer: Option<cfg::Transfer>,
}

impl Command {
    pub(crate) fn new(target: Target, kind: Kind, len: usize) -> Result<Command> {
        if len > MAX_BUFFER + abi::PKG_HDR + 64 {
            return Err(Error::invalid(
                target.name(),
                format!("command payload of {len} bytes is larger than any platform uses"),
            ));
        }
        Ok(Command {
            target,
            kind,
            buf: vec![0; len],
            status: STATUS_BUILT,
            call_status_at: None,
            xfer: None,
        })
    }

    /// Builds an `ND_CMD_CALL` package for a DIMM DSM of the DIMM's family: `input` is
    /// the function's input payload, `out_len` the size of its output, and the firmware
    /// status is the u32 at `status_at` bytes into the output (where the family keeps it).
    /// Fails when the DIMM has no command family or does not offer `ND_CMD_CALL` or the
    /// function (`dsm_mask`).
    pub fn dimm_call(
        dimm: &Arc<Dimm>,
        function: u32,
        input: &[u8],
        out_len: usize,
        status_at: usize,
    ) -> Result<Command> {
        let family = dimm.cmd_family()?.ok_or_else(|| Error::Unsupported {
            object: dimm.devname().to_string(),
            reason: "the DIMM has no DSM command family".into(),
        })?;
        if !dimm.is_cmd_supported(DimmCmd::Call) {
            return Err(unsupported(dimm.devname(), "cmd_call"));
        }
        // Without a `dsm_mask` (older kernels) libndctl tries the call anyway.
        if dsm_excluded(dimm, function)? {
            return Err(unsupported(
                dimm.devname(),
                &format!("DSM function {function} (not in dsm_mask)"),
            ));
        }
        let (size_in, size_out) = (
            u32::try_from(input.len())
                .map_err(|_| Error::invalid(dimm.devname(), "input too large"))?,
            u32::try_from(out_len)
                .map_err(|_| Error::invalid(dimm.devname(), "output too large"))?,
        );
        let mut cmd = Command::new(
            Target::Dimm(Arc::clone(dimm)),
            Kind::DimmCall { family, function },
            abi::PKG_HDR + input.len() + out_len,
        )?;
        cmd.init_pkg(u64::from(family), function, size_in, size_out);
        abi::put(&mut cmd.buf, abi::PKG_HDR, input);
        cmd.call_status_at = Some(abi::PKG_HDR + input.len() + status_at);
        Ok(cmd)
    }

    /// Fills the `nd_cmd_pkg` header.
    pub(crate) fn init_pkg(&mut self, family: u64, function: u32, size_in: u32, size_out: u32) {
        abi::put_u64(&mut self.buf, abi::PKG_FAMILY, family);
        abi::put_u64(&mut self.buf, abi::PKG_COMMAND, u64::from(function));
        abi::put_u32(&mut self.buf, abi::PKG_SIZE_IN, size_in);
        abi::put_u32(&mut self.buf, abi::PKG_SIZE_OUT, size_out);
        abi::put_u32(&mut self.buf, abi::PKG_FW_SIZE, size_out);
    }

    /// Where the command goes.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// What the command does.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The `ND_CMD_*` number (`ndctl_cmd_get_type`).
    pub fn cmd_type(&self) -> u32 {
        self.kind.nd_cmd()
    }

    /// libndctl's status: 1 built, 0 success, -errno, or a positive residual byte count.
    pub fn status(&self) -> i32 {
        self.status
    }

    /// The raw payload (for a call: `nd_cmd_pkg` and its payload).
    pub fn payload(&self) -> &[u8] {
        &self.buf
    }

    /// The payload of an `ND_CMD_CALL` package (after its 64-byte header).
    pub fn call_payload(&self) -> &[u8] {
        self.buf.get(abi::PKG_HDR..).unwrap_or(&[])
    }

    /// Mutable payload of an `ND_CMD_CALL` package, to fill a function's input.
    pub fn call_payload_mut(&mut self) -> &mut [u8] {
        self.buf.get_mut(abi::PKG_HDR..).unwrap_or(&mut [])
    }

    /// The firmware's status word of the command (`ndctl_cmd_get_firmware_status`):
    /// `u32::MAX` when the command kind has none or it lies outside the buffer.
    pub fn firmware_status(&self) -> u32 {
        let at = match self.kind {
            Kind::ArsCap => Some(abi::ARS_CAP_STATUS),
            Kind::ArsStart => Some(abi::ARS_START_STATUS),
            Kind::ArsStatus => Some(abi::ARS_STATUS_STATUS),
            Kind::ClearError => Some(abi::CLEAR_ERROR_STATUS),
            Kind::CfgSize => Some(abi::CONFIG_SIZE_STATUS),
            Kind::CfgRead => Some(abi::GET_DATA_STATUS),
            Kind::CfgWrite => self
                .u32_at(abi::SET_DATA_IN_LENGTH)
                .and_then(|n| abi::SET_DATA_HDR.checked_add(usize::try_from(n).ok()?)),
            Kind::Vendor => self.vendor_tail(),
            Kind::BusCall { function } => match function {
                abi::nfit_cmd::TRANSLATE_SPA => Some(abi::TRANSLATE_SPA_STATUS),
                abi::nfit_cmd::ARS_INJECT_SET => Some(abi::ERR_INJ_STATUS),
                abi::nfit_cmd::ARS_INJECT_CLEAR => Some(abi::ERR_INJ_CLR_STATUS),
                abi::nfit_cmd::ARS_INJECT_GET => Some(0),
                _ => None,
            }
            .map(|o| abi::PKG_HDR + o),
            Kind::DimmCall { .. } => self.call_status_at,
        };
        at.and_then(|a| self.u32_at(a)).unwrap_or(u32::MAX)
    }

    /// The firmware status translated to a negative errno by the DIMM family's rules
    /// (`ndctl_cmd_xlat_firmware_status`); 0 for bus commands and DIMMs without a family.
    pub fn xlat_firmware_status(&self) -> i32 {
        let Some(dimm) = self.target.dimm() else {
            return 0;
        };
        // The family the command was built for; for ND_CMD_* commands the DIMM's family as
        // libndctl picks its operations (PAPR by its bus, otherwise the `family` attribute).
        let family = match self.kind {
            Kind::DimmCall { family, .. } => family,
            _ => match family::Family::of(dimm) {
                Ok(Some(f)) => f.number(),
                _ => return 0,
            },
        };
        let fw = self.firmware_status();
        let call = matches!(self.kind, Kind::DimmCall { .. });
        match family {
            abi::family::INTEL => {
                const SMART_INJECT: u32 = 18;
                const INJ_DISABLED: u32 = 0x1_0000;
                match fw & 0xffff {
                    0 => 0,
                    1 => -libc::EOPNOTSUPP,
                    2 => -libc::ENXIO,
                    3 => -libc::EINVAL,
                    4 => -libc::EIO,
                    5 | 8 => -libc::EAGAIN,
                    9 => -libc::EBUSY,
                    _ if matches!(
                        self.kind,
                        Kind::DimmCall {
                            function: SMART_INJECT,
                            ..
                        }
                    ) && fw & 0xffff_0000 == INJ_DISABLED =>
                    {
                        -libc::ENXIO
                    }
                    _ => -libc::ENOMSG,
                }
            }
            abi::family::MSFT => match fw & 0xffff {
                0 => 0,
                1 => -libc::EOPNOTSUPP,
                2 => -libc::EINVAL,
                3 => -libc::EIO,
                _ => -libc::ENOMSG,
            },
            abi::family::HYPERV => {
                if fw == 0 {
                    0
                } else {
                    -libc::EINVAL
                }
            }
            // PAPR keeps a signed errno-style status in the package.
            abi::family::PAPR if call => fw as i32,
            _ => 0,
        }
    }

    /// Sends the command to the kernel (`ndctl_cmd_submit`). Returns the residual byte
    /// count (normally 0); the status is updated either way.
    ///
    /// Fails with ENOENT when the control node is missing, ENXIO when it is not the
    /// object's character device (libndctl checks the node's major:minor against sysfs),
    /// EINVAL when the payload is inconsistent, and the ioctl's error otherwise.
    pub fn submit(&mut self) -> Result<u32> {
        let r = self.submit_inner();
        self.status = match &r {
            Ok(n) => i32::try_from(*n).unwrap_or(i32::MAX),
            Err(e) => e.errno(),
        };
        r
    }

    /// [`Command::submit`], then the family's translation of the firmware status
    /// (`ndctl_cmd_submit_xlat`): a failing firmware status becomes an error.
    pub fn submit_xlat(&mut self) -> Result<u32> {
        let n = self.submit()?;
        match self.xlat_firmware_status() {
            0 => Ok(n),
            e => Err(Error::Firmware {
                object: self.target.name().to_string(),
                reason: format!(
                    "firmware status {:#x}: {}",
                    self.firmware_status(),
                    io::Error::from_raw_os_error(-e)
                ),
                errno: e,
            }),
        }
    }

    fn submit_inner(&mut self) -> Result<u32> {
        let opened = match &self.target {
            Target::Bus(b) => {
                b.device()
                    .sysfs()
                    .open_char_device(b.ctl_name(), b.major(), b.minor())
            }
            Target::Dimm(d) => {
                d.device()
                    .sysfs()
                    .open_char_device(d.devname(), d.major(), d.minor())
            }
        };
        // Like libndctl, a node that cannot be used is an error worth logging; what the
        // kernel then answers is the caller's to judge.
        // Logged through the context's logger, under libndctl's function name and in its
        // words, so that a program's stderr reads the same on either library.
        let file = opened.inspect_err(|e| {
            let node = format!("/dev/{}", self.target.name());
            let logger = self.target.bus().device().sysfs().logger();
            let error = |args| {
                logger.log(
                    log::Level::Error,
                    "ndctl_cmd_submit",
                    file!(),
                    line!(),
                    args,
                )
            };
            if e.errno() == -libc::ENXIO {
                error(format_args!("failed to validate {node} as a control node"));
            } else {
                error(format_args!(
                    "failed to open {node}: {}",
                    strerror(-e.errno())
                ));
            }
        })?;
        if self.xfer.is_some() {
            return self.transfer(&file);
        }
        self.ioctl(&file)
    }

    /// One ioctl with the whole buffer. The payload length the kernel will derive from the
    /// buffer's own fields is checked against the buffer first, so the kernel never reads
    /// or writes past it.
    fn ioctl(&mut self, file: &std::fs::File) -> Result<u32> {
        let node = format!("/dev/{}", self.target.name());
        let need = self
            .kernel_len()
            .ok_or_else(|| Error::invalid(&node, "command fields describe a malformed payload"))?;
        if need > self.buf.len() {
            return Err(Error::invalid(
                &node,
                format!(
                    "payload needs {need} bytes but the buffer has {}",
                    self.buf.len()
                ),
            ));
        }
        // SAFETY: `buf` holds at least as many bytes as the kernel reads and writes for
        // this ioctl (checked just above), and it outlives the call.
        let rc = unsafe {
            libc::ioctl(
                file.as_raw_fd(),
                self.kind.ioctl() as _,
                self.buf.as_mut_ptr(),
            )
        };
        if rc < 0 {
            return Err(Error::io(node, io::Error::last_os_error()));
        }
        Ok(u32::try_from(rc).unwrap_or(0))
    }

    /// How many bytes of the buffer the kernel copies in and out for this ioctl, from the
    /// same fields the kernel uses; `None` when those fields overflow.
    fn kernel_len(&self) -> Option<usize> {
        let field = |at| self.u32_at(at).and_then(|v| usize::try_from(v).ok());
        match self.kind {
            Kind::ArsCap => Some(abi::ARS_CAP_SIZE),
            Kind::ArsStart => Some(abi::ARS_START_SIZE),
            Kind::ClearError => Some(abi::CLEAR_ERROR_SIZE),
            Kind::CfgSize => Some(abi::CONFIG_SIZE_SIZE),
            Kind::ArsStatus => Some(field(abi::ARS_STATUS_OUT_LENGTH)?.max(8)),
            Kind::CfgRead => abi::GET_DATA_HDR.checked_add(field(abi::GET_DATA_IN_LENGTH)?),
            Kind::CfgWrite => (abi::SET_DATA_HDR + 4).checked_add(field(abi::SET_DATA_IN_LENGTH)?),
            Kind::Vendor => {
                let tail = self.vendor_tail()?;
                tail.checked_add(abi::VENDOR_TAIL)?
                    .checked_add(field(tail + 4)?)
            }
            Kind::BusCall { .. } | Kind::DimmCall { .. } => abi::PKG_HDR
                .checked_add(field(abi::PKG_SIZE_IN)?)?
                .checked_add(field(abi::PKG_SIZE_OUT)?),
        }
    }

    /// Offset of `nd_cmd_vendor_tail` (after the input bytes).
    fn vendor_tail(&self) -> Option<usize> {
        let n = usize::try_from(self.u32_at(abi::VENDOR_IN_LENGTH)?).ok()?;
        abi::VENDOR_HDR.checked_add(n)
    }

    pub(crate) fn u32_at(&self, at: usize) -> Option<u32> {
        get_u32(&self.buf, at)
    }

    pub(crate) fn u64_at(&self, at: usize) -> Option<u64> {
        abi::get_u64(&self.buf, at)
    }

    /// True when the command is of `kind` and completed with status 0.
    fn completed(&self, kind: Kind) -> bool {
        self.kind == kind && self.status == 0
    }

    fn require(&self, kind: Kind, what: &str) -> Result<()> {
        if self.completed(kind) {
            Ok(())
        } else {
            Err(Error::invalid(
                self.target.name(),
                format!("expected a successfully completed {what} command"),
            ))
        }
    }
}

/// The C library's text for an errno (`strerror`), without Rust's "(os error N)".
fn strerror(errno: i32) -> String {
    let text = io::Error::from_raw_os_error(errno).to_string();
    match text.rfind(" (os error") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// The error of a command the bus or DIMM does not advertise.
pub(crate) fn unsupported(object: &str, what: &str) -> Error {
    Error::Unsupported {
        object: object.to_string(),
        reason: format!("{what} is not among the supported commands"),
    }
}

#[cfg(test)]
mod fw_tests;
#[cfg(test)]
mod tests;

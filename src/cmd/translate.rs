//! NFIT "Translate SPA": which DIMM, at which DIMM physical address, backs a system
//! physical address. A bus function sent as an `ND_CMD_CALL` package like error injection.

use std::sync::Arc;

use super::abi::{self, nfit_cmd};
use super::Command;
use crate::bus::Bus;
use crate::error::{Error, Result};

/// Packed `nd_cmd_translate_spa`: spa (u64), status (u32), flags and reserved (4 bytes),
/// translate_length (u64), num_nvdimms (u32), then the devices.
const SPA: usize = 0;
const LENGTH: usize = 16;
const NUM_NVDIMMS: usize = 24;
const DEVICES: usize = 28;
/// One `nd_nvdimm_device`: nfit_device_handle (u32), reserved (u32), dpa (u64).
const DEVICE_LEN: usize = 16;
/// Room for one device, as libndctl asks for.
const PAYLOAD: usize = DEVICES + DEVICE_LEN;
/// Status of Translate SPA for an address the platform does not know.
const STATUS_INVALID_SPA: u32 = 2;

impl Bus {
    /// Asks the platform which DIMM backs the system physical `address`: the NFIT
    /// "Translate SPA" bus function, submitted through the command layer on `/dev/ndctlN`.
    /// Returns the DIMM's NFIT handle and the DIMM physical address.
    ///
    /// Fails with ENOTTY when the bus does not offer the function, [`Error::Invalid`] for an
    /// address outside every region, one the platform rejects or a reply naming no DIMM,
    /// ENXIO when `/dev/ndctlN` is not the bus's character device, and the ioctl's error
    /// otherwise.
    pub fn nfit_translate_spa(&self, address: u64) -> Result<(u32, u64)> {
        if !self.has_nfit()? || !self.is_nfit_cmd_supported(nfit_cmd::TRANSLATE_SPA)? {
            return Err(Error::io(
                self.device().attr_path("nfit/dsm_mask"),
                std::io::Error::from_raw_os_error(libc::ENOTTY),
            ));
        }
        if self.region_by_physical_address(address)?.is_none() {
            return Err(Error::invalid(
                self.devname(),
                format!("{address:#x} is not in any region of the bus"),
            ));
        }
        let me: Arc<Bus> = self.arc();
        let mut cmd: Command = me.nfit_call(nfit_cmd::TRANSLATE_SPA, PAYLOAD, 8)?;
        let p = cmd.call_payload_mut();
        abi::put_u64(p, SPA, address);
        abi::put_u64(p, LENGTH, PAYLOAD as u64);
        cmd.submit()?;
        let reply = cmd.call_payload();
        let short = || Error::invalid(self.devname(), "translate spa: short reply");
        let status = abi::get_u32(reply, abi::TRANSLATE_SPA_STATUS).ok_or_else(short)?;
        if status == STATUS_INVALID_SPA {
            return Err(Error::invalid(
                self.devname(),
                format!("the platform rejects address {address:#x}"),
            ));
        }
        // The count comes from firmware: a reply naming no DIMM has no handle to report.
        if abi::get_u32(reply, NUM_NVDIMMS).ok_or_else(short)? == 0 {
            return Err(Error::invalid(
                self.devname(),
                format!("the platform names no DIMM for address {address:#x}"),
            ));
        }
        let handle = abi::get_u32(reply, DEVICES).ok_or_else(short)?;
        let dpa = abi::get_u64(reply, DEVICES + 8).ok_or_else(short)?;
        Ok((handle, dpa))
    }
}

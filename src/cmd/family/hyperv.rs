//! Hyper-V family (`NVDIMM_FAMILY_HYPERV`): health information (function 1) and the
//! shutdown information (function 2) that supplies the dirty shutdown count, with the
//! packed structures of libndctl's `hyperv.h`.

use std::sync::Arc;

use super::{
    call, Family, Health, HealthFlags, Reply, HEALTH_CRITICAL, HEALTH_FATAL, HEALTH_NON_CRITICAL,
};
use crate::cmd::{Command, Kind};
use crate::dimm::Dimm;
use crate::error::{Error, Result};

/// `ND_HYPERV_CMD_GET_HEALTH_INFO`.
pub(super) const GET_HEALTH_INFO: u32 = 1;
/// `ND_HYPERV_CMD_GET_SHUTDOWN_INFO`.
pub(super) const GET_SHUTDOWN_INFO: u32 = 2;

// struct nd_hyperv_health_info / nd_hyperv_shutdown_info (8 bytes): u32 status;
// u32 health / count.
pub(super) const INFO_SIZE: usize = 8;
pub(super) const INFO_VALUE: usize = 4;

pub(super) fn new_smart(dimm: &Arc<Dimm>) -> Result<Command> {
    call(
        dimm,
        Family::Hyperv,
        GET_HEALTH_INFO,
        (0, INFO_SIZE),
        0,
        true,
    )
}

/// Decodes a health-information reply payload; the shutdown count is added by the caller
/// from [`shutdown_count`].
pub(super) fn decode_health(name: &str, p: &[u8]) -> Result<Health> {
    let r = Reply::new(name, "hyperv health", p, INFO_SIZE)?;
    let bits = r.u32(INFO_VALUE)? & 0x3f;
    let mut health = 0;
    if bits & 0b11 != 0 {
        health |= HEALTH_CRITICAL;
    }
    if bits & 0b100 != 0 {
        health |= HEALTH_FATAL;
    }
    if bits & 0b11_1000 != 0 {
        health |= HEALTH_NON_CRITICAL;
    }
    Ok(Health {
        flags: HealthFlags(HealthFlags::HEALTH),
        health,
        ..Health::default()
    })
}

/// The dirty shutdown count, from a shutdown-information command submitted now.
pub(super) fn shutdown_count(dimm: &Arc<Dimm>) -> Result<u32> {
    let mut cmd = call(
        dimm,
        Family::Hyperv,
        GET_SHUTDOWN_INFO,
        (0, INFO_SIZE),
        0,
        true,
    )?;
    cmd.submit_xlat()?;
    let completed = cmd.status == 0
        && cmd.kind
            == Kind::DimmCall {
                family: Family::Hyperv.number(),
                function: GET_SHUTDOWN_INFO,
            };
    let r = Reply::new(
        dimm.devname(),
        "hyperv shutdown info",
        cmd.pkg_payload(),
        INFO_SIZE,
    )?;
    if !completed || r.u32(0)? != 0 {
        return Err(Error::invalid(
            dimm.devname(),
            "shutdown information command did not complete",
        ));
    }
    r.u32(INFO_VALUE)
}

//! IBM PAPR SCM family (`NVDIMM_FAMILY_PAPR`): the health PDSM (1) and the SMART
//! injection PDSM (2) of `papr_pdsm.h`. A PDSM package is an 8-byte header (`s32
//! cmd_status`, 4 reserved bytes) and a 184-byte payload, answered in place.

use std::sync::Arc;

use super::{call, put_field, Family, Health, HealthFlags, Inject, Reply};
use crate::cmd::Command;
use crate::dimm::Dimm;
use crate::error::{Error, Result};

/// `PAPR_PDSM_HEALTH`.
pub(super) const PDSM_HEALTH: u32 = 1;
/// `PAPR_PDSM_SMART_INJECT`.
pub(super) const PDSM_SMART_INJECT: u32 = 2;

/// `ND_PDSM_HDR_SIZE`.
const HDR: usize = 8;
/// `ND_PDSM_PAYLOAD_MAX_SIZE`.
const PAYLOAD_MAX: usize = 184;
/// A whole PDSM package.
pub(super) const PKG_SIZE: usize = HDR + PAYLOAD_MAX;

// struct nd_papr_pdsm_health (naturally aligned, from HDR): u32 extension_flags;
// u8 dimm_unarmed; u8 dimm_bad_shutdown; u8 dimm_bad_restore; u8 dimm_scrubbed;
// u8 dimm_locked; u8 dimm_encrypted; u16 dimm_health; u16 dimm_fuel_gauge; (pad)
// u64 dimm_dsc.
pub(super) const EXTENSION_FLAGS: usize = HDR;
pub(super) const BAD_SHUTDOWN: usize = HDR + 5;
pub(super) const DIMM_HEALTH: usize = HDR + 10;
pub(super) const FUEL_GAUGE: usize = HDR + 12;
pub(super) const DSC: usize = HDR + 16;
/// `PDSM_DIMM_HEALTH_RUN_GAUGE_VALID`.
pub(super) const RUN_GAUGE_VALID: u32 = 1;
/// `PDSM_DIMM_DSC_VALID`.
pub(super) const DSC_VALID: u32 = 2;

// struct nd_papr_pdsm_smart_inject (from HDR): u32 flags; u8 fatal_enable;
// u8 unsafe_shutdown_enable.
pub(super) const INJECT_FLAGS: usize = HDR;
pub(super) const INJECT_FATAL_ENABLE: usize = HDR + 4;
pub(super) const INJECT_UNSAFE_SHUTDOWN_ENABLE: usize = HDR + 5;
/// `PDSM_SMART_INJECT_HEALTH_FATAL`.
const INJECT_HEALTH_FATAL: u32 = 1 << 0;
/// `PDSM_SMART_INJECT_BAD_SHUTDOWN`.
const INJECT_BAD_SHUTDOWN: u32 = 1 << 1;

/// libndctl builds PDSM commands without consulting `cmd_call` or the DSM mask; the
/// kernel's papr_scm driver decides.
pub(super) fn new_smart(dimm: &Arc<Dimm>) -> Result<Command> {
    call(dimm, Family::Papr, PDSM_HEALTH, (0, PKG_SIZE), 0, false)
}

/// The injection request declares the package as input and again as output (as libndctl
/// does); the buffer holds both, so the kernel's copy of in + out bytes stays inside it.
/// papr_scm answers in place, so the status is the first word of the package.
pub(super) fn new_inject(dimm: &Arc<Dimm>) -> Result<Command> {
    call(
        dimm,
        Family::Papr,
        PDSM_SMART_INJECT,
        (PKG_SIZE, PKG_SIZE),
        0,
        false,
    )
}

/// Decodes a health PDSM reply.
pub(super) fn decode_health(name: &str, p: &[u8]) -> Result<Health> {
    let r = Reply::new(name, "papr health", p, DSC + 8)?;
    let ext = r.u32(EXTENSION_FLAGS)?;
    let mut flags = HealthFlags::HEALTH | HealthFlags::SHUTDOWN;
    let dimm_health = r.u16(DIMM_HEALTH)?;
    // PAPR_PDSM_DIMM_HEALTHY / UNHEALTHY / CRITICAL / FATAL become no bit / non-critical /
    // critical / fatal.
    let health = match dimm_health {
        0 => 0,
        1..=3 => 1 << (dimm_health - 1),
        h => {
            return Err(Error::invalid(
                name,
                format!("papr health reply with unknown dimm_health {h}"),
            ))
        }
    };
    let life_used = if ext & RUN_GAUGE_VALID != 0 {
        flags |= HealthFlags::USED;
        // C int arithmetic in libndctl: a gauge above 100 wraps.
        Some((100 - i32::from(r.u16(FUEL_GAUGE)?)) as u32)
    } else {
        None
    };
    let shutdown_count = if ext & DSC_VALID != 0 {
        flags |= HealthFlags::SHUTDOWN_COUNT;
        Some(r.u64(DSC)?)
    } else {
        None
    };
    Ok(Health {
        flags: HealthFlags(flags),
        health,
        shutdown_state: Some(r.u8(BAD_SHUTDOWN)?.into()),
        life_used,
        shutdown_count,
        ..Health::default()
    })
}

/// Adds one injection (fatal health or unsafe shutdown) to a request.
pub(super) fn inject(name: &str, p: &mut [u8], inject: Inject) -> Result<()> {
    let flags = Reply::new(name, "papr smart inject", p, PKG_SIZE)?.u32(INJECT_FLAGS)?;
    let (bit, at, enable) = match inject {
        Inject::Fatal { enable } => (INJECT_HEALTH_FATAL, INJECT_FATAL_ENABLE, enable),
        Inject::UnsafeShutdown { enable } => {
            (INJECT_BAD_SHUTDOWN, INJECT_UNSAFE_SHUTDOWN_ENABLE, enable)
        }
        other => {
            return Err(Error::Unsupported {
                object: name.to_string(),
                reason: format!("papr smart injection of {other:?}"),
            })
        }
    };
    put_field(name, p, INJECT_FLAGS, &(flags | bit).to_le_bytes())?;
    put_field(name, p, at, &[u8::from(enable)])
}

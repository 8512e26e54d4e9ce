//! Microsoft family (`NVDIMM_FAMILY_MSFT`): NVDIMM health (function 11), the only SMART
//! operation libndctl has for it, with the packed structures of libndctl's `msft.h`.

use std::sync::Arc;

use super::{
    call, AlarmFlags, Family, Health, HealthFlags, Reply, Temperature, HEALTH_CRITICAL,
    HEALTH_FATAL, HEALTH_NON_CRITICAL,
};
use crate::cmd::Command;
use crate::dimm::Dimm;
use crate::error::Result;

/// `NDN_MSFT_CMD_NHEALTH`.
pub(super) const NHEALTH: u32 = 11;

// struct ndn_msft_smart (13 bytes): u32 status; then struct ndn_msft_smart_data:
// u16 health; u16 temp; u8 err_thresh_stat; u8 warn_thresh_stat; u8 nvm_lifetime;
// u8 count_dram_uncorr_err; u8 count_dram_corr_err.
pub(super) const SMART_SIZE: usize = 13;
pub(super) const HEALTH: usize = 4;
pub(super) const TEMP: usize = 6;
pub(super) const ERR_THRESH_STAT: usize = 8;
pub(super) const WARN_THRESH_STAT: usize = 9;
pub(super) const NVM_LIFETIME: usize = 10;

pub(super) fn new_smart(dimm: &Arc<Dimm>) -> Result<Command> {
    call(dimm, Family::Msft, NHEALTH, (0, SMART_SIZE), 0, true)
}

/// Decodes a health reply payload. The function reports no validity bits; libndctl
/// states health, temperature, life used and alarms valid.
pub(super) fn decode_health(name: &str, p: &[u8]) -> Result<Health> {
    let r = Reply::new(name, "msft health", p, SMART_SIZE)?;
    let lifetime = r.u8(NVM_LIFETIME)?;
    let (err, warn) = (r.u8(ERR_THRESH_STAT)?, r.u8(WARN_THRESH_STAT)?);
    let mut health = 0;
    if lifetime == 0 {
        health |= HEALTH_FATAL;
    }
    if r.u16(HEALTH)? != 0 || err != 0 {
        health |= HEALTH_CRITICAL;
    }
    if warn != 0 {
        health |= HEALTH_NON_CRITICAL;
    }
    let stat = err | warn;
    let mut alarms = 0;
    // NVM and energy-source lifetime thresholds.
    if stat & 3 != 0 {
        alarms |= AlarmFlags::SPARES;
    }
    // Energy-source temperature threshold.
    if stat & 4 != 0 {
        alarms |= AlarmFlags::CTRL_TEMPERATURE;
    }
    Ok(Health {
        flags: HealthFlags(
            HealthFlags::HEALTH
                | HealthFlags::MEDIA_TEMPERATURE
                | HealthFlags::USED
                | HealthFlags::ALARM,
        ),
        health,
        // Whole degrees, scaled to the SMART encoding.
        media_temperature: Some(Temperature(u32::from(r.u16(TEMP)?) * 16)),
        ctrl_temperature: None,
        spares: None,
        alarm_flags: Some(AlarmFlags(alarms)),
        // libndctl computes this in C int arithmetic: a lifetime above 100 wraps.
        life_used: Some((100 - i32::from(lifetime)) as u32),
        shutdown_state: None,
        shutdown_count: None,
        vendor_size: None,
    })
}

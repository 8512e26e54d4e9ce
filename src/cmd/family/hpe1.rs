//! HPE type 1 family (`NVDIMM_FAMILY_HPE1`): SMART (function 1) and thresholds (2), with
//! the packed structures of libndctl's `hpe1.h`. The family has no injection, threshold
//! setting or shutdown-count acknowledgement.

use std::sync::Arc;

use super::{
    call, put_field, translate, AlarmFlags, Family, Health, HealthFlags, Reply, Temperature,
    Thresholds, HEALTH_CRITICAL, HEALTH_FATAL, HEALTH_NON_CRITICAL,
};
use crate::cmd::Command;
use crate::dimm::Dimm;
use crate::error::Result;

/// `NDN_HPE1_CMD_SMART`.
pub(super) const SMART: u32 = 1;
/// `NDN_HPE1_CMD_SMART_THRESHOLD`.
pub(super) const SMART_THRESHOLD: u32 = 2;

// struct ndn_hpe1_smart: u32 in_valid_flags (input); u32 status; then 124 bytes of
// struct ndn_hpe1_smart_data. libndctl declares 132 output bytes after the 4 input bytes.
pub(super) const SMART_IN: usize = 4;
pub(super) const SMART_OUT: usize = 132;
pub(super) const SMART_STATUS: usize = 4;
const DATA: usize = 8;
// struct ndn_hpe1_smart_data, from DATA: u32 out_valid_flags; u8 stat_summary;
// u16 curr_temp; u8 spare_blocks; u16 alarm_trips; u8 device_life; u8 last_shutdown_stat;
// ... u16 vndr_spec_data_size at 62; u8 vnd_spec_data[60] at 64.
pub(super) const SMART_VALID_FLAGS: usize = DATA;
pub(super) const SMART_STAT_SUMMARY: usize = DATA + 4;
pub(super) const SMART_CURR_TEMP: usize = DATA + 5;
pub(super) const SMART_SPARE_BLOCKS: usize = DATA + 7;
pub(super) const SMART_ALARM_TRIPS: usize = DATA + 8;
pub(super) const SMART_DEVICE_LIFE: usize = DATA + 10;
pub(super) const SMART_LAST_SHUTDOWN: usize = DATA + 11;
pub(super) const SMART_VENDOR_SIZE: usize = DATA + 62;
pub(super) const SMART_VENDOR_DATA: usize = DATA + 64;
const SMART_END: usize = DATA + 124;

// struct ndn_hpe1_smart_threshold: u32 status; then u16 threshold_alarm_ctl;
// u16 temp_threshold; u8 spare_block_threshold; ... (32 bytes). libndctl declares the
// SMART output size (132) for it.
pub(super) const THRESH_OUT: usize = 132;
pub(super) const THRESH_ALARM_CTL: usize = 4;
pub(super) const THRESH_TEMP: usize = 6;
pub(super) const THRESH_SPARES: usize = 8;
const THRESH_END: usize = 4 + 32;

/// What libndctl asks the firmware to report (`NDN_HPE1_SMART_*_VALID`): health,
/// temperature, spares, alarms, life used, shutdown state and vendor data.
const IN_VALID_FLAGS: u32 =
    (1 << 0) | (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 9);

/// The status libndctl presets, so that a firmware that writes nothing reads as failed.
const PRESET_STATUS: u32 = 3;

/// `NDN_HPE1_SMART_*_VALID` → `ND_SMART_*_VALID`.
const VALID_BITS: &[(u32, u32)] = &[
    (1 << 0, HealthFlags::HEALTH),
    (1 << 1, HealthFlags::MEDIA_TEMPERATURE),
    (1 << 2, HealthFlags::SPARES),
    (1 << 3, HealthFlags::ALARM),
    (1 << 4, HealthFlags::USED),
    (1 << 5, HealthFlags::SHUTDOWN),
    (1 << 9, HealthFlags::VENDOR),
];

/// `NDN_HPE1_SMART_*_HEALTH` → `ND_SMART_*_HEALTH`.
const HEALTH_BITS: &[(u32, u32)] = &[
    (1 << 0, HEALTH_NON_CRITICAL),
    (1 << 1, HEALTH_CRITICAL),
    (1 << 2, HEALTH_FATAL),
];

/// `NDN_HPE1_SMART_TEMP_TRIP` / `_SPARE_TRIP` → `ND_SMART_*_TRIP`.
const TRIP_BITS: &[(u32, u32)] = &[
    (1 << 0, AlarmFlags::MEDIA_TEMPERATURE),
    (1 << 1, AlarmFlags::SPARES),
];

/// `NDN_HPE1_SMART_LASTSAVEGOOD`: the last shutdown saved the contents.
const LAST_SAVE_GOOD: u8 = 1 << 1;

pub(super) fn new_smart(dimm: &Arc<Dimm>) -> Result<Command> {
    let mut cmd = call(
        dimm,
        Family::Hpe1,
        SMART,
        (SMART_IN, SMART_OUT),
        SMART_STATUS,
        true,
    )?;
    let p = cmd.pkg_payload_mut();
    put_field(dimm.devname(), p, 0, &IN_VALID_FLAGS.to_le_bytes())?;
    put_field(
        dimm.devname(),
        p,
        SMART_STATUS,
        &PRESET_STATUS.to_le_bytes(),
    )?;
    Ok(cmd)
}

pub(super) fn new_threshold(dimm: &Arc<Dimm>) -> Result<Command> {
    let mut cmd = call(
        dimm,
        Family::Hpe1,
        SMART_THRESHOLD,
        (0, THRESH_OUT),
        0,
        true,
    )?;
    put_field(
        dimm.devname(),
        cmd.pkg_payload_mut(),
        0,
        &PRESET_STATUS.to_le_bytes(),
    )?;
    Ok(cmd)
}

/// Decodes a SMART reply payload (`struct ndn_hpe1_smart`).
pub(super) fn decode_health(name: &str, p: &[u8]) -> Result<Health> {
    let r = Reply::new(name, "hpe1 smart", p, SMART_END)?;
    let last_shutdown = r.u8(SMART_LAST_SHUTDOWN)?;
    Ok(Health {
        flags: HealthFlags(translate(r.u32(SMART_VALID_FLAGS)?, VALID_BITS)),
        health: translate(r.u8(SMART_STAT_SUMMARY)?.into(), HEALTH_BITS),
        media_temperature: Some(Temperature(r.u16(SMART_CURR_TEMP)?.into())),
        ctrl_temperature: None,
        spares: Some(r.u8(SMART_SPARE_BLOCKS)?.into()),
        alarm_flags: Some(AlarmFlags(translate(
            r.u16(SMART_ALARM_TRIPS)?.into(),
            TRIP_BITS,
        ))),
        life_used: Some(r.u8(SMART_DEVICE_LIFE)?.into()),
        // libndctl compares the whole byte with "last save good".
        shutdown_state: Some(u32::from(last_shutdown != LAST_SAVE_GOOD)),
        shutdown_count: None,
        vendor_size: Some(r.u16(SMART_VENDOR_SIZE)?.into()),
    })
}

/// The vendor-data area of a SMART reply payload.
pub(super) fn vendor_area(p: &[u8]) -> Option<&[u8]> {
    p.get(SMART_VENDOR_DATA..SMART_END)
}

/// Decodes a threshold reply payload (`struct ndn_hpe1_smart_threshold`).
pub(super) fn decode_thresholds(name: &str, p: &[u8]) -> Result<Thresholds> {
    let r = Reply::new(name, "hpe1 smart threshold", p, THRESH_END)?;
    Ok(Thresholds {
        alarm_control: AlarmFlags(translate(r.u16(THRESH_ALARM_CTL)?.into(), TRIP_BITS)),
        media_temperature: Some(Temperature(r.u16(THRESH_TEMP)?.into())),
        ctrl_temperature: None,
        spares: Some(r.u8(THRESH_SPARES)?.into()),
    })
}

//! Intel DSM family (`NVDIMM_FAMILY_INTEL`): SMART (function 1), thresholds (2), set
//! thresholds (17), SMART injection (18) and "enable latch system shutdown status" (10),
//! which acknowledges the dirty shutdown count. Layouts are the packed structures of
//! libndctl's `intel.h` (the kernel's nfit_test emulates the same ones).

use std::sync::Arc;

use super::{
    call, put_field, translate, AlarmFlags, Family, Health, HealthFlags, Inject, Reply,
    Temperature, ThresholdField, Thresholds, HEALTH_CRITICAL, HEALTH_FATAL, HEALTH_NON_CRITICAL,
};
use crate::cmd::Command;
use crate::dimm::Dimm;
use crate::error::Result;

/// `ND_INTEL_SMART`.
pub(super) const SMART: u32 = 1;
/// `ND_INTEL_SMART_THRESHOLD`.
pub(super) const SMART_THRESHOLD: u32 = 2;
/// `ND_INTEL_ENABLE_LSS_STATUS`.
pub(super) const ENABLE_LSS_STATUS: u32 = 10;
/// `ND_INTEL_SMART_SET_THRESHOLD`.
pub(super) const SMART_SET_THRESHOLD: u32 = 17;
/// `ND_INTEL_SMART_INJECT`.
pub(super) const SMART_INJECT: u32 = 18;

// struct nd_intel_smart (132 bytes): u32 status; u32 flags; u8 reserved0[4]; u8 health;
// u8 spares; u8 life_used; u8 alarm_flags; u16 media_temperature; u16 ctrl_temperature;
// u32 shutdown_count; u8 ait_status; u16 pmic_temperature; u8 reserved1[8];
// u8 shutdown_state; u32 vendor_size; u8 vendor_data[92].
pub(super) const SMART_SIZE: usize = 132;
pub(super) const SMART_FLAGS: usize = 4;
pub(super) const SMART_HEALTH: usize = 12;
pub(super) const SMART_SPARES: usize = 13;
pub(super) const SMART_LIFE_USED: usize = 14;
pub(super) const SMART_ALARM_FLAGS: usize = 15;
pub(super) const SMART_MEDIA_TEMPERATURE: usize = 16;
pub(super) const SMART_CTRL_TEMPERATURE: usize = 18;
pub(super) const SMART_SHUTDOWN_COUNT: usize = 20;
#[cfg(test)]
pub(super) const SMART_AIT_STATUS: usize = 24;
#[cfg(test)]
pub(super) const SMART_PMIC_TEMPERATURE: usize = 25;
pub(super) const SMART_SHUTDOWN_STATE: usize = 35;
pub(super) const SMART_VENDOR_SIZE: usize = 36;
pub(super) const SMART_VENDOR_DATA: usize = 40;

// struct nd_intel_smart_threshold (12 bytes): u32 status; u16 alarm_control; u8 spares;
// u16 media_temperature; u16 ctrl_temperature; u8 reserved.
pub(super) const THRESH_SIZE: usize = 12;
pub(super) const THRESH_ALARM_CONTROL: usize = 4;
pub(super) const THRESH_SPARES: usize = 6;
pub(super) const THRESH_MEDIA_TEMPERATURE: usize = 7;
pub(super) const THRESH_CTRL_TEMPERATURE: usize = 9;

// struct nd_intel_smart_set_threshold (11 bytes): u16 alarm_control; u8 spares;
// u16 media_temperature; u16 ctrl_temperature; u32 status.
pub(super) const SET_THRESH_ALARM_CONTROL: usize = 0;
pub(super) const SET_THRESH_SPARES: usize = 2;
pub(super) const SET_THRESH_MEDIA_TEMPERATURE: usize = 3;
pub(super) const SET_THRESH_CTRL_TEMPERATURE: usize = 5;
pub(super) const SET_THRESH_STATUS: usize = 7;

// struct nd_intel_smart_inject (19 bytes): u64 flags; u8 mtemp_enable;
// u16 media_temperature; u8 spare_enable; u8 spares; u8 fatal_enable;
// u8 unsafe_shutdown_enable; u32 status.
pub(super) const INJECT_FLAGS: usize = 0;
pub(super) const INJECT_MTEMP_ENABLE: usize = 8;
pub(super) const INJECT_MEDIA_TEMPERATURE: usize = 9;
pub(super) const INJECT_SPARE_ENABLE: usize = 11;
pub(super) const INJECT_SPARES: usize = 12;
pub(super) const INJECT_FATAL_ENABLE: usize = 13;
pub(super) const INJECT_UNSAFE_SHUTDOWN_ENABLE: usize = 14;
pub(super) const INJECT_STATUS: usize = 15;

// struct nd_intel_lss (5 bytes): u8 enable; u32 status.
const LSS_STATUS: usize = 1;

/// `ND_INTEL_SMART_*_VALID` → `ND_SMART_*_VALID` (the same bit positions, but only these).
const VALID_BITS: &[(u32, u32)] = &[
    (1 << 0, HealthFlags::HEALTH),
    (1 << 1, HealthFlags::SPARES),
    (1 << 2, HealthFlags::USED),
    (1 << 3, HealthFlags::MEDIA_TEMPERATURE),
    (1 << 4, HealthFlags::CTRL_TEMPERATURE),
    (1 << 5, HealthFlags::SHUTDOWN_COUNT),
    (1 << 6, HealthFlags::AIT_STATUS),
    (1 << 7, HealthFlags::PMIC_TEMPERATURE),
    (1 << 9, HealthFlags::ALARM),
    (1 << 10, HealthFlags::SHUTDOWN),
    (1 << 11, HealthFlags::VENDOR),
];

/// `ND_INTEL_SMART_*_HEALTH` → `ND_SMART_*_HEALTH`.
const HEALTH_BITS: &[(u32, u32)] = &[
    (1 << 0, HEALTH_NON_CRITICAL),
    (1 << 1, HEALTH_CRITICAL),
    (1 << 2, HEALTH_FATAL),
];

/// `ND_INTEL_SMART_*_TRIP` → `ND_SMART_*_TRIP` (threshold alarm control).
const TRIP_BITS: &[(u32, u32)] = &[
    (1 << 0, AlarmFlags::SPARES),
    (1 << 1, AlarmFlags::MEDIA_TEMPERATURE),
    (1 << 2, AlarmFlags::CTRL_TEMPERATURE),
];

/// `ND_INTEL_SMART_INJECT_MTEMP`.
pub(super) const INJECT_MTEMP: u64 = 1 << 0;
/// `ND_INTEL_SMART_INJECT_SPARE`.
pub(super) const INJECT_SPARE: u64 = 1 << 1;
/// `ND_INTEL_SMART_INJECT_FATAL`.
pub(super) const INJECT_FATAL: u64 = 1 << 2;
/// `ND_INTEL_SMART_INJECT_SHUTDOWN`.
pub(super) const INJECT_SHUTDOWN: u64 = 1 << 3;

pub(super) fn new_smart(dimm: &Arc<Dimm>) -> Result<Command> {
    call(dimm, Family::Intel, SMART, (0, SMART_SIZE), 0, true)
}

pub(super) fn new_threshold(dimm: &Arc<Dimm>) -> Result<Command> {
    call(
        dimm,
        Family::Intel,
        SMART_THRESHOLD,
        (0, THRESH_SIZE),
        0,
        true,
    )
}

/// A set-threshold request carrying the current thresholds of `thresh` (a completed
/// threshold reply's payload).
pub(super) fn new_set_threshold(dimm: &Arc<Dimm>, thresh: &[u8]) -> Result<Command> {
    let current = Reply::new(dimm.devname(), "smart threshold", thresh, THRESH_SIZE)?;
    let mut cmd = call(
        dimm,
        Family::Intel,
        SMART_SET_THRESHOLD,
        (SET_THRESH_STATUS, 4),
        SET_THRESH_STATUS,
        true,
    )?;
    let p = cmd.pkg_payload_mut();
    let name = dimm.devname();
    put_field(
        name,
        p,
        SET_THRESH_ALARM_CONTROL,
        &current.u16(THRESH_ALARM_CONTROL)?.to_le_bytes(),
    )?;
    put_field(name, p, SET_THRESH_SPARES, &[current.u8(THRESH_SPARES)?])?;
    put_field(
        name,
        p,
        SET_THRESH_MEDIA_TEMPERATURE,
        &current.u16(THRESH_MEDIA_TEMPERATURE)?.to_le_bytes(),
    )?;
    put_field(
        name,
        p,
        SET_THRESH_CTRL_TEMPERATURE,
        &current.u16(THRESH_CTRL_TEMPERATURE)?.to_le_bytes(),
    )?;
    Ok(cmd)
}

pub(super) fn new_inject(dimm: &Arc<Dimm>) -> Result<Command> {
    call(
        dimm,
        Family::Intel,
        SMART_INJECT,
        (INJECT_STATUS, 4),
        INJECT_STATUS,
        true,
    )
}

pub(super) fn new_ack_shutdown_count(dimm: &Arc<Dimm>) -> Result<Command> {
    let mut cmd = call(
        dimm,
        Family::Intel,
        ENABLE_LSS_STATUS,
        (LSS_STATUS, 4),
        LSS_STATUS,
        true,
    )?;
    // Enable latching: the firmware then counts the next unsafe shutdown.
    put_field(dimm.devname(), cmd.pkg_payload_mut(), 0, &[1])?;
    Ok(cmd)
}

/// Decodes a SMART reply payload (`struct nd_intel_smart`).
pub(super) fn decode_health(name: &str, p: &[u8]) -> Result<Health> {
    let r = Reply::new(name, "intel smart", p, SMART_SIZE)?;
    Ok(Health {
        flags: HealthFlags(translate(r.u32(SMART_FLAGS)?, VALID_BITS)),
        health: translate(u32::from(r.u8(SMART_HEALTH)?), HEALTH_BITS),
        media_temperature: Some(Temperature(r.u16(SMART_MEDIA_TEMPERATURE)?.into())),
        ctrl_temperature: Some(Temperature(r.u16(SMART_CTRL_TEMPERATURE)?.into())),
        spares: Some(r.u8(SMART_SPARES)?.into()),
        // The SMART alarm bits are the libndctl trip bits themselves.
        alarm_flags: Some(AlarmFlags(r.u8(SMART_ALARM_FLAGS)?.into())),
        life_used: Some(r.u8(SMART_LIFE_USED)?.into()),
        shutdown_state: Some(r.u8(SMART_SHUTDOWN_STATE)?.into()),
        shutdown_count: Some(r.u32(SMART_SHUTDOWN_COUNT)?.into()),
        vendor_size: Some(r.u32(SMART_VENDOR_SIZE)?),
    })
}

/// The vendor-data area of a SMART reply payload.
pub(super) fn vendor_area(p: &[u8]) -> Option<&[u8]> {
    p.get(SMART_VENDOR_DATA..SMART_SIZE)
}

/// Decodes a threshold reply payload (`struct nd_intel_smart_threshold`).
pub(super) fn decode_thresholds(name: &str, p: &[u8]) -> Result<Thresholds> {
    let r = Reply::new(name, "intel smart threshold", p, THRESH_SIZE)?;
    Ok(Thresholds {
        alarm_control: AlarmFlags(translate(r.u16(THRESH_ALARM_CONTROL)?.into(), TRIP_BITS)),
        media_temperature: Some(Temperature(r.u16(THRESH_MEDIA_TEMPERATURE)?.into())),
        ctrl_temperature: Some(Temperature(r.u16(THRESH_CTRL_TEMPERATURE)?.into())),
        spares: Some(r.u8(THRESH_SPARES)?.into()),
    })
}

/// Stores one threshold in a set-threshold request, truncated to the field's width as
/// libndctl's assignment to the packed field does.
pub(super) fn set_threshold(
    name: &str,
    p: &mut [u8],
    field: ThresholdField,
    value: u32,
) -> Result<()> {
    match field {
        ThresholdField::AlarmControl => put_field(
            name,
            p,
            SET_THRESH_ALARM_CONTROL,
            &(value as u16).to_le_bytes(),
        ),
        ThresholdField::Spares => put_field(name, p, SET_THRESH_SPARES, &[value as u8]),
        ThresholdField::MediaTemperature => put_field(
            name,
            p,
            SET_THRESH_MEDIA_TEMPERATURE,
            &(value as u16).to_le_bytes(),
        ),
        ThresholdField::CtrlTemperature => put_field(
            name,
            p,
            SET_THRESH_CTRL_TEMPERATURE,
            &(value as u16).to_le_bytes(),
        ),
    }
}

/// Adds one injection to a request: its flag bit, its enable byte and its value.
pub(super) fn inject(name: &str, p: &mut [u8], inject: Inject) -> Result<()> {
    let flags =
        super::Reply::new(name, "intel smart inject", p, INJECT_STATUS)?.u64(INJECT_FLAGS)?;
    let (bit, enable_at, enable, value) = match inject {
        Inject::MediaTemperature { enable, value } => (
            INJECT_MTEMP,
            INJECT_MTEMP_ENABLE,
            enable,
            Some((
                INJECT_MEDIA_TEMPERATURE,
                (value as u16).to_le_bytes().to_vec(),
            )),
        ),
        Inject::Spares { enable, value } => (
            INJECT_SPARE,
            INJECT_SPARE_ENABLE,
            enable,
            Some((INJECT_SPARES, vec![value as u8])),
        ),
        Inject::Fatal { enable } => (INJECT_FATAL, INJECT_FATAL_ENABLE, enable, None),
        Inject::UnsafeShutdown { enable } => {
            (INJECT_SHUTDOWN, INJECT_UNSAFE_SHUTDOWN_ENABLE, enable, None)
        }
        Inject::CtrlTemperature { .. } => {
            return Err(crate::error::Error::Unsupported {
                object: name.to_string(),
                reason: "controller temperature injection".into(),
            })
        }
    };
    put_field(name, p, INJECT_FLAGS, &(flags | bit).to_le_bytes())?;
    put_field(name, p, enable_at, &[u8::from(enable)])?;
    if let Some((at, bytes)) = value {
        put_field(name, p, at, &bytes)?;
    }
    Ok(())
}

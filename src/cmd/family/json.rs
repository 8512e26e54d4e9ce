//! The `health` object of `ndctl list -H` (ndctl's `util_dimm_health_to_json`): keys, order
//! and number types as ndctl prints them.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::{
    decode_smart_temperature, AlarmFlags, HealthFlags, HealthState, SmartField, ThresholdField,
};
use crate::dimm::Dimm;

/// The `health` object of a DIMM, from a SMART command and a threshold command submitted
/// now; `None` when the DIMM has no SMART command (ndctl then prints no `health` key).
/// A SMART command that fails gives `{"health_state": "unknown"}`; a threshold command
/// that cannot be built or fails leaves the threshold keys out.
pub fn health_json(dimm: &Arc<Dimm>) -> Option<Value> {
    let mut smart = dimm.smart().ok()?;
    if let Err(e) = smart.submit_xlat() {
        crate::ctx_log!(
            dimm.device().sysfs().logger(),
            log::Level::Debug,
            "{}: smart: {e}",
            dimm.devname()
        );
        return Some(json!({ "health_state": "unknown" }));
    }
    let thresholds = dimm
        .smart_threshold()
        .ok()
        .and_then(|mut t| match t.submit_xlat() {
            Ok(_) => Some(t),
            Err(e) => {
                crate::ctx_log!(
                    dimm.device().sysfs().logger(),
                    log::Level::Debug,
                    "{}: smart threshold: {e}",
                    dimm.devname()
                );
                None
            }
        });
    let threshold_value = thresholds
        .as_ref()
        .map(|t| move |f: ThresholdField| t.threshold_value(f));
    Some(Value::Object(smart_json(
        &|f| smart.smart_value(f),
        threshold_value
            .as_ref()
            .map(|f| f as &dyn Fn(ThresholdField) -> u32),
    )))
}

/// ndctl prints counts with `json_object_new_int`: the unsigned value as a C int.
fn int(v: u32) -> Value {
    json!(v as i32)
}

/// The health object from the values of a submitted SMART command (`smart`, libndctl's
/// getter semantics) and, when its command succeeded, of a threshold command.
pub(super) fn smart_json(
    smart: &dyn Fn(SmartField) -> u32,
    thresholds: Option<&dyn Fn(ThresholdField) -> u32>,
) -> Map<String, Value> {
    let mut m = Map::new();
    let flags = HealthFlags(smart(SmartField::Flags));
    let temperature = |raw: u32| json!(decode_smart_temperature(raw));
    if flags.contains(HealthFlags::HEALTH) {
        let state = HealthState::from_bits(smart(SmartField::Health));
        m.insert("health_state".into(), json!(state.as_str()));
    }
    if flags.contains(HealthFlags::MEDIA_TEMPERATURE) {
        let t = smart(SmartField::MediaTemperature);
        m.insert("temperature_celsius".into(), temperature(t));
    }
    if flags.contains(HealthFlags::CTRL_TEMPERATURE) {
        let t = smart(SmartField::CtrlTemperature);
        m.insert("controller_temperature_celsius".into(), temperature(t));
    }
    if flags.contains(HealthFlags::SPARES) {
        m.insert("spares_percentage".into(), int(smart(SmartField::Spares)));
    }
    if flags.contains(HealthFlags::ALARM) {
        let a = AlarmFlags(smart(SmartField::AlarmFlags));
        for (bit, key) in [
            (AlarmFlags::MEDIA_TEMPERATURE, "alarm_temperature"),
            (AlarmFlags::CTRL_TEMPERATURE, "alarm_controller_temperature"),
            (AlarmFlags::SPARES, "alarm_spares"),
        ] {
            m.insert(key.into(), json!(a.contains(bit)));
        }
    }
    if let Some(t) = thresholds {
        let control = AlarmFlags(t(ThresholdField::AlarmControl));
        let on = control.contains(AlarmFlags::MEDIA_TEMPERATURE);
        m.insert("alarm_enabled_media_temperature".into(), json!(on));
        if on {
            let raw = t(ThresholdField::MediaTemperature);
            m.insert("temperature_threshold".into(), temperature(raw));
        }
        let on = control.contains(AlarmFlags::CTRL_TEMPERATURE);
        m.insert("alarm_enabled_ctrl_temperature".into(), json!(on));
        if on {
            let raw = t(ThresholdField::CtrlTemperature);
            m.insert("controller_temperature_threshold".into(), temperature(raw));
        }
        let on = control.contains(AlarmFlags::SPARES);
        m.insert("alarm_enabled_spares".into(), json!(on));
        if on {
            m.insert("spares_threshold".into(), int(t(ThresholdField::Spares)));
        }
    }
    if flags.contains(HealthFlags::USED) {
        m.insert(
            "life_used_percentage".into(),
            int(smart(SmartField::LifeUsed)),
        );
    }
    if flags.contains(HealthFlags::SHUTDOWN) {
        let dirty = smart(SmartField::ShutdownState) != 0;
        m.insert(
            "shutdown_state".into(),
            json!(if dirty { "dirty" } else { "clean" }),
        );
    }
    if flags.contains(HealthFlags::SHUTDOWN_COUNT) {
        m.insert(
            "shutdown_count".into(),
            int(smart(SmartField::ShutdownCount)),
        );
    }
    m
}

//! Drives SMART / health on a live system (meant for the nfit_test guest, as root): for
//! each DIMM, the SMART reply, the thresholds, what can be injected, the health event
//! descriptor and the `ndctl list -H` health object; with `--inject`, a set-threshold
//! round trip (writing back the current thresholds), a SMART injection (media
//! temperature 52 C, spares 7 %, an unsafe shutdown), the reply after it, the removal of
//! those injections, and an ack of the shutdown count. Every step prints one `key=value`
//! line, so a guest script can compare it with the same steps on Debian's libndctl.
//!
//! ```sh
//! cargo run --example smart_probe [-- --root DIR] [--inject]
//! ```

use std::os::fd::AsRawFd;
use std::process::ExitCode;
use std::sync::Arc;

use ndctl::cmd::family::{Health, Inject, Temperature, ThresholdField};
use ndctl::{Ctx, Dimm};

fn outcome<T>(r: &ndctl::Result<T>) -> String {
    match r {
        Ok(_) => "0".into(),
        Err(e) => format!("{} ({e})", e.errno()),
    }
}

fn celsius(t: Option<Temperature>) -> String {
    t.map_or("none".into(), |t| t.celsius().to_string())
}

fn print_health(name: &str, step: &str, h: &Health) {
    println!(
        "{name} {step} flags={:#x} state={} media_temperature={} ctrl_temperature={} \
         spares={:?} alarm_flags={:?} life_used={:?} shutdown_state={:?} shutdown_count={:?} \
         vendor_size={:?}",
        h.flags.0,
        h.state().as_str(),
        celsius(h.media_temperature),
        celsius(h.ctrl_temperature),
        h.spares,
        h.alarm_flags.map(|a| a.0),
        h.life_used,
        h.shutdown_state,
        h.shutdown_count,
        h.vendor_size
    );
}

fn smart(dimm: &Arc<Dimm>, step: &str) -> ndctl::Result<Health> {
    let name = dimm.devname();
    let mut cmd = dimm.smart()?;
    let r = cmd.submit_xlat();
    println!(
        "{name} {step}_submit rc={} fw={:#x}",
        outcome(&r),
        cmd.firmware_status()
    );
    r?;
    let h = cmd.health()?;
    print_health(name, step, &h);
    Ok(h)
}

fn thresholds(dimm: &Arc<Dimm>, inject: bool) -> ndctl::Result<()> {
    let name = dimm.devname();
    let mut cmd = dimm.smart_threshold()?;
    let r = cmd.submit_xlat();
    println!(
        "{name} threshold_submit rc={} fw={:#x}",
        outcome(&r),
        cmd.firmware_status()
    );
    r?;
    let t = cmd.thresholds()?;
    println!(
        "{name} thresholds alarm_control={:#x} media_temperature={} ctrl_temperature={} spares={:?}",
        t.alarm_control.0,
        celsius(t.media_temperature),
        celsius(t.ctrl_temperature),
        t.spares
    );
    if !inject {
        return Ok(());
    }
    // Write back what the DIMM holds, so the round trip changes nothing.
    let mut set = cmd.smart_set_threshold()?;
    println!(
        "{name} set_threshold supported_alarms={:#x}",
        set.supported_alarms().map_or(0, |a| a.0)
    );
    for (field, value) in [
        (ThresholdField::AlarmControl, t.alarm_control.0),
        (
            ThresholdField::MediaTemperature,
            t.media_temperature.map_or(0, |v| v.0),
        ),
        (
            ThresholdField::CtrlTemperature,
            t.ctrl_temperature.map_or(0, |v| v.0),
        ),
        (ThresholdField::Spares, t.spares.unwrap_or(0)),
    ] {
        set.set_threshold(field, value)?;
    }
    let r = set.submit_xlat();
    println!(
        "{name} set_threshold_submit rc={} fw={:#x}",
        outcome(&r),
        set.firmware_status()
    );
    r.map(drop)
}

fn inject_round(dimm: &Arc<Dimm>) -> ndctl::Result<()> {
    let name = dimm.devname();
    let mut inj = dimm.smart_inject()?;
    for what in [
        Inject::MediaTemperature {
            enable: true,
            value: Temperature::from_celsius(52.0).0,
        },
        Inject::Spares {
            enable: true,
            value: 7,
        },
        Inject::UnsafeShutdown { enable: true },
        Inject::CtrlTemperature {
            enable: true,
            value: Temperature::from_celsius(60.0).0,
        },
    ] {
        println!(
            "{name} inject {what:?} rc={}",
            outcome(&inj.smart_inject(what))
        );
    }
    let r = inj.submit_xlat();
    println!(
        "{name} inject_submit rc={} fw={:#x}",
        outcome(&r),
        inj.firmware_status()
    );
    r?;
    smart(dimm, "smart_after_inject")?;
    let mut un = dimm.smart_inject()?;
    for what in [
        Inject::MediaTemperature {
            enable: false,
            value: 0,
        },
        Inject::Spares {
            enable: false,
            value: 0,
        },
        Inject::Fatal { enable: false },
        Inject::UnsafeShutdown { enable: false },
    ] {
        println!(
            "{name} uninject {what:?} rc={}",
            outcome(&un.smart_inject(what))
        );
    }
    let r = un.submit_xlat();
    println!(
        "{name} uninject_submit rc={} fw={:#x}",
        outcome(&r),
        un.firmware_status()
    );
    r?;
    smart(dimm, "smart_after_uninject")?;
    let mut ack = dimm.ack_shutdown_count()?;
    let r = ack.submit_xlat();
    println!(
        "{name} ack_shutdown_count rc={} fw={:#x}",
        outcome(&r),
        ack.firmware_status()
    );
    r.map(drop)
}

fn probe(dimm: &Arc<Dimm>, inject: bool) {
    let name = dimm.devname();
    println!(
        "{name} family={:?} inject_supported={}",
        ndctl::cmd::family::Family::of(dimm).ok().flatten(),
        match dimm.smart_inject_supported() {
            Ok(t) => format!("{:#x}", t.0),
            Err(e) => e.errno().to_string(),
        }
    );
    println!(
        "{name} health_eventfd={}",
        dimm.health_eventfd().map_or(-1, |fd| fd.as_raw_fd())
    );
    if let Err(e) = smart(dimm, "smart") {
        println!("{name} smart_error={} ({e})", e.errno());
    }
    println!(
        "{name} event_flags={}",
        dimm.event_flags()
            .map_or_else(|e| e.errno().to_string(), |f| format!("{f:#x}"))
    );
    if let Err(e) = thresholds(dimm, inject) {
        println!("{name} threshold_error={} ({e})", e.errno());
    }
    if inject {
        if let Err(e) = inject_round(dimm) {
            println!("{name} inject_error={} ({e})", e.errno());
        }
    }
    match ndctl::cmd::family::health_json(dimm) {
        Some(v) => println!("{name} list_health={v}"),
        None => println!("{name} list_health=none"),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = args
        .iter()
        .position(|a| a == "--root")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| "/".into());
    let inject = args.iter().any(|a| a == "--inject");
    let ctx = match Ctx::with_root(&root) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("smart_probe: {e}");
            return ExitCode::FAILURE;
        }
    };
    let buses = match ctx.buses() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("smart_probe: {e}");
            return ExitCode::FAILURE;
        }
    };
    for bus in &buses {
        match bus.dimms() {
            Ok(dimms) => dimms.iter().for_each(|d| probe(d, inject)),
            Err(e) => println!("{} dimms_error={} ({e})", bus.devname(), e.errno()),
        }
    }
    ExitCode::SUCCESS
}

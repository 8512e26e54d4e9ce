//! Drives firmware update, firmware activation and DIMM security on a live system (meant
//! for the nfit_test guest, as root), printing one `key=value` line per step so that a
//! guest script can compare it with the same sequence on Debian's libndctl / ndctl.
//!
//! Without options it only reads: per bus the activation state and method, per DIMM the
//! update support, a submitted "get firmware info", the activation state and result, and
//! the security state. Steps that change something are asked for explicitly, in the order
//! given on the command line:
//!
//! ```sh
//! cargo run --example fw_security_probe -- [--root DIR] [--dimm nmemN]
//!     [--update BYTES]        # start, send BYTES of a pseudo-random image, finish, query
//!     [--abort]               # start, then abort
//!     [--arm] [--disarm]      # firmware/activate of the DIMM(s)
//!     [--activate live|suspend] [--noidle on|off]   # on the DIMMs' bus(es)
//!     [--sec update:OLD:NEW] [--sec disable:KEY] [--sec disable_master:KEY]
//!     [--sec freeze] [--sec erase:KEY] [--sec overwrite:KEY] [--sec wait]
//!     [--sec master_update:OLD:NEW] [--sec master_erase:KEY]
//! ```
//!
//! Keys are serial numbers of `encrypted` keys named `nvdimm:<id>` in the caller's
//! keyring (create them with `keyctl` first, as `ndctl setup-passphrase` does).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ndctl::bus::FwaMethod;
use ndctl::cmd::FwStatus;
use ndctl::{Bus, Ctx, Dimm};

fn outcome<T>(r: &ndctl::Result<T>) -> String {
    match r {
        Ok(_) => "0".into(),
        Err(e) => format!("{} ({e})", e.errno()),
    }
}

fn opt<T: std::fmt::Debug>(v: Option<T>) -> String {
    v.map_or_else(|| "none".into(), |v| format!("{v:?}"))
}

fn hex(v: Option<u64>) -> String {
    v.map_or_else(|| "none".into(), |v| format!("{v:#x}"))
}

/// A step asked for on the command line.
#[derive(Debug, Clone)]
enum Step {
    Update(usize),
    Abort,
    Arm,
    Disarm,
    Activate(FwaMethod),
    Noidle(bool),
    Security(String),
}

fn parse(args: &[String]) -> Result<(String, Option<String>, Vec<Step>), String> {
    let mut root = "/".to_string();
    let mut only = None;
    let mut steps = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{a} needs a value"))
        };
        match a.as_str() {
            "--root" => root = value()?,
            "--dimm" => only = Some(value()?),
            "--update" => {
                let v = value()?;
                steps.push(Step::Update(
                    v.parse().map_err(|_| format!("--update {v}: not a size"))?,
                ));
            }
            "--abort" => steps.push(Step::Abort),
            "--arm" => steps.push(Step::Arm),
            "--disarm" => steps.push(Step::Disarm),
            "--activate" => steps.push(Step::Activate(match value()?.as_str() {
                "live" => FwaMethod::Live,
                "suspend" => FwaMethod::Suspend,
                m => return Err(format!("--activate {m}: live or suspend")),
            })),
            "--noidle" => steps.push(Step::Noidle(value()? == "on")),
            "--sec" => steps.push(Step::Security(value()?)),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok((root, only, steps))
}

/// The same bytes on every run, so that two libraries can be fed one image.
fn image(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x2545_f491;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x.to_le_bytes()[0]
        })
        .collect()
}

fn read_only(dimm: &Arc<Dimm>) {
    let n = dimm.devname();
    println!(
        "{n} fw_update_supported={}",
        outcome(&dimm.fw_update_supported())
    );
    match dimm.fw_get_info() {
        Ok(mut info) => {
            let r = info.submit();
            println!(
                "{n} fw_get_info rc={} fw_status={:?} storage_size={} max_send_len={} \
                 query_interval={} max_query_time={} run_version={} updated_version={}",
                outcome(&r),
                info.fw_xlat_firmware_status(),
                opt(info.fw_info_storage_size()),
                opt(info.fw_info_max_send_len()),
                opt(info.fw_info_query_interval()),
                opt(info.fw_info_max_query_time()),
                hex(info.fw_info_run_version()),
                hex(info.fw_info_updated_version()),
            );
        }
        Err(e) => println!("{n} fw_get_info build={} ({e})", e.errno()),
    }
    println!(
        "{n} fw_activate_state={} fw_activate_result={} security={} security_frozen={}",
        opt(dimm.fw_activate_state().ok()),
        opt(dimm.fw_activate_result().ok()),
        match dimm.security() {
            Ok(Some(s)) => s.as_str().to_string(),
            Ok(None) => "none".into(),
            Err(e) => format!("error {}", e.errno()),
        },
        opt(dimm.security_frozen().ok()),
    );
}

/// Start, send `len` bytes in `max_send_len` pieces, finish, and query until the
/// firmware stops answering busy (within its `max_query_time`).
fn update(dimm: &Arc<Dimm>, len: usize) -> ndctl::Result<()> {
    let n = dimm.devname();
    let mut info = dimm.fw_get_info()?;
    info.submit()?;
    let step = info
        .fw_info_max_send_len()
        .map_or(4096, |v| usize::try_from(v).unwrap_or(4096))
        .max(1);
    let interval =
        Duration::from_micros(u64::from(info.fw_info_query_interval().unwrap_or(250_000)));
    let max_query = Duration::from_micros(u64::from(
        info.fw_info_max_query_time().unwrap_or(5_000_000),
    ));
    let mut start = dimm.fw_start_update()?;
    let r = start.submit();
    println!(
        "{n} fw_start rc={} fw_status={:?} context={}",
        outcome(&r),
        start.fw_xlat_firmware_status(),
        opt(start.fw_start_get_context())
    );
    r?;
    if start.fw_xlat_firmware_status() != FwStatus::Success {
        return Ok(());
    }
    let data = image(len);
    let mut sent = 0usize;
    for piece in data.chunks(step) {
        let offset = u32::try_from(sent).unwrap_or(u32::MAX);
        let mut send = start.fw_send(offset, piece)?;
        let r = send.submit();
        let st = send.fw_xlat_firmware_status();
        if r.is_err() || st != FwStatus::Success {
            println!(
                "{n} fw_send offset={offset} len={} rc={} fw_status={st:?}",
                piece.len(),
                outcome(&r)
            );
            return r.map(|_| ());
        }
        sent += piece.len();
    }
    println!(
        "{n} fw_send bytes={sent} pieces={}",
        data.chunks(step).len()
    );
    let mut finish = start.fw_finish()?;
    let r = finish.submit();
    println!(
        "{n} fw_finish rc={} fw_status={:?}",
        outcome(&r),
        finish.fw_xlat_firmware_status()
    );
    r?;
    let mut query = start.fw_finish_query()?;
    let began = Instant::now();
    let mut polls = 0u32;
    loop {
        let r = query.submit();
        polls += 1;
        let st = query.fw_xlat_firmware_status();
        if r.is_ok() && st == FwStatus::Busy && began.elapsed() <= max_query {
            std::thread::sleep(interval);
            continue;
        }
        println!(
            "{n} fw_finish_query rc={} fw_status={st:?} fw_rev={} polls={polls}",
            outcome(&r),
            hex(query.fw_fquery_fw_rev())
        );
        return r.map(|_| ());
    }
}

fn abort(dimm: &Arc<Dimm>) -> ndctl::Result<()> {
    let n = dimm.devname();
    let mut start = dimm.fw_start_update()?;
    let r = start.submit();
    println!(
        "{n} fw_start rc={} fw_status={:?}",
        outcome(&r),
        start.fw_xlat_firmware_status()
    );
    r?;
    let mut abort = start.fw_abort()?;
    let r = abort.submit();
    println!(
        "{n} fw_abort rc={} fw_status={:?}",
        outcome(&r),
        abort.fw_xlat_firmware_status()
    );
    r.map(|_| ())
}

fn security(dimm: &Dimm, spec: &str) {
    let n = dimm.devname();
    let parts: Vec<&str> = spec.split(':').collect();
    let key = |i: usize| -> Option<i64> { parts.get(i)?.parse().ok() };
    let r = match (parts[0], key(1), key(2)) {
        ("update", Some(a), Some(b)) => dimm.update_passphrase(a, b),
        ("master_update", Some(a), Some(b)) => dimm.update_master_passphrase(a, b),
        ("disable", Some(k), _) => dimm.disable_passphrase(k),
        ("disable_master", Some(k), _) => dimm.disable_master_passphrase(k),
        ("erase", Some(k), _) => dimm.secure_erase(k),
        ("master_erase", Some(k), _) => dimm.master_secure_erase(k),
        ("overwrite", Some(k), _) => dimm.overwrite(k),
        ("freeze", _, _) => dimm.freeze_security(),
        ("wait", _, _) => {
            let r = dimm.wait_overwrite();
            println!(
                "{n} security_wait_overwrite rc={} completed={}",
                outcome(&r),
                opt(r.as_ref().ok())
            );
            return;
        }
        _ => {
            println!("{n} security_op={spec} rc=usage");
            return;
        }
    };
    println!(
        "{n} security_op={} rc={} security={} security_frozen={}",
        parts[0],
        outcome(&r),
        opt(dimm.security().ok().flatten().map(|s| s.as_str())),
        opt(dimm.security_frozen().ok()),
    );
}

fn bus_line(bus: &Bus) {
    println!(
        "{} provider={} fw_activate_state={} fw_activate_method={}",
        bus.devname(),
        bus.provider(),
        opt(bus.fw_activate_state().ok()),
        opt(bus.fw_activate_method().ok()),
    );
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (root, only, steps) = match parse(&args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("fw_security_probe: {e}");
            return ExitCode::from(2);
        }
    };
    let buses = match Ctx::with_root(&root).and_then(|c| c.buses()) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("fw_security_probe: {e}");
            return ExitCode::FAILURE;
        }
    };
    for bus in &buses {
        let dimms: Vec<Arc<Dimm>> = bus
            .dimms()
            .unwrap_or_default()
            .into_iter()
            .filter(|d| only.as_deref().is_none_or(|o| o == d.devname()))
            .collect();
        if dimms.is_empty() {
            continue;
        }
        bus_line(bus);
        for d in &dimms {
            read_only(d);
        }
        for step in &steps {
            match step {
                Step::Activate(m) => {
                    let r = bus.activate_firmware(*m);
                    println!(
                        "{} fw_activate method={m:?} rc={}",
                        bus.devname(),
                        outcome(&r)
                    );
                    bus_line(bus);
                }
                Step::Noidle(on) => {
                    let r = bus.set_fw_activate_noidle(*on);
                    println!(
                        "{} fw_activate_noidle={on} rc={}",
                        bus.devname(),
                        outcome(&r)
                    );
                }
                _ => {
                    for d in &dimms {
                        let n = d.devname();
                        match step {
                            Step::Update(len) => {
                                if let Err(e) = update(d, *len) {
                                    println!("{n} fw_update error={} ({e})", e.errno());
                                }
                            }
                            Step::Abort => {
                                if let Err(e) = abort(d) {
                                    println!("{n} fw_abort error={} ({e})", e.errno());
                                }
                            }
                            Step::Arm | Step::Disarm => {
                                let arm = matches!(step, Step::Arm);
                                let r = d.fw_activate_arm(arm);
                                println!(
                                    "{n} fw_{}arm rc={} fw_activate_state={}",
                                    if arm { "" } else { "dis" },
                                    outcome(&r),
                                    opt(d.fw_activate_state().ok())
                                );
                            }
                            Step::Security(spec) => security(d, spec),
                            Step::Activate(_) | Step::Noidle(_) => {}
                        }
                    }
                }
            }
        }
        for d in &dimms {
            println!(
                "{} final fw_activate_state={} fw_activate_result={}",
                d.devname(),
                opt(d.fw_activate_state().ok()),
                opt(d.fw_activate_result().ok()),
            );
        }
    }
    ExitCode::SUCCESS
}

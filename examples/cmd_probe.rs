//! Drives the command layer on a live system (meant for the nfit_test guest, as root):
//! for each bus, ARS cap over its regions, ARS start and status (waiting for the scrub),
//! and clear error over the first clear unit of every error record found; for each DIMM,
//! config size and a read of the label index blocks; the scrub count and, with
//! `--inject`, an inject / status / uninject round on the first namespace of a bus with
//! error injection. Every step prints one `key=value` line, so a guest script can compare
//! it with the same program on Debian's libndctl.
//!
//! ```sh
//! cargo run --example cmd_probe [-- --root DIR] [--inject]
//! ```

use std::process::ExitCode;
use std::sync::Arc;

use ndctl::cmd::{ArsType, InjectFlags};
use ndctl::{Bus, Ctx};

fn outcome<T>(r: &ndctl::Result<T>) -> String {
    match r {
        Ok(_) => "0".into(),
        Err(e) => format!("{} ({e})", e.errno()),
    }
}

fn ars(bus: &Arc<Bus>) -> ndctl::Result<()> {
    let name = bus.devname();
    let regions = bus.regions()?;
    let (Some(start), Some(end)) = (
        regions
            .iter()
            .filter_map(|r| r.resource().ok().flatten())
            .min(),
        regions
            .iter()
            .filter_map(|r| Some(r.resource().ok().flatten()? + r.size()))
            .max(),
    ) else {
        println!("{name} ars=skipped (no region with a resource)");
        return Ok(());
    };
    let mut cap = bus.ars_cap(start, end - start)?;
    let r = cap.submit();
    println!(
        "{name} ars_cap rc={} fw={:#x} size={:?} clear_unit={:?} range={:x?}",
        outcome(&r),
        cap.firmware_status(),
        cap.ars_cap_size(),
        cap.ars_cap_clear_unit(),
        cap.ars_cap_range()
    );
    r?;
    let mut startc = cap.ars_start(ArsType::PERSISTENT)?;
    let r = startc.submit();
    println!(
        "{name} ars_start rc={} fw={:#x}",
        outcome(&r),
        startc.firmware_status()
    );
    let r = bus.wait_for_scrub_completion();
    println!("{name} wait_scrub rc={}", outcome(&r));
    let mut status = cap.ars_status()?;
    let r = status.submit();
    let records = status.ars_records();
    println!(
        "{name} ars_status rc={} fw={:#x} in_progress={} overflow={:?} records={}",
        outcome(&r),
        status.firmware_status(),
        status.ars_in_progress(),
        status.ars_overflow(),
        records.len()
    );
    for rec in &records {
        println!(
            "{name} record handle={:#x} address={:#x} length={:#x}",
            rec.handle, rec.address, rec.length
        );
        let unit = u64::from(cap.ars_cap_clear_unit().unwrap_or(1));
        let aligned = rec.address & !(unit - 1);
        match cap.clear_error(aligned, unit) {
            Ok(mut clear) => {
                let r = clear.submit();
                println!(
                    "{name} clear_error address={aligned:#x} rc={} cleared={:?}",
                    outcome(&r),
                    clear.clear_error_cleared()
                );
            }
            Err(e) => println!(
                "{name} clear_error address={aligned:#x} refused={}",
                e.errno()
            ),
        }
    }
    Ok(())
}

fn inject(bus: &Arc<Bus>) -> ndctl::Result<()> {
    if !bus.has_error_injection()? {
        println!("{} inject=unsupported", bus.devname());
        return Ok(());
    }
    let Some(ns) = bus
        .regions()?
        .into_iter()
        .flat_map(|r| r.namespaces().unwrap_or_default())
        .find(|n| n.size() > 0)
    else {
        println!("{} inject=no namespace", bus.devname());
        return Ok(());
    };
    let name = ns.devname();
    let r = ns.inject_error(16, 2, InjectFlags::default());
    println!("{name} inject_error rc={}", outcome(&r));
    let st = ns.injection_status();
    println!(
        "{name} injection_status rc={} runs={:?}",
        outcome(&st),
        st.as_ref().ok()
    );
    let r = ns.uninject_error(16, 2, InjectFlags::default());
    println!("{name} uninject_error rc={}", outcome(&r));
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = args
        .iter()
        .position(|a| a == "--root")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| "/".into());
    let ctx = match Ctx::with_root(&root) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cmd_probe: {e}");
            return ExitCode::FAILURE;
        }
    };
    let buses = match ctx.buses() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("cmd_probe: {e}");
            return ExitCode::FAILURE;
        }
    };
    for bus in &buses {
        println!(
            "{} provider={} scrub={:?}",
            bus.devname(),
            bus.provider(),
            bus.scrub_state().ok().flatten()
        );
        if let Err(e) = ars(bus) {
            println!("{} ars_error={} ({e})", bus.devname(), e.errno());
        }
        for dimm in bus.dimms().unwrap_or_default() {
            match dimm.read_label_index() {
                Ok(read) => println!(
                    "{} label_index bytes={} extent={:?}",
                    dimm.devname(),
                    read.cfg_read_size().unwrap_or(0),
                    read.cfg_extent()
                ),
                Err(e) => println!("{} label_index error={} ({e})", dimm.devname(), e.errno()),
            }
        }
        if args.iter().any(|a| a == "--inject") {
            if let Err(e) = inject(bus) {
                println!("{} inject_error={} ({e})", bus.devname(), e.errno());
            }
        }
    }
    ExitCode::SUCCESS
}

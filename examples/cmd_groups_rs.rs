//! `cmd_groups_rs`: the Rust API's twin of `tests/kernel/c/cmd_groups.c` (issue 8).
//!
//! Drives the command groups on the nfit_test mock through the crate's API and prints the
//! lines the C program prints through libndctl's C API (`<group> <step> <object> rc=<rc>
//! ...`), converting results the way libndctl's getters report them (-errno, `UINT_MAX`
//! for "unknown", enum numbers), so that `kernel_checks` can compare this run with the C
//! program's run on Debian's libndctl line by line.
//!
//! ```sh
//! cmd_groups_rs [group...]
//! ```
//! Groups: smart, smart_inject, ars, firmware, labels, inject, security (the object-layer
//! groups of the C program - topology, btt, pfn_dax - are compared by the list checks and
//! by the C run on our library, not here).

use std::sync::Arc;
use std::time::Duration;

use ndctl::bus::{FwaMethod, FwaState};
use ndctl::cmd::family::{Inject, SmartField, ThresholdField};
use ndctl::cmd::{ArsType, DimmLabels, FwStatus, InjectFlags};
use ndctl::dimm::{FwaResult, SecurityState};
use ndctl::labels::Version;
use ndctl::{Bus, Command, Ctx, Dimm, Namespace, Region};

const MIB: u64 = 1 << 20;
const EINVAL: i32 = -libc::EINVAL;
const ENXIO: i32 = -libc::ENXIO;

fn out(group: &str, step: &str, obj: &str, rest: String) {
    println!("{group} {step} {obj} {rest}");
}

/// C's `%#x`: no prefix for zero.
fn cx(v: u64) -> String {
    if v == 0 {
        "0".into()
    } else {
        format!("{v:#x}")
    }
}

fn fnv(p: &[u8]) -> u32 {
    p.iter().fold(2166136261u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(16777619)
    })
}

fn rc<T>(r: &ndctl::Result<T>) -> i32 {
    match r {
        Ok(_) => 0,
        Err(e) => e.errno(),
    }
}

/// `ndctl_cmd_submit`'s value: the residual count or -errno.
fn submit(c: &mut Command) -> i32 {
    match c.submit() {
        Ok(n) => i32::try_from(n).unwrap_or(i32::MAX),
        Err(e) => e.errno(),
    }
}

/// `ndctl_cmd_submit_xlat`'s value: -errno, else the translated firmware status if any.
fn submit_xlat(c: &mut Command) -> i32 {
    let r = submit(c);
    if r < 0 {
        return r;
    }
    match c.xlat_firmware_status() {
        0 => r,
        x => x,
    }
}

/// The setters' value (libndctl answers -ENXIO for an operation the family lacks).
fn set_rc(r: ndctl::Result<()>) -> i32 {
    match r {
        Ok(()) => 0,
        Err(ndctl::Error::Unsupported { .. }) => ENXIO,
        Err(e) => e.errno(),
    }
}

struct Names;

impl Names {
    fn dimm(d: &Dimm) -> String {
        format!(
            "{}/{}",
            d.bus().provider(),
            cx(u64::from(d.handle().ok().flatten().unwrap_or(u32::MAX)))
        )
    }

    fn region(r: &Region) -> String {
        format!(
            "{}/r{}",
            r.bus().provider(),
            r.range_index().ok().flatten().unwrap_or(0)
        )
    }

    fn ns(n: &Namespace) -> String {
        format!("{}/ns{}", Names::region(n.region()), n.id())
    }
}

fn bus_of(ctx: &Ctx, provider: &str) -> Option<Arc<Bus>> {
    ctx.buses()
        .ok()?
        .into_iter()
        .find(|b| b.provider() == provider)
}

fn dimms_sorted(bus: &Bus) -> Vec<Arc<Dimm>> {
    let mut v = bus.dimms().unwrap_or_default();
    v.sort_by_key(|d| d.handle().ok().flatten().unwrap_or(u32::MAX));
    v
}

fn regions_sorted(bus: &Bus) -> Vec<Arc<Region>> {
    let mut v = bus.regions().unwrap_or_default();
    v.sort_by_key(|r| r.range_index().ok().flatten().unwrap_or(0));
    v
}

fn rel(bus: &Bus, addr: u64) -> String {
    for r in bus.regions().unwrap_or_default() {
        if let Ok(Some(s)) = r.resource() {
            if addr >= s && addr < s + r.size() {
                return format!("{}+{}", Names::region(&r), cx(addr - s));
            }
        }
    }
    "outside".into()
}

fn set_bus_regions(ctx: &Ctx, group: &str, provider: &str, enable: bool) {
    let Some(bus) = bus_of(ctx, provider) else {
        return;
    };
    for r in regions_sorted(&bus) {
        let res = if enable {
            r.enable()
        } else {
            r.disable_invalidate()
        };
        out(
            group,
            if enable {
                "region_enable"
            } else {
                "region_disable"
            },
            &Names::region(&r),
            format!("rc={}", rc(&res)),
        );
    }
}

// ------------------------------------------------------------ labels

/// libndctl keeps one label state per DIMM (from its last whole-area or index read).
struct LabelStates(Vec<(String, DimmLabels)>);

impl LabelStates {
    fn remember(&mut self, d: &Dimm, read: &ndctl::Result<Command>, ls: Option<usize>) {
        if let Ok(c) = read {
            if let Ok(state) = c.share().and_then(|c| DimmLabels::new(c, ls)) {
                let name = d.devname().to_string();
                self.0.retain(|(n, _)| *n != name);
                self.0.push((name, state));
            }
        }
    }

    fn get(&mut self, d: &Dimm) -> Option<&mut DimmLabels> {
        self.0
            .iter_mut()
            .find(|(n, _)| n == d.devname())
            .map(|(_, s)| s)
    }

    fn validate(&mut self, d: &Dimm) -> i32 {
        match self.get(d) {
            Some(s) => s
                .validate()
                .map_or(EINVAL, |n| i32::try_from(n).unwrap_or(i32::MAX)),
            None => EINVAL,
        }
    }

    fn init(&mut self, d: &Dimm, v: Version) -> i32 {
        match self.get(d) {
            Some(s) => s
                .init(v)
                .map_or(ENXIO, |n| i32::try_from(n).unwrap_or(i32::MAX)),
            None => EINVAL,
        }
    }

    fn state(&mut self, d: &Dimm, step: &str) {
        let validate = self.validate(d);
        let (label, index) = match self.get(d) {
            Some(s) => (
                s.sizeof_namespace_label(),
                s.sizeof_namespace_index().unwrap_or(0),
            ),
            None => (128, 0),
        };
        let avail = match d.available_labels() {
            Ok(Some(n)) => u64::from(n),
            _ => u64::MAX,
        };
        out(
            "labels",
            step,
            &Names::dimm(d),
            format!(
                "rc=0 validate={validate} sizeof_label={label} sizeof_index={index} available={avail}"
            ),
        );
    }
}

fn read_size(c: &Command) -> i64 {
    c.cfg_read_size()
        .map_or_else(|e| i64::from(e.errno()), i64::from)
}

/// `ndctl_cmd_cfg_read_get_data`.
fn read_data(c: &Command, len: u32, offset: u32) -> (i64, Vec<u8>) {
    if c.status() < 0 {
        return (i64::from(c.status()), Vec::new());
    }
    let n = c.cfg_clamp(len, offset).unwrap_or(0);
    let mut buf = vec![0u8; n];
    match c.cfg_read_data(&mut buf, offset) {
        Ok(got) => {
            buf.truncate(got);
            (got as i64, buf)
        }
        Err(e) => (i64::from(e.errno()), Vec::new()),
    }
}

fn write_data(c: &mut Command, data: &[u8], offset: u32) -> i64 {
    let n = c
        .cfg_clamp(u32::try_from(data.len()).unwrap_or(u32::MAX), offset)
        .unwrap_or(0);
    match c.cfg_write_data(&data[..n.min(data.len())], offset) {
        Ok(n) => n as i64,
        Err(e) => i64::from(e.errno()),
    }
}

fn digest(got: i64, b: &[u8]) -> String {
    format!("{:08x}", if got > 0 { fnv(b) } else { 0 })
}

fn cfg_roundtrip(d: &Arc<Dimm>) {
    let n = Names::dimm(d);
    let Ok(mut size) = d.cfg_size() else {
        out("labels", "cfg_size", &n, "rc=null".into());
        return;
    };
    let r = submit(&mut size);
    let cfg = size.cfg_size_get_size().unwrap_or(0);
    out(
        "labels",
        "cfg_size",
        &n,
        format!(
            "rc={r} status={} fw={} size={cfg}",
            size.status(),
            cx(u64::from(size.firmware_status()))
        ),
    );
    let Ok(mut rd) = size.cfg_read() else {
        out("labels", "cfg_read", &n, "rc=null".into());
        return;
    };
    let r = submit(&mut rd);
    let (got, b) = read_data(&rd, cfg, 0);
    out(
        "labels",
        "cfg_read",
        &n,
        format!(
            "rc={r} size={} got={got} digest={}",
            read_size(&rd),
            digest(got, &b)
        ),
    );
    let Ok(mut wr) = rd.cfg_write() else {
        out("labels", "cfg_write", &n, "rc=null".into());
        return;
    };
    let zero = [0u8; 20];
    let set = write_data(&mut wr, &zero, 0);
    let r = submit(&mut wr);
    out(
        "labels",
        "cfg_write_zero20",
        &n,
        format!("rc={r} set={set}"),
    );
    let set = write_data(&mut wr, &zero, 0);
    out(
        "labels",
        "cfg_write_resubmit_data",
        &n,
        format!("rc=0 set={set}"),
    );
    let r = submit(&mut rd);
    let (got, b) = read_data(&rd, 20, 0);
    out(
        "labels",
        "cfg_reread_zero20",
        &n,
        format!(
            "rc={r} got={got} equal={}",
            i32::from(got == 20 && b == zero)
        ),
    );
    let name = format!(
        "dimm-{}",
        cx(u64::from(d.handle().ok().flatten().unwrap_or(0)))
    );
    let Ok(mut wr) = rd.cfg_write() else { return };
    let set = write_data(&mut wr, name.as_bytes(), 0);
    let r = submit(&mut wr);
    out("labels", "cfg_write_name", &n, format!("rc={r} set={set}"));
    let r = submit(&mut rd);
    let (got, b) = read_data(&rd, name.len() as u32, 0);
    out(
        "labels",
        "cfg_reread_name",
        &n,
        format!(
            "rc={r} got={got} equal={}",
            i32::from(got > 0 && b == name.as_bytes()[..b.len()])
        ),
    );
    let Ok(mut wr) = rd.cfg_write() else { return };
    let set = wr
        .cfg_write_zero()
        .map_or_else(|e| i64::from(e.errno()), |n| n as i64);
    let r = submit(&mut wr);
    out(
        "labels",
        "cfg_write_zero_all",
        &n,
        format!("rc={r} set={set}"),
    );
    let r = submit(&mut rd);
    let (got, b) = read_data(&rd, cfg, 0);
    out(
        "labels",
        "cfg_reread_all",
        &n,
        format!("rc={r} got={got} digest={}", digest(got, &b)),
    );
}

fn read_labels(st: &mut LabelStates, d: &Arc<Dimm>, step: &str) {
    let r = d.read_labels();
    st.remember(d, &r, None);
    let c = match r {
        Ok(c) => c,
        Err(e) => {
            out(
                "labels",
                step,
                &Names::dimm(d),
                format!("rc=null errno={}", -e.errno()),
            );
            return;
        }
    };
    let size = read_size(&c);
    let (got, b) = read_data(&c, u32::try_from(size.max(0)).unwrap_or(0), 0);
    out(
        "labels",
        step,
        &Names::dimm(d),
        format!(
            "rc={} size={size} got={got} digest={}",
            c.status(),
            digest(got, &b)
        ),
    );
}

fn g_labels(ctx: &Ctx) {
    let Some(bus) = bus_of(ctx, "nfit_test.0") else {
        out("labels", "bus", "nfit_test.0", "rc=-19".into());
        return;
    };
    let mut st = LabelStates(Vec::new());
    let v = dimms_sorted(&bus);
    for d in &v {
        let r = d.read_labels();
        st.remember(d, &r, None);
        match r.and_then(|rd| rd.cfg_write()) {
            Ok(mut wr) => {
                write_data(&mut wr, &[0u8; 8], 0);
                let r = submit(&mut wr);
                out("labels", "write_active", &Names::dimm(d), format!("rc={r}"));
            }
            Err(_) => out("labels", "write_active", &Names::dimm(d), "rc=null".into()),
        }
    }
    set_bus_regions(ctx, "labels", "nfit_test.0", false);
    for d in &v {
        let n = Names::dimm(d);
        cfg_roundtrip(d);
        read_labels(&mut st, d, "read_labels_blank");
        st.state(d, "state_blank");
        let r = st.init(d, Version::V1_1);
        out("labels", "init_v1.1", &n, format!("rc={r}"));
        st.state(d, "state_v1.1");
        read_labels(&mut st, d, "read_labels_v1.1");
        st.state(d, "state_v1.1_reread");
        let r = d.read_label_index();
        st.remember(d, &r, Some(128));
        match r {
            Ok(c) => out(
                "labels",
                "read_label_index",
                &n,
                format!("rc={} size={}", c.status(), read_size(&c)),
            ),
            Err(_) => out("labels", "read_label_index", &n, "rc=null".into()),
        }
        st.state(d, "state_index");
        let r = st.init(d, Version::V1_2);
        out("labels", "init_v1.2", &n, format!("rc={r}"));
        read_labels(&mut st, d, "read_labels_v1.2");
        st.state(d, "state_v1.2");
        match d.read_label_extent(4096, 0) {
            Ok(c) => {
                let (got, b) = read_data(&c, 256, 0);
                out(
                    "labels",
                    "read_label_extent",
                    &n,
                    format!("rc={} got={got} digest={}", c.status(), digest(got, &b)),
                );
            }
            Err(_) => out("labels", "read_label_extent", &n, "rc=null".into()),
        }
        let r = d.zero_label_extent(4096, 8192);
        out("labels", "zero_label_extent", &n, format!("rc={}", rc(&r)));
        read_labels(&mut st, d, "read_labels_zext");
        let r = d.zero_labels();
        out("labels", "zero_labels", &n, format!("rc={}", rc(&r)));
        read_labels(&mut st, d, "read_labels_zeroed");
        st.state(d, "state_zeroed");
        let r = st.init(d, Version::V1_2);
        out("labels", "reinit_v1.2", &n, format!("rc={r}"));
    }
    set_bus_regions(ctx, "labels", "nfit_test.0", true);
    if let Some(bus) = bus_of(ctx, "nfit_test.1") {
        for d in dimms_sorted(&bus) {
            read_labels(&mut st, &d, "read_labels_nolabel");
            st.state(&d, "state_nolabel");
        }
    }
}

// ------------------------------------------------------------ SMART

fn smart_read(d: &Arc<Dimm>, group: &str, step: &str) {
    let Ok(mut c) = d.smart() else {
        out(group, step, &Names::dimm(d), "rc=null".into());
        return;
    };
    let r = submit_xlat(&mut c);
    let v = |f| c.smart_value(f);
    out(
        "smart",
        step,
        &Names::dimm(d),
        format!(
            "rc={r} fw={} flags={} health={} temperature={} media_temperature={} \
             ctrl_temperature={} spares={} alarm_flags={} life_used={} shutdown_state={} \
             shutdown_count={} vendor_size={}",
            cx(u64::from(c.firmware_status())),
            cx(u64::from(v(SmartField::Flags))),
            cx(u64::from(v(SmartField::Health))),
            v(SmartField::MediaTemperature),
            v(SmartField::MediaTemperature),
            v(SmartField::CtrlTemperature),
            v(SmartField::Spares),
            cx(u64::from(v(SmartField::AlarmFlags))),
            v(SmartField::LifeUsed),
            v(SmartField::ShutdownState),
            v(SmartField::ShutdownCount),
            v(SmartField::VendorSize),
        ),
    );
}

fn threshold_read(d: &Arc<Dimm>, step: &str) -> Option<Command> {
    let Ok(mut c) = d.smart_threshold() else {
        out("smart", step, &Names::dimm(d), "rc=null".into());
        return None;
    };
    let r = submit_xlat(&mut c);
    let v = |f| c.threshold_value(f);
    out(
        "smart",
        step,
        &Names::dimm(d),
        format!(
            "rc={r} fw={} alarm_control={} temperature={} media_temperature={} \
             ctrl_temperature={} spares={} supported_alarms={}",
            cx(u64::from(c.firmware_status())),
            cx(u64::from(v(ThresholdField::AlarmControl))),
            v(ThresholdField::MediaTemperature),
            v(ThresholdField::MediaTemperature),
            v(ThresholdField::CtrlTemperature),
            v(ThresholdField::Spares),
            cx(u64::from(c.supported_alarms().map_or(0, |a| a.0))),
        ),
    );
    Some(c)
}

fn g_smart(ctx: &Ctx) {
    for p in ["nfit_test.0", "nfit_test.1"] {
        let Some(bus) = bus_of(ctx, p) else { continue };
        for d in dimms_sorted(&bus) {
            let n = Names::dimm(&d);
            let inject = match d.smart_inject_supported() {
                Ok(t) => i64::from(t.0),
                Err(e) => i64::from(e.errno()),
            };
            let flags = d.smart_flags().unwrap_or(u32::MAX);
            out(
                "smart",
                "dimm",
                &n,
                format!(
                    "rc=0 inject_supported={inject} health={} flags={} event_flags={} \
                     flag_smart_event={} eventfd={}",
                    cx(u64::from(d.smart_health_bits().unwrap_or(u32::MAX))),
                    cx(u64::from(flags)),
                    cx(u64::from(d.event_flags().unwrap_or(u32::MAX))),
                    i32::from(flags != u32::MAX && flags & (1 << 9) != 0),
                    if d.health_eventfd().is_some() {
                        "yes"
                    } else {
                        "no"
                    }
                ),
            );
            smart_read(&d, "smart", "smart");
            let Some(thr) = threshold_read(&d, "threshold") else {
                continue;
            };
            match thr.smart_set_threshold() {
                Err(_) => out("smart", "set_threshold", &n, "rc=null".into()),
                Ok(mut set) => {
                    let a = set_rc(set.set_threshold(ThresholdField::AlarmControl, 0b111));
                    let b = set_rc(set.set_threshold(ThresholdField::MediaTemperature, 45 * 16));
                    let c = set_rc(set.set_threshold(ThresholdField::CtrlTemperature, 35 * 16));
                    let e = set_rc(set.set_threshold(ThresholdField::Spares, 10));
                    let t = set_rc(set.set_threshold(ThresholdField::MediaTemperature, 44 * 16));
                    let r = submit_xlat(&mut set);
                    out(
                        "smart",
                        "set_threshold",
                        &n,
                        format!(
                            "rc={r} fw={} set={a},{b},{c},{e},{t}",
                            cx(u64::from(set.firmware_status()))
                        ),
                    );
                    threshold_read(&d, "threshold_after_set");
                }
            }
        }
    }
}

fn g_smart_inject(ctx: &Ctx) {
    let Some(bus) = bus_of(ctx, "nfit_test.0") else {
        return;
    };
    for (i, d) in dimms_sorted(&bus).iter().take(2).enumerate() {
        let n = Names::dimm(d);
        let Ok(mut c) = d.smart_inject() else {
            out("smart_inject", "new", &n, "rc=null".into());
            continue;
        };
        let mut inj = |w| set_rc(c.smart_inject(w));
        let m = inj(Inject::MediaTemperature {
            enable: true,
            value: 52 * 16,
        });
        let ct = inj(Inject::CtrlTemperature {
            enable: true,
            value: 61 * 16,
        });
        let s = inj(Inject::Spares {
            enable: true,
            value: 7,
        });
        let f = inj(Inject::Fatal { enable: i == 1 });
        let u = inj(Inject::UnsafeShutdown { enable: true });
        out(
            "smart_inject",
            "set",
            &n,
            format!("rc=0 media={m} ctrl={ct} spares={s} fatal={f} unsafe={u}"),
        );
        let r = submit_xlat(&mut c);
        out(
            "smart_inject",
            "submit",
            &n,
            format!("rc={r} fw={}", cx(u64::from(c.firmware_status()))),
        );
        smart_read(d, "smart_inject", "smart_after_inject");
        out(
            "smart_inject",
            "dimm",
            &n,
            format!(
                "rc=0 health={} flags={}",
                cx(u64::from(d.smart_health_bits().unwrap_or(u32::MAX))),
                cx(u64::from(d.smart_flags().unwrap_or(u32::MAX)))
            ),
        );
        let Ok(mut c) = d.smart_inject() else {
            continue;
        };
        let mut inj = |w| set_rc(c.smart_inject(w));
        let m = inj(Inject::MediaTemperature {
            enable: false,
            value: 0,
        });
        let ct = inj(Inject::CtrlTemperature {
            enable: false,
            value: 0,
        });
        let s = inj(Inject::Spares {
            enable: false,
            value: 0,
        });
        let f = inj(Inject::Fatal { enable: false });
        let u = inj(Inject::UnsafeShutdown { enable: false });
        out(
            "smart_inject",
            "unset",
            &n,
            format!("rc=0 media={m} ctrl={ct} spares={s} fatal={f} unsafe={u}"),
        );
        let r = submit_xlat(&mut c);
        out(
            "smart_inject",
            "submit_unset",
            &n,
            format!("rc={r} fw={}", cx(u64::from(c.firmware_status()))),
        );
        smart_read(d, "smart_inject", "smart_after_uninject");
        match d.ack_shutdown_count() {
            Err(_) => out("ack_shutdown", "new", &n, "rc=null".into()),
            Ok(mut c) => {
                let r = submit_xlat(&mut c);
                out(
                    "ack_shutdown",
                    "submit",
                    &n,
                    format!("rc={r} fw={}", cx(u64::from(c.firmware_status()))),
                );
            }
        }
        smart_read(d, "smart_inject", "smart_after_ack");
    }
    if let Some(bus) = bus_of(ctx, "nfit_test.1") {
        if let Some(d) = dimms_sorted(&bus).first() {
            let n = Names::dimm(d);
            let w = |ok: bool| if ok { "cmd" } else { "null" };
            out(
                "smart_inject",
                "new",
                &n,
                format!("rc={}", w(d.smart_inject().is_ok())),
            );
            out(
                "ack_shutdown",
                "new",
                &n,
                format!("rc={}", w(d.ack_shutdown_count().is_ok())),
            );
        }
    }
}

// ------------------------------------------------------------ ARS

fn ars_status_settled(bus: &Bus, cap: &Command, step: &str) {
    let p = bus.provider();
    let mut last: Option<(i32, Command)> = None;
    for _ in 0..40 {
        let Ok(mut st) = cap.ars_status() else {
            out("ars", step, p, "rc=null".into());
            return;
        };
        let r = submit(&mut st);
        let busy = r == -libc::EBUSY || st.ars_in_progress();
        last = Some((r, st));
        if !busy {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let Some((r, st)) = last else { return };
    let n = st.ars_num_records().unwrap_or(0);
    out(
        "ars",
        step,
        p,
        format!(
            "rc={r} in_progress={} records={n} overflow={}",
            i32::from(st.ars_in_progress()),
            st.ars_overflow().map_or(EINVAL, i32::from)
        ),
    );
    for i in 0..n {
        let rec = st.ars_record(i);
        out(
            "ars",
            "record",
            p,
            format!(
                "rc=0 index={i} addr={} len={}",
                rel(bus, rec.map_or(0, |r| r.address)),
                cx(rec.map_or(0, |r| r.length))
            ),
        );
    }
}

fn ars_cap(bus: &Arc<Bus>, r: &Region) -> Option<Command> {
    let Ok(mut cap) = bus.ars_cap(r.resource().ok().flatten().unwrap_or(u64::MAX), r.size()) else {
        out("ars", "cap", &Names::region(r), "rc=null".into());
        return None;
    };
    let res = submit(&mut cap);
    let range = cap.ars_cap_range();
    out(
        "ars",
        "cap",
        &Names::region(r),
        format!(
            "rc={res} fw={} size={} clear_unit={} range_rc={} range={},{}",
            cx(u64::from(cap.firmware_status())),
            cap.ars_cap_size().unwrap_or(0),
            cap.ars_cap_clear_unit().unwrap_or(0),
            if range.is_some() { 0 } else { EINVAL },
            rel(bus, range.map_or(0, |r| r.0)),
            cx(range.map_or(0, |r| r.1))
        ),
    );
    Some(cap)
}

fn ars_round(bus: &Arc<Bus>, r: &Region, tag: &str) {
    let Some(cap) = ars_cap(bus, r) else { return };
    let w = bus.wait_for_scrub_completion();
    out(
        "ars",
        "wait_scrub",
        bus.provider(),
        format!("rc={}", rc(&w)),
    );
    std::thread::sleep(Duration::from_millis(1200));
    match cap.ars_start(ArsType::PERSISTENT) {
        Err(_) => out("ars", "start", &Names::region(r), "rc=null".into()),
        Ok(mut s) => {
            let res = submit(&mut s);
            out(
                "ars",
                "start",
                &Names::region(r),
                format!("rc={res} fw={}", cx(u64::from(s.firmware_status()))),
            );
        }
    }
    ars_status_settled(bus, &cap, &format!("status_{tag}"));
}

fn g_ars(ctx: &Ctx) {
    for p in ["nfit_test.0", "nfit_test.1"] {
        let Some(bus) = bus_of(ctx, p) else { continue };
        if let Some(r) = regions_sorted(&bus).first() {
            ars_round(&bus, r, "clean");
        }
    }
}

// ------------------------------------------------------------ inject, badblocks

fn make_namespace(r: &Arc<Region>, size: u64, tag: u8) -> Option<Arc<Namespace>> {
    let rn = Names::region(r);
    let Ok(Some(ns)) = r.namespace_seed() else {
        out("namespace", "seed", &rn, "rc=null".into());
        return None;
    };
    let r_align = r.set_align(4096 * u64::from(r.interleave_ways()));
    out(
        "namespace",
        "set_align",
        &rn,
        format!(
            "rc={} align={}",
            rc(&r_align),
            cx(r.align().ok().flatten().unwrap_or(u64::MAX))
        ),
    );
    let u = uuid::Uuid::from_bytes([tag; 16]);
    out(
        "namespace",
        "set_uuid",
        &rn,
        format!("rc={}", rc(&ns.set_uuid(u))),
    );
    out(
        "namespace",
        "set_alt_name",
        &rn,
        format!("rc={}", rc(&ns.set_alt_name(&format!("cmd-groups-{tag}")))),
    );
    out(
        "namespace",
        "set_size",
        &rn,
        format!("rc={}", rc(&ns.set_size(size))),
    );
    out(
        "namespace",
        "set_sector_size",
        &rn,
        format!("rc={}", rc(&ns.set_sector_size(512))),
    );
    let e = match ns.enable() {
        Ok(b) => i32::from(b),
        Err(e) => e.errno(),
    };
    out(
        "namespace",
        "enable",
        &Names::ns(&ns),
        format!(
            "rc={e} configured={} size={} mode={}",
            ns.is_configured().map_or(ENXIO, i32::from),
            cx(ns.size()),
            ns.mode().map_or(ENXIO, |m| m.to_c())
        ),
    );
    Some(ns)
}

fn print_badblocks(r: &Region, ns: Option<&Namespace>, step: &str) {
    let list = |v: Vec<ndctl::badblock::BadBlock>| {
        v.iter()
            .map(|b| format!("{}+{},", b.offset, b.len))
            .collect::<String>()
    };
    out(
        "badblocks",
        step,
        &Names::region(r),
        format!("rc=0 region={}", list(r.badblocks().unwrap_or_default())),
    );
    if let Some(ns) = ns {
        out(
            "badblocks",
            step,
            &Names::ns(ns),
            format!(
                "rc=0 namespace={}",
                list(ns.badblocks().unwrap_or_default())
            ),
        );
    }
}

/// `ndctl_namespace_injection_status` and its iterator: the crate answers what the platform
/// holds now; libndctl (and so our C API) merges each answer into a per-namespace list that
/// is never emptied, so the twin keeps that list to print what the C program prints.
fn injection_status(ns: &Namespace, seen: &mut ndctl::cmd::InjectedBlocks, step: &str) {
    let r = ns.injection_status();
    if let Ok(now) = &r {
        for &(b, c) in now {
            ndctl::cmd::merge_injected(seen, b, c);
        }
    }
    let runs = seen
        .iter()
        .map(|(b, c)| format!("{b}+{c},"))
        .collect::<String>();
    out(
        "inject",
        step,
        &Names::ns(ns),
        format!("rc={} injected={runs}", rc(&r)),
    );
}

fn g_inject(ctx: &Ctx) {
    let (Some(bus), Some(r)) = (
        bus_of(ctx, "nfit_test.0"),
        bus_of(ctx, "nfit_test.0").and_then(|b| b.region_by_range_index(1).ok().flatten()),
    ) else {
        out("inject", "region", "nfit_test.0/r1", "rc=-19".into());
        return;
    };
    let Some(ns) = make_namespace(&r, 18 * MIB, 0x11) else {
        return;
    };
    let nn = Names::ns(&ns);
    print_badblocks(&r, Some(&ns), "before");
    let mut seen = Vec::new();
    injection_status(&ns, &mut seen, "status_before");
    let res = ns.inject_error(64, 8, InjectFlags::from_bits(1));
    out(
        "inject",
        "inject",
        &nn,
        format!("rc={} block=64 count=8 notify=1", rc(&res)),
    );
    let res = ns.inject_error(1024, 1, InjectFlags::default());
    out(
        "inject",
        "inject_v1",
        &nn,
        format!("rc={} block=1024 count=1 notify=0", rc(&res)),
    );
    let res = ns.inject_error(2048, 1, InjectFlags::from_bits(2));
    out(
        "inject",
        "inject_saturate",
        &nn,
        format!("rc={} block=2048 count=1 saturate=1", rc(&res)),
    );
    injection_status(&ns, &mut seen, "status_after");
    let w = bus.wait_for_scrub_completion();
    out(
        "inject",
        "wait_scrub",
        "nfit_test.0",
        format!("rc={}", rc(&w)),
    );
    ars_round(&bus, &r, "injected");
    std::thread::sleep(Duration::from_millis(1200));
    let st = bus.start_scrub();
    out(
        "inject",
        "start_scrub",
        "nfit_test.0",
        format!("rc={}", rc(&st)),
    );
    let w = bus.wait_for_scrub_completion();
    out(
        "inject",
        "wait_scrub_again",
        "nfit_test.0",
        format!("rc={}", rc(&w)),
    );
    print_badblocks(&r, Some(&ns), "after_inject");
    if let Ok(mut cap) = bus.ars_cap(r.resource().ok().flatten().unwrap_or(u64::MAX), r.size()) {
        if submit(&mut cap) >= 0 {
            let start = ns.resource().ok().flatten().unwrap_or(u64::MAX) + 64 * 512;
            match cap.clear_error(start, 8 * 512) {
                Err(_) => out("clear_error", "new", &nn, "rc=null".into()),
                Ok(mut c) => {
                    let res = submit(&mut c);
                    out(
                        "clear_error",
                        "submit",
                        &nn,
                        format!(
                            "rc={res} fw={} cleared={}",
                            cx(u64::from(c.firmware_status())),
                            cx(c.clear_error_cleared().unwrap_or(0))
                        ),
                    );
                }
            }
            let c = cap.clear_error(start + 1, 100);
            out(
                "clear_error",
                "unaligned",
                &nn,
                format!("rc={}", if c.is_ok() { "cmd" } else { "null" }),
            );
        }
    }
    print_badblocks(&r, Some(&ns), "after_clear");
    let res = ns.uninject_error(64, 8, InjectFlags::default());
    out("inject", "uninject", &nn, format!("rc={}", rc(&res)));
    let res = ns.uninject_error(1024, 1, InjectFlags::default());
    out("inject", "uninject_v1", &nn, format!("rc={}", rc(&res)));
    let res = ns.uninject_error(2048, 1, InjectFlags::from_bits(2));
    out(
        "inject",
        "uninject_saturate",
        &nn,
        format!("rc={}", rc(&res)),
    );
    injection_status(&ns, &mut seen, "status_uninjected");
    out(
        "inject",
        "scrub_count",
        "nfit_test.0",
        format!(
            "rc=0 scrub_state={}",
            match bus.scrub_state() {
                Ok(Some(s)) => i32::from(s.active),
                Ok(None) => -libc::EOPNOTSUPP,
                Err(_) => ENXIO,
            }
        ),
    );
    if let Some(r1) =
        bus_of(ctx, "nfit_test.1").and_then(|b| b.region_by_range_index(1).ok().flatten())
    {
        if let Some(io) = r1.namespaces().unwrap_or_default().first() {
            let res = io.inject_error(0, 1, InjectFlags::default());
            out(
                "inject",
                "unsupported",
                &Names::ns(io),
                format!("rc={}", rc(&res)),
            );
        }
    }
}

// ------------------------------------------------------------ firmware

fn fw_status(c: &Command) -> i32 {
    c.fw_xlat_firmware_status() as i32
}

/// A firmware getter as libndctl reports it (all ones when the command has no such value).
fn fw_u32(v: Option<u32>) -> u32 {
    v.unwrap_or(u32::MAX)
}

fn fw_u64(v: Option<u64>) -> String {
    cx(v.unwrap_or(u64::MAX))
}

fn fw_update(d: &Arc<Dimm>) {
    let n = Names::dimm(d);
    out(
        "firmware",
        "supported",
        &n,
        format!("rc={}", rc(&d.fw_update_supported())),
    );
    let Ok(mut info) = d.fw_get_info() else {
        out("firmware", "info", &n, "rc=null".into());
        return;
    };
    let r = submit(&mut info);
    out(
        "firmware",
        "info",
        &n,
        format!(
            "rc={r} status={} storage={} max_send={} query_interval={} max_query={} run={} updated={}",
            fw_status(&info),
            fw_u32(info.fw_info_storage_size()),
            fw_u32(info.fw_info_max_send_len()),
            fw_u32(info.fw_info_query_interval()),
            fw_u32(info.fw_info_max_query_time()),
            fw_u64(info.fw_info_run_version()),
            fw_u64(info.fw_info_updated_version()),
        ),
    );
    let mut max_send = fw_u32(info.fw_info_max_send_len());
    if max_send == 0 || max_send == u32::MAX {
        max_send = 4096;
    }
    let image: Vec<u8> = (0..12288u32).map(|i| (i * 7 + 3) as u8).collect();
    let Ok(mut start) = d.fw_start_update() else {
        out("firmware", "start", &n, "rc=null".into());
        return;
    };
    let r = submit(&mut start);
    out(
        "firmware",
        "start",
        &n,
        format!(
            "rc={r} status={} context={}",
            fw_status(&start),
            cx(u64::from(fw_u32(start.fw_start_get_context())))
        ),
    );
    let (mut sent, mut pieces) = (0usize, 0u32);
    while sent < image.len() {
        let len = (image.len() - sent).min(max_send as usize);
        let Ok(mut c) = start.fw_send(sent as u32, &image[sent..sent + len]) else {
            out("firmware", "send", &n, format!("rc=null offset={sent}"));
            break;
        };
        let r = submit(&mut c);
        if r < 0 || c.fw_xlat_firmware_status() != FwStatus::Success {
            out(
                "firmware",
                "send",
                &n,
                format!("rc={r} status={} offset={sent}", fw_status(&c)),
            );
        }
        sent += len;
        pieces += 1;
    }
    out(
        "firmware",
        "sent",
        &n,
        format!("rc=0 bytes={sent} pieces={pieces}"),
    );
    if let Ok(mut c) = start.fw_finish() {
        let r = submit(&mut c);
        out(
            "firmware",
            "finish",
            &n,
            format!("rc={r} status={}", fw_status(&c)),
        );
    }
    for _ in 0..40 {
        let Ok(mut c) = start.fw_finish_query() else {
            out("firmware", "query", &n, "rc=null".into());
            break;
        };
        let r = submit(&mut c);
        if r >= 0 && c.fw_xlat_firmware_status() == FwStatus::Busy {
            std::thread::sleep(Duration::from_millis(250));
            continue;
        }
        out(
            "firmware",
            "query",
            &n,
            format!(
                "rc={r} status={} fw_rev={}",
                fw_status(&c),
                fw_u64(c.fw_fquery_fw_rev())
            ),
        );
        break;
    }
    if let Ok(mut c) = start.fw_finish() {
        let r = submit(&mut c);
        out(
            "firmware",
            "finish_again",
            &n,
            format!(
                "rc={r} status={} fw={}",
                fw_status(&c),
                cx(u64::from(c.firmware_status()))
            ),
        );
    }
}

fn fw_abort(d: &Arc<Dimm>) {
    let n = Names::dimm(d);
    let Ok(mut start) = d.fw_start_update() else {
        out("firmware", "abort_start", &n, "rc=null".into());
        return;
    };
    let r = submit(&mut start);
    out(
        "firmware",
        "abort_start",
        &n,
        format!(
            "rc={r} status={} context={}",
            fw_status(&start),
            cx(u64::from(fw_u32(start.fw_start_get_context())))
        ),
    );
    if let Ok(mut c) = start.fw_abort() {
        let r = submit(&mut c);
        out(
            "firmware",
            "abort",
            &n,
            format!(
                "rc={r} status={} fw={}",
                fw_status(&c),
                cx(u64::from(c.firmware_status()))
            ),
        );
    }
    if let Ok(mut c) = start.fw_finish_query() {
        let r = submit(&mut c);
        out(
            "firmware",
            "abort_query",
            &n,
            format!("rc={r} status={}", fw_status(&c)),
        );
    }
}

fn fwa_state(s: ndctl::Result<FwaState>) -> i32 {
    match s {
        Ok(FwaState::Idle) => 1,
        Ok(FwaState::Armed) => 2,
        Ok(FwaState::Busy) => 3,
        Ok(FwaState::ArmOverflow) => 4,
        Ok(FwaState::Invalid) | Err(_) => 0,
    }
}

fn fwa_method(m: ndctl::Result<FwaMethod>) -> i32 {
    match m {
        Ok(FwaMethod::Suspend) => 1,
        Ok(FwaMethod::Live) => 2,
        Ok(FwaMethod::Reset) | Err(_) => 0,
    }
}

fn fwa_result(r: ndctl::Result<FwaResult>) -> i32 {
    match r {
        Ok(FwaResult::None) => 1,
        Ok(FwaResult::Success) => 2,
        Ok(FwaResult::NotStaged) => 3,
        Ok(FwaResult::NeedReset) => 4,
        Ok(FwaResult::Fail) => 5,
        Ok(FwaResult::Invalid) | Err(_) => 0,
    }
}

fn fwa_line(bus: &Bus, v: &[Arc<Dimm>], step: &str) {
    out(
        "fw_activate",
        step,
        bus.provider(),
        format!(
            "rc=0 state={} method={}",
            fwa_state(bus.fw_activate_state()),
            fwa_method(bus.fw_activate_method())
        ),
    );
    for d in v {
        out(
            "fw_activate",
            step,
            &Names::dimm(d),
            format!(
                "rc=0 state={} result={}",
                fwa_state(d.fw_activate_state()),
                fwa_result(d.fw_activate_result())
            ),
        );
    }
}

/// `ndctl_dimm_fw_activate_arm/disarm` as libndctl answers both: ARMED (2) once the
/// request was taken, INVALID (0) for a DIMM without activation or on failure.
fn arm(d: &Dimm, on: bool) -> i32 {
    if fwa_state(d.fw_activate_state()) == 0 {
        return 0;
    }
    match d.fw_activate_arm(on) {
        Ok(()) => 2,
        Err(_) => 0,
    }
}

fn g_firmware(ctx: &Ctx) {
    let Some(bus) = bus_of(ctx, "nfit_test.0") else {
        return;
    };
    let v = dimms_sorted(&bus);
    fwa_line(&bus, &v, "initial");
    if !v.is_empty() {
        fw_update(&v[0]);
        fw_abort(&v[1 % v.len()]);
    }
    if v.len() > 1 {
        out(
            "fw_activate",
            "arm",
            &Names::dimm(&v[0]),
            format!("rc={}", arm(&v[0], true)),
        );
        out(
            "fw_activate",
            "arm",
            &Names::dimm(&v[1]),
            format!("rc={}", arm(&v[1], true)),
        );
        out(
            "fw_activate",
            "disarm",
            &Names::dimm(&v[1]),
            format!("rc={}", arm(&v[1], false)),
        );
        out(
            "fw_activate",
            "arm_again",
            &Names::dimm(&v[1]),
            format!("rc={}", arm(&v[1], true)),
        );
    }
    fwa_line(&bus, &v, "armed");
    // nfit_test reports the suspend method, and a suspend (quiesce) activation freezes the
    // whole TCG guest: activate live whatever the method reads, as the C program does.
    let r = bus.set_fw_activate_noidle(true);
    let m = bus.fw_activate_method();
    out(
        "fw_activate",
        "noidle",
        bus.provider(),
        format!(
            "rc={} method={}",
            rc(&r),
            fwa_method(bus.fw_activate_method())
        ),
    );
    let r = bus.activate_firmware(FwaMethod::Live);
    out(
        "fw_activate",
        "activate_live",
        bus.provider(),
        format!("rc={} method={}", rc(&r), fwa_method(m)),
    );
    let r = bus.set_fw_activate_noidle(false);
    out(
        "fw_activate",
        "clear_noidle",
        bus.provider(),
        format!(
            "rc={} method={}",
            rc(&r),
            fwa_method(bus.fw_activate_method())
        ),
    );
    std::thread::sleep(Duration::from_millis(3500));
    fwa_line(&bus, &v, "after_activate");
    if let Some(d) = v.first() {
        if let Ok(mut info) = d.fw_get_info() {
            let r = submit(&mut info);
            out(
                "firmware",
                "info_after_activate",
                &Names::dimm(d),
                format!(
                    "rc={r} run={} updated={}",
                    fw_u64(info.fw_info_run_version()),
                    fw_u64(info.fw_info_updated_version())
                ),
            );
        }
    }
    if let Some(bus) = bus_of(ctx, "nfit_test.1") {
        let v = dimms_sorted(&bus);
        if let Some(d) = v.first() {
            out(
                "firmware",
                "supported",
                &Names::dimm(d),
                format!("rc={}", rc(&d.fw_update_supported())),
            );
            fwa_line(&bus, &v, "nfit_test.1");
        }
    }
}

// ------------------------------------------------------------ security

const KEY_SPEC_SESSION_KEYRING: i64 = -3;
const KEYCTL_JOIN_SESSION_KEYRING: i64 = 1;

fn errno() -> i32 {
    -std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

fn add_key(ty: &str, desc: &str, payload: &[u8]) -> i64 {
    let ty = std::ffi::CString::new(ty).expect("no NUL");
    let desc = std::ffi::CString::new(desc).expect("no NUL");
    // SAFETY: add_key(2) with NUL-terminated strings and a payload slice of its length.
    unsafe {
        libc::syscall(
            libc::SYS_add_key,
            ty.as_ptr(),
            desc.as_ptr(),
            payload.as_ptr(),
            payload.len(),
            KEY_SPEC_SESSION_KEYRING,
        )
    }
}

fn new_nvdimm_key(desc: &str) -> i64 {
    add_key("encrypted", desc, b"new enc32 user:nvdimm-master 32")
}

fn sec_state(d: &Dimm) -> i32 {
    match d.security() {
        Ok(Some(SecurityState::Disabled)) => 0,
        Ok(Some(SecurityState::Unlocked)) => 1,
        Ok(Some(SecurityState::Locked)) => 2,
        Ok(Some(SecurityState::Frozen)) => 3,
        Ok(Some(SecurityState::Overwrite)) => 4,
        Ok(None) | Err(_) => -1,
    }
}

fn sec_line(d: &Dimm, step: &str, r: i32) {
    let state = sec_state(d);
    let frozen = i32::from(d.security_frozen().unwrap_or(false));
    let text = match std::fs::read(format!("/sys/bus/nd/devices/{}/security", d.devname())) {
        Ok(b) => {
            let t = String::from_utf8_lossy(&b);
            let t = t.split('\n').next().unwrap_or("").to_string();
            if t.is_empty() {
                "empty".to_string()
            } else {
                t
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "none".into(),
        Err(_) => "error".into(),
    };
    out(
        "security",
        step,
        &Names::dimm(d),
        format!("rc={r} state={state} frozen={frozen} sysfs={text}"),
    );
}

fn key_rc(k: i64) -> i32 {
    if k < 0 {
        errno()
    } else {
        0
    }
}

fn g_security(ctx: &Ctx) {
    let Some(bus) = bus_of(ctx, "nfit_test.0") else {
        return;
    };
    let v = dimms_sorted(&bus);
    for d in &v {
        sec_line(d, "state", 0);
    }
    if v.len() < 2 {
        return;
    }
    let d = &v[v.len() - 1];
    // SAFETY: keyctl(2) JOIN_SESSION_KEYRING with a NULL name takes no pointers.
    if unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, 0usize) } < 0 {
        out("security", "keyring", "session", format!("rc={}", errno()));
    }
    let master: Vec<u8> = (0..32u32).map(|i| (i * 37 + 11) as u8).collect();
    let k = add_key("user", "nvdimm-master", &master);
    out(
        "security",
        "keyring",
        "nvdimm-master",
        format!("rc={}", key_rc(k)),
    );
    let id = d.unique_id().ok().flatten().unwrap_or_default();
    let key = |label: &str, desc: String| {
        let k = new_nvdimm_key(&desc);
        out("security", "keyring", label, format!("rc={}", key_rc(k)));
        k
    };
    let k1 = key("key1", format!("nvdimm:{id}"));
    let k2 = key("key2", format!("nvdimm:{id}-2"));
    let km = key("master1", format!("nvdimm-master:{id}"));
    let km2 = key("master2", format!("nvdimm-master:{id}-2"));
    let s = |r: ndctl::Result<()>| rc(&r);
    sec_line(d, "update_0_k1", s(d.update_passphrase(0, k1)));
    sec_line(d, "update_k2_k1_wrong", s(d.update_passphrase(k2, k1)));
    sec_line(d, "update_k1_k2", s(d.update_passphrase(k1, k2)));
    sec_line(d, "disable_k2", s(d.disable_passphrase(k2)));
    sec_line(
        d,
        "master_update_0_m1",
        s(d.update_master_passphrase(0, km)),
    );
    sec_line(
        d,
        "master_update_m1_m2",
        s(d.update_master_passphrase(km, km2)),
    );
    sec_line(d, "update_0_k1_again", s(d.update_passphrase(0, k1)));
    sec_line(d, "erase_active", s(d.secure_erase(k1)));
    set_bus_regions(ctx, "security", "nfit_test.0", false);
    sec_line(d, "erase_k1", s(d.secure_erase(k1)));
    sec_line(d, "master_erase_m2", s(d.master_secure_erase(km2)));
    sec_line(d, "update_0_k1_third", s(d.update_passphrase(0, k1)));
    sec_line(d, "overwrite_k1", s(d.overwrite(k1)));
    let w = |r: ndctl::Result<bool>| r.map_or_else(|e| e.errno(), i32::from);
    sec_line(d, "wait_overwrite", w(d.wait_overwrite()));
    std::thread::sleep(Duration::from_millis(15000));
    sec_line(d, "after_overwrite", 0);
    sec_line(d, "wait_overwrite_idle", w(d.wait_overwrite()));
    sec_line(d, "disable_master_m2", s(d.disable_master_passphrase(km2)));
    set_bus_regions(ctx, "security", "nfit_test.0", true);
    let d = &v[v.len() - 2];
    sec_line(d, "update_0_k1_other", s(d.update_passphrase(0, k1)));
    sec_line(d, "freeze", s(d.freeze_security()));
    sec_line(d, "disable_frozen", s(d.disable_passphrase(k1)));
    sec_line(d, "update_frozen", s(d.update_passphrase(k1, k2)));
    sec_line(&v[0], "freeze_disabled", s(v[0].freeze_security()));
    if let Some(bus) = bus_of(ctx, "nfit_test.1") {
        if let Some(d) = dimms_sorted(&bus).first() {
            sec_line(d, "state_nfit_test.1", 0);
        }
    }
}

// ------------------------------------------------------------ main

type Group = fn(&Ctx);

fn main() {
    let ctx = match Ctx::new() {
        Ok(c) => c,
        Err(e) => {
            println!("ctx new - rc={}", e.errno());
            std::process::exit(1);
        }
    };
    // The C program's order; its object-layer groups are not part of this twin.
    let groups: [(&str, Group); 7] = [
        ("smart", g_smart),
        ("smart_inject", g_smart_inject),
        ("ars", g_ars),
        ("firmware", g_firmware),
        ("labels", g_labels),
        ("inject", g_inject),
        ("security", g_security),
    ];
    let want: Vec<String> = std::env::args().skip(1).collect();
    for (name, f) in groups {
        if !want.is_empty() && !want.iter().any(|w| w == name) {
            continue;
        }
        println!("== {name}");
        f(&ctx);
    }
}

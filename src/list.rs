//! `ndctl list`: the JSON description of the object tree, key for key as ndctl prints it.
//!
//! A typed API that returns the JSON value; the command line and json-c style printing of
//! the `list` example are not part of the crate.
//!
//! ```no_run
//! use ndctl::list::{list, Options};
//! let ctx = ndctl::Ctx::new()?;
//! // `ndctl list -BDRN`
//! let opts = Options { buses: true, dimms: true, regions: true, namespaces: true, ..Default::default() };
//! if let Some(json) = list(&ctx, &opts)? {
//!     println!("{json:#}");
//! }
//! # Ok::<(), ndctl::Error>(())
//! ```

use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::bus::{Bus, FwaMethod, FwaState};
use crate::cmd::FwStatus;
use crate::ctx::Ctx;
use crate::dimm::{Dimm, FwaResult};
use crate::error::Result;
use crate::namespace::{Claim, Mode, Namespace};
use crate::region::{Numa, Region};

/// What to list and how (the flags of `ndctl list`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    pub buses: bool,
    pub dimms: bool,
    pub regions: bool,
    pub namespaces: bool,
    /// `-X`: device-dax details.
    pub dax: bool,
    /// `-i`: include disabled / idle objects.
    pub idle: bool,
    /// `-c`: include configured but inactive namespaces.
    pub configured: bool,
    /// `-C`: region capabilities.
    pub capabilities: bool,
    /// `-M`: media errors.
    pub media_errors: bool,
    /// `-u`: human-readable numbers.
    pub human: bool,
    /// `-H`: DIMM health (SMART commands submitted to each DIMM).
    pub health: bool,
    /// `-F`: firmware versions of each DIMM (a get-info command) and the bus's firmware
    /// activation state.
    pub firmware: bool,
    /// Number of `-v`.
    pub verbose: u8,
    pub bus_filter: Option<String>,
    pub region_filter: Option<String>,
    pub namespace_filter: Option<String>,
    pub dimm_filter: Option<String>,
    pub mode_filter: Option<String>,
    pub type_filter: Option<String>,
}

impl Options {
    /// The options with ndctl's implications between flags applied (`-v` adds namespaces,
    /// `-X` implies namespaces in devdax mode, no object flag means namespaces, ...).
    /// [`list`] applies them itself; applying them twice changes nothing.
    pub fn implied(mut self) -> Options {
        if !(self.buses || self.dimms || self.regions || self.namespaces || self.dax) {
            self.buses = self.bus_filter.is_some();
            self.regions = self.region_filter.is_some();
            self.dimms = self.dimm_filter.is_some();
        }
        if self.dax && self.mode_filter.is_none() && !self.namespaces {
            self.mode_filter = Some("devdax".into());
        }
        if self.dax {
            self.namespaces = true;
        }
        if !(self.buses || self.dimms || self.regions || self.namespaces) {
            self.namespaces = true;
        }
        if self.verbose >= 1 {
            self.media_errors = true;
            self.namespaces = true;
            self.dax = true;
        }
        if self.verbose >= 2 {
            self.dimms = true;
            self.buses = true;
            self.regions = true;
        }
        if self.verbose >= 3 {
            self.idle = true;
            self.capabilities = true;
            self.health = true;
            self.firmware = true;
        }
        self
    }
}

/// `bus`/`region`/`namespace`/`dimm` filters match by name, id or provider as ndctl does.
fn matches_bus(o: &Options, bus: &Bus) -> bool {
    match o.bus_filter.as_deref() {
        None | Some("all") => true,
        Some(f) => f == bus.provider() || f == bus.devname() || f == bus.id().to_string(),
    }
}

fn matches_region(o: &Options, r: &Region) -> bool {
    let ok = match o.region_filter.as_deref() {
        None | Some("all") => true,
        Some(f) => f == r.devname() || f == r.id().to_string(),
    };
    ok && match o.type_filter.as_deref() {
        None => true,
        Some(t) => t == r.region_type().as_str(),
    }
}

fn matches_dimm(o: &Options, d: &Dimm) -> bool {
    match o.dimm_filter.as_deref() {
        None | Some("all") => true,
        Some(f) => f == d.devname() || f == d.id().to_string(),
    }
}

fn region_has_dimm(o: &Options, r: &Region) -> Result<bool> {
    if o.dimm_filter.as_deref().is_none_or(|f| f == "all") {
        return Ok(true);
    }
    Ok(r.dimms()?.iter().any(|d| matches_dimm(o, d)))
}

fn matches_namespace(o: &Options, ns: &Namespace, mode: Mode) -> bool {
    let ok = match o.namespace_filter.as_deref() {
        None | Some("all") => true,
        Some(f) => f == ns.devname() || f == format!("{}.{}", ns.region().id(), ns.id()),
    };
    ok && match o.mode_filter.as_deref() {
        None => true,
        Some(m) => m == mode.as_str() || (m == "dax" && mode == Mode::Devdax),
    }
}

fn size_value(o: &Options, v: u64) -> Value {
    if o.human && v >= 5000 * 1024 {
        Value::String(human_size(v))
    } else {
        json!(v)
    }
}

fn hex_value(o: &Options, v: u64) -> Value {
    if o.human {
        Value::String(if v == 0 {
            "0".to_string()
        } else {
            format!("{v:#x}")
        })
    } else {
        json!(v)
    }
}

/// `"64.00 MiB (67.11 MB)"`: binary units with the decimal equivalent at the same scale.
pub fn human_size(bytes: u64) -> String {
    const BIN: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    const DEC: [&str; 6] = ["kB", "MB", "GB", "TB", "PB", "EB"];
    let mut level = 0;
    while level + 1 < BIN.len() && bytes as f64 >= 1024f64.powi(level as i32 + 2) {
        level += 1;
    }
    let bin = bytes as f64 / 1024f64.powi(level as i32 + 1);
    let dec = bytes as f64 / 1000f64.powi(level as i32 + 1);
    format!("{bin:.2} {} ({dec:.2} {})", BIN[level], DEC[level])
}

fn bus_json(o: &Options, bus: &Bus) -> Result<Map<String, Value>> {
    let mut m = Map::new();
    m.insert("provider".into(), json!(bus.provider()));
    m.insert("dev".into(), json!(bus.devname()));
    // ndctl 76 returns the bus object as soon as the scrub state is unreadable, so a bus
    // without ARS never shows its firmware activation either.
    let Some(s) = bus.scrub_state()? else {
        return Ok(m);
    };
    m.insert(
        "scrub_state".into(),
        json!(if s.active { "active" } else { "idle" }),
    );
    if o.firmware {
        if let Some(fw) = bus_firmware_json(bus)? {
            m.insert("firmware".into(), fw);
        }
    }
    Ok(m)
}

/// The bus's firmware activation object: only when one of its DIMMs (filters do not
/// apply) can update its firmware, as ndctl decides whether activation is worth showing.
/// Unreadable attributes read as libndctl's defaults (method reset, no state).
fn bus_firmware_json(bus: &Bus) -> Result<Option<Value>> {
    if !bus.dimms()?.iter().any(|d| d.fw_update_supported().is_ok()) {
        return Ok(None);
    }
    Ok(Some(bus_firmware_object(
        bus.fw_activate_method().unwrap_or(FwaMethod::Reset),
        bus.fw_activate_state().unwrap_or(FwaState::Invalid),
    )))
}

fn bus_firmware_object(method: FwaMethod, state: FwaState) -> Value {
    let mut fw = Map::new();
    fw.insert("activate_method".into(), json!(method.name()));
    // ndctl names no busy bus state.
    if let Some(st) = state.name().filter(|_| state != FwaState::Busy) {
        fw.insert("activate_state".into(), json!(st));
    }
    Value::Object(fw)
}

/// What a DIMM's `firmware` object is made of.
struct FirmwareFacts {
    /// Running and staged version from a get-info that succeeded (firmware status
    /// included); `None` when it failed.
    versions: Option<(u64, u64)>,
    can_update: bool,
    state: FwaState,
    result: FwaResult,
}

/// A DIMM's `firmware` object, as ndctl 76 builds it from an Intel get-info command:
/// `None` when the command cannot be built (no Intel family, no `ND_CMD_CALL`, function
/// outside `dsm_mask`).
fn dimm_firmware_json(o: &Options, d: &Arc<Dimm>) -> Option<Value> {
    let mut cmd = d.fw_get_info().ok()?;
    let ok = cmd.submit().is_ok() && cmd.fw_xlat_firmware_status() == FwStatus::Success;
    let versions = match (ok, cmd.fw_info_run_version()) {
        (true, Some(run)) => Some((run, cmd.fw_info_updated_version().unwrap_or(u64::MAX))),
        _ => None,
    };
    Some(firmware_object(
        o,
        &FirmwareFacts {
            versions,
            can_update: d.fw_update_supported().is_ok(),
            state: d.fw_activate_state().unwrap_or(FwaState::Invalid),
            result: d.fw_activate_result().unwrap_or(FwaResult::Invalid),
        },
    ))
}

/// All ones stands for a version libndctl could not read; the staged version, activation
/// state and the need for a power cycle are shown only while an update is staged.
fn firmware_object(o: &Options, f: &FirmwareFacts) -> Value {
    let mut fw = Map::new();
    let unknown = hex_value(o, u64::MAX);
    let Some((run, next)) = f.versions.filter(|(run, _)| *run != u64::MAX) else {
        fw.insert("current_version".into(), unknown);
        return Value::Object(fw);
    };
    fw.insert("current_version".into(), hex_value(o, run));
    fw.insert("can_update".into(), json!(f.can_update));
    if next == u64::MAX {
        fw.insert("next_version".into(), unknown);
        return Value::Object(fw);
    }
    if next == 0 {
        return Value::Object(fw);
    }
    fw.insert("next_version".into(), hex_value(o, next));
    // ndctl names no overflowing DIMM state.
    if let Some(st) = f.state.name().filter(|_| f.state != FwaState::ArmOverflow) {
        fw.insert("activate_state".into(), json!(st));
    }
    // A staged update whose last activation failed, or whose result is unknown, can only
    // be completed by a power cycle.
    if !matches!(
        f.result,
        FwaResult::None | FwaResult::Success | FwaResult::NotStaged
    ) {
        fw.insert("need_powercycle".into(), json!(true));
    }
    Value::Object(fw)
}

fn dimm_json(o: &Options, d: &Arc<Dimm>) -> Result<Map<String, Value>> {
    let mut m = Map::new();
    m.insert("dev".into(), json!(d.devname()));
    if let Some(id) = d.unique_id()? {
        m.insert("id".into(), json!(id));
    }
    if let Some(h) = d.handle()? {
        if h < u32::MAX {
            m.insert("handle".into(), hex_value(o, h.into()));
        }
    }
    if let Some(p) = d.phys_id()? {
        if p < u16::MAX {
            m.insert("phys_id".into(), hex_value(o, p.into()));
        }
    }
    if !d.is_enabled()? {
        m.insert("state".into(), json!("disabled"));
    }
    let f = d.flags()?;
    for (set, key) in [
        (f.map_fail, "flag_failed_map"),
        (f.save_fail, "flag_failed_save"),
        (f.not_armed, "flag_failed_arm"),
        (f.restore_fail, "flag_failed_restore"),
        (f.flush_fail, "flag_failed_flush"),
        (f.smart_event, "flag_smart_event"),
    ] {
        if set {
            m.insert(key.into(), json!(true));
        }
    }
    if let Some(s) = d.security()? {
        m.insert("security".into(), json!(s.as_str()));
        if d.security_is_frozen()? {
            m.insert("security_frozen".into(), json!(true));
        }
    }
    if o.firmware {
        if let Some(fw) = dimm_firmware_json(o, d) {
            m.insert("firmware".into(), fw);
        }
    }
    if o.health {
        if let Some(h) = crate::cmd::family::health_json(d) {
            m.insert("health".into(), h);
        }
    }
    Ok(m)
}

fn capabilities_json(r: &Region) -> Result<Option<Value>> {
    // ndctl 76 describes capabilities from the three seeds and omits the whole array when
    // any of them is missing.
    let (Some(btt), Some(pfn), Some(dax)) = (r.btt_seed()?, r.pfn_seed()?, r.dax_seed()?) else {
        return Ok(None);
    };
    Ok(Some(json!([
        {"mode": "sector", "sector_sizes": btt.sector_sizes()?.0},
        {"mode": "fsdax", "alignments": pfn.alignments()?},
        {"mode": "devdax", "alignments": dax.alignments()?},
    ])))
}

fn region_json(o: &Options, r: &Arc<Region>, with_mappings: bool) -> Result<Map<String, Value>> {
    let mut m = Map::new();
    m.insert("dev".into(), json!(r.devname()));
    m.insert("size".into(), size_value(o, r.size()));
    if let Some(a) = r.align()? {
        m.insert("align".into(), size_value(o, a));
    }
    if let Some(a) = r.available_size()? {
        m.insert("available_size".into(), size_value(o, a));
    }
    if let Some(a) = r.max_available_extent()? {
        m.insert("max_available_extent".into(), size_value(o, a));
    }
    m.insert("type".into(), json!(r.region_type().as_str()));
    if o.verbose >= 1 {
        if let Numa::Node(n) = r.numa()? {
            if n >= 0 {
                m.insert("numa_node".into(), json!(n));
            }
        }
        if let Some(t) = r.target_node()? {
            if t >= 0 {
                m.insert("target_node".into(), json!(t));
            }
        }
    }
    if let Some(iset) = r.interleave_set() {
        m.insert("iset_id".into(), hex_value(o, iset.cookie()));
    }
    if with_mappings {
        let mut maps = Vec::new();
        for mp in r.mappings()? {
            let mut mm = Map::new();
            mm.insert("dimm".into(), json!(mp.dimm_name()));
            mm.insert("offset".into(), hex_value(o, mp.offset()));
            mm.insert("length".into(), hex_value(o, mp.length()));
            if let Some(p) = mp.position() {
                if p >= 0 {
                    mm.insert("position".into(), json!(p));
                }
            }
            maps.push(Value::Object(mm));
        }
        if !maps.is_empty() {
            m.insert("mappings".into(), Value::Array(maps));
        }
    }
    if !r.is_enabled()? {
        m.insert("state".into(), json!("disabled"));
    }
    let bbs = r.badblocks()?;
    let count: u64 = bbs.iter().map(|b| u64::from(b.len)).sum();
    if count > 0 {
        m.insert("badblock_count".into(), json!(count));
    }
    if o.media_errors && !bbs.is_empty() {
        let list: Vec<Value> = bbs
            .iter()
            .map(|b| json!({"offset": b.offset, "length": b.len}))
            .collect();
        m.insert("badblocks".into(), Value::Array(list));
    }
    if o.capabilities {
        if let Some(c) = capabilities_json(r)? {
            m.insert("capabilities".into(), c);
        }
    }
    m.insert(
        "persistence_domain".into(),
        json!(r.persistence_domain()?.as_str()),
    );
    Ok(m)
}

/// A namespace's JSON; `claim` is its claiming device as [`Namespace::claim`] found it
/// (looked up once per listed namespace: each lookup reads `holder`), `mode` and `active`
/// what follows from it.
fn namespace_json(
    o: &Options,
    ns: &Namespace,
    claim: Option<&Claim>,
    mode: Mode,
    active: bool,
) -> Result<Map<String, Value>> {
    let mut m = Map::new();
    m.insert("dev".into(), json!(ns.devname()));
    m.insert("mode".into(), json!(mode.as_str()));
    let (btt, pfn, dax) = match claim {
        Some(Claim::Btt(b)) => (Some(b), None, None),
        Some(Claim::Pfn(p)) => (None, Some(p), None),
        Some(Claim::Dax(d)) => (None, None, Some(d)),
        None => (None, None, None),
    };
    let has_uuid = ns.ns_type().is_labelled();
    let ns_uuid = if has_uuid { ns.uuid()? } else { None };

    let mut size = ns.size();
    let mut uuid = ns_uuid;
    let mut raw_uuid = None;
    let mut sector_size = ns.sector_size()?;
    let mut align = None;
    // A claimed namespace's block device is its claim's (none for dax).
    let claimed = btt.is_some() || pfn.is_some() || dax.is_some();
    let mut blockdev = if claimed { None } else { ns.block_device()? };
    let mut dax_region = None;
    match mode {
        Mode::Fsdax | Mode::Devdax => {
            let (loc, sz, u, al) = if let Some(p) = &pfn {
                (Some(p.location()?), p.size()?, p.uuid()?, p.align()?)
            } else if let Some(d) = &dax {
                (Some(d.location()?), d.size()?, d.uuid()?, d.align()?)
            } else {
                (None, None, uuid::Uuid::nil(), None)
            };
            let map = match loc {
                Some(l) => l.map_name(),
                // A static fsdax namespace without a pfn keeps its memmap in RAM.
                None => "mem",
            };
            m.insert("map".into(), json!(map));
            if pfn.is_some() || dax.is_some() {
                if let Some(s) = sz {
                    size = s;
                }
                uuid = Some(u);
                raw_uuid = ns_uuid;
                align = al;
            }
            if let Some(p) = &pfn {
                blockdev = p.block_device()?;
            }
            if let Some(d) = &dax {
                blockdev = None;
                dax_region = d.dax_region()?;
            }
            if mode == Mode::Devdax {
                sector_size = None;
            }
        }
        Mode::Sector => {
            if let Some(b) = &btt {
                if let Some(s) = b.size()? {
                    size = s;
                }
                uuid = Some(b.uuid()?);
                raw_uuid = ns_uuid;
                sector_size = b.sector_size()?;
                blockdev = b.block_device()?;
            }
        }
        Mode::Raw | Mode::Unknown => {}
    }
    m.insert("size".into(), size_value(o, size));
    if let Some(u) = uuid {
        m.insert("uuid".into(), json!(u.hyphenated().to_string()));
    }
    if o.verbose >= 1 {
        if let Some(u) = raw_uuid {
            m.insert("raw_uuid".into(), json!(u.hyphenated().to_string()));
        }
    }
    if let Some(dr) = dax_region {
        if o.dax {
            let mut r = Map::new();
            if let Some(id) = dr.id {
                r.insert("id".into(), json!(id));
            }
            if let Some(s) = dr.size {
                r.insert("size".into(), size_value(o, s));
            }
            if let Some(a) = dr.available_size {
                r.insert("available_size".into(), size_value(o, a));
            }
            if let Some(a) = dr.align {
                r.insert("align".into(), json!(a));
            }
            let devs: Vec<Value> = dr
                .devices
                .iter()
                .map(|d| {
                    let mut dm = Map::new();
                    dm.insert("chardev".into(), json!(d.name));
                    if let Some(s) = d.size {
                        dm.insert("size".into(), size_value(o, s));
                    }
                    if let Some(t) = d.target_node.filter(|t| *t >= 0) {
                        dm.insert("target_node".into(), json!(t));
                    }
                    if let Some(a) = d.align {
                        dm.insert("align".into(), json!(a));
                    }
                    if let Some(md) = &d.mode {
                        dm.insert("mode".into(), json!(md));
                    }
                    Value::Object(dm)
                })
                .collect();
            if !devs.is_empty() {
                r.insert("devices".into(), Value::Array(devs));
            }
            m.insert("daxregion".into(), Value::Object(r));
        } else if let Some(first) = dr.devices.first() {
            m.insert("chardev".into(), json!(first.name));
        }
    }
    if mode != Mode::Devdax {
        m.insert("sector_size".into(), json!(sector_size.unwrap_or(512)));
    }
    if let Some(a) = align {
        m.insert("align".into(), json!(a));
    }
    if let Some(b) = blockdev {
        m.insert("blockdev".into(), json!(b));
    }
    if !active {
        m.insert("state".into(), json!("disabled"));
    }
    if let Some(n) = ns.alt_name()?.filter(|n| !n.is_empty()) {
        m.insert("name".into(), json!(n));
    }
    if o.verbose >= 1 {
        if let Some(n) = ns.numa_node()?.filter(|n| *n >= 0) {
            m.insert("numa_node".into(), json!(n));
        }
        if let Some(t) = ns.target_node()?.filter(|t| *t >= 0) {
            m.insert("target_node".into(), json!(t));
        }
    }
    let bbs = ns.badblocks_of(claim)?;
    let count: u64 = bbs.iter().map(|b| u64::from(b.len)).sum();
    if count > 0 {
        m.insert("badblock_count".into(), json!(count));
        if o.media_errors {
            let list: Vec<Value> = bbs
                .iter()
                .map(|b| json!({"offset": b.offset, "length": b.len}))
                .collect();
            m.insert("badblocks".into(), Value::Array(list));
        }
    }
    Ok(m)
}

fn listed_namespaces(o: &Options, r: &Region) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    for ns in r.namespaces()? {
        let claim = ns.claim()?;
        let mode = ns.mode_with(claim.as_ref())?;
        if !matches_namespace(o, &ns, mode) {
            continue;
        }
        let active = ns.is_active_with(claim.as_ref())?;
        if !o.idle && !active {
            let configured = o.configured && ns.size() > 0 && ns.size() < u64::MAX;
            if !configured {
                continue;
            }
        }
        out.push(Value::Object(namespace_json(
            o,
            &ns,
            claim.as_ref(),
            mode,
            active,
        )?));
    }
    Ok(out)
}

/// Build the JSON `ndctl list` prints; `None` when there is nothing to print at all.
pub fn list(ctx: &Ctx, o: &Options) -> Result<Option<Value>> {
    let o = &o.clone().implied();
    let mut buses_out = Vec::new();
    let mut dimms_out = Vec::new();
    let mut regions_out = Vec::new();
    let mut namespaces_out = Vec::new();
    let buses = ctx.buses()?;
    if buses.is_empty() {
        return Ok(None);
    }
    for bus in buses {
        if !matches_bus(o, &bus) {
            continue;
        }
        let mut bus_dimms = Vec::new();
        if o.dimms {
            for d in bus.dimms()? {
                if !matches_dimm(o, &d) {
                    continue;
                }
                if let Some(rf) = &o.region_filter {
                    if rf != "all" {
                        let in_region = bus.regions()?.iter().any(|r| {
                            matches_region(o, r)
                                && r.dimms()
                                    .map(|ds| ds.iter().any(|x| Arc::ptr_eq(x, &d)))
                                    .unwrap_or(false)
                        });
                        if !in_region {
                            continue;
                        }
                    }
                }
                if !o.idle && !d.is_enabled()? {
                    continue;
                }
                bus_dimms.push(Value::Object(dimm_json(o, &d)?));
            }
        }
        let mut bus_regions = Vec::new();
        let mut bus_namespaces = Vec::new();
        for r in bus.regions()? {
            if !matches_region(o, &r) || !region_has_dimm(o, &r)? {
                continue;
            }
            let nss = if o.namespaces {
                listed_namespaces(o, &r)?
            } else {
                Vec::new()
            };
            if o.regions {
                if !o.idle && !r.is_enabled()? {
                    continue;
                }
                let mut rm = region_json(o, &r, o.dimms)?;
                if !nss.is_empty() {
                    rm.insert("namespaces".into(), Value::Array(nss));
                }
                bus_regions.push(Value::Object(rm));
            } else {
                bus_namespaces.extend(nss);
            }
        }
        if o.buses {
            let mut bm = bus_json(o, &bus)?;
            if !bus_dimms.is_empty() {
                bm.insert("dimms".into(), Value::Array(bus_dimms));
            }
            if !bus_regions.is_empty() {
                bm.insert("regions".into(), Value::Array(bus_regions));
            }
            if !bus_namespaces.is_empty() {
                bm.insert("namespaces".into(), Value::Array(bus_namespaces));
            }
            buses_out.push(Value::Object(bm));
        } else {
            dimms_out.extend(bus_dimms);
            regions_out.extend(bus_regions);
            namespaces_out.extend(bus_namespaces);
        }
    }
    let top = if o.buses {
        Value::Array(buses_out)
    } else {
        let nonempty = [&dimms_out, &regions_out, &namespaces_out]
            .iter()
            .filter(|v| !v.is_empty())
            .count();
        if nonempty >= 2 {
            let mut m = Map::new();
            if !dimms_out.is_empty() {
                m.insert("dimms".into(), Value::Array(dimms_out));
            }
            if !regions_out.is_empty() {
                m.insert("regions".into(), Value::Array(regions_out));
            }
            if !namespaces_out.is_empty() {
                m.insert("namespaces".into(), Value::Array(namespaces_out));
            }
            Value::Object(m)
        } else if !dimms_out.is_empty() {
            Value::Array(dimms_out)
        } else if !regions_out.is_empty() {
            Value::Array(regions_out)
        } else {
            Value::Array(namespaces_out)
        }
    };
    Ok(Some(if o.human { unwrap_singletons(top) } else { top }))
}

/// With `--human`, ndctl prints a top-level array of one element as the bare element.
fn unwrap_singletons(v: Value) -> Value {
    match v {
        Value::Array(mut a) if a.len() == 1 => a.remove(0),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implications_between_flags() {
        let verbose = Options {
            verbose: 3,
            ..Options::default()
        }
        .implied();
        assert!(verbose.buses && verbose.dimms && verbose.regions && verbose.namespaces);
        assert!(verbose.dax && verbose.idle && verbose.capabilities && verbose.media_errors);
        let region = Options {
            region_filter: Some("region1".into()),
            ..Options::default()
        }
        .implied();
        assert!(region.regions && !region.namespaces && !region.buses);
        assert_eq!(region.clone().implied(), region);
        let dax = Options {
            dax: true,
            ..Options::default()
        }
        .implied();
        assert!(dax.namespaces);
        assert_eq!(dax.mode_filter.as_deref(), Some("devdax"));
        assert!(Options::default().implied().namespaces);
    }

    fn facts(versions: Option<(u64, u64)>, state: FwaState, result: FwaResult) -> FirmwareFacts {
        FirmwareFacts {
            versions,
            can_update: true,
            state,
            result,
        }
    }

    #[test]
    fn dimm_firmware_objects_follow_ndctl() {
        let o = Options::default();
        let all_ones = u64::MAX;
        // get-info failed, or reported an unreadable running version
        for v in [None, Some((all_ones, 5))] {
            assert_eq!(
                firmware_object(&o, &facts(v, FwaState::Armed, FwaResult::Fail)),
                json!({ "current_version": all_ones })
            );
        }
        // nothing staged: no activation details whatever sysfs says
        assert_eq!(
            firmware_object(&o, &facts(Some((0, 0)), FwaState::Armed, FwaResult::Fail)),
            json!({ "current_version": 0, "can_update": true })
        );
        assert_eq!(
            firmware_object(
                &o,
                &facts(Some((1, all_ones)), FwaState::Idle, FwaResult::None)
            ),
            json!({ "current_version": 1, "can_update": true, "next_version": all_ones })
        );
        // staged (nfit_test's fake version), armed, last activation fine
        let staged = 0xffff_ffff_abcd;
        assert_eq!(
            firmware_object(
                &o,
                &facts(Some((0, staged)), FwaState::Armed, FwaResult::Success)
            ),
            json!({ "current_version": 0, "can_update": true, "next_version": staged,
                    "activate_state": "armed" })
        );
        // a failed or unknown result needs a power cycle; overflow is no DIMM state
        for r in [FwaResult::Fail, FwaResult::NeedReset, FwaResult::Invalid] {
            assert_eq!(
                firmware_object(&o, &facts(Some((0, staged)), FwaState::ArmOverflow, r)),
                json!({ "current_version": 0, "can_update": true, "next_version": staged,
                        "need_powercycle": true })
            );
        }
        let human = Options {
            human: true,
            ..Options::default()
        };
        assert_eq!(
            firmware_object(
                &human,
                &facts(Some((0, staged)), FwaState::Busy, FwaResult::None)
            ),
            json!({ "current_version": "0", "can_update": true, "next_version": "0xffffffffabcd",
                    "activate_state": "busy" })
        );
    }

    #[test]
    fn bus_firmware_objects_follow_ndctl() {
        assert_eq!(
            bus_firmware_object(FwaMethod::Suspend, FwaState::ArmOverflow),
            json!({ "activate_method": "suspend", "activate_state": "overflow" })
        );
        assert_eq!(
            bus_firmware_object(FwaMethod::Live, FwaState::Armed),
            json!({ "activate_method": "live", "activate_state": "armed" })
        );
        for st in [FwaState::Busy, FwaState::Invalid] {
            assert_eq!(
                bus_firmware_object(FwaMethod::Reset, st),
                json!({ "activate_method": "reset" })
            );
        }
    }

    /// On a tree without device nodes get-info is built but cannot be submitted: ndctl
    /// then shows an all-ones version for the Intel DIMMs and none for the others, and the
    /// bus's activation object only on the bus with updatable DIMMs.
    #[test]
    fn firmware_on_a_tree_without_device_nodes() {
        use ndctl_testsupport::fixture::nfit_test::{write_tree, Variant};
        let dir = tempfile::tempdir().unwrap();
        write_tree(dir.path(), Variant::Pmem).unwrap();
        let ctx = Ctx::with_root(dir.path()).unwrap();
        let o = Options {
            buses: true,
            dimms: true,
            firmware: true,
            ..Options::default()
        };
        let v = list(&ctx, &o).unwrap().unwrap();
        let mut with_updates = 0;
        for bus in v.as_array().unwrap() {
            let updatable = ctx
                .buses()
                .unwrap()
                .into_iter()
                .find(|b| b.provider() == bus["provider"])
                .unwrap()
                .dimms()
                .unwrap()
                .iter()
                .any(|d| d.fw_update_supported().is_ok());
            assert_eq!(bus.get("firmware").is_some(), updatable, "{bus}");
            if updatable {
                with_updates += 1;
                assert_eq!(bus["firmware"]["activate_method"], "suspend");
            }
            for d in bus["dimms"].as_array().unwrap() {
                if let Some(fw) = d.get("firmware") {
                    assert_eq!(fw, &json!({ "current_version": u64::MAX }), "{d}");
                }
            }
        }
        assert_eq!(with_updates, 1, "{v}");
        // Without -F neither appears.
        let plain = list(
            &ctx,
            &Options {
                firmware: false,
                ..o
            },
        )
        .unwrap()
        .unwrap();
        assert!(!plain.to_string().contains("firmware"));
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_size(67108864), "64.00 MiB (67.11 MB)");
        assert_eq!(human_size(1073479680), "1023.75 MiB (1073.48 MB)");
        assert_eq!(human_size(1056964608), "1008.00 MiB (1056.96 MB)");
        assert_eq!(human_size(4 << 30), "4.00 GiB (4.29 GB)");
    }
}

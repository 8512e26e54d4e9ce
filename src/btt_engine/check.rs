//! Offline consistency check and repair, covering what `ndctl check-namespace` and
//! `pmempool check` verify: info blocks and their backups, flog layout, sequence numbers and
//! bounds, map bounds, unfinished writes, and that every internal block is owned exactly once
//! by the map or a lane's free entry.
//!
//! [`check`] never writes. [`repair`] applies only fixes that cannot lose data: restoring a
//! primary info block from a valid backup (or the reverse), completing an interrupted map
//! update as the kernel would on attach, and (on request) rewriting an old-layout flog. Other
//! problems are reported with the reason they were left alone.

use std::collections::BTreeMap;
use std::fmt;

use uuid::Uuid;

use super::arena::read_info;
use super::error::{BttError, Result};
use super::flog::{self, Lane, LogIndices};
use super::format::{
    FlogEntry, InfoBlock, MapEntry, MapState, ARENA_MAX_SIZE, BTT1_START_OFFSET, BTT2_START_OFFSET,
    INFO_SIZE, MAP_ERR_MASK, MAP_LBA_MASK,
};
use super::io::{self, Storage};
use super::layout::{self, Geometry};
use super::map;
use super::{locate, MAX_ARENAS};

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Worth knowing, not an inconsistency.
    Info,
    /// An inconsistency that [`repair`] fixes safely.
    Repairable,
    /// An inconsistency that cannot be repaired without risking data.
    Error,
}

impl Severity {
    fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Repairable => "repairable",
            Severity::Error => "error",
        }
    }
}

/// One observation of the checker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// How bad it is.
    pub severity: Severity,
    /// Arena index, when the finding belongs to one.
    pub arena: Option<usize>,
    /// Absolute storage offset of the structure concerned, when there is one.
    pub offset: Option<u64>,
    /// Stable machine-readable code, e.g. `"map-out-of-range"`.
    pub code: &'static str,
    /// Human-readable explanation.
    pub message: String,
}

/// Per-arena statistics gathered by the check.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ArenaSummary {
    /// Position in the chain.
    pub index: usize,
    /// Absolute offset of the info block used (the backup's data if the primary is bad).
    pub offset: u64,
    /// Sectors in the arena.
    pub external_nlba: u32,
    /// Blocks in the data area.
    pub internal_nlba: u32,
    /// Live flog slots, if the layout could be deduced.
    pub log_indices: Option<[usize; 2]>,
    /// Map entries never written (identity).
    pub map_initial: u64,
    /// Normal map entries.
    pub map_mapped: u64,
    /// Map entries with only the zero flag.
    pub map_zero: u64,
    /// Map entries with only the error flag.
    pub map_error: u64,
    /// Lanes whose last map update is not in the map yet.
    pub unfinished_writes: u32,
}

/// The result of [`check`] or [`repair`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Namespace start in the storage.
    pub namespace_offset: u64,
    /// Absolute offset of the first info block, if one was found.
    pub btt_offset: Option<u64>,
    /// Version of the first arena, e.g. "1.1".
    pub version: Option<String>,
    /// Sector size.
    pub external_lbasize: Option<u32>,
    /// Arenas examined.
    pub arenas: Vec<ArenaSummary>,
    /// Everything found, in order.
    pub findings: Vec<Finding>,
    /// What [`repair`] changed on media, in order.
    pub repairs: Vec<String>,
}

impl Report {
    /// No errors and nothing left to repair.
    pub fn is_clean(&self) -> bool {
        self.findings.iter().all(|f| f.severity == Severity::Info)
    }

    /// Findings that cannot be repaired.
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
    }

    /// Findings that [`repair`] would fix.
    pub fn repairable(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Repairable)
    }

    /// True when some finding has the given code.
    pub fn has(&self, code: &str) -> bool {
        self.findings.iter().any(|f| f.code == code)
    }

    /// Machine-readable form.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "namespace_offset": self.namespace_offset,
            "btt_offset": self.btt_offset,
            "version": self.version,
            "external_lbasize": self.external_lbasize,
            "consistent": self.is_clean(),
            "errors": self.errors().count(),
            "repairable": self.repairable().count(),
            "arenas": self.arenas.iter().map(|a| serde_json::json!({
                "index": a.index,
                "offset": a.offset,
                "external_nlba": a.external_nlba,
                "internal_nlba": a.internal_nlba,
                "log_indices": a.log_indices,
                "map_initial": a.map_initial,
                "map_mapped": a.map_mapped,
                "map_zero": a.map_zero,
                "map_error": a.map_error,
                "unfinished_writes": a.unfinished_writes,
            })).collect::<Vec<_>>(),
            "findings": self.findings.iter().map(|f| serde_json::json!({
                "severity": f.severity.name(),
                "arena": f.arena,
                "offset": f.offset,
                "code": f.code,
                "message": f.message,
            })).collect::<Vec<_>>(),
            "repairs": self.repairs,
        })
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.btt_offset, &self.version) {
            (Some(off), Some(v)) => writeln!(
                f,
                "BTT v{v} at {off:#x} (namespace at {:#x}), {} arena(s), sector size {}",
                self.namespace_offset,
                self.arenas.len(),
                self.external_lbasize.unwrap_or(0)
            )?,
            _ => writeln!(
                f,
                "no BTT found in namespace at {:#x}",
                self.namespace_offset
            )?,
        }
        for a in &self.arenas {
            writeln!(
                f,
                "arena {} at {:#x}: {} sectors, {} blocks, flog slots {}, map: {} mapped, {} initial, {} zero, {} error, {} unfinished write(s)",
                a.index,
                a.offset,
                a.external_nlba,
                a.internal_nlba,
                a.log_indices
                    .map(|i| format!("({},{})", i[0], i[1]))
                    .unwrap_or_else(|| "unknown".into()),
                a.map_mapped,
                a.map_initial,
                a.map_zero,
                a.map_error,
                a.unfinished_writes
            )?;
        }
        for x in &self.findings {
            let place = match (x.arena, x.offset) {
                (Some(a), Some(o)) => format!("arena {a} @ {o:#x}: "),
                (Some(a), None) => format!("arena {a}: "),
                (None, Some(o)) => format!("@ {o:#x}: "),
                (None, None) => String::new(),
            };
            writeln!(f, "[{}] {place}{}", x.severity.name(), x.message)?;
        }
        for r in &self.repairs {
            writeln!(f, "repaired: {r}")?;
        }
        let errors = self.errors().count();
        let repairable = self.repairable().count();
        if errors == 0 && repairable == 0 {
            writeln!(f, "result: consistent")
        } else {
            writeln!(
                f,
                "result: inconsistent ({errors} unrepairable, {repairable} repairable)"
            )
        }
    }
}

/// Options for [`check_with`] and [`repair`].
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// Namespace size (default: to the end of the storage). Used to find the backup of a
    /// damaged first info block and to bound the arenas.
    pub namespace_size: Option<u64>,
    /// Namespace UUID: when given, a non-nil `parent_uuid` must match it (kernel rule).
    pub parent_uuid: Option<Uuid>,
}

/// Options for [`repair`].
#[derive(Clone, Debug, Default)]
pub struct RepairOptions {
    /// See [`CheckOptions`].
    pub check: CheckOptions,
    /// Convert a flog in the pre-4.15 (0,2) slot layout to the (0,1) layout. Interrupting
    /// this leaves lanes in mixed layouts, which makes the arena unloadable, so it is opt-in
    /// (like `ndctl check-namespace --rewrite-log`).
    pub rewrite_log: bool,
}

/// A write that repair would perform.
#[derive(Clone, Debug)]
enum Action {
    WriteInfo {
        offset: u64,
        raw: Box<[u8; INFO_SIZE as usize]>,
        what: String,
    },
    RollForward {
        geo: Geometry,
        premap: u32,
        block: u32,
        what: String,
    },
    RewriteLane {
        geo: Geometry,
        lane: u32,
        current: FlogEntry,
    },
}

/// Cap on findings with the same code in one arena; the rest are counted in a summary.
const MAX_SAME_FINDINGS: usize = 16;

struct Analysis {
    report: Report,
    actions: Vec<Action>,
    counts: BTreeMap<(Option<usize>, &'static str), usize>,
}

impl Analysis {
    fn add(
        &mut self,
        severity: Severity,
        arena: Option<usize>,
        offset: Option<u64>,
        code: &'static str,
        message: String,
    ) {
        let n = self.counts.entry((arena, code)).or_insert(0);
        *n += 1;
        if *n <= MAX_SAME_FINDINGS {
            self.report.findings.push(Finding {
                severity,
                arena,
                offset,
                code,
                message,
            });
        }
    }

    fn summarize_overflow(&mut self) {
        let over: Vec<_> = self
            .counts
            .iter()
            .filter(|(_, &n)| n > MAX_SAME_FINDINGS)
            .map(|(&(arena, code), &n)| (arena, code, n))
            .collect();
        for (arena, code, n) in over {
            let severity = self
                .report
                .findings
                .iter()
                .find(|f| f.code == code && f.arena == arena)
                .map(|f| f.severity)
                .unwrap_or(Severity::Error);
            self.report.findings.push(Finding {
                severity,
                arena,
                offset: None,
                code,
                message: format!(
                    "... {} more '{code}' findings not listed",
                    n - MAX_SAME_FINDINGS
                ),
            });
        }
    }
}

/// Check the BTT of the namespace at `namespace_offset` without writing anything.
///
/// Returns `Err` only when the storage itself fails; every problem with its contents is a
/// [`Finding`] in the report.
pub fn check<S: Storage + ?Sized>(s: &S, namespace_offset: u64) -> Result<Report> {
    check_with(s, namespace_offset, &CheckOptions::default())
}

/// [`check`] with options.
pub fn check_with<S: Storage + ?Sized>(
    s: &S,
    namespace_offset: u64,
    opts: &CheckOptions,
) -> Result<Report> {
    Ok(analyse(s, namespace_offset, opts, false)?.report)
}

/// Check, apply the safe repairs, and check again. The returned report describes the state
/// after repair, with the changes made listed in [`Report::repairs`].
pub fn repair<S: Storage + ?Sized>(
    s: &S,
    namespace_offset: u64,
    opts: &RepairOptions,
) -> Result<Report> {
    let mut done = Vec::new();
    // Restoring an info block can expose further arenas or problems; a few passes settle.
    for _ in 0..4 {
        let a = analyse(s, namespace_offset, &opts.check, opts.rewrite_log)?;
        if a.actions.is_empty() {
            break;
        }
        for action in &a.actions {
            done.push(apply(s, action)?);
        }
    }
    let mut report = analyse(s, namespace_offset, &opts.check, false)?.report;
    report.repairs = done;
    Ok(report)
}

fn apply<S: Storage + ?Sized>(s: &S, action: &Action) -> Result<String> {
    match action {
        Action::WriteInfo { offset, raw, what } => {
            io::write_durable(s, *offset, &raw[..])?;
            Ok(what.clone())
        }
        Action::RollForward {
            geo,
            premap,
            block,
            what,
        } => {
            map::write_entry(s, geo, *premap, MapEntry::normal(*block))?;
            Ok(what.clone())
        }
        Action::RewriteLane { geo, lane, current } => {
            flog::rewrite_lane(s, geo, *lane, *current)?;
            Ok(format!(
                "arena at {:#x}: lane {lane} rewritten in the (0,1) flog layout",
                geo.base
            ))
        }
    }
}

/// Candidate places for the backup of an arena whose primary info block at `base` is bad,
/// in the order check-namespace tries them.
fn backup_candidates<S: Storage + ?Sized>(s: &S, start: u64, base: u64, ns_end: u64) -> Vec<u64> {
    let mut v = Vec::new();
    let rel = base - start;
    let rawsize = ns_end.saturating_sub(start);
    // End of this arena if it is the last one, or a full 512 GiB arena otherwise.
    let end_rel = (rawsize - rawsize % INFO_SIZE).min(rel.saturating_add(ARENA_MAX_SIZE));
    if let Some(off) = end_rel.checked_sub(INFO_SIZE) {
        if off > rel {
            v.push(start + off);
        }
    }
    // The damaged primary's own idea of where its backup lives.
    let mut raw = [0u8; INFO_SIZE as usize];
    if io::read_exact(s, base, &mut raw).is_ok() {
        let damaged = InfoBlock::parse(&raw);
        if let Some(off) = base.checked_add(damaged.info2off) {
            if damaged.info2off >= INFO_SIZE
                && off.checked_add(INFO_SIZE).is_some_and(|e| e <= ns_end)
                && !v.contains(&off)
            {
                v.push(off);
            }
        }
    }
    v
}

/// Look for a valid backup of the info block at `base`.
fn find_backup<S: Storage + ?Sized>(
    s: &S,
    start: u64,
    base: u64,
    ns_end: u64,
    major: Option<u16>,
) -> Result<Option<(u64, InfoBlock, [u8; 4096])>> {
    for off in backup_candidates(s, start, base, ns_end) {
        match read_info(s, off) {
            Ok((info, raw)) => {
                if major.is_some_and(|m| m != info.version_major) {
                    continue;
                }
                if off.checked_sub(base) != Some(info.info2off) {
                    continue;
                }
                return Ok(Some((off, info, raw)));
            }
            Err(BttError::InvalidInfo { .. }) | Err(BttError::OutOfBounds { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

fn analyse<S: Storage + ?Sized>(
    s: &S,
    namespace_offset: u64,
    opts: &CheckOptions,
    rewrite_log: bool,
) -> Result<Analysis> {
    let mut a = Analysis {
        report: Report {
            namespace_offset,
            ..Report::default()
        },
        actions: Vec::new(),
        counts: BTreeMap::new(),
    };
    let size = s.size();
    let ns_end = match opts.namespace_size {
        Some(n) => namespace_offset.saturating_add(n).min(size),
        None => size,
    };
    if opts
        .namespace_size
        .is_some_and(|n| namespace_offset.saturating_add(n) > size)
    {
        a.add(
            Severity::Error,
            None,
            None,
            "namespace-size",
            format!("namespace end exceeds the storage size {size:#x}; checking up to it"),
        );
    }

    // Find the first info block, or a backup of it.
    let (start, first_major) = match locate(s, namespace_offset) {
        Ok(l) => (l.start, l.info.version_major),
        Err(BttError::NotFound { reason, .. }) => {
            let mut found = None;
            for (rel, major) in [(BTT1_START_OFFSET, 1u16), (BTT2_START_OFFSET, 2u16)] {
                let Some(start) = namespace_offset.checked_add(rel) else {
                    continue;
                };
                if start >= ns_end {
                    continue;
                }
                if let Some((off, _, raw)) = find_backup(s, start, start, ns_end, Some(major))? {
                    found = Some((start, major, off, raw));
                    break;
                }
            }
            match found {
                Some((start, major, off, raw)) => {
                    a.add(
                        Severity::Repairable,
                        Some(0),
                        Some(start),
                        "info-primary-invalid",
                        format!(
                            "first info block is invalid ({reason}); a valid backup is at {off:#x}"
                        ),
                    );
                    a.actions.push(Action::WriteInfo {
                        offset: start,
                        raw: Box::new(raw),
                        what: format!("arena 0: primary info block at {start:#x} restored from backup at {off:#x}"),
                    });
                    (start, major)
                }
                None => {
                    a.add(
                        Severity::Error,
                        None,
                        Some(namespace_offset),
                        "no-btt",
                        format!("no valid BTT info block or backup found: {reason}"),
                    );
                    return Ok(a);
                }
            }
        }
        Err(e) => return Err(e),
    };
    a.report.btt_offset = Some(start);

    let mut base = start;
    let mut first: Option<InfoBlock> = None;
    loop {
        let idx = a.report.arenas.len();
        let Some((info, raw)) = arena_info(s, &mut a, idx, start, base, ns_end, first_major)?
        else {
            break;
        };
        if first.is_none() {
            a.report.version = Some(info.version_string());
            a.report.external_lbasize = Some(info.external_lbasize);
            first = Some(info.clone());
        }
        let Some(geo) = check_arena_info(&mut a, idx, &info, base, ns_end, first.as_ref(), opts)
        else {
            break;
        };
        check_info2(s, &mut a, idx, &geo, &raw)?;
        check_arena_metadata(
            s,
            &mut a,
            ArenaRef {
                idx,
                info: &info,
                geo: &geo,
            },
            rewrite_log,
        )?;
        if info.nextoff == 0 {
            break;
        }
        if a.report.arenas.len() >= MAX_ARENAS {
            a.add(
                Severity::Error,
                Some(idx),
                Some(base),
                "too-many-arenas",
                format!("more than {MAX_ARENAS} arenas chained; stopping"),
            );
            break;
        }
        base += info.nextoff;
    }
    a.summarize_overflow();
    Ok(a)
}

/// Read arena `idx`'s info block at `base`, falling back to its backup.
fn arena_info<S: Storage + ?Sized>(
    s: &S,
    a: &mut Analysis,
    idx: usize,
    start: u64,
    base: u64,
    ns_end: u64,
    major: u16,
) -> Result<Option<(InfoBlock, [u8; 4096])>> {
    match read_info(s, base) {
        Ok(x) => Ok(Some(x)),
        Err(BttError::InvalidInfo { reason, .. }) => {
            match find_backup(s, start, base, ns_end, Some(major))? {
                // Arena 0's restore was already planned when the BTT was located.
                Some((_, info, raw)) if idx == 0 => Ok(Some((info, raw))),
                Some((off, info, raw)) => {
                    a.add(
                        Severity::Repairable,
                        Some(idx),
                        Some(base),
                        "info-primary-invalid",
                        format!("info block is invalid ({reason}); a valid backup is at {off:#x}"),
                    );
                    a.actions.push(Action::WriteInfo {
                        offset: base,
                        raw: Box::new(raw),
                        what: format!("arena {idx}: primary info block at {base:#x} restored from backup at {off:#x}"),
                    });
                    Ok(Some((info, raw)))
                }
                None => {
                    a.add(
                        Severity::Error,
                        Some(idx),
                        Some(base),
                        "info-invalid",
                        format!("info block is invalid ({reason}) and no valid backup was found"),
                    );
                    Ok(None)
                }
            }
        }
        Err(BttError::OutOfBounds { .. }) => {
            a.add(
                Severity::Error,
                Some(idx),
                Some(base),
                "info-out-of-bounds",
                "the info block lies beyond the end of the storage".into(),
            );
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Field checks on an arena's info block; returns its geometry when usable.
fn check_arena_info(
    a: &mut Analysis,
    idx: usize,
    info: &InfoBlock,
    base: u64,
    ns_end: u64,
    first: Option<&InfoBlock>,
    opts: &CheckOptions,
) -> Option<Geometry> {
    let geo = match layout::validate(info, base, ns_end) {
        Ok(g) => g,
        Err(reason) => {
            a.add(
                Severity::Error,
                Some(idx),
                Some(base),
                "info-geometry",
                format!("info block fields are inconsistent: {reason}"),
            );
            return None;
        }
    };
    a.report.arenas.push(ArenaSummary {
        index: idx,
        offset: base,
        external_nlba: info.external_nlba,
        internal_nlba: info.internal_nlba,
        ..ArenaSummary::default()
    });
    if let Some(f) = first {
        if idx > 0
            && (f.version_major != info.version_major
                || f.version_minor != info.version_minor
                || f.external_lbasize != info.external_lbasize)
        {
            a.add(
                Severity::Error,
                Some(idx),
                Some(base),
                "arena-mismatch",
                format!(
                    "version {} / sector size {} differ from arena 0's {} / {}",
                    info.version_string(),
                    info.external_lbasize,
                    f.version_string(),
                    f.external_lbasize
                ),
            );
        }
    }
    if !matches!((info.version_major, info.version_minor), (1, 1) | (2, 0)) {
        a.add(
            Severity::Info,
            Some(idx),
            Some(base),
            "version",
            format!("version {} is neither 1.1 nor 2.0", info.version_string()),
        );
    }
    if info.has_error_flag() {
        a.add(
            Severity::Error,
            Some(idx),
            Some(base),
            "info-error-flag",
            "the info block's ERROR flag is set: the kernel keeps this arena read-only".into(),
        );
    }
    if let Some(want) = opts.parent_uuid {
        if !info.parent_uuid.is_nil() && info.parent_uuid != want {
            a.add(
                Severity::Error,
                Some(idx),
                Some(base),
                "parent-uuid",
                format!(
                    "parent_uuid {} is not the namespace uuid {want}: the kernel will not attach it",
                    info.parent_uuid
                ),
            );
        }
    }
    if !info.padding_zero {
        a.add(
            Severity::Info,
            Some(idx),
            Some(base),
            "info-padding",
            "reserved bytes of the info block are not zero".into(),
        );
    }
    Some(geo)
}

/// The backup info block must be byte-identical to the primary.
fn check_info2<S: Storage + ?Sized>(
    s: &S,
    a: &mut Analysis,
    idx: usize,
    geo: &Geometry,
    primary: &[u8; 4096],
) -> Result<()> {
    let mut raw = [0u8; INFO_SIZE as usize];
    io::read_exact(s, geo.info2, &mut raw)?;
    if raw != *primary {
        let why = match InfoBlock::verify(&raw) {
            Ok(_) => "differs from the primary".to_string(),
            Err(r) => format!("is invalid ({r})"),
        };
        a.add(
            Severity::Repairable,
            Some(idx),
            Some(geo.info2),
            "info2-mismatch",
            format!("backup info block {why}"),
        );
        a.actions.push(Action::WriteInfo {
            offset: geo.info2,
            raw: Box::new(*primary),
            what: format!(
                "arena {idx}: backup info block at {:#x} rewritten from the primary",
                geo.info2
            ),
        });
    }
    Ok(())
}

struct Bitmap {
    words: Vec<u64>,
}

impl Bitmap {
    fn new(bits: u32) -> Bitmap {
        Bitmap {
            words: vec![0; (bits as usize).div_ceil(64)],
        }
    }
    /// Set a bit; returns whether it was already set.
    fn test_and_set(&mut self, bit: u32) -> bool {
        let (w, b) = ((bit / 64) as usize, bit % 64);
        let old = self.words[w] & (1 << b) != 0;
        self.words[w] |= 1 << b;
        old
    }
    fn get(&self, bit: u32) -> bool {
        self.words[(bit / 64) as usize] & (1 << (bit % 64)) != 0
    }
}

/// The arena a metadata check looks at.
#[derive(Clone, Copy)]
struct ArenaRef<'a> {
    idx: usize,
    info: &'a InfoBlock,
    geo: &'a Geometry,
}

/// Flog, map and block ownership checks of one arena, one invariant at a time.
fn check_arena_metadata<S: Storage + ?Sized>(
    s: &S,
    a: &mut Analysis,
    arena: ArenaRef<'_>,
    rewrite_log: bool,
) -> Result<()> {
    let lanes = check_flog(s, a, arena, rewrite_log)?;
    let rolled = check_unfinished_writes(s, a, arena, &lanes)?;
    let owned = check_map(s, a, arena, &rolled)?;
    check_free_blocks(a, arena, &lanes, owned);
    Ok(())
}

/// The flog's lanes as the checker sees them: `None` when the slot layout cannot be deduced,
/// else one entry per lane, `None` for a lane that is unusable.
type CheckedLanes = Option<Vec<Option<Lane>>>;

/// Invariant: the flog has one of the kernel's two slot layouts, and every lane holds a
/// valid pair of sequence numbers whose current entry lies inside the arena.
fn check_flog<S: Storage + ?Sized>(
    s: &S,
    a: &mut Analysis,
    ArenaRef { idx, info, geo }: ArenaRef<'_>,
    rewrite_log: bool,
) -> Result<CheckedLanes> {
    let groups = flog::read_groups(s, geo, info.nfree)?;
    let indices: LogIndices = match flog::detect_indices(&groups) {
        Ok(i) => i,
        Err(reason) => {
            a.add(
                Severity::Error,
                Some(idx),
                Some(geo.log),
                "flog-layout",
                format!("flog slot layout cannot be deduced: {reason}"),
            );
            return Ok(None);
        }
    };
    if let Some(summary) = a.report.arenas.last_mut() {
        summary.log_indices = Some(indices);
    }
    if indices == [0, 2] {
        a.add(
            Severity::Info,
            Some(idx),
            Some(geo.log),
            "flog-old-layout",
            "flog uses the pre-4.15 (0,2) slot layout; `repair --rewrite-log` converts it".into(),
        );
    }
    let mut lanes: Vec<Option<Lane>> = vec![None; groups.len()];
    for (lane, g) in groups.iter().enumerate() {
        let off = geo.flog_group(lane as u32);
        let l = match Lane::from_group(g, indices) {
            Ok(l) => l,
            Err(reason) => {
                a.add(
                    Severity::Error,
                    Some(idx),
                    Some(off),
                    "flog-seq",
                    format!("lane {lane}: {reason}"),
                );
                continue;
            }
        };
        if let Err(reason) = l.check_bounds(info.external_nlba, info.internal_nlba) {
            a.add(
                Severity::Error,
                Some(idx),
                Some(off),
                "flog-out-of-range",
                format!("lane {lane}: {reason}"),
            );
            continue;
        }
        let cur = l.current_entry();
        let flags = (cur.old_map & !(MAP_LBA_MASK | MAP_ERR_MASK)) | (cur.new_map & !MAP_LBA_MASK);
        if flags != 0 {
            a.add(
                Severity::Info,
                Some(idx),
                Some(off),
                "flog-flag-bits",
                format!("lane {lane}: map flag bits in the flog entry (written by PMDK or another OS); ignored as the kernel does"),
            );
        }
        lanes[lane] = Some(l);
    }
    if indices == [0, 2] && rewrite_log && lanes.iter().all(Option::is_some) {
        for (lane, l) in lanes.iter().enumerate() {
            if let Some(l) = l {
                a.actions.push(Action::RewriteLane {
                    geo: geo.clone(),
                    lane: lane as u32,
                    current: l.current_entry(),
                });
            }
        }
    }
    Ok(Some(lanes))
}

/// Invariant: every lane's last map update is in the map. Replays the kernel's load-time
/// roll-forward lane by lane and returns the map entries it would change (premap -> block).
fn check_unfinished_writes<S: Storage + ?Sized>(
    s: &S,
    a: &mut Analysis,
    ArenaRef { idx, geo, .. }: ArenaRef<'_>,
    lanes: &CheckedLanes,
) -> Result<BTreeMap<u32, u32>> {
    let mut rolled: BTreeMap<u32, u32> = BTreeMap::new();
    let mut unfinished = 0u32;
    for (lane, l) in lanes.iter().flatten().enumerate() {
        let Some(l) = l else { continue };
        let lba = l.current_entry().lba;
        let mapped = match rolled.get(&lba) {
            Some(&m) => m,
            None => map::read_entry(s, geo, lba)?.postmap(lba),
        };
        let Some(cur) = l.unfinished_update(mapped) else {
            continue;
        };
        unfinished += 1;
        a.add(
            Severity::Repairable,
            Some(idx),
            Some(geo.map_entry(lba)),
            "unfinished-write",
            format!(
                "lane {lane}: write of premap {lba} to block {} is in the flog but not in the map (still block {})",
                cur.new_block(),
                cur.old_block()
            ),
        );
        a.actions.push(Action::RollForward {
            geo: geo.clone(),
            premap: lba,
            block: cur.new_block(),
            what: format!(
                "arena {idx}: map entry {lba} set to block {} (interrupted write completed)",
                cur.new_block()
            ),
        });
        rolled.insert(lba, cur.new_block());
    }
    if let Some(summary) = a.report.arenas.last_mut() {
        summary.unfinished_writes = unfinished;
    }
    Ok(rolled)
}

/// Invariant: every map entry (after the roll-forwards in `rolled`) points inside the data
/// area, and no two entries share a block. Counts the entry kinds for the summary and
/// returns the blocks the map owns.
fn check_map<S: Storage + ?Sized>(
    s: &S,
    a: &mut Analysis,
    ArenaRef { idx, info, geo }: ArenaRef<'_>,
    rolled: &BTreeMap<u32, u32>,
) -> Result<Bitmap> {
    let ext = info.external_nlba;
    let int = info.internal_nlba;
    let mut owned = Bitmap::new(int);
    let mut counts = [0u64; 4];
    const CHUNK: u32 = 1 << 16;
    let mut buf = vec![0u8; CHUNK as usize * 4];
    let mut premap = 0u32;
    while premap < ext {
        let n = CHUNK.min(ext - premap);
        let bytes = &mut buf[..n as usize * 4];
        io::read_exact(s, geo.map_entry(premap), bytes)?;
        for (i, w) in bytes.chunks_exact(4).enumerate() {
            let p = premap + i as u32;
            let mut word = [0u8; 4];
            word.copy_from_slice(w);
            let entry = MapEntry {
                raw: u32::from_le_bytes(word),
            };
            counts[match entry.state() {
                MapState::Initial => 0,
                MapState::Mapped => 1,
                MapState::Zero => 2,
                MapState::Error => 3,
            }] += 1;
            let post = rolled.get(&p).copied().unwrap_or(entry.postmap(p));
            if post >= int {
                a.add(
                    Severity::Error,
                    Some(idx),
                    Some(geo.map_entry(p)),
                    "map-out-of-range",
                    format!("map entry {p} = {:#010x} points to block {post}, beyond internal_nlba {int}", entry.raw),
                );
                continue;
            }
            if owned.test_and_set(post) {
                a.add(
                    Severity::Error,
                    Some(idx),
                    Some(geo.map_entry(p)),
                    "map-duplicate",
                    format!(
                        "map entry {p} points to block {post}, which an earlier entry already uses"
                    ),
                );
            }
        }
        premap += n;
    }
    if let Some(summary) = a.report.arenas.last_mut() {
        summary.map_initial = counts[0];
        summary.map_mapped = counts[1];
        summary.map_zero = counts[2];
        summary.map_error = counts[3];
    }
    Ok(owned)
}

/// Invariant: every block of the data area is owned exactly once, by the map (`owned`) or
/// as a lane's free block. Skipped when some lane is unusable, since its free block is then
/// unknown.
fn check_free_blocks(
    a: &mut Analysis,
    ArenaRef { idx, info, geo }: ArenaRef<'_>,
    lanes: &CheckedLanes,
    mut owned: Bitmap,
) {
    let Some(lanes) = lanes.as_ref().filter(|l| l.iter().all(Option::is_some)) else {
        a.add(
            Severity::Info,
            Some(idx),
            None,
            "ownership-skipped",
            "free-block ownership not checked because some lanes are unusable".into(),
        );
        return;
    };
    for (lane, l) in lanes.iter().enumerate() {
        let Some(l) = l else { continue };
        let free = l.current_entry().old_block();
        if owned.test_and_set(free) {
            a.add(
                Severity::Error,
                Some(idx),
                Some(geo.flog_group(lane as u32)),
                "free-block-in-use",
                format!("lane {lane}: free block {free} is also used by the map or another lane"),
            );
        }
    }
    let mut missing = 0u64;
    let mut first_missing = Vec::new();
    for b in 0..info.internal_nlba {
        if !owned.get(b) {
            missing += 1;
            if first_missing.len() < 8 {
                first_missing.push(b);
            }
        }
    }
    if missing > 0 {
        a.add(
            Severity::Error,
            Some(idx),
            Some(geo.data),
            "block-unreferenced",
            format!("{missing} block(s) are referenced by neither the map nor a free list (first: {first_missing:?})"),
        );
    }
}

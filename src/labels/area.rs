//! A validated label area: the current index block and the active labels, as the kernel
//! sees them.

use std::fmt;

use super::label::label_checksum;
use super::{best_seq, Geometry, IndexBlock, IndexError, Label, LabelError, Version, SEQ_MASK};

/// A label area whose index blocks have been validated; borrows the buffer.
#[derive(Debug)]
pub struct LabelArea<'a> {
    buf: &'a [u8],
    geo: Geometry,
    index: [Result<IndexBlock, IndexError>; 2],
    current: usize,
}

/// One attempt at validating both index blocks for one label size.
type Attempt = (Geometry, [Result<IndexBlock, IndexError>; 2]);

fn attempt(buf: &[u8], config_size: usize, label_size: usize) -> Result<Attempt, LabelError> {
    let geo = Geometry::new(config_size, label_size)?;
    let index = [0, 1].map(|i| IndexBlock::check(buf, i, &geo));
    Ok((geo, index))
}

/// Which block is current: the only valid one, or of two valid ones the one with the
/// newer sequence number (index 1 on a tie), as `__nd_label_validate()` decides.
fn select(index: &[Result<IndexBlock, IndexError>; 2]) -> Option<usize> {
    match index {
        [Ok(a), Ok(b)] => {
            if best_seq(a.seq, b.seq) == b.seq & SEQ_MASK {
                Some(1)
            } else {
                Some(0)
            }
        }
        [Ok(_), Err(_)] => Some(0),
        [Err(_), Ok(_)] => Some(1),
        [Err(_), Err(_)] => None,
    }
}

/// How far an attempt is from the label size the blocks were written for: the number of
/// blocks that declare another size.
fn label_size_misses(index: &[Result<IndexBlock, IndexError>; 2]) -> usize {
    index
        .iter()
        .filter(|r| matches!(r, Err(IndexError::LabelSize { .. })))
        .count()
}

/// Validates the index blocks for 128- then 256-byte labels, as the kernel and libndctl
/// probe; returns the first label size with a valid block, or every attempt.
fn probe(buf: &[u8], config_size: usize) -> Result<Attempt, Vec<Result<Attempt, LabelError>>> {
    let mut attempts = Vec::new();
    for label_size in [128, 256] {
        match attempt(buf, config_size, label_size) {
            Ok(a) if select(&a.1).is_some() => return Ok(a),
            other => attempts.push(other),
        }
    }
    Err(attempts)
}

/// The error for an area without a valid index: the attempt whose blocks come closest to
/// the tried label size (fewest label-size mismatches, 128 bytes on a tie).
fn no_valid_index(attempts: Vec<Result<Attempt, LabelError>>) -> LabelError {
    let mut best: Option<Attempt> = None;
    let mut first_err = None;
    for a in attempts {
        match a {
            Ok(a) => {
                let better = match &best {
                    None => true,
                    Some(b) => label_size_misses(&a.1) < label_size_misses(&b.1),
                };
                if better {
                    best = Some(a);
                }
            }
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    match best {
        Some((geo, [Err(index0), Err(index1)])) => LabelError::NoValidIndex {
            label_size: geo.label_size,
            index0,
            index1,
        },
        // Every attempt failed on the geometry (area too small or too large).
        _ => first_err.unwrap_or(LabelError::TooSmall {
            config_size: 0,
            label_size: 128,
        }),
    }
}

impl<'a> LabelArea<'a> {
    /// Validates `buf`, a whole label area (its length is the config size), as the kernel
    /// does when it enables a DIMM: the label size is the first of 128 and 256 for which an
    /// index block is valid, the current index is chosen by sequence number.
    pub fn parse(buf: &'a [u8]) -> Result<LabelArea<'a>, LabelError> {
        let (geo, index) = probe(buf, buf.len()).map_err(no_valid_index)?;
        let current = select(&index).expect("probe returns an attempt with a valid block");
        Ok(LabelArea {
            buf,
            geo,
            index,
            current,
        })
    }

    /// The area's bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// How the area is divided for its label size.
    pub fn geometry(&self) -> Geometry {
        self.geo
    }

    /// Label format version, from the label size the index blocks validated with.
    pub fn version(&self) -> Version {
        self.geo.version()
    }

    /// Label size in bytes.
    pub fn label_size(&self) -> usize {
        self.geo.label_size
    }

    /// Slots the area has for its label size (`nvdimm_num_label_slots()`, what
    /// `ndctl_dimm_validate_labels()` returns). The current index's own `nslot` may be
    /// smaller.
    pub fn nslot(&self) -> u32 {
        self.geo.nslot
    }

    /// Number (0 or 1) of the current index block.
    pub fn current(&self) -> usize {
        self.current
    }

    /// Number of the block the next update would write.
    pub fn next(&self) -> usize {
        1 - self.current
    }

    /// The current index block.
    pub fn current_index(&self) -> &IndexBlock {
        match &self.index[self.current] {
            Ok(b) => b,
            Err(_) => unreachable!("the current index block is valid by construction"),
        }
    }

    /// Index block `i` (0 or 1), or why it is invalid; `None` for another `i`.
    pub fn index(&self, i: usize) -> Option<Result<&IndexBlock, &IndexError>> {
        self.index.get(i).map(Result::as_ref)
    }

    /// The label stored in slot `slot`, whether the slot is in use or not.
    pub fn label(&self, slot: u32) -> Result<Label, LabelError> {
        let range = self.slot_range(slot)?;
        Label::parse(&self.buf[range])
    }

    fn slot_range(&self, slot: u32) -> Result<std::ops::Range<usize>, LabelError> {
        let fit = (self.buf.len() - self.geo.label_base()) / self.geo.label_size;
        if slot as usize >= fit {
            return Err(LabelError::SlotOutOfRange {
                slot: u64::from(slot),
                nslot: fit as u32,
            });
        }
        let start = self.geo.label_base() + slot as usize * self.geo.label_size;
        Ok(start..start + self.geo.label_size)
    }

    /// Why an in-use slot's label would be ignored by the kernel, or `None` if it is valid:
    /// it must name its own slot and, in v1.2, carry a good checksum.
    pub fn slot_problem(&self, slot: u32) -> Option<LabelProblem> {
        let range = match self.slot_range(slot) {
            Ok(r) => r,
            Err(_) => return Some(LabelProblem::OutOfRange { slot }),
        };
        let bytes = &self.buf[range];
        let found = u32::from_le_bytes([bytes[120], bytes[121], bytes[122], bytes[123]]);
        if found != slot {
            return Some(LabelProblem::SlotMismatch { slot, found });
        }
        if self.geo.label_size >= 256 {
            let stored = u64::from_le_bytes(super::le(bytes, 248));
            let computed = label_checksum(bytes);
            if stored != computed {
                return Some(LabelProblem::Checksum {
                    slot,
                    stored,
                    computed,
                });
            }
        }
        None
    }

    /// The active labels: slots marked in use in the current index whose label is valid, in
    /// slot order (the kernel's `nd_label_active()`).
    pub fn active_labels(&self) -> ActiveLabels<'_, 'a> {
        ActiveLabels {
            area: self,
            slot: 0,
        }
    }

    /// In-use slots of the current index whose label the kernel ignores.
    pub fn label_problems(&self) -> Vec<LabelProblem> {
        self.current_index()
            .used_slots()
            .filter_map(|s| self.slot_problem(s))
            .collect()
    }

    /// Free slots in the current index.
    pub fn nfree(&self) -> u32 {
        self.current_index().nfree()
    }
}

/// Iterator over the active labels of a [`LabelArea`], yielding `(slot, label)`.
#[derive(Debug)]
pub struct ActiveLabels<'b, 'a> {
    area: &'b LabelArea<'a>,
    slot: u32,
}

impl Iterator for ActiveLabels<'_, '_> {
    type Item = (u32, Label);

    fn next(&mut self) -> Option<(u32, Label)> {
        let idx = self.area.current_index();
        while self.slot < idx.nslot {
            let slot = self.slot;
            self.slot += 1;
            if idx.is_free(slot) || self.area.slot_problem(slot).is_some() {
                continue;
            }
            if let Ok(label) = self.area.label(slot) {
                return Some((slot, label));
            }
        }
        None
    }
}

/// Something wrong with an in-use label slot.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LabelProblem {
    /// The label in the slot names another slot (stale or misplaced).
    SlotMismatch {
        /// Slot examined.
        slot: u32,
        /// Slot number the label holds.
        found: u32,
    },
    /// A v1.2 label whose checksum does not match.
    Checksum {
        /// Slot examined.
        slot: u32,
        /// Checksum stored in the label.
        stored: u64,
        /// Checksum computed.
        computed: u64,
    },
    /// The slot lies past the end of the area.
    OutOfRange {
        /// Slot examined.
        slot: u32,
    },
}

impl fmt::Display for LabelProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabelProblem::SlotMismatch { slot, found } => {
                write!(f, "slot {slot}: label claims slot {found}")
            }
            LabelProblem::Checksum {
                slot,
                stored,
                computed,
            } => write!(
                f,
                "slot {slot}: checksum {stored:#018x} does not match the computed {computed:#018x}"
            ),
            LabelProblem::OutOfRange { slot } => {
                write!(f, "slot {slot}: beyond the end of the label area")
            }
        }
    }
}

/// What [`validate`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validation {
    /// Size of the area.
    pub config_size: usize,
    /// Label size the findings below are for (the valid one, or the closest attempt);
    /// `None` when the area is too small or too large for any.
    pub label_size: Option<usize>,
    /// Problem of each index block, `None` for a valid block.
    pub index: [Option<IndexError>; 2],
    /// The current index block, if any is valid.
    pub current: Option<usize>,
    /// In-use slots of the current index whose label is ignored.
    pub labels: Vec<LabelProblem>,
    /// Why the area is unusable, if it is.
    pub error: Option<LabelError>,
    nslot: Option<u32>,
}

impl Validation {
    /// Whether the kernel would accept the index (a current index block exists).
    pub fn is_valid(&self) -> bool {
        self.current.is_some()
    }

    /// Valid, both index blocks good, and no ignored in-use label.
    pub fn is_clean(&self) -> bool {
        self.is_valid() && self.index.iter().all(Option::is_none) && self.labels.is_empty()
    }

    /// The label size libndctl keeps for the DIMM after `ndctl_dimm_validate_labels()` (and
    /// so what `ndctl_dimm_sizeof_namespace_label()` returns next): the size that validated,
    /// or 256, the last size it tried, when none did.
    pub fn libndctl_label_size(&self) -> usize {
        match (self.current, self.label_size) {
            (Some(_), Some(ls)) => ls,
            _ => 256,
        }
    }

    /// libndctl's `ndctl_dimm_validate_labels()`: the number of slots, or the error.
    pub fn result(&self) -> Result<u32, LabelError> {
        match (self.nslot, &self.error) {
            (Some(n), _) => Ok(n),
            (None, Some(e)) => Err(e.clone()),
            (None, None) => Err(LabelError::TooSmall {
                config_size: self.config_size,
                label_size: 128,
            }),
        }
    }

    /// One line per finding; empty for a clean area.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(e) = &self.error {
            out.push(e.to_string());
            return out;
        }
        for (i, p) in self.index.iter().enumerate() {
            if let Some(p) = p {
                out.push(format!("index{i}: {p}"));
            }
        }
        out.extend(self.labels.iter().map(ToString::to_string));
        out
    }
}

impl fmt::Display for Validation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.current, self.label_size) {
            (Some(c), Some(ls)) => write!(
                f,
                "valid {ls}-byte label area, current index {c}, {} slots",
                self.nslot.unwrap_or(0)
            )?,
            _ => write!(f, "invalid label area")?,
        }
        for p in self.problems() {
            write!(f, "; {p}")?;
        }
        Ok(())
    }
}

/// Validates only the index blocks of a `config_size`-byte area from `prefix`, its first
/// bytes (at least the two index blocks; what `ndctl_dimm_read_label_index()` reads), as
/// `ndctl_dimm_validate_labels()` does after that read. Labels are not examined.
pub fn validate_index(prefix: &[u8], config_size: usize) -> Validation {
    let unusable = |error: LabelError, label_size, index| Validation {
        config_size,
        label_size,
        index,
        current: None,
        labels: Vec::new(),
        error: Some(error),
        nslot: None,
    };
    match probe(prefix, config_size) {
        Ok((geo, index)) => Validation {
            config_size,
            label_size: Some(geo.label_size),
            current: select(&index),
            index: index.map(Result::err),
            labels: Vec::new(),
            error: None,
            nslot: Some(geo.nslot),
        },
        Err(attempts) => match no_valid_index(attempts) {
            LabelError::NoValidIndex {
                label_size,
                index0,
                index1,
            } => unusable(
                LabelError::NoValidIndex {
                    label_size,
                    index0: index0.clone(),
                    index1: index1.clone(),
                },
                Some(label_size),
                [Some(index0), Some(index1)],
            ),
            e => unusable(e, None, [None, None]),
        },
    }
}

/// Validates a whole label area and reports everything wrong with it: each index block's
/// first failing check, which block is current, and in-use slots whose label the kernel
/// would skip.
pub fn validate(buf: &[u8]) -> Validation {
    match LabelArea::parse(buf) {
        Ok(area) => Validation {
            config_size: buf.len(),
            label_size: Some(area.label_size()),
            index: area.index.clone().map(Result::err),
            current: Some(area.current()),
            labels: area.label_problems(),
            error: None,
            nslot: Some(area.nslot()),
        },
        Err(e) => {
            let (label_size, index) = match &e {
                LabelError::NoValidIndex {
                    label_size,
                    index0,
                    index1,
                } => (
                    Some(*label_size),
                    [Some(index0.clone()), Some(index1.clone())],
                ),
                _ => (None, [None, None]),
            };
            Validation {
                config_size: buf.len(),
                label_size,
                index,
                current: None,
                labels: Vec::new(),
                error: Some(e),
                nslot: None,
            }
        }
    }
}

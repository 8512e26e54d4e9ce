//! `ndctl read-labels -j` output, computed the way ndctl's `dump_json()` computes it.
//!
//! ndctl does not validate anything here: it reads the index headers at `0` and
//! `index_size`, and every label slot whose `slot` field equals its position, with the
//! label size from [`super::probe_label_size`]. Numbers keep the C types ndctl hands to
//! json-c (`int` for seq/nslot/slot, signed 64-bit for rawsize, unsigned 64-bit for
//! flags/isetcookie/lbasize/dpa), so hostile values print as ndctl prints them.

use serde_json::{json, Map, Value};

use super::index::c_string;
use super::{probe_label_size, sizeof_namespace_index, IndexBlock, Label, LabelError};

fn index_json(h: &IndexBlock) -> Value {
    json!({
        "signature": c_string(&h.signature[..15]),
        "major": h.major,
        "minor": h.minor,
        // C's `1 << (7 + labelsize)` on an int, whose shift count x86 takes mod 32.
        "labelsize": 1i32.wrapping_shl(7 + u32::from(h.labelsize)),
        "seq": h.seq as i32,
        "nslot": h.nslot as i32,
    })
}

fn label_json(l: &Label) -> Value {
    let mut m = Map::new();
    m.insert("uuid".into(), l.uuid.hyphenated().to_string().into());
    m.insert("name".into(), l.name().into());
    m.insert("slot".into(), (l.slot as i32).into());
    m.insert("position".into(), l.position.into());
    m.insert("nlabel".into(), l.nlabel.into());
    m.insert("flags".into(), u64::from(l.flags).into());
    m.insert("isetcookie".into(), l.isetcookie.into());
    m.insert("lbasize".into(), l.lbasize.into());
    m.insert("dpa".into(), l.dpa.into());
    m.insert("rawsize".into(), (l.rawsize as i64).into());
    if let Some(x) = &l.v12 {
        m.insert(
            "type_guid".into(),
            x.type_guid.hyphenated().to_string().into(),
        );
        m.insert(
            "abstraction_guid".into(),
            x.abstraction_guid.hyphenated().to_string().into(),
        );
    }
    Value::Object(m)
}

fn dump(
    devname: &str,
    data: &[u8],
    config_size: usize,
    label_size: usize,
    index_only: bool,
) -> Result<Value, LabelError> {
    let isz = sizeof_namespace_index(config_size, label_size)?;
    let size = data.len();
    let mut index = Vec::new();
    for offset in [0, isz] {
        match data.get(offset..) {
            Some(rest) if rest.len() >= super::INDEX_HEADER_SIZE => {
                index.push(index_json(&IndexBlock::parse_header(rest)?));
            }
            _ => break,
        }
    }
    if index.is_empty() {
        return Err(LabelError::Empty { what: "index" });
    }
    let mut out = Map::new();
    out.insert("dev".into(), devname.into());
    out.insert("index".into(), Value::Array(index));
    if index_only {
        return Ok(Value::Object(out));
    }
    let mut labels = Vec::new();
    let mut offset = 2 * isz;
    let mut slot: u32 = 0;
    while offset < size && size - offset >= label_size {
        let label = Label::parse(&data[offset..offset + label_size])?;
        if label.slot == slot {
            labels.push(label_json(&label));
        }
        offset += label_size;
        slot = slot.wrapping_add(1);
    }
    if labels.is_empty() {
        return Err(LabelError::Empty { what: "label" });
    }
    out.insert("label".into(), Value::Array(labels));
    Ok(Value::Object(out))
}

/// The object `ndctl read-labels -j <devname>` prints for a DIMM whose whole label area is
/// `area` (one element of its top-level array).
pub fn read_labels_json(devname: &str, area: &[u8]) -> Result<Value, LabelError> {
    dump(devname, area, area.len(), probe_label_size(area), false)
}

/// The object `ndctl read-labels -j -I <devname>` prints: `index_area` is what
/// `ndctl_dimm_read_label_index()` reads (the first two index blocks' worth of bytes,
/// sized for 128-byte labels) of a `config_size`-byte area.
pub fn read_label_index_json(
    devname: &str,
    index_area: &[u8],
    config_size: usize,
) -> Result<Value, LabelError> {
    dump(devname, index_area, config_size, 128, true)
}

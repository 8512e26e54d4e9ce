//! The label area of a DIMM as libndctl keeps it after reading it (`struct nvdimm_data`):
//! a completed config read, whose image the offline [`crate::labels`] code interprets, and
//! the label size once known. Index blocks are written back through config writes derived
//! from that read, so the image stays what the DIMM holds.

use std::sync::Arc;

use super::{Command, Kind};
use crate::error::{Error, Result};
use crate::labels::{self, Version};

/// A DIMM's label area read through the config commands, with libndctl's label-size
/// memory (`ndctl_dimm_sizeof_namespace_label` caches what it probes or validates).
#[derive(Debug)]
pub struct DimmLabels {
    read: Command,
    label_size: Option<usize>,
}

impl DimmLabels {
    /// State over a completed config read (the whole area, or the index blocks of
    /// [`crate::Dimm::read_label_index`], which libndctl sizes with 128-byte labels:
    /// pass `Some(128)` then).
    pub fn new(read: Command, label_size: Option<usize>) -> Result<DimmLabels> {
        read.require(Kind::CfgRead, "cfg_read")?;
        Ok(DimmLabels { read, label_size })
    }

    /// The read the state is built on.
    pub fn read(&self) -> &Command {
        &self.read
    }

    /// Size of the whole config area.
    pub fn config_size(&self) -> usize {
        self.read.xfer.as_ref().map_or(0, |t| {
            usize::try_from(t.config_size()).unwrap_or(usize::MAX)
        })
    }

    fn image(&self) -> Vec<u8> {
        self.read
            .xfer
            .as_ref()
            .map(|t| t.image_copy())
            .unwrap_or_default()
    }

    /// The label size (`ndctl_dimm_sizeof_namespace_label`): the one validated or
    /// initialised last, else 256 when more of the two index headers read say v1.2 than
    /// v1.1, else 128; remembered once decided.
    pub fn sizeof_namespace_label(&mut self) -> usize {
        if let Some(ls) = self.label_size {
            return ls;
        }
        let ls = labels::probe_label_size(&self.read_bytes_from_start());
        self.label_size = Some(ls);
        ls
    }

    /// The bytes of the extent from the start of the area (what libndctl's probe can read).
    fn read_bytes_from_start(&self) -> Vec<u8> {
        let (off, len) = self.read.cfg_extent().unwrap_or((0, 0));
        if off != 0 {
            return Vec::new();
        }
        let mut v = self.image();
        v.truncate(usize::try_from(len).unwrap_or(usize::MAX));
        v
    }

    /// Size of one index block for the current label size
    /// (`ndctl_dimm_sizeof_namespace_index`).
    pub fn sizeof_namespace_index(&mut self) -> Result<usize> {
        let ls = self.sizeof_namespace_label();
        Ok(labels::sizeof_namespace_index(self.config_size(), ls)?)
    }

    /// Validates the index blocks (`ndctl_dimm_validate_labels`): the number of label
    /// slots. Remembers the label size that validated (256 when none did, as libndctl).
    pub fn validate(&mut self) -> Result<u32> {
        let v = labels::validate_index(&self.image(), self.config_size());
        self.label_size = Some(v.libndctl_label_size());
        Ok(v.result()?)
    }

    /// Writes two fresh index blocks of `version` (index 0 with sequence 3, index 1 with
    /// sequence 2, every slot free) through config writes over the read's extent
    /// (`ndctl_dimm_init_labels`). Returns the number of label slots.
    pub fn init(&mut self, version: Version) -> Result<u32> {
        let blocks = labels::init_index_blocks(&self.image(), self.config_size(), version)?;
        self.label_size = Some(version.label_size());
        // The regions this DIMM belongs to may change type (label-less vs labelled) the
        // next time they are enabled, as libndctl's init_labels flags them.
        if let Some(dimm) = self.read.target().dimm() {
            for region in dimm.bus().regions().unwrap_or_default() {
                let member = region
                    .dimms()
                    .is_ok_and(|v| v.iter().any(|d| Arc::ptr_eq(d, dimm)));
                if member {
                    region.flag_type_refresh();
                }
            }
        }
        for (offset, bytes) in blocks {
            let mut write = self.read.cfg_write()?;
            let at = u32::try_from(offset)
                .map_err(|_| Error::invalid("namespace label area", "index offset too large"))?;
            write.cfg_write_data(&bytes, at)?;
            write.submit_xlat()?;
        }
        Ok(labels::num_label_slots(self.config_size(), version)?)
    }
}

impl Command {
    /// Another handle on a config read's results sharing its image (so that writes made
    /// through either are seen by both), as libndctl shares one read between the caller
    /// and the DIMM's label state.
    pub fn share(&self) -> Result<Command> {
        if self.kind != Kind::CfgRead {
            return Err(Error::invalid(
                self.target.name(),
                "only a cfg_read can be shared",
            ));
        }
        Ok(Command {
            target: self.target.clone(),
            kind: self.kind,
            buf: self.buf.clone(),
            status: self.status,
            call_status_at: self.call_status_at,
            xfer: self.xfer.clone(),
        })
    }
}

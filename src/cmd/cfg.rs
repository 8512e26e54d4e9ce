//! The DIMM's config (label storage) area: `ND_CMD_GET_CONFIG_SIZE`,
//! `ND_CMD_GET_CONFIG_DATA` and `ND_CMD_SET_CONFIG_DATA`, data moved in `max_xfer`
//! chunks inside one submission; and the vendor pass-through `ND_CMD_VENDOR`.

use crate::dimm::DimmCmd;
use std::fs::File;
use std::sync::{Arc, Mutex, MutexGuard};

use super::abi;
use super::{unsupported, Command, Kind, Target, MAX_BUFFER};
use crate::dimm::Dimm;
use crate::error::{Error, Result};

/// A chunked transfer between the config area and an image of it shared by a read and
/// the writes derived from it (so that a write updates what the read shows, as in
/// libndctl).
#[derive(Debug, Clone)]
pub(crate) struct Transfer {
    config_size: u32,
    max_xfer: u32,
    init_offset: u32,
    total: u32,
    image: Arc<Mutex<Vec<u8>>>,
    write: bool,
}

impl Transfer {
    /// A copy of the config-area image.
    pub(super) fn image_copy(&self) -> Vec<u8> {
        lock(&self.image).clone()
    }

    /// Size of the whole config area.
    pub(super) fn config_size(&self) -> u32 {
        self.config_size
    }
}

#[cfg(test)]
impl Transfer {
    pub(super) fn image_for_tests(&self) -> MutexGuard<'_, Vec<u8>> {
        lock(&self.image)
    }
}

fn lock(m: &Mutex<Vec<u8>>) -> MutexGuard<'_, Vec<u8>> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// `min(a, b)` for the u32 sizes of the transfer.
fn min32(a: u32, b: u32) -> u32 {
    a.min(b)
}

fn us(v: u32) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

impl Dimm {
    /// `ND_CMD_GET_CONFIG_SIZE` (`ndctl_dimm_cmd_new_cfg_size`).
    pub fn cfg_size(self: &Arc<Self>) -> Result<Command> {
        if !self.is_cmd_supported(DimmCmd::GetConfigSize) {
            return Err(unsupported(self.devname(), "get_size"));
        }
        Command::new(
            Target::Dimm(Arc::clone(self)),
            Kind::CfgSize,
            abi::CONFIG_SIZE_SIZE,
        )
    }

    /// `ND_CMD_VENDOR` with `opcode`, room for `input` bytes in and `output` bytes out
    /// (`ndctl_dimm_cmd_new_vendor_specific`).
    pub fn vendor_cmd(
        self: &Arc<Self>,
        opcode: u32,
        input: usize,
        output: usize,
    ) -> Result<Command> {
        if !self.is_cmd_supported(DimmCmd::Vendor) {
            return Err(unsupported(self.devname(), "vendor"));
        }
        let (Ok(i), Ok(o)) = (u32::try_from(input), u32::try_from(output)) else {
            return Err(Error::invalid(
                self.devname(),
                "vendor payload larger than 4 GiB",
            ));
        };
        if input.saturating_add(output) > MAX_BUFFER {
            return Err(Error::invalid(
                self.devname(),
                format!("vendor payload of {input}+{output} bytes"),
            ));
        }
        let len = abi::VENDOR_HDR + input + abi::VENDOR_TAIL + output;
        let mut cmd = Command::new(Target::Dimm(Arc::clone(self)), Kind::Vendor, len)?;
        abi::put_u32(&mut cmd.buf, abi::VENDOR_OPCODE, opcode);
        abi::put_u32(&mut cmd.buf, abi::VENDOR_IN_LENGTH, i);
        abi::put_u32(&mut cmd.buf, abi::VENDOR_HDR + input + 4, o);
        Ok(cmd)
    }

    /// Reads `len` bytes at `offset` of the config area (the whole area for `len` 0):
    /// config size, then a chunked read, each submitted with the family's firmware-status
    /// translation (`ndctl_dimm_read_label_extent`). Returns the completed read.
    pub fn read_label_extent(self: &Arc<Self>, len: u32, offset: u32) -> Result<Command> {
        self.bus().wait_probe()?;
        let mut size = self.cfg_size()?;
        size.submit_xlat()?;
        let mut read = size.cfg_read()?;
        let len = if len == 0 {
            size.cfg_size_get_size().unwrap_or(0)
        } else {
            len
        };
        read.cfg_set_extent(len, offset)?;
        read.submit_xlat()?;
        Ok(read)
    }

    /// The whole config area (`ndctl_dimm_read_labels`).
    pub fn read_labels(self: &Arc<Self>) -> Result<Command> {
        self.read_label_extent(0, 0)
    }

    /// The two namespace index blocks only, sized for the smallest (128-byte) labels,
    /// which gives the largest index blocks (`ndctl_dimm_read_label_index`).
    pub fn read_label_index(self: &Arc<Self>) -> Result<Command> {
        self.bus().wait_probe()?;
        let mut size = self.cfg_size()?;
        size.submit_xlat()?;
        let config_size = size.cfg_size_get_size().unwrap_or(0);
        let index = sizeof_namespace_index(config_size, 128).ok_or_else(|| {
            Error::invalid(
                self.devname(),
                format!("label area ({config_size}) too small to host (128 byte) labels"),
            )
        })?;
        let mut read = size.cfg_read()?;
        read.cfg_set_extent(index * 2, 0)?;
        read.submit_xlat()?;
        Ok(read)
    }

    /// Zeroes `len` bytes at `offset` of the config area (all of it for `len` 0), then
    /// re-enables an enabled DIMM so that the kernel drops its cached copy
    /// (`ndctl_dimm_zero_label_extent`).
    ///
    /// Each step fails as libndctl's does (the errno is what `Error::errno` gives): an
    /// unreadable area is [`Error::Invalid`] (EINVAL), an active region using the DIMM
    /// [`Error::Busy`], a DIMM without a config-write command an ENOTTY error on its
    /// `commands`, data that cannot be zeroed [`Error::Failed`] (ENXIO); the write and the
    /// re-enable fail with their own errors.
    pub fn zero_label_extent(self: &Arc<Self>, len: u32, offset: u32) -> Result<()> {
        let read = self.read_label_extent(len, offset).map_err(|e| {
            Error::invalid(self.devname(), format!("cannot read the label area: {e}"))
        })?;
        if self.is_active()? {
            return Err(Error::Busy {
                object: self.devname().to_string(),
                reason: "regions active, abort label write".into(),
            });
        }
        let mut write = read.cfg_write().map_err(|_| {
            let no_write = std::io::Error::from_raw_os_error(libc::ENOTTY);
            Error::io(self.device().attr_path("commands"), no_write)
        })?;
        write.cfg_write_zero().map_err(|e| Error::Failed {
            object: self.devname().to_string(),
            reason: format!("cannot zero the label area: {e}"),
        })?;
        write.submit_xlat()?;
        if !self.is_enabled()? {
            return Ok(());
        }
        self.disable()?;
        self.enable()
    }

    /// [`Dimm::zero_label_extent`] of the whole area (`ndctl_dimm_zero_labels`).
    pub fn zero_labels(self: &Arc<Self>) -> Result<()> {
        self.zero_label_extent(0, 0)
    }
}

/// Size of one namespace index block for a label area of `config_size` bytes holding
/// `label_size`-byte labels (UEFI 2.7: two index blocks, each 256-byte aligned, with a free
/// bitmap of one bit per label slot); `None` when not even two labels fit.
pub fn sizeof_namespace_index(config_size: u32, label_size: u32) -> Option<u32> {
    const ALIGN: u64 = 256;
    const INDEX_HDR: u64 = 72;
    let index_bytes = |nslot: u64| (INDEX_HDR + nslot.div_ceil(8)).div_ceil(ALIGN) * ALIGN;
    let (size, label) = (u64::from(config_size), u64::from(label_size));
    if label == 0 {
        return None;
    }
    let n = index_bytes(size / label) / ALIGN;
    let nslot = size.checked_sub(ALIGN * n * 2)? / label;
    let space = size - nslot * label;
    let both = index_bytes(nslot) * 2;
    (both <= space && nslot >= 2)
        .then(|| u32::try_from(both / 2).ok())
        .flatten()
}

impl Command {
    /// The config area size of a completed config-size command.
    pub fn cfg_size_get_size(&self) -> Option<u32> {
        self.completed(Kind::CfgSize)
            .then(|| self.u32_at(abi::CONFIG_SIZE_CONFIG_SIZE))
            .flatten()
    }

    /// `ND_CMD_GET_CONFIG_DATA` of the whole config area, from a completed config-size
    /// command (`ndctl_dimm_cmd_new_cfg_read`); narrow it with
    /// [`Command::cfg_set_extent`].
    pub fn cfg_read(&self) -> Result<Command> {
        self.require(Kind::CfgSize, "cfg_size")?;
        let dimm = match &self.target {
            Target::Dimm(d) => Arc::clone(d),
            Target::Bus(_) => return Err(Error::invalid(self.target.name(), "not a DIMM command")),
        };
        let config_size = self.u32_at(abi::CONFIG_SIZE_CONFIG_SIZE).unwrap_or(0);
        let max_xfer = self.u32_at(abi::CONFIG_SIZE_MAX_XFER).unwrap_or(0);
        if config_size == 0 || max_xfer == 0 || us(config_size) > MAX_BUFFER {
            return Err(Error::invalid(
                dimm.devname(),
                format!("invalid cfg_size: config size {config_size}, max_xfer {max_xfer}"),
            ));
        }
        if !dimm.is_cmd_supported(DimmCmd::GetConfigData) {
            return Err(unsupported(dimm.devname(), "get_data"));
        }
        // A chunk never needs to be larger than the area itself.
        let max_xfer = min32(max_xfer, config_size);
        let mut cmd = Command::new(
            Target::Dimm(dimm),
            Kind::CfgRead,
            abi::GET_DATA_HDR + us(max_xfer),
        )?;
        abi::put_u32(&mut cmd.buf, abi::GET_DATA_IN_LENGTH, max_xfer);
        cmd.xfer = Some(Transfer {
            config_size,
            max_xfer,
            init_offset: 0,
            total: config_size,
            image: Arc::new(Mutex::new(vec![0; us(config_size)])),
            write: false,
        });
        Ok(cmd)
    }

    /// `ND_CMD_SET_CONFIG_DATA` over the same extent and the same image as this completed
    /// read (`ndctl_dimm_cmd_new_cfg_write`: writes are read-modify-write).
    pub fn cfg_write(&self) -> Result<Command> {
        self.require(Kind::CfgRead, "cfg_read")?;
        let Some(t) = &self.xfer else {
            return Err(Error::invalid(self.target.name(), "invalid cfg_read"));
        };
        let dimm = match &self.target {
            Target::Dimm(d) => Arc::clone(d),
            Target::Bus(_) => return Err(Error::invalid(self.target.name(), "not a DIMM command")),
        };
        if !dimm.is_cmd_supported(DimmCmd::SetConfigData) {
            return Err(unsupported(dimm.devname(), "set_data"));
        }
        let mut cmd = Command::new(
            Target::Dimm(dimm),
            Kind::CfgWrite,
            abi::SET_DATA_HDR + us(t.max_xfer) + 4,
        )?;
        abi::put_u32(&mut cmd.buf, abi::SET_DATA_IN_OFFSET, t.init_offset);
        abi::put_u32(&mut cmd.buf, abi::SET_DATA_IN_LENGTH, t.max_xfer);
        cmd.xfer = Some(Transfer {
            write: true,
            ..t.clone()
        });
        Ok(cmd)
    }

    /// Restricts an unsubmitted config read or write to `len` bytes at `offset`
    /// (`ndctl_cmd_cfg_read_set_extent` / `ndctl_cmd_cfg_write_set_extent`).
    pub fn cfg_set_extent(&mut self, len: u32, offset: u32) -> Result<()> {
        let name = self.target.name().to_string();
        if !matches!(self.kind, Kind::CfgRead | Kind::CfgWrite) || self.status <= 0 {
            return Err(Error::invalid(
                name,
                "expected an unsubmitted cfg_read or cfg_write",
            ));
        }
        let Some(t) = self.xfer.as_mut() else {
            return Err(Error::invalid(name, "no transfer"));
        };
        if u64::from(offset) + u64::from(len) > u64::from(t.config_size) {
            return Err(Error::invalid(
                name,
                format!(
                    "{len} bytes at {offset} exceed the config size {}",
                    t.config_size
                ),
            ));
        }
        t.init_offset = offset;
        t.total = len;
        Ok(())
    }

    /// The extent (offset, length) a config read or write covers.
    pub fn cfg_extent(&self) -> Option<(u32, u32)> {
        self.xfer.as_ref().map(|t| (t.init_offset, t.total))
    }

    /// How many of `len` bytes at area offset `offset` lie in the extent of a config read
    /// or write (what a data access copies); `None` when the offset is outside it.
    pub fn cfg_clamp(&self, len: u32, offset: u32) -> Option<usize> {
        self.cfg_access(len, offset).map(|(_, n)| n)
    }

    /// Clamps an access of `len` bytes at area offset `offset` to the extent; `None` when
    /// the offset is outside it.
    fn cfg_access(&self, len: u32, offset: u32) -> Option<(usize, usize)> {
        let t = self.xfer.as_ref()?;
        let end = u64::from(t.init_offset) + u64::from(t.total);
        let (off, len) = (u64::from(offset), u64::from(len));
        if off < u64::from(t.init_offset) || off > end {
            return None;
        }
        let n = len.min(end - off);
        Some((usize::try_from(off).ok()?, usize::try_from(n).ok()?))
    }

    /// Copies config-area bytes `offset..offset + buf.len()` (clamped to the extent) out
    /// of a completed read (`ndctl_cmd_cfg_read_get_data`). Returns the bytes copied.
    pub fn cfg_read_data(&self, buf: &mut [u8], offset: u32) -> Result<usize> {
        self.cfg_read_state()?;
        let len = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        let (off, n) = self.cfg_access(len, offset).ok_or_else(|| {
            Error::invalid(
                self.target.name(),
                format!("offset {offset} outside the extent"),
            )
        })?;
        let xfer = self
            .xfer
            .as_ref()
            .ok_or_else(|| Error::invalid(self.target.name(), "not a config-area read"))?;
        let image = lock(&xfer.image);
        let src = image
            .get(off..off + n)
            .ok_or_else(|| Error::invalid(self.target.name(), "extent outside the config area"))?;
        buf[..n].copy_from_slice(src);
        Ok(n)
    }

    /// The config-area bytes of a completed read's extent.
    pub fn cfg_read_bytes(&self) -> Result<Vec<u8>> {
        let (off, len) = self.cfg_extent().unwrap_or((0, 0));
        let mut v = vec![0; us(len)];
        let n = self.cfg_read_data(&mut v, off)?;
        v.truncate(n);
        Ok(v)
    }

    /// Bytes covered by a completed read (`ndctl_cmd_cfg_read_get_size`).
    pub fn cfg_read_size(&self) -> Result<u32> {
        self.cfg_read_state()?;
        Ok(self.xfer.as_ref().map_or(0, |t| t.total))
    }

    fn cfg_read_state(&self) -> Result<()> {
        if self.kind != Kind::CfgRead || self.status > 0 {
            return Err(Error::invalid(
                self.target.name(),
                "expected a completed cfg_read",
            ));
        }
        if self.status < 0 {
            return Err(Error::io(
                format!("/dev/{}", self.target.name()),
                std::io::Error::from_raw_os_error(-self.status),
            ));
        }
        Ok(())
    }

    fn cfg_write_state(&self) -> Result<&Transfer> {
        match (&self.xfer, self.kind) {
            (Some(t), Kind::CfgWrite) if self.status >= 1 => Ok(t),
            _ => Err(Error::invalid(
                self.target.name(),
                "expected an unsubmitted cfg_write",
            )),
        }
    }

    /// Puts `buf` at config-area offset `offset` (clamped to the extent) into the image an
    /// unsubmitted write will send (`ndctl_cmd_cfg_write_set_data`). Returns the bytes
    /// taken.
    pub fn cfg_write_data(&mut self, buf: &[u8], offset: u32) -> Result<usize> {
        let t = self.cfg_write_state()?;
        let len = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        let (off, n) = self.cfg_access(len, offset).ok_or_else(|| {
            Error::invalid(
                self.target.name(),
                format!("offset {offset} outside the extent"),
            )
        })?;
        let mut image = lock(&t.image);
        let dst = image
            .get_mut(off..off + n)
            .ok_or_else(|| Error::invalid(self.target.name(), "extent outside the config area"))?;
        dst.copy_from_slice(&buf[..n]);
        Ok(n)
    }

    /// Zeroes the extent of an unsubmitted write (`ndctl_cmd_cfg_write_zero_data`).
    /// Returns the bytes zeroed.
    pub fn cfg_write_zero(&mut self) -> Result<usize> {
        let t = self.cfg_write_state()?;
        let (off, n) = (us(t.init_offset), us(t.total));
        let mut image = lock(&t.image);
        let dst = image
            .get_mut(off..off + n)
            .ok_or_else(|| Error::invalid(self.target.name(), "extent outside the config area"))?;
        dst.fill(0);
        Ok(n)
    }

    /// Runs a chunked config transfer: one ioctl per `max_xfer` bytes of the extent.
    /// Stops at the first failing firmware status or short transfer and returns, as
    /// libndctl, the bytes moved up to and including that chunk.
    pub(super) fn transfer(&mut self, file: &File) -> Result<u32> {
        let Some(t) = self.xfer.clone() else {
            return self.ioctl(file);
        };
        let (hdr, len_at, off_at) = if t.write {
            (
                abi::SET_DATA_HDR,
                abi::SET_DATA_IN_LENGTH,
                abi::SET_DATA_IN_OFFSET,
            )
        } else {
            (
                abi::GET_DATA_HDR,
                abi::GET_DATA_IN_LENGTH,
                abi::GET_DATA_IN_OFFSET,
            )
        };
        if t.total == 0 {
            abi::put_u32(&mut self.buf, len_at, 0);
            abi::put_u32(&mut self.buf, off_at, t.init_offset);
            return self.ioctl(file);
        }
        let mut done: u32 = 0;
        while done < t.total {
            let n = min32(t.total - done, t.max_xfer);
            let at = us(t.init_offset) + us(done);
            abi::put_u32(&mut self.buf, len_at, n);
            abi::put_u32(&mut self.buf, off_at, t.init_offset + done);
            if t.write {
                let image = lock(&t.image);
                let src = image.get(at..at + us(n)).unwrap_or(&[]);
                abi::put(&mut self.buf, hdr, src);
            }
            let residual = self.ioctl(file)?.min(n);
            if !t.write {
                let got = us(n - residual);
                let mut image = lock(&t.image);
                if let (Some(dst), Some(src)) =
                    (image.get_mut(at..at + got), self.buf.get(hdr..hdr + got))
                {
                    dst.copy_from_slice(src);
                }
            }
            if self.firmware_status() != 0 || residual != 0 {
                return Ok(done + n - residual);
            }
            done += n;
        }
        Ok(0)
    }

    /// Copies up to `input.len()` bytes into a vendor command's input
    /// (`ndctl_cmd_vendor_set_input`). Returns the bytes taken.
    pub fn vendor_set_input(&mut self, input: &[u8]) -> Result<usize> {
        if self.kind != Kind::Vendor {
            return Err(Error::invalid(self.target.name(), "not a vendor command"));
        }
        let room = us(self.u32_at(abi::VENDOR_IN_LENGTH).unwrap_or(0));
        let n = input.len().min(room);
        abi::put(&mut self.buf, abi::VENDOR_HDR, &input[..n]);
        Ok(n)
    }

    /// Bytes of input a vendor command carries.
    pub fn vendor_input_len(&self) -> Option<usize> {
        (self.kind == Kind::Vendor)
            .then(|| self.u32_at(abi::VENDOR_IN_LENGTH))
            .flatten()
            .map(us)
    }

    /// The output of a completed vendor command: as many bytes as the firmware says it
    /// returned, limited to the space the command reserved.
    pub fn vendor_output(&self) -> Result<&[u8]> {
        if self.kind != Kind::Vendor {
            return Err(Error::invalid(self.target.name(), "not a vendor command"));
        }
        let tail = self.vendor_tail().unwrap_or(abi::VENDOR_HDR);
        let data = tail + abi::VENDOR_TAIL;
        let room = self.buf.len().saturating_sub(data);
        let claimed = us(self.u32_at(tail + 4).unwrap_or(0));
        Ok(&self.buf[data..data + claimed.min(room)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_size_matches_the_uefi_layout() {
        // 128 KiB area of 256-byte labels (nfit_test, v1.2): 510 slots, 2 x 256-byte
        // index blocks... and the kernel's 128-byte sizing used by read_label_index.
        assert_eq!(sizeof_namespace_index(128 << 10, 256), Some(256));
        assert_eq!(sizeof_namespace_index(128 << 10, 128), Some(256));
        // 2 MiB of 128-byte labels: 16382 slots need a 2 KiB free bitmap.
        assert_eq!(sizeof_namespace_index(2 << 20, 128), Some(2304));
        assert_eq!(sizeof_namespace_index(0, 128), None);
        assert_eq!(sizeof_namespace_index(600, 256), None);
        assert_eq!(sizeof_namespace_index(1024, 0), None);
    }
}

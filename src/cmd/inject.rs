//! Media error injection through the NFIT bus DSMs (`NFIT_CMD_ARS_INJECT_SET`, `_CLEAR`,
//! `_GET`, sent as `ND_CMD_CALL` with family 0 on `/dev/ndctlN`), in 512-byte blocks of a
//! namespace.

use std::sync::Arc;

use super::abi::{self, nfit_cmd};
use super::{Command, Kind, Target, MAX_BUFFER};
use crate::bus::Bus;
use crate::error::{Error, Result};
use crate::namespace::Namespace;

/// Options of [`Namespace::inject_error`] (libndctl's `NDCTL_NS_INJECT_*` bit numbers).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InjectFlags {
    /// Ask the platform to notify the OS of the new error (`NDCTL_NS_INJECT_NOTIFY`).
    pub notify: bool,
    /// Inject the whole 512-byte block instead of one clear unit (`NDCTL_NS_INJECT_SATURATE`).
    pub saturate: bool,
}

impl InjectFlags {
    /// From libndctl's `flags` argument: bit 0 notify, bit 1 saturate.
    pub fn from_bits(flags: u32) -> InjectFlags {
        InjectFlags {
            notify: flags & 1 != 0,
            saturate: flags & 2 != 0,
        }
    }
}

/// Injected errors of a namespace as sorted, merged (block, count) runs of 512-byte
/// blocks.
pub type InjectedBlocks = Vec<(u64, u64)>;

impl Bus {
    /// Whether the bus offers error injection: an NFIT bus whose DSM mask has inject set,
    /// get and clear (`ndctl_bus_has_error_injection`).
    pub fn has_error_injection(&self) -> Result<bool> {
        if !self.has_nfit()? {
            return Ok(false);
        }
        for f in [
            nfit_cmd::ARS_INJECT_SET,
            nfit_cmd::ARS_INJECT_GET,
            nfit_cmd::ARS_INJECT_CLEAR,
        ] {
            if !self.is_nfit_cmd_supported(f)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// An NFIT bus function as an `ND_CMD_CALL` package with `payload` bytes after the
    /// header, of which the first `size_in` are input.
    pub(crate) fn nfit_call(
        self: &Arc<Self>,
        function: u32,
        payload: usize,
        size_in: usize,
    ) -> Result<Command> {
        let mut cmd = Command::new(
            Target::Bus(Arc::clone(self)),
            Kind::BusCall { function },
            abi::PKG_HDR + payload,
        )?;
        let (Ok(i), Ok(o)) = (u32::try_from(size_in), u32::try_from(payload - size_in)) else {
            return Err(Error::invalid(self.devname(), "payload too large"));
        };
        cmd.init_pkg(0, function, i, o);
        Ok(cmd)
    }
}

impl Namespace {
    /// System physical start and size of the namespace's data as error injection sees it:
    /// the pfn or dax data area when there is one, the raw namespace otherwise; a BTT is
    /// refused with EOPNOTSUPP, as in libndctl. A namespace without a resource is refused
    /// too (libndctl wraps `ULLONG_MAX + offset` around and injects at a bogus address).
    fn injection_bounds(&self) -> Result<(u64, u64)> {
        let unknown = |what: &str| Error::invalid(self.devname(), format!("{what} unknown"));
        if let Some(p) = self.pfn()? {
            return Ok((
                p.resource()?.ok_or_else(|| unknown("pfn resource"))?,
                p.size()?.ok_or_else(|| unknown("pfn size"))?,
            ));
        }
        if let Some(d) = self.dax()? {
            return Ok((
                d.resource()?.ok_or_else(|| unknown("dax resource"))?,
                d.size()?.ok_or_else(|| unknown("dax size"))?,
            ));
        }
        if self.btt()?.is_some() {
            return Err(Error::Unsupported {
                object: self.devname().to_string(),
                reason: "error injection through a BTT".into(),
            });
        }
        Ok((
            self.resource()?.ok_or_else(|| unknown("resource"))?,
            self.size(),
        ))
    }

    /// The clear unit of the platform for this namespace (an ARS cap over its range).
    fn clear_unit(&self, bus: &Arc<Bus>, start: u64, size: u64) -> Result<u64> {
        let mut cap = bus.ars_cap(start, size)?;
        cap.submit()?;
        match cap.ars_cap_clear_unit() {
            Some(u) if u != 0 => Ok(u64::from(u)),
            _ => Err(Error::invalid(
                bus.devname(),
                "ars_cap reports no clear unit",
            )),
        }
    }

    fn check_injection(&self) -> Result<Arc<Bus>> {
        let bus = Arc::clone(self.region().bus());
        if !bus.has_error_injection()? {
            return Err(Error::Unsupported {
                object: bus.devname().to_string(),
                reason: "no error injection on this bus".into(),
            });
        }
        Ok(bus)
    }

    /// The SPA range of one block, clamped to the clear unit unless saturating.
    fn block_range(&self, bus: &Arc<Bus>, block: u64, saturate: bool) -> Result<(u64, u64)> {
        let (start, size) = self.injection_bounds()?;
        let offset = block
            .checked_mul(512)
            .and_then(|o| o.checked_add(start))
            .filter(|o| {
                o.checked_add(512)
                    .is_some_and(|e| e <= start.saturating_add(size))
            })
            .ok_or_else(|| {
                Error::invalid(self.devname(), format!("block {block:#x} is out of bounds"))
            })?;
        let unit = self.clear_unit(bus, start, size)?;
        let len = if saturate { 512 } else { 512u64.min(unit) };
        Ok((offset, len))
    }

    /// Injects media errors into `count` 512-byte blocks from `block`
    /// (`ndctl_namespace_inject_error2`).
    pub fn inject_error(&self, block: u64, count: u64, flags: InjectFlags) -> Result<()> {
        let bus = self.check_injection()?;
        for b in (0..count).map(|i| block.saturating_add(i)) {
            let (offset, len) = self.block_range(&bus, b, flags.saturate)?;
            let mut cmd = bus.nfit_call(
                nfit_cmd::ARS_INJECT_SET,
                abi::ERR_INJ_SIZE,
                abi::ERR_INJ_STATUS,
            )?;
            let p = cmd.call_payload_mut();
            abi::put_u64(p, 0, offset);
            abi::put_u64(p, 8, len);
            if flags.notify {
                abi::put(p, abi::ERR_INJ_OPTIONS, &[1 << abi::ERR_INJ_OPT_NOTIFY]);
            }
            cmd.submit()?;
            translate_status(&bus, cmd.firmware_status())?;
        }
        Ok(())
    }

    /// Removes injected media errors from `count` blocks from `block`
    /// (`ndctl_namespace_uninject_error2`).
    pub fn uninject_error(&self, block: u64, count: u64, flags: InjectFlags) -> Result<()> {
        let bus = self.check_injection()?;
        for b in (0..count).map(|i| block.saturating_add(i)) {
            let (offset, len) = self.block_range(&bus, b, flags.saturate)?;
            let mut cmd = bus.nfit_call(
                nfit_cmd::ARS_INJECT_CLEAR,
                abi::ERR_INJ_CLR_SIZE,
                abi::ERR_INJ_CLR_STATUS,
            )?;
            let p = cmd.call_payload_mut();
            abi::put_u64(p, 0, offset);
            abi::put_u64(p, 8, len);
            cmd.submit()?;
            translate_status(&bus, cmd.firmware_status())?;
        }
        Ok(())
    }

    /// The injected errors inside this namespace, as sorted and merged 512-byte block
    /// runs relative to its start (`ndctl_namespace_injection_status`).
    pub fn injection_status(&self) -> Result<InjectedBlocks> {
        let bus = self.check_injection()?;
        let (start, size) = self.injection_bounds()?;
        let mut cap = bus.ars_cap(start, size)?;
        cap.submit()?;
        let room = cap.ars_cap_size().unwrap_or(0);
        let room = usize::try_from(room).unwrap_or(usize::MAX);
        if room == 0 || room > MAX_BUFFER {
            return Err(Error::invalid(
                bus.devname(),
                "ars_cap reports no status size",
            ));
        }
        let payload = abi::ERR_INJ_STAT_HDR + room;
        let mut cmd = bus.nfit_call(nfit_cmd::ARS_INJECT_GET, payload, 0)?;
        cmd.submit()?;
        let p = cmd.call_payload();
        let claimed = abi::get_u32(p, abi::ERR_INJ_STAT_COUNT).unwrap_or(0);
        let fit = p.len().saturating_sub(abi::ERR_INJ_STAT_HDR) / abi::ERR_INJ_STAT_RECORD;
        let mut runs = InjectedBlocks::new();
        for i in 0..usize::try_from(claimed).unwrap_or(usize::MAX).min(fit) {
            let at = abi::ERR_INJ_STAT_HDR + i * abi::ERR_INJ_STAT_RECORD;
            let (Some(base), Some(len)) = (abi::get_u64(p, at), abi::get_u64(p, at + 8)) else {
                break;
            };
            if base < start || base - start >= size {
                continue;
            }
            let off = base - start;
            let block = off / 512;
            let pad = off - block * 512;
            let count = pad.saturating_add(len).div_ceil(512);
            merge_injected(&mut runs, block, count);
        }
        Ok(runs)
    }
}

fn translate_status(bus: &Bus, status: u32) -> Result<()> {
    let reason = match status {
        abi::ERR_INJ_STATUS_NOT_SUPP => "the platform does not support this injection",
        abi::ERR_INJ_STATUS_INVALID_PARAM => "the platform rejects the injection parameters",
        _ => return Ok(()),
    };
    let errno = if status == abi::ERR_INJ_STATUS_NOT_SUPP {
        -libc::EOPNOTSUPP
    } else {
        -libc::EINVAL
    };
    Err(Error::Firmware {
        object: bus.devname().to_string(),
        reason: reason.into(),
        errno,
    })
}

/// Adds the run `block`..`block + count` to sorted runs, merging overlapping and adjoining
/// runs (libndctl keeps its per-namespace list this way across status queries).
pub fn merge_injected(runs: &mut InjectedBlocks, block: u64, count: u64) {
    let at = runs.partition_point(|&(b, _)| b <= block);
    runs.insert(at, (block, count));
    let mut merged: InjectedBlocks = Vec::with_capacity(runs.len());
    for &(b, c) in runs.iter() {
        match merged.last_mut() {
            Some((pb, pc)) if b <= pb.saturating_add(*pc) => {
                let end = b.saturating_add(c).max(pb.saturating_add(*pc));
                *pc = end - *pb;
            }
            _ => merged.push((b, c)),
        }
    }
    *runs = merged;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_merge_like_libndctl() {
        let mut r = InjectedBlocks::new();
        merge_injected(&mut r, 10, 1);
        merge_injected(&mut r, 2, 2);
        assert_eq!(r, vec![(2, 2), (10, 1)]);
        merge_injected(&mut r, 4, 1); // adjoins 2..4
        assert_eq!(r, vec![(2, 3), (10, 1)]);
        merge_injected(&mut r, 3, 9); // covers up to 12, swallows 10
        assert_eq!(r, vec![(2, 10)]);
        merge_injected(&mut r, 2, 1); // contained
        assert_eq!(r, vec![(2, 10)]);
        merge_injected(&mut r, u64::MAX - 1, 5);
        assert_eq!(r.len(), 2);
    }

    #[test]
    fn flags_from_libndctl_bits() {
        assert_eq!(InjectFlags::from_bits(0), InjectFlags::default());
        assert!(InjectFlags::from_bits(1).notify);
        assert!(InjectFlags::from_bits(2).saturate);
    }
}

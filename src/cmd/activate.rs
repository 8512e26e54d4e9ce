//! Firmware activation through sysfs: the bus's `firmware/activate` (state; writing
//! `live` or `quiesce` activates the armed DIMMs' staged firmware), its
//! `nfit/firmware_activate_noidle` / `nfit/firmware_activate_nosuspend` switches, and
//! each DIMM's `firmware/activate` (`arm` / `disarm`). The states themselves are read by
//! [`Bus::fw_activate_state`], [`Bus::fw_activate_method`], [`Dimm::fw_activate_state`]
//! and [`Dimm::fw_activate_result`].

use crate::bus::{Bus, FwaMethod, FwaState};
use crate::dimm::Dimm;
use crate::error::{Error, Result};

impl Bus {
    /// Activates the staged firmware of the armed DIMMs (`ndctl_bus_activate_firmware`):
    /// writes `live` or `quiesce` (for [`FwaMethod::Suspend`]) to `firmware/activate`.
    /// [`FwaMethod::Reset`] is not something the kernel can do and is refused; a bus
    /// without firmware activation fails with the write's error (ENOENT).
    pub fn activate_firmware(&self, method: FwaMethod) -> Result<()> {
        let word = match method {
            FwaMethod::Live => "live\n",
            FwaMethod::Suspend => "quiesce\n",
            FwaMethod::Reset => {
                return Err(Error::invalid(
                    self.devname(),
                    "firmware activation by reset cannot be requested",
                ))
            }
        };
        self.device().write("firmware/activate", word)
    }

    /// Sets (`true`) or clears the platform's "no idle" activation option
    /// (`ndctl_bus_set_fw_activate_noidle` / `_clear_`): `nfit/firmware_activate_noidle`.
    /// EOPNOTSUPP on a bus without an NFIT.
    pub fn set_fw_activate_noidle(&self, on: bool) -> Result<()> {
        self.write_nfit_switch("nfit/firmware_activate_noidle", on)
    }

    /// Sets (`true`) or clears the "no suspend" activation option
    /// (`ndctl_bus_set_fw_activate_nosuspend` / `_clear_`):
    /// `nfit/firmware_activate_nosuspend`. EOPNOTSUPP on a bus without an NFIT.
    pub fn set_fw_activate_nosuspend(&self, on: bool) -> Result<()> {
        self.write_nfit_switch("nfit/firmware_activate_nosuspend", on)
    }

    fn write_nfit_switch(&self, attr: &str, on: bool) -> Result<()> {
        if !self.has_nfit()? {
            return Err(Error::Unsupported {
                object: self.devname().to_string(),
                reason: format!("{attr} needs an NFIT bus"),
            });
        }
        self.device().write(attr, if on { "1\n" } else { "0\n" })
    }
}

impl Dimm {
    /// Arms the DIMM for the next bus activation (`ndctl_dimm_fw_activate_arm`): writes
    /// `arm` to `firmware/activate`. A DIMM without a valid activation state (no
    /// `firmware/activate`, or a value the kernel does not define) is refused, as libndctl
    /// refuses it.
    pub fn fw_activate_arm(&self) -> Result<()> {
        self.write_arm("arm")
    }

    /// Disarms the DIMM (`ndctl_dimm_fw_activate_disarm`): writes `disarm`.
    pub fn fw_activate_disarm(&self) -> Result<()> {
        self.write_arm("disarm")
    }

    fn write_arm(&self, word: &str) -> Result<()> {
        if self.fw_activate_state()? == FwaState::Invalid {
            return Err(Error::Unsupported {
                object: self.devname().to_string(),
                reason: "no firmware activation state (firmware/activate)".into(),
            });
        }
        self.device().write("firmware/activate", word)
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    use super::*;
    use crate::bus::FwaState;
    use crate::dimm::FwaResult;
    use crate::fixture::nfit_test::{write_tree, Variant};
    use crate::Ctx;

    fn tree() -> (tempfile::TempDir, Ctx) {
        let dir = tempfile::tempdir().unwrap();
        write_tree(dir.path(), Variant::Pmem).unwrap();
        let ctx = Ctx::with_root(dir.path()).unwrap();
        (dir, ctx)
    }

    fn host(root: &Path, logical: &Path) -> PathBuf {
        root.join(logical.strip_prefix("/").unwrap())
    }

    fn bus(ctx: &Ctx, provider: &str) -> Arc<Bus> {
        ctx.buses()
            .unwrap()
            .into_iter()
            .find(|b| b.provider() == provider)
            .unwrap()
    }

    fn dimm(bus: &Bus, name: &str) -> Arc<Dimm> {
        bus.dimms()
            .unwrap()
            .into_iter()
            .find(|d| d.devname() == name)
            .unwrap()
    }

    #[test]
    fn bus_activation_writes_the_method_word() {
        let (dir, ctx) = tree();
        let b = bus(&ctx, "nfit_test.0");
        let file = host(dir.path(), &b.device().attr_path("firmware/activate"));
        assert_eq!(b.fw_activate_state().unwrap(), FwaState::Idle);
        assert_eq!(b.fw_activate_method().unwrap(), FwaMethod::Suspend);
        b.activate_firmware(FwaMethod::Live).unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"live\n\0");
        // sysfs takes each write whole; empty the stand-in file between writes.
        std::fs::write(&file, "").unwrap();
        b.activate_firmware(FwaMethod::Suspend).unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"quiesce\n\0");
        let e = b.activate_firmware(FwaMethod::Reset).unwrap_err();
        assert_eq!(e.errno(), -libc::EINVAL);
        assert_eq!(std::fs::read(&file).unwrap(), b"quiesce\n\0");
    }

    #[test]
    fn activation_state_and_method_parsing() {
        let (dir, ctx) = tree();
        let b = bus(&ctx, "nfit_test.0");
        let state = host(dir.path(), &b.device().attr_path("firmware/activate"));
        let cap = host(dir.path(), &b.device().attr_path("firmware/capability"));
        for (text, want) in [
            ("idle\n", FwaState::Idle),
            ("armed\n", FwaState::Armed),
            ("busy\n", FwaState::Busy),
            ("overflow\n", FwaState::ArmOverflow),
            ("Armed\n", FwaState::Invalid),
            ("garbage\n", FwaState::Invalid),
        ] {
            std::fs::write(&state, text).unwrap();
            assert_eq!(b.fw_activate_state().unwrap(), want, "{text:?}");
        }
        std::fs::remove_file(&state).unwrap();
        assert_eq!(b.fw_activate_state().unwrap(), FwaState::Invalid);
        for (text, want) in [
            ("live\n", FwaMethod::Live),
            ("quiesce\n", FwaMethod::Suspend),
            ("none\n", FwaMethod::Reset),
        ] {
            std::fs::write(&cap, text).unwrap();
            let ctx = Ctx::with_root(dir.path()).unwrap();
            let b = bus(&ctx, "nfit_test.0");
            assert_eq!(b.fw_activate_method().unwrap(), want, "{text:?}");
        }
        // nfit_test.1 has no firmware activation.
        let b1 = bus(&ctx, "nfit_test.1");
        assert_eq!(b1.fw_activate_state().unwrap(), FwaState::Invalid);
        assert_eq!(b1.fw_activate_method().unwrap(), FwaMethod::Reset);
        let e = b1.activate_firmware(FwaMethod::Live).unwrap_err();
        assert_eq!(e.errno(), -libc::ENOENT, "{e}");
    }

    #[test]
    fn noidle_and_nosuspend_switches() {
        let (dir, ctx) = tree();
        let b = bus(&ctx, "nfit_test.0");
        let noidle = host(
            dir.path(),
            &b.device().attr_path("nfit/firmware_activate_noidle"),
        );
        std::fs::write(&noidle, "N\n").unwrap();
        b.set_fw_activate_noidle(true).unwrap();
        assert_eq!(std::fs::read(&noidle).unwrap(), b"1\n\0");
        std::fs::write(&noidle, "").unwrap();
        b.set_fw_activate_noidle(false).unwrap();
        assert_eq!(std::fs::read(&noidle).unwrap(), b"0\n\0");
        // The kernel of the captures has no nosuspend switch: the write fails like the open.
        let nosuspend = host(
            dir.path(),
            &b.device().attr_path("nfit/firmware_activate_nosuspend"),
        );
        if !nosuspend.exists() {
            let e = b.set_fw_activate_nosuspend(true).unwrap_err();
            assert_eq!(e.errno(), -libc::ENOENT, "{e}");
        }
        std::fs::write(&nosuspend, "").unwrap();
        b.set_fw_activate_nosuspend(true).unwrap();
        assert_eq!(std::fs::read(&nosuspend).unwrap(), b"1\n\0");
    }

    #[test]
    fn switches_need_an_nfit_bus() {
        let (dir, ctx) = tree();
        let b = bus(&ctx, "nfit_test.0");
        let revision = host(dir.path(), &b.device().attr_path("nfit/revision"));
        std::fs::remove_file(revision).unwrap();
        let ctx = Ctx::with_root(dir.path()).unwrap();
        let b = bus(&ctx, "nfit_test.0");
        assert!(!b.has_nfit().unwrap());
        let e = b.set_fw_activate_noidle(true).unwrap_err();
        assert_eq!(e.errno(), -libc::EOPNOTSUPP);
        let e = b.set_fw_activate_nosuspend(false).unwrap_err();
        assert_eq!(e.errno(), -libc::EOPNOTSUPP);
    }

    #[test]
    fn dimm_arm_and_disarm() {
        let (dir, ctx) = tree();
        let b = bus(&ctx, "nfit_test.0");
        let d = dimm(&b, "nmem1");
        let file = host(dir.path(), &d.device().attr_path("firmware/activate"));
        assert_eq!(d.fw_activate_state().unwrap(), FwaState::Idle);
        assert_eq!(d.fw_activate_result().unwrap(), FwaResult::None);
        // sysfs takes each write whole; the stand-in file holds no more than it takes.
        std::fs::write(&file, "idle").unwrap();
        d.fw_activate_arm().unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"arm\0");
        // The regular file now holds what was written, which is no state at all.
        assert_eq!(d.fw_activate_state().unwrap(), FwaState::Invalid);
        assert!(matches!(
            d.fw_activate_disarm().unwrap_err(),
            Error::Unsupported { .. }
        ));
        std::fs::write(&file, "armed").unwrap();
        d.fw_activate_disarm().unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"disarm\0");

        // nfit_test.1's DIMMs have no activation state: nothing is written.
        let b1 = bus(&ctx, "nfit_test.1");
        let d4 = dimm(&b1, "nmem4");
        assert_eq!(d4.fw_activate_state().unwrap(), FwaState::Invalid);
        assert_eq!(d4.fw_activate_result().unwrap(), FwaResult::Invalid);
        assert_eq!(d4.fw_activate_arm().unwrap_err().errno(), -libc::EOPNOTSUPP);
        assert!(!host(dir.path(), &d4.device().attr_path("firmware/activate")).exists());
    }

    #[test]
    fn activation_result_parsing() {
        let (dir, ctx) = tree();
        let b = bus(&ctx, "nfit_test.0");
        let d = dimm(&b, "nmem0");
        let file = host(dir.path(), &d.device().attr_path("firmware/result"));
        for (text, want) in [
            ("none\n", FwaResult::None),
            ("success\n", FwaResult::Success),
            ("fail\n", FwaResult::Fail),
            ("not_staged\n", FwaResult::NotStaged),
            ("need_reset\n", FwaResult::NeedReset),
            ("busy\n", FwaResult::Invalid),
        ] {
            std::fs::write(&file, text).unwrap();
            assert_eq!(d.fw_activate_result().unwrap(), want, "{text:?}");
        }
    }
}

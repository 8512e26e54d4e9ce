//! DIMM security through the kernel's `nmemN/security` attribute: passphrase update and
//! disable (user and master), freeze, secure erase, overwrite, and waiting for an
//! overwrite to end.
//!
//! Passphrases never pass through here: the kernel takes the serial numbers of keys in
//! the user's keyring (`encrypted`/`trusted` `nvdimm:` keys) and looks them up itself. A
//! DIMM without security has no `security` file and every operation fails with the
//! open's error (ENOENT), as in libndctl; what the kernel refuses (a wrong key, a frozen
//! DIMM, an active DIMM for erase) comes back as its errno.

use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use crate::dimm::{Dimm, SecurityState};
use crate::error::{Error, Result};

/// A key serial number as the kernel's keyring gives it (`key_serial_t`), passed as
/// libndctl's `long`; the kernel rejects values that are not valid serials.
pub type KeySerial = std::ffi::c_long;

/// A command for the `security` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityOp {
    /// Replace (or, with old key 0, set) the user passphrase.
    Update {
        /// Key holding the current passphrase.
        old: KeySerial,
        /// Key holding the new passphrase.
        new: KeySerial,
    },
    /// Remove the user passphrase.
    Disable(KeySerial),
    /// Remove the master passphrase.
    DisableMaster(KeySerial),
    /// Refuse further security changes until the next reset.
    Freeze,
    /// Cryptographically erase the DIMM with the user passphrase.
    Erase(KeySerial),
    /// Start overwriting all media (see [`Dimm::wait_overwrite`]).
    Overwrite(KeySerial),
    /// Replace (or set) the master passphrase.
    MasterUpdate {
        /// Key holding the current master passphrase.
        old: KeySerial,
        /// Key holding the new master passphrase.
        new: KeySerial,
    },
    /// Erase the DIMM with the master passphrase.
    MasterErase(KeySerial),
}

impl SecurityOp {
    /// The exact text libndctl writes to `security` for this operation (`freeze` alone
    /// has no newline in libndctl; the kernel accepts both).
    pub fn command(&self) -> String {
        match *self {
            SecurityOp::Update { old, new } => format!("update {old} {new}\n"),
            SecurityOp::Disable(k) => format!("disable {k}\n"),
            SecurityOp::DisableMaster(k) => format!("disable_master {k}\n"),
            SecurityOp::Freeze => "freeze".to_string(),
            SecurityOp::Erase(k) => format!("erase {k}\n"),
            SecurityOp::Overwrite(k) => format!("overwrite {k}\n"),
            SecurityOp::MasterUpdate { old, new } => format!("master_update {old} {new}\n"),
            SecurityOp::MasterErase(k) => format!("master_erase {k}\n"),
        }
    }
}

/// How often [`Dimm::wait_overwrite`] re-reads the state even without a sysfs
/// notification, so that a lost notification delays it instead of hanging it.
const OVERWRITE_RECHECK: Duration = Duration::from_millis(500);

impl Dimm {
    /// Writes `op` to the DIMM's `security` attribute.
    pub fn security_op(&self, op: SecurityOp) -> Result<()> {
        self.device().write("security", &op.command())
    }

    /// Changes the user passphrase from key `old` to key `new`
    /// (`ndctl_dimm_update_passphrase`).
    pub fn update_passphrase(&self, old: KeySerial, new: KeySerial) -> Result<()> {
        self.security_op(SecurityOp::Update { old, new })
    }

    /// Removes the user passphrase (`ndctl_dimm_disable_passphrase`).
    pub fn disable_passphrase(&self, key: KeySerial) -> Result<()> {
        self.security_op(SecurityOp::Disable(key))
    }

    /// Removes the master passphrase (`ndctl_dimm_disable_master_passphrase`).
    pub fn disable_master_passphrase(&self, key: KeySerial) -> Result<()> {
        self.security_op(SecurityOp::DisableMaster(key))
    }

    /// Freezes the security state (`ndctl_dimm_freeze_security`).
    pub fn freeze_security(&self) -> Result<()> {
        self.security_op(SecurityOp::Freeze)
    }

    /// Secure erase with the user passphrase (`ndctl_dimm_secure_erase`).
    pub fn secure_erase(&self, key: KeySerial) -> Result<()> {
        self.security_op(SecurityOp::Erase(key))
    }

    /// Starts an overwrite of the whole DIMM (`ndctl_dimm_overwrite`).
    pub fn overwrite(&self, key: KeySerial) -> Result<()> {
        self.security_op(SecurityOp::Overwrite(key))
    }

    /// Changes the master passphrase (`ndctl_dimm_update_master_passphrase`).
    pub fn update_master_passphrase(&self, old: KeySerial, new: KeySerial) -> Result<()> {
        self.security_op(SecurityOp::MasterUpdate { old, new })
    }

    /// Secure erase with the master passphrase (`ndctl_dimm_master_secure_erase`).
    pub fn master_secure_erase(&self, key: KeySerial) -> Result<()> {
        self.security_op(SecurityOp::MasterErase(key))
    }

    /// Waits until a running overwrite ends (`ndctl_dimm_wait_overwrite`), sleeping on
    /// the `security` attribute, which the kernel notifies when the overwrite completes.
    ///
    /// Returns `None` at once when no overwrite runs, else the state the DIMM ended in
    /// ([`SecurityState::Disabled`] after a successful overwrite). A DIMM without a
    /// `security` file fails with ENOENT; a state that can no longer be read with
    /// EOPNOTSUPP; a state the kernel does not define with a parse error.
    pub fn wait_overwrite(&self) -> Result<Option<SecurityState>> {
        let dev = self.device();
        let file = dev.sysfs().open_attr_for_poll(dev.path(), "security")?;
        let path = dev.attr_path("security");
        let state = |first: bool| -> Result<SecurityState> {
            match self.security() {
                Ok(Some(s)) => Ok(s),
                Ok(None) => Err(Error::Unsupported {
                    object: path.display().to_string(),
                    reason: "security state unreadable".into(),
                }),
                Err(e @ Error::Parse { .. }) => Err(e),
                Err(e) if first => Err(Error::Unsupported {
                    object: path.display().to_string(),
                    reason: e.to_string(),
                }),
                Err(e) => Err(e),
            }
        };
        if state(true)? != SecurityState::Overwrite {
            return Ok(None);
        }
        loop {
            let s = state(false)?;
            if s != SecurityState::Overwrite {
                log::debug!(
                    "{}: overwrite ended in state {}",
                    self.devname(),
                    s.as_str()
                );
                return Ok(Some(s));
            }
            let began = Instant::now();
            let mut fds = libc::pollfd {
                fd: file.as_raw_fd(),
                events: 0,
                revents: 0,
            };
            let ms = i32::try_from(OVERWRITE_RECHECK.as_millis()).unwrap_or(i32::MAX);
            // SAFETY: one valid pollfd for the duration of the call.
            let rc = unsafe { libc::poll(&mut fds, 1, ms) };
            if rc < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() != std::io::ErrorKind::Interrupted {
                    return Err(Error::io(&path, e));
                }
            }
            if rc > 0 {
                // Reading through the polled descriptor re-arms the notification.
                let mut byte = [0u8; 1];
                // SAFETY: a 1-byte buffer on the stack.
                if unsafe { libc::pread(file.as_raw_fd(), byte.as_mut_ptr().cast(), 1, 0) } < 0 {
                    return Err(Error::io(&path, std::io::Error::last_os_error()));
                }
                // A file that is always ready (not sysfs) must not make this spin.
                if began.elapsed() < Duration::from_millis(10) {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;

    use super::*;
    use crate::fixture::nfit_test::{write_tree, Variant};
    use crate::Ctx;

    fn tree() -> (tempfile::TempDir, Ctx) {
        let dir = tempfile::tempdir().unwrap();
        write_tree(dir.path(), Variant::Pmem).unwrap();
        let ctx = Ctx::with_root(dir.path()).unwrap();
        (dir, ctx)
    }

    fn dimm(ctx: &Ctx, name: &str) -> Arc<Dimm> {
        ctx.buses()
            .unwrap()
            .into_iter()
            .flat_map(|b| b.dimms().unwrap())
            .find(|d| d.devname() == name)
            .unwrap()
    }

    fn security_file(dir: &tempfile::TempDir, d: &Dimm) -> PathBuf {
        dir.path()
            .join(d.device().attr_path("security").strip_prefix("/").unwrap())
    }

    #[test]
    fn every_operation_writes_libndctls_text() {
        let (dir, ctx) = tree();
        let d = dimm(&ctx, "nmem0");
        let file = security_file(&dir, &d);
        // sysfs takes each write whole; the regular file standing in for it is emptied
        // before each operation so that it shows exactly one write.
        let check = |r: Result<()>, want: &[u8]| {
            r.unwrap();
            assert_eq!(std::fs::read(&file).unwrap(), want);
            std::fs::write(&file, "").unwrap();
        };
        std::fs::write(&file, "").unwrap();
        check(d.update_passphrase(0, 123_456), b"update 0 123456\n\0");
        check(d.disable_passphrase(42), b"disable 42\n\0");
        check(d.disable_master_passphrase(43), b"disable_master 43\n\0");
        check(d.freeze_security(), b"freeze\0");
        check(d.secure_erase(7), b"erase 7\n\0");
        check(d.overwrite(8), b"overwrite 8\n\0");
        check(d.update_master_passphrase(1, 2), b"master_update 1 2\n\0");
        check(d.master_secure_erase(9), b"master_erase 9\n\0");
        // libndctl passes a long through "%ld": negative serials reach the kernel, which
        // rejects them.
        check(d.secure_erase(-1), b"erase -1\n\0");
        check(
            d.update_passphrase(i64::MIN, i64::MAX),
            format!("update {} {}\n\0", i64::MIN, i64::MAX).as_bytes(),
        );
    }

    #[test]
    fn state_parsing() {
        let (dir, ctx) = tree();
        let d = dimm(&ctx, "nmem0");
        let file = security_file(&dir, &d);
        let frozen = file.with_file_name("frozen");
        assert_eq!(d.security().unwrap(), Some(SecurityState::Disabled));
        for (text, want) in [
            ("disabled\n", SecurityState::Disabled),
            ("unlocked\n", SecurityState::Unlocked),
            ("locked\n", SecurityState::Locked),
            ("frozen\n", SecurityState::Frozen),
            ("overwrite\n", SecurityState::Overwrite),
        ] {
            std::fs::write(&file, text).unwrap();
            assert_eq!(d.security().unwrap(), Some(want), "{text:?}");
        }
        std::fs::write(&file, "sleepy\n").unwrap();
        assert!(matches!(d.security().unwrap_err(), Error::Parse { .. }));
        std::fs::write(&frozen, "1\n").unwrap();
        assert!(d.security_is_frozen().unwrap());
        std::fs::write(&frozen, "0\n").unwrap();
        std::fs::write(&file, "unlocked\n").unwrap();
        assert!(!d.security_is_frozen().unwrap());
        // Kernels before the frozen attribute report frozen as a state.
        std::fs::remove_file(&frozen).unwrap();
        std::fs::write(&file, "frozen\n").unwrap();
        assert!(d.security_is_frozen().unwrap());
    }

    #[test]
    fn a_dimm_without_security_fails_like_libndctl() {
        let (dir, ctx) = tree();
        // nfit_test.1's DIMMs have no security operations and no security file.
        let d = dimm(&ctx, "nmem4");
        assert_eq!(d.security().unwrap(), None);
        assert!(!security_file(&dir, &d).exists());
        for r in [
            d.freeze_security(),
            d.disable_passphrase(1),
            d.update_passphrase(1, 2),
            d.overwrite(3),
        ] {
            assert_eq!(r.unwrap_err().errno(), -libc::ENOENT);
        }
        assert_eq!(d.wait_overwrite().unwrap_err().errno(), -libc::ENOENT);
        assert!(!security_file(&dir, &d).exists(), "nothing was created");
    }

    #[test]
    fn wait_overwrite_returns_at_once_when_none_runs() {
        let (dir, ctx) = tree();
        let d = dimm(&ctx, "nmem0");
        assert_eq!(d.wait_overwrite().unwrap(), None);
        std::fs::write(security_file(&dir, &d), "locked\n").unwrap();
        assert_eq!(d.wait_overwrite().unwrap(), None);
        std::fs::write(security_file(&dir, &d), "garbage\n").unwrap();
        assert!(matches!(
            d.wait_overwrite().unwrap_err(),
            Error::Parse { .. }
        ));
    }

    #[test]
    fn wait_overwrite_follows_the_state_to_its_end() {
        for (end, want) in [
            ("disabled\n", SecurityState::Disabled),
            ("unlocked\n", SecurityState::Unlocked),
        ] {
            let (dir, ctx) = tree();
            let d = dimm(&ctx, "nmem1");
            let file = security_file(&dir, &d);
            std::fs::write(&file, "overwrite\n").unwrap();
            let writer = {
                let file = file.clone();
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(300));
                    // Replace atomically so the reader never sees a half-written file.
                    let tmp = file.with_file_name(".security.tmp");
                    std::fs::write(&tmp, end).unwrap();
                    std::fs::rename(&tmp, &file).unwrap();
                })
            };
            let began = Instant::now();
            assert_eq!(d.wait_overwrite().unwrap(), Some(want));
            assert!(began.elapsed() >= Duration::from_millis(250));
            assert!(began.elapsed() < Duration::from_secs(10));
            writer.join().unwrap();
        }
    }

    #[test]
    fn op_texts() {
        assert_eq!(SecurityOp::Freeze.command(), "freeze");
        assert_eq!(
            SecurityOp::MasterUpdate { old: 5, new: 6 }.command(),
            "master_update 5 6\n"
        );
        assert_eq!(SecurityOp::DisableMaster(0).command(), "disable_master 0\n");
    }
}

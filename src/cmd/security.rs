//! DIMM security (passphrases, freeze, erase, overwrite): commands written to the DIMM's
//! `security` attribute with the ids of kernel keys holding the passphrases.

use std::os::fd::AsRawFd;

use crate::dimm::{Dimm, SecurityState};
use crate::error::{Error, Result};

/// How often [`Dimm::wait_overwrite`] re-reads the state even without a sysfs
/// notification (a tree that is not sysfs never notifies).
const OVERWRITE_RECHECK_MS: i32 = 1000;

impl Dimm {
    fn write_security(&self, command: &str) -> Result<()> {
        self.device().write("security", command)
    }

    /// Changes the user passphrase from the one in key `current` to the one in key `new`
    /// (`ndctl_dimm_update_passphrase`).
    pub fn update_passphrase(&self, current: i64, new: i64) -> Result<()> {
        self.write_security(&format!("update {current} {new}\n"))
    }

    /// Removes the user passphrase held in key `key` (`ndctl_dimm_disable_passphrase`).
    pub fn disable_passphrase(&self, key: i64) -> Result<()> {
        self.write_security(&format!("disable {key}\n"))
    }

    /// Removes the master passphrase held in key `key`
    /// (`ndctl_dimm_disable_master_passphrase`).
    pub fn disable_master_passphrase(&self, key: i64) -> Result<()> {
        self.write_security(&format!("disable_master {key}\n"))
    }

    /// Freezes security until the next reset (`ndctl_dimm_freeze_security`).
    pub fn freeze_security(&self) -> Result<()> {
        self.write_security("freeze")
    }

    /// Cryptographically erases the DIMM with the user passphrase in key `key`
    /// (`ndctl_dimm_secure_erase`).
    pub fn secure_erase(&self, key: i64) -> Result<()> {
        self.write_security(&format!("erase {key}\n"))
    }

    /// Starts an overwrite of the whole DIMM with the passphrase in key `key`
    /// (`ndctl_dimm_overwrite`).
    pub fn overwrite(&self, key: i64) -> Result<()> {
        self.write_security(&format!("overwrite {key}\n"))
    }

    /// Changes the master passphrase from key `current` to key `new`
    /// (`ndctl_dimm_update_master_passphrase`).
    pub fn update_master_passphrase(&self, current: i64, new: i64) -> Result<()> {
        self.write_security(&format!("master_update {current} {new}\n"))
    }

    /// Erases the DIMM with the master passphrase in key `key`
    /// (`ndctl_dimm_master_secure_erase`).
    pub fn master_secure_erase(&self, key: i64) -> Result<()> {
        self.write_security(&format!("master_erase {key}\n"))
    }

    /// Whether security is frozen, as libndctl decides it: the state says `frozen`, or
    /// the `frozen` attribute is non-zero.
    pub fn security_frozen(&self) -> Result<bool> {
        if self.security().ok().flatten() == Some(SecurityState::Frozen) {
            return Ok(true);
        }
        self.security_is_frozen()
    }

    /// Waits while an overwrite runs (`ndctl_dimm_wait_overwrite`): `Ok(false)` when none
    /// was running, `Ok(true)` once it finished and security reads `disabled`. An
    /// unreadable state is EOPNOTSUPP.
    pub fn wait_overwrite(&self) -> Result<bool> {
        let file = self
            .device()
            .sysfs()
            .open_attr_for_poll(&self.device().path(), "security")?;
        let path = self.device().attr_path("security");
        let state = |s: Result<Option<SecurityState>>| {
            s.map_err(|e| Error::Unsupported {
                object: path.display().to_string(),
                reason: e.to_string(),
            })
        };
        if state(self.security())? != Some(SecurityState::Overwrite) {
            return Ok(false);
        }
        loop {
            match state(self.security())? {
                Some(SecurityState::Overwrite) => {}
                s => return Ok(s == Some(SecurityState::Disabled)),
            }
            let mut fds = libc::pollfd {
                fd: file.as_raw_fd(),
                events: 0,
                revents: 0,
            };
            // SAFETY: one valid pollfd for the duration of the call.
            if unsafe { libc::poll(&mut fds, 1, OVERWRITE_RECHECK_MS) } < 0 {
                return Err(Error::io(&path, std::io::Error::last_os_error()));
            }
            let mut byte = [0u8; 1];
            // Reading the attribute re-arms sysfs notification.
            // SAFETY: a 1-byte buffer on the stack.
            if unsafe { libc::pread(file.as_raw_fd(), byte.as_mut_ptr().cast(), 1, 0) } < 0 {
                return Err(Error::io(&path, std::io::Error::last_os_error()));
            }
        }
    }
}

//! Waiting for an address range scrub: the kernel's view in `nfit/scrub` (`<count>` or
//! `<count>+` while running), which sysfs notifies when it changes.

use std::os::fd::AsRawFd;
use std::path::Path;

use crate::bus::Bus;
use crate::error::{Error, Result};

impl Bus {
    fn require_scrub(&self) -> Result<()> {
        if self.has_nfit()? {
            Ok(())
        } else {
            Err(Error::Unsupported {
                object: self.devname().to_string(),
                reason: "no address range scrub without an NFIT".into(),
            })
        }
    }

    /// Asks the kernel for a scrub (`ndctl_bus_start_scrub`): EOPNOTSUPP without an NFIT;
    /// when the kernel answers EBUSY while a previous scrub may just be finishing, waits
    /// one second for it once and asks again.
    pub fn request_scrub(&self) -> Result<()> {
        self.require_scrub()?;
        match self.start_scrub() {
            Err(e) if e.errno() == -libc::EBUSY && self.poll_scrub_completion(1, 1).is_ok() => {
                self.start_scrub()
            }
            r => r,
        }
    }

    /// Waits until no scrub runs (`ndctl_bus_poll_scrub_completion`): re-reads `nfit/scrub`
    /// whenever sysfs signals a change or every `interval` seconds, and gives up with
    /// ETIMEDOUT after `timeout` seconds (0: no limit, and 0/0 waits for notifications
    /// only).
    pub fn poll_scrub_completion(&self, interval: u32, timeout: u32) -> Result<()> {
        self.require_scrub()?;
        let file = self
            .device()
            .sysfs()
            .open_attr_for_poll(&self.path(), "nfit/scrub")?;
        let path = self.device().attr_path("nfit/scrub");
        let (mut interval, mut timeout) = (interval, timeout);
        loop {
            let state = self
                .scrub_state()
                .map_err(|e| unsupported_scrub(&path, e))?;
            let Some(state) = state else {
                return Err(Error::Unsupported {
                    object: path.display().to_string(),
                    reason: "scrub state unreadable".into(),
                });
            };
            if !state.active {
                return Ok(());
            }
            let secs = match (interval, timeout) {
                (i, 0) => i,
                (0, t) => t,
                (i, t) => i.min(t),
            };
            let ms: i32 = if secs == 0 {
                -1
            } else {
                i32::try_from(u64::from(secs) * 1000).unwrap_or(i32::MAX)
            };
            let mut fds = libc::pollfd {
                fd: file.as_raw_fd(),
                events: 0,
                revents: 0,
            };
            // SAFETY: one valid pollfd for the duration of the call.
            let rc = unsafe { libc::poll(&mut fds, 1, ms) };
            let poll_err = std::io::Error::last_os_error();
            let mut byte = [0u8; 1];
            // Reading the attribute re-arms sysfs notification.
            // SAFETY: a 1-byte buffer on the stack.
            if unsafe { libc::pread(file.as_raw_fd(), byte.as_mut_ptr().cast(), 1, 0) } < 0 {
                return Err(Error::io(&path, std::io::Error::last_os_error()));
            }
            if rc < 0 {
                return Err(Error::io(&path, poll_err));
            }
            if rc == 0 {
                if timeout == 0 {
                    continue;
                }
                if interval == 0 || interval > timeout {
                    return Err(Error::io(
                        &path,
                        std::io::Error::from_raw_os_error(libc::ETIMEDOUT),
                    ));
                }
                if timeout > interval {
                    timeout -= interval;
                } else {
                    timeout = 1;
                    interval = 0;
                }
            }
        }
    }

    /// Waits for the running scrub, however long (`ndctl_bus_wait_for_scrub_completion`).
    pub fn wait_for_scrub_completion(&self) -> Result<()> {
        self.poll_scrub_completion(0, 0)
    }
}

/// libndctl reports an unreadable or garbled scrub state while waiting as EOPNOTSUPP.
fn unsupported_scrub(path: &Path, e: Error) -> Error {
    Error::Unsupported {
        object: path.display().to_string(),
        reason: e.to_string(),
    }
}

//! Opening files that are used as handles rather than read as attributes: the control
//! nodes `/dev/ndctlN` / `/dev/nmemN` that commands are submitted on, and attributes that
//! are polled (`nfit/scrub`). Both go through the root like every other access.

use std::fs::File;
use std::path::Path;

use super::Sysfs;
use crate::error::{Error, Result};

impl Sysfs {
    /// Opens `/dev/<name>` read-write, requiring a character device numbered
    /// `major:minor` (the sysfs `dev` of the object), as libndctl requires of a control
    /// node before it issues an ioctl.
    ///
    /// A missing node fails with ENOENT; anything that is not that character device (a
    /// regular file, a FIFO, another device) with ENXIO, and is never opened.
    pub fn open_char_device(&self, name: &str, major: u32, minor: u32) -> Result<File> {
        let logical = Self::dev_path(name).ok_or_else(|| {
            Error::io(
                Path::new("/dev").join(name),
                std::io::Error::from_raw_os_error(libc::EINVAL),
            )
        })?;
        let resolved = self.resolve(&logical)?;
        self.root
            .open_char_device(
                &resolved,
                libc::O_RDWR | libc::O_CLOEXEC,
                libc::makedev(major, minor),
            )
            .map_err(|e| match e {
                Error::Io { source, .. } => Error::io(&logical, source),
                e => e,
            })
    }

    /// Opens the attribute `dir/name` read-only as a file to poll on (sysfs notifies
    /// changes of some attributes with `POLLPRI`); only a regular file is opened.
    pub fn open_attr_for_poll(&self, dir: &Path, name: &str) -> Result<File> {
        self.open_for_read(&dir.join(name))
    }
}

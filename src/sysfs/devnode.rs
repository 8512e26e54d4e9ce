//! Opening files that are used as handles rather than read as attributes: the control
//! nodes `/dev/ndctlN` / `/dev/nmemN` that commands are submitted on, and attributes that
//! are polled (`nfit/scrub`, `security`). Both are opened through the root like every
//! other file of [`Sysfs`].

use std::fs::File;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::Sysfs;
use crate::error::{Error, Result};

impl Sysfs {
    /// Opens `/dev/<name>` read-write, requiring a character device numbered
    /// `major:minor` (the sysfs `dev` of the object), as libndctl requires of a control
    /// node before it issues an ioctl.
    ///
    /// A missing node fails with ENOENT; anything that is not that character device (a
    /// regular placeholder file, another device) with ENXIO, and a FIFO or socket is
    /// refused by the root. The node is checked before the open, so a foreign device is
    /// never opened, and again on the opened file.
    pub fn open_char_device(&self, name: &str, major: u32, minor: u32) -> Result<File> {
        let logical = PathBuf::from(format!("/dev/{name}"));
        let enxio = || Error::io(&logical, io::Error::from_raw_os_error(libc::ENXIO));
        if self.dev_node(name).is_none() {
            return Err(Error::io(
                &logical,
                io::Error::from_raw_os_error(libc::ENOENT),
            ));
        }
        let is_ours = |m: &std::fs::Metadata| {
            m.file_type().is_char_device()
                && libc::major(m.rdev()) == major
                && libc::minor(m.rdev()) == minor
        };
        // A stat only (nothing is opened by host path): the resolved node's type and
        // numbers, so that a device that is not this object's is never opened.
        let meta = std::fs::symlink_metadata(self.host_path(&logical))
            .map_err(|e| Error::io(&logical, e))?;
        if !is_ours(&meta) {
            return Err(enxio());
        }
        let file = self.open_dev(name, libc::O_RDWR | libc::O_CLOEXEC)?;
        let meta = file.metadata().map_err(|e| Error::io(&logical, e))?;
        if !is_ours(&meta) {
            return Err(enxio());
        }
        Ok(file)
    }

    /// Opens the attribute `dir/name` read-only as a file to poll on (sysfs notifies
    /// changes of some attributes with `POLLPRI`).
    pub fn open_attr_for_poll(&self, dir: &Path, name: &str) -> Result<File> {
        self.open_for_read(&dir.join(name))
    }
}

//! Opening files that are used as handles rather than read as attributes: the control
//! nodes `/dev/ndctlN` / `/dev/nmemN` that commands are submitted on, and attributes that
//! are polled (`nfit/scrub`). Everything stays below the root, like the rest of [`Sysfs`].

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::Sysfs;
use crate::error::{Error, Result};

impl Sysfs {
    /// Opens `/dev/<name>` read-write, requiring a character device numbered
    /// `major:minor` (the sysfs `dev` of the object), as libndctl requires of a control
    /// node before it issues an ioctl.
    ///
    /// A missing node fails with ENOENT; anything that is not that character device (a
    /// regular file, a FIFO, another device) with ENXIO. The type is checked before the
    /// open, so a FIFO or a foreign device is never opened, and again on the opened file.
    pub fn open_char_device(&self, name: &str, major: u32, minor: u32) -> Result<File> {
        let logical = PathBuf::from(format!("/dev/{name}"));
        let enxio = || Error::io(&logical, io::Error::from_raw_os_error(libc::ENXIO));
        let host = self
            .dev_node(name)
            .ok_or_else(|| Error::io(&logical, io::Error::from_raw_os_error(libc::ENOENT)))?;
        let is_ours = |m: &std::fs::Metadata| {
            m.file_type().is_char_device()
                && libc::major(m.rdev()) == major
                && libc::minor(m.rdev()) == minor
        };
        let meta = std::fs::symlink_metadata(&host).map_err(|e| Error::io(&logical, e))?;
        if !is_ours(&meta) {
            return Err(enxio());
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .open(&host)
            .map_err(|e| Error::io(&logical, e))?;
        let meta = file.metadata().map_err(|e| Error::io(&logical, e))?;
        if !is_ours(&meta) {
            return Err(enxio());
        }
        Ok(file)
    }

    /// Opens the attribute `dir/name` read-only as a file to poll on (sysfs notifies
    /// changes of some attributes with `POLLPRI`).
    pub fn open_attr_for_poll(&self, dir: &Path, name: &str) -> Result<File> {
        let logical = dir.join(name);
        let resolved = self.resolve(&logical)?;
        OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .open(self.host_path(&resolved))
            .map_err(|e| Error::io(&logical, e))
    }
}

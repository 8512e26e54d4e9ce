//! Opening files that are used as handles rather than read as attributes: the control
//! nodes `/dev/ndctlN` / `/dev/nmemN` that commands are submitted on, and attributes that
//! are polled (`nfit/scrub`, a DIMM's health flags). Everything stays below the root and
//! goes through the confined resolver, like the rest of [`Sysfs`].

use std::fs::File;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::{Kind, Sysfs};
use crate::error::{Error, Result};

impl Sysfs {
    /// Opens `/dev/<name>` read-write, requiring a character device numbered
    /// `major:minor` (the sysfs `dev` of the object), as libndctl requires of a control
    /// node before it issues an ioctl.
    ///
    /// A missing node fails with ENOENT; anything that is not that character device (a
    /// regular file, a FIFO, another device) with ENXIO. FIFOs, sockets and directories
    /// are refused before any open; the opened file's type and numbers are checked again.
    pub fn open_char_device(&self, name: &str, major: u32, minor: u32) -> Result<File> {
        let logical = PathBuf::from(format!("/dev/{name}"));
        let enxio = || Error::io(&logical, io::Error::from_raw_os_error(libc::ENXIO));
        let file = match self.open_dev(name, libc::O_RDWR | libc::O_CLOEXEC) {
            Ok(f) => f,
            Err(Error::NotRegular { .. }) => return Err(enxio()),
            Err(e) => return Err(e),
        };
        let meta = file.metadata().map_err(|e| Error::io(&logical, e))?;
        let ours = meta.file_type().is_char_device()
            && libc::major(meta.rdev()) == major
            && libc::minor(meta.rdev()) == minor;
        if !ours {
            return Err(enxio());
        }
        Ok(file)
    }

    /// Opens the attribute `dir/name` read-only as a file to poll on (sysfs notifies
    /// changes of some attributes with `POLLPRI`).
    pub fn open_attr_for_poll(&self, dir: &Path, name: &str) -> Result<File> {
        let resolved = self.resolve(&dir.join(name))?;
        self.root
            .open_checked(&resolved, libc::O_RDONLY | libc::O_CLOEXEC, &[Kind::File])
    }
}

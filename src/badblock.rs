//! Known media errors (`badblocks` attributes): `"<first sector> <count>"` per line.

use std::path::Path;

use crate::error::{Error, Result};
use crate::sysfs::parse_u64;

/// A run of bad 512-byte sectors, as the kernel's `badblocks` lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadBlock {
    /// First bad sector (512-byte units from the start of the device).
    pub offset: u64,
    /// Number of bad sectors.
    pub len: u32,
}

/// Parse the lines of a `badblocks` attribute.
pub fn parse_badblocks(path: &Path, lines: &[String]) -> Result<Vec<BadBlock>> {
    lines
        .iter()
        .map(|l| {
            let mut it = l.split_whitespace();
            let (Some(a), Some(b), None) = (it.next(), it.next(), it.next()) else {
                return Err(Error::parse(path, l, "expected \"<sector> <count>\""));
            };
            let offset = parse_u64(path, a)?;
            let len = u32::try_from(parse_u64(path, b)?)
                .map_err(|_| Error::parse(path, l, "count out of range"))?;
            Ok(BadBlock { offset, len })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let p = Path::new("/sys/x/badblocks");
        let ok = parse_badblocks(p, &["8 1".into(), "4096 8".into()]).unwrap();
        assert_eq!(
            ok,
            vec![
                BadBlock { offset: 8, len: 1 },
                BadBlock {
                    offset: 4096,
                    len: 8
                }
            ]
        );
        for bad in ["8", "8 1 2", "x 1", "1 99999999999"] {
            assert!(parse_badblocks(p, &[bad.to_string()]).is_err(), "{bad}");
        }
    }
}

//! Writes the sysfs tree of the kernel's `nfit_test` platform into a directory and prints
//! that directory, ready to be used as `NDCTL_ROOT`:
//!
//! ```text
//! cargo run --example nfit_test_tree -- /tmp/nfit [--with-blk | --scale N] [--share-files]
//! NDCTL_ROOT=/tmp/nfit cargo run --example list -- -BDRNXi -vvv
//! ```
//!
//! Without `--with-blk` the tree is the PMEM-only platform a Linux 6.1 kernel shows after
//! `modprobe nfit_test`; with it, the seed document's platform with four BLK regions.
//! `--scale N` writes the benchmark's platform instead: one bus, eight DIMMs and N
//! namespaces in raw, sector, fsdax and devdax mode (`Platform::scale`).
//! `--share-files` writes files of equal mode and contents as hard links of one another, as
//! the list benchmark does to fit 100,000 namespaces in memory.
//! The directory must not exist yet or be empty.

use std::path::PathBuf;
use std::process::ExitCode;

use ndctl_testsupport::fixture::nfit_test::{write_rendered, Platform, Variant};

const USAGE: &str = "usage: nfit_test_tree DIR [--with-blk | --scale NAMESPACES] [--share-files]";

fn main() -> ExitCode {
    let mut dir: Option<PathBuf> = None;
    let mut platform = Platform::nfit_test(Variant::Pmem);
    let mut share_files = false;
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--with-blk") => platform = Platform::nfit_test(Variant::WithBlk),
            Some("--share-files") => share_files = true,
            Some("--scale") => match args.next().and_then(|n| n.to_str()?.parse().ok()) {
                Some(n) => platform = Platform::scale(n),
                None => {
                    eprintln!("nfit_test_tree: --scale needs a number of namespaces\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            Some("-h" | "--help") => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            Some(s) if s.starts_with('-') => {
                eprintln!("nfit_test_tree: unknown option {s}\n{USAGE}");
                return ExitCode::from(2);
            }
            _ if dir.is_none() => dir = Some(PathBuf::from(arg)),
            _ => {
                eprintln!("nfit_test_tree: more than one directory given\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let Some(dir) = dir else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let written = platform
        .render()
        .and_then(|sysfs| write_rendered(&dir, platform, sysfs, share_files));
    match written {
        Ok(tree) => {
            // Print an absolute root so the output can be pasted into NDCTL_ROOT as is.
            let root = std::fs::canonicalize(&tree.root).unwrap_or(tree.root);
            println!("{}", root.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("nfit_test_tree: {e}");
            ExitCode::FAILURE
        }
    }
}

//! `ndctl list` over the Rust object model.
//!
//! ```text
//! cargo run --example list -- [--root DIR | --nfit-test [--with-blk]] [-BDRNXiCMu] [-v...]
//!                               [--bus B] [--region R] [--namespace N] [--dimm D] ...
//! ```
//! The root defaults to `$NDCTL_ROOT`, else `/`. `--nfit-test` lists a freshly generated
//! tree of the kernel's nfit_test buses instead.
//!
//! Output into a closed pipe (`list | head -1`) ends the program quietly with status 0:
//! the reader has all it wanted.

use std::io::Write;
use std::process::ExitCode;

use ndctl::list::list;
use ndctl::Ctx;
use ndctl_testsupport::fixture::nfit_test::{write_tree, Variant};
use ndctl_testsupport::list_cli::{parse_args, to_pretty};

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut root = None;
    if let Some(i) = args.iter().position(|a| a == "--root") {
        if i + 1 >= args.len() {
            eprintln!("list: --root needs a directory");
            return ExitCode::from(2);
        }
        root = Some(args.remove(i + 1));
        args.remove(i);
    }
    let mut generated = None;
    if let Some(i) = args.iter().position(|a| a == "--nfit-test") {
        args.remove(i);
        let variant = match args.iter().position(|a| a == "--with-blk") {
            Some(j) => {
                args.remove(j);
                Variant::WithBlk
            }
            None => Variant::Pmem,
        };
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => {
                eprintln!("list: {e}");
                return ExitCode::from(2);
            }
        };
        let tree_root = dir.path().join("root");
        if let Err(e) = write_tree(&tree_root, variant) {
            eprintln!("list: writing the nfit_test tree: {e}");
            return ExitCode::from(2);
        }
        root = Some(tree_root.to_string_lossy().into_owned());
        generated = Some(dir);
    }
    let opts = match parse_args(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("list: {e}");
            return ExitCode::from(2);
        }
    };
    let ctx = match root {
        Some(r) => Ctx::with_root(r),
        None => Ctx::new(),
    };
    let result = ctx.and_then(|ctx| list(&ctx, &opts));
    drop(generated);
    match result {
        Ok(Some(v)) => {
            let empty = match &v {
                serde_json::Value::Array(a) => a.is_empty(),
                _ => false,
            };
            if empty {
                eprintln!("  warning: no matching devices found");
                return ExitCode::SUCCESS;
            }
            let mut out = std::io::stdout().lock();
            match writeln!(out, "{}", to_pretty(&v)).and_then(|()| out.flush()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("list: writing the listing: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("list: {e}");
            ExitCode::FAILURE
        }
    }
}

//! Shared set-up of the seed-document examples: a context on `--root DIR`, on
//! `$NDCTL_ROOT`, or else on a freshly generated nfit_test tree.

use std::process::ExitCode;

use crate::fixture::nfit_test::{write_tree, Variant};
use ndctl::Ctx;

pub struct Setup {
    pub ctx: Ctx,
    // Keeps a generated tree alive for the run.
    _tree: Option<tempfile::TempDir>,
}

pub fn setup() -> Result<Setup, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let with_blk = args.iter().any(|a| a == "--with-blk");
    if let Some(i) = args.iter().position(|a| a == "--root") {
        let root = args.get(i + 1).ok_or("--root needs a directory")?;
        let ctx = Ctx::with_root(root).map_err(|e| e.to_string())?;
        return Ok(Setup { ctx, _tree: None });
    }
    if std::env::var_os(ndctl::ctx::ROOT_ENV).is_some() {
        let ctx = Ctx::new().map_err(|e| e.to_string())?;
        return Ok(Setup { ctx, _tree: None });
    }
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let root = dir.path().join("root");
    let variant = if with_blk {
        Variant::WithBlk
    } else {
        Variant::Pmem
    };
    write_tree(&root, variant).map_err(|e| format!("writing the nfit_test tree: {e}"))?;
    let ctx = Ctx::with_root(&root).map_err(|e| e.to_string())?;
    Ok(Setup {
        ctx,
        _tree: Some(dir),
    })
}

/// Run an example body: print its finding, exit 1 if it found nothing, 2 on errors.
pub fn run(
    name: &str,
    body: impl FnOnce(&Ctx) -> Result<Option<String>, ndctl::Error>,
) -> ExitCode {
    let s = match setup() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{name}: {e}");
            return ExitCode::from(2);
        }
    };
    match body(&s.ctx) {
        Ok(Some(found)) => {
            println!("{found}");
            ExitCode::SUCCESS
        }
        Ok(None) => {
            eprintln!("{name}: not found");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::from(2)
        }
    }
}

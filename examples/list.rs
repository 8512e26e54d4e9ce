//! `ndctl list` over the Rust object model.
//!
//! ```text
//! cargo run --example list -- [--root DIR] [-BDRNXiCMu] [-v...] [--bus B] [--region R] ...
//! ```
//! The root defaults to `$NDCTL_ROOT`, else `/`.

use std::process::ExitCode;

use ndctl::list::{list, to_pretty, Options};
use ndctl::Ctx;

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
    let opts = match Options::parse_args(&args) {
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
    match result {
        Ok(Some(v)) => {
            let empty = match &v {
                serde_json::Value::Array(a) => a.is_empty(),
                _ => false,
            };
            if empty {
                eprintln!("  warning: no matching devices found");
            } else {
                println!("{}", to_pretty(&v));
            }
            ExitCode::SUCCESS
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("list: {e}");
            ExitCode::FAILURE
        }
    }
}

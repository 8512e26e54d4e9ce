//! Test support of the `ndctl` workspace, kept out of the shipped crate: it is a
//! dev-dependency of the crate, of `capi`, of the examples and of the benches.
//!
//! * [`fixture`]: sysfs trees that look like what a real kernel exports (the `nfit_test`
//!   topology), written under a root directory.
//! * [`captures`]: the real-kernel captures in `tests/fixtures`, their ndctl JSON, and JSON
//!   comparison.
//! * [`btt`]: the kernel-written BTT images and the sectors the kernel wrote.
//! * [`crash`]: a storage wrapper that replays a BTT engine's writes as a power loss would
//!   leave them.
//! * [`capi`]: building and linking the C library and C programs in tests.
//! * [`list_cli`]: the `list` example's command line and json-c style printer.
//! * [`seed`]: the set-up of the seed-document examples.

use std::path::{Path, PathBuf};

pub mod btt;
pub mod capi;
pub mod captures;
pub mod crash;
pub mod fixture;
pub mod list_cli;
pub mod seed;

/// The workspace's top directory (the `ndctl` crate's manifest directory).
pub fn repo_dir() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

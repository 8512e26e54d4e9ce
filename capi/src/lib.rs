//! `libndctl.so.6` / `libndctl.a`: the C ABI of libndctl over the `ndctl` crate.
//!
//! Every exported function is a `#[no_mangle] pub unsafe extern "C" fn ndctl_...` (or
//! `pub extern "C" fn` when it takes no pointers) whose body runs inside
//! [`ffi::ffi_guard`] through the `guard!` macro. The build script finds these functions by name, places each at its
//! libndctl version node from `libndctl.tsv`, and generates the C header with cbindgen.
//! See `capi/README.md` for how the pieces fit together.
#![allow(non_camel_case_types)]
// Every export has libndctl's safety contract, stated once in `ffi`'s module documentation
// (handle arguments are NULL or live handles of an unreleased context, buffers as libndctl
// documents them) rather than in each function's documentation, which becomes the C header.
#![allow(clippy::missing_safety_doc)]

pub mod ctypes;
#[macro_use]
pub mod ffi;
pub mod log;
pub mod misc;

pub mod ars;
pub mod badblock;
pub mod btt;
pub mod bus;
pub mod cmd;
pub mod ctx;
pub mod dax;
mod daxctl;
pub mod dimm;
pub mod firmware;
pub mod handles;
pub mod mapping;
pub mod namespace;
pub mod pfn;
mod pfn_shared;
pub mod region;
pub mod security;
pub mod smart;
mod state;

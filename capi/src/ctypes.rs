//! C types of the libndctl ABI that have no direct Rust spelling.
//!
//! cbindgen does not emit these aliases (they are excluded in `cbindgen.toml`); it prints
//! their C names in prototypes instead (`uuid_t uu`, `va_list args`, `enum ndctl_pfn_loc`),
//! and the header prologue supplies the C definitions. The Rust side only needs an
//! ABI-identical stand-in.
#![allow(non_camel_case_types)]

use std::ffi::{c_int, c_uchar, c_void};

/// `uuid_t` is `unsigned char[16]`; as a parameter the array decays to a pointer.
pub type uuid_t = *mut c_uchar;

/// `va_list` as a function parameter. On x86-64 it is an array type (decays to a pointer)
/// and on AArch64 a 32-byte struct passed by reference, so a pointer is ABI-correct where
/// libndctl runs. Rust never reads it: only the C shim creates one and only the user's
/// callback consumes it.
pub type va_list = *mut c_void;

/// `ssize_t` (used by the command layer's cfg/vendor payload accessors).
pub type ssize_t = isize;

// libndctl returns some enums together with negative errno values in the same slot
// (e.g. `ndctl_namespace_get_mode()` can return -ENXIO); a Rust `enum` would make that
// undefined behaviour, so every C enum crosses the ABI as its underlying `int`.
// The C header renames each alias back to `enum <name>`.

/// `enum ndctl_persistence_domain` (`PERSISTENCE_*`).
pub type ndctl_persistence_domain = c_int;
/// `enum ndctl_fwa_state` (`NDCTL_FWA_*`).
pub type ndctl_fwa_state = c_int;
/// `enum ndctl_fwa_method` (`NDCTL_FWA_METHOD_*`).
pub type ndctl_fwa_method = c_int;
/// `enum ndctl_fwa_result` (`NDCTL_FWA_RESULT_*`).
pub type ndctl_fwa_result = c_int;
/// `enum ndctl_namespace_version` (`NDCTL_NS_VERSION_*`).
pub type ndctl_namespace_version = c_int;
/// `enum ndctl_namespace_mode` (`NDCTL_NS_MODE_*`); may carry a negative errno.
pub type ndctl_namespace_mode = c_int;
/// `enum ndctl_pfn_loc` (`NDCTL_PFN_LOC_*`).
pub type ndctl_pfn_loc = c_int;
/// `enum ndctl_security_state` (`NDCTL_SECURITY_*`).
pub type ndctl_security_state = c_int;
/// `enum ND_FW_STATUS` (`FW_*`).
pub type ND_FW_STATUS = c_int;

/// One entry of a region's or namespace's `badblocks` list (`struct badblock`): a run of
/// `len` 512-byte sectors starting at sector `offset`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct badblock {
    /// First bad sector.
    pub offset: std::ffi::c_ulonglong,
    /// Number of bad sectors.
    pub len: std::ffi::c_uint,
}

/// `struct ndctl_range`, filled by `ndctl_cmd_ars_cap_get_range()`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ndctl_range {
    /// Start of the range (system physical address).
    pub address: std::ffi::c_ulonglong,
    /// Length in bytes.
    pub length: std::ffi::c_ulonglong,
}

//! The context-free helpers of libndctl (group `misc` of `libndctl.tsv`).

use std::ffi::{c_double, c_uint};

/// Smallest namespace libndctl lets a label-based namespace have (16 MiB; the kernel's
/// `NSLABEL_NAMESPACE_MIN_SIZE`).
pub const MIN_NAMESPACE_SIZE: usize = 16 << 20;

/// Size of one namespace index block in the label area: the 72-byte index header rounded
/// up to the 256-byte granularity the label format uses for index blocks.
pub const NAMESPACE_INDEX_SIZE: usize = 256;

/// Size of a v1.1 namespace label (the label up to, not including, its `type_guid` field).
pub const NAMESPACE_LABEL_SIZE: usize = 128;

/// Minimum size of a label-based namespace in bytes (16 MiB).
#[no_mangle]
pub extern "C" fn ndctl_min_namespace_size() -> usize {
    MIN_NAMESPACE_SIZE
}

/// Size in bytes of one namespace index block (256).
#[no_mangle]
pub extern "C" fn ndctl_sizeof_namespace_index() -> usize {
    NAMESPACE_INDEX_SIZE
}

/// Size in bytes of a v1.1 namespace label (128); see
/// `ndctl_dimm_sizeof_namespace_label()` for the size a given DIMM actually uses.
#[no_mangle]
pub extern "C" fn ndctl_sizeof_namespace_label() -> usize {
    NAMESPACE_LABEL_SIZE
}

/// Decodes a SMART temperature: bit 15 is the sign, every other bit is magnitude in
/// 1/16 degree Celsius (`0x8170` is -23.0).
#[no_mangle]
pub extern "C" fn ndctl_decode_smart_temperature(temp: c_uint) -> c_double {
    guard!(0.0, Some(ndctl::cmd::family::decode_smart_temperature(temp)))
}

/// Encodes degrees Celsius as a SMART temperature (see
/// `ndctl_decode_smart_temperature()`); fractions of a degree are truncated.
#[no_mangle]
pub extern "C" fn ndctl_encode_smart_temperature(temp: c_double) -> c_uint {
    guard!(0, Some(ndctl::cmd::family::encode_smart_temperature(temp)))
}

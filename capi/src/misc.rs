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

/// Sign bit of a SMART temperature (units of 1/16 degree Celsius, sign-magnitude).
const SMART_TEMP_SIGN: c_uint = 1 << 15;

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
    guard!(0.0, Some(decode_smart_temperature(temp)))
}

/// Encodes degrees Celsius as a SMART temperature (see
/// `ndctl_decode_smart_temperature()`); fractions of a degree are truncated.
#[no_mangle]
pub extern "C" fn ndctl_encode_smart_temperature(temp: c_double) -> c_uint {
    guard!(0, Some(encode_smart_temperature(temp)))
}

/// See [`ndctl_decode_smart_temperature`].
pub fn decode_smart_temperature(temp: c_uint) -> f64 {
    let magnitude = f64::from(temp & !SMART_TEMP_SIGN) / 16.0;
    if temp & SMART_TEMP_SIGN != 0 {
        -magnitude
    } else {
        magnitude
    }
}

/// See [`ndctl_encode_smart_temperature`].
///
/// Out-of-range input is not rejected by libndctl's C code (its double-to-integer conversion
/// is undefined there); this reproduces what Debian's x86-64 build returns, so the two
/// libraries agree bit for bit: the whole degrees are taken modulo 2^32 before the
/// multiplication by 16 (which wraps), NaN and magnitudes of 2^63 or more give magnitude 0,
/// and any negative input (including -inf) sets the sign bit.
pub fn encode_smart_temperature(temp: f64) -> c_uint {
    let negative = temp < 0.0;
    let magnitude = if negative { -temp } else { temp };
    // Mirrors a 64-bit truncating conversion whose "invalid" result has zero low bits.
    let whole = if magnitude.is_finite() && magnitude < 9_223_372_036_854_775_808.0 {
        // Truncation toward zero is the documented intent; the value fits in i64 here.
        (magnitude as i64) as u32
    } else {
        0
    };
    let encoded = whole.wrapping_mul(16);
    if negative {
        encoded | SMART_TEMP_SIGN
    } else {
        encoded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values were read from Debian's libndctl 76.1 on x86-64
    // (tests/c/misc-diff.c compares the full range against it when it is installed).
    #[test]
    fn decode_matches_libndctl() {
        assert_eq!(decode_smart_temperature(0x170), 23.0);
        assert_eq!(decode_smart_temperature(0x8170), -23.0);
        assert_eq!(decode_smart_temperature(0x1), 0.0625);
        assert_eq!(decode_smart_temperature(0x10170), 4119.0);
        assert_eq!(decode_smart_temperature(0x18170), -4119.0);
        assert!(decode_smart_temperature(0x8000).is_sign_negative());
        assert_eq!(
            decode_smart_temperature(u32::MAX),
            -(0xffff_7fffu32 as f64) / 16.0
        );
    }

    #[test]
    fn encode_matches_libndctl() {
        let cases: &[(f64, u32)] = &[
            (0.0, 0),
            (-0.0, 0),
            (23.0, 0x170),
            (-23.0, 0x8170),
            (23.99, 0x170),
            (0.0625, 0),
            (-0.01, 0x8000),
            (2048.0, 0x8000),
            (4096.0, 0x10000),
            (-4096.0, 0x18000),
            (1e9, 0xb9ac_a000),
            (-1e9, 0xb9ac_a000),
            (4_294_967_295.0, 0xffff_fff0),
            (4_294_967_296.0, 0),
            (5e9, 0xa05f_2000),
            (-5e9, 0xa05f_a000),
            (9.2e18, 0xd980_0000),
            (9.3e18, 0),
            (-1e20, 0x8000),
            (f64::NAN, 0),
            (f64::INFINITY, 0),
            (f64::NEG_INFINITY, 0x8000),
        ];
        for &(t, want) in cases {
            assert_eq!(encode_smart_temperature(t), want, "encode({t})");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(ndctl_min_namespace_size(), 16 * 1024 * 1024);
        assert_eq!(ndctl_sizeof_namespace_index(), 256);
        assert_eq!(ndctl_sizeof_namespace_label(), 128);
    }
}

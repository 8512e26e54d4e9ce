//! The kernel's command ABI (`include/uapi/linux/ndctl.h` and libndctl's
//! `libndctl-nfit.h`): command numbers, ioctl numbers and payload layouts as byte offsets.
//!
//! Every structure is packed and little-endian (`__u32`, `__u64`); offsets are given here
//! explicitly and read/written only through [`get_u32`] / [`put_u64`] and friends, which
//! bounds-check every access instead of trusting a length from the kernel.

/// `ND_CMD_*` numbers. Bus and DIMM commands share the number space.
pub mod nd_cmd {
    /// Bus: address range scrub capabilities.
    pub const ARS_CAP: u32 = 1;
    /// Bus: start an address range scrub.
    pub const ARS_START: u32 = 2;
    /// Bus: address range scrub status and error records.
    pub const ARS_STATUS: u32 = 3;
    /// Bus: clear poison in a range.
    pub const CLEAR_ERROR: u32 = 4;
    /// DIMM: SMART health data.
    pub const SMART: u32 = 1;
    /// DIMM: SMART thresholds.
    pub const SMART_THRESHOLD: u32 = 2;
    /// DIMM: state flags.
    pub const DIMM_FLAGS: u32 = 3;
    /// DIMM: size of the label storage area.
    pub const GET_CONFIG_SIZE: u32 = 4;
    /// DIMM: read the label storage area.
    pub const GET_CONFIG_DATA: u32 = 5;
    /// DIMM: write the label storage area.
    pub const SET_CONFIG_DATA: u32 = 6;
    /// DIMM: size of the vendor effect log.
    pub const VENDOR_EFFECT_LOG_SIZE: u32 = 7;
    /// DIMM: the vendor effect log.
    pub const VENDOR_EFFECT_LOG: u32 = 8;
    /// DIMM: vendor-specific pass-through.
    pub const VENDOR: u32 = 9;
    /// Bus and DIMM: a DSM function of a command family (`struct nd_cmd_pkg`).
    pub const CALL: u32 = 10;
}

/// `NVDIMM_FAMILY_*` values of `nd_cmd_pkg.nd_family` for DIMMs.
pub mod family {
    /// Intel DSM (also the family nfit_test emulates).
    pub const INTEL: u32 = 0;
    /// HPE type 1.
    pub const HPE1: u32 = 1;
    /// HPE type 2.
    pub const HPE2: u32 = 2;
    /// Microsoft.
    pub const MSFT: u32 = 3;
    /// Hyper-V.
    pub const HYPERV: u32 = 4;
    /// IBM PAPR SCM.
    pub const PAPR: u32 = 5;
}

/// NFIT bus DSM function numbers (`NFIT_CMD_*`), sent with `nd_family` 0
/// (`NVDIMM_BUS_FAMILY_NFIT`) on `/dev/ndctlN`.
pub mod nfit_cmd {
    /// Translate a system physical address to DIMM and DIMM physical address.
    pub const TRANSLATE_SPA: u32 = 5;
    /// Inject a media error in a range.
    pub const ARS_INJECT_SET: u32 = 7;
    /// Remove injected media errors from a range.
    pub const ARS_INJECT_CLEAR: u32 = 8;
    /// List injected media errors.
    pub const ARS_INJECT_GET: u32 = 9;
}

/// The ioctl type letter of the nd ioctls.
const ND_IOCTL: u64 = b'N' as u64;

/// `_IOWR(ND_IOCTL, nr, size)` as the kernel encodes it on x86-64 and arm64.
pub const fn iowr(nr: u32, size: usize) -> u64 {
    (3 << 30) | ((size as u64) << 16) | (ND_IOCTL << 8) | nr as u64
}

/// `ND_IOCTL_ARS_CAP`.
pub const IOCTL_ARS_CAP: u64 = iowr(nd_cmd::ARS_CAP, ARS_CAP_SIZE);
/// `ND_IOCTL_ARS_START`.
pub const IOCTL_ARS_START: u64 = iowr(nd_cmd::ARS_START, ARS_START_SIZE);
/// `ND_IOCTL_ARS_STATUS`.
pub const IOCTL_ARS_STATUS: u64 = iowr(nd_cmd::ARS_STATUS, ARS_STATUS_HDR);
/// `ND_IOCTL_CLEAR_ERROR`.
pub const IOCTL_CLEAR_ERROR: u64 = iowr(nd_cmd::CLEAR_ERROR, CLEAR_ERROR_SIZE);
/// `ND_IOCTL_DIMM_FLAGS`.
pub const IOCTL_DIMM_FLAGS: u64 = iowr(nd_cmd::DIMM_FLAGS, 8);
/// `ND_IOCTL_GET_CONFIG_SIZE`.
pub const IOCTL_GET_CONFIG_SIZE: u64 = iowr(nd_cmd::GET_CONFIG_SIZE, CONFIG_SIZE_SIZE);
/// `ND_IOCTL_GET_CONFIG_DATA`.
pub const IOCTL_GET_CONFIG_DATA: u64 = iowr(nd_cmd::GET_CONFIG_DATA, GET_DATA_HDR);
/// `ND_IOCTL_SET_CONFIG_DATA`.
pub const IOCTL_SET_CONFIG_DATA: u64 = iowr(nd_cmd::SET_CONFIG_DATA, SET_DATA_HDR);
/// `ND_IOCTL_VENDOR`.
pub const IOCTL_VENDOR: u64 = iowr(nd_cmd::VENDOR, VENDOR_HDR);
/// `ND_IOCTL_CALL`.
pub const IOCTL_CALL: u64 = iowr(nd_cmd::CALL, PKG_HDR);

// struct nd_cmd_ars_cap { u64 address; u64 length; u32 status; u32 max_ars_out;
//                         u32 clear_err_unit; u16 flags; u16 reserved; }
/// Size of `struct nd_cmd_ars_cap`.
pub const ARS_CAP_SIZE: usize = 32;
/// `nd_cmd_ars_cap.address`.
pub const ARS_CAP_ADDRESS: usize = 0;
/// `nd_cmd_ars_cap.length`.
pub const ARS_CAP_LENGTH: usize = 8;
/// `nd_cmd_ars_cap.status`.
pub const ARS_CAP_STATUS: usize = 16;
/// `nd_cmd_ars_cap.max_ars_out`.
pub const ARS_CAP_MAX_ARS_OUT: usize = 20;
/// `nd_cmd_ars_cap.clear_err_unit`.
pub const ARS_CAP_CLEAR_ERR_UNIT: usize = 24;
/// `nd_cmd_ars_cap.flags`.
pub const ARS_CAP_FLAGS: usize = 28;

// struct nd_cmd_ars_start { u64 address; u64 length; u16 type; u8 flags; u8 reserved[5];
//                           u32 status; u32 scrub_time; }
/// Size of `struct nd_cmd_ars_start`.
pub const ARS_START_SIZE: usize = 32;
/// `nd_cmd_ars_start.address`.
pub const ARS_START_ADDRESS: usize = 0;
/// `nd_cmd_ars_start.length`.
pub const ARS_START_LENGTH: usize = 8;
/// `nd_cmd_ars_start.type`.
pub const ARS_START_TYPE: usize = 16;
/// `nd_cmd_ars_start.flags`.
pub const ARS_START_FLAGS: usize = 18;
/// `nd_cmd_ars_start.status`.
pub const ARS_START_STATUS: usize = 24;
/// `nd_cmd_ars_start.scrub_time`.
pub const ARS_START_SCRUB_TIME: usize = 28;

// struct nd_cmd_ars_status { u32 status; u32 out_length; u64 address; u64 length;
//   u64 restart_address; u64 restart_length; u16 type; u16 flags; u32 num_records;
//   struct nd_ars_record { u32 handle; u32 reserved; u64 err_address; u64 length; } records[]; }
/// Size of `struct nd_cmd_ars_status` without its records.
pub const ARS_STATUS_HDR: usize = 48;
/// `nd_cmd_ars_status.status`.
pub const ARS_STATUS_STATUS: usize = 0;
/// `nd_cmd_ars_status.out_length`.
pub const ARS_STATUS_OUT_LENGTH: usize = 4;
/// `nd_cmd_ars_status.address`.
pub const ARS_STATUS_ADDRESS: usize = 8;
/// `nd_cmd_ars_status.length`.
pub const ARS_STATUS_LENGTH: usize = 16;
/// `nd_cmd_ars_status.restart_address`.
pub const ARS_STATUS_RESTART_ADDRESS: usize = 24;
/// `nd_cmd_ars_status.restart_length`.
pub const ARS_STATUS_RESTART_LENGTH: usize = 32;
/// `nd_cmd_ars_status.type`.
pub const ARS_STATUS_TYPE: usize = 40;
/// `nd_cmd_ars_status.flags`.
pub const ARS_STATUS_FLAGS: usize = 42;
/// `nd_cmd_ars_status.num_records`.
pub const ARS_STATUS_NUM_RECORDS: usize = 44;
/// Size of `struct nd_ars_record`.
pub const ARS_RECORD_SIZE: usize = 24;
/// `nd_ars_record.handle`.
pub const ARS_RECORD_HANDLE: usize = 0;
/// `nd_ars_record.err_address`.
pub const ARS_RECORD_ERR_ADDRESS: usize = 8;
/// `nd_ars_record.length`.
pub const ARS_RECORD_LENGTH: usize = 16;
/// `ND_ARS_STAT_FLAG_OVERFLOW`: the platform had more records than fit.
pub const ARS_STAT_FLAG_OVERFLOW: u16 = 1 << 0;

// struct nd_cmd_clear_error { u64 address; u64 length; u32 status; u8 reserved[4]; u64 cleared; }
/// Size of `struct nd_cmd_clear_error`.
pub const CLEAR_ERROR_SIZE: usize = 32;
/// `nd_cmd_clear_error.address`.
pub const CLEAR_ERROR_ADDRESS: usize = 0;
/// `nd_cmd_clear_error.length`.
pub const CLEAR_ERROR_LENGTH: usize = 8;
/// `nd_cmd_clear_error.status`.
pub const CLEAR_ERROR_STATUS: usize = 16;
/// `nd_cmd_clear_error.cleared`.
pub const CLEAR_ERROR_CLEARED: usize = 24;

/// `ND_ARS_VOLATILE`: scrub volatile memory ranges.
pub const ARS_VOLATILE: u16 = 1;
/// `ND_ARS_PERSISTENT`: scrub persistent memory ranges.
pub const ARS_PERSISTENT: u16 = 2;
/// `ARS_STATUS_MASK`: the status part of an ARS firmware status.
pub const ARS_STATUS_MASK: u32 = 0xffff;
/// `ARS_EXT_STATUS_SHIFT`: the extended status (for ARS cap, the supported scrub types).
pub const ARS_EXT_STATUS_SHIFT: u32 = 16;

// struct nd_cmd_get_config_size { u32 status; u32 config_size; u32 max_xfer; }
/// Size of `struct nd_cmd_get_config_size`.
pub const CONFIG_SIZE_SIZE: usize = 12;
/// `nd_cmd_get_config_size.status`.
pub const CONFIG_SIZE_STATUS: usize = 0;
/// `nd_cmd_get_config_size.config_size`.
pub const CONFIG_SIZE_CONFIG_SIZE: usize = 4;
/// `nd_cmd_get_config_size.max_xfer`.
pub const CONFIG_SIZE_MAX_XFER: usize = 8;

// struct nd_cmd_get_config_data_hdr { u32 in_offset; u32 in_length; u32 status; u8 out_buf[]; }
/// Size of `struct nd_cmd_get_config_data_hdr`.
pub const GET_DATA_HDR: usize = 12;
/// `nd_cmd_get_config_data_hdr.in_offset`.
pub const GET_DATA_IN_OFFSET: usize = 0;
/// `nd_cmd_get_config_data_hdr.in_length`.
pub const GET_DATA_IN_LENGTH: usize = 4;
/// `nd_cmd_get_config_data_hdr.status`.
pub const GET_DATA_STATUS: usize = 8;

// struct nd_cmd_set_config_hdr { u32 in_offset; u32 in_length; u8 in_buf[]; } + u32 status
/// Size of `struct nd_cmd_set_config_hdr`; the u32 status follows `in_length` data bytes.
pub const SET_DATA_HDR: usize = 8;
/// `nd_cmd_set_config_hdr.in_offset`.
pub const SET_DATA_IN_OFFSET: usize = 0;
/// `nd_cmd_set_config_hdr.in_length`.
pub const SET_DATA_IN_LENGTH: usize = 4;

// struct nd_cmd_vendor_hdr { u32 opcode; u32 in_length; u8 in_buf[]; }
// struct nd_cmd_vendor_tail { u32 status; u32 out_length; u8 out_buf[]; } (after in_buf)
/// Size of `struct nd_cmd_vendor_hdr`.
pub const VENDOR_HDR: usize = 8;
/// Size of `struct nd_cmd_vendor_tail` without its data.
pub const VENDOR_TAIL: usize = 8;
/// `nd_cmd_vendor_hdr.opcode`.
pub const VENDOR_OPCODE: usize = 0;
/// `nd_cmd_vendor_hdr.in_length`.
pub const VENDOR_IN_LENGTH: usize = 4;

// struct nd_cmd_pkg { u64 nd_family; u64 nd_command; u32 nd_size_in; u32 nd_size_out;
//                     u32 nd_reserved2[9]; u32 nd_fw_size; unsigned char nd_payload[]; }
/// Size of `struct nd_cmd_pkg` before its payload.
pub const PKG_HDR: usize = 64;
/// `nd_cmd_pkg.nd_family`.
pub const PKG_FAMILY: usize = 0;
/// `nd_cmd_pkg.nd_command`.
pub const PKG_COMMAND: usize = 8;
/// `nd_cmd_pkg.nd_size_in`.
pub const PKG_SIZE_IN: usize = 16;
/// `nd_cmd_pkg.nd_size_out`.
pub const PKG_SIZE_OUT: usize = 20;
/// `nd_cmd_pkg.nd_fw_size`: bytes the firmware actually returned.
pub const PKG_FW_SIZE: usize = 60;

// Packed NFIT bus payloads (libndctl-nfit.h).
/// `struct nd_cmd_ars_err_inj` { u64 base; u64 length; u8 options; u32 status; }: size.
pub const ERR_INJ_SIZE: usize = 21;
/// `nd_cmd_ars_err_inj.err_inj_options`.
pub const ERR_INJ_OPTIONS: usize = 16;
/// `nd_cmd_ars_err_inj.status` (also the input size).
pub const ERR_INJ_STATUS: usize = 17;
/// `ND_ARS_ERR_INJ_OPT_NOTIFY`: bit number of "notify the OS" in the options.
pub const ERR_INJ_OPT_NOTIFY: u32 = 0;
/// `struct nd_cmd_ars_err_inj_clr` { u64 base; u64 length; u32 status; }: size.
pub const ERR_INJ_CLR_SIZE: usize = 20;
/// `nd_cmd_ars_err_inj_clr.status` (also the input size).
pub const ERR_INJ_CLR_STATUS: usize = 16;
/// `struct nd_cmd_ars_err_inj_stat` { u32 status; u32 inj_err_rec_count; records[] }: header.
pub const ERR_INJ_STAT_HDR: usize = 8;
/// `nd_cmd_ars_err_inj_stat.inj_err_rec_count`.
pub const ERR_INJ_STAT_COUNT: usize = 4;
/// `struct nd_error_stat_query_record` { u64 base; u64 length; }: size.
pub const ERR_INJ_STAT_RECORD: usize = 16;
/// `ND_ARS_ERR_INJ_STATUS_NOT_SUPP`.
pub const ERR_INJ_STATUS_NOT_SUPP: u32 = 1;
/// `ND_ARS_ERR_INJ_STATUS_INVALID_PARAM`.
pub const ERR_INJ_STATUS_INVALID_PARAM: u32 = 2;
/// `nd_cmd_translate_spa.status` (after the u64 spa).
pub const TRANSLATE_SPA_STATUS: usize = 8;

/// Little-endian u16 at `at`, `None` when the buffer is too short.
pub fn get_u16(buf: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        buf.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

/// Little-endian u32 at `at`, `None` when the buffer is too short.
pub fn get_u32(buf: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        buf.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// Little-endian u64 at `at`, `None` when the buffer is too short.
pub fn get_u64(buf: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        buf.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

/// Writes `bytes` at `at`; false (and nothing written) when they do not fit.
pub fn put(buf: &mut [u8], at: usize, bytes: &[u8]) -> bool {
    match at
        .checked_add(bytes.len())
        .and_then(|end| buf.get_mut(at..end))
    {
        Some(dst) => {
            dst.copy_from_slice(bytes);
            true
        }
        None => false,
    }
}

/// Writes a little-endian u16.
pub fn put_u16(buf: &mut [u8], at: usize, v: u16) -> bool {
    put(buf, at, &v.to_le_bytes())
}

/// Writes a little-endian u32.
pub fn put_u32(buf: &mut [u8], at: usize, v: u32) -> bool {
    put(buf, at, &v.to_le_bytes())
}

/// Writes a little-endian u64.
pub fn put_u64(buf: &mut [u8], at: usize, v: u64) -> bool {
    put(buf, at, &v.to_le_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ioctl_numbers_match_the_kernel_header() {
        // Values computed with the kernel's own header (reference §2.4).
        assert_eq!(IOCTL_ARS_CAP, 0xc020_4e01);
        assert_eq!(IOCTL_ARS_START, 0xc020_4e02);
        assert_eq!(IOCTL_ARS_STATUS, 0xc030_4e03);
        assert_eq!(IOCTL_CLEAR_ERROR, 0xc020_4e04);
        assert_eq!(IOCTL_DIMM_FLAGS, 0xc008_4e03);
        assert_eq!(IOCTL_GET_CONFIG_SIZE, 0xc00c_4e04);
        assert_eq!(IOCTL_GET_CONFIG_DATA, 0xc00c_4e05);
        assert_eq!(IOCTL_SET_CONFIG_DATA, 0xc008_4e06);
        assert_eq!(IOCTL_VENDOR, 0xc008_4e09);
        assert_eq!(IOCTL_CALL, 0xc040_4e0a);
    }

    #[test]
    fn layouts_are_packed_as_the_kernel_declares() {
        // Each structure ends where its last field ends.
        assert_eq!(ARS_CAP_FLAGS + 2 + 2, ARS_CAP_SIZE);
        assert_eq!(ARS_START_SCRUB_TIME + 4, ARS_START_SIZE);
        assert_eq!(ARS_STATUS_NUM_RECORDS + 4, ARS_STATUS_HDR);
        assert_eq!(ARS_RECORD_LENGTH + 8, ARS_RECORD_SIZE);
        assert_eq!(CLEAR_ERROR_CLEARED + 8, CLEAR_ERROR_SIZE);
        assert_eq!(CONFIG_SIZE_MAX_XFER + 4, CONFIG_SIZE_SIZE);
        assert_eq!(GET_DATA_STATUS + 4, GET_DATA_HDR);
        assert_eq!(SET_DATA_IN_LENGTH + 4, SET_DATA_HDR);
        assert_eq!(VENDOR_IN_LENGTH + 4, VENDOR_HDR);
        assert_eq!(PKG_FW_SIZE + 4, PKG_HDR);
        assert_eq!(PKG_SIZE_OUT + 4 + 9 * 4, PKG_FW_SIZE);
        assert_eq!(ERR_INJ_STATUS + 4, ERR_INJ_SIZE);
        assert_eq!(ERR_INJ_CLR_STATUS + 4, ERR_INJ_CLR_SIZE);
    }

    #[test]
    fn accessors_are_little_endian_and_bounded() {
        let mut b = [0u8; 12];
        assert!(put_u32(&mut b, 0, 0x0403_0201));
        assert_eq!(b[..4], [1, 2, 3, 4]);
        assert!(put_u64(&mut b, 4, 0x0807_0605_0403_0201));
        assert_eq!(get_u64(&b, 4), Some(0x0807_0605_0403_0201));
        assert_eq!(get_u16(&b, 4), Some(0x0201));
        assert!(!put_u64(&mut b, 5, 1));
        assert_eq!(b[11], 8, "a refused write changes nothing");
        assert_eq!(get_u32(&b, 9), None);
        assert_eq!(get_u32(&b, usize::MAX - 1), None);
        assert!(!put_u16(&mut b, usize::MAX, 1));
    }
}

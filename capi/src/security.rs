//! DIMM security (group `security` of `libndctl.tsv`) over the crate's `security`
//! attribute operations ([`ndctl::cmd::security`]). Keys are kernel key serial numbers,
//! passed through as libndctl's `long`.

use std::ffi::{c_int, c_long};

use ndctl::dimm::SecurityState;

use crate::ctypes::ndctl_security_state;
use crate::handles::{ndctl_dimm, status};

/// `NDCTL_SECURITY_INVALID`.
const SECURITY_INVALID: ndctl_security_state = -1;

fn security_state(s: SecurityState) -> ndctl_security_state {
    match s {
        SecurityState::Disabled => 0,
        SecurityState::Unlocked => 1,
        SecurityState::Locked => 2,
        SecurityState::Frozen => 3,
        SecurityState::Overwrite => 4,
    }
}

/// The DIMM's security state (`security`); NDCTL_SECURITY_INVALID when the DIMM has none
/// or reports something else; -EINVAL for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_security(dimm: *mut ndctl_dimm) -> ndctl_security_state {
    guard!(-libc::EINVAL, |f| {
        Some(match live!(dimm).security() {
            Ok(Some(s)) => security_state(s),
            Ok(None) => SECURITY_INVALID,
            Err(e) => {
                ::log::debug!(target: f, "{e}");
                SECURITY_INVALID
            }
        })
    })
}

/// Whether the DIMM's security is frozen (state `frozen`, or `frozen` reads non-zero);
/// false when unknown or for NULL.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_security_is_frozen(dimm: *mut ndctl_dimm) -> bool {
    guard!(false, |f| {
        let d = live!(dimm);
        if matches!(d.security(), Ok(Some(SecurityState::Frozen))) {
            return Some(true);
        }
        Some(d.security_is_frozen().unwrap_or_else(|e| {
            ::log::debug!(target: f, "{e}");
            false
        }))
    })
}

/// Changes the user passphrase from key `ckey` to key `nkey`: 0 or -errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_update_passphrase(
    dimm: *mut ndctl_dimm,
    ckey: c_long,
    nkey: c_long,
) -> c_int {
    guard!(-libc::EINVAL, |f| Some(status(
        f,
        live!(dimm).update_passphrase(ckey, nkey)
    )))
}

/// Removes the user passphrase held by key `key`: 0 or -errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_disable_passphrase(
    dimm: *mut ndctl_dimm,
    key: c_long,
) -> c_int {
    guard!(-libc::EINVAL, |f| Some(status(
        f,
        live!(dimm).disable_passphrase(key)
    )))
}

/// Removes the master passphrase held by key `key`: 0 or -errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_disable_master_passphrase(
    dimm: *mut ndctl_dimm,
    key: c_long,
) -> c_int {
    guard!(-libc::EINVAL, |f| Some(status(
        f,
        live!(dimm).disable_master_passphrase(key)
    )))
}

/// Freezes the DIMM's security state until the next reset: 0 or -errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_freeze_security(dimm: *mut ndctl_dimm) -> c_int {
    guard!(-libc::EINVAL, |f| Some(status(
        f,
        live!(dimm).freeze_security()
    )))
}

/// Secure erase with the user passphrase held by key `key`: 0 or -errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_secure_erase(dimm: *mut ndctl_dimm, key: c_long) -> c_int {
    guard!(-libc::EINVAL, |f| Some(status(
        f,
        live!(dimm).secure_erase(key)
    )))
}

/// Starts overwriting the DIMM with key `key`: 0 or -errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_overwrite(dimm: *mut ndctl_dimm, key: c_long) -> c_int {
    guard!(-libc::EINVAL, |f| Some(status(
        f,
        live!(dimm).overwrite(key)
    )))
}

/// Waits for a running overwrite to end: 1 when the DIMM ended up `disabled`, 0 when no
/// overwrite ran or it ended in another state, -errno on failure.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_wait_overwrite(dimm: *mut ndctl_dimm) -> c_int {
    guard!(-libc::EINVAL, |f| {
        Some(match live!(dimm).wait_overwrite() {
            Ok(Some(SecurityState::Disabled)) => 1,
            Ok(_) => 0,
            Err(e) => {
                ::log::debug!(target: f, "{e}");
                e.errno()
            }
        })
    })
}

/// Changes the master passphrase from key `ckey` to key `nkey`: 0 or -errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_update_master_passphrase(
    dimm: *mut ndctl_dimm,
    ckey: c_long,
    nkey: c_long,
) -> c_int {
    guard!(-libc::EINVAL, |f| Some(status(
        f,
        live!(dimm).update_master_passphrase(ckey, nkey)
    )))
}

/// Secure erase with the master passphrase held by key `key`: 0 or -errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_master_secure_erase(
    dimm: *mut ndctl_dimm,
    key: c_long,
) -> c_int {
    guard!(-libc::EINVAL, |f| Some(status(
        f,
        live!(dimm).master_secure_erase(key)
    )))
}

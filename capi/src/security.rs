//! DIMM security (group `security` of `libndctl.tsv`): the `security` attribute and the
//! kernel key ids of the passphrases.

use std::ffi::{c_int, c_long};

use ndctl::dimm::SecurityState;

use crate::ctypes::ndctl_security_state;
use crate::handles::*;

/// A key id argument (`long`) as the API's i64 (the same type on LP64).
#[allow(clippy::useless_conversion)]
fn key_id(k: c_long) -> i64 {
    i64::from(k)
}

/// `NDCTL_SECURITY_INVALID`.
const SECURITY_INVALID: ndctl_security_state = -1;

/// `enum ndctl_security_state` numbers these from 0.
fn security_state(s: SecurityState) -> Option<ndctl_security_state> {
    use SecurityState::*;
    c_enum(&[Disabled, Unlocked, Locked, Frozen, Overwrite], s)
}

/// The DIMM's security state; `NDCTL_SECURITY_INVALID` when unknown (or for NULL).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_get_security(dimm: *mut ndctl_dimm) -> ndctl_security_state {
    guard!(SECURITY_INVALID, quiet(live!(dimm).security()).flatten().and_then(security_state))
}

/// Whether security is frozen (state `frozen` or a non-zero `frozen`); false when unknown.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_security_is_frozen(dimm: *mut ndctl_dimm) -> bool {
    guard!(false, Some(live!(dimm).security_frozen().unwrap_or(false)))
}

/// Changes the user passphrase (key ids `ckey` → `nkey`): 0 or -errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_update_passphrase(
    dimm: *mut ndctl_dimm, ckey: c_long, nkey: c_long,
) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(dimm).update_passphrase(key_id(ckey), key_id(nkey)))))
}

/// Removes the user passphrase in key `key`: 0 or -errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_disable_passphrase(
    dimm: *mut ndctl_dimm, key: c_long,
) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(dimm).disable_passphrase(key_id(key)))))
}

/// Removes the master passphrase in key `key`: 0 or -errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_disable_master_passphrase(
    dimm: *mut ndctl_dimm, key: c_long,
) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(dimm).disable_master_passphrase(key_id(key)))))
}

/// Freezes security: 0 or -errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_freeze_security(dimm: *mut ndctl_dimm) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(dimm).freeze_security())))
}

/// Erases the DIMM with the user passphrase in key `key`: 0 or -errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_secure_erase(dimm: *mut ndctl_dimm, key: c_long) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(dimm).secure_erase(key_id(key)))))
}

/// Starts an overwrite with the passphrase in key `key`: 0 or -errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_overwrite(dimm: *mut ndctl_dimm, key: c_long) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(dimm).overwrite(key_id(key)))))
}

/// Waits for a running overwrite: 1 when it completed, 0 when none ran, -errno
/// (-EOPNOTSUPP for an unreadable state).
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_wait_overwrite(dimm: *mut ndctl_dimm) -> c_int {
    guard!(-libc::EINVAL, Some(errno_or(live!(dimm).wait_overwrite(), c_int::from)))
}

/// Changes the master passphrase (key ids `ckey` → `nkey`): 0 or -errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_update_master_passphrase(
    dimm: *mut ndctl_dimm, ckey: c_long, nkey: c_long,
) -> c_int {
    guard!(-libc::EINVAL, {
        Some(status(live!(dimm).update_master_passphrase(key_id(ckey), key_id(nkey))))
    })
}

/// Erases the DIMM with the master passphrase in key `key`: 0 or -errno.
#[no_mangle]
pub unsafe extern "C" fn ndctl_dimm_master_secure_erase(
    dimm: *mut ndctl_dimm, key: c_long,
) -> c_int {
    guard!(-libc::EINVAL, Some(status(live!(dimm).master_secure_erase(key_id(key)))))
}

//! Environment variables read with `secure_getenv(3)` semantics: in a process running with
//! elevated privileges (setuid, setgid or file capabilities: the kernel's `AT_SECURE`), the
//! environment comes from the unprivileged caller and is ignored, as libndctl ignores it.

use std::ffi::OsString;

/// `AT_SECURE` of `<elf.h>`: the auxiliary-vector entry set for privileged exec.
const AT_SECURE: libc::c_ulong = 23;

/// Whether the process was started in secure-execution mode.
pub fn secure_execution() -> bool {
    // SAFETY: getauxval only reads the auxiliary vector; 0 means unset or absent.
    unsafe { libc::getauxval(AT_SECURE) != 0 }
}

/// The variable's value, or `None` when it is unset or the process runs in
/// secure-execution mode.
pub fn secure_var(name: &str) -> Option<OsString> {
    if secure_execution() {
        return None;
    }
    std::env::var_os(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ordinary_process_sees_its_environment() {
        // The test binary is not setuid.
        assert!(!secure_execution());
        assert_eq!(
            secure_var("PATH"),
            std::env::var_os("PATH"),
            "PATH should read through"
        );
        assert_eq!(secure_var("NDCTL_RS_SURELY_UNSET_VARIABLE"), None);
    }
}

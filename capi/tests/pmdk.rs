//! PMDK on our library: every libndctl function that Debian's PMDK libraries import is
//! exported at the node they ask for, and `pmempool` starts with every symbol bound at
//! load time (`LD_BIND_NOW`). Skipped, with the reason, when pmdk-tools is not installed
//! (`scripts/fetch-libpmemblk.sh` installs it).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use ndctl_testsupport::capi::*;

/// `name@NODE` of every `ndctl_*` symbol a shared object imports (undefined) or exports.
fn ndctl_symbols(lib: &Path, undefined: bool) -> BTreeSet<String> {
    let out = run(Command::new("objdump").arg("-T").arg(lib), "objdump -T");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("*UND*") == undefined)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let name = f.last()?;
            let node = f.iter().find(|t| t.contains("LIBNDCTL_"))?;
            name.starts_with("ndctl_")
                .then(|| format!("{name}@{}", node.trim_matches(|c| c == '(' || c == ')')))
        })
        .collect()
}

#[test]
fn pmdk_imports_are_all_exported_and_pmempool_starts() {
    let libdir = Path::new("/usr/lib/x86_64-linux-gnu");
    let libs: Vec<_> = ["libpmem.so.1", "libpmemobj.so.1", "libpmempool.so.1", "libpmemblk.so.1"]
        .iter()
        .map(|l| libdir.join(l))
        .filter(|p| p.exists())
        .collect();
    if libs.is_empty() || !Path::new("/usr/bin/pmempool").exists() {
        eprintln!("SKIP: Debian's PMDK (pmdk-tools) is not installed");
        return;
    }
    let ours = shared_library_dir();
    let exported = ndctl_symbols(&ours.join("libndctl.so.6"), false);
    let mut needed = BTreeSet::new();
    for l in &libs {
        needed.extend(ndctl_symbols(l, true));
    }
    assert!(needed.len() >= 10, "PMDK imports only {needed:?}");
    eprintln!("PMDK imports {} libndctl functions; all exported", needed.len());
    let missing: Vec<_> = needed.difference(&exported).collect();
    assert!(missing.is_empty(), "PMDK needs, we lack: {missing:?}");
    for badblock_path in [
        "ndctl_region_get_first_badblock@LIBNDCTL_3",
        "ndctl_namespace_get_next_badblock@LIBNDCTL_18",
        "ndctl_bus_cmd_new_clear_error@LIBNDCTL_3",
        "ndctl_cmd_clear_error_get_cleared@LIBNDCTL_3",
    ] {
        assert!(exported.contains(badblock_path), "{badblock_path}");
    }
    let out = run(
        Command::new("/usr/bin/pmempool")
            .arg("--version")
            .env("LD_LIBRARY_PATH", ours)
            .env("LD_BIND_NOW", "1"),
        "pmempool --version on our libndctl",
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("pmempool"));
    let ldd = run(
        Command::new("ldd").arg("/usr/bin/pmempool").env("LD_LIBRARY_PATH", ours),
        "ldd pmempool",
    );
    assert!(
        String::from_utf8_lossy(&ldd.stdout).contains(&ours.display().to_string()),
        "pmempool did not load our libndctl"
    );
}

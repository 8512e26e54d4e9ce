//! The committed C headers: `include/ndctl/libndctl.h` must be what cbindgen generates
//! from capi/src now, and both headers must give C programs the same constants, enum
//! values and struct layouts as libndctl's own headers.
//!
//! After changing an exported function, refresh the committed header with
//! `NDCTL_UPDATE_HEADER=1 cargo test -p ndctl-capi --test header`.

use std::fs;
use std::process::Command;

use ndctl_testsupport::capi::*;

#[test]
fn committed_header_is_fresh() {
    let generated = fs::read_to_string(out_dir().join("libndctl.h")).expect("generated header");
    let committed_path = repo_dir().join("include/ndctl/libndctl.h");
    if std::env::var_os("NDCTL_UPDATE_HEADER").is_some() {
        fs::write(&committed_path, &generated).expect("write include/ndctl/libndctl.h");
        eprintln!("updated {}", committed_path.display());
        return;
    }
    let committed = fs::read_to_string(&committed_path).unwrap_or_default();
    if committed != generated {
        let first = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()));
        panic!(
            "include/ndctl/libndctl.h is stale (first difference at line {}); regenerate it \
             with NDCTL_UPDATE_HEADER=1 cargo test -p ndctl-capi --test header",
            first + 1
        );
    }
}

/// Builds tests/c/constants.c with the given include directory and returns its output.
fn constants_with(include: &std::path::Path, dir: &std::path::Path, tag: &str) -> String {
    let exe = dir.join(format!("constants-{tag}"));
    run(
        Command::new(cc())
            .args(["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-Wno-type-limits"])
            .arg("-I")
            .arg(include)
            .arg(repo_dir().join("tests/c/constants.c"))
            .arg("-o")
            .arg(&exe),
        &format!("compile constants.c against {}", include.display()),
    );
    let out = run(&mut Command::new(&exe), "constants");
    String::from_utf8(out.stdout).expect("utf-8 output")
}

#[test]
fn constants_equal_libndctl_headers() {
    let dir = scratch();
    let ours = constants_with(&repo_dir().join("include"), dir.path(), "ours");
    assert!(ours.lines().count() > 150, "constants.c printed too little:\n{ours}");
    let Some(root) = debian_sysroot() else {
        return;
    };
    let (include, _) = debian_dirs(&root);
    let theirs = constants_with(&include, dir.path(), "debian");
    let diff: Vec<String> = ours
        .lines()
        .zip(theirs.lines())
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("ours {a} / libndctl {b}"))
        .collect();
    assert!(diff.is_empty(), "constants differ:\n{}", diff.join("\n"));
    assert_eq!(ours.lines().count(), theirs.lines().count());
}

/// Our headers also serve C++ and strict C99 users, as libndctl's do.
#[test]
fn headers_compile_as_c99_and_cxx() {
    let dir = scratch();
    let src = "#include <ndctl/libndctl.h>\n#include <ndctl/ndctl.h>\n\
               int main(void) { return ndctl_min_namespace_size() == 0; }\n";
    let c = dir.path().join("use.c");
    let cxx = dir.path().join("use.cc");
    fs::write(&c, src).unwrap();
    fs::write(&cxx, src).unwrap();
    let include = repo_dir().join("include");
    run(
        Command::new(cc())
            .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", "-I"])
            .arg(&include)
            .arg(&c),
        "C99 compile",
    );
    if Command::new("c++").arg("--version").output().is_ok() {
        run(
            Command::new("c++")
                .args(["-Wall", "-Wextra", "-Werror", "-fsyntax-only", "-I"])
                .arg(&include)
                .arg(&cxx),
            "C++ compile",
        );
    } else {
        eprintln!("SKIP C++ part: no c++ compiler");
    }
}

//! The context-free helpers give the same results as Debian's libndctl: one C program
//! (tests/c/misc-diff.c), linked once against each library.

use std::process::Command;

use ndctl_testsupport::capi::*;

fn build_and_run(
    include: &std::path::Path, libdir: &std::path::Path, exe: &std::path::Path,
) -> String {
    run(
        Command::new(cc())
            .args(["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-I"])
            .arg(include)
            .arg(repo_dir().join("tests/c/misc-diff.c"))
            .arg("-o")
            .arg(exe)
            .arg("-L")
            .arg(libdir)
            .args(["-lndctl", "-lm"]),
        &format!("compile misc-diff.c against {}", libdir.display()),
    );
    let out = run(&mut c_program(exe, libdir), "misc-diff");
    String::from_utf8(out.stdout).expect("utf-8 output")
}

#[test]
fn misc_helpers_equal_libndctl() {
    let dir = scratch();
    let ours = build_and_run(
        &repo_dir().join("include"),
        shared_library_dir(),
        &dir.path().join("misc-ours"),
    );
    assert!(ours.starts_with("min_namespace_size=16777216\n"), "{}", &ours[..80]);
    let Some(root) = debian_sysroot() else {
        return;
    };
    let (include, libdir) = debian_dirs(&root);
    let theirs = build_and_run(&include, &libdir, &dir.path().join("misc-debian"));
    let diff: Vec<String> = ours
        .lines()
        .zip(theirs.lines())
        .filter(|(a, b)| a != b)
        .take(20)
        .map(|(a, b)| format!("ours {a} / libndctl {b}"))
        .collect();
    assert!(diff.is_empty(), "results differ:\n{}", diff.join("\n"));
    assert_eq!(ours.lines().count(), theirs.lines().count());
}

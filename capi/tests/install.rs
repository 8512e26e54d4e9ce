//! The install step (scripts/install.sh) into a DESTDIR, and the C examples (examples/c)
//! built through pkg-config: against Debian's libndctl now (which proves the examples and
//! their source compatibility), against ours once the object layer is exported.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use ndctl_testsupport::capi::*;

/// Installs this build's artifacts with PREFIX=/usr into a fresh DESTDIR.
fn install_into(destdir: &Path) {
    run(
        Command::new(repo_dir().join("scripts/install.sh"))
            .arg("--debug")
            .arg(format!("DESTDIR={}", destdir.display()))
            .arg("PREFIX=/usr")
            .env("LIBNDCTL_A", archive())
            .env("LIBNDCTL_SYM", out_dir().join("libndctl.sym"))
            .env("LIBNDCTL_EXPORTS", out_dir().join("libndctl-exports.ld")),
        "scripts/install.sh",
    );
}

fn pkg_config(destdir: &Path, args: &[&str]) -> Option<String> {
    let pcdir = destdir.join("usr/lib/pkgconfig");
    let out = Command::new("pkg-config")
        .args(args)
        .arg("libndctl")
        .env("PKG_CONFIG_PATH", &pcdir)
        .env("PKG_CONFIG_LIBDIR", &pcdir)
        .env("PKG_CONFIG_SYSROOT_DIR", destdir)
        .output()
        .ok()?;
    check(&out, "pkg-config");
    Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[test]
fn destdir_install_is_complete_and_usable_through_pkg_config() {
    let dir = scratch();
    let dest = dir.path().join("dest");
    install_into(&dest);
    let lib = dest.join("usr/lib");
    for f in [
        "usr/lib/libndctl.so.6.4.21",
        "usr/lib/libndctl.a",
        "usr/include/ndctl/libndctl.h",
        "usr/include/ndctl/ndctl.h",
        "usr/lib/pkgconfig/libndctl.pc",
    ] {
        assert!(dest.join(f).is_file(), "{f} not installed");
    }
    assert_eq!(
        fs::read_link(lib.join("libndctl.so.6")).unwrap(),
        PathBuf::from("libndctl.so.6.4.21")
    );
    assert_eq!(fs::read_link(lib.join("libndctl.so")).unwrap(), PathBuf::from("libndctl.so.6"));
    assert_eq!(
        fs::read(dest.join("usr/include/ndctl/libndctl.h")).unwrap(),
        fs::read(repo_dir().join("include/ndctl/libndctl.h")).unwrap()
    );
    let pc = fs::read_to_string(dest.join("usr/lib/pkgconfig/libndctl.pc")).unwrap();
    for line in ["prefix=/usr", "libdir=/usr/lib", "includedir=/usr/include", "Name: libndctl"] {
        assert!(pc.lines().any(|l| l == line), "libndctl.pc lacks {line:?}:\n{pc}");
    }
    assert!(pc.contains("Libs: -L${libdir} -lndctl"), "{pc}");
    assert!(pc.contains("Cflags: -I${includedir}"), "{pc}");
    assert!(!pc.contains('@'), "unsubstituted variable in libndctl.pc:\n{pc}");

    let Some(flags) = pkg_config(&dest, &["--cflags", "--libs"]) else {
        eprintln!("SKIP pkg-config part: pkg-config is not installed");
        return;
    };
    assert_eq!(
        flags.split_whitespace().collect::<Vec<_>>(),
        [
            format!("-I{}", dest.join("usr/include").display()),
            format!("-L{}", lib.display()),
            "-lndctl".to_owned()
        ]
    );

    // A libndctl user, linked dynamically and statically from the install.
    let src = repo_dir().join("tests/c/misc-diff.c");
    let dynamic = dir.path().join("misc-dynamic");
    let mut cmd = Command::new(cc());
    cmd.arg(&src).arg("-o").arg(&dynamic);
    cmd.args(flags.split_whitespace()).arg("-lm");
    run(&mut cmd, "build against the install (shared)");
    let shared_out = run(&mut c_program(&dynamic, &lib), "run against the install").stdout;

    let static_flags = pkg_config(&dest, &["--cflags", "--libs", "--static"]).unwrap();
    let statically = dir.path().join("misc-static");
    let mut cmd = Command::new(cc());
    cmd.arg(&src).arg("-o").arg(&statically);
    for f in static_flags.split_whitespace() {
        // -lndctl would pick the shared object; name the archive instead.
        if f == "-lndctl" {
            cmd.arg(lib.join("libndctl.a"));
        } else {
            cmd.arg(f);
        }
    }
    cmd.arg("-lm");
    run(&mut cmd, "build against the install (static archive)");
    let static_out = run(&mut Command::new(&statically), "run the static build").stdout;
    assert_eq!(shared_out, static_out);
    assert!(String::from_utf8_lossy(&static_out).starts_with("min_namespace_size=16777216\n"));
}

/// The examples compile against Debian's installed headers (source compatibility).
#[test]
fn examples_compile_against_debian_headers() {
    let Some(root) = debian_sysroot() else {
        return;
    };
    let (include, _) = debian_dirs(&root);
    for entry in fs::read_dir(repo_dir().join("examples/c")).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "c") {
            run(
                Command::new(cc())
                    .args(["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", "-I"])
                    .arg(&include)
                    .arg(&path),
                &format!("compile {} against Debian's headers", path.display()),
            );
        }
    }
}

fn run_examples(args: &[&str]) -> (i32, String) {
    let out = Command::new(repo_dir().join("tests/c/run-examples.sh"))
        .args(args)
        .output()
        .expect("run tests/c/run-examples.sh");
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

/// The examples find what examples/c/expected.tsv says on the captures with the real
/// libndctl, under valgrind: this validates the examples and the expectations.
#[test]
fn examples_pass_on_debian_libndctl() {
    let (code, text) = run_examples(&["--debian"]);
    println!("{text}");
    match code {
        0 => {}
        77 => eprintln!("{}", text.lines().next().unwrap_or("SKIP")),
        _ => panic!("examples on Debian's libndctl failed:\n{text}"),
    }
}

/// Done-when of issue 3: the examples, built through pkg-config from a DESTDIR install of
/// our library, pass on the captures under valgrind.
#[test]
fn examples_pass_on_our_library_from_a_destdir_install() {
    let dir = scratch();
    let dest = dir.path().join("dest");
    install_into(&dest);
    let dest = dest.to_str().expect("utf-8 path").to_owned();
    let (code, text) = run_examples(&["--ours", &dest, "--prefix", "/usr"]);
    println!("{text}");
    assert_eq!(code, 0, "examples on our library failed:\n{text}");
}

//! Every exported object-layer function called with NULL object pointers and zero scalars,
//! from a C program generated from `libndctl.tsv` and built against the generated header and
//! the linked libndctl.so.6. Besides surviving (abi.rs checks that for all exports under
//! valgrind), each call must return the documented error value:
//!
//! * pointers (objects, strings): NULL, except the command-name lookups, which do not use
//!   their object and name command 0 `"unknown"`;
//! * unsigned integers: all ones (libndctl's "unknown");
//! * `int` predicates (`*_is_*`, `*_has_*`, `*_failed_*`, `*_smart_pending`) and `bool`: 0;
//! * persistence domains: `PERSISTENCE_UNKNOWN`;
//! * other `int`, enum and `long long` results: -EINVAL.

use std::fs;
use std::process::Command;

use ndctl_testsupport::capi::*;

/// The C expression a NULL-argument call of `name` (returning `ret`) must equal, or `None`
/// when the result is not checked (void, and the context-free helpers tested elsewhere).
fn expected(name: &str, ret: &str) -> Option<String> {
    let ret = ret.trim();
    if ret == "void" {
        return None;
    }
    if name.ends_with("_get_cmd_name") {
        return Some("(const char *)1".into()); // checked as "non-NULL" below
    }
    if ret.ends_with('*') {
        return Some("NULL".into());
    }
    if ret.starts_with("unsigned") {
        return Some(format!("({ret})-1"));
    }
    if ret == "bool" {
        return Some("false".into());
    }
    if ret.contains("persistence_domain") {
        return Some("PERSISTENCE_UNKNOWN".into());
    }
    let predicate = ["_is_", "_has_", "_failed_"].iter().any(|p| name.contains(p))
        || name.ends_with("_smart_pending");
    if ret == "int" && predicate {
        return Some("0".into());
    }
    if ret == "int" || ret == "long long" || ret.starts_with("enum") {
        return Some("-EINVAL".into());
    }
    None
}

/// Return type of a prototype: everything before the function name.
fn return_type(prototype: &str, name: &str) -> String {
    let at = prototype.find(&format!("{name}(")).expect("name in prototype");
    prototype[..at].trim().to_string()
}

#[test]
fn expectation_rules() {
    assert_eq!(expected("ndctl_bus_get_id", "unsigned int").unwrap(), "(unsigned int)-1");
    assert_eq!(expected("ndctl_bus_has_nfit", "int").unwrap(), "0");
    assert_eq!(expected("ndctl_dimm_locked", "int").unwrap(), "-EINVAL");
    assert_eq!(expected("ndctl_dimm_failed_map", "int").unwrap(), "0");
    assert_eq!(expected("ndctl_bus_get_first", "struct ndctl_bus *").unwrap(), "NULL");
    assert_eq!(expected("ndctl_namespace_get_uuid", "void"), None);
    assert_eq!(
        return_type(
            "const char *ndctl_bus_get_devname(struct ndctl_bus *bus);",
            "ndctl_bus_get_devname"
        ),
        "const char *"
    );
}

#[test]
fn null_objects_return_documented_error_values() {
    let defined = defined_functions();
    let mut body = String::new();
    let mut checked = 0;
    for r in table()
        .iter()
        .filter(|r| r.layer == "object" && r.group != "misc" && defined.contains(&r.name))
    {
        let ret = return_type(&r.prototype, &r.name);
        let args = {
            let open = r.prototype.find('(').unwrap();
            let inner = &r.prototype[open + 1..r.prototype.rfind(')').unwrap()];
            // Function-pointer parameters contain commas only inside their own parentheses.
            let mut depth = 0;
            let mut n = usize::from(inner.trim() != "void");
            for c in inner.chars() {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    ',' if depth == 0 => n += 1,
                    _ => {}
                }
            }
            vec!["0"; n].join(", ")
        };
        match expected(&r.name, &ret) {
            None => body.push_str(&format!("\t{}({args});\n", r.name)),
            Some(want) if want == "(const char *)1" => {
                checked += 1;
                body.push_str(&format!(
                    "\tif ({}({args}) == NULL) {{ printf(\"%s: NULL\\n\", \"{}\"); bad++; }}\n",
                    r.name, r.name
                ));
            }
            Some(want) => {
                checked += 1;
                // An enum whose members are all non-negative may be unsigned in C; libndctl
                // still returns -errno in it, so compare its bits as int.
                let cmp = if ret.ends_with('*') {
                    "(const void *)"
                } else if ret.starts_with("enum") {
                    "(int)"
                } else {
                    "(long long)"
                };
                body.push_str(&format!(
                    "\tif ({cmp}{name}({args}) != {cmp}({want})) {{ printf(\"%s: wrong error value\\n\", \"{name}\"); bad++; }}\n",
                    name = r.name
                ));
            }
        }
    }
    assert!(checked > 240, "only {checked} functions checked");
    let src = format!(
        "#include <stdio.h>\n#include <ndctl/libndctl.h>\n\
         /* Exported by libndctl, declared only in its uninstalled libndctl-nfit.h. */\n\
         int ndctl_bus_is_nfit_cmd_supported(struct ndctl_bus *bus, int cmd);\n\n\
         int main(void)\n{{\n\tint bad = 0;\n\n{body}\tprintf(\"checked %d\\n\", {checked});\n\treturn bad != 0;\n}}\n"
    );
    let dir = scratch();
    let inc = dir.path().join("include/ndctl");
    fs::create_dir_all(&inc).unwrap();
    fs::copy(out_dir().join("libndctl.h"), inc.join("libndctl.h")).unwrap();
    let c = dir.path().join("null_values.c");
    fs::write(&c, &src).unwrap();
    let exe = dir.path().join("null_values");
    let lib = shared_library_dir();
    run(
        Command::new(cc())
            .args(["-std=gnu11", "-Wall", "-Werror", "-Wno-nonnull", "-Wno-address"])
            .arg("-I")
            .arg(dir.path().join("include"))
            .arg(&c)
            .arg("-o")
            .arg(&exe)
            .arg("-L")
            .arg(lib)
            .arg(format!("-Wl,-rpath,{}", lib.display()))
            .arg("-lndctl"),
        "compile the NULL-value checker",
    );
    let out = run(&mut c_program(&exe, lib), "NULL-value checker");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("checked {checked}"));
}

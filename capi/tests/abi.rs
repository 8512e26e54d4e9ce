//! The built libndctl.so.6 against the 400-function table: SONAME, every exported function
//! at its libndctl version node, nothing else exported, prototypes equal to libndctl's, and
//! every export surviving NULL arguments.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::process::Command;

use ndctl_testsupport::capi::*;

/// libndctl's version nodes in inheritance order, as the build script knows them.
fn nodes() -> Vec<&'static str> {
    env!("LIBNDCTL_NODES").split(',').collect()
}

#[test]
fn table_matches_libndctl_counts() {
    let rows = table();
    assert_eq!(rows.len(), 400);
    let names: BTreeSet<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names.len(), 400, "duplicate names");
    // Per-node counts of libndctl.sym (reference section 1.1).
    let want: [(&str, usize); 18] = [
        ("LIBNDCTL_1", 15),
        ("LIBNDCTL_3", 256),
        ("LIBNDCTL_13", 10),
        ("LIBNDCTL_14", 46),
        ("LIBNDCTL_15", 11),
        ("LIBNDCTL_16", 4),
        ("LIBNDCTL_17", 7),
        ("LIBNDCTL_18", 3),
        ("LIBNDCTL_19", 15),
        ("LIBNDCTL_20", 1),
        ("LIBNDCTL_21", 5),
        ("LIBNDCTL_22", 1),
        ("LIBNDCTL_23", 5),
        ("LIBNDCTL_24", 3),
        ("LIBNDCTL_25", 11),
        ("LIBNDCTL_26", 4),
        ("LIBNDCTL_27", 1),
        ("LIBNDCTL_28", 2),
    ];
    for (node, n) in want {
        assert_eq!(rows.iter().filter(|r| r.node == node).count(), n, "{node}");
    }
    // The object layer of issue 3: groups ctx..dax plus the context-free helpers.
    let object: BTreeSet<&str> = [
        "ctx",
        "bus",
        "dimm",
        "region",
        "mapping",
        "interleave_set",
        "namespace",
        "btt",
        "pfn",
        "dax",
        "misc",
    ]
    .into();
    for r in &rows {
        assert_eq!(r.layer == "object", object.contains(r.group.as_str()), "layer of {}", r.name);
        assert!(r.prototype.contains(&format!("{}(", r.name)), "prototype of {} names it", r.name);
    }
    assert_eq!(rows.iter().filter(|r| r.layer == "object").count(), 259);
}

/// `name -> (node, is_default)` for every defined FUNC in the dynamic symbol table, plus the
/// names of all other defined dynamic symbols.
fn dynamic_exports() -> (BTreeMap<String, (String, bool)>, Vec<String>) {
    let so = shared_library_dir().join("libndctl.so.6");
    let out =
        run(Command::new("readelf").args(["--dyn-syms", "--wide"]).arg(&so), "readelf --dyn-syms");
    let mut funcs = BTreeMap::new();
    let mut others = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        // Num: Value Size Type Bind Vis Ndx Name
        let is_entry =
            f.first().and_then(|n| n.strip_suffix(':')).is_some_and(|n| n.parse::<u32>().is_ok());
        if f.len() < 8 || !is_entry || f[6] == "UND" {
            continue;
        }
        let (name, version, default) = if let Some((n, v)) = f[7].split_once("@@") {
            (n, v, true)
        } else if let Some((n, v)) = f[7].split_once('@') {
            (n, v, false)
        } else {
            (f[7], "", true)
        };
        if f[3] == "FUNC" && f[4] == "GLOBAL" {
            funcs.insert(name.to_owned(), (version.to_owned(), default));
        } else if !(f[3] == "OBJECT" && f[6] == "ABS" && nodes().contains(&name)) {
            others.push(f[7].to_owned());
        }
    }
    (funcs, others)
}

#[test]
fn soname_is_libndctl_so_6() {
    let so = shared_library_dir().join("libndctl.so.6");
    let out = run(Command::new("readelf").arg("-d").arg(&so), "readelf -d");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Library soname: [libndctl.so.6]"), "SONAME missing:\n{text}");
}

#[test]
fn exports_sit_at_their_libndctl_nodes() {
    let rows = table();
    let by_name: BTreeMap<&str, &Row> = rows.iter().map(|r| (r.name.as_str(), r)).collect();
    let defined = defined_functions();
    let (funcs, others) = dynamic_exports();

    assert!(
        others.is_empty(),
        "symbols exported besides libndctl functions and version nodes: {others:?}"
    );
    for (name, (node, default)) in &funcs {
        let row = by_name
            .get(name.as_str())
            .unwrap_or_else(|| panic!("{name} is exported but is not a libndctl function"));
        assert_eq!(node, &row.node, "{name} is at the wrong version node");
        assert!(*default, "{name}@{node} is not the default version");
    }
    let exported: BTreeSet<String> = funcs.keys().cloned().collect();
    assert_eq!(exported, defined, "the library must export exactly the functions capi/src defines");

    let missing: Vec<&Row> = rows.iter().filter(|r| !exported.contains(&r.name)).collect();
    let missing_object: Vec<&str> =
        missing.iter().filter(|r| r.layer == "object").map(|r| r.name.as_str()).collect();
    println!(
        "exported {} of 400 libndctl functions; not yet exported: {} object layer, {} command layer",
        exported.len(),
        missing_object.len(),
        missing.len() - missing_object.len()
    );
    let mut by_group: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for r in &missing {
        by_group.entry((r.layer.as_str(), r.group.as_str())).or_default().push(r.name.as_str());
    }
    for ((layer, group), names) in by_group {
        println!("  not exported [{layer}/{group}] ({}): {}", names.len(), names.join(" "));
    }
}

/// Done-when of issue 3: all 259 object-layer functions exported.
#[test]
fn every_object_layer_function_is_exported() {
    let defined = defined_functions();
    let missing: Vec<String> = table()
        .into_iter()
        .filter(|r| r.layer == "object" && !defined.contains(&r.name))
        .map(|r| r.name)
        .collect();
    assert!(missing.is_empty(), "object-layer functions not exported: {missing:?}");
}

/// Redeclares all 400 libndctl prototypes after including the generated header: any
/// exported function whose C signature differs from libndctl's is a compile error, and so
/// is a type the header fails to declare.
#[test]
fn header_prototypes_equal_libndctl() {
    let dir = scratch();
    let inc = dir.path().join("include/ndctl");
    fs::create_dir_all(&inc).unwrap();
    fs::copy(out_dir().join("libndctl.h"), inc.join("libndctl.h")).unwrap();
    let mut src = String::from("#include <ndctl/libndctl.h>\n");
    for r in table() {
        src.push_str(&r.prototype);
        src.push('\n');
    }
    let c = dir.path().join("protos.c");
    fs::write(&c, src).unwrap();
    run(
        Command::new(cc())
            .args(["-std=gnu11", "-fsyntax-only", "-Wall", "-Wextra", "-Werror"])
            .arg("-I")
            .arg(dir.path().join("include"))
            .arg(&c),
        "compile libndctl prototypes against the generated header",
    );

    // And the header declares no function that libndctl lacks.
    let header = fs::read_to_string(out_dir().join("libndctl.h")).unwrap();
    let names: BTreeSet<String> = table().into_iter().map(|r| r.name).collect();
    let declarations = header.lines().filter(|l| {
        l.ends_with(");") && !l.starts_with(|c: char| c.is_whitespace() || "/*#".contains(c))
    });
    for line in declarations {
        if let Some(open) = line.find('(') {
            let head = &line[..open];
            let name = head
                .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
                .unwrap_or("");
            if name.starts_with("ndctl_") {
                assert!(names.contains(name), "header declares unknown function {name}");
            }
        }
    }
}

/// Number of parameters of a C prototype (`(void)` has none).
fn arity(prototype: &str) -> usize {
    let open = prototype.find('(').expect("prototype has '('");
    let body = &prototype[open + 1..prototype.rfind(')').expect("prototype has ')'")];
    if body.trim() == "void" {
        return 0;
    }
    let mut depth = 0;
    let mut n = 1;
    for c in body.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => n += 1,
            _ => {}
        }
    }
    n
}

#[test]
fn arity_parser() {
    assert_eq!(arity("size_t ndctl_min_namespace_size(void);"), 0);
    assert_eq!(arity("int ndctl_new(struct ndctl_ctx **ctx);"), 1);
    let log = table().into_iter().find(|r| r.name == "ndctl_set_log_fn").unwrap();
    assert_eq!(arity(&log.prototype), 2);
}

/// Calls every exported function with all-zero arguments (NULL objects, NULL strings,
/// NULL callbacks, zero numbers): nothing may crash. Run under valgrind when available so
/// an invalid access fails the test even if it does not crash.
#[test]
fn every_export_survives_null_arguments() {
    let defined = defined_functions();
    let mut calls = String::new();
    for r in table().iter().filter(|r| defined.contains(&r.name)) {
        let args = vec!["0"; arity(&r.prototype)].join(", ");
        calls.push_str(&format!(
            "\tfprintf(stderr, \"{}\\n\");\n\t(void){}({});\n",
            r.name, r.name, args
        ));
    }
    let src = format!(
        "#include <stdio.h>\n#include <ndctl/libndctl.h>\n\nint main(void)\n{{\n{calls}\tputs(\"survived\");\n\treturn 0;\n}}\n"
    );
    let dir = scratch();
    let inc = dir.path().join("include/ndctl");
    fs::create_dir_all(&inc).unwrap();
    fs::copy(out_dir().join("libndctl.h"), inc.join("libndctl.h")).unwrap();
    let c = dir.path().join("null_calls.c");
    fs::write(&c, src).unwrap();
    let exe = dir.path().join("null_calls");
    let lib = shared_library_dir();
    run(
        Command::new(cc())
            .args(["-std=gnu11", "-Wall", "-Werror", "-Wno-nonnull"])
            .arg("-I")
            .arg(dir.path().join("include"))
            .arg(&c)
            .arg("-o")
            .arg(&exe)
            .arg("-L")
            .arg(lib)
            .arg(format!("-Wl,-rpath,{}", lib.display()))
            .arg("-lndctl"),
        "compile the NULL-argument caller",
    );
    let valgrind = Command::new("valgrind").arg("--version").output().is_ok();
    let out = if valgrind {
        let mut cmd = Command::new("valgrind");
        cmd.env("LD_LIBRARY_PATH", lib)
            .args(["-q", "--error-exitcode=99", "--leak-check=full"])
            .arg("--errors-for-leak-kinds=definite")
            .arg(&exe);
        run(&mut cmd, "NULL-argument caller under valgrind")
    } else {
        eprintln!("valgrind not installed: running the NULL-argument caller natively");
        run(&mut c_program(&exe, lib), "NULL-argument caller")
    };
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "survived");
}

//! Build script of libndctl's C ABI.
//!
//! 1. Reads `libndctl.tsv` (all 400 libndctl functions with their version nodes).
//! 2. Scans `src/` for exported functions (`pub [unsafe] extern "C" fn ndctl_*`) and fails
//!    the build on a name libndctl does not have or on a duplicate.
//! 3. Writes the linker version script `libndctl.sym` (nodes LIBNDCTL_1, 3, 13..28, each
//!    inheriting the previous one, `local: *` in LIBNDCTL_1) listing only the functions
//!    that exist, so nothing of the command layer is ever exported as a stub; and
//!    `libndctl-exports.ld`, a linker script of `EXTERN()` lines that makes the linker pull
//!    exactly those functions out of the static archive.
//! 4. Compiles the va_list shim `csrc/log_shim.c` into the static library.
//! 5. Generates `libndctl.h` with cbindgen (`cbindgen.toml`).
//!
//! Outputs land in OUT_DIR and are copied next to `libndctl.a` (the profile directory) so
//! that `scripts/link-libndctl.sh`, the install step and the integration tests find them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// libndctl's version nodes in inheritance order.
const NODES: [&str; 18] = [
    "LIBNDCTL_1",
    "LIBNDCTL_3",
    "LIBNDCTL_13",
    "LIBNDCTL_14",
    "LIBNDCTL_15",
    "LIBNDCTL_16",
    "LIBNDCTL_17",
    "LIBNDCTL_18",
    "LIBNDCTL_19",
    "LIBNDCTL_20",
    "LIBNDCTL_21",
    "LIBNDCTL_22",
    "LIBNDCTL_23",
    "LIBNDCTL_24",
    "LIBNDCTL_25",
    "LIBNDCTL_26",
    "LIBNDCTL_27",
    "LIBNDCTL_28",
];

fn main() {
    let manifest = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env("OUT_DIR"));
    for watched in ["build.rs", "libndctl.tsv", "cbindgen.toml", "src", "csrc"] {
        println!("cargo:rerun-if-changed={watched}");
    }

    // The node list, once, for the integration tests too (`env!("LIBNDCTL_NODES")`).
    println!("cargo:rustc-env=LIBNDCTL_NODES={}", NODES.join(","));

    let table = read_table(&manifest.join("libndctl.tsv"));
    let defined = exported_functions(&manifest.join("src"));
    for name in &defined {
        if !table.contains_key(name.as_str()) {
            fail(&format!(
                "capi/src exports {name}, which is not a libndctl function (libndctl.tsv)"
            ));
        }
    }

    let version_script = version_script(&table, &defined);
    let externs = extern_script(&defined);
    write(&out.join("libndctl.sym"), &version_script);
    write(&out.join("libndctl-exports.ld"), &externs);

    cc::Build::new()
        .file(manifest.join("csrc/log_shim.c"))
        .warnings(true)
        .extra_warnings(true)
        .compile("ndctl_capi_shim");

    let header = generate_header(&manifest);
    write(&out.join("libndctl.h"), &header);

    // Next to libndctl.a: OUT_DIR is <profile dir>/build/<pkg>-<hash>/out.
    if let Some(profile_dir) = out.ancestors().nth(3) {
        write(&profile_dir.join("libndctl.sym"), &version_script);
        write(&profile_dir.join("libndctl-exports.ld"), &externs);
        write(&profile_dir.join("libndctl.h"), &header);
    }
}

fn env(key: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| fail(&format!("{key} is not set")))
}

fn fail(msg: &str) -> ! {
    // A build script reports errors through panics; the message is what cargo shows.
    panic!("ndctl-capi build: {msg}");
}

fn write(path: &Path, text: &str) {
    // Rewriting an identical file would only bump its mtime and retrigger dependents.
    if fs::read_to_string(path).ok().as_deref() == Some(text) {
        return;
    }
    fs::write(path, text).unwrap_or_else(|e| fail(&format!("writing {}: {e}", path.display())));
}

/// Function name -> version node, from the data file.
fn read_table(path: &Path) -> BTreeMap<String, String> {
    let text = fs::read_to_string(path)
        .unwrap_or_else(|e| fail(&format!("reading {}: {e}", path.display())));
    let mut table = BTreeMap::new();
    for (lineno, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(name), Some(node)) = (cols.first(), cols.get(1)) else {
            fail(&format!("{}:{}: malformed row", path.display(), lineno + 1));
        };
        if !NODES.contains(node) {
            fail(&format!("{}:{}: unknown version node {node}", path.display(), lineno + 1));
        }
        if table.insert(name.to_string(), node.to_string()).is_some() {
            fail(&format!("{}:{}: duplicate {name}", path.display(), lineno + 1));
        }
    }
    if table.len() != 400 {
        fail(&format!("{} lists {} functions, libndctl has 400", path.display(), table.len()));
    }
    table
}

/// Names of the `ndctl_*` functions defined with a C ABI anywhere under `dir`.
fn exported_functions(dir: &Path) -> BTreeSet<String> {
    let mut files = Vec::new();
    collect_rs_files(dir, &mut files);
    files.sort();
    let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
    for file in files {
        let text = fs::read_to_string(&file)
            .unwrap_or_else(|e| fail(&format!("reading {}: {e}", file.display())));
        for line in text.lines() {
            if let Some(name) = exported_name(line) {
                if let Some(first) = seen.insert(name.clone(), file.clone()) {
                    fail(&format!(
                        "{name} is defined twice ({} and {})",
                        first.display(),
                        file.display()
                    ));
                }
            }
        }
    }
    seen.into_keys().collect()
}

fn collect_rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries =
        fs::read_dir(dir).unwrap_or_else(|e| fail(&format!("listing {}: {e}", dir.display())));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_rs_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `pub unsafe extern "C" fn ndctl_x(` or `pub extern "C" fn ndctl_x(` -> `ndctl_x`.
fn exported_name(line: &str) -> Option<String> {
    let rest = line.trim_start().strip_prefix("pub ")?.trim_start();
    let rest = rest.strip_prefix("unsafe ").unwrap_or(rest).trim_start();
    let rest = rest.strip_prefix("extern \"C\" fn ")?.trim_start();
    let name: String =
        rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    name.starts_with("ndctl_").then_some(name)
}

fn version_script(table: &BTreeMap<String, String>, defined: &BTreeSet<String>) -> String {
    let mut s = String::from(
        "/* Generated by capi/build.rs from capi/libndctl.tsv: the functions capi/src\n   \
         defines, each at its libndctl version node. */\n",
    );
    for (i, node) in NODES.iter().enumerate() {
        let _ = writeln!(s, "{node} {{");
        let names: Vec<&String> = defined
            .iter()
            .filter(|n| table.get(n.as_str()).map(String::as_str) == Some(*node))
            .collect();
        if !names.is_empty() {
            s.push_str("global:\n");
            for n in names {
                let _ = writeln!(s, "\t{n};");
            }
        }
        if i == 0 {
            s.push_str("local:\n\t*;\n};\n");
        } else {
            let _ = writeln!(s, "}} {};", NODES[i - 1]);
        }
    }
    s
}

fn extern_script(defined: &BTreeSet<String>) -> String {
    let mut s = String::from("/* Generated by capi/build.rs: the exported functions. */\n");
    for n in defined {
        let _ = writeln!(s, "EXTERN({n})");
    }
    s
}

fn generate_header(manifest: &Path) -> String {
    let config = cbindgen::Config::from_file(manifest.join("cbindgen.toml"))
        .unwrap_or_else(|e| fail(&format!("cbindgen.toml: {e}")));
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(manifest.join("src/lib.rs"))
        .generate()
        .unwrap_or_else(|e| fail(&format!("cbindgen: {e}")));
    let mut buf = Vec::new();
    bindings.write(&mut buf);
    String::from_utf8(buf).unwrap_or_else(|e| fail(&format!("cbindgen output: {e}")))
}

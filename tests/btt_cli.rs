//! The `btt` example CLI: exit codes and outputs on the kernel images and on fresh images.

use ndctl_testsupport::btt as btt_support;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn cli() -> PathBuf {
    // `cargo test` builds examples next to the test binaries' deps directory.
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let p = dir.join("examples").join("btt");
    assert!(p.exists(), "{} missing: run via cargo test", p.display());
    p
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> (i32, Vec<u8>, String) {
    let mut c = Command::new(cli())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut i = c.stdin.take().unwrap();
        if let Some(data) = stdin {
            i.write_all(data).unwrap();
        }
    }
    let out = c.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cli_on_kernel_images() {
    let dir = tempfile::tempdir().unwrap();
    let img = &btt_support::IMAGES[0];
    let path = btt_support::unpack(dir.path(), img.file);
    let p = path.to_str().unwrap();
    let (rc, out, _) = run(&["info", p, "--offset", "0x8000000"], None);
    assert_eq!(rc, 0);
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["version"], "1.1");
    assert_eq!(v["external_lbasize"], 4096);
    assert_eq!(v["external_nlba"], 32472);
    assert_eq!(v["arenas"][0]["mapoff"], 0x7fda000);
    assert_eq!(v["arenas"][0]["info2off"], 0x7ffe000);

    let (rc, out, _) = run(
        &["check", p, "--offset", "134217728", "--size", "0x8000000"],
        None,
    );
    assert_eq!(rc, 0, "{}", String::from_utf8_lossy(&out));
    assert!(String::from_utf8_lossy(&out).contains("result: consistent"));
    let (rc, out, _) = run(&["check", p, "--offset", "0x8000000", "--json"], None);
    assert_eq!(rc, 0);
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["consistent"], true);

    let (_, list) = btt_support::writes(img.writes);
    let w = list.iter().find(|w| w.lba == 1000).unwrap();
    let (rc, out, _) = run(&["read", p, "--offset", "0x8000000", "999", "2"], None);
    assert_eq!(rc, 0);
    assert_eq!(out.len(), 8192);
    assert!(out[4096..] == w.data[..]);

    // No BTT at the start of the file: inconsistent (1). Missing file: I/O (2).
    assert_eq!(run(&["check", p], None).0, 1);
    assert_eq!(run(&["info", "/nonexistent/image"], None).0, 2);
}

#[test]
fn cli_format_write_read_repair() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("img");
    std::fs::File::create(&path)
        .unwrap()
        .set_len(24 << 20)
        .unwrap();
    let p = path.to_str().unwrap();
    let u = "8f4a6f2c-1d3e-4b5a-9c7d-0e1f2a3b4c5d";
    let (rc, out, err) = run(
        &[
            "format",
            p,
            "--lbasize",
            "4096",
            "--version",
            "2.0",
            "--uuid",
            u,
            "--offset",
            "4096",
            "--size",
            "0x1400000",
        ],
        None,
    );
    assert_eq!(rc, 0, "{err}");
    assert!(String::from_utf8_lossy(&out).contains(u));
    let (rc, out, _) = run(&["info", p, "--offset", "4096"], None);
    assert_eq!(rc, 0);
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["version"], "2.0");
    assert_eq!(v["arenas"][0]["uuid"], u);
    assert_eq!(v["btt_offset"], 4096);

    let data: Vec<u8> = (0..3 * 4096u32).map(|i| (i % 251) as u8).collect();
    let (rc, _, err) = run(&["write", p, "--offset", "4096", "10"], Some(&data));
    assert_eq!(rc, 0, "{err}");
    let (rc, out, _) = run(&["read", p, "--offset", "4096", "10", "3"], None);
    assert_eq!(rc, 0);
    assert!(out == data);
    // A partial sector on stdin is a usage/I/O error.
    assert_eq!(
        run(&["write", p, "--offset", "4096", "0"], Some(&[1u8; 100])).0,
        2
    );
    // Beyond the last LBA: failed.
    assert_eq!(run(&["read", p, "--offset", "4096", "99999999"], None).0, 1);

    // Corrupt the backup info block, check says 1, repair fixes, check says 0.
    let info2 = {
        let v: serde_json::Value =
            serde_json::from_slice(&run(&["info", p, "--offset", "4096"], None).1).unwrap();
        4096 + v["arenas"][0]["info2off"].as_u64().unwrap()
    };
    {
        use std::os::unix::fs::FileExt;
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.write_all_at(&[0xEE; 64], info2 + 1024).unwrap();
    }
    let (rc, out, _) = run(&["check", p, "--offset", "4096"], None);
    assert_eq!(rc, 1);
    assert!(String::from_utf8_lossy(&out).contains("[repairable]"));
    let (rc, out, _) = run(&["repair", p, "--offset", "4096", "--json"], None);
    assert_eq!(rc, 0, "{}", String::from_utf8_lossy(&out));
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["repairs"].as_array().unwrap().len(), 1);
    assert_eq!(run(&["check", p, "--offset", "4096"], None).0, 0);

    // Usage errors.
    assert_eq!(run(&["format", p], None).0, 2);
    assert_eq!(run(&["format", p, "--lbasize", "1000"], None).0, 2);
    assert_eq!(run(&["frobnicate", p], None).0, 2);
    assert_eq!(run(&["check", p, "--offset", "zz"], None).0, 2);
    assert_eq!(run(&[], None).0, 2);
}

//! `btt`: inspect, check, repair, read, write and format Block Translation Tables in image
//! files or block devices.
//!
//! Exit status: 0 success, 1 inconsistent BTT or failed operation, 2 usage or I/O error.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use ndctl::btt_engine::{
    check_with, format_btt, repair, BttError, BttMedia, CheckOptions, Durability, FileStorage,
    FormatOptions, OpenOptions, RepairOptions,
};

const USAGE: &str = "\
usage:
  btt info   IMAGE [--offset BYTES]
  btt check  IMAGE [--offset BYTES] [--size BYTES] [--parent-uuid U] [--json]
  btt repair IMAGE [--offset BYTES] [--size BYTES] [--parent-uuid U] [--rewrite-log] [--json]
  btt read   IMAGE [--offset BYTES] LBA [COUNT]        (raw sectors to stdout)
  btt write  IMAGE [--offset BYTES] [--no-sync] LBA    (whole sectors from stdin)
  btt format IMAGE [--offset BYTES] [--size BYTES] --lbasize N [--version 1.1|2.0]
                   [--uuid U] [--parent-uuid U]
--offset is where the namespace starts in IMAGE (default 0); --size is the namespace size
(default: to the end of IMAGE). Numbers may be decimal or 0x-prefixed hex.
exit status: 0 ok, 1 inconsistent or failed, 2 usage or I/O error";

/// Sectors moved per `read_sectors` / `write_sectors` call: bounds the buffer whatever the
/// COUNT or the input size.
const CHUNK_SECTORS: u64 = 256;

/// A failure with its exit status.
struct Fail(u8, String);

impl From<BttError> for Fail {
    fn from(e: BttError) -> Fail {
        let code = match e {
            BttError::Io { .. }
            | BttError::Open { .. }
            | BttError::OutOfBounds { .. }
            | BttError::InvalidParameter(_) => 2,
            _ => 1,
        };
        Fail(code, e.to_string())
    }
}

fn usage(msg: impl Into<String>) -> Fail {
    Fail(2, format!("{}\n{USAGE}", msg.into()))
}

fn parse_num(s: &str, what: &str) -> Result<u64, Fail> {
    let r = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => s.parse(),
    };
    r.map_err(|_| usage(format!("{what}: '{s}' is not a number")))
}

fn parse_uuid(s: &str) -> Result<uuid::Uuid, Fail> {
    uuid::Uuid::parse_str(s).map_err(|e| usage(format!("'{s}' is not a UUID: {e}")))
}

#[derive(Default)]
struct Args {
    cmd: String,
    image: PathBuf,
    offset: u64,
    size: Option<u64>,
    json: bool,
    rewrite_log: bool,
    no_sync: bool,
    lbasize: Option<u32>,
    version: Option<(u16, u16)>,
    uuid: Option<uuid::Uuid>,
    parent_uuid: Option<uuid::Uuid>,
    positional: Vec<String>,
}

fn parse_args(argv: &[String]) -> Result<Args, Fail> {
    let mut a = Args::default();
    let mut it = argv.iter();
    a.cmd = it.next().ok_or_else(|| usage("missing command"))?.clone();
    if a.cmd == "-h" || a.cmd == "--help" || a.cmd == "help" {
        return Err(Fail(0, USAGE.into()));
    }
    let mut image = None;
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| usage(format!("{name} needs a value")))
        };
        match arg.as_str() {
            "--offset" => a.offset = parse_num(&value("--offset")?, "--offset")?,
            "--size" => a.size = Some(parse_num(&value("--size")?, "--size")?),
            "--json" => a.json = true,
            "--rewrite-log" => a.rewrite_log = true,
            "--no-sync" => a.no_sync = true,
            "--lbasize" => {
                let n = parse_num(&value("--lbasize")?, "--lbasize")?;
                a.lbasize = Some(u32::try_from(n).map_err(|_| usage("--lbasize too large"))?);
            }
            "--version" => {
                a.version = Some(match value("--version")?.as_str() {
                    "1.1" => (1, 1),
                    "2.0" => (2, 0),
                    v => return Err(usage(format!("--version {v}: use 1.1 or 2.0"))),
                })
            }
            "--uuid" => a.uuid = Some(parse_uuid(&value("--uuid")?)?),
            "--parent-uuid" => a.parent_uuid = Some(parse_uuid(&value("--parent-uuid")?)?),
            s if s.starts_with("--") => return Err(usage(format!("unknown option {s}"))),
            s if image.is_none() => image = Some(PathBuf::from(s)),
            s => a.positional.push(s.to_string()),
        }
    }
    a.image = image.ok_or_else(|| usage("missing IMAGE"))?;
    Ok(a)
}

fn check_opts(a: &Args) -> CheckOptions {
    CheckOptions {
        namespace_size: a.size,
        parent_uuid: a.parent_uuid,
    }
}

fn no_positional(a: &Args) -> Result<(), Fail> {
    match a.positional.first() {
        Some(p) => Err(usage(format!("unexpected argument '{p}'"))),
        None => Ok(()),
    }
}

fn run(a: &Args) -> Result<u8, Fail> {
    let stdout = std::io::stdout();
    let io_fail = |e: std::io::Error| Fail(2, format!("output: {e}"));
    match a.cmd.as_str() {
        "info" => {
            no_positional(a)?;
            let s = FileStorage::open(&a.image, false, Durability::None)?;
            let ro = OpenOptions {
                read_only: true,
                ..Default::default()
            };
            let btt = BttMedia::open_with(s, a.offset, &ro)?;
            let text = serde_json::to_string_pretty(&btt.info().to_json())
                .map_err(|e| Fail(2, e.to_string()))?;
            writeln!(stdout.lock(), "{text}").map_err(io_fail)?;
            Ok(0)
        }
        "check" | "repair" => {
            no_positional(a)?;
            let report = if a.cmd == "check" {
                let s = FileStorage::open(&a.image, false, Durability::None)?;
                check_with(&s, a.offset, &check_opts(a))?
            } else {
                let s = FileStorage::open(&a.image, true, Durability::Sync)?;
                let opts = RepairOptions {
                    check: check_opts(a),
                    rewrite_log: a.rewrite_log,
                };
                repair(&s, a.offset, &opts)?
            };
            let mut out = stdout.lock();
            if a.json {
                let text = serde_json::to_string_pretty(&report.to_json())
                    .map_err(|e| Fail(2, e.to_string()))?;
                writeln!(out, "{text}").map_err(io_fail)?;
            } else {
                write!(out, "{report}").map_err(io_fail)?;
            }
            Ok(if report.is_clean() { 0 } else { 1 })
        }
        "read" => {
            let lba = parse_num(
                a.positional
                    .first()
                    .ok_or_else(|| usage("read needs an LBA"))?,
                "LBA",
            )?;
            let count = match a.positional.get(1) {
                Some(c) => parse_num(c, "COUNT")?,
                None => 1,
            };
            if a.positional.len() > 2 {
                return Err(usage("too many arguments"));
            }
            let s = FileStorage::open(&a.image, false, Durability::None)?;
            let ro = OpenOptions {
                read_only: true,
                ..Default::default()
            };
            let btt = BttMedia::open_with(s, a.offset, &ro)?;
            let n = btt.lba_size() as u64;
            let end = lba
                .checked_add(count)
                .ok_or_else(|| usage("LBA + COUNT overflows"))?;
            let mut buf = vec![0u8; (n * count.clamp(1, CHUNK_SECTORS)) as usize];
            let mut out = stdout.lock();
            let mut l = lba;
            while l < end {
                let k = (end - l).min(CHUNK_SECTORS);
                let chunk = &mut buf[..(k * n) as usize];
                btt.read_sectors(l, chunk)?;
                out.write_all(chunk).map_err(io_fail)?;
                l += k;
            }
            out.flush().map_err(io_fail)?;
            Ok(0)
        }
        "write" => {
            let lba = parse_num(
                a.positional
                    .first()
                    .ok_or_else(|| usage("write needs an LBA"))?,
                "LBA",
            )?;
            if a.positional.len() > 1 {
                return Err(usage("too many arguments"));
            }
            let durability = if a.no_sync {
                Durability::None
            } else {
                Durability::Sync
            };
            let s = FileStorage::open(&a.image, true, durability)?;
            let btt = BttMedia::open(s, a.offset)?;
            let n = btt.lba_size() as usize;
            let mut input = std::io::stdin().lock();
            let mut buf = vec![0u8; n * CHUNK_SECTORS as usize];
            let mut l = lba;
            loop {
                let mut got = 0;
                while got < buf.len() {
                    match input.read(&mut buf[got..]) {
                        Ok(0) => break,
                        Ok(k) => got += k,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(Fail(2, format!("stdin: {e}"))),
                    }
                }
                let whole = got - got % n;
                btt.write_sectors(l, &buf[..whole])?;
                l += (whole / n) as u64;
                if got < buf.len() {
                    if got != whole {
                        return Err(Fail(
                            2,
                            format!("stdin ended with a partial sector ({} of {n} bytes); {} sector(s) written", got - whole, l - lba),
                        ));
                    }
                    break;
                }
            }
            Ok(0)
        }
        "format" => {
            no_positional(a)?;
            let lbasize = a.lbasize.ok_or_else(|| usage("format needs --lbasize"))?;
            let s = FileStorage::open(&a.image, true, Durability::Sync)?;
            let mut opts = FormatOptions::new(lbasize);
            opts.version = a.version.unwrap_or((1, 1));
            opts.uuid = a.uuid;
            opts.parent_uuid = a.parent_uuid.unwrap_or_default();
            opts.namespace_size = a.size;
            let infos = format_btt(&s, a.offset, &opts)?;
            let nlba: u64 = infos.iter().map(|i| u64::from(i.external_nlba)).sum();
            writeln!(
                stdout.lock(),
                "formatted BTT v{}.{} uuid {}: {} arena(s), {nlba} sectors of {lbasize} bytes",
                opts.version.0,
                opts.version.1,
                infos.first().map(|i| i.uuid).unwrap_or_default(),
                infos.len()
            )
            .map_err(io_fail)?;
            Ok(0)
        }
        other => Err(usage(format!("unknown command '{other}'"))),
    }
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let result = parse_args(&argv).and_then(|a| run(&a));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(Fail(0, msg)) => {
            println!("{msg}");
            ExitCode::SUCCESS
        }
        Err(Fail(code, msg)) => {
            eprintln!("btt: {msg}");
            ExitCode::from(code)
        }
    }
}

//! The command line and printer of the `list` example (`ndctl list`'s flags, json-c's
//! pretty format), shared with the tests that compare its output to the real ndctl's.

use ndctl::list::Options;
use serde_json::Value;

/// A command-line error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Parse `ndctl list` arguments (without the program name); the result has ndctl's
/// implications between flags applied.
pub fn parse_args<I, S>(args: I) -> std::result::Result<Options, UsageError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut o = Options::default();
    let args: Vec<String> = args.into_iter().map(|a| a.as_ref().to_string()).collect();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if let Some(long) = a.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let mut value = || -> std::result::Result<String, UsageError> {
                if let Some(v) = inline.clone() {
                    return Ok(v);
                }
                let v = args
                    .get(i)
                    .cloned()
                    .ok_or_else(|| UsageError(format!("--{name} needs a value")))?;
                i += 1;
                Ok(v)
            };
            match name {
                "buses" => o.buses = true,
                "dimms" => o.dimms = true,
                "regions" => o.regions = true,
                "namespaces" => o.namespaces = true,
                "device-dax" => o.dax = true,
                "idle" => o.idle = true,
                "configured" => o.configured = true,
                "capabilities" => o.capabilities = true,
                "media-errors" => o.media_errors = true,
                "human" => o.human = true,
                "verbose" => o.verbose = o.verbose.saturating_add(1),
                "health" => o.health = true,
                "firmware" => o.firmware = true,
                "bus" => o.bus_filter = Some(value()?),
                "region" => o.region_filter = Some(value()?),
                "namespace" => o.namespace_filter = Some(value()?),
                "dimm" => o.dimm_filter = Some(value()?),
                "mode" => o.mode_filter = Some(value()?),
                "type" => o.type_filter = Some(value()?),
                _ => return Err(UsageError(format!("unknown option --{name}"))),
            }
            continue;
        }
        let Some(shorts) = a.strip_prefix('-').filter(|s| !s.is_empty()) else {
            return Err(UsageError(format!("unexpected argument {a:?}")));
        };
        let chars: Vec<char> = shorts.chars().collect();
        let mut j = 0;
        while j < chars.len() {
            let c = chars[j];
            j += 1;
            let takes_value = matches!(c, 'b' | 'r' | 'n' | 'd' | 'm' | 't');
            if takes_value {
                let rest: String = chars[j..].iter().collect();
                let v = if !rest.is_empty() {
                    j = chars.len();
                    rest
                } else {
                    let v = args
                        .get(i)
                        .cloned()
                        .ok_or_else(|| UsageError(format!("-{c} needs a value")))?;
                    i += 1;
                    v
                };
                match c {
                    'b' => o.bus_filter = Some(v),
                    'r' => o.region_filter = Some(v),
                    'n' => o.namespace_filter = Some(v),
                    'd' => o.dimm_filter = Some(v),
                    'm' => o.mode_filter = Some(v),
                    _ => o.type_filter = Some(v),
                }
                continue;
            }
            match c {
                'B' => o.buses = true,
                'D' => o.dimms = true,
                'R' => o.regions = true,
                'N' => o.namespaces = true,
                'X' => o.dax = true,
                'i' => o.idle = true,
                'c' => o.configured = true,
                'C' => o.capabilities = true,
                'M' => o.media_errors = true,
                'u' => o.human = true,
                'v' => o.verbose = o.verbose.saturating_add(1),
                // Health submits SMART commands where the DIMM has them.
                'H' => o.health = true,
                // Firmware submits a get-info command where the DIMM has one.
                'F' => o.firmware = true,
                _ => return Err(UsageError(format!("unknown option -{c}"))),
            }
        }
    }
    Ok(o.implied())
}

/// Print JSON the way json-c's pretty printer does (two-space indent, no space after `:`).
pub fn to_pretty(v: &Value) -> String {
    let mut out = String::new();
    write_pretty(v, 0, &mut out);
    out
}

fn write_pretty(v: &Value, depth: usize, out: &mut String) {
    let pad = |d: usize, out: &mut String| out.push_str(&"  ".repeat(d));
    match v {
        Value::Array(a) if !a.is_empty() => {
            out.push_str("[\n");
            for (i, x) in a.iter().enumerate() {
                pad(depth + 1, out);
                write_pretty(x, depth + 1, out);
                if i + 1 < a.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            pad(depth, out);
            out.push(']');
        }
        Value::Object(m) if !m.is_empty() => {
            out.push_str("{\n");
            for (i, (k, x)) in m.iter().enumerate() {
                pad(depth + 1, out);
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_pretty(x, depth + 1, out);
                if i + 1 < m.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            pad(depth, out);
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flags_and_verbosity() {
        let o = parse_args(["-BDRNXi", "-vvv"]).unwrap();
        assert!(o.buses && o.dimms && o.regions && o.namespaces && o.dax && o.idle);
        assert!(o.capabilities && o.media_errors);
        assert_eq!(o.verbose, 3);
        let o = parse_args(["--region=region1"]).unwrap();
        assert!(o.regions && !o.namespaces && !o.buses);
        let o = parse_args(["-r", "1", "-N"]).unwrap();
        assert_eq!(o.region_filter.as_deref(), Some("1"));
        assert!(o.namespaces && !o.regions);
        let o = parse_args::<[&str; 0], &str>([]).unwrap();
        assert!(o.namespaces && !o.buses);
        assert!(parse_args(["-Q"]).is_err());
        assert!(parse_args(["--bus"]).is_err());
    }

    #[test]
    fn pretty_printer_matches_json_c() {
        let v = json!([{"a": 1, "b": [1, 2], "c": {}}]);
        assert_eq!(
            to_pretty(&v),
            "[\n  {\n    \"a\":1,\n    \"b\":[\n      1,\n      2\n    ],\n    \"c\":{}\n  }\n]"
        );
    }
}

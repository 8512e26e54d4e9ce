//! Pure parsers of attribute text: no file system, unit-tested on strings.
//!
//! Each takes the in-root path of the attribute only to name it in an error.

use std::path::Path;

use crate::error::{Error, Result};

/// Parse an unsigned number as `strtoull(s, NULL, 0)` would, but strictly: the whole string
/// (surrounding blanks aside) must be one number and it must fit.
pub fn parse_u64(path: &Path, s: &str) -> Result<u64> {
    let t = s.trim();
    let (digits, radix) = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        (h, 16)
    } else if t.len() > 1 && t.starts_with('0') {
        (&t[1..], 8)
    } else {
        (t, 10)
    };
    if digits.is_empty() {
        return Err(Error::parse(path, s, "empty or truncated number"));
    }
    u64::from_str_radix(digits, radix).map_err(|e| {
        let reason = match e.kind() {
            std::num::IntErrorKind::PosOverflow => "number out of range",
            _ => "not a number",
        };
        Error::parse(path, s, reason)
    })
}

/// Parse a signed number (`numa_node`, `target_node` may be `-1`).
pub fn parse_i64(path: &Path, s: &str) -> Result<i64> {
    let t = s.trim();
    if let Some(rest) = t.strip_prefix('-') {
        let v = parse_u64(path, rest)?;
        if v > i64::MAX as u64 + 1 {
            return Err(Error::parse(path, s, "number out of range"));
        }
        Ok((v as i128).wrapping_neg() as i64)
    } else {
        let v = parse_u64(path, t)?;
        i64::try_from(v).map_err(|_| Error::parse(path, s, "number out of range"))
    }
}

/// Parse a `"MAJOR:MINOR"` device number.
pub fn parse_devnum(path: &Path, s: &str) -> Result<(u32, u32)> {
    let (ma, mi) = s
        .trim()
        .split_once(':')
        .ok_or_else(|| Error::parse(path, s, "expected MAJOR:MINOR"))?;
    let conv = |x: &str| -> Result<u32> {
        if x.is_empty() || !x.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::parse(path, s, "expected MAJOR:MINOR"));
        }
        x.parse::<u32>()
            .map_err(|_| Error::parse(path, s, "device number out of range"))
    };
    Ok((conv(ma)?, conv(mi)?))
}

/// Parse a uuid attribute; an empty attribute is the null uuid (unconfigured seed).
pub fn parse_uuid(path: &Path, s: &str) -> Result<uuid::Uuid> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(uuid::Uuid::nil());
    }
    uuid::Uuid::parse_str(t).map_err(|e| Error::parse(path, s, e.to_string()))
}

/// A `sector_size`-style list: `"512 [4096] "` gives the sizes and the index of the
/// bracketed current one.
pub fn parse_size_list(path: &Path, s: &str) -> Result<(Vec<u32>, Option<usize>)> {
    let mut sizes = Vec::new();
    let mut current = None;
    for tok in s.split_whitespace() {
        let (num, bracketed) = match tok.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            Some(inner) => (inner, true),
            None => (tok, false),
        };
        let v = parse_u64(path, num)?;
        let v = u32::try_from(v).map_err(|_| Error::parse(path, s, "size out of range"))?;
        if bracketed {
            if current.is_some() {
                return Err(Error::parse(path, s, "more than one current value"));
            }
            current = Some(sizes.len());
        }
        sizes.push(v);
    }
    Ok((sizes, current))
}

/// The number of a child device entry named `<prefix><N>...` (libndctl's
/// `sscanf(name, "<prefix>%d")`: digits right after the prefix, anything may follow).
/// `Err` with the reason when the name has the prefix but no usable number.
pub fn child_id(prefix: &str, name: &str) -> Option<std::result::Result<u32, &'static str>> {
    let rest = name.strip_prefix(prefix)?;
    let digits = &rest[..rest.bytes().take_while(u8::is_ascii_digit).count()];
    if digits.is_empty() {
        return None;
    }
    Some(
        digits
            .parse::<u32>()
            .map_err(|_| "device number out of range"),
    )
}

/// The index of an entry named exactly `<prefix><N>` with `N` in canonical decimal (as
/// libndctl formats `mapping%d`), else `None`.
pub fn exact_index(prefix: &str, name: &str) -> Option<u32> {
    let digits = name.strip_prefix(prefix)?;
    let n = digits.parse::<u32>().ok()?;
    (n.to_string() == digits).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_parse_like_strtoull_but_strictly() {
        let p = Path::new("/x");
        assert_eq!(parse_u64(p, "1234").unwrap(), 1234);
        assert_eq!(parse_u64(p, "0x1F").unwrap(), 31);
        assert_eq!(parse_u64(p, "010").unwrap(), 8);
        assert_eq!(parse_u64(p, "0").unwrap(), 0);
        assert_eq!(parse_u64(p, " 7 ").unwrap(), 7);
        for bad in [
            "",
            "0x",
            "12abc",
            "-1",
            "99999999999999999999999",
            "1 2",
            "\u{0}",
        ] {
            let e = parse_u64(p, bad).unwrap_err();
            assert!(matches!(e, Error::Parse { .. }), "{bad:?}: {e}");
            assert!(e.to_string().starts_with("/x: invalid contents"), "{e}");
        }
        assert_eq!(parse_i64(p, "-1").unwrap(), -1);
        assert_eq!(parse_i64(p, "-9223372036854775808").unwrap(), i64::MIN);
        assert!(parse_i64(p, "-9223372036854775809").is_err());
        assert!(parse_i64(p, "18446744073709551615").is_err());
    }

    #[test]
    fn other_attribute_kinds() {
        let p = Path::new("/x");
        assert_eq!(parse_devnum(p, "246:0").unwrap(), (246, 0));
        for bad in ["246", ":1", "a:b", "1:99999999999"] {
            assert!(parse_devnum(p, bad).is_err(), "{bad}");
        }
        assert!(parse_uuid(p, "").unwrap().is_nil());
        assert_eq!(
            parse_uuid(p, "7524bf7f-b935-4f5c-ab43-6ddd6a1aad8c")
                .unwrap()
                .to_string(),
            "7524bf7f-b935-4f5c-ab43-6ddd6a1aad8c"
        );
        assert!(parse_uuid(p, "7524bf7f-b935").is_err());
        assert_eq!(
            parse_size_list(p, "512 [4096] ").unwrap(),
            (vec![512, 4096], Some(1))
        );
        assert_eq!(
            parse_size_list(p, "512 520 528 4096 4104 4160 4224 ").unwrap(),
            (vec![512, 520, 528, 4096, 4104, 4160, 4224], None)
        );
        assert!(parse_size_list(p, "[512] [4096]").is_err());
        assert!(parse_size_list(p, "512 [x]").is_err());
    }

    #[test]
    fn child_names() {
        assert_eq!(child_id("region", "region12"), Some(Ok(12)));
        assert_eq!(child_id("namespace1.", "namespace1.00"), Some(Ok(0)));
        assert_eq!(child_id("region", "region2x"), Some(Ok(2)));
        assert_eq!(child_id("region", "regionx"), None);
        assert_eq!(child_id("region", "nmem0"), None);
        assert!(matches!(
            child_id("region", "region99999999999999999999"),
            Some(Err(_))
        ));
        assert_eq!(exact_index("mapping", "mapping7"), Some(7));
        assert_eq!(exact_index("mapping", "mapping07"), None);
        assert_eq!(exact_index("mapping", "mapping"), None);
        assert_eq!(exact_index("mapping", "mapping4294967296"), None);
    }
}

//! Parsing what the modem says about itself: `ATI1`, the `showver` block, the IMEI,
//! and the builds named in upgdiff file names.

use crate::text::{base_name, find, leading_u32, parse_u32, same, starts_with_ignore_case, trim};
use heapless::Vec;

/// CAT-M1 (LR5.x) or NB-IoT (LR6.x).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// LTE CAT-M1 firmware (LR5.x).
    CatM1,
    /// NB-IoT firmware (LR6.x).
    NbIot,
}

/// The modem's versions, from `ATI1` and/or `showver`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Versions {
    /// The UE line of `ATI1` (`UE5.0.0.0d`), ASCII.
    pub ue: Vec<u8, 24>,
    /// The LR line of `ATI1` (`LR5.1.1.0-39529`), ASCII.
    pub lr: Vec<u8, 32>,
    /// Build of the running software (38638 in `Software : 5.1.1.0 [38638]`).
    pub software_build: Option<u32>,
    /// Build of `Bootloader0` (33080 is the oldest).
    pub bootloader0_build: Option<u32>,
}

/// The oldest bootloader: a recovery on it first needs the bootrom package.
pub const OLD_BOOTLOADER: u32 = 33080;

impl Versions {
    /// Takes the `UE…` and `LR…` lines of an `ATI1` reply.
    pub fn add_ati1<'l>(&mut self, lines: impl Iterator<Item = &'l [u8]>) {
        for line in lines {
            let line = trim(line);
            if line.starts_with(b"UE") {
                set(&mut self.ue, line);
            } else if line.starts_with(b"LR") {
                set(&mut self.lr, line);
                if self.software_build.is_none() {
                    let after_dash = line
                        .iter()
                        .rposition(|&b| b == b'-')
                        .and_then(|i| line.get(i + 1..));
                    self.software_build = after_dash.and_then(parse_u32);
                }
            }
        }
    }

    /// Takes the builds out of a `showver` block (the UE and LR lines come from `ATI1`,
    /// which is always asked first).
    pub fn add_showver<'l>(&mut self, lines: impl Iterator<Item = &'l [u8]>) {
        for line in lines {
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let key = line.get(..colon).unwrap_or(&[]);
            let value = line.get(colon + 1..).unwrap_or(&[]);
            let key = trim(key);
            let key = trim(key.strip_suffix(b"*").unwrap_or(key));
            let build = bracketed_number(value);
            if same(key, b"Bootloader0") {
                self.bootloader0_build = build;
            } else if same(key, b"Software") {
                self.software_build = build.or(self.software_build);
            }
        }
    }

    /// The firmware family, from the LR line.
    pub fn family(&self) -> Option<Family> {
        match self.lr.get(..3) {
            Some(b"LR5") => Some(Family::CatM1),
            Some(b"LR6") => Some(Family::NbIot),
            _ => None,
        }
    }

    /// True when the modem has the oldest bootloader (33080).
    pub fn has_old_bootloader(&self) -> bool {
        self.bootloader0_build == Some(OLD_BOOTLOADER)
    }
}

/// As much of `s` as fits (reply lines are printable ASCII: the AT parser keeps nothing
/// else, so cutting anywhere is safe).
fn truncated<const N: usize>(s: &[u8]) -> Vec<u8, N> {
    let mut v = Vec::new();
    set(&mut v, s);
    v
}

/// Makes `v` as much of `s` as fits, in place (no copy of the whole vector).
fn set<const N: usize>(v: &mut Vec<u8, N>, s: &[u8]) {
    v.clear();
    let _ = v.extend_from_slice(s.get(..N).unwrap_or(s));
}

/// `5.1.1.0 [38638] by robot-soft…` → 38638.
fn bracketed_number(s: &[u8]) -> Option<u32> {
    let open = s.iter().position(|&b| b == b'[')?;
    let rest = s.get(open + 1..)?;
    let close = rest.iter().position(|&b| b == b']')?;
    parse_u32(trim(rest.get(..close)?))
}

/// The IMEI in a `AT+CGSN` reply: the first line of exactly 15 digits.
pub fn parse_imei<'l>(lines: impl Iterator<Item = &'l [u8]>) -> Option<Vec<u8, 16>> {
    for l in lines {
        let l = trim(l);
        let l = trim(l.strip_prefix(b"+CGSN:").unwrap_or(l));
        let l = trim_quotes(l);
        if l.len() == 15 && parse_u64_digits(l) {
            return Some(truncated(l));
        }
    }
    None
}

fn trim_quotes(l: &[u8]) -> &[u8] {
    let l = l.strip_prefix(b"\"").unwrap_or(l);
    l.strip_suffix(b"\"").unwrap_or(l)
}

fn parse_u64_digits(l: &[u8]) -> bool {
    l.iter().all(u8::is_ascii_digit)
}

/// An upgdiff's builds, from a name like `upgdiff_38638-to-39529.dup` (any folder).
pub fn parse_upgdiff_name(name: &[u8]) -> Option<(u32, u32)> {
    let base = base_name(name);
    if !starts_with_ignore_case(base, b"upgdiff") {
        return None;
    }
    let mut rest = base.get(7..)?;
    while let Some((&first, tail)) = rest.split_first() {
        if first != b'_' && first != b'-' {
            break;
        }
        rest = tail;
    }
    let at = find(rest, b"-to-")?;
    let from = parse_u32(rest.get(..at)?)?;
    let to = leading_u32(rest.get(at + 4..)?)?;
    Some((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHOWVER: &str = "SYSTEM VERSION\n==============\n  FIRMWARE VERSION\n    Bootloader0  : 5.1.1.0 [33080]\n    Bootloader1* : 5.1.1.0 [38638]\n    Bootloader2  : 5.1.1.0 [38638]\n    NV Info      : 1.1,0,0\n    Software     : 5.1.1.0 [38638] by robot-soft at 2018-08-20 09:51:46\n    UE           : 5.0.0.0d\n  COMPONENTS\n    ZSP0         : 1.0.99-13604\n    ZSP1         : 1.0.99-12341\n";

    #[test]
    fn showver_block() {
        let mut v = Versions::default();
        v.add_showver(SHOWVER.lines().map(str::as_bytes));
        assert_eq!(v.bootloader0_build, Some(33080));
        assert_eq!(v.software_build, Some(38638));
        assert!(v.has_old_bootloader());
    }

    #[test]
    fn showver_starred_bootloader0() {
        let mut v = Versions::default();
        v.add_showver(
            "    Bootloader0* : 6.0.0.0 [40343]\n    Software     : 6.0.0.0 [40343] by x"
                .lines()
                .map(str::as_bytes),
        );
        assert_eq!(v.bootloader0_build, Some(40343));
        assert!(!v.has_old_bootloader());
    }

    #[test]
    fn ati1_lines() {
        let mut v = Versions::default();
        v.add_ati1([&b"UE5.0.0.0d"[..], b"LR5.1.1.0-39529"].into_iter());
        assert_eq!(&v.ue[..], b"UE5.0.0.0d");
        assert_eq!(&v.lr[..], b"LR5.1.1.0-39529");
        assert_eq!(v.software_build, Some(39529));
        assert_eq!(v.family(), Some(Family::CatM1));
        let mut n = Versions::default();
        n.add_ati1([&b"UE6.0.0.0"[..], b"LR6.0.0.0-40343"].into_iter());
        assert_eq!(n.family(), Some(Family::NbIot));
    }

    #[test]
    fn imei() {
        assert_eq!(
            parse_imei([&b"354347090000123"[..]].into_iter()).as_deref(),
            Some(&b"354347090000123"[..])
        );
        assert_eq!(parse_imei([&b"12345"[..], b"OK"].into_iter()), None);
    }

    #[test]
    fn upgdiff_names() {
        assert_eq!(
            parse_upgdiff_name(b"/sd/upgdiff_38638-to-39529.dup"),
            Some((38638, 39529))
        );
        assert_eq!(
            parse_upgdiff_name(b"C:\\fw\\UPGDIFF_33080-to-40343.dup"),
            Some((33080, 40343))
        );
        assert_eq!(parse_upgdiff_name(b"CATM1-38638.dup"), None);
        assert_eq!(parse_upgdiff_name(b"upgdiff_old-to-new.dup"), None);
    }
}

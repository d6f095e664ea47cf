//! Parsing what the modem says about itself: `ATI1`, the `showver` block, the IMEI,
//! and the builds named in upgdiff file names.

use heapless::String;

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
    /// The UE line of `ATI1` (`UE5.0.0.0d`).
    pub ue: String<24>,
    /// The LR line of `ATI1` (`LR5.1.1.0-39529`).
    pub lr: String<32>,
    /// Build of the running software (38638 in `Software : 5.1.1.0 [38638]`).
    pub software_build: Option<u32>,
    /// Build of `Bootloader0` (33080 is the oldest).
    pub bootloader0_build: Option<u32>,
}

/// The oldest bootloader: a recovery on it first needs the bootrom package.
pub const OLD_BOOTLOADER: u32 = 33080;

impl Versions {
    /// Takes the `UE…` and `LR…` lines of an `ATI1` reply.
    pub fn add_ati1<'l>(&mut self, lines: impl Iterator<Item = &'l str>) {
        for line in lines {
            let line = line.trim();
            if line.starts_with("UE") {
                self.ue = truncated(line);
            } else if line.starts_with("LR") {
                self.lr = truncated(line);
                if self.software_build.is_none() {
                    self.software_build = line.rsplit('-').next().and_then(|b| b.parse().ok());
                }
            }
        }
    }

    /// Takes the builds out of a `showver` block.
    pub fn add_showver<'l>(&mut self, lines: impl Iterator<Item = &'l str>) {
        for line in lines {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let key = key.trim().trim_end_matches('*').trim();
            let build = bracketed_number(value);
            match key {
                "Bootloader0" => self.bootloader0_build = build,
                "Software" => self.software_build = build.or(self.software_build),
                "UE" if self.ue.is_empty() => {
                    let mut ue = String::new();
                    let _ = ue.push_str("UE");
                    let _ = ue.push_str(value.trim());
                    self.ue = ue;
                }
                _ => {}
            }
        }
    }

    /// The firmware family, from the LR line.
    pub fn family(&self) -> Option<Family> {
        match self.lr.get(..3) {
            Some("LR5") => Some(Family::CatM1),
            Some("LR6") => Some(Family::NbIot),
            _ => None,
        }
    }

    /// True when the modem has the oldest bootloader (33080).
    pub fn has_old_bootloader(&self) -> bool {
        self.bootloader0_build == Some(OLD_BOOTLOADER)
    }
}

fn truncated<const N: usize>(s: &str) -> String<N> {
    let mut out = String::new();
    for c in s.chars() {
        if out.push(c).is_err() {
            break;
        }
    }
    out
}

/// `5.1.1.0 [38638] by robot-soft…` → 38638.
fn bracketed_number(s: &str) -> Option<u32> {
    let start = s.find('[')? + 1;
    let end = start + s[start..].find(']')?;
    s[start..end].trim().parse().ok()
}

/// The IMEI in a `AT+CGSN` reply: the first line of exactly 15 digits.
pub fn parse_imei<'l>(mut lines: impl Iterator<Item = &'l str>) -> Option<String<16>> {
    lines.find_map(|l| {
        let l = l
            .trim()
            .trim_start_matches("+CGSN:")
            .trim()
            .trim_matches('"');
        (l.len() == 15 && l.bytes().all(|b| b.is_ascii_digit())).then(|| truncated(l))
    })
}

/// An upgdiff's builds, from a name like `upgdiff_38638-to-39529.dup` (any folder).
pub fn parse_upgdiff_name(name: &str) -> Option<(u32, u32)> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let lower_start = base.get(..7)?;
    if !lower_start.eq_ignore_ascii_case("upgdiff") {
        return None;
    }
    let rest = base[7..].trim_start_matches(['_', '-']);
    let (from, rest) = rest.split_once("-to-")?;
    let to: &str = rest.split(|c: char| !c.is_ascii_digit()).next()?;
    Some((from.parse().ok()?, to.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHOWVER: &str = "SYSTEM VERSION\n==============\n  FIRMWARE VERSION\n    Bootloader0  : 5.1.1.0 [33080]\n    Bootloader1* : 5.1.1.0 [38638]\n    Bootloader2  : 5.1.1.0 [38638]\n    NV Info      : 1.1,0,0\n    Software     : 5.1.1.0 [38638] by robot-soft at 2018-08-20 09:51:46\n    UE           : 5.0.0.0d\n  COMPONENTS\n    ZSP0         : 1.0.99-13604\n    ZSP1         : 1.0.99-12341\n";

    #[test]
    fn showver_block() {
        let mut v = Versions::default();
        v.add_showver(SHOWVER.lines());
        assert_eq!(v.bootloader0_build, Some(33080));
        assert_eq!(v.software_build, Some(38638));
        assert_eq!(v.ue.as_str(), "UE5.0.0.0d");
        assert!(v.has_old_bootloader());
    }

    #[test]
    fn showver_starred_bootloader0() {
        let mut v = Versions::default();
        v.add_showver(
            "    Bootloader0* : 6.0.0.0 [40343]\n    Software     : 6.0.0.0 [40343] by x".lines(),
        );
        assert_eq!(v.bootloader0_build, Some(40343));
        assert!(!v.has_old_bootloader());
    }

    #[test]
    fn ati1_lines() {
        let mut v = Versions::default();
        v.add_ati1(["UE5.0.0.0d", "LR5.1.1.0-39529"].into_iter());
        assert_eq!(v.ue.as_str(), "UE5.0.0.0d");
        assert_eq!(v.lr.as_str(), "LR5.1.1.0-39529");
        assert_eq!(v.software_build, Some(39529));
        assert_eq!(v.family(), Some(Family::CatM1));
        let mut n = Versions::default();
        n.add_ati1(["UE6.0.0.0", "LR6.0.0.0-40343"].into_iter());
        assert_eq!(n.family(), Some(Family::NbIot));
    }

    #[test]
    fn imei() {
        assert_eq!(
            parse_imei(["354347090000123"].into_iter()).as_deref(),
            Some("354347090000123")
        );
        assert_eq!(parse_imei(["12345", "OK"].into_iter()), None);
    }

    #[test]
    fn upgdiff_names() {
        assert_eq!(
            parse_upgdiff_name("/sd/upgdiff_38638-to-39529.dup"),
            Some((38638, 39529))
        );
        assert_eq!(
            parse_upgdiff_name("C:\\fw\\UPGDIFF_33080-to-40343.dup"),
            Some((33080, 40343))
        );
        assert_eq!(parse_upgdiff_name("CATM1-38638.dup"), None);
        assert_eq!(parse_upgdiff_name("upgdiff_old-to-new.dup"), None);
    }
}

//! What the simulator can learn from the first bytes of a received image.

/// How many leading bytes are searched for a name.
pub const NAME_WINDOW: usize = 256;

/// Facts read from an image's head.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImageInfo {
    /// Starts with `UPGR` (a `.dup`).
    pub upgr: bool,
    /// Starts with `\x7fELF` (updater.elf).
    pub elf: bool,
    /// `upgdiff_A-to-B` found: (A, B).
    pub diff: Option<(u32, u32)>,
    /// The build the image installs, when named.
    pub build: Option<u32>,
    /// The size the `UPGR` header announces (its length field + 46), if it has one.
    pub declared_size: Option<u64>,
}

/// Inspects the head (at least the first [`NAME_WINDOW`] bytes when available).
pub fn inspect(head: &[u8]) -> ImageInfo {
    let window = &head[..head.len().min(NAME_WINDOW)];
    let upgr = head.starts_with(b"UPGR");
    let diff = find_upgdiff(window);
    let build = match diff {
        Some((_, b)) => Some(b),
        None if upgr => last_five_digits(description(window)),
        None => None,
    };
    let declared_size = match head.get(8..12) {
        Some(b) if upgr => Some(u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])) + 46),
        _ => None,
    };
    ImageInfo {
        upgr,
        elf: head.starts_with(b"\x7fELF"),
        diff,
        build,
        declared_size,
    }
}

/// The NUL-terminated description after `UPGR`, u32 version and u32 length.
fn description(head: &[u8]) -> &[u8] {
    let rest = head.get(12..).unwrap_or(&[]);
    let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    &rest[..end]
}

/// Reads a run of ASCII digits at the start of `b`: (value, digit count).
fn digits(b: &[u8]) -> Option<(u32, usize)> {
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 || n > 9 {
        return None;
    }
    let s = std::str::from_utf8(&b[..n]).ok()?;
    Some((s.parse().ok()?, n))
}

/// Finds `upgdiff_<A>-to-<B>` anywhere in `w`.
fn find_upgdiff(w: &[u8]) -> Option<(u32, u32)> {
    const KEY: &[u8] = b"upgdiff_";
    let mut i = 0;
    while i + KEY.len() <= w.len() {
        if w[i..].starts_with(KEY) {
            if let Some(p) = upgdiff_at(&w[i + KEY.len()..]) {
                return Some(p);
            }
        }
        i += 1;
    }
    None
}

fn upgdiff_at(b: &[u8]) -> Option<(u32, u32)> {
    let (a, n) = digits(b)?;
    let rest = b[n..].strip_prefix(b"-to-")?;
    let (to, _) = digits(rest)?;
    Some((a, to))
}

/// The last run of exactly five digits.
fn last_five_digits(d: &[u8]) -> Option<u32> {
    let mut found = None;
    let mut i = 0;
    while i < d.len() {
        let n = d[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 5 {
            found = digits(&d[i..]).map(|(v, _)| v);
        }
        i += n.max(1);
    }
    found
}

/// A synthetic `.dup` for tests and demos: `UPGR`, u32 LE 3, u32 LE size − 46, the
/// NUL-terminated description, then deterministic pseudo-random bytes.
pub fn synthetic_dup(size: usize, description: &str) -> Result<Vec<u8>, String> {
    if size < 13 + description.len() {
        return Err(format!("{size} bytes is too small for the header"));
    }
    let mut data = vec![0u8; size];
    let mut x: u32 = 0x9e37_79b9 ^ size as u32;
    for b in data.iter_mut() {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    data[..4].copy_from_slice(b"UPGR");
    data[4..8].copy_from_slice(&3u32.to_le_bytes());
    data[8..12].copy_from_slice(&(size.saturating_sub(46) as u32).to_le_bytes());
    data[12..12 + description.len()].copy_from_slice(description.as_bytes());
    data[12 + description.len()] = 0;
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dup(desc: &str) -> Vec<u8> {
        let mut v = b"UPGR".to_vec();
        v.extend(3u32.to_le_bytes());
        v.extend(1000u32.to_le_bytes());
        v.extend(desc.as_bytes());
        v.push(0);
        v.extend(b"12345 tail");
        v
    }

    #[test]
    fn upgdiff_names_both_builds() {
        let i = inspect(&dup("upgdiff_38638-to-39529.dup"));
        assert!(i.upgr);
        assert_eq!(i.diff, Some((38638, 39529)));
        assert_eq!(i.build, Some(39529));
    }

    #[test]
    fn full_image_last_five_digits() {
        let i = inspect(&dup("FIPY_GPY_CATM1_33988 LR5.1.1.0-41019"));
        assert_eq!(i.diff, None);
        assert_eq!(i.build, Some(41019));
        assert_eq!(inspect(&dup("CATM1-123456")).build, None);
        assert_eq!(inspect(&dup("")).build, None);
    }

    #[test]
    fn other_files() {
        let i = inspect(b"\x7fELF\x01\x01");
        assert!(i.elf && !i.upgr);
        assert_eq!(i.build, None);
        assert_eq!(inspect(b"<html>upgdiff_1-to-").diff, None);
        assert_eq!(inspect(b"UPG").build, None);
    }
}

//! Text without `core::fmt` and without panicking paths: the byte-level helpers the AT
//! parser and the version parsers use, and [`Text`], a fixed buffer that messages are
//! composed in.
//!
//! On the board every byte of code counts and a panic is a hang, so nothing here indexes
//! without a check the compiler can see, and numbers are written by hand instead of
//! through `core::fmt` (which costs several kilobytes of code and a deep stack).

/// Where composed text goes: a [`Text`] buffer on the board, a `String` on a computer.
pub trait Sink {
    /// Appends `s` (as much as fits).
    fn put(&mut self, s: &str);

    /// Appends `n` in decimal.
    fn put_u32(&mut self, n: u32) {
        let mut digits = [0u8; 10];
        let s = decimal(n, &mut digits);
        self.put(s);
    }

    /// Appends `n` in decimal with a minus sign when the 32-bit value is negative as
    /// a two's-complement count (a stream that returned -5 shows as `-5`).
    fn put_count(&mut self, n: u32) {
        if n > i32::MAX as u32 {
            self.put("-");
            self.put_u32(n.wrapping_neg());
        } else {
            self.put_u32(n);
        }
    }
}

/// Writes `n` in decimal into `buf` and returns it as text.
pub fn decimal(mut n: u32, buf: &mut [u8; 10]) -> &str {
    let mut start = buf.len();
    loop {
        start -= 1;
        if let Some(slot) = buf.get_mut(start) {
            *slot = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || start == 0 {
            break;
        }
    }
    core::str::from_utf8(buf.get(start..).unwrap_or(&[])).unwrap_or("")
}

/// A fixed-size text buffer; what does not fit is cut at a character boundary.
pub struct Text<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Default for Text<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Text<N> {
    /// An empty buffer.
    pub const fn new() -> Self {
        Text {
            buf: [0; N],
            len: 0,
        }
    }

    /// Empties it.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// The text so far.
    pub fn as_str(&self) -> &str {
        let bytes = self.buf.get(..self.len).unwrap_or(&[]);
        match core::str::from_utf8(bytes) {
            Ok(s) => s,
            // Only whole characters are stored, so this does not happen; be safe anyway.
            Err(e) => {
                core::str::from_utf8(bytes.get(..e.valid_up_to()).unwrap_or(&[])).unwrap_or("")
            }
        }
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<const N: usize> Sink for Text<N> {
    fn put(&mut self, s: &str) {
        let room = N - self.len.min(N);
        let mut take = s.len().min(room);
        while take > 0 && !s.is_char_boundary(take) {
            take -= 1;
        }
        let src = s.as_bytes().get(..take).unwrap_or(&[]);
        let dst = self.buf.get_mut(self.len..).unwrap_or(&mut []);
        self.len += copy_prefix(dst, src);
    }
}

#[cfg(feature = "std")]
impl Sink for std::string::String {
    fn put(&mut self, s: &str) {
        self.push_str(s);
    }
}

/// Copies as much of `src` as fits to the start of `dst`; returns how much. (A loop the
/// compiler sees through: no length-mismatch panic as with `copy_from_slice`.)
pub fn copy_prefix(dst: &mut [u8], src: &[u8]) -> usize {
    let mut n = 0;
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = s;
        n += 1;
    }
    n
}

/// `s` without leading and trailing ASCII whitespace.
pub fn trim(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(s.len());
    let rest = s.get(start..).unwrap_or(&[]);
    let end = rest
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    rest.get(..end).unwrap_or(&[])
}

/// Where `needle` first occurs in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    let last = hay.len().checked_sub(needle.len())?;
    (0..=last).find(|&i| hay.get(i..i + needle.len()) == Some(needle))
}

/// True when `needle` occurs in `hay`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    find(hay, needle).is_some()
}

/// `hay` starts with `prefix`, ignoring ASCII case.
pub fn starts_with_ignore_case(hay: &[u8], prefix: &[u8]) -> bool {
    hay.get(..prefix.len())
        .is_some_and(|h| h.eq_ignore_ascii_case(prefix))
}

/// The decimal number that is all of `s` (no sign, no spaces), if it fits in a u32.
pub fn parse_u32(s: &[u8]) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    let mut n: u32 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u32::from(b - b'0'))?;
    }
    Some(n)
}

/// The leading decimal digits of `s` as a number.
pub fn leading_u32(s: &[u8]) -> Option<u32> {
    let end = s
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    parse_u32(s.get(..end)?)
}

/// `s` after its last `/` or `\` (the file name of a path).
pub fn base_name(s: &[u8]) -> &[u8] {
    match s.iter().rposition(|&b| b == b'/' || b == b'\\') {
        Some(i) => s.get(i + 1..).unwrap_or(&[]),
        None => s,
    }
}

/// The same bytes as text, or "" when they are not UTF-8.
pub fn as_str(s: &[u8]) -> &str {
    core::str::from_utf8(s).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        let mut t: Text<32> = Text::new();
        t.put_u32(0);
        t.put(" ");
        t.put_u32(4_294_967_295);
        t.put(" ");
        t.put_count(u32::MAX - 4);
        assert_eq!(t.as_str(), "0 4294967295 -5");
        assert_eq!(parse_u32(b"38638"), Some(38638));
        assert_eq!(parse_u32(b"4294967296"), None);
        assert_eq!(parse_u32(b"12a"), None);
        assert_eq!(parse_u32(b""), None);
        assert_eq!(leading_u32(b"39529.dup"), Some(39529));
    }

    #[test]
    fn cut_at_char_boundary() {
        let mut t: Text<4> = Text::new();
        t.put("ab\u{e9}c");
        assert_eq!(t.as_str(), "ab\u{e9}");
        t.put("more");
        assert_eq!(t.as_str(), "ab\u{e9}");
        let mut u: Text<3> = Text::new();
        u.put("ab\u{e9}");
        assert_eq!(u.as_str(), "ab");
    }

    #[test]
    fn byte_helpers() {
        assert_eq!(trim(b"  x y \r\n"), b"x y");
        assert_eq!(trim(b" \r\n"), b"");
        assert_eq!(find(b"+SMUPGRADE: success", b"success"), Some(12));
        assert_eq!(find(b"ab", b"abc"), None);
        assert!(contains(b"..+SYSSTART..", b"SYSSTART"));
        assert!(starts_with_ignore_case(b"UPGDIFF_1", b"upgdiff"));
        assert_eq!(base_name(b"C:\\fw\\a.dup"), b"a.dup");
        assert_eq!(base_name(b"/sd/a.dup"), b"a.dup");
    }
}

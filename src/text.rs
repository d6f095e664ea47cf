//! Text without `core::fmt` and without panicking paths: the byte-level helpers the AT
//! parser and the version parsers use, and [`Text`], a fixed buffer that messages are
//! composed in.
//!
//! On the board every byte of code counts and a panic is a hang, so nothing here indexes
//! without a check the compiler can see, and numbers are written by hand instead of
//! through `core::fmt` (which costs several kilobytes of code and a deep stack). Text is
//! handled as bytes (UTF-8 by convention: the engine's own text is ASCII, a user's path
//! passes through unchanged), so no UTF-8 validator is linked into the board's module.

/// Where composed text goes: a [`Text`] buffer on the board, a `String` on a computer.
pub trait Sink {
    /// Appends `b` (as much as fits).
    fn put_bytes(&mut self, b: &[u8]);

    /// Appends `s` (as much as fits).
    fn put(&mut self, s: &str) {
        self.put_bytes(s.as_bytes());
    }

    /// Appends `n` in decimal.
    fn put_u32(&mut self, n: u32) {
        let mut digits = [0u8; 10];
        let s = decimal(n, &mut digits);
        self.put_bytes(s);
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

/// Writes `n` in decimal into `buf` and returns its digits.
pub fn decimal(mut n: u32, buf: &mut [u8; 10]) -> &[u8] {
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
    buf.get(start..).unwrap_or(&[])
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
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<const N: usize> Sink for Text<N> {
    fn put_bytes(&mut self, b: &[u8]) {
        self.len = append(&mut self.buf, self.len, b);
    }
}

/// Appends as much of `b` as fits after `len` bytes of `buf`; returns the new length.
/// (One copy of the code for every size of [`Text`].)
#[inline(never)]
pub(crate) fn append(buf: &mut [u8], len: usize, b: &[u8]) -> usize {
    len + copy_prefix(buf.get_mut(len..).unwrap_or(&mut []), b)
}

#[cfg(feature = "std")]
impl Sink for std::string::String {
    fn put_bytes(&mut self, b: &[u8]) {
        self.push_str(&std::string::String::from_utf8_lossy(b));
    }

    fn put(&mut self, s: &str) {
        self.push_str(s);
    }
}

/// Copies as much of `src` as fits to the start of `dst`; returns how much. (A loop the
/// compiler sees through: no length-mismatch panic as with `copy_from_slice`.)
#[inline(never)]
pub fn copy_prefix(dst: &mut [u8], src: &[u8]) -> usize {
    let mut n = 0;
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = s;
        n += 1;
    }
    n
}

/// `a == b`, out of line: a comparison with a constant is one call, not a branch per byte.
#[inline(never)]
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a == b
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
        assert_eq!(t.as_bytes(), b"0 4294967295 -5");
        assert_eq!(parse_u32(b"38638"), Some(38638));
        assert_eq!(parse_u32(b"4294967296"), None);
        assert_eq!(parse_u32(b"12a"), None);
        assert_eq!(parse_u32(b""), None);
        assert_eq!(leading_u32(b"39529.dup"), Some(39529));
    }

    #[test]
    fn what_does_not_fit_is_cut() {
        let mut t: Text<4> = Text::new();
        t.put("abc");
        t.put("def");
        assert_eq!(t.as_bytes(), b"abcd");
        t.clear();
        assert!(t.is_empty());
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

//! Quoting: a path or a text written so that its reader takes it back as one piece (a
//! POSIX shell, cmd.exe and PowerShell, a Python string literal).

use crate::msg;
use crate::text::Sink;

use super::next::Arg;

/// Writes `s` so that the shell of the system this runs on reads it back as one word: a
/// POSIX shell, or on Windows cmd.exe and PowerShell.
#[cfg(feature = "host")]
pub(super) fn shell_word(s: &[u8], out: &mut dyn Sink) {
    if cfg!(windows) {
        windows_word(s, out)
    } else {
        posix_word(s, out)
    }
}

/// Writes `s` so that a POSIX shell reads it back as one word.
#[cfg(feature = "host")]
pub(super) fn posix_word(s: &[u8], out: &mut dyn Sink) {
    let plain = !s.is_empty()
        && s.iter().all(|&b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'_' | b'.' | b'/' | b'-' | b':' | b'+' | b'=' | b'@' | b',' | b'%'
                )
        });
    if plain {
        out.put_bytes(s);
        return;
    }
    out.put("'");
    escape(s, out, |b| (b == b'\'').then_some("'\\''"));
    out.put("'");
}

/// Writes `s` so that cmd.exe and PowerShell pass it to the program as one argument (as
/// the C runtime's and Rust's argument parsing read it back): as it is when it is made of
/// letters, digits and `_ . \ / : - +` (`C:\Users\me\CATM1-41065.dup`, `COM9`), else in
/// double quotes, with a `"` as `\"` and the backslashes before one doubled.
#[cfg(feature = "host")]
pub(super) fn windows_word(s: &[u8], out: &mut dyn Sink) {
    let plain = !s.is_empty()
        && s.iter().all(|&b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'_' | b'.' | b'\\' | b'/' | b':' | b'-' | b'+')
        });
    if plain {
        out.put_bytes(s);
        return;
    }
    out.put("\"");
    let mut backslashes = 0;
    for &b in s {
        match b {
            b'\\' => backslashes += 1,
            b'"' => {
                for _ in 0..backslashes * 2 + 1 {
                    out.put("\\");
                }
                out.put("\"");
                backslashes = 0;
            }
            _ => {
                for _ in 0..backslashes {
                    out.put("\\");
                }
                out.put_bytes(&[b]);
                backslashes = 0;
            }
        }
    }
    // Before the closing quote, backslashes count double.
    for _ in 0..backslashes * 2 {
        out.put("\\");
    }
    out.put("\"");
}

/// Writes `s` as a Python string literal.
pub(super) fn py_str(s: &[u8], out: &mut dyn Sink) {
    out.put("'");
    escape(s, out, |b| match b {
        b'\\' => Some("\\\\"),
        b'\'' => Some("\\'"),
        b'\n' => Some("\\n"),
        b'\r' => Some("\\r"),
        b'\t' => Some("\\t"),
        _ => None,
    });
    out.put("'");
}

/// Writes `s` with the ASCII bytes `esc` maps replaced (byte-wise: no string searching).
pub(super) fn escape(s: &[u8], out: &mut dyn Sink, esc: fn(u8) -> Option<&'static str>) {
    let mut start = 0;
    for (i, &b) in s.iter().enumerate() {
        if let Some(rep) = esc(b) {
            out.put_bytes(s.get(start..i).unwrap_or(&[]));
            out.put(rep);
            start = i + 1;
        }
    }
    out.put_bytes(s.get(start..).unwrap_or(&[]));
}

/// Writes a file argument: the user's path through `quote`, a placeholder as it is.
pub(super) fn write_arg(arg: Arg<'_>, out: &mut dyn Sink, quote: fn(&[u8], &mut dyn Sink)) {
    match arg {
        Arg::Absent => {}
        Arg::Given(p) => quote(p, out),
        Arg::Placeholder(m) => msg::write(out, m, &[]),
    }
}

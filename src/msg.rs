//! The message catalogue: every sentence the updater says, written once in
//! `src/messages.txt` and compressed by `build.rs` (a dictionary of frequent words).
//!
//! On the board most of the module's read-only data is text; kept compressed, and
//! written through one small function instead of a call per fragment, it costs about half.
//! [`write`] expands a sentence into a [`Sink`], filling its `{}` with [`Arg`]s in order.

use crate::text::Sink;

include!(concat!(env!("OUT_DIR"), "/messages.rs"));

/// The byte that stands for the next argument in a compressed sentence.
const ARG: u8 = 0x01;

/// A value put into a sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg<'a> {
    /// A number in decimal.
    Num(u32),
    /// A count a stream returned: shown negative when it is a negative 32-bit value.
    Count(u32),
    /// Text (UTF-8).
    Text(&'a [u8]),
    /// Another sentence (written without arguments of its own).
    Msg(Msg),
}

/// An argument inside a sentence: a nested sentence is expanded without arguments, so
/// the expansion never goes deeper than one level.
fn put_arg_once(out: &mut dyn Sink, arg: Option<&Arg<'_>>) {
    match arg {
        Some(Arg::Msg(m)) => expand_plain(out, bytes(*m)),
        other => put_arg(out, other),
    }
}

/// A sentence used as an argument: its text and dictionary words, no arguments.
fn expand_plain(out: &mut dyn Sink, text: &[u8]) {
    let mut run = 0;
    for (i, &b) in text.iter().enumerate() {
        if (0x20..0x7f).contains(&b) {
            continue;
        }
        out.put_bytes(text.get(run..i).unwrap_or(&[]));
        if b != ARG {
            out.put_bytes(code_word(b));
        }
        run = i + 1;
    }
    out.put_bytes(text.get(run..).unwrap_or(&[]));
}

fn put_arg(out: &mut dyn Sink, arg: Option<&Arg<'_>>) {
    match arg {
        Some(Arg::Num(n)) => out.put_u32(*n),
        Some(Arg::Count(n)) => out.put_count(*n),
        Some(Arg::Text(t)) => out.put_bytes(t),
        Some(Arg::Msg(m)) => expand_plain(out, bytes(*m)),
        None => {}
    }
}

/// Entry `i` of a table stored as the entries one after the other and their lengths.
fn entry(all: &'static [u8], lens: &[u8], i: usize) -> &'static [u8] {
    let start: usize = lens.iter().take(i).map(|&n| usize::from(n)).sum();
    let len = lens.get(i).map_or(0, |&n| usize::from(n));
    all.get(start..start + len).unwrap_or(&[])
}

/// The compressed bytes of `m`.
fn bytes(m: Msg) -> &'static [u8] {
    entry(&TEXT, &TEXT_LEN, m as usize)
}

/// Dictionary word `i`.
fn word(i: usize) -> &'static [u8] {
    entry(DICT.as_bytes(), &DICT_LEN, i)
}

/// The dictionary word a code byte stands for: 0x80 + i is word i, 0x02 + j word 128 + j.
fn code_word(b: u8) -> &'static [u8] {
    if b >= 0x80 {
        word(usize::from(b - 0x80))
    } else {
        word(usize::from(b) + 126)
    }
}

/// Writes sentence `m`, its `{}` replaced by `args` in order.
#[inline(never)]
pub fn write(out: &mut dyn Sink, m: Msg, args: &[Arg<'_>]) {
    expand(out, bytes(m), &mut args.iter());
}

/// Expands compressed `text`; an argument that is a sentence is expanded with no
/// arguments (`put_arg` calls this one level down, never further).
fn expand(out: &mut dyn Sink, text: &[u8], args: &mut core::slice::Iter<'_, Arg<'_>>) {
    let mut run = 0;
    for (i, &b) in text.iter().enumerate() {
        if (0x20..0x7f).contains(&b) {
            continue;
        }
        // Plain ASCII up to here, then the special byte.
        out.put_bytes(text.get(run..i).unwrap_or(&[]));
        if b == ARG {
            put_arg_once(out, args.next());
        } else {
            out.put_bytes(code_word(b));
        }
        run = i + 1;
    }
    out.put_bytes(text.get(run..).unwrap_or(&[]));
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::String;

    fn text(m: Msg, args: &[Arg<'_>]) -> String {
        let mut s = String::new();
        write(&mut s, m, args);
        s
    }

    #[test]
    fn every_sentence_comes_back_as_written_alone_and_nested() {
        for (m, plain) in PLAIN {
            let alone = text(m, &[Arg::Text(b"{}"); 4]);
            assert_eq!(alone, plain, "{m:?}");
            if !plain.contains("{}") {
                let nested = text(Msg::WaitNote, &[Arg::Msg(m), Arg::Num(1)]);
                assert_eq!(
                    nested,
                    std::format!("... waiting for {plain} (1 s)"),
                    "{m:?}"
                );
            }
        }
    }

    #[test]
    fn sentences_come_back_as_written() {
        assert_eq!(text(Msg::SayWakeup, &[]), "Attempting AT wakeup...");
        assert_eq!(
            text(
                Msg::ErrStp,
                &[Arg::Num(4032), Arg::Text(b"no reply from the modem")]
            ),
            "transfer failed after 4032 bytes: no reply from the modem"
        );
        assert_eq!(
            text(
                Msg::ErrStreamCount,
                &[Arg::Count(0u32.wrapping_sub(5)), Arg::Num(2016)]
            ),
            "the stream returned -5 bytes for a read of 2016"
        );
        assert_eq!(
            text(Msg::InfoApplication, &[]),
            "Your modem is in application mode. Here is the current version:"
        );
        // A missing argument leaves its place empty, it does not fail.
        assert_eq!(text(Msg::SayImei, &[]), "IMEI: ");
    }

    #[test]
    fn the_catalogue_is_compressed() {
        assert!(
            TEXT.len() + DICT.len() < PLAIN_BYTES * 3 / 4,
            "{} + {} vs {}",
            TEXT.len(),
            DICT.len(),
            PLAIN_BYTES
        );
    }
}

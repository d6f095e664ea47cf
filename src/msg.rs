//! The message catalogue: every sentence the updater says, written once in
//! `src/messages.txt` and compressed by `build.rs` (byte-pair encoding: a byte stands for
//! a character or for a pair of bytes, which may be pairs again; a run of bytes already in
//! the text is written as where it is).
//!
//! On the board most of the module's read-only data is text; kept compressed, and
//! written through one small function instead of a call per fragment, it costs about half.
//! [`write`] expands a sentence into a [`Sink`], filling its `{}` with [`Arg`]s in order.

use crate::text::Sink;

include!(concat!(env!("OUT_DIR"), "/messages.rs"));

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

/// The symbol of a repeated run (then two bytes: where, how long).
const REPEAT: u8 = 255;

/// The compressed bytes of `m`.
fn bytes(m: Msg) -> &'static [u8] {
    let i = m as usize;
    let start: usize = TEXT_LEN.iter().take(i).map(|&n| usize::from(n)).sum();
    let len = TEXT_LEN.get(i).map_or(0, |&n| usize::from(n));
    TEXT.get(start..start + len).unwrap_or(&[])
}

/// Characters on their way to the sink, a few at a time (a console gets a sentence in one
/// or two pieces, not a call per character).
struct Chunk<'o> {
    out: &'o mut dyn Sink,
    buf: [u8; 32],
    len: usize,
}

impl Chunk<'_> {
    fn flush(&mut self) {
        self.out.put_bytes(self.buf.get(..self.len).unwrap_or(&[]));
        self.len = 0;
    }

    fn push(&mut self, c: u8) {
        if self.len == self.buf.len() {
            self.flush();
        }
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = c;
            self.len += 1;
        }
    }
}

/// Writes sentence `m`, its `{}` replaced by `args` in order. A sentence given as an
/// argument is written in its place without arguments of its own (its `{}` stay empty), as
/// is a `{}` without an argument.
#[inline(never)]
pub fn write(out: &mut dyn Sink, m: Msg, args: &[Arg<'_>]) {
    let mut chunk = Chunk {
        out,
        buf: [0; 32],
        len: 0,
    };
    let mut args = args.iter();
    let mut text = bytes(m);
    // The rest of the sentence while one given as an argument is written.
    let mut outer: Option<&[u8]> = None;
    // A run of symbols repeated from elsewhere in TEXT.
    let mut run: &[u8] = &[];
    loop {
        let first = if let Some((&first, rest)) = run.split_first() {
            run = rest;
            first
        } else if let Some((&first, rest)) = text.split_first() {
            text = rest;
            if first == REPEAT {
                // Where the run is (12 bits) and its length - 4 (4 bits).
                if let [high, low, rest @ ..] = text {
                    let at = usize::from(*high) << 4 | usize::from(low >> 4);
                    run = TEXT.get(at..at + usize::from(low & 15) + 4).unwrap_or(&[]);
                    text = rest;
                }
                continue;
            }
            if first == 0 {
                // The argument's place (never in a pair or a run); none inside a nested
                // sentence.
                if outer.is_some() {
                    continue;
                }
                match args.next() {
                    Some(Arg::Msg(m)) => {
                        outer = Some(text);
                        text = bytes(*m);
                    }
                    Some(arg) => {
                        chunk.flush();
                        let out = &mut *chunk.out;
                        match *arg {
                            Arg::Num(n) => out.put_u32(n),
                            Arg::Count(n) => out.put_count(n),
                            Arg::Text(t) => out.put_bytes(t),
                            Arg::Msg(_) => {}
                        }
                    }
                    None => {}
                }
                continue;
            }
            first
        } else if let Some(rest) = outer.take() {
            text = rest;
            continue;
        } else {
            break;
        };
        // A symbol: its characters left to right, the right halves of the pairs on the way
        // kept on a stack as deep as the pairs nest.
        let mut stack = [0u8; STACK];
        let mut depth = 0;
        let mut s = first;
        loop {
            match usize::from(s).checked_sub(LEAF.len()) {
                Some(pair) => {
                    if let Some(slot) = stack.get_mut(depth) {
                        *slot = DICT.get(2 * pair + 1).copied().unwrap_or(0);
                        depth += 1;
                    }
                    s = DICT.get(2 * pair).copied().unwrap_or(0);
                    continue;
                }
                None => chunk.push(LEAF.get(usize::from(s)).copied().unwrap_or(b'?')),
            }
            let Some(next) = depth.checked_sub(1) else {
                break;
            };
            depth = next;
            s = stack.get(depth).copied().unwrap_or(0);
        }
    }
    chunk.flush();
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

//! The AT channel: send a command, collect its reply until `OK`/`ERROR`, with a deadline.
//!
//! Replies from real modems come in several shapes (docs/PROTOCOL.md section 3): with or without the
//! leading CRLF, with or without the command echoed, with unsolicited lines such as
//! `+SYSSTART` or `+CEREG: 1` in between, and split over any number of reads. The parser
//! ([`ReplyBuf::feed`]) is a pure byte-fed state machine, tested on its own. The reply body
//! is kept in a buffer the caller owns (part of the [`crate::Workspace`]), so a command
//! costs the stack only a few words.

use crate::error::Error;
use crate::hal::{Event, Hal};
use crate::stp::link_read;
use crate::text::{copy_prefix, find, trim, Sink, Text};
use crate::watch::Deadline;

/// Room for a reply body (the `showver` block is about 450 bytes).
pub const REPLY_CAP: usize = 768;
const LINE_CAP: usize = 160;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// No final line before the deadline. (First, so that a fresh [`ReplyBuf`] is all
    /// zeros and a static workspace costs no initialised data on the board.)
    Timeout = 0,
    /// `OK`.
    Ok,
    /// `ERROR` (or `+CME ERROR: …`).
    Error,
}

/// How a reply ended; its body lines stay in the [`ReplyBuf`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    /// How it ended.
    pub status: Status,
    /// True when `+SYSSTART` was seen while waiting (the modem restarted).
    pub sysstart: bool,
}

impl Reply {
    /// True for `OK`.
    pub fn ok(&self) -> bool {
        self.status == Status::Ok
    }
}

/// The reply being parsed and, once done, its body lines (echo and unsolicited lines
/// removed, one `\n` after each).
/// (The counters and flags first, the buffers after them: small offsets on the ESP32.)
#[repr(C)]
pub struct ReplyBuf {
    len: usize,
    line_len: usize,
    overflow: bool,
    status: Status,
    sysstart: bool,
    done: bool,
    need_body: bool,
    line: [u8; LINE_CAP],
    body: [u8; REPLY_CAP],
}

impl Default for ReplyBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl ReplyBuf {
    /// An empty buffer.
    pub const fn new() -> Self {
        ReplyBuf {
            len: 0,
            line_len: 0,
            overflow: false,
            status: Status::Timeout,
            sysstart: false,
            done: false,
            need_body: false,
            line: [0; LINE_CAP],
            body: [0; REPLY_CAP],
        }
    }

    /// Forgets the last reply: ready for a new command. With `need_body`, an `OK` before
    /// any body line is taken as a late reply to an earlier command and skipped (a modem
    /// that answers late must not make `AT+SMOD?` look empty).
    pub fn start(&mut self, need_body: bool) {
        self.len = 0;
        self.line_len = 0;
        self.overflow = false;
        self.status = Status::Timeout;
        self.sysstart = false;
        self.done = false;
        self.need_body = need_body;
    }

    /// True when `+SYSSTART` came and nothing else of a reply: the modem restarted and the
    /// command was lost (the caller sends it again at once instead of waiting it out).
    pub fn restarted_only(&self) -> bool {
        self.sysstart && !self.done && self.len == 0
    }

    /// True when the lines so far look like a MicroPython prompt (a board's REPL on the
    /// port, not the modem).
    pub fn looks_like_micropython(&self) -> bool {
        self.find(b"Traceback (most recent call last)").is_some()
            || self.find(b"NameError").is_some()
            || self.find(b"SyntaxError").is_some()
            || self
                .line
                .get(..self.line_len)
                .is_some_and(|l| l.starts_with(b">>>"))
            || self.find(b">>>").is_some()
    }

    /// How the reply ended so far (status `Timeout` until the final line came).
    pub fn reply(&self) -> Reply {
        Reply {
            status: self.status,
            sysstart: self.sysstart,
        }
    }

    /// Feeds bytes received after `command` was sent; returns true once the final line
    /// was seen.
    pub fn feed(&mut self, command: &[u8], bytes: &[u8]) -> bool {
        for &b in bytes {
            if self.done {
                break;
            }
            if b == b'\r' || b == b'\n' {
                self.end_line(command);
            } else if let Some(slot) = self.line.get_mut(self.line_len) {
                // Only printable ASCII is kept, so every line is valid text.
                *slot = if b.is_ascii_graphic() || b == b' ' {
                    b
                } else {
                    b'?'
                };
                self.line_len += 1;
                let line = self.line.get(..self.line_len).unwrap_or(&[]);
                if without_noise(line) == b"OK" && enters_stp(command) {
                    // `AT+STP` may answer a bare `OK` (the field updater reads 2 bytes):
                    // STP follows, so no line end is waited for.
                    self.line_len = 0;
                    self.status = Status::Ok;
                    self.done = true;
                }
            } else {
                self.overflow = true;
            }
        }
        self.done
    }

    fn end_line(&mut self, command: &[u8]) {
        let overflow = core::mem::replace(&mut self.overflow, false);
        let len = core::mem::replace(&mut self.line_len, 0);
        let text = without_noise(trim(self.line.get(..len).unwrap_or(&[])));
        if text.is_empty() || overflow && !text.starts_with(b"+") && text.len() < 4 {
            return;
        }
        match classify(text, command) {
            Line::Echo | Line::Unsolicited => {}
            Line::Final(Status::Ok) if self.need_body && self.len == 0 => {}
            Line::Final(status) => {
                self.status = status;
                self.done = true;
            }
            Line::SysStart => self.sysstart = true,
            Line::Body => {
                // A body that does not fit is cut: the parsers only need its start.
                let room = REPLY_CAP.saturating_sub(self.len);
                if text.len() < room {
                    let dst = self.body.get_mut(self.len..).unwrap_or(&mut []);
                    let n = copy_prefix(dst, text);
                    if let Some(nl) = dst.get_mut(n) {
                        *nl = b'\n';
                        self.len += n + 1;
                    }
                }
            }
        }
    }

    /// The body lines, in order.
    pub fn lines(&self) -> Lines<'_> {
        Lines {
            rest: self.body.get(..self.len).unwrap_or(&[]),
        }
    }

    /// The first body line that is a bare integer (the `AT+SMOD?` answer).
    pub fn integer(&self) -> Option<u32> {
        self.lines().find_map(|l| crate::text::parse_u32(trim(l)))
    }

    /// The first body line containing `needle`.
    pub fn find(&self, needle: &[u8]) -> Option<&[u8]> {
        self.lines().find(|l| find(l, needle).is_some())
    }
}

/// A line without the line noise before it (bytes that were not text, kept as `?`): a
/// reply after noise on the wire is still the reply.
fn without_noise(line: &[u8]) -> &[u8] {
    let start = line.iter().position(|&b| b != b'?').unwrap_or(line.len());
    line.get(start..).unwrap_or(&[])
}

/// True for the commands after whose `OK` the modem speaks STP (`AT+STP`, `AT+SMSTPU`).
fn enters_stp(command: &[u8]) -> bool {
    command.starts_with(b"AT+STP") || command.starts_with(b"AT+SMSTPU")
}

/// The non-empty lines of a reply body (one out-of-line `next`: the parsers that walk a
/// reply share it instead of each inlining a split and a filter).
pub struct Lines<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    #[inline(never)]
    fn next(&mut self) -> Option<&'a [u8]> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let (line, rest) = match self.rest.iter().position(|&b| b == b'\n') {
                Some(i) => (
                    self.rest.get(..i).unwrap_or(&[]),
                    self.rest.get(i + 1..).unwrap_or(&[]),
                ),
                None => (self.rest, &[][..]),
            };
            self.rest = rest;
            if !line.is_empty() {
                return Some(line);
            }
        }
    }
}

enum Line {
    Echo,
    Final(Status),
    SysStart,
    Unsolicited,
    Body,
}

fn classify(text: &[u8], command: &[u8]) -> Line {
    if text == b"OK" {
        return Line::Final(Status::Ok);
    }
    if text == b"ERROR" || text.starts_with(b"+CME ERROR") || text.starts_with(b"+CMS ERROR") {
        return Line::Final(Status::Error);
    }
    if text.eq_ignore_ascii_case(command) {
        return Line::Echo;
    }
    if text.starts_with(b"+SYSSTART") {
        return Line::SysStart;
    }
    let prefix = response_prefix(command);
    if text.starts_with(b"+") && (prefix.is_empty() || !text.starts_with(prefix)) {
        return Line::Unsolicited;
    }
    Line::Body
}

/// `AT+SMOD?` → `+SMOD`; `AT+SMUPGRADE?` → `+SMUPGRADE`; `ATI1` → ``.
fn response_prefix(command: &[u8]) -> &[u8] {
    let rest = command.strip_prefix(b"AT").unwrap_or(command);
    if !rest.starts_with(b"+") {
        return &[];
    }
    let end = rest
        .iter()
        .position(|&b| b == b'?' || b == b'=')
        .unwrap_or(rest.len());
    rest.get(..end).unwrap_or(&[])
}

/// How to wait for a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ask {
    /// The longest wait.
    pub timeout_ms: u32,
    /// An `OK` before any body line is a late reply to an earlier command: skip it.
    pub need_body: bool,
    /// A Ctrl-C ends the wait (not while the state is asked after a failure).
    pub cancellable: bool,
}

impl Ask {
    /// A plain wait of `timeout_ms`.
    pub fn wait(timeout_ms: u32) -> Ask {
        Ask {
            timeout_ms,
            need_body: false,
            cancellable: true,
        }
    }
}

/// Sends `command` + CR LF and collects the reply into `buf`. A timeout is a
/// [`Status::Timeout`] reply, not an error; link failures and Ctrl-C are. The command and
/// its reply are reported as a debug event (composed in `text`).
#[inline(never)]
pub fn command<H: Hal>(
    hal: &mut H,
    buf: &mut ReplyBuf,
    text: &mut Text<256>,
    command: &str,
    ask: Ask,
) -> Result<Reply, Error> {
    hal.discard_input()?;
    hal.write_all(command.as_bytes())?;
    hal.write_all(b"\r\n")?;
    let reply = collect(hal, buf, command, ask)?;
    text.clear();
    text.put(command);
    text.put(match reply.status {
        Status::Ok => " returned OK",
        Status::Error => " returned ERROR",
        Status::Timeout => " returned no reply",
    });
    for line in buf.lines().take(3) {
        text.put(" | ");
        text.put_bytes(line);
    }
    hal.event(&Event::Debug(text.as_bytes()));
    Ok(reply)
}

/// Collects a reply to `command` without sending anything (e.g. after `+++`). Ends early
/// when the modem restarts before answering ([`ReplyBuf::restarted_only`]).
#[inline(never)]
pub fn collect<H: Hal>(
    hal: &mut H,
    buf: &mut ReplyBuf,
    command: &str,
    ask: Ask,
) -> Result<Reply, Error> {
    buf.start(ask.need_body);
    let deadline = Deadline::after(hal, ask.timeout_ms);
    let mut chunk = [0u8; 64];
    loop {
        if ask.cancellable && hal.cancelled() {
            return Err(Error::Cancelled);
        }
        let now = hal.now_ms();
        if deadline.passed(now) {
            break;
        }
        let wait = deadline.remaining(now).min(200);
        let n = link_read(hal, &mut chunk, wait)?;
        if buf.feed(command.as_bytes(), chunk.get(..n).unwrap_or(&[])) || buf.restarted_only() {
            break;
        }
    }
    Ok(buf.reply())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_ok_ends_the_stp_entry_commands_only() {
        let mut r = ReplyBuf::new();
        r.start(false);
        assert!(r.feed(b"AT+STP", b"OK"));
        assert!(r.reply().ok());
        r.start(false);
        assert!(r.feed(b"AT+SMSTPU", b"AT+SMSTPU\r\r\nOK"));
        r.start(false);
        assert!(
            !r.feed(b"AT", b"OK"),
            "other commands wait for the line end"
        );
        assert!(r.feed(b"AT", b"\r\n"));
        r.start(false);
        assert!(
            r.feed(b"AT+SMSTPU", b"\x00\xf0\xff\x80OK"),
            "noise before the OK"
        );
        assert!(r.reply().ok());
    }

    fn parse(command: &str, chunks: &[&[u8]]) -> ReplyBuf {
        let mut p = ReplyBuf::new();
        p.start(false);
        for c in chunks {
            if p.feed(command.as_bytes(), c) {
                break;
            }
        }
        p
    }

    #[test]
    fn all_observed_smod_shapes() {
        for shape in [
            &b"\r\n2\r\n\r\nOK\r\n"[..],
            b"\r\n2\r\nOK\r\n",
            b"2\r\nOK\r\n",
            b"AT+SMOD?\r\r\n2\r\n\r\nOK\r\n",
            b"AT+SMOD?\r\n2\r\nOK\r\n",
        ] {
            let r = parse("AT+SMOD?", &[shape]);
            assert!(r.reply().ok(), "{shape:?}");
            assert_eq!(r.integer(), Some(2), "{shape:?}");
        }
    }

    #[test]
    fn split_reads_byte_by_byte() {
        let data = b"\r\nAT+SMOD?\r\n+CEREG: 1\r\n\r\n4\r\n\r\nOK\r\n";
        let mut p = ReplyBuf::new();
        for b in data.iter() {
            p.feed(b"AT+SMOD?", core::slice::from_ref(b));
        }
        assert!(p.reply().ok());
        assert_eq!(p.integer(), Some(4));
        assert_eq!(p.lines().count(), 1, "echo and +CEREG are not body");
    }

    #[test]
    fn stray_sysstart_and_error() {
        let r = parse("AT+SMSWBOOT=3,1", &[b"\r\n+SYSSTART\r\n", b"\r\nERROR\r\n"]);
        assert_eq!(r.reply().status, Status::Error);
        assert!(r.reply().sysstart);
        let r = parse("AT+CFUN=4", &[b"\r\n+CME ERROR: 4\r\n"]);
        assert_eq!(r.reply().status, Status::Error);
    }

    #[test]
    fn own_plus_lines_are_body() {
        let r = parse(
            "AT+SMUPGRADE?",
            &[b"\r\n+CEREG: 2\r\n\r\n+SMUPGRADE: success\r\n\r\nOK\r\n"],
        );
        assert_eq!(r.find(b"SMUPGRADE"), Some(&b"+SMUPGRADE: success"[..]));
        assert!(r.find(b"CEREG").is_none());
    }

    #[test]
    fn a_late_ok_is_skipped_when_a_body_is_due() {
        let mut p = ReplyBuf::new();
        p.start(true);
        assert!(
            !p.feed(b"AT+SMOD?", b"\r\nOK\r\n"),
            "the late OK of an earlier AT"
        );
        assert!(p.feed(b"AT+SMOD?", b"\r\n2\r\n\r\nOK\r\n"));
        assert_eq!(p.integer(), Some(2));
    }

    #[test]
    fn a_restart_before_the_reply_is_seen() {
        let r = parse("AT+SMUPGRADE?", &[b"\r\n+SYSSTART\r\n"]);
        assert!(r.restarted_only());
        let r = parse(
            "AT+SMUPGRADE?",
            &[b"\r\n+SYSSTART\r\n+SMUPGRADE: success\r\n"],
        );
        assert!(!r.restarted_only());
    }

    #[test]
    fn a_micropython_prompt_is_recognised() {
        let r = parse(
            "AT",
            &[b"AT\r\nTraceback (most recent call last):\r\n  File \"<stdin>\", line 1, in <module>\r\nNameError: name 'AT' isn't defined\r\n>>> "],
        );
        assert!(r.looks_like_micropython());
        assert!(!parse("AT", &[b"\r\nOK\r\n"]).looks_like_micropython());
    }

    #[test]
    fn no_final_line_is_timeout() {
        let r = parse("AT", &[b"\r\nAT\r\n"]);
        assert_eq!(r.reply().status, Status::Timeout);
    }

    #[test]
    fn long_and_binary_lines_are_safe() {
        let mut data = [b'x'; 400];
        data[10] = 0xff;
        data[399] = b'\n';
        let r = parse("ATI1", &[&data, b"UE5\r\nOK\r\n"]);
        assert!(r.reply().ok());
        assert_eq!(r.lines().count(), 2);
        assert!(r.lines().next().unwrap().len() <= LINE_CAP);
        assert_eq!(r.lines().next().unwrap()[10], b'?');
        let mut big = ReplyBuf::new();
        for _ in 0..40 {
            big.feed(
                b"AT!=\"showver\"",
                b"    Software     : 5.1.1.0 [38638]\r\n",
            );
        }
        assert!(big.lines().count() < 40, "a body that does not fit is cut");
    }

    #[test]
    fn prefix_rules() {
        assert_eq!(response_prefix(b"AT+SMOD?"), b"+SMOD");
        assert_eq!(response_prefix(b"AT+SMSWBOOT=3,1"), b"+SMSWBOOT");
        assert_eq!(response_prefix(b"ATI1"), b"");
        assert_eq!(response_prefix(b"AT!=\"showver\""), b"");
    }
}

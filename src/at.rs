//! The AT channel: send a command, collect its reply until `OK`/`ERROR`, with a deadline.
//!
//! Replies from real modems come in several shapes (spec section 3): with or without the
//! leading CRLF, with or without the command echoed, with unsolicited lines such as
//! `+SYSSTART` or `+CEREG: 1` in between, and split over any number of reads. The parser
//! here is a pure byte-fed state machine ([`ReplyParser`]) so it can be tested on its own.

use crate::error::Error;
use crate::hal::{Event, Hal};
use core::fmt::Write as _;
use heapless::{String, Vec};

/// Room for a reply body (the `showver` block is about 450 bytes).
pub const REPLY_CAP: usize = 768;
const LINE_CAP: usize = 160;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// `OK`.
    Ok,
    /// `ERROR` (or `+CME ERROR: …`).
    Error,
    /// No final line before the deadline.
    Timeout,
}

/// A command's reply: its status and its body lines (echo and unsolicited lines removed).
#[derive(Debug, Clone)]
pub struct Reply {
    /// How it ended.
    pub status: Status,
    body: Vec<u8, REPLY_CAP>,
    /// True when `+SYSSTART` was seen while waiting (the modem restarted).
    pub sysstart: bool,
}

impl Reply {
    /// True for `OK`.
    pub fn ok(&self) -> bool {
        self.status == Status::Ok
    }

    /// The body lines, in order.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.body
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .filter_map(|l| core::str::from_utf8(l).ok())
    }

    /// The first body line that is a bare integer (the `AT+SMOD?` answer).
    pub fn integer(&self) -> Option<u32> {
        self.lines().find_map(|l| l.trim().parse().ok())
    }

    /// The first body line containing `needle`.
    pub fn find(&self, needle: &str) -> Option<&str> {
        self.lines().find(|l| l.contains(needle))
    }
}

/// Feeds on received bytes and recognises the reply to one command.
pub struct ReplyParser<'c> {
    command: &'c str,
    prefix: &'c str,
    line: Vec<u8, LINE_CAP>,
    overflow: bool,
    reply: Reply,
    done: bool,
}

impl<'c> ReplyParser<'c> {
    /// A parser for the reply to `command` (e.g. `AT+SMOD?`).
    pub fn new(command: &'c str) -> Self {
        ReplyParser {
            command,
            prefix: response_prefix(command),
            line: Vec::new(),
            overflow: false,
            reply: Reply {
                status: Status::Timeout,
                body: Vec::new(),
                sysstart: false,
            },
            done: false,
        }
    }

    /// Feeds bytes; returns true once the final line was seen.
    pub fn feed(&mut self, bytes: &[u8]) -> bool {
        for &b in bytes {
            if self.done {
                break;
            }
            if b == b'\r' || b == b'\n' {
                self.end_line();
            } else if self.line.push(b).is_err() {
                self.overflow = true;
            }
        }
        self.done
    }

    fn end_line(&mut self) {
        let raw = core::mem::take(&mut self.line);
        let overflow = core::mem::replace(&mut self.overflow, false);
        let Ok(text) = core::str::from_utf8(&raw) else {
            return;
        };
        let text = text.trim();
        if text.is_empty() || overflow && !text.starts_with('+') && text.len() < 4 {
            return;
        }
        match classify(text, self.command, self.prefix) {
            Line::Echo => {}
            Line::Final(status) => {
                self.reply.status = status;
                self.done = true;
            }
            Line::SysStart => self.reply.sysstart = true,
            Line::Unsolicited => {}
            Line::Body => {
                // A body that does not fit is cut: the parsers only need its start.
                let room = REPLY_CAP - self.reply.body.len();
                if room > text.len() {
                    let _ = self.reply.body.extend_from_slice(text.as_bytes());
                    let _ = self.reply.body.push(b'\n');
                }
            }
        }
    }

    /// The reply so far (status `Timeout` until the final line came).
    pub fn finish(self) -> Reply {
        self.reply
    }
}

enum Line {
    Echo,
    Final(Status),
    SysStart,
    Unsolicited,
    Body,
}

fn classify(text: &str, command: &str, prefix: &str) -> Line {
    if text == "OK" {
        return Line::Final(Status::Ok);
    }
    if text == "ERROR" || text.starts_with("+CME ERROR") || text.starts_with("+CMS ERROR") {
        return Line::Final(Status::Error);
    }
    if text.eq_ignore_ascii_case(command) {
        return Line::Echo;
    }
    if text.starts_with("+SYSSTART") {
        return Line::SysStart;
    }
    if text.starts_with('+') && (prefix.is_empty() || !text.starts_with(prefix)) {
        return Line::Unsolicited;
    }
    Line::Body
}

/// `AT+SMOD?` → `+SMOD`; `AT+SMUPGRADE?` → `+SMUPGRADE`; `ATI1` → ``.
fn response_prefix(command: &str) -> &str {
    let rest = command.strip_prefix("AT").unwrap_or(command);
    if !rest.starts_with('+') {
        return "";
    }
    let end = rest.find(['?', '=']).unwrap_or(rest.len());
    &rest[..end]
}

/// The AT side of the link: commands with deadlines.
pub struct At<'h, 'a> {
    hal: &'h mut Hal<'a>,
}

impl<'h, 'a> At<'h, 'a> {
    /// Wraps the platform.
    pub fn new(hal: &'h mut Hal<'a>) -> Self {
        At { hal }
    }

    /// Sends `command` + CR LF and collects the reply, waiting at most `timeout_ms`.
    /// A timeout is a [`Status::Timeout`] reply, not an error; link failures and Ctrl-C are.
    pub fn command(&mut self, command: &str, timeout_ms: u32) -> Result<Reply, Error> {
        self.hal.link.discard_input()?;
        self.hal.link.write_all(command.as_bytes())?;
        self.hal.link.write_all(b"\r\n")?;
        let reply = self.collect(command, timeout_ms)?;
        self.debug_reply(command, &reply);
        Ok(reply)
    }

    /// Collects a reply without sending anything (e.g. after `+++`).
    pub fn collect(&mut self, command: &str, timeout_ms: u32) -> Result<Reply, Error> {
        let mut parser = ReplyParser::new(command);
        let deadline = self.hal.clock.now_ms() + u64::from(timeout_ms);
        let mut buf = [0u8; 64];
        loop {
            if self.hal.cancel.cancelled() {
                return Err(Error::Cancelled);
            }
            let now = self.hal.clock.now_ms();
            if now >= deadline {
                break;
            }
            let wait = (deadline - now).min(200) as u32;
            let n = self.hal.link.read(&mut buf, wait)?;
            if parser.feed(&buf[..n]) {
                break;
            }
        }
        Ok(parser.finish())
    }

    /// Waits up to `timeout_ms` for a line containing `text` (e.g. `+SYSSTART`).
    pub fn wait_for(&mut self, text: &str, timeout_ms: u32) -> Result<bool, Error> {
        let deadline = self.hal.clock.now_ms() + u64::from(timeout_ms);
        let mut window: Vec<u8, 128> = Vec::new();
        let mut buf = [0u8; 64];
        while self.hal.clock.now_ms() < deadline {
            if self.hal.cancel.cancelled() {
                return Err(Error::Cancelled);
            }
            let n = self.hal.link.read(&mut buf, 200)?;
            for &b in &buf[..n] {
                if window.is_full() {
                    window.remove(0);
                }
                let _ = window.push(b);
            }
            if crate::stp::contains(&window, text.as_bytes()) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn debug_reply(&mut self, command: &str, reply: &Reply) {
        let mut line: String<200> = String::new();
        let status = match reply.status {
            Status::Ok => "OK",
            Status::Error => "ERROR",
            Status::Timeout => "no reply",
        };
        let _ = write!(line, "{command} returned {status}");
        for l in reply.lines().take(3) {
            let _ = write!(line, " | {l}");
        }
        self.hal.events.event(&Event::Debug(&line));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(command: &str, chunks: &[&[u8]]) -> Reply {
        let mut p = ReplyParser::new(command);
        for c in chunks {
            if p.feed(c) {
                break;
            }
        }
        p.finish()
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
            assert!(r.ok(), "{shape:?}");
            assert_eq!(r.integer(), Some(2), "{shape:?}");
        }
    }

    #[test]
    fn split_reads_byte_by_byte() {
        let data = b"\r\nAT+SMOD?\r\n+CEREG: 1\r\n\r\n4\r\n\r\nOK\r\n";
        let mut p = ReplyParser::new("AT+SMOD?");
        for b in data.iter() {
            p.feed(core::slice::from_ref(b));
        }
        let r = p.finish();
        assert!(r.ok());
        assert_eq!(r.integer(), Some(4));
        assert_eq!(r.lines().count(), 1, "echo and +CEREG are not body");
    }

    #[test]
    fn stray_sysstart_and_error() {
        let r = parse("AT+SMSWBOOT=3,1", &[b"\r\n+SYSSTART\r\n", b"\r\nERROR\r\n"]);
        assert_eq!(r.status, Status::Error);
        assert!(r.sysstart);
        let r = parse("AT+CFUN=4", &[b"\r\n+CME ERROR: 4\r\n"]);
        assert_eq!(r.status, Status::Error);
    }

    #[test]
    fn own_plus_lines_are_body() {
        let r = parse(
            "AT+SMUPGRADE?",
            &[b"\r\n+CEREG: 2\r\n\r\n+SMUPGRADE: success\r\n\r\nOK\r\n"],
        );
        assert_eq!(r.find("SMUPGRADE"), Some("+SMUPGRADE: success"));
        assert!(r.find("CEREG").is_none());
    }

    #[test]
    fn no_final_line_is_timeout() {
        let r = parse("AT", &[b"\r\nAT\r\n"]);
        assert_eq!(r.status, Status::Timeout);
    }

    #[test]
    fn prefix_rules() {
        assert_eq!(response_prefix("AT+SMOD?"), "+SMOD");
        assert_eq!(response_prefix("AT+SMSWBOOT=3,1"), "+SMSWBOOT");
        assert_eq!(response_prefix("ATI1"), "");
        assert_eq!(response_prefix("AT!=\"showver\""), "");
    }
}

//! The familiar console output, shared by every front-end: messages as lines, dots while
//! the modem works (joining the line before them, as in
//! `Resetting (DO NOT DISCONNECT POWER!!!)........`), and the progress bar drawn left to
//! right, `Sending N bytes: [########################################] 100%`, which reads
//! the same on a terminal, in a log file and on a board's REPL.

use crate::hal::{Event, Events};
use crate::msg::{self, Arg, Msg};
use crate::text::Sink;

/// Where the text goes (stdout, MicroPython's console, ...).
pub trait TextOut {
    /// Writes `text` as is (UTF-8).
    fn text(&mut self, text: &[u8]);
}

/// A [`TextOut`] as a [`Sink`], for the catalogue's sentences.
struct Out<'o, O: TextOut>(&'o mut O);

impl<O: TextOut> Sink for Out<'_, O> {
    fn put_bytes(&mut self, b: &[u8]) {
        self.0.text(b);
    }
}

/// Width of the progress bar, as in the field updater.
pub const BAR_WIDTH: usize = 40;

/// Prints sentence `m` of the catalogue as a whole line.
pub fn line<O: TextOut>(out: &mut O, m: Msg, args: &[Arg<'_>]) {
    msg::write(&mut Out(out), m, args);
    out.text(b"\n");
}

/// Prints the line every front end starts an update with, as the field updater did:
/// `<<< Welcome to the SQN3330 firmware updater [0.1.0] >>>` (this engine's version).
pub fn welcome<O: TextOut>(out: &mut O) {
    line(
        out,
        Msg::SayWelcome,
        &[Arg::Text(crate::VERSION.as_bytes())],
    );
}

/// Turns engine events into console text.
pub struct Console<O: TextOut> {
    out: O,
    debug: bool,
    total: u32,
    drawn: usize,
    open_line: bool,
    /// A transfer's bar is being drawn.
    in_bar: bool,
    /// The bar's line was ended by a note: it is drawn again before the next cell.
    bar_broken: bool,
}

impl<O: TextOut> Console<O> {
    /// A console writing to `out`; `debug` also prints commands and replies.
    pub fn new(out: O, debug: bool) -> Self {
        Console {
            out,
            debug,
            total: 0,
            drawn: 0,
            open_line: false,
            in_bar: false,
            bar_broken: false,
        }
    }

    /// Ends the current line, if one is open; call it before printing anything else.
    pub fn close_line(&mut self) {
        if self.open_line {
            self.out.text(b"\n");
            self.open_line = false;
        }
    }

    /// Prints a whole line: `label` then `text` (e.g. `error: ` and the message).
    pub fn line_parts(&mut self, label: &[u8], text: &[u8]) {
        self.close_line();
        self.out.text(label);
        self.out.text(text);
        self.out.text(b"\n");
    }

    fn bar_start(&mut self) {
        msg::write(
            &mut Out(&mut self.out),
            Msg::SayBar,
            &[Arg::Num(self.total)],
        );
        for _ in 0..self.drawn {
            self.out.text(b"#");
        }
        self.open_line = true;
        self.bar_broken = false;
    }

    fn bar(&mut self, done: u32) {
        let filled = bar_cells(done, self.total);
        if self.bar_broken && filled > self.drawn {
            self.bar_start();
        }
        while self.drawn < filled.min(BAR_WIDTH) {
            self.out.text(b"#");
            self.drawn += 1;
        }
    }
}

impl<O: TextOut> Events for Console<O> {
    fn event(&mut self, event: &Event<'_>) {
        match *event {
            Event::Message(text) => {
                self.close_line();
                self.out.text(text);
                self.open_line = true;
            }
            Event::Debug(text) if self.debug => {
                self.close_line();
                self.out.text(b"[debug] ");
                self.out.text(text);
                self.out.text(b"\n");
            }
            Event::Debug(_) | Event::Stage(_) | Event::Alive => {}
            Event::TransferStart { total, .. } => {
                self.close_line();
                self.total = total;
                self.drawn = 0;
                self.in_bar = true;
                self.bar_start();
            }
            Event::Progress { done, total } => {
                self.total = total;
                self.bar(done);
            }
            Event::TransferEnd => {
                if self.bar_broken {
                    self.bar_start();
                }
                self.bar(self.total);
                self.out.text(b"] 100%\n");
                self.open_line = false;
                self.in_bar = false;
            }
            Event::Waiting { what, seconds } => {
                self.close_line();
                self.out.text(b"  ");
                msg::write(
                    &mut Out(&mut self.out),
                    Msg::WaitNote,
                    &[Arg::Msg(what), Arg::Num(seconds)],
                );
                self.out.text(b"\n");
                self.bar_broken = self.in_bar;
            }
            Event::Tick => {
                self.open_line = true;
                self.out.text(b".");
            }
        }
    }
}

/// How many of the bar's cells `done` of `total` fills (32-bit arithmetic only: no 64-bit
/// division on the board).
pub fn bar_cells(done: u32, total: u32) -> usize {
    if total == 0 || done >= total {
        return BAR_WIDTH;
    }
    // Scale both down so that done * BAR_WIDTH cannot overflow.
    let shift = 32 - total.leading_zeros();
    let shift = shift.saturating_sub(25);
    let (d, t) = (done >> shift, (total >> shift).max(1));
    (d * BAR_WIDTH as u32 / t) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::String;

    struct Buf(String);
    impl TextOut for &mut Buf {
        fn text(&mut self, text: &[u8]) {
            self.0.push_str(std::str::from_utf8(text).unwrap());
        }
    }

    #[test]
    fn bar_arithmetic() {
        assert_eq!(bar_cells(0, 100), 0);
        assert_eq!(bar_cells(50, 100), 20);
        assert_eq!(bar_cells(99, 100), 39);
        assert_eq!(bar_cells(100, 100), 40);
        assert_eq!(bar_cells(2_998_469, 5_996_938), 20);
        assert_eq!(bar_cells(u32::MAX / 2, u32::MAX), 19);
        assert_eq!(bar_cells(5, 0), 40);
    }

    #[test]
    fn a_wait_note_breaks_the_bar_and_it_is_drawn_again() {
        let mut buf = Buf(String::new());
        let mut c = Console::new(&mut buf, false);
        c.event(&Event::TransferStart {
            what: crate::hal::Payload::Firmware,
            total: 1000,
        });
        c.event(&Event::Progress {
            done: 100,
            total: 1000,
        });
        c.event(&Event::Waiting {
            what: Msg::WaitReply,
            seconds: 10,
        });
        c.event(&Event::Progress {
            done: 200,
            total: 1000,
        });
        c.event(&Event::TransferEnd);
        assert_eq!(
            buf.0,
            "Sending 1000 bytes: [####\n  ... waiting for the modem's reply (pauses of minutes are normal around 7-10 % and at 99 %) (10 s)\nSending 1000 bytes: [########################################] 100%\n"
        );
    }

    #[test]
    fn the_welcome_line_says_the_engines_version() {
        let mut buf = Buf(String::new());
        welcome(&mut &mut buf);
        assert_eq!(
            buf.0,
            std::format!(
                "<<< Welcome to the SQN3330 firmware updater [{}] >>>\n",
                env!("CARGO_PKG_VERSION")
            )
        );
    }

    #[test]
    fn familiar_lines() {
        let mut buf = Buf(String::new());
        let mut c = Console::new(&mut buf, false);
        c.event(&Event::Message(b"Starting STP ON_THE_FLY"));
        c.event(&Event::TransferStart {
            what: crate::hal::Payload::Firmware,
            total: 1000,
        });
        for done in (0..=1000).step_by(100) {
            c.event(&Event::Progress { done, total: 1000 });
        }
        c.event(&Event::TransferEnd);
        c.event(&Event::Message(b"Resetting (DO NOT DISCONNECT POWER!!!)"));
        c.event(&Event::Tick);
        c.event(&Event::Tick);
        c.event(&Event::Debug(b"hidden"));
        c.event(&Event::Message(b"Upgrade completed!"));
        c.close_line();
        assert_eq!(
            buf.0,
            "Starting STP ON_THE_FLY\nSending 1000 bytes: [########################################] 100%\nResetting (DO NOT DISCONNECT POWER!!!)..\nUpgrade completed!\n"
        );
    }
}
